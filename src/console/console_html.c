/*
 * console_html.c - the HTML every console page shares: the document shell with the navigation,
 * the language switch and the sample's status line; numbers, durations and times; the SVG chart;
 * record bytes shown safely. Every piece of text from the cluster or the user goes through
 * sa_html_escape (core/escape.h); no inline script or style anywhere (the CSP forbids both), so
 * the chart's colours come from classes in console.css.
 */
#include <jansson.h>
#include <math.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "console/console_int.h"
#include "core/escape.h"
#include "core/mem.h"
#include "core/time.h"
#include "core/utf8.h"

const char *cs_lang_q(sa_http_req_t *req) { return req->lang == SA_LANG_RU ? "lang=ru" : "lang=en"; }

void cs_html_begin(sa_buf_t *out, sa_http_req_t *req, cs_nav_t nav, const char *title, const char *self,
                   const cs_snap_t *s) {
    sa_console_t *c = req->app;
    sa_lang_t lang = req->lang;
    sa_buf_printf(out,
                  "<!doctype html><html lang=\"%s\"><head><meta charset=\"utf-8\">"
                  "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\"><title>",
                  sa_lang_code(lang));
    sa_html_escape(out, title);
    sa_buf_append_str(out, " · ");
    sa_html_escape(out, cs_t(lang, CS_MSG_APP));
    sa_buf_append_str(out, "</title><link rel=\"stylesheet\" href=\"/static/console.css\">"
                           "<script src=\"/static/console.js\" defer></script></head><body>");
    sa_buf_append_str(out, "<a class=\"skip\" href=\"#main\">");
    sa_html_escape(out, cs_t(lang, CS_MSG_SKIP));
    sa_buf_append_str(out, "</a><header class=\"top\"><a class=\"brand\" href=\"/\">");
    sa_html_escape(out, cs_t(lang, CS_MSG_APP));
    sa_buf_append_str(out, "</a><nav aria-label=\"");
    sa_html_escape(out, cs_t(lang, CS_MSG_APP));
    sa_buf_append_str(out, "\">");
    static const struct {
        const char *href;
        cs_msg_t label;
    } items[] = {{"/", CS_MSG_NAV_OVERVIEW},
                 {"/topics", CS_MSG_NAV_TOPICS},
                 {"/messages", CS_MSG_NAV_MESSAGES},
                 {"/groups", CS_MSG_NAV_GROUPS}};
    for (size_t i = 0; i < SA_ARRAY_LEN(items); i++) {
        sa_buf_printf(out, "<a href=\"%s\" id=\"nav-%zu\"%s>", items[i].href, i,
                      (int)i == (int)nav ? " aria-current=\"page\"" : "");
        sa_html_escape(out, cs_t(lang, items[i].label));
        sa_buf_append_str(out, "</a>");
    }
    sa_buf_append_str(out, "</nav>");
    if (c->conf->read_only) {
        sa_buf_append_str(out, "<span class=\"badge ro\" title=\"");
        sa_html_escape(out, cs_t(lang, CS_MSG_READ_ONLY_HINT));
        sa_buf_append_str(out, "\">");
        sa_html_escape(out, cs_t(lang, CS_MSG_READ_ONLY));
        sa_buf_append_str(out, "</span>");
    }
    /* the switch keeps the page: its own URL with the other language */
    sa_buf_append_str(out, "<a class=\"lang\" id=\"lang-switch\" href=\"");
    sa_html_escape(out, self);
    sa_buf_printf(out, "%slang=%s\" hreflang=\"%s\" lang=\"%s\">%s</a></header>",
                  strchr(self, '?') ? "&amp;" : "?", lang == SA_LANG_RU ? "en" : "ru",
                  lang == SA_LANG_RU ? "en" : "ru", lang == SA_LANG_RU ? "en" : "ru",
                  lang == SA_LANG_RU ? "English" : "Русский");
    /* the sample the page shows */
    char err[512];
    sa_console_error(c, err, sizeof(err));
    sa_buf_append_str(out, "<p class=\"status\" id=\"sample-status\">");
    if (!s || !s->taken_ms) {
        sa_html_escape(out, cs_t(lang, CS_MSG_SAMPLE_PENDING));
    } else {
        sa_html_escape(out, cs_t(lang, CS_MSG_SAMPLED));
        sa_buf_append_str(out, " ");
        cs_html_time(out, s->taken_ms);
        sa_buf_printf(out, " (%lld ms)", (long long)s->took_ms);
    }
    if (err[0]) {
        sa_buf_append_str(out, " <strong class=\"warn\" role=\"alert\">");
        sa_html_escape(out, cs_t(lang, CS_MSG_SAMPLE_FAILED));
        sa_buf_append_str(out, ": ");
        sa_html_escape(out, err);
        sa_buf_append_str(out, "</strong>");
    }
    sa_buf_append_str(out, "</p><main id=\"main\" tabindex=\"-1\"><h1>");
    sa_html_escape(out, title);
    sa_buf_append_str(out, "</h1>");
}

void cs_html_end(sa_buf_t *out, sa_http_req_t *req) {
    (void)req;
    sa_buf_append_str(out, "</main></body></html>\n");
}

void cs_html_notice(sa_buf_t *out, const char *kind, const char *text) {
    sa_buf_printf(out, "<p class=\"notice %s\" role=\"%s\">", kind,
                  strcmp(kind, "error") ? "status" : "alert");
    sa_html_escape(out, text);
    sa_buf_append_str(out, "</p>");
}

void cs_html_num(sa_buf_t *out, int64_t v) {
    if (v < 0) {
        sa_buf_append_str(out, "—");
        return;
    }
    char digits[32];
    int n = snprintf(digits, sizeof(digits), "%lld", (long long)v);
    for (int i = 0; i < n; i++) {
        if (i && (n - i) % 3 == 0) sa_buf_append_str(out, "\u202f"); /* narrow no-break space */
        sa_buf_putc(out, (uint8_t)digits[i]);
    }
}

void cs_html_duration(sa_buf_t *out, sa_lang_t lang, int64_t ms) {
    if (ms < 0) {
        sa_buf_append_str(out, "—");
        return;
    }
    if (ms < 1000)
        sa_buf_printf(out, "%lld %s", (long long)ms, cs_t(lang, CS_MSG_MS_UNIT));
    else if (ms < 60000)
        sa_buf_printf(out, "%.1f %s", ms / 1000.0, cs_t(lang, CS_MSG_S_UNIT));
    else if (ms < 3600000)
        sa_buf_printf(out, "%.1f %s", ms / 60000.0, cs_t(lang, CS_MSG_MIN_UNIT));
    else if (ms < 86400000)
        sa_buf_printf(out, "%.1f %s", ms / 3600000.0, cs_t(lang, CS_MSG_H_UNIT));
    else
        sa_buf_printf(out, "%.1f %s", ms / 86400000.0, cs_t(lang, CS_MSG_D_UNIT));
}

void cs_html_time(sa_buf_t *out, int64_t ms) {
    if (ms < 0) {
        sa_buf_append_str(out, "—");
        return;
    }
    time_t t = (time_t)(ms / 1000);
    struct tm tm;
    gmtime_r(&t, &tm);
    char iso[32], shown[32];
    strftime(iso, sizeof(iso), "%Y-%m-%dT%H:%M:%S", &tm);
    strftime(shown, sizeof(shown), "%Y-%m-%d %H:%M:%S", &tm);
    sa_buf_printf(out, "<time datetime=\"%s.%03dZ\">%s.%03d UTC</time>", iso, (int)(ms % 1000), shown,
                  (int)(ms % 1000));
}

void cs_html_csrf(sa_buf_t *out, sa_http_req_t *req) {
    sa_buf_printf(out, "<input type=\"hidden\" name=\"csrf\" value=\"%s\">", sa_http_csrf(req));
}

/* Append @p len bytes as text: valid UTF-8 escaped for HTML, other bytes as \xNN. */
static void text_or_hex(sa_buf_t *out, const char *data, size_t len) {
    size_t i = 0;
    while (i < len) {
        size_t ok = i + sa_utf8_valid_prefix(data + i, len - i), j = i;
        /* control characters other than tab and newline are shown as \xNN too */
        while (j < ok && ((unsigned char)data[j] >= 0x20 || data[j] == '\n' || data[j] == '\t')) j++;
        sa_html_escape_n(out, data + i, j - i);
        if (j < len) sa_buf_printf(out, "<span class=\"hex\">\\x%02x</span>", (unsigned char)data[j++]);
        i = j;
    }
}

void cs_html_bytes(sa_buf_t *out, const char *data, size_t len, size_t max, int pretty) {
    if (pretty && len && (data[0] == '{' || data[0] == '[')) {
        json_t *doc = json_loadb(data, len, 0, NULL);
        if (doc) {
            char *text = json_dumps(doc, JSON_INDENT(2) | JSON_PRESERVE_ORDER);
            json_decref(doc);
            if (text) {
                size_t n = strlen(text);
                sa_buf_append_str(out, "<pre class=\"json\">");
                text_or_hex(out, text, SA_MIN(n, max * 2));
                if (n > max * 2) sa_buf_append_str(out, "…");
                sa_buf_append_str(out, "</pre>");
                free(text);
                return;
            }
        }
    }
    sa_buf_append_str(out, "<pre>");
    text_or_hex(out, data, SA_MIN(len, max));
    if (len > max) sa_buf_append_str(out, "…");
    sa_buf_append_str(out, "</pre>");
}

/* The chart: v on the left scale; v2 on its own right scale when it is a duration, else on the same. */
void cs_html_chart(sa_buf_t *out, sa_lang_t lang, const cs_point_t *pts, int n, const char *title,
                   const char *label1, const char *label2, int v2_duration) {
    const int W = 720, H = 220, L = 60, R = 60, T = 14, B = 30;
    sa_buf_append_str(out, "<figure class=\"chart\"><figcaption>");
    sa_html_escape(out, title);
    sa_buf_append_str(out, "</figcaption>");
    if (n < 1) {
        sa_buf_append_str(out, "<p class=\"empty\">");
        sa_html_escape(out, cs_t(lang, CS_MSG_NO_HISTORY));
        sa_buf_append_str(out, "</p></figure>");
        return;
    }
    double max1 = 0, max2 = 0;
    int has2 = 0;
    for (int i = 0; i < n; i++) {
        max1 = fmax(max1, pts[i].v);
        if (!isnan(pts[i].v2)) has2 = 1, max2 = fmax(max2, pts[i].v2);
    }
    if (!v2_duration) max1 = max2 = fmax(max1, max2); /* one scale for both */
    if (max1 <= 0) max1 = 1;
    if (max2 <= 0) max2 = 1;
    int64_t t0 = pts[0].t_ms, t1 = pts[n - 1].t_ms > t0 ? pts[n - 1].t_ms : t0 + 1;
    sa_buf_printf(out, "<svg viewBox=\"0 0 %d %d\" role=\"img\" aria-label=\"", W, H);
    sa_html_escape(out, title);
    sa_buf_printf(
        out, "\" class=\"chart-svg\"><rect class=\"plot\" x=\"%d\" y=\"%d\" width=\"%d\" height=\"%d\"/>", L,
        T, W - L - R, H - T - B);
    for (int s = 0; s < 1 + has2; s++) {
        sa_buf_printf(out, "<polyline class=\"series s%d\" fill=\"none\" points=\"", s + 1);
        for (int i = 0; i < n; i++) {
            double v = s ? pts[i].v2 : pts[i].v;
            if (isnan(v)) continue;
            double x = L + (double)(pts[i].t_ms - t0) / (double)(t1 - t0) * (W - L - R);
            double y = T + (1 - v / (s ? max2 : max1)) * (H - T - B);
            sa_buf_printf(out, "%.1f,%.1f ", x, y);
        }
        sa_buf_append_str(out, "\"/>");
    }
    /* axes: the scales' tops, the range's ends */
    sa_buf_printf(out, "<text class=\"axis s1\" x=\"%d\" y=\"%d\" text-anchor=\"end\">%.0f</text>", L - 4,
                  T + 10, max1);
    sa_buf_printf(out, "<text class=\"axis s1\" x=\"%d\" y=\"%d\" text-anchor=\"end\">0</text>", L - 4,
                  H - B);
    if (has2 && v2_duration) {
        sa_buf_printf(out, "<text class=\"axis s2\" x=\"%d\" y=\"%d\">", W - R + 4, T + 10);
        cs_html_duration(out, lang, (int64_t)max2);
        sa_buf_append_str(out, "</text>");
    }
    char a[32], b[32];
    time_t ta = (time_t)(t0 / 1000), tb = (time_t)(t1 / 1000);
    struct tm tma, tmb;
    gmtime_r(&ta, &tma);
    gmtime_r(&tb, &tmb);
    strftime(a, sizeof(a), "%m-%d %H:%M", &tma);
    strftime(b, sizeof(b), "%m-%d %H:%M UTC", &tmb);
    sa_buf_printf(out, "<text class=\"axis\" x=\"%d\" y=\"%d\">%s</text>", L, H - 8, a);
    sa_buf_printf(out, "<text class=\"axis\" x=\"%d\" y=\"%d\" text-anchor=\"end\">%s</text></svg>", W - R,
                  H - 8, b);
    sa_buf_append_str(out, "<p class=\"legend\"><span class=\"key s1\"></span>");
    sa_html_escape(out, label1);
    if (has2 && label2) {
        sa_buf_append_str(out, " <span class=\"key s2\"></span>");
        sa_html_escape(out, label2);
    }
    sa_buf_append_str(out, "</p></figure>");
}
