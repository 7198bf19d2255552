/* Transactions in a partition (storage/txn.c): the last stable offset with interleaved producers,
 * markers that only count once durable, a failed sync that cuts a marker and reopens its
 * transaction, the aborted-transaction index and its search, read_committed reads stopping at the
 * LSO, client control batches refused, and the .txnindex across rolls, clean and unclean
 * restarts, a missing or damaged file, and retention. Log compaction of transactional data: the
 * cleaner stops at the LSO, keeps aborted batches and markers, merges the groups' .txnindex, and a
 * crash anywhere in its swap leaves the index whole. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <dirent.h>
#include <sys/stat.h>
#include <unistd.h>
#include <cmocka.h>

#include "core/buf.h"
#include "core/sysio.h"
#include "harness.h"
#include "proto/record_batch.h"
#include "storage/storage.h"

#define NOW 1700000000000LL

typedef struct fixture_s {
    char dir[512];
    sa_store_t *store;
    sa_partition_t *part;
} fixture_t;

static void create(fixture_t *f, const char *segment_bytes) {
    sa_config_kv_t cfg[] = {{"segment.bytes", segment_bytes}};
    assert_int_equal(sa_store_topic_create(f->store, "t", 1, cfg, segment_bytes ? 1 : 0, 0, NULL, 0), SA_OK);
    f->part = sa_store_partition(f->store, "t", 0);
    assert_non_null(f->part);
}

static int setup(void **state) {
    fixture_t *f = calloc(1, sizeof(*f));
    if (th_mkdtemp(f->dir, sizeof(f->dir), "txn") || sa_store_open(f->dir, NULL, &f->store, NULL, 0)) {
        free(f);
        return -1;
    }
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

/* Close (cleanly, or as a crash would leave it) and open again. */
static void reopen(fixture_t *f, int clean) {
    assert_int_equal(sa_store_close(f->store), SA_OK);
    if (!clean) {
        char marker[600];
        snprintf(marker, sizeof(marker), "%s/.clean-shutdown", f->dir);
        assert_int_equal(unlink(marker), 0);
    }
    char err[512] = "";
    assert_int_equal(sa_store_open(f->dir, NULL, &f->store, err, sizeof(err)), SA_OK);
    f->part = sa_store_partition(f->store, "t", 0);
    assert_non_null(f->part);
}

/* The path of the .txnindex of the @p n-th segment (by base offset) of t-0. */
static void txnix_of(fixture_t *f, int n, char *out, size_t size) {
    char dir[600];
    snprintf(dir, sizeof(dir), "%s/t-0", f->dir);
    long long bases[64] = {0};
    int nb = 0;
    DIR *d = opendir(dir);
    assert_non_null(d);
    struct dirent *de;
    while ((de = readdir(d)) && nb < 64)
        if (strlen(de->d_name) == 24 && !strcmp(de->d_name + 20, ".log")) bases[nb++] = atoll(de->d_name);
    closedir(d);
    for (int i = 0; i < nb; i++) /* sort */
        for (int j = i + 1; j < nb; j++)
            if (bases[j] < bases[i]) {
                long long t = bases[i];
                bases[i] = bases[j];
                bases[j] = t;
            }
    assert_true(n < nb);
    snprintf(out, size, "%s/%020lld.txnindex", dir, bases[n]);
}

static void sync_all(fixture_t *f) { assert_int_equal(sa_store_sync(f->store, NULL, NULL), SA_OK); }

/* Append one batch of @p n records from producer @p pid (-1: none), transactional or not.
 * @returns its base offset. */
static int64_t produce(fixture_t *f, int64_t pid, int txn, int n) {
    static int32_t seq[16];
    sa_rb_rec_in_t recs[8];
    for (int i = 0; i < n; i++) recs[i] = (sa_rb_rec_in_t){"k", 1, "value", 5, NULL, 0, NOW};
    sa_rb_build_opts_t opts = SA_RB_BUILD_OPTS_INIT;
    opts.leader_epoch = -1;
    if (pid >= 0) {
        opts.producer_id = pid;
        opts.producer_epoch = 0;
        opts.base_sequence = seq[pid % 16];
        seq[pid % 16] += n;
        if (txn) opts.attributes = SA_RB_ATTR_TRANSACTIONAL;
    }
    sa_buf_t b = SA_BUF_INIT(0);
    assert_int_equal(sa_rb_build(&b, &opts, recs, (size_t)n), SA_OK);
    sa_append_result_t res;
    char err[256] = "";
    sa_err_t e = sa_partition_append(f->part, b.data, b.len, NOW, &res, err, sizeof(err));
    if (e) fail_msg("append: %s: %s", sa_err2name(e), err);
    sa_buf_free(&b);
    return res.base_offset;
}

static int64_t marker(fixture_t *f, int64_t pid, int commit) {
    sa_append_result_t res;
    char err[256] = "";
    sa_err_t e = sa_partition_append_marker(f->part, pid, 0, commit, 0, NOW, &res, err, sizeof(err));
    if (e) fail_msg("marker: %s: %s", sa_err2name(e), err);
    assert_int_equal(res.base_offset, res.last_offset);
    return res.base_offset;
}

/* The aborted transactions reported for [from, upto), as "pid@first,..." */
static const char *aborted(fixture_t *f, int64_t from, int64_t upto) {
    static char out[512];
    sa_buf_t b = SA_BUF_INIT(0);
    size_t n = sa_partition_aborted_txns(f->part, from, upto, &b);
    assert_int_equal(b.len, n * sizeof(sa_aborted_txn_t));
    out[0] = '\0';
    for (size_t i = 0; i < n; i++) {
        const sa_aborted_txn_t *a = (const sa_aborted_txn_t *)b.data + i;
        snprintf(out + strlen(out), sizeof(out) - strlen(out), "%s%lld@%lld", i ? "," : "",
                 (long long)a->producer_id, (long long)a->first_offset);
    }
    sa_buf_free(&b);
    return out;
}

/* Base offsets of the batches a read from @p offset up to @p end returns, as "0,3,..." */
static const char *read_upto(fixture_t *f, int64_t offset, int64_t end) {
    static char out[512];
    sa_buf_t b = SA_BUF_INIT(0);
    assert_int_equal(sa_partition_read_upto(f->part, offset, 1 << 20, end, &b), SA_OK);
    sa_rb_iter_t it;
    sa_rb_header_t hdr;
    sa_rb_iter_init(&it, b.data, b.len);
    out[0] = '\0';
    while (sa_rb_iter_next(&it, &hdr, NULL) == SA_OK)
        snprintf(out + strlen(out), sizeof(out) - strlen(out), "%s%lld", out[0] ? "," : "",
                 (long long)hdr.BaseOffset);
    sa_buf_free(&b);
    return out;
}

static void lso_follows_open_transactions(void **state) {
    fixture_t *f = *state;
    create(f, NULL);
    assert_int_equal(produce(f, -1, 0, 2), 0);      /* 0-1: plain */
    assert_int_equal(produce(f, 1, 1, 2), 2);       /* 2-3: txn of producer 1 */
    assert_int_equal(produce(f, 2, 1, 1), 4);       /* 4: txn of producer 2 */
    assert_int_equal(produce(f, 1, 1, 1), 5);       /* 5: producer 1 again: same txn */
    assert_int_equal(sa_partition_lso(f->part), 0); /* nothing durable yet */
    sync_all(f);
    assert_int_equal(sa_partition_hwm(f->part), 6);
    assert_int_equal(sa_partition_lso(f->part), 2);
    assert_int_equal(sa_partition_txn_count(f->part), 2);
    int64_t first = -1;
    assert_true(sa_partition_txn_open(f->part, 1, &first));
    assert_int_equal(first, 2);
    assert_false(sa_partition_txn_open(f->part, 3, NULL));
    assert_string_equal(read_upto(f, 0, sa_partition_lso(f->part)), "0");
    assert_string_equal(read_upto(f, 2, sa_partition_lso(f->part)), "");

    /* Producer 2 commits: producer 1 still holds the LSO, and the marker only counts once durable. */
    assert_int_equal(marker(f, 2, 1), 6);
    assert_false(sa_partition_txn_open(f->part, 2, NULL));
    assert_int_equal(sa_partition_lso(f->part), 2);
    /* Producer 1 aborts; before the sync the LSO must not move past its first offset. */
    assert_int_equal(marker(f, 1, 0), 7);
    assert_int_equal(sa_partition_lso(f->part), 2);
    assert_int_equal(sa_partition_txn_count(f->part), 2);
    sync_all(f);
    assert_int_equal(sa_partition_txn_count(f->part), 0);
    assert_int_equal(sa_partition_lso(f->part), 8);
    assert_int_equal(sa_partition_lso(f->part), sa_partition_hwm(f->part));
    assert_string_equal(read_upto(f, 0, 8), "0,2,4,5,6,7");
    assert_string_equal(aborted(f, 0, 8), "1@2");
    assert_string_equal(aborted(f, 7, 8), "1@2"); /* the marker is at 7 */
    assert_string_equal(aborted(f, 8, 20), "");   /* after the marker: nothing to drop */
    assert_string_equal(aborted(f, 0, 2), "");    /* below its first offset */
    /* A marker for a producer with nothing open here only moves its epoch: no entry. */
    marker(f, 9, 0);
    sync_all(f);
    assert_string_equal(aborted(f, 0, 20), "1@2");
}

static void aborted_search_stops_early(void **state) {
    fixture_t *f = *state;
    create(f, NULL);
    /* Ten aborted transactions one after another, each alone: each entry's LSO is its marker + 1. */
    for (int i = 0; i < 10; i++) {
        produce(f, 1, 1, 1);
        marker(f, 1, 0);
    }
    sync_all(f);
    assert_string_equal(aborted(f, 0, 1), "1@0");
    assert_string_equal(aborted(f, 4, 6), "1@4");
    assert_string_equal(aborted(f, 3, 7), "1@2,1@4,1@6");
    /* Overlapping: producer 2 opens before producer 1's abort and aborts after it. */
    int64_t a = produce(f, 2, 1, 1);
    int64_t b = produce(f, 1, 1, 1);
    marker(f, 1, 0);
    produce(f, -1, 0, 1);
    marker(f, 2, 0);
    sync_all(f);
    assert_string_equal(aborted(f, b, b + 1), "1@21,2@20");
    assert_int_equal(a, 20);
}

static void control_batches_from_clients_refused(void **state) {
    fixture_t *f = *state;
    create(f, NULL);
    sa_rb_rec_in_t rec = {"\0\0\0\1", 4, "\0\0\0\0\0\0", 6, NULL, 0, NOW};
    sa_rb_build_opts_t opts = SA_RB_BUILD_OPTS_INIT;
    opts.attributes = SA_RB_ATTR_CONTROL | SA_RB_ATTR_TRANSACTIONAL;
    opts.producer_id = 1;
    opts.producer_epoch = 0;
    sa_buf_t b = SA_BUF_INIT(0);
    assert_int_equal(sa_rb_build(&b, &opts, &rec, 1), SA_OK);
    char err[256] = "";
    assert_int_equal(sa_partition_append(f->part, b.data, b.len, NOW, NULL, err, sizeof(err)),
                     SA_ERR_INVALID_RECORD);
    assert_non_null(strstr(err, "control"));
    assert_int_equal(sa_partition_leo(f->part), 0);
    sa_buf_free(&b);
}

static int fail_syncs;
static int failing_fdatasync(int fd) {
    if (fail_syncs > 0) {
        fail_syncs--;
        errno = EIO;
        return -1;
    }
    return fdatasync(fd);
}

static void failed_sync_reopens_transaction(void **state) {
    fixture_t *f = *state;
    create(f, NULL);
    produce(f, 1, 1, 2); /* 0-1 */
    sync_all(f);
    assert_int_equal(sa_partition_lso(f->part), 0);
    marker(f, 1, 0);     /* 2: the abort */
    produce(f, 2, 1, 1); /* 3: a new transaction begun in the part that will be cut */
    sa_sysio.fdatasync = failing_fdatasync;
    fail_syncs = 1;
    assert_int_equal(sa_store_sync(f->store, NULL, NULL), SA_ERR_KAFKA_STORAGE_ERROR);
    sa_sysio_reset();
    assert_int_equal(sa_partition_leo(f->part), 2);
    assert_true(sa_partition_txn_open(f->part, 1, NULL)); /* its marker was cut: open again */
    assert_false(sa_partition_txn_open(f->part, 2, NULL));
    assert_int_equal(sa_partition_txn_count(f->part), 1);
    assert_string_equal(aborted(f, 0, 10), "");
    assert_int_equal(sa_partition_lso(f->part), 0);
    /* The coordinator writes the marker again. */
    marker(f, 1, 0);
    sync_all(f);
    assert_int_equal(sa_partition_lso(f->part), 3);
    assert_string_equal(aborted(f, 0, 10), "1@0");
}

/* Segments of ~3 small batches; a transaction stays open across several of them. */
static void index_survives_rolls_and_restarts(void **state) {
    fixture_t *f = *state;
    create(f, "300");
    produce(f, 1, 1, 1); /* 0: producer 1 opens and stays open across rolls */
    for (int i = 0; i < 6; i++) {
        produce(f, 2, 1, 1);
        marker(f, 2, i % 2); /* abort, commit, abort, ... */
    }
    produce(f, -1, 0, 1);
    sync_all(f);
    assert_true(sa_partition_segment_count(f->part) >= 3);
    int64_t hwm = sa_partition_hwm(f->part);
    const char *want = "2@1,2@5,2@9";
    assert_string_equal(aborted(f, 0, hwm), want);
    assert_int_equal(sa_partition_lso(f->part), 0);
    for (int round = 0; round < 3; round++) {
        reopen(f, round != 1); /* clean, unclean, clean */
        assert_int_equal(sa_partition_hwm(f->part), hwm);
        assert_int_equal(sa_partition_lso(f->part), 0);
        assert_true(sa_partition_txn_open(f->part, 1, NULL));
        assert_string_equal(aborted(f, 0, hwm), want);
    }
    /* Producer 1 commits after the restarts; everything is stable. */
    marker(f, 1, 1);
    sync_all(f);
    assert_int_equal(sa_partition_lso(f->part), sa_partition_hwm(f->part));
    reopen(f, 0);
    assert_int_equal(sa_partition_lso(f->part), sa_partition_hwm(f->part));
    assert_int_equal(sa_partition_txn_count(f->part), 0);
    assert_string_equal(aborted(f, 0, hwm), want);
}

/* Damage the .txnindex of the first segment, then remove the second's (a sealed segment with a
 * transaction open across it must have one): each next start walks that segment again. A file
 * missing where nothing was open before is not noticed, and need not be: roll writes the file
 * before it creates the next segment, so only a segment with nothing to say lacks one. */
static void missing_or_damaged_index_rebuilt(void **state) {
    fixture_t *f = *state;
    create(f, "300");
    produce(f, 1, 1, 1); /* 0: open until the end */
    produce(f, 2, 1, 1); /* 1 */
    marker(f, 2, 0);     /* 2 */
    for (int i = 0; i < 6; i++) produce(f, -1, 0, 1);
    sync_all(f);
    assert_true(sa_partition_segment_count(f->part) >= 3);
    int64_t hwm = sa_partition_hwm(f->part);
    char first[700], second[700];
    txnix_of(f, 0, first, sizeof(first));
    txnix_of(f, 1, second, sizeof(second));
    assert_int_equal(access(first, F_OK), 0);
    assert_int_equal(access(second, F_OK), 0);
    for (int round = 0; round < 2; round++) {
        assert_int_equal(sa_store_close(f->store), SA_OK);
        if (round == 0) {
            FILE *fp = fopen(first, "r+b");
            assert_non_null(fp);
            fseek(fp, 20, SEEK_SET);
            fputc(0x55, fp);
            fclose(fp);
        } else {
            assert_int_equal(unlink(second), 0);
        }
        assert_int_equal(sa_store_open(f->dir, NULL, &f->store, NULL, 0), SA_OK);
        f->part = sa_store_partition(f->store, "t", 0);
        assert_string_equal(aborted(f, 0, hwm), "2@1");
        assert_true(sa_partition_txn_open(f->part, 1, NULL));
        assert_int_equal(sa_partition_lso(f->part), 0);
        assert_int_equal(access(round == 0 ? first : second, F_OK), 0); /* written again */
    }
}

static void retention_takes_index_along(void **state) {
    fixture_t *f = *state;
    create(f, "300");
    produce(f, 2, 1, 1);
    marker(f, 2, 0);
    for (int i = 0; i < 8; i++) produce(f, -1, 0, 1);
    sync_all(f);
    int64_t hwm = sa_partition_hwm(f->part);
    assert_string_equal(aborted(f, 0, hwm), "2@0");
    int64_t low = -1;
    assert_int_equal(sa_partition_delete_records(f->part, hwm - 1, &low), SA_OK);
    char path[700];
    snprintf(path, sizeof(path), "%s/t-0/%020d.txnindex", f->dir, 0);
    assert_int_equal(access(path, F_OK), -1); /* went with its segment */
    assert_string_equal(aborted(f, low, hwm), "");
    reopen(f, 0);
    assert_string_equal(aborted(f, 0, hwm), "");
    assert_int_equal(sa_partition_lso(f->part), hwm);
}

/* A sealed segment that began with a transaction open keeps a .txnindex even when nothing is open
 * at its end and nothing aborted in it: without one, every start would walk it again. */
static void carried_in_segment_keeps_its_file(void **state) {
    fixture_t *f = *state;
    create(f, "300");
    produce(f, 1, 1, 1); /* 0: open across the first roll */
    while (sa_partition_segment_count(f->part) < 2) produce(f, -1, 0, 1);
    sync_all(f);
    marker(f, 1, 1); /* in the second segment */
    while (sa_partition_segment_count(f->part) < 4) produce(f, -1, 0, 1);
    sync_all(f);
    char path[700];
    txnix_of(f, 0, path, sizeof(path));
    assert_int_equal(access(path, F_OK), 0); /* open at its end */
    txnix_of(f, 1, path, sizeof(path));
    assert_int_equal(access(path, F_OK), 0); /* open at its start */
    txnix_of(f, 2, path, sizeof(path));
    assert_int_equal(access(path, F_OK), -1); /* nothing at all */
    reopen(f, 1);
    assert_int_equal(sa_partition_lso(f->part), sa_partition_hwm(f->part));
}

/* ---- log compaction ------------------------------------------------------------------------------- */

static void create_compacted(fixture_t *f) {
    sa_config_kv_t cfg[] = {{"cleanup.policy", "compact"}, {"segment.bytes", "250"}};
    assert_int_equal(sa_store_topic_create(f->store, "t", 1, cfg, 2, 0, NULL, 0), SA_OK);
    f->part = sa_store_partition(f->store, "t", 0);
    assert_non_null(f->part);
}

/* Append one record @p key=@p value from @p pid (-1: plain), transactional or not. */
static int64_t put(fixture_t *f, int64_t pid, int txn, const char *key, const char *value) {
    static int32_t seq[16];
    sa_rb_rec_in_t rec = {key, (int32_t)strlen(key), value, (int32_t)strlen(value), NULL, 0, NOW};
    sa_rb_build_opts_t opts = SA_RB_BUILD_OPTS_INIT;
    opts.leader_epoch = -1;
    if (pid >= 0) {
        opts.producer_id = pid;
        opts.producer_epoch = 0;
        opts.base_sequence = seq[pid % 16]++;
        if (txn) opts.attributes = SA_RB_ATTR_TRANSACTIONAL;
    }
    sa_buf_t b = SA_BUF_INIT(0);
    assert_int_equal(sa_rb_build(&b, &opts, &rec, 1), SA_OK);
    sa_append_result_t res;
    char err[256] = "";
    sa_err_t e = sa_partition_append(f->part, b.data, b.len, NOW, &res, err, sizeof(err));
    if (e) fail_msg("append: %s: %s", sa_err2name(e), err);
    sa_buf_free(&b);
    return res.base_offset;
}

/* What a read_committed consumer ends up with: "key=value,..." by key (the last committed value of
 * each), reading up to the LSO and dropping aborted records as a client does; *@p nrecords gets how
 * many records a read_uncommitted read returns. */
static const char *committed_view(fixture_t *f, int *nrecords) {
    static char out[512];
    char keys[16][16], vals[16][16];
    int nk = 0;
    int64_t lso = sa_partition_lso(f->part), hwm = sa_partition_hwm(f->part);
    sa_buf_t ab = SA_BUF_INIT(0);
    size_t na = sa_partition_aborted_txns(f->part, 0, lso, &ab);
    const sa_aborted_txn_t *al = (const sa_aborted_txn_t *)ab.data;
    int64_t aborting[16];
    int naborting = 0;
    size_t next_ab = 0;
    *nrecords = 0;
    for (int64_t off = sa_partition_log_start(f->part); off < hwm;) {
        sa_buf_t b = SA_BUF_INIT(0);
        assert_int_equal(sa_partition_read_upto(f->part, off, 1 << 20, hwm, &b), SA_OK);
        if (!b.len) break;
        sa_rb_iter_t it;
        sa_rb_header_t hdr;
        const uint8_t *batch;
        sa_rb_iter_init(&it, b.data, b.len);
        while (sa_rb_iter_next(&it, &hdr, &batch) == SA_OK) {
            off = sa_rb_last_offset(&hdr) + 1;
            int rc = hdr.BaseOffset < lso; /* read_committed sees it */
            while (next_ab < na && al[next_ab].first_offset <= hdr.BaseOffset)
                aborting[naborting++] = al[next_ab++].producer_id;
            if (hdr.Attributes & SA_RB_ATTR_CONTROL) {
                if (sa_txn_marker_type(batch, sa_rb_size(&hdr), NULL) == 0)
                    for (int i = 0; i < naborting; i++)
                        if (aborting[i] == hdr.ProducerId) aborting[i--] = aborting[--naborting];
                continue;
            }
            int dropped = 0;
            for (int i = 0; i < naborting; i++) dropped |= aborting[i] == hdr.ProducerId;
            sa_rb_records_t rr;
            sa_rb_record_t rec;
            assert_int_equal(sa_rb_records_open(&rr, batch, sa_rb_size(&hdr), 1 << 20, NULL, 0), SA_OK);
            while (sa_rb_records_next(&rr, &rec) == SA_OK) {
                ++*nrecords;
                if (!rc || dropped || (hdr.Attributes & SA_RB_ATTR_TRANSACTIONAL && rec.Offset >= lso))
                    continue;
                int k = 0;
                while (k < nk && (strlen(keys[k]) != (size_t)rec.KeyLength ||
                                  memcmp(keys[k], rec.Key, (size_t)rec.KeyLength)))
                    k++;
                if (k == nk)
                    snprintf(keys[nk++], sizeof(keys[0]), "%.*s", (int)rec.KeyLength, (const char *)rec.Key);
                snprintf(vals[k], sizeof(vals[0]), "%.*s", (int)rec.ValueLength, (const char *)rec.Value);
            }
            sa_rb_records_close(&rr);
        }
        sa_buf_free(&b);
    }
    sa_buf_free(&ab);
    for (int i = 0; i < nk; i++) /* by key */
        for (int j = i + 1; j < nk; j++)
            if (strcmp(keys[j], keys[i]) < 0) {
                char t[16];
                memcpy(t, keys[i], 16), memcpy(keys[i], keys[j], 16), memcpy(keys[j], t, 16);
                memcpy(t, vals[i], 16), memcpy(vals[i], vals[j], 16), memcpy(vals[j], t, 16);
            }
    out[0] = '\0';
    for (int i = 0; i < nk; i++) {
        sa_buf_t line = SA_BUF_INIT(0);
        sa_buf_printf(&line, "%s%s=%s", i ? "," : "", keys[i], vals[i]);
        if (strlen(out) + line.len < sizeof(out)) strncat(out, (const char *)line.data, line.len);
        sa_buf_free(&line);
    }
    return out;
}

/* Every .txnindex of t-0 has its .log, and no cleaning leftover is there. */
static void no_orphans(fixture_t *f) {
    char dir[600], path[1200];
    snprintf(dir, sizeof(dir), "%s/t-0", f->dir);
    DIR *d = opendir(dir);
    assert_non_null(d);
    struct dirent *de;
    while ((de = readdir(d))) {
        assert_null(strstr(de->d_name, ".cleaned"));
        assert_null(strstr(de->d_name, ".swap"));
        assert_null(strstr(de->d_name, ".txncleaned"));
        if (strlen(de->d_name) == 29 && !strcmp(de->d_name + 20, ".txnindex")) {
            snprintf(path, sizeof(path), "%s/%.20s.log", dir, de->d_name);
            if (access(path, F_OK)) fail_msg("%s has no segment", de->d_name);
        }
    }
    closedir(d);
}

/* A compacted topic with transactions: an aborted value must not hide a committed one, nothing at
 * or past the LSO is cleaned, markers and aborted batches stay (with their index entries, merged
 * into the cleaned segment's .txnindex), across clean and unclean restarts. */
static void compaction_keeps_transactions(void **state) {
    fixture_t *f = *state;
    create_compacted(f);
    put(f, 1, 1, "a", "a1"); /* 0 */
    put(f, 1, 1, "b", "b1"); /* 1 */
    assert_int_equal(marker(f, 1, 1), 2);
    put(f, 2, 1, "a", "a2"); /* 3: aborted */
    put(f, 2, 1, "c", "c2"); /* 4: aborted, a key nobody else has */
    assert_int_equal(marker(f, 2, 0), 5);
    put(f, 1, 1, "b", "b2"); /* 6 */
    assert_int_equal(marker(f, 1, 1), 7);
    put(f, -1, 0, "d", "d1");                     /* 8 */
    assert_int_equal(put(f, 3, 1, "a", "a3"), 9); /* open: the LSO stays at 9 */
    for (int i = 0; i < 6; i++) put(f, -1, 0, "e", i % 2 ? "e1" : "e0");
    sync_all(f);
    assert_true(sa_partition_segment_count(f->part) >= 4);
    assert_int_equal(sa_partition_lso(f->part), 9);
    int n0, n1;
    const char *want = "a=a1,b=b2,d=d1";
    assert_string_equal(committed_view(f, &n0), want);
    assert_string_equal(aborted(f, 0, 9), "2@3");

    sa_clean_stats_t st;
    assert_int_equal(sa_partition_clean(f->part, NOW + 1000, &st), SA_OK);
    assert_true(st.records_kept < st.records_read);
    assert_string_equal(committed_view(f, &n1), want);
    assert_true(n1 < n0); /* b1 went; a1 stayed although the aborted a2 came after it */
    assert_int_equal(n1, n0 - 1);
    assert_string_equal(aborted(f, 0, 9), "2@3");
    assert_int_equal(sa_partition_lso(f->part), 9);
    no_orphans(f);
    for (int round = 0; round < 2; round++) {
        reopen(f, round); /* unclean, clean */
        assert_string_equal(committed_view(f, &n1), want);
        assert_string_equal(aborted(f, 0, 9), "2@3");
        assert_int_equal(sa_partition_lso(f->part), 9);
        assert_true(sa_partition_txn_open(f->part, 3, NULL));
    }

    /* Producer 3 commits: a3 now wins, and the next cleaning takes a1 (and the e's) away. */
    marker(f, 3, 1);
    for (int i = 0; i < 6; i++) put(f, -1, 0, "f", "f1");
    sync_all(f);
    int64_t hwm = sa_partition_hwm(f->part);
    assert_int_equal(sa_partition_lso(f->part), hwm);
    assert_int_equal(sa_partition_clean(f->part, NOW + 2000, &st), SA_OK);
    assert_string_equal(committed_view(f, &n1), "a=a3,b=b2,d=d1,e=e1,f=f1");
    assert_string_equal(aborted(f, 0, hwm), "2@3");
    no_orphans(f);
    reopen(f, 0);
    assert_string_equal(committed_view(f, &n1), "a=a3,b=b2,d=d1,e=e1,f=f1");
    assert_string_equal(aborted(f, 0, hwm), "2@3");
    assert_int_equal(sa_partition_txn_count(f->part), 0);
}

static void copy_file(const char *from, const char *to) {
    FILE *in = fopen(from, "rb"), *out = fopen(to, "wb");
    assert_non_null(in);
    assert_non_null(out);
    char buf[8192];
    size_t n;
    while ((n = fread(buf, 1, sizeof(buf), in)) > 0) assert_int_equal(fwrite(buf, 1, n, out), n);
    fclose(in);
    fclose(out);
}

/* Copy every .log and .txnindex file between t-0 and @p other (@p back: into t-0). */
static void copy_segments(fixture_t *f, const char *other, int back) {
    char dir[600], from[1200], to[1200];
    snprintf(dir, sizeof(dir), "%s/t-0", f->dir);
    DIR *d = opendir(back ? other : dir);
    struct dirent *de;
    while ((de = readdir(d)))
        if (strstr(de->d_name, ".log") || strstr(de->d_name, ".txnindex")) {
            snprintf(from, sizeof(from), "%s/%s", back ? other : dir, de->d_name);
            snprintf(to, sizeof(to), "%s/%s", back ? dir : other, de->d_name);
            copy_file(from, to);
        }
    closedir(d);
}

/* A crash inside the cleaner's swap, with a merged .txnindex: before the commit point (.cleaned
 * and .txncleaned left: the old files stay), after it (.swap and .txncleaned: the swap is
 * finished), and between the two renames of step d (only .txncleaned left). Each time the
 * aborted transactions and what read_committed reads are as before. */
static void compaction_swap_interrupted(void **state) {
    fixture_t *f = *state;
    for (int when = 0; when < 3; when++) {
        create_compacted(f);
        put(f, 2, 1, "a", "a2");
        assert_int_equal(marker(f, 2, 0), 1);
        for (int i = 0; i < 3; i++) put(f, 1, 1, "b", "b1");
        marker(f, 1, 1);
        for (int i = 0; i < 8; i++) put(f, -1, 0, "c", "c1");
        sync_all(f);
        int64_t hwm = sa_partition_hwm(f->part);
        int n;
        char want[256];
        snprintf(want, sizeof(want), "%s", committed_view(f, &n));
        assert_string_equal(want, "b=b1,c=c1");
        /* one group: every sealed segment into one file */
        sa_config_kv_t big[] = {{"segment.bytes", "1048576"}};
        assert_int_equal(sa_store_topic_alter_configs(f->store, "t", big, NULL, 1, 0, 0, NULL, 0), SA_OK);
        char save[600], pdir[600], path[1400], from[1200];
        snprintf(save, sizeof(save), "%s/saved", f->dir);
        snprintf(pdir, sizeof(pdir), "%s/t-0", f->dir);
        assert_int_equal(mkdir(save, 0755), 0);
        copy_segments(f, save, 0);
        int nsegs = (int)sa_partition_segment_count(f->part);
        assert_int_equal(sa_partition_clean(f->part, NOW + 1000, NULL), SA_OK);
        assert_true((int)sa_partition_segment_count(f->part) < nsegs);
        assert_string_equal(aborted(f, 0, hwm), "2@0");
        int64_t end = -1; /* the group's end: the base of the first segment after it */
        assert_int_equal(sa_store_close(f->store), SA_OK);
        DIR *d = opendir(pdir);
        struct dirent *de;
        while ((de = readdir(d)))
            if (strlen(de->d_name) == 24 && strstr(de->d_name, ".log") && atoll(de->d_name) > 0 &&
                (end < 0 || atoll(de->d_name) < end))
                end = atoll(de->d_name);
        closedir(d);
        char group[1200];
        snprintf(group, sizeof(group), "%s/%020d.%020lld", pdir, 0, (long long)end);
        snprintf(from, sizeof(from), "%s/%020d.txnindex", pdir, 0);
        snprintf(path, sizeof(path), "%s.txncleaned", group);
        assert_int_equal(rename(from, path), 0); /* the merged index, not renamed yet */
        if (when < 2) {
            snprintf(from, sizeof(from), "%s/%020d.log", pdir, 0);
            snprintf(path, sizeof(path), "%s%s", group, when == 0 ? ".cleaned" : ".swap");
            assert_int_equal(rename(from, path), 0);
            copy_segments(f, save, 1); /* the old segments and their indexes come back */
        }
        snprintf(path, sizeof(path), "%s/.clean-shutdown", f->dir);
        unlink(path);
        assert_int_equal(sa_store_open(f->dir, NULL, &f->store, NULL, 0), SA_OK);
        f->part = sa_store_partition(f->store, "t", 0);
        assert_string_equal(committed_view(f, &n), want);
        assert_string_equal(aborted(f, 0, hwm), "2@0");
        assert_int_equal(sa_partition_lso(f->part), hwm);
        if (when == 0) assert_int_equal((int)sa_partition_segment_count(f->part), nsegs);
        no_orphans(f);
        /* the next round starts over */
        assert_int_equal(sa_store_topic_delete(f->store, "t", NULL, 0), SA_OK);
        th_rmtree(save);
    }
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(lso_follows_open_transactions, setup, teardown),
        cmocka_unit_test_setup_teardown(aborted_search_stops_early, setup, teardown),
        cmocka_unit_test_setup_teardown(control_batches_from_clients_refused, setup, teardown),
        cmocka_unit_test_setup_teardown(failed_sync_reopens_transaction, setup, teardown),
        cmocka_unit_test_setup_teardown(index_survives_rolls_and_restarts, setup, teardown),
        cmocka_unit_test_setup_teardown(missing_or_damaged_index_rebuilt, setup, teardown),
        cmocka_unit_test_setup_teardown(retention_takes_index_along, setup, teardown),
        cmocka_unit_test_setup_teardown(carried_in_segment_keeps_its_file, setup, teardown),
        cmocka_unit_test_setup_teardown(compaction_keeps_transactions, setup, teardown),
        cmocka_unit_test_setup_teardown(compaction_swap_interrupted, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
