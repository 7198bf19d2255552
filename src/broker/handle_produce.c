/*
 * handle_produce.c - Produce (key 0): append now, answer after the group commit.
 *
 * Advertised and served 0-11. Versions 0-2 carry the old message formats (magic v0/v1 message
 * sets, compressed wrapper messages included): each partition's set is converted to one v2
 * batch before the append (proto/message_set.h), as Kafka 3.x does, so clients that cannot
 * negotiate (kafka-python with an old api_version, librdkafka with api.version.request=false)
 * keep working. librdkafka before 2.11 also needs v0 advertised to turn compression on.
 *
 * Flow: validate acks (-1, 0, 1; else INVALID_REQUIRED_ACKS everywhere); append every
 * partition's batches (storage validates framing, CRC, size; nothing is fsync'd here); then
 *   acks=0:   no response at all; if a partition failed (not authorized, unknown, ...), the
 *             connection is closed instead, as Kafka does: there is no answer to carry the
 *             error, and a client that loses its connection refreshes its metadata. The other
 *             partitions' appends stand, as in Kafka;
 *   acks=1/-1: park the request on the broker's sync list; after this turn's one fdatasync the
 *              callback checks each partition's HWM (a partition whose sync failed has its
 *              unsynced tail cut, so its HWM stays below our last offset) and answers.
 * A request whose appends all failed is answered at once.
 *
 * Idempotent producers (ProducerId >= 0 in the batches): producer_state.h checks the sequence
 * numbers first. A retried batch that was already appended is not written again; it is answered
 * with its first offsets once they are durable, like any other append of this turn.
 *
 * Transactional producers (KIP-98): a request with transactional batches must name its
 * transactional id (else TRANSACTIONAL_ID_AUTHORIZATION_FAILED for all, as Kafka answers). A
 * transactional batch is taken only for a partition its transaction has (KIP-890 part 1, asked of
 * the coordinator unless the producer already has a transaction open in the partition): not added
 * is INVALID_TXN_STATE (TRANSACTION_ABORTABLE from v11), an old epoch INVALID_PRODUCER_EPOCH, a
 * transaction being ended (or not durable yet) NOT_ENOUGH_REPLICAS, which old clients retry, as
 * Kafka picks. A plain batch from a producer with a transaction open here is INVALID_TXN_STATE.
 *
 * The per-request state lives in the request's arena, so cancelling (connection closed) is
 * only an unlink from the sync list.
 */
#include <stdio.h>
#include <string.h>

#include "broker/handle_txn.h"
#include "broker/handlers.h"
#include "broker/kit.h"
#include "broker/producer_state.h"
#include "core/log.h"
#include "core/time.h"
#include "proto/message_set.h"
#include "proto/proto.h"
#include "storage/storage.h"

/* Produce v0-2: the most bytes a partition's compressed wrapper messages may inflate to. */
#define MSGSET_INFLATE_MAX ((size_t)64 << 20)

typedef sa_ProduceResponse_PartitionProduceResponse_t presp_t;

typedef struct produce_s {
    sa_ProduceResponse_t resp;
    const char **topics; /* NUL-terminated topic names, per response topic ("": no topic's) */
    int64_t **last;      /* [topic][partition]: last offset appended, -1 if none */
} produce_t;

/* Build the response skeleton: one entry per requested partition, all with @p error. */
static sa_err_t build_skeleton(sa_req_t *req, const sa_ProduceRequest_t *preq, produce_t *st, int16_t error) {
    int32_t nt;
    sa_ProduceResponse_init(&st->resp);
    st->topics = sa_kit_array(req, preq->TopicData_count, sizeof(char *), &nt);
    st->last = sa_kit_array(req, nt, sizeof(int64_t *), NULL);
    if (!st->topics || !st->last || !SA_KIT_ARRAY(req, st->resp.Responses, nt)) return SA_ERR_TOOBIG;
    for (int32_t t = 0; t < nt; t++) {
        const sa_ProduceRequest_TopicProduceData_t *td = &preq->TopicData[t];
        sa_ProduceResponse_TopicProduceResponse_t *tr = &st->resp.Responses[t];
        int32_t np;
        sa_ProduceResponse_TopicProduceResponse_init(tr);
        tr->Name = td->Name;
        if (sa_kit_topic(req, td->Name, &st->topics[t]) == SA_ERR_TOOBIG) return SA_ERR_TOOBIG;
        st->last[t] = sa_kit_array(req, td->PartitionData_count, sizeof(int64_t), &np);
        if (!st->last[t] || !SA_KIT_ARRAY(req, tr->PartitionResponses, np)) return SA_ERR_TOOBIG;
        for (int32_t p = 0; p < np; p++) {
            presp_t *pr = &tr->PartitionResponses[p];
            sa_ProduceResponse_PartitionProduceResponse_init(pr);
            pr->Index = td->PartitionData[p].Index;
            pr->ErrorCode = error;
            pr->BaseOffset = -1;
            pr->RecordErrors_count = 0;
            st->last[t][p] = -1;
        }
    }
    return SA_OK;
}

/* The RecordErrors of a refused append being collected (Produce v8+). */
typedef struct record_errors_s {
    sa_req_t *req;
    presp_t *pr;
    int32_t cap;
    sa_buf_t first3; /* Kafka's ErrorMessage lists the first three */
} record_errors_t;

static void on_record_error(void *opaque, int32_t batch_index, const char *topic, int32_t partition) {
    record_errors_t *re = opaque;
    presp_t *pr = re->pr;
    char msg[400];
    snprintf(msg, sizeof(msg), "Compacted topic cannot accept message without key in topic partition %s-%d.",
             topic, (int)partition);
    if (pr->RecordErrors_count < 3)
        sa_buf_printf(&re->first3, "%sRecordError(batchIndex=%d, message='%s')",
                      pr->RecordErrors_count ? ", " : "", (int)batch_index, msg);
    if (pr->RecordErrors_count == re->cap) {
        int32_t cap = re->cap ? re->cap * 2 : 8;
        sa_ProduceResponse_BatchIndexAndErrorMessage_t *n =
            sa_arena_calloc(&re->req->arena, (size_t)cap, sizeof(*n));
        if (!n) return;
        if (pr->RecordErrors_count) memcpy(n, pr->RecordErrors, (size_t)pr->RecordErrors_count * sizeof(*n));
        pr->RecordErrors = n;
        re->cap = cap;
    }
    sa_ProduceResponse_BatchIndexAndErrorMessage_t *e = &pr->RecordErrors[pr->RecordErrors_count++];
    e->BatchIndex = batch_index;
    e->BatchIndexErrorMessage = sa_str(sa_arena_strndup(&re->req->arena, msg, strlen(msg)));
}

/* A compacted topic refused records without a key: list each in RecordErrors and say what
 * Kafka says (LogValidator), so clients report the same thing. */
static void keyless_errors(sa_req_t *req, sa_partition_t *part, const uint8_t *batches, size_t len,
                           presp_t *pr) {
    record_errors_t re = {req, pr, 0, SA_BUF_INIT(0)};
    int n = sa_partition_keyless_records(part, batches, len, on_record_error, &re);
    sa_buf_t b = SA_BUF_INIT(0);
    sa_buf_printf(
        &b,
        "One or more records have been rejected due to %d record errors in total, and only showing the "
        "first three errors at most: [%.*s]",
        n, (int)re.first3.len, re.first3.data ? (const char *)re.first3.data : "");
    char *msg = sa_arena_strndup(&req->arena, (const char *)b.data, b.len);
    if (msg) pr->ErrorMessage = sa_str(msg);
    sa_buf_free(&b);
    sa_buf_free(&re.first3);
}

/* KIP-890 part 1: may this transactional batch of @p hdr's producer go to @p part? @returns the
 * partition's error, or NONE. */
static int16_t verify_transactional(sa_req_t *req, const char *txid, sa_partition_t *part, const char *topic,
                                    int32_t index, const sa_rb_header_t *hdr) {
    if (!req->broker->conf->txn_verification || sa_partition_txn_open(part, hdr->ProducerId, NULL))
        return SA_OK;
    sa_err_t err = sa_tcoord_verify(sa_txn_coord(req->broker), txid, hdr->ProducerId, hdr->ProducerEpoch,
                                    topic, index, NULL);
    switch (err) {
    case SA_OK: return SA_OK;
    case SA_ERR_TRANSACTION_ABORTABLE:
        return req->ApiVersion >= 11 ? SA_ERR_TRANSACTION_ABORTABLE : SA_ERR_INVALID_TXN_STATE;
    case SA_ERR_PRODUCER_FENCED: return SA_ERR_INVALID_PRODUCER_EPOCH;
    case SA_ERR_CONCURRENT_TRANSACTIONS: return SA_ERR_NOT_ENOUGH_REPLICAS; /* retried by every client */
    default: return (int16_t)err;
    }
}

/* Append @p batches (v2, @p len bytes, rewritten in place) to @p part; fills @p pr and @p last.
 * @returns 1 if something was appended. */
static int append_batches(sa_req_t *req, const char *txid, sa_partition_t *part, const char *topic,
                          int32_t index, uint8_t *batches, size_t len, presp_t *pr, int64_t *last) {
    sa_append_result_t res;
    char errstr[256] = "";
    sa_rb_header_t first;
    int idempotent = sa_rb_parse_header(batches, len, &first, NULL, 0) == SA_OK && first.ProducerId >= 0;
    int transactional = idempotent && (first.Attributes & SA_RB_ATTR_TRANSACTIONAL);
    if (transactional) {
        int16_t verr = verify_transactional(req, txid, part, topic, index, &first);
        if (verr) {
            pr->ErrorCode = verr;
            sa_log_debug(SA_DBG_PROTO, "proto",
                         "%s: %s-%d: transactional write of producer %lld epoch %d refused: %s",
                         sa_req_peer(req), topic, index, (long long)first.ProducerId, first.ProducerEpoch,
                         sa_err2name(verr));
            return 0;
        }
    }
    if (idempotent) {
        sa_producer_dup_t dup;
        sa_err_t check = sa_producer_state_check(part, batches, len, &dup);
        if (check == SA_ERR_DUPLICATE_SEQUENCE_NUMBER) {
            pr->ErrorCode = SA_OK;
            pr->BaseOffset = dup.base_offset;
            pr->LogStartOffset = sa_partition_log_start(part);
            *last = dup.last_offset;
            return 1;
        }
        if (check != SA_OK) {
            pr->ErrorCode = (int16_t)check;
            return 0;
        }
        if (!transactional && sa_partition_txn_open(part, first.ProducerId, NULL)) {
            pr->ErrorCode = SA_ERR_INVALID_TXN_STATE; /* its transaction here is not ended */
            return 0;
        }
    }
    sa_err_t err = sa_partition_append(part, batches, len, sa_wall_ms(), &res, errstr, sizeof(errstr));
    if (err != SA_OK) {
        pr->ErrorCode = (int16_t)(sa_err_is_kafka(err) ? err : SA_ERR_KAFKA_STORAGE_ERROR);
        if (err == SA_ERR_INVALID_RECORD && req->ApiVersion >= 8 &&
            sa_partition_keyless_records(part, batches, len, NULL, NULL))
            keyless_errors(req, part, batches, len, pr);
        else if (errstr[0] && req->ApiVersion >= 8)
            pr->ErrorMessage = sa_str(sa_arena_strndup(&req->arena, errstr, strlen(errstr)));
        if (err == SA_ERR_KAFKA_STORAGE_ERROR)
            sa_log_warn("storage", "%s-%d: append failed: %s", topic, index, errstr);
        else
            sa_log_debug(SA_DBG_PROTO, "proto", "%s: %s-%d: produce refused: %s", sa_req_peer(req), topic,
                         index, errstr[0] ? errstr : sa_err2str(err));
        return 0;
    }
    pr->ErrorCode = SA_OK;
    pr->BaseOffset = res.base_offset;
    pr->LogAppendTimeMs = res.log_append_time;
    pr->LogStartOffset = res.log_start_offset;
    *last = res.last_offset;
    return 1;
}

/* Append one partition's records; fills @p pr and @p last. @returns 1 if something was appended. */
static int append_one(sa_req_t *req, const char *txid, const char *topic,
                      const sa_ProduceRequest_PartitionProduceData_t *pd, presp_t *pr, int64_t *last) {
    sa_partition_t *part = sa_store_partition(req->broker->store, topic, pd->Index);
    if (!part) {
        pr->ErrorCode = SA_ERR_UNKNOWN_TOPIC_OR_PARTITION;
        return 0;
    }
    if (pd->Records.len <= 0) {
        pr->ErrorCode = SA_ERR_CORRUPT_MESSAGE;
        return 0;
    }
    /* Records point into the request frame, which this request owns: storage rewrites the
     * BaseOffset of each batch in place before writing it out. */
    uint8_t *batches = (uint8_t *)(uintptr_t)pd->Records.ptr;
    size_t len = (size_t)pd->Records.len;
    if (req->ApiVersion >= 3)
        return append_batches(req, txid, part, topic, pd->Index, batches, len, pr, last);
    /* v0-2: an old message set, appended as the one v2 batch Kafka would make of it */
    sa_buf_t v2 = SA_BUF_INIT(0);
    char errstr[256];
    int appended = 0;
    sa_err_t err = sa_msgset_to_batch(batches, len, MSGSET_INFLATE_MAX, &v2, errstr, sizeof(errstr));
    if (err == SA_OK) {
        appended = append_batches(req, txid, part, topic, pd->Index, v2.data, v2.len, pr, last);
    } else {
        pr->ErrorCode = (int16_t)(err == SA_ERR_TOOBIG ? SA_ERR_MESSAGE_TOO_LARGE : err);
        sa_log_debug(SA_DBG_PROTO, "proto", "%s: %s-%d: produce v%d refused: %s", sa_req_peer(req), topic,
                     pd->Index, req->ApiVersion, errstr);
    }
    sa_buf_free(&v2);
    return appended;
}

/* @returns 1 if a partition's first batch is transactional (v3+; old message sets never are). */
static int has_transactional(const sa_ProduceRequest_t *preq) {
    for (int32_t t = 0; t < preq->TopicData_count; t++)
        for (int32_t p = 0; p < preq->TopicData[t].PartitionData_count; p++) {
            sa_bytes_t rec = preq->TopicData[t].PartitionData[p].Records;
            sa_rb_header_t hdr;
            if (rec.len > 0 && sa_rb_parse_header(rec.ptr, (size_t)rec.len, &hdr, NULL, 0) == SA_OK &&
                (hdr.Attributes & SA_RB_ATTR_TRANSACTIONAL))
                return 1;
        }
    return 0;
}

/* After the group commit: a partition is acknowledged iff its HWM passed our last offset (a
 * partition whose sync failed had its unsynced tail cut), whatever the commit's own result. */
static sa_err_t answer_synced(sa_req_t *req, void *arg, int durable) {
    (void)durable;
    produce_t *st = arg;
    sa_store_t *store = req->broker->store;
    for (int32_t t = 0; t < st->resp.Responses_count; t++) {
        sa_ProduceResponse_TopicProduceResponse_t *tr = &st->resp.Responses[t];
        for (int32_t p = 0; p < tr->PartitionResponses_count; p++) {
            presp_t *pr = &tr->PartitionResponses[p];
            if (st->last[t][p] < 0) continue;
            sa_partition_t *part = sa_store_partition(store, st->topics[t], pr->Index);
            if (!part) {
                pr->ErrorCode = SA_ERR_UNKNOWN_TOPIC_OR_PARTITION; /* deleted meanwhile */
                pr->BaseOffset = -1;
            } else if (sa_partition_hwm(part) <= st->last[t][p]) {
                pr->ErrorCode = SA_ERR_KAFKA_STORAGE_ERROR;
                pr->BaseOffset = -1;
            } else {
                pr->LogStartOffset = sa_partition_log_start(part);
            }
        }
    }
    return sa_kit_encode(req, &st->resp);
}

/* @returns the first partition's error code of @p resp, or SA_OK. */
static int16_t first_error(const sa_ProduceResponse_t *resp) {
    for (int32_t t = 0; t < resp->Responses_count; t++)
        for (int32_t p = 0; p < resp->Responses[t].PartitionResponses_count; p++)
            if (resp->Responses[t].PartitionResponses[p].ErrorCode != SA_OK)
                return resp->Responses[t].PartitionResponses[p].ErrorCode;
    return SA_OK;
}

sa_err_t sa_handle_Produce(sa_req_t *req) {
    sa_ProduceRequest_t preq;
    sa_err_t err = sa_kit_decode(req, &preq);
    if (err != SA_OK) return err;
    produce_t *st = sa_arena_calloc(&req->arena, 1, sizeof(*st));
    if (!st) return SA_ERR_TOOBIG;

    int16_t refuse = SA_OK;
    if (preq.Acks != -1 && preq.Acks != 0 && preq.Acks != 1)
        refuse = SA_ERR_INVALID_REQUIRED_ACKS;
    else if (sa_str_is_null(preq.TransactionalId) && has_transactional(&preq))
        refuse = SA_ERR_TRANSACTIONAL_ID_AUTHORIZATION_FAILED;
    const char *txid = sa_kit_nstr(req, preq.TransactionalId);
    if (refuse == SA_OK && txid)
        refuse = sa_kit_code(sa_kit_authorize(req, SA_ACL_WRITE, SA_RESOURCE_TRANSACTIONAL_ID, txid));
    if ((err = build_skeleton(req, &preq, st, refuse)) != SA_OK) return err;
    if (refuse != SA_OK) return preq.Acks == 0 ? refuse : sa_kit_encode(req, &st->resp);

    int appended = 0;
    for (int32_t t = 0; t < st->resp.Responses_count; t++) {
        const sa_ProduceRequest_TopicProduceData_t *td = &preq.TopicData[t];
        sa_err_t denied = sa_kit_authorize(req, SA_ACL_WRITE, SA_RESOURCE_TOPIC, st->topics[t]);
        for (int32_t p = 0; p < st->resp.Responses[t].PartitionResponses_count; p++)
            if (denied) /* before the topic's existence, as Kafka: no write, nothing disclosed */
                st->resp.Responses[t].PartitionResponses[p].ErrorCode = sa_kit_code(denied);
            else
                appended += append_one(req, txid, st->topics[t], &td->PartitionData[p],
                                       &st->resp.Responses[t].PartitionResponses[p], &st->last[t][p]);
    }
    if (appended) sa_broker_mark_dirty(req->broker);
    if (preq.Acks == 0) {
        int16_t failed = first_error(&st->resp);
        if (failed != SA_OK) return failed; /* closes the connection (see the top) */
        sa_req_set_noreply(req);
        return SA_OK;
    }
    if (!appended) return sa_kit_encode(req, &st->resp);
    return sa_kit_answer_after_sync(req, answer_synced, st);
}
