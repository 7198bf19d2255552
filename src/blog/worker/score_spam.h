/*
 * score_spam.h - spam signals of a post, each a small pure function over UTF-8 text.
 *
 *  - links: "http://", "https://" and "www." occurrences (case-insensitive);
 *  - caps ratio: upper-case letters / letters (Latin and Cyrillic);
 *  - repeated characters: runs of SA_SPAM_REPEAT_RUN or more of the same letter ("sooooo");
 *  - punctuation runs: SA_SPAM_PUNCT_RUN or more of ! ? . , ; : * $ # @ % & ~ ^ in a row
 *    ("!!!!", "?!?!"; a plain "..." is fine);
 *  - stop-list phrases: a small list of our own, English and Russian, matched on lower-cased
 *    text.
 */
#ifndef SA_BLOG_SCORE_SPAM_H
#define SA_BLOG_SCORE_SPAM_H

#include <stddef.h>

#define SA_SPAM_REPEAT_RUN 5 /* same letter this many times in a row is a signal */
#define SA_SPAM_PUNCT_RUN  4 /* this many punctuation marks in a row is a signal */

/** @returns the number of links in @p s. */
size_t sa_spam_links(const char *s, size_t len);
/** @returns upper-case letters / letters, 0 when there is no letter. */
double sa_spam_caps_ratio(const char *s, size_t len);
/** @returns the number of runs of SA_SPAM_REPEAT_RUN+ identical letters (case-insensitive). */
size_t sa_spam_repeated_runs(const char *s, size_t len);
/** @returns the number of runs of SA_SPAM_PUNCT_RUN+ punctuation marks. */
size_t sa_spam_punct_runs(const char *s, size_t len);
/**
 * Count the stop-list phrases found in @p s (any case).
 * @param first  if not NULL, set to the first phrase found (static string) or NULL.
 * @returns the number of distinct phrases found.
 */
size_t sa_spam_phrases(const char *s, size_t len, const char **first);

#endif
