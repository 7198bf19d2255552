/*
 * handle_init_producer_id.c - InitProducerId (key 22, v0-4) for idempotent producers.
 *
 * Advertised from v0: librdkafka before 2.11 enables idempotence only when it sees v0. Every
 * call without a transactional id gets a fresh producer id with epoch 0, as Kafka does (an
 * epoch bump request of v3+ also gets a fresh id: the old one's state simply ages out).
 * Transactions are not implemented: a transactional id is refused with
 * TRANSACTIONAL_ID_AUTHORIZATION_FAILED, which clients report as a fatal, explained error
 * rather than retrying forever.
 */
#include "broker/handle_group.h"
#include "broker/handlers.h"
#include "core/log.h"

sa_err_t sa_handle_InitProducerId(sa_req_t *req) {
    sa_rd_t rd;
    sa_InitProducerIdRequest_t in;
    sa_InitProducerIdResponse_t out;
    sa_rd_init(&rd, req->body, req->body_len);
    sa_err_t err = sa_InitProducerIdRequest_decode(&rd, req->ApiVersion, &req->arena, &in);
    if (err) return err == SA_ERR_TOOBIG ? err : SA_ERR_PARSE;
    sa_InitProducerIdResponse_init(&out);
    out.ProducerId = -1;
    out.ProducerEpoch = -1;
    sa_group_ctx_t *ctx = sa_group_ctx(req->broker);
    if (!sa_str_is_null(in.TransactionalId)) {
        out.ErrorCode = SA_ERR_TRANSACTIONAL_ID_AUTHORIZATION_FAILED;
    } else if (!ctx) {
        out.ErrorCode = SA_ERR_COORDINATOR_NOT_AVAILABLE;
    } else {
        int64_t pid;
        out.ErrorCode = (int16_t)sa_pid_alloc_next(ctx->pids, &pid);
        if (!out.ErrorCode) {
            out.ProducerId = pid;
            out.ProducerEpoch = 0;
            sa_log_debug(SA_DBG_GROUP, "producer", "%s: producer id %lld for client \"%s\"", sa_req_peer(req),
                         (long long)pid, req->ClientId);
        }
    }
    return sa_InitProducerIdResponse_encode(&out, req->ApiVersion, &req->resp);
}
