/* The worker's txn mode helpers (src/blog/worker/worker_txn.c): which transactional.id a worker
 * takes (-X, --worker-id, or a flock'd slot beside the results log that a restart takes back and
 * a second worker on the same log does not share), and which replay is the record's own. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <cmocka.h>

#include "blog/worker/worker_txn.h"
#include "harness.h"

static sa_worker_conf_t conf_for(const char *dir, char *log, size_t size) {
    snprintf(log, size, "%s/results.jsonl", dir);
    sa_worker_conf_t c;
    memset(&c, 0, sizeof(c));
    c.group = (char *)"blog_group";
    c.results_log = log;
    c.worker_id = (char *)"";
    return c;
}

static void test_id_rules(void **state) {
    (void)state;
    char dir[512], log[600], id[512], errstr[256];
    assert_int_equal(th_mkdtemp(dir, sizeof(dir), "worker-txn"), 0);
    sa_worker_conf_t c = conf_for(dir, log, sizeof(log));
    int fd = -2;

    c.worker_id = (char *)"w1"; /* --worker-id names it, no slot */
    assert_int_equal(sa_worker_txn_id(&c, id, sizeof(id), &fd, errstr, sizeof(errstr)), 0);
    assert_string_equal(id, "samsa-worker.blog_group.w1");
    assert_int_equal(fd, -1);
    assert_false(sa_worker_txn_user_id(&c));

    sa_strlist_add(&c.kafka.props, "transactional.id=first");
    sa_strlist_add(&c.kafka.props, "linger.ms=5");
    sa_strlist_add(&c.kafka.props, "transactional.id=mine"); /* the last one wins, as in librdkafka */
    assert_true(sa_worker_txn_user_id(&c));
    assert_int_equal(sa_worker_txn_id(&c, id, sizeof(id), &fd, errstr, sizeof(errstr)), 0);
    assert_string_equal(id, "mine");
    assert_int_equal(fd, -1);
    sa_strlist_free(&c.kafka.props);
    th_rmtree(dir);
}

static void test_slots(void **state) {
    (void)state;
    char dir[512], log[600], a[512], b[512], again[512], errstr[256];
    assert_int_equal(th_mkdtemp(dir, sizeof(dir), "worker-txn"), 0);
    sa_worker_conf_t c = conf_for(dir, log, sizeof(log));
    int fa, fb, fc;
    /* flock() locks belong to the open file, so one process stands in for two workers */
    assert_int_equal(sa_worker_txn_id(&c, a, sizeof(a), &fa, errstr, sizeof(errstr)), 0);
    assert_int_equal(sa_worker_txn_id(&c, b, sizeof(b), &fb, errstr, sizeof(errstr)), 0);
    assert_true(fa >= 0 && fb >= 0);
    assert_string_not_equal(a, b);
    assert_non_null(strstr(a, "samsa-worker.blog_group."));
    assert_int_equal(a[strlen(a) - 2], '.');
    assert_int_equal(a[strlen(a) - 1], '0');
    assert_int_equal(b[strlen(b) - 1], '1');
    assert_int_equal(strncmp(a, b, strlen(a) - 1), 0); /* same host, same log directory */
    close(fa);                                         /* the first worker dies: its slot is free */
    assert_int_equal(sa_worker_txn_id(&c, again, sizeof(again), &fc, errstr, sizeof(errstr)), 0);
    assert_string_equal(again, a); /* the restart takes the dead one's id back */
    close(fb);
    close(fc);

    char other_dir[600], other_log[700], o[512];
    assert_int_equal(th_mkdtemp(other_dir, sizeof(other_dir), "worker-txn-other"), 0);
    sa_worker_conf_t c2 = conf_for(other_dir, other_log, sizeof(other_log));
    int fo;
    assert_int_equal(sa_worker_txn_id(&c2, o, sizeof(o), &fo, errstr, sizeof(errstr)), 0);
    assert_string_not_equal(o, a); /* another data dir on the host: another id */
    close(fo);
    th_rmtree(other_dir);

    c.results_log = (char *)"/nonexistent-dir/results.jsonl"; /* a lock file that cannot be made */
    assert_int_equal(sa_worker_txn_id(&c, a, sizeof(a), &fa, errstr, sizeof(errstr)), -1);
    assert_non_null(strstr(errstr, "cannot create"));
    th_rmtree(dir);
}

static void test_own_line(void **state) {
    (void)state;
    rd_kafka_conf_t *conf = rd_kafka_conf_new();
    rd_kafka_conf_set(conf, "log_level", "0", NULL, 0);
    rd_kafka_t *rk = rd_kafka_new(RD_KAFKA_PRODUCER, conf, NULL, 0);
    assert_non_null(rk);
    rd_kafka_topic_t *rkt = rd_kafka_topic_new(rk, "blog_operations", NULL);
    rd_kafka_message_t m = {.rkt = rkt, .partition = 2, .offset = 41};
    const char *own =
        "{\"id\":\"a\",\"source\":{\"topic\":\"blog_operations\",\"partition\":2,\"offset\":41}}";
    assert_true(sa_worker_txn_own_line(own, &m));
    m.offset = 42; /* a second operation record of the same post */
    assert_false(sa_worker_txn_own_line(own, &m));
    m.offset = 41;
    m.partition = 1;
    assert_false(sa_worker_txn_own_line(own, &m));
    m.partition = 2;
    assert_false(
        sa_worker_txn_own_line("{\"source\":{\"topic\":\"other\",\"partition\":2,\"offset\":41}}", &m));
    assert_false(sa_worker_txn_own_line("{\"id\":\"a\"}", &m)); /* no source */
    assert_false(sa_worker_txn_own_line("{\"source\":{\"topic\":\"blog_operations\",\"partition\":\"2\","
                                        "\"offset\":41}}",
                                        &m)); /* wrong types */
    assert_false(sa_worker_txn_own_line("not json", &m));
    rd_kafka_topic_destroy(rkt);
    rd_kafka_destroy(rk);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_id_rules),
        cmocka_unit_test(test_slots),
        cmocka_unit_test(test_own_line),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
