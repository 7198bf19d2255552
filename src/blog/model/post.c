/*
 * post.c - validation of submitted posts and their blog_operations record (see post.h).
 */
#include "blog/model/post.h"

#include <stdio.h>
#include <string.h>

#include "core/mem.h"
#include "core/utf8.h"

static char *trim_own(char *s) {
    if (!s) return sa_strdup("");
    size_t start = 0, end = strlen(s);
    while (start < end && (s[start] == ' ' || s[start] == '\t' || s[start] == '\r' || s[start] == '\n'))
        start++;
    while (end > start &&
           (s[end - 1] == ' ' || s[end - 1] == '\t' || s[end - 1] == '\r' || s[end - 1] == '\n'))
        end--;
    memmove(s, s + start, end - start);
    s[end - start] = '\0';
    return s;
}

static sa_field_err_t check(const char *s, int required, long max, int multiline) {
    size_t n = strlen(s);
    if (required && n == 0) return SA_FIELD_REQUIRED;
    long chars = sa_utf8_count(s, n);
    if (chars < 0) return SA_FIELD_UTF8;
    if (chars > max) return SA_FIELD_TOO_LONG;
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)s[i];
        if ((c < 0x20 && !(multiline && (c == '\n' || c == '\r' || c == '\t'))) || c == 0x7f)
            return SA_FIELD_CONTROL;
    }
    return SA_FIELD_OK;
}

int sa_post_validate(sa_post_input_t *in, sa_post_errors_t *errs) {
    in->title = trim_own(in->title);
    in->content = trim_own(in->content);
    in->author = trim_own(in->author);
    errs->title = check(in->title, 1, SA_POST_TITLE_MAX, 0);
    errs->content = check(in->content, 1, SA_POST_CONTENT_MAX, 1);
    errs->author = check(in->author, 0, SA_POST_AUTHOR_MAX, 0);
    return (errs->title != SA_FIELD_OK) + (errs->content != SA_FIELD_OK) + (errs->author != SA_FIELD_OK);
}

void sa_post_input_clear(sa_post_input_t *in) {
    free(in->title);
    free(in->content);
    free(in->author);
    memset(in, 0, sizeof(*in));
}

const char *sa_post_field_message(sa_lang_t lang, sa_field_err_t err, int limit, char *buf, size_t size) {
    switch (err) {
    case SA_FIELD_OK: snprintf(buf, size, "%s", ""); break;
    case SA_FIELD_REQUIRED: snprintf(buf, size, "%s", sa_i18n(lang, SA_MSG_ERR_REQUIRED)); break;
    case SA_FIELD_TOO_LONG: {
        const char *fmt = sa_i18n(lang, SA_MSG_ERR_TOO_LONG);
        const char *pct = strstr(fmt, "%d"); /* the table's one placeholder, filled without a
                                              * non-literal format string */
        snprintf(buf, size, "%.*s%d%s", (int)(pct - fmt), fmt, limit, pct + 2);
        break;
    }
    case SA_FIELD_UTF8: snprintf(buf, size, "%s", sa_i18n(lang, SA_MSG_ERR_UTF8)); break;
    case SA_FIELD_CONTROL: snprintf(buf, size, "%s", sa_i18n(lang, SA_MSG_ERR_CONTROL)); break;
    }
    return buf;
}

const char *sa_post_field_code(sa_field_err_t err) {
    static const char *const codes[] = {"ok", "required", "too_long", "invalid_utf8", "control_characters"};
    return (unsigned)err < SA_ARRAY_LEN(codes) ? codes[err] : "invalid";
}

json_t *sa_post_op_new(const sa_post_input_t *in, const char *id, const char *submitted_at,
                       const char *idempotency_key) {
    json_t *op = json_pack("{s:s, s:s, s:s, s:s, s:s, s:s, s:s}", "type", "create_post", "id", id, "title",
                           in->title, "content", in->content, "author", in->author, "lang",
                           sa_lang_code(in->lang), "submitted_at", submitted_at);
    json_object_set_new(op, "idempotency_key", idempotency_key ? json_string(idempotency_key) : json_null());
    return op;
}

static int same_str(const json_t *obj, const char *key, const char *val) {
    const char *s = json_string_value(json_object_get(obj, key));
    return s && !strcmp(s, val);
}

int sa_post_same_as(const sa_post_input_t *in, const json_t *op) {
    return same_str(op, "title", in->title) && same_str(op, "content", in->content) &&
           same_str(op, "author", in->author) && same_str(op, "lang", sa_lang_code(in->lang));
}
