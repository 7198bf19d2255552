/* The results log: append + fdatasync, reopen and index, torn-tail cut, re-publish lookups,
 * unreadable lines skipped (never deleted), and two handles sharing one file. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <cmocka.h>

#include "blog/worker/results_log.h"

static char dir[256], path[512];
static int lines_seen;

static void count_line(void *opaque, const char *id, json_t *line) {
    (void)opaque;
    assert_string_equal(json_string_value(json_object_get(line, "id")), id);
    lines_seen++;
}

static int setup(void **state) {
    (void)state;
    snprintf(dir, sizeof(dir), "/tmp/samsa-test-rlog-XXXXXX");
    assert_non_null(mkdtemp(dir));
    snprintf(path, sizeof(path), "%s/sub/results.jsonl", dir); /* the parent is created */
    return 0;
}

static int teardown(void **state) {
    (void)state;
    char cmd[600];
    snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
    return system(cmd);
}

static sa_results_log_t *open_log(void) {
    char errstr[256];
    sa_results_log_t *log = NULL;
    lines_seen = 0;
    assert_int_equal(sa_results_log_open(path, count_line, NULL, &log, errstr, sizeof(errstr)), SA_OK);
    return log;
}

static void append_one(sa_results_log_t *log, const char *id) {
    char line[128], errstr[256];
    snprintf(line, sizeof(line), "{\"id\":\"%s\",\"status\":\"published\",\"title\":\"Привет\"}", id);
    assert_int_equal(sa_results_log_lock(log, errstr, sizeof(errstr)), SA_OK);
    sa_results_log_append(log, id, line, strlen(line));
    assert_int_equal(sa_results_log_commit(log, errstr, sizeof(errstr)), SA_OK);
}

static off_t file_size(void) {
    struct stat st;
    assert_int_equal(stat(path, &st), 0);
    return st.st_size;
}

static void append_reopen_get(void **state) {
    (void)state;
    char errstr[256];
    sa_results_log_t *log = open_log();
    assert_int_equal(sa_results_log_count(log), 0);
    append_one(log, "A");
    /* A batch of two, and the same id twice in a batch is visible at once. */
    assert_int_equal(sa_results_log_lock(log, errstr, sizeof(errstr)), SA_OK);
    sa_results_log_append(log, "B", "{\"id\":\"B\"}", 10);
    assert_true(sa_results_log_has(log, "B"));
    size_t len = 0;
    char *b = sa_results_log_get(log, "B", &len); /* from the batch, before it is written */
    assert_string_equal(b, "{\"id\":\"B\"}");
    free(b);
    sa_results_log_append(log, "C", "{\"id\":\"C\"}", 10);
    assert_int_equal(sa_results_log_commit(log, errstr, sizeof(errstr)), SA_OK);
    assert_int_equal(sa_results_log_count(log), 3);
    sa_results_log_close(log);

    log = open_log();
    assert_int_equal(lines_seen, 3);
    assert_int_equal(sa_results_log_count(log), 3);
    assert_true(sa_results_log_has(log, "A") && sa_results_log_has(log, "C"));
    assert_false(sa_results_log_has(log, "D"));
    char *a = sa_results_log_get(log, "A", &len);
    assert_string_equal(a, "{\"id\":\"A\",\"status\":\"published\",\"title\":\"Привет\"}");
    assert_int_equal(len, strlen(a));
    free(a);
    assert_null(sa_results_log_get(log, "D", NULL));
    sa_results_log_close(log);
}

static void torn_tail_is_cut(void **state) {
    (void)state;
    off_t before = file_size();
    FILE *fp = fopen(path, "a");
    fputs("{\"id\":\"TORN\",\"stat", fp); /* a crash in the middle of a write */
    fclose(fp);
    sa_results_log_t *log = open_log();
    assert_int_equal(file_size(), before);
    assert_false(sa_results_log_has(log, "TORN"));
    assert_int_equal(sa_results_log_count(log), 3);
    append_one(log, "E"); /* appends after the cut, on a line of its own */
    sa_results_log_close(log);
    log = open_log();
    assert_int_equal(lines_seen, 4);
    assert_true(sa_results_log_has(log, "E"));
    sa_results_log_close(log);
}

static void unreadable_lines_are_kept(void **state) {
    (void)state;
    FILE *fp = fopen(path, "a");
    fputs("not json at all\n\n{\"no_id\":1}\n{\"id\":\"F\"}\n", fp);
    fclose(fp);
    off_t size = file_size();
    sa_results_log_t *log = open_log();
    assert_int_equal(file_size(), size); /* nothing deleted */
    assert_true(sa_results_log_has(log, "F"));
    assert_int_equal(sa_results_log_count(log), 5);
    sa_results_log_close(log);
}

static void shared_between_handles(void **state) {
    (void)state;
    char errstr[256];
    sa_results_log_t *one = open_log(), *two = open_log();
    append_one(one, "G");
    assert_false(sa_results_log_has(two, "G")); /* not yet seen */
    lines_seen = 0;
    assert_int_equal(sa_results_log_lock(two, errstr, sizeof(errstr)), SA_OK);
    assert_int_equal(lines_seen, 1); /* lock() read what the other appended */
    assert_true(sa_results_log_has(two, "G"));
    sa_results_log_append(two, "H", "{\"id\":\"H\"}", 10);
    assert_int_equal(sa_results_log_commit(two, errstr, sizeof(errstr)), SA_OK);
    append_one(one, "I");
    assert_true(sa_results_log_has(one, "H"));
    char *h = sa_results_log_get(one, "H", NULL);
    assert_string_equal(h, "{\"id\":\"H\"}");
    free(h);
    sa_results_log_close(one);
    sa_results_log_close(two);
    sa_results_log_t *log = open_log();
    assert_int_equal(sa_results_log_count(log), 8); /* A B C E F G H I */
    sa_results_log_close(log);
}

static void many_posts_grow_the_index(void **state) {
    (void)state;
    char errstr[256], id[32], line[64];
    sa_results_log_t *log = open_log();
    assert_int_equal(sa_results_log_lock(log, errstr, sizeof(errstr)), SA_OK);
    for (int i = 0; i < 5000; i++) {
        snprintf(id, sizeof(id), "P%05d", i);
        snprintf(line, sizeof(line), "{\"id\":\"%s\"}", id);
        sa_results_log_append(log, id, line, strlen(line));
    }
    assert_int_equal(sa_results_log_commit(log, errstr, sizeof(errstr)), SA_OK);
    sa_results_log_close(log);
    log = open_log();
    assert_int_equal(sa_results_log_count(log), 5008);
    char *l = sa_results_log_get(log, "P04321", NULL);
    assert_string_equal(l, "{\"id\":\"P04321\"}");
    free(l);
    sa_results_log_close(log);
}

static void open_fails_cleanly(void **state) {
    (void)state;
    char errstr[256];
    sa_results_log_t *log = (sa_results_log_t *)1;
    assert_int_equal(
        sa_results_log_open("/proc/no/such/dir/results.jsonl", NULL, NULL, &log, errstr, sizeof(errstr)),
        SA_ERR_IO);
    assert_null(log);
    assert_non_null(strstr(errstr, "/proc/no/such/dir/results.jsonl"));
}

/* Someone cuts the file behind the log's back (a hand edit, a restore): the lines that are gone
 * leave the index, so their posts are scored again instead of being "re-published" from bytes
 * that no longer exist (which would fail for ever and stall the partition), and a cut through
 * the middle of a line is cut back to the last whole line. */
static void shrunk_behind_our_back(void **state) {
    (void)state;
    char errstr[256], other[600];
    snprintf(other, sizeof(other), "%s/shrunk.jsonl", dir);
    sa_results_log_t *log = NULL;
    assert_int_equal(sa_results_log_open(other, NULL, NULL, &log, errstr, sizeof(errstr)), SA_OK);
    static const char *const lines[] = {"{\"id\":\"S1\"}", "{\"id\":\"S2\"}", "{\"id\":\"S3\"}"};
    assert_int_equal(sa_results_log_lock(log, errstr, sizeof(errstr)), SA_OK);
    static const char *const ids[] = {"S1", "S2", "S3"};
    for (int i = 0; i < 3; i++) sa_results_log_append(log, ids[i], lines[i], strlen(lines[i]));
    assert_int_equal(sa_results_log_commit(log, errstr, sizeof(errstr)), SA_OK);
    assert_int_equal(sa_results_log_count(log), 3);

    assert_int_equal(truncate(other, (off_t)strlen(lines[0]) + 1 + 5), 0); /* S1 whole, S2 torn */
    assert_int_equal(sa_results_log_lock(log, errstr, sizeof(errstr)), SA_OK);
    assert_true(sa_results_log_has(log, "S1"));
    assert_false(sa_results_log_has(log, "S2"));
    assert_false(sa_results_log_has(log, "S3"));
    assert_null(sa_results_log_get(log, "S3", NULL));
    char *s1 = sa_results_log_get(log, "S1", NULL);
    assert_string_equal(s1, lines[0]);
    free(s1);
    sa_results_log_append(log, "S4", "{\"id\":\"S4\"}", 11);
    assert_int_equal(sa_results_log_commit(log, errstr, sizeof(errstr)), SA_OK);
    sa_results_log_close(log);

    assert_int_equal(sa_results_log_open(other, NULL, NULL, &log, errstr, sizeof(errstr)), SA_OK);
    assert_int_equal(sa_results_log_count(log), 2); /* S1 S4, nothing unreadable */
    char *s4 = sa_results_log_get(log, "S4", NULL);
    assert_string_equal(s4, "{\"id\":\"S4\"}");
    free(s4);
    sa_results_log_close(log);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(append_reopen_get),         cmocka_unit_test(torn_tail_is_cut),
        cmocka_unit_test(unreadable_lines_are_kept), cmocka_unit_test(shared_between_handles),
        cmocka_unit_test(many_posts_grow_the_index), cmocka_unit_test(open_fails_cleanly),
        cmocka_unit_test(shrunk_behind_our_back),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
