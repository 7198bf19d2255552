/*
 * topic_config.c - Kafka topic configs: the table of known names, validation, effective values
 * and what DescribeConfigs reports for each.
 *
 * Every Kafka topic config name is accepted and stored (clients and tools set many of them);
 * those samsa enforces are marked in the table. Unknown names are refused with INVALID_CONFIG, as
 * Kafka does. An effective value comes from, in order: the topic (DYNAMIC_TOPIC_CONFIG), this
 * broker's dynamic config (DYNAMIC_BROKER_CONFIG) or the cluster's dynamic default
 * (DYNAMIC_DEFAULT_BROKER_CONFIG), both set with AlterConfigs on the BROKER resource
 * (broker_config.c), the broker's config when it differs from Kafka's default
 * (STATIC_BROKER_CONFIG), Kafka's default (DEFAULT_CONFIG).
 */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/mem.h"
#include "storage/storage_int.h"

/* Which broker default (sa_store_conf_t field) backs a row, if any. */
enum {
    BK_NONE,
    BK_RETENTION_MS,
    BK_RETENTION_BYTES,
    BK_SEGMENT_BYTES,
    BK_SEGMENT_MS,
    BK_MAX_MESSAGE,
    BK_INDEX_INTERVAL,
    BK_CLEANUP_POLICY,
    BK_MIN_CLEANABLE_RATIO,
    BK_MIN_COMPACTION_LAG,
    BK_MAX_COMPACTION_LAG,
    BK_DELETE_RETENTION,
};

typedef struct row_s {
    const char *name;
    int type;          /* sa_config_vtype_t */
    const char *def;   /* Kafka's default */
    int64_t min, max;  /* numeric bounds */
    const char *enums; /* STRING: allowed values, '|'-separated; LIST: allowed items */
    int broker;        /* BK_* */
    const char *synonym;
    const char *doc;
} row_t;

#define L    SA_CONFIG_VALUE_LONG
#define I    SA_CONFIG_VALUE_INT
#define B    SA_CONFIG_VALUE_BOOLEAN
#define S    SA_CONFIG_VALUE_STRING
#define D    SA_CONFIG_VALUE_DOUBLE
#define LS   SA_CONFIG_VALUE_LIST
#define LMAX INT64_MAX

static const row_t rows[] = {
    {"cleanup.policy", LS, "delete", 0, 0, "delete|compact", BK_CLEANUP_POLICY, "log.cleanup.policy",
     "delete: retention removes old segments; compact: the cleaner keeps the latest value of each key; both"},
    {"compression.type", S, "producer", 0, 0, "uncompressed|zstd|lz4|snappy|gzip|producer", BK_NONE,
     "compression.type", "stored; batches are kept as the producer compressed them"},
    {"delete.retention.ms", L, "86400000", 0, LMAX, NULL, BK_DELETE_RETENTION,
     "log.cleaner.delete.retention.ms",
     "compacted topics: how long a tombstone stays after its first cleaning"},
    {"file.delete.delay.ms", L, "60000", 0, LMAX, NULL, BK_NONE, "log.segment.delete.delay.ms",
     "accepted; segments are deleted at once"},
    {"flush.messages", L, "9223372036854775807", 1, LMAX, NULL, BK_NONE, "log.flush.interval.messages",
     "accepted; samsa syncs every event-loop turn"},
    {"flush.ms", L, "9223372036854775807", 0, LMAX, NULL, BK_NONE, "log.flush.interval.ms",
     "accepted; samsa syncs every event-loop turn"},
    {"follower.replication.throttled.replicas", LS, "", 0, 0, NULL, BK_NONE, NULL, "accepted (single node)"},
    {"index.interval.bytes", I, "4096", 0, INT32_MAX, NULL, BK_INDEX_INTERVAL, "log.index.interval.bytes",
     "bytes of log between offset index entries"},
    {"leader.replication.throttled.replicas", LS, "", 0, 0, NULL, BK_NONE, NULL, "accepted (single node)"},
    {"local.retention.bytes", L, "-2", -2, LMAX, NULL, BK_NONE, "log.local.retention.bytes",
     "accepted (tiered storage)"},
    {"local.retention.ms", L, "-2", -2, LMAX, NULL, BK_NONE, "log.local.retention.ms",
     "accepted (tiered storage)"},
    {"max.compaction.lag.ms", L, "9223372036854775807", 1, LMAX, NULL, BK_MAX_COMPACTION_LAG,
     "log.cleaner.max.compaction.lag.ms",
     "compacted topics: a record is cleaned at the latest this long after it was written (rolls the active "
     "segment)"},
    {"max.message.bytes", I, "1048588", 0, INT32_MAX, NULL, BK_MAX_MESSAGE, "message.max.bytes",
     "largest record batch accepted"},
    {"message.downconversion.enable", B, "true", 0, 0, NULL, BK_NONE, "log.message.downconversion.enable",
     "accepted"},
    {"message.format.version", S, "3.0-IV1", 0, 0, NULL, BK_NONE, "log.message.format.version",
     "accepted; always record batch v2"},
    {"message.timestamp.after.max.ms", L, "9223372036854775807", 0, LMAX, NULL, BK_NONE,
     "log.message.timestamp.after.max.ms", "accepted"},
    {"message.timestamp.before.max.ms", L, "9223372036854775807", 0, LMAX, NULL, BK_NONE,
     "log.message.timestamp.before.max.ms", "accepted"},
    {"message.timestamp.difference.max.ms", L, "9223372036854775807", 0, LMAX, NULL, BK_NONE,
     "log.message.timestamp.difference.max.ms", "accepted"},
    {"message.timestamp.type", S, "CreateTime", 0, 0, "CreateTime|LogAppendTime", BK_NONE,
     "log.message.timestamp.type",
     "CreateTime keeps the producer's timestamps; LogAppendTime stamps the broker's"},
    {"min.cleanable.dirty.ratio", D, "0.5", 0, 1, NULL, BK_MIN_CLEANABLE_RATIO,
     "log.cleaner.min.cleanable.ratio",
     "compacted topics: clean when uncleaned bytes are at least this share of the cleanable log"},
    {"min.compaction.lag.ms", L, "0", 0, LMAX, NULL, BK_MIN_COMPACTION_LAG,
     "log.cleaner.min.compaction.lag.ms", "compacted topics: a record stays uncompacted at least this long"},
    {"min.insync.replicas", I, "1", 1, INT32_MAX, NULL, BK_NONE, "min.insync.replicas",
     "accepted (single node: always met)"},
    {"preallocate", B, "false", 0, 0, NULL, BK_NONE, "log.preallocate", "accepted"},
    {"remote.storage.enable", B, "false", 0, 0, NULL, BK_NONE, NULL, "accepted (tiered storage)"},
    {"retention.bytes", L, "-1", -1, LMAX, NULL, BK_RETENTION_BYTES, "log.retention.bytes",
     "delete old segments while the partition is larger (-1: no limit)"},
    {"retention.ms", L, "604800000", -1, LMAX, NULL, BK_RETENTION_MS, "log.retention.ms",
     "delete segments whose newest record is older (-1: keep forever)"},
    {"segment.bytes", I, "1073741824", 14, INT32_MAX, NULL, BK_SEGMENT_BYTES, "log.segment.bytes",
     "roll to a new segment file at this size"},
    {"segment.index.bytes", I, "10485760", 4, INT32_MAX, NULL, BK_NONE, "log.index.size.max.bytes",
     "accepted"},
    {"segment.jitter.ms", L, "0", 0, LMAX, NULL, BK_NONE, "log.roll.jitter.ms", "accepted"},
    {"segment.ms", L, "604800000", 1, LMAX, NULL, BK_SEGMENT_MS, "log.roll.ms",
     "roll to a new segment file after this time"},
    {"unclean.leader.election.enable", B, "false", 0, 0, NULL, BK_NONE, "unclean.leader.election.enable",
     "accepted (single node)"},
};
_Static_assert(SA_ARRAY_LEN(rows) <= SA_TOPIC_CONFIG_MAX, "raise SA_TOPIC_CONFIG_MAX");

size_t sa_topic_config_rows(void) { return SA_ARRAY_LEN(rows); }

const char *sa_topic_config_name(int i) { return rows[i].name; }

int sa_topic_config_index(const char *name) {
    for (size_t i = 0; i < SA_ARRAY_LEN(rows); i++)
        if (!strcmp(rows[i].name, name)) return (int)i;
    return -1;
}

/* Is @p item (length n) one of the '|'-separated @p enums? */
static int in_enums(const char *enums, const char *item, size_t n) {
    for (const char *p = enums; *p;) {
        const char *bar = strchr(p, '|');
        size_t len = bar ? (size_t)(bar - p) : strlen(p);
        if (len == n && !strncmp(p, item, n)) return 1;
        if (!bar) break;
        p = bar + 1;
    }
    return 0;
}

const char *sa_topic_config_synonym(int i) { return rows[i].synonym; }

sa_config_vtype_t sa_topic_config_type(int i) { return (sa_config_vtype_t)rows[i].type; }

const char *sa_topic_config_default(int i) { return rows[i].def; }

sa_err_t sa_topic_config_check(int i, const char *value, char *errstr, size_t errstr_size) {
    return sa_topic_config_check_as(i, rows[i].name, value, errstr, errstr_size);
}

sa_err_t sa_topic_config_check_as(int i, const char *name, const char *value, char *errstr,
                                  size_t errstr_size) {
    const row_t *r = &rows[i];
    char *end;
#define BAD(...)                                                                                             \
    do {                                                                                                     \
        if (errstr) snprintf(errstr, errstr_size, __VA_ARGS__);                                              \
        return SA_ERR_INVALID_CONFIG;                                                                        \
    } while (0)
    switch (r->type) {
    case SA_CONFIG_VALUE_LONG:
    case SA_CONFIG_VALUE_INT: {
        errno = 0;
        long long v = strtoll(value, &end, 10);
        if (errno || end == value || *end)
            BAD("Invalid value %s for configuration %s: not a number", value, name);
        if (v < r->min || v > r->max)
            BAD("Invalid value %s for configuration %s: must be in [%" PRId64 ", %" PRId64 "]", value, name,
                r->min, r->max);
        break;
    }
    case SA_CONFIG_VALUE_DOUBLE: {
        errno = 0;
        double v = strtod(value, &end);
        if (errno || end == value || *end || v < (double)r->min || v > (double)r->max)
            BAD("Invalid value %s for configuration %s: must be a number in [%" PRId64 ", %" PRId64 "]",
                value, name, r->min, r->max);
        break;
    }
    case SA_CONFIG_VALUE_BOOLEAN:
        if (strcmp(value, "true") && strcmp(value, "false"))
            BAD("Invalid value %s for configuration %s: expected true or false", value, name);
        break;
    case SA_CONFIG_VALUE_STRING:
        if (r->enums && !in_enums(r->enums, value, strlen(value)))
            BAD("Invalid value %s for configuration %s: expected one of %s", value, name, r->enums);
        break;
    case SA_CONFIG_VALUE_LIST:
        if (!r->enums) break;
        for (const char *p = value; *p;) {
            while (*p == ' ') p++;
            size_t n = strcspn(p, ",");
            size_t m = n;
            while (m && p[m - 1] == ' ') m--;
            if (!in_enums(r->enums, p, m))
                BAD("Invalid value %s for configuration %s: expected a list of %s", value, name, r->enums);
            p += n;
            if (*p == ',') p++;
        }
        if (!strcmp(r->name, "cleanup.policy") && !*value)
            BAD("cleanup.policy must not be empty; use delete, compact or compact,delete");
        break;
    }
#undef BAD
    return SA_OK;
}

/* The broker-level value backing row @p i as text in @p tmp (32 bytes), or NULL if none. */
static const char *broker_value(const sa_store_conf_t *conf, int i, char *tmp) {
    int64_t v;
    switch (rows[i].broker) {
    case BK_RETENTION_MS: v = conf->retention_ms; break;
    case BK_RETENTION_BYTES: v = conf->retention_bytes; break;
    case BK_SEGMENT_BYTES: v = conf->segment_bytes; break;
    case BK_SEGMENT_MS: v = conf->segment_ms; break;
    case BK_MAX_MESSAGE: v = conf->max_message_bytes; break;
    case BK_INDEX_INTERVAL: v = conf->index_interval_bytes; break;
    case BK_MIN_COMPACTION_LAG: v = conf->min_compaction_lag_ms; break;
    case BK_MAX_COMPACTION_LAG: v = conf->max_compaction_lag_ms; break;
    case BK_DELETE_RETENTION: v = conf->delete_retention_ms; break;
    case BK_CLEANUP_POLICY: return conf->cleanup_policy[0] ? conf->cleanup_policy : NULL;
    case BK_MIN_CLEANABLE_RATIO: snprintf(tmp, 32, "%g", conf->min_cleanable_ratio); return tmp;
    default: return NULL;
    }
    snprintf(tmp, 32, "%" PRId64, v);
    return tmp;
}

/* Where row @p i's value below the topic and the dynamic broker configs comes from: STATIC_BROKER
 * or DEFAULT (a broker value equal to Kafka's default counts as the default). */
static sa_config_origin_t base_origin(int i, const sa_store_conf_t *conf) {
    char tmp[32];
    const char *bv = broker_value(conf, i, tmp);
    if (!bv) return SA_CONFIG_ORIGIN_DEFAULT;
    int same = rows[i].type == SA_CONFIG_VALUE_DOUBLE ? strtod(bv, NULL) == strtod(rows[i].def, NULL)
                                                      : !strcmp(bv, rows[i].def);
    return same ? SA_CONFIG_ORIGIN_DEFAULT : SA_CONFIG_ORIGIN_STATIC_BROKER;
}

/* Where row @p i's effective value for @p topic comes from, Kafka's order: the topic, this
 * broker's dynamic config, the cluster's dynamic default, server.properties, Kafka's default. */
static sa_config_origin_t origin_of(const sa_topic_t *topic, int i, const sa_store_conf_t *conf) {
    if (topic->set[i]) return SA_CONFIG_ORIGIN_TOPIC;
    if (sa_store_broker_config(topic->store, SA_BROKER_SCOPE_NODE, i)) return SA_CONFIG_ORIGIN_DYNAMIC_BROKER;
    if (sa_store_broker_config(topic->store, SA_BROKER_SCOPE_DEFAULT, i))
        return SA_CONFIG_ORIGIN_DYNAMIC_DEFAULT;
    return base_origin(i, conf);
}

/* The value of row @p i below the topic and the dynamic configs, in @p tmp (32 bytes) or static. */
static const char *base_value(int i, const sa_store_conf_t *conf, char *tmp) {
    if (base_origin(i, conf) != SA_CONFIG_ORIGIN_STATIC_BROKER) return rows[i].def;
    return broker_value(conf, i, tmp);
}

/* Does the cleanup.policy list @p policy hold @p item? */
static int policy_has(const char *policy, const char *item) {
    size_t n = strlen(item);
    for (const char *p = policy; *p;) {
        while (*p == ' ') p++;
        size_t len = strcspn(p, ",");
        size_t m = len;
        while (m && p[m - 1] == ' ') m--;
        if (m == n && !strncmp(p, item, n)) return 1;
        p += len;
        if (*p == ',') p++;
    }
    return 0;
}

void sa_topic_config_resolve(sa_topic_t *topic) {
    const sa_store_conf_t *conf = sa_store_conf(topic->store);
    for (size_t i = 0; i < SA_ARRAY_LEN(rows); i++) {
        char tmp[32];
        const char *v;
        free(topic->eff[i]);
        switch (origin_of(topic, (int)i, conf)) {
        case SA_CONFIG_ORIGIN_TOPIC: v = topic->set[i]; break;
        case SA_CONFIG_ORIGIN_DYNAMIC_BROKER:
            v = sa_store_broker_config(topic->store, SA_BROKER_SCOPE_NODE, (int)i);
            break;
        case SA_CONFIG_ORIGIN_DYNAMIC_DEFAULT:
            v = sa_store_broker_config(topic->store, SA_BROKER_SCOPE_DEFAULT, (int)i);
            break;
        default: v = base_value((int)i, conf, tmp); break;
        }
        topic->eff[i] = sa_strdup(v);
    }
#define NUM(name) strtoll(topic->eff[sa_topic_config_index(name)], NULL, 10)
    topic->lim.retention_ms = NUM("retention.ms");
    topic->lim.retention_bytes = NUM("retention.bytes");
    topic->lim.segment_bytes = NUM("segment.bytes");
    topic->lim.segment_ms = NUM("segment.ms");
    topic->lim.max_message_bytes = NUM("max.message.bytes");
    topic->lim.index_interval_bytes = NUM("index.interval.bytes");
    topic->lim.min_compaction_lag_ms = NUM("min.compaction.lag.ms");
    topic->lim.max_compaction_lag_ms = NUM("max.compaction.lag.ms");
    topic->lim.delete_retention_ms = NUM("delete.retention.ms");
#undef NUM
    topic->lim.min_cleanable_ratio =
        strtod(topic->eff[sa_topic_config_index("min.cleanable.dirty.ratio")], NULL);
    topic->lim.log_append_time =
        !strcmp(topic->eff[sa_topic_config_index("message.timestamp.type")], "LogAppendTime");
    const char *policy = topic->eff[sa_topic_config_index("cleanup.policy")];
    topic->lim.compact = policy_has(policy, "compact");
    topic->lim.delete_old = policy_has(policy, "delete");
}

size_t sa_topic_config_count(const sa_topic_t *topic) {
    (void)topic;
    return SA_ARRAY_LEN(rows);
}

sa_err_t sa_topic_config_get(const sa_topic_t *topic, size_t i, sa_config_entry_t *entry) {
    if (i >= SA_ARRAY_LEN(rows)) return SA_ERR_NOT_FOUND;
    const row_t *r = &rows[i];
    const sa_store_conf_t *conf = sa_store_conf(topic->store);
    sa_config_origin_t origin = origin_of(topic, (int)i, conf);
    char tmp[32];
    const char *base = base_value((int)i, conf, tmp);
    *entry = (sa_config_entry_t){
        .name = r->name,
        .value = topic->eff[i],
        .is_default = origin == SA_CONFIG_ORIGIN_DEFAULT,
        .origin = origin,
        .read_only = 0,
        .sensitive = 0,
        .vtype = (sa_config_vtype_t)r->type,
        .doc = r->doc,
        .synonym = r->synonym,
        .base_origin = base_origin((int)i, conf),
    };
    snprintf(entry->base_value, sizeof(entry->base_value), "%s", base);
    return SA_OK;
}

sa_err_t sa_topic_config_find(const sa_topic_t *topic, const char *name, sa_config_entry_t *entry) {
    int i = sa_topic_config_index(name);
    return i < 0 ? SA_ERR_NOT_FOUND : sa_topic_config_get(topic, (size_t)i, entry);
}
