/*
 * score_text.c - UTF-8 decoding and the counting rules of score_text.h.
 *
 * Everything works on code points decoded on the fly, so character counts never depend on the
 * byte length of a letter (Cyrillic letters are two bytes each). Only Latin and Cyrillic are
 * classified: other scripts are neither letters nor words here, which the scoring treats as
 * "no readable text" rather than guessing.
 */
#include "blog/worker/score_text.h"

#include <string.h>

#include "core/mem.h"

int sa_text_is_cyrillic(uint32_t cp) { return cp >= 0x400 && cp <= 0x4FF && !(cp >= 0x482 && cp <= 0x489); }

int sa_text_is_letter(uint32_t cp) {
    if ((cp | 0x20) >= 'a' && (cp | 0x20) <= 'z') return 1;
    if (cp >= 0xC0 && cp <= 0x17F) return cp != 0xD7 && cp != 0xF7;
    return sa_text_is_cyrillic(cp);
}

int sa_text_is_upper(uint32_t cp) {
    if (cp >= 'A' && cp <= 'Z') return 1;
    if (cp >= 0xC0 && cp <= 0xDE) return cp != 0xD7;
    if (cp >= 0x100 && cp <= 0x17F) return (cp & 1) == 0; /* Latin Extended-A pairs: even = upper */
    return cp >= 0x400 && cp <= 0x42F;
}

uint32_t sa_text_lower(uint32_t cp) {
    if (cp >= 'A' && cp <= 'Z') return cp + 32;
    if (cp >= 0xC0 && cp <= 0xDE && cp != 0xD7) return cp + 32;
    if (cp >= 0x100 && cp <= 0x17F && (cp & 1) == 0) return cp + 1;
    if (cp >= 0x410 && cp <= 0x42F) return cp + 32; /* А..Я -> а..я */
    if (cp >= 0x400 && cp <= 0x40F) return cp + 80; /* Ѐ..Џ (Ё among them) -> ѐ..џ */
    return cp;
}

char *sa_text_lower_utf8(const char *s, size_t len) {
    /* Lower-casing keeps every code point in the same UTF-8 length class except malformed bytes,
     * which become 3-byte U+FFFD: 3 * len + 1 always suffices. */
    char *out = sa_malloc(3 * len + 1);
    size_t i = 0, o = 0;
    while (i < len) {
        uint32_t cp;
        i += sa_utf8_next(s + i, len - i, &cp);
        o += sa_utf8_encode(sa_text_lower(cp), out + o);
    }
    out[o] = '\0';
    return out;
}

static int is_digit(uint32_t cp) { return cp >= '0' && cp <= '9'; }
static int is_apostrophe(uint32_t cp) { return cp == '\'' || cp == 0x2019; }

size_t sa_text_words(const char *s, size_t len, sa_text_word_fn fn, void *opaque) {
    uint32_t word[SA_TEXT_WORD_MAX];
    size_t n = 0, full = 0, words = 0, i = 0;
    int has_letter = 0;
    while (i <= len) {
        uint32_t cp = 0;
        size_t step = 1;
        if (i < len) step = sa_utf8_next(s + i, len - i, &cp);
        int in_word = sa_text_is_letter(cp) || is_digit(cp);
        /* An apostrophe joins two word characters: look at the next code point. */
        if (!in_word && is_apostrophe(cp) && full > 0 && i + step < len) {
            uint32_t next;
            sa_utf8_next(s + i + step, len - i - step, &next);
            in_word = sa_text_is_letter(next);
        }
        if (in_word) {
            if (sa_text_is_letter(cp)) has_letter = 1;
            if (n < SA_TEXT_WORD_MAX) word[n++] = sa_text_lower(cp);
            full++;
        } else if (full > 0) {
            if (has_letter) {
                words++;
                if (fn) fn(opaque, word, n, full);
            }
            n = full = 0;
            has_letter = 0;
        }
        i += step;
    }
    return words;
}

static int is_vowel_en(uint32_t c) {
    return c == 'a' || c == 'e' || c == 'i' || c == 'o' || c == 'u' || c == 'y';
}

int sa_text_syllables_en(const uint32_t *w, size_t n) {
    int groups = 0, prev_vowel = 0;
    for (size_t i = 0; i < n; i++) {
        int v = is_vowel_en(w[i]);
        if (v && !prev_vowel) groups++;
        prev_vowel = v;
    }
    /* Silent final e ("make"), except consonant + "le" which is its own syllable ("ta-ble"). */
    if (n >= 2 && w[n - 1] == 'e' && groups > 1) {
        int consonant_le = n >= 3 && w[n - 2] == 'l' && sa_text_is_letter(w[n - 3]) && !is_vowel_en(w[n - 3]);
        if (!consonant_le) groups--;
    }
    return groups > 0 ? groups : 1;
}

int sa_text_syllables_ru(const uint32_t *w, size_t n) {
    static const uint32_t vowels[] = {0x430, 0x435, 0x451, 0x438, 0x43E, 0x443, 0x44B, 0x44D, 0x44E, 0x44F};
    int count = 0;
    for (size_t i = 0; i < n; i++)
        for (size_t k = 0; k < SA_ARRAY_LEN(vowels); k++)
            if (sa_text_lower(w[i]) == vowels[k]) count++;
    return count;
}

int sa_text_syllables(const uint32_t *w, size_t n) {
    for (size_t i = 0; i < n; i++)
        if (sa_text_is_cyrillic(w[i])) return sa_text_syllables_ru(w, n);
    return sa_text_syllables_en(w, n);
}

static void one_word(void *opaque, const uint32_t *cps, size_t n, size_t full_len) {
    (void)full_len;
    *(int *)opaque += sa_text_syllables(cps, n);
}

int sa_text_syllables_utf8(const char *word) {
    int total = 0;
    sa_text_words(word, strlen(word), one_word, &total);
    return total;
}

static int is_terminator(uint32_t cp) { return cp == '.' || cp == '!' || cp == '?' || cp == 0x2026; }

typedef struct counts_s {
    sa_text_stats_t *st;
} counts_t;

static void count_word(void *opaque, const uint32_t *cps, size_t n, size_t full_len) {
    (void)full_len;
    ((counts_t *)opaque)->st->syllables += (size_t)sa_text_syllables(cps, n);
}

size_t sa_text_sentences(const char *s, size_t len) {
    size_t sentences = 0, i = 0;
    int open = 0, in_word = 0, word_has_letter = 0;
    while (i < len) {
        uint32_t cp;
        i += sa_utf8_next(s + i, len - i, &cp);
        if (sa_text_is_letter(cp) || is_digit(cp)) {
            in_word = 1;
            if (sa_text_is_letter(cp)) word_has_letter = 1;
            continue;
        }
        if (in_word && word_has_letter) open = 1;
        in_word = word_has_letter = 0;
        if (is_terminator(cp) && open) {
            sentences++;
            open = 0;
        }
    }
    if ((in_word && word_has_letter) || open) sentences++;
    return sentences;
}

void sa_text_stats(const char *s, size_t len, sa_text_stats_t *st) {
    memset(st, 0, sizeof(*st));
    size_t i = 0;
    while (i < len) {
        uint32_t cp;
        i += sa_utf8_next(s + i, len - i, &cp);
        if (!sa_text_is_letter(cp)) continue;
        st->letters++;
        if (sa_text_is_upper(cp)) st->upper++;
        if (sa_text_is_cyrillic(cp)) st->cyrillic++;
    }
    counts_t c = {st};
    st->words = sa_text_words(s, len, count_word, &c);
    st->sentences = sa_text_sentences(s, len);
}

sa_lang_t sa_text_detect_lang(const sa_text_stats_t *st) {
    return st->letters > 0 && st->cyrillic * 2 >= st->letters ? SA_LANG_RU : SA_LANG_EN;
}

static double flesch_like(double base, double asl_k, double asw_k, size_t words, size_t sentences,
                          size_t syllables) {
    if (!words || !sentences) return 0;
    double asl = (double)words / (double)sentences;
    double asw = (double)syllables / (double)words;
    return base - asl_k * asl - asw_k * asw;
}

double sa_readability_flesch(size_t words, size_t sentences, size_t syllables) {
    return flesch_like(206.835, 1.015, 84.6, words, sentences, syllables);
}

double sa_readability_oborneva(size_t words, size_t sentences, size_t syllables) {
    return flesch_like(206.835, 1.3, 60.1, words, sentences, syllables);
}
