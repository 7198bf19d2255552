/*
 * group_offsets.h - a consumer group's offsets as `samsa groups` shows and moves them:
 * committed offset, log end offset and lag per partition with the member that owns it; the
 * plan for an offset reset; committing a plan.
 */
#ifndef SA_TOOLS_GROUP_OFFSETS_H
#define SA_TOOLS_GROUP_OFFSETS_H

#include <jansson.h>
#include <librdkafka/rdkafka.h>
#include <stddef.h>
#include <stdint.h>

#include "tools/tool.h"

typedef struct sa_tools_group_row_s {
    char *topic; /* owned */
    int32_t partition;
    int64_t committed; /* -1: no committed offset */
    int64_t log_end;   /* high watermark, -1 if unknown */
    int64_t lag;       /* log_end - committed, -1 if either is unknown */
    char *consumer_id; /* owned; NULL if no member owns the partition */
    char *host;        /* owned or NULL */
    char *client_id;   /* owned or NULL */
} sa_tools_group_row_t;

typedef struct sa_tools_group_desc_s {
    char *group; /* owned */
    rd_kafka_consumer_group_state_t state;
    size_t nmembers;
    sa_tools_group_row_t *rows; /* owned, sorted by topic then partition */
    size_t nrows;
    int64_t total_lag; /* sum of the known lags */
} sa_tools_group_desc_t;

/**
 * Describe @p group: members, committed offsets and lag, limited to @p topic if not NULL.
 * @returns 0 with @p gd filled (free with sa_tools_group_desc_free), or -1 after printing an error.
 */
int sa_tools_group_describe(const char *cmd, rd_kafka_t *rk, const sa_tools_conn_t *conn, const char *group,
                            const char *topic, sa_tools_group_desc_t *gd);
void sa_tools_group_desc_free(sa_tools_group_desc_t *gd);

/** @returns new JSON {"group", "state", "members", "total_lag", "partitions": [...]}. */
json_t *sa_tools_group_to_json(const sa_tools_group_desc_t *gd);

typedef enum sa_tools_reset_kind_e {
    SA_TOOLS_RESET_EARLIEST,
    SA_TOOLS_RESET_LATEST,
    SA_TOOLS_RESET_OFFSET,
    SA_TOOLS_RESET_DATETIME
} sa_tools_reset_kind_t;

typedef struct sa_tools_reset_target_s {
    sa_tools_reset_kind_t kind;
    int64_t value; /* the offset (SA_TOOLS_RESET_OFFSET) or milliseconds since the epoch
                      (SA_TOOLS_RESET_DATETIME) */
} sa_tools_reset_target_t;

/**
 * Work out the new offset of every partition of @p topic for @p target. An offset is kept within
 * the partition's earliest..latest; a time after the last record gives the latest offset.
 * @returns new list (topic, partition, offset), or NULL after printing an error.
 */
rd_kafka_topic_partition_list_t *sa_tools_group_reset_plan(const char *cmd, rd_kafka_t *rk,
                                                           const sa_tools_conn_t *conn, const char *topic,
                                                           const sa_tools_reset_target_t *target);

/** Commit @p offsets (borrowed) for @p group. @returns 0 or -1 after printing an error. */
int sa_tools_group_commit_offsets(const char *cmd, rd_kafka_t *rk, const sa_tools_conn_t *conn,
                                  const char *group, const rd_kafka_topic_partition_list_t *offsets);

#endif
