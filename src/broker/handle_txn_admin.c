/*
 * handle_txn_admin.c - DescribeTransactions (key 65, v0) and ListTransactions (key 66, v0-1), what
 * kafka-transactions.sh --describe / --list send.
 *
 * Describe: per id its state, producer id and epoch, timeout, the start of its transaction, and its
 * partitions grouped by topic; a consumer group of the transaction shows as the partition of
 * __consumer_offsets Kafka would use for it (abs(hashCode) % 50), so the tool's output reads the
 * same. An empty id is INVALID_REQUEST, an unknown one TRANSACTIONAL_ID_NOT_FOUND.
 * List: filters by state names (unknown names are echoed in UnknownStateFilters, and a filter of
 * only unknown names matches nothing, as in Kafka), producer ids, and (v1) how long ago the
 * transaction started.
 * DescribeProducers (key 61, v0, kafka-transactions describe-producers and find-hanging): per
 * partition the producers its state knows (producer_state.h: epoch, last sequence and timestamp,
 * the coordinator epoch of its last marker) and the first offset of the transaction each has open
 * there (storage's open set, -1 if none). A partition that does not exist is
 * UNKNOWN_TOPIC_OR_PARTITION, one of a topic the client may not READ TOPIC_AUTHORIZATION_FAILED, as
 * Kafka answers.
 */
#include <string.h>

#include "broker/handle_group.h"
#include "broker/handle_txn.h"
#include "broker/handlers.h"
#include "broker/kit.h"
#include "broker/producer_state.h"
#include "core/buf.h"
#include "core/time.h"
#include "storage/storage.h"

typedef sa_DescribeTransactionsResponse_TransactionState_t dstate_t;
typedef sa_DescribeTransactionsResponse_TopicData_t dtopic_t;

/* Fill @p ts from @p d, grouping its partitions by topic (arrays in the request's arena). */
static sa_err_t fill_topics(sa_req_t *req, const sa_txn_desc_t *d, dstate_t *ts) {
    size_t n = d->PartitionCount;
    dtopic_t *topics = sa_arena_calloc(&req->arena, n ? n : 1, sizeof(*topics));
    int32_t *parts = sa_arena_calloc(&req->arena, n ? n : 1, sizeof(*parts));
    uint8_t *done = sa_arena_calloc(&req->arena, n ? n : 1, 1);
    if (!topics || !parts || !done) return SA_ERR_TOOBIG;
    int32_t nt = 0;
    size_t used = 0;
    for (size_t i = 0; i < n; i++) {
        if (done[i]) continue;
        dtopic_t *t = &topics[nt++];
        sa_DescribeTransactionsResponse_TopicData_init(t);
        t->Topic =
            sa_str(sa_arena_strndup(&req->arena, d->Partitions[i].topic, strlen(d->Partitions[i].topic)));
        t->Partitions = parts + used;
        for (size_t k = i; k < n; k++) {
            if (done[k] || strcmp(d->Partitions[k].topic, d->Partitions[i].topic)) continue;
            done[k] = 1;
            parts[used++] = d->Partitions[k].partition;
            t->Partitions_count++;
        }
    }
    ts->Topics = topics;
    ts->Topics_count = nt;
    return SA_OK;
}

sa_err_t sa_handle_DescribeTransactions(sa_req_t *req) {
    sa_DescribeTransactionsRequest_t in;
    sa_err_t err = sa_kit_decode(req, &in);
    if (err != SA_OK) return err;
    sa_DescribeTransactionsResponse_t out;
    sa_DescribeTransactionsResponse_init(&out);
    if (!SA_KIT_ARRAY(req, out.TransactionStates, in.TransactionalIds_count)) return SA_ERR_TOOBIG;
    for (int32_t i = 0; i < out.TransactionStates_count; i++) {
        dstate_t *ts = &out.TransactionStates[i];
        sa_DescribeTransactionsResponse_TransactionState_init(ts);
        ts->TransactionalId = in.TransactionalIds[i];
        ts->TransactionState = SA_STR("");
        ts->ProducerId = -1;
        ts->ProducerEpoch = -1;
        const char *txid = sa_kit_str(req, in.TransactionalIds[i]);
        sa_txn_desc_t d;
        if (!*txid) {
            ts->ErrorCode = SA_ERR_INVALID_REQUEST;
            continue;
        }
        err = sa_kit_authorize(req, SA_ACL_DESCRIBE, SA_RESOURCE_TRANSACTIONAL_ID, txid);
        if (err == SA_OK) err = sa_tcoord_describe(sa_txn_coord(req->broker), txid, &d);
        if (err) {
            ts->ErrorCode = (int16_t)err;
            continue;
        }
        ts->TransactionState = sa_str(sa_txn_state_name(d.State));
        ts->TransactionTimeoutMs = d.TransactionTimeoutMs;
        ts->TransactionStartTimeMs = d.TransactionStartTimeMs;
        ts->ProducerId = d.ProducerId;
        ts->ProducerEpoch = d.ProducerEpoch;
        if ((err = fill_topics(req, &d, ts))) return err;
    }
    return sa_kit_encode(req, &out);
}

typedef sa_ListTransactionsResponse_TransactionState_t lstate_t;

typedef struct list_ctx_s {
    sa_req_t *req;
    lstate_t *items;
    int32_t n, cap;
    int failed;
} list_ctx_t;

static void list_one(void *arg, const char *txid, int64_t pid, sa_txn_state_t state) {
    list_ctx_t *ctx = arg;
    if (sa_kit_authorize(ctx->req, SA_ACL_DESCRIBE, SA_RESOURCE_TRANSACTIONAL_ID, txid) != SA_OK)
        return; /* listed only if it may be described, as in Kafka */
    if (ctx->n == ctx->cap) {
        int32_t cap = ctx->cap ? ctx->cap * 2 : 16;
        lstate_t *items = sa_arena_calloc(&ctx->req->arena, (size_t)cap, sizeof(*items));
        if (!items) {
            ctx->failed = 1;
            return;
        }
        if (ctx->n) memcpy(items, ctx->items, (size_t)ctx->n * sizeof(*items));
        ctx->items = items;
        ctx->cap = cap;
    }
    lstate_t *it = &ctx->items[ctx->n++];
    sa_ListTransactionsResponse_TransactionState_init(it);
    it->TransactionalId = sa_str(sa_arena_strndup(&ctx->req->arena, txid, strlen(txid)));
    it->ProducerId = pid;
    it->TransactionState = sa_str(sa_txn_state_name(state));
}

sa_err_t sa_handle_ListTransactions(sa_req_t *req) {
    sa_ListTransactionsRequest_t in;
    sa_err_t err = sa_kit_decode(req, &in);
    if (err != SA_OK) return err;
    sa_ListTransactionsResponse_t out;
    sa_ListTransactionsResponse_init(&out);
    int32_t nf = in.StateFilters_count > 0 ? in.StateFilters_count : 0;
    out.UnknownStateFilters = sa_arena_calloc(&req->arena, (size_t)(nf ? nf : 1), sizeof(sa_str_t));
    if (!out.UnknownStateFilters) return SA_ERR_TOOBIG;
    unsigned states = 0;
    for (int32_t i = 0; i < nf; i++) {
        int s = sa_txn_state_by_name(sa_kit_str(req, in.StateFilters[i]));
        if (s < 0)
            out.UnknownStateFilters[out.UnknownStateFilters_count++] = in.StateFilters[i];
        else
            states |= 1u << s;
    }
    list_ctx_t ctx = {req, NULL, 0, 0, 0};
    if (!nf || states) /* a filter of unknown states only matches nothing */
        sa_tcoord_list(sa_txn_coord(req->broker), states, in.ProducerIdFilters,
                       in.ProducerIdFilters_count > 0 ? (size_t)in.ProducerIdFilters_count : 0,
                       req->ApiVersion >= 1 ? in.DurationFilter : -1, sa_wall_ms(), list_one, &ctx);
    if (ctx.failed) return SA_ERR_TOOBIG;
    out.TransactionStates = ctx.items;
    out.TransactionStates_count = ctx.n;
    return sa_kit_encode(req, &out);
}

typedef sa_DescribeProducersResponse_TopicResponse_t ptopic_t;
typedef sa_DescribeProducersResponse_PartitionResponse_t ppart_t;
typedef sa_DescribeProducersResponse_ProducerState_t pstate_t;

/* Fill @p pr with the producers of @p part (arrays in the request's arena). */
static sa_err_t describe_partition(sa_req_t *req, sa_partition_t *part, ppart_t *pr) {
    sa_buf_t b = SA_BUF_INIT(0);
    size_t n = sa_producer_state_list(part, &b);
    pstate_t *ps = sa_arena_calloc(&req->arena, n ? n : 1, sizeof(*ps));
    if (!ps) {
        sa_buf_free(&b);
        return SA_ERR_TOOBIG;
    }
    for (size_t i = 0; i < n; i++) {
        sa_producer_info_t info;
        memcpy(&info, b.data + i * sizeof(info), sizeof(info));
        sa_DescribeProducersResponse_ProducerState_init(&ps[i]);
        ps[i].ProducerId = info.producer_id;
        ps[i].ProducerEpoch = info.epoch;
        ps[i].LastSequence = info.last_sequence;
        ps[i].LastTimestamp = info.last_timestamp;
        ps[i].CoordinatorEpoch = info.coordinator_epoch;
        int64_t first;
        ps[i].CurrentTxnStartOffset = sa_partition_txn_open(part, info.producer_id, &first) ? first : -1;
    }
    sa_buf_free(&b);
    pr->ActiveProducers = ps;
    pr->ActiveProducers_count = (int32_t)n;
    return SA_OK;
}

sa_err_t sa_handle_DescribeProducers(sa_req_t *req) {
    sa_DescribeProducersRequest_t in;
    sa_err_t err = sa_kit_decode(req, &in);
    if (err != SA_OK) return err;
    sa_DescribeProducersResponse_t out;
    sa_DescribeProducersResponse_init(&out);
    if (!SA_KIT_ARRAY(req, out.Topics, in.Topics_count)) return SA_ERR_TOOBIG;
    for (int32_t t = 0; t < out.Topics_count; t++) {
        const sa_DescribeProducersRequest_TopicRequest_t *rt = &in.Topics[t];
        ptopic_t *ot = &out.Topics[t];
        sa_DescribeProducersResponse_TopicResponse_init(ot);
        ot->Name = rt->Name;
        if (!SA_KIT_ARRAY(req, ot->Partitions, rt->PartitionIndexes_count)) return SA_ERR_TOOBIG;
        const char *topic;
        sa_err_t terr = sa_kit_topic(req, rt->Name, &topic);
        if (terr == SA_ERR_TOOBIG) return terr;
        if (terr == SA_OK) terr = sa_kit_authorize(req, SA_ACL_READ, SA_RESOURCE_TOPIC, topic);
        for (int32_t i = 0; i < ot->Partitions_count; i++) {
            ppart_t *pr = &ot->Partitions[i];
            sa_DescribeProducersResponse_PartitionResponse_init(pr);
            pr->PartitionIndex = rt->PartitionIndexes[i];
            sa_partition_t *part =
                terr == SA_OK ? sa_store_partition(req->broker->store, topic, pr->PartitionIndex) : NULL;
            if (terr == SA_ERR_TOPIC_AUTHORIZATION_FAILED) {
                pr->ErrorCode = SA_ERR_TOPIC_AUTHORIZATION_FAILED;
            } else if (!part) {
                pr->ErrorCode = SA_ERR_UNKNOWN_TOPIC_OR_PARTITION;
            } else if ((err = describe_partition(req, part, pr)) != SA_OK) {
                return err;
            }
        }
    }
    return sa_kit_encode(req, &out);
}
