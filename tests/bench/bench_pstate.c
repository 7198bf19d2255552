/*
 * bench_pstate.c - producer state benchmark (not a test): what idempotent producers cost in
 * memory, what expiry gives back, and what a restart costs with and without snapshots.
 *
 *   bench_pstate [DIR] [MB] [PRODUCERS]   (DIR: a temp dir by default; MB 800; PRODUCERS 200000)
 *
 * memory    PRODUCERS producer ids write one batch each to one partition (as a client inventing a
 *           new id per request would): RSS before and after, per producer; then
 *           producer.id.expiration.ms passes and sa_store_expire_producers runs in the broker's
 *           slices of 20000 producers (the longest slice is printed): RSS after.
 * restart   MB megabytes of idempotent batches (1000 producers, 16 records of 100 B a batch) in
 *           one partition, closed cleanly; then the time to open the store and to check the
 *           first idempotent batch, (a) with the snapshot the clean close wrote (nothing to scan),
 *           (b) with every snapshot deleted (the whole log's batch headers scanned at open: what
 *           the first idempotent produce used to do on the event loop).
 */
#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "core/mem.h"
#include "core/time.h"
#include "harness.h"
#include "proto/record_batch.h"
#include "storage/pstate.h"
#include "storage/storage.h"

#define NOW 1700000000000LL

static long rss_kb(void) {
    FILE *fp = fopen("/proc/self/status", "r");
    char line[256];
    long kb = -1;
    while (fp && fgets(line, sizeof(line), fp))
        if (!strncmp(line, "VmRSS:", 6)) kb = atol(line + 6);
    if (fp) fclose(fp);
    return kb;
}

static void build(sa_buf_t *b, int64_t pid, int32_t seq, int records) {
    sa_rb_rec_in_t recs[16];
    char val[100];
    memset(val, 'x', sizeof(val));
    for (int i = 0; i < records; i++) recs[i] = (sa_rb_rec_in_t){NULL, -1, val, sizeof(val), NULL, 0, NOW};
    sa_rb_build_opts_t o = SA_RB_BUILD_OPTS_INIT;
    o.producer_id = pid;
    o.producer_epoch = 0;
    o.base_sequence = seq;
    sa_buf_reset(b);
    if (sa_rb_build(b, &o, recs, (size_t)records)) abort();
}

static sa_partition_t *fresh(sa_store_t *store, const char *name) {
    if (sa_store_topic_create(store, name, 1, NULL, 0, 0, NULL, 0)) abort();
    return sa_store_partition(store, name, 0);
}

static void memory(const char *dir, long producers) {
    sa_store_conf_t conf;
    sa_store_conf_defaults(&conf);
    sa_store_t *store;
    if (sa_store_open(dir, &conf, &store, NULL, 0)) abort();
    sa_partition_t *part = fresh(store, "mem");
    sa_buf_t b = SA_BUF_INIT(0);
    build(&b, 0, 0, 1);
    long before = rss_kb();
    for (long pid = 0; pid < producers; pid++) {
        build(&b, pid, 0, 1);
        sa_append_result_t res;
        if (sa_partition_append(part, b.data, b.len, NOW, &res, NULL, 0)) abort();
    }
    sa_store_sync(store, NULL, NULL);
    long grown = rss_kb();
    printf("memory: %ld producers: RSS %ld -> %ld KiB, %.0f B per producer\n", producers, before, grown,
           (grown - before) * 1024.0 / (double)producers);
    int64_t t0 = sa_mono_us(), worst = 0;
    int slices = 0;
    for (;;) {
        int64_t s0 = sa_mono_us();
        int more =
            sa_store_expire_producers(store, NOW + conf.producer_id_expiration_ms, 20000); /* broker.c */
        worst = SA_MAX(worst, sa_mono_us() - s0);
        if (getenv("BENCH_SLICES"))
            fprintf(stderr, "slice %d: %.1f ms\n", slices, (sa_mono_us() - s0) / 1000.0);
        slices++;
        if (!more) break;
    }
    printf("expiry: %zu producers left after %d slices in %.1f ms (longest slice %.1f ms): RSS %ld KiB "
           "(%ld KiB given back)\n",
           sa_pstate_count(sa_partition_pstate(part)), slices, (sa_mono_us() - t0) / 1000.0, worst / 1000.0,
           rss_kb(), grown - rss_kb());
    sa_buf_free(&b);
    sa_store_close(store);
}

static int64_t last_pid;
static int32_t last_seq;

static void time_open(const char *dir, const char *what) {
    int64_t t0 = sa_mono_us();
    sa_store_t *store;
    if (sa_store_open(dir, NULL, &store, NULL, 0)) abort();
    int64_t t1 = sa_mono_us();
    sa_partition_t *part = sa_store_partition(store, "big", 0);
    sa_buf_t b = SA_BUF_INIT(0);
    build(&b, last_pid, last_seq, 16); /* the last batch again: a duplicate */
    sa_rb_header_t hdr;
    sa_producer_dup_t dup;
    sa_rb_parse_header(b.data, b.len, &hdr, NULL, 0);
    sa_err_t err = sa_pstate_check(sa_partition_pstate(part), &hdr, &dup);
    int64_t t2 = sa_mono_us();
    printf("restart %-28s open %7.1f ms, first idempotent check %7.3f ms (%s), %zu producers\n", what,
           (t1 - t0) / 1000.0, (t2 - t1) / 1000.0, sa_err2name(err),
           sa_pstate_count(sa_partition_pstate(part)));
    sa_buf_free(&b);
    sa_store_close(store);
}

static void restart(const char *dir, long mb) {
    sa_store_t *store;
    if (sa_store_open(dir, NULL, &store, NULL, 0)) abort();
    sa_partition_t *part = fresh(store, "big");
    sa_buf_t b = SA_BUF_INIT(0);
    int32_t seq[1000] = {0};
    int64_t bytes = 0;
    for (long i = 0; bytes < mb << 20; i++) {
        int pid = (int)(i % 1000);
        build(&b, pid, seq[pid], 16);
        last_pid = pid;
        last_seq = seq[pid];
        seq[pid] += 16;
        bytes += (int64_t)b.len;
        sa_append_result_t res;
        if (sa_partition_append(part, b.data, b.len, NOW, &res, NULL, 0)) abort();
        if (i % 256 == 0) sa_store_sync(store, NULL, NULL);
    }
    sa_store_close(store);
    printf("restart: %ld MB of idempotent batches in %zu-byte batches\n", mb, b.len);
    sa_buf_free(&b);
    time_open(dir, "(snapshot at the log end)");
    char pdir[1024], path[2048];
    snprintf(pdir, sizeof(pdir), "%s/big-0", dir);
    DIR *d = opendir(pdir);
    struct dirent *de;
    while (d && (de = readdir(d)))
        if (strstr(de->d_name, ".snapshot")) {
            snprintf(path, sizeof(path), "%s/%s", pdir, de->d_name);
            unlink(path);
        }
    if (d) closedir(d);
    time_open(dir, "(no snapshot: whole log)");
}

int main(int argc, char **argv) {
    char tmp[512];
    const char *dir = argc > 1 ? argv[1] : NULL;
    if (!dir) {
        if (th_mkdtemp(tmp, sizeof(tmp), "bench-pstate")) return 1;
        dir = tmp;
    }
    long mb = argc > 2 ? atol(argv[2]) : 800, producers = argc > 3 ? atol(argv[3]) : 200000;
    memory(dir, producers);
    restart(dir, mb);
    if (argc < 2) th_rmtree(tmp);
    return 0;
}
