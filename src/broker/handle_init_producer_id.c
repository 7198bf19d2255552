/*
 * handle_init_producer_id.c - InitProducerId (key 22, v0-5): idempotent and transactional producers.
 *
 * Advertised from v0: librdkafka before 2.11 enables idempotence only when it sees v0. Without a
 * transactional id every call gets a fresh producer id with epoch 0, as Kafka does (an epoch bump
 * request of v3+ also gets a fresh id: the old one's state simply ages out).
 *
 * With a transactional id the transaction coordinator answers (broker/txn/coordinator.h): a new id
 * gets a producer id and epoch 0, a known one the next epoch (fencing the previous instance; an
 * ongoing transaction of it is aborted first and the caller gets CONCURRENT_TRANSACTIONS, then
 * retries). The client needs WRITE on the transactional id (else TRANSACTIONAL_ID_AUTHORIZATION_FAILED).
 * v3+ may name the producer's current id and epoch to continue after an error (KIP-360), and naming
 * only one of the two is INVALID_REQUEST, as in Kafka. PRODUCER_FENCED is
 * INVALID_PRODUCER_EPOCH before v4. v5 only tells that the client knows TRANSACTION_ABORTABLE.
 *
 * Authorization (Kafka's KafkaApis, KIP-679): with a transactional id, WRITE on it; without one,
 * IDEMPOTENT_WRITE on the cluster (dispatch.c's column) or WRITE on some topic; else
 * CLUSTER_AUTHORIZATION_FAILED.
 *
 * An id is handed out only once the metadata-log record reserving its block is durable
 * (producer_id.h), and a transactional answer once its txn_state record is (the block's record
 * comes first in the log): the call waits for the group commit. If that sync fails the answer is
 * COORDINATOR_LOAD_IN_PROGRESS (idempotent; Kafka gives it when it cannot get a block of ids) or
 * NOT_COORDINATOR (transactional, as an append to __transaction_state that fails), which clients
 * retry.
 */
#include "broker/handle_group.h"
#include "broker/handle_txn.h"
#include "broker/handlers.h"
#include "broker/kit.h"
#include "core/log.h"
#include "core/time.h"

/* The answer, filled before it is known to be durable; lives in the request's arena. */
typedef struct pid_s {
    sa_InitProducerIdResponse_t out;
    int transactional;
} initpid_t;

static sa_err_t pid_answer(sa_req_t *req, void *arg, int durable) {
    initpid_t *st = arg;
    sa_InitProducerIdResponse_t *out = &st->out;
    if (!durable) {
        out->ErrorCode = st->transactional ? SA_GROUP_STORAGE_ERROR : SA_ERR_COORDINATOR_LOAD_IN_PROGRESS;
        out->ProducerId = -1;
        out->ProducerEpoch = -1;
    } else if (out->ProducerId >= 0) {
        sa_log_debug(SA_DBG_GROUP, "producer", "%s: producer id %lld for client \"%s\"", sa_req_peer(req),
                     (long long)out->ProducerId, req->ClientId);
    }
    return sa_kit_encode(req, out);
}

/* The transactional case. @returns the record to wait for (0: none). */
static uint64_t init_transactional(sa_req_t *req, const sa_InitProducerIdRequest_t *in, initpid_t *st) {
    sa_tcoord_t *tc = sa_txn_coord(req->broker);
    int64_t pid = req->ApiVersion >= 3 ? in->ProducerId : -1;
    int16_t epoch = req->ApiVersion >= 3 ? in->ProducerEpoch : -1;
    st->transactional = 1;
    if ((pid < 0) != (epoch < 0)) { /* one without the other */
        st->out.ErrorCode = SA_ERR_INVALID_REQUEST;
        return 0;
    }
    const char *txid = sa_kit_str(req, in->TransactionalId);
    sa_err_t err = sa_kit_authorize(req, SA_ACL_WRITE, SA_RESOURCE_TRANSACTIONAL_ID, txid);
    if (err) {
        st->out.ErrorCode = sa_kit_code(err);
        return 0;
    }
    sa_txn_pid_t res;
    uint64_t before = sa_tcoord_last_seq(tc);
    err = sa_tcoord_init_pid(tc, txid, in->TransactionTimeoutMs, pid, epoch, sa_wall_ms(), &res);
    sa_txn_rearm(req->broker);
    st->out.ErrorCode = sa_txn_wire_error(err, req->ApiVersion, 4);
    if (err) return 0;
    st->out.ProducerId = res.ProducerId;
    st->out.ProducerEpoch = res.ProducerEpoch;
    return sa_tcoord_last_seq(tc) != before ? sa_tcoord_last_seq(tc) : 0;
}

sa_err_t sa_handle_InitProducerId(sa_req_t *req) {
    sa_InitProducerIdRequest_t in;
    sa_err_t err = sa_kit_decode(req, &in);
    if (err != SA_OK) return err;
    initpid_t *st = sa_arena_calloc(&req->arena, 1, sizeof(*st));
    if (!st) return SA_ERR_TOOBIG;
    sa_InitProducerIdResponse_t *out = &st->out;
    sa_InitProducerIdResponse_init(out);
    out->ProducerId = -1;
    out->ProducerEpoch = -1;
    uint64_t seq = 0; /* the record to wait for */
    if (!sa_str_is_null(in.TransactionalId)) {
        seq = init_transactional(req, &in, st);
    } else if (sa_kit_authorize_cluster(req) != SA_OK &&
               !sa_authz_allowed_any(req, SA_ACL_WRITE, SA_RESOURCE_TOPIC)) {
        out->ErrorCode = SA_ERR_CLUSTER_AUTHORIZATION_FAILED;
    } else {
        int64_t pid;
        out->ErrorCode = (int16_t)sa_pid_alloc_next(req->broker->metastore.pids, &pid, &seq);
        if (out->ErrorCode == SA_ERR_KAFKA_STORAGE_ERROR)
            out->ErrorCode = SA_ERR_COORDINATOR_LOAD_IN_PROGRESS;
        if (!out->ErrorCode) {
            out->ProducerId = pid;
            out->ProducerEpoch = 0;
        }
    }
    return sa_kit_answer_when_durable(req, seq, pid_answer, st);
}
