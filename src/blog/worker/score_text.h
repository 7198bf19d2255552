/*
 * score_text.h - the text analysis under the worker's scoring: UTF-8, letters, words,
 * sentences, syllables, language and readability. Pure functions, no allocation unless stated.
 *
 * Definitions (the unit tests pin them):
 *  - a letter is a Latin (ASCII, Latin-1, Latin Extended-A) or Cyrillic (U+0400-U+04FF) letter;
 *  - a word is a run of letters, digits and inner apostrophes (' and U+2019) holding at least one
 *    letter ("don't" is one word, "2026" is none, "e-mail" is two);
 *  - a sentence ends at a run of . ! ? or U+2026 after at least one word; text that does not end
 *    with one still counts its last sentence; so "Hi!!! Yes" is 2 sentences;
 *  - English syllables: groups of vowels (a e i o u y), minus a silent final "e" unless the word
 *    ends in consonant + "le" ("table" 2, "make" 1, "whale" 1), at least 1 per word;
 *  - Russian syllables: the vowels а е ё и о у ы э ю я (so "в" has 0, as it should);
 *    a word with any Cyrillic letter is counted the Russian way;
 *  - the language is Russian when at least half of the letters are Cyrillic.
 */
#ifndef SA_BLOG_SCORE_TEXT_H
#define SA_BLOG_SCORE_TEXT_H

#include <stddef.h>
#include <stdint.h>

#include "core/utf8.h"

/* Longest word kept for syllable counting, in code points; longer words are counted as one word
 * whose syllables come from their first SA_TEXT_WORD_MAX code points. */
#define SA_TEXT_WORD_MAX 64

typedef enum sa_lang_e {
    SA_LANG_EN = 0, /* English: Flesch reading ease */
    SA_LANG_RU = 1, /* Russian: Oborneva's adaptation of Flesch */
} sa_lang_t;

int sa_text_is_letter(uint32_t cp);
int sa_text_is_upper(uint32_t cp);
int sa_text_is_cyrillic(uint32_t cp);
/** @returns the lower-case form of a Latin or Cyrillic letter, else @p cp itself. */
uint32_t sa_text_lower(uint32_t cp);

/** @returns new: @p s lower-cased (Latin and Cyrillic) as UTF-8, NUL-terminated; free() it. */
char *sa_text_lower_utf8(const char *s, size_t len);

/** Called for every word with its lower-cased code points (at most SA_TEXT_WORD_MAX of them,
 *  borrowed for the call) and its full length in code points. */
typedef void (*sa_text_word_fn)(void *opaque, const uint32_t *cps, size_t n, size_t full_len);

/** Split @p s into words (see above) and call @p fn for each. @returns the word count. */
size_t sa_text_words(const char *s, size_t len, sa_text_word_fn fn, void *opaque);

/** Syllables of one lower-cased word, English rules. */
int sa_text_syllables_en(const uint32_t *w, size_t n);
/** Syllables of one lower-cased word, Russian rules. */
int sa_text_syllables_ru(const uint32_t *w, size_t n);
/** Syllables of one lower-cased word by its script (Russian if any Cyrillic letter). */
int sa_text_syllables(const uint32_t *w, size_t n);
/** Syllables of a UTF-8 word (convenience for tests and tools). */
int sa_text_syllables_utf8(const char *word);

/** @returns the number of sentences in @p s (0 when it has no word). */
size_t sa_text_sentences(const char *s, size_t len);

typedef struct sa_text_stats_s {
    size_t words;     /* words as defined above */
    size_t sentences; /* sentences as defined above */
    size_t syllables; /* sum over the words */
    size_t letters;   /* letters (Latin + Cyrillic) */
    size_t upper;     /* upper-case letters */
    size_t cyrillic;  /* Cyrillic letters */
} sa_text_stats_t;

/** Count everything above in one pass over @p s. */
void sa_text_stats(const char *s, size_t len, sa_text_stats_t *st);

/** @returns SA_LANG_RU when at least half the letters are Cyrillic, else SA_LANG_EN. */
sa_lang_t sa_text_detect_lang(const sa_text_stats_t *st);

/** Flesch reading ease: 206.835 - 1.015 * words/sentences - 84.6 * syllables/words.
 *  @returns 0 when there are no words or sentences. */
double sa_readability_flesch(size_t words, size_t sentences, size_t syllables);
/** Oborneva (Russian): 206.835 - 1.3 * words/sentences - 60.1 * syllables/words; 0 when empty. */
double sa_readability_oborneva(size_t words, size_t sentences, size_t syllables);

#endif
