/*
 * score_dup.h - near-duplicates and repetition: MinHash signatures over word shingles, and a ring
 * of the most recent posts' signatures to compare a new post against.
 *
 * Features are the distinct lower-cased 3-word shingles of the content (the words themselves for a
 * text of fewer than 3 words). The Jaccard similarity of two posts' feature sets - shared
 * shingles / all shingles - is estimated by a MinHash signature: SA_DUP_HASHES minima, each under
 * its own hash function; the share of equal minima estimates it with a standard error of about
 * 0.06 at 0.5. Unlike a SimHash distance (which this replaced: a 60-word post with two words
 * changed moved 6 bits, past its threshold of 3), Jaccard does not depend on the text's length,
 * so a short repost with a word or two changed still shares most of its shingles.
 *
 * The same pass counts all shingles and the distinct ones: repetition = 1 - distinct / all, near 0
 * for prose and near 1 for one sentence pasted a hundred times.
 */
#ifndef SA_BLOG_SCORE_DUP_H
#define SA_BLOG_SCORE_DUP_H

#include <stddef.h>
#include <stdint.h>

#define SA_DUP_HASHES       64  /* MinHash functions (signature length) */
#define SA_DUP_SHINGLE      3   /* words per shingle */
#define SA_DUP_NEAR         0.5 /* estimated Jaccard >= this: a near-duplicate */
#define SA_DUP_MIN_FEATURES 5   /* fewer distinct shingles: too short to call a copy (a greeting) */
#define SA_DUP_ID_MAX       128 /* longest post id kept in the ring, in bytes */

typedef struct sa_dup_sig_s {
    uint32_t min[SA_DUP_HASHES]; /* the minimum of each hash function over the features */
    uint32_t features;           /* distinct features (0: no word; the signature means nothing) */
    uint32_t shingles;           /* all shingles, repeats included */
} sa_dup_sig_t;

/** Compute the signature (and the counts) of @p s[0..len). */
void sa_dup_signature(const char *s, size_t len, sa_dup_sig_t *sig);

/** @returns the estimated Jaccard similarity of two signatures, 0..1 (0 if either is empty). */
double sa_dup_similarity(const sa_dup_sig_t *a, const sa_dup_sig_t *b);

/** @returns 1 - distinct / all shingles (0 for a text without repeats or without shingles). */
double sa_dup_repetition(const sa_dup_sig_t *sig);

typedef struct sa_dup_ring_s sa_dup_ring_t;

/** @returns new: a ring remembering the last @p capacity signatures (>= 1). */
sa_dup_ring_t *sa_dup_ring_new(size_t capacity);
void sa_dup_ring_free(sa_dup_ring_t *ring);
/** Remember @p sig for post @p id (borrowed, copied; truncated to SA_DUP_ID_MAX), dropping the
 *  oldest entry when full. A signature of fewer than SA_DUP_MIN_FEATURES features is not kept. */
void sa_dup_ring_add(sa_dup_ring_t *ring, const char *id, const sa_dup_sig_t *sig);
/** Compute the signature of @p content and remember it for post @p id (at start-up, from the
 *  results log). */
void sa_dup_ring_add_text(sa_dup_ring_t *ring, const char *id, const char *content, size_t len);
/**
 * Find the most similar remembered post with a similarity >= @p min_similarity, newest first on
 * ties, skipping entries of post @p exclude_id (borrowed, may be NULL: a post retried after a
 * failure must not match itself).
 * @returns its id (valid until the next sa_dup_ring_add or free) and the similarity in
 *          *@p similarity, or NULL when none is that close (or @p sig is too short to compare).
 */
const char *sa_dup_ring_find(const sa_dup_ring_t *ring, const sa_dup_sig_t *sig, double min_similarity,
                             const char *exclude_id, double *similarity);
/** @returns how many signatures the ring holds. */
size_t sa_dup_ring_count(const sa_dup_ring_t *ring);

#endif
