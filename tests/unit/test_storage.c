/* Storage: topics and configs, append/sync/read, offsets, rolls and index lookups, retention by
 * time and size with an injected clock, DeleteRecords, reopen after clean and unclean close. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>
#include <cmocka.h>

#include "harness.h"
#include "proto/record_batch.h"
#include "storage/storage.h"

#define T0 1700000000000LL /* a fixed "now" */

typedef struct fixture_s {
    char dir[512];
    sa_store_t *store;
} fixture_t;

static int setup(void **state) {
    fixture_t *f = calloc(1, sizeof(*f));
    if (th_mkdtemp(f->dir, sizeof(f->dir), "storage") || sa_store_open(f->dir, NULL, &f->store, NULL, 0)) {
        free(f); /* cmocka runs no teardown after a failed setup */
        return -1;
    }
    *state = f;
    return 0;
}

static int teardown(void **state) {
    fixture_t *f = *state;
    sa_store_close(f->store);
    th_rmtree(f->dir);
    free(f);
    return 0;
}

static void reopen(fixture_t *f) {
    assert_int_equal(sa_store_close(f->store), SA_OK);
    char err[512] = "";
    assert_int_equal(sa_store_open(f->dir, NULL, &f->store, err, sizeof(err)), SA_OK);
}

/* Append to @p b one batch of @p n records of @p size value bytes, timestamps ts, ts+1, ... */
static void make_batch(sa_buf_t *b, int n, int size, int64_t ts, int codec) {
    sa_rb_rec_in_t *recs = calloc((size_t)n, sizeof(*recs));
    char *val = malloc((size_t)size + 1);
    memset(val, 'v', (size_t)size);
    for (int i = 0; i < n; i++) recs[i] = (sa_rb_rec_in_t){"key", 3, val, size, NULL, 0, ts + i};
    sa_rb_build_opts_t opts = SA_RB_BUILD_OPTS_INIT;
    opts.leader_epoch = -1;
    opts.compression = codec;
    assert_int_equal(sa_rb_build(b, &opts, recs, (size_t)n), SA_OK);
    free(recs);
    free(val);
}

static int64_t append(sa_partition_t *part, int n, int size, int64_t ts, int64_t now) {
    sa_buf_t b = SA_BUF_INIT(0);
    make_batch(&b, n, size, ts, SA_RB_COMPRESSION_NONE);
    sa_append_result_t res;
    char err[256] = "";
    sa_err_t e = sa_partition_append(part, b.data, b.len, now, &res, err, sizeof(err));
    if (e) fail_msg("append: %s: %s", sa_err2name(e), err);
    sa_buf_free(&b);
    return res.base_offset;
}

static sa_partition_t *mktopic(fixture_t *f, const char *name, int parts, const sa_config_kv_t *cfg,
                               size_t n) {
    char err[256] = "";
    sa_err_t e = sa_store_topic_create(f->store, name, parts, cfg, n, 0, err, sizeof(err));
    if (e) fail_msg("create %s: %s: %s", name, sa_err2name(e), err);
    return sa_store_partition(f->store, name, 0);
}

/* Check that a read from @p offset starts with the batch containing it. */
static void check_read_at(sa_partition_t *part, int64_t offset) {
    sa_buf_t out = SA_BUF_INIT(0);
    assert_int_equal(sa_partition_read(part, offset, 1, &out), SA_OK);
    sa_rb_header_t hdr;
    assert_int_equal(sa_rb_validate(out.data, out.len, &hdr, NULL, 0), SA_OK);
    assert_int_equal(out.len, sa_rb_size(&hdr)); /* max_bytes 1: exactly one whole batch */
    assert_true(hdr.BaseOffset <= offset && offset <= sa_rb_last_offset(&hdr));
    sa_buf_free(&out);
}

static void topics_and_configs(void **state) {
    fixture_t *f = *state;
    char err[256];
    sa_store_t *s = f->store;
    assert_int_equal(sa_store_topic_create(s, "", 1, NULL, 0, 0, err, sizeof(err)),
                     SA_ERR_INVALID_TOPIC_EXCEPTION);
    assert_int_equal(sa_store_topic_create(s, "..", 1, NULL, 0, 0, err, sizeof(err)),
                     SA_ERR_INVALID_TOPIC_EXCEPTION);
    assert_int_equal(sa_store_topic_create(s, "a/b", 1, NULL, 0, 0, err, sizeof(err)),
                     SA_ERR_INVALID_TOPIC_EXCEPTION);
    char longname[260];
    memset(longname, 'x', 250);
    longname[250] = 0;
    assert_int_equal(sa_store_topic_create(s, longname, 1, NULL, 0, 0, err, sizeof(err)),
                     SA_ERR_INVALID_TOPIC_EXCEPTION);
    longname[249] = 0;
    assert_int_equal(sa_store_topic_create(s, longname, 1, NULL, 0, 1, err, sizeof(err)), SA_OK);
    assert_null(sa_store_topic_find(s, longname)); /* validate_only */
    assert_int_equal(sa_store_topic_create(s, "t", 0, NULL, 0, 0, err, sizeof(err)),
                     SA_ERR_INVALID_PARTITIONS);
    sa_config_kv_t bad[] = {{"no.such.config", "1"}};
    assert_int_equal(sa_store_topic_create(s, "t", 1, bad, 1, 0, err, sizeof(err)), SA_ERR_INVALID_CONFIG);
    sa_config_kv_t compact[] = {{"cleanup.policy", "compact,delete"}};
    assert_int_equal(sa_store_topic_create(s, "t", 1, compact, 1, 1, err, sizeof(err)), SA_OK);
    sa_config_kv_t badpolicy[] = {{"cleanup.policy", "compact,shred"}};
    assert_int_equal(sa_store_topic_create(s, "t", 1, badpolicy, 1, 0, err, sizeof(err)),
                     SA_ERR_INVALID_CONFIG);
    assert_non_null(strstr(err, "cleanup.policy"));
    sa_config_kv_t badnum[] = {{"retention.ms", "soon"}};
    assert_int_equal(sa_store_topic_create(s, "t", 1, badnum, 1, 0, err, sizeof(err)), SA_ERR_INVALID_CONFIG);

    sa_config_kv_t cfg[] = {{"retention.ms", "3600000"},
                            {"min.insync.replicas", "1"},
                            {"message.timestamp.type", "LogAppendTime"}};
    mktopic(f, "kafka-logs", 3, cfg, 3);
    mktopic(f, "a.b_c-d", -1, NULL, 0);
    assert_int_equal(sa_store_topic_create(s, "kafka-logs", 3, NULL, 0, 0, err, sizeof(err)),
                     SA_ERR_TOPIC_ALREADY_EXISTS);
    assert_int_equal(sa_store_topic_count(s), 2);
    assert_string_equal(sa_topic_name(sa_store_topic_at(s, 0)), "a.b_c-d"); /* sorted */
    sa_topic_t *t = sa_store_topic_find(s, "kafka-logs");
    assert_int_equal(sa_topic_partition_count(t), 3);
    uint8_t id[16];
    memcpy(id, sa_topic_id(t), 16);
    sa_config_entry_t e;
    assert_int_equal(sa_topic_config_find(t, "retention.ms", &e), SA_OK);
    assert_string_equal(e.value, "3600000");
    assert_int_equal(e.origin, SA_CONFIG_ORIGIN_TOPIC);
    assert_false(e.is_default);
    assert_int_equal(sa_topic_config_find(t, "segment.bytes", &e), SA_OK);
    assert_string_equal(e.value, "1073741824");
    assert_int_equal(e.origin, SA_CONFIG_ORIGIN_DEFAULT);
    assert_true(e.is_default);
    size_t n = sa_topic_config_count(t), seen = 0;
    for (size_t i = 0; i < n; i++) {
        assert_int_equal(sa_topic_config_get(t, i, &e), SA_OK);
        assert_non_null(e.value);
        seen += !strcmp(e.name, "cleanup.policy");
    }
    assert_int_equal(seen, 1);

    /* Alter: incremental set and delete, legacy replace-all. */
    sa_config_kv_t set[] = {{"retention.bytes", "1048576"}, {"retention.ms", NULL}};
    sa_config_op_t ops[] = {SA_CONFIG_OP_SET, SA_CONFIG_OP_DELETE};
    assert_int_equal(sa_store_topic_alter_configs(s, "kafka-logs", set, ops, 2, 0, 0, err, sizeof(err)),
                     SA_OK);
    assert_int_equal(sa_topic_config_find(t, "retention.ms", &e), SA_OK);
    assert_string_equal(e.value, "604800000");
    assert_int_equal(sa_topic_config_find(t, "retention.bytes", &e), SA_OK);
    assert_string_equal(e.value, "1048576");
    sa_config_kv_t nope[] = {{"retention.bytes", "-5"}};
    assert_int_equal(sa_store_topic_alter_configs(s, "kafka-logs", nope, NULL, 1, 0, 0, err, sizeof(err)),
                     SA_ERR_INVALID_CONFIG);
    assert_int_equal(sa_topic_config_find(t, "retention.bytes", &e), SA_OK);
    assert_string_equal(e.value, "1048576"); /* unchanged */
    sa_config_kv_t app[] = {{"leader.replication.throttled.replicas", "0:1"}};
    sa_config_op_t appop[] = {SA_CONFIG_OP_APPEND};
    assert_int_equal(sa_store_topic_alter_configs(s, "kafka-logs", app, appop, 1, 0, 0, err, sizeof(err)),
                     SA_OK);
    assert_int_equal(sa_store_topic_alter_configs(s, "kafka-logs", badnum, appop, 1, 0, 0, err, sizeof(err)),
                     SA_ERR_INVALID_REQUEST);

    /* Add partitions. */
    assert_int_equal(sa_store_topic_add_partitions(s, "kafka-logs", 3, 0, err, sizeof(err)),
                     SA_ERR_INVALID_PARTITIONS);
    assert_int_equal(sa_store_topic_add_partitions(s, "kafka-logs", 5, 0, err, sizeof(err)), SA_OK);
    assert_int_equal(sa_topic_partition_count(t), 5);
    assert_int_equal(sa_store_topic_add_partitions(s, "nope", 5, 0, err, sizeof(err)),
                     SA_ERR_UNKNOWN_TOPIC_OR_PARTITION);

    /* Everything survives a reopen. */
    append(sa_store_partition(s, "kafka-logs", 4), 2, 10, T0, T0);
    reopen(f);
    s = f->store;
    t = sa_store_topic_find(s, "kafka-logs");
    assert_non_null(t);
    assert_memory_equal(sa_topic_id(t), id, 16);
    assert_int_equal(sa_topic_partition_count(t), 5);
    assert_int_equal(sa_partition_hwm(sa_topic_partition(t, 4)), 2);
    assert_int_equal(sa_topic_config_find(t, "retention.bytes", &e), SA_OK);
    assert_string_equal(e.value, "1048576");
    assert_int_equal(sa_topic_config_find(t, "message.timestamp.type", &e), SA_OK);
    assert_string_equal(e.value, "LogAppendTime");

    /* Delete removes the files; a new topic of the same name starts empty. */
    assert_int_equal(sa_store_topic_delete(s, "kafka-logs", err, sizeof(err)), SA_OK);
    assert_int_equal(sa_store_topic_delete(s, "kafka-logs", err, sizeof(err)),
                     SA_ERR_UNKNOWN_TOPIC_OR_PARTITION);
    char path[1024];
    struct stat st;
    snprintf(path, sizeof(path), "%s/kafka-logs-4", f->dir);
    assert_int_not_equal(stat(path, &st), 0);
    mktopic(f, "kafka-logs", 5, NULL, 0);
    assert_int_equal(sa_partition_leo(sa_store_partition(s, "kafka-logs", 4)), 0);
    reopen(f);
    assert_int_equal(sa_store_topic_count(f->store), 2);
}

static void broker_defaults_source(void **state) {
    (void)state;
    char dir[512];
    assert_int_equal(th_mkdtemp(dir, sizeof(dir), "storage"), 0);
    sa_store_conf_t conf;
    sa_store_conf_defaults(&conf);
    conf.retention_ms = 1000;
    conf.num_partitions = 3;
    sa_store_t *s;
    assert_int_equal(sa_store_open(dir, &conf, &s, NULL, 0), SA_OK);
    assert_int_equal(sa_store_topic_create(s, "x", -1, NULL, 0, 0, NULL, 0), SA_OK);
    sa_topic_t *t = sa_store_topic_find(s, "x");
    assert_int_equal(sa_topic_partition_count(t), 3);
    sa_config_entry_t e;
    assert_int_equal(sa_topic_config_find(t, "retention.ms", &e), SA_OK);
    assert_string_equal(e.value, "1000");
    assert_int_equal(e.origin, SA_CONFIG_ORIGIN_STATIC_BROKER);
    assert_string_equal(e.synonym, "log.retention.ms");
    /* A second store on the same directory is refused. */
    sa_store_t *s2 = NULL;
    char err[256];
    assert_int_equal(sa_store_open(dir, &conf, &s2, err, sizeof(err)), SA_ERR_EXISTS);
    assert_null(s2);
    sa_store_close(s);
    th_rmtree(dir);
}

static void append_sync_read(void **state) {
    fixture_t *f = *state;
    sa_partition_t *p = mktopic(f, "t", 1, NULL, 0);
    assert_int_equal(sa_partition_leo(p), 0);
    assert_int_equal(append(p, 5, 100, T0, T0), 0);
    assert_int_equal(append(p, 3, 100, T0 + 10, T0), 5);
    /* Not synced: not visible. */
    assert_int_equal(sa_partition_hwm(p), 0);
    assert_int_equal(sa_partition_leo(p), 8);
    assert_true(sa_store_dirty(f->store));
    sa_buf_t out = SA_BUF_INIT(0);
    assert_int_equal(sa_partition_read(p, 0, 1 << 20, &out), SA_OK);
    assert_int_equal(out.len, 0);
    assert_int_equal(sa_partition_read(p, 1, 1 << 20, &out), SA_ERR_OFFSET_OUT_OF_RANGE);
    assert_int_equal(sa_store_sync(f->store, NULL, NULL), SA_OK);
    assert_false(sa_store_dirty(f->store));
    assert_int_equal(sa_partition_hwm(p), 8);
    /* From inside the first batch: both whole batches. */
    assert_int_equal(sa_partition_read(p, 3, 1 << 20, &out), SA_OK);
    sa_rb_iter_t it;
    sa_rb_header_t hdr;
    const uint8_t *batch;
    sa_rb_iter_init(&it, out.data, out.len);
    assert_int_equal(sa_rb_iter_next(&it, &hdr, &batch), SA_OK);
    assert_int_equal(hdr.BaseOffset, 0);
    assert_int_equal(hdr.PartitionLeaderEpoch, 0);
    assert_true(sa_rb_crc_ok(batch, sa_rb_size(&hdr)));
    assert_int_equal(sa_rb_iter_next(&it, &hdr, &batch), SA_OK);
    assert_int_equal(hdr.BaseOffset, 5);
    assert_int_equal(sa_rb_iter_next(&it, &hdr, &batch), SA_ERR_NOT_FOUND);
    /* max_bytes smaller than a batch: still one whole batch. */
    sa_buf_reset(&out);
    check_read_at(p, 6);
    assert_int_equal(sa_partition_read(p, 8, 1 << 20, &out), SA_OK);
    assert_int_equal(out.len, 0);
    assert_int_equal(sa_partition_read(p, 9, 1 << 20, &out), SA_ERR_OFFSET_OUT_OF_RANGE);
    assert_int_equal(sa_partition_read(p, -1, 1 << 20, &out), SA_ERR_OFFSET_OUT_OF_RANGE);
    /* A capped buffer smaller than the first batch. */
    sa_buf_t small = SA_BUF_INIT(16);
    assert_int_equal(sa_partition_read(p, 0, 1 << 20, &small), SA_ERR_TOOBIG);
    sa_buf_free(&small);

    /* Rejects write nothing. */
    sa_buf_t b = SA_BUF_INIT(0);
    make_batch(&b, 2, 10, T0, SA_RB_COMPRESSION_NONE);
    b.data[b.len - 1] ^= 1;
    char err[256];
    assert_int_equal(sa_partition_append(p, b.data, b.len, T0, NULL, err, sizeof(err)),
                     SA_ERR_CORRUPT_MESSAGE);
    b.data[b.len - 1] ^= 1;
    assert_int_equal(sa_partition_append(p, b.data, b.len - 1, T0, NULL, err, sizeof(err)),
                     SA_ERR_CORRUPT_MESSAGE);
    assert_int_equal(sa_partition_append(p, b.data, 0, T0, NULL, err, sizeof(err)), SA_ERR_CORRUPT_MESSAGE);
    b.data[16] = 1;
    assert_int_equal(sa_partition_append(p, b.data, b.len, T0, NULL, err, sizeof(err)),
                     SA_ERR_UNSUPPORTED_FOR_MESSAGE_FORMAT);
    sa_buf_reset(&b);
    make_batch(&b, 1, 2 << 20, T0, SA_RB_COMPRESSION_NONE);
    assert_int_equal(sa_partition_append(p, b.data, b.len, T0, NULL, err, sizeof(err)),
                     SA_ERR_MESSAGE_TOO_LARGE);
    assert_int_equal(sa_partition_leo(p), 8);
    /* A good batch after a bad one in the same request: all refused. */
    sa_buf_reset(&b);
    make_batch(&b, 2, 10, T0, SA_RB_COMPRESSION_NONE);
    make_batch(&b, 2, 10, T0, SA_RB_COMPRESSION_NONE);
    b.data[b.len - 1] ^= 1;
    assert_int_equal(sa_partition_append(p, b.data, b.len, T0, NULL, err, sizeof(err)),
                     SA_ERR_CORRUPT_MESSAGE);
    assert_int_equal(sa_partition_leo(p), 8);
    /* Several batches in one request, compressed ones among them. */
    sa_buf_reset(&b);
    make_batch(&b, 2, 10, T0, SA_RB_COMPRESSION_ZSTD);
    make_batch(&b, 4, 10, T0, SA_RB_COMPRESSION_GZIP);
    sa_append_result_t res;
    assert_int_equal(sa_partition_append(p, b.data, b.len, T0, &res, err, sizeof(err)), SA_OK);
    assert_int_equal(res.base_offset, 8);
    assert_int_equal(res.last_offset, 13);
    assert_int_equal(res.batch_count, 2);
    assert_int_equal(res.log_append_time, -1);
    /* The caller's buffer now carries the assigned offsets. */
    sa_rb_iter_init(&it, b.data, b.len);
    assert_int_equal(sa_rb_iter_next(&it, &hdr, NULL), SA_OK);
    assert_int_equal(hdr.BaseOffset, 8);
    assert_int_equal(sa_rb_iter_next(&it, &hdr, NULL), SA_OK);
    assert_int_equal(hdr.BaseOffset, 10);
    sa_store_sync(f->store, NULL, NULL);
    check_read_at(p, 12);
    sa_buf_free(&b);
    sa_buf_free(&out);
}

static int count_batches(void *opaque, const sa_rb_header_t *hdr) {
    int64_t *n = opaque;
    n[0]++;
    n[1] = sa_rb_last_offset(hdr);
    return 0;
}

static void rolls_and_index_lookups(void **state) {
    fixture_t *f = *state;
    sa_config_kv_t cfg[] = {{"segment.bytes", "8192"}, {"index.interval.bytes", "512"}};
    sa_partition_t *p = mktopic(f, "roll", 1, cfg, 2);
    int64_t next = 0, max_ts = -1, max_off = -1;
    for (int i = 0; i < 400; i++) {
        int n = 1 + i % 7;
        assert_int_equal(append(p, n, 20 + i % 50, T0 + i, T0), next);
        if (T0 + i + n - 1 > max_ts) {
            max_ts = T0 + i + n - 1;
            max_off = next + n - 1;
        }
        next += n;
        if (i % 13 == 0) sa_store_sync(f->store, NULL, NULL);
    }
    sa_store_sync(f->store, NULL, NULL);
    assert_true(sa_partition_segment_count(p) > 5);
    assert_int_equal(sa_partition_hwm(p), next);
    for (int64_t o = 0; o < next; o++) check_read_at(p, o);
    /* Reading everything batch by batch gives every offset once. */
    int64_t o = 0;
    sa_buf_t out = SA_BUF_INIT(0);
    while (o < next) {
        sa_buf_reset(&out);
        assert_int_equal(sa_partition_read(p, o, 3000, &out), SA_OK);
        assert_true(out.len > 0);
        sa_rb_iter_t it;
        sa_rb_header_t hdr;
        sa_rb_iter_init(&it, out.data, out.len);
        while (sa_rb_iter_next(&it, &hdr, NULL) == SA_OK) {
            assert_int_equal(hdr.BaseOffset, o);
            o = sa_rb_last_offset(&hdr) + 1;
        }
        assert_int_equal(it.pos, out.len);
    }
    sa_buf_free(&out);
    int64_t cnt[2] = {0, -1};
    assert_int_equal(sa_partition_scan_batches(p, 0, count_batches, cnt), SA_OK);
    assert_int_equal(cnt[0], 400);
    assert_int_equal(cnt[1], next - 1);
    /* Offset for time: record i's batch starts at T0 + i. */
    int64_t off, ts;
    assert_int_equal(sa_partition_offset_for_time(p, T0 + 200, &off, &ts), SA_OK);
    assert_int_equal(ts, T0 + 200);
    check_read_at(p, off);
    assert_int_equal(sa_partition_offset_for_time(p, 0, &off, &ts), SA_OK);
    assert_int_equal(off, 0);
    assert_int_equal(sa_partition_offset_for_time(p, T0 + 100000, &off, &ts), SA_OK);
    assert_int_equal(off, -1);
    assert_int_equal(sa_partition_max_timestamp(p, &off, &ts), SA_OK);
    assert_int_equal(ts, max_ts);
    assert_int_equal(off, max_off);
    /* Indexes survive a clean reopen and are rebuilt after an unclean one. */
    size_t segs = sa_partition_segment_count(p);
    reopen(f);
    p = sa_store_partition(f->store, "roll", 0);
    assert_int_equal(sa_partition_segment_count(p), segs);
    assert_int_equal(sa_partition_max_timestamp(p, &off, &ts), SA_OK); /* exact after reload */
    assert_int_equal(ts, max_ts);
    assert_int_equal(off, max_off);
    /* Unsynced appends do not count. */
    append(p, 1, 10, T0 + 999999, T0);
    assert_int_equal(sa_partition_max_timestamp(p, &off, &ts), SA_OK);
    assert_int_equal(ts, max_ts);
    sa_store_sync(f->store, NULL, NULL);
    assert_int_equal(sa_partition_max_timestamp(p, &off, &ts), SA_OK);
    assert_int_equal(ts, T0 + 999999);
    assert_int_equal(off, next);
    next++;
    assert_int_equal(sa_partition_leo(p), next);
    for (int64_t x = 0; x < next; x += 7) check_read_at(p, x);
    assert_int_equal(sa_partition_offset_for_time(p, T0 + 200, &off, &ts), SA_OK);
    assert_int_equal(ts, T0 + 200);
}

/* A maximum timestamp in the middle of a segment, between sparse index entries, must survive a
 * clean reopen (retention and MAX_TIMESTAMP depend on it). */
static void max_timestamp_between_index_entries(void **state) {
    fixture_t *f = *state;
    sa_config_kv_t cfg[] = {{"index.interval.bytes", "1000"}};
    sa_partition_t *p = mktopic(f, "mx", 1, cfg, 1);
    append(p, 1, 100, T0, T0);        /* indexed: first batch */
    append(p, 1, 100, T0 + 5000, T0); /* the maximum, not due for an index entry */
    for (int i = 0; i < 40; i++) append(p, 1, 100, T0 + 10 + i, T0); /* lower, > 1 interval */
    sa_store_sync(f->store, NULL, NULL);
    int64_t off, ts;
    assert_int_equal(sa_partition_max_timestamp(p, &off, &ts), SA_OK);
    assert_int_equal(ts, T0 + 5000);
    assert_int_equal(off, 1);
    reopen(f);
    p = sa_store_partition(f->store, "mx", 0);
    assert_int_equal(sa_partition_max_timestamp(p, &off, &ts), SA_OK);
    assert_int_equal(ts, T0 + 5000);
    assert_int_equal(off, 1);
    /* Retention keeps the segment while its newest record is young. */
    sa_config_kv_t ret[] = {{"retention.ms", "10000"}};
    assert_int_equal(sa_store_topic_alter_configs(f->store, "mx", ret, NULL, 1, 0, 0, NULL, 0), SA_OK);
    append(p, 1, 100, T0 + 100, T0 + 8 * 86400000LL); /* rolls by segment.ms: the old one is sealed */
    sa_store_sync(f->store, NULL, NULL);
    assert_int_equal(sa_partition_segment_count(p), 2);
    reopen(f);
    p = sa_store_partition(f->store, "mx", 0);
    assert_int_equal(sa_store_enforce_retention(f->store, T0 + 14000), SA_OK);
    assert_int_equal(sa_partition_log_start(p), 0);
    assert_int_equal(sa_store_enforce_retention(f->store, T0 + 15001), SA_OK);
    assert_int_equal(sa_partition_log_start(p), 43); /* both segments, the active one rolled first */
}

/* Batches without timestamps (-1) are aged by the segment file's mtime, not deleted at once. */
static void retention_without_timestamps(void **state) {
    fixture_t *f = *state;
    sa_config_kv_t cfg[] = {{"segment.bytes", "300"}, {"retention.ms", "60000"}};
    sa_partition_t *p = mktopic(f, "nots", 1, cfg, 2);
    for (int i = 0; i < 6; i++) append(p, 1, 100, -1, T0);
    sa_store_sync(f->store, NULL, NULL);
    assert_true(sa_partition_segment_count(p) > 2);
    int64_t now = (int64_t)time(NULL) * 1000;
    assert_int_equal(sa_store_enforce_retention(f->store, now), SA_OK);
    assert_int_equal(sa_partition_log_start(p), 0);
    assert_int_equal(sa_store_enforce_retention(f->store, now + 3600000), SA_OK);
    assert_int_equal(sa_partition_log_start(p), 6);
}

static void segment_ms_roll(void **state) {
    fixture_t *f = *state;
    sa_config_kv_t cfg[] = {{"segment.ms", "1000"}};
    sa_partition_t *p = mktopic(f, "t", 1, cfg, 1);
    append(p, 1, 10, T0, T0);
    append(p, 1, 10, T0, T0 + 999);
    assert_int_equal(sa_partition_segment_count(p), 1);
    append(p, 1, 10, T0, T0 + 1000);
    assert_int_equal(sa_partition_segment_count(p), 2);
    sa_store_sync(f->store, NULL, NULL);
    assert_int_equal(sa_partition_hwm(p), 3);
    check_read_at(p, 1);
    check_read_at(p, 2);
}

static void retention_by_time_and_size(void **state) {
    fixture_t *f = *state;
    sa_config_kv_t cfg[] = {{"segment.bytes", "2000"}, {"retention.ms", "60000"}};
    sa_partition_t *p = mktopic(f, "t", 1, cfg, 2);
    /* 30 batches of ~170 bytes, one second apart in record time. */
    for (int i = 0; i < 30; i++) append(p, 1, 100, T0 + i * 1000, T0);
    sa_store_sync(f->store, NULL, NULL);
    size_t segs = sa_partition_segment_count(p);
    assert_true(segs >= 3);
    /* Nothing is old yet. */
    assert_int_equal(sa_store_enforce_retention(f->store, T0 + 60000), SA_OK);
    assert_int_equal(sa_partition_segment_count(p), segs);
    assert_int_equal(sa_partition_log_start(p), 0);
    /* Records up to T0+15s expire: the segments holding only those go. */
    assert_int_equal(sa_store_enforce_retention(f->store, T0 + 75500), SA_OK);
    int64_t start = sa_partition_log_start(p);
    assert_true(start > 0 && start <= 16);
    assert_true(sa_partition_segment_count(p) < segs);
    sa_buf_t out = SA_BUF_INIT(0);
    assert_int_equal(sa_partition_read(p, 0, 100, &out), SA_ERR_OFFSET_OUT_OF_RANGE);
    check_read_at(p, start);
    /* All expired, including the active segment: rolled, deleted, next offset kept. */
    assert_int_equal(sa_store_enforce_retention(f->store, T0 + 10000000), SA_OK);
    assert_int_equal(sa_partition_log_start(p), 30);
    assert_int_equal(sa_partition_hwm(p), 30);
    assert_int_equal(sa_partition_leo(p), 30);
    assert_int_equal(sa_partition_size(p), 0);
    assert_int_equal(append(p, 1, 10, T0 + 10000000, T0), 30);
    sa_store_sync(f->store, NULL, NULL);
    check_read_at(p, 30);
    /* The log start offset survives a reopen. */
    reopen(f);
    p = sa_store_partition(f->store, "t", 0);
    assert_int_equal(sa_partition_log_start(p), 30);
    assert_int_equal(sa_partition_leo(p), 31);

    /* Size: keep at most ~3000 bytes. */
    sa_config_kv_t cfg2[] = {{"segment.bytes", "1000"}, {"retention.bytes", "3000"}};
    sa_partition_t *q = mktopic(f, "s", 1, cfg2, 2);
    for (int i = 0; i < 60; i++) append(q, 1, 100, T0, T0);
    sa_store_sync(f->store, NULL, NULL);
    int64_t before = sa_partition_size(q);
    assert_true(before > 9000);
    assert_int_equal(sa_store_enforce_retention(f->store, T0), SA_OK);
    assert_true(sa_partition_size(q) <= 3000 + 1000);
    assert_true(sa_partition_size(q) >= 3000 - 1000);
    assert_int_equal(sa_partition_hwm(q), 60);
    check_read_at(q, sa_partition_log_start(q));
    /* Unsynced data is never deleted by retention. */
    for (int i = 0; i < 30; i++) append(q, 1, 100, T0, T0);
    assert_int_equal(sa_store_enforce_retention(f->store, T0), SA_OK);
    assert_true(sa_partition_log_start(q) <= 60);
    sa_buf_free(&out);
}

static void delete_records(void **state) {
    fixture_t *f = *state;
    sa_config_kv_t cfg[] = {{"segment.bytes", "1000"}};
    sa_partition_t *p = mktopic(f, "t", 1, cfg, 1);
    for (int i = 0; i < 40; i++) append(p, 2, 50, T0, T0);
    sa_store_sync(f->store, NULL, NULL);
    size_t segs = sa_partition_segment_count(p);
    int64_t lw;
    assert_int_equal(sa_partition_delete_records(p, 81, &lw), SA_ERR_OFFSET_OUT_OF_RANGE);
    assert_int_equal(sa_partition_delete_records(p, 41, &lw), SA_OK);
    assert_int_equal(lw, 41);
    assert_true(sa_partition_segment_count(p) < segs);
    sa_buf_t out = SA_BUF_INIT(0);
    assert_int_equal(sa_partition_read(p, 40, 100, &out), SA_ERR_OFFSET_OUT_OF_RANGE);
    check_read_at(p, 41); /* the batch 40-41 is returned whole; the client skips 40 */
    assert_int_equal(sa_partition_delete_records(p, 10, &lw), SA_OK); /* no going back */
    assert_int_equal(lw, 41);
    int64_t off, ts;
    assert_int_equal(sa_partition_offset_for_time(p, 0, &off, &ts), SA_OK);
    assert_int_equal(off, 41);
    reopen(f);
    p = sa_store_partition(f->store, "t", 0);
    assert_int_equal(sa_partition_log_start(p), 41);
    assert_int_equal(sa_partition_delete_records(p, -1, &lw), SA_OK);
    assert_int_equal(lw, 80);
    assert_int_equal(sa_partition_log_start(p), 80);
    sa_buf_free(&out);
}

static void log_append_time(void **state) {
    fixture_t *f = *state;
    sa_config_kv_t cfg[] = {{"message.timestamp.type", "LogAppendTime"}};
    sa_partition_t *p = mktopic(f, "lat", 1, cfg, 1);
    sa_buf_t b = SA_BUF_INIT(0);
    make_batch(&b, 3, 10, 5, SA_RB_COMPRESSION_SNAPPY);
    sa_append_result_t res;
    assert_int_equal(sa_partition_append(p, b.data, b.len, T0 + 42, &res, NULL, 0), SA_OK);
    assert_int_equal(res.log_append_time, T0 + 42);
    sa_store_sync(f->store, NULL, NULL);
    sa_buf_t out = SA_BUF_INIT(0);
    assert_int_equal(sa_partition_read(p, 0, 1 << 20, &out), SA_OK);
    sa_rb_records_t rr;
    sa_rb_record_t rec;
    assert_int_equal(sa_rb_records_open(&rr, out.data, out.len, 1 << 20, NULL, 0), SA_OK);
    assert_true(rr.hdr.Attributes & SA_RB_ATTR_LOG_APPEND_TIME);
    int n = 0;
    while (sa_rb_records_next(&rr, &rec) == SA_OK) {
        assert_int_equal(rec.Timestamp, T0 + 42);
        n++;
    }
    assert_int_equal(n, 3);
    sa_rb_records_close(&rr);
    sa_buf_free(&b);
    sa_buf_free(&out);
}

/* A child appends and syncs, then dies without closing: the parent reopens (unclean). */
static void unclean_reopen(void **state) {
    fixture_t *f = *state;
    mktopic(f, "u", 2, NULL, 0);
    assert_int_equal(sa_store_close(f->store), SA_OK);
    f->store = NULL;
    pid_t pid = fork();
    assert_true(pid >= 0);
    if (pid == 0) {
        sa_store_t *s;
        if (sa_store_open(f->dir, NULL, &s, NULL, 0)) _exit(1);
        sa_partition_t *p = sa_store_partition(s, "u", 1);
        for (int i = 0; i < 50; i++) append(p, 3, 30, T0 + i, T0);
        sa_store_sync(s, NULL, NULL);
        _exit(sa_partition_hwm(p) == 150 ? 42 : 2);
    }
    int status;
    waitpid(pid, &status, 0);
    assert_int_equal(WEXITSTATUS(status), 42);
    char marker[1024];
    snprintf(marker, sizeof(marker), "%s/.clean-shutdown", f->dir);
    assert_int_not_equal(access(marker, F_OK), 0);
    assert_int_equal(sa_store_open(f->dir, NULL, &f->store, NULL, 0), SA_OK);
    sa_partition_t *p = sa_store_partition(f->store, "u", 1);
    assert_int_equal(sa_partition_leo(p), 150);
    assert_int_equal(sa_partition_hwm(p), 150);
    for (int64_t o = 0; o < 150; o += 5) check_read_at(p, o);
    assert_int_equal(append(p, 1, 10, T0, T0), 150);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(topics_and_configs, setup, teardown),
        cmocka_unit_test(broker_defaults_source),
        cmocka_unit_test_setup_teardown(append_sync_read, setup, teardown),
        cmocka_unit_test_setup_teardown(rolls_and_index_lookups, setup, teardown),
        cmocka_unit_test_setup_teardown(max_timestamp_between_index_entries, setup, teardown),
        cmocka_unit_test_setup_teardown(retention_without_timestamps, setup, teardown),
        cmocka_unit_test_setup_teardown(segment_ms_roll, setup, teardown),
        cmocka_unit_test_setup_teardown(retention_by_time_and_size, setup, teardown),
        cmocka_unit_test_setup_teardown(delete_records, setup, teardown),
        cmocka_unit_test_setup_teardown(log_append_time, setup, teardown),
        cmocka_unit_test_setup_teardown(unclean_reopen, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
