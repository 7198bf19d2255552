/*
 * score_simhash.c - SimHash (Charikar) over word shingles and the ring of recent fingerprints.
 *
 * Shingles hash with FNV-1a over the words' code points (a 0 separates words), then through the
 * splitmix64 finaliser so every output bit depends on every input bit: plain FNV-1a has weak
 * high bits, which would bias the fingerprint. The ring is a plain array searched linearly:
 * with a few thousand entries a popcount per entry is cheaper than any index.
 */
#include "blog/worker/score_simhash.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "blog/worker/score_text.h"
#include "core/hash.h"
#include "core/mem.h"

typedef struct shingler_s {
    uint64_t words[SA_SIMHASH_SHINGLE]; /* hashes of the last words, oldest first */
    size_t nwords;                      /* words seen so far */
    int64_t acc[64];                    /* per-bit vote */
} shingler_t;

static uint64_t word_hash(const uint32_t *cps, size_t n) {
    uint64_t h = SA_FNV64_OFFSET;
    for (size_t i = 0; i < n; i++) h = sa_fnv1a64_step(h, cps[i]);
    return h;
}

static void vote(shingler_t *sh, uint64_t feature) {
    uint64_t h = sa_hash_mix64(feature);
    /* Branch-free so the compiler vectorises it: this is the hottest loop of the scoring. */
    for (int b = 0; b < 64; b++) sh->acc[b] += (int64_t)((h >> b) & 1) * 2 - 1;
}

static uint64_t shingle_hash(const shingler_t *sh) {
    uint64_t h = 0;
    for (size_t k = 0; k < SA_SIMHASH_SHINGLE; k++) h = sa_fnv1a64_step(h, sh->words[k]) + k;
    return h;
}

static void on_word(void *opaque, const uint32_t *cps, size_t n, size_t full_len) {
    (void)full_len;
    shingler_t *sh = opaque;
    memmove(sh->words, sh->words + 1, sizeof(sh->words[0]) * (SA_SIMHASH_SHINGLE - 1));
    sh->words[SA_SIMHASH_SHINGLE - 1] = word_hash(cps, n);
    vote(sh, sh->words[SA_SIMHASH_SHINGLE - 1]);
    if (++sh->nwords >= SA_SIMHASH_SHINGLE) vote(sh, shingle_hash(sh));
}

uint64_t sa_simhash_text(const char *s, size_t len) {
    shingler_t sh;
    memset(&sh, 0, sizeof(sh));
    if (sa_text_words(s, len, on_word, &sh) == 0) return 0;
    uint64_t out = 0;
    for (int b = 0; b < 64; b++)
        if (sh.acc[b] > 0) out |= 1ULL << b;
    return out;
}

int sa_simhash_distance(uint64_t a, uint64_t b) { return __builtin_popcountll(a ^ b); }

typedef struct ring_entry_s {
    uint64_t hash;
    char id[SA_SIMHASH_ID_MAX + 1];
} ring_entry_t;

struct sa_simhash_ring_s {
    ring_entry_t *v; /* capacity entries */
    size_t cap;      /* >= 1 */
    size_t count;    /* entries in use */
    size_t next;     /* slot the next add writes (the oldest when full) */
};

sa_simhash_ring_t *sa_simhash_ring_new(size_t capacity) {
    sa_simhash_ring_t *ring = sa_new(sa_simhash_ring_t);
    ring->cap = capacity ? capacity : 1;
    ring->v = sa_calloc(ring->cap, sizeof(*ring->v));
    return ring;
}

void sa_simhash_ring_free(sa_simhash_ring_t *ring) {
    if (!ring) return;
    free(ring->v);
    free(ring);
}

void sa_simhash_ring_add(sa_simhash_ring_t *ring, const char *id, uint64_t hash) {
    ring_entry_t *e = &ring->v[ring->next];
    e->hash = hash;
    snprintf(e->id, sizeof(e->id), "%s", id);
    ring->next = (ring->next + 1) % ring->cap;
    if (ring->count < ring->cap) ring->count++;
}

const char *sa_simhash_ring_find(const sa_simhash_ring_t *ring, uint64_t hash, int max_distance,
                                 const char *exclude_id, int *distance) {
    const char *best = NULL;
    int best_d = max_distance + 1;
    /* Newest first: walk back from the last written slot. */
    for (size_t k = 1; k <= ring->count; k++) {
        const ring_entry_t *e = &ring->v[(ring->next + ring->cap - k) % ring->cap];
        if (exclude_id && !strncmp(e->id, exclude_id, SA_SIMHASH_ID_MAX)) continue;
        int d = sa_simhash_distance(hash, e->hash);
        if (d < best_d) {
            best_d = d;
            best = e->id;
        }
    }
    if (best && distance) *distance = best_d;
    return best;
}

size_t sa_simhash_ring_count(const sa_simhash_ring_t *ring) { return ring->count; }
