/*
 * score.c - turns the signals of score_text/score_spam/score_dup into a verdict and reasons.
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

static sa_reason_t *add_reason(sa_score_t *out, const char *code, int points, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

/* @returns the reason recorded (for its params), or NULL when reasons[] is full. */
static sa_reason_t *add_reason(sa_score_t *out, const char *code, int points, const char *fmt, ...) {
    out->score += points;
    if (out->nreasons >= SA_SCORE_MAX_REASONS) return NULL;
    sa_reason_t *r = &out->reasons[out->nreasons++];
    memset(r, 0, sizeof(*r));
    r->code = code;
    r->points = points;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(r->message, sizeof(r->message), fmt, ap);
    va_end(ap);
    return r;
}

static sa_reason_param_t *next_param(sa_reason_t *r, const char *name) {
    for (size_t i = 0; r && i < SA_SCORE_MAX_PARAMS; i++)
        if (!r->params[i].name) {
            r->params[i].name = name;
            return &r->params[i];
        }
    return NULL;
}

static void param_num(sa_reason_t *r, const char *name, double v) {
    sa_reason_param_t *p = next_param(r, name);
    if (!p) return;
    p->num = v;
    p->integral = v == (double)(long long)v;
}

static void param_text(sa_reason_t *r, const char *name, const char *v) {
    sa_reason_param_t *p = next_param(r, name);
    if (p) snprintf(p->text, sizeof(p->text), "%s", v);
}

static double round_to(double v, double unit) { return round(v / unit) * unit; }

static void check_spam(const sa_score_input_t *in, sa_score_t *out) {
    const char *first = NULL;
    size_t title_len = in->title ? strlen(in->title) : 0;
    size_t phrases = sa_spam_phrases(in->content, in->content_len, &first);
    const char *title_first = NULL;
    if (title_len) phrases += sa_spam_phrases(in->title, title_len, &title_first);
    if (!first) first = title_first;
    sa_reason_t *r;
    if (phrases) {
        r = add_reason(out, "SPAM_PHRASE", phrases >= 2 ? -70 : -35, "%zu spam phrase%s, e.g. \"%s\"",
                       phrases, phrases > 1 ? "s" : "", first);
        param_num(r, "count", (double)phrases);
        param_text(r, "example", first);
    }
    out->links = sa_spam_links(in->content, in->content_len);
    if (out->links > SA_SCORE_FREE_LINKS) {
        size_t extra = out->links - SA_SCORE_FREE_LINKS;
        r = add_reason(out, "TOO_MANY_LINKS", extra >= 4 ? -40 : -10 * (int)extra, "%zu links (more than %d)",
                       out->links, SA_SCORE_FREE_LINKS);
        param_num(r, "links", (double)out->links);
        param_num(r, "free", SA_SCORE_FREE_LINKS);
    }
    out->caps_ratio = round_to(sa_spam_caps_ratio(in->content, in->content_len), 0.001);
    if (out->text.letters >= 20 && out->caps_ratio > 0.3) {
        r = add_reason(out, "SHOUTING", out->caps_ratio > 0.5 ? -35 : -15,
                       "%.0f%% of the letters are capitals", out->caps_ratio * 100);
        param_num(r, "percent", round(out->caps_ratio * 100));
    }
    size_t runs = sa_spam_repeated_runs(in->content, in->content_len);
    if (runs) {
        r = add_reason(out, "REPEATED_CHARS", -10, "%zu run%s of a letter repeated %d+ times", runs,
                       runs > 1 ? "s" : "", SA_SPAM_REPEAT_RUN);
        param_num(r, "runs", (double)runs);
        param_num(r, "min_run", SA_SPAM_REPEAT_RUN);
    }
    size_t punct = sa_spam_punct_runs(in->content, in->content_len);
    if (punct) {
        r = add_reason(out, "PUNCTUATION_RUN", -10, "%zu run%s of %d+ punctuation marks", punct,
                       punct > 1 ? "s" : "", SA_SPAM_PUNCT_RUN);
        param_num(r, "runs", (double)punct);
        param_num(r, "min_run", SA_SPAM_PUNCT_RUN);
    }
}

void sa_score_post(const sa_score_input_t *in, const sa_dup_ring_t *recent, sa_score_t *out) {
    memset(out, 0, sizeof(*out));
    out->score = 100;
    out->similarity = -1;
    sa_reason_t *r;
    sa_text_stats(in->content, in->content_len, &out->text);
    out->lang_detected = sa_text_detect_lang(&out->text);
    out->lang = out->lang_detected;
    if (in->lang && (!strcmp(in->lang, "en") || !strcmp(in->lang, "ru"))) {
        out->lang = !strcmp(in->lang, "ru") ? SA_LANG_RU : SA_LANG_EN;
        if (out->lang != out->lang_detected && out->text.letters >= 20) {
            r = add_reason(out, "LANG_MISMATCH", -5, "marked \"%s\" but the text reads as \"%s\"",
                           sa_lang_name(out->lang), sa_lang_name(out->lang_detected));
            param_text(r, "marked", sa_lang_name(out->lang));
            param_text(r, "detected", sa_lang_name(out->lang_detected));
        }
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
    sa_dup_signature(in->content, in->content_len, &out->sig);
    out->repetition = round_to(sa_dup_repetition(&out->sig), 0.001);
    double sim = 0;
    const char *dup = recent ? sa_dup_ring_find(recent, &out->sig, SA_DUP_NEAR, in->id, &sim) : NULL;
    if (dup) {
        snprintf(out->near_duplicate_of, sizeof(out->near_duplicate_of), "%s", dup);
        out->similarity = round_to(sim, 0.01);
        r = add_reason(out, "NEAR_DUPLICATE", -100,
                       "near-duplicate of post %s (%.0f%% of its 3-word phrases are the same)", dup,
                       sim * 100);
        param_text(r, "of", dup);
        param_num(r, "similarity", out->similarity);
        param_num(r, "percent", round(sim * 100));
    }
    if (out->sig.shingles >= SA_SCORE_REPETITION_MIN_SHINGLES && out->repetition > 0.3) {
        r = add_reason(out, "REPETITIVE", out->repetition > 0.5 ? -70 : -30,
                       "%.0f%% of the text repeats itself", out->repetition * 100);
        param_num(r, "percent", round(out->repetition * 100));
    }
    if (t->words < SA_SCORE_MIN_WORDS) {
        r = add_reason(out, "TOO_SHORT", -25, "%zu word%s (fewer than %d)", t->words, t->words > 1 ? "s" : "",
                       SA_SCORE_MIN_WORDS);
        param_num(r, "words", (double)t->words);
        param_num(r, "min", SA_SCORE_MIN_WORDS);
    }
    check_spam(in, out);
    if (t->words >= SA_SCORE_READABILITY_MIN_WORDS && out->readability < 30) {
        r = add_reason(out, "HARD_TO_READ", -10, "readability %.1f (%s) is below 30", out->readability,
                       out->lang == SA_LANG_RU ? "Oborneva" : "Flesch");
        param_num(r, "readability", out->readability);
        param_text(r, "formula", out->lang == SA_LANG_RU ? "oborneva" : "flesch");
        param_num(r, "min", 30);
    }
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

void sa_score_remember(sa_dup_ring_t *recent, const char *id, const sa_score_t *score) {
    if (score->text.words) sa_dup_ring_add(recent, id, &score->sig);
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

static json_t *reason_json(const sa_reason_t *r) {
    json_t *params = json_object();
    for (size_t i = 0; i < SA_SCORE_MAX_PARAMS && r->params[i].name; i++) {
        const sa_reason_param_t *p = &r->params[i];
        json_object_set_new(params, p->name,
                            p->text[0]    ? json_string(p->text)
                            : p->integral ? json_integer((json_int_t)p->num)
                                          : json_real(p->num));
    }
    return json_pack("{s:s, s:i, s:o, s:s}", "code", r->code, "points", r->points, "params", params,
                     "message", r->message);
}

void sa_score_to_json(const sa_score_t *score, json_t *obj) {
    json_t *reasons = json_array();
    for (size_t i = 0; i < score->nreasons; i++)
        json_array_append_new(reasons, reason_json(&score->reasons[i]));
    json_t *metrics =
        json_pack("{s:I, s:I, s:I, s:f, s:s, s:s, s:s, s:I, s:f, s:f}", "words",
                  (json_int_t)score->text.words, "sentences", (json_int_t)score->text.sentences, "syllables",
                  (json_int_t)score->text.syllables, "readability", score->readability, "readability_formula",
                  score->lang == SA_LANG_RU ? "oborneva" : "flesch", "lang", sa_lang_name(score->lang),
                  "lang_detected", sa_lang_name(score->lang_detected), "links", (json_int_t)score->links,
                  "caps_ratio", score->caps_ratio, "repetition", score->repetition);
    json_object_set_new(metrics, "near_duplicate_of",
                        score->near_duplicate_of[0] ? json_string(score->near_duplicate_of) : json_null());
    json_object_set_new(metrics, "similarity",
                        score->similarity >= 0 ? json_real(score->similarity) : json_null());
    json_object_set_new(obj, "status", json_string(sa_verdict_name(score->verdict)));
    json_object_set_new(obj, "score", json_integer(score->score));
    json_object_set_new(obj, "reasons", reasons);
    json_object_set_new(obj, "metrics", metrics);
}
