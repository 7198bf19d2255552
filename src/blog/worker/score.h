/*
 * score.h - the verdict on one blog post: deterministic, explainable, 0-100.
 *
 * A post starts at 100 points; every signal that fires records a reason {code, message, points}
 * and takes its points off. Codes are stable (tests, the web page and dashboards key on them):
 *
 *   EMPTY            no word in the content                         -> rejected, score 0
 *   NEAR_DUPLICATE   SimHash within 3 bits of a recent post         -> rejected, -100
 *   TOO_SHORT        fewer than SA_SCORE_MIN_WORDS words            -25
 *   SPAM_PHRASE      one stop-list phrase in title or content -35, two or more -70
 *   TOO_MANY_LINKS   each link beyond SA_SCORE_FREE_LINKS           -10 (at most -40)
 *   SHOUTING         caps ratio > 0.5 (-35) or > 0.3 (-15), with >= 20 letters
 *   REPEATED_CHARS   runs like "sooooo"                             -10
 *   PUNCTUATION_RUN  runs like "!!!!"                               -10
 *   HARD_TO_READ     readability < 30 (Flesch / Oborneva)            -10
 *   LANG_MISMATCH    the lang field disagrees with the text         -5
 *
 * One phrase or an all-caps post alone lands in review (65), never silently rejected.
 * Verdict: rejected when EMPTY or NEAR_DUPLICATE or the score is below SA_SCORE_REVIEW_MIN;
 * review below SA_SCORE_PUBLISH_MIN; otherwise published.
 */
#ifndef SA_BLOG_SCORE_H
#define SA_BLOG_SCORE_H

#include <jansson.h>
#include <stddef.h>
#include <stdint.h>

#include "blog/worker/score_simhash.h"
#include "blog/worker/score_text.h"

#define SA_SCORE_PUBLISH_MIN 70 /* score >= this: published */
#define SA_SCORE_REVIEW_MIN  40 /* score >= this: review; below: rejected */
#define SA_SCORE_MIN_WORDS   10 /* fewer words than this: TOO_SHORT */
#define SA_SCORE_FREE_LINKS  2  /* links allowed without a deduction */
#define SA_SCORE_MAX_REASONS 12

typedef enum sa_verdict_e {
    SA_VERDICT_PUBLISHED = 0,
    SA_VERDICT_REVIEW = 1,
    SA_VERDICT_REJECTED = 2,
} sa_verdict_t;

typedef struct sa_reason_s {
    const char *code;  /* static stable code, e.g. "TOO_SHORT" */
    char message[160]; /* human explanation with the measured numbers */
    int points;        /* points taken off (<= 0) */
} sa_reason_t;

typedef struct sa_score_input_s {
    const char *title;   /* borrowed UTF-8, NUL-terminated */
    const char *content; /* borrowed UTF-8; content_len bytes (may hold no NUL) */
    size_t content_len;
    const char *lang; /* borrowed "en", "ru", or NULL/other: detect from the text */
    const char *id;   /* borrowed post id (never its own near-duplicate), or NULL */
} sa_score_input_t;

typedef struct sa_score_s {
    sa_verdict_t verdict;
    int score;                                 /* 0..100 */
    sa_reason_t reasons[SA_SCORE_MAX_REASONS]; /* in the order the signals were checked */
    size_t nreasons;
    sa_text_stats_t text;    /* counts over the content */
    sa_lang_t lang;          /* the language used for readability */
    sa_lang_t lang_detected; /* from the Cyrillic share */
    double readability;      /* Flesch (en) or Oborneva (ru), 1 decimal */
    size_t links;
    double caps_ratio;                             /* 0..1, 3 decimals */
    uint64_t simhash;                              /* content fingerprint (0: no words) */
    char near_duplicate_of[SA_SIMHASH_ID_MAX + 1]; /* id of the recent post matched, or "" */
    int near_distance;                             /* its Hamming distance, -1 if none */
} sa_score_t;

/**
 * Score one post against the @p recent fingerprints (borrowed; may be NULL). Pure: the ring is
 * not changed (the caller adds the post once its result is durable).
 */
void sa_score_post(const sa_score_input_t *in, const sa_simhash_ring_t *recent, sa_score_t *out);

/** @returns "published", "review" or "rejected". */
const char *sa_verdict_name(sa_verdict_t verdict);
/** @returns "en" or "ru". */
const char *sa_lang_name(sa_lang_t lang);

/** Set "status", "score", "reasons" and "metrics" of @p score on @p obj (borrowed). */
void sa_score_to_json(const sa_score_t *score, json_t *obj);

#endif
