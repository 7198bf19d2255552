/* The background group commit (sa_store_sync_start/_finish), which lets the broker's loop keep
 * appending while fdatasync runs on a helper thread: the HWM moves to the end as of the start,
 * never over appends made meanwhile; the eventfd is written; a roll during the sync still makes
 * the old segment durable; a failed sync cuts the later appends too; a topic deleted meanwhile
 * and a close while a sync is in flight are safe. */
#include <errno.h>
#include <poll.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <unistd.h>
#include <cmocka.h>

#include "harness.h"
#include "proto/record_batch.h"
#include "storage/storage.h"
#include "core/sysio.h"

static int fail_next; /* the next fdatasync fails with EIO (set before the helper runs it) */

static int bad_fdatasync(int fd) {
    if (!fail_next) return fdatasync(fd);
    fail_next = 0;
    errno = EIO;
    return -1;
}

typedef struct fixture_s {
    char dir[512];
    sa_store_t *store;
    sa_partition_t *part;
    int efd;
    int failed_cb;
} fixture_t;

static int setup(void **state) {
    sa_sysio_reset();
    fail_next = 0;
    fixture_t *f = calloc(1, sizeof(*f));
    if (!f || th_mkdtemp(f->dir, sizeof(f->dir), "async-sync")) return -1;
    if (sa_store_open(f->dir, NULL, &f->store, NULL, 0)) return -1;
    sa_config_kv_t cfg[] = {{"segment.bytes", "4000"}};
    if (sa_store_topic_create(f->store, "a", 1, cfg, 1, 0, NULL, 0)) return -1;
    f->part = sa_store_partition(f->store, "a", 0);
    f->efd = eventfd(0, EFD_CLOEXEC);
    *state = f;
    return f->part && f->efd >= 0 ? 0 : -1;
}

static int teardown(void **state) {
    fixture_t *f = *state;
    sa_sysio_reset();
    sa_store_close(f->store);
    close(f->efd);
    th_rmtree(f->dir);
    free(f);
    return 0;
}

/* Append @p n records; @returns the last offset. */
static int64_t append(fixture_t *f, int n) {
    sa_buf_t b = SA_BUF_INIT(0);
    sa_rb_rec_in_t recs[16];
    for (int i = 0; i < n; i++)
        recs[i] = (sa_rb_rec_in_t){"key", 3, "some value bytes", 16, NULL, 0, 1000 + i};
    sa_rb_build_opts_t opts = SA_RB_BUILD_OPTS_INIT;
    assert_int_equal(sa_rb_build(&b, &opts, recs, (size_t)n), SA_OK);
    sa_append_result_t res = {0};
    char err[256];
    assert_int_equal(sa_partition_append(f->part, b.data, b.len, 1000, &res, err, sizeof(err)), SA_OK);
    sa_buf_free(&b);
    return res.last_offset;
}

/* Wait (with a deadline) until the helper thread signalled the eventfd. */
static void wait_notified(fixture_t *f) {
    struct pollfd p = {.fd = f->efd, .events = POLLIN};
    assert_int_equal(poll(&p, 1, th_scaled_ms(10000)), 1);
    uint64_t n;
    assert_int_equal(read(f->efd, &n, sizeof(n)), (ssize_t)sizeof(n));
    assert_true(n >= 1);
}

static void on_fail(void *opaque, sa_partition_t *part, sa_err_t err) {
    fixture_t *f = opaque;
    assert_ptr_equal(part, f->part);
    assert_int_equal(err, SA_ERR_KAFKA_STORAGE_ERROR);
    f->failed_cb++;
}

static void hwm_is_end_at_start(void **state) {
    fixture_t *f = *state;
    assert_int_equal(sa_store_sync_start(f->store, f->efd), 0); /* nothing dirty */
    int64_t last = append(f, 5);
    assert_int_equal(sa_partition_hwm(f->part), 0);
    assert_int_equal(sa_store_sync_start(f->store, f->efd), 1);
    assert_true(sa_store_sync_busy(f->store));
    assert_int_equal(sa_store_sync_start(f->store, f->efd), 0); /* one at a time */
    int64_t later = append(f, 3);                               /* while the sync runs */
    wait_notified(f);
    assert_int_equal(sa_store_sync_finish(f->store, on_fail, f), SA_OK);
    assert_false(sa_store_sync_busy(f->store));
    assert_int_equal(sa_partition_hwm(f->part), last + 1); /* not over the later append */
    assert_true(sa_store_dirty(f->store));
    assert_int_equal(sa_store_sync_start(f->store, f->efd), 1);
    wait_notified(f);
    assert_int_equal(sa_store_sync_finish(f->store, on_fail, f), SA_OK);
    assert_int_equal(sa_partition_hwm(f->part), later + 1);
    assert_int_equal(sa_partition_leo(f->part), later + 1);
    assert_int_equal(f->failed_cb, 0);
    assert_int_equal(sa_store_sync_finish(f->store, on_fail, f), SA_OK); /* none in flight */
}

static void roll_while_syncing(void **state) {
    fixture_t *f = *state;
    int64_t last = append(f, 10);
    assert_int_equal(sa_store_sync_start(f->store, f->efd), 1);
    int64_t later = last;
    while (sa_partition_segment_count(f->part) < 3) later = append(f, 10); /* segment.bytes 4000 */
    wait_notified(f);
    assert_int_equal(sa_store_sync_finish(f->store, on_fail, f), SA_OK);
    assert_int_equal(sa_partition_hwm(f->part), last + 1);
    assert_int_equal(sa_store_sync(f->store, on_fail, f), SA_OK);
    assert_int_equal(sa_partition_hwm(f->part), later + 1);
    sa_buf_t out = SA_BUF_INIT(0);
    assert_int_equal(sa_partition_read(f->part, 0, 1 << 20, &out), SA_OK);
    assert_true(out.len > 0);
    sa_buf_free(&out);
}

static void failed_sync_cuts_later_appends(void **state) {
    fixture_t *f = *state;
    int64_t durable = append(f, 4);
    assert_int_equal(sa_store_sync(f->store, on_fail, f), SA_OK);
    int64_t size = sa_partition_size(f->part);
    append(f, 4);
    sa_sysio.fdatasync = bad_fdatasync;
    fail_next = 1;
    assert_int_equal(sa_store_sync_start(f->store, f->efd), 1);
    append(f, 4); /* after the start: cut as well, its producer must get an error */
    wait_notified(f);
    assert_int_equal(sa_store_sync_finish(f->store, on_fail, f), SA_ERR_KAFKA_STORAGE_ERROR);
    assert_int_equal(f->failed_cb, 1);
    assert_int_equal(sa_partition_hwm(f->part), durable + 1);
    assert_int_equal(sa_partition_leo(f->part), durable + 1);
    assert_int_equal(sa_partition_size(f->part), size);
    /* The disk works again: appends and commits resume at the same offsets. */
    int64_t again = append(f, 2);
    assert_int_equal(again, durable + 2);
    assert_int_equal(sa_store_sync(f->store, on_fail, f), SA_OK);
    assert_int_equal(sa_partition_hwm(f->part), again + 1);
}

static void topic_deleted_while_syncing(void **state) {
    fixture_t *f = *state;
    append(f, 4);
    assert_int_equal(sa_store_sync_start(f->store, f->efd), 1);
    assert_int_equal(sa_store_topic_delete(f->store, "a", NULL, 0), SA_OK);
    f->part = NULL;
    wait_notified(f);
    assert_int_equal(sa_store_sync_finish(f->store, on_fail, f), SA_OK);
    assert_int_equal(f->failed_cb, 0);
}

static void close_while_syncing(void **state) {
    fixture_t *f = *state;
    int64_t last = append(f, 4);
    assert_int_equal(sa_store_sync_start(f->store, f->efd), 1);
    assert_int_equal(sa_store_close(f->store), SA_OK); /* finishes the commit first */
    assert_int_equal(sa_store_open(f->dir, NULL, &f->store, NULL, 0), SA_OK);
    f->part = sa_store_partition(f->store, "a", 0);
    assert_non_null(f->part);
    assert_int_equal(sa_partition_hwm(f->part), last + 1);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(hwm_is_end_at_start, setup, teardown),
        cmocka_unit_test_setup_teardown(roll_while_syncing, setup, teardown),
        cmocka_unit_test_setup_teardown(failed_sync_cuts_later_appends, setup, teardown),
        cmocka_unit_test_setup_teardown(topic_deleted_while_syncing, setup, teardown),
        cmocka_unit_test_setup_teardown(close_while_syncing, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
