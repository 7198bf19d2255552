/*
 * handle_txn_markers.c - WriteTxnMarkers (key 27, v1): write COMMIT/ABORT markers to partitions as a
 * partition leader does for a transaction coordinator. In Kafka the coordinator sends it to the
 * leaders; on one node samsa's coordinator appends its markers itself (handle_txn.c), so what sends
 * this request is an operator's tool: `kafka-transactions.sh abort` ends a hanging transaction (one
 * whose producer and coordinator no longer finish it) with an ABORT marker written here.
 *
 * DESIGN. Per marker (ProducerId, ProducerEpoch, TransactionResult, CoordinatorEpoch) and per
 * partition it names, as Kafka's ReplicaManager/ProducerStateManager answer:
 *   - the whole request needs CLUSTER_ACTION on the cluster (dispatch.c's column); without it every
 *     partition is CLUSTER_AUTHORIZATION_FAILED and nothing is written;
 *   - a partition that does not exist is UNKNOWN_TOPIC_OR_PARTITION;
 *   - a producer id or epoch below 0 is INVALID_REQUEST (Kafka does not check, and would enter
 *     producer -1 in the partition's state; samsa refuses rather than remember it);
 *   - an epoch older than the producer's epoch in the partition is INVALID_PRODUCER_EPOCH, a
 *     coordinator epoch older than that of the producer's last marker there
 *     TRANSACTION_COORDINATOR_FENCED (sa_pstate_check_marker, pstate.h);
 *   - otherwise the marker is appended with sa_partition_append_marker, the call the coordinator
 *     uses. A marker for a producer with no transaction open in the partition is written too, as
 *     Kafka does: it ends nothing (no .txnindex entry, the LSO does not move) and only records the
 *     producer's epoch and coordinator epoch in the partition's state.
 * Markers are appended in request order, so two markers of one request to one partition land in
 * that order. The answer waits for the group commit after the appends (sa_kit_answer_after_sync): a
 * partition is answered NONE once its HWM passed the marker, KAFKA_STORAGE_ERROR if a failed sync
 * cut it (storage then reopens the transaction, so a retry ends it again), as Produce answers.
 *
 * The coordinator is not told: a transaction it still believes ongoing is ended by it later (its
 * timeout, or the producer's next InitProducerId) and its own marker then skips the partitions
 * where nothing is open any more (handle_txn.c write_marker). As in Kafka, aborting a transaction
 * whose producer is alive is the operator's risk: its next records in the partition open a new
 * transaction there that the coordinator's marker will end.
 *
 * @locality the broker's loop thread.
 */
#include <inttypes.h>

#include "broker/handlers.h"
#include "broker/kit.h"
#include "core/log.h"
#include "core/time.h"
#include "storage/pstate.h"
#include "storage/storage.h"

typedef sa_WriteTxnMarkersRequest_WritableTxnMarker_t marker_in_t;
typedef sa_WriteTxnMarkersResponse_WritableTxnMarkerResult_t marker_out_t;
typedef sa_WriteTxnMarkersResponse_WritableTxnMarkerTopicResult_t topic_out_t;
typedef sa_WriteTxnMarkersResponse_WritableTxnMarkerPartitionResult_t part_out_t;

/* What a topic entry of the answer needs after the sync (in the request's arena). */
typedef struct topic_note_s {
    const char *name; /* NULL: not written to (an error for every partition) */
    int64_t *offset;  /* per partition: the marker written, -1 if none */
} topic_note_t;

typedef struct markers_s {
    sa_WriteTxnMarkersResponse_t resp;
    topic_note_t **notes; /* [marker][topic] */
} markers_t;

/* Check and append one marker of @p m to @p topic's partition @p index. *offset gets the marker's
 * offset when it was appended. @returns the partition's error. */
static sa_err_t write_one(sa_req_t *req, const marker_in_t *m, const char *topic, int32_t index,
                          int64_t now_ms, int64_t *offset) {
    sa_partition_t *part = sa_store_partition(req->broker->store, topic, index);
    if (!part) return SA_ERR_UNKNOWN_TOPIC_OR_PARTITION;
    if (m->ProducerId < 0 || m->ProducerEpoch < 0) return SA_ERR_INVALID_REQUEST;
    sa_err_t err = sa_pstate_check_marker(sa_partition_pstate(part), m->ProducerId, m->ProducerEpoch,
                                          m->CoordinatorEpoch);
    if (err) return err;
    int was_open = sa_partition_txn_open(part, m->ProducerId, NULL);
    sa_append_result_t res;
    char errstr[256] = "";
    err = sa_partition_append_marker(part, m->ProducerId, m->ProducerEpoch, m->TransactionResult,
                                     m->CoordinatorEpoch, now_ms, &res, errstr, sizeof(errstr));
    if (err) {
        sa_log_warn("txn", "%s: WriteTxnMarkers: %s-%d: %s marker of producer %" PRId64 ": %s",
                    sa_req_peer(req), topic, index, m->TransactionResult ? "COMMIT" : "ABORT", m->ProducerId,
                    errstr[0] ? errstr : sa_err2str(err));
        return err;
    }
    sa_broker_mark_dirty(req->broker);
    *offset = res.base_offset;
    /* An operator's act (kafka-transactions.sh abort): worth a line each. */
    sa_log_info("txn",
                "%s: WriteTxnMarkers: %s marker of producer %" PRId64 " epoch %d (coordinator epoch %" PRId32
                ") at %s-%d offset %" PRId64 "%s",
                sa_req_peer(req), m->TransactionResult ? "COMMIT" : "ABORT", m->ProducerId, m->ProducerEpoch,
                m->CoordinatorEpoch, topic, index, res.base_offset,
                was_open ? "" : " (no transaction of it was open there)");
    return SA_OK;
}

/* After the group commit: a marker is acknowledged iff its partition's HWM passed it. */
static sa_err_t answer_synced(sa_req_t *req, void *arg, int durable) {
    (void)durable; /* each partition is asked instead */
    markers_t *st = arg;
    for (int32_t m = 0; m < st->resp.Markers_count; m++) {
        marker_out_t *om = &st->resp.Markers[m];
        for (int32_t t = 0; t < om->Topics_count; t++) {
            const topic_note_t *note = &st->notes[m][t];
            if (!note->name) continue;
            for (int32_t p = 0; p < om->Topics[t].Partitions_count; p++) {
                part_out_t *pr = &om->Topics[t].Partitions[p];
                if (note->offset[p] < 0) continue;
                sa_partition_t *part = sa_store_partition(req->broker->store, note->name, pr->PartitionIndex);
                if (!part)
                    pr->ErrorCode = SA_ERR_UNKNOWN_TOPIC_OR_PARTITION; /* deleted meanwhile */
                else if (sa_partition_hwm(part) <= note->offset[p])
                    pr->ErrorCode = SA_ERR_KAFKA_STORAGE_ERROR;
            }
        }
    }
    return sa_kit_encode(req, &st->resp);
}

sa_err_t sa_handle_WriteTxnMarkers(sa_req_t *req) {
    sa_WriteTxnMarkersRequest_t in;
    sa_err_t err = sa_kit_decode(req, &in);
    if (err != SA_OK) return err;
    markers_t *st = sa_arena_calloc(&req->arena, 1, sizeof(*st));
    if (!st) return SA_ERR_TOOBIG;
    sa_WriteTxnMarkersResponse_init(&st->resp);
    if (!SA_KIT_ARRAY(req, st->resp.Markers, in.Markers_count)) return SA_ERR_TOOBIG;
    st->notes =
        sa_arena_calloc(&req->arena, in.Markers_count > 0 ? (size_t)in.Markers_count : 1, sizeof(*st->notes));
    if (!st->notes) return SA_ERR_TOOBIG;
    sa_err_t auth = sa_kit_authorize_cluster(req); /* gates the whole request, as in Kafka */
    int64_t now_ms = sa_wall_ms();
    int written = 0;
    for (int32_t m = 0; m < st->resp.Markers_count; m++) {
        const marker_in_t *im = &in.Markers[m];
        marker_out_t *om = &st->resp.Markers[m];
        sa_WriteTxnMarkersResponse_WritableTxnMarkerResult_init(om);
        om->ProducerId = im->ProducerId;
        if (!SA_KIT_ARRAY(req, om->Topics, im->Topics_count)) return SA_ERR_TOOBIG;
        st->notes[m] = sa_arena_calloc(&req->arena, im->Topics_count > 0 ? (size_t)im->Topics_count : 1,
                                       sizeof(**st->notes));
        if (!st->notes[m]) return SA_ERR_TOOBIG;
        for (int32_t t = 0; t < om->Topics_count; t++) {
            const sa_WriteTxnMarkersRequest_WritableTxnMarkerTopic_t *it = &im->Topics[t];
            topic_out_t *ot = &om->Topics[t];
            sa_WriteTxnMarkersResponse_WritableTxnMarkerTopicResult_init(ot);
            ot->Name = it->Name;
            if (!SA_KIT_ARRAY(req, ot->Partitions, it->PartitionIndexes_count)) return SA_ERR_TOOBIG;
            const char *topic = NULL;
            sa_err_t terr = auth;
            if (terr == SA_OK) terr = sa_kit_topic(req, it->Name, &topic);
            if (terr == SA_ERR_TOOBIG) return terr;
            if (terr == SA_ERR_INVALID_TOPIC_EXCEPTION)
                terr = SA_ERR_UNKNOWN_TOPIC_OR_PARTITION; /* no such topic */
            topic_note_t *note = &st->notes[m][t];
            if (terr == SA_OK) {
                note->name = topic;
                note->offset =
                    sa_arena_calloc(&req->arena, ot->Partitions_count > 0 ? (size_t)ot->Partitions_count : 1,
                                    sizeof(*note->offset));
                if (!note->offset) return SA_ERR_TOOBIG;
            }
            for (int32_t p = 0; p < ot->Partitions_count; p++) {
                part_out_t *pr = &ot->Partitions[p];
                sa_WriteTxnMarkersResponse_WritableTxnMarkerPartitionResult_init(pr);
                pr->PartitionIndex = it->PartitionIndexes[p];
                sa_err_t perr = terr;
                if (perr == SA_OK) {
                    note->offset[p] = -1;
                    perr = write_one(req, im, topic, pr->PartitionIndex, now_ms, &note->offset[p]);
                    written |= note->offset[p] >= 0;
                }
                pr->ErrorCode = sa_kit_code(perr);
            }
        }
    }
    if (!written) return sa_kit_encode(req, &st->resp);
    return sa_kit_answer_after_sync(req, answer_synced, st);
}
