/*
 * txn_admin.c - listing and describing transactions (see txn_admin.h).
 *
 * Each call opens its own short-lived connections (client/kafka_conn.h): one per broker for a list,
 * one to a broker and one to the coordinator for a describe. A retriable answer waits RETRY_MS
 * and asks again (finding the coordinator again first), until the tool's --timeout runs out.
 */
#include "tools/txn_admin.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "client/kafka_conn.h"
#include "core/err.h"
#include "core/mem.h"
#include "core/time.h"
#include "proto/proto.h"

#define RETRY_MS 200 /* pause before asking again after a retriable error */

#define FIND_COORDINATOR_TRANSACTION 1 /* FindCoordinator KeyType of a transactional id */

static char *str_dup(sa_str_t s) { return sa_strndup(s.ptr ? s.ptr : "", s.len > 0 ? (size_t)s.len : 0); }

/* Answers that mean "not now" rather than "no". */
static int retriable(int16_t code) {
    return code == SA_ERR_COORDINATOR_LOAD_IN_PROGRESS || code == SA_ERR_COORDINATOR_NOT_AVAILABLE ||
           code == SA_ERR_NOT_COORDINATOR;
}

/* @returns the milliseconds left before @p deadline, at least 1. */
static int left_ms(int64_t deadline) {
    int64_t left = deadline - sa_mono_ms();
    return left > 0 ? (int)left : 1;
}

/* Open a connection to @p hostport (NULL: the bootstrap servers) with the tool's client settings.
 * @returns new connection or NULL after printing an error. */
static sa_kconn_t *open_conn(const char *cmd, const sa_tools_conn_t *conn, const char *hostport,
                             int64_t deadline) {
    char errstr[512];
    sa_kconn_t *c = NULL;
    if (sa_kconn_open(&conn->client, hostport, left_ms(deadline), &c, errstr, sizeof(errstr)))
        sa_cli_error(cmd, "%s", errstr);
    return c;
}

/* @returns the version to send @p api at, or -1 after printing that @p c's broker lacks it. */
static int16_t need_version(const char *cmd, const sa_kconn_t *c, int16_t api) {
    int16_t v = sa_kconn_version(c, api);
    if (v < 0)
        sa_cli_error(cmd, "the broker at %s does not serve %s (a broker without transactions)",
                     sa_kconn_peer(c), sa_proto_api_name(api));
    return v;
}

/* ---- list ---- */

static int cmp_listing(const void *a, const void *b) {
    return strcmp(((const sa_tools_txn_listing_t *)a)->transactional_id,
                  ((const sa_tools_txn_listing_t *)b)->transactional_id);
}

/* Ask one broker. @returns 0 (rows appended to @p out) or -1 after printing an error. */
static int list_one(const char *cmd, const sa_tools_conn_t *conn, const struct rd_kafka_metadata_broker *b,
                    const sa_tools_txn_filter_t *filter, int64_t deadline, sa_tools_txn_list_t *out) {
    char hostport[300];
    snprintf(hostport, sizeof(hostport), strchr(b->host, ':') ? "[%s]:%d" : "%s:%d", b->host, b->port);
    sa_kconn_t *w = open_conn(cmd, conn, hostport, deadline);
    if (!w) return -1;
    int rc = -1;
    sa_arena_t arena;
    sa_arena_init(&arena, 0);
    int16_t v = need_version(cmd, w, SA_API_ListTransactions);
    if (v < 0) goto out;
    if (filter->duration_ms >= 0 && v < 1) {
        sa_cli_error(cmd,
                     "--duration-filter needs ListTransactions v1 (Kafka 3.8+); the broker at %s has v%d",
                     hostport, v);
        goto out;
    }
    for (;;) {
        sa_ListTransactionsRequest_t req;
        sa_ListTransactionsRequest_init(&req);
        req.DurationFilter = filter->duration_ms;
        sa_ListTransactionsResponse_t resp;
        char errstr[512];
        sa_arena_reset(&arena);
        if (sa_kconn_request(w, SA_API_ListTransactions, v, &req, &resp, &arena, left_ms(deadline), errstr,
                             sizeof(errstr))) {
            sa_cli_error(cmd, "%s", errstr);
            goto out;
        }
        if (retriable(resp.ErrorCode) && sa_mono_ms() + RETRY_MS < deadline) {
            sa_sleep_ms(RETRY_MS);
            continue;
        }
        if (resp.ErrorCode) {
            sa_cli_error(cmd, "listing the transactions of broker %d (%s): %s", b->id, hostport,
                         sa_err2str(resp.ErrorCode));
            goto out;
        }
        for (int32_t i = 0; i < resp.TransactionStates_count; i++) {
            const sa_ListTransactionsResponse_TransactionState_t *t = &resp.TransactionStates[i];
            char *id = str_dup(t->TransactionalId);
            if (filter->re && regexec(filter->re, id, 0, NULL, 0) != 0) {
                free(id);
                continue;
            }
            out->v = sa_realloc(out->v, (out->n + 1) * sizeof(*out->v));
            out->v[out->n++] =
                (sa_tools_txn_listing_t){id, b->id, t->ProducerId, str_dup(t->TransactionState)};
        }
        rc = 0;
        break;
    }
out:
    sa_arena_free(&arena);
    sa_kconn_close(w);
    return rc;
}

int sa_tools_txn_list(const char *cmd, rd_kafka_t *rk, const sa_tools_conn_t *conn,
                      const sa_tools_txn_filter_t *filter, sa_tools_txn_list_t *out) {
    memset(out, 0, sizeof(*out));
    int64_t deadline = sa_mono_ms() + conn->timeout_ms;
    const struct rd_kafka_metadata *md = NULL;
    rd_kafka_resp_err_t err = rd_kafka_metadata(rk, 0, NULL, &md, left_ms(deadline));
    int rc = -1;
    if (err) {
        sa_cli_error(cmd, "cannot list the brokers: %s", rd_kafka_err2str(err));
        goto out;
    }
    rc = 0;
    for (int i = 0; i < md->broker_cnt && rc == 0; i++)
        rc = list_one(cmd, conn, &md->brokers[i], filter, deadline, out);
    if (rc == 0) qsort(out->v, out->n, sizeof(*out->v), cmp_listing);
out:
    if (md) rd_kafka_metadata_destroy(md);
    if (rc) sa_tools_txn_list_free(out);
    return rc;
}

void sa_tools_txn_list_free(sa_tools_txn_list_t *list) {
    for (size_t i = 0; i < list->n; i++) {
        free(list->v[i].transactional_id);
        free(list->v[i].state);
    }
    free(list->v);
    memset(list, 0, sizeof(*list));
}

/* ---- describe ---- */

/* FindCoordinator for @p id through @p w. @returns 1 with the coordinator's address, 0 when the
 * answer was retriable, -1 after printing an error. */
static int find_coordinator(const char *cmd, sa_kconn_t *w, const char *id, int64_t deadline, int32_t *node,
                            char *hostport, size_t size) {
    int16_t v = need_version(cmd, w, SA_API_FindCoordinator);
    if (v < 0) return -1;
    if (v < 1) {
        sa_cli_error(cmd, "the broker at %s cannot find transaction coordinators (FindCoordinator v0)",
                     sa_kconn_peer(w));
        return -1;
    }
    sa_FindCoordinatorRequest_t req;
    sa_FindCoordinatorRequest_init(&req);
    sa_str_t key = sa_str(id);
    req.KeyType = FIND_COORDINATOR_TRANSACTION;
    req.Key = key;              /* v1-3 */
    req.CoordinatorKeys = &key; /* v4+ */
    req.CoordinatorKeys_count = 1;
    sa_FindCoordinatorResponse_t resp;
    sa_arena_t arena;
    sa_arena_init(&arena, 0);
    char errstr[512];
    int rc = -1;
    if (sa_kconn_request(w, SA_API_FindCoordinator, v, &req, &resp, &arena, left_ms(deadline), errstr,
                         sizeof(errstr))) {
        sa_cli_error(cmd, "%s", errstr);
        goto out;
    }
    int16_t code = resp.ErrorCode;
    sa_str_t host = resp.Host, msg = resp.ErrorMessage;
    int32_t port = resp.Port;
    *node = resp.NodeId;
    if (v >= 4) {
        if (resp.Coordinators_count != 1) {
            sa_cli_error(cmd, "FindCoordinator from %s: %d coordinators for one key", sa_kconn_peer(w),
                         (int)resp.Coordinators_count);
            goto out;
        }
        code = resp.Coordinators[0].ErrorCode;
        host = resp.Coordinators[0].Host;
        port = resp.Coordinators[0].Port;
        msg = resp.Coordinators[0].ErrorMessage;
        *node = resp.Coordinators[0].NodeId;
    }
    if (retriable(code)) {
        rc = 0;
        goto out;
    }
    if (code) {
        sa_cli_error(cmd, "finding the coordinator of transactional id '%s': %s%s%.*s", id, sa_err2str(code),
                     msg.len > 0 ? ": " : "", msg.len > 0 ? (int)msg.len : 0, msg.len > 0 ? msg.ptr : "");
        goto out;
    }
    char *name = str_dup(host);
    if (!*name) {
        sa_cli_error(cmd, "FindCoordinator from %s: the coordinator of '%s' has no host", sa_kconn_peer(w),
                     id);
    } else {
        snprintf(hostport, size, strchr(name, ':') ? "[%s]:%d" : "%s:%d", name, (int)port);
        rc = 1;
    }
    free(name);
out:
    sa_arena_free(&arena);
    return rc;
}

/* Copy the one answer for our id into @p out. @returns the entry's error code. */
static int16_t take_state(const sa_DescribeTransactionsResponse_TransactionState_t *t, int32_t node,
                          sa_tools_txn_desc_t *out) {
    if (t->ErrorCode) return t->ErrorCode;
    out->coordinator_id = node;
    out->transactional_id = str_dup(t->TransactionalId);
    out->producer_id = t->ProducerId;
    out->producer_epoch = t->ProducerEpoch;
    out->state = str_dup(t->TransactionState);
    out->timeout_ms = t->TransactionTimeoutMs;
    out->start_ms = t->TransactionStartTimeMs;
    out->now_ms = sa_wall_ms();
    size_t n = 0;
    for (int32_t i = 0; i < t->Topics_count; i++) n += (size_t)SA_MAX(t->Topics[i].Partitions_count, 0);
    out->partitions = sa_calloc(n ? n : 1, sizeof(*out->partitions));
    for (int32_t i = 0; i < t->Topics_count; i++)
        for (int32_t p = 0; p < t->Topics[i].Partitions_count; p++)
            out->partitions[out->npartitions++] =
                (sa_tools_txn_partition_t){str_dup(t->Topics[i].Topic), t->Topics[i].Partitions[p]};
    return 0;
}

/* Ask the coordinator at @p hostport. @returns 1 done, 0 retriable, -1 after printing an error. */
static int describe_at(const char *cmd, const sa_tools_conn_t *conn, const char *hostport, int32_t node,
                       const char *id, int64_t deadline, sa_tools_txn_desc_t *out) {
    sa_kconn_t *w = open_conn(cmd, conn, hostport, deadline);
    if (!w) return -1;
    int rc = -1;
    sa_arena_t arena;
    sa_arena_init(&arena, 0);
    int16_t v = need_version(cmd, w, SA_API_DescribeTransactions);
    if (v < 0) goto out;
    sa_DescribeTransactionsRequest_t req;
    sa_DescribeTransactionsRequest_init(&req);
    sa_str_t key = sa_str(id);
    req.TransactionalIds = &key;
    req.TransactionalIds_count = 1;
    sa_DescribeTransactionsResponse_t resp;
    char errstr[512];
    if (sa_kconn_request(w, SA_API_DescribeTransactions, v, &req, &resp, &arena, left_ms(deadline), errstr,
                         sizeof(errstr))) {
        sa_cli_error(cmd, "%s", errstr);
        goto out;
    }
    if (resp.TransactionStates_count != 1) {
        sa_cli_error(cmd, "DescribeTransactions from %s: %d answers for one id", hostport,
                     (int)resp.TransactionStates_count);
        goto out;
    }
    int16_t code = take_state(&resp.TransactionStates[0], node, out);
    if (code == 0) {
        rc = 1;
    } else if (retriable(code)) {
        rc = 0;
    } else if (code == SA_ERR_TRANSACTIONAL_ID_NOT_FOUND) {
        sa_cli_error(cmd, "transactional id '%s' not found (its coordinator, broker %d, has no state for it)",
                     id, (int)node);
    } else {
        sa_cli_error(cmd, "describing transactional id '%s': %s", id, sa_err2str(code));
    }
out:
    sa_arena_free(&arena);
    sa_kconn_close(w);
    return rc;
}

int sa_tools_txn_describe(const char *cmd, const sa_tools_conn_t *conn, const char *transactional_id,
                          sa_tools_txn_desc_t *out) {
    memset(out, 0, sizeof(*out));
    int64_t deadline = sa_mono_ms() + conn->timeout_ms;
    sa_kconn_t *w = open_conn(cmd, conn, NULL, deadline);
    if (!w) return -1;
    int rc = -1;
    for (;;) {
        int32_t node = -1;
        char hostport[300];
        int found = find_coordinator(cmd, w, transactional_id, deadline, &node, hostport, sizeof(hostport));
        if (found < 0) break;
        int done = found ? describe_at(cmd, conn, hostport, node, transactional_id, deadline, out) : 0;
        if (done < 0) break;
        if (done) {
            rc = 0;
            break;
        }
        if (sa_mono_ms() + RETRY_MS >= deadline) {
            sa_cli_error(cmd, "the coordinator of transactional id '%s' was not available within %.1f s",
                         transactional_id, (double)conn->timeout_ms / 1000.0);
            break;
        }
        sa_sleep_ms(RETRY_MS);
    }
    sa_kconn_close(w);
    if (rc) sa_tools_txn_desc_free(out);
    return rc;
}

void sa_tools_txn_desc_free(sa_tools_txn_desc_t *d) {
    free(d->transactional_id);
    free(d->state);
    for (size_t i = 0; i < d->npartitions; i++) free(d->partitions[i].topic);
    free(d->partitions);
    memset(d, 0, sizeof(*d));
}
