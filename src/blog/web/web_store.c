/*
 * web_store.c - the in-memory cache of posts and the event ring (see web_store.h).
 *
 * Layout: `by_id` (a jansson object, its hash table) maps id -> the current immutable post;
 * `ids` keeps the ids sorted so the feed reads newest first (ULIDs sort by time; appends are the
 * common case, so insertion is a binary search and usually no move); `keys` maps idempotency
 * keys -> ids and `inflight` marks keys whose produce has not been acknowledged yet; `early` holds
 * results that came before their operation.
 */
#include "blog/web/web_store.h"

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

struct sa_web_store_s {
    pthread_mutex_t lock;
    json_t *by_id;                /* id -> post */
    json_t *keys;                 /* idempotency key -> id */
    json_t *inflight;             /* idempotency key -> id while its produce is in flight */
    json_t *early;                /* id -> result that arrived before the operation */
    char (*ids)[SA_ULID_LEN + 1]; /* sorted ascending */
    size_t n_ids, cap_ids;
    sa_web_stats_t stats;
    event_t ring[RING_SIZE];
    _Atomic uint64_t seq; /* newest event */
    void (*notify)(void *opaque);
    void *opaque;
};

sa_web_store_t *sa_web_store_new(void (*notify)(void *opaque), void *opaque) {
    sa_web_store_t *store = sa_new(sa_web_store_t);
    pthread_mutex_init(&store->lock, NULL);
    store->by_id = json_object();
    store->keys = json_object();
    store->inflight = json_object();
    store->early = json_object();
    store->notify = notify;
    store->opaque = opaque;
    return store;
}

void sa_web_store_free(sa_web_store_t *store) {
    if (!store) return;
    json_decref(store->by_id);
    json_decref(store->keys);
    json_decref(store->inflight);
    json_decref(store->early);
    free(store->ids);
    for (int i = 0; i < RING_SIZE; i++) free(store->ring[i].text);
    pthread_mutex_destroy(&store->lock);
    free(store);
}

/* Under the lock: append an event with @p name and the compact JSON of @p data (borrowed). */
static void emit(sa_web_store_t *store, const char *name, const json_t *data) {
    char *json = json_dumps(data, JSON_COMPACT | JSON_REAL_PRECISION(10));
    if (!json) return;
    uint64_t seq = atomic_load(&store->seq) + 1;
    event_t *ev = &store->ring[seq % RING_SIZE];
    free(ev->text);
    size_t size = strlen(json) + strlen(name) + 64;
    ev->text = sa_malloc(size);
    ev->len = (size_t)snprintf(ev->text, size, "id: %llu\nevent: %s\ndata: %s\n\n", (unsigned long long)seq,
                               name, json);
    ev->seq = seq;
    free(json);
    atomic_store(&store->seq, seq);
}

static void notify(sa_web_store_t *store) {
    if (store->notify) store->notify(store->opaque);
}

/* The part of a post an event carries: everything but the (possibly long) content. */
static json_t *event_data(const json_t *post) {
    json_t *data = json_copy((json_t *)post);
    json_object_del(data, "content");
    json_object_del(data, "metrics");
    return data;
}

static void count_status(sa_web_stats_t *st, const char *status, int delta) {
    if (!status || !strcmp(status, "queued"))
        st->queued += delta;
    else {
        st->processed += delta;
        if (!strcmp(status, "published"))
            st->published += delta;
        else if (!strcmp(status, "review"))
            st->review += delta;
        else if (!strcmp(status, "rejected"))
            st->rejected += delta;
    }
}

static void insert_id(sa_web_store_t *store, const char *id) {
    size_t lo = 0, hi = store->n_ids;
    while (lo < hi) { /* first index whose id is greater */
        size_t mid = (lo + hi) / 2;
        if (strcmp(store->ids[mid], id) <= 0)
            lo = mid + 1;
        else
            hi = mid;
    }
    if (store->n_ids == store->cap_ids) {
        store->cap_ids = store->cap_ids ? store->cap_ids * 2 : 1024;
        store->ids = sa_realloc(store->ids, store->cap_ids * sizeof(*store->ids));
    }
    memmove(store->ids + lo + 1, store->ids + lo, (store->n_ids - lo) * sizeof(*store->ids));
    memcpy(store->ids[lo], id, SA_ULID_LEN + 1);
    store->n_ids++;
}

/* Under the lock: a copy of @p post with the verdict fields of @p result; new reference. */
static json_t *with_result(const json_t *post, const json_t *result) {
    json_t *next = json_copy((json_t *)post);
    static const char *const fields[] = {"status", "score", "reasons", "metrics", "processed_at", "worker"};
    for (size_t i = 0; i < SA_ARRAY_LEN(fields); i++) {
        json_t *v = json_object_get(result, fields[i]);
        if (v) json_object_set(next, fields[i], v);
    }
    return next;
}

int sa_web_store_apply_op(sa_web_store_t *store, const json_t *op) {
    const char *type = json_string_value(json_object_get(op, "type"));
    const char *id = json_string_value(json_object_get(op, "id"));
    if (!type || strcmp(type, "create_post") || !sa_ulid_valid(id)) return -1;
    int rc = 0, emitted = 0;
    pthread_mutex_lock(&store->lock);
    const char *key = json_string_value(json_object_get(op, "idempotency_key"));
    if (key && *key) {
        json_object_set_new(store->keys, key, json_string(id));
        const char *fl = json_string_value(json_object_get(store->inflight, key));
        if (fl && !strcmp(fl, id)) json_object_del(store->inflight, key);
    }
    if (json_object_get(store->by_id, id)) goto out; /* replayed or produced twice: first wins */
    json_t *post = json_object();
    static const char *const fields[] = {"title", "content", "author", "lang", "submitted_at"};
    for (size_t i = 0; i < SA_ARRAY_LEN(fields); i++) {
        json_t *v = json_object_get(op, fields[i]);
        json_object_set_new(post, fields[i], json_is_string(v) ? json_copy(v) : json_string(""));
    }
    json_object_set_new(post, "id", json_string(id));
    json_object_set_new(post, "status", json_string("queued"));
    json_object_set_new(post, "score", json_null());
    json_object_set_new(post, "reasons", json_array());
    json_t *early = json_object_get(store->early, id);
    if (early) {
        json_t *next = with_result(post, early);
        json_decref(post);
        post = next;
        json_object_del(store->early, id);
    }
    store->stats.posts++;
    count_status(&store->stats, json_string_value(json_object_get(post, "status")), +1);
    json_object_set_new(store->by_id, id, post);
    insert_id(store, id);
    json_t *data = event_data(post);
    emit(store, "post", data);
    json_decref(data);
    emitted = 1;
    rc = 1;
out:
    pthread_mutex_unlock(&store->lock);
    if (emitted) notify(store);
    return rc;
}

int sa_web_store_apply_result(sa_web_store_t *store, const json_t *result) {
    const char *id = json_string_value(json_object_get(result, "id"));
    const char *status = json_string_value(json_object_get(result, "status"));
    if (!sa_ulid_valid(id) || !status) return -1;
    pthread_mutex_lock(&store->lock);
    json_t *post = json_object_get(store->by_id, id);
    if (!post) {
        json_object_set(store->early, id, (json_t *)result);
        pthread_mutex_unlock(&store->lock);
        return 1;
    }
    count_status(&store->stats, json_string_value(json_object_get(post, "status")), -1);
    json_t *next = with_result(post, result);
    count_status(&store->stats, status, +1);
    json_object_set_new(store->by_id, id, next);
    json_t *data = event_data(next);
    emit(store, "status", data);
    json_decref(data);
    pthread_mutex_unlock(&store->lock);
    notify(store);
    return 1;
}

int sa_web_store_has(sa_web_store_t *store, const char *id) {
    pthread_mutex_lock(&store->lock);
    int has = json_object_get(store->by_id, id) != NULL;
    pthread_mutex_unlock(&store->lock);
    return has;
}

json_t *sa_web_store_get(sa_web_store_t *store, const char *id) {
    pthread_mutex_lock(&store->lock);
    json_t *post = json_incref(json_object_get(store->by_id, id));
    pthread_mutex_unlock(&store->lock);
    return post;
}

json_t *sa_web_store_list(sa_web_store_t *store, const char *before, int limit) {
    json_t *arr = json_array();
    pthread_mutex_lock(&store->lock);
    size_t i = store->n_ids;
    if (before && *before) { /* first index not older than @p before */
        size_t lo = 0, hi = store->n_ids;
        while (lo < hi) {
            size_t mid = (lo + hi) / 2;
            if (strcmp(store->ids[mid], before) < 0)
                lo = mid + 1;
            else
                hi = mid;
        }
        i = lo;
    }
    while (i > 0 && limit-- > 0) {
        i--;
        json_array_append(arr, json_object_get(store->by_id, store->ids[i]));
    }
    pthread_mutex_unlock(&store->lock);
    return arr;
}

void sa_web_store_stats(sa_web_store_t *store, sa_web_stats_t *out) {
    pthread_mutex_lock(&store->lock);
    *out = store->stats;
    pthread_mutex_unlock(&store->lock);
}

/* Under the lock: what @p key refers to (see sa_web_store_find_key). */
static int lookup_key(sa_web_store_t *store, const char *key, char id_out[SA_ULID_LEN + 1],
                      json_t **post_out) {
    const char *id = json_string_value(json_object_get(store->inflight, key));
    int rc = SA_CLAIM_INFLIGHT;
    if (!id) {
        id = json_string_value(json_object_get(store->keys, key));
        if (!id) return SA_CLAIM_NEW;
        json_t *post = json_object_get(store->by_id, id);
        if (post) {
            rc = SA_CLAIM_DONE;
            if (post_out) *post_out = json_incref(post);
        } /* else: the record with the key is known, the post not yet (cannot last) */
    }
    snprintf(id_out, SA_ULID_LEN + 1, "%s", id);
    return rc;
}

int sa_web_store_find_key(sa_web_store_t *store, const char *key, char id_out[SA_ULID_LEN + 1],
                          json_t **post_out) {
    if (post_out) *post_out = NULL;
    pthread_mutex_lock(&store->lock);
    int rc = lookup_key(store, key, id_out, post_out);
    pthread_mutex_unlock(&store->lock);
    return rc;
}

int sa_web_store_claim_key(sa_web_store_t *store, const char *key, const char *new_id,
                           char id_out[SA_ULID_LEN + 1], json_t **post_out) {
    if (post_out) *post_out = NULL;
    pthread_mutex_lock(&store->lock);
    int rc = lookup_key(store, key, id_out, post_out);
    if (rc == SA_CLAIM_NEW) {
        json_object_set_new(store->inflight, key, json_string(new_id));
        snprintf(id_out, SA_ULID_LEN + 1, "%s", new_id);
    }
    pthread_mutex_unlock(&store->lock);
    return rc;
}

void sa_web_store_release_key(sa_web_store_t *store, const char *key, const char *id) {
    pthread_mutex_lock(&store->lock);
    const char *fl = json_string_value(json_object_get(store->inflight, key));
    if (fl && !strcmp(fl, id)) json_object_del(store->inflight, key);
    pthread_mutex_unlock(&store->lock);
}

uint64_t sa_web_store_event_seq(sa_web_store_t *store) { return atomic_load(&store->seq); }

size_t sa_web_store_events_after(sa_web_store_t *store, uint64_t *seq, char *out, size_t max) {
    size_t used = 0;
    pthread_mutex_lock(&store->lock);
    uint64_t newest = atomic_load(&store->seq);
    if (*seq > newest) *seq = newest; /* an id from another server or an earlier run */
    if (newest - *seq > RING_SIZE) *seq = newest - RING_SIZE;
    while (*seq < newest) {
        const event_t *ev = &store->ring[(*seq + 1) % RING_SIZE];
        if (ev->len > max - used) {
            if (used == 0) (*seq)++; /* larger than any write the client can take: drop it */
            break;
        }
        memcpy(out + used, ev->text, ev->len);
        used += ev->len;
        (*seq)++;
    }
    pthread_mutex_unlock(&store->lock);
    return used;
}
