/*
 * web_events.c - the ring of live events (see web_events.h).
 */
#include "blog/web/web_events.h"

#include "blog/web/web_html.h"

#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <string.h>

#include "core/mem.h"

#define RING_SIZE 1024 /* events kept for SSE clients that fall behind or reconnect */

typedef struct event_s {
    uint64_t seq;
    char *text; /* owned SSE text of the event */
    size_t len;
} event_t;

struct sa_web_events_s {
    pthread_mutex_t lock;
    event_t ring[RING_SIZE];
    _Atomic uint64_t seq; /* newest event */
    void (*notify)(void *opaque);
    void *opaque;
};

sa_web_events_t *sa_web_events_new(void (*notify)(void *opaque), void *opaque) {
    sa_web_events_t *ev = sa_new(sa_web_events_t);
    pthread_mutex_init(&ev->lock, NULL);
    ev->notify = notify;
    ev->opaque = opaque;
    return ev;
}

void sa_web_events_free(sa_web_events_t *ev) {
    if (!ev) return;
    for (int i = 0; i < RING_SIZE; i++) free(ev->ring[i].text);
    pthread_mutex_destroy(&ev->lock);
    free(ev);
}

void sa_web_events_emit(sa_web_events_t *ev, const char *name, const json_t *post) {
    json_t *data = json_copy((json_t *)post);
    const char *content = json_string_value(json_object_get(post, "content"));
    if (content) { /* the feed shows the start of the text; the rest stays out of the stream */
        size_t n = sa_html_excerpt_len(content, SA_HTML_EXCERPT_CHARS), len = strlen(content);
        char *ex = sa_malloc(n + 4);
        memcpy(ex, content, n);
        memcpy(ex + n, n < len ? "\xe2\x80\xa6" : "", n < len ? 4 : 1);
        json_object_set_new(data, "excerpt", json_string(ex));
        free(ex);
    }
    json_object_del(data, "content");
    json_object_del(data, "metrics");
    char *json = json_dumps(data, JSON_COMPACT | JSON_REAL_PRECISION(10));
    json_decref(data);
    if (!json) return;
    size_t size = strlen(json) + strlen(name) + 64;
    char *text = sa_malloc(size);
    pthread_mutex_lock(&ev->lock);
    uint64_t seq = atomic_load(&ev->seq) + 1;
    event_t *e = &ev->ring[seq % RING_SIZE];
    free(e->text);
    e->text = text;
    e->len = (size_t)snprintf(text, size, "id: %llu\nevent: %s\ndata: %s\n\n", (unsigned long long)seq, name,
                              json);
    e->seq = seq;
    atomic_store(&ev->seq, seq);
    pthread_mutex_unlock(&ev->lock);
    free(json);
    if (ev->notify) ev->notify(ev->opaque);
}

uint64_t sa_web_events_seq(sa_web_events_t *ev) { return atomic_load(&ev->seq); }

size_t sa_web_events_after(sa_web_events_t *ev, uint64_t *seq, char *out, size_t max) {
    size_t used = 0;
    pthread_mutex_lock(&ev->lock);
    uint64_t newest = atomic_load(&ev->seq);
    if (*seq > newest) *seq = newest; /* an id from another server or an earlier run */
    if (newest - *seq > RING_SIZE) *seq = newest - RING_SIZE;
    while (*seq < newest) {
        const event_t *e = &ev->ring[(*seq + 1) % RING_SIZE];
        if (e->len > max - used) {
            if (used == 0) (*seq)++; /* larger than any write the client can take: drop it */
            break;
        }
        memcpy(out + used, e->text, e->len);
        used += e->len;
        (*seq)++;
    }
    pthread_mutex_unlock(&ev->lock);
    return used;
}
