/*
 * web_store.h - the web server's view of the blog, rebuilt from the log.
 *
 * Design: blog_operations and blog_results are the database; this store is a cache of them
 * that any number of web servers rebuild independently at start-up and then keep up to date by
 * tailing both topics (web_tail.c). Each post is an immutable jansson object: an update builds a
 * new object and swaps it in under the lock, so a reader takes a reference (json_incref is
 * atomic in jansson 2.14) and renders without holding the lock.
 *
 * Every change that a browser should see (a new post, a verdict) becomes an event with a
 * sequence number, kept in a ring for Server-Sent Events clients (web_sse.c) that read from
 * where they left off.
 *
 * @locks every function is thread-safe (one mutex); the notify callback runs with no lock held.
 */
#ifndef SA_BLOG_WEB_STORE_H
#define SA_BLOG_WEB_STORE_H

#include <jansson.h>
#include <stdint.h>

#include "blog/model/ulid.h"

typedef struct sa_web_store_s sa_web_store_t;

typedef struct sa_web_stats_s {
    int64_t posts;     /* posts known */
    int64_t queued;    /* posts without a verdict yet */
    int64_t processed; /* posts with a verdict */
    int64_t published, review, rejected;
} sa_web_stats_t;

/** @returns new: an empty store. @p notify (may be NULL) is called after each new event. */
sa_web_store_t *sa_web_store_new(void (*notify)(void *opaque), void *opaque);
void sa_web_store_free(sa_web_store_t *store);

/**
 * Apply a blog_operations record (borrowed). Unknown types and records without a valid id are
 * ignored (@returns -1); a post seen again keeps its first version (@returns 0); a new one
 * (@returns 1) emits a "post" event.
 */
int sa_web_store_apply_op(sa_web_store_t *store, const json_t *op);

/**
 * Apply a blog_results record (borrowed): status, score, reasons, metrics, processed_at.
 * A result may arrive before its operation (two topics); the post then waits for its fields.
 * Emits a "status" event. @returns 1 if applied, -1 if malformed.
 */
int sa_web_store_apply_result(sa_web_store_t *store, const json_t *result);

/** @returns 1 if post @p id (NUL-terminated) is known, else 0. */
int sa_web_store_has(sa_web_store_t *store, const char *id);

/** @returns new reference to the post @p id (its public JSON), or NULL if unknown. */
json_t *sa_web_store_get(sa_web_store_t *store, const char *id);

/**
 * @returns new: a JSON array of up to @p limit posts, newest first, strictly older than @p before
 * (an id; NULL or "" for the newest).
 */
json_t *sa_web_store_list(sa_web_store_t *store, const char *before, int limit);

void sa_web_store_stats(sa_web_store_t *store, sa_web_stats_t *out);

/* Results of sa_web_store_claim_key. */
#define SA_CLAIM_NEW      0 /* the key is now reserved for the new id */
#define SA_CLAIM_DONE     1 /* a post with this key exists: its id is in id_out */
#define SA_CLAIM_INFLIGHT 2 /* another request with this key is being produced: id in id_out */

/**
 * Reserve idempotency @p key for @p new_id, or say which post already has it.
 * On SA_CLAIM_DONE, *post_out (if not NULL) gets a new reference to that post's record as it
 * was submitted (to compare bodies).
 */
int sa_web_store_claim_key(sa_web_store_t *store, const char *key, const char *new_id,
                           char id_out[SA_ULID_LEN + 1], json_t **post_out);
/**
 * Look idempotency @p key up without reserving it: @returns SA_CLAIM_DONE (id_out and, if not
 * NULL, *post_out set as for claim), SA_CLAIM_INFLIGHT (id_out set) or SA_CLAIM_NEW (unknown).
 */
int sa_web_store_find_key(sa_web_store_t *store, const char *key, char id_out[SA_ULID_LEN + 1],
                          json_t **post_out);
/** Forget a reservation whose produce failed, so the key can be used again. */
void sa_web_store_release_key(sa_web_store_t *store, const char *key, const char *id);

/** @returns the sequence number of the newest event (0: none yet). Lock-free. */
uint64_t sa_web_store_event_seq(sa_web_store_t *store);

/**
 * Format the events after @p *seq as SSE text ("id: N\nevent: NAME\ndata: JSON\n\n") into
 * @p out, at most @p max bytes (at least one event if any, if it fits). Advances @p *seq; if the
 * client fell behind the ring, it skips to the oldest kept event. @returns bytes written.
 */
size_t sa_web_store_events_after(sa_web_store_t *store, uint64_t *seq, char *out, size_t max);

#endif
