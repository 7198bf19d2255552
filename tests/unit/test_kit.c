/* The request handlers' kit (src/broker/kit.h): repeated-name detection (including null names and
 * names that differ only in length), topic names and other strings from the wire (null, embedded
 * NUL), arena arrays from wire counts, wire error codes and messages, authorization per resource
 * and the cluster-level check of dispatch.c's table. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "broker/dispatch.h"
#include "broker/kit.h"

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
    assert_int_equal(SA_KIT_MARK_REPEATED(req, items, 8, Name, &rep, &n), SA_OK);
    /* "a" twice (the last one is "a" too: a view of the first byte of "ab"), nulls twice */
    uint8_t want[] = {1, 0, 1, 1, 0, 1, 0, 1};
    assert_memory_equal(rep, want, sizeof(want));
    assert_int_equal(n, 5);
    assert_int_equal(SA_KIT_MARK_REPEATED(req, items, 0, Name, &rep, &n), SA_OK);
    assert_int_equal(n, 0);
    assert_int_equal(SA_KIT_MARK_REPEATED(req, items, -1, Name, &rep, NULL), SA_OK);
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
    assert_int_equal(SA_KIT_MARK_REPEATED(req, items, N, Name, &rep, &n), SA_OK);
    assert_int_equal(n, N);
    items[N - 1].Name = sa_str("unique");
    assert_int_equal(SA_KIT_MARK_REPEATED(req, items, N, Name, &rep, &n), SA_OK);
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
    assert_int_equal(sa_kit_topic(req, (sa_str_t){"topic-xyz", 5}, &name), SA_OK);
    assert_string_equal(name, "topic");
    assert_int_equal(sa_kit_topic(req, (sa_str_t){"a\0b", 3}, &name), SA_ERR_INVALID_TOPIC_EXCEPTION);
    assert_string_equal(name, "");
    assert_int_equal(sa_kit_topic(req, SA_STR_NULL, &name), SA_ERR_INVALID_TOPIC_EXCEPTION);
    assert_int_equal(sa_kit_topic(req, sa_str(""), &name), SA_OK);
    assert_string_equal(name, "");
    free_req(req);
}

static void test_code_message(void **state) {
    (void)state;
    sa_req_t *req = new_req();
    assert_int_equal(sa_kit_code(SA_OK), 0);
    assert_int_equal(sa_kit_code(SA_ERR_INVALID_PARTITIONS), 37);
    assert_int_equal(sa_kit_code(SA_ERR_UNKNOWN_SERVER_ERROR), -1);
    assert_int_equal(sa_kit_code(SA_ERR_IO), -1);
    assert_true(sa_str_is_null(sa_kit_message(req, SA_OK, "ignored")));
    char errstr[32] = "detail";
    sa_str_t m = sa_kit_message(req, SA_ERR_INVALID_CONFIG, errstr);
    errstr[0] = 'X'; /* the message is a copy */
    assert_true(sa_str_eq(m, "detail"));
    assert_true(sa_str_eq(sa_kit_message(req, SA_ERR_INVALID_CONFIG, ""), sa_err2str(SA_ERR_INVALID_CONFIG)));
    assert_true(sa_str_eq(sa_kit_message(req, SA_ERR_IO, NULL), sa_err2str(SA_ERR_UNKNOWN_SERVER_ERROR)));
    free_req(req);
}

static void test_strings(void **state) {
    (void)state;
    sa_req_t *req = new_req();
    assert_string_equal(sa_kit_str(req, (sa_str_t){"group-xyz", 5}), "group");
    assert_string_equal(sa_kit_str(req, SA_STR_NULL), "");
    assert_null(sa_kit_nstr(req, SA_STR_NULL));
    assert_string_equal(sa_kit_nstr(req, sa_str("")), "");
    assert_string_equal(sa_kit_nstr(req, sa_str("inst-1")), "inst-1");
    free_req(req);
}

typedef struct resp_s {
    int64_t *Things; /* as a generated response array: a pointer and its _count */
    int32_t Things_count;
} resp_t;

static void test_array(void **state) {
    (void)state;
    sa_req_t *req = new_req();
    resp_t r = {NULL, 99};
    assert_non_null(SA_KIT_ARRAY(req, r.Things, 3));
    assert_int_equal(r.Things_count, 3);
    assert_true(r.Things[0] == 0 && r.Things[2] == 0);
    /* a null array from the wire (-1) is an empty one, with a usable pointer */
    assert_non_null(SA_KIT_ARRAY(req, r.Things, -1));
    assert_int_equal(r.Things_count, 0);
    /* past the arena cap: NULL and a count of 0, so nothing walks a missing array */
    assert_null(SA_KIT_ARRAY(req, r.Things, INT32_MAX));
    assert_int_equal(r.Things_count, 0);
    free_req(req);
}

static void test_authorize(void **state) {
    (void)state;
    sa_req_t *req = new_req();
    sa_broker_t broker = {0};
    broker.metastore.acls = sa_acls_new(NULL);
    req->broker = &broker;
    /* without an authorizer everything is allowed, as Kafka without one checks nothing */
    assert_int_equal(sa_kit_authorize(req, SA_ACL_WRITE, SA_RESOURCE_TOPIC, "t"), SA_OK);
    assert_int_equal(sa_kit_authorize(req, SA_ACL_DELETE, SA_RESOURCE_GROUP, "g"), SA_OK);
    /* with one and no ACL, each resource type's own code */
    assert_int_equal(
        sa_acls_configure(broker.metastore.acls, "kafka.security.authorizer.AclAuthorizer", "", 0, NULL, 0),
        SA_OK);
    assert_int_equal(sa_kit_authorize(req, SA_ACL_WRITE, SA_RESOURCE_TOPIC, "t"),
                     SA_ERR_TOPIC_AUTHORIZATION_FAILED);
    assert_int_equal(sa_kit_authorize(req, SA_ACL_READ, SA_RESOURCE_GROUP, "g"),
                     SA_ERR_GROUP_AUTHORIZATION_FAILED);
    assert_int_equal(sa_kit_authorize(req, SA_ACL_ALTER, SA_RESOURCE_CLUSTER, ""),
                     SA_ERR_CLUSTER_AUTHORIZATION_FAILED);
    assert_int_equal(sa_kit_authorize(req, SA_ACL_WRITE, SA_RESOURCE_TRANSACTIONAL_ID, "tx"),
                     SA_ERR_TRANSACTIONAL_ID_AUTHORIZATION_FAILED);
    /* an ACL for the request's principal (ANONYMOUS until authentication) from any host */
    sa_acl_binding_t b = {
        SA_RESOURCE_TOPIC, SA_PATTERN_LITERAL, SA_ACL_WRITE, SA_PERM_ALLOW, "t", "User:ANONYMOUS", "*"};
    uint64_t seq;
    assert_int_equal(sa_acls_create(broker.metastore.acls, &b, &seq), SA_OK);
    assert_int_equal(sa_kit_authorize(req, SA_ACL_WRITE, SA_RESOURCE_TOPIC, "t"), SA_OK);
    assert_int_equal(sa_kit_authorize(req, SA_ACL_DESCRIBE, SA_RESOURCE_TOPIC, "t"), SA_OK); /* implied */
    assert_int_equal(sa_kit_authorize(req, SA_ACL_READ, SA_RESOURCE_TOPIC, "t"),
                     SA_ERR_TOPIC_AUTHORIZATION_FAILED);
    /* authorized operations: WRITE and the DESCRIBE it implies */
    assert_int_equal(sa_authz_operations(req, SA_RESOURCE_TOPIC, "t"),
                     (1 << SA_ACL_WRITE) | (1 << SA_ACL_DESCRIBE));
    /* the cluster-level check comes from the API table */
    assert_int_equal(sa_dispatch_api(SA_API_CreateTopics)->cluster_op, SA_ACL_CREATE);
    assert_int_equal(sa_dispatch_api(SA_API_Produce)->cluster_op, SA_ACL_NONE);
    assert_int_equal(sa_dispatch_api(SA_API_CreateAcls)->cluster_op, SA_ACL_ALTER);
    assert_int_equal(sa_dispatch_api(SA_API_DescribeAcls)->cluster_op, SA_ACL_DESCRIBE);
    req->ApiKey = SA_API_CreateTopics;
    assert_int_equal(sa_kit_authorize_cluster(req), SA_ERR_CLUSTER_AUTHORIZATION_FAILED);
    req->ApiKey = SA_API_Produce;
    assert_int_equal(sa_kit_authorize_cluster(req), SA_OK);
    sa_acls_free(broker.metastore.acls);
    free_req(req);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_repeated),  cmocka_unit_test(test_repeated_many),
        cmocka_unit_test(test_name),      cmocka_unit_test(test_code_message),
        cmocka_unit_test(test_strings),   cmocka_unit_test(test_array),
        cmocka_unit_test(test_authorize),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
