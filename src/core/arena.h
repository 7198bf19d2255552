/*
 * arena.h - a bump allocator with a total cap, freed all at once.
 *
 * Decoded requests live in an arena: the decoder allocates the arrays of a request from it, and
 * the whole request is dropped with one sa_arena_reset() when the response is sent. Allocation is
 * a pointer bump inside a chunk; a new chunk (malloc) is taken only when the current one is full,
 * so decoding a typical request costs no malloc at all once the arena has warmed up.
 *
 * The cap bounds the total bytes handed out. Past the cap sa_arena_alloc() returns NULL (it never
 * aborts), which is how a hostile request that claims millions of array elements is refused: the
 * caller sizes the cap from the frame length (see sa_proto_arena_cap()).
 *
 * Invariants:
 *   1. Every pointer returned is aligned to SA_ARENA_ALIGN and stays valid until the next
 *      sa_arena_reset() or sa_arena_free() of its arena.
 *   2. used <= cap (when cap != 0) after every call.
 *   3. reset keeps the first chunk (the warm one) and frees the others.
 */
#ifndef SA_CORE_ARENA_H
#define SA_CORE_ARENA_H

#include <stddef.h>

#define SA_ARENA_ALIGN     16   /* alignment of every allocation (max_align_t on x86-64) */
#define SA_ARENA_CHUNK_MIN 4096 /* smallest chunk requested from malloc */

typedef struct sa_arena_chunk_s sa_arena_chunk_t;

typedef struct sa_arena_s {
    sa_arena_chunk_t *_head; /* newest chunk first; the last in the list is the warm one */
    size_t _off;             /* bytes used in _head */
    size_t used;             /* bytes handed out since the last reset (incl. alignment padding) */
    size_t cap;              /* largest `used` allowed; 0 = unlimited */
} sa_arena_t;

#define SA_ARENA_INIT(cap_)                                                                                  \
    { NULL, 0, 0, (cap_) }

/** Start an empty arena that will hand out at most @p cap bytes (0 = unlimited). No allocation. */
void sa_arena_init(sa_arena_t *arena, size_t cap);
/** Free every chunk. The arena may be reused after sa_arena_init(). */
void sa_arena_free(sa_arena_t *arena);
/** Forget every allocation (their pointers become invalid), keep one chunk for reuse. */
void sa_arena_reset(sa_arena_t *arena);
/** Change the cap for the allocations that follow (e.g. per request, from its frame size). */
static inline void sa_arena_set_cap(sa_arena_t *arena, size_t cap) { arena->cap = cap; }

/**
 * @returns @p size bytes (uninitialised, aligned), valid until reset/free of @p arena; NULL if
 * the cap would be passed (the arena is unchanged then). size 0 returns a valid non-NULL pointer.
 */
void *sa_arena_alloc(sa_arena_t *arena, size_t size);
/** As sa_arena_alloc() for @p n * @p size zeroed bytes; NULL also when n * size overflows. */
void *sa_arena_calloc(sa_arena_t *arena, size_t n, size_t size);
/** @returns a NUL-terminated copy of @p s[0..len) in the arena, NULL past the cap. Borrows @p s. */
char *sa_arena_strndup(sa_arena_t *arena, const char *s, size_t len);

#endif
