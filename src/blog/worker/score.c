/*
 * score.c - turns the signals of score_text/score_spam/score_simhash into a verdict and reasons.
 *
 * The order of checks is fixed so reasons[] reads the same way for the same post every time.
 * Points are integers and readability/caps ratio are rounded before they are compared, so the
 * JSON a reader sees explains the verdict exactly (no hidden decimals).
 */
#include "blog/worker/score.h"

#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "blog/worker/score_spam.h"

static void add_reason(sa_score_t *out, const char *code, int points, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

static void add_reason(sa_score_t *out, const char *code, int points, const char *fmt, ...) {
    if (out->nreasons >= SA_SCORE_MAX_REASONS) return;
    sa_reason_t *r = &out->reasons[out->nreasons++];
    r->code = code;
    r->points = points;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(r->message, sizeof(r->message), fmt, ap);
    va_end(ap);
    out->score += points;
}

static double round_to(double v, double unit) { return round(v / unit) * unit; }

static void check_spam(const sa_score_input_t *in, sa_score_t *out) {
    const char *first = NULL;
    size_t title_len = in->title ? strlen(in->title) : 0;
    size_t phrases = sa_spam_phrases(in->content, in->content_len, &first);
    const char *title_first = NULL;
    if (title_len) phrases += sa_spam_phrases(in->title, title_len, &title_first);
    if (!first) first = title_first;
    if (phrases) {
        int pts = phrases >= 2 ? -70 : -35;
        add_reason(out, "SPAM_PHRASE", pts, "%zu spam phrase%s, e.g. \"%s\"", phrases, phrases > 1 ? "s" : "",
                   first);
    }
    out->links = sa_spam_links(in->content, in->content_len);
    if (out->links > SA_SCORE_FREE_LINKS) {
        size_t extra = out->links - SA_SCORE_FREE_LINKS;
        int pts = extra >= 4 ? -40 : -10 * (int)extra;
        add_reason(out, "TOO_MANY_LINKS", pts, "%zu links (more than %d)", out->links, SA_SCORE_FREE_LINKS);
    }
    out->caps_ratio = round_to(sa_spam_caps_ratio(in->content, in->content_len), 0.001);
    if (out->text.letters >= 20 && out->caps_ratio > 0.3) {
        int pts = out->caps_ratio > 0.5 ? -35 : -15;
        add_reason(out, "SHOUTING", pts, "%.0f%% of the letters are capitals", out->caps_ratio * 100);
    }
    size_t runs = sa_spam_repeated_runs(in->content, in->content_len);
    if (runs)
        add_reason(out, "REPEATED_CHARS", -10, "%zu run%s of a letter repeated %d+ times", runs,
                   runs > 1 ? "s" : "", SA_SPAM_REPEAT_RUN);
    size_t punct = sa_spam_punct_runs(in->content, in->content_len);
    if (punct)
        add_reason(out, "PUNCTUATION_RUN", -10, "%zu run%s of %d+ punctuation marks", punct,
                   punct > 1 ? "s" : "", SA_SPAM_PUNCT_RUN);
}

void sa_score_post(const sa_score_input_t *in, const sa_simhash_ring_t *recent, sa_score_t *out) {
    memset(out, 0, sizeof(*out));
    out->score = 100;
    out->near_distance = -1;
    sa_text_stats(in->content, in->content_len, &out->text);
    out->lang_detected = sa_text_detect_lang(&out->text);
    out->lang = out->lang_detected;
    if (in->lang && (!strcmp(in->lang, "en") || !strcmp(in->lang, "ru"))) {
        out->lang = !strcmp(in->lang, "ru") ? SA_LANG_RU : SA_LANG_EN;
        if (out->lang != out->lang_detected && out->text.letters >= 20)
            add_reason(out, "LANG_MISMATCH", -5, "marked \"%s\" but the text reads as \"%s\"",
                       sa_lang_name(out->lang), sa_lang_name(out->lang_detected));
    }
    const sa_text_stats_t *t = &out->text;
    out->readability =
        round_to(out->lang == SA_LANG_RU ? sa_readability_oborneva(t->words, t->sentences, t->syllables)
                                         : sa_readability_flesch(t->words, t->sentences, t->syllables),
                 0.1);
    if (t->words == 0) {
        add_reason(out, "EMPTY", -100, "the content has no words");
        goto verdict;
    }
    out->simhash = sa_simhash_text(in->content, in->content_len);
    const char *dup =
        recent ? sa_simhash_ring_find(recent, out->simhash, SA_SIMHASH_NEAR, in->id, &out->near_distance)
               : NULL;
    if (dup) {
        snprintf(out->near_duplicate_of, sizeof(out->near_duplicate_of), "%s", dup);
        add_reason(out, "NEAR_DUPLICATE", -100, "near-duplicate of post %s (SimHash distance %d)", dup,
                   out->near_distance);
    }
    if (t->words < SA_SCORE_MIN_WORDS)
        add_reason(out, "TOO_SHORT", -25, "%zu word%s (fewer than %d)", t->words, t->words > 1 ? "s" : "",
                   SA_SCORE_MIN_WORDS);
    check_spam(in, out);
    if (out->readability < 30)
        add_reason(out, "HARD_TO_READ", -10, "readability %.1f (%s) is below 30", out->readability,
                   out->lang == SA_LANG_RU ? "Oborneva" : "Flesch");
verdict:
    if (out->score < 0) out->score = 0;
    if (out->score > 100) out->score = 100;
    if (t->words == 0 || out->near_duplicate_of[0] || out->score < SA_SCORE_REVIEW_MIN)
        out->verdict = SA_VERDICT_REJECTED;
    else if (out->score < SA_SCORE_PUBLISH_MIN)
        out->verdict = SA_VERDICT_REVIEW;
    else
        out->verdict = SA_VERDICT_PUBLISHED;
}

const char *sa_verdict_name(sa_verdict_t verdict) {
    switch (verdict) {
    case SA_VERDICT_PUBLISHED: return "published";
    case SA_VERDICT_REVIEW: return "review";
    case SA_VERDICT_REJECTED: return "rejected";
    }
    return "rejected";
}

const char *sa_lang_name(sa_lang_t lang) { return lang == SA_LANG_RU ? "ru" : "en"; }

void sa_score_to_json(const sa_score_t *score, json_t *obj) {
    json_t *reasons = json_array();
    for (size_t i = 0; i < score->nreasons; i++)
        json_array_append_new(reasons,
                              json_pack("{s:s, s:s, s:i}", "code", score->reasons[i].code, "message",
                                        score->reasons[i].message, "points", score->reasons[i].points));
    char simhash[17];
    snprintf(simhash, sizeof(simhash), "%016llx", (unsigned long long)score->simhash);
    json_t *metrics =
        json_pack("{s:I, s:I, s:I, s:f, s:s, s:s, s:s, s:I, s:f, s:s}", "words",
                  (json_int_t)score->text.words, "sentences", (json_int_t)score->text.sentences, "syllables",
                  (json_int_t)score->text.syllables, "readability", score->readability, "readability_formula",
                  score->lang == SA_LANG_RU ? "oborneva" : "flesch", "lang", sa_lang_name(score->lang),
                  "lang_detected", sa_lang_name(score->lang_detected), "links", (json_int_t)score->links,
                  "caps_ratio", score->caps_ratio, "simhash", simhash);
    json_object_set_new(metrics, "near_duplicate_of",
                        score->near_duplicate_of[0] ? json_string(score->near_duplicate_of) : json_null());
    json_object_set_new(obj, "status", json_string(sa_verdict_name(score->verdict)));
    json_object_set_new(obj, "score", json_integer(score->score));
    json_object_set_new(obj, "reasons", reasons);
    json_object_set_new(obj, "metrics", metrics);
}
