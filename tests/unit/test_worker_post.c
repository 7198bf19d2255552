/* What the worker accepts on blog_operations, the reason codes for what it does not, and the
 * dead letters (UTF-8 kept, base64 otherwise, cut to fit). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "blog/worker/worker_post.h"

#define S(x) (x), strlen(x)
#define VALID                                                                                                \
    "{\"type\":\"create_post\",\"id\":\"01JD0000000000000000000000\",\"title\":\"Заголовок\","      \
    "\"content\":\"Текст поста\",\"author\":\"Аноним\",\"lang\":\"ru\","                     \
    "\"submitted_at\":\"2026-11-22T19:00:00Z\",\"idempotency_key\":null}"

static sa_post_status_t parse(const char *v, size_t max, char *detail) {
    sa_post_t post;
    sa_post_status_t st = sa_post_parse(v, v ? strlen(v) : 0, max, &post, detail, 256);
    if (st == SA_POST_OK)
        sa_post_clear(&post);
    else
        assert_null(post.obj);
    return st;
}

static void valid_post(void **state) {
    (void)state;
    char detail[256];
    sa_post_t post;
    assert_int_equal(sa_post_parse(S(VALID), 1 << 20, &post, detail, sizeof(detail)), SA_POST_OK);
    assert_string_equal(post.id, "01JD0000000000000000000000");
    assert_string_equal(post.title, "Заголовок");
    assert_string_equal(post.lang, "ru");
    assert_int_equal(post.content_len, strlen("Текст поста"));
    sa_post_clear(&post);
}

static void poison(void **state) {
    (void)state;
    char d[256];
    assert_int_equal(parse(NULL, 100, d), SA_POST_EMPTY);
    assert_int_equal(parse(VALID, 20, d), SA_POST_TOO_LARGE);
    assert_non_null(strstr(d, "limit of 20"));
    assert_int_equal(parse("{\"type\":\"create_post\",\"id\":\"\xff\"}", 1000, d), SA_POST_INVALID_UTF8);
    assert_int_equal(parse("{not json", 1000, d), SA_POST_INVALID_JSON);
    assert_non_null(strstr(d, "column"));
    assert_int_equal(parse("[1,2]", 1000, d), SA_POST_INVALID_JSON);
    assert_int_equal(parse("{\"id\":\"x\",\"title\":\"t\",\"content\":\"c\"}", 1000, d),
                     SA_POST_MISSING_FIELD);
    assert_int_equal(parse("{\"type\":\"delete_post\",\"id\":\"x\"}", 1000, d), SA_POST_UNKNOWN_TYPE);
    assert_int_equal(parse("{\"type\":\"create_post\",\"id\":\"x\",\"title\":\"t\"}", 1000, d),
                     SA_POST_MISSING_FIELD);
    assert_non_null(strstr(d, "content"));
    assert_int_equal(parse("{\"type\":\"create_post\",\"id\":5,\"title\":\"t\",\"content\":\"c\"}", 1000, d),
                     SA_POST_INVALID_FIELD);
    assert_int_equal(
        parse("{\"type\":\"create_post\",\"id\":\"\",\"title\":\"t\",\"content\":\"c\"}", 1000, d),
        SA_POST_INVALID_FIELD);
    assert_int_equal(
        parse("{\"type\":\"create_post\",\"id\":\"a\\nb\",\"title\":\"t\",\"content\":\"c\"}", 1000, d),
        SA_POST_INVALID_FIELD);
    assert_int_equal(
        parse("{\"type\":\"create_post\",\"id\":\"x\",\"title\":\"t\",\"content\":\"c\",\"lang\":7}", 1000,
              d),
        SA_POST_INVALID_FIELD);
    assert_int_equal(parse("{\"type\":\"create_post\",\"type\":\"create_post\"}", 1000, d),
                     SA_POST_INVALID_JSON);
    assert_string_equal(sa_post_status_code(SA_POST_TOO_LARGE), "value_too_large");
}

static void base64(void **state) {
    (void)state;
    const char *cases[][2] = {{"", ""},
                              {"f", "Zg=="},
                              {"fo", "Zm8="},
                              {"foo", "Zm9v"},
                              {"foob", "Zm9vYg=="},
                              {"fooba", "Zm9vYmE="},
                              {"foobar", "Zm9vYmFy"}};
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        char *b = sa_base64_encode(cases[i][0], strlen(cases[i][0]));
        assert_string_equal(b, cases[i][1]);
        free(b);
    }
}

static void dead_letters(void **state) {
    (void)state;
    sa_post_source_t src = {"blog_operations", 2, 41};
    json_t *dl =
        sa_post_dead_letter("invalid_json", "bad", &src, "k", 1, "{oops ё", strlen("{oops ё"), 1000, "w1");
    assert_string_equal(json_string_value(json_object_get(dl, "reason")), "invalid_json");
    assert_string_equal(json_string_value(json_object_get(dl, "topic")), "blog_operations");
    assert_int_equal(json_integer_value(json_object_get(dl, "partition")), 2);
    assert_int_equal(json_integer_value(json_object_get(dl, "offset")), 41);
    assert_string_equal(json_string_value(json_object_get(dl, "key")), "k");
    assert_string_equal(json_string_value(json_object_get(dl, "value")), "{oops ё");
    assert_string_equal(json_string_value(json_object_get(dl, "value_encoding")), "utf8");
    assert_true(json_is_false(json_object_get(dl, "value_truncated")));
    json_decref(dl);
    /* Not UTF-8: base64 with the flag. */
    dl = sa_post_dead_letter("invalid_utf8", "x", &src, NULL, 0, "\xff\xfe", 2, 1000, "w1");
    assert_string_equal(json_string_value(json_object_get(dl, "value")), "//4=");
    assert_string_equal(json_string_value(json_object_get(dl, "value_encoding")), "base64");
    assert_true(json_is_null(json_object_get(dl, "key")));
    json_decref(dl);
    /* Too big to embed: a prefix, never cut inside a UTF-8 character. */
    char big[3001];
    for (int i = 0; i < 3000; i += 2) memcpy(big + i, "ж", 2);
    big[3000] = '\0';
    dl = sa_post_dead_letter("value_too_large", "x", &src, NULL, 0, big, 3000, 1001, "w1");
    assert_true(json_is_true(json_object_get(dl, "value_truncated")));
    assert_int_equal(json_integer_value(json_object_get(dl, "value_size")), 3000);
    assert_int_equal(strlen(json_string_value(json_object_get(dl, "value"))), 1000);
    json_decref(dl);
}

/* A reason detail that quotes input can be cut inside a UTF-8 character (the unknown type is
 * quoted up to 64 bytes); the dead letter must still be built, or the worker would produce
 * nothing (json_pack refuses invalid UTF-8 and returns NULL). */
static void dead_letter_detail_cut_inside_utf8(void **state) {
    (void)state;
    char value[256] = "{\"type\":\"a";
    for (int i = 0; i < 40; i++) strcat(value, "ж");
    strcat(value, "\",\"id\":\"X\",\"title\":\"t\",\"content\":\"c\"}");
    char detail[256];
    assert_int_equal(parse(value, 1000, detail), SA_POST_UNKNOWN_TYPE);
    sa_post_source_t src = {"blog_operations", 0, 7};
    json_t *dl = sa_post_dead_letter("unknown_type", detail, &src, NULL, 0, value, strlen(value), 1000, "w1");
    assert_non_null(dl);
    const char *kept = json_string_value(json_object_get(dl, "detail"));
    assert_non_null(kept);
    assert_true(strncmp(kept, "unknown operation type \"a", 25) == 0);
    char *text = json_dumps(dl, JSON_COMPACT);
    assert_non_null(text);
    free(text);
    json_decref(dl);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(valid_post),
        cmocka_unit_test(poison),
        cmocka_unit_test(base64),
        cmocka_unit_test(dead_letters),
        cmocka_unit_test(dead_letter_detail_cut_inside_utf8),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
