/*
 * score_dup.c - MinHash over word shingles, repetition, and the ring of recent signatures.
 *
 * Hashing: a word hashes with FNV-1a over its lower-cased code points, a shingle combines its
 * words' hashes in order, and the result goes through the splitmix64 mixer (FNV's high bits are
 * weak). The SA_DUP_HASHES functions are multiply-shift permutations of that mixed value,
 * h_i(x) = (a_i * x + b_i) >> 32 with odd a_i: one multiply each, no table of random numbers to
 * keep. Distinct shingles are found with an open-addressing set sized for the text, so a shingle
 * repeated a hundred times counts once in the signature and a hundred times in the repetition.
 *
 * The ring is a plain array searched linearly: with a thousand entries 64 comparisons each is
 * cheaper than any index, and the order (newest first) decides ties.
 */
#include "blog/worker/score_dup.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "blog/worker/score_text.h"
#include "core/hash.h"
#include "core/mem.h"

typedef struct shingler_s {
    uint64_t words[SA_DUP_SHINGLE]; /* hashes of the last words, oldest first */
    size_t nwords;                  /* words seen so far */
    uint64_t *set;                  /* distinct shingle hashes; 0 = empty slot */
    size_t set_mask;                /* slots - 1 (a power of two, at least twice the shingles) */
    uint64_t a[SA_DUP_HASHES];      /* the permutations' odd multipliers */
    uint64_t b[SA_DUP_HASHES];      /* ... and offsets */
    sa_dup_sig_t *sig;
} shingler_t;

static uint64_t word_hash(const uint32_t *cps, size_t n) {
    uint64_t h = SA_FNV64_OFFSET;
    for (size_t i = 0; i < n; i++) h = sa_fnv1a64_step(h, cps[i]);
    return h;
}

/* Count one shingle; fold it into the signature the first time it is seen. */
static void feature(shingler_t *sh, uint64_t raw) {
    uint64_t x = sa_hash_mix64(raw) | 1; /* never 0: 0 marks an empty slot */
    sh->sig->shingles++;
    size_t k = x & sh->set_mask;
    while (sh->set[k]) {
        if (sh->set[k] == x) return; /* a repeat */
        k = (k + 1) & sh->set_mask;
    }
    sh->set[k] = x;
    sh->sig->features++;
    for (int i = 0; i < SA_DUP_HASHES; i++) {
        uint32_t v = (uint32_t)((sh->a[i] * x + sh->b[i]) >> 32);
        if (v < sh->sig->min[i]) sh->sig->min[i] = v;
    }
}

static void on_word(void *opaque, const uint32_t *cps, size_t n, size_t full_len) {
    (void)full_len;
    shingler_t *sh = opaque;
    memmove(sh->words, sh->words + 1, sizeof(sh->words[0]) * (SA_DUP_SHINGLE - 1));
    sh->words[SA_DUP_SHINGLE - 1] = word_hash(cps, n);
    if (++sh->nwords < SA_DUP_SHINGLE) return;
    uint64_t h = 0;
    for (size_t k = 0; k < SA_DUP_SHINGLE; k++) h = sa_fnv1a64_step(h, sh->words[k]) + k;
    feature(sh, h);
}

static void on_short_word(void *opaque, const uint32_t *cps, size_t n, size_t full_len) {
    (void)full_len;
    feature(opaque, word_hash(cps, n));
}

void sa_dup_signature(const char *s, size_t len, sa_dup_sig_t *sig) {
    memset(sig, 0, sizeof(*sig));
    for (int i = 0; i < SA_DUP_HASHES; i++) sig->min[i] = UINT32_MAX;
    size_t words = sa_text_words(s, len, NULL, NULL);
    if (!words) return;
    size_t slots = 16;
    while (slots < 2 * words) slots *= 2;
    shingler_t sh = {.set = sa_calloc(slots, sizeof(uint64_t)), .set_mask = slots - 1, .sig = sig};
    for (int i = 0; i < SA_DUP_HASHES; i++) { /* fixed: the same text gives the same signature */
        sh.a[i] = sa_hash_mix64(2 * (uint64_t)i + 1) | 1;
        sh.b[i] = sa_hash_mix64(2 * (uint64_t)i + 2);
    }
    sa_text_words(s, len, words < SA_DUP_SHINGLE ? on_short_word : on_word, &sh);
    free(sh.set);
}

double sa_dup_similarity(const sa_dup_sig_t *a, const sa_dup_sig_t *b) {
    if (!a->features || !b->features) return 0;
    int same = 0;
    for (int i = 0; i < SA_DUP_HASHES; i++) same += a->min[i] == b->min[i];
    return (double)same / SA_DUP_HASHES;
}

double sa_dup_repetition(const sa_dup_sig_t *sig) {
    return sig->shingles ? 1.0 - (double)sig->features / (double)sig->shingles : 0;
}

typedef struct ring_entry_s {
    sa_dup_sig_t sig;
    char id[SA_DUP_ID_MAX + 1];
} ring_entry_t;

struct sa_dup_ring_s {
    ring_entry_t *v; /* cap entries */
    size_t cap;      /* >= 1 */
    size_t count;    /* entries in use */
    size_t next;     /* slot the next add writes (the oldest when full) */
};

sa_dup_ring_t *sa_dup_ring_new(size_t capacity) {
    sa_dup_ring_t *ring = sa_new(sa_dup_ring_t);
    ring->cap = capacity ? capacity : 1;
    ring->v = sa_calloc(ring->cap, sizeof(*ring->v));
    return ring;
}

void sa_dup_ring_free(sa_dup_ring_t *ring) {
    if (!ring) return;
    free(ring->v);
    free(ring);
}

void sa_dup_ring_add(sa_dup_ring_t *ring, const char *id, const sa_dup_sig_t *sig) {
    if (sig->features < SA_DUP_MIN_FEATURES) return;
    ring_entry_t *e = &ring->v[ring->next];
    e->sig = *sig;
    snprintf(e->id, sizeof(e->id), "%s", id);
    ring->next = (ring->next + 1) % ring->cap;
    if (ring->count < ring->cap) ring->count++;
}

void sa_dup_ring_add_text(sa_dup_ring_t *ring, const char *id, const char *content, size_t len) {
    sa_dup_sig_t sig;
    sa_dup_signature(content, len, &sig);
    sa_dup_ring_add(ring, id, &sig);
}

const char *sa_dup_ring_find(const sa_dup_ring_t *ring, const sa_dup_sig_t *sig, double min_similarity,
                             const char *exclude_id, double *similarity) {
    if (sig->features < SA_DUP_MIN_FEATURES) return NULL;
    const char *best = NULL;
    double best_sim = min_similarity;
    /* Newest first: walk back from the last written slot; a later entry wins only if closer. */
    for (size_t k = 1; k <= ring->count; k++) {
        const ring_entry_t *e = &ring->v[(ring->next + ring->cap - k) % ring->cap];
        if (exclude_id && !strncmp(e->id, exclude_id, SA_DUP_ID_MAX)) continue;
        double sim = sa_dup_similarity(sig, &e->sig);
        if (sim >= best_sim && (!best || sim > best_sim)) {
            best_sim = sim;
            best = e->id;
        }
    }
    if (best && similarity) *similarity = best_sim;
    return best;
}

size_t sa_dup_ring_count(const sa_dup_ring_t *ring) { return ring->count; }
