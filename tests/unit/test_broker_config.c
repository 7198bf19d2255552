/* Dynamic broker configs in storage (src/storage/broker_config.c, topic_config.c): which keys can
 * change, the order of sources a topic's value comes from (topic > this broker > cluster default
 * > server.properties > Kafka's default), validate_only, replace_all, APPEND/SUBTRACT on a list,
 * refusals with Kafka's codes, durability across close/open, a failed write that changes
 * nothing, and a damaged file that stops the open. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>
#include <errno.h>

#include "harness.h"
#include "storage/storage.h"
#include "core/sysio.h"

typedef struct fixture_s {
    char dir[512];
    sa_store_t *store;
    sa_store_conf_t conf;
} fixture_t;

static int setup(void **state) {
    fixture_t *f = calloc(1, sizeof(*f));
    sa_store_conf_defaults(&f->conf);
    f->conf.segment_bytes = 5000000; /* a server.properties value: STATIC_BROKER */
    if (th_mkdtemp(f->dir, sizeof(f->dir), "bcfg") || sa_store_open(f->dir, &f->conf, &f->store, NULL, 0)) {
        free(f);
        return -1;
    }
    sa_config_kv_t own[] = {{"retention.ms", "3600000"}};
    if (sa_store_topic_create(f->store, "plain", 1, NULL, 0, 0, NULL, 0) ||
        sa_store_topic_create(f->store, "own", 1, own, 1, 0, NULL, 0))
        return -1;
    *state = f;
    return 0;
}

static int teardown(void **state) {
    fixture_t *f = *state;
    sa_sysio_reset();
    sa_store_close(f->store);
    th_rmtree(f->dir);
    free(f);
    return 0;
}

static void expect(fixture_t *f, const char *topic, const char *name, const char *value, int source) {
    sa_config_entry_t e;
    assert_int_equal(sa_topic_config_find(sa_store_topic_find(f->store, topic), name, &e), SA_OK);
    assert_string_equal(e.value, value);
    assert_int_equal(e.origin, source);
}

static sa_err_t set(fixture_t *f, sa_broker_scope_t scope, const char *key, const char *value,
                    int validate_only) {
    sa_config_kv_t kv = {key, value};
    char errstr[256];
    return sa_store_broker_alter_configs(f->store, scope, &kv, NULL, 1, 0, validate_only, errstr,
                                         sizeof(errstr));
}

static void test_keys(void **state) {
    (void)state;
    assert_true(sa_broker_config_row("log.retention.ms") >= 0);
    assert_true(sa_broker_config_row("message.max.bytes") >= 0);
    assert_true(sa_broker_config_row("log.cleanup.policy") >= 0);
    assert_int_equal(sa_broker_config_row("retention.ms"), -1); /* the topic name is not a broker key */
    assert_int_equal(sa_broker_config_row("log.dirs"), -1);
    assert_int_equal(sa_broker_config_row("log.message.format.version"), -1);
    assert_int_equal(sa_broker_config_row(NULL), -1);
}

static void test_precedence(void **state) {
    fixture_t *f = *state;
    expect(f, "plain", "retention.ms", "604800000", SA_CONFIG_ORIGIN_DEFAULT);
    expect(f, "plain", "segment.bytes", "5000000", SA_CONFIG_ORIGIN_STATIC_BROKER);
    assert_int_equal(set(f, SA_BROKER_SCOPE_DEFAULT, "log.retention.ms", "1000", 1),
                     SA_OK); /* validate only */
    expect(f, "plain", "retention.ms", "604800000", SA_CONFIG_ORIGIN_DEFAULT);
    assert_int_equal(set(f, SA_BROKER_SCOPE_DEFAULT, "log.retention.ms", "1000", 0), SA_OK);
    assert_int_equal(set(f, SA_BROKER_SCOPE_DEFAULT, "log.segment.bytes", "2000000", 0), SA_OK);
    expect(f, "plain", "retention.ms", "1000", SA_CONFIG_ORIGIN_DYNAMIC_DEFAULT);
    expect(f, "plain", "segment.bytes", "2000000", SA_CONFIG_ORIGIN_DYNAMIC_DEFAULT);
    expect(f, "own", "retention.ms", "3600000", SA_CONFIG_ORIGIN_TOPIC);
    assert_int_equal(set(f, SA_BROKER_SCOPE_NODE, "log.retention.ms", "7200000", 0), SA_OK);
    expect(f, "plain", "retention.ms", "7200000", SA_CONFIG_ORIGIN_DYNAMIC_BROKER);
    sa_config_entry_t e;
    sa_topic_config_find(sa_store_topic_find(f->store, "plain"), "segment.bytes", &e);
    assert_string_equal(e.base_value, "5000000"); /* what is below the dynamic values */
    assert_int_equal(e.base_origin, SA_CONFIG_ORIGIN_STATIC_BROKER);
    /* DELETE falls back a level */
    sa_config_kv_t kv = {"log.retention.ms", NULL};
    sa_config_op_t del = SA_CONFIG_OP_DELETE;
    assert_int_equal(
        sa_store_broker_alter_configs(f->store, SA_BROKER_SCOPE_NODE, &kv, &del, 1, 0, 0, NULL, 0), SA_OK);
    expect(f, "plain", "retention.ms", "1000", SA_CONFIG_ORIGIN_DYNAMIC_DEFAULT);
    /* replace_all (legacy AlterConfigs) clears what it does not list, in its scope only */
    assert_int_equal(set(f, SA_BROKER_SCOPE_NODE, "log.roll.ms", "60000", 0), SA_OK);
    sa_config_kv_t only = {"log.retention.bytes", "100000"};
    assert_int_equal(
        sa_store_broker_alter_configs(f->store, SA_BROKER_SCOPE_DEFAULT, &only, NULL, 1, 1, 0, NULL, 0),
        SA_OK);
    expect(f, "plain", "retention.ms", "604800000", SA_CONFIG_ORIGIN_DEFAULT);
    expect(f, "plain", "segment.bytes", "5000000", SA_CONFIG_ORIGIN_STATIC_BROKER);
    expect(f, "plain", "retention.bytes", "100000", SA_CONFIG_ORIGIN_DYNAMIC_DEFAULT);
    expect(f, "plain", "segment.ms", "60000", SA_CONFIG_ORIGIN_DYNAMIC_BROKER);
}

static void test_refusals(void **state) {
    fixture_t *f = *state;
    char errstr[256] = "";
    sa_config_kv_t kv = {"log.retention.ms", "abc"};
    assert_int_equal(sa_store_broker_alter_configs(f->store, SA_BROKER_SCOPE_DEFAULT, &kv, NULL, 1, 0, 0,
                                                   errstr, sizeof(errstr)),
                     SA_ERR_INVALID_REQUEST);
    assert_non_null(strstr(errstr, "log.retention.ms"));
    assert_int_equal(set(f, SA_BROKER_SCOPE_DEFAULT, "log.dirs", "/x", 0), SA_ERR_INVALID_REQUEST);
    assert_int_equal(set(f, SA_BROKER_SCOPE_DEFAULT, "no.such", "1", 0), SA_ERR_INVALID_REQUEST);
    assert_int_equal(set(f, SA_BROKER_SCOPE_DEFAULT, "log.retention.ms", NULL, 0), SA_ERR_INVALID_CONFIG);
    sa_config_op_t app = SA_CONFIG_OP_APPEND;
    kv = (sa_config_kv_t){"log.retention.ms", "1"};
    assert_int_equal(
        sa_store_broker_alter_configs(f->store, SA_BROKER_SCOPE_DEFAULT, &kv, &app, 1, 0, 0, NULL, 0),
        SA_ERR_INVALID_CONFIG);
    /* one bad entry fails the whole call: the good one before it is not applied */
    sa_config_kv_t two[] = {{"log.retention.ms", "1000"}, {"log.segment.bytes", "-1"}};
    assert_int_equal(
        sa_store_broker_alter_configs(f->store, SA_BROKER_SCOPE_DEFAULT, two, NULL, 2, 0, 0, NULL, 0),
        SA_ERR_INVALID_REQUEST);
    expect(f, "plain", "retention.ms", "604800000", SA_CONFIG_ORIGIN_DEFAULT);
    /* APPEND / SUBTRACT on a list config */
    kv = (sa_config_kv_t){"log.cleanup.policy", "delete"};
    assert_int_equal(
        sa_store_broker_alter_configs(f->store, SA_BROKER_SCOPE_DEFAULT, &kv, &app, 1, 0, 0, NULL, 0), SA_OK);
    expect(f, "plain", "cleanup.policy", "delete", SA_CONFIG_ORIGIN_DYNAMIC_DEFAULT);
    sa_config_op_t sub = SA_CONFIG_OP_SUBTRACT;
    assert_int_equal(
        sa_store_broker_alter_configs(f->store, SA_BROKER_SCOPE_DEFAULT, &kv, &sub, 1, 0, 0, NULL, 0), SA_OK);
    expect(f, "plain", "cleanup.policy", "delete", SA_CONFIG_ORIGIN_DEFAULT);
}

static int failing_fsync(int fd) {
    (void)fd;
    errno = EIO;
    return -1;
}

static void test_durable(void **state) {
    fixture_t *f = *state;
    assert_int_equal(set(f, SA_BROKER_SCOPE_DEFAULT, "log.retention.ms", "1000", 0), SA_OK);
    assert_int_equal(set(f, SA_BROKER_SCOPE_NODE, "message.max.bytes", "2000000", 0), SA_OK);
    /* a write that cannot be made durable changes nothing */
    sa_sysio.fsync = failing_fsync;
    assert_int_equal(set(f, SA_BROKER_SCOPE_DEFAULT, "log.retention.ms", "5", 0), SA_ERR_KAFKA_STORAGE_ERROR);
    sa_sysio_reset();
    expect(f, "plain", "retention.ms", "1000", SA_CONFIG_ORIGIN_DYNAMIC_DEFAULT);
    assert_int_equal(sa_store_close(f->store), SA_OK);
    f->store = NULL;
    assert_int_equal(sa_store_open(f->dir, &f->conf, &f->store, NULL, 0), SA_OK);
    expect(f, "plain", "retention.ms", "1000", SA_CONFIG_ORIGIN_DYNAMIC_DEFAULT);
    expect(f, "plain", "max.message.bytes", "2000000", SA_CONFIG_ORIGIN_DYNAMIC_BROKER);
    expect(f, "own", "retention.ms", "3600000", SA_CONFIG_ORIGIN_TOPIC);
    /* a damaged file stops the open, naming the file and line */
    sa_store_close(f->store);
    f->store = NULL;
    char path[600];
    snprintf(path, sizeof(path), "%s/broker-configs.properties", f->dir);
    FILE *fp = fopen(path, "a");
    fputs("default.log.retention.ms=-9\n", fp);
    fclose(fp);
    char errstr[512] = "";
    assert_int_equal(sa_store_open(f->dir, &f->conf, &f->store, errstr, sizeof(errstr)), SA_ERR_CORRUPT);
    assert_non_null(strstr(errstr, "broker-configs.properties line 4"));
    assert_null(f->store);
    remove(path); /* no file: nothing set */
    assert_int_equal(sa_store_open(f->dir, &f->conf, &f->store, NULL, 0), SA_OK);
    expect(f, "plain", "retention.ms", "604800000", SA_CONFIG_ORIGIN_DEFAULT);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_keys),
        cmocka_unit_test_setup_teardown(test_precedence, setup, teardown),
        cmocka_unit_test_setup_teardown(test_refusals, setup, teardown),
        cmocka_unit_test_setup_teardown(test_durable, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
