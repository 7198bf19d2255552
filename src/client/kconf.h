/*
 * kconf.h - librdkafka configuration shared by every samsa client (blog and tools).
 *
 * All clients take `-b/--bootstrap-server` and any number of `-X key=value` librdkafka
 * properties (SASL, TLS, tuning), as kcat does; `-X` wins over samsa's own defaults.
 */
#ifndef SA_CLIENT_KCONF_H
#define SA_CLIENT_KCONF_H

#include <librdkafka/rdkafka.h>
#include <stddef.h>

#include "core/config.h"
#include "core/log.h"

/**
 * @returns new: a librdkafka conf with bootstrap.servers = @p bootstrap, then @p defaults
 * ("key=value" strings, NULL-terminated; may be NULL), then the user's @p overrides (-X).
 * NULL with errstr set if a property is unknown or invalid.
 */
rd_kafka_conf_t *sa_kconf_new(const char *bootstrap, const char *const *defaults,
                              const sa_strlist_t *overrides, char *errstr, size_t errstr_size);

/** Set one "key=value" on @p conf. @returns 0, or -1 with errstr. */
int sa_kconf_set_kv(rd_kafka_conf_t *conf, const char *kv, char *errstr, size_t errstr_size);

/** Route librdkafka's logs into samsa's log (subsystem "rdkafka"). */
void sa_kconf_use_samsa_log(rd_kafka_conf_t *conf);

/** @returns samsa's log level for a librdkafka (syslog) log level, for log callbacks. */
sa_log_level_t sa_kconf_log_level(int syslog_level);

#endif
