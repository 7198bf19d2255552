/*
 * web_server.c - the blog's routes on the shared HTTP server (src/http), the suspend -> outbox
 * -> delivery report -> resume path (see web_int.h for the life cycle), and the live events made
 * from the topics' tail.
 *
 * Threads: the HTTP server's polling threads run every handler; the outbox's writer thread
 * (web_outbox.c) and the producer's poller thread (web_kafka.c, ack()) only store outcomes and
 * resume connections, so all answering happens on the HTTP threads.
 */
#include "blog/web/web_server.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "blog/web/web_int.h"
#include "core/log.h"
#include "core/mem.h"
#include "core/time.h"

enum MHD_Result sa_web_respond_json(req_t *req, unsigned status, json_t *doc, const char *const *extra) {
    char *text = json_dumps(doc, JSON_COMPACT | JSON_REAL_PRECISION(10));
    json_decref(doc);
    enum MHD_Result rc = sa_http_respond_json_text(req->http, status, text ? text : "{}", extra);
    free(text);
    return rc;
}

/* Delivery report, on the producer's poller thread. */
static void ack(void *msg_opaque, const char *err, int maybe_persisted) {
    if (*(const int *)msg_opaque == PRODUCE_SWEEP) {
        sa_web_outbox_sweep_ack(msg_opaque, err);
        return;
    }
    req_t *req = msg_opaque;
    sa_web_outbox_t *ob = req->srv->outbox;
    if (!err) { /* answered once the post is queued in the store, so the feed shows it at once */
        sa_web_outbox_done(ob, req->id, SA_DB_OUT_QUEUED, req, SUBMIT_ACKED);
        return;
    }
    req->ack_err = sa_strdup(err);
    if (maybe_persisted) /* it stays pending: the recovery sweep produces it again */
        sa_web_resume(req, SUBMIT_FAILED);
    else /* surely not sent: free its key before answering, so a retry can use it */
        sa_web_outbox_done(ob, req->id, SA_DB_OUT_RELEASE, req, SUBMIT_FAILED);
}

void sa_web_resume(req_t *req, req_outcome_t outcome) {
    req->outcome = outcome;
    atomic_store(&req->state, REQ_DONE);
    sa_http_resume(req->http);
}

void sa_web_submit(req_t *req) {
    sa_ulid_new(req->id);
    char when[48];
    sa_time_rfc3339(sa_wall_ms(), when);
    req->op = sa_post_op_new(&req->in, req->id, when, req->key);
    /* suspend first: the outbox may resume it before this function returns */
    atomic_store(&req->state, REQ_RESERVING);
    sa_http_suspend(req->http);
    sa_web_outbox_reserve(req->srv->outbox, req);
}

void sa_web_finish_submit(req_t *req) {
    if (req->outcome == SUBMIT_EXISTS) return;
    sa_web_metrics_produce(req->srv->metrics, req->t0_us ? sa_mono_us() - req->t0_us : 0,
                           req->outcome == SUBMIT_ACKED);
    if (req->outcome == SUBMIT_FAILED)
        sa_log_warn("web", "post %s was not acknowledged: %s", req->id, req->ack_err);
}

/* A record of the topics' tail (tail thread): a live event with the post as the store has it. */
static void on_record(void *opaque, int is_op, const json_t *value) {
    sa_web_server_t *srv = opaque;
    const char *id = json_string_value(json_object_get(value, "id"));
    if (!sa_ulid_valid(id)) return;
    json_t *post = NULL;
    char errstr[256];
    if (sa_db_post_get(srv->db, id, &post, errstr, sizeof(errstr)) < 0)
        sa_log_debug(SA_DBG_HTTP, "web", "live event for %s: %s", id, errstr);
    const char *status = json_string_value(json_object_get(post, "status"));
    if (!is_op && (!status || !strcmp(status, "queued"))) {
        /* a verdict the store lacks: not from samsa's worker (it stores before it publishes), so
         * another producer's. It is kept (first verdict wins) and left for a worker to log. */
        json_t *recs[1] = {(json_t *)value};
        if (sa_db_import(srv->db, recs, 1, 1, SA_DB_F_PUBLISHED, errstr, sizeof(errstr)))
            sa_log_warn("web", "store: %s", errstr);
        json_decref(post);
        post = NULL;
        sa_db_post_get(srv->db, id, &post, errstr, sizeof(errstr));
    }
    if (!post && is_op) { /* still pending in the store (its ack is on the way): the record says it all */
        static const char *const fields[] = {"title", "content", "author", "lang", "submitted_at"};
        post = json_pack("{s:s, s:s, s:n, s:[]}", "id", id, "status", "queued", "score", "reasons");
        for (size_t i = 0; i < SA_ARRAY_LEN(fields); i++) {
            const char *v = json_string_value(json_object_get(value, fields[i]));
            json_object_set_new(post, fields[i], json_string(v ? v : ""));
        }
    }
    if (!post) return;
    sa_web_events_emit(srv->events, is_op ? "post" : "status", post);
    json_decref(post);
}

/* The handlers of the routes take the blog's request state. */
#define BLOG_HANDLER(fn)                                                                                     \
    static enum MHD_Result h_##fn(sa_http_req_t *h) { return sa_web_##fn(h->ctx); }
BLOG_HANDLER(page_index)
BLOG_HANDLER(page_post_form)
BLOG_HANDLER(page_post)
BLOG_HANDLER(api_create)
BLOG_HANDLER(api_list)
BLOG_HANDLER(api_get)
BLOG_HANDLER(sse_open)
BLOG_HANDLER(api_stats)
BLOG_HANDLER(healthz)
BLOG_HANDLER(metrics_page)

/* The names are the route labels of samsa_web_requests_total. */
static const sa_http_route_t routes[] = {
    {SA_HTTP_GET, "/", 0, h_page_index, "/"},
    {SA_HTTP_POST, "/posts", SA_HTTP_CHANGES, h_page_post_form, "POST /posts"},
    {SA_HTTP_GET, "/posts/", SA_HTTP_PREFIX, h_page_post, "/posts/{id}"},
    {SA_HTTP_POST, "/api/posts", SA_HTTP_CHANGES | SA_HTTP_JSON_BODY, h_api_create, "POST /api/posts"},
    {SA_HTTP_GET, "/api/posts", 0, h_api_list, "/api/posts"},
    {SA_HTTP_GET, "/api/posts/", SA_HTTP_PREFIX, h_api_get, "/api/posts/{id}"},
    {SA_HTTP_GET, "/api/events", 0, h_sse_open, "/api/events"},
    {SA_HTTP_GET, "/api/stats", 0, h_api_stats, "/api/stats"},
    {SA_HTTP_GET, "/healthz", 0, h_healthz, "/healthz"},
    {SA_HTTP_GET, "/metrics", 0, h_metrics_page, "/metrics"},
    {SA_HTTP_GET, "/static/", SA_HTTP_PREFIX, sa_http_serve_static, "/static"},
    {SA_HTTP_GET, "/favicon.ico", 0, sa_http_serve_static, "/static"},
};

static void *req_new(sa_http_req_t *h) {
    req_t *req = sa_new(req_t);
    req->kind = PRODUCE_REQ;
    req->srv = h->app;
    req->http = h;
    return req;
}

static void req_free(void *ctx) {
    req_t *req = ctx;
    sa_post_input_clear(&req->in);
    free(req->ack_err);
    free(req->key);
    json_decref(req->op);
    json_decref(req->existing);
    free(req);
}

sa_web_server_t *sa_web_server_start(const sa_web_conf_t *conf, sa_db_t *db, char *errstr,
                                     size_t errstr_size) {
    sa_web_server_t *srv = sa_new(sa_web_server_t);
    srv->conf = conf;
    srv->db = db;
    srv->metrics = sa_web_metrics_new();
    srv->sse = sa_http_sse_new();
    srv->events = sa_web_events_new(sa_http_sse_notify, srv->sse);

    sa_web_kafka_conf_t kc = {&conf->kafka, conf->topic, conf->results_topic, conf->group, ack,
                              on_record,    srv};
    srv->kafka = sa_web_kafka_new(&kc, errstr, errstr_size);
    if (!srv->kafka) goto err;
    srv->outbox = sa_web_outbox_new(srv);
    if (!srv->outbox) {
        snprintf(errstr, errstr_size, "cannot start a thread");
        goto err;
    }
    srv->http_conf = (sa_http_conf_t){.listen = conf->http,
                                      .log_name = "web",
                                      .routes = routes,
                                      .nroutes = SA_ARRAY_LEN(routes),
                                      .app = srv,
                                      .req_new = req_new,
                                      .req_free = req_free,
                                      .max_body = conf->max_body,
                                      .threads = conf->threads,
                                      .max_per_ip = conf->max_per_ip,
                                      .header_timeout_ms = conf->header_timeout_ms,
                                      .body_timeout_ms = conf->body_timeout_ms,
                                      .allowed_origins = &conf->allowed_origins};
    srv->http = sa_http_start(&srv->http_conf, errstr, errstr_size);
    if (!srv->http) goto err;
    return srv;
err:
    sa_web_server_stop(srv);
    return NULL;
}

void sa_web_server_stop(sa_web_server_t *srv) {
    if (!srv) return;
    atomic_store(&srv->stopping, 1);
    sa_http_quiesce(srv->http); /* no new connections */
    /* reservations taken are produced, every produce gets its delivery report and every
     * outcome reaches the store, so each waiting request gets its answer */
    if (srv->outbox) sa_web_outbox_drain(srv->outbox, 10000);
    if (srv->kafka) {
        int left = sa_web_kafka_flush(srv->kafka, 10000);
        if (left) sa_log_warn("web", "%d posts were still not acknowledged at shutdown", left);
    }
    sa_web_kafka_free(srv->kafka); /* no delivery report after this */
    srv->kafka = NULL;
    sa_web_outbox_free(srv->outbox);
    srv->outbox = NULL;
    if (srv->sse) sa_http_sse_close_all(srv->sse);
    /* give resumed requests a moment to be answered before the server closes them */
    sa_http_stop(srv->http, 2000);
    sa_web_events_free(srv->events);
    sa_http_sse_free(srv->sse);
    sa_web_metrics_free(srv->metrics);
    free(srv);
}
