/*
 * http_guard.h - what protects samsa's HTTP servers (`samsa web`, `samsa console`) from slow and
 * cross-site clients, outside the handlers:
 *
 *  - deadlines per connection: a request's headers must arrive within header_timeout of the
 *    connection's start (or of the previous answer on a kept-alive connection), and its body
 *    within body_timeout of the headers. libmicrohttpd's own timeout is an idle timeout, which a
 *    slowloris client (one byte every 2 s) never trips; this one is absolute. A client past its
 *    deadline has its socket shut down (shutdown(2)), and libmicrohttpd closes the connection.
 *    Streams and requests waiting for the broker have no deadline (their headers and body are in).
 *  - the origin rule for state-changing requests (routes marked SA_HTTP_CHANGES): see
 *    sa_http_guard_origin().
 *
 * The per-IP connection cap and the global cap are libmicrohttpd options (http_server.c).
 *
 * @locks every function is thread-safe (one mutex); the reaper thread runs every 200 ms.
 */
#ifndef SA_HTTP_GUARD_H
#define SA_HTTP_GUARD_H

#include <microhttpd.h>
#include <stdint.h>

#include "core/config.h"

typedef struct sa_http_guard_s sa_http_guard_t;

/** @returns new, with its reaper thread running; timeouts in milliseconds (> 0). */
sa_http_guard_t *sa_http_guard_new(int64_t header_timeout_ms, int64_t body_timeout_ms);
/** Stop the reaper and free. Call after the daemon stopped (no connection left). */
void sa_http_guard_free(sa_http_guard_t *g);

/** The MHD_OPTION_NOTIFY_CONNECTION callback (@p cls is the guard): tracks each connection. */
void sa_http_guard_notify(void *cls, struct MHD_Connection *conn, void **socket_context,
                          enum MHD_ConnectionNotificationCode code);

typedef enum sa_http_phase_e {
    SA_HTTP_PHASE_HEADERS, /* waiting for a request's headers: header deadline */
    SA_HTTP_PHASE_BODY,    /* headers in, body arriving: body deadline */
    SA_HTTP_PHASE_SERVING, /* the request is in: no deadline (answering, suspended, streaming) */
} sa_http_phase_t;

/** Move @p conn to @p phase, starting that phase's deadline now. */
void sa_http_guard_phase(sa_http_guard_t *g, struct MHD_Connection *conn, sa_http_phase_t phase);

/** @returns how many connections were shut down for missing a deadline. */
uint64_t sa_http_guard_reaped(sa_http_guard_t *g);

typedef enum sa_http_origin_e {
    SA_HTTP_ORIGIN_OK = 0,     /* same origin, an allowed origin, or not a browser */
    SA_HTTP_ORIGIN_FOREIGN,    /* Origin names another site */
    SA_HTTP_ORIGIN_CROSS_SITE, /* no Origin, but Sec-Fetch-Site says another site sent it */
} sa_http_origin_t;

/**
 * The rule for a state-changing request (all strings borrowed, each may be NULL):
 *  1. an Origin header equal to http://HOST or https://HOST, HOST being the request's Host
 *     header, or equal to one of @p allowed (exact, e.g. "https://blog.example.com"): accepted;
 *  2. any other Origin (including "null"): FOREIGN;
 *  3. no Origin, and Sec-Fetch-Site is "cross-site" or "same-site": CROSS_SITE;
 *  4. neither header: accepted - not a browser (curl, scripts, other servers): browsers send
 *     Origin with every POST, so a cross-site page cannot make one without it.
 */
sa_http_origin_t sa_http_guard_origin(const char *origin, const char *sec_fetch_site, const char *host,
                                      const sa_strlist_t *allowed);

#endif
