/* The worker's scoring: each spam signal, MinHash near-duplicates and repetition, verdicts and reasons. */
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

/* About 200 words: a long post, for edits that leave it a near-duplicate. */
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

static double sim_of(const char *x, const char *y) {
    sa_dup_sig_t a, b;
    sa_dup_signature(x, strlen(x), &a);
    sa_dup_signature(y, strlen(y), &b);
    return sa_dup_similarity(&a, &b);
}

static void dup_similarity(void **state) {
    (void)state;
    sa_dup_sig_t a;
    sa_dup_signature(S(good_en), &a);
    assert_true(a.features > 0);
    assert_true(sim_of(good_en, good_en) == 1.0);
    /* Case and punctuation do not change the words. */
    char *upper = strdup(good_en);
    for (char *p = upper; *p; p++)
        if (*p >= 'a' && *p <= 'z') *p = (char)(*p - 32);
    assert_true(sim_of(good_en, upper) == 1.0);
    free(upper);
    /* One word changed, or a sentence added, in ~200: a near-duplicate. */
    char edited[4096];
    snprintf(edited, sizeof(edited), "%s", long_en);
    memcpy(strstr(edited, "old ships"), "old boats", 9);
    assert_true(sim_of(long_en, edited) >= SA_DUP_NEAR);
    snprintf(edited, sizeof(edited), "%s Thanks for reading.", long_en);
    assert_true(sim_of(long_en, edited) >= SA_DUP_NEAR);
    /* A short post (~40 words) with two words changed: still well above the threshold (SimHash
     * moved 6 bits here, past its threshold of 3). */
    const char *short_a =
        "I started baking my own bread in the spring. The first loaves were flat and dense, "
        "but I kept notes on every attempt. Now I let the dough rise overnight in the fridge, "
        "and the crust comes out crisp and golden.";
    const char *short_b =
        "I started baking my own bread in the summer. The first loaves were flat and dense, "
        "but I kept notes on every attempt. Now I let the dough rise overnight in the oven, "
        "and the crust comes out crisp and golden.";
    assert_true(sim_of(short_a, short_b) >= 0.6);
    /* Clearly different texts share (almost) nothing. */
    assert_true(sim_of(good_en, good_ru) < 0.1);
    assert_true(sim_of(long_en, good_en) < SA_DUP_NEAR);
    assert_true(sim_of(good_en, "Completely unrelated words about compilers and linkers and the C language "
                                "standard.") < 0.1);
    sa_dup_signature(S("  ... !!! "), &a);
    assert_int_equal(a.features, 0);
    assert_true(sa_dup_similarity(&a, &a) == 0);
}

static void dup_repetition(void **state) {
    (void)state;
    sa_dup_sig_t sig;
    sa_dup_signature(S(long_en), &sig);
    assert_true(sa_dup_repetition(&sig) < 0.05); /* prose barely repeats itself */
    char rep[8192] = "";
    for (int i = 0; i < 100; i++) strcat(rep, "This is a great product and you should buy it. ");
    sa_dup_signature(S(rep), &sig);
    assert_int_equal(sig.features, 10); /* 10 distinct 3-word shingles in the cycle */
    assert_true(sa_dup_repetition(&sig) > 0.95);
}

static void dup_ring(void **state) {
    (void)state;
    sa_dup_ring_t *ring = sa_dup_ring_new(3);
    sa_dup_sig_t base, other, tiny;
    sa_dup_signature(S(long_en), &base);
    sa_dup_signature(S(good_en), &other);
    sa_dup_signature(S("Hello world."), &tiny);
    double sim = -1;
    sa_dup_ring_add(ring, "p0", &base);
    assert_string_equal(sa_dup_ring_find(ring, &base, SA_DUP_NEAR, NULL, &sim), "p0");
    assert_true(sim == 1.0);
    assert_null(sa_dup_ring_find(ring, &other, SA_DUP_NEAR, NULL, &sim));
    assert_null(sa_dup_ring_find(ring, &base, SA_DUP_NEAR, "p0", &sim)); /* never itself */
    /* too short to compare, and not kept */
    sa_dup_ring_add(ring, "t", &tiny);
    assert_int_equal(sa_dup_ring_count(ring), 1);
    assert_null(sa_dup_ring_find(ring, &tiny, SA_DUP_NEAR, NULL, &sim));
    /* The newest of equals wins; the oldest leaves a full ring. */
    sa_dup_ring_add(ring, "p1", &base);
    assert_string_equal(sa_dup_ring_find(ring, &base, SA_DUP_NEAR, NULL, &sim), "p1");
    sa_dup_ring_add(ring, "p2", &other);
    sa_dup_ring_add(ring, "p3", &other);
    assert_int_equal(sa_dup_ring_count(ring), 3);
    assert_string_equal(sa_dup_ring_find(ring, &base, SA_DUP_NEAR, NULL, &sim), "p1"); /* p0 is gone */
    sa_dup_ring_free(ring);
}

static int has_reason(const sa_score_t *sc, const char *code) {
    for (size_t i = 0; i < sc->nreasons; i++)
        if (!strcmp(sc->reasons[i].code, code)) return sc->reasons[i].points;
    return 1; /* not present: no deduction is positive */
}

static void score_text(const char *content, const char *lang, const sa_dup_ring_t *ring, sa_score_t *sc) {
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
    sa_dup_ring_t *ring = sa_dup_ring_new(10);
    sa_dup_ring_add_text(ring, "01ORIGINAL", S(good_en));
    score_text(good_en, "en", ring, &sc);
    assert_int_equal(sc.verdict, SA_VERDICT_REJECTED);
    assert_string_equal(sc.near_duplicate_of, "01ORIGINAL");
    assert_true(sc.similarity == 1.0);
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
    sa_dup_ring_free(ring);
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
        cmocka_unit_test(dup_similarity),
        cmocka_unit_test(dup_repetition),
        cmocka_unit_test(dup_ring),
        cmocka_unit_test(verdict_published),
        cmocka_unit_test(verdict_empty_and_short),
        cmocka_unit_test(verdict_spam),
        cmocka_unit_test(verdict_duplicate_and_lang),
        cmocka_unit_test(json_output),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
