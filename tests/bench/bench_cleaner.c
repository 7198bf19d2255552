/*
 * bench_cleaner.c - the log cleaner (not a test): its throughput, and what it costs produce latency.
 *
 *   bench_cleaner [MB] [RATE_MB]   (MB of log to clean, default 64; RATE_MB: the throttled run's
 *                                   log.cleaner.io.max.bytes.per.second in MB/s, default 20)
 *
 * A compacted topic gets MB megabytes of batches (100 records of 100-byte values each, keys drawn
 * from 100 000, uncompressed) in 16 MiB segments, then the produce path of another topic -
 * one batch of 10 records appended and group-committed (sa_partition_append + sa_store_sync, what
 * the broker's loop thread does for one acks=all request) - is timed three ways, side by side:
 *   idle        no cleaning (the baseline)
 *   cleaning    while the store's cleaner thread compacts the whole topic, unthrottled
 *   throttled   the same with log.cleaner.io.max.bytes.per.second = RATE_MB
 * Prints a Markdown table: the cleaner's MB/s (input read / wall time of the cleaning) and the
 * produce latency p50/p99/max in each case. Temp dir under $TMPDIR or /tmp.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/log.h"
#include "core/mem.h"
#include "core/time.h"
#include "harness.h"
#include "proto/record_batch.h"
#include "storage/storage.h"

#define NOW 1700000000000LL

static unsigned seed = 1;
static unsigned rnd(unsigned n) {
    seed = seed * 1103515245u + 12345u;
    return (seed >> 8) % n;
}

static void fill(sa_store_t *store, const char *topic, int64_t mb, int codec) {
    sa_config_kv_t cfg[] = {{"cleanup.policy", "compact"}, {"segment.bytes", "16777216"}};
    char err[256];
    if (sa_store_topic_create(store, topic, 1, cfg, 2, 0, err, sizeof(err))) {
        fprintf(stderr, "create: %s\n", err);
        exit(1);
    }
    sa_partition_t *part = sa_store_partition(store, topic, 0);
    char keys[100][16], val[100];
    memset(val, 'v', sizeof(val));
    sa_rb_rec_in_t recs[100];
    sa_buf_t b = SA_BUF_INIT(0);
    int64_t written = 0;
    while (written < mb << 20) {
        for (int i = 0; i < 100; i++) {
            snprintf(keys[i], sizeof(keys[i]), "key-%06u", rnd(100000));
            recs[i] = (sa_rb_rec_in_t){keys[i], (int32_t)strlen(keys[i]), val, sizeof(val), NULL, 0, NOW};
        }
        sa_rb_build_opts_t opts = SA_RB_BUILD_OPTS_INIT;
        opts.compression = codec;
        sa_buf_reset(&b);
        if (sa_rb_build(&b, &opts, recs, 100) ||
            sa_partition_append(part, b.data, b.len, NOW, NULL, err, sizeof(err)))
            exit(1);
        written += (int64_t)b.len;
    }
    /* One more append a day later rolls the last segment, so everything else is cleanable. */
    if (sa_partition_append(part, b.data, b.len, NOW + 86400000LL * 8, NULL, err, sizeof(err))) exit(1);
    sa_buf_free(&b);
    if (sa_store_sync(store, NULL, NULL)) exit(1);
}

static int cmp_i64(const void *a, const void *b) {
    int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;
    return x < y ? -1 : x > y;
}

typedef struct result_s {
    const char *name;
    double clean_mbs, out_mb;
    int64_t clean_ms;
    size_t n;
    int64_t p50, p99, max; /* µs */
} result_t;

/* Time produces to "p" until the cleaner is idle (or for @p min_samples when @p cleaning is 0). */
static void measure(sa_store_t *store, int cleaning, size_t min_samples, result_t *r) {
    sa_partition_t *p = sa_store_partition(store, "p", 0);
    char val[100];
    memset(val, 'p', sizeof(val));
    sa_rb_rec_in_t recs[10];
    for (int i = 0; i < 10; i++) recs[i] = (sa_rb_rec_in_t){"k", 1, val, sizeof(val), NULL, 0, NOW};
    sa_buf_t b = SA_BUF_INIT(0);
    size_t cap = 1 << 16, n = 0;
    int64_t *lat = sa_malloc(cap * sizeof(*lat));
    sa_clean_stats_t before, after;
    sa_store_clean_stats(store, &before);
    int64_t t0 = sa_mono_us();
    int running = cleaning ? sa_store_clean_tick(store, NOW + 86400000LL * 9) : 0;
    sa_clean_stats_t now_st = before;
    while (cleaning ? running && now_st.cleanings == before.cleanings : n < min_samples) {
        sa_rb_build_opts_t opts = SA_RB_BUILD_OPTS_INIT;
        sa_buf_reset(&b);
        sa_rb_build(&b, &opts, recs, 10);
        int64_t s = sa_mono_us();
        if (sa_partition_append(p, b.data, b.len, NOW, NULL, NULL, 0) || sa_store_sync(store, NULL, NULL))
            exit(1);
        if (n == cap) lat = sa_realloc(lat, (cap *= 2) * sizeof(*lat));
        lat[n++] = sa_mono_us() - s;
        if (cleaning) {
            running = sa_store_clean_tick(store, NOW + 86400000LL * 9); /* adopts when done */
            sa_store_clean_stats(store, &now_st);
        }
    }
    int64_t wall = sa_mono_us() - t0;
    sa_store_clean_stats(store, &after);
    qsort(lat, n, sizeof(*lat), cmp_i64);
    r->n = n;
    r->p50 = lat[n / 2];
    r->p99 = lat[n * 99 / 100];
    r->max = lat[n - 1];
    int64_t read = after.bytes_read - before.bytes_read;
    r->clean_ms = wall / 1000;
    r->clean_mbs = cleaning && wall ? (double)read / 2 / 1e6 / ((double)wall / 1e6) : 0; /* 2 passes read */
    r->out_mb = (double)(after.bytes_written - before.bytes_written) / 1e6;
    free(lat);
    sa_buf_free(&b);
}

static sa_store_t *open_store(const char *dir, double rate) {
    sa_store_conf_t conf;
    sa_store_conf_defaults(&conf);
    conf.cleaner_io_max_bytes_per_second = rate;
    sa_store_t *store;
    char err[256];
    if (sa_store_open(dir, &conf, &store, err, sizeof(err))) {
        fprintf(stderr, "open: %s\n", err);
        exit(1);
    }
    return store;
}

int main(int argc, char **argv) {
    int64_t mb = argc > 1 ? atoll(argv[1]) : 64;
    double rate_mb = argc > 2 ? atof(argv[2]) : 20;
    sa_log_set_level("warn");
    char dir[512];
    if (th_mkdtemp(dir, sizeof(dir), "bench-cleaner")) return 1;
    sa_store_t *store = open_store(dir, 0);
    char err[256];
    if (sa_store_topic_create(store, "p", 1, NULL, 0, 0, err, sizeof(err))) return 1;
    fill(store, "a", mb, SA_RB_COMPRESSION_NONE);
    fill(store, "b", mb, SA_RB_COMPRESSION_NONE);
    result_t res[3] = {
        {.name = "idle (no cleaning)"}, {.name = "cleaning, unthrottled"}, {.name = "cleaning, throttled"}};
    measure(store, 1, 0, &res[1]); /* the first cleaning: "a" (then "b" starts; close cancels it) */
    sa_store_close(store);
    store = open_store(dir, rate_mb * 1e6);
    if (sa_store_topic_delete(store, "a", err, sizeof(err))) return 1; /* so "b" is the one cleaned */
    measure(store, 0, res[1].n > 2000 ? res[1].n : 2000, &res[0]);
    measure(store, 1, 0, &res[2]);
    sa_store_close(store);
    th_rmtree(dir);
    printf("| produce path (append + group commit, 10 x 100 B) | samples | p50 µs | p99 µs | max µs | "
           "cleaner MB/s "
           "(log read) | cleaning took | cleaned output |\n");
    printf("|---|---:|---:|---:|---:|---:|---:|---:|\n");
    for (int i = 0; i < 3; i++) {
        if (i == 0)
            printf("| %s | %zu | %lld | %lld | %lld | - | - | - |\n", res[i].name, res[i].n,
                   (long long)res[i].p50, (long long)res[i].p99, (long long)res[i].max);
        else
            printf("| %s%s | %zu | %lld | %lld | %lld | %.1f | %.1f s | %.1f MB |\n", res[i].name,
                   i == 2 ? (rate_mb > 0 ? " (io budget set)" : "") : "", res[i].n, (long long)res[i].p50,
                   (long long)res[i].p99, (long long)res[i].max, res[i].clean_mbs,
                   (double)res[i].clean_ms / 1000, res[i].out_mb);
    }
    printf("\n%lld MB of log per topic; the throttled run's budget is %.0f MB/s of reads + writes.\n",
           (long long)mb, rate_mb);
    return 0;
}
