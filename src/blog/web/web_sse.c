/*
 * web_sse.c - GET /api/events: the blog's live events and the "stats" heartbeat as a
 * Server-Sent Events stream on the shared plumbing (http/http_sse.h).
 *
 * A stream sends the events of the ring (web_events.h) after the last one it sent; when there are
 * none, a "stats" event with the queue statistics BEAT_MS after the last one, or AFTER_MS after a
 * post or status event (the counts moved; coalesced: one per burst). Otherwise it waits: the
 * ring notifies the hub after each new event, and the hub wakes the stream when its stats are due.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "blog/web/web_int.h"
#include "core/mem.h"
#include "core/time.h"

#define BEAT_MS  1000 /* heartbeat: a "stats" event at least this often */
#define AFTER_MS 200  /* ... and this soon after a post or status event (the counts moved) */

typedef struct stream_s {
    sa_web_server_t *srv;
    uint64_t seq;         /* the last event sent */
    int64_t next_beat_ms; /* monotonic time of the next heartbeat */
} stream_t;

static ssize_t next(void *ctx, char *buf, size_t max, int64_t *wake_ms) {
    stream_t *st = ctx;
    size_t n = sa_web_events_after(st->srv->events, &st->seq, buf, max);
    if (n) {
        int64_t soon = sa_mono_ms() + AFTER_MS;
        if (st->next_beat_ms > soon) st->next_beat_ms = soon;
        return (ssize_t)n;
    }
    if (sa_mono_ms() >= st->next_beat_ms) {
        st->next_beat_ms = sa_mono_ms() + BEAT_MS;
        json_t *stats = sa_web_stats_json(st->srv);
        json_object_set_new(stats, "sse_clients", json_integer(sa_http_sse_clients(st->srv->sse)));
        char *data = json_dumps(stats, JSON_COMPACT | JSON_REAL_PRECISION(10));
        json_decref(stats);
        int len = snprintf(buf, max, "event: stats\ndata: %s\n\n", data ? data : "{}");
        free(data);
        if (len > 0 && (size_t)len < max) return len;
    }
    *wake_ms = st->next_beat_ms;
    return 0;
}

enum MHD_Result sa_web_sse_open(req_t *req) {
    stream_t *st = sa_new(stream_t);
    st->srv = req->srv;
    uint64_t now_seq = sa_web_events_seq(req->srv->events);
    st->seq = now_seq;
    const char *last = sa_http_header(req->http, "Last-Event-ID");
    if (last && *last) { /* resume after a reconnect: replay what the ring still holds */
        char *end;
        unsigned long long v = strtoull(last, &end, 10);
        if (!*end && v <= now_seq) st->seq = v;
    }
    st->next_beat_ms = sa_mono_ms() + BEAT_MS;
    return sa_http_sse_open(req->srv->sse, req->http, next, st, free, 0);
}
