/*
 * kit.c - the request handlers' kit (see kit.h).
 *
 * Decoding and encoding go through the codec table (sa_proto_api), so each handler calls one
 * function whatever its message type; the generated per-message functions are what runs.
 * Answering later: one waiter type for both "after the next group commit" and "once these
 * metadata-log records are durable"; it lives in the request's arena, so cancelling (the
 * connection closed) is only an unlink from the broker's sync list.
 */
#include "broker/kit.h"

#include <stdlib.h>
#include <string.h>

#include "broker/dispatch.h"
#include "core/log.h"
#include "storage/metalog.h"

sa_err_t sa_kit_decode(sa_req_t *req, void *msg) {
    const sa_proto_api_t *api = req->_codec;
    if (!api || !api->request) return SA_ERR_PARSE;
    sa_rd_t rd;
    sa_rd_init(&rd, req->body, req->body_len);
    sa_err_t err = api->request->decode(&rd, req->ApiVersion, &req->arena, msg);
    if (err == SA_OK) return SA_OK;
    return err == SA_ERR_TOOBIG ? SA_ERR_TOOBIG : SA_ERR_PARSE;
}

sa_err_t sa_kit_encode(sa_req_t *req, const void *msg) {
    const sa_proto_api_t *api = req->_codec;
    if (!api || !api->response) return SA_ERR_INVALID_ARG;
    return api->response->encode(msg, req->ApiVersion, &req->resp);
}

/* ---- names -------------------------------------------------------------------------------- */

sa_err_t sa_kit_topic(sa_req_t *req, sa_str_t s, const char **name) {
    *name = "";
    if (sa_str_is_null(s) || (s.len > 0 && memchr(s.ptr, 0, (size_t)s.len)))
        return SA_ERR_INVALID_TOPIC_EXCEPTION;
    char *copy = sa_str_dup(s, &req->arena);
    if (!copy) return SA_ERR_TOOBIG;
    *name = copy;
    return SA_OK;
}

const char *sa_kit_str(sa_req_t *req, sa_str_t s) {
    char *c = sa_str_dup(s, &req->arena);
    return c ? c : "";
}

const char *sa_kit_nstr(sa_req_t *req, sa_str_t s) { return sa_str_is_null(s) ? NULL : sa_kit_str(req, s); }

const char *sa_kit_client_host(sa_req_t *req) {
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

sa_topic_t *sa_kit_topic_by_id(sa_req_t *req, const sa_uuid_t *id) {
    sa_store_t *store = req->broker->store;
    size_t n = sa_store_topic_count(store);
    for (size_t i = 0; i < n; i++) {
        sa_topic_t *topic = sa_store_topic_at(store, i);
        if (!memcmp(sa_topic_id(topic), id->b, 16)) return topic;
    }
    return NULL;
}

typedef struct named_s {
    sa_str_t name;
    int32_t idx;
} named_t;

static int cmp_named(const void *a, const void *b) {
    const sa_str_t *x = &((const named_t *)a)->name, *y = &((const named_t *)b)->name;
    if (x->len != y->len) return x->len < y->len ? -1 : 1;
    return x->len > 0 ? memcmp(x->ptr, y->ptr, (size_t)x->len) : 0;
}

sa_err_t sa_kit_mark_repeated(sa_req_t *req, const void *items, int32_t count, size_t stride, size_t name_off,
                              uint8_t **repeated, size_t *nrepeated) {
    size_t n = count > 0 ? (size_t)count : 0, flagged = 0;
    const char *base = items;
    named_t *sorted = sa_arena_calloc(&req->arena, n, sizeof(*sorted));
    *repeated = sa_arena_calloc(&req->arena, n, 1);
    if (!sorted || !*repeated) return SA_ERR_TOOBIG;
    for (size_t i = 0; i < n; i++) {
        memcpy(&sorted[i].name, base + i * stride + name_off, sizeof(sa_str_t));
        sorted[i].idx = (int32_t)i;
    }
    /* Null names (len -1) sort together and count as equal, as sa_str_same says. */
    qsort(sorted, n, sizeof(*sorted), cmp_named);
    for (size_t i = 1; i < n; i++)
        if (!cmp_named(&sorted[i - 1], &sorted[i]))
            (*repeated)[sorted[i - 1].idx] = (*repeated)[sorted[i].idx] = 1;
    for (size_t i = 0; i < n; i++) flagged += (*repeated)[i];
    if (nrepeated) *nrepeated = flagged;
    return SA_OK;
}

/* ---- errors ------------------------------------------------------------------------------- */

int16_t sa_kit_code(sa_err_t err) {
    if (err == SA_OK) return 0;
    return (int16_t)(sa_err_is_kafka(err) ? err : SA_ERR_UNKNOWN_SERVER_ERROR);
}

sa_str_t sa_kit_message(sa_req_t *req, sa_err_t err, const char *errstr) {
    if (err == SA_OK) return SA_STR_NULL;
    if (errstr && *errstr) {
        char *copy = sa_arena_strndup(&req->arena, errstr, strlen(errstr));
        if (copy) return sa_str(copy);
    }
    return sa_str(sa_err2str(sa_kit_code(err)));
}

/* ---- authorization ------------------------------------------------------------------------ */

static sa_err_t denied(sa_resource_type_t type) {
    switch (type) {
    case SA_RESOURCE_TOPIC: return SA_ERR_TOPIC_AUTHORIZATION_FAILED;
    case SA_RESOURCE_GROUP: return SA_ERR_GROUP_AUTHORIZATION_FAILED;
    case SA_RESOURCE_TRANSACTIONAL_ID: return SA_ERR_TRANSACTIONAL_ID_AUTHORIZATION_FAILED;
    default: return SA_ERR_CLUSTER_AUTHORIZATION_FAILED; /* the cluster, and types samsa does not serve */
    }
}

sa_err_t sa_kit_authorize(sa_req_t *req, sa_acl_op_t op, sa_resource_type_t type, const char *name) {
    return sa_authz_allowed(req, op, type, name) ? SA_OK : denied(type);
}

sa_err_t sa_kit_authorize_cluster(sa_req_t *req) {
    const sa_api_t *api = sa_dispatch_api(req->ApiKey);
    if (!api || api->cluster_op == SA_ACL_NONE) return SA_OK;
    return sa_kit_authorize(req, api->cluster_op, SA_RESOURCE_CLUSTER, "");
}

/* ---- answering later ---------------------------------------------------------------------- */

/* A parked request; lives in its arena. `wait` is first: the sync callback gets it. */
typedef struct kit_wait_s {
    sa_sync_wait_t wait;
    sa_req_t *req;
    int metalog;  /* durable means: metadata-log record seq is */
    uint64_t seq; /* ... this one */
    sa_kit_answer_fn *answer;
    void *arg;
} kit_wait_t;

void sa_kit_finish(sa_req_t *req, sa_err_t enc_err) {
    if (enc_err != SA_OK)
        sa_log_error("broker", "%s: cannot encode a %s response: %s", sa_req_peer(req),
                     sa_proto_api_name(req->ApiKey), sa_err2str(enc_err));
    sa_req_complete(req);
}

static void on_synced(sa_broker_t *broker, sa_sync_wait_t *wait, sa_err_t store_err) {
    kit_wait_t *kw = (kit_wait_t *)wait;
    /* a metadata-log wait ignores store_err (any partition's): whether its records survived is
     * the log's answer */
    int durable = kw->metalog ? sa_metalog_durable(broker->metastore.log, kw->seq) : store_err == SA_OK;
    sa_kit_finish(kw->req, kw->answer(kw->req, kw->arg, durable));
}

static void on_cancel(sa_req_t *req, void *arg) {
    kit_wait_t *kw = arg;
    sa_broker_unwait_sync(req->broker, &kw->wait);
}

static sa_err_t park(sa_req_t *req, int metalog, uint64_t seq, sa_kit_answer_fn *answer, void *arg) {
    kit_wait_t *kw = sa_arena_calloc(&req->arena, 1, sizeof(*kw));
    if (!kw) return SA_ERR_TOOBIG;
    *kw = (kit_wait_t){.req = req, .metalog = metalog, .seq = seq, .answer = answer, .arg = arg};
    sa_broker_wait_sync(req->broker, &kw->wait, on_synced);
    sa_req_defer(req, -1, NULL, on_cancel, kw);
    return SA_ERR_AGAIN;
}

sa_err_t sa_kit_answer_when_durable(sa_req_t *req, uint64_t seq, sa_kit_answer_fn *answer, void *arg) {
    if (sa_metalog_durable(req->broker->metastore.log, seq)) return answer(req, arg, 1);
    return park(req, 1, seq, answer, arg);
}

sa_err_t sa_kit_answer_after_sync(sa_req_t *req, sa_kit_answer_fn *answer, void *arg) {
    return park(req, 0, 0, answer, arg);
}
