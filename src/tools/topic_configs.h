/*
 * topic_configs.h - the names of Kafka's topic-level configs, so `samsa topics` can reject a
 * misspelt --config / --add-config with a one-line error before asking the broker.
 */
#ifndef SA_TOOLS_TOPIC_CONFIGS_H
#define SA_TOOLS_TOPIC_CONFIGS_H

#include <stddef.h>

/** @returns 1 if @p name (borrowed) is a topic config Kafka knows, else 0. */
int sa_tools_topic_config_known(const char *name);

/**
 * Check "key=value" (@p with_value) or "key" against the known names.
 * @returns 0, or -1 with a reason in @p errstr.
 */
int sa_tools_topic_config_check(const char *kv, int with_value, char *errstr, size_t errstr_size);

#endif
