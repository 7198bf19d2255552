/* The committed-offsets store: commit/get, replay after reopen, torn and corrupt tails cut at
 * open, deletes, compaction keeping the log bounded, and retention through the coordinator. */
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

#include "broker/group/coordinator.h"
#include "broker/group/offsets.h"
#include "core/log.h"
#include "harness.h"

static char dir[512], path[600];

static int setup(void **state) {
    (void)state;
    if (th_mkdtemp(dir, sizeof(dir), "offsets") < 0) return -1;
    snprintf(path, sizeof(path), "%s/offsets.log", dir);
    return 0;
}

static int teardown(void **state) {
    (void)state;
    th_rmtree(dir);
    return 0;
}

static sa_offsets_t *open_ok(void) {
    sa_offsets_t *offs = NULL;
    char errstr[256] = "";
    assert_int_equal(sa_offsets_open(dir, &offs, errstr, sizeof(errstr)), SA_OK);
    assert_non_null(offs);
    return offs;
}

static off_t file_size(void) {
    struct stat st;
    assert_int_equal(stat(path, &st), 0);
    return st.st_size;
}

static void commit_get_reopen(void **state) {
    (void)state;
    sa_offsets_t *offs = open_ok();
    sa_offset_entry_t ent;
    assert_false(sa_offsets_get(offs, "g", "t", 0, &ent));
    assert_int_equal(sa_offsets_commit(offs, "g", "t", 0, 42, 3, "meta", 1000), SA_OK);
    assert_int_equal(sa_offsets_commit(offs, "g", "t", 1, 7, -1, NULL, 1000), SA_OK);
    assert_int_equal(sa_offsets_commit(offs, "g", "t", 0, 43, 3, "meta2", 1001), SA_OK);
    assert_int_equal(sa_offsets_commit(offs, "h", "u", 5, 1, -1, "", 1002), SA_OK);
    assert_true(sa_offsets_dirty(offs));
    assert_int_equal(sa_offsets_sync(offs), SA_OK);
    assert_false(sa_offsets_dirty(offs));
    assert_true(sa_offsets_get(offs, "g", "t", 0, &ent));
    assert_int_equal(ent.offset, 43);
    assert_string_equal(ent.metadata, "meta2");
    char big[SA_OFFSETS_METADATA_MAX + 2];
    memset(big, 'x', sizeof(big) - 1);
    big[sizeof(big) - 1] = '\0';
    assert_int_equal(sa_offsets_commit(offs, "g", "t", 0, 99, -1, big, 1003), SA_ERR_OFFSET_METADATA_TOO_LARGE);
    sa_offsets_close(offs);

    offs = open_ok();
    assert_true(sa_offsets_get(offs, "g", "t", 0, &ent));
    assert_int_equal(ent.offset, 43);
    assert_int_equal(ent.leader_epoch, 3);
    assert_int_equal(ent.commit_ts_ms, 1001);
    assert_string_equal(ent.metadata, "meta2");
    assert_true(sa_offsets_get(offs, "g", "t", 1, &ent));
    assert_int_equal(ent.offset, 7);
    assert_string_equal(ent.metadata, "");
    assert_int_equal(sa_offsets_count(offs, "g"), 2);
    assert_int_equal(sa_offsets_count(offs, "h"), 1);
    assert_int_equal(sa_offsets_delete(offs, "g", "t", 1), SA_OK);
    assert_int_equal(sa_offsets_delete_group(offs, "h"), SA_OK);
    sa_offsets_close(offs);

    offs = open_ok();
    assert_int_equal(sa_offsets_count(offs, "g"), 1);
    assert_int_equal(sa_offsets_count(offs, "h"), 0);
    sa_offsets_close(offs);
}

static void torn_and_corrupt_tails(void **state) {
    (void)state;
    sa_offsets_t *offs = open_ok();
    for (int i = 0; i < 10; i++) assert_int_equal(sa_offsets_commit(offs, "g", "t", i, 100 + i, -1, "", 1), SA_OK);
    sa_offsets_close(offs);
    off_t good = file_size();
    /* a torn append: half a record at the end */
    assert_int_equal(truncate(path, good - 5), 0);
    offs = open_ok();
    sa_offsets_stats_t st;
    sa_offsets_stats(offs, &st);
    assert_int_equal(st.live, 9);
    assert_true(st.truncated > 0);
    sa_offset_entry_t ent;
    assert_false(sa_offsets_get(offs, "g", "t", 9, &ent));
    assert_true(sa_offsets_get(offs, "g", "t", 8, &ent));
    /* the log keeps working after the cut */
    assert_int_equal(sa_offsets_commit(offs, "g", "t", 9, 555, -1, "", 2), SA_OK);
    sa_offsets_close(offs);
    offs = open_ok();
    assert_true(sa_offsets_get(offs, "g", "t", 9, &ent));
    assert_int_equal(ent.offset, 555);
    sa_offsets_close(offs);
    /* a flipped bit in the middle: everything from that record on is cut */
    off_t size = file_size();
    FILE *fp = fopen(path, "r+b");
    assert_non_null(fp);
    fseek(fp, size / 2, SEEK_SET);
    int c = fgetc(fp);
    fseek(fp, size / 2, SEEK_SET);
    fputc(c ^ 0x40, fp);
    fclose(fp);
    offs = open_ok();
    sa_offsets_stats(offs, &st);
    assert_true(st.live < 10 && st.live > 0);
    assert_true(st.truncated > 0);
    sa_offsets_close(offs);
    /* not an offsets log at all: refused, not overwritten */
    fp = fopen(path, "wb");
    fputs("this is not an offsets log", fp);
    fclose(fp);
    sa_offsets_t *bad = NULL;
    char errstr[256] = "";
    assert_int_equal(sa_offsets_open(dir, &bad, errstr, sizeof(errstr)), SA_ERR_IO);
    assert_null(bad);
    assert_non_null(strstr(errstr, "magic"));
    unlink(path);
}

static void compaction_bounds_the_log(void **state) {
    (void)state;
    sa_offsets_t *offs = open_ok();
    /* 100k commits to the same 10 partitions: far past the 1 MiB compaction threshold */
    for (int i = 0; i < 100000; i++) {
        assert_int_equal(sa_offsets_commit(offs, "group", "topic", i % 10, i, -1, "", i), SA_OK);
        if (i % 100 == 99) assert_int_equal(sa_offsets_sync(offs), SA_OK);
    }
    sa_offsets_stats_t st;
    sa_offsets_stats(offs, &st);
    assert_true(st.compactions >= 1);
    assert_int_equal(st.live, 10);
    assert_true(st.bytes < 2 * 1024 * 1024);
    sa_offsets_close(offs);
    assert_true(file_size() < 2 * 1024 * 1024);
    offs = open_ok();
    sa_offset_entry_t ent;
    for (int p = 0; p < 10; p++) {
        assert_true(sa_offsets_get(offs, "group", "topic", p, &ent));
        assert_int_equal(ent.offset, 99990 + p);
    }
    sa_offsets_close(offs);
    unlink(path);
}

static void retention_expires_empty_groups_only(void **state) {
    (void)state;
    sa_offsets_t *offs = open_ok();
    int64_t old = 1000; /* wall ms: long ago */
    assert_int_equal(sa_offsets_commit(offs, "idle", "t", 0, 5, -1, "", old), SA_OK);
    assert_int_equal(sa_offsets_sync(offs), SA_OK);
    sa_gcoord_conf_t conf;
    sa_gcoord_conf_defaults(&conf);
    conf.offsets_retention_ms = 60000;
    conf.retention_check_ms = 1000;
    conf.initial_rebalance_delay_ms = 0;
    /* the coordinator knows the group from its offsets, as Empty; it became Empty "now", so
     * retention counts from now: nothing expires at the first pass */
    sa_gcoord_t *gc = sa_gcoord_new(&conf, offs, 0);
    assert_true(sa_gcoord_group_exists(gc, "idle"));
    sa_gcoord_tick(gc, 1000);
    assert_int_equal(sa_offsets_count(offs, "idle"), 1);
    sa_gcoord_free(gc);
    /* with a retention shorter than the time since the group became Empty, it expires */
    conf.offsets_retention_ms = -1000000; /* "the group became empty long enough ago" */
    gc = sa_gcoord_new(&conf, offs, 0);
    sa_gcoord_tick(gc, 1000);
    assert_int_equal(sa_offsets_count(offs, "idle"), 0);
    assert_false(sa_gcoord_group_exists(gc, "idle"));
    sa_gcoord_free(gc);
    sa_offsets_close(offs);
    offs = open_ok(); /* the expiry is durable */
    assert_int_equal(sa_offsets_count(offs, "idle"), 0);
    sa_offsets_close(offs);
    unlink(path);
}

int main(void) {
    sa_log_set_level(getenv("SA_TEST_LOG") ? getenv("SA_TEST_LOG") : "error");
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(commit_get_reopen),
        cmocka_unit_test(torn_and_corrupt_tails),
        cmocka_unit_test(compaction_bounds_the_log),
        cmocka_unit_test(retention_expires_empty_groups_only),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
