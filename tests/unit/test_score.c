/* The worker's scoring: each spam signal, SimHash near-duplicates, verdicts and reasons. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "blog/worker/score.h"
#include "blog/worker/score_spam.h"

#define S(x) (x), strlen(x)

static const char *good_en =
    "I spent the weekend walking along the river with my dog. The weather was mild and the "
    "trees were turning yellow. We stopped at a small cafe and I read a book about old ships. "
    "It was a quiet and happy day.";

static const char *good_ru =
    "В выходные я гулял по набережной с собакой. Погода была тёплой, а деревья уже желтели. "
    "Мы зашли в маленькое кафе, и я читал книгу о старых кораблях. Это был тихий и хороший день.";

/* About 200 words: long enough for SimHash to be stable under a one-word edit. */
static const char *long_en =
    "I spent the weekend walking along the river with my dog. The weather was mild and the "
    "trees were turning yellow. We stopped at a small cafe and I read a book about old ships. "
    "The book told the story of a wooden schooner that carried tea and letters between two ports "
    "for almost forty years. Every chapter followed a different captain, and each of them had a "
    "habit the crew remembered long after he left: one sang to the wind, one counted the stars, "
    "one never slept before the lamps were checked. After lunch we went up the hill behind the "
    "church, where the path is steep and the view opens over the whole valley. My dog found a "
    "stick twice as long as herself and carried it proudly all the way home. In the evening I "
    "cooked soup with the last tomatoes from the garden, wrote a few letters to old friends and "
    "listened to the rain on the roof. It was a quiet and happy day, the kind I would like to "
    "remember when the winter comes and the river freezes. Next weekend we plan to take the train "
    "to the coast and look at the real ships in the harbour.";

static void links(void **state) {
    (void)state;
    assert_int_equal(sa_spam_links(S("no links here")), 0);
    assert_int_equal(sa_spam_links(S("see https://example.com and http://x.org")), 2);
    assert_int_equal(sa_spam_links(S("HTTPS://WWW.EXAMPLE.COM")), 1); /* one link, not two */
    assert_int_equal(sa_spam_links(S("www.a.com www.b.com")), 2);
}

static void caps(void **state) {
    (void)state;
    assert_float_equal(sa_spam_caps_ratio(S("")), 0, 0);
    assert_float_equal(sa_spam_caps_ratio(S("ABCD abcd")), 0.5, 1e-9);
    assert_float_equal(sa_spam_caps_ratio(S("ПРИВЕТ мир")), 0.6666666667, 1e-6); /* 6 of 9 letters */
    assert_float_equal(sa_spam_caps_ratio(S("12345 !!!")), 0, 0);
}

static void repeats_and_punctuation(void **state) {
    (void)state;
    assert_int_equal(sa_spam_repeated_runs(S("so good")), 0);
    assert_int_equal(sa_spam_repeated_runs(S("sooooo good")), 1);
    assert_int_equal(sa_spam_repeated_runs(S("sooooooooo goooood")), 2);
    assert_int_equal(sa_spam_repeated_runs(S("ура-а-а ураааааа")), 1); /* Cyrillic counts too */
    assert_int_equal(sa_spam_repeated_runs(S("AaAaA")), 1);            /* case-insensitive */
    assert_int_equal(sa_spam_repeated_runs(S("11111")), 0);            /* digits are not letters */
    assert_int_equal(sa_spam_punct_runs(S("Wait... really?")), 0);
    assert_int_equal(sa_spam_punct_runs(S("Wow!!!! Really?!?!")), 2);
    assert_int_equal(sa_spam_punct_runs(S("----- a rule -----")), 0);
}

static void phrases(void **state) {
    (void)state;
    const char *first;
    assert_int_equal(sa_spam_phrases(S("a normal post"), &first), 0);
    assert_null(first);
    assert_int_equal(sa_spam_phrases(S("CLICK HERE to win"), &first), 1);
    assert_string_equal(first, "click here");
    assert_int_equal(sa_spam_phrases(S("Быстрый заработок! Купить сейчас!"), &first), 2);
}

static void simhash_distance(void **state) {
    (void)state;
    uint64_t a = sa_simhash_text(S(good_en));
    assert_true(a != 0);
    assert_int_equal(sa_simhash_distance(a, sa_simhash_text(S(good_en))), 0);
    /* Case and punctuation do not change the words. */
    char *upper = strdup(good_en);
    for (char *p = upper; *p; p++)
        if (*p >= 'a' && *p <= 'z') *p = (char)(*p - 32);
    assert_int_equal(sa_simhash_distance(a, sa_simhash_text(S(upper))), 0);
    free(upper);
    /* One word changed, or a sentence added, in ~200: a near-duplicate. */
    uint64_t l = sa_simhash_text(S(long_en));
    char edited[4096];
    snprintf(edited, sizeof(edited), "%s", long_en);
    memcpy(strstr(edited, "old ships"), "old boats", 9);
    assert_true(sa_simhash_distance(l, sa_simhash_text(S(edited))) <= SA_SIMHASH_NEAR);
    snprintf(edited, sizeof(edited), "%s", long_en);
    memcpy(strstr(edited, "quiet"), "great", 5);
    assert_true(sa_simhash_distance(l, sa_simhash_text(S(edited))) <= SA_SIMHASH_NEAR);
    snprintf(edited, sizeof(edited), "%s Thanks for reading.", long_en);
    assert_true(sa_simhash_distance(l, sa_simhash_text(S(edited))) <= SA_SIMHASH_NEAR);
    assert_true(sa_simhash_distance(l, a) > SA_SIMHASH_NEAR); /* a shorter, different post */
    /* Clearly different texts are far apart. */
    assert_true(sa_simhash_distance(a, sa_simhash_text(S(good_ru))) > 10);
    assert_true(sa_simhash_distance(a, sa_simhash_text(S("Completely unrelated words about compilers "
                                                         "and linkers and the C language standard."))) > 10);
    assert_int_equal(sa_simhash_text(S("  ... !!! ")), 0);
}

static void simhash_ring(void **state) {
    (void)state;
    sa_simhash_ring_t *ring = sa_simhash_ring_new(3);
    uint64_t base = 0x0123456789abcdefULL;
    sa_simhash_ring_add(ring, "p0", base);
    int d = -1;
    /* Distances 0, 1, 2, 3 match; 4 does not. */
    for (int bits = 0; bits <= 3; bits++) {
        uint64_t h = base ^ ((1ULL << bits) - 1);
        const char *id = sa_simhash_ring_find(ring, h, SA_SIMHASH_NEAR, NULL, &d);
        assert_non_null(id);
        assert_string_equal(id, "p0");
        assert_int_equal(d, bits);
    }
    assert_null(sa_simhash_ring_find(ring, base ^ 0xF, SA_SIMHASH_NEAR, NULL, &d));
    assert_null(sa_simhash_ring_find(ring, base, SA_SIMHASH_NEAR, "p0", &d)); /* never itself */
    /* The closest wins; the oldest leaves a full ring. */
    sa_simhash_ring_add(ring, "p1", base ^ 1);
    assert_string_equal(sa_simhash_ring_find(ring, base ^ 1, 3, NULL, &d), "p1");
    sa_simhash_ring_add(ring, "p2", ~base);
    sa_simhash_ring_add(ring, "p3", ~base ^ 0xFF00);
    assert_int_equal(sa_simhash_ring_count(ring), 3);
    assert_string_equal(sa_simhash_ring_find(ring, base, 3, NULL, &d), "p1"); /* p0 is gone */
    sa_simhash_ring_free(ring);
}

static int has_reason(const sa_score_t *sc, const char *code) {
    for (size_t i = 0; i < sc->nreasons; i++)
        if (!strcmp(sc->reasons[i].code, code)) return sc->reasons[i].points;
    return 1; /* not present: no deduction is positive */
}

static void score_text(const char *content, const char *lang, const sa_simhash_ring_t *ring, sa_score_t *sc) {
    sa_score_input_t in = {"A title", content, strlen(content), lang, "self"};
    sa_score_post(&in, ring, sc);
}

static void verdict_published(void **state) {
    (void)state;
    sa_score_t sc;
    score_text(good_en, "en", NULL, &sc);
    assert_int_equal(sc.verdict, SA_VERDICT_PUBLISHED);
    assert_int_equal(sc.score, 100);
    assert_int_equal(sc.nreasons, 0);
    assert_int_equal(sc.lang, SA_LANG_EN);
    assert_true(sc.readability > 60);
    score_text(good_ru, "ru", NULL, &sc);
    assert_int_equal(sc.verdict, SA_VERDICT_PUBLISHED);
    assert_int_equal(sc.lang, SA_LANG_RU);
    assert_int_equal(sc.lang_detected, SA_LANG_RU);
    /* Without a lang field the language is detected. */
    score_text(good_ru, NULL, NULL, &sc);
    assert_int_equal(sc.lang, SA_LANG_RU);
}

static void verdict_empty_and_short(void **state) {
    (void)state;
    sa_score_t sc;
    score_text("   ... 42 ", NULL, NULL, &sc);
    assert_int_equal(sc.verdict, SA_VERDICT_REJECTED);
    assert_int_equal(sc.score, 0);
    assert_int_equal(has_reason(&sc, "EMPTY"), -100);
    score_text("Nice short post today.", "en", NULL, &sc);
    assert_int_equal(has_reason(&sc, "TOO_SHORT"), -25);
    assert_int_equal(sc.score, 75);
    assert_int_equal(sc.verdict, SA_VERDICT_PUBLISHED);
    assert_non_null(strstr(sc.reasons[0].message, "4 words"));
}

static void verdict_spam(void **state) {
    (void)state;
    sa_score_t sc;
    /* One phrase: review (100 - 35 = 65), not silently dropped. */
    char buf[1024];
    snprintf(buf, sizeof(buf), "%s Click here for my photos.", good_en);
    score_text(buf, "en", NULL, &sc);
    assert_int_equal(has_reason(&sc, "SPAM_PHRASE"), -35);
    assert_int_equal(sc.score, 65);
    assert_int_equal(sc.verdict, SA_VERDICT_REVIEW);
    /* Shouting, links, repeats, punctuation runs and two phrases: rejected. */
    score_text("BUY NOW!!!! FREE MONEY FOR EVERYONE, SOOOOO EASY, VISIT HTTP://A.EXAMPLE HTTP://B.EXAMPLE "
               "HTTP://C.EXAMPLE HTTP://D.EXAMPLE NOW NOW NOW",
               "en", NULL, &sc);
    assert_int_equal(sc.verdict, SA_VERDICT_REJECTED);
    assert_int_equal(has_reason(&sc, "SPAM_PHRASE"), -70);
    assert_int_equal(has_reason(&sc, "TOO_MANY_LINKS"), -20);
    assert_int_equal(has_reason(&sc, "SHOUTING"), -35);
    assert_int_equal(has_reason(&sc, "REPEATED_CHARS"), -10);
    assert_int_equal(has_reason(&sc, "PUNCTUATION_RUN"), -10);
    assert_int_equal(sc.score, 0);
    assert_int_equal(sc.links, 4);
    /* Borderline: shouting alone (100 - 35 = 65) is review. */
    snprintf(buf, sizeof(buf), "%s", good_en);
    for (char *p = buf; *p; p++)
        if (*p >= 'a' && *p <= 'z') *p = (char)(*p - 32);
    score_text(buf, "en", NULL, &sc);
    assert_int_equal(has_reason(&sc, "SHOUTING"), -35);
    assert_int_equal(sc.verdict, SA_VERDICT_REVIEW);
    assert_int_equal(sc.score, 65);
}

static void verdict_duplicate_and_lang(void **state) {
    (void)state;
    sa_score_t sc;
    sa_simhash_ring_t *ring = sa_simhash_ring_new(10);
    sa_simhash_ring_add(ring, "01ORIGINAL", sa_simhash_text(S(good_en)));
    score_text(good_en, "en", ring, &sc);
    assert_int_equal(sc.verdict, SA_VERDICT_REJECTED);
    assert_string_equal(sc.near_duplicate_of, "01ORIGINAL");
    assert_int_equal(sc.near_distance, 0);
    assert_int_equal(has_reason(&sc, "NEAR_DUPLICATE"), -100);
    /* A different post is not a duplicate. */
    score_text(good_ru, "ru", ring, &sc);
    assert_string_equal(sc.near_duplicate_of, "");
    assert_int_equal(sc.verdict, SA_VERDICT_PUBLISHED);
    /* Marked English, written in Russian: a small deduction, Flesch rules applied as asked. */
    score_text(good_ru, "en", NULL, &sc);
    assert_int_equal(has_reason(&sc, "LANG_MISMATCH"), -5);
    assert_int_equal(sc.lang, SA_LANG_EN);
    assert_int_equal(sc.lang_detected, SA_LANG_RU);
    sa_simhash_ring_free(ring);
}

static void json_output(void **state) {
    (void)state;
    sa_score_t sc;
    score_text("Nice short post today.", "en", NULL, &sc);
    json_t *obj = json_object();
    sa_score_to_json(&sc, obj);
    assert_string_equal(json_string_value(json_object_get(obj, "status")), "published");
    assert_int_equal(json_integer_value(json_object_get(obj, "score")), 75);
    json_t *r = json_array_get(json_object_get(obj, "reasons"), 0);
    assert_string_equal(json_string_value(json_object_get(r, "code")), "TOO_SHORT");
    assert_int_equal(json_integer_value(json_object_get(r, "points")), -25);
    json_t *m = json_object_get(obj, "metrics");
    assert_int_equal(json_integer_value(json_object_get(m, "words")), 4);
    assert_int_equal(json_integer_value(json_object_get(m, "sentences")), 1);
    assert_true(json_is_null(json_object_get(m, "near_duplicate_of")));
    assert_true(json_is_real(json_object_get(m, "readability")));
    json_decref(obj);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(links),
        cmocka_unit_test(caps),
        cmocka_unit_test(repeats_and_punctuation),
        cmocka_unit_test(phrases),
        cmocka_unit_test(simhash_distance),
        cmocka_unit_test(simhash_ring),
        cmocka_unit_test(verdict_published),
        cmocka_unit_test(verdict_empty_and_short),
        cmocka_unit_test(verdict_spam),
        cmocka_unit_test(verdict_duplicate_and_lang),
        cmocka_unit_test(json_output),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
