/*
 * Simulated power loss during log compaction (tests/lib/power_loss.h: an fsync-aware sa_sysio).
 *
 * A child process appends keyed records and tombstones to a compacted topic with tiny segments,
 * group-commits them, and often cleans the partition (sa_partition_clean: the cleaner's own job,
 * on this thread, so the cut can land on any of its calls: a write of the .cleaned file, its
 * fdatasyncs, the rename to .swap, the directory fsyncs, the rename over the old .log, the index
 * files, the checkpoint). After each successful sync it tells the parent, through a pipe, the HWM
 * and each key's last acknowledged offset. The power goes out at a random file system call; the
 * parent then opens the store (recovery: a .cleaned file is dropped, a .swap finished) and checks:
 *   - the log reads from its start to the HWM, every batch's CRC intact, offsets strictly
 *     increasing, and each record is the one appended at its offset (key and value derive from it);
 *   - complete: every key's last acknowledged record is there (or a later record of the key that
 *     survived unacknowledged), tombstones included (their delete horizon never passes here);
 *   - nothing is left of a swap (.cleaned, .swap).
 * 60 rounds on the same directory, so later rounds clean what earlier cleanings (and power losses)
 * left. SAMSA_SYNC_THREADS=0 in the child: one thread, one precise cut.
 */
#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "core/log.h"
#include "core/sysio.h"
#include "harness.h"
#include "power_loss.h"
#include "proto/record_batch.h"
#include "storage/storage.h"

#define CHECK(cond, ...)                                                                                     \
    do {                                                                                                     \
        if (!(cond)) {                                                                                       \
            fprintf(stderr, "FAIL %s:%d: %s: ", __FILE__, __LINE__, #cond);                                  \
            fprintf(stderr, __VA_ARGS__);                                                                    \
            fprintf(stderr, "\n");                                                                           \
            exit(1);                                                                                         \
        }                                                                                                    \
    } while (0)

#define KEYS 10
#define NOW  1700000000000LL

typedef struct acked_s {
    int64_t hwm;
    int64_t last[KEYS]; /* offset of each key's last acknowledged record, -1 */
    int64_t cleanings;
    int in_cleaning; /* sent just before a cleaning starts: if it is the last word, the cut hit it */
} acked_t;

/* Everything about a record follows from its offset, so a misplaced or torn one cannot pass. */
static int key_of(int64_t off) { return (int)((off * 7 + off / 13) % KEYS); }
static int is_tombstone(int64_t off) { return off % 11 == 5; }

static void make_batch(sa_buf_t *b, int64_t first, int n) {
    sa_rb_rec_in_t recs[16];
    char keys[16][8], vals[16][32];
    for (int i = 0; i < n; i++) {
        int64_t off = first + i;
        snprintf(keys[i], sizeof(keys[i]), "k%d", key_of(off));
        int len = snprintf(vals[i], sizeof(vals[i]), "val-%lld", (long long)off);
        recs[i] = (sa_rb_rec_in_t){keys[i],
                                   (int32_t)strlen(keys[i]),
                                   is_tombstone(off) ? NULL : vals[i],
                                   is_tombstone(off) ? -1 : len,
                                   NULL,
                                   0,
                                   NOW + off};
    }
    sa_rb_build_opts_t opts = SA_RB_BUILD_OPTS_INIT;
    opts.compression = first % 3 == 0 ? SA_RB_COMPRESSION_LZ4 : SA_RB_COMPRESSION_NONE;
    if (sa_rb_build(b, &opts, recs, (size_t)n)) _exit(4);
}

static void child(const char *dir, int wfd, unsigned seed, const acked_t *start) {
    setenv("SAMSA_SYNC_THREADS", "0", 1);
    unsigned cut_seed = seed * 7919;
    pl_install(cut_seed, rand_r(&seed) % 5 ? 1 + rand_r(&seed) % 700 : -1);
    sa_store_t *store;
    if (sa_store_open(dir, NULL, &store, NULL, 0)) _exit(2);
    sa_partition_t *part = sa_store_partition(store, "c", 0);
    int64_t next = sa_partition_leo(part);
    acked_t acked = *start;
    acked.cleanings = 0;
    int64_t last[KEYS];
    memcpy(last, acked.last, sizeof(last));
    int64_t now = NOW + 100000 * (int64_t)seed; /* later rounds roll by segment.ms too */
    int turns = 5 + rand_r(&seed) % 40;
    for (int t = 0; t < turns; t++) {
        int batches = 1 + rand_r(&seed) % 3;
        for (int b = 0; b < batches; b++) {
            sa_buf_t buf = SA_BUF_INIT(0);
            int n = 1 + rand_r(&seed) % 16;
            make_batch(&buf, next, n);
            if (sa_partition_append(part, buf.data, buf.len, now, NULL, NULL, 0)) _exit(5);
            for (int i = 0; i < n; i++) last[key_of(next + i)] = next + i;
            next += n;
            sa_buf_free(&buf);
        }
        if (t == turns - 1 && rand_r(&seed) % 2) break; /* the power may go out before the commit */
        if (sa_store_sync(store, NULL, NULL)) _exit(6);
        acked.hwm = sa_partition_hwm(part);
        memcpy(acked.last, last, sizeof(last));
        if (rand_r(&seed) % 2 == 0) {
            acked.in_cleaning = 1;
            if (write(wfd, &acked, sizeof(acked)) != sizeof(acked)) _exit(7);
            acked.in_cleaning = 0;
            sa_err_t e = sa_partition_clean(part, now, NULL);
            if (e != SA_OK && e != SA_ERR_NOT_FOUND) _exit(9);
            acked.cleanings += e == SA_OK;
        }
        if (write(wfd, &acked, sizeof(acked)) != sizeof(acked)) _exit(7);
        now += 400;
    }
    pl_power_loss();
    _exit(0);
}

/* Read everything back; check each record and find each key's last offset. @returns the HWM. */
static int64_t verify(sa_store_t *store, const acked_t *acked, int64_t last[KEYS], int64_t *records) {
    sa_partition_t *part = sa_store_partition(store, "c", 0);
    int64_t hwm = sa_partition_hwm(part);
    CHECK(hwm >= acked->hwm, "acknowledged records lost: HWM %lld, %lld acknowledged", (long long)hwm,
          (long long)acked->hwm);
    for (int k = 0; k < KEYS; k++) last[k] = -1;
    sa_buf_t out = SA_BUF_INIT(0);
    int64_t o = sa_partition_log_start(part), prev = -1;
    *records = 0;
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
                CHECK(rec.Offset > prev, "offset %lld after %lld", (long long)rec.Offset, (long long)prev);
                prev = rec.Offset;
                char key[8], val[32];
                snprintf(key, sizeof(key), "k%d", key_of(rec.Offset));
                int len = snprintf(val, sizeof(val), "val-%lld", (long long)rec.Offset);
                CHECK(rec.KeyLength == (int32_t)strlen(key) && !memcmp(rec.Key, key, strlen(key)),
                      "offset %lld: wrong key", (long long)rec.Offset);
                if (is_tombstone(rec.Offset))
                    CHECK(rec.ValueLength == -1, "offset %lld: not a tombstone", (long long)rec.Offset);
                else
                    CHECK(rec.ValueLength == len && !memcmp(rec.Value, val, (size_t)len),
                          "offset %lld: wrong value", (long long)rec.Offset);
                last[key_of(rec.Offset)] = rec.Offset;
                (*records)++;
            }
            sa_rb_records_close(&rr);
            o = sa_rb_last_offset(&hdr) + 1;
        }
    }
    sa_buf_free(&out);
    for (int k = 0; k < KEYS; k++)
        CHECK(last[k] >= acked->last[k], "key %d: its last acknowledged record %lld is gone (last now %lld)",
              k, (long long)acked->last[k], (long long)last[k]);
    return hwm;
}

static int leftovers(const char *dir) {
    char pdir[700];
    snprintf(pdir, sizeof(pdir), "%s/c-0", dir);
    DIR *d = opendir(pdir);
    struct dirent *de;
    int n = 0;
    while (d && (de = readdir(d))) n += strstr(de->d_name, ".cleaned") || strstr(de->d_name, ".swap");
    if (d) closedir(d);
    return n;
}

int main(void) {
    sa_log_set_level("error");
    char dir[512];
    CHECK(th_mkdtemp(dir, sizeof(dir), "compact-power-loss") == 0, "mkdtemp");
    sa_store_t *store;
    CHECK(sa_store_open(dir, NULL, &store, NULL, 0) == SA_OK, "open");
    sa_config_kv_t cfg[] = {{"cleanup.policy", "compact"}, {"segment.bytes", "1500"}, {"segment.ms", "1000"}};
    CHECK(sa_store_topic_create(store, "c", 1, cfg, 3, 0, NULL, 0) == SA_OK, "create");
    CHECK(sa_store_close(store) == SA_OK, "close");
    acked_t acked = {.hwm = 0};
    for (int k = 0; k < KEYS; k++) acked.last[k] = -1;
    int64_t cleanings = 0, produced = 0, records = 0, cut_in_cleaning = 0;
    for (unsigned round = 0; round < 60; round++) {
        int fds[2];
        CHECK(pipe(fds) == 0, "pipe");
        fflush(NULL);
        acked_t start = acked;
        pid_t pid = fork();
        CHECK(pid >= 0, "fork");
        if (pid == 0) {
            close(fds[0]);
            child(dir, fds[1], 2000 + round, &start);
        }
        close(fds[1]);
        acked_t v;
        acked.cleanings = 0;
        while (read(fds[0], &v, sizeof(v)) == sizeof(v)) acked = v;
        close(fds[0]);
        int status;
        waitpid(pid, &status, 0);
        CHECK(WIFEXITED(status) && WEXITSTATUS(status) == 0, "child failed with status %d", status);
        int64_t child_cleanings = acked.cleanings;
        int cut_in_cleaning_now = acked.in_cleaning;
        cut_in_cleaning += acked.in_cleaning;
        acked.in_cleaning = 0;

        char err[256] = "";
        CHECK(sa_store_open(dir, NULL, &store, err, sizeof(err)) == SA_OK, "open: %s", err);
        CHECK(leftovers(dir) == 0, "a .cleaned or .swap file survived the open");
        int64_t last[KEYS];
        int64_t hwm = verify(store, &acked, last, &records);
        CHECK(sa_store_close(store) == SA_OK, "close");
        printf("round %2u: HWM %5lld acknowledged, %5lld after recovery, %5lld records in the log, %lld "
               "cleanings "
               "acknowledged this round%s\n",
               round, (long long)acked.hwm, (long long)hwm, (long long)records, (long long)child_cleanings,
               cut_in_cleaning_now ? "; the power went out during a cleaning" : "");
        /* What survived is the truth for the next round. */
        produced = hwm;
        acked.hwm = hwm;
        memcpy(acked.last, last, sizeof(last));
        cleanings += child_cleanings;
    }
    CHECK(cleanings > 0, "no cleaning was ever acknowledged");
    CHECK(records < produced, "the log was never compacted");
    CHECK(cut_in_cleaning > 0, "the power never went out during a cleaning");
    printf("%lld cleanings acknowledged; %lld power losses in the middle of a cleaning; %lld records of %lld "
           "offsets remain\nok\n",
           (long long)cleanings, (long long)cut_in_cleaning, (long long)records, (long long)produced);
    th_rmtree(dir);
    return 0;
}
