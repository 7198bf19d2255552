/*
 * http_sse.h - Server-Sent Events streams without a thread per client, for any samsa web UI.
 *
 * A hub holds the open streams. Each stream is a libmicrohttpd callback response whose bytes come
 * from the application's `next` function. When `next` has nothing to send it returns 0: the
 * stream's connection is suspended until the hub is notified (sa_http_sse_notify: new events,
 * any thread) or until the time `next` asked to be woken at (*wake_ms; the hub's ticker looks every
 * SA_HTTP_SSE_TICK_MS), whichever comes first; then `next` is called again.
 *
 * The first bytes of every stream are "retry: 2000" and a comment line, so proxies and browsers
 * see it open at once.
 *
 * Invariants:
 *  1. no lost wake-up: notify bumps the hub's generation under `lock`; a stream records the
 *     generation before calling `next` and suspends (under `lock`) only if it did not move.
 *  2. a stream is in the hub's list exactly while its response exists: it is unlinked (under
 *     `lock`) by the response's free callback, so notify never touches a freed connection.
 *  3. `next` is never called with `lock` held (it may take the application's locks).
 *
 * @locks every function is thread-safe.
 */
#ifndef SA_HTTP_SSE_H
#define SA_HTTP_SSE_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "http/http.h"

#define SA_HTTP_SSE_TICK_MS 100

/**
 * The application's producer of one stream's bytes: write at most @p max bytes of SSE text into
 * @p buf. @returns the bytes written; 0 if there is nothing to send now (then *@p wake_ms, a
 * monotonic time in ms or 0 for none, is when to be asked again at the latest); -1 to end the
 * stream. @p ctx is the stream's own state (from sa_http_sse_open).
 */
typedef ssize_t (*sa_http_sse_next_t)(void *ctx, char *buf, size_t max, int64_t *wake_ms);

/** @returns new hub with its ticker running. */
sa_http_sse_t *sa_http_sse_new(void);
/** Wake every waiting stream; any thread. @p hub is a sa_http_sse_t (void * to be a callback). */
void sa_http_sse_notify(void *hub);
/** End every stream (shutdown): each gets its end of stream; the ticker stops. */
void sa_http_sse_close_all(sa_http_sse_t *hub);
/** sa_http_sse_close_all, then free. Call after the HTTP server stopped. */
void sa_http_sse_free(sa_http_sse_t *hub);
/** @returns the streams open now. */
int sa_http_sse_clients(sa_http_sse_t *hub);

/**
 * Answer @p req with a stream whose bytes come from @p next(@p ctx, ...). @p ctx is taken: freed
 * with @p ctx_free (may be NULL) when the stream ends. @p max_clients > 0: a 503 when that many
 * streams are open already (ctx is freed then too).
 */
enum MHD_Result sa_http_sse_open(sa_http_sse_t *hub, sa_http_req_t *req, sa_http_sse_next_t next, void *ctx,
                                 void (*ctx_free)(void *ctx), int max_clients);

#endif
