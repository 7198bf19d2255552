/*
 * http.h - the HTTP server every samsa web UI is built on (`samsa web`, `samsa console`):
 * libmicrohttpd with its own polling threads, a routing table, answers that always carry the
 * security headers, the hostile-input rules, the language choice, double-submit CSRF, static
 * assets embedded from web/, Server-Sent Events (http_sse.h) and request counters for /metrics.
 *
 * What every request gets before its handler runs (in this order):
 *   1. HTTP/1.1 without Host: 400 (RFC 9112 3.2);
 *   2. a route marked SA_HTTP_CHANGES: the origin rule (http_guard.h) - 403 for another site;
 *   3. SA_HTTP_JSON_BODY: Content-Type must be application/json, SA_HTTP_FORM_BODY:
 *      application/x-www-form-urlencoded - else 415 (the bodies a cross-site page can send
 *      without a preflight are forms and text/plain; a JSON API refuses both, a form handler
 *      refuses anything a form would not send);
 *   4. a Content-Length above max_body: 413 before the body is read; a body that grows past it
 *      (chunked): 413 once it is in;
 *   5. deadlines: headers within header_timeout_ms, the body within body_timeout_ms after them,
 *      and at most max_per_ip connections from one address (http_guard.h).
 * Then the route's handler runs on an HTTP thread with the body in req->body. A path no route
 * has is 404; a known path with another method 405 with Allow.
 *
 * Language: `?lang=en|ru` wins and is remembered in the samsa_lang cookie; then that cookie;
 * then Accept-Language; else English (core/lang.h). Answers set the cookie on HTML pages only.
 *
 * CSRF (forms): sa_http_csrf() gives the value a page puts in a hidden "csrf" field, kept in the
 * SameSite=Strict, HttpOnly samsa_csrf cookie (set with the answer when new);
 * sa_http_csrf_ok() checks that a posted value equals the cookie (double submit: a cross-site
 * page can read neither). The origin rule refuses such a post first anyway.
 *
 * Ownership: the server borrows its conf and routes until stopped. A request (sa_http_req_t) lives
 * from its first byte to the request-completed callback; the application's state for it (ctx,
 * made by conf.req_new) is freed then by conf.req_free.
 *
 * Threads: handlers run on libmicrohttpd's threads; sa_http_resume() may be called from any
 * thread (after sa_http_suspend()); all answering happens on the HTTP threads.
 */
#ifndef SA_HTTP_H
#define SA_HTTP_H

#include <microhttpd.h>
#include <stddef.h>
#include <stdint.h>

#include "core/buf.h"
#include "core/config.h"
#include "core/lang.h"

typedef struct sa_http_server_s sa_http_server_t;
typedef struct sa_http_req_s sa_http_req_t;
typedef struct sa_http_sse_s sa_http_sse_t;

/** A route's handler: answers (sa_http_respond*) or suspends; @returns libmicrohttpd's result. */
typedef enum MHD_Result (*sa_http_handler_t)(sa_http_req_t *req);

enum {
    SA_HTTP_GET = 1, /* GET and HEAD */
    SA_HTTP_POST = 2,
};

enum {
    SA_HTTP_PREFIX = 1,    /* path is a prefix ("/posts/"): the rest of the URL is req->path_arg */
    SA_HTTP_CHANGES = 2,   /* changes state: the origin rule applies (403) */
    SA_HTTP_JSON_BODY = 4, /* the body must be declared application/json (415) */
    SA_HTTP_FORM_BODY = 8, /* the body must be declared application/x-www-form-urlencoded (415) */
};

typedef struct sa_http_route_s {
    unsigned methods;          /* SA_HTTP_GET | SA_HTTP_POST */
    const char *path;          /* exact, or a prefix with SA_HTTP_PREFIX */
    unsigned flags;            /* SA_HTTP_PREFIX | SA_HTTP_CHANGES | ... */
    sa_http_handler_t handler; /* borrowed */
    const char *name;          /* the route in metrics, e.g. "/posts/{id}" (NULL: path) */
} sa_http_route_t;

typedef struct sa_http_conf_s {
    const char *listen;            /* HOST:PORT */
    const char *log_name;          /* log subsystem of the server's own lines ("web", "console") */
    const sa_http_route_t *routes; /* borrowed; first match wins (an exact row before a prefix row) */
    size_t nroutes;
    void *app;                            /* handed to every request as req->app */
    void *(*req_new)(sa_http_req_t *req); /* may be NULL: the application's state (req->ctx) */
    void (*req_free)(void *ctx);          /* frees it (NULL ctx never passed) */
    int64_t max_body;                     /* bytes */
    int64_t threads;                      /* polling threads */
    int64_t max_per_ip;                   /* connections at once from one address */
    int64_t header_timeout_ms;            /* headers within this */
    int64_t body_timeout_ms;              /* body within this after the headers */
    const sa_strlist_t *allowed_origins;  /* other origins that may change state; may be NULL */
    const char *csp;                      /* Content-Security-Policy; NULL: SA_HTTP_CSP */
} sa_http_conf_t;

/* Pages load only their own scripts and styles; no inline script anywhere. */
#define SA_HTTP_CSP                                                                                          \
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'; "    \
    "object-src 'none'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'"

#define SA_HTTP_CSRF_BYTES 16 /* 128 random bits: 32 hex characters */

struct sa_http_req_s {
    sa_http_server_t *srv;
    struct MHD_Connection *conn;
    const sa_http_route_t *route; /* NULL: no route (404/405 answered by the server) */
    int route_index;              /* its row, for metrics */
    const char *path_arg;         /* SA_HTTP_PREFIX: the URL after the prefix (valid for the request) */
    sa_buf_t body;                /* the request body, at most max_body bytes */
    int too_large;
    sa_lang_t lang;
    int set_lang_cookie; /* ?lang= chose another language than the cookie's: remember it */
    char csrf[40];       /* after sa_http_csrf(): the CSRF value */
    int set_csrf_cookie; /* send it as a cookie with the answer */
    void *app;           /* conf.app */
    void *ctx;           /* owned: conf.req_new's state, or NULL */
};

/** @returns new: a running server, or NULL with errstr ("cannot listen on ..."). */
sa_http_server_t *sa_http_start(const sa_http_conf_t *conf, char *errstr, size_t errstr_size);
/** Stop accepting new connections (the listening socket closes); requests in progress go on. */
void sa_http_quiesce(sa_http_server_t *srv);
/** Wait up to @p timeout_ms for the open connections to finish, stop the threads, free. NULL ok. */
void sa_http_stop(sa_http_server_t *srv, int timeout_ms);
/** @returns the port the server listens on (useful with port 0). */
int sa_http_port(const sa_http_server_t *srv);

/** Queue @p body (copied, @p len bytes) with @p status, @p ctype and the security headers, plus
 *  the cookies the request needs; @p extra: NULL-terminated header name/value pairs, may be NULL. */
enum MHD_Result sa_http_respond(sa_http_req_t *req, unsigned status, const char *ctype, const char *body,
                                size_t len, const char *const *extra);
/** An HTML page from @p page (freed). */
enum MHD_Result sa_http_respond_page(sa_http_req_t *req, unsigned status, sa_buf_t *page,
                                     const char *const *extra);
/** A 303 See Other to @p location (a path on this server). */
enum MHD_Result sa_http_redirect(sa_http_req_t *req, const char *location);
/** A JSON answer: @p json is a complete document (borrowed). */
enum MHD_Result sa_http_respond_json_text(sa_http_req_t *req, unsigned status, const char *json,
                                          const char *const *extra);
/** {"error": message} with @p status. */
enum MHD_Result sa_http_respond_error(sa_http_req_t *req, unsigned status, const char *message,
                                      const char *const *extra);
/** The handler of the embedded assets (/static/NAME from web/, /favicon.ico: 204). */
enum MHD_Result sa_http_serve_static(sa_http_req_t *req);

/** Count an answer queued without sa_http_respond (a stream) in the metrics. */
void sa_http_count(sa_http_req_t *req, unsigned status);

/** @returns the query argument @p name or NULL (valid for the request). */
const char *sa_http_query(sa_http_req_t *req, const char *name);
/** @returns the request header @p name or NULL (valid for the request). */
const char *sa_http_header(sa_http_req_t *req, const char *name);
/** @returns new: the form field @p name of the request body, or NULL (http_form.h). */
char *sa_http_form(sa_http_req_t *req, const char *name);

/** @returns the request's CSRF value (the cookie's, or a new one set with the answer). */
const char *sa_http_csrf(sa_http_req_t *req);
/** @returns 1 if @p posted (may be NULL) is a well-formed CSRF value equal to the cookie's. */
int sa_http_csrf_ok(sa_http_req_t *req, const char *posted);

/** Suspend the request (its handler is called again once resumed). */
void sa_http_suspend(sa_http_req_t *req);
/** Resume a suspended request; any thread. */
void sa_http_resume(sa_http_req_t *req);

/** @returns 1 once sa_http_quiesce or sa_http_stop began. */
int sa_http_stopping(const sa_http_server_t *srv);
/** @returns how many connections were shut down for missing a deadline. */
uint64_t sa_http_reaped(sa_http_server_t *srv);

/**
 * Append the request counters in the Prometheus text format, as @p metric (e.g.
 * "samsa_web_requests_total") with labels route (the route's name, "/static" or "other") and
 * code.
 */
void sa_http_metrics_write(sa_http_server_t *srv, sa_buf_t *out, const char *metric);

/* --- embedded assets (generated from web/ at build time by web/embed.py) -------------------- */
typedef struct sa_http_asset_s {
    const char *path;  /* "/static/style.css" */
    const char *ctype; /* "text/css; charset=utf-8" */
    const unsigned char *data;
    size_t len;
} sa_http_asset_t;
/** @returns the embedded asset at URL @p path, or NULL. */
const sa_http_asset_t *sa_http_asset_find(const char *path);

#endif
