/*
 * web_html.c - page skeleton and shared fragments (see web_html.h). Elements that live updates
 * touch carry ids/data attributes that web/live.js looks for; without JavaScript they are
 * plain HTML.
 */
#include "blog/web/web_html.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "blog/web/web_form.h"

void sa_html_begin(sa_buf_t *out, sa_lang_t lang, const char *title, int refresh_s,
                   const char *lang_switch_url) {
    sa_buf_printf(out,
                  "<!doctype html>\n<html lang=\"%s\"><head><meta charset=\"utf-8\">"
                  "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\"><title>",
                  sa_i18n_code(lang));
    sa_html_escape(out, title);
    sa_buf_append_str(out, "</title><link rel=\"stylesheet\" href=\"/static/style.css\">");
    if (refresh_s > 0)
        sa_buf_printf(out, "<noscript><meta http-equiv=\"refresh\" content=\"%d\"></noscript>", refresh_s);
    sa_buf_printf(
        out, "<script src=\"/static/live.js\" defer></script></head>\n<body data-lang=\"%s\" data-i18n=\"",
        sa_i18n_code(lang));
    /* the few words live.js writes, in the page's language */
    json_t *words = json_pack(
        "{s:s, s:s, s:s, s:s, s:s, s:s}", "status_queued", sa_i18n(lang, SA_MSG_STATUS_QUEUED),
        "status_published", sa_i18n(lang, SA_MSG_STATUS_PUBLISHED), "status_review",
        sa_i18n(lang, SA_MSG_STATUS_REVIEW), "status_rejected", sa_i18n(lang, SA_MSG_STATUS_REJECTED),
        "score", sa_i18n(lang, SA_MSG_SCORE), "anonymous", sa_i18n(lang, SA_MSG_ANONYMOUS));
    char *text = json_dumps(words, JSON_COMPACT);
    json_decref(words);
    sa_html_escape(out, text ? text : "{}");
    free(text);
    sa_buf_printf(out, "\"><header class=\"top\"><a class=\"brand\" href=\"/?lang=%s\">", sa_i18n_code(lang));
    sa_html_escape(out, sa_i18n(lang, SA_MSG_TITLE_APP));
    sa_buf_append_str(out, "</a><span id=\"live\" class=\"live\" hidden>");
    sa_html_escape(out, sa_i18n(lang, SA_MSG_LIVE));
    sa_buf_append_str(out, "</span><a class=\"lang\" href=\"");
    sa_html_escape(out, lang_switch_url);
    sa_buf_append_str(out, "\">");
    sa_html_escape(out, sa_i18n(lang, SA_MSG_LANG_OTHER));
    sa_buf_append_str(out, "</a></header>\n<main>");
}

void sa_html_end(sa_buf_t *out) { sa_buf_append_str(out, "</main></body></html>\n"); }

static const char *str(const json_t *post, const char *key) {
    const char *s = json_string_value(json_object_get(post, key));
    return s ? s : "";
}

void sa_html_status(sa_buf_t *out, sa_lang_t lang, const json_t *post) {
    const char *status = str(post, "status");
    sa_buf_append_str(out, "<span class=\"badge status-");
    sa_html_escape(out, status);
    sa_buf_append_str(out, "\" data-role=\"status\">");
    sa_html_escape(out, sa_i18n_status(lang, status));
    sa_buf_append_str(out, "</span> <span class=\"score\" data-role=\"score\">");
    json_t *score = json_object_get(post, "score");
    if (json_is_number(score)) {
        sa_html_escape(out, sa_i18n(lang, SA_MSG_SCORE));
        sa_buf_printf(out, " <b>%.0f</b>", json_number_value(score));
    }
    sa_buf_append_str(out, "</span>");
}

void sa_html_reasons(sa_buf_t *out, sa_lang_t lang, const json_t *post) {
    (void)lang;
    json_t *reasons = json_object_get(post, "reasons");
    sa_buf_append_str(out, "<ul class=\"reasons\" data-role=\"reasons\">");
    size_t i;
    json_t *r;
    json_array_foreach(reasons, i, r) {
        const char *text = json_string_value(r);
        if (!text && json_is_object(r)) { /* {code, message} style reasons */
            text = json_string_value(json_object_get(r, "message"));
            if (!text) text = json_string_value(json_object_get(r, "text"));
            if (!text) text = json_string_value(json_object_get(r, "code"));
        }
        if (!text) continue;
        sa_buf_append_str(out, "<li>");
        sa_html_escape(out, text);
        sa_buf_append_str(out, "</li>");
    }
    sa_buf_append_str(out, "</ul>");
}

void sa_html_time(sa_buf_t *out, const char *rfc3339) {
    /* "2026-11-22T19:23:40.123Z" reads as "2026-11-22 19:23 UTC"; the full value stays in datetime */
    sa_buf_append_str(out, "<time datetime=\"");
    sa_html_escape(out, rfc3339);
    sa_buf_append_str(out, "\">");
    size_t n = strlen(rfc3339);
    if (n >= 16 && rfc3339[10] == 'T' && rfc3339[n - 1] == 'Z') {
        char shown[24];
        snprintf(shown, sizeof(shown), "%.10s %.5s UTC", rfc3339, rfc3339 + 11);
        sa_html_escape(out, shown);
    } else {
        sa_html_escape(out, rfc3339);
    }
    sa_buf_append_str(out, "</time>");
}

void sa_html_post_card(sa_buf_t *out, sa_lang_t lang, const json_t *post) {
    const char *id = str(post, "id"), *author = str(post, "author");
    sa_buf_append_str(out, "<li class=\"post\" data-id=\"");
    sa_html_escape(out, id);
    sa_buf_append_str(out, "\"><div class=\"post-head\"><a class=\"post-title\" href=\"/posts/");
    sa_html_escape(out, id);
    sa_buf_printf(out, "?lang=%s\">", sa_i18n_code(lang));
    sa_html_escape(out, str(post, "title"));
    sa_buf_append_str(out, "</a>");
    sa_html_status(out, lang, post);
    sa_buf_append_str(out, "</div><div class=\"meta\">");
    sa_html_escape(out, *author ? author : sa_i18n(lang, SA_MSG_ANONYMOUS));
    sa_buf_append_str(out, " · ");
    sa_html_time(out, str(post, "submitted_at"));
    sa_buf_append_str(out, "</div></li>\n");
}

void sa_html_stats(sa_buf_t *out, sa_lang_t lang, const sa_db_stats_t *st, int64_t lag, int64_t workers) {
    sa_buf_append_str(out, "<aside class=\"stats\"><h2>");
    sa_html_escape(out, sa_i18n(lang, SA_MSG_STATS));
    sa_buf_append_str(out, "</h2><dl>");
    struct {
        const char *id;
        sa_msg_t label;
        int64_t v;
    } rows[] = {
        {"queued", SA_MSG_STAT_QUEUED, st->queued},
        {"processed", SA_MSG_STAT_PROCESSED, st->processed},
        {"published", SA_MSG_STAT_PUBLISHED, st->published},
        {"rejected", SA_MSG_STAT_REJECTED, st->rejected},
        {"lag", SA_MSG_STAT_LAG, lag},
        {"workers", SA_MSG_STAT_WORKERS, workers},
    };
    for (size_t i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
        sa_buf_printf(out, "<div><dt>");
        sa_html_escape(out, sa_i18n(lang, rows[i].label));
        sa_buf_printf(out, "</dt><dd id=\"stat-%s\">", rows[i].id);
        if (rows[i].v >= 0)
            sa_buf_printf(out, "%lld", (long long)rows[i].v);
        else
            sa_buf_append_str(out, "—");
        sa_buf_append_str(out, "</dd></div>");
    }
    sa_buf_append_str(out, "</dl></aside>");
}
