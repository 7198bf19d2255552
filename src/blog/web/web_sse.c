/*
 * web_sse.c - GET /api/events: Server-Sent Events without a thread per client.
 *
 * Each stream is a libmicrohttpd callback response. When the event ring has no event the client has
 * not seen, the callback suspends its connection and returns 0; the ring's notify hook (after
 * any new event) and a ticker thread (every TICK_MS, for the "stats" event that carries the
 * queue statistics: BEAT_MS after the last one, or AFTER_MS after a post or status event, so the
 * counts follow every event) resume the suspended ones.
 *
 * Invariants:
 *  1. `suspended` is set and MHD_suspend_connection called under `lock`, after re-checking the
 *     ring's sequence under that lock, so an event can never slip between the check and the
 *     suspension unnoticed (notify takes the same lock before resuming).
 *  2. A client is in the list exactly while its response exists: it is unlinked (under `lock`)
 *     by the response's free callback, so notify never touches a freed connection.
 *  3. Lock order: the ring's lock is never held while taking `lock` (the ring notifies after
 *     unlocking), and `lock` is never held while taking the ring's lock.
 */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "blog/web/web_int.h"
#include "core/mem.h"
#include "core/time.h"

#define BEAT_MS  1000  /* heartbeat: a "stats" event at least this often */
#define AFTER_MS 200   /* ... and this soon after a post or status event (the counts moved) */
#define TICK_MS  100   /* how often the ticker looks for streams whose stats are due */
#define BLOCK    16384 /* largest write libmicrohttpd asks of one callback */

typedef struct sse_client_s {
    sa_web_sse_t *sse;
    struct MHD_Connection *conn;
    uint64_t seq;         /* the last event sent */
    int suspended;        /* under sse->lock */
    int hello;            /* the retry: line was sent */
    int64_t next_beat_ms; /* monotonic time of the next heartbeat */
    struct sse_client_s *prev, *next;
} sse_client_t;

struct sa_web_sse_s {
    sa_web_server_t *srv;
    pthread_mutex_t lock;
    pthread_cond_t cond;
    sse_client_t *head;
    int clients;
    int closing;
    int ticker_started;
    pthread_t ticker;
};

static void resume_all(sa_web_sse_t *sse, int beat_due_only) {
    int64_t now = sa_mono_ms();
    for (sse_client_t *c = sse->head; c; c = c->next)
        if (c->suspended && (!beat_due_only || now >= c->next_beat_ms)) {
            c->suspended = 0;
            MHD_resume_connection(c->conn);
        }
}

static void *ticker_main(void *arg) {
    sa_web_sse_t *sse = arg;
    pthread_mutex_lock(&sse->lock);
    while (!sse->closing) {
        struct timespec ts;
        clock_gettime(CLOCK_REALTIME, &ts);
        ts.tv_nsec += TICK_MS * 1000000L;
        if (ts.tv_nsec >= 1000000000L) ts.tv_sec++, ts.tv_nsec -= 1000000000L;
        pthread_cond_timedwait(&sse->cond, &sse->lock, &ts);
        resume_all(sse, 1);
    }
    pthread_mutex_unlock(&sse->lock);
    return NULL;
}

sa_web_sse_t *sa_web_sse_new(sa_web_server_t *srv) {
    sa_web_sse_t *sse = sa_new(sa_web_sse_t);
    sse->srv = srv;
    pthread_mutex_init(&sse->lock, NULL);
    pthread_cond_init(&sse->cond, NULL);
    sse->ticker_started = !pthread_create(&sse->ticker, NULL, ticker_main, sse);
    return sse;
}

void sa_web_sse_notify(void *opaque) {
    sa_web_sse_t *sse = opaque;
    pthread_mutex_lock(&sse->lock);
    resume_all(sse, 0);
    pthread_mutex_unlock(&sse->lock);
}

void sa_web_sse_close_all(sa_web_sse_t *sse) {
    pthread_mutex_lock(&sse->lock);
    sse->closing = 1;
    resume_all(sse, 0);
    pthread_cond_broadcast(&sse->cond);
    pthread_mutex_unlock(&sse->lock);
    if (sse->ticker_started) {
        pthread_join(sse->ticker, NULL);
        sse->ticker_started = 0;
    }
}

void sa_web_sse_free(sa_web_sse_t *sse) {
    if (!sse) return;
    sa_web_sse_close_all(sse);
    pthread_cond_destroy(&sse->cond);
    pthread_mutex_destroy(&sse->lock);
    free(sse);
}

int sa_web_sse_clients(sa_web_sse_t *sse) {
    pthread_mutex_lock(&sse->lock);
    int n = sse->clients;
    pthread_mutex_unlock(&sse->lock);
    return n;
}

static ssize_t reader(void *cls, uint64_t pos, char *buf, size_t max) {
    (void)pos;
    sse_client_t *c = cls;
    sa_web_sse_t *sse = c->sse;
    sa_web_events_t *events = sse->srv->events;
    if (!c->hello) {
        c->hello = 1;
        /* the reconnect delay, and a first line so proxies and browsers see the stream open */
        return snprintf(buf, max, "retry: 2000\n: samsa\n\n");
    }
    for (;;) {
        pthread_mutex_lock(&sse->lock);
        int closing = sse->closing;
        pthread_mutex_unlock(&sse->lock);
        if (closing) return MHD_CONTENT_READER_END_OF_STREAM;
        size_t n = sa_web_events_after(events, &c->seq, buf, max);
        if (n) {
            int64_t soon = sa_mono_ms() + AFTER_MS; /* coalesced: one stats event per burst */
            if (c->next_beat_ms > soon) c->next_beat_ms = soon;
            return (ssize_t)n;
        }
        if (sa_mono_ms() >= c->next_beat_ms) {
            c->next_beat_ms = sa_mono_ms() + BEAT_MS;
            json_t *stats = sa_web_stats_json(sse->srv);
            json_object_set_new(stats, "sse_clients", json_integer(sa_web_sse_clients(sse)));
            char *data = json_dumps(stats, JSON_COMPACT | JSON_REAL_PRECISION(10));
            json_decref(stats);
            int len = snprintf(buf, max, "event: stats\ndata: %s\n\n", data ? data : "{}");
            free(data);
            if (len > 0 && (size_t)len < max) return len;
        }
        pthread_mutex_lock(&sse->lock);
        if (sa_web_events_seq(events) == c->seq && !sse->closing) {
            c->suspended = 1;
            MHD_suspend_connection(c->conn);
            pthread_mutex_unlock(&sse->lock);
            return 0; /* called again once resumed */
        }
        pthread_mutex_unlock(&sse->lock);
    }
}

static void reader_free(void *cls) {
    sse_client_t *c = cls;
    sa_web_sse_t *sse = c->sse;
    pthread_mutex_lock(&sse->lock);
    if (c->prev)
        c->prev->next = c->next;
    else
        sse->head = c->next;
    if (c->next) c->next->prev = c->prev;
    sse->clients--;
    pthread_mutex_unlock(&sse->lock);
    free(c);
}

enum MHD_Result sa_web_sse_open(req_t *req) {
    sa_web_sse_t *sse = req->srv->sse;
    sse_client_t *c = sa_new(sse_client_t);
    c->sse = sse;
    c->conn = req->conn;
    uint64_t now_seq = sa_web_events_seq(req->srv->events);
    c->seq = now_seq;
    const char *last = MHD_lookup_connection_value(req->conn, MHD_HEADER_KIND, "Last-Event-ID");
    if (last && *last) { /* resume after a reconnect: replay what the ring still holds */
        char *end;
        unsigned long long v = strtoull(last, &end, 10);
        if (!*end && v <= now_seq) c->seq = v;
    }
    c->next_beat_ms = sa_mono_ms() + BEAT_MS;
    pthread_mutex_lock(&sse->lock);
    c->next = sse->head;
    if (sse->head) sse->head->prev = c;
    sse->head = c;
    sse->clients++;
    pthread_mutex_unlock(&sse->lock);
    struct MHD_Response *resp =
        MHD_create_response_from_callback(MHD_SIZE_UNKNOWN, BLOCK, reader, c, reader_free);
    MHD_add_response_header(resp, "Content-Type", "text/event-stream; charset=utf-8");
    MHD_add_response_header(resp, "Cache-Control", "no-cache");
    MHD_add_response_header(resp, "X-Content-Type-Options", "nosniff");
    MHD_add_response_header(resp, "X-Accel-Buffering", "no");
    enum MHD_Result rc = MHD_queue_response(req->conn, 200, resp);
    MHD_destroy_response(resp);
    sa_web_metrics_request(req->srv->metrics, req->route, 200);
    return rc;
}
