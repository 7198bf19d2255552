/*
 * bench_fsync - the disk's anchor for acknowledged latency: how long fdatasync takes after an
 * append of a given size, on the file system that holds the brokers' data.
 *
 *   bench_fsync DIR [ITERATIONS]
 *
 * For each append size (4 KiB, 50 KiB, 1 MiB) it appends ITERATIONS blocks to a fresh file in
 * DIR, calling fdatasync after each, and prints one JSON object per size with the sync
 * latency's p50/p99/p99.9/max in ms. A broker that acknowledges only synced data cannot answer
 * faster than this; a broker that syncs several partitions one after another pays it once per
 * partition. The file is removed afterwards. Not a test: exit 0 unless I/O fails.
 */
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

static int64_t now_ns(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

static int cmp_i64(const void *a, const void *b) {
    int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;
    return x < y ? -1 : x > y;
}

static double pct_ms(const int64_t *sorted, int n, double q) {
    int idx = (int)(q * n + 0.999999) - 1; /* nearest rank */
    return (double)sorted[idx < 0 ? 0 : idx] / 1e6;
}

/* Returns 0, or -1 after printing the failed operation. */
static int run_size(const char *dir, size_t size, int iterations) {
    int rc = -1, fd = -1;
    char path[4096];
    char *block = malloc(size);
    int64_t *lat = calloc((size_t)iterations, sizeof(int64_t));
    if (!block || !lat) goto out;
    memset(block, 'x', size);
    snprintf(path, sizeof(path), "%s/bench_fsync.%ld.tmp", dir, (long)getpid());
    fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_APPEND, 0600);
    if (fd < 0) {
        perror(path);
        goto out;
    }
    for (int i = 0; i < iterations; i++) {
        if (write(fd, block, size) != (ssize_t)size) {
            perror("write");
            goto out;
        }
        int64_t t0 = now_ns();
        if (fdatasync(fd)) {
            perror("fdatasync");
            goto out;
        }
        lat[i] = now_ns() - t0;
    }
    qsort(lat, (size_t)iterations, sizeof(int64_t), cmp_i64);
    printf("{\"mode\":\"fdatasync\",\"append_bytes\":%zu,\"iterations\":%d,\"p50\":%.3f,\"p99\":%.3f,"
           "\"p999\":%.3f,"
           "\"max\":%.3f}\n",
           size, iterations, pct_ms(lat, iterations, 0.5), pct_ms(lat, iterations, 0.99),
           pct_ms(lat, iterations, 0.999), (double)lat[iterations - 1] / 1e6);
    rc = 0;
out:
    if (fd >= 0) {
        close(fd);
        unlink(path);
    }
    free(block);
    free(lat);
    return rc;
}

int main(int argc, char **argv) {
    if (argc < 2) {
        fprintf(stderr, "usage: bench_fsync DIR [ITERATIONS]\n");
        return 2;
    }
    int iterations = argc > 2 ? atoi(argv[2]) : 300;
    if (iterations < 1 || iterations > 1000000) return 2;
    const size_t sizes[] = {4096, 50 * 1024, 1024 * 1024};
    for (size_t i = 0; i < sizeof(sizes) / sizeof(sizes[0]); i++)
        if (run_size(argv[1], sizes[i], iterations)) return 1;
    return 0;
}
