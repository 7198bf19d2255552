/*
 * web_api.c - the JSON API: create (202 after the broker's acknowledgement, Idempotency-Key),
 * list with paging and search, one post, queue statistics and the health check.
 *
 * Idempotency-Key: the key is a UNIQUE column of the store (db.h), so every web server, and this
 * one after any restart, agrees which post a key made - the database decides even two requests
 * at the same moment on two servers. The same key with the same fields answers that post again
 * (200); with other fields it is 422; while the first request with the key is still waiting for
 * the broker (or its server died and the recovery sweep has not produced it yet), 409 +
 * Retry-After. The key also travels inside the blog_operations record, as before.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "blog/web/web_int.h"
#include "core/mem.h"

#define LIST_DEFAULT 20
#define LIST_MAX     200
#define KEY_MAX      200 /* bytes of an Idempotency-Key */

static enum MHD_Result created(req_t *req, unsigned status, json_t *post) {
    char loc[64];
    snprintf(loc, sizeof(loc), "/api/posts/%s", json_string_value(json_object_get(post, "id")));
    const char *extra[] = {"Location", loc, NULL};
    return sa_web_respond_json(req, status, post, extra);
}

static enum MHD_Result in_flight(req_t *req) {
    const char *extra[] = {"Retry-After", "1", NULL};
    return sa_http_respond_error(req->http, 409, "a request with this Idempotency-Key is in progress", extra);
}

static enum MHD_Result store_error(req_t *req, const char *why) {
    const char *extra[] = {"Retry-After", "5", NULL};
    json_t *doc = json_pack("{s:s, s:s}", "error", "the store is unavailable", "detail", why);
    return sa_web_respond_json(req, 503, doc, extra);
}

/* The answer to a repeated key: the post it made (200), in flight (409) or another body (422);
 * takes @p post (may be NULL while pending). */
static enum MHD_Result repeat(req_t *req, json_t *post, int pending) {
    if (pending || !post) {
        json_decref(post);
        return in_flight(req);
    }
    if (!sa_post_same_as(&req->in, post)) {
        json_decref(post);
        return sa_http_respond_error(req->http, 422, "Idempotency-Key was already used with a different body",
                                     NULL);
    }
    return created(req, 200, post);
}

static enum MHD_Result unavailable(req_t *req, const char *why) {
    const char *extra[] = {"Retry-After", "5", NULL};
    json_t *doc =
        json_pack("{s:s, s:s}", "error", "the queue is unavailable; nothing was sent", "detail", why);
    return sa_web_respond_json(req, 503, doc, extra);
}

/* Take a string field; @returns -1 if present but not a string. */
static int take_field(json_t *doc, const char *name, char **out) {
    json_t *v = json_object_get(doc, name);
    if (!v || json_is_null(v)) return 0;
    if (!json_is_string(v)) return -1;
    *out = sa_strndup(json_string_value(v), json_string_length(v));
    /* an embedded NUL would silently cut the text: treat as a control character */
    if (strlen(*out) != json_string_length(v)) (*out)[0] = '\x01';
    return 0;
}

static enum MHD_Result field_errors(req_t *req, const sa_post_errors_t *errs, const char *not_string) {
    json_t *fields = json_object();
    struct {
        const char *name;
        sa_field_err_t err;
        int limit;
    } f[] = {
        {"title", errs->title, SA_POST_TITLE_MAX},
        {"content", errs->content, SA_POST_CONTENT_MAX},
        {"author", errs->author, SA_POST_AUTHOR_MAX},
    };
    char msg[256];
    for (size_t i = 0; i < SA_ARRAY_LEN(f); i++)
        if (f[i].err)
            json_object_set_new(
                fields, f[i].name,
                json_pack("{s:s, s:s}", "code", sa_post_field_code(f[i].err), "message",
                          sa_post_field_message(req->http->lang, f[i].err, f[i].limit, msg, sizeof(msg))));
    if (not_string)
        json_object_set_new(fields, not_string,
                            json_pack("{s:s, s:s}", "code", "type", "message", "must be a string"));
    return sa_web_respond_json(req, 422, json_pack("{s:s, s:o}", "error", "invalid fields", "fields", fields),
                               NULL);
}

enum MHD_Result sa_web_api_create(req_t *req) {
    if (atomic_load(&req->state) == REQ_DONE) {
        sa_web_finish_submit(req);
        if (req->outcome == SUBMIT_FAILED)
            return unavailable(req, req->ack_err ? req->ack_err : "produce failed");
        if (req->outcome == SUBMIT_EXISTS) {
            json_t *post = req->existing;
            req->existing = NULL;
            return repeat(req, post, req->pending);
        }
        json_t *post = NULL;
        char errstr[256];
        sa_db_post_get(req->srv->db, req->id, &post, errstr, sizeof(errstr));
        return created(req, 202, post ? post : json_deep_copy(req->op));
    }
    json_error_t jerr;
    json_t *doc =
        json_loadb((const char *)req->http->body.data, req->http->body.len, JSON_REJECT_DUPLICATES, &jerr);
    if (!doc) {
        char why[256];
        snprintf(why, sizeof(why), "malformed JSON at line %d column %d: %s", jerr.line, jerr.column,
                 jerr.text);
        return sa_http_respond_error(req->http, 400, why, NULL);
    }
    if (!json_is_object(doc)) {
        json_decref(doc);
        return sa_http_respond_error(req->http, 400, "the body must be a JSON object", NULL);
    }
    const char *not_string = NULL;
    if (take_field(doc, "title", &req->in.title)) not_string = "title";
    if (take_field(doc, "content", &req->in.content)) not_string = "content";
    if (take_field(doc, "author", &req->in.author)) not_string = "author";
    json_t *lang = json_object_get(doc, "lang");
    int l = sa_lang_parse(json_string_value(lang));
    req->in.lang = l >= 0 ? (sa_lang_t)l : req->http->lang;
    if (l >= 0 && !sa_http_query(req->http, "lang"))
        req->http->lang = (sa_lang_t)l; /* messages in the post's language */
    json_decref(doc);
    sa_post_errors_t errs;
    int bad = sa_post_validate(&req->in, &errs);
    if (bad || not_string) return field_errors(req, &errs, not_string);

    const char *key = MHD_lookup_connection_value(req->http->conn, MHD_HEADER_KIND, "Idempotency-Key");
    if (key) {
        size_t n = strlen(key);
        int ok = n > 0 && n <= KEY_MAX;
        for (size_t i = 0; ok && i < n; i++) ok = key[i] > 0x20 && key[i] < 0x7f;
        if (!ok)
            return sa_http_respond_error(req->http, 400,
                                         "Idempotency-Key must be 1-200 visible ASCII characters", NULL);
        size_t klen = n + 5;
        req->key = sa_malloc(klen);
        snprintf(req->key, klen, "api:%s", key);
        char id[SA_ULID_LEN + 1], errstr[256];
        json_t *prev = NULL;
        int pending = 0;
        /* answer a repeat before looking at the broker: the post may exist already (the
         * reservation checks again, atomically) */
        int found = sa_db_post_by_key(req->srv->db, req->key, id, &pending, &prev, errstr, sizeof(errstr));
        if (found < 0) return store_error(req, errstr);
        if (found) return repeat(req, prev, pending);
    }
    if (!sa_web_kafka_healthy(req->srv->kafka)) return unavailable(req, "broker unreachable");
    if (atomic_load(&req->srv->stopping)) return unavailable(req, "the server is stopping");
    sa_web_submit(req);
    return MHD_YES; /* suspended until the outbox or the delivery report resumes it */
}

enum MHD_Result sa_web_api_list(req_t *req) {
    const char *lim = sa_http_query(req->http, "limit"), *before = sa_http_query(req->http, "before");
    const char *q = sa_http_query(req->http, "q");
    long limit = lim ? strtol(lim, NULL, 10) : LIST_DEFAULT;
    if (limit < 1) limit = 1;
    if (limit > LIST_MAX) limit = LIST_MAX;
    if (before && *before && !sa_ulid_valid(before))
        return sa_http_respond_error(req->http, 400, "before must be a post id", NULL);
    if (q && strlen(q) > SA_WEB_QUERY_MAX)
        return sa_http_respond_error(req->http, 400, "q is too long", NULL);
    char errstr[256];
    json_t *posts = sa_db_posts_list(req->srv->db, before, q, (int)limit, errstr, sizeof(errstr));
    if (!posts) return store_error(req, errstr);
    size_t n = json_array_size(posts);
    json_t *next =
        n == (size_t)limit ? json_copy(json_object_get(json_array_get(posts, n - 1), "id")) : json_null();
    return sa_web_respond_json(req, 200, json_pack("{s:o, s:o}", "posts", posts, "next_before", next), NULL);
}

enum MHD_Result sa_web_api_get(req_t *req) {
    json_t *post = NULL;
    char errstr[256];
    if (sa_ulid_valid(req->http->path_arg) &&
        sa_db_post_get(req->srv->db, req->http->path_arg, &post, errstr, sizeof(errstr)) < 0)
        return store_error(req, errstr);
    if (!post) return sa_http_respond_error(req->http, 404, "no such post", NULL);
    return sa_web_respond_json(req, 200, post, NULL);
}

json_t *sa_web_stats_json(sa_web_server_t *srv) {
    sa_db_stats_t st;
    int64_t lag, workers;
    char errstr[256];
    if (sa_db_stats(srv->db, &st, errstr, sizeof(errstr))) memset(&st, 0, sizeof(st));
    sa_web_kafka_queue(srv->kafka, &lag, &workers);
    int broker = sa_web_kafka_healthy(srv->kafka);
    if (!broker) lag = workers = -1; /* the last numbers measured are not current any more */
    return json_pack("{s:I, s:I, s:I, s:I, s:I, s:I, s:o, s:o, s:s}", "posts", (json_int_t)st.posts, "queued",
                     (json_int_t)st.queued, "processed", (json_int_t)st.processed, "published",
                     (json_int_t)st.published, "review", (json_int_t)st.review, "rejected",
                     (json_int_t)st.rejected, "lag", lag >= 0 ? json_integer(lag) : json_null(), "workers",
                     workers >= 0 ? json_integer(workers) : json_null(), "broker",
                     broker ? "reachable" : "unreachable");
}

enum MHD_Result sa_web_api_stats(req_t *req) {
    return sa_web_respond_json(req, 200, sa_web_stats_json(req->srv), NULL);
}

enum MHD_Result sa_web_healthz(req_t *req) {
    int broker = sa_web_kafka_healthy(req->srv->kafka), store = sa_db_ping(req->srv->db);
    int ok = broker && store;
    return sa_web_respond_json(req, ok ? 200 : 503,
                               json_pack("{s:s, s:s, s:s}", "status", ok ? "ok" : "unavailable", "broker",
                                         broker ? "reachable" : "unreachable", "store",
                                         store ? "open" : "unavailable"),
                               NULL);
}
