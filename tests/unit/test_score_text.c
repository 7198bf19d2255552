/* Text analysis under the worker's scoring: UTF-8, words, sentences, syllables, language,
 * Flesch and Oborneva readability against hand-computed examples. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "blog/worker/score_text.h"

#define S(x) (x), strlen(x)

static void utf8(void **state) {
    (void)state;
    assert_true(sa_utf8_valid(S("plain ascii")));
    assert_true(sa_utf8_valid(S("Привет, мир — ёж €")));
    assert_false(sa_utf8_valid(S("\xff")));
    assert_false(sa_utf8_valid(S("\xc3")));             /* truncated 2-byte sequence */
    assert_false(sa_utf8_valid(S("\xc0\xaf")));         /* overlong '/' */
    assert_false(sa_utf8_valid(S("\xed\xa0\x80")));     /* UTF-16 surrogate */
    assert_false(sa_utf8_valid(S("\xf4\x90\x80\x80"))); /* > U+10FFFF */
    assert_true(sa_utf8_valid(S("\xef\xbf\xbd")));      /* a real U+FFFD is fine */
    /* Characters, not bytes: 6 Cyrillic letters are 12 bytes. */
    assert_int_equal(sa_utf8_length(S("Привет")), 6);
    assert_int_equal(strlen("Привет"), 12);
    assert_int_equal(sa_utf8_length(S("a\xff"
                                      "b")),
                     3);
}

static void letters_and_case(void **state) {
    (void)state;
    assert_true(sa_text_is_letter('a'));
    assert_true(sa_text_is_letter(0x416)); /* Ж */
    assert_true(sa_text_is_upper(0x416));
    assert_int_equal(sa_text_lower(0x416), 0x436); /* Ж -> ж */
    assert_int_equal(sa_text_lower(0x401), 0x451); /* Ё -> ё */
    assert_false(sa_text_is_letter('7'));
    assert_false(sa_text_is_letter(0xD7)); /* × */
    char *low = sa_text_lower_utf8(S("ПрИвЕт World Ёлка"));
    assert_string_equal(low, "привет world ёлка");
    free(low);
}

static int syl(const char *w) { return sa_text_syllables_utf8(w); }

static void syllables_en(void **state) {
    (void)state;
    assert_int_equal(syl("cat"), 1);
    assert_int_equal(syl("the"), 1);   /* silent e, but never below 1 */
    assert_int_equal(syl("make"), 1);  /* a, e -> 2, silent e -> 1 */
    assert_int_equal(syl("table"), 2); /* consonant + le keeps the e */
    assert_int_equal(syl("little"), 2);
    assert_int_equal(syl("people"), 2);    /* eo, e; p + le */
    assert_int_equal(syl("whale"), 1);     /* a + le: the e is silent */
    assert_int_equal(syl("reading"), 2);   /* ea, i */
    assert_int_equal(syl("beautiful"), 3); /* eau, i, u */
    assert_int_equal(syl("education"), 4); /* e, u, a, io */
    assert_int_equal(syl("syllable"), 3);  /* y, a, e (b + le) */
    assert_int_equal(syl("rhythm"), 1);    /* y is a vowel */
    assert_int_equal(syl("queue"), 1);
    assert_int_equal(syl("don't"), 1);   /* one word with its apostrophe */
    assert_int_equal(syl("READING"), 2); /* case does not matter */
}

static void syllables_ru(void **state) {
    (void)state;
    assert_int_equal(syl("молоко"), 3);
    assert_int_equal(syl("в"), 0); /* a preposition without a vowel */
    assert_int_equal(syl("я"), 1);
    assert_int_equal(syl("строительство"), 4); /* о, и, е, о */
    assert_int_equal(syl("ёлка"), 2);
    assert_int_equal(syl("Ученье"), 3);     /* у, е, е */
    assert_int_equal(syl("интересные"), 5); /* и, е, е, ы, е */
    assert_int_equal(syl("ЮЛЯ"), 2);
}

static void words_and_sentences(void **state) {
    (void)state;
    assert_int_equal(sa_text_words(S("Hello, world!"), NULL, NULL), 2);
    assert_int_equal(sa_text_words(S("e-mail 2026 don't"), NULL, NULL), 3); /* e, mail, don't */
    assert_int_equal(sa_text_words(S("Привет, мир"), NULL, NULL), 2);
    assert_int_equal(sa_text_words(S("  ... 123 !!! "), NULL, NULL), 0);
    assert_int_equal(sa_text_sentences(S("One. Two! Three?")), 3);
    assert_int_equal(sa_text_sentences(S("Hi!!! Yes")), 2);
    assert_int_equal(sa_text_sentences(S("Wait... what?!")), 2);
    assert_int_equal(sa_text_sentences(S("no terminator")), 1);
    assert_int_equal(sa_text_sentences(S("")), 0);
    assert_int_equal(sa_text_sentences(S("...")), 0);
    assert_int_equal(sa_text_sentences(S("Да… Нет.")), 2); /* U+2026 ends a sentence */
}

static void language(void **state) {
    (void)state;
    sa_text_stats_t st;
    sa_text_stats(S("Мама мыла раму"), &st);
    assert_int_equal(sa_text_detect_lang(&st), SA_LANG_RU);
    assert_int_equal(st.letters, 12);
    assert_int_equal(st.cyrillic, 12);
    sa_text_stats(S("The cat sat on the mat"), &st);
    assert_int_equal(sa_text_detect_lang(&st), SA_LANG_EN);
    /* 4 Cyrillic of 8 letters: half is enough for Russian. */
    sa_text_stats(S("abcd абвг"), &st);
    assert_int_equal(sa_text_detect_lang(&st), SA_LANG_RU);
    sa_text_stats(S("abcde абвг"), &st);
    assert_int_equal(sa_text_detect_lang(&st), SA_LANG_EN);
}

static void flesch(void **state) {
    (void)state;
    sa_text_stats_t st;
    /* "The cat sat on the mat. The dog ran.": 9 words, 2 sentences, 9 syllables (all one).
     * ASL = 9/2 = 4.5, ASW = 9/9 = 1.0
     * 206.835 - 1.015 * 4.5 - 84.6 * 1.0 = 206.835 - 4.5675 - 84.6 = 117.6675 */
    sa_text_stats(S("The cat sat on the mat. The dog ran."), &st);
    assert_int_equal(st.words, 9);
    assert_int_equal(st.sentences, 2);
    assert_int_equal(st.syllables, 9);
    assert_float_equal(sa_readability_flesch(st.words, st.sentences, st.syllables), 117.6675, 1e-9);
    /* "Reading is a beautiful habit.": reading 2 + is 1 + a 1 + beautiful 3 + habit 2 = 9
     * syllables, 5 words, 1 sentence. ASL = 5, ASW = 1.8
     * 206.835 - 1.015 * 5 - 84.6 * 1.8 = 206.835 - 5.075 - 152.28 = 49.48 */
    sa_text_stats(S("Reading is a beautiful habit."), &st);
    assert_int_equal(st.syllables, 9);
    assert_float_equal(sa_readability_flesch(st.words, st.sentences, st.syllables), 49.48, 1e-9);
    assert_float_equal(sa_readability_flesch(0, 0, 0), 0, 0);
}

static void oborneva(void **state) {
    (void)state;
    sa_text_stats_t st;
    /* "Мама мыла раму. Папа читал книгу.": 6 words of 2 syllables, 2 sentences.
     * ASL = 6/2 = 3, ASW = 12/6 = 2
     * 206.835 - 1.3 * 3 - 60.1 * 2 = 206.835 - 3.9 - 120.2 = 82.735 */
    sa_text_stats(S("Мама мыла раму. Папа читал книгу."), &st);
    assert_int_equal(st.words, 6);
    assert_int_equal(st.sentences, 2);
    assert_int_equal(st.syllables, 12);
    assert_float_equal(sa_readability_oborneva(st.words, st.sentences, st.syllables), 82.735, 1e-9);
    /* "Я люблю интересные книги.": я 1 + люблю 2 + интересные 5 + книги 2 = 10 syllables,
     * 4 words, 1 sentence. ASL = 4, ASW = 2.5
     * 206.835 - 1.3 * 4 - 60.1 * 2.5 = 206.835 - 5.2 - 150.25 = 51.385 */
    sa_text_stats(S("Я люблю интересные книги."), &st);
    assert_int_equal(st.syllables, 10);
    assert_float_equal(sa_readability_oborneva(st.words, st.sentences, st.syllables), 51.385, 1e-9);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(utf8),
        cmocka_unit_test(letters_and_case),
        cmocka_unit_test(syllables_en),
        cmocka_unit_test(syllables_ru),
        cmocka_unit_test(words_and_sentences),
        cmocka_unit_test(language),
        cmocka_unit_test(flesch),
        cmocka_unit_test(oborneva),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
