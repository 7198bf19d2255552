/*
 * handle_fetch.c - Fetch (key 1, v4-12): whole batches below the HWM, with long polling.
 *
 * No fetch sessions: SessionId is always 0 (a client asking to resume session N gets
 * FETCH_SESSION_ID_NOT_FOUND, and then fetches without one).
 *
 * Isolation (KIP-98): read_uncommitted reads up to the HWM, control batches (transaction markers)
 * and aborted records included: clients skip markers, and read_uncommitted sees aborted data by
 * definition. read_committed (IsolationLevel 1) reads only batches below the last stable offset
 * (storage/txn.c), so nothing of a transaction whose outcome is not durable yet, and gets the
 * aborted transactions whose records may lie in what it read (their producer id and first offset:
 * the client drops that producer's records from there up to its ABORT marker). Every answer
 * carries the LSO as LastStableOffset, whatever the isolation, as Kafka's does.
 *
 * Sizes (KIP-74, fetch_limits.h): partitions are filled in request order, each up to
 * PartitionMaxBytes and the response up to MaxBytes; only the first batch of the first non-empty
 * partition may go over both, so a consumer can progress past a batch larger than its limits.
 * Any later partition whose next batch does not fit returns nothing this time (the client asks
 * again, and rotates its partitions). Only whole batches are returned. A fetch inside a batch
 * returns that whole batch (clients skip the records before their offset).
 *
 * Long poll: if fewer than MinBytes are available (and no partition has an error), the request
 * is parked for MaxWaitMs with a data waiter; every group commit that made data durable re-runs
 * the read, and the request is answered as soon as MinBytes are there, or at the deadline with
 * whatever there is. Record bytes are copied out of the log at answer time only, so a parked
 * Fetch holds no data.
 */
#include <assert.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "broker/fetch_limits.h"
#include "broker/handlers.h"
#include "broker/kit.h"
#include "core/log.h"
#include "core/mem.h"
#include "proto/proto.h"
#include "storage/storage.h"

#define MAX_WAIT_CAP_MS 60000 /* a parked fetch never waits longer than this */

typedef sa_FetchResponse_PartitionData_t fpart_t;

typedef struct fetch_s {
    sa_data_wait_t wait; /* on the broker's data list while parked */
    sa_req_t *req;
    sa_FetchRequest_t freq;
    sa_FetchResponse_t resp;
    const char **topics; /* NUL-terminated names per topic ("": no topic's) */
    sa_err_t *denied;    /* per topic: TOPIC_AUTHORIZATION_FAILED, or SA_OK (checked once) */
    size_t *pos, *len;   /* [flat partition index] where its records sit in the data buffer */
    sa_buf_t aborted;    /* read_committed: every partition's aborted transactions (sa_aborted_txn_t) */
    size_t *apos, *alen; /* [flat partition index] its entries in aborted (first index, count) */
} fetch_t;

static sa_err_t setup(fetch_t *st) {
    sa_req_t *req = st->req;
    int32_t nt;
    size_t flat = 0;
    sa_FetchResponse_init(&st->resp);
    st->resp.SessionId = 0;
    st->topics = sa_kit_array(req, st->freq.Topics_count, sizeof(char *), &nt);
    st->denied = sa_kit_array(req, nt, sizeof(sa_err_t), NULL);
    if (!st->topics || !st->denied || !SA_KIT_ARRAY(req, st->resp.Responses, nt)) return SA_ERR_TOOBIG;
    /* a follower's fetch (a replica id) needs CLUSTER_ACTION, a consumer's READ on each topic */
    sa_err_t follower =
        st->freq.ReplicaId >= 0 && sa_kit_authorize(req, SA_ACL_CLUSTER_ACTION, SA_RESOURCE_CLUSTER, "")
            ? SA_ERR_TOPIC_AUTHORIZATION_FAILED
            : SA_OK;
    for (int32_t t = 0; t < nt; t++) {
        const sa_FetchRequest_FetchTopic_t *ft = &st->freq.Topics[t];
        sa_FetchResponse_FetchableTopicResponse_t *tr = &st->resp.Responses[t];
        sa_FetchResponse_FetchableTopicResponse_init(tr);
        tr->Topic = ft->Topic;
        tr->TopicId = ft->TopicId;
        if (sa_kit_topic(req, ft->Topic, &st->topics[t]) == SA_ERR_TOOBIG ||
            !SA_KIT_ARRAY(req, tr->Partitions, ft->Partitions_count))
            return SA_ERR_TOOBIG;
        st->denied[t] =
            follower ? follower : sa_kit_authorize(req, SA_ACL_READ, SA_RESOURCE_TOPIC, st->topics[t]);
        flat += (size_t)tr->Partitions_count;
    }
    st->pos = sa_arena_calloc(&req->arena, flat, sizeof(size_t));
    st->len = sa_arena_calloc(&req->arena, flat, sizeof(size_t));
    st->apos = sa_arena_calloc(&req->arena, flat, sizeof(size_t));
    st->alen = sa_arena_calloc(&req->arena, flat, sizeof(size_t));
    if (!st->pos || !st->len || !st->apos || !st->alen) return SA_ERR_TOOBIG;
    return SA_OK;
}

/*
 * Append whole batches of @p part from @p offset to @p data, at most @p limit bytes; when
 * @p whole_first, the first batch comes whole even past @p limit (sa_partition_read's rule).
 * Otherwise a first batch over @p limit yields nothing: the buffer's cap makes the storage refuse
 * it before reading it (SA_ERR_TOOBIG), so a batch skipped this time costs no read. @p hard
 * (> data->len) caps data whatever the grace: the broker's memory budget.
 */
static sa_err_t read_partition(sa_partition_t *part, int64_t offset, int64_t limit, int whole_first,
                               int64_t end, size_t hard, sa_buf_t *data) {
    assert(data->cap == 0 && limit >= 0 && (whole_first || limit > 0) && hard > data->len);
    /* data->cap > 0 here, so it is a cap (0 would mean none). */
    data->cap = whole_first || hard - data->len < (size_t)limit ? hard : data->len + (size_t)limit;
    sa_err_t err = sa_partition_read_upto(part, offset, (size_t)limit, end, data);
    data->cap = 0;
    return err == SA_ERR_TOOBIG ? SA_OK : err;
}

/* The offset after the last record of the batches in @p p (@p len bytes, whole batches). */
static int64_t end_of(const uint8_t *p, size_t len) {
    sa_rb_iter_t it;
    sa_rb_header_t hdr;
    int64_t end = -1;
    sa_rb_iter_init(&it, p, len);
    while (sa_rb_iter_next(&it, &hdr, NULL) == SA_OK) end = sa_rb_last_offset(&hdr) + 1;
    return end;
}

/*
 * Read every partition into @p data. @returns the record bytes found; *errors counts
 * partitions answered with an error.
 */
static size_t fill(fetch_t *st, sa_buf_t *data, int *errors) {
    sa_store_t *store = st->req->broker->store;
    sa_fetch_room_t room;
    size_t total = 0, flat = 0;
    sa_fetch_room_init(&room, st->freq.MaxBytes);
    /* The broker's memory budget caps the records whatever KIP-74 allows (conn_budget.h). */
    size_t hard = sa_req_memory_room(st->req);
    *errors = 0;
    int committed = st->freq.IsolationLevel == 1;
    sa_buf_reset(&st->aborted);
    for (int32_t t = 0; t < st->resp.Responses_count; t++) {
        const sa_FetchRequest_FetchTopic_t *ft = &st->freq.Topics[t];
        sa_FetchResponse_FetchableTopicResponse_t *tr = &st->resp.Responses[t];
        for (int32_t p = 0; p < tr->Partitions_count; p++, flat++) {
            const sa_FetchRequest_FetchPartition_t *fp = &ft->Partitions[p];
            fpart_t *out = &tr->Partitions[p];
            sa_FetchResponse_PartitionData_init(out);
            out->PartitionIndex = fp->Partition;
            out->PreferredReadReplica = -1;
            out->AbortedTransactions_count = committed ? 0 : -1;
            out->Records = SA_BYTES_NULL;
            st->pos[flat] = st->len[flat] = st->apos[flat] = st->alen[flat] = 0;
            sa_partition_t *part =
                st->denied[t] ? NULL : sa_store_partition(store, st->topics[t], fp->Partition);
            if (!part) { /* unauthorized first, as Kafka: no data, nothing disclosed */
                out->ErrorCode =
                    st->denied[t] ? sa_kit_code(st->denied[t]) : SA_ERR_UNKNOWN_TOPIC_OR_PARTITION;
                out->HighWatermark = out->LastStableOffset = out->LogStartOffset = -1;
                (*errors)++;
                continue;
            }
            int64_t hwm = sa_partition_hwm(part), start = sa_partition_log_start(part);
            int64_t lso = sa_partition_lso(part), end = committed ? lso : hwm;
            out->HighWatermark = hwm;
            out->LastStableOffset = lso;
            out->LogStartOffset = start;
            if (fp->FetchOffset < start || fp->FetchOffset > hwm) {
                out->ErrorCode = SA_ERR_OFFSET_OUT_OF_RANGE;
                (*errors)++;
                continue;
            }
            if (fp->FetchOffset >= end) continue;
            int whole_first;
            int64_t limit = sa_fetch_room_limit(&room, fp->PartitionMaxBytes, &whole_first);
            if ((limit == 0 && !whole_first) || data->len >= hard) continue; /* the response is full */
            size_t before = data->len;
            sa_err_t err = read_partition(part, fp->FetchOffset, limit, whole_first, end, hard, data);
            if (err != SA_OK) {
                data->len = before;
                out->ErrorCode = (int16_t)(sa_err_is_kafka(err) ? err : SA_ERR_KAFKA_STORAGE_ERROR);
                (*errors)++;
                continue;
            }
            st->pos[flat] = before;
            st->len[flat] = data->len - before;
            if (committed && data->len > before) { /* the aborted transactions in what was read */
                size_t had = st->aborted.len / sizeof(sa_aborted_txn_t);
                st->apos[flat] = had;
                st->alen[flat] = sa_partition_aborted_txns(
                    part, fp->FetchOffset, end_of(data->data + before, data->len - before), &st->aborted);
            }
            sa_fetch_room_used(&room, data->len - before);
            total += data->len - before;
            assert(whole_first || data->len - before <= (size_t)limit);
        }
    }
    return total;
}

/* Point each partition's Records into @p data (now final), its AbortedTransactions into an array
 * of their own, and encode the response. */
static sa_err_t encode(fetch_t *st, const sa_buf_t *data) {
    size_t flat = 0, nab = st->aborted.len / sizeof(sa_aborted_txn_t);
    sa_FetchResponse_AbortedTransaction_t *ab = NULL;
    if (nab) {
        ab = sa_calloc(nab, sizeof(*ab));
        const sa_aborted_txn_t *src = (const sa_aborted_txn_t *)st->aborted.data;
        for (size_t i = 0; i < nab; i++) {
            sa_FetchResponse_AbortedTransaction_init(&ab[i]);
            ab[i].ProducerId = src[i].producer_id;
            ab[i].FirstOffset = src[i].first_offset;
        }
    }
    for (int32_t t = 0; t < st->resp.Responses_count; t++) {
        sa_FetchResponse_FetchableTopicResponse_t *tr = &st->resp.Responses[t];
        for (int32_t p = 0; p < tr->Partitions_count; p++, flat++) {
            if (st->len[flat])
                tr->Partitions[p].Records = (sa_bytes_t){data->data + st->pos[flat], (int32_t)st->len[flat]};
            else
                tr->Partitions[p].Records = (sa_bytes_t){(const uint8_t *)"", 0};
            if (st->alen[flat]) {
                tr->Partitions[p].AbortedTransactions = ab + st->apos[flat];
                tr->Partitions[p].AbortedTransactions_count = (int32_t)st->alen[flat];
            }
        }
    }
    sa_err_t err = sa_kit_encode(st->req, &st->resp);
    free(ab);
    return err;
}

/* Read; answer if enough (or @p final). @returns 1 if answered, 0 if still short, <0 error. */
static int try_answer(fetch_t *st, int final, sa_err_t *errp) {
    sa_buf_t data = SA_BUF_INIT(0);
    int errors;
    size_t total = fill(st, &data, &errors);
    int answered = 0;
    *errp = SA_OK;
    if (final || errors || total >= (size_t)(st->freq.MinBytes > 0 ? st->freq.MinBytes : 0)) {
        *errp = encode(st, &data);
        answered = 1;
    }
    sa_buf_free(&data);
    return answered;
}

static void finish_parked(fetch_t *st, int final) {
    sa_err_t err;
    if (!try_answer(st, final, &err)) return;
    sa_buf_free(&st->aborted);
    sa_broker_unwait_data(st->req->broker, &st->wait);
    sa_kit_finish(st->req, err);
}

static void on_data(sa_broker_t *broker, sa_data_wait_t *wait) {
    (void)broker;
    finish_parked((fetch_t *)wait, 0);
}

static void on_deadline(sa_req_t *req, void *arg) {
    (void)req;
    finish_parked(arg, 1);
}

static void on_cancel(sa_req_t *req, void *arg) {
    fetch_t *st = arg;
    sa_buf_free(&st->aborted);
    sa_broker_unwait_data(req->broker, &st->wait);
}

sa_err_t sa_handle_Fetch(sa_req_t *req) {
    fetch_t *st = sa_arena_calloc(&req->arena, 1, sizeof(*st));
    if (!st) return SA_ERR_TOOBIG;
    st->req = req;
    sa_err_t err = sa_kit_decode(req, &st->freq);
    if (err != SA_OK) return err;
    if ((err = setup(st)) != SA_OK) return err;
    if (st->freq.SessionId != 0) {
        /* We never hand out sessions, so any id is unknown; the client starts over without one. */
        for (int32_t t = 0; t < st->resp.Responses_count; t++) st->resp.Responses[t].Partitions_count = 0;
        st->resp.ErrorCode = SA_ERR_FETCH_SESSION_ID_NOT_FOUND;
        return sa_kit_encode(req, &st->resp);
    }
    int final = st->freq.MaxWaitMs <= 0;
    if (try_answer(st, final, &err)) {
        sa_buf_free(&st->aborted);
        return err;
    }
    int64_t wait_ms = st->freq.MaxWaitMs < MAX_WAIT_CAP_MS ? st->freq.MaxWaitMs : MAX_WAIT_CAP_MS;
    sa_broker_wait_data(req->broker, &st->wait, on_data);
    sa_req_defer(req, wait_ms, on_deadline, on_cancel, st);
    return SA_ERR_AGAIN;
}
