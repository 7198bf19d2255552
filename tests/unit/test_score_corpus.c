/*
 * The scoring against a labelled corpus (tests/data/scoring/corpus.jsonl), English and Russian:
 * original posts, short posts, near-duplicate reposts with small edits (each names the post it
 * copies), spam, and posts that repeat one sentence over and over. Each line is
 * {"id","lang","title","content","label":"ok"|"bad","kind",["dup_of"]}.
 *
 * The posts go through sa_score_post in file order with one ring of recent posts, as the worker
 * does, and the test prints precision and recall of
 *   - "flagged": a post not published (review or rejected) against label "bad";
 *   - "near-duplicate": NEAR_DUPLICATE naming the right earlier post, against kind near_duplicate;
 * per language and in total (docs/worker.md quotes this table), then asserts the floors below.
 * Run alone: build/tests/test_score_corpus [CORPUS] (it prints every miss).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "blog/worker/score.h"

static const char *corpus_path;

typedef struct counts_s {
    int tp, fp, fn, n;
} counts_t;

static double ratio(int a, int b) { return b ? (double)a / b : 1.0; }

static void print_row(const char *what, const char *lang, const counts_t *c) {
    printf("# %-15s %-5s posts %3d  precision %.3f  recall %.3f  (tp %d, fp %d, fn %d)\n", what, lang, c->n,
           ratio(c->tp, c->tp + c->fp), ratio(c->tp, c->tp + c->fn), c->tp, c->fp, c->fn);
}

static void count(counts_t *c, int predicted, int actual) {
    c->n++;
    if (predicted && actual) c->tp++;
    if (predicted && !actual) c->fp++;
    if (!predicted && actual) c->fn++;
}

static int has(const sa_score_t *sc, const char *code) {
    for (size_t i = 0; i < sc->nreasons; i++)
        if (!strcmp(sc->reasons[i].code, code)) return 1;
    return 0;
}

static void corpus(void **state) {
    (void)state;
    json_error_t jerr;
    FILE *f = fopen(corpus_path, "r");
    assert_non_null(f);
    counts_t flag[3] = {0}, dup[3] = {0}; /* en, ru, all */
    int short_hard = 0, posts = 0;
    double least_dup = 1, most_other = 0; /* similarity of the least similar copy, the closest non-copy */
    sa_dup_ring_t *ring = sa_dup_ring_new(1000);
    char line[65536];
    while (fgets(line, sizeof(line), f)) {
        json_t *p = json_loads(line, 0, &jerr);
        assert_non_null(p);
        const char *id = json_string_value(json_object_get(p, "id"));
        const char *lang = json_string_value(json_object_get(p, "lang"));
        const char *content = json_string_value(json_object_get(p, "content"));
        const char *label = json_string_value(json_object_get(p, "label"));
        const char *kind = json_string_value(json_object_get(p, "kind"));
        const char *dup_of = json_string_value(json_object_get(p, "dup_of"));
        sa_score_input_t in = {json_string_value(json_object_get(p, "title")), content, strlen(content), lang,
                               id};
        sa_score_t sc;
        sa_score_post(&in, ring, &sc);
        double closest = 0;
        sa_dup_ring_find(ring, &sc.sig, 0.0, id, &closest); /* the margin either side of SA_DUP_NEAR */
        sa_score_remember(ring, id, &sc);
        int bad = !strcmp(label, "bad"), flagged = sc.verdict != SA_VERDICT_PUBLISHED;
        int is_dup = !strcmp(kind, "near_duplicate");
        int found = sc.near_duplicate_of[0] && (!is_dup || !strcmp(sc.near_duplicate_of, dup_of));
        int l = !strcmp(lang, "ru");
        if (is_dup && closest < least_dup) least_dup = closest;
        if (!is_dup && closest > most_other) most_other = closest;
        count(&flag[l], flagged, bad), count(&flag[2], flagged, bad);
        count(&dup[l], found, is_dup), count(&dup[2], found, is_dup);
        if (flagged != bad || found != is_dup)
            printf("# miss %-14s %-9s %-14s score %3d %-9s dup_of %-12s %s\n", id, label, kind, sc.score,
                   sa_verdict_name(sc.verdict), sc.near_duplicate_of[0] ? sc.near_duplicate_of : "-",
                   sc.nreasons ? sc.reasons[0].code : "");
        if (sc.text.words < SA_SCORE_READABILITY_MIN_WORDS && has(&sc, "HARD_TO_READ")) short_hard++;
        posts++;
        json_decref(p);
    }
    fclose(f);
    sa_dup_ring_free(ring);
    const char *langs[3] = {"en", "ru", "all"};
    printf("# corpus %s: %d posts\n", corpus_path, posts);
    for (int l = 0; l < 3; l++) print_row("flagged", langs[l], &flag[l]);
    for (int l = 0; l < 3; l++) print_row("near-duplicate", langs[l], &dup[l]);
    printf("# similarity to the closest earlier post: copies >= %.2f, other posts <= %.2f (threshold %.2f)\n",
           least_dup, most_other, SA_DUP_NEAR);
    printf("# short posts (< %d words) called hard to read: %d\n", SA_SCORE_READABILITY_MIN_WORDS,
           short_hard);
    assert_true(posts >= 90);
    for (int l = 0; l < 3; l++) {
        assert_true(ratio(flag[l].tp, flag[l].tp + flag[l].fp) >= 0.95);
        assert_true(ratio(flag[l].tp, flag[l].tp + flag[l].fn) >= 0.95);
        assert_true(ratio(dup[l].tp, dup[l].tp + dup[l].fp) >= 0.99);
        assert_true(ratio(dup[l].tp, dup[l].tp + dup[l].fn) >= 0.9);
    }
    assert_int_equal(short_hard, 0);
}

int main(int argc, char **argv) {
    static char path[4096];
    const char *src = getenv("SAMSA_SOURCE_DIR");
    snprintf(path, sizeof(path), "%s/tests/data/scoring/corpus.jsonl", src ? src : ".");
    corpus_path = argc > 1 ? argv[1] : path;
    const struct CMUnitTest tests[] = {cmocka_unit_test(corpus)};
    return cmocka_run_group_tests(tests, NULL, NULL);
}
