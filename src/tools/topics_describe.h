/*
 * topics_describe.h - reading topics back from a cluster for `samsa topics` (and `groups`):
 * does a topic exist, the topic list, one topic's partitions with replicas, ISR and offsets, and
 * its config overrides.
 */
#ifndef SA_TOOLS_TOPICS_DESCRIBE_H
#define SA_TOOLS_TOPICS_DESCRIBE_H

#include <jansson.h>
#include <librdkafka/rdkafka.h>
#include <stdint.h>
#include <stdio.h>

#include "core/config.h"
#include "tools/tool.h"

typedef struct sa_tools_topic_part_s {
    int32_t id;
    int32_t leader;
    int32_t *replicas; /* owned */
    int nreplicas;
    int32_t *isr; /* owned */
    int nisr;
    int64_t earliest;        /* log start offset, -1 if unknown */
    int64_t latest;          /* log end offset (high watermark), -1 if unknown */
    rd_kafka_resp_err_t err; /* partition error from metadata */
} sa_tools_topic_part_t;

typedef struct sa_tools_topic_s {
    char *name; /* owned */
    int npart;
    sa_tools_topic_part_t *parts; /* owned, sorted by id */
    sa_strlist_t configs;         /* "key=value" overrides (not defaults), owned */
    int configs_unknown;          /* the broker could not say (no DescribeConfigs): configs is empty */
} sa_tools_topic_t;

/** @returns 1 if @p topic exists, 0 if not, -1 after printing an error. */
int sa_tools_topic_exists(const char *cmd, rd_kafka_t *rk, const sa_tools_conn_t *conn, const char *topic);

/** Append the cluster's topic names, sorted, to @p out. @returns 0 or -1 after printing an error. */
int sa_tools_topic_list(const char *cmd, rd_kafka_t *rk, const sa_tools_conn_t *conn, int exclude_internal,
                        sa_strlist_t *out);

/** Append @p topic's config overrides as "key=value" to @p out. @returns 0 or -1 after printing. */
int sa_tools_topic_describe_configs(const char *cmd, rd_kafka_t *rk, const sa_tools_conn_t *conn,
                                    const char *topic, sa_strlist_t *out);

/** Fill @p td (free with sa_tools_topic_free) for @p topic. @returns 0 or -1 after printing an error. */
int sa_tools_topic_describe(const char *cmd, rd_kafka_t *rk, const sa_tools_conn_t *conn, const char *topic,
                            sa_tools_topic_t *td);

void sa_tools_topic_free(sa_tools_topic_t *td);

/** Print @p td the way kafka-topics --describe does, plus the offsets. */
void sa_tools_topic_print(const sa_tools_topic_t *td, FILE *out);

/** @returns new JSON object {"topic", "partition_count", "replication_factor", "configs" (null if
 *  unknown), "partitions": [...]}. */
json_t *sa_tools_topic_to_json(const sa_tools_topic_t *td);

#endif
