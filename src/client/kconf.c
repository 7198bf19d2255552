/*
 * kconf.c - librdkafka configuration from samsa's flags, and librdkafka's logs in samsa's log.
 */
#include "client/kconf.h"

#include <stdio.h>
#include <string.h>

#include "core/log.h"

int sa_kconf_set_kv(rd_kafka_conf_t *conf, const char *kv, char *errstr, size_t errstr_size) {
    const char *eq = strchr(kv, '=');
    if (!eq || eq == kv) {
        snprintf(errstr, errstr_size, "expected key=value, got \"%s\"", kv);
        return -1;
    }
    char key[256];
    snprintf(key, sizeof(key), "%.*s", (int)(eq - kv), kv);
    char why[512];
    if (rd_kafka_conf_set(conf, key, eq + 1, why, sizeof(why)) != RD_KAFKA_CONF_OK) {
        snprintf(errstr, errstr_size, "%s", why);
        return -1;
    }
    return 0;
}

sa_log_level_t sa_kconf_log_level(int syslog_level) {
    /* syslog levels: 0-3 error, 4 warning, 5-6 info, 7 debug */
    return syslog_level <= 3   ? SA_LOG_ERROR
           : syslog_level == 4 ? SA_LOG_WARN
           : syslog_level <= 6 ? SA_LOG_INFO
                               : SA_LOG_DEBUG;
}

/* Runs on librdkafka's threads: sa_log_write is thread-safe. */
static void log_cb(const rd_kafka_t *rk, int level, const char *fac, const char *buf) {
    (void)rk;
    sa_log_level_t lvl = sa_kconf_log_level(level);
    if (lvl <= sa_log_level) sa_log_write(lvl, "rdkafka", "%s: %s", fac, buf);
}

void sa_kconf_use_samsa_log(rd_kafka_conf_t *conf) { rd_kafka_conf_set_log_cb(conf, log_cb); }

rd_kafka_conf_t *sa_kconf_new(const char *bootstrap, const char *const *defaults,
                              const sa_strlist_t *overrides, char *errstr, size_t errstr_size) {
    rd_kafka_conf_t *conf = rd_kafka_conf_new();
    char why[512];
    if (rd_kafka_conf_set(conf, "bootstrap.servers", bootstrap, why, sizeof(why)) != RD_KAFKA_CONF_OK) {
        snprintf(errstr, errstr_size, "bootstrap.servers: %s", why);
        goto err;
    }
    for (const char *const *d = defaults; d && *d; d++)
        if (sa_kconf_set_kv(conf, *d, errstr, errstr_size)) goto err;
    if (sa_log_debug_mask & SA_DBG_CLIENT)
        rd_kafka_conf_set(conf, "debug", "broker,protocol,cgrp,topic,msg", why, sizeof(why));
    for (size_t i = 0; overrides && i < overrides->n; i++)
        if (sa_kconf_set_kv(conf, overrides->v[i], why, sizeof(why))) {
            snprintf(errstr, errstr_size, "-X %s: %s", overrides->v[i], why);
            goto err;
        }
    sa_kconf_use_samsa_log(conf);
    return conf;
err:
    rd_kafka_conf_destroy(conf);
    return NULL;
}
