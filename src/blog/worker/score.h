/*
 * score.h - the verdict on one blog post: deterministic, explainable, 0-100.
 *
 * A post starts at 100 points; every signal that fires records a reason {code, points, params,
 * message} and takes its points off. Codes are stable (tests, the web page and dashboards key on
 * them); params carry the measured numbers by name, so the page can say the reason in its own
 * language; message is the same in English, for readers of the records:
 *
 *   code             when                                          points     params
 *   EMPTY            no word in the content                        rejected   -
 *   NEAR_DUPLICATE   >= half the shingles shared with a recent post rejected  of, similarity, percent
 *   REPETITIVE       repetition > 0.5 (-70) or > 0.3 (-30)          -70/-30   percent
 *   TOO_SHORT        fewer than SA_SCORE_MIN_WORDS words            -25       words, min
 *   SPAM_PHRASE      stop-list phrases in title or content          -35/-70   count, example
 *   TOO_MANY_LINKS   each link beyond SA_SCORE_FREE_LINKS           -10 each  links, free
 *                    (at most -40)
 *   SHOUTING         caps ratio > 0.5 (-35) or > 0.3 (-15),         -35/-15   percent
 *                    with >= 20 letters
 *   REPEATED_CHARS   runs like "sooooo"                             -10       runs, min_run
 *   PUNCTUATION_RUN  runs like "!!!!"                               -10       runs, min_run
 *   HARD_TO_READ     readability < 30 (Flesch / Oborneva), only     -10       readability, formula,
 *                    with SA_SCORE_READABILITY_MIN_WORDS+ words               min
 *   LANG_MISMATCH    the lang field disagrees with the text         -5        marked, detected
 *
 * Readability formulas mean little on a line or two ("Коротко." scored as hard to read), hence
 * their minimum length. Repetition needs SA_SCORE_REPETITION_MIN_SHINGLES shingles (a refrain in
 * a short poem is not spam). One phrase or an all-caps post alone lands in review (65), never
 * silently rejected. Verdict: rejected when EMPTY or NEAR_DUPLICATE or the score is below
 * SA_SCORE_REVIEW_MIN; review below SA_SCORE_PUBLISH_MIN; otherwise published.
 */
#ifndef SA_BLOG_SCORE_H
#define SA_BLOG_SCORE_H

#include <jansson.h>
#include <stddef.h>
#include <stdint.h>

#include "blog/worker/score_dup.h"
#include "blog/worker/score_text.h"

#define SA_SCORE_PUBLISH_MIN             70 /* score >= this: published */
#define SA_SCORE_REVIEW_MIN              40 /* score >= this: review; below: rejected */
#define SA_SCORE_MIN_WORDS               10 /* fewer words than this: TOO_SHORT */
#define SA_SCORE_FREE_LINKS              2  /* links allowed without a deduction */
#define SA_SCORE_MAX_REASONS             12
#define SA_SCORE_READABILITY_MIN_WORDS   30 /* fewer words: readability is not judged */
#define SA_SCORE_REPETITION_MIN_SHINGLES 20 /* fewer shingles: repetition is not judged */
#define SA_SCORE_MAX_PARAMS              3

typedef enum sa_verdict_e {
    SA_VERDICT_PUBLISHED = 0,
    SA_VERDICT_REVIEW = 1,
    SA_VERDICT_REJECTED = 2,
} sa_verdict_t;

typedef struct sa_reason_param_s {
    const char *name;             /* static; NULL: unused slot */
    double num;                   /* the value, when text is "" */
    int integral;                 /* num is a whole number (written as a JSON integer) */
    char text[SA_DUP_ID_MAX + 1]; /* a text value (a post id, a phrase, a language), or "" */
} sa_reason_param_t;

typedef struct sa_reason_s {
    const char *code;                              /* static stable code, e.g. "TOO_SHORT" */
    char message[200];                             /* English explanation with the numbers */
    int points;                                    /* points taken off (<= 0) */
    sa_reason_param_t params[SA_SCORE_MAX_PARAMS]; /* the numbers by name, in order */
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
    double caps_ratio;                         /* 0..1, 3 decimals */
    double repetition;                         /* 0..1, 3 decimals (score_dup.h) */
    sa_dup_sig_t sig;                          /* the content's MinHash signature */
    char near_duplicate_of[SA_DUP_ID_MAX + 1]; /* id of the recent post matched, or "" */
    double similarity;                         /* its estimated Jaccard similarity, -1 if none */
} sa_score_t;

/**
 * Score one post against the @p recent signatures (borrowed; may be NULL). Pure: the ring is
 * not changed (the caller remembers the post once its result is durable).
 */
void sa_score_post(const sa_score_input_t *in, const sa_dup_ring_t *recent, sa_score_t *out);

/** Remember post @p id's signature from @p score in @p recent, for the posts after it. */
void sa_score_remember(sa_dup_ring_t *recent, const char *id, const sa_score_t *score);

/** @returns "published", "review" or "rejected". */
const char *sa_verdict_name(sa_verdict_t verdict);
/** @returns "en" or "ru". */
const char *sa_lang_name(sa_lang_t lang);

/** Set "status", "score", "reasons" and "metrics" of @p score on @p obj (borrowed). */
void sa_score_to_json(const sa_score_t *score, json_t *obj);

#endif
