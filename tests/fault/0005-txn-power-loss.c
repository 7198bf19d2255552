/*
 * Simulated power loss with transactions, through the fsync-aware layer of tests/lib/power_loss.h: the
 * transaction coordinator's state (the metadata log), the partitions' data and markers, the
 * transaction indexes (.txnindex, at rolls) and the offsets transactions commit. The topic is
 * compacted and the cleaner runs now and then (plain records with a few repeating keys give it
 * something to remove; the transactions' records have keys of their own), so the power also goes
 * out inside cleanings and their swaps, which carry the aborted-transaction index along.
 *
 * A child process runs the coordinator over a real store, as the broker does (markers through
 * sa_partition_append_marker): three transactional ids start transactions over random partitions
 * of a 3-partition topic with small segments, append their records, make them durable (a client
 * ends a transaction only after its writes were acknowledged), commit an offset for their group
 * inside the transaction, and end it (two of three commit). It tells the parent, through a pipe,
 * every EndTxn it sends and every EndTxn that was answered. The power goes out at a random file
 * system call. The parent then recovers (store, metadata log, sa_tcoord_start: decided
 * transactions get their missing markers; then a tick far in the future aborts what was still
 * ongoing), group-commits until the coordinator is idle, and checks, reading every partition's log
 * as a read_committed consumer would (a transaction's records count once its COMMIT marker comes):
 *   - an acknowledged commit is visible whole in every partition; its offset (or a later one)
 *     is the group's committed offset;
 *   - an acknowledged abort is not visible anywhere, nor is its offset ever committed;
 *   - a transaction whose EndTxn was not answered is committed everywhere or aborted everywhere
 *     (in doubt at restart -> consistent), and so is its offset;
 *   - nothing is open any more: every partition's last stable offset is its HWM, and the aborted
 *     transactions the index reports are exactly the aborted ones found in the log.
 * 40 rounds over one data directory, so each round starts from the last one's recovery.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "broker/group/offsets.h"
#include "broker/metastore.h"
#include "broker/txn/coordinator.h"
#include "core/log.h"
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

#define NPART  3
#define NIDS   3
#define MAXTXN 4096 /* transactions per id over all rounds */
#define NOW    1700000000000LL

/* A message from the child: an EndTxn sent or answered. */
typedef struct msg_s {
    int id;     /* transactional id index */
    int n;      /* its transaction number */
    int commit; /* the decision; -1: the transaction begins */
    int answered;
} msg_t;

/* ---- partitions for the coordinator, as the broker wires them (handle_txn.c) ------------------ */

static sa_err_t write_marker(void *arg, const char *topic, int32_t partition, int64_t pid, int16_t epoch,
                             int commit, int64_t now_ms, int64_t *offset) {
    sa_partition_t *part = sa_store_partition(arg, topic, partition);
    *offset = -1;
    if (!part || !sa_partition_txn_open(part, pid, NULL)) return SA_OK;
    sa_append_result_t res;
    sa_err_t err = sa_partition_append_marker(part, pid, epoch, commit, 0, now_ms, &res, NULL, 0);
    if (!err) *offset = res.base_offset;
    return err;
}

static int marker_state(void *arg, const char *topic, int32_t partition, int64_t pid, int64_t offset) {
    sa_partition_t *part = sa_store_partition(arg, topic, partition);
    if (!part || offset < sa_partition_hwm(part)) return SA_TXN_MARKER_DURABLE;
    return sa_partition_txn_open(part, pid, NULL) ? SA_TXN_MARKER_LOST : SA_TXN_MARKER_PENDING;
}

static const sa_tcoord_ops_t ops = {write_marker, marker_state};

static sa_metalog_conf_t meta_conf(void) {
    sa_metalog_conf_t conf;
    sa_metalog_conf_defaults(&conf);
    conf.compact_min_bytes = 4096; /* compactions under the knife too */
    conf.compact_slack = 16;
    return conf;
}

/* One group commit, then the coordinator's step after it. */
static void sync_and_step(sa_store_t *store, sa_tcoord_t *tc) {
    if (sa_store_sync(store, NULL, NULL)) _exit(6);
    sa_tcoord_synced(tc, NOW);
}

/* ---- the child ------------------------------------------------------------------------------------ */

static int wfd;
static const char *const ids[NIDS] = {"A", "B", "C"};

typedef struct producer_s {
    int64_t pid;
    int16_t epoch;
    int32_t seq[NPART];
    int n; /* next transaction number */
} producer_t;

static void on_end(void *opaque, sa_err_t err, int64_t pid, int16_t epoch) {
    (void)pid;
    (void)epoch;
    msg_t *m = opaque;
    if (err) return; /* not an answer the client can rely on */
    m->answered = 1;
    if (write(wfd, m, sizeof(*m)) != sizeof(*m)) _exit(7);
}

/* A transactional batch of @p id's transaction @p n for partition @p p (each record its own key). */
static void append_batch(sa_partition_t *part, producer_t *pr, int id, int p) {
    sa_rb_rec_in_t recs[4];
    char vals[4][48];
    int count = 1 + (pr->n + p) % 4;
    for (int i = 0; i < count; i++) {
        int len = snprintf(vals[i], sizeof(vals[i]), "%d-%d-%d-%d", id, pr->n, p, i);
        recs[i] = (sa_rb_rec_in_t){vals[i], len, vals[i], len, NULL, 0, NOW};
    }
    sa_rb_build_opts_t o = SA_RB_BUILD_OPTS_INIT;
    o.attributes = SA_RB_ATTR_TRANSACTIONAL;
    o.producer_id = pr->pid;
    o.producer_epoch = pr->epoch;
    o.base_sequence = pr->seq[p];
    sa_buf_t b = SA_BUF_INIT(0);
    if (sa_rb_build(&b, &o, recs, (size_t)count)) _exit(4);
    if (sa_partition_append(part, b.data, b.len, NOW, NULL, NULL, 0)) _exit(5);
    pr->seq[p] += count;
    sa_buf_free(&b);
}

/* Plain records under a few repeating keys (what the cleaner removes), then now and then a
 * cleaning of one partition. */
static void churn_and_clean(sa_store_t *store, unsigned *seed) {
    int p = rand_r(seed) % NPART;
    char key[16];
    int len = snprintf(key, sizeof(key), "noise-%d", rand_r(seed) % 4);
    sa_rb_rec_in_t rec = {key, len, "noise", 5, NULL, 0, NOW};
    sa_rb_build_opts_t o = SA_RB_BUILD_OPTS_INIT;
    sa_buf_t b = SA_BUF_INIT(0);
    if (sa_rb_build(&b, &o, &rec, 1)) _exit(4);
    if (sa_partition_append(sa_store_partition(store, "t", p), b.data, b.len, NOW, NULL, NULL, 0)) _exit(5);
    sa_buf_free(&b);
    if (rand_r(seed) % 12 == 0) {
        sa_err_t err = sa_partition_clean(sa_store_partition(store, "t", rand_r(seed) % NPART), NOW, NULL);
        if (err && err != SA_ERR_NOT_FOUND) _exit(11);
    }
}

static void child(const char *dir, unsigned seed, int first_n) {
    long calls = 1 + rand_r(&seed) % 1500;
    setenv("SAMSA_SYNC_THREADS", "0", 1); /* one thread: the cut is one precise point */
    pl_install(seed * 7919, calls);
    sa_log_set_level("error");
    sa_store_t *store;
    sa_metastore_t ms;
    sa_metalog_conf_t conf = meta_conf();
    if (sa_store_open(dir, NULL, &store, NULL, 0) || sa_metastore_open(&ms, store, &conf, NULL, 0)) _exit(2);
    sa_tcoord_t *tc = ms.txns;
    sa_tcoord_configure(tc, NULL, &ops, store);
    sa_tcoord_start(tc, NOW);
    sync_and_step(store, tc); /* what the recovery wrote */
    producer_t prod[NIDS];
    memset(prod, 0, sizeof(prod));
    static msg_t msgs[NIDS][64];
    int nmsg[NIDS] = {0};
    for (int i = 0; i < NIDS; i++) prod[i].pid = -1, prod[i].n = first_n;
    for (int turn = 0; turn < 400; turn++) {
        churn_and_clean(store, &seed);
        int id = rand_r(&seed) % NIDS;
        producer_t *pr = &prod[id];
        if (pr->pid < 0) { /* a new instance: fences and aborts what an earlier one left open */
            sa_txn_pid_t out;
            sa_err_t err = sa_tcoord_init_pid(tc, ids[id], 60000, -1, -1, NOW, &out);
            sync_and_step(store, tc);
            if (err) continue; /* CONCURRENT_TRANSACTIONS: the fence is being written; again later */
            pr->pid = out.ProducerId;
            pr->epoch = out.ProducerEpoch;
            memset(pr->seq, 0, sizeof(pr->seq));
        }
        /* A transaction: partitions, records (durable before the end, as a client's are acked
         * before it commits), an offset, the end. */
        msg_t begun = {id, pr->n, -1, 0}; /* its number is taken, whatever happens next */
        if (write(wfd, &begun, sizeof(begun)) != sizeof(begun)) _exit(7);
        sa_txn_tp_t tps[NPART];
        int np = 0, mask = 1 + rand_r(&seed) % 7;
        for (int p = 0; p < NPART; p++)
            if (mask & (1 << p)) tps[np++] = (sa_txn_tp_t){"t", p};
        if (sa_tcoord_add_partitions(tc, ids[id], pr->pid, pr->epoch, tps, (size_t)np, NOW)) _exit(8);
        char group[8];
        snprintf(group, sizeof(group), "g%s", ids[id]);
        if (sa_tcoord_add_group(tc, ids[id], pr->pid, pr->epoch, group, NOW)) _exit(8);
        sync_and_step(store, tc);
        for (int k = 0; k < np; k++)
            append_batch(sa_store_partition(store, "t", tps[k].partition), pr, id, tps[k].partition);
        sa_txn_offset_t off = {"src", 0, pr->n, -1, "m", 1};
        if (sa_tcoord_commit_offsets(tc, ids[id], pr->pid, pr->epoch, group, &off, 1, NOW)) _exit(8);
        sync_and_step(store, tc);
        msg_t *m = &msgs[id][nmsg[id]++ % 64];
        *m = (msg_t){id, pr->n, rand_r(&seed) % 3 != 2, 0};
        if (write(wfd, m, sizeof(*m)) != sizeof(*m)) _exit(7);
        sa_txn_pid_t out;
        sa_err_t err = sa_tcoord_end_txn(tc, ids[id], pr->pid, pr->epoch, m->commit, 0, NOW, on_end, m, &out);
        if (err != SA_ERR_AGAIN) _exit(9);
        for (int k = 0; k < 4 && !m->answered; k++) sync_and_step(store, tc);
        if (!m->answered) _exit(10);
        pr->n++;
        if (rand_r(&seed) % 8 == 0) pr->pid = -1; /* the client restarts: a new instance next time */
    }
    pl_power_loss();
}

/* ---- the parent -------------------------------------------------------------------------------------- */

/* What the log says of each transaction in each partition, read as read_committed does. */
enum { NONE = 0, COMMITTED, ABORTED };
static int fate[NIDS][MAXTXN][NPART]; /* per partition: NONE, COMMITTED or ABORTED */
static int records[NIDS][MAXTXN][NPART];

typedef struct scan_ctx_s {
    sa_partition_t *part;
    int p;
    int64_t lso;
    int open_id[64], open_n[64]; /* per producer slot: the transaction whose records came last */
    int64_t pid_of[64];
    int npid;
    int aborted_found;
} scan_ctx_t;

static int slot_of(scan_ctx_t *ctx, int64_t pid) {
    for (int i = 0; i < ctx->npid; i++)
        if (ctx->pid_of[i] == pid) return i;
    CHECK(ctx->npid < 64, "too many producers");
    ctx->pid_of[ctx->npid] = pid;
    ctx->open_id[ctx->npid] = -1;
    return ctx->npid++;
}

/* Read the whole partition, batch by batch (the reads return whole batches). */
static void scan_partition(sa_store_t *store, int p) {
    sa_partition_t *part = sa_store_partition(store, "t", p);
    scan_ctx_t ctx = {.part = part, .p = p, .lso = sa_partition_lso(part)};
    int64_t hwm = sa_partition_hwm(part);
    CHECK(ctx.lso == hwm, "partition %d: a transaction is still open after recovery (LSO %lld, HWM %lld)", p,
          (long long)ctx.lso, (long long)hwm);
    sa_buf_t out = SA_BUF_INIT(0);
    int64_t o = sa_partition_log_start(part);
    while (o < hwm) {
        sa_buf_reset(&out);
        CHECK(sa_partition_read(part, o, 1 << 16, &out) == SA_OK && out.len > 0, "read %d at %lld", p,
              (long long)o);
        sa_rb_iter_t it;
        sa_rb_header_t hdr;
        const uint8_t *batch;
        sa_rb_iter_init(&it, out.data, out.len);
        while (sa_rb_iter_next(&it, &hdr, &batch) == SA_OK) {
            o = sa_rb_last_offset(&hdr) + 1;
            CHECK(sa_rb_crc_ok(batch, sa_rb_size(&hdr)), "CRC");
            if (hdr.ProducerId < 0) continue; /* the plain churn */
            int s = slot_of(&ctx, hdr.ProducerId);
            sa_rb_records_t rr;
            sa_rb_record_t rec;
            CHECK(sa_rb_records_open(&rr, batch, sa_rb_size(&hdr), 1 << 20, NULL, 0) == SA_OK, "records");
            if (hdr.Attributes & SA_RB_ATTR_CONTROL) {
                CHECK(sa_rb_records_next(&rr, &rec) == SA_OK && rec.KeyLength == 4, "marker");
                int commit = sa_load_be16(rec.Key + 2) == 1;
                if (ctx.open_id[s] >= 0) {
                    int *f = &fate[ctx.open_id[s]][ctx.open_n[s]][p];
                    CHECK(*f == NONE, "two markers for one transaction");
                    *f = commit ? COMMITTED : ABORTED;
                    if (!commit) {
                        /* The index must know it: it is reported for its first batch's offset. */
                        sa_buf_t ab = SA_BUF_INIT(0);
                        size_t n = sa_partition_aborted_txns(part, hdr.BaseOffset, hdr.BaseOffset + 1, &ab);
                        int found = 0;
                        for (size_t k = 0; k < n; k++)
                            found |= ((sa_aborted_txn_t *)ab.data)[k].producer_id == hdr.ProducerId;
                        sa_buf_free(&ab);
                        CHECK(found, "partition %d: the abort at %lld is not in the index", p,
                              (long long)hdr.BaseOffset);
                        ctx.aborted_found++;
                    }
                }
                ctx.open_id[s] = -1;
            } else {
                while (sa_rb_records_next(&rr, &rec) == SA_OK) {
                    int id, n, pp, i;
                    CHECK(sscanf((const char *)rec.Value, "%d-%d-%d-%d", &id, &n, &pp, &i) == 4 && pp == p,
                          "value");
                    CHECK(
                        ctx.open_id[s] < 0 || (ctx.open_id[s] == id && ctx.open_n[s] == n),
                        "partition %d: records of two transactions of one producer without a marker between",
                        p);
                    ctx.open_id[s] = id;
                    ctx.open_n[s] = n;
                    records[id][n][p]++;
                }
            }
            sa_rb_records_close(&rr);
        }
    }
    sa_buf_free(&out);
    sa_buf_t ab = SA_BUF_INIT(0);
    size_t n = sa_partition_aborted_txns(part, 0, hwm, &ab);
    sa_buf_free(&ab);
    CHECK(n == (size_t)ctx.aborted_found, "partition %d: the index reports %zu aborts, the log has %d", p, n,
          ctx.aborted_found);
}

/* The outcome of @p id's transaction @p n over all partitions: COMMITTED, ABORTED or NONE (no
 * records anywhere); a mix fails the test. */
static int outcome(int id, int n) {
    int seen = NONE;
    for (int p = 0; p < NPART; p++) {
        if (fate[id][n][p] == NONE) {
            CHECK(records[id][n][p] == 0, "%s txn %d: records in partition %d without a marker", ids[id], n,
                  p);
            continue;
        }
        CHECK(seen == NONE || seen == fate[id][n][p],
              "%s txn %d: committed in one partition, aborted in another", ids[id], n);
        seen = fate[id][n][p];
    }
    return seen;
}

int main(void) {
    sa_log_set_level("error");
    char dir[512];
    CHECK(th_mkdtemp(dir, sizeof(dir), "txn-power-loss") == 0, "mkdtemp");
    sa_store_t *store;
    CHECK(sa_store_open(dir, NULL, &store, NULL, 0) == SA_OK, "open");
    sa_config_kv_t cfg[] = {{"segment.bytes", "2000"}, {"cleanup.policy", "compact"}};
    CHECK(sa_store_topic_create(store, "t", NPART, cfg, 2, 0, NULL, 0) == SA_OK, "create");
    CHECK(sa_store_close(store) == SA_OK, "close");
    static int sent[NIDS][MAXTXN], acked[NIDS][MAXTXN]; /* 0: none; 1 commit; 2 abort */
    int next_n = 0, doubts = 0, doubt_commits = 0, commits = 0, aborts = 0, restarts_finished = 0;
    for (unsigned round = 0; round < 40; round++) {
        int fds[2];
        CHECK(pipe(fds) == 0, "pipe");
        fflush(NULL);
        int first_n = next_n;
        pid_t pid = fork();
        CHECK(pid >= 0, "fork");
        if (pid == 0) {
            close(fds[0]);
            wfd = fds[1];
            child(dir, 5000 + round, first_n);
        }
        close(fds[1]);
        msg_t m;
        while (read(fds[0], &m, sizeof(m)) == sizeof(m)) {
            CHECK(m.n < MAXTXN, "too many transactions");
            if (m.n + 1 > next_n) next_n = m.n + 1;
            if (m.commit >= 0) (m.answered ? acked : sent)[m.id][m.n] = m.commit ? 1 : 2;
        }
        close(fds[0]);
        int status;
        waitpid(pid, &status, 0);
        CHECK(WIFEXITED(status) && WEXITSTATUS(status) == 0, "child failed with status %d", status);

        /* Recover as the broker does, then finish everything. */
        char err[256] = "";
        sa_metastore_t ms;
        sa_metalog_conf_t conf = meta_conf();
        CHECK(sa_store_open(dir, NULL, &store, err, sizeof(err)) == SA_OK, "open: %s", err);
        CHECK(sa_metastore_open(&ms, store, &conf, err, sizeof(err)) == SA_OK, "metadata log: %s", err);
        sa_tcoord_configure(ms.txns, NULL, &ops, store);
        sa_tcoord_stats_t st;
        sa_tcoord_start(ms.txns, NOW);
        sa_tcoord_stats(ms.txns, &st);
        restarts_finished += st.completing > 0;
        sa_tcoord_tick(ms.txns, NOW + 3600000); /* ongoing ones time out: aborted, fenced */
        for (int k = 0; k < 8 && sa_tcoord_wants_sync(ms.txns); k++) {
            CHECK(sa_store_sync(store, NULL, NULL) == SA_OK, "sync");
            sa_tcoord_synced(ms.txns, NOW + 3600000);
        }
        CHECK(!sa_tcoord_wants_sync(ms.txns), "the coordinator did not finish after recovery");
        memset(fate, 0, sizeof(fate));
        memset(records, 0, sizeof(records));
        for (int p = 0; p < NPART; p++) scan_partition(store, p);
        int rc = 0, ra = 0, rd = 0;
        for (int id = 0; id < NIDS; id++) {
            int64_t last_committed = -1;
            for (int n = 0; n < next_n; n++) {
                int out = outcome(id, n);
                if (acked[id][n] == 1) {
                    CHECK(out == COMMITTED || out == NONE, "%s txn %d: commit acknowledged, found aborted",
                          ids[id], n);
                    rc++;
                } else if (acked[id][n] == 2) {
                    CHECK(out != COMMITTED, "%s txn %d: abort acknowledged, found committed", ids[id], n);
                    ra++;
                } else if (sent[id][n]) {
                    if (n >= first_n) rd++, doubt_commits += out == COMMITTED;
                }
                if (out == COMMITTED) last_committed = n;
                /* Remember what recovery decided, for the next rounds' checks. */
                if (!acked[id][n] && sent[id][n] && out != NONE) acked[id][n] = out == COMMITTED ? 1 : 2;
            }
            /* The group's offset: the last committed transaction's number (offsets only grow). */
            char group[8];
            snprintf(group, sizeof(group), "g%s", ids[id]);
            sa_offset_entry_t ent;
            int have = sa_offsets_get(ms.offsets, group, "src", 0, &ent);
            CHECK(last_committed < 0 || (have && ent.offset == last_committed),
                  "%s: the group's offset is %lld, the last committed transaction is %lld", ids[id],
                  have ? (long long)ent.offset : -1LL, (long long)last_committed);
            if (have)
                CHECK(outcome(id, (int)ent.offset) == COMMITTED,
                      "%s: an aborted transaction's offset was committed", ids[id]);
        }
        commits = rc, aborts = ra;
        doubts += rd;
        CHECK(sa_metastore_close(&ms) == SA_OK, "close metadata log");
        CHECK(sa_store_close(store) == SA_OK, "close");
        printf("round %2u: transactions up to %d; %d commits and %d aborts decided so far; %d in doubt this "
               "round\n",
               round, next_n, rc, ra, rd);
    }
    printf("%d commits, %d aborts decided; %d transactions in doubt at a power loss, %d of them committed; "
           "%d recoveries found a decided transaction to finish\n",
           commits, aborts, doubts, doubt_commits, restarts_finished);
    int64_t cleaned = 0; /* the cleaner's checkpoints: it did clean, and that survived */
    for (int p = 0; p < NPART; p++) {
        char path[700];
        snprintf(path, sizeof(path), "%s/t-%d/cleaner-offset", dir, p);
        FILE *fp = fopen(path, "r");
        long long v = 0;
        if (fp && fscanf(fp, "%lld", &v) == 1) cleaned += v;
        if (fp) fclose(fp);
    }
    printf("the cleaner's checkpoints add up to offset %lld\n", (long long)cleaned);
    CHECK(cleaned > 0, "the cleaner never ran");
    CHECK(commits > 50 && aborts > 10, "too few transactions to mean anything");
    CHECK(doubts > 0, "no transaction was ever in doubt at a power loss");
    th_rmtree(dir);
    printf("ok\n");
    return 0;
}
