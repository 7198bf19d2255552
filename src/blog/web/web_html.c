/*
 * web_html.c - page skeleton and shared fragments (see web_html.h). Elements that live updates
 * touch carry ids/data attributes that web/live.js looks for; without JavaScript they are
 * plain HTML.
 */
#include "blog/web/web_html.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "blog/model/ulid.h"
#include "http/http_form.h"
#include "core/utf8.h"

void sa_html_begin(sa_buf_t *out, sa_lang_t lang, const char *title, int refresh_s,
                   const char *lang_switch_url) {
    sa_buf_printf(out,
                  "<!doctype html>\n<html lang=\"%s\"><head><meta charset=\"utf-8\">"
                  "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\"><title>",
                  sa_lang_code(lang));
    sa_html_escape(out, title);
    sa_buf_append_str(out, "</title><link rel=\"stylesheet\" href=\"/static/style.css\">");
    if (refresh_s > 0)
        sa_buf_printf(out, "<noscript><meta http-equiv=\"refresh\" content=\"%d\"></noscript>", refresh_s);
    sa_buf_printf(
        out, "<script src=\"/static/live.js\" defer></script></head>\n<body data-lang=\"%s\" data-i18n=\"",
        sa_lang_code(lang));
    /* the few words live.js writes, in the page's language */
    json_t *words = json_pack(
        "{s:s, s:s, s:s, s:s, s:s, s:s, s:s, s:s, s:s, s:s, s:s}", "status_queued",
        sa_i18n(lang, SA_MSG_STATUS_QUEUED), "status_published", sa_i18n(lang, SA_MSG_STATUS_PUBLISHED),
        "status_review", sa_i18n(lang, SA_MSG_STATUS_REVIEW), "status_rejected",
        sa_i18n(lang, SA_MSG_STATUS_REJECTED), "score", sa_i18n(lang, SA_MSG_SCORE), "anonymous",
        sa_i18n(lang, SA_MSG_ANONYMOUS), "pending", sa_i18n(lang, SA_MSG_PENDING_HINT), "no_worker",
        sa_i18n(lang, SA_MSG_NO_WORKER_HINT), "live", sa_i18n(lang, SA_MSG_LIVE), "offline",
        sa_i18n(lang, SA_MSG_LIVE_OFFLINE), "broker_down", sa_i18n(lang, SA_MSG_LIVE_BROKER_DOWN));
    char *text = json_dumps(words, JSON_COMPACT);
    json_decref(words);
    sa_html_escape(out, text ? text : "{}");
    free(text);
    sa_buf_printf(out, "\"><header class=\"top\"><a class=\"brand\" href=\"/?lang=%s\">", sa_lang_code(lang));
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

/* One reason as the page says it: the template of its code in @p lang filled from its params, the
 * earlier post of a near-duplicate as a link; a reason without a known code (another producer's,
 * or a plain string) shows its own text. */
static void reason_item(sa_buf_t *out, sa_lang_t lang, const json_t *r) {
    const char *code = json_string_value(json_object_get(r, "code"));
    const json_t *params = json_object_get(r, "params");
    const char *tmpl = json_is_object(params) ? sa_i18n_reason(lang, code) : NULL;
    json_t *points = json_object_get(r, "points");
    sa_buf_append_str(out, "<li class=\"reason\"");
    if (code) {
        sa_buf_append_str(out, " data-code=\"");
        sa_html_escape(out, code);
        sa_buf_append_str(out, "\"");
    }
    sa_buf_append_str(out, ">");
    if (json_is_integer(points) && json_integer_value(points) < 0)
        sa_buf_printf(out, "<span class=\"points\">\xe2\x88\x92%lld</span> ",
                      -(long long)json_integer_value(points));
    sa_buf_append_str(out, "<span class=\"reason-text\">");
    char text[512];
    if (tmpl) {
        const char *link = strstr(tmpl, "{link}");
        const char *of = json_string_value(json_object_get(params, "of"));
        if (link) { /* the text before the link, the link, the text after it */
            char head[256];
            size_t hn = (size_t)(link - tmpl) < sizeof(head) ? (size_t)(link - tmpl) : sizeof(head) - 1;
            memcpy(head, tmpl, hn);
            head[hn] = '\0';
            sa_html_escape(out, sa_i18n_format(lang, head, params, text, sizeof(text)));
            if (sa_ulid_valid(of)) {
                sa_buf_printf(out, "<a href=\"/posts/%s?lang=%s\" data-role=\"duplicate-of\">", of,
                              sa_lang_code(lang));
                sa_html_escape(out, sa_i18n(lang, SA_MSG_REASON_DUP_LINK));
                sa_buf_append_str(out, "</a>");
            } else {
                sa_html_escape(out, sa_i18n(lang, SA_MSG_REASON_DUP_LINK));
            }
            tmpl = link + 6;
        }
        sa_html_escape(out, sa_i18n_format(lang, tmpl, params, text, sizeof(text)));
    } else {
        const char *t = json_string_value(r);
        if (!t) t = json_string_value(json_object_get(r, "message"));
        if (!t) t = json_string_value(json_object_get(r, "text"));
        if (!t) t = code ? code : "";
        sa_html_escape(out, t);
    }
    sa_buf_append_str(out, "</span></li>");
}

void sa_html_reasons(sa_buf_t *out, sa_lang_t lang, const json_t *post) {
    json_t *reasons = json_object_get(post, "reasons");
    sa_buf_append_str(out, "<ul class=\"reasons\" data-role=\"reasons\">");
    size_t i;
    json_t *r;
    json_array_foreach(reasons, i, r) reason_item(out, lang, r);
    sa_buf_append_str(out, "</ul>");
}

void sa_html_time(sa_buf_t *out, const char *rfc3339) {
    /* "2026-11-22T19:23:40.123Z" reads as "2026-11-22 19:23 UTC", also in the tooltip; live.js
     * turns the text into the reader's local time and keeps UTC in the tooltip */
    char shown[40];
    size_t n = strlen(rfc3339);
    if (n >= 16 && rfc3339[10] == 'T' && rfc3339[n - 1] == 'Z')
        snprintf(shown, sizeof(shown), "%.10s %.5s UTC", rfc3339, rfc3339 + 11);
    else
        snprintf(shown, sizeof(shown), "%.39s", rfc3339);
    sa_buf_append_str(out, "<time datetime=\"");
    sa_html_escape(out, rfc3339);
    sa_buf_append_str(out, "\" title=\"");
    sa_html_escape(out, shown);
    sa_buf_append_str(out, "\">");
    sa_html_escape(out, shown);
    sa_buf_append_str(out, "</time>");
}

size_t sa_html_excerpt_len(const char *s, size_t max_chars) {
    size_t i = 0, chars = 0, len = strlen(s), cut = 0, cut_chars = 0;
    while (i < len && chars < max_chars) {
        uint32_t cp;
        size_t step = sa_utf8_next(s + i, len - i, &cp);
        if (cp == ' ' || cp == '\n' || cp == '\t') cut = i, cut_chars = chars; /* before the space */
        i += step;
        chars++;
    }
    if (i >= len || s[i] == ' ' || s[i] == '\n' || s[i] == '\t') return i; /* all, or ends on a word */
    return cut_chars > max_chars / 2 ? cut : i; /* a word boundary unless that loses half the excerpt */
}

void sa_html_linkify(sa_buf_t *out, const char *s) {
    const char *p = s;
    for (;;) {
        const char *h = strstr(p, "http");
        while (h && strncmp(h, "http://", 7) && strncmp(h, "https://", 8)) h = strstr(h + 4, "http");
        if (!h) break;
        size_t n = strcspn(h, " \t\r\n<>\"'`{}|\\^");
        /* trailing punctuation ends the sentence, not the URL */
        while (n > 0 && strchr(".,;:!?)]", h[n - 1])) n--;
        size_t scheme = h[4] == 's' ? 8 : 7;
        if (n <= scheme) { /* "http://" alone */
            sa_html_escape_n(out, p, (size_t)(h - p) + n + (n ? 0 : 4));
            p = h + (n ? n : 4);
            continue;
        }
        sa_html_escape_n(out, p, (size_t)(h - p));
        sa_buf_append_str(out, "<a href=\"");
        sa_html_escape_n(out, h, n);
        sa_buf_append_str(out, "\" rel=\"nofollow ugc noopener\" target=\"_blank\">");
        sa_html_escape_n(out, h, n);
        sa_buf_append_str(out, "</a>");
        p = h + n;
    }
    sa_html_escape(out, p);
}

void sa_html_post_card(sa_buf_t *out, sa_lang_t lang, const json_t *post) {
    const char *id = str(post, "id"), *author = str(post, "author");
    sa_buf_append_str(out, "<li class=\"post\" data-id=\"");
    sa_html_escape(out, id);
    sa_buf_append_str(out, "\"><div class=\"post-head\"><a class=\"post-title\" href=\"/posts/");
    sa_html_escape(out, id);
    sa_buf_printf(out, "?lang=%s\">", sa_lang_code(lang));
    sa_html_escape(out, str(post, "title"));
    sa_buf_append_str(out, "</a>");
    sa_html_status(out, lang, post);
    sa_buf_append_str(out, "</div><div class=\"meta\">");
    sa_html_escape(out, *author ? author : sa_i18n(lang, SA_MSG_ANONYMOUS));
    sa_buf_append_str(out, " · ");
    sa_html_time(out, str(post, "submitted_at"));
    sa_buf_append_str(out, "</div>");
    const char *excerpt = str(post, "excerpt"), *content = str(post, "content");
    if (!*excerpt) excerpt = content;
    if (*excerpt) {
        size_t n = sa_html_excerpt_len(excerpt, SA_HTML_EXCERPT_CHARS);
        sa_buf_append_str(out, "<p class=\"excerpt\">");
        sa_html_escape_n(out, excerpt, n);
        if (n < strlen(excerpt)) sa_buf_append_str(out, "â¦");
        sa_buf_append_str(out, "</p>");
    }
    sa_buf_append_str(out, "</li>\n");
}

void sa_html_stats(sa_buf_t *out, sa_lang_t lang, const sa_db_stats_t *st, int64_t lag, int64_t workers,
                   int broker_ok) {
    sa_buf_append_str(out, "<aside class=\"stats\" id=\"stats\"><h2>");
    sa_html_escape(out, sa_i18n(lang, SA_MSG_STATS));
    sa_buf_append_str(out, "</h2>");
    sa_buf_printf(out, "<p class=\"banner warn\" id=\"stats-warning\" role=\"status\"%s>",
                  broker_ok ? " hidden" : "");
    sa_html_escape(out, sa_i18n(lang, SA_MSG_BROKER_DOWN));
    sa_buf_append_str(out, "</p><dl>");
    struct {
        const char *id;
        sa_msg_t label;
        int64_t v;
    } rows[] = {
        {"queued", SA_MSG_STAT_QUEUED, st->queued},
        {"processed", SA_MSG_STAT_PROCESSED, st->processed},
        {"published", SA_MSG_STAT_PUBLISHED, st->published},
        {"review", SA_MSG_STAT_REVIEW, st->review},
        {"rejected", SA_MSG_STAT_REJECTED, st->rejected},
        {"lag", SA_MSG_STAT_LAG, broker_ok ? lag : -1},
        {"workers", SA_MSG_STAT_WORKERS, broker_ok ? workers : -1},
    };
    for (size_t i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
        /* no worker means nothing gets scored: that tile stands out */
        int alert = !strcmp(rows[i].id, "workers") && rows[i].v == 0;
        sa_buf_printf(out, "<div id=\"tile-%s\"%s><dt>", rows[i].id, alert ? " class=\"alert\"" : "");
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
