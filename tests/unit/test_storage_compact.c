/*
 * Log compaction (storage/cleaner.c), against a model.
 *
 * The property test appends random batches (keys from a small set, unique values, 1 in 8
 * records a tombstone, some batches from idempotent producers, every codec) to a compacted topic
 * with tiny segments, and now and then rolls, syncs, cleans (sa_partition_clean, the cleaner's own
 * job on this thread), moves the clock, deletes records, or reopens the store. After each
 * cleaning it reads the whole log back as a consumer does and checks it against the model:
 *   - offsets strictly increase and every record is the one appended at its offset;
 *   - below the cleaned point, each key keeps exactly its last record, a tombstone until its
 *     delete horizon (the cleaning that first kept it + delete.retention.ms) has passed, and then
 *     nothing; above it every record is there;
 *   - each producer's last batch keeps its offsets and sequence (empty if need be);
 *   - a fetch from any offset, one that was cleaned away included, starts with the first
 *     surviving record at or after it.
 * Seeds 1..COMPACT_SEEDS (default 60, ~35 s under ASan; docs/compaction.md reports a run of 2000); a failure
 * names its seed. Also: the policy's effect on retention, keyless records refused, and the recovery of a swap
 * interrupted before and after its commit point.
 */
#include <dirent.h>
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

#include "harness.h"
#include "proto/record_batch.h"
#include "storage/storage.h"

#define T0       1700000000000LL
#define NKEYS    12
#define MAXOFF   4000
#define RETAIN_D 50000 /* delete.retention.ms of the property test */

typedef struct rec_s {
    int key;     /* -1: none appended at this offset */
    int64_t val; /* -1: tombstone */
} rec_t;

typedef struct model_s {
    rec_t recs[MAXOFF];
    int64_t horizon[MAXOFF]; /* of a tombstone kept by a cleaning; 0 = none yet */
    int gone[MAXOFF];        /* removed by a cleaning (or below the log start) */
    int64_t next;            /* next offset */
    int64_t log_start;
    int64_t pid_last[3]; /* base offset of each producer's last batch, -1 */
    int32_t pid_seq[3];  /* the sequence its next batch takes */
} model_t;

static unsigned seed_state;
static unsigned rnd(unsigned n) {
    seed_state = seed_state * 1103515245u + 12345u;
    return (seed_state >> 8) % n;
}

static void make_store(char *dir, size_t size, sa_store_t **store) {
    assert_int_equal(th_mkdtemp(dir, size, "compact"), 0);
    char err[256] = "";
    assert_int_equal(sa_store_open(dir, NULL, store, err, sizeof(err)), SA_OK);
}

static sa_partition_t *compacted_topic(sa_store_t *store, const char *policy) {
    sa_config_kv_t cfg[] = {{"cleanup.policy", policy},
                            {"segment.bytes", "600"},
                            {"segment.ms", "1000"},
                            {"delete.retention.ms", "50000"}};
    char err[256] = "";
    sa_err_t e = sa_store_topic_create(store, "c", 1, cfg, 4, 0, err, sizeof(err));
    if (e) fail_msg("create: %s", err);
    return sa_store_partition(store, "c", 0);
}

/* Append one random batch at @p now; records it in @p m. */
static void append_random(sa_partition_t *part, model_t *m, int64_t now, int force_key) {
    int n = force_key >= 0 ? 1 : 1 + (int)rnd(5);
    if (m->next + n >= MAXOFF) return;
    sa_rb_rec_in_t recs[5];
    char keys[5][8], vals[5][24];
    for (int i = 0; i < n; i++) {
        int k = force_key >= 0 ? force_key : (int)rnd(NKEYS);
        int64_t off = m->next + i;
        int tomb = force_key < 0 && rnd(8) == 0;
        snprintf(keys[i], sizeof(keys[i]), "k%d", k);
        snprintf(vals[i], sizeof(vals[i]), "v%lld", (long long)off);
        recs[i] = (sa_rb_rec_in_t){keys[i],
                                   (int32_t)strlen(keys[i]),
                                   tomb ? NULL : vals[i],
                                   tomb ? -1 : (int32_t)strlen(vals[i]),
                                   NULL,
                                   0,
                                   now - 10 + i};
        m->recs[off] = (rec_t){k, tomb ? -1 : off};
    }
    static const int codecs[] = {SA_RB_COMPRESSION_NONE, SA_RB_COMPRESSION_GZIP, SA_RB_COMPRESSION_SNAPPY,
                                 SA_RB_COMPRESSION_LZ4, SA_RB_COMPRESSION_ZSTD};
    sa_rb_build_opts_t opts = SA_RB_BUILD_OPTS_INIT;
    opts.compression = codecs[rnd(5)];
    int pid = rnd(3) == 0 ? (int)rnd(3) : -1;
    if (pid >= 0) {
        opts.producer_id = 1000 + pid;
        opts.producer_epoch = 0;
        opts.base_sequence = m->pid_seq[pid];
    }
    sa_buf_t b = SA_BUF_INIT(0);
    assert_int_equal(sa_rb_build(&b, &opts, recs, (size_t)n), SA_OK);
    sa_append_result_t res;
    char err[256] = "";
    sa_err_t e = sa_partition_append(part, b.data, b.len, now, &res, err, sizeof(err));
    if (e) fail_msg("append: %s %s", sa_err2name(e), err);
    assert_int_equal(res.base_offset, m->next);
    if (pid >= 0) {
        m->pid_last[pid] = m->next;
        m->pid_seq[pid] += n;
    }
    m->next += n;
    sa_buf_free(&b);
}

/* The model's cleaning of everything below @p end at @p now (cleaner.c's rules). */
static void model_clean(model_t *m, int64_t end, int64_t now) {
    int64_t last[NKEYS];
    for (int k = 0; k < NKEYS; k++) last[k] = -1;
    for (int64_t o = 0; o < end; o++)
        if (m->recs[o].key >= 0 && !m->gone[o]) last[m->recs[o].key] = o;
    for (int64_t o = 0; o < end; o++) {
        if (m->recs[o].key < 0 || m->gone[o]) continue;
        if (o != last[m->recs[o].key]) {
            m->gone[o] = 1;
        } else if (m->recs[o].val < 0) {
            if (m->horizon[o] && m->horizon[o] <= now)
                m->gone[o] = 1;
            else if (!m->horizon[o])
                m->horizon[o] = now + RETAIN_D;
        }
    }
}

/* One record as read back. */
typedef struct got_s {
    int64_t off;
    int key;
    int64_t val;
} got_t;

static size_t decode(const uint8_t *p, size_t len, got_t *out, size_t max, int64_t *next) {
    sa_rb_iter_t it;
    sa_rb_header_t hdr;
    const uint8_t *batch;
    size_t n = 0;
    sa_rb_iter_init(&it, p, len);
    while (sa_rb_iter_next(&it, &hdr, &batch) == SA_OK) {
        assert_true(sa_rb_crc_ok(batch, sa_rb_size(&hdr)));
        sa_rb_records_t rr;
        sa_rb_record_t rec;
        assert_int_equal(sa_rb_records_open(&rr, batch, sa_rb_size(&hdr), 1 << 20, NULL, 0), SA_OK);
        sa_err_t e;
        while ((e = sa_rb_records_next(&rr, &rec)) == SA_OK) {
            assert_true(n < max);
            char kb[16] = "", vb[32] = "";
            memcpy(kb, rec.Key, (size_t)rec.KeyLength);
            if (rec.ValueLength >= 0) memcpy(vb, rec.Value, (size_t)rec.ValueLength);
            out[n++] = (got_t){rec.Offset, atoi(kb + 1), rec.ValueLength < 0 ? -1 : atoll(vb + 1)};
            assert_true(rec.Offset <= sa_rb_last_offset(&hdr));
        }
        assert_int_equal(e, SA_ERR_NOT_FOUND);
        sa_rb_records_close(&rr);
        *next = sa_rb_last_offset(&hdr) + 1;
    }
    return n;
}

/* Read the log from @p from to the HWM as a consumer does. */
static size_t read_all(sa_partition_t *part, int64_t from, got_t *out, size_t max) {
    size_t n = 0;
    int64_t off = from;
    while (off < sa_partition_hwm(part)) {
        sa_buf_t b = SA_BUF_INIT(0);
        assert_int_equal(sa_partition_read(part, off, (size_t)(rnd(2) ? 1 : 1 << 20), &b), SA_OK);
        if (b.len == 0) /* a consumer always progresses */
            fail_msg("read at %lld (hwm %lld, log start %lld, %zu segments) returned nothing", (long long)off,
                     (long long)sa_partition_hwm(part), (long long)sa_partition_log_start(part),
                     sa_partition_segment_count(part));
        int64_t next = off;
        size_t k = decode(b.data, b.len, out + n, max - n, &next);
        size_t at = n;
        for (size_t j = 0; j < k; j++) /* a batch may start below the log start: a consumer skips those */
            if (out[at + j].off >= from) out[n++] = out[at + j];
        assert_true(next > off);
        off = next;
        sa_buf_free(&b);
    }
    return n;
}

static int lastbatch_visit(void *opaque, const sa_rb_header_t *hdr) {
    model_t *m = opaque;
    for (int p = 0; p < 3; p++)
        if (hdr->ProducerId == 1000 + p && hdr->BaseOffset == m->pid_last[p])
            m->pid_last[p] = -2 - m->pid_last[p];
    return 0;
}

static void check(sa_partition_t *part, model_t *m, unsigned seed) {
    static got_t got[MAXOFF];
    if (sa_partition_log_start(part) != m->log_start)
        fail_msg("seed %u: log start %lld, model %lld", seed, (long long)sa_partition_log_start(part),
                 (long long)m->log_start);
    size_t n = read_all(part, m->log_start, got, MAXOFF);
    size_t i = 0;
    for (int64_t o = m->log_start; o < m->next; o++) {
        if (m->recs[o].key < 0 || m->gone[o]) continue;
        if (i >= n || got[i].off != o)
            fail_msg("seed %u: offset %lld (key k%d) missing; got %lld", seed, (long long)o, m->recs[o].key,
                     i < n ? (long long)got[i].off : -1LL);
        assert_int_equal(got[i].key, m->recs[o].key);
        assert_int_equal(got[i].val, m->recs[o].val);
        i++;
    }
    if (i != n)
        fail_msg("seed %u: %zu records read beyond the model's %zu (offset %lld)", seed, n, i,
                 (long long)got[i].off);
    /* Each producer's last batch is still there, whole or empty. */
    model_t copy = *m;
    assert_int_equal(sa_partition_scan_batches(part, m->log_start, lastbatch_visit, &copy), SA_OK);
    for (int p = 0; p < 3; p++)
        if (m->pid_last[p] >= m->log_start)
            if (copy.pid_last[p] >= 0)
                fail_msg("seed %u: producer %d's last batch %lld is gone", seed, p,
                         (long long)m->pid_last[p]);
    /* A fetch from any offset starts with the first surviving record at or after it. */
    for (int t = 0; t < 5 && m->next > m->log_start; t++) {
        int64_t o = m->log_start + (int64_t)rnd((unsigned)(m->next - m->log_start));
        int64_t want = -1;
        for (int64_t x = o; x < m->next && want < 0; x++)
            if (m->recs[x].key >= 0 && !m->gone[x]) want = x;
        sa_buf_t b = SA_BUF_INIT(0);
        int64_t off = o;
        int64_t first = -1;
        while (first < 0 && off < sa_partition_hwm(part)) {
            sa_buf_reset(&b);
            assert_int_equal(sa_partition_read(part, off, 1, &b), SA_OK);
            size_t k = decode(b.data, b.len, got, MAXOFF, &off);
            for (size_t j = 0; j < k && first < 0; j++)
                if (got[j].off >= o) first = got[j].off;
        }
        sa_buf_free(&b);
        if (first != want)
            fail_msg("seed %u: fetch at %lld starts at %lld, not %lld", seed, (long long)o, (long long)first,
                     (long long)want);
    }
}

static void property(void **state) {
    (void)state;
    const char *env = getenv("COMPACT_SEEDS");
    unsigned seeds = env ? (unsigned)atoi(env) : 60;
    static model_t m;
    int64_t cleanings = 0, removed = 0;
    for (unsigned seed = 1; seed <= seeds; seed++) {
        seed_state = seed;
        memset(&m, 0, sizeof(m));
        for (int p = 0; p < 3; p++) m.pid_last[p] = -1;
        for (int o = 0; o < MAXOFF; o++) m.recs[o].key = -1;
        char dir[512];
        sa_store_t *store;
        make_store(dir, sizeof(dir), &store);
        sa_partition_t *part = compacted_topic(store, seed % 3 ? "compact" : "compact,delete");
        int64_t now = T0;
        int steps = 60 + (int)rnd(120);
        for (int s = 0; s < steps && m.next < MAXOFF - 100; s++) {
            unsigned op = rnd(20);
            if (op < 14) {
                append_random(part, &m, now, -1);
            } else if (op < 17) {
                /* Roll (the next append is past segment.ms), sync, clean everything before it. */
                now += 1500;
                append_random(part, &m, now, (int)rnd(NKEYS));
                int64_t end = m.next - 1;
                assert_int_equal(sa_store_sync(store, NULL, NULL), SA_OK);
                sa_clean_stats_t st;
                sa_err_t e = sa_partition_clean(part, now, &st);
                assert_true(e == SA_OK || e == SA_ERR_NOT_FOUND);
                if (e == SA_OK) {
                    model_clean(&m, end, now);
                    cleanings++;
                    removed += st.records_read - st.records_kept;
                }
                check(part, &m, seed);
            } else if (op == 17) {
                now += rnd(2) ? 1000 : RETAIN_D; /* tombstones' horizons pass */
            } else if (op == 18 && m.next > m.log_start && rnd(4) == 0) {
                assert_int_equal(sa_store_sync(store, NULL, NULL), SA_OK);
                int64_t to = m.log_start + (int64_t)rnd((unsigned)(m.next - m.log_start));
                int64_t low;
                assert_int_equal(sa_partition_delete_records(part, to, &low), SA_OK);
                m.log_start = to;
                for (int64_t o = 0; o < to; o++) m.gone[o] = 1;
            } else {
                assert_int_equal(sa_store_close(store), SA_OK);
                char err[256] = "";
                assert_int_equal(sa_store_open(dir, NULL, &store, err, sizeof(err)), SA_OK);
                part = sa_store_partition(store, "c", 0);
                assert_non_null(part);
            }
        }
        assert_int_equal(sa_store_sync(store, NULL, NULL), SA_OK);
        check(part, &m, seed);
        assert_int_equal(sa_store_close(store), SA_OK);
        th_rmtree(dir);
    }
    print_message("%u seeds, %lld cleanings, %lld records removed\n", seeds, (long long)cleanings,
                  (long long)removed);
    assert_true(cleanings > (int64_t)seeds); /* the test really cleaned */
    assert_true(removed > 0);
}

static void policy_and_retention(void **state) {
    (void)state;
    char dir[512];
    sa_store_t *store;
    make_store(dir, sizeof(dir), &store);
    char err[256] = "";
    sa_config_kv_t c1[] = {{"cleanup.policy", "compact"}, {"retention.ms", "1000"}, {"segment.bytes", "100"}};
    sa_config_kv_t c2[] = {
        {"cleanup.policy", "compact,delete"}, {"retention.ms", "1000"}, {"segment.bytes", "100"}};
    assert_int_equal(sa_store_topic_create(store, "only", 1, c1, 3, 0, err, sizeof(err)), SA_OK);
    assert_int_equal(sa_store_topic_create(store, "both", 1, c2, 3, 0, err, sizeof(err)), SA_OK);
    model_t *m = calloc(1, sizeof(*m));
    for (int t = 0; t < 2; t++) {
        sa_partition_t *part = sa_store_partition(store, t ? "both" : "only", 0);
        memset(m, 0, sizeof(*m));
        seed_state = 7;
        for (int i = 0; i < 20; i++) append_random(part, m, T0, -1);
        assert_int_equal(sa_store_sync(store, NULL, NULL), SA_OK);
    }
    size_t before = sa_partition_segment_count(sa_store_partition(store, "only", 0));
    assert_true(before > 2);
    assert_int_equal(sa_store_enforce_retention(store, T0 + 100000), SA_OK);
    /* compact alone keeps old segments; compact,delete lets retention.ms delete them */
    assert_int_equal(sa_partition_segment_count(sa_store_partition(store, "only", 0)), before);
    assert_true(sa_partition_log_start(sa_store_partition(store, "both", 0)) > 0);
    /* Keyless records: refused whole with INVALID_RECORD, each one found with its index. */
    sa_rb_rec_in_t recs[3] = {
        {"k", 1, "a", 1, NULL, 0, T0}, {NULL, -1, "b", 1, NULL, 0, T0}, {NULL, -1, "c", 1, NULL, 0, T0}};
    sa_rb_build_opts_t opts = SA_RB_BUILD_OPTS_INIT;
    sa_buf_t b = SA_BUF_INIT(0);
    assert_int_equal(sa_rb_build(&b, &opts, recs, 3), SA_OK);
    sa_partition_t *only = sa_store_partition(store, "only", 0);
    int64_t leo = sa_partition_leo(only);
    assert_int_equal(sa_partition_append(only, b.data, b.len, T0, NULL, err, sizeof(err)),
                     SA_ERR_INVALID_RECORD);
    assert_non_null(strstr(err, "without key"));
    assert_int_equal(sa_partition_leo(only), leo);
    assert_int_equal(sa_partition_keyless_records(only, b.data, b.len, NULL, NULL), 2);
    /* The same records go to a topic that does not compact. */
    assert_int_equal(sa_store_topic_create(store, "plain", 1, NULL, 0, 0, err, sizeof(err)), SA_OK);
    sa_partition_t *plain = sa_store_partition(store, "plain", 0);
    assert_int_equal(sa_partition_keyless_records(plain, b.data, b.len, NULL, NULL), 0);
    assert_int_equal(sa_partition_append(plain, b.data, b.len, T0, NULL, err, sizeof(err)), SA_OK);
    /* Turning compaction on by AlterConfigs. */
    sa_config_kv_t on[] = {{"cleanup.policy", "compact"}};
    assert_int_equal(sa_store_topic_alter_configs(store, "plain", on, NULL, 1, 0, 0, err, sizeof(err)),
                     SA_OK);
    sa_config_entry_t e;
    assert_int_equal(sa_topic_config_find(sa_store_topic_find(store, "plain"), "cleanup.policy", &e), SA_OK);
    assert_string_equal(e.value, "compact");
    assert_int_equal(e.origin, SA_CONFIG_ORIGIN_TOPIC);
    sa_buf_free(&b);
    free(m);
    sa_store_close(store);
    th_rmtree(dir);
}

/* Copy file @p from to @p to. */
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

/* A crash inside the swap: before the commit point the old segments stay; after it, the next open
 * finishes the swap. */
static void interrupted_swap(void **state) {
    (void)state;
    for (int committed = 0; committed < 2; committed++) {
        char dir[512], pdir[600], save[600], path[1200], from[1200];
        sa_store_t *store;
        make_store(dir, sizeof(dir), &store);
        sa_partition_t *part = compacted_topic(store, "compact");
        static model_t m;
        memset(&m, 0, sizeof(m));
        for (int o = 0; o < MAXOFF; o++) m.recs[o].key = -1;
        for (int p = 0; p < 3; p++) m.pid_last[p] = -1;
        seed_state = 99;
        int64_t now = T0;
        for (int i = 0; i < 40; i++) append_random(part, &m, now, -1);
        now += 1500;
        append_random(part, &m, now, 0);
        int64_t end = m.next - 1;
        assert_int_equal(sa_store_sync(store, NULL, NULL), SA_OK);
        /* One group: every sealed segment into one file. */
        sa_config_kv_t big[] = {{"segment.bytes", "1048576"}};
        char aerr[256];
        assert_int_equal(sa_store_topic_alter_configs(store, "c", big, NULL, 1, 0, 0, aerr, sizeof(aerr)),
                         SA_OK);
        /* Keep the segments as they were before the cleaning. */
        snprintf(pdir, sizeof(pdir), "%s/c-0", dir);
        snprintf(save, sizeof(save), "%s/saved", dir);
        assert_int_equal(mkdir(save, 0755), 0);
        DIR *d = opendir(pdir);
        struct dirent *de;
        while ((de = readdir(d)))
            if (strstr(de->d_name, ".log")) {
                snprintf(from, sizeof(from), "%s/%s", pdir, de->d_name);
                snprintf(path, sizeof(path), "%s/%s", save, de->d_name);
                copy_file(from, path);
            }
        closedir(d);
        assert_int_equal(sa_partition_clean(part, now, NULL), SA_OK);
        assert_int_equal(sa_store_close(store), SA_OK);
        /* The cleaned file becomes the leftover of a crash: <base>.<end>.cleaned or .swap, and the
         * old segments come back. */
        snprintf(from, sizeof(from), "%s/%020d.log", pdir, 0);
        snprintf(path, sizeof(path), "%s/%020d.%020lld%s", pdir, 0, (long long)end,
                 committed ? ".swap" : ".cleaned");
        assert_int_equal(rename(from, path), 0);
        snprintf(path, sizeof(path), "%s/cleaner-offset", pdir);
        unlink(path);
        d = opendir(save);
        while ((de = readdir(d)))
            if (strstr(de->d_name, ".log")) {
                snprintf(from, sizeof(from), "%s/%s", save, de->d_name);
                snprintf(path, sizeof(path), "%s/%s", pdir, de->d_name);
                copy_file(from, path);
            }
        closedir(d);
        snprintf(path, sizeof(path), "%s/.clean-shutdown", dir);
        unlink(path); /* as after a crash */
        char err[256] = "";
        assert_int_equal(sa_store_open(dir, NULL, &store, err, sizeof(err)), SA_OK);
        part = sa_store_partition(store, "c", 0);
        if (committed) model_clean(&m, end, now);
        check(part, &m, 1000 + (unsigned)committed);
        d = opendir(pdir);
        while ((de = readdir(d))) { /* no leftovers */
            assert_null(strstr(de->d_name, ".cleaned"));
            assert_null(strstr(de->d_name, ".swap"));
        }
        closedir(d);
        sa_store_close(store);
        th_rmtree(dir);
    }
}

/* log.cleanup.policy and the cleaner's broker defaults: STATIC_BROKER below the topic, a dynamic
 * default above it, the topic's own value above both. */
static void broker_defaults(void **state) {
    (void)state;
    char dir[512], err[256] = "";
    assert_int_equal(th_mkdtemp(dir, sizeof(dir), "compact"), 0);
    sa_store_conf_t conf;
    sa_store_conf_defaults(&conf);
    snprintf(conf.cleanup_policy, sizeof(conf.cleanup_policy), "compact");
    conf.min_cleanable_ratio = 0.25;
    conf.delete_retention_ms = 1000;
    sa_store_t *store;
    assert_int_equal(sa_store_open(dir, &conf, &store, err, sizeof(err)), SA_OK);
    assert_int_equal(sa_store_topic_create(store, "t", 1, NULL, 0, 0, err, sizeof(err)), SA_OK);
    sa_topic_t *t = sa_store_topic_find(store, "t");
    sa_config_entry_t e;
    assert_int_equal(sa_topic_config_find(t, "cleanup.policy", &e), SA_OK);
    assert_string_equal(e.value, "compact");
    assert_int_equal(e.origin, SA_CONFIG_ORIGIN_STATIC_BROKER);
    assert_string_equal(e.synonym, "log.cleanup.policy");
    assert_int_equal(sa_topic_config_find(t, "min.cleanable.dirty.ratio", &e), SA_OK);
    assert_string_equal(e.value, "0.25");
    assert_int_equal(e.origin, SA_CONFIG_ORIGIN_STATIC_BROKER);
    assert_int_equal(sa_topic_config_find(t, "delete.retention.ms", &e), SA_OK);
    assert_string_equal(e.value, "1000");
    assert_int_equal(sa_topic_config_find(t, "min.compaction.lag.ms", &e), SA_OK);
    assert_int_equal(e.origin, SA_CONFIG_ORIGIN_DEFAULT);
    /* The broker default makes the topic compacted: keyless records are refused. */
    sa_rb_rec_in_t rec = {NULL, -1, "v", 1, NULL, 0, T0};
    sa_rb_build_opts_t opts = SA_RB_BUILD_OPTS_INIT;
    sa_buf_t b = SA_BUF_INIT(0);
    assert_int_equal(sa_rb_build(&b, &opts, &rec, 1), SA_OK);
    assert_int_equal(sa_partition_append(sa_topic_partition(t, 0), b.data, b.len, T0, NULL, NULL, 0),
                     SA_ERR_INVALID_RECORD);
    /* A dynamic cluster default wins over the static one; the topic's own value over both. */
    sa_config_kv_t dyn[] = {{"log.cleanup.policy", "compact,delete"}};
    assert_int_equal(
        sa_store_broker_alter_configs(store, SA_BROKER_SCOPE_DEFAULT, dyn, NULL, 1, 0, 0, err, sizeof(err)),
        SA_OK);
    assert_int_equal(sa_topic_config_find(t, "cleanup.policy", &e), SA_OK);
    assert_string_equal(e.value, "compact,delete");
    assert_int_equal(e.origin, SA_CONFIG_ORIGIN_DYNAMIC_DEFAULT);
    sa_config_kv_t own[] = {{"cleanup.policy", "delete"}};
    assert_int_equal(sa_store_topic_alter_configs(store, "t", own, NULL, 1, 0, 0, err, sizeof(err)), SA_OK);
    assert_int_equal(sa_partition_append(sa_topic_partition(t, 0), b.data, b.len, T0, NULL, NULL, 0), SA_OK);
    sa_buf_free(&b);
    sa_store_close(store);
    /* A bad broker default stops the open. */
    snprintf(conf.cleanup_policy, sizeof(conf.cleanup_policy), "shred");
    assert_int_equal(sa_store_open(dir, &conf, &store, err, sizeof(err)), SA_ERR_INVALID_CONFIG);
    assert_non_null(strstr(err, "log.cleanup.policy"));
    th_rmtree(dir);
}

int main(void) {
    /* The model checks what cleaning keeps, not durability (tests/fault/0004 does): on tmpfs the
     * thousands of fsyncs of a run cost nothing. */
    if (!getenv("TMPDIR") && access("/dev/shm", W_OK) == 0) setenv("TMPDIR", "/dev/shm", 1);
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(property),
        cmocka_unit_test(policy_and_retention),
        cmocka_unit_test(interrupted_swap),
        cmocka_unit_test(broker_defaults),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
