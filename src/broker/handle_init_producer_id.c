/*
 * handle_init_producer_id.c - InitProducerId (key 22, v0-4) for idempotent producers.
 *
 * Advertised from v0: librdkafka before 2.11 enables idempotence only when it sees v0. Every
 * call without a transactional id gets a fresh producer id with epoch 0, as Kafka does (an
 * epoch bump request of v3+ also gets a fresh id: the old one's state simply ages out).
 * Transactions are not implemented: a transactional id is refused with
 * TRANSACTIONAL_ID_AUTHORIZATION_FAILED, which clients report as a fatal, explained error
 * rather than retrying forever.
 *
 * Authorization (Kafka's KafkaApis, KIP-679): without a transactional id, IDEMPOTENT_WRITE on the
 * cluster (dispatch.c's column) or WRITE on some topic; else CLUSTER_AUTHORIZATION_FAILED.
 *
 * An id is handed out only once the metadata-log record reserving its block is durable
 * (producer_id.h): the first call of each block of 1000 waits for the group commit. If that
 * sync fails the answer is COORDINATOR_LOAD_IN_PROGRESS, which clients retry (Kafka gives it
 * when it cannot get a new block of ids).
 */
#include "broker/handle_group.h"
#include "broker/handlers.h"
#include "broker/kit.h"
#include "core/log.h"

/* The answer, filled before it is known to be durable; lives in the request's arena. */
static sa_err_t pid_answer(sa_req_t *req, void *arg, int durable) {
    sa_InitProducerIdResponse_t *out = arg;
    if (!durable) {
        out->ErrorCode = SA_ERR_COORDINATOR_LOAD_IN_PROGRESS;
        out->ProducerId = -1;
        out->ProducerEpoch = -1;
    } else if (out->ProducerId >= 0) {
        sa_log_debug(SA_DBG_GROUP, "producer", "%s: producer id %lld for client \"%s\"", sa_req_peer(req),
                     (long long)out->ProducerId, req->ClientId);
    }
    return sa_kit_encode(req, out);
}

sa_err_t sa_handle_InitProducerId(sa_req_t *req) {
    sa_InitProducerIdRequest_t in;
    sa_err_t err = sa_kit_decode(req, &in);
    if (err != SA_OK) return err;
    sa_InitProducerIdResponse_t *out = sa_arena_calloc(&req->arena, 1, sizeof(*out));
    if (!out) return SA_ERR_TOOBIG;
    sa_InitProducerIdResponse_init(out);
    out->ProducerId = -1;
    out->ProducerEpoch = -1;
    uint64_t seq = 0; /* the record reserving the id's block */
    if (!sa_str_is_null(in.TransactionalId)) {
        out->ErrorCode = SA_ERR_TRANSACTIONAL_ID_AUTHORIZATION_FAILED;
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
    return sa_kit_answer_when_durable(req, seq, pid_answer, out);
}
