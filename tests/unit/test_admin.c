/* The admin handlers' shared helpers (src/broker/admin.h): repeated-name detection (including
 * null names and names that differ only in length), topic names from the wire (null, embedded
 * NUL), wire error codes and messages. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "broker/admin.h"

typedef struct item_s {
    int32_t before; /* the name is not at offset 0, as in the generated structs */
    sa_str_t Name;
} item_t;

static sa_req_t *new_req(void) {
    sa_req_t *req = calloc(1, sizeof(*req));
    sa_arena_init(&req->arena, 1 << 20);
    return req;
}

static void free_req(sa_req_t *req) {
    sa_arena_free(&req->arena);
    free(req);
}

static void test_repeated(void **state) {
    (void)state;
    sa_req_t *req = new_req();
    item_t items[] = {{0, sa_str("a")}, {0, sa_str("ab")}, {0, SA_STR_NULL}, {0, sa_str("a")},
                      {0, sa_str("b")}, {0, SA_STR_NULL},  {0, sa_str("")},  {0, {"ab", 1}}};
    uint8_t *rep;
    size_t n;
    assert_int_equal(SA_ADMIN_MARK_REPEATED(req, items, 8, Name, &rep, &n), SA_OK);
    /* "a" twice (the last one is "a" too: a view of the first byte of "ab"), nulls twice */
    uint8_t want[] = {1, 0, 1, 1, 0, 1, 0, 1};
    assert_memory_equal(rep, want, sizeof(want));
    assert_int_equal(n, 5);
    assert_int_equal(SA_ADMIN_MARK_REPEATED(req, items, 0, Name, &rep, &n), SA_OK);
    assert_int_equal(n, 0);
    assert_int_equal(SA_ADMIN_MARK_REPEATED(req, items, -1, Name, &rep, NULL), SA_OK);
    free_req(req);
}

static void test_repeated_many(void **state) {
    (void)state;
    sa_req_t *req = new_req();
    enum { N = 20000 };
    item_t *items = calloc(N, sizeof(*items));
    char(*names)[8] = calloc(N, 8);
    for (int i = 0; i < N; i++) {
        snprintf(names[i], 8, "t%d", i % (N / 2)); /* every name exactly twice */
        items[i].Name = sa_str(names[i]);
    }
    uint8_t *rep;
    size_t n;
    assert_int_equal(SA_ADMIN_MARK_REPEATED(req, items, N, Name, &rep, &n), SA_OK);
    assert_int_equal(n, N);
    items[N - 1].Name = sa_str("unique");
    assert_int_equal(SA_ADMIN_MARK_REPEATED(req, items, N, Name, &rep, &n), SA_OK);
    assert_int_equal(n, N - 2);
    assert_int_equal(rep[N - 1], 0);
    assert_int_equal(rep[N / 2 - 1], 0); /* its former twin */
    free(names);
    free(items);
    free_req(req);
}

static void test_name(void **state) {
    (void)state;
    sa_req_t *req = new_req();
    const char *name;
    assert_int_equal(sa_admin_name(req, (sa_str_t){"topic-xyz", 5}, &name), SA_OK);
    assert_string_equal(name, "topic");
    assert_int_equal(sa_admin_name(req, (sa_str_t){"a\0b", 3}, &name), SA_ERR_INVALID_TOPIC_EXCEPTION);
    assert_string_equal(name, "");
    assert_int_equal(sa_admin_name(req, SA_STR_NULL, &name), SA_ERR_INVALID_TOPIC_EXCEPTION);
    assert_int_equal(sa_admin_name(req, sa_str(""), &name), SA_OK);
    assert_string_equal(name, "");
    free_req(req);
}

static void test_code_message(void **state) {
    (void)state;
    sa_req_t *req = new_req();
    assert_int_equal(sa_admin_code(SA_OK), 0);
    assert_int_equal(sa_admin_code(SA_ERR_INVALID_PARTITIONS), 37);
    assert_int_equal(sa_admin_code(SA_ERR_UNKNOWN_SERVER_ERROR), -1);
    assert_int_equal(sa_admin_code(SA_ERR_IO), -1);
    assert_true(sa_str_is_null(sa_admin_message(req, SA_OK, "ignored")));
    char errstr[32] = "detail";
    sa_str_t m = sa_admin_message(req, SA_ERR_INVALID_CONFIG, errstr);
    errstr[0] = 'X'; /* the message is a copy */
    assert_true(sa_str_eq(m, "detail"));
    assert_true(
        sa_str_eq(sa_admin_message(req, SA_ERR_INVALID_CONFIG, ""), sa_err2str(SA_ERR_INVALID_CONFIG)));
    assert_true(sa_str_eq(sa_admin_message(req, SA_ERR_IO, NULL), sa_err2str(SA_ERR_UNKNOWN_SERVER_ERROR)));
    free_req(req);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_repeated),
        cmocka_unit_test(test_repeated_many),
        cmocka_unit_test(test_name),
        cmocka_unit_test(test_code_message),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
