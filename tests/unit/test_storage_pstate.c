/* A partition's producer state in storage (storage/producers.c): recorded by every append, saved
 * in <offset>.snapshot files at each roll and at a clean close, and back after clean and unclean
 * restarts with the same answers (a retried batch is still a duplicate, with its first offsets);
 * a damaged, truncated or missing snapshot falls back to an older one or the log; snapshots go
 * with the segments retention and DeleteRecords delete while the producers they remember stay;
 * producer.id.expiration.ms through sa_store_expire_producers, an open transaction kept, the pass
 * sliced by its budget. */
#include <dirent.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <cmocka.h>

#include "core/buf.h"
#include "core/sysio.h"
#include "harness.h"
#include "proto/record_batch.h"
#include "storage/pstate.h"
#include "storage/storage.h"

#define NOW 1700000000000LL

typedef struct fixture_s {
    char dir[512];
    sa_store_conf_t conf;
    sa_store_t *store;
    sa_partition_t *part;
    sa_buf_t last; /* the last batch appended, as sent (for retries) */
} fixture_t;

static int setup(void **state) {
    fixture_t *f = calloc(1, sizeof(*f));
    sa_store_conf_defaults(&f->conf);
    f->conf.producer_id_expiration_ms = 60000;
    if (th_mkdtemp(f->dir, sizeof(f->dir), "pstate") || sa_store_open(f->dir, &f->conf, &f->store, NULL, 0)) {
        free(f);
        return -1;
    }
    sa_config_kv_t cfg[] = {{"segment.bytes", "400"}};
    if (sa_store_topic_create(f->store, "t", 1, cfg, 1, 0, NULL, 0)) return -1;
    f->part = sa_store_partition(f->store, "t", 0);
    *state = f;
    return 0;
}

static int teardown(void **state) {
    fixture_t *f = *state;
    sa_sysio_reset();
    sa_store_close(f->store);
    th_rmtree(f->dir);
    sa_buf_free(&f->last);
    free(f);
    return 0;
}

static void reopen(fixture_t *f, int clean) {
    assert_int_equal(sa_store_close(f->store), SA_OK);
    if (!clean) {
        char marker[600];
        snprintf(marker, sizeof(marker), "%s/.clean-shutdown", f->dir);
        assert_int_equal(unlink(marker), 0);
    }
    char err[512] = "";
    assert_int_equal(sa_store_open(f->dir, &f->conf, &f->store, err, sizeof(err)), SA_OK);
    f->part = sa_store_partition(f->store, "t", 0);
    assert_non_null(f->part);
}

/* Build one batch of @p n records of producer @p pid (-1: none) at @p seq into @p out. */
static void build(sa_buf_t *out, int64_t pid, int32_t seq, int n, int txn, int64_t ts) {
    sa_rb_rec_in_t recs[8];
    for (int i = 0; i < n; i++) recs[i] = (sa_rb_rec_in_t){"k", 1, "value", 5, NULL, 0, ts};
    sa_rb_build_opts_t opts = SA_RB_BUILD_OPTS_INIT;
    opts.leader_epoch = -1;
    if (pid >= 0) {
        opts.producer_id = pid;
        opts.producer_epoch = 0;
        opts.base_sequence = seq;
        if (txn) opts.attributes = SA_RB_ATTR_TRANSACTIONAL;
    }
    sa_buf_reset(out);
    assert_int_equal(sa_rb_build(out, &opts, recs, (size_t)n), SA_OK);
}

/* Check (as the produce handler does) and append; @returns the base offset. */
static int64_t append(fixture_t *f, int64_t pid, int32_t seq, int n, int txn, int64_t ts) {
    build(&f->last, pid, seq, n, txn, ts);
    sa_rb_header_t hdr;
    sa_producer_dup_t dup;
    assert_int_equal(sa_rb_parse_header(f->last.data, f->last.len, &hdr, NULL, 0), SA_OK);
    assert_int_equal(sa_pstate_check(sa_partition_pstate(f->part), &hdr, &dup), SA_OK);
    sa_buf_t copy = SA_BUF_INIT(0); /* append rewrites its buffer: keep the batch as sent */
    sa_buf_append(&copy, f->last.data, f->last.len);
    sa_append_result_t res;
    char err[256] = "";
    sa_err_t e = sa_partition_append(f->part, copy.data, copy.len, ts, &res, err, sizeof(err));
    if (e) fail_msg("append: %s: %s", sa_err2name(e), err);
    sa_buf_free(&copy);
    return res.base_offset;
}

/* The check of the last batch sent again: a duplicate at @p base? */
static void retry_is_duplicate(fixture_t *f, int64_t base) {
    sa_rb_header_t hdr;
    sa_producer_dup_t dup = {-1, -1};
    assert_int_equal(sa_rb_parse_header(f->last.data, f->last.len, &hdr, NULL, 0), SA_OK);
    assert_int_equal(sa_pstate_check(sa_partition_pstate(f->part), &hdr, &dup),
                     SA_ERR_DUPLICATE_SEQUENCE_NUMBER);
    assert_int_equal(dup.base_offset, base);
}

/* DescribeProducers' view of the partition, for comparing. */
static void listing(fixture_t *f, sa_buf_t *out) {
    sa_buf_reset(out);
    sa_pstate_list(sa_partition_pstate(f->part), out);
}

/* The offsets of t-0's snapshot files, ascending, as "a,b,c". */
static const char *snapshots(fixture_t *f) {
    static char out[1024];
    char dir[600];
    snprintf(dir, sizeof(dir), "%s/t-0", f->dir);
    long long v[128];
    int n = 0;
    DIR *d = opendir(dir);
    assert_non_null(d);
    struct dirent *de;
    while ((de = readdir(d)))
        if (strlen(de->d_name) == 29 && !strcmp(de->d_name + 20, ".snapshot") && n < 128)
            v[n++] = atoll(de->d_name);
    closedir(d);
    for (int i = 0; i < n; i++)
        for (int j = i + 1; j < n; j++)
            if (v[j] < v[i]) {
                long long t = v[i];
                v[i] = v[j];
                v[j] = t;
            }
    out[0] = 0;
    for (int i = 0; i < n; i++)
        snprintf(out + strlen(out), sizeof(out) - strlen(out), "%s%lld", i ? "," : "", v[i]);
    return out;
}

static void snap_file(fixture_t *f, int64_t offset, char *out, size_t size) {
    snprintf(out, size, "%s/t-0/%020lld.snapshot", f->dir, (long long)offset);
}

/* The base of t-0's first .log file. */
static long long first_log_base(fixture_t *f) {
    char dir[600];
    snprintf(dir, sizeof(dir), "%s/t-0", f->dir);
    long long min = -1;
    DIR *d = opendir(dir);
    assert_non_null(d);
    struct dirent *de;
    while ((de = readdir(d)))
        if (strlen(de->d_name) == 24 && !strcmp(de->d_name + 20, ".log") &&
            (min < 0 || atoll(de->d_name) < min))
            min = atoll(de->d_name);
    closedir(d);
    return min;
}

/* Three producers over several segments; returns the base of producer 3's last batch. */
static int64_t fill(fixture_t *f) {
    int32_t seq[4] = {0};
    int64_t base = -1;
    for (int i = 0; i < 12; i++) {
        int64_t pid = 1 + i % 3;
        base = append(f, pid, seq[pid], 2, 0, NOW + i);
        seq[pid] += 2;
    }
    assert_int_equal(sa_store_sync(f->store, NULL, NULL), SA_OK);
    assert_true(sa_partition_segment_count(f->part) >= 3);
    return base;
}

static void restarts_keep_the_state(void **state) {
    fixture_t *f = *state;
    int64_t base = fill(f);
    sa_buf_t before = SA_BUF_INIT(0), after = SA_BUF_INIT(0);
    listing(f, &before);
    assert_int_equal(before.len, 3 * sizeof(sa_producer_info_t));
    /* one snapshot per roll, at the new segment's base */
    const char *at_rolls = snapshots(f);
    assert_true(strlen(at_rolls) > 0);
    for (int round = 0; round < 3; round++) {
        reopen(f, round != 1); /* clean (a snapshot at the end: nothing scanned), crash, clean */
        listing(f, &after);
        assert_int_equal(after.len, before.len);
        assert_memory_equal(after.data, before.data, before.len);
        retry_is_duplicate(f, base);
    }
    char want[64];
    snprintf(want, sizeof(want), ",%lld", (long long)sa_partition_leo(f->part));
    assert_non_null(strstr(snapshots(f), want)); /* the clean close's, at the log end */
    sa_buf_free(&before);
    sa_buf_free(&after);
}

/* The newest snapshot damaged, then truncated, then every one gone: each start falls back (an
 * older snapshot and a longer scan, or the whole log) and answers the same. */
static void damaged_snapshots_fall_back(void **state) {
    fixture_t *f = *state;
    int64_t base = fill(f);
    sa_buf_t before = SA_BUF_INIT(0), after = SA_BUF_INIT(0);
    listing(f, &before);
    for (int round = 0; round < 3; round++) {
        assert_int_equal(sa_store_close(f->store), SA_OK);
        int64_t leo = 0;
        const char *s = strrchr(snapshots(f), ',');
        leo = atoll(s ? s + 1 : snapshots(f));
        char path[700];
        snap_file(f, leo, path, sizeof(path));
        char name[32];
        snprintf(name, sizeof(name), "%020lld.snapshot", (long long)leo);
        if (round == 0) { /* a flipped byte in the middle */
            FILE *fp = fopen(path, "r+b");
            assert_non_null(fp);
            fseek(fp, 30, SEEK_SET);
            int c = fgetc(fp);
            fseek(fp, 30, SEEK_SET);
            fputc(c ^ 0x40, fp);
            fclose(fp);
        } else if (round == 1) { /* cut short, as a write that never finished */
            assert_int_equal(truncate(path, 25), 0);
        } else { /* none at all: the whole log is scanned */
            for (const char *s2 = snapshots(f); *s2;) {
                snap_file(f, atoll(s2), path, sizeof(path));
                assert_int_equal(unlink(path), 0);
                s2 = strchr(s2, ',') ? strchr(s2, ',') + 1 : "";
            }
        }
        char err[512] = "";
        assert_int_equal(sa_store_open(f->dir, &f->conf, &f->store, err, sizeof(err)), SA_OK);
        f->part = sa_store_partition(f->store, "t", 0);
        if (round < 2) { /* the damaged one was deleted (the next clean close writes it again) */
            const char *now = snapshots(f), *tail = strrchr(now, ',');
            assert_true(atoll(tail ? tail + 1 : now) < leo);
        }
        listing(f, &after);
        assert_int_equal(after.len, before.len);
        assert_memory_equal(after.data, before.data, before.len);
        retry_is_duplicate(f, base);
    }
    sa_buf_free(&before);
    sa_buf_free(&after);
}

/* DeleteRecords takes the snapshots below the new first segment along; producer 9, whose only
 * batch went with them, is still remembered across a restart (the snapshot carries it). */
static void delete_records_and_snapshots(void **state) {
    fixture_t *f = *state;
    int64_t base9 = append(f, 9, 0, 1, 0, NOW);
    sa_buf_t b9 = SA_BUF_INIT(0);
    sa_buf_append(&b9, f->last.data, f->last.len);
    fill(f);
    int64_t low = -1, hwm = sa_partition_hwm(f->part);
    assert_int_equal(sa_partition_delete_records(f->part, hwm, &low), SA_OK);
    assert_int_equal(low, hwm);
    /* the snapshots below the first segment left went with the segments; its own base's stays */
    long long base = first_log_base(f);
    assert_true(base > 0);
    char *left = strdup(snapshots(f));
    assert_int_equal(atoll(left), base);
    reopen(f, 1);
    reopen(f, 0);
    sa_buf_reset(&f->last);
    sa_buf_append(&f->last, b9.data, b9.len);
    retry_is_duplicate(f, base9);
    free(left);
    sa_buf_free(&b9);
}

static void expiry_keeps_open_transactions(void **state) {
    fixture_t *f = *state;
    append(f, 1, 0, 1, 0, NOW);          /* idempotent, old */
    append(f, 2, 0, 1, 1, NOW);          /* a transaction left open, old */
    append(f, 3, 0, 1, 0, NOW + 100000); /* recent */
    assert_int_equal(sa_store_sync(f->store, NULL, NULL), SA_OK);
    /* at NOW + 100000 with 60000: 1 goes, 2 stays (open), 3 stays (recent) */
    while (sa_store_expire_producers(f->store, NOW + 100000, 1)) { /* slices of one partition */
    }
    sa_buf_t b = SA_BUF_INIT(0);
    listing(f, &b);
    assert_int_equal(b.len, 2 * sizeof(sa_producer_info_t));
    const sa_producer_info_t *p = (const sa_producer_info_t *)b.data;
    assert_int_equal(p[0].producer_id, 2);
    assert_int_equal(p[1].producer_id, 3);
    /* the expired producer goes on where it left off */
    append(f, 1, 1, 1, 0, NOW + 100000);
    /* its transaction ends: now it may expire too, and the snapshot of a clean close forgets it */
    sa_append_result_t res;
    assert_int_equal(sa_partition_append_marker(f->part, 2, 0, 1, 0, NOW, &res, NULL, 0), SA_OK);
    assert_int_equal(sa_store_sync(f->store, NULL, NULL), SA_OK);
    assert_int_equal(sa_store_expire_producers(f->store, NOW + 100000, 1000), 0);
    listing(f, &b);
    assert_int_equal(b.len, 2 * sizeof(sa_producer_info_t));
    p = (const sa_producer_info_t *)b.data;
    assert_int_equal(p[0].producer_id, 1);
    assert_int_equal(p[1].producer_id, 3);
    reopen(f, 1);
    listing(f, &b);
    assert_int_equal(b.len, 2 * sizeof(sa_producer_info_t));
    sa_buf_free(&b);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(restarts_keep_the_state, setup, teardown),
        cmocka_unit_test_setup_teardown(damaged_snapshots_fall_back, setup, teardown),
        cmocka_unit_test_setup_teardown(delete_records_and_snapshots, setup, teardown),
        cmocka_unit_test_setup_teardown(expiry_keeps_open_transactions, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
