/*
 * worker_post.h - what the worker accepts on blog_operations, and the dead letter for what it
 * does not (DESIGN.md §4).
 *
 * A valid value is at most max_bytes of UTF-8 holding one JSON object with
 *   "type": "create_post", "id": 1..128 bytes without control characters, "title" and "content":
 *   strings; "author", "lang", "submitted_at", "idempotency_key": strings or null if present.
 * Everything else is a poison message, classified by a stable reason code.
 */
#ifndef SA_BLOG_WORKER_POST_H
#define SA_BLOG_WORKER_POST_H

#include <jansson.h>
#include <stddef.h>
#include <stdint.h>

#define SA_POST_ID_MAX 128 /* bytes */

typedef enum sa_post_status_e {
    SA_POST_OK = 0,
    SA_POST_TOO_LARGE,     /* "value_too_large" */
    SA_POST_EMPTY,         /* "empty_value": a null or zero-length value */
    SA_POST_INVALID_UTF8,  /* "invalid_utf8" */
    SA_POST_INVALID_JSON,  /* "invalid_json" (also: not an object) */
    SA_POST_MISSING_FIELD, /* "missing_field" */
    SA_POST_INVALID_FIELD, /* "invalid_field": wrong JSON type or bad id */
    SA_POST_UNKNOWN_TYPE,  /* "unknown_type" */
} sa_post_status_t;

typedef struct sa_post_s {
    json_t *obj;    /* owned: the whole post object */
    const char *id; /* the fields below are valid while obj is */
    const char *title;
    const char *content;
    size_t content_len;
    const char *lang; /* NULL if absent or null */
} sa_post_t;

/**
 * Validate one blog_operations value.
 * @param value   borrowed bytes (may be NULL when @p len is 0).
 * @param post    filled on SA_POST_OK (release with sa_post_clear); zeroed otherwise.
 * @param detail  a human explanation on failure (e.g. jansson's message with the column).
 */
sa_post_status_t sa_post_parse(const void *value, size_t len, size_t max_bytes, sa_post_t *post, char *detail,
                               size_t detail_size);

void sa_post_clear(sa_post_t *post);

/** @returns the stable reason code of @p st ("invalid_json", ...). */
const char *sa_post_status_code(sa_post_status_t st);

/* Where a record came from, for dead letters and results. */
typedef struct sa_post_source_s {
    const char *topic; /* borrowed */
    int32_t partition;
    int64_t offset;
} sa_post_source_t;

/**
 * @returns new: the dead-letter object for blog_errors:
 *   {"reason", "detail", "topic", "partition", "offset", "key", "key_encoding", "value",
 *    "value_encoding" ("utf8" | "base64"), "value_size", "value_truncated", "worker", "failed_at"}.
 * The value (and key) is embedded as a string when it is valid UTF-8, else base64; a value whose
 * encoding would pass @p embed_max bytes is cut to a prefix and marked value_truncated, so a dead
 * letter always fits in a record. All pointers are borrowed.
 */
json_t *sa_post_dead_letter(const char *reason, const char *detail, const sa_post_source_t *src,
                            const void *key, size_t key_len, const void *value, size_t value_len,
                            size_t embed_max, const char *worker);

/** @returns new: base64 (RFC 4648, padded) of @p len bytes, NUL-terminated; free() it. */
char *sa_base64_encode(const void *data, size_t len);

#endif
