/* Storage under injected faults (through the sa_sysio table): ENOSPC/EIO and short writes on
 * append, EIO on fdatasync, failures while rolling and while writing metadata. Every failure
 * must answer KAFKA_STORAGE_ERROR, lose nothing that was acknowledged (synced), leave the
 * partition exactly as before, and later operations must work once the disk does. */
#include <errno.h>
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

#include "core/log.h"
#include "harness.h"
#include "proto/record_batch.h"
#include "storage/storage.h"
#include "core/sysio.h"

/* ---- fault injection ---- */

static int fail_errno;     /* errno to fail with */
static int fail_countdown; /* calls to let through before failing (-1: never fail) */
static int fail_short;     /* pwrite: write half, then fail the next call */
static int fail_sticky;    /* keep failing after the first failure */

static int should_fail(void) {
    if (fail_countdown < 0) return 0;
    if (fail_countdown > 0) {
        fail_countdown--;
        return 0;
    }
    if (!fail_sticky) fail_countdown = -1;
    return 1;
}

static ssize_t bad_pwrite(int fd, const void *buf, size_t len, off_t off) {
    if (!should_fail()) return pwrite(fd, buf, len, off);
    if (fail_short && len > 1) {
        fail_short = 0;
        fail_countdown = 0; /* the retry of the rest fails */
        return pwrite(fd, buf, len / 2, off);
    }
    errno = fail_errno;
    return -1;
}

static int bad_fdatasync(int fd) {
    if (!should_fail()) return fdatasync(fd);
    errno = fail_errno;
    return -1;
}

static int bad_fsync(int fd) {
    if (!should_fail()) return fsync(fd);
    errno = fail_errno;
    return -1;
}

static int bad_ftruncate(int fd, off_t len) {
    (void)fd;
    (void)len;
    errno = EIO;
    return -1;
}

static void inject(int err, int countdown) {
    fail_errno = err;
    fail_countdown = countdown;
    fail_short = 0;
    fail_sticky = 0;
}

static void heal(void) {
    sa_sysio_reset();
    fail_countdown = -1;
}

/* ---- fixture ---- */

typedef struct fixture_s {
    char dir[512];
    sa_store_t *store;
    sa_partition_t *part;
    int failed_cb; /* sync failure callbacks seen */
} fixture_t;

static int setup(void **state) {
    heal();
    fixture_t *f = calloc(1, sizeof(*f));
    if (th_mkdtemp(f->dir, sizeof(f->dir), "faults") || sa_store_open(f->dir, NULL, &f->store, NULL, 0)) {
        free(f); /* cmocka runs no teardown after a failed setup */
        return -1;
    }
    sa_config_kv_t cfg[] = {{"segment.bytes", "4000"}};
    if (sa_store_topic_create(f->store, "f", 1, cfg, 1, 0, NULL, 0)) return -1;
    f->part = sa_store_partition(f->store, "f", 0);
    *state = f;
    return 0;
}

static int teardown(void **state) {
    heal();
    fixture_t *f = *state;
    sa_store_close(f->store);
    th_rmtree(f->dir);
    free(f);
    return 0;
}

static sa_err_t append(fixture_t *f, int n, int64_t *base) {
    sa_buf_t b = SA_BUF_INIT(0);
    sa_rb_rec_in_t recs[8];
    for (int i = 0; i < n; i++)
        recs[i] = (sa_rb_rec_in_t){"key", 3, "some value bytes", 16, NULL, 0, 1000 + i};
    sa_rb_build_opts_t opts = SA_RB_BUILD_OPTS_INIT;
    assert_int_equal(sa_rb_build(&b, &opts, recs, (size_t)n), SA_OK);
    sa_append_result_t res = {0};
    char err[256];
    sa_err_t e = sa_partition_append(f->part, b.data, b.len, 1000, &res, err, sizeof(err));
    if (base) *base = e ? -1 : res.base_offset;
    sa_buf_free(&b);
    return e;
}

static void on_fail(void *opaque, sa_partition_t *part, sa_err_t err) {
    fixture_t *f = opaque;
    assert_ptr_equal(part, f->part);
    assert_int_equal(err, SA_ERR_KAFKA_STORAGE_ERROR);
    f->failed_cb++;
}

static int64_t file_size(fixture_t *f) {
    char path[1024];
    snprintf(path, sizeof(path), "%s/f-0/%020lld.log", f->dir, 0LL);
    struct stat st;
    assert_int_equal(stat(path, &st), 0);
    return st.st_size;
}

/* Every offset below the HWM reads back intact and in order. */
static void check_log(sa_partition_t *part, int64_t want_hwm) {
    assert_int_equal(sa_partition_hwm(part), want_hwm);
    int64_t o = sa_partition_log_start(part);
    sa_buf_t out = SA_BUF_INIT(0);
    while (o < want_hwm) {
        sa_buf_reset(&out);
        assert_int_equal(sa_partition_read(part, o, 1 << 16, &out), SA_OK);
        assert_true(out.len > 0);
        sa_rb_iter_t it;
        sa_rb_header_t hdr;
        const uint8_t *batch;
        sa_rb_iter_init(&it, out.data, out.len);
        while (sa_rb_iter_next(&it, &hdr, &batch) == SA_OK) {
            assert_int_equal(hdr.BaseOffset, o);
            assert_true(sa_rb_crc_ok(batch, sa_rb_size(&hdr)));
            o = sa_rb_last_offset(&hdr) + 1;
        }
    }
    assert_int_equal(o, want_hwm);
    sa_buf_free(&out);
}

static void reopen(fixture_t *f) {
    assert_int_equal(sa_store_close(f->store), SA_OK);
    assert_int_equal(sa_store_open(f->dir, NULL, &f->store, NULL, 0), SA_OK);
    f->part = sa_store_partition(f->store, "f", 0);
}

static void write_fails(void **state, int err, int short_write) {
    fixture_t *f = *state;
    int64_t base;
    assert_int_equal(append(f, 3, &base), SA_OK);
    assert_int_equal(sa_store_sync(f->store, NULL, NULL), SA_OK);
    int64_t size = file_size(f);
    sa_sysio.pwrite = bad_pwrite;
    inject(err, 0);
    fail_short = short_write;
    assert_int_equal(append(f, 2, &base), SA_ERR_KAFKA_STORAGE_ERROR);
    assert_int_equal(sa_partition_leo(f->part), 3);
    assert_int_equal(file_size(f), size); /* a partial write was cut off again */
    /* Still failing: still nothing changes. */
    inject(err, 0);
    fail_sticky = 1;
    for (int i = 0; i < 3; i++) assert_int_equal(append(f, 1, NULL), SA_ERR_KAFKA_STORAGE_ERROR);
    heal();
    assert_int_equal(append(f, 2, &base), SA_OK);
    assert_int_equal(base, 3);
    assert_int_equal(sa_store_sync(f->store, NULL, NULL), SA_OK);
    check_log(f->part, 5);
    reopen(f);
    check_log(f->part, 5);
}

static void enospc_on_write(void **state) { write_fails(state, ENOSPC, 0); }
static void eio_on_write(void **state) { write_fails(state, EIO, 0); }
static void short_write_then_enospc(void **state) { write_fails(state, ENOSPC, 1); }

static void short_write_and_truncate_fails(void **state) {
    /* Double fault: the cut-off fails too. The next append overwrites the same bytes. */
    fixture_t *f = *state;
    assert_int_equal(append(f, 3, NULL), SA_OK);
    assert_int_equal(sa_store_sync(f->store, NULL, NULL), SA_OK);
    sa_sysio.pwrite = bad_pwrite;
    sa_sysio.ftruncate = bad_ftruncate;
    inject(ENOSPC, 0);
    fail_short = 1;
    assert_int_equal(append(f, 4, NULL), SA_ERR_KAFKA_STORAGE_ERROR);
    heal();
    int64_t base;
    assert_int_equal(append(f, 1, &base), SA_OK);
    assert_int_equal(base, 3);
    assert_int_equal(sa_store_sync(f->store, NULL, NULL), SA_OK);
    check_log(f->part, 4);
    /* Unclean restart: recovery must stop after offset 3, not resurrect the failed batch's bytes. */
    char marker[1024];
    assert_int_equal(sa_store_close(f->store), SA_OK);
    snprintf(marker, sizeof(marker), "%s/.clean-shutdown", f->dir);
    unlink(marker);
    assert_int_equal(sa_store_open(f->dir, NULL, &f->store, NULL, 0), SA_OK);
    f->part = sa_store_partition(f->store, "f", 0);
    assert_int_equal(sa_partition_leo(f->part), 4);
    check_log(f->part, 4);
}

static void eio_on_fdatasync(void **state) {
    fixture_t *f = *state;
    int64_t base;
    assert_int_equal(append(f, 3, &base), SA_OK);
    assert_int_equal(sa_store_sync(f->store, on_fail, f), SA_OK); /* acknowledged: 0..2 */
    assert_int_equal(append(f, 2, &base), SA_OK);
    assert_int_equal(base, 3);
    sa_sysio.fdatasync = bad_fdatasync;
    inject(EIO, 0);
    assert_int_equal(sa_store_sync(f->store, on_fail, f), SA_ERR_KAFKA_STORAGE_ERROR);
    assert_int_equal(f->failed_cb, 1);
    /* The unsynced tail is gone: HWM and LEO back at 3, the acknowledged records intact. */
    assert_int_equal(sa_partition_hwm(f->part), 3);
    assert_int_equal(sa_partition_leo(f->part), 3);
    check_log(f->part, 3);
    /* Still failing: every sync fails, nothing is acknowledged. */
    inject(EIO, 0);
    fail_sticky = 1;
    assert_int_equal(append(f, 1, NULL), SA_OK);
    assert_int_equal(sa_store_sync(f->store, on_fail, f), SA_ERR_KAFKA_STORAGE_ERROR);
    assert_int_equal(sa_partition_hwm(f->part), 3);
    heal();
    assert_int_equal(append(f, 2, &base), SA_OK);
    assert_int_equal(base, 3);
    assert_int_equal(sa_store_sync(f->store, on_fail, f), SA_OK);
    check_log(f->part, 5);
    reopen(f);
    check_log(f->part, 5);
}

static void fdatasync_fails_while_rolling(void **state) {
    fixture_t *f = *state;
    /* Synced appends until the first roll (segment.bytes is 4000). */
    while (sa_partition_segment_count(f->part) == 1) {
        assert_int_equal(append(f, 8, NULL), SA_OK);
        assert_int_equal(sa_store_sync(f->store, NULL, NULL), SA_OK);
    }
    int64_t acked = sa_partition_hwm(f->part);
    /* Now the disk fails. Appends without a sync only call fdatasync when they roll, so the
     * first failing append is the one that needs the next roll. */
    sa_sysio.fdatasync = bad_fdatasync;
    inject(EIO, 0);
    fail_sticky = 1;
    sa_err_t e;
    int n = 0;
    while ((e = append(f, 8, NULL)) == SA_OK) assert_true(++n < 100);
    assert_int_equal(e, SA_ERR_KAFKA_STORAGE_ERROR);
    assert_int_equal(sa_partition_segment_count(f->part), 2);
    assert_true(n > 0);
    /* The group commit that follows fails too and drops the unacknowledged tail. */
    assert_int_equal(sa_store_sync(f->store, on_fail, f), SA_ERR_KAFKA_STORAGE_ERROR);
    assert_int_equal(f->failed_cb, 1);
    assert_int_equal(sa_partition_hwm(f->part), acked);
    assert_int_equal(sa_partition_leo(f->part), acked);
    check_log(f->part, acked);
    heal();
    int64_t base;
    assert_int_equal(append(f, 8, &base), SA_OK);
    assert_int_equal(base, acked);
    assert_int_equal(sa_store_sync(f->store, NULL, NULL), SA_OK);
    check_log(f->part, acked + 8);
    reopen(f);
    check_log(f->part, acked + 8);
}

/* Several dirty partitions are synced in parallel; one failing file fails only its partition. */
static int target_fd = -1; /* read-only while a sync runs on the helper threads */

static int fail_one_fd(int fd) {
    if (fd == target_fd) {
        errno = EIO;
        return -1;
    }
    return fdatasync(fd);
}

static int open_fd_of(const char *dir) {
    /* The store's fd for DIR/00000000000000000000.log: find it through /proc/self/fd. */
    char want[1100], link[64], got[1100];
    snprintf(want, sizeof(want), "%s/00000000000000000000.log", dir);
    for (int fd = 3; fd < 1024; fd++) {
        snprintf(link, sizeof(link), "/proc/self/fd/%d", fd);
        ssize_t n = readlink(link, got, sizeof(got) - 1);
        if (n < 0) continue;
        got[n] = 0;
        if (!strcmp(got, want)) return fd;
    }
    return -1;
}

static void parallel_sync_one_fails(void **state) {
    fixture_t *f = *state;
    char err[256];
    assert_int_equal(sa_store_topic_create(f->store, "multi", 4, NULL, 0, 0, err, sizeof(err)), SA_OK);
    sa_partition_t *parts[4];
    for (int i = 0; i < 4; i++) parts[i] = sa_store_partition(f->store, "multi", i);
    for (int round = 0; round < 3; round++) {
        for (int i = 0; i < 4; i++) {
            f->part = parts[i];
            assert_int_equal(append(f, 2, NULL), SA_OK);
        }
        assert_int_equal(sa_store_sync(f->store, NULL, NULL), SA_OK);
    }
    for (int i = 0; i < 4; i++) assert_int_equal(sa_partition_hwm(parts[i]), 6);
    char dir[1024];
    snprintf(dir, sizeof(dir), "%s/multi-2", f->dir);
    target_fd = open_fd_of(dir);
    assert_true(target_fd >= 0);
    for (int i = 0; i < 4; i++) {
        f->part = parts[i];
        assert_int_equal(append(f, 3, NULL), SA_OK);
    }
    sa_sysio.fdatasync = fail_one_fd;
    f->part = parts[2];
    assert_int_equal(sa_store_sync(f->store, on_fail, f), SA_ERR_KAFKA_STORAGE_ERROR);
    assert_int_equal(f->failed_cb, 1);
    heal();
    for (int i = 0; i < 4; i++) {
        assert_int_equal(sa_partition_hwm(parts[i]), i == 2 ? 6 : 9);
        assert_int_equal(sa_partition_leo(parts[i]), i == 2 ? 6 : 9);
        check_log(parts[i], i == 2 ? 6 : 9);
    }
    f->part = sa_store_partition(f->store, "f", 0);
}

static void metadata_write_fails(void **state) {
    fixture_t *f = *state;
    char err[256];
    sa_sysio.fsync = bad_fsync;
    inject(EIO, 0);
    assert_int_equal(sa_store_topic_create(f->store, "m", 2, NULL, 0, 0, err, sizeof(err)),
                     SA_ERR_KAFKA_STORAGE_ERROR);
    assert_null(sa_store_topic_find(f->store, "m"));
    /* DeleteRecords: the checkpoint cannot be written, so the log start does not move. */
    heal();
    assert_int_equal(append(f, 5, NULL), SA_OK);
    assert_int_equal(sa_store_sync(f->store, NULL, NULL), SA_OK);
    sa_sysio.fsync = bad_fsync;
    inject(ENOSPC, 0);
    int64_t lw;
    assert_int_equal(sa_partition_delete_records(f->part, 3, &lw), SA_ERR_KAFKA_STORAGE_ERROR);
    assert_int_equal(sa_partition_log_start(f->part), 0);
    /* Alter configs: the old configs stay. */
    inject(ENOSPC, 0);
    sa_config_kv_t kv[] = {{"retention.ms", "1000"}};
    assert_int_equal(sa_store_topic_alter_configs(f->store, "f", kv, NULL, 1, 0, 0, err, sizeof(err)),
                     SA_ERR_KAFKA_STORAGE_ERROR);
    sa_config_entry_t e;
    sa_topic_config_find(sa_store_topic_find(f->store, "f"), "retention.ms", &e);
    assert_string_equal(e.value, "604800000");
    heal();
    assert_int_equal(sa_store_topic_create(f->store, "m", 2, NULL, 0, 0, err, sizeof(err)), SA_OK);
    assert_int_equal(sa_partition_delete_records(f->part, 3, &lw), SA_OK);
    reopen(f);
    assert_non_null(sa_store_topic_find(f->store, "m"));
    assert_int_equal(sa_partition_log_start(f->part), 3);
}

int main(void) {
    sa_log_set_level("error"); /* the injected failures are logged as errors otherwise */
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(enospc_on_write, setup, teardown),
        cmocka_unit_test_setup_teardown(eio_on_write, setup, teardown),
        cmocka_unit_test_setup_teardown(short_write_then_enospc, setup, teardown),
        cmocka_unit_test_setup_teardown(short_write_and_truncate_fails, setup, teardown),
        cmocka_unit_test_setup_teardown(eio_on_fdatasync, setup, teardown),
        cmocka_unit_test_setup_teardown(fdatasync_fails_while_rolling, setup, teardown),
        cmocka_unit_test_setup_teardown(parallel_sync_one_fails, setup, teardown),
        cmocka_unit_test_setup_teardown(metadata_write_fails, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
