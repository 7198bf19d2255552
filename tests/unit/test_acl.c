/*
 * test_acl.c - the authorizer's decision and the ACL filters (broker/acl.h) against a table of
 * Kafka's behaviour: StandardAuthorizerData.findResult / MatchingRuleBuilder (literal, "*",
 * prefixed, principals "User:*", hosts "*", DENY wins, ALLOW-only implications, super users,
 * allow.everyone.if.no.acl.found), Authorizer.authorizeByResourceType (KIP-679),
 * ResourcePatternFilter/AccessControlEntryFilter.matches and AclControlManager.validateNewAcl.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "broker/acl.h"

#define STD "org.apache.kafka.metadata.authorizer.StandardAuthorizer"
#define T   SA_RESOURCE_TOPIC
#define G   SA_RESOURCE_GROUP
#define C   SA_RESOURCE_CLUSTER
#define LIT SA_PATTERN_LITERAL
#define PRE SA_PATTERN_PREFIXED
#define A   SA_PERM_ALLOW
#define D   SA_PERM_DENY

static void add(sa_acls_t *acls, int8_t type, int8_t pattern, const char *name, const char *principal,
                const char *host, int8_t op, int8_t perm) {
    sa_acl_binding_t b = {type, pattern, op, perm, name, principal, host};
    uint64_t seq;
    assert_int_equal(sa_acls_create(acls, &b, &seq), SA_OK);
}

typedef struct query_s {
    const char *principal, *host;
    sa_acl_op_t op;
    sa_resource_type_t type;
    const char *name;
    int allowed; /* Kafka's answer */
} query_t;

static void check(const sa_acls_t *acls, const query_t *q, size_t n) {
    for (size_t i = 0; i < n; i++) {
        int got = sa_acls_authorize(acls, q[i].principal, q[i].host, q[i].op, q[i].type, q[i].name);
        if (got != q[i].allowed)
            fail_msg("query %zu: %s from %s %s on %s:%s: got %d, Kafka answers %d", i, q[i].principal,
                     q[i].host, sa_acl_op_name(q[i].op), sa_acl_resource_name(q[i].type), q[i].name, got,
                     q[i].allowed);
    }
}

static void test_no_authorizer_and_no_acl(void **state) {
    (void)state;
    sa_acls_t *acls = sa_acls_new(NULL);
    /* no authorizer: everything */
    assert_true(sa_acls_authorize(acls, "User:x", "1.2.3.4", SA_ACL_DELETE, T, "t"));
    assert_int_equal(sa_acls_configure(acls, "com.example.MyAuthorizer", "", 0, NULL, 0), SA_ERR_INVALID_ARG);
    assert_false(sa_acls_enabled(acls));
    assert_int_equal(sa_acls_configure(acls, STD, "", 0, NULL, 0), SA_OK);
    /* an authorizer and no ACL: denied, unless allow.everyone.if.no.acl.found */
    assert_false(sa_acls_authorize(acls, "User:x", "1.2.3.4", SA_ACL_READ, T, "t"));
    assert_int_equal(sa_acls_configure(acls, "kafka.security.authorizer.AclAuthorizer", NULL, 1, NULL, 0),
                     SA_OK);
    assert_true(sa_acls_authorize(acls, "User:x", "1.2.3.4", SA_ACL_READ, T, "t"));
    /* ... but an ACL on the resource for someone else makes it denied all the same */
    add(acls, T, LIT, "t", "User:alice", "*", SA_ACL_READ, A);
    assert_false(sa_acls_authorize(acls, "User:x", "1.2.3.4", SA_ACL_READ, T, "t"));
    assert_true(sa_acls_authorize(acls, "User:x", "1.2.3.4", SA_ACL_READ, T, "other"));
    /* a prefixed ACL covering the name counts as "an ACL on the resource" too */
    add(acls, T, PRE, "ot", "User:alice", "*", SA_ACL_READ, A);
    assert_false(sa_acls_authorize(acls, "User:x", "1.2.3.4", SA_ACL_READ, T, "other"));
    sa_acls_free(acls);
}

static void test_super_users(void **state) {
    (void)state;
    sa_acls_t *acls = sa_acls_new(NULL);
    assert_int_equal(sa_acls_configure(acls, STD, " User:admin ;User:CN=ops,O=org;;", 0, NULL, 0), SA_OK);
    add(acls, T, LIT, "*", "User:*", "*", SA_ACL_ALL, D);
    const query_t q[] = {
        {"User:admin", "10.0.0.1", SA_ACL_DELETE, T, "t", 1}, /* DENY does not apply to them */
        {"User:CN=ops,O=org", "::1", SA_ACL_ALTER, C, "", 1}, /* a certificate's principal */
        {"User:Admin", "10.0.0.1", SA_ACL_DELETE, T, "t", 0}, /* exact, case included */
        {"User:bob", "10.0.0.1", SA_ACL_DESCRIBE, T, "t", 0},
    };
    check(acls, q, sizeof(q) / sizeof(q[0]));
    sa_acls_free(acls);
}

static void test_matching(void **state) {
    (void)state;
    sa_acls_t *acls = sa_acls_new(NULL);
    assert_int_equal(sa_acls_configure(acls, STD, "", 0, NULL, 0), SA_OK);
    add(acls, T, LIT, "orders", "User:alice", "*", SA_ACL_READ, A);
    add(acls, T, PRE, "logs-", "User:bob", "*", SA_ACL_WRITE, A);
    add(acls, T, LIT, "*", "User:*", "*", SA_ACL_DESCRIBE, A);
    add(acls, T, LIT, "secret", "User:*", "*", SA_ACL_ALL, A);
    add(acls, T, LIT, "secret", "User:alice", "*", SA_ACL_READ, D);
    add(acls, T, LIT, "pinned", "User:carol", "10.0.0.1", SA_ACL_ALL, A);
    add(acls, T, LIT, "cfg", "User:dave", "*", SA_ACL_ALTER_CONFIGS, A);
    add(acls, T, LIT, "cfg", "User:erin", "*", SA_ACL_ALTER_CONFIGS, D);
    add(acls, T, LIT, "cfg", "User:erin", "*", SA_ACL_DESCRIBE_CONFIGS, A);
    add(acls, G, PRE, "app", "User:alice", "*", SA_ACL_READ, A);
    add(acls, C, LIT, "kafka-cluster", "User:ops", "*", SA_ACL_ALL, A);
    add(acls, C, LIT, "kafka-cluster", "User:ops", "10.9.9.9", SA_ACL_ALTER, D);
    const query_t q[] = {
        /* literal: the operation, and what an ALLOW of it implies */
        {"User:alice", "1.1.1.1", SA_ACL_READ, T, "orders", 1},
        {"User:alice", "1.1.1.1", SA_ACL_DESCRIBE, T, "orders", 1},
        {"User:alice", "1.1.1.1", SA_ACL_WRITE, T, "orders", 0},
        {"User:alice", "1.1.1.1", SA_ACL_READ, T, "orders2", 0}, /* literal is exact */
        {"User:bob", "1.1.1.1", SA_ACL_READ, T, "orders", 0},
        /* prefixed: every name starting with it, not a shorter one */
        {"User:bob", "1.1.1.1", SA_ACL_WRITE, T, "logs-app", 1},
        {"User:bob", "1.1.1.1", SA_ACL_WRITE, T, "logs-", 1},
        {"User:bob", "1.1.1.1", SA_ACL_WRITE, T, "logs", 0},
        {"User:bob", "1.1.1.1", SA_ACL_DELETE, T, "logs-app", 0},
        /* the wildcard resource "*" and principal "User:*" */
        {"User:zed", "1.1.1.1", SA_ACL_DESCRIBE, T, "anything", 1},
        {"User:zed", "1.1.1.1", SA_ACL_READ, T, "anything", 0},
        /* DENY wins over ALLOW; a DENY READ does not deny DESCRIBE (implications are ALLOW's) */
        {"User:alice", "1.1.1.1", SA_ACL_READ, T, "secret", 0},
        {"User:alice", "1.1.1.1", SA_ACL_DESCRIBE, T, "secret", 1},
        {"User:alice", "1.1.1.1", SA_ACL_WRITE, T, "secret", 1},
        {"User:bob", "1.1.1.1", SA_ACL_READ, T, "secret", 1},
        /* hosts: exact or "*" */
        {"User:carol", "10.0.0.1", SA_ACL_WRITE, T, "pinned", 1},
        {"User:carol", "10.0.0.2", SA_ACL_WRITE, T, "pinned", 0},
        /* ALTER_CONFIGS implies DESCRIBE_CONFIGS; a DENY ALTER_CONFIGS leaves DESCRIBE_CONFIGS */
        {"User:dave", "1.1.1.1", SA_ACL_DESCRIBE_CONFIGS, T, "cfg", 1},
        {"User:dave", "1.1.1.1", SA_ACL_DESCRIBE, T, "cfg", 1}, /* from the wildcard DESCRIBE */
        {"User:erin", "1.1.1.1", SA_ACL_DESCRIBE_CONFIGS, T, "cfg", 1},
        {"User:erin", "1.1.1.1", SA_ACL_ALTER_CONFIGS, T, "cfg", 0},
        /* READ on a group implies DESCRIBE; groups and topics are separate resource types */
        {"User:alice", "1.1.1.1", SA_ACL_DESCRIBE, G, "app-1", 1},
        {"User:alice", "1.1.1.1", SA_ACL_DELETE, G, "app-1", 0},
        {"User:alice", "1.1.1.1", SA_ACL_READ, T, "app-1", 0},
        /* the cluster: "" and "kafka-cluster" name it; ALL covers every operation; DENY by host */
        {"User:ops", "1.1.1.1", SA_ACL_CLUSTER_ACTION, C, "", 1},
        {"User:ops", "1.1.1.1", SA_ACL_IDEMPOTENT_WRITE, C, "kafka-cluster", 1},
        {"User:ops", "10.9.9.9", SA_ACL_ALTER, C, "", 0},
        {"User:ops", "10.9.9.9", SA_ACL_DESCRIBE, C, "", 1},
        {"User:alice", "1.1.1.1", SA_ACL_DESCRIBE, C, "", 0},
    };
    check(acls, q, sizeof(q) / sizeof(q[0]));
    assert_int_equal(sa_acls_count(acls), 12);
    sa_acls_free(acls);
}

static void test_by_resource_type(void **state) {
    (void)state;
    sa_acls_t *acls = sa_acls_new(NULL);
    assert_int_equal(sa_acls_configure(acls, STD, "User:admin", 0, NULL, 0), SA_OK);
    assert_false(sa_acls_authorize_any(acls, "User:a", "h", SA_ACL_WRITE, T));
    assert_true(sa_acls_authorize_any(acls, "User:admin", "h", SA_ACL_WRITE, T));
    /* an allowed literal name counts unless the same literal or a prefix of it is denied */
    add(acls, T, LIT, "x", "User:a", "*", SA_ACL_WRITE, A);
    assert_true(sa_acls_authorize_any(acls, "User:a", "h", SA_ACL_WRITE, T));
    assert_false(sa_acls_authorize_any(acls, "User:a", "h", SA_ACL_READ, T)); /* exact operation */
    add(acls, T, PRE, "y", "User:a", "*", SA_ACL_WRITE, D);
    assert_true(sa_acls_authorize_any(acls, "User:a", "h", SA_ACL_WRITE, T));
    add(acls, T, LIT, "x", "User:a", "*", SA_ACL_WRITE, D);
    assert_false(sa_acls_authorize_any(acls, "User:a", "h", SA_ACL_WRITE, T));
    /* an allowed prefix dominated by a denied shorter prefix does not count */
    add(acls, T, PRE, "pre-fix", "User:*", "*", SA_ACL_ALL, A);
    add(acls, T, PRE, "pre", "User:a", "*", SA_ACL_ALL, D);
    assert_false(sa_acls_authorize_any(acls, "User:a", "h", SA_ACL_WRITE, T));
    assert_true(sa_acls_authorize_any(acls, "User:b", "h", SA_ACL_WRITE, T));
    /* a wildcard DENY denies whatever is allowed */
    add(acls, T, LIT, "*", "User:b", "*", SA_ACL_WRITE, D);
    assert_false(sa_acls_authorize_any(acls, "User:b", "h", SA_ACL_WRITE, T));
    sa_acls_free(acls);
}

static void test_checks_and_filters(void **state) {
    (void)state;
    char err[256];
    const sa_acl_binding_t bad[] = {
        {SA_RESOURCE_ANY, LIT, SA_ACL_READ, A, "t", "User:a", "*"},
        {T, SA_PATTERN_MATCH, SA_ACL_READ, A, "t", "User:a", "*"},
        {T, LIT, SA_ACL_ANY, A, "t", "User:a", "*"},
        {T, LIT, SA_ACL_READ, SA_PERM_ANY, "t", "User:a", "*"},
        {T, LIT, SA_ACL_READ, A, "", "User:a", "*"},
        {C, LIT, SA_ACL_ALTER, A, "my-cluster", "User:a", "*"},
        {T, LIT, SA_ACL_READ, A, "t", "alice", "*"},
        {T, LIT, SA_ACL_READ, A, "t", ":alice", "*"},
    };
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
        assert_int_equal(sa_acl_check_binding(&bad[i], err, sizeof(err)), SA_ERR_INVALID_REQUEST);
    sa_acl_binding_t ok = {C, LIT, SA_ACL_ALTER, A, "kafka-cluster", "User:a", "*"};
    assert_int_equal(sa_acl_check_binding(&ok, err, sizeof(err)), SA_OK);
    sa_acl_binding_t unknown = {T, SA_PATTERN_UNKNOWN, SA_ACL_ANY, SA_PERM_ANY, NULL, NULL, NULL};
    assert_int_equal(sa_acl_check_filter(&unknown, err, sizeof(err)), SA_ERR_INVALID_REQUEST);

    const sa_acl_binding_t lit = {T, LIT, SA_ACL_READ, A, "foo", "User:a", "*"};
    const sa_acl_binding_t star = {T, LIT, SA_ACL_READ, A, "*", "User:*", "*"};
    const sa_acl_binding_t pre = {T, PRE, SA_ACL_READ, A, "fo", "User:a", "10.0.0.1"};
    struct {
        sa_acl_binding_t f;
        int lit, star, pre;
    } cases[] = {
        {{SA_RESOURCE_ANY, SA_PATTERN_ANY, SA_ACL_ANY, SA_PERM_ANY, NULL, NULL, NULL}, 1, 1, 1},
        {{T, SA_PATTERN_ANY, SA_ACL_ANY, SA_PERM_ANY, "foo", NULL, NULL}, 1, 0, 0},   /* exact name */
        {{T, SA_PATTERN_MATCH, SA_ACL_ANY, SA_PERM_ANY, "foo", NULL, NULL}, 1, 1, 1}, /* what applies */
        {{T, SA_PATTERN_MATCH, SA_ACL_ANY, SA_PERM_ANY, "fx", NULL, NULL}, 0, 1, 0},
        {{T, LIT, SA_ACL_ANY, SA_PERM_ANY, "foo", NULL, NULL}, 1, 0, 0},
        {{T, PRE, SA_ACL_ANY, SA_PERM_ANY, "foo", NULL, NULL}, 0, 0, 0}, /* exact for PREFIXED */
        {{T, PRE, SA_ACL_ANY, SA_PERM_ANY, "fo", NULL, NULL}, 0, 0, 1},
        {{SA_RESOURCE_ANY, SA_PATTERN_ANY, SA_ACL_ANY, SA_PERM_ANY, NULL, "User:*", NULL},
         0,
         1,
         0}, /* exact */
        {{SA_RESOURCE_ANY, SA_PATTERN_ANY, SA_ACL_ANY, SA_PERM_ANY, NULL, NULL, "10.0.0.1"}, 0, 0, 1},
        {{SA_RESOURCE_ANY, SA_PATTERN_ANY, SA_ACL_WRITE, SA_PERM_ANY, NULL, NULL, NULL}, 0, 0, 0},
        {{SA_RESOURCE_ANY, SA_PATTERN_ANY, SA_ACL_ANY, D, NULL, NULL, NULL}, 0, 0, 0},
        {{G, SA_PATTERN_ANY, SA_ACL_ANY, SA_PERM_ANY, NULL, NULL, NULL}, 0, 0, 0},
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        assert_int_equal(sa_acl_check_filter(&cases[i].f, err, sizeof(err)), SA_OK);
        if (sa_acl_filter_matches(&cases[i].f, &lit) != cases[i].lit ||
            sa_acl_filter_matches(&cases[i].f, &star) != cases[i].star ||
            sa_acl_filter_matches(&cases[i].f, &pre) != cases[i].pre)
            fail_msg("filter case %zu", i);
    }
}

static void count_one(void *arg, const sa_acl_binding_t *b) {
    (void)b;
    (*(int *)arg)++;
}

static void test_set(void **state) {
    (void)state;
    sa_acls_t *acls = sa_acls_new(NULL);
    assert_int_equal(sa_acls_configure(acls, STD, "", 0, NULL, 0), SA_OK);
    add(acls, T, LIT, "a", "User:x", "*", SA_ACL_READ, A);
    add(acls, T, LIT, "a", "User:x", "*", SA_ACL_READ, A); /* a set: the same binding once */
    add(acls, T, PRE, "a", "User:x", "*", SA_ACL_READ, A);
    add(acls, T, PRE, "ab", "User:y", "*", SA_ACL_WRITE, A);
    add(acls, G, LIT, "a", "User:x", "*", SA_ACL_READ, A);
    assert_int_equal(sa_acls_count(acls), 4);
    sa_acl_binding_t all = {SA_RESOURCE_ANY, SA_PATTERN_ANY, SA_ACL_ANY, SA_PERM_ANY, NULL, NULL, NULL};
    int n = 0;
    assert_int_equal(sa_acls_list(acls, &all, count_one, &n), 4);
    assert_int_equal(n, 4);
    /* delete the prefixed topic ones: the prefix lengths they leave must stop matching */
    sa_acl_binding_t f = {T, PRE, SA_ACL_ANY, SA_PERM_ANY, NULL, NULL, NULL};
    uint64_t seq;
    assert_true(sa_acls_authorize(acls, "User:y", "h", SA_ACL_WRITE, T, "abc"));
    assert_int_equal(sa_acls_delete(acls, &f, &seq), SA_OK);
    assert_int_equal(sa_acls_count(acls), 2);
    assert_false(sa_acls_authorize(acls, "User:y", "h", SA_ACL_WRITE, T, "abc"));
    assert_true(sa_acls_authorize(acls, "User:x", "h", SA_ACL_READ, T, "a"));
    assert_false(sa_acls_authorize(acls, "User:x", "h", SA_ACL_READ, T, "ab"));
    /* and again, after all is gone */
    assert_int_equal(sa_acls_delete(acls, &all, &seq), SA_OK);
    assert_int_equal(sa_acls_count(acls), 0);
    add(acls, T, PRE, "q", "User:x", "*", SA_ACL_READ, A);
    assert_true(sa_acls_authorize(acls, "User:x", "h", SA_ACL_READ, T, "qq"));
    sa_acls_free(acls);
}

static void test_records(void **state) {
    (void)state;
    /* the dumper's view and replay of an acl_create payload */
    const uint8_t p[] = {2, 4, 3, 3, 0, 3, 'l', 'o', 'g', 0, 6, 'U', 's', 'e', 'r', ':', '*', 0, 1, '*'};
    sa_buf_t out = SA_BUF_INIT(0);
    assert_int_equal(sa_acls_describe(40, p, sizeof(p), &out), SA_OK);
    assert_string_equal(sa_buf_cstr(&out),
                        "\"resource_type\":\"TOPIC\",\"pattern_type\":\"PREFIXED\",\"name\":\"log\","
                        "\"principal\":\"User:*\",\"host\":\"*\",\"operation\":\"READ\","
                        "\"permission\":\"ALLOW\"");
    sa_buf_free(&out);
    sa_acls_t *acls = sa_acls_new(NULL);
    assert_int_equal(sa_acls_configure(acls, STD, "", 0, NULL, 0), SA_OK);
    assert_int_equal(sa_acls_apply(acls, 40, p, sizeof(p)), SA_OK);
    assert_true(sa_acls_authorize(acls, "User:q", "h", SA_ACL_READ, T, "logs"));
    assert_int_equal(sa_acls_apply(acls, 41, p, sizeof(p)), SA_OK);
    assert_int_equal(sa_acls_count(acls), 0);
    /* torn or invalid payloads are refused */
    assert_int_equal(sa_acls_apply(acls, 40, p, sizeof(p) - 1), SA_ERR_CORRUPT);
    uint8_t q[sizeof(p)];
    memcpy(q, p, sizeof(p));
    q[1] = SA_PATTERN_MATCH;
    assert_int_equal(sa_acls_apply(acls, 40, q, sizeof(q)), SA_ERR_CORRUPT);
    sa_acls_free(acls);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_no_authorizer_and_no_acl),
        cmocka_unit_test(test_super_users),
        cmocka_unit_test(test_matching),
        cmocka_unit_test(test_by_resource_type),
        cmocka_unit_test(test_checks_and_filters),
        cmocka_unit_test(test_set),
        cmocka_unit_test(test_records),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
