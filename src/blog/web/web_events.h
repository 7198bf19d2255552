/*
 * web_events.h - the live events of `samsa web` for Server-Sent Events clients: a ring of the last
 * RING_SIZE events ("post": a new post, "status": its verdict), each with a sequence number, so a
 * client reads from where it left off (Last-Event-ID). Its size is fixed: the web server's memory
 * does not grow with the number of posts.
 *
 * @locks every function is thread-safe (one mutex); the notify callback runs with no lock held.
 */
#ifndef SA_BLOG_WEB_EVENTS_H
#define SA_BLOG_WEB_EVENTS_H

#include <jansson.h>
#include <stddef.h>
#include <stdint.h>

typedef struct sa_web_events_s sa_web_events_t;

/** @returns new: an empty ring. @p notify (may be NULL) is called after each new event. */
sa_web_events_t *sa_web_events_new(void (*notify)(void *opaque), void *opaque);
void sa_web_events_free(sa_web_events_t *ev);

/** Append event @p name with @p post (borrowed) minus its long fields (content, metrics), plus its
 *  "excerpt" (the feed's start of the text). */
void sa_web_events_emit(sa_web_events_t *ev, const char *name, const json_t *post);

/** @returns the sequence number of the newest event (0: none yet). Lock-free. */
uint64_t sa_web_events_seq(sa_web_events_t *ev);

/**
 * Format the events after @p *seq as SSE text ("id: N\nevent: NAME\ndata: JSON\n\n") into
 * @p out, at most @p max bytes (at least one event if any, if it fits). Advances @p *seq; if the
 * client fell behind the ring, it skips to the oldest kept event. @returns bytes written.
 */
size_t sa_web_events_after(sa_web_events_t *ev, uint64_t *seq, char *out, size_t max);

#endif
