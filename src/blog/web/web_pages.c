/*
 * web_pages.c - the HTML pages: the front page (form, search box, feed with an "older posts"
 * link, queue), the form submission and a post's own page, all read from the store. They work
 * without JavaScript: the form is a plain POST answered with 303, the search box a plain GET
 * (/?q=words), paging a link (/?before=ID), and a post waiting for its verdict refreshes itself
 * through a <noscript> meta refresh.
 *
 * Form protection: a CSRF value lives in a SameSite=Strict cookie and in a hidden field
 * (double submit: a cross-site page can read neither), and each rendered form carries a fresh
 * one-time token that becomes the post's idempotency key, so a double click or a browser
 * refresh of the POST finds the post already made and redirects to it instead of making another.
 */
#include <stdio.h>
#include <string.h>

#include "http/http_form.h"
#include "blog/web/web_html.h"
#include "blog/web/web_int.h"
#include "core/mem.h"

#define FEED_LIMIT    50                 /* posts on a page of the feed */
#define FEED_SCAN_MAX 1000               /* posts read for one page at most (rejected ones are skipped) */
#define TOKEN_BYTES   SA_HTTP_CSRF_BYTES /* the one-time token: 128 random bits, 32 hex characters */

static void switch_url(char *out, size_t size, req_t *req, const char *path) {
    snprintf(out, size, "%s?lang=%s", path, req->http->lang == SA_LANG_RU ? "en" : "ru");
}

static void field_error(sa_buf_t *out, req_t *req, const char *name, sa_field_err_t err, int limit) {
    if (err == SA_FIELD_OK) return;
    char msg[256];
    sa_buf_printf(out, "<p class=\"field-error\" id=\"%s-error\">", name);
    sa_html_escape(out, sa_post_field_message(req->http->lang, err, limit, msg, sizeof(msg)));
    sa_buf_append_str(out, "</p>");
}

static void render_form(sa_buf_t *out, req_t *req, const sa_post_errors_t *errs, const char *banner) {
    sa_lang_t lang = req->http->lang;
    sa_post_errors_t none = {0};
    if (!errs) errs = &none;
    if (!req->token[0]) sa_random_hex(req->token, TOKEN_BYTES);
    sa_buf_append_str(out, "<section class=\"compose\"><h2>");
    sa_html_escape(out, sa_i18n(lang, SA_MSG_NEW_POST));
    sa_buf_append_str(out, "</h2>");
    if (banner) {
        sa_buf_append_str(out, "<p class=\"banner error\" role=\"alert\">");
        sa_html_escape(out, banner);
        sa_buf_append_str(out, "</p>");
    }
    sa_buf_printf(out,
                  "<form method=\"post\" action=\"/posts?lang=%s\" id=\"post-form\" novalidate>"
                  "<input type=\"hidden\" name=\"token\" value=\"%s\">"
                  "<input type=\"hidden\" name=\"csrf\" value=\"%s\">",
                  sa_lang_code(lang), req->token, sa_http_csrf(req->http));
    struct {
        const char *name;
        sa_msg_t label;
        sa_field_err_t err;
        int limit;
        const char *value;
        int area;
    } f[] = {
        {"title", SA_MSG_FIELD_TITLE, errs->title, SA_POST_TITLE_MAX, req->in.title, 0},
        {"content", SA_MSG_FIELD_CONTENT, errs->content, SA_POST_CONTENT_MAX, req->in.content, 1},
        {"author", SA_MSG_FIELD_AUTHOR, errs->author, SA_POST_AUTHOR_MAX, req->in.author, 0},
    };
    for (size_t i = 0; i < SA_ARRAY_LEN(f); i++) {
        sa_buf_printf(out, "<div class=\"field%s\"><label for=\"f-%s\">", f[i].err ? " invalid" : "",
                      f[i].name);
        sa_html_escape(out, sa_i18n(lang, f[i].label));
        if (i == 2) {
            sa_buf_append_str(out, " <small>(");
            sa_html_escape(out, sa_i18n(lang, SA_MSG_AUTHOR_HINT));
            sa_buf_append_str(out, ")</small>");
        }
        sa_buf_append_str(out, "</label>");
        const char *aria = f[i].err ? " aria-invalid=\"true\"" : "";
        if (f[i].area) {
            sa_buf_printf(out, "<textarea id=\"f-%s\" name=\"%s\" rows=\"6\" maxlength=\"%d\"%s%s>",
                          f[i].name, f[i].name, f[i].limit, aria, i < 2 ? " required" : "");
            sa_html_escape(out, f[i].value ? f[i].value : "");
            sa_buf_append_str(out, "</textarea>");
        } else {
            sa_buf_printf(out, "<input id=\"f-%s\" name=\"%s\" maxlength=\"%d\"%s%s", f[i].name, f[i].name,
                          f[i].limit, aria, i < 2 ? " required" : "");
            if (i == 2) {
                sa_buf_append_str(out, " placeholder=\"");
                sa_html_escape(out, sa_i18n(lang, SA_MSG_ANONYMOUS));
                sa_buf_append_str(out, "\"");
            }
            sa_buf_append_str(out, " value=\"");
            sa_html_escape(out, f[i].value ? f[i].value : "");
            sa_buf_append_str(out, "\">");
        }
        field_error(out, req, f[i].name, f[i].err, f[i].limit);
        sa_buf_append_str(out, "</div>");
    }
    sa_buf_append_str(out, "<button type=\"submit\">");
    sa_html_escape(out, sa_i18n(lang, SA_MSG_SUBMIT));
    sa_buf_append_str(out, "</button></form></section>");
}

static enum MHD_Result send_page(req_t *req, unsigned status, sa_buf_t *page, const char *const *extra) {
    return sa_http_respond_page(req->http, status, page, extra);
}

static void render_search(sa_buf_t *out, req_t *req, const char *q) {
    sa_buf_append_str(
        out, "<form method=\"get\" action=\"/\" class=\"search\" role=\"search\" id=\"search-form\">");
    sa_buf_printf(out, "<input type=\"hidden\" name=\"lang\" value=\"%s\">", sa_lang_code(req->http->lang));
    sa_buf_printf(out, "<input type=\"search\" name=\"q\" id=\"search-q\" maxlength=\"%d\" aria-label=\"",
                  SA_WEB_QUERY_MAX);
    sa_html_escape(out, sa_i18n(req->http->lang, SA_MSG_SEARCH));
    sa_buf_append_str(out, "\" placeholder=\"");
    sa_html_escape(out, sa_i18n(req->http->lang, SA_MSG_SEARCH_HINT));
    sa_buf_append_str(out, "\" value=\"");
    sa_html_escape(out, q ? q : "");
    sa_buf_append_str(out, "\"><button type=\"submit\">");
    sa_html_escape(out, sa_i18n(req->http->lang, SA_MSG_SEARCH));
    sa_buf_append_str(out, "</button></form>");
}

/* One page of the feed, newest first, before post @p before: rejected posts are left out of the
 * public feed (@p rejected 0) or are all it shows (1). The store lists every post, so this reads
 * batches until it has @p limit + 1 posts that pass (the one past the limit says an older page
 * exists), the store runs out, or FEED_SCAN_MAX posts were read (then the page may be short, and
 * the older link continues from the last post read). @returns new array of at most @p limit posts,
 * *@p next the "before" of the older page ("" if none); NULL on a store error. */
static json_t *feed_page(sa_db_t *db, const char *before, const char *q, int rejected, int limit,
                         char next[SA_ULID_LEN + 1], char *errstr, size_t errstr_size) {
    json_t *page = json_array();
    char cursor[SA_ULID_LEN + 1] = "";
    const char *last_read = NULL;
    if (before) snprintf(cursor, sizeof(cursor), "%s", before);
    next[0] = '\0';
    int scanned = 0, more = 0;
    for (;;) {
        json_t *batch = sa_db_posts_list(db, cursor[0] ? cursor : NULL, q, limit + 1, errstr, errstr_size);
        if (!batch) {
            json_decref(page);
            return NULL;
        }
        size_t i, n = json_array_size(batch);
        json_t *post;
        json_array_foreach(batch, i, post) {
            const char *st = json_string_value(json_object_get(post, "status"));
            int is_rejected = st && !strcmp(st, "rejected");
            last_read = json_string_value(json_object_get(post, "id"));
            if (last_read) snprintf(cursor, sizeof(cursor), "%s", last_read);
            scanned++;
            if (is_rejected != rejected) continue;
            if ((int)json_array_size(page) == limit) {
                more = 1;
                break;
            }
            json_array_append(page, post);
        }
        json_decref(batch);
        if (more || n < (size_t)limit + 1) break;
        if (scanned >= FEED_SCAN_MAX) { /* a long run of hidden posts: continue on the next page */
            more = 1;
            break;
        }
    }
    size_t n = json_array_size(page);
    if (more && n == (size_t)limit) {
        const char *id = json_string_value(json_object_get(json_array_get(page, n - 1), "id"));
        snprintf(next, SA_ULID_LEN + 1, "%s", id ? id : "");
    } else if (more) {
        snprintf(next, SA_ULID_LEN + 1, "%s", cursor);
    }
    return page;
}

/* The front page; also the answer to a form that needs correcting (@p status 4xx/503). */
static enum MHD_Result front_page(req_t *req, unsigned status, const sa_post_errors_t *errs,
                                  const char *banner, const char *const *extra) {
    sa_web_server_t *srv = req->srv;
    sa_buf_t page = SA_BUF_INIT(0);
    char sw[64], errstr[256];
    const char *before = sa_http_query(req->http, "before"), *q = sa_http_query(req->http, "q");
    const char *filter = sa_http_query(req->http, "status");
    int rejected = filter && !strcmp(filter, "rejected");
    if (before && !sa_ulid_valid(before)) before = NULL;
    if (q && (!*q || strlen(q) > SA_WEB_QUERY_MAX)) q = NULL;
    /* paging, search and the filter belong to GET /; a form answer shows the newest posts */
    if (req->http->route->methods != SA_HTTP_GET) before = q = NULL, rejected = 0;
    switch_url(sw, sizeof(sw), req, "/");
    sa_db_stats_t st;
    char next[SA_ULID_LEN + 1];
    json_t *posts = feed_page(srv->db, before, q, rejected, FEED_LIMIT, next, errstr, sizeof(errstr));
    if (!posts || sa_db_stats(srv->db, &st, errstr, sizeof(errstr))) {
        json_decref(posts);
        return sa_http_respond_error(req->http, 503, sa_i18n(req->http->lang, SA_MSG_ERR_STORE),
                                     (const char *[]){"Retry-After", "5", NULL});
    }
    sa_html_begin(&page, req->http->lang, sa_i18n(req->http->lang, SA_MSG_TITLE_APP), 0, sw);
    sa_buf_append_str(&page, "<div class=\"top-grid\">");
    render_form(&page, req, errs, banner);
    int64_t lag, workers;
    sa_web_kafka_queue(srv->kafka, &lag, &workers);
    sa_html_stats(&page, req->http->lang, &st, lag, workers, sa_web_kafka_healthy(srv->kafka));
    sa_buf_append_str(&page, "</div><section class=\"feed\">");
    render_search(&page, req, q);
    sa_buf_append_str(&page, "<h2>");
    if (rejected) {
        sa_html_escape(&page, sa_i18n(req->http->lang, SA_MSG_REJECTED_TITLE));
    } else if (q) {
        sa_html_escape(&page, sa_i18n(req->http->lang, SA_MSG_SEARCH_RESULTS));
        sa_buf_append_str(&page, " «");
        sa_html_escape(&page, q);
        sa_buf_append_str(&page, "»");
    } else {
        sa_html_escape(&page, sa_i18n(req->http->lang, SA_MSG_FEED));
    }
    /* live updates (static/app.js) prepend only to the first page of the plain feed */
    sa_buf_printf(&page, "</h2><ul id=\"feed\"%s>", q || before || rejected ? " data-static=\"1\"" : "");
    size_t i, n = json_array_size(posts);
    json_t *post;
    json_array_foreach(posts, i, post) sa_html_post_card(&page, req->http->lang, post);
    sa_buf_append_str(&page, "</ul><p class=\"empty\" id=\"feed-empty\"");
    if (n) sa_buf_append_str(&page, " hidden");
    sa_buf_append_str(&page, ">");
    sa_html_escape(&page, sa_i18n(req->http->lang, q ? SA_MSG_SEARCH_NONE : SA_MSG_FEED_EMPTY));
    sa_buf_append_str(&page, "</p><nav class=\"paging\">");
    if (before || q || rejected) {
        sa_buf_printf(&page, "<a href=\"/?lang=%s\" id=\"newest-link\">", sa_lang_code(req->http->lang));
        sa_html_escape(&page, sa_i18n(req->http->lang, SA_MSG_NEWEST));
        sa_buf_append_str(&page, "</a> ");
    }
    if (next[0]) {
        sa_buf_printf(&page, "<a href=\"/?lang=%s&amp;before=%s", sa_lang_code(req->http->lang), next);
        if (q) {
            sa_buf_append_str(&page, "&amp;q=");
            sa_url_encode(&page, q);
        }
        if (rejected) sa_buf_append_str(&page, "&amp;status=rejected");
        sa_buf_append_str(&page, "\" id=\"older-link\" rel=\"next\">");
        sa_html_escape(&page, sa_i18n(req->http->lang, SA_MSG_OLDER));
        sa_buf_append_str(&page, "</a> ");
    }
    if (!rejected) {
        sa_buf_printf(&page,
                      "<a href=\"/?lang=%s&amp;status=rejected\" id=\"rejected-link\" class=\"quiet\">",
                      sa_lang_code(req->http->lang));
        sa_html_escape(&page, sa_i18n(req->http->lang, SA_MSG_SHOW_REJECTED));
        sa_buf_append_str(&page, "</a>");
    }
    sa_buf_append_str(&page, "</nav></section>");
    json_decref(posts);
    sa_html_end(&page);
    return send_page(req, status, &page, extra);
}

enum MHD_Result sa_web_page_index(req_t *req) { return front_page(req, 200, NULL, NULL, NULL); }

static enum MHD_Result redirect_to_post(req_t *req) {
    char loc[128];
    snprintf(loc, sizeof(loc), "/posts/%s?lang=%s&queued=1", req->id, sa_lang_code(req->http->lang));
    return sa_http_redirect(req->http, loc);
}

static enum MHD_Result unavailable(req_t *req) {
    const char *extra[] = {"Retry-After", "5", NULL};
    return front_page(req, 503, NULL, sa_i18n(req->http->lang, SA_MSG_ERR_UNAVAILABLE), extra);
}

enum MHD_Result sa_web_page_post_form(req_t *req) {
    if (atomic_load(&req->state) == REQ_DONE) {
        sa_web_finish_submit(req);
        /* a repeated form (double click, refresh) shows the post its token made */
        return req->outcome == SUBMIT_FAILED ? unavailable(req) : redirect_to_post(req);
    }
    const char *body = (const char *)req->http->body.data;
    size_t len = req->http->body.len;
    req->in.title = sa_form_get(body, len, "title");
    req->in.content = sa_form_get(body, len, "content");
    req->in.author = sa_form_get(body, len, "author");
    req->in.lang = req->http->lang;
    char *token = sa_form_get(body, len, "token"), *csrf = sa_form_get(body, len, "csrf");
    int token_ok = sa_is_hex(token, 2 * TOKEN_BYTES) && sa_http_csrf_ok(req->http, csrf);
    if (token_ok) {
        snprintf(req->token, sizeof(req->token), "%s", token);
        size_t klen = strlen(token) + 8;
        req->key = sa_malloc(klen);
        snprintf(req->key, klen, "form:%s", token);
    }
    free(token);
    free(csrf);
    sa_post_errors_t errs;
    int bad = sa_post_validate(&req->in, &errs);
    if (!token_ok) /* a new token and cookie come with the page; the input is kept */
        return front_page(req, 403, NULL, sa_i18n(req->http->lang, SA_MSG_ERR_TOKEN), NULL);
    if (bad) return front_page(req, 422, &errs, sa_i18n(req->http->lang, SA_MSG_ERR_FORM), NULL);
    if (!sa_web_kafka_healthy(req->srv->kafka) || atomic_load(&req->srv->stopping)) return unavailable(req);
    sa_web_submit(req);
    return MHD_YES; /* suspended until the outbox or the delivery report resumes it */
}

static const char *str_or_empty(const json_t *post, const char *key) {
    const char *s = json_string_value(json_object_get(post, key));
    return s ? s : "";
}

enum MHD_Result sa_web_page_post(req_t *req) {
    sa_web_server_t *srv = req->srv;
    const char *id = req->http->path_arg;
    json_t *post = NULL;
    char errstr[256];
    if (sa_ulid_valid(id) && sa_db_post_get(srv->db, id, &post, errstr, sizeof(errstr)) < 0)
        return sa_http_respond_error(req->http, 503, sa_i18n(req->http->lang, SA_MSG_ERR_STORE),
                                     (const char *[]){"Retry-After", "5", NULL});
    const char *queued = sa_http_query(req->http, "queued");
    int just_sent = queued && !strcmp(queued, "1");
    sa_buf_t page = SA_BUF_INIT(0);
    char sw[96], path[64];
    snprintf(path, sizeof(path), "/posts/%s", sa_ulid_valid(id) ? id : "");
    switch_url(sw, sizeof(sw), req, sa_ulid_valid(id) ? path : "/");
    unsigned status = 200;
    if (!post && !(just_sent && sa_ulid_valid(id))) {
        sa_html_begin(&page, req->http->lang, sa_i18n(req->http->lang, SA_MSG_NOT_FOUND), 0, sw);
        sa_buf_append_str(&page, "<section class=\"card\"><p>");
        sa_html_escape(&page, sa_i18n(req->http->lang, SA_MSG_NOT_FOUND));
        sa_buf_printf(&page, "</p><p><a href=\"/?lang=%s\">", sa_lang_code(req->http->lang));
        sa_html_escape(&page, sa_i18n(req->http->lang, SA_MSG_BACK));
        sa_buf_append_str(&page, "</a></p></section>");
        status = 404;
    } else {
        /* a post known only as in flight (a repeated form) renders as queued */
        if (!post)
            post = json_pack("{s:s, s:s, s:s, s:s, s:n, s:[]}", "id", id, "title", "", "content", "",
                             "status", "queued", "score", "reasons");
        const char *st = json_string_value(json_object_get(post, "status"));
        int pending = !st || !strcmp(st, "queued");
        const char *title = json_string_value(json_object_get(post, "title"));
        const char *author = json_string_value(json_object_get(post, "author"));
        sa_html_begin(&page, req->http->lang,
                      title && *title ? title : sa_i18n(req->http->lang, SA_MSG_TITLE_APP), pending ? 2 : 0,
                      sw);
        if (just_sent && pending) {
            sa_buf_append_str(&page, "<p class=\"banner ok\" role=\"status\" id=\"queued-notice\">");
            sa_html_escape(&page, sa_i18n(req->http->lang, SA_MSG_QUEUED_NOTICE));
            sa_buf_append_str(&page, "</p>");
        } else if (just_sent) { /* the verdict came: it replaces the "queued" notice */
            char text[256];
            json_t *vars =
                json_pack("{s:s, s:O}", "status", sa_i18n_status(req->http->lang, st), "score",
                          json_object_get(post, "score") ? json_object_get(post, "score") : json_null());
            sa_buf_printf(&page,
                          "<p class=\"banner verdict status-%s\" role=\"status\" id=\"verdict-notice\">",
                          !strcmp(st, "published") ? "published"
                          : !strcmp(st, "review")  ? "review"
                                                   : "rejected");
            sa_html_escape(&page,
                           sa_i18n_format(req->http->lang, sa_i18n(req->http->lang, SA_MSG_VERDICT_NOTICE),
                                          vars, text, sizeof(text)));
            sa_buf_append_str(&page, "</p>");
            json_decref(vars);
        }
        sa_buf_append_str(&page, "<article class=\"card post-page\" data-id=\"");
        sa_html_escape(&page, id);
        sa_buf_append_str(&page, "\" data-status=\"");
        sa_html_escape(&page, st ? st : "queued");
        sa_buf_append_str(&page, "\"><h1>");
        sa_html_escape(&page, title ? title : "");
        sa_buf_append_str(&page, "</h1><div class=\"meta\">");
        sa_html_escape(&page, author && *author ? author : sa_i18n(req->http->lang, SA_MSG_ANONYMOUS));
        sa_buf_append_str(&page, " · ");
        sa_html_time(&page, str_or_empty(post, "submitted_at"));
        sa_buf_append_str(&page, "</div><div class=\"content\">");
        sa_html_linkify(&page, str_or_empty(post, "content"));
        sa_buf_append_str(&page, "</div><div class=\"verdict\" id=\"verdict\">");
        sa_html_status(&page, req->http->lang, post);
        if (!pending) {
            sa_buf_append_str(&page, "<p class=\"score-help\">");
            sa_html_escape(&page, sa_i18n(req->http->lang, SA_MSG_SCORE_HELP));
            sa_buf_append_str(&page, "</p>");
        }
        sa_html_reasons(&page, req->http->lang, post);
        /* no worker in the group: the post is safe in the queue but nobody scores it */
        int64_t lag, workers;
        sa_web_kafka_queue(srv->kafka, &lag, &workers);
        int no_worker = pending && workers == 0 && sa_web_kafka_healthy(srv->kafka);
        sa_buf_printf(&page, "<p class=\"hint%s\" data-role=\"hint\"%s>", no_worker ? " warn" : "",
                      pending ? "" : " hidden");
        sa_html_escape(&page,
                       sa_i18n(req->http->lang, no_worker ? SA_MSG_NO_WORKER_HINT : SA_MSG_PENDING_HINT));
        sa_buf_printf(&page, "</p></div></article><p><a href=\"/?lang=%s\">", sa_lang_code(req->http->lang));
        sa_html_escape(&page, sa_i18n(req->http->lang, SA_MSG_BACK));
        sa_buf_append_str(&page, "</a></p>");
    }
    json_decref(post);
    sa_html_end(&page);
    return send_page(req, status, &page, NULL);
}
