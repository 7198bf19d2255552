/*
 * handle_txn.c - the transaction coordinator's glue (see handle_txn.h) and the requests a
 * transactional producer sends it: AddPartitionsToTxn (key 24, v0-5), AddOffsetsToTxn (key 25,
 * v0-4) and EndTxn (key 26, v0-5).
 *
 * AddPartitionsToTxn v0-3 comes from clients (one transaction); v4+ (KIP-890) batches several
 * transactions and, with VerifyOnly, only asks whether partitions are in them: Kafka's brokers send
 * that to the coordinator before they take a transactional write. On one node the Produce handler
 * asks the coordinator directly (sa_tcoord_verify), but v4+ is served as Kafka serves it. A
 * partition that does not exist fails with UNKNOWN_TOPIC_OR_PARTITION and the others of its
 * transaction with OPERATION_NOT_ATTEMPTED, as in Kafka.
 *
 * Adds are answered once their record is durable. EndTxn parks until the transaction's markers
 * are durable (coordinator.h, ENDING A TRANSACTION); v5 (KIP-890 part 2) bumps the epoch and
 * answers the new one.
 */
#include "broker/handle_txn.h"

#include <inttypes.h>
#include <string.h>

#include "broker/handle_group.h"
#include "broker/handlers.h"
#include "broker/kit.h"
#include "core/log.h"
#include "core/time.h"
#include "proto/proto.h"
#include "storage/storage.h"

int16_t sa_txn_wire_error(sa_err_t err, int16_t version, int16_t fenced_since) {
    if (err == SA_ERR_KAFKA_STORAGE_ERROR) return SA_GROUP_STORAGE_ERROR;
    if (err == SA_ERR_PRODUCER_FENCED && version < fenced_since) return SA_ERR_INVALID_PRODUCER_EPOCH;
    return (int16_t)(sa_err_is_kafka(err) ? err : SA_ERR_UNKNOWN_SERVER_ERROR);
}

/* ---- the partitions, for the coordinator ---------------------------------------------------- */

static sa_err_t write_marker(void *arg, const char *topic, int32_t partition, int64_t pid, int16_t epoch,
                             int commit, int64_t now_ms, int64_t *offset) {
    sa_broker_t *broker = arg;
    *offset = -1;
    sa_partition_t *part = sa_store_partition(broker->store, topic, partition);
    if (!part || !sa_partition_txn_open(part, pid, NULL)) return SA_OK; /* nothing of it there */
    sa_append_result_t res;
    char errstr[256] = "";
    sa_err_t err =
        sa_partition_append_marker(part, pid, epoch, commit, 0, now_ms, &res, errstr, sizeof(errstr));
    if (err) {
        sa_log_warn("txn", "%s-%d: %s marker of producer %" PRId64 ": %s", topic, partition,
                    commit ? "COMMIT" : "ABORT", pid, errstr[0] ? errstr : sa_err2str(err));
        return err;
    }
    sa_broker_mark_dirty(broker);
    *offset = res.base_offset;
    return SA_OK;
}

static int marker_state(void *arg, const char *topic, int32_t partition, int64_t pid, int64_t offset) {
    sa_broker_t *broker = arg;
    sa_partition_t *part = sa_store_partition(broker->store, topic, partition);
    if (!part || offset < sa_partition_hwm(part)) return SA_TXN_MARKER_DURABLE;
    /* Until it completes no new transaction of this producer can start here, so an open one is
     * this one again: a failed sync cut its marker (storage/txn.c reopens it). */
    return sa_partition_txn_open(part, pid, NULL) ? SA_TXN_MARKER_LOST : SA_TXN_MARKER_PENDING;
}

static const sa_tcoord_ops_t ops = {write_marker, marker_state};

/* ---- life cycle, timer, group-commit wait ----------------------------------------------------- */

static void on_timer(sa_loop_t *loop, sa_timer_t *timer, void *arg) {
    (void)loop;
    (void)timer;
    sa_broker_t *broker = arg;
    sa_tcoord_tick(sa_txn_coord(broker), sa_wall_ms());
    sa_txn_rearm(broker);
}

static void on_synced(sa_broker_t *broker, sa_sync_wait_t *wait, sa_err_t err) {
    (void)wait;
    (void)err; /* whether each record and marker survived, the coordinator asks them */
    sa_tcoord_synced(sa_txn_coord(broker), sa_wall_ms());
    sa_txn_rearm(broker);
}

void sa_txn_rearm(sa_broker_t *broker) {
    sa_tcoord_t *tc = sa_txn_coord(broker);
    int64_t next = sa_tcoord_next_deadline(tc);
    if (next == INT64_MAX) {
        sa_timer_stop(broker->loop, &broker->_txn_timer);
    } else {
        int64_t delay = next - sa_wall_ms();
        sa_timer_start(broker->loop, &broker->_txn_timer, delay > 0 ? delay : 0, on_timer, broker);
    }
    /* A wait registered earlier may fire after a commit that does not cover what was appended
     * since: the coordinator then finds its markers pending and asks again. */
    if (sa_tcoord_wants_sync(tc) && !broker->_txn_sync._linked)
        sa_broker_wait_sync(broker, &broker->_txn_sync, on_synced);
}

void sa_txn_open(sa_broker_t *broker) {
    const sa_broker_conf_t *conf = broker->conf;
    sa_tcoord_conf_t tconf;
    sa_tcoord_conf_defaults(&tconf);
    tconf.max_timeout_ms = conf->txn_max_timeout_ms;
    tconf.id_expiration_ms = conf->txn_id_expiration_ms;
    sa_tcoord_configure(sa_txn_coord(broker), &tconf, &ops, broker);
    sa_tcoord_start(sa_txn_coord(broker), sa_wall_ms());
    sa_tcoord_stats_t st;
    sa_tcoord_stats(sa_txn_coord(broker), &st);
    if (st.ids)
        sa_log_info("txn",
                    "transaction coordinator: %" PRIu64 " transactional ids, %" PRIu64
                    " transactions ongoing, %" PRIu64 " being finished",
                    st.ids, st.ongoing, st.completing);
    sa_txn_rearm(broker);
}

void sa_txn_close(sa_broker_t *broker) {
    if (broker->loop) sa_timer_stop(broker->loop, &broker->_txn_timer);
    sa_broker_unwait_sync(broker, &broker->_txn_sync);
}

void sa_txn_rebuilt(sa_broker_t *broker) {
    sa_tcoord_start(sa_txn_coord(broker), sa_wall_ms());
    sa_txn_rearm(broker);
}

/* ---- AddPartitionsToTxn ----------------------------------------------------------------------- */

typedef sa_AddPartitionsToTxnRequest_AddPartitionsToTxnTopic_t atopic_t;
typedef sa_AddPartitionsToTxnResponse_AddPartitionsToTxnTopicResult_t aresult_t;
typedef sa_AddPartitionsToTxnResponse_AddPartitionsToTxnPartitionResult_t apart_t;

/* An AddPartitionsToTxn's answer, built while the coordinator runs; lives in the request's arena. */
typedef struct add_s {
    sa_AddPartitionsToTxnResponse_t out;
    uint8_t *appended; /* per transaction: its add was appended (answer NOT_COORDINATOR if lost) */
} add_t;

/* Results of one transaction, every partition with @p code (per partition refined later). */
static sa_err_t build_results(sa_req_t *req, const atopic_t *topics, int32_t nt, aresult_t **out,
                              int16_t code) {
    int32_t n = nt > 0 ? nt : 0;
    aresult_t *res = sa_arena_calloc(&req->arena, (size_t)(n ? n : 1), sizeof(*res));
    if (!res) return SA_ERR_TOOBIG;
    for (int32_t t = 0; t < n; t++) {
        int32_t np = topics[t].Partitions_count > 0 ? topics[t].Partitions_count : 0;
        sa_AddPartitionsToTxnResponse_AddPartitionsToTxnTopicResult_init(&res[t]);
        res[t].Name = topics[t].Name;
        res[t].ResultsByPartition = sa_arena_calloc(&req->arena, (size_t)(np ? np : 1), sizeof(apart_t));
        if (!res[t].ResultsByPartition) return SA_ERR_TOOBIG;
        res[t].ResultsByPartition_count = np;
        for (int32_t p = 0; p < np; p++) {
            sa_AddPartitionsToTxnResponse_AddPartitionsToTxnPartitionResult_init(
                &res[t].ResultsByPartition[p]);
            res[t].ResultsByPartition[p].PartitionIndex = topics[t].Partitions[p];
            res[t].ResultsByPartition[p].PartitionErrorCode = code;
        }
    }
    *out = res;
    return SA_OK;
}

static void set_all(aresult_t *res, int32_t nt, int16_t code) {
    for (int32_t t = 0; t < nt; t++)
        for (int32_t p = 0; p < res[t].ResultsByPartition_count; p++)
            res[t].ResultsByPartition[p].PartitionErrorCode = code;
}

/* One transaction's adds (or, with @p verify_only, its check). @returns 1 if a record was appended. */
static int add_one(sa_req_t *req, sa_str_t txid_s, int64_t pid, int16_t epoch, int verify_only,
                   const atopic_t *topics, int32_t nt, aresult_t *res) {
    sa_broker_t *broker = req->broker;
    sa_tcoord_t *tc = sa_txn_coord(broker);
    const char *txid = sa_kit_str(req, txid_s);
    sa_err_t aerr = sa_kit_authorize(req, SA_ACL_WRITE, SA_RESOURCE_TRANSACTIONAL_ID, txid);
    if (aerr) {
        set_all(res, nt, sa_kit_code(aerr));
        return 0;
    }
    size_t total = 0;
    for (int32_t t = 0; t < nt; t++) total += (size_t)res[t].ResultsByPartition_count;
    sa_txn_tp_t *tps = sa_arena_calloc(&req->arena, total ? total : 1, sizeof(*tps));
    if (!tps) {
        set_all(res, nt, SA_ERR_UNKNOWN_SERVER_ERROR);
        return 0;
    }
    /* Every partition must exist and be writable, or none is added (Kafka). */
    int missing = 0;
    size_t n = 0;
    for (int32_t t = 0; t < nt; t++) {
        const char *topic;
        sa_err_t terr = sa_kit_topic(req, topics[t].Name, &topic);
        if (terr == SA_OK) terr = sa_kit_authorize(req, SA_ACL_WRITE, SA_RESOURCE_TOPIC, topic);
        for (int32_t p = 0; p < res[t].ResultsByPartition_count; p++) {
            apart_t *pr = &res[t].ResultsByPartition[p];
            if (terr == SA_ERR_TOPIC_AUTHORIZATION_FAILED) {
                pr->PartitionErrorCode = SA_ERR_TOPIC_AUTHORIZATION_FAILED;
                missing = 1;
            } else if (terr != SA_OK || !sa_store_partition(broker->store, topic, pr->PartitionIndex)) {
                pr->PartitionErrorCode = SA_ERR_UNKNOWN_TOPIC_OR_PARTITION;
                missing = 1;
            } else {
                tps[n++] = (sa_txn_tp_t){topic, pr->PartitionIndex};
            }
        }
    }
    if (missing) {
        for (int32_t t = 0; t < nt; t++)
            for (int32_t p = 0; p < res[t].ResultsByPartition_count; p++)
                if (!res[t].ResultsByPartition[p].PartitionErrorCode)
                    res[t].ResultsByPartition[p].PartitionErrorCode = SA_ERR_OPERATION_NOT_ATTEMPTED;
        return 0;
    }
    if (verify_only) {
        /* Kafka's handleVerifyPartitionsInTransaction: an error of the transaction for all, else
         * per partition NONE or TRANSACTION_ABORTABLE. */
        size_t k = 0;
        for (int32_t t = 0; t < nt; t++)
            for (int32_t p = 0; p < res[t].ResultsByPartition_count; p++, k++) {
                sa_err_t err = sa_tcoord_verify(tc, txid, pid, epoch, tps[k].topic, tps[k].partition, NULL);
                res[t].ResultsByPartition[p].PartitionErrorCode = (int16_t)err;
            }
        return 0;
    }
    uint64_t before = sa_tcoord_last_seq(tc);
    sa_err_t err = sa_tcoord_add_partitions(tc, txid, pid, epoch, tps, n, sa_wall_ms());
    set_all(res, nt, sa_txn_wire_error(err, req->ApiVersion, 2));
    return !err && sa_tcoord_last_seq(tc) != before;
}

static sa_err_t add_answer(sa_req_t *req, void *arg, int durable) {
    add_t *st = arg;
    if (!durable) {
        if (req->ApiVersion < 4) {
            if (st->appended[0])
                set_all(st->out.ResultsByTopicV3AndBelow, st->out.ResultsByTopicV3AndBelow_count,
                        SA_GROUP_STORAGE_ERROR);
        } else {
            for (int32_t i = 0; i < st->out.ResultsByTransaction_count; i++)
                if (st->appended[i])
                    set_all(st->out.ResultsByTransaction[i].TopicResults,
                            st->out.ResultsByTransaction[i].TopicResults_count, SA_GROUP_STORAGE_ERROR);
        }
    }
    return sa_kit_encode(req, &st->out);
}

sa_err_t sa_handle_AddPartitionsToTxn(sa_req_t *req) {
    sa_AddPartitionsToTxnRequest_t in;
    sa_err_t err = sa_kit_decode(req, &in);
    if (err != SA_OK) return err;
    add_t *st = sa_arena_calloc(&req->arena, 1, sizeof(*st));
    if (!st) return SA_ERR_TOOBIG;
    sa_AddPartitionsToTxnResponse_init(&st->out);
    if (req->ApiVersion >= 4 && (err = sa_kit_authorize_cluster(req)) != SA_OK) {
        st->out.ErrorCode = sa_kit_code(err); /* broker to broker: CLUSTER_ACTION */
        return sa_kit_encode(req, &st->out);
    }
    int32_t ntx = req->ApiVersion < 4 ? 1 : (in.Transactions_count > 0 ? in.Transactions_count : 0);
    st->appended = sa_arena_calloc(&req->arena, (size_t)(ntx ? ntx : 1), 1);
    if (!st->appended) return SA_ERR_TOOBIG;
    int appended = 0;
    if (req->ApiVersion < 4) {
        int32_t nt = in.V3AndBelowTopics_count > 0 ? in.V3AndBelowTopics_count : 0;
        if ((err = build_results(req, in.V3AndBelowTopics, nt, &st->out.ResultsByTopicV3AndBelow, 0)))
            return err;
        st->out.ResultsByTopicV3AndBelow_count = nt;
        appended = st->appended[0] = (uint8_t)add_one(
            req, in.V3AndBelowTransactionalId, in.V3AndBelowProducerId, in.V3AndBelowProducerEpoch, 0,
            in.V3AndBelowTopics, nt, st->out.ResultsByTopicV3AndBelow);
    } else {
        st->out.ResultsByTransaction =
            sa_arena_calloc(&req->arena, (size_t)(ntx ? ntx : 1), sizeof(*st->out.ResultsByTransaction));
        if (!st->out.ResultsByTransaction) return SA_ERR_TOOBIG;
        st->out.ResultsByTransaction_count = ntx;
        for (int32_t i = 0; i < ntx; i++) {
            const sa_AddPartitionsToTxnRequest_AddPartitionsToTxnTransaction_t *tx = &in.Transactions[i];
            sa_AddPartitionsToTxnResponse_AddPartitionsToTxnResult_t *r = &st->out.ResultsByTransaction[i];
            int32_t nt = tx->Topics_count > 0 ? tx->Topics_count : 0;
            sa_AddPartitionsToTxnResponse_AddPartitionsToTxnResult_init(r);
            r->TransactionalId = tx->TransactionalId;
            if ((err = build_results(req, tx->Topics, nt, &r->TopicResults, 0))) return err;
            r->TopicResults_count = nt;
            st->appended[i] = (uint8_t)add_one(req, tx->TransactionalId, tx->ProducerId, tx->ProducerEpoch,
                                               tx->VerifyOnly, tx->Topics, nt, r->TopicResults);
            appended |= st->appended[i];
        }
    }
    sa_txn_rearm(req->broker);
    return sa_kit_answer_when_durable(req, appended ? sa_tcoord_last_seq(sa_txn_coord(req->broker)) : 0,
                                      add_answer, st);
}

/* ---- AddOffsetsToTxn --------------------------------------------------------------------------- */

static sa_err_t offsets_answer(sa_req_t *req, void *arg, int durable) {
    sa_AddOffsetsToTxnResponse_t *out = arg;
    if (!durable) out->ErrorCode = SA_GROUP_STORAGE_ERROR;
    return sa_kit_encode(req, out);
}

sa_err_t sa_handle_AddOffsetsToTxn(sa_req_t *req) {
    sa_AddOffsetsToTxnRequest_t in;
    sa_err_t err = sa_kit_decode(req, &in);
    if (err != SA_OK) return err;
    sa_AddOffsetsToTxnResponse_t *out = sa_arena_calloc(&req->arena, 1, sizeof(*out));
    if (!out) return SA_ERR_TOOBIG;
    sa_AddOffsetsToTxnResponse_init(out);
    sa_tcoord_t *tc = sa_txn_coord(req->broker);
    const char *txid = sa_kit_str(req, in.TransactionalId), *group = sa_kit_str(req, in.GroupId);
    uint64_t before = sa_tcoord_last_seq(tc), seq = 0;
    if ((err = sa_kit_authorize(req, SA_ACL_WRITE, SA_RESOURCE_TRANSACTIONAL_ID, txid)) != SA_OK ||
        (err = sa_kit_authorize(req, SA_ACL_READ, SA_RESOURCE_GROUP, group)) != SA_OK) {
        out->ErrorCode = sa_kit_code(err);
    } else if (!*group) {
        out->ErrorCode = SA_ERR_INVALID_GROUP_ID;
    } else {
        err = sa_tcoord_add_group(tc, txid, in.ProducerId, in.ProducerEpoch, group, sa_wall_ms());
        out->ErrorCode = sa_txn_wire_error(err, req->ApiVersion, 2);
        if (!err && sa_tcoord_last_seq(tc) != before) seq = sa_tcoord_last_seq(tc);
    }
    sa_txn_rearm(req->broker);
    return sa_kit_answer_when_durable(req, seq, offsets_answer, out);
}

/* ---- EndTxn ------------------------------------------------------------------------------------ */

typedef struct end_s {
    sa_req_t *req;
    sa_EndTxnResponse_t out;
    int parked;       /* sa_req_defer was called */
    int answered;     /* the coordinator answered during its call */
    sa_err_t enc_err; /* the encoder's result when answered */
} end_t;

/* @returns the encoder's result. */
static sa_err_t end_encode(end_t *st, sa_err_t err, int64_t pid, int16_t epoch) {
    sa_req_t *req = st->req;
    st->out.ErrorCode = sa_txn_wire_error(err, req->ApiVersion, 2);
    st->out.ProducerId = err ? -1 : pid;
    st->out.ProducerEpoch = err ? -1 : epoch;
    return sa_kit_encode(req, &st->out);
}

static void on_end(void *opaque, sa_err_t err, int64_t pid, int16_t epoch) {
    end_t *st = opaque;
    sa_err_t enc = end_encode(st, err, pid, epoch);
    st->answered = 1;
    st->enc_err = enc;
    if (st->parked) sa_kit_finish(st->req, enc);
}

static void on_end_cancel(sa_req_t *req, void *arg) { sa_tcoord_cancel(sa_txn_coord(req->broker), arg); }

sa_err_t sa_handle_EndTxn(sa_req_t *req) {
    sa_EndTxnRequest_t in;
    sa_err_t err = sa_kit_decode(req, &in);
    if (err != SA_OK) return err;
    end_t *st = sa_arena_calloc(&req->arena, 1, sizeof(*st));
    if (!st) return SA_ERR_TOOBIG;
    st->req = req;
    sa_EndTxnResponse_init(&st->out);
    sa_txn_pid_t out = {-1, -1};
    const char *txid = sa_kit_str(req, in.TransactionalId);
    if ((err = sa_kit_authorize(req, SA_ACL_WRITE, SA_RESOURCE_TRANSACTIONAL_ID, txid)) != SA_OK)
        return end_encode(st, err, -1, -1);
    err = sa_tcoord_end_txn(sa_txn_coord(req->broker), txid, in.ProducerId, in.ProducerEpoch, in.Committed,
                            req->ApiVersion >= 5, sa_wall_ms(), on_end, st, &out);
    sa_txn_rearm(req->broker);
    if (err != SA_ERR_AGAIN) return end_encode(st, err, out.ProducerId, out.ProducerEpoch);
    if (st->answered) return st->enc_err; /* finished during the call */
    st->parked = 1;
    sa_req_defer(req, -1, NULL, on_end_cancel, st);
    return SA_ERR_AGAIN;
}
