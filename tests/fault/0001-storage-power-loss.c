/*
 * Simulated power loss under load, through an fsync-aware layer in the sa_sysio table.
 *
 * kill -9 leaves the page cache intact, so it cannot show that acknowledged data was really
 * fdatasync'd. Here a child process appends and group-commits, telling the parent through a pipe
 * how many records were acknowledged (HWM after a successful sync). At a random moment it "loses
 * power": every segment file is cut back to what its last fdatasync covered plus a random torn
 * part of the unsynced bytes (sometimes garbled), and the child dies without closing. The parent
 * then opens the store and checks that every acknowledged record is there, in order, intact, and
 * that nothing but a clean prefix of the unacknowledged ones survived. 25 rounds, random seeds,
 * small segments so rolls happen under the knife.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "core/log.h"
#include "harness.h"
#include "proto/record_batch.h"
#include "storage/storage.h"
#include "core/sysio.h"

#define CHECK(cond, ...)                                                                                     \
    do {                                                                                                     \
        if (!(cond)) {                                                                                       \
            fprintf(stderr, "FAIL %s:%d: %s: ", __FILE__, __LINE__, #cond);                                  \
            fprintf(stderr, __VA_ARGS__);                                                                    \
            fprintf(stderr, "\n");                                                                           \
            exit(1);                                                                                         \
        }                                                                                                    \
    } while (0)

#define MAX_FD 1024
static int64_t synced_len[MAX_FD]; /* bytes of the file a power loss keeps, per fd */
static int tracked[MAX_FD];

static int track_open(const char *path, int flags, mode_t mode) {
    int fd = open(path, flags, mode);
    size_t n = strlen(path);
    if (fd >= 0 && fd < MAX_FD && n > 4 && !strcmp(path + n - 4, ".log")) {
        struct stat st;
        fstat(fd, &st);
        tracked[fd] = 1;
        /* A file that existed is durable up to its size (it was recovered or synced before). */
        synced_len[fd] = (flags & O_CREAT) && st.st_size == 0 ? 0 : st.st_size;
    }
    return fd;
}

static int track_close(int fd) {
    if (fd >= 0 && fd < MAX_FD) tracked[fd] = 0;
    return close(fd);
}

static int track_fdatasync(int fd) {
    int rc = fdatasync(fd);
    if (rc == 0 && fd >= 0 && fd < MAX_FD && tracked[fd]) {
        struct stat st;
        fstat(fd, &st);
        synced_len[fd] = st.st_size;
    }
    return rc;
}

static int track_ftruncate(int fd, off_t len) {
    int rc = ftruncate(fd, len);
    if (rc == 0 && fd >= 0 && fd < MAX_FD && tracked[fd] && synced_len[fd] > len) synced_len[fd] = len;
    return rc;
}

/* The power goes out: keep what was synced plus a random torn part of the rest. */
static void power_loss(unsigned *seed) {
    for (int fd = 0; fd < MAX_FD; fd++) {
        if (!tracked[fd]) continue;
        struct stat st;
        fstat(fd, &st);
        int64_t unsynced = st.st_size - synced_len[fd];
        if (unsynced <= 0) continue;
        int64_t keep = synced_len[fd] + (rand_r(seed) % 2 ? rand_r(seed) % (unsynced + 1) : 0);
        if (keep > synced_len[fd] && rand_r(seed) % 3 == 0) { /* the torn part is garbage */
            uint8_t junk = (uint8_t)rand_r(seed);
            int64_t at = synced_len[fd] + rand_r(seed) % (keep - synced_len[fd]);
            if (pwrite(fd, &junk, 1, at) != 1) _exit(3);
        }
        if (ftruncate(fd, keep)) _exit(3);
    }
}

static void make_batch(sa_buf_t *b, int64_t first, int n) {
    sa_rb_rec_in_t recs[16];
    char vals[16][32];
    for (int i = 0; i < n; i++) {
        int len = snprintf(vals[i], sizeof(vals[i]), "rec-%lld", (long long)(first + i));
        recs[i] = (sa_rb_rec_in_t){NULL, -1, vals[i], len, NULL, 0, 1700000000000 + first + i};
    }
    sa_rb_build_opts_t opts = SA_RB_BUILD_OPTS_INIT;
    opts.compression = first % 3 == 0 ? SA_RB_COMPRESSION_LZ4 : SA_RB_COMPRESSION_NONE;
    if (sa_rb_build(b, &opts, recs, (size_t)n)) _exit(4);
}

/* Child: append and sync until a random moment, report acknowledged counts, lose power. */
static void child(const char *dir, int wfd, unsigned seed) {
    memset(tracked, 0, sizeof(tracked));
    sa_sysio.open = track_open;
    sa_sysio.close = track_close;
    sa_sysio.fdatasync = track_fdatasync;
    sa_sysio.ftruncate = track_ftruncate;
    sa_store_t *store;
    if (sa_store_open(dir, NULL, &store, NULL, 0)) _exit(2);
    sa_partition_t *part = sa_store_partition(store, "p", 0);
    int64_t next = sa_partition_leo(part);
    int turns = 5 + rand_r(&seed) % 60;
    for (int t = 0; t < turns; t++) {
        int batches = 1 + rand_r(&seed) % 4;
        for (int b = 0; b < batches; b++) {
            sa_buf_t buf = SA_BUF_INIT(0);
            int n = 1 + rand_r(&seed) % 16;
            make_batch(&buf, next, n);
            if (sa_partition_append(part, buf.data, buf.len, 1700000000000, NULL, NULL, 0)) _exit(5);
            next += n;
            sa_buf_free(&buf);
        }
        /* Power may go out mid-turn, before the group commit. */
        if (t == turns - 1 && rand_r(&seed) % 2) break;
        if (sa_store_sync(store, NULL, NULL)) _exit(6);
        int64_t acked = sa_partition_hwm(part);
        if (write(wfd, &acked, sizeof(acked)) != sizeof(acked)) _exit(7);
    }
    power_loss(&seed);
    _exit(0); /* no close: no clean-shutdown marker, nothing flushed */
}

/* Parent: every acknowledged record present and intact; beyond that only a clean prefix. */
static int64_t verify(const char *dir, int64_t acked) {
    sa_store_t *store;
    char err[256] = "";
    CHECK(sa_store_open(dir, NULL, &store, err, sizeof(err)) == SA_OK, "open: %s", err);
    sa_partition_t *part = sa_store_partition(store, "p", 0);
    int64_t hwm = sa_partition_hwm(part);
    CHECK(hwm >= acked, "acknowledged records lost: HWM %lld after recovery, %lld were acknowledged",
          (long long)hwm, (long long)acked);
    sa_buf_t out = SA_BUF_INIT(0);
    int64_t o = 0;
    while (o < hwm) {
        sa_buf_reset(&out);
        CHECK(sa_partition_read(part, o, 1 << 16, &out) == SA_OK && out.len > 0, "read at %lld",
              (long long)o);
        sa_rb_iter_t it;
        sa_rb_header_t hdr;
        const uint8_t *batch;
        sa_rb_iter_init(&it, out.data, out.len);
        while (sa_rb_iter_next(&it, &hdr, &batch) == SA_OK) {
            CHECK(sa_rb_crc_ok(batch, sa_rb_size(&hdr)), "CRC at offset %lld", (long long)hdr.BaseOffset);
            sa_rb_records_t rr;
            sa_rb_record_t rec;
            CHECK(sa_rb_records_open(&rr, batch, sa_rb_size(&hdr), 1 << 20, NULL, 0) == SA_OK, "records");
            while (sa_rb_records_next(&rr, &rec) == SA_OK) {
                char want[32];
                int len = snprintf(want, sizeof(want), "rec-%lld", (long long)o);
                CHECK(rec.Offset == o && rec.ValueLength == len && !memcmp(rec.Value, want, (size_t)len),
                      "offset %lld holds the wrong record", (long long)o);
                o++;
            }
            sa_rb_records_close(&rr);
        }
    }
    CHECK(o == hwm, "read %lld records, HWM %lld", (long long)o, (long long)hwm);
    sa_buf_free(&out);
    CHECK(sa_store_close(store) == SA_OK, "close");
    return hwm;
}

int main(void) {
    sa_log_set_level("error");
    char dir[512];
    CHECK(th_mkdtemp(dir, sizeof(dir), "power-loss") == 0, "mkdtemp");
    sa_store_t *store;
    CHECK(sa_store_open(dir, NULL, &store, NULL, 0) == SA_OK, "open");
    sa_config_kv_t cfg[] = {{"segment.bytes", "3000"}};
    CHECK(sa_store_topic_create(store, "p", 1, cfg, 1, 0, NULL, 0) == SA_OK, "create");
    CHECK(sa_store_close(store) == SA_OK, "close");
    int64_t total_acked = 0;
    for (unsigned round = 0; round < 25; round++) {
        int fds[2];
        CHECK(pipe(fds) == 0, "pipe");
        fflush(NULL);
        pid_t pid = fork();
        CHECK(pid >= 0, "fork");
        if (pid == 0) {
            close(fds[0]);
            child(dir, fds[1], 1000 + round);
        }
        close(fds[1]);
        int64_t acked = 0, v;
        while (read(fds[0], &v, sizeof(v)) == sizeof(v)) acked = v;
        close(fds[0]);
        int status;
        waitpid(pid, &status, 0);
        CHECK(WIFEXITED(status) && WEXITSTATUS(status) == 0, "child failed with status %d", status);
        int64_t hwm = verify(dir, acked);
        total_acked += acked;
        printf("round %2u: acknowledged %6lld, recovered %6lld\n", round, (long long)acked, (long long)hwm);
    }
    CHECK(total_acked > 0, "nothing was acknowledged");
    th_rmtree(dir);
    printf("ok\n");
    return 0;
}
