/*
 * web_int.h - what the parts of the web server share: the server object, the per-request state
 * and the response helpers. Not for use outside src/blog/web_*.c.
 *
 * Request life cycle (libmicrohttpd calls the access handler several times per request):
 *   1. first call: route, create the req_t, refuse a too large Content-Length (413);
 *   2. body chunks: appended to req->body up to max_body (past it: 413 at the end);
 *   3. last call: the handler of the route answers, or - for a new post - produces the record,
 *      suspends the connection and returns; the delivery report (poller thread) stores the
 *      outcome in the req_t and resumes the connection, and libmicrohttpd calls the handler
 *      once more, which now answers (303/202, or 503 with the form kept).
 *   The req_t is freed by the request-completed callback.
 */
#ifndef SA_BLOG_WEB_INT_H
#define SA_BLOG_WEB_INT_H

#include <jansson.h>
#include <microhttpd.h>
#include <stdatomic.h>

#include "blog/model/i18n.h"
#include "blog/model/post.h"
#include "blog/model/ulid.h"
#include "blog/web/web_kafka.h"
#include "blog/web/web_server.h"
#include "blog/web/web_store.h"
#include "core/buf.h"

typedef enum route_e {
    ROUTE_INDEX,
    ROUTE_POST_FORM,
    ROUTE_POST_PAGE,
    ROUTE_API_CREATE,
    ROUTE_API_LIST,
    ROUTE_API_GET,
    ROUTE_API_EVENTS,
    ROUTE_API_STATS,
    ROUTE_HEALTHZ,
    ROUTE_METRICS,
    ROUTE_STATIC,
    ROUTE_OTHER,
    ROUTE_COUNT_
} route_t;

extern const char *const sa_web_route_names[ROUTE_COUNT_];

typedef struct sa_web_sse_s sa_web_sse_t;

/* The metrics of web_metrics.c. */
typedef struct sa_web_metrics_s sa_web_metrics_t;

struct sa_web_server_s {
    const sa_web_conf_t *conf;
    struct MHD_Daemon *daemon;
    sa_web_store_t *store;
    sa_web_kafka_t *kafka;
    sa_web_sse_t *sse;
    sa_web_metrics_t *metrics;
    atomic_int stopping;
};

typedef enum req_state_e {
    REQ_READING = 0, /* body arriving */
    REQ_PRODUCING,   /* suspended until the delivery report */
    REQ_ACKED,       /* delivery report arrived: ack_err says how it went */
} req_state_t;

typedef struct req_s {
    sa_web_server_t *srv;
    struct MHD_Connection *conn;
    route_t route;
    const char *path_arg; /* the {id} of /posts/{id} and /api/posts/{id} (points into the URL) */
    sa_buf_t body;        /* the request body, capped at max_body */
    int too_large;        /* the body passed max_body */
    atomic_int state;     /* req_state_t */
    char *ack_err;        /* owned; NULL when the broker acknowledged */
    int64_t t0_us;        /* when the produce started (latency metric) */
    sa_post_input_t in;   /* the submitted post, once parsed */
    char id[SA_ULID_LEN + 1];
    char *key;  /* owned idempotency key, or NULL */
    json_t *op; /* owned record that was produced */
    sa_lang_t lang;
    char token[40]; /* form: the one-time token */
    char csrf[40];  /* form: the CSRF value (also the cookie) */
    int set_cookie; /* send the CSRF cookie with the answer */
} req_t;

/* --- web_server.c ---------------------------------------------------------------------------- */

/** Queue @p body (copied) with @p status and @p ctype plus the security headers; counts metrics.
 *  @p extra: NULL-terminated header name/value pairs, may be NULL. */
enum MHD_Result sa_web_respond(req_t *req, unsigned status, const char *ctype, const char *body, size_t len,
                               const char *const *extra);
/** JSON answer; takes @p doc. */
enum MHD_Result sa_web_respond_json(req_t *req, unsigned status, json_t *doc, const char *const *extra);
/** {"error": message} with @p status. */
enum MHD_Result sa_web_respond_error(req_t *req, unsigned status, const char *message,
                                     const char *const *extra);

/**
 * Reserve, produce and suspend for req->in (validated) with idempotency key req->key (may be
 * NULL). @returns SA_CLAIM_NEW when the request is now suspended waiting for the broker, or
 * SA_CLAIM_DONE / SA_CLAIM_INFLIGHT with req->id set to the existing post, or -1 when the record
 * could not be queued (req->ack_err says why).
 */
int sa_web_submit(req_t *req);

/** Record the end of a produce (the ack arrived): apply it to the store on success. */
void sa_web_finish_submit(req_t *req);

/** @returns the query argument @p name or NULL (valid for the request). */
const char *sa_web_query(req_t *req, const char *name);

/* --- web_pages.c ----------------------------------------------------------------------------- */
enum MHD_Result sa_web_page_index(req_t *req);
enum MHD_Result sa_web_page_post_form(req_t *req); /* POST /posts, both calls (submit, ack) */
enum MHD_Result sa_web_page_post(req_t *req);

/* --- web_api.c ------------------------------------------------------------------------------- */
enum MHD_Result sa_web_api_create(req_t *req); /* POST /api/posts, both calls */
enum MHD_Result sa_web_api_list(req_t *req);
enum MHD_Result sa_web_api_get(req_t *req);
enum MHD_Result sa_web_api_stats(req_t *req);
enum MHD_Result sa_web_healthz(req_t *req);
/** @returns new: the queue statistics as JSON (also sent as the SSE heartbeat). */
json_t *sa_web_stats_json(sa_web_server_t *srv);

/* --- web_sse.c ------------------------------------------------------------------------------- */
sa_web_sse_t *sa_web_sse_new(sa_web_server_t *srv);
/** Wake every waiting stream (new events); any thread. */
void sa_web_sse_notify(void *sse);
/** End every stream (shutdown). */
void sa_web_sse_close_all(sa_web_sse_t *sse);
void sa_web_sse_free(sa_web_sse_t *sse);
int sa_web_sse_clients(sa_web_sse_t *sse);
enum MHD_Result sa_web_sse_open(req_t *req);

/* --- web_metrics.c --------------------------------------------------------------------------- */
sa_web_metrics_t *sa_web_metrics_new(void);
void sa_web_metrics_free(sa_web_metrics_t *m);
void sa_web_metrics_request(sa_web_metrics_t *m, route_t route, unsigned status);
void sa_web_metrics_produce(sa_web_metrics_t *m, int64_t latency_us, int ok);
enum MHD_Result sa_web_metrics_page(req_t *req);

/* --- web_assets (generated from web/ at build time) ------------------------------------------ */
typedef struct sa_web_asset_s {
    const char *path;  /* "/static/style.css" */
    const char *ctype; /* "text/css; charset=utf-8" */
    const unsigned char *data;
    size_t len;
} sa_web_asset_t;
/** @returns the embedded asset at URL @p path, or NULL. */
const sa_web_asset_t *sa_web_asset_find(const char *path);

#endif
