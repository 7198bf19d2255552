/* The metadata log (storage/metalog.h) with a toy owner (a table of 64 counters: kind 1 sets one,
 * kind 2 clears it): append, replay after reopen, a torn tail at every byte and a flipped bit cut
 * at open, bad magic refused, a record the owner refuses stops the replay, durable only after the
 * group commit (blocking and in the background), a failed fdatasync cuts the log back and
 * rebuilds the owner (later appends of the same commit included), a failed write leaves the file
 * as it was, compaction in the background and its three failure points (fdatasync of the
 * compacted file, rename, directory fsync), close while a commit is in flight, and the scanner
 * the dumper uses. Faults come through the sa_sysio table. */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/stat.h>
#include <unistd.h>
#include <cmocka.h>

#include "core/buf.h"
#include "core/log.h"
#include "core/sysio.h"
#include "harness.h"
#include "storage/metalog.h"
#include "storage/storage.h"

/* ---- faults ---- */

static int fail_fdatasync, fail_rename, fail_fsync, fail_pwrite; /* the next such call fails (EIO/ENOSPC) */

static int bad_fdatasync(int fd) {
    if (!fail_fdatasync) return fdatasync(fd);
    fail_fdatasync = 0;
    errno = EIO;
    return -1;
}

static int bad_rename(const char *a, const char *b) {
    if (!fail_rename) return rename(a, b);
    fail_rename = 0;
    errno = EIO;
    return -1;
}

static int bad_fsync(int fd) {
    if (!fail_fsync) return fsync(fd);
    fail_fsync = 0;
    errno = EIO;
    return -1;
}

static ssize_t bad_pwrite(int fd, const void *p, size_t n, off_t off) {
    if (!fail_pwrite) return pwrite(fd, p, n, off);
    fail_pwrite = 0;
    errno = ENOSPC;
    return -1;
}

/* ---- the toy owner ---- */

enum { KIND_SET = 1, KIND_CLEAR = 2, KIND_REFUSED = 9 };

typedef struct toy_s {
    uint32_t val[64]; /* 0 = not set */
    int resets;       /* reset() calls */
} toy_t;

static sa_err_t toy_apply(void *opaque, uint8_t kind, const uint8_t *p, size_t len) {
    toy_t *t = opaque;
    if (kind == KIND_SET && len == 5 && p[0] < 64) {
        t->val[p[0]] = sa_load_be32(p + 1);
        return SA_OK;
    }
    if (kind == KIND_CLEAR && len == 1 && p[0] < 64) {
        t->val[p[0]] = 0;
        return SA_OK;
    }
    return SA_ERR_CORRUPT;
}

static void toy_reset(void *opaque) {
    toy_t *t = opaque;
    memset(t->val, 0, sizeof(t->val));
    t->resets++;
}

static uint64_t toy_live(void *opaque) {
    toy_t *t = opaque;
    uint64_t n = 0;
    for (int i = 0; i < 64; i++) n += t->val[i] != 0;
    return n;
}

static void toy_snapshot(void *opaque, sa_metalog_writer_t *w) {
    toy_t *t = opaque;
    for (uint8_t i = 0; i < 64; i++) {
        if (!t->val[i]) continue;
        uint8_t p[5] = {i};
        sa_store_be32(p + 1, t->val[i]);
        sa_metalog_put(w, KIND_SET, p, sizeof(p));
    }
}

static const sa_metalog_owner_t toy_owner = {toy_apply, toy_reset, toy_live, toy_snapshot, NULL};

/* ---- fixture ---- */

typedef struct fixture_s {
    char dir[512], path[600];
    sa_store_t *store;
    sa_metalog_t *log;
    toy_t toy;
    int efd;
} fixture_t;

static sa_metalog_conf_t conf; /* per test; small thresholds make compaction happen */

static void open_all(fixture_t *f) {
    char err[256] = "";
    assert_int_equal(sa_store_open(f->dir, NULL, &f->store, err, sizeof(err)), SA_OK);
    memset(&f->toy, 0, sizeof(f->toy));
    assert_int_equal(sa_metalog_open(f->store, "metadata", &conf, &f->log, err, sizeof(err)), SA_OK);
    assert_int_equal(sa_metalog_attach(f->log, &toy_owner, &f->toy, err, sizeof(err)), SA_OK);
}

static void close_all(fixture_t *f) {
    if (f->log) assert_int_equal(sa_metalog_close(f->log), SA_OK);
    f->log = NULL;
    sa_store_close(f->store);
    f->store = NULL;
}

static int setup(void **state) {
    sa_sysio_reset();
    fail_fdatasync = fail_rename = fail_fsync = fail_pwrite = 0;
    sa_metalog_conf_defaults(&conf);
    fixture_t *f = calloc(1, sizeof(*f));
    if (!f || th_mkdtemp(f->dir, sizeof(f->dir), "metalog")) return -1;
    snprintf(f->path, sizeof(f->path), "%s/metadata.log", f->dir);
    f->efd = eventfd(0, EFD_CLOEXEC);
    *state = f;
    return f->efd >= 0 ? 0 : -1;
}

static int teardown(void **state) {
    fixture_t *f = *state;
    sa_sysio_reset();
    if (f->store) {
        sa_metalog_close(f->log);
        sa_store_close(f->store);
    }
    close(f->efd);
    th_rmtree(f->dir);
    free(f);
    return 0;
}

/* Set counter @p i to @p v: append, and apply to memory as an owner does after SA_OK. */
static sa_err_t set(fixture_t *f, uint8_t i, uint32_t v, uint64_t *seq) {
    uint8_t p[5] = {i};
    sa_store_be32(p + 1, v);
    sa_err_t err = sa_metalog_append(f->log, KIND_SET, p, sizeof(p), seq);
    if (!err) f->toy.val[i] = v;
    return err;
}

static off_t file_size(const char *path) {
    struct stat st;
    return stat(path, &st) == 0 ? st.st_size : -1;
}

static void wait_notified(fixture_t *f) {
    struct pollfd p = {.fd = f->efd, .events = POLLIN};
    assert_int_equal(poll(&p, 1, th_scaled_ms(10000)), 1);
    uint64_t n;
    assert_int_equal(read(f->efd, &n, sizeof(n)), (ssize_t)sizeof(n));
}

/* ---- tests ---- */

static void append_sync_reopen(void **state) {
    fixture_t *f = *state;
    open_all(f);
    uint64_t s1, s2, s3;
    assert_int_equal(set(f, 1, 10, &s1), SA_OK);
    assert_int_equal(set(f, 2, 20, &s2), SA_OK);
    assert_true(s2 > s1);
    assert_false(sa_metalog_durable(f->log, s1));
    assert_true(sa_store_dirty(f->store));
    assert_int_equal(sa_store_sync(f->store, NULL, NULL), SA_OK);
    assert_true(sa_metalog_durable(f->log, s1) && sa_metalog_durable(f->log, s2));
    assert_true(sa_metalog_durable(f->log, 0));
    assert_false(sa_store_dirty(f->store));
    assert_int_equal(set(f, 1, 11, &s3), SA_OK);
    uint8_t clear = 2;
    assert_int_equal(sa_metalog_append(f->log, KIND_CLEAR, &clear, 1, NULL), SA_OK);
    f->toy.val[2] = 0;
    close_all(f); /* syncs */
    open_all(f);
    assert_int_equal(f->toy.val[1], 11);
    assert_int_equal(f->toy.val[2], 0);
    sa_metalog_stats_t st;
    sa_metalog_stats(f->log, &st);
    assert_int_equal(st.records, 4);
    assert_int_equal(st.bytes, file_size(f->path));
    close_all(f);
}

static void torn_tail_every_byte(void **state) {
    fixture_t *f = *state;
    open_all(f);
    for (uint8_t i = 1; i <= 5; i++) assert_int_equal(set(f, i, i * 100u, NULL), SA_OK);
    close_all(f);
    off_t full = file_size(f->path);
    off_t last = full - (8 + 1 + 5); /* where the last record starts */
    char copy[700];
    snprintf(copy, sizeof(copy), "%s/full.copy", f->dir);
    sa_buf_t b = SA_BUF_INIT(0);
    int fd = open(f->path, O_RDONLY);
    uint8_t *p = sa_buf_extend(&b, (size_t)full);
    assert_int_equal(pread(fd, p, (size_t)full, 0), full);
    close(fd);
    for (off_t cut = last; cut < full; cut++) {
        fd = open(f->path, O_WRONLY | O_TRUNC);
        assert_int_equal(write(fd, b.data, (size_t)cut), cut);
        close(fd);
        open_all(f);
        assert_int_equal(f->toy.val[4], 400);
        assert_int_equal(f->toy.val[5], 0); /* the torn record is gone */
        sa_metalog_stats_t st;
        sa_metalog_stats(f->log, &st);
        assert_int_equal(st.truncated, cut - last);
        assert_int_equal(file_size(f->path), last);
        close_all(f);
    }
    /* a flipped bit in the third record: it and everything after is cut */
    fd = open(f->path, O_WRONLY | O_TRUNC);
    b.data[8 + 2 * 14 + 10] ^= 0x10;
    assert_int_equal(write(fd, b.data, b.len), (ssize_t)b.len);
    close(fd);
    open_all(f);
    assert_int_equal(f->toy.val[2], 200);
    assert_int_equal(f->toy.val[3], 0);
    assert_int_equal(f->toy.val[5], 0);
    assert_int_equal(file_size(f->path), 8 + 2 * 14);
    assert_int_equal(set(f, 9, 9, NULL), SA_OK); /* and it keeps working */
    close_all(f);
    open_all(f);
    assert_int_equal(f->toy.val[9], 9);
    close_all(f);
    sa_buf_free(&b);
}

static void bad_magic_and_refused_kind(void **state) {
    fixture_t *f = *state;
    int fd = open(f->path, O_WRONLY | O_CREAT | O_TRUNC, 0644);
    assert_int_equal(write(fd, "GARBAGE!MORE", 12), 12);
    close(fd);
    char err[256] = "";
    assert_int_equal(sa_store_open(f->dir, NULL, &f->store, NULL, 0), SA_OK);
    assert_int_equal(sa_metalog_open(f->store, "metadata", NULL, &f->log, err, sizeof(err)), SA_ERR_CORRUPT);
    assert_null(f->log);
    assert_non_null(strstr(err, "not a samsa metadata log"));
    /* a magic torn while being written starts over */
    fd = open(f->path, O_WRONLY | O_TRUNC);
    assert_int_equal(write(fd, "SAME", 4), 4);
    close(fd);
    assert_int_equal(sa_metalog_open(f->store, "metadata", NULL, &f->log, err, sizeof(err)), SA_OK);
    assert_int_equal(file_size(f->path), 8);
    memset(&f->toy, 0, sizeof(f->toy));
    assert_int_equal(sa_metalog_attach(f->log, &toy_owner, &f->toy, err, sizeof(err)), SA_OK);
    assert_int_equal(sa_metalog_append(f->log, KIND_REFUSED, "x", 1, NULL), SA_OK);
    close_all(f);
    assert_int_equal(sa_store_open(f->dir, NULL, &f->store, NULL, 0), SA_OK);
    assert_int_equal(sa_metalog_open(f->store, "metadata", NULL, &f->log, err, sizeof(err)), SA_OK);
    assert_int_equal(sa_metalog_attach(f->log, &toy_owner, &f->toy, err, sizeof(err)), SA_ERR_CORRUPT);
    assert_non_null(strstr(err, "kind 9"));
    close_all(f);
}

static void failed_sync_cuts_and_rebuilds(void **state) {
    fixture_t *f = *state;
    open_all(f);
    uint64_t a, b, c, d;
    assert_int_equal(set(f, 1, 1, &a), SA_OK);
    assert_int_equal(sa_store_sync(f->store, NULL, NULL), SA_OK);
    off_t durable = file_size(f->path);
    /* background: c is covered by the commit, d is appended while it runs; the sync fails */
    assert_int_equal(set(f, 1, 2, &b), SA_OK);
    assert_int_equal(set(f, 2, 3, &c), SA_OK);
    sa_sysio.fdatasync = bad_fdatasync;
    fail_fdatasync = 1;
    assert_int_equal(sa_store_sync_start(f->store, f->efd), 1);
    assert_int_equal(set(f, 3, 4, &d), SA_OK);
    wait_notified(f);
    assert_int_equal(sa_store_sync_finish(f->store, NULL, NULL), SA_ERR_KAFKA_STORAGE_ERROR);
    assert_true(sa_metalog_durable(f->log, a));
    assert_false(sa_metalog_durable(f->log, b) || sa_metalog_durable(f->log, c) ||
                 sa_metalog_durable(f->log, d));
    assert_int_equal(f->toy.resets, 1); /* memory is the replay of what is durable */
    assert_int_equal(f->toy.val[1], 1);
    assert_int_equal(f->toy.val[2], 0);
    assert_int_equal(f->toy.val[3], 0);
    assert_int_equal(file_size(f->path), durable);
    assert_false(sa_store_dirty(f->store));
    /* appends resume; a cut record never turns durable later */
    uint64_t e;
    assert_int_equal(set(f, 4, 5, &e), SA_OK);
    assert_int_equal(sa_store_sync(f->store, NULL, NULL), SA_OK);
    assert_true(sa_metalog_durable(f->log, e));
    assert_false(sa_metalog_durable(f->log, c));
    close_all(f);
    open_all(f);
    assert_int_equal(f->toy.val[1], 1);
    assert_int_equal(f->toy.val[4], 5);
    assert_int_equal(f->toy.val[2] + f->toy.val[3], 0);
    close_all(f);
}

static void failed_write_changes_nothing(void **state) {
    fixture_t *f = *state;
    open_all(f);
    assert_int_equal(set(f, 1, 1, NULL), SA_OK);
    off_t before = file_size(f->path);
    sa_sysio.pwrite = bad_pwrite;
    fail_pwrite = 1;
    assert_int_equal(set(f, 2, 2, NULL), SA_ERR_KAFKA_STORAGE_ERROR);
    assert_int_equal(f->toy.val[2], 0);
    assert_int_equal(file_size(f->path), before);
    assert_int_equal(set(f, 3, 3, NULL), SA_OK);
    close_all(f);
    open_all(f);
    assert_int_equal(f->toy.val[1] + f->toy.val[2] + f->toy.val[3], 4);
    close_all(f);
}

/* Many overwrites of 8 counters: the log compacts in the background, state survives. */
static void compaction_in_background(void **state) {
    fixture_t *f = *state;
    conf.compact_min_bytes = 512;
    conf.compact_slack = 4;
    open_all(f);
    uint64_t last = 0;
    for (uint32_t round = 1; round <= 200; round++) {
        for (uint8_t i = 0; i < 8; i++) assert_int_equal(set(f, i, round * 10 + i, &last), SA_OK);
        assert_int_equal(sa_store_sync_start(f->store, f->efd), 1);
        /* appends while the commit (maybe a compaction) runs go to the file that will be the log */
        assert_int_equal(set(f, 9, round, NULL), SA_OK);
        wait_notified(f);
        assert_int_equal(sa_store_sync_finish(f->store, NULL, NULL), SA_OK);
        assert_true(sa_metalog_durable(f->log, last));
    }
    sa_metalog_stats_t st;
    sa_metalog_stats(f->log, &st);
    assert_true(st.compactions >= 10);
    assert_true(file_size(f->path) < 2000); /* 1809 records were appended: ~25 KB uncompacted */
    assert_int_equal(file_size(f->path), (off_t)st.bytes);
    char tmp[700];
    snprintf(tmp, sizeof(tmp), "%s.compact", f->path);
    assert_int_equal(file_size(tmp), -1);
    close_all(f);
    open_all(f);
    for (uint8_t i = 0; i < 8; i++) assert_int_equal(f->toy.val[i], 2000 + i);
    assert_int_equal(f->toy.val[9], 200);
    close_all(f);
}

/* One compaction whose install fails at @p what (1 fdatasync, 2 rename, 3 fsync of the dir). */
static void compaction_fails(fixture_t *f, int what) {
    conf.compact_min_bytes = 256;
    conf.compact_slack = 0;
    open_all(f);
    uint64_t seq = 0;
    for (uint32_t v = 1; v <= 40; v++) assert_int_equal(set(f, 1, v, &seq), SA_OK);
    assert_int_equal(sa_store_sync(f->store, NULL, NULL), SA_OK); /* compacted: 1 record */
    sa_metalog_stats_t st;
    sa_metalog_stats(f->log, &st);
    assert_int_equal(st.compactions, 1);
    for (uint32_t v = 41; v <= 80; v++) assert_int_equal(set(f, 1, v, &seq), SA_OK);
    off_t before = file_size(f->path);
    sa_sysio.fdatasync = bad_fdatasync;
    sa_sysio.rename = bad_rename;
    sa_sysio.fsync = bad_fsync;
    fail_fdatasync = what == 1;
    fail_rename = what == 2;
    fail_fsync = what == 3;
    assert_int_equal(sa_store_sync_start(f->store, f->efd), 1);
    wait_notified(f);
    assert_int_equal(sa_store_sync_finish(f->store, NULL, NULL), SA_ERR_KAFKA_STORAGE_ERROR);
    assert_false(sa_metalog_durable(f->log, seq));
    sa_metalog_stats(f->log, &st);
    char tmp[700];
    snprintf(tmp, sizeof(tmp), "%s.compact", f->path);
    if (what < 3) {
        /* the old file is still the log: cut back to its durable end and replayed */
        assert_int_equal(st.failed, 0);
        assert_int_equal(f->toy.val[1], 40);
        assert_int_equal(file_size(tmp), -1);
        assert_true(file_size(f->path) < before);
        assert_int_equal(set(f, 2, 2, &seq), SA_OK);
        assert_int_equal(sa_store_sync(f->store, NULL, NULL), SA_OK);
        assert_true(sa_metalog_durable(f->log, seq));
        close_all(f);
        open_all(f);
        assert_int_equal(f->toy.val[1], 40);
        assert_int_equal(f->toy.val[2], 2);
    } else {
        /* renamed but not known durable: refuse until a restart; either file is a whole log */
        assert_int_equal(st.failed, 1);
        assert_int_equal(set(f, 2, 2, NULL), SA_ERR_KAFKA_STORAGE_ERROR);
        assert_int_equal(sa_metalog_close(f->log), SA_ERR_KAFKA_STORAGE_ERROR);
        f->log = NULL;
        close_all(f);
        open_all(f);
        assert_int_equal(f->toy.val[1], 80); /* the rename did happen in this file system */
        assert_int_equal(f->toy.val[2], 0);
    }
    close_all(f);
}

static void compaction_fdatasync_fails(void **state) { compaction_fails(*state, 1); }
static void compaction_rename_fails(void **state) { compaction_fails(*state, 2); }
static void compaction_dir_fsync_fails(void **state) { compaction_fails(*state, 3); }

static void close_while_in_flight(void **state) {
    fixture_t *f = *state;
    open_all(f);
    assert_int_equal(set(f, 7, 77, NULL), SA_OK);
    assert_int_equal(sa_store_sync_start(f->store, f->efd), 1);
    assert_int_equal(set(f, 8, 88, NULL), SA_OK); /* synced by the close */
    assert_int_equal(sa_metalog_close(f->log), SA_OK);
    f->log = NULL;
    assert_false(sa_store_sync_busy(f->store));
    close_all(f);
    open_all(f);
    assert_int_equal(f->toy.val[7], 77);
    assert_int_equal(f->toy.val[8], 88);
    close_all(f);
}

typedef struct seen_s {
    int n;
    int64_t first_pos;
    uint8_t kinds[16];
} seen_t;

static int visit(void *opaque, int64_t pos, uint8_t kind, const uint8_t *payload, size_t len) {
    (void)payload;
    (void)len;
    seen_t *s = opaque;
    if (!s->n) s->first_pos = pos;
    s->kinds[s->n++ % 16] = kind;
    return 0;
}

static void scan_file_for_the_dumper(void **state) {
    fixture_t *f = *state;
    open_all(f);
    assert_int_equal(set(f, 1, 1, NULL), SA_OK);
    uint8_t clear = 1;
    assert_int_equal(sa_metalog_append(f->log, KIND_CLEAR, &clear, 1, NULL), SA_OK);
    close_all(f);
    int fd = open(f->path, O_WRONLY | O_APPEND);
    assert_int_equal(write(fd, "\0\0\0\5xy", 6), 6); /* a torn record */
    close(fd);
    seen_t s = {0};
    sa_metalog_scan_t res;
    assert_int_equal(sa_metalog_scan_file(f->path, visit, &s, &res), SA_OK);
    assert_int_equal(s.n, 2);
    assert_int_equal(s.first_pos, 8);
    assert_int_equal(s.kinds[0], KIND_SET);
    assert_int_equal(s.kinds[1], KIND_CLEAR);
    assert_int_equal(res.records, 2);
    assert_int_equal(res.valid_end, 8 + 14 + 10);
    assert_int_equal(res.file_size, res.valid_end + 6);
    assert_true(res.why[0] != '\0');
    char other[700];
    snprintf(other, sizeof(other), "%s/not-a-log", f->dir);
    fd = open(other, O_WRONLY | O_CREAT, 0644);
    assert_int_equal(write(fd, "hello world", 11), 11);
    close(fd);
    assert_int_equal(sa_metalog_scan_file(other, visit, &s, &res), SA_ERR_CORRUPT);
}

int main(void) {
    sa_log_set_level("error");
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(append_sync_reopen, setup, teardown),
        cmocka_unit_test_setup_teardown(torn_tail_every_byte, setup, teardown),
        cmocka_unit_test_setup_teardown(bad_magic_and_refused_kind, setup, teardown),
        cmocka_unit_test_setup_teardown(failed_sync_cuts_and_rebuilds, setup, teardown),
        cmocka_unit_test_setup_teardown(failed_write_changes_nothing, setup, teardown),
        cmocka_unit_test_setup_teardown(compaction_in_background, setup, teardown),
        cmocka_unit_test_setup_teardown(compaction_fdatasync_fails, setup, teardown),
        cmocka_unit_test_setup_teardown(compaction_rename_fails, setup, teardown),
        cmocka_unit_test_setup_teardown(compaction_dir_fsync_fails, setup, teardown),
        cmocka_unit_test_setup_teardown(close_while_in_flight, setup, teardown),
        cmocka_unit_test_setup_teardown(scan_file_for_the_dumper, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
