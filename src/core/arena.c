/*
 * arena.c - chunked bump allocator (see arena.h).
 *
 * A chunk is one malloc holding a small header and its bytes. Chunks grow geometrically (each
 * at least as big as the last, and big enough for the request), so a request of n bytes causes
 * O(log n) mallocs. Allocations larger than a chunk get a chunk of their own.
 */
#include "core/arena.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "core/mem.h"

struct sa_arena_chunk_s {
    sa_arena_chunk_t *next; /* older chunk */
    size_t size;            /* usable bytes in data[] */
    _Alignas(SA_ARENA_ALIGN) unsigned char data[];
};

static size_t align_up(size_t n) { return (n + (SA_ARENA_ALIGN - 1)) & ~(size_t)(SA_ARENA_ALIGN - 1); }

void sa_arena_init(sa_arena_t *arena, size_t cap) {
    arena->_head = NULL;
    arena->_off = 0;
    arena->used = 0;
    arena->cap = cap;
}

void sa_arena_free(sa_arena_t *arena) {
    sa_arena_chunk_t *c = arena->_head;
    while (c) {
        sa_arena_chunk_t *next = c->next;
        free(c);
        c = next;
    }
    arena->_head = NULL;
    arena->_off = 0;
    arena->used = 0;
}

void sa_arena_reset(sa_arena_t *arena) {
    sa_arena_chunk_t *c = arena->_head;
    /* Keep the biggest chunk: it is the newest one, since chunks only grow. */
    if (c) {
        sa_arena_chunk_t *old = c->next;
        while (old) {
            sa_arena_chunk_t *next = old->next;
            free(old);
            old = next;
        }
        c->next = NULL;
    }
    arena->_off = 0;
    arena->used = 0;
}

void *sa_arena_alloc(sa_arena_t *arena, size_t size) {
    if (size > SIZE_MAX / 4) return NULL;
    size_t need = align_up(size ? size : 1);
    if (arena->cap && (need > arena->cap || arena->used > arena->cap - need)) return NULL;
    sa_arena_chunk_t *c = arena->_head;
    if (!c || c->size - arena->_off < need) {
        size_t csize = c ? c->size * 2 : SA_ARENA_CHUNK_MIN;
        while (csize < need) csize *= 2;
        sa_arena_chunk_t *nc = sa_malloc(sizeof(*nc) + csize);
        nc->size = csize;
        nc->next = c;
        arena->_head = c = nc;
        arena->_off = 0;
    }
    void *p = c->data + arena->_off;
    arena->_off += need;
    arena->used += need;
    return p;
}

void *sa_arena_calloc(sa_arena_t *arena, size_t n, size_t size) {
    if (size && n > SIZE_MAX / 4 / size) return NULL;
    void *p = sa_arena_alloc(arena, n * size);
    if (p) memset(p, 0, n * size);
    return p;
}

char *sa_arena_strndup(sa_arena_t *arena, const char *s, size_t len) {
    char *p = sa_arena_alloc(arena, len + 1);
    if (!p) return NULL;
    memcpy(p, s, len);
    p[len] = '\0';
    return p;
}
