/*
 * txn_admin.h - the transactions of a Kafka cluster as `samsa transactions` shows them: every
 * transactional id each broker coordinates (ListTransactions), and one id's transaction in
 * detail from its coordinator (FindCoordinator with key type 1, DescribeTransactions).
 *
 * librdkafka 2.0.2 (Debian's, what samsa links) has no admin call for these, so they go through
 * client/kafka_conn.h (samsa's generated codec, with the same TLS/SASL settings as every client);
 * the broker list comes from librdkafka's metadata. What Kafka's admin client retries is retried
 * here too, until the tool's --timeout: a coordinator that is loading (COORDINATOR_LOAD_IN_PROGRESS) or moved
 * (NOT_COORDINATOR, COORDINATOR_NOT_AVAILABLE).
 */
#ifndef SA_TOOLS_TXN_ADMIN_H
#define SA_TOOLS_TXN_ADMIN_H

#include <librdkafka/rdkafka.h>
#include <regex.h>
#include <stddef.h>
#include <stdint.h>

#include "tools/tool.h"

/* One row of --list. */
typedef struct sa_tools_txn_listing_s {
    char *transactional_id; /* owned */
    int32_t coordinator;    /* id of the broker that answered for it */
    int64_t producer_id;
    char *state; /* owned: Kafka's name ("Ongoing", "CompleteCommit", ...) */
} sa_tools_txn_listing_t;

typedef struct sa_tools_txn_list_s {
    sa_tools_txn_listing_t *v; /* owned, sorted by transactional id */
    size_t n;
} sa_tools_txn_list_t;

/* Filters of --list: Kafka's --duration-filter and --transactional-id-pattern. */
typedef struct sa_tools_txn_filter_s {
    int64_t duration_ms; /* < 0: all; else only transactions running longer (ListTransactions v1+) */
    const regex_t *re;   /* NULL: all; else only ids it matches (borrowed; the caller anchors it) */
} sa_tools_txn_filter_t;

/**
 * Ask every broker of the cluster (from @p rk's metadata) for the transactions it coordinates.
 * @returns 0 with @p out filled (free with sa_tools_txn_list_free), or -1 after printing an error.
 */
int sa_tools_txn_list(const char *cmd, rd_kafka_t *rk, const sa_tools_conn_t *conn,
                      const sa_tools_txn_filter_t *filter, sa_tools_txn_list_t *out);
void sa_tools_txn_list_free(sa_tools_txn_list_t *list);

/* One partition of a transaction. */
typedef struct sa_tools_txn_partition_s {
    char *topic; /* owned */
    int32_t partition;
} sa_tools_txn_partition_t;

/* --describe: one transactional id as its coordinator sees it. */
typedef struct sa_tools_txn_desc_s {
    int32_t coordinator_id;
    char *transactional_id; /* owned */
    int64_t producer_id;
    int16_t producer_epoch;
    char *state; /* owned */
    int32_t timeout_ms;
    int64_t start_ms;                     /* start of the current transaction, -1 when there is none */
    int64_t now_ms;                       /* wall clock when the answer came (duration = now_ms - start_ms) */
    sa_tools_txn_partition_t *partitions; /* owned, in the coordinator's order */
    size_t npartitions;
} sa_tools_txn_desc_t;

/**
 * Describe @p transactional_id: find its coordinator, ask it. An id the coordinator does not know
 * is an error ("not found"), as in Kafka's tool.
 * @returns 0 with @p out filled (free with sa_tools_txn_desc_free), or -1 after printing an error.
 */
int sa_tools_txn_describe(const char *cmd, const sa_tools_conn_t *conn, const char *transactional_id,
                          sa_tools_txn_desc_t *out);
void sa_tools_txn_desc_free(sa_tools_txn_desc_t *d);

#endif
