/*
 * score_simhash.h - near-duplicate detection: 64-bit SimHash over word shingles, and a ring of
 * the most recent posts' fingerprints to compare a new post against.
 *
 * Features are the lower-cased words and their overlapping 3-word shingles, each hashed to 64
 * bits and weighted 1: shingles make word order count, words keep the fingerprint stable under a
 * small edit (with shingles alone one changed word in 200 already moves it 3-4 bits). Two texts
 * whose fingerprints differ in at most SA_SIMHASH_NEAR bits are near-duplicates; below ~100
 * words a one-word edit may move more bits than that, while an exact repost is always 0.
 */
#ifndef SA_BLOG_SCORE_SIMHASH_H
#define SA_BLOG_SCORE_SIMHASH_H

#include <stddef.h>
#include <stdint.h>

#define SA_SIMHASH_NEAR    3   /* largest Hamming distance still called a near-duplicate */
#define SA_SIMHASH_SHINGLE 3   /* words per shingle */
#define SA_SIMHASH_ID_MAX  128 /* longest post id kept in the ring, in bytes */

/** @returns the SimHash of @p s (0 when it has no word). */
uint64_t sa_simhash_text(const char *s, size_t len);
/** @returns the number of differing bits of @p a and @p b (0..64). */
int sa_simhash_distance(uint64_t a, uint64_t b);

typedef struct sa_simhash_ring_s sa_simhash_ring_t;

/** @returns new: a ring remembering the last @p capacity fingerprints (>= 1). */
sa_simhash_ring_t *sa_simhash_ring_new(size_t capacity);
void sa_simhash_ring_free(sa_simhash_ring_t *ring);
/** Remember @p hash for post @p id (borrowed, copied; truncated to SA_SIMHASH_ID_MAX), dropping
 *  the oldest entry when full. */
void sa_simhash_ring_add(sa_simhash_ring_t *ring, const char *id, uint64_t hash);
/**
 * Find the closest remembered fingerprint within @p max_distance of @p hash, newest first on ties,
 * skipping entries of post @p exclude_id (borrowed, may be NULL: a post retried after a failure
 * must not match itself).
 * @returns the id of that post (valid until the next sa_simhash_ring_add or free) and its distance
 *          in *distance, or NULL when none is that close.
 */
const char *sa_simhash_ring_find(const sa_simhash_ring_t *ring, uint64_t hash, int max_distance,
                                 const char *exclude_id, int *distance);
/** @returns how many fingerprints the ring holds. */
size_t sa_simhash_ring_count(const sa_simhash_ring_t *ring);

#endif
