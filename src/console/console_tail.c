/*
 * console_tail.c - GET /messages/tail?topic=T[&partition=P][&key=..&value=..&header=..]: the
 * live tail of a topic as Server-Sent Events ("event: message", data: the record as JSON), on the
 * shared SSE plumbing (http/http_sse.h).
 *
 * Each stream has its own reader consumer at the end of the topic (cs_tail_new), so at most
 * --max-tails are open at once (then 503). A stream polls its consumer without waiting every
 * POLL_MS (the hub's ticker wakes it) and sends what arrived, filtered like the browser.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "console/console_int.h"
#include "core/mem.h"
#include "core/time.h"

#define POLL_MS  200   /* how often a stream looks for new records */
#define BEAT_MS  15000 /* a comment line at least this often, so proxies keep the stream */
#define MAX_SEND 64    /* records in one write at most */

typedef struct tail_stream_s {
    cs_tail_t *tail;
    cs_filter_t filter; /* its strings owned here */
    char *key, *value, *header;
    int64_t next_beat_ms;
    uint64_t sent;
} tail_stream_t;

static void stream_free(void *ctx) {
    tail_stream_t *ts = ctx;
    cs_tail_free(ts->tail);
    free(ts->key);
    free(ts->value);
    free(ts->header);
    free(ts);
}

static ssize_t next(void *ctx, char *buf, size_t max, int64_t *wake_ms) {
    tail_stream_t *ts = ctx;
    size_t used = 0;
    cs_record_t r;
    for (int i = 0; i < MAX_SEND && used + 1024 < max && cs_tail_poll(ts->tail, &ts->filter, &r); i++) {
        json_t *doc = cs_record_json(&r);
        cs_record_clear(&r);
        char *data = json_dumps(doc, JSON_COMPACT);
        json_decref(doc);
        if (!data) continue;
        size_t need = strlen(data) + 64;
        if (used + need < max) {
            used += (size_t)snprintf(buf + used, max - used, "id: %llu\nevent: message\ndata: %s\n\n",
                                     (unsigned long long)++ts->sent, data);
        } else if (!used) { /* one record larger than a write: say so instead */
            used = (size_t)snprintf(buf, max, "event: too-large\ndata: {}\n\n");
        }
        free(data);
    }
    if (used) return (ssize_t)used;
    int64_t now = sa_mono_ms();
    if (now >= ts->next_beat_ms) {
        ts->next_beat_ms = now + BEAT_MS;
        return snprintf(buf, max, ": beat\n\n");
    }
    *wake_ms = now + POLL_MS;
    return 0;
}

enum MHD_Result cs_tail_open(sa_http_req_t *req) {
    sa_console_t *c = req->app;
    cs_browse_t b;
    cs_msg_t bad;
    if (cs_browse_from_query(req, &b, &bad) || !b.topic)
        return sa_http_respond_error(req, 400, b.topic ? cs_t(SA_LANG_EN, bad) : "topic is required", NULL);
    if (sa_http_sse_clients(c->sse) >= c->conf->max_tails)
        return sa_http_respond_error(req, 503, "too many live tails; try again later",
                                     (const char *[]){"Retry-After", "5", NULL});
    char errstr[512];
    cs_tail_t *tail = cs_tail_new(c->kafka, b.topic, b.partition, errstr, sizeof(errstr));
    if (!tail) return sa_http_respond_error(req, 404, errstr, NULL);
    tail_stream_t *ts = sa_new(tail_stream_t);
    ts->tail = tail;
    ts->key = b.filter.key ? sa_strdup(b.filter.key) : NULL;
    ts->value = b.filter.value ? sa_strdup(b.filter.value) : NULL;
    ts->header = b.filter.header ? sa_strdup(b.filter.header) : NULL;
    ts->filter = (cs_filter_t){ts->key, ts->value, ts->header, -1, -1};
    ts->next_beat_ms = sa_mono_ms() + BEAT_MS;
    return sa_http_sse_open(c->sse, req, next, ts, stream_free, (int)c->conf->max_tails);
}
