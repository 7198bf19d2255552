/*
 * topic_configs.c - Kafka's topic config names (TopicConfig in Apache Kafka 3.x/4.x).
 */
#include "tools/topic_configs.h"

#include <stdio.h>
#include <string.h>

static const char *const names[] = {"cleanup.policy",
                                    "compression.type",
                                    "compression.gzip.level",
                                    "compression.lz4.level",
                                    "compression.zstd.level",
                                    "delete.retention.ms",
                                    "file.delete.delay.ms",
                                    "flush.messages",
                                    "flush.ms",
                                    "follower.replication.throttled.replicas",
                                    "index.interval.bytes",
                                    "leader.replication.throttled.replicas",
                                    "local.retention.bytes",
                                    "local.retention.ms",
                                    "max.compaction.lag.ms",
                                    "max.message.bytes",
                                    "message.downconversion.enable",
                                    "message.format.version",
                                    "message.timestamp.after.max.ms",
                                    "message.timestamp.before.max.ms",
                                    "message.timestamp.difference.max.ms",
                                    "message.timestamp.type",
                                    "min.cleanable.dirty.ratio",
                                    "min.compaction.lag.ms",
                                    "min.insync.replicas",
                                    "preallocate",
                                    "remote.storage.enable",
                                    "remote.log.copy.disable",
                                    "remote.log.delete.on.disable",
                                    "retention.bytes",
                                    "retention.ms",
                                    "segment.bytes",
                                    "segment.index.bytes",
                                    "segment.jitter.ms",
                                    "segment.ms",
                                    "unclean.leader.election.enable"};

int sa_tools_topic_config_known(const char *name) {
    for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++)
        if (!strcmp(names[i], name)) return 1;
    return 0;
}

int sa_tools_topic_config_check(const char *kv, int with_value, char *errstr, size_t errstr_size) {
    char key[128];
    const char *eq = strchr(kv, '=');
    if (with_value && (!eq || eq == kv || !eq[1])) {
        snprintf(errstr, errstr_size, "expected key=value, got \"%s\"", kv);
        return -1;
    }
    if (!with_value && eq) {
        snprintf(errstr, errstr_size, "expected a config name, got \"%s\"", kv);
        return -1;
    }
    snprintf(key, sizeof(key), "%.*s", (int)(eq ? (size_t)(eq - kv) : strlen(kv)), kv);
    if (!sa_tools_topic_config_known(key)) {
        snprintf(errstr, errstr_size, "unknown topic config \"%s\"", key);
        return -1;
    }
    return 0;
}
