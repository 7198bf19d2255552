/*
 * Simulated power loss under load, through an fsync-aware layer in the sa_sysio table: partition
 * records, committed offsets and SCRAM credentials (the metadata log, with its compactions).
 *
 * kill -9 leaves the page cache intact, so it cannot show that acknowledged data was really
 * fdatasync'd. Here a child process appends records and commits offsets (group "g", four keys)
 * and group-commits them, telling the parent through a pipe what was acknowledged: the HWM and
 * the last offset committed for each key, after each successful sync. The power goes out at a
 * random file system call (a pwrite, an fdatasync, the rename or the directory fsync of a
 * metadata-log compaction, ...) or after the last turn: every tracked file is cut back to what
 * its last fdatasync covered plus a random torn part of the unsynced bytes (sometimes garbled),
 * a rename not yet made durable by a directory fsync is undone half of the time, and the child
 * dies without closing. The parent then opens the store and checks that:
 *   - every acknowledged record is there, in order, intact, and beyond it only a clean prefix of
 *     the unacknowledged ones survived;
 *   - every acknowledged OffsetCommit survived: each key's offset is at least the acknowledged
 *     one; a later, unacknowledged commit may have survived instead, but never a corrupt one
 *     (its metadata and commit time still match its offset, and it belongs to its key);
 *   - every acknowledged SCRAM credential survived (one user per key, its iterations only grow):
 *     the user's credential is the acknowledged one or a later one, never a torn one (salt and
 *     keys still derive from its iteration count);
 *   - the partition's producer state (its batches come from three idempotent producers), loaded
 *     from the newest <offset>.snapshot the power loss left and the batches after it, is byte for
 *     byte the state a scan of the whole recovered log gives: no snapshot describes a batch the
 *     power loss took back, and a half-written one is never used.
 * 25 rounds, random seeds, small segments and a small compaction threshold so rolls and
 * compactions happen under the knife. The sync threads are off in the child (SAMSA_SYNC_THREADS=0),
 * so the cut is one precise point in a single thread's sequence of calls.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "broker/group/offsets.h"
#include "broker/metastore.h"
#include "broker/security/scram_store.h"
#include "core/log.h"
#include "core/sysio.h"
#include "harness.h"
#include "power_loss.h"
#include "proto/record_batch.h"
#include "storage/pstate.h"
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

#define KEYS 4 /* offset keys: partitions 0..3 of topic "p" committed by group "g" */

/* What the child acknowledged after a successful group commit. */
typedef struct acked_s {
    int64_t hwm;
    int64_t committed[KEYS]; /* -1: nothing committed yet */
    int32_t scram[KEYS];     /* iterations of user "u<key>"'s credential, 0: none yet */
    uint64_t compactions;    /* of the metadata log, so far in this child */
} acked_t;

/* ---- the child ---------------------------------------------------------------------------- */

#define PRODUCERS 3 /* idempotent producers 0..2 write the batches in turn */

static void make_batch(sa_buf_t *b, int64_t first, int n, int64_t pid, int32_t seq) {
    sa_rb_rec_in_t recs[16];
    char vals[16][32];
    for (int i = 0; i < n; i++) {
        int len = snprintf(vals[i], sizeof(vals[i]), "rec-%lld", (long long)(first + i));
        recs[i] = (sa_rb_rec_in_t){NULL, -1, vals[i], len, NULL, 0, 1700000000000 + first + i};
    }
    sa_rb_build_opts_t opts = SA_RB_BUILD_OPTS_INIT;
    opts.compression = first % 3 == 0 ? SA_RB_COMPRESSION_LZ4 : SA_RB_COMPRESSION_NONE;
    opts.producer_id = pid;
    opts.producer_epoch = 0;
    opts.base_sequence = seq;
    if (sa_rb_build(b, &opts, recs, (size_t)n)) _exit(4);
}

static sa_metalog_conf_t meta_conf(void) {
    sa_metalog_conf_t conf;
    sa_metalog_conf_defaults(&conf);
    conf.compact_min_bytes = 2048; /* compact every few dozen commits */
    conf.compact_slack = 8;
    return conf;
}

/* An offset commit whose fields all derive from its value, so a torn one cannot pass. */
static int commit(sa_metastore_t *ms, int key, int64_t value) {
    char meta[32];
    int n = snprintf(meta, sizeof(meta), "m-%lld", (long long)value);
    return sa_offsets_commit(ms->offsets, "g", "p", key, value, (int32_t)(value % 1000), meta, (size_t)n,
                             value);
}

/* User "u<k>"'s credential for @p iters: salt and salted password derive from it, so a torn one
 * cannot pass for a whole one. */
static void scram_cred(int32_t iters, sa_scram_cred_t *c) {
    uint8_t salt[8], salted[32];
    for (int i = 0; i < 8; i++) salt[i] = (uint8_t)((uint32_t)iters >> (i % 4 * 8)) ^ (uint8_t)i;
    if (sa_scram_hash(SA_SCRAM_SHA_256, salt, sizeof(salt), salted) ||
        sa_scram_cred_from_salted(c, SA_SCRAM_SHA_256, iters, salt, sizeof(salt), salted, sizeof(salted)))
        abort();
}

/* Child: append, commit offsets and sync until the power goes out; report what was acknowledged. */
static void child(const char *dir, int wfd, unsigned seed) {
    setenv("SAMSA_SYNC_THREADS", "0", 1);
    unsigned cut_seed = seed * 7919;
    pl_install(cut_seed, rand_r(&seed) % 4 ? 1 + rand_r(&seed) % 900 : -1);
    sa_store_t *store;
    sa_metastore_t ms;
    sa_metalog_conf_t conf = meta_conf();
    if (sa_store_open(dir, NULL, &store, NULL, 0) || sa_metastore_open(&ms, store, &conf, NULL, 0)) _exit(2);
    sa_partition_t *part = sa_store_partition(store, "p", 0);
    int64_t next = sa_partition_leo(part);
    int32_t seq[PRODUCERS] = {0}; /* each producer goes on after its last sequence the log kept */
    sa_buf_t known = SA_BUF_INIT(0);
    size_t nknown = sa_pstate_list(sa_partition_pstate(part), &known);
    for (size_t i = 0; i < nknown; i++) {
        const sa_producer_info_t *p = (const sa_producer_info_t *)known.data + i;
        if (p->producer_id < PRODUCERS) seq[p->producer_id] = p->last_sequence + 1;
    }
    sa_buf_free(&known);
    acked_t acked = {.hwm = sa_partition_hwm(part)};
    int64_t committed[KEYS];
    for (int k = 0; k < KEYS; k++) {
        sa_offset_entry_t ent;
        committed[k] = sa_offsets_get(ms.offsets, "g", "p", k, &ent) ? ent.offset : -1;
    }
    int64_t value = 0; /* commit values only grow, so a key's newer commit has a larger one */
    for (int k = 0; k < KEYS; k++) value = committed[k] > value ? committed[k] : value;
    int32_t scram[KEYS], iters = 4096;
    for (int k = 0; k < KEYS; k++) {
        char user[8];
        snprintf(user, sizeof(user), "u%d", k);
        const sa_scram_cred_t *c = sa_scram_store_find(ms.scram, user, SA_SCRAM_SHA_256);
        scram[k] = c ? c->iterations : 0;
        if (scram[k] > iters) iters = scram[k];
    }
    int turns = 5 + rand_r(&seed) % 60;
    for (int t = 0; t < turns; t++) {
        int batches = 1 + rand_r(&seed) % 4;
        for (int b = 0; b < batches; b++) {
            sa_buf_t buf = SA_BUF_INIT(0);
            int n = 1 + rand_r(&seed) % 16;
            int64_t pid = next % PRODUCERS;
            make_batch(&buf, next, n, pid, seq[pid]);
            seq[pid] += n;
            if (sa_partition_append(part, buf.data, buf.len, 1700000000000, NULL, NULL, 0)) _exit(5);
            next += n;
            sa_buf_free(&buf);
        }
        int commits = rand_r(&seed) % 4;
        for (int c = 0; c < commits; c++) {
            int k = rand_r(&seed) % KEYS;
            value += 1 + rand_r(&seed) % 50;
            value += (KEYS + k - value % KEYS) % KEYS; /* value % KEYS == k: it belongs to its key */
            if (commit(&ms, k, value)) _exit(8);
            committed[k] = value;
        }
        if (rand_r(&seed) % 3 == 0) {
            int k = rand_r(&seed) % KEYS;
            char user[8];
            snprintf(user, sizeof(user), "u%d", k);
            sa_scram_cred_t cred;
            scram_cred(++iters, &cred);
            if (sa_scram_store_upsert(ms.scram, user, &cred, NULL)) _exit(9);
            scram[k] = iters;
        }
        /* Power may go out mid-turn, before the group commit. */
        if (t == turns - 1 && rand_r(&seed) % 2) break;
        if (sa_store_sync(store, NULL, NULL)) _exit(6);
        acked.hwm = sa_partition_hwm(part);
        memcpy(acked.committed, committed, sizeof(committed));
        memcpy(acked.scram, scram, sizeof(scram));
        sa_metalog_stats_t st;
        sa_metalog_stats(ms.log, &st);
        acked.compactions = st.compactions;
        if (write(wfd, &acked, sizeof(acked)) != sizeof(acked)) _exit(7);
    }
    pl_power_loss();
    _exit(0);
}

/* ---- the parent --------------------------------------------------------------------------- */

/* Every acknowledged record present and intact; beyond that only a clean prefix. */
static int64_t verify_records(sa_store_t *store, int64_t acked) {
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
    return hwm;
}

static int rebuild_visit(void *opaque, const sa_rb_header_t *hdr) {
    sa_pstate_record(opaque, hdr);
    return 0;
}

/* The producer state recovered (snapshot + tail) equals a scan of the whole recovered log.
 * @returns the number of snapshot files. */
static int verify_producers(sa_store_t *store, const char *dir) {
    sa_partition_t *part = sa_store_partition(store, "p", 0);
    sa_pstate_t *full = sa_pstate_new();
    CHECK(sa_partition_scan_batches(part, 0, rebuild_visit, full) == SA_OK, "scan");
    sa_buf_t a = SA_BUF_INIT(0), b = SA_BUF_INIT(0);
    int64_t leo = sa_partition_leo(part);
    sa_pstate_encode(sa_partition_pstate(part), leo, &a);
    sa_pstate_encode(full, leo, &b);
    CHECK(sa_pstate_count(full) > 0 || leo == 0, "no producer in a non-empty log");
    CHECK(a.len == b.len && !memcmp(a.data, b.data, a.len),
          "producer state after recovery (%zu producers) differs from the log's (%zu)",
          sa_pstate_count(sa_partition_pstate(part)), sa_pstate_count(full));
    sa_buf_free(&a);
    sa_buf_free(&b);
    sa_pstate_free(full);
    char pdir[600];
    snprintf(pdir, sizeof(pdir), "%s/p-0", dir);
    int n = 0;
    DIR *d = opendir(pdir);
    struct dirent *de;
    while (d && (de = readdir(d))) n += strlen(de->d_name) == 29 && !strcmp(de->d_name + 20, ".snapshot");
    if (d) closedir(d);
    return n;
}

/* Every acknowledged commit present (or a later one), none corrupt. @returns how many keys moved past the
 * ack. */
static int verify_offsets(sa_metastore_t *ms, const acked_t *acked) {
    int later = 0;
    for (int k = 0; k < KEYS; k++) {
        sa_offset_entry_t ent;
        if (!sa_offsets_get(ms->offsets, "g", "p", k, &ent)) {
            CHECK(acked->committed[k] < 0, "key %d: the acknowledged commit %lld was lost", k,
                  (long long)acked->committed[k]);
            continue;
        }
        char meta[32];
        int n = snprintf(meta, sizeof(meta), "m-%lld", (long long)ent.offset);
        CHECK(ent.offset >= acked->committed[k], "key %d: commit %lld was acknowledged, %lld came back", k,
              (long long)acked->committed[k], (long long)ent.offset);
        CHECK(ent.offset % KEYS == k && ent.commit_ts_ms == ent.offset &&
                  ent.leader_epoch == (int32_t)(ent.offset % 1000) && ent.metadata_len == (size_t)n &&
                  !memcmp(ent.metadata, meta, (size_t)n),
              "key %d: a corrupt commit came back (offset %lld)", k, (long long)ent.offset);
        later += ent.offset > acked->committed[k];
    }
    return later;
}

/* Every acknowledged credential present (or a later one), none torn. @returns how many users moved on. */
static int verify_scram(sa_metastore_t *ms, const acked_t *acked, int32_t *now) {
    int later = 0;
    for (int k = 0; k < KEYS; k++) {
        char user[8];
        snprintf(user, sizeof(user), "u%d", k);
        const sa_scram_cred_t *c = sa_scram_store_find(ms->scram, user, SA_SCRAM_SHA_256);
        now[k] = c ? c->iterations : 0;
        CHECK(now[k] >= acked->scram[k], "user %s: credential of %d iterations acknowledged, %d came back",
              user, acked->scram[k], now[k]);
        if (!c) continue;
        sa_scram_cred_t want;
        scram_cred(c->iterations, &want);
        CHECK(c->salt_len == want.salt_len && !memcmp(c->salt, want.salt, want.salt_len) &&
                  !memcmp(c->stored_key, want.stored_key, 32) && !memcmp(c->server_key, want.server_key, 32),
              "user %s: a torn credential came back (%d iterations)", user, c->iterations);
        later += now[k] > acked->scram[k];
    }
    return later;
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
    int scram_users = 0;
    uint64_t compactions = 0;
    int snapshots = 0;
    acked_t acked = {.committed = {-1, -1, -1, -1}};
    for (unsigned round = 0; round < 60; round++) {
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
        acked_t v;
        int64_t hwm_before = acked.hwm;
        acked.compactions = 0;
        while (read(fds[0], &v, sizeof(v)) == sizeof(v)) acked = v;
        compactions += acked.compactions;
        close(fds[0]);
        int status;
        waitpid(pid, &status, 0);
        CHECK(WIFEXITED(status) && WEXITSTATUS(status) == 0, "child failed with status %d", status);

        char err[256] = "";
        sa_metastore_t ms;
        sa_metalog_conf_t conf = meta_conf();
        CHECK(sa_store_open(dir, NULL, &store, err, sizeof(err)) == SA_OK, "open: %s", err);
        CHECK(sa_metastore_open(&ms, store, &conf, err, sizeof(err)) == SA_OK, "metadata log: %s", err);
        int64_t hwm = verify_records(store, acked.hwm);
        snapshots = verify_producers(store, dir);
        int later = verify_offsets(&ms, &acked);
        int32_t scram_now[KEYS];
        int scram_later = verify_scram(&ms, &acked, scram_now);
        memcpy(acked.scram, scram_now, sizeof(scram_now));
        scram_users += scram_now[0] + scram_now[1] + scram_now[2] + scram_now[3] > 0;
        int64_t hwm_acked = acked.hwm;
        /* What survived is the new truth for the next round (unacknowledged survivors included). */
        acked.hwm = hwm;
        for (int k = 0; k < KEYS; k++) {
            sa_offset_entry_t ent;
            acked.committed[k] = sa_offsets_get(ms.offsets, "g", "p", k, &ent) ? ent.offset : -1;
        }
        CHECK(sa_metastore_close(&ms) == SA_OK, "close metadata log");
        CHECK(sa_store_close(store) == SA_OK, "close");
        total_acked += acked.hwm - hwm_before;
        printf(
            "round %2u: HWM %6lld acknowledged, %6lld after recovery; offsets %lld %lld %lld %lld after "
            "recovery (%d keys past the acknowledged commit); SCRAM iterations %d %d %d %d (%d users past)\n",
            round, (long long)hwm_acked, (long long)hwm, (long long)acked.committed[0],
            (long long)acked.committed[1], (long long)acked.committed[2], (long long)acked.committed[3],
            later, acked.scram[0], acked.scram[1], acked.scram[2], acked.scram[3], scram_later);
    }
    CHECK(total_acked > 0, "nothing was acknowledged");
    CHECK(compactions > 0, "the metadata log was never compacted under the knife");
    CHECK(scram_users > 0, "no SCRAM credential ever survived");
    CHECK(snapshots > 2, "only %d producer state snapshots: no roll wrote one under the knife", snapshots);
    printf("%llu compactions of the metadata log acknowledged\n", (unsigned long long)compactions);
    th_rmtree(dir);
    printf("ok\n");
    return 0;
}
