/*
 * handle_group.c - the coordinator state's life cycle and timer, and FindCoordinator (key 10,
 * v0-4): a single node coordinates every group and every transactional id, so the answer is
 * always this broker; v4 batches several keys in one request.
 */
#include "broker/handle_group.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "broker/handlers.h"
#include "core/log.h"
#include "core/mem.h"
#include "core/time.h"
#include "storage/storage.h"

#define REOPEN_BACKOFF_MS 5000 /* after a failed open, try again no sooner than this */

static int64_t last_failed_open_ms = -REOPEN_BACKOFF_MS;

static void on_timer(sa_loop_t *loop, sa_timer_t *timer, void *arg) {
    (void)loop;
    (void)timer;
    sa_group_ctx_t *ctx = arg;
    sa_gcoord_tick(ctx->coord, sa_mono_ms());
    sa_group_ctx_rearm(ctx);
}

void sa_group_ctx_rearm(sa_group_ctx_t *ctx) {
    int64_t next = sa_gcoord_next_deadline(ctx->coord);
    if (next == INT64_MAX) {
        sa_timer_stop(ctx->broker->loop, &ctx->timer);
        return;
    }
    int64_t delay = next - sa_mono_ms();
    sa_timer_start(ctx->broker->loop, &ctx->timer, delay > 0 ? delay : 0, on_timer, ctx);
}

static void ctx_destroy(sa_group_ctx_t *ctx) {
    if (!ctx) return;
    if (ctx->broker->loop) sa_timer_stop(ctx->broker->loop, &ctx->timer);
    sa_gcoord_free(ctx->coord);
    sa_offsets_close(ctx->offsets);
    sa_pid_alloc_free(ctx->pids);
    sa_producer_states_free(ctx->pstates);
    free(ctx);
}

sa_group_ctx_t *sa_group_ctx(sa_broker_t *broker) {
    if (broker->group) return broker->group;
    int64_t now = sa_mono_ms();
    if (now - last_failed_open_ms < REOPEN_BACKOFF_MS) return NULL;
    const sa_broker_conf_t *conf = broker->conf;
    char dir[4096], errstr[4700] = "";
    snprintf(dir, sizeof(dir), "%s/coordinator", conf->data_dir);
    sa_group_ctx_t *ctx = sa_new(sa_group_ctx_t);
    ctx->broker = broker;
    if (mkdir(dir, 0755) < 0 && errno != EEXIST) {
        snprintf(errstr, sizeof(errstr), "mkdir %s: %s", dir, strerror(errno));
        goto fail;
    }
    if (sa_offsets_open(dir, &ctx->offsets, errstr, sizeof(errstr)) != SA_OK) goto fail;
    if (sa_pid_alloc_open(dir, &ctx->pids, errstr, sizeof(errstr)) != SA_OK) goto fail;
    sa_gcoord_conf_t gconf;
    sa_gcoord_conf_defaults(&gconf);
    gconf.min_session_timeout_ms = (int32_t)SA_MIN(conf->group_min_session_timeout_ms, INT32_MAX);
    gconf.max_session_timeout_ms = (int32_t)SA_MIN(conf->group_max_session_timeout_ms, INT32_MAX);
    gconf.initial_rebalance_delay_ms = (int32_t)SA_MIN(conf->group_initial_rebalance_delay_ms, INT32_MAX);
    gconf.offsets_retention_ms = conf->offsets_retention_minutes * 60000;
    ctx->coord = sa_gcoord_new(&gconf, ctx->offsets, now);
    ctx->pstates = sa_producer_states_new();
    broker->group = ctx;
    sa_group_ctx_rearm(ctx);
    return ctx;
fail:
    sa_log_error("group", "group coordinator unavailable: %s (retrying in %d s)", errstr,
                 REOPEN_BACKOFF_MS / 1000);
    last_failed_open_ms = now;
    ctx_destroy(ctx);
    return NULL;
}

void sa_group_ctx_free(sa_broker_t *broker) {
    ctx_destroy(broker->group);
    broker->group = NULL;
}

sa_producer_states_t *sa_broker_producer_states(sa_broker_t *broker) {
    sa_group_ctx_t *ctx = sa_group_ctx(broker);
    return ctx ? ctx->pstates : NULL;
}

/* Request strings are views into the frame, which the arena cap (16x the frame) always fits. */
const char *sa_hg_str(sa_req_t *req, sa_str_t s) {
    char *c = sa_str_dup(s, &req->arena);
    return c ? c : "";
}

const char *sa_hg_nstr(sa_req_t *req, sa_str_t s) { return sa_str_is_null(s) ? NULL : sa_hg_str(req, s); }

const char *sa_hg_client_host(sa_req_t *req) {
    const char *peer = sa_req_peer(req);
    const char *colon = strrchr(peer, ':');
    size_t n = colon ? (size_t)(colon - peer) : strlen(peer);
    char *out = sa_arena_alloc(&req->arena, n + 2);
    if (!out) return "";
    out[0] = '/';
    memcpy(out + 1, peer, n);
    out[n + 1] = '\0';
    return out;
}

/* ---- FindCoordinator ---------------------------------------------------------------------- */

static int16_t key_error(sa_broker_t *broker, int8_t key_type, sa_str_t key) {
    if (key_type != 0 && key_type != 1) return SA_ERR_INVALID_REQUEST;
    if (key_type == 0 && key.len <= 0) return SA_ERR_INVALID_GROUP_ID;
    if (key_type == 0 && !sa_group_ctx(broker)) return SA_ERR_COORDINATOR_NOT_AVAILABLE;
    return SA_OK;
}

sa_err_t sa_handle_FindCoordinator(sa_req_t *req) {
    sa_rd_t rd;
    sa_FindCoordinatorRequest_t in;
    sa_FindCoordinatorResponse_t out;
    sa_broker_t *broker = req->broker;
    sa_rd_init(&rd, req->body, req->body_len);
    sa_err_t err = sa_FindCoordinatorRequest_decode(&rd, req->ApiVersion, &req->arena, &in);
    if (err) return err == SA_ERR_TOOBIG ? err : SA_ERR_PARSE;
    sa_FindCoordinatorResponse_init(&out);
    sa_str_t host = sa_str(broker->adv_host);
    if (req->ApiVersion < 4) {
        out.ErrorCode = key_error(broker, in.KeyType, in.Key);
        out.ErrorMessage = SA_STR_NULL;
        out.NodeId = out.ErrorCode ? -1 : broker->node_id;
        out.Host = out.ErrorCode ? SA_STR("") : host;
        out.Port = out.ErrorCode ? -1 : broker->adv_port;
    } else {
        int32_t n = in.CoordinatorKeys_count > 0 ? in.CoordinatorKeys_count : 0;
        out.Coordinators = sa_arena_calloc(&req->arena, (size_t)n, sizeof(*out.Coordinators));
        if (n && !out.Coordinators) return SA_ERR_TOOBIG;
        out.Coordinators_count = n;
        for (int32_t i = 0; i < n; i++) {
            sa_FindCoordinatorResponse_Coordinator_t *c = &out.Coordinators[i];
            sa_FindCoordinatorResponse_Coordinator_init(c);
            c->Key = in.CoordinatorKeys[i];
            c->ErrorCode = key_error(broker, in.KeyType, in.CoordinatorKeys[i]);
            c->ErrorMessage = SA_STR_NULL;
            c->NodeId = c->ErrorCode ? -1 : broker->node_id;
            c->Host = c->ErrorCode ? SA_STR("") : host;
            c->Port = c->ErrorCode ? -1 : broker->adv_port;
        }
    }
    return sa_FindCoordinatorResponse_encode(&out, req->ApiVersion, &req->resp);
}
