/*
 * http_guard.c - connection deadlines and the origin rule (see http_guard.h).
 *
 * Invariants:
 *  1. a connection is in the list from its STARTED notification to its CLOSED one; libmicrohttpd
 *     sends CLOSED before it closes the socket, and the reaper calls shutdown() only under `lock`
 *     on listed connections, so it never touches a descriptor that was closed (and maybe reused);
 *  2. deadline_ms 0 means none; a reaped connection's deadline is cleared, so it is shut once.
 */
#include "http/http_guard.h"

#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>

#include "core/mem.h"
#include "core/time.h"

#define REAP_EVERY_MS 200

typedef struct guard_conn_s {
    int fd;              /* the connection's socket (libmicrohttpd's) */
    int64_t deadline_ms; /* monotonic; 0: none */
    struct guard_conn_s *prev, *next;
} guard_conn_t;

struct sa_http_guard_s {
    int64_t header_ms, body_ms;
    pthread_mutex_t lock;
    pthread_cond_t cond;
    guard_conn_t *head;
    int closing;
    int started;
    uint64_t reaped;
    pthread_t reaper;
};

static void *reaper_main(void *arg) {
    sa_http_guard_t *g = arg;
    pthread_mutex_lock(&g->lock);
    while (!g->closing) {
        struct timespec ts;
        clock_gettime(CLOCK_REALTIME, &ts);
        ts.tv_nsec += REAP_EVERY_MS * 1000000L;
        if (ts.tv_nsec >= 1000000000L) ts.tv_sec++, ts.tv_nsec -= 1000000000L;
        pthread_cond_timedwait(&g->cond, &g->lock, &ts);
        int64_t now = sa_mono_ms();
        for (guard_conn_t *c = g->head; c; c = c->next)
            if (c->deadline_ms && now >= c->deadline_ms) {
                c->deadline_ms = 0;
                shutdown(c->fd, SHUT_RDWR); /* libmicrohttpd sees EOF and closes it */
                g->reaped++;
            }
    }
    pthread_mutex_unlock(&g->lock);
    return NULL;
}

sa_http_guard_t *sa_http_guard_new(int64_t header_timeout_ms, int64_t body_timeout_ms) {
    sa_http_guard_t *g = sa_new(sa_http_guard_t);
    g->header_ms = header_timeout_ms;
    g->body_ms = body_timeout_ms;
    pthread_mutex_init(&g->lock, NULL);
    pthread_cond_init(&g->cond, NULL);
    g->started = !pthread_create(&g->reaper, NULL, reaper_main, g);
    if (!g->started) {
        sa_http_guard_free(g);
        return NULL;
    }
    return g;
}

void sa_http_guard_free(sa_http_guard_t *g) {
    if (!g) return;
    pthread_mutex_lock(&g->lock);
    g->closing = 1;
    pthread_cond_broadcast(&g->cond);
    pthread_mutex_unlock(&g->lock);
    if (g->started) pthread_join(g->reaper, NULL);
    while (g->head) { /* none after the daemon stopped; freed anyway */
        guard_conn_t *c = g->head;
        g->head = c->next;
        free(c);
    }
    pthread_cond_destroy(&g->cond);
    pthread_mutex_destroy(&g->lock);
    free(g);
}

void sa_http_guard_notify(void *cls, struct MHD_Connection *conn, void **socket_context,
                          enum MHD_ConnectionNotificationCode code) {
    sa_http_guard_t *g = cls;
    if (code == MHD_CONNECTION_NOTIFY_STARTED) {
        const union MHD_ConnectionInfo *info =
            MHD_get_connection_info(conn, MHD_CONNECTION_INFO_CONNECTION_FD);
        guard_conn_t *c = sa_new(guard_conn_t);
        c->fd = info ? info->connect_fd : -1;
        pthread_mutex_lock(&g->lock);
        c->deadline_ms = c->fd >= 0 ? sa_mono_ms() + g->header_ms : 0;
        c->next = g->head;
        if (g->head) g->head->prev = c;
        g->head = c;
        pthread_mutex_unlock(&g->lock);
        *socket_context = c;
        return;
    }
    guard_conn_t *c = *socket_context;
    if (!c) return;
    pthread_mutex_lock(&g->lock);
    if (c->prev)
        c->prev->next = c->next;
    else
        g->head = c->next;
    if (c->next) c->next->prev = c->prev;
    pthread_mutex_unlock(&g->lock);
    free(c);
    *socket_context = NULL;
}

void sa_http_guard_phase(sa_http_guard_t *g, struct MHD_Connection *conn, sa_http_phase_t phase) {
    const union MHD_ConnectionInfo *info = MHD_get_connection_info(conn, MHD_CONNECTION_INFO_SOCKET_CONTEXT);
    guard_conn_t *c = info ? info->socket_context : NULL;
    if (!c) return;
    pthread_mutex_lock(&g->lock);
    if (c->fd >= 0)
        c->deadline_ms = phase == SA_HTTP_PHASE_HEADERS ? sa_mono_ms() + g->header_ms
                         : phase == SA_HTTP_PHASE_BODY  ? sa_mono_ms() + g->body_ms
                                                        : 0;
    pthread_mutex_unlock(&g->lock);
}

uint64_t sa_http_guard_reaped(sa_http_guard_t *g) {
    pthread_mutex_lock(&g->lock);
    uint64_t n = g->reaped;
    pthread_mutex_unlock(&g->lock);
    return n;
}

/* @returns 1 if @p origin is "http://HOST" or "https://HOST" (scheme case-insensitive). */
static int same_origin(const char *origin, const char *host) {
    if (!host || !*host) return 0;
    const char *rest = !strncasecmp(origin, "http://", 7)    ? origin + 7
                       : !strncasecmp(origin, "https://", 8) ? origin + 8
                                                             : NULL;
    return rest && !strcasecmp(rest, host);
}

sa_http_origin_t sa_http_guard_origin(const char *origin, const char *sec_fetch_site, const char *host,
                                      const sa_strlist_t *allowed) {
    if (origin) {
        if (same_origin(origin, host)) return SA_HTTP_ORIGIN_OK;
        for (size_t i = 0; allowed && i < allowed->n; i++)
            if (!strcasecmp(origin, allowed->v[i])) return SA_HTTP_ORIGIN_OK;
        return SA_HTTP_ORIGIN_FOREIGN;
    }
    if (sec_fetch_site &&
        (!strcasecmp(sec_fetch_site, "cross-site") || !strcasecmp(sec_fetch_site, "same-site")))
        return SA_HTTP_ORIGIN_CROSS_SITE;
    return SA_HTTP_ORIGIN_OK;
}
