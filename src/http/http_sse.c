/*
 * http_sse.c - Server-Sent Events streams suspended between events (see http_sse.h).
 */
#include "http/http_sse.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/mem.h"
#include "core/time.h"

#define BLOCK 16384 /* largest write libmicrohttpd asks of one callback */

typedef struct sse_client_s {
    sa_http_sse_t *hub;
    struct MHD_Connection *conn;
    sa_http_sse_next_t next;
    void *ctx;
    void (*ctx_free)(void *ctx);
    int suspended;   /* under hub->lock */
    int hello;       /* the retry: line was sent */
    int64_t wake_ms; /* monotonic; 0: only on notify (under hub->lock) */
    struct sse_client_s *prev, *next_client;
} sse_client_t;

struct sa_http_sse_s {
    pthread_mutex_t lock;
    pthread_cond_t cond;
    sse_client_t *head;
    uint64_t generation; /* bumped by every notify */
    int clients;
    int closing;
    int ticker_started;
    pthread_t ticker;
};

/* Resume the suspended streams (all, or only those whose wake time passed); under hub->lock. */
static void resume_locked(sa_http_sse_t *hub, int due_only) {
    int64_t now = sa_mono_ms();
    for (sse_client_t *c = hub->head; c; c = c->next_client)
        if (c->suspended && (!due_only || (c->wake_ms && now >= c->wake_ms))) {
            c->suspended = 0;
            MHD_resume_connection(c->conn);
        }
}

static void *ticker_main(void *arg) {
    sa_http_sse_t *hub = arg;
    pthread_mutex_lock(&hub->lock);
    while (!hub->closing) {
        struct timespec ts;
        clock_gettime(CLOCK_REALTIME, &ts);
        ts.tv_nsec += SA_HTTP_SSE_TICK_MS * 1000000L;
        if (ts.tv_nsec >= 1000000000L) ts.tv_sec++, ts.tv_nsec -= 1000000000L;
        pthread_cond_timedwait(&hub->cond, &hub->lock, &ts);
        resume_locked(hub, 1);
    }
    pthread_mutex_unlock(&hub->lock);
    return NULL;
}

sa_http_sse_t *sa_http_sse_new(void) {
    sa_http_sse_t *hub = sa_new(sa_http_sse_t);
    pthread_mutex_init(&hub->lock, NULL);
    pthread_cond_init(&hub->cond, NULL);
    hub->ticker_started = !pthread_create(&hub->ticker, NULL, ticker_main, hub);
    return hub;
}

void sa_http_sse_notify(void *opaque) {
    sa_http_sse_t *hub = opaque;
    pthread_mutex_lock(&hub->lock);
    hub->generation++;
    resume_locked(hub, 0);
    pthread_mutex_unlock(&hub->lock);
}

void sa_http_sse_close_all(sa_http_sse_t *hub) {
    pthread_mutex_lock(&hub->lock);
    hub->closing = 1;
    hub->generation++;
    resume_locked(hub, 0);
    pthread_cond_broadcast(&hub->cond);
    pthread_mutex_unlock(&hub->lock);
    if (hub->ticker_started) {
        pthread_join(hub->ticker, NULL);
        hub->ticker_started = 0;
    }
}

void sa_http_sse_free(sa_http_sse_t *hub) {
    if (!hub) return;
    sa_http_sse_close_all(hub);
    pthread_cond_destroy(&hub->cond);
    pthread_mutex_destroy(&hub->lock);
    free(hub);
}

int sa_http_sse_clients(sa_http_sse_t *hub) {
    pthread_mutex_lock(&hub->lock);
    int n = hub->clients;
    pthread_mutex_unlock(&hub->lock);
    return n;
}

static ssize_t reader(void *cls, uint64_t pos, char *buf, size_t max) {
    (void)pos;
    sse_client_t *c = cls;
    sa_http_sse_t *hub = c->hub;
    if (!c->hello) {
        c->hello = 1;
        /* the reconnect delay, and a first line so proxies and browsers see the stream open */
        return snprintf(buf, max, "retry: 2000\n: samsa\n\n");
    }
    for (;;) {
        pthread_mutex_lock(&hub->lock);
        int closing = hub->closing;
        uint64_t gen = hub->generation;
        pthread_mutex_unlock(&hub->lock);
        if (closing) return MHD_CONTENT_READER_END_OF_STREAM;
        int64_t wake = 0;
        ssize_t n = c->next(c->ctx, buf, max, &wake);
        if (n < 0) return MHD_CONTENT_READER_END_OF_STREAM;
        if (n > 0) return n;
        pthread_mutex_lock(&hub->lock);
        if (hub->generation == gen && !hub->closing && (!wake || sa_mono_ms() < wake)) {
            c->wake_ms = wake;
            c->suspended = 1;
            MHD_suspend_connection(c->conn);
            pthread_mutex_unlock(&hub->lock);
            return 0; /* called again once resumed */
        }
        pthread_mutex_unlock(&hub->lock);
    }
}

static void reader_free(void *cls) {
    sse_client_t *c = cls;
    sa_http_sse_t *hub = c->hub;
    pthread_mutex_lock(&hub->lock);
    if (c->prev)
        c->prev->next_client = c->next_client;
    else
        hub->head = c->next_client;
    if (c->next_client) c->next_client->prev = c->prev;
    hub->clients--;
    pthread_mutex_unlock(&hub->lock);
    if (c->ctx_free) c->ctx_free(c->ctx);
    free(c);
}

enum MHD_Result sa_http_sse_open(sa_http_sse_t *hub, sa_http_req_t *req, sa_http_sse_next_t next, void *ctx,
                                 void (*ctx_free)(void *ctx), int max_clients) {
    pthread_mutex_lock(&hub->lock);
    int full = max_clients > 0 && hub->clients >= max_clients;
    pthread_mutex_unlock(&hub->lock);
    if (full) {
        if (ctx_free) ctx_free(ctx);
        return sa_http_respond_error(req, 503, "too many open streams; try again later",
                                     (const char *[]){"Retry-After", "5", NULL});
    }
    sse_client_t *c = sa_new(sse_client_t);
    c->hub = hub;
    c->conn = req->conn;
    c->next = next;
    c->ctx = ctx;
    c->ctx_free = ctx_free;
    pthread_mutex_lock(&hub->lock);
    c->next_client = hub->head;
    if (hub->head) hub->head->prev = c;
    hub->head = c;
    hub->clients++;
    pthread_mutex_unlock(&hub->lock);
    struct MHD_Response *resp =
        MHD_create_response_from_callback(MHD_SIZE_UNKNOWN, BLOCK, reader, c, reader_free);
    MHD_add_response_header(resp, "Content-Type", "text/event-stream; charset=utf-8");
    MHD_add_response_header(resp, "Cache-Control", "no-cache");
    MHD_add_response_header(resp, "X-Content-Type-Options", "nosniff");
    MHD_add_response_header(resp, "X-Accel-Buffering", "no");
    enum MHD_Result rc = MHD_queue_response(req->conn, 200, resp);
    MHD_destroy_response(resp);
    sa_http_count(req, 200);
    return rc;
}
