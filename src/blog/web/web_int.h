/*
 * web_int.h - what the parts of the web server share: the server object, the per-request state
 * and the response helpers. Not for use outside src/blog/web_*.c.
 *
 * Request life cycle: src/http (http.h) routes the request, applies the hostile-input rules and
 * reads the body; a req_t (this file) is the blog's state of one request, made by the http
 * server's req_new hook and freed with the request. A new post:
 *   1. the handler of the route hands the request to the outbox (web_outbox.c) and suspends the
 *      connection; the outbox's writer thread reserves the post in the store (pending, with its
 *      idempotency key) and produces it; the delivery report (poller thread) stores the outcome
 *      in the req_t and resumes the connection (or the writer does, when the key belonged to a
 *      post already, or the store failed), and libmicrohttpd calls the handler once more,
 *      which now answers (303/202, 200 for a repeat, 409 while the first is in flight, 503
 *      with the form kept).
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
#include "blog/model/db.h"
#include "blog/web/web_events.h"
#include "blog/web/web_kafka.h"
#include "blog/web/web_server.h"
#include "core/buf.h"
#include "http/http.h"
#include "http/http_sse.h"

#define SA_WEB_QUERY_MAX 200 /* bytes of a search query (?q=) */

/* The metrics of web_metrics.c. */
typedef struct sa_web_metrics_s sa_web_metrics_t;

/* The outbox of web_outbox.c. */
typedef struct sa_web_outbox_s sa_web_outbox_t;

struct sa_web_server_s {
    const sa_web_conf_t *conf;
    sa_http_conf_t http_conf;
    sa_http_server_t *http;
    sa_db_t *db;             /* the store: pages, the API and idempotency read and write it */
    sa_web_events_t *events; /* live events for SSE (from the topics' tail) */
    sa_web_outbox_t *outbox;
    sa_web_kafka_t *kafka;
    sa_http_sse_t *sse;
    sa_web_metrics_t *metrics;
    atomic_int stopping;
};

typedef enum req_state_e {
    REQ_READING = 0, /* body arriving */
    REQ_RESERVING,   /* suspended: the outbox reserves the post in the store */
    REQ_PRODUCING,   /* suspended until the delivery report */
    REQ_RELEASING,   /* suspended: the outbox frees the key of a post that was not produced */
    REQ_DONE,        /* resumed: `outcome` says how it went */
} req_state_t;

typedef enum req_outcome_e {
    SUBMIT_ACKED,  /* the broker acknowledged the new post req->id */
    SUBMIT_EXISTS, /* the key belongs to post req->id already (req->existing, req->pending) */
    SUBMIT_FAILED, /* not sent (or not known to be): req->ack_err says why */
} req_outcome_t;

#define PRODUCE_REQ   1 /* the opaque of a produce is a req_t */
#define PRODUCE_SWEEP 2 /* ... a recovery sweep's record (web_outbox.c) */

typedef struct req_s {
    int kind; /* PRODUCE_REQ: first, so a delivery report can tell a request from a sweep */
    sa_web_server_t *srv;
    sa_http_req_t *http;   /* the request (path_arg: the {id} of /posts/{id}; body; lang) */
    atomic_int state;      /* req_state_t */
    req_outcome_t outcome; /* when state is REQ_DONE */
    char *ack_err;         /* owned; NULL when the broker acknowledged */
    json_t *existing;      /* owned: SUBMIT_EXISTS: the post that has the key (NULL while pending) */
    int pending;           /* SUBMIT_EXISTS: that post is still waiting for the broker */
    int64_t t0_us;         /* when the produce started (latency metric) */
    sa_post_input_t in;    /* the submitted post, once parsed */
    char id[SA_ULID_LEN + 1];
    char *key;      /* owned idempotency key, or NULL */
    json_t *op;     /* owned record that was produced */
    char token[40]; /* form: the one-time token */
} req_t;

/* --- web_server.c ---------------------------------------------------------------------------- */

/** JSON answer; takes @p doc. */
enum MHD_Result sa_web_respond_json(req_t *req, unsigned status, json_t *doc, const char *const *extra);

/**
 * Suspend the request and hand req->in (validated) with idempotency key req->key (may be NULL)
 * to the outbox: reserve, produce, wait for the broker. The handler is called again with
 * req->state REQ_DONE and req->outcome set.
 */
void sa_web_submit(req_t *req);

/** Count the end of a submission (metrics, a log line on failure). */
void sa_web_finish_submit(req_t *req);

/** Resume @p req, suspended by sa_web_submit, with @p outcome; any thread. */
void sa_web_resume(req_t *req, req_outcome_t outcome);

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

/* --- web_outbox.c ---------------------------------------------------------------------------- */
/** @returns new, with its writer thread running (it also runs the recovery sweep). */
sa_web_outbox_t *sa_web_outbox_new(sa_web_server_t *srv);
/** Queue @p req (suspended) for its reservation; the writer resumes it or produces it. */
void sa_web_outbox_reserve(sa_web_outbox_t *ob, req_t *req);
/** Queue the outcome of a produce of post @p id (SA_DB_OUT_*); @p req (may be NULL) is resumed
 *  with @p outcome once it is applied. */
void sa_web_outbox_done(sa_web_outbox_t *ob, const char *id, int action, req_t *req, req_outcome_t outcome);
/** Delivery report of a sweep's record (@p opaque from the produce). */
void sa_web_outbox_sweep_ack(void *opaque, const char *err);
/** Wait until no reservation is queued or being produced by the writer (shutdown). */
void sa_web_outbox_drain(sa_web_outbox_t *ob, int timeout_ms);
/** Apply what is queued, stop the writer, free. */
void sa_web_outbox_free(sa_web_outbox_t *ob);

/* --- web_sse.c ------------------------------------------------------------------------------- */
/** GET /api/events: the live events and the "stats" heartbeat as a stream. */
enum MHD_Result sa_web_sse_open(req_t *req);

/* --- web_metrics.c --------------------------------------------------------------------------- */
sa_web_metrics_t *sa_web_metrics_new(void);
void sa_web_metrics_free(sa_web_metrics_t *m);
void sa_web_metrics_produce(sa_web_metrics_t *m, int64_t latency_us, int ok);
enum MHD_Result sa_web_metrics_page(req_t *req);

#endif
