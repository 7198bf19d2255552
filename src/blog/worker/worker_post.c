/*
 * worker_post.c - validation of blog_operations values and the dead letters for bad ones.
 *
 * Checks run cheapest and most fundamental first (size, then UTF-8, then JSON, then fields), so
 * the reason recorded is the first thing wrong with a value, and an oversized value is never
 * parsed at all.
 */
#include "blog/worker/worker_post.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/mem.h"
#include "core/time.h"
#include "core/utf8.h"

const char *sa_post_status_code(sa_post_status_t st) {
    switch (st) {
    case SA_POST_OK: return "ok";
    case SA_POST_TOO_LARGE: return "value_too_large";
    case SA_POST_EMPTY: return "empty_value";
    case SA_POST_INVALID_UTF8: return "invalid_utf8";
    case SA_POST_INVALID_JSON: return "invalid_json";
    case SA_POST_MISSING_FIELD: return "missing_field";
    case SA_POST_INVALID_FIELD: return "invalid_field";
    case SA_POST_UNKNOWN_TYPE: return "unknown_type";
    }
    return "unknown";
}

static int valid_id(const char *id) {
    size_t n = strlen(id);
    if (n == 0 || n > SA_POST_ID_MAX) return 0;
    for (size_t i = 0; i < n; i++)
        if ((unsigned char)id[i] < 0x20 || id[i] == 0x7f) return 0;
    return 1;
}

/* A required string field: @returns OK, MISSING_FIELD or INVALID_FIELD with detail. */
static sa_post_status_t need_string(json_t *obj, const char *name, const char **out, char *detail,
                                    size_t detail_size) {
    json_t *v = json_object_get(obj, name);
    if (!v) {
        snprintf(detail, detail_size, "field \"%s\" is missing", name);
        return SA_POST_MISSING_FIELD;
    }
    if (!json_is_string(v)) {
        snprintf(detail, detail_size, "field \"%s\" must be a string", name);
        return SA_POST_INVALID_FIELD;
    }
    *out = json_string_value(v);
    return SA_POST_OK;
}

sa_post_status_t sa_post_parse(const void *value, size_t len, size_t max_bytes, sa_post_t *post, char *detail,
                               size_t detail_size) {
    static const char *const optional[] = {"author", "lang", "submitted_at", "idempotency_key"};
    sa_post_status_t st;
    json_error_t jerr;
    const char *type = NULL;
    memset(post, 0, sizeof(*post));
    detail[0] = '\0';
    if (!value || len == 0) {
        snprintf(detail, detail_size, "the value is empty");
        return SA_POST_EMPTY;
    }
    if (len > max_bytes) {
        snprintf(detail, detail_size, "the value has %zu bytes, more than the limit of %zu", len, max_bytes);
        return SA_POST_TOO_LARGE;
    }
    if (!sa_utf8_valid(value, len)) {
        snprintf(detail, detail_size, "the value is not valid UTF-8");
        return SA_POST_INVALID_UTF8;
    }
    post->obj = json_loadb(value, len, JSON_REJECT_DUPLICATES, &jerr);
    if (!post->obj) {
        snprintf(detail, detail_size, "line %d column %d: %s", jerr.line, jerr.column, jerr.text);
        return SA_POST_INVALID_JSON;
    }
    if (!json_is_object(post->obj)) {
        snprintf(detail, detail_size, "the value is JSON but not an object");
        st = SA_POST_INVALID_JSON;
        goto fail;
    }
    if ((st = need_string(post->obj, "type", &type, detail, detail_size))) goto fail;
    if (strcmp(type, "create_post") != 0) {
        snprintf(detail, detail_size, "unknown operation type \"%.64s\"", type);
        st = SA_POST_UNKNOWN_TYPE;
        goto fail;
    }
    if ((st = need_string(post->obj, "id", &post->id, detail, detail_size))) goto fail;
    if (!valid_id(post->id)) {
        snprintf(detail, detail_size, "field \"id\" must have 1 to %d bytes and no control characters",
                 SA_POST_ID_MAX);
        st = SA_POST_INVALID_FIELD;
        goto fail;
    }
    if ((st = need_string(post->obj, "title", &post->title, detail, detail_size))) goto fail;
    if ((st = need_string(post->obj, "content", &post->content, detail, detail_size))) goto fail;
    post->content_len = json_string_length(json_object_get(post->obj, "content"));
    for (size_t i = 0; i < SA_ARRAY_LEN(optional); i++) {
        json_t *v = json_object_get(post->obj, optional[i]);
        if (v && !json_is_string(v) && !json_is_null(v)) {
            snprintf(detail, detail_size, "field \"%s\" must be a string or null", optional[i]);
            st = SA_POST_INVALID_FIELD;
            goto fail;
        }
    }
    post->lang = json_string_value(json_object_get(post->obj, "lang"));
    return SA_POST_OK;
fail:
    sa_post_clear(post);
    return st;
}

void sa_post_clear(sa_post_t *post) {
    json_decref(post->obj);
    memset(post, 0, sizeof(*post));
}

char *sa_base64_encode(const void *data, size_t len) {
    static const char tab[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    const unsigned char *p = data;
    char *out = sa_malloc((len + 2) / 3 * 4 + 1), *o = out;
    size_t i = 0;
    for (; i + 2 < len; i += 3) {
        uint32_t v = (uint32_t)p[i] << 16 | (uint32_t)p[i + 1] << 8 | p[i + 2];
        *o++ = tab[v >> 18], *o++ = tab[(v >> 12) & 63], *o++ = tab[(v >> 6) & 63], *o++ = tab[v & 63];
    }
    if (i < len) {
        uint32_t v = (uint32_t)p[i] << 16 | (i + 1 < len ? (uint32_t)p[i + 1] << 8 : 0);
        *o++ = tab[v >> 18], *o++ = tab[(v >> 12) & 63];
        *o++ = i + 1 < len ? tab[(v >> 6) & 63] : '=';
        *o++ = '=';
    }
    *o = '\0';
    return out;
}

/* Set name (and name_encoding) to @p data as a UTF-8 string or base64, at most @p max bytes of
 * input; @returns 1 if it had to cut. */
static int embed_bytes(json_t *obj, const char *name, const char *enc_name, const void *data, size_t len,
                       size_t max) {
    if (!data) {
        json_object_set_new(obj, name, json_null());
        return 0;
    }
    int utf8 = sa_utf8_valid(data, len) && !memchr(data, '\0', len);
    /* base64 grows 4/3; JSON escaping of text is bounded by our cut below being of raw bytes. */
    size_t keep = utf8 ? SA_MIN(len, max) : SA_MIN(len, max / 4 * 3);
    if (utf8) /* never cut inside a UTF-8 sequence */
        while (keep > 0 && keep < len && (((const unsigned char *)data)[keep] & 0xC0) == 0x80) keep--;
    if (utf8) {
        json_object_set_new(obj, name, json_stringn(data, keep));
    } else {
        char *b64 = sa_base64_encode(data, keep);
        json_object_set_new(obj, name, json_string(b64));
        free(b64);
    }
    json_object_set_new(obj, enc_name, json_string(utf8 ? "utf8" : "base64"));
    return keep < len;
}

/* @returns new: a JSON string of @p s cut back to its longest valid UTF-8 prefix. Details quote
 * input and may end inside a character (a "%.64s"), and jansson refuses invalid UTF-8 (NULL):
 * a dead letter must be built whatever the record held. */
static json_t *text_value(const char *s) { return json_stringn(s, sa_utf8_valid_prefix(s, strlen(s))); }

json_t *sa_post_dead_letter(const char *reason, const char *detail, const sa_post_source_t *src,
                            const void *key, size_t key_len, const void *value, size_t value_len,
                            size_t embed_max, const char *worker) {
    char now[48];
    sa_time_rfc3339(sa_wall_ms(), now);
    json_t *obj = json_pack("{s:s, s:o, s:o, s:i, s:I}", "reason", reason, "detail", text_value(detail),
                            "topic", text_value(src->topic), "partition", (int)src->partition, "offset",
                            (json_int_t)src->offset);
    embed_bytes(obj, "key", "key_encoding", key, SA_MIN(key_len, (size_t)1024), 1024);
    int cut = embed_bytes(obj, "value", "value_encoding", value, value_len, embed_max);
    json_object_set_new(obj, "value_size", json_integer((json_int_t)value_len));
    json_object_set_new(obj, "value_truncated", json_boolean(cut));
    json_object_set_new(obj, "worker", text_value(worker));
    json_object_set_new(obj, "failed_at", json_string(now));
    return obj;
}
