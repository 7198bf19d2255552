/*
 * bench_storage.c - storage micro-benchmark (not a test): appends batches of 100-byte records
 * to one partition and group-commits them, the way the broker does per event-loop turn.
 *
 *   bench_storage [DIR] [MB]      (DIR default: a temp dir under $TMPDIR or /tmp; MB default 256)
 *
 * Scenarios (each writes MB megabytes of batch bytes to a fresh topic):
 *   sync-every-batch   one fdatasync per batch of R records (the worst case: one producer, acks=all)
 *   sync-every-N       one fdatasync per N batches (many producers in one loop turn)
 *   no-sync            appends only (page cache speed; the upper bound)
 *   N partitions/turn  one batch to each of 3 partitions, then one group commit (parallel fdatasyncs)
 *   read               sequential reads of the whole log with 1 MiB max_bytes
 *   open               reopen after a clean close, then after a simulated crash (full CRC scan
 *                      of every last segment)
 * and prints MB/s, records/s and fdatasyncs/s for each.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "core/log.h"
#include "core/time.h"
#include "harness.h"
#include "proto/record_batch.h"
#include "storage/storage.h"

#define RECORD_SIZE 100

static void make_batch(sa_buf_t *b, int records) {
    sa_rb_rec_in_t *recs = calloc((size_t)records, sizeof(*recs));
    char val[RECORD_SIZE];
    memset(val, 'x', sizeof(val));
    for (int i = 0; i < records; i++)
        recs[i] = (sa_rb_rec_in_t){NULL, -1, val, RECORD_SIZE, NULL, 0, 1700000000000};
    sa_rb_build_opts_t opts = SA_RB_BUILD_OPTS_INIT;
    if (sa_rb_build(b, &opts, recs, (size_t)records)) abort();
    free(recs);
}

static void run_append(sa_store_t *store, const char *topic, int records, int batches_per_sync,
                       int64_t total) {
    if (sa_store_topic_create(store, topic, 1, NULL, 0, 0, NULL, 0)) abort();
    sa_partition_t *part = sa_store_partition(store, topic, 0);
    sa_buf_t proto = SA_BUF_INIT(0), work = SA_BUF_INIT(0);
    make_batch(&proto, records);
    int64_t bytes = 0, syncs = 0, n = 0, t0 = sa_mono_us();
    while (bytes < total) {
        sa_buf_reset(&work);
        sa_buf_append(&work, proto.data, proto.len);
        if (sa_partition_append(part, work.data, work.len, 1700000000000, NULL, NULL, 0)) abort();
        bytes += (int64_t)work.len;
        if (batches_per_sync > 0 && ++n % batches_per_sync == 0) {
            if (sa_store_sync(store, NULL, NULL)) abort();
            syncs++;
        }
    }
    if (sa_store_sync(store, NULL, NULL)) abort();
    double s = (double)(sa_mono_us() - t0) / 1e6;
    int64_t recs = sa_partition_leo(part);
    char name[64];
    snprintf(name, sizeof(name), batches_per_sync > 0 ? "sync-every-%d" : "no-sync", batches_per_sync);
    printf("%-20s batch %5d rec (%6zu B)  %8.1f MB/s  %10.0f records/s  %8.0f fdatasyncs/s  (%.2f s)\n",
           batches_per_sync == 1 ? "sync-every-batch" : name, records, proto.len, (double)bytes / s / 1e6,
           (double)recs / s, (double)syncs / s, s);
    sa_buf_free(&proto);
    sa_buf_free(&work);
}

/* A loop turn that dirtied several partitions: one 100-record batch to each, then one sync
 * (their fdatasyncs run in parallel). */
static void run_multi(sa_store_t *store, int nparts, int64_t total) {
    if (sa_store_topic_create(store, "multi", nparts, NULL, 0, 0, NULL, 0)) abort();
    sa_buf_t proto = SA_BUF_INIT(0), work = SA_BUF_INIT(0);
    make_batch(&proto, 100);
    int64_t bytes = 0, turns = 0, t0 = sa_mono_us();
    while (bytes < total) {
        for (int p = 0; p < nparts; p++) {
            sa_buf_reset(&work);
            sa_buf_append(&work, proto.data, proto.len);
            if (sa_partition_append(sa_store_partition(store, "multi", p), work.data, work.len, 1700000000000,
                                    NULL, NULL, 0))
                abort();
            bytes += (int64_t)work.len;
        }
        if (sa_store_sync(store, NULL, NULL)) abort();
        turns++;
    }
    double s = (double)(sa_mono_us() - t0) / 1e6;
    printf("%d partitions/turn     batch   100 rec (%6zu B)  %8.1f MB/s  %10.0f records/s  %8.0f turns/s "
           "(%.3f ms each)\n",
           nparts, proto.len, (double)bytes / s / 1e6, (double)turns * nparts * 100 / s, (double)turns / s,
           s * 1000 / (double)turns);
    sa_buf_free(&proto);
    sa_buf_free(&work);
}

static void run_read(sa_store_t *store, const char *topic) {
    sa_partition_t *part = sa_store_partition(store, topic, 0);
    sa_buf_t out = SA_BUF_INIT(0);
    int64_t off = 0, bytes = 0, t0 = sa_mono_us(), end = sa_partition_hwm(part);
    while (off < end) {
        sa_buf_reset(&out);
        if (sa_partition_read(part, off, 1 << 20, &out) || !out.len) abort();
        sa_rb_iter_t it;
        sa_rb_header_t hdr;
        sa_rb_iter_init(&it, out.data, out.len);
        while (sa_rb_iter_next(&it, &hdr, NULL) == SA_OK) off = sa_rb_last_offset(&hdr) + 1;
        bytes += (int64_t)out.len;
    }
    double s = (double)(sa_mono_us() - t0) / 1e6;
    printf("%-20s 1 MiB reads              %8.1f MB/s  %10.0f records/s  (%.2f s, page cache)\n", "read",
           (double)bytes / s / 1e6, (double)end / s, s);
    sa_buf_free(&out);
}

int main(int argc, char **argv) {
    char dir[512];
    int own = argc < 2;
    if (own) {
        if (th_mkdtemp(dir, sizeof(dir), "bench-storage")) return 1;
    } else {
        snprintf(dir, sizeof(dir), "%s", argv[1]);
    }
    int64_t mb = argc > 2 ? atoll(argv[2]) : 256;
    sa_log_set_level("warn");
    sa_store_t *store;
    char err[256];
    if (sa_store_open(dir, NULL, &store, err, sizeof(err))) {
        fprintf(stderr, "bench_storage: %s\n", err);
        return 1;
    }
    printf("storage benchmark: %s, %lld MB per scenario, %d-byte records\n", dir, (long long)mb, RECORD_SIZE);
    int64_t total = mb << 20;
    run_append(store, "b1", 1, 1, total / 64);      /* tiny batches, fsync each: latency-bound */
    run_append(store, "b100", 100, 1, total / 4);   /* 100 records per batch, fsync each */
    run_append(store, "b100x10", 100, 10, total);   /* ten producers' batches per loop turn */
    run_append(store, "b100x100", 100, 100, total); /* a busy loop turn */
    run_append(store, "nosync", 100, 0, total);
    run_multi(store, 3, total / 4);
    run_read(store, "b100x10");
    int64_t bytes = 0;
    for (size_t t = 0; t < sa_store_topic_count(store); t++)
        bytes += sa_partition_size(sa_topic_partition(sa_store_topic_at(store, t), 0));
    sa_store_close(store);
    /* Open after a clean close (indexes loaded), then after a crash (every last segment scanned
     * with CRC checks, from the page cache). */
    for (int crash = 0; crash < 2; crash++) {
        if (crash) {
            char marker[1024];
            snprintf(marker, sizeof(marker), "%s/.clean-shutdown", dir);
            unlink(marker);
        }
        int64_t t0 = sa_mono_us();
        if (sa_store_open(dir, NULL, &store, err, sizeof(err))) {
            fprintf(stderr, "bench_storage: %s\n", err);
            return 1;
        }
        double s = (double)(sa_mono_us() - t0) / 1e6;
        printf("%-20s %lld MB in %zu partitions  %8.3f s",
               crash ? "open after crash" : "open after clean close", (long long)(bytes >> 20),
               sa_store_topic_count(store), s);
        if (crash) printf("  (%.0f MB/s recovery scan)", (double)bytes / s / 1e6);
        printf("\n");
        sa_store_close(store);
    }
    if (own) th_rmtree(dir);
    return 0;
}
