/*
 * score_spam.c - the spam signals of score_spam.h.
 *
 * The stop-list is deliberately short and of our own making: phrases that in a blog post almost
 * always mean advertising. In score.c one hit alone sends a post to review and two reject it,
 * so a real post quoting one phrase is never silently dropped.
 */
#include "blog/worker/score_spam.h"

#include <stdlib.h>
#include <string.h>

#include "blog/worker/score_text.h"
#include "core/mem.h"

static const char *const stop_phrases[] = {
    "buy now",
    "click here",
    "free money",
    "earn money fast",
    "limited offer",
    "100% free",
    "work from home",
    "casino",
    "viagra",
    "crypto giveaway",
    "act now",
    "double your income",
    "купить сейчас",
    "заработок без вложений",
    "перейди по ссылке",
    "переходи по ссылке",
    "быстрый заработок",
    "казино",
    "только сегодня",
    "бесплатно и без регистрации",
};

size_t sa_spam_links(const char *s, size_t len) {
    static const char *const marks[] = {"http://", "https://", "www."};
    size_t links = 0;
    for (size_t i = 0; i < len; i++) {
        char c = (char)(s[i] | 0x20);
        if (c != 'h' && c != 'w') continue; /* the cheap test first: this runs for every byte */
        for (size_t k = 0; k < SA_ARRAY_LEN(marks); k++) {
            size_t ml = strlen(marks[k]);
            if (len - i >= ml && !strncasecmp(s + i, marks[k], ml)) {
                links++;
                /* "https://www.x" is one link, not two. */
                i += ml - 1;
                if (k < 2 && len - (i + 1) >= 4 && !strncasecmp(s + i + 1, "www.", 4)) i += 4;
                break;
            }
        }
    }
    return links;
}

double sa_spam_caps_ratio(const char *s, size_t len) {
    sa_text_stats_t st;
    size_t i = 0;
    memset(&st, 0, sizeof(st));
    while (i < len) {
        uint32_t cp;
        i += sa_utf8_next(s + i, len - i, &cp);
        if (!sa_text_is_letter(cp)) continue;
        st.letters++;
        if (sa_text_is_upper(cp)) st.upper++;
    }
    return st.letters ? (double)st.upper / (double)st.letters : 0;
}

size_t sa_spam_repeated_runs(const char *s, size_t len) {
    size_t runs = 0, run = 0, i = 0;
    uint32_t prev = 0;
    while (i < len) {
        uint32_t cp;
        i += sa_utf8_next(s + i, len - i, &cp);
        cp = sa_text_lower(cp);
        if (sa_text_is_letter(cp) && cp == prev) {
            if (++run == SA_SPAM_REPEAT_RUN) runs++;
        } else {
            run = 1;
        }
        prev = cp;
    }
    return runs;
}

static int is_spam_punct(char c) { return c && strchr("!?.,;:*$#@%&~^", c) != NULL; }

size_t sa_spam_punct_runs(const char *s, size_t len) {
    size_t runs = 0, run = 0;
    for (size_t i = 0; i < len; i++) {
        if (is_spam_punct(s[i])) {
            if (++run == SA_SPAM_PUNCT_RUN) runs++;
        } else {
            run = 0;
        }
    }
    return runs;
}

size_t sa_spam_phrases(const char *s, size_t len, const char **first) {
    char *lower = sa_text_lower_utf8(s, len);
    size_t hits = 0;
    if (first) *first = NULL;
    for (size_t k = 0; k < SA_ARRAY_LEN(stop_phrases); k++) {
        if (!strstr(lower, stop_phrases[k])) continue;
        if (!hits && first) *first = stop_phrases[k];
        hits++;
    }
    free(lower);
    return hits;
}
