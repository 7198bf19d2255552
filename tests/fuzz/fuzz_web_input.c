/*
 * fuzz_web_input.c - what a browser or API client can send `samsa web`: a form body, a JSON
 * post, an Accept-Language header. The first byte picks the path; the rest is the input. Every
 * field goes through validation, the blog_operations record and HTML escaping, as in a request.
 */
#include <jansson.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "blog/model/i18n.h"
#include "blog/model/post.h"
#include "http/http_form.h"
#include "core/escape.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static char *json_field(json_t *doc, const char *name) {
    json_t *v = json_object_get(doc, name);
    return json_is_string(v) ? strndup(json_string_value(v), json_string_length(v)) : NULL;
}

static void check_post(sa_post_input_t *in) {
    sa_post_errors_t errs;
    if (sa_post_validate(in, &errs) == 0) {
        json_t *op = sa_post_op_new(in, "01ARYZ6S410000000000000000", "2026-01-01T00:00:00.000Z", "k");
        char *text = json_dumps(op, JSON_COMPACT);
        json_t *back = text ? json_loads(text, 0, NULL) : NULL;
        if (!back || !sa_post_same_as(in, back)) abort(); /* the record must round-trip */
        json_decref(back);
        free(text);
        json_decref(op);
    }
    sa_buf_t out = SA_BUF_INIT(0);
    sa_html_escape(&out, in->title);
    sa_html_escape(&out, in->content);
    if (memchr(out.data, '<', out.len) || memchr(out.data, '"', out.len)) abort(); /* escaped */
    sa_buf_free(&out);
    sa_post_input_clear(in);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    if (size < 1) return 0;
    const char *body = (const char *)data + 1;
    size_t len = size - 1;
    sa_post_input_t in = {0};
    switch (data[0] % 3) {
    case 0: /* application/x-www-form-urlencoded */
        in.title = sa_form_get(body, len, "title");
        in.content = sa_form_get(body, len, "content");
        in.author = sa_form_get(body, len, "author");
        free(sa_form_get(body, len, "token"));
        check_post(&in);
        break;
    case 1: { /* JSON */
        json_t *doc = json_loadb(body, len, JSON_REJECT_DUPLICATES, NULL);
        if (json_is_object(doc)) {
            in.title = json_field(doc, "title");
            in.content = json_field(doc, "content");
            in.author = json_field(doc, "author");
            check_post(&in);
        }
        json_decref(doc);
        break;
    }
    default: { /* Accept-Language */
        char *header = strndup(body, len);
        sa_lang_t lang = sa_lang_pick(NULL, header);
        if (lang != SA_LANG_EN && lang != SA_LANG_RU) abort();
        free(header);
        break;
    }
    }
    return 0;
}
