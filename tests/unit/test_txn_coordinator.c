/* The transaction coordinator's state machine, driven directly with a fake clock and fake
 * partitions: InitProducerId (new ids, epoch bumps, KIP-360 retries, fencing, epoch exhaustion),
 * AddPartitionsToTxn / AddOffsetsToTxn, verification (KIP-890 part 1), TxnOffsetCommit with the
 * offsets committed at PrepareCommit and dropped at abort, EndTxn answered once the markers are
 * durable (only partitions with data get one; a cut marker is written again; a failed write is
 * retried), EndTxn v5's epoch per transaction, timeouts that fence, expiry, describe and list,
 * and the state surviving a restart of the metadata log with a PrepareCommit finished at start. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "broker/group/offsets.h"
#include "broker/metastore.h"
#include "broker/producer_id.h"
#include "broker/txn/coordinator.h"
#include "harness.h"
#include "storage/storage.h"

#define T0 1700000000000LL

/* ---- fake partitions: a producer's open transaction, markers and their durability ---------- */

typedef struct fpart_s {
    char topic[16];
    int32_t partition;
    int64_t open_pid;  /* producer with a transaction open here, -1 */
    int64_t leo;       /* next offset */
    int64_t durable;   /* markers below this are durable */
    char markers[256]; /* "C5/0 A5/1 ..." : type, producer id / epoch */
} fpart_t;

typedef struct fake_s {
    fpart_t parts[8];
    int n;
    int fail_writes; /* write_marker fails this many times */
} fake_t;

static fpart_t *fpart(fake_t *fk, const char *topic, int32_t partition) {
    for (int i = 0; i < fk->n; i++)
        if (!strcmp(fk->parts[i].topic, topic) && fk->parts[i].partition == partition) return &fk->parts[i];
    fpart_t *p = &fk->parts[fk->n++];
    memset(p, 0, sizeof(*p));
    snprintf(p->topic, sizeof(p->topic), "%s", topic);
    p->partition = partition;
    p->open_pid = -1;
    return p;
}

static void fk_produce(fake_t *fk, const char *topic, int32_t partition, int64_t pid) {
    fpart_t *p = fpart(fk, topic, partition);
    if (p->open_pid < 0) p->open_pid = pid;
    p->leo++;
}

static void fk_sync(fake_t *fk) {
    for (int i = 0; i < fk->n; i++) fk->parts[i].durable = fk->parts[i].leo;
}

static sa_err_t fk_write_marker(void *arg, const char *topic, int32_t partition, int64_t pid, int16_t epoch,
                                int commit, int64_t now_ms, int64_t *offset) {
    (void)now_ms;
    fake_t *fk = arg;
    if (fk->fail_writes > 0) {
        fk->fail_writes--;
        return SA_ERR_KAFKA_STORAGE_ERROR;
    }
    fpart_t *p = fpart(fk, topic, partition);
    *offset = -1;
    if (p->open_pid != pid) return SA_OK;
    *offset = p->leo++;
    p->open_pid = -1;
    snprintf(p->markers + strlen(p->markers), sizeof(p->markers) - strlen(p->markers), "%s%c%lld/%d",
             p->markers[0] ? " " : "", commit ? 'C' : 'A', (long long)pid, epoch);
    return SA_OK;
}

static int fk_marker_state(void *arg, const char *topic, int32_t partition, int64_t pid, int64_t offset) {
    fpart_t *p = fpart(arg, topic, partition);
    if (offset < p->durable) return SA_TXN_MARKER_DURABLE;
    return p->open_pid == pid ? SA_TXN_MARKER_LOST : SA_TXN_MARKER_PENDING;
}

/* A failed sync that lost the markers not durable yet: the transaction is open there again. */
static void fk_cut(fake_t *fk, int64_t pid) {
    for (int i = 0; i < fk->n; i++) {
        fpart_t *p = &fk->parts[i];
        if (p->leo > p->durable) {
            p->leo = p->durable;
            p->open_pid = pid;
            char *last = strrchr(p->markers, ' ');
            if (last)
                *last = '\0';
            else
                p->markers[0] = '\0';
        }
    }
}

/* The marker string the fake records for one marker. */
static const char *mk(char type, int64_t pid, int epoch) {
    static char out[64];
    snprintf(out, sizeof(out), "%c%lld/%d", type, (long long)pid, epoch);
    return out;
}

static const sa_tcoord_ops_t fk_ops = {fk_write_marker, fk_marker_state};

/* ---- fixture --------------------------------------------------------------------------------- */

typedef struct fixture_s {
    fake_t fk;
    sa_pid_alloc_t *pids;
    sa_offsets_t *offs;
    sa_tcoord_t *tc;
} fixture_t;

static int setup(void **state) {
    fixture_t *f = calloc(1, sizeof(*f));
    f->pids = sa_pid_alloc_new(NULL);
    f->offs = sa_offsets_new(NULL);
    sa_tcoord_conf_t conf;
    sa_tcoord_conf_defaults(&conf);
    conf.max_timeout_ms = 60000;
    conf.id_expiration_ms = 3600000;
    f->tc = sa_tcoord_new(&conf, NULL, f->pids, f->offs, &fk_ops, &f->fk);
    *state = f;
    return 0;
}

static int teardown(void **state) {
    fixture_t *f = *state;
    sa_tcoord_free(f->tc);
    sa_offsets_free(f->offs);
    sa_pid_alloc_free(f->pids);
    free(f);
    return 0;
}

/* What a parked EndTxn was answered. */
typedef struct answer_s {
    int calls;
    sa_err_t err;
    int64_t pid;
    int16_t epoch;
} answer_t;

static void on_end(void *opaque, sa_err_t err, int64_t pid, int16_t epoch) {
    answer_t *a = opaque;
    a->calls++;
    a->err = err;
    a->pid = pid;
    a->epoch = epoch;
}

static sa_txn_pid_t init(fixture_t *f, const char *txid, int64_t now) {
    sa_txn_pid_t out = {-1, -1};
    assert_int_equal(sa_tcoord_init_pid(f->tc, txid, 10000, -1, -1, now, &out), SA_OK);
    return out;
}

static void add(fixture_t *f, const char *txid, sa_txn_pid_t p, const char *topic, int32_t partition,
                int64_t now) {
    sa_txn_tp_t tp = {topic, partition};
    assert_int_equal(sa_tcoord_add_partitions(f->tc, txid, p.ProducerId, p.ProducerEpoch, &tp, 1, now),
                     SA_OK);
}

static const char *state_of(fixture_t *f, const char *txid) {
    sa_txn_desc_t d;
    if (sa_tcoord_describe(f->tc, txid, &d)) return "(none)";
    return sa_txn_state_name(d.State);
}

/* End @p txid's transaction and drive it to its answer: markers durable, a sync. */
static answer_t end_and_sync(fixture_t *f, const char *txid, sa_txn_pid_t p, int commit, int tv2,
                             int64_t now) {
    answer_t a = {0};
    sa_txn_pid_t out;
    sa_err_t err =
        sa_tcoord_end_txn(f->tc, txid, p.ProducerId, p.ProducerEpoch, commit, tv2, now, on_end, &a, &out);
    if (err != SA_ERR_AGAIN) {
        a.calls = 1;
        a.err = err;
        a.pid = err ? -1 : out.ProducerId;
        a.epoch = err ? -1 : out.ProducerEpoch;
        return a;
    }
    /* Answered at once only when no partition needed a marker (the log here is memory only, so
     * its Prepare* is durable at once). */
    int markers = 0;
    for (int i = 0; i < f->fk.n; i++) markers += f->fk.parts[i].leo > f->fk.parts[i].durable;
    assert_int_equal(a.calls, markers ? 0 : 1);
    fk_sync(&f->fk);
    sa_tcoord_synced(f->tc, now);
    assert_int_equal(a.calls, 1);
    return a;
}

/* ---- tests -------------------------------------------------------------------------------------- */

static void init_producer_id(void **state) {
    fixture_t *f = *state;
    sa_txn_pid_t out;
    assert_int_equal(sa_tcoord_init_pid(f->tc, "", 1000, -1, -1, T0, &out), SA_ERR_INVALID_REQUEST);
    assert_int_equal(sa_tcoord_init_pid(f->tc, "t", 0, -1, -1, T0, &out), SA_ERR_INVALID_TRANSACTION_TIMEOUT);
    assert_int_equal(sa_tcoord_init_pid(f->tc, "t", 60001, -1, -1, T0, &out),
                     SA_ERR_INVALID_TRANSACTION_TIMEOUT);
    assert_string_equal(state_of(f, "t"), "(none)"); /* a refused init creates nothing */
    sa_txn_pid_t a = init(f, "t", T0);
    assert_true(a.ProducerId >= 0);
    assert_int_equal(a.ProducerEpoch, 0);
    assert_string_equal(state_of(f, "t"), "Empty");
    sa_txn_pid_t b = init(f, "t", T0); /* a second instance: same id, next epoch */
    assert_int_equal(b.ProducerId, a.ProducerId);
    assert_int_equal(b.ProducerEpoch, 1);
    /* KIP-360: the current producer re-initialises with its id and epoch: bumped... */
    assert_int_equal(sa_tcoord_init_pid(f->tc, "t", 10000, b.ProducerId, 1, T0, &out), SA_OK);
    assert_int_equal(out.ProducerEpoch, 2);
    /* ...a retry of that (the answer was lost) gets the same answer... */
    assert_int_equal(sa_tcoord_init_pid(f->tc, "t", 10000, b.ProducerId, 1, T0, &out), SA_OK);
    assert_int_equal(out.ProducerEpoch, 2);
    /* ...an older epoch or another producer id is fenced. */
    assert_int_equal(sa_tcoord_init_pid(f->tc, "t", 10000, b.ProducerId, 0, T0, &out),
                     SA_ERR_PRODUCER_FENCED);
    assert_int_equal(sa_tcoord_init_pid(f->tc, "t", 10000, b.ProducerId + 77, 2, T0, &out),
                     SA_ERR_PRODUCER_FENCED);
    /* Another id gets another producer id. */
    sa_txn_pid_t c = init(f, "u", T0);
    assert_true(c.ProducerId != a.ProducerId);
}

static void epoch_exhaustion_moves_to_new_producer_id(void **state) {
    fixture_t *f = *state;
    sa_txn_pid_t p = init(f, "t", T0), out;
    /* Walk the epoch up to 32766 with KIP-360 re-inits. */
    for (int e = 0; e < 32766; e++) {
        assert_int_equal(sa_tcoord_init_pid(f->tc, "t", 10000, p.ProducerId, (int16_t)e, T0, &out), SA_OK);
        assert_int_equal(out.ProducerEpoch, e + 1);
    }
    assert_int_equal(sa_tcoord_init_pid(f->tc, "t", 10000, p.ProducerId, 32766, T0, &out), SA_OK);
    assert_true(out.ProducerId != p.ProducerId);
    assert_int_equal(out.ProducerEpoch, 0);
    /* A retry of that with the old id and the exhausted epoch is still valid (previous id). */
    sa_txn_pid_t again;
    assert_int_equal(sa_tcoord_init_pid(f->tc, "t", 10000, p.ProducerId, 32766, T0, &again), SA_OK);
    assert_int_equal(again.ProducerId, out.ProducerId);
}

static void add_and_verify(void **state) {
    fixture_t *f = *state;
    sa_txn_tp_t tp = {"a", 0};
    assert_int_equal(sa_tcoord_add_partitions(f->tc, "t", 1, 0, &tp, 1, T0),
                     SA_ERR_INVALID_PRODUCER_ID_MAPPING);
    sa_txn_pid_t p = init(f, "t", T0);
    assert_int_equal(sa_tcoord_add_partitions(f->tc, "t", p.ProducerId + 1, 0, &tp, 1, T0),
                     SA_ERR_INVALID_PRODUCER_ID_MAPPING);
    assert_int_equal(sa_tcoord_add_partitions(f->tc, "t", p.ProducerId, 1, &tp, 1, T0),
                     SA_ERR_PRODUCER_FENCED);
    /* Not added yet: a partition must refuse its data (KIP-890 part 1). */
    assert_int_equal(sa_tcoord_verify(f->tc, "t", p.ProducerId, 0, "a", 0, NULL),
                     SA_ERR_TRANSACTION_ABORTABLE);
    add(f, "t", p, "a", 0, T0 + 5);
    add(f, "t", p, "a", 0, T0 + 9); /* again: nothing changes */
    add(f, "t", p, "b", 3, T0 + 9);
    assert_int_equal(sa_tcoord_add_group(f->tc, "t", p.ProducerId, 0, "my-group", T0 + 9), SA_OK);
    assert_string_equal(state_of(f, "t"), "Ongoing");
    assert_int_equal(sa_tcoord_verify(f->tc, "t", p.ProducerId, 0, "a", 0, NULL), SA_OK);
    assert_int_equal(sa_tcoord_verify(f->tc, "t", p.ProducerId, 0, "a", 1, NULL),
                     SA_ERR_TRANSACTION_ABORTABLE);
    assert_int_equal(sa_tcoord_verify(f->tc, "t", p.ProducerId, 1, "a", 0, NULL), SA_ERR_PRODUCER_FENCED);
    assert_int_equal(sa_tcoord_verify(f->tc, "t", p.ProducerId + 1, 0, "a", 0, NULL),
                     SA_ERR_INVALID_PRODUCER_ID_MAPPING);
    assert_int_equal(sa_tcoord_verify(f->tc, "x", p.ProducerId, 0, "a", 0, NULL),
                     SA_ERR_INVALID_PRODUCER_ID_MAPPING);
    assert_int_equal(sa_tcoord_verify(f->tc, "t", p.ProducerId, 0, NULL, 0, "my-group"), SA_OK);
    assert_int_equal(sa_tcoord_verify(f->tc, "t", p.ProducerId, 0, NULL, 0, "other"),
                     SA_ERR_TRANSACTION_ABORTABLE);
    sa_txn_desc_t d;
    assert_int_equal(sa_tcoord_describe(f->tc, "t", &d), SA_OK);
    assert_int_equal(d.TransactionStartTimeMs, T0 + 5); /* the first add started it */
    assert_int_equal(d.TransactionTimeoutMs, 10000);
    assert_int_equal(d.PartitionCount, 3);
    assert_string_equal(d.Partitions[2].topic, "__consumer_offsets");
    assert_int_equal(d.Partitions[2].partition, 12); /* Java's "my-group".hashCode() % 50 */
    assert_int_equal(sa_tcoord_describe(f->tc, "nope", &d), SA_ERR_TRANSACTIONAL_ID_NOT_FOUND);
}

static void commit_writes_markers_where_data_is(void **state) {
    fixture_t *f = *state;
    sa_txn_pid_t p = init(f, "t", T0);
    answer_t a = end_and_sync(f, "t", p, 1, 0, T0);
    assert_int_equal(a.err, SA_ERR_INVALID_TXN_STATE); /* EndTxn without a transaction */
    add(f, "t", p, "a", 0, T0);
    add(f, "t", p, "a", 1, T0);
    fk_produce(&f->fk, "a", 0, p.ProducerId); /* data in a-0 only */
    a = end_and_sync(f, "t", p, 1, 0, T0 + 1);
    assert_int_equal(a.err, SA_OK);
    assert_int_equal(a.pid, p.ProducerId);
    assert_int_equal(a.epoch, 0); /* EndTxn v0-4: the epoch stays */
    assert_string_equal(fpart(&f->fk, "a", 0)->markers, mk('C', p.ProducerId, 0));
    assert_string_equal(fpart(&f->fk, "a", 1)->markers, ""); /* nothing of it there */
    assert_string_equal(state_of(f, "t"), "CompleteCommit");
    /* A retry of the same EndTxn: done already. The other decision: refused. */
    a = end_and_sync(f, "t", p, 1, 0, T0 + 2);
    assert_int_equal(a.err, SA_OK);
    a = end_and_sync(f, "t", p, 0, 0, T0 + 2);
    assert_int_equal(a.err, SA_ERR_INVALID_TXN_STATE);
    /* The next transaction, aborted. */
    add(f, "t", p, "a", 1, T0 + 3);
    fk_produce(&f->fk, "a", 1, p.ProducerId);
    a = end_and_sync(f, "t", p, 0, 0, T0 + 4);
    assert_int_equal(a.err, SA_OK);
    assert_string_equal(fpart(&f->fk, "a", 1)->markers, mk('A', p.ProducerId, 0));
    assert_string_equal(state_of(f, "t"), "CompleteAbort");
    /* A stale epoch is fenced. */
    sa_txn_pid_t old = p;
    old.ProducerEpoch = -1;
    a = end_and_sync(f, "t", old, 0, 0, T0 + 5);
    assert_int_equal(a.err, SA_ERR_PRODUCER_FENCED);
}

static void offsets_become_visible_only_at_commit(void **state) {
    fixture_t *f = *state;
    sa_txn_pid_t p = init(f, "t", T0);
    assert_int_equal(sa_tcoord_add_group(f->tc, "t", p.ProducerId, 0, "g", T0), SA_OK);
    sa_txn_offset_t o[2] = {{"in", 0, 42, 7, "meta", 4}, {"in", 1, 9, -1, NULL, 0}};
    assert_int_equal(sa_tcoord_commit_offsets(f->tc, "t", p.ProducerId, 0, "g", o, 2, T0 + 10), SA_OK);
    sa_offset_entry_t ent;
    assert_false(sa_offsets_get(f->offs, "g", "in", 0, &ent)); /* not before the commit */
    assert_true(sa_tcoord_offset_pending(f->tc, "g", "in", 0));
    assert_false(sa_tcoord_offset_pending(f->tc, "g", "in", 2));
    o[0].offset = 43; /* a second TxnOffsetCommit of the same partition replaces the first */
    assert_int_equal(sa_tcoord_commit_offsets(f->tc, "t", p.ProducerId, 0, "g", o, 1, T0 + 11), SA_OK);
    answer_t a = end_and_sync(f, "t", p, 1, 0, T0 + 20);
    assert_int_equal(a.err, SA_OK);
    assert_true(sa_offsets_get(f->offs, "g", "in", 0, &ent));
    assert_int_equal(ent.offset, 43);
    assert_int_equal(ent.leader_epoch, 7);
    assert_int_equal(ent.metadata_len, 4);
    assert_memory_equal(ent.metadata, "meta", 4);
    assert_true(sa_offsets_get(f->offs, "g", "in", 1, &ent));
    assert_int_equal(ent.offset, 9);
    assert_false(sa_tcoord_offset_pending(f->tc, "g", "in", 0));
    /* An aborted transaction's offsets never show. */
    assert_int_equal(sa_tcoord_add_group(f->tc, "t", p.ProducerId, 0, "g", T0 + 30), SA_OK);
    o[0].offset = 99;
    assert_int_equal(sa_tcoord_commit_offsets(f->tc, "t", p.ProducerId, 0, "g", o, 1, T0 + 31), SA_OK);
    a = end_and_sync(f, "t", p, 0, 0, T0 + 32);
    assert_int_equal(a.err, SA_OK);
    assert_true(sa_offsets_get(f->offs, "g", "in", 0, &ent));
    assert_int_equal(ent.offset, 43);
    assert_false(sa_tcoord_offset_pending(f->tc, "g", "in", 0));
}

static void timeout_aborts_and_fences(void **state) {
    fixture_t *f = *state;
    sa_txn_pid_t p = init(f, "t", T0);
    add(f, "t", p, "a", 0, T0 + 100);
    fk_produce(&f->fk, "a", 0, p.ProducerId);
    assert_int_equal(sa_tcoord_next_deadline(f->tc), T0 + 100 + 10000);
    sa_tcoord_tick(f->tc, T0 + 100 + 9999);
    assert_string_equal(state_of(f, "t"), "Ongoing");
    sa_tcoord_tick(f->tc, T0 + 100 + 10000);
    assert_string_equal(state_of(f, "t"), "PrepareAbort");
    assert_true(sa_tcoord_wants_sync(f->tc));
    assert_string_equal(fpart(&f->fk, "a", 0)->markers, mk('A', p.ProducerId, 1)); /* with the bumped epoch */
    fk_sync(&f->fk);
    sa_tcoord_synced(f->tc, T0 + 10101);
    assert_string_equal(state_of(f, "t"), "CompleteAbort");
    assert_false(sa_tcoord_wants_sync(f->tc));
    /* The zombie: its EndTxn and its adds are fenced; so is its KIP-360 re-init. */
    answer_t a = end_and_sync(f, "t", p, 1, 0, T0 + 10200);
    assert_int_equal(a.err, SA_ERR_PRODUCER_FENCED);
    sa_txn_tp_t tp = {"a", 0};
    assert_int_equal(sa_tcoord_add_partitions(f->tc, "t", p.ProducerId, p.ProducerEpoch, &tp, 1, T0 + 10200),
                     SA_ERR_PRODUCER_FENCED);
    sa_txn_pid_t out;
    assert_int_equal(sa_tcoord_init_pid(f->tc, "t", 10000, p.ProducerId, p.ProducerEpoch, T0, &out),
                     SA_ERR_PRODUCER_FENCED);
    sa_tcoord_stats_t st;
    sa_tcoord_stats(f->tc, &st);
    assert_int_equal(st.timeouts, 1);
}

static void new_instance_fences_ongoing(void **state) {
    fixture_t *f = *state;
    sa_txn_pid_t p = init(f, "t", T0), out;
    add(f, "t", p, "a", 0, T0);
    fk_produce(&f->fk, "a", 0, p.ProducerId);
    /* The new instance's InitProducerId aborts the old transaction and must retry. */
    assert_int_equal(sa_tcoord_init_pid(f->tc, "t", 10000, -1, -1, T0 + 1, &out),
                     SA_ERR_CONCURRENT_TRANSACTIONS);
    assert_int_equal(sa_tcoord_init_pid(f->tc, "t", 10000, -1, -1, T0 + 1, &out),
                     SA_ERR_CONCURRENT_TRANSACTIONS);
    fk_sync(&f->fk);
    sa_tcoord_synced(f->tc, T0 + 2);
    assert_string_equal(fpart(&f->fk, "a", 0)->markers, mk('A', p.ProducerId, 1));
    assert_int_equal(sa_tcoord_init_pid(f->tc, "t", 10000, -1, -1, T0 + 3, &out), SA_OK);
    assert_int_equal(out.ProducerId, p.ProducerId);
    assert_int_equal(out.ProducerEpoch, 2); /* bumped twice: the fence, then this */
    /* The old instance is fenced everywhere. */
    assert_int_equal(sa_tcoord_verify(f->tc, "t", p.ProducerId, 0, "a", 0, NULL), SA_ERR_PRODUCER_FENCED);
    answer_t a = end_and_sync(f, "t", p, 1, 0, T0 + 4);
    assert_int_equal(a.err, SA_ERR_PRODUCER_FENCED);
}

static void epoch_per_transaction_with_v5(void **state) {
    fixture_t *f = *state;
    sa_txn_pid_t p = init(f, "t", T0);
    add(f, "t", p, "a", 0, T0);
    fk_produce(&f->fk, "a", 0, p.ProducerId);
    answer_t a = end_and_sync(f, "t", p, 1, 1, T0 + 1);
    assert_int_equal(a.err, SA_OK);
    assert_int_equal(a.epoch, 1);
    assert_string_equal(fpart(&f->fk, "a", 0)->markers, mk('C', p.ProducerId, 1));
    /* A retry with the epoch before the bump gets the answer again; the new epoch is in use. */
    a = end_and_sync(f, "t", p, 1, 1, T0 + 2);
    assert_int_equal(a.err, SA_OK);
    assert_int_equal(a.epoch, 1);
    sa_txn_pid_t q = {a.pid, a.epoch};
    add(f, "t", q, "a", 0, T0 + 3);
    a = end_and_sync(f, "t", q, 0, 1, T0 + 4);
    assert_int_equal(a.err, SA_OK);
    assert_int_equal(a.epoch, 2);
    /* The previous epoch cannot add any more. */
    sa_txn_tp_t tp = {"a", 0};
    assert_int_equal(sa_tcoord_add_partitions(f->tc, "t", q.ProducerId, q.ProducerEpoch, &tp, 1, T0 + 5),
                     SA_ERR_PRODUCER_FENCED);
}

static void cut_and_failed_markers_are_written_again(void **state) {
    fixture_t *f = *state;
    sa_txn_pid_t p = init(f, "t", T0);
    add(f, "t", p, "a", 0, T0);
    add(f, "t", p, "b", 0, T0);
    fk_produce(&f->fk, "a", 0, p.ProducerId);
    fk_produce(&f->fk, "b", 0, p.ProducerId);
    answer_t a = {0};
    sa_txn_pid_t out;
    f->fk.fail_writes = 1; /* the marker of a-0 cannot be written at first */
    assert_int_equal(sa_tcoord_end_txn(f->tc, "t", p.ProducerId, 0, 1, 0, T0, on_end, &a, &out),
                     SA_ERR_AGAIN);
    assert_string_equal(fpart(&f->fk, "a", 0)->markers, "");
    assert_string_equal(fpart(&f->fk, "b", 0)->markers, mk('C', p.ProducerId, 0));
    assert_int_equal(sa_tcoord_next_deadline(f->tc), T0 + 500); /* retried */
    /* A sync fails and cuts b-0's marker. */
    fk_cut(&f->fk, p.ProducerId);
    sa_tcoord_synced(f->tc, T0 + 10);
    assert_int_equal(a.calls, 0);
    assert_string_equal(fpart(&f->fk, "b", 0)->markers, "");
    /* The retry writes a-0's marker and finds b-0's cut: written again. */
    sa_tcoord_tick(f->tc, T0 + 500);
    assert_string_equal(fpart(&f->fk, "a", 0)->markers, mk('C', p.ProducerId, 0));
    assert_true(sa_tcoord_wants_sync(f->tc));
    sa_tcoord_synced(f->tc, T0 + 501); /* a commit that did not cover them yet: nothing happens */
    assert_int_equal(a.calls, 0);
    fk_sync(&f->fk);
    sa_tcoord_synced(f->tc, T0 + 502);
    assert_int_equal(a.calls, 1);
    assert_int_equal(a.err, SA_OK);
    assert_string_equal(fpart(&f->fk, "b", 0)->markers, mk('C', p.ProducerId, 0));
    assert_string_equal(state_of(f, "t"), "CompleteCommit");
}

static void cancelled_endtxn_is_not_called(void **state) {
    fixture_t *f = *state;
    sa_txn_pid_t p = init(f, "t", T0), out;
    add(f, "t", p, "a", 0, T0);
    fk_produce(&f->fk, "a", 0, p.ProducerId);
    answer_t a = {0};
    assert_int_equal(sa_tcoord_end_txn(f->tc, "t", p.ProducerId, 0, 1, 0, T0, on_end, &a, &out),
                     SA_ERR_AGAIN);
    sa_tcoord_cancel(f->tc, &a);
    fk_sync(&f->fk);
    sa_tcoord_synced(f->tc, T0 + 1);
    assert_int_equal(a.calls, 0);
    assert_string_equal(state_of(f, "t"), "CompleteCommit"); /* the commit went on regardless */
}

typedef struct listed_s {
    char ids[256];
} listed_t;

static void list_fn(void *arg, const char *txid, int64_t pid, sa_txn_state_t state) {
    (void)pid;
    listed_t *l = arg;
    snprintf(l->ids + strlen(l->ids), sizeof(l->ids) - strlen(l->ids), "%s%s:%s", l->ids[0] ? " " : "", txid,
             sa_txn_state_name(state));
}

static void list_and_expire(void **state) {
    fixture_t *f = *state;
    sa_txn_pid_t p = init(f, "a", T0);
    init(f, "b", T0);
    add(f, "a", p, "x", 0, T0 + 1000);
    listed_t l = {""};
    sa_tcoord_list(f->tc, 1u << SA_TXN_ONGOING, NULL, 0, -1, T0, list_fn, &l);
    assert_string_equal(l.ids, "a:Ongoing");
    l.ids[0] = '\0';
    int64_t pids[] = {p.ProducerId};
    sa_tcoord_list(f->tc, 0, pids, 1, -1, T0, list_fn, &l);
    assert_string_equal(l.ids, "a:Ongoing");
    l.ids[0] = '\0';
    sa_tcoord_list(f->tc, 1u << SA_TXN_ONGOING, NULL, 0, 5000, T0 + 5000, list_fn, &l); /* 4 s old: not yet */
    assert_string_equal(l.ids, "");
    sa_tcoord_list(f->tc, 1u << SA_TXN_ONGOING, NULL, 0, 5000, T0 + 6001, list_fn, &l);
    assert_string_equal(l.ids, "a:Ongoing");
    /* "b" sits unused: after transactional.id.expiration.ms it is gone. */
    answer_t a = end_and_sync(f, "a", p, 1, 0, T0 + 2000);
    assert_int_equal(a.err, SA_OK);
    sa_tcoord_tick(f->tc, T0 + 3600000 - 1);
    assert_string_equal(state_of(f, "b"), "Empty");
    sa_tcoord_tick(f->tc, T0 + 3600000);
    assert_string_equal(state_of(f, "b"), "(none)");
    assert_string_equal(state_of(f, "a"), "CompleteCommit");
    sa_tcoord_tick(f->tc, T0 + 2000 + 3600000);
    assert_string_equal(state_of(f, "a"), "(none)");
}

/* The state lives in the metadata log: a restart finds it, and finishes a PrepareCommit. */
static void survives_restart(void **state) {
    (void)state;
    char dir[512];
    assert_int_equal(th_mkdtemp(dir, sizeof(dir), "tcoord"), 0);
    sa_store_t *store;
    sa_metastore_t ms;
    fake_t fk = {0};
    char err[512] = "";
    assert_int_equal(sa_store_open(dir, NULL, &store, err, sizeof(err)), SA_OK);
    assert_int_equal(sa_metastore_open(&ms, store, NULL, err, sizeof(err)), SA_OK);
    sa_tcoord_configure(ms.txns, NULL, &fk_ops, &fk);
    sa_tcoord_start(ms.txns, T0);
    sa_txn_pid_t p, q;
    assert_int_equal(sa_tcoord_init_pid(ms.txns, "t", 20000, -1, -1, T0, &p), SA_OK);
    assert_int_equal(sa_tcoord_init_pid(ms.txns, "u", 20000, -1, -1, T0, &q), SA_OK);
    sa_txn_tp_t tp = {"a", 0};
    assert_int_equal(sa_tcoord_add_partitions(ms.txns, "t", p.ProducerId, 0, &tp, 1, T0), SA_OK);
    assert_int_equal(sa_tcoord_add_partitions(ms.txns, "u", q.ProducerId, 0, &tp, 1, T0), SA_OK);
    assert_int_equal(sa_tcoord_add_group(ms.txns, "t", p.ProducerId, 0, "g", T0), SA_OK);
    sa_txn_offset_t o = {"in", 0, 5, -1, "m", 1};
    assert_int_equal(sa_tcoord_commit_offsets(ms.txns, "t", p.ProducerId, 0, "g", &o, 1, T0), SA_OK);
    /* Not durable yet: a produce must wait for verification. */
    assert_int_equal(sa_tcoord_verify(ms.txns, "t", p.ProducerId, 0, "a", 0, NULL),
                     SA_ERR_CONCURRENT_TRANSACTIONS);
    assert_int_equal(sa_store_sync(store, NULL, NULL), SA_OK);
    assert_int_equal(sa_tcoord_verify(ms.txns, "t", p.ProducerId, 0, "a", 0, NULL), SA_OK);
    fk_produce(&fk, "a", 0, p.ProducerId);
    answer_t a = {0};
    sa_txn_pid_t out;
    assert_int_equal(sa_tcoord_end_txn(ms.txns, "t", p.ProducerId, 0, 1, 0, T0, on_end, &a, &out),
                     SA_ERR_AGAIN);
    sa_offset_entry_t ent;
    assert_true(sa_offsets_get(ms.offsets, "g", "in", 0, &ent)); /* committed by the PrepareCommit */
    assert_string_equal(fk.parts[0].markers, "");                /* not before it is durable */
    assert_int_equal(sa_store_sync(store, NULL, NULL), SA_OK);
    sa_tcoord_synced(ms.txns, T0);
    assert_string_equal(fk.parts[0].markers, mk('C', p.ProducerId, 0));
    /* Crash: the marker never became durable; the log has PrepareCommit as the last word. */
    fk_cut(&fk, p.ProducerId);
    sa_metastore_close(&ms);
    sa_store_close(store);
    assert_int_equal(sa_store_open(dir, NULL, &store, err, sizeof(err)), SA_OK);
    assert_int_equal(sa_metastore_open(&ms, store, NULL, err, sizeof(err)), SA_OK);
    sa_tcoord_configure(ms.txns, NULL, &fk_ops, &fk);
    sa_txn_desc_t d;
    assert_int_equal(sa_tcoord_describe(ms.txns, "t", &d), SA_OK);
    assert_string_equal(sa_txn_state_name(d.State), "PrepareCommit");
    assert_int_equal(sa_tcoord_describe(ms.txns, "u", &d), SA_OK);
    assert_string_equal(sa_txn_state_name(d.State), "Ongoing");
    assert_int_equal(d.PartitionCount, 1);
    assert_true(sa_offsets_get(ms.offsets, "g", "in", 0, &ent));
    assert_int_equal(ent.offset, 5);
    sa_tcoord_start(ms.txns, T0 + 1);
    assert_string_equal(fk.parts[0].markers, mk('C', p.ProducerId, 0)); /* written again at start */
    fk_sync(&fk);
    sa_tcoord_synced(ms.txns, T0 + 2);
    assert_int_equal(sa_tcoord_describe(ms.txns, "t", &d), SA_OK);
    assert_string_equal(sa_txn_state_name(d.State), "CompleteCommit");
    /* "u" keeps its timeout from the log: it aborts at start + 20 s. */
    assert_int_equal(sa_tcoord_next_deadline(ms.txns), T0 + 20000);
    sa_metastore_close(&ms);
    sa_store_close(store);
    th_rmtree(dir);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(init_producer_id, setup, teardown),
        cmocka_unit_test_setup_teardown(epoch_exhaustion_moves_to_new_producer_id, setup, teardown),
        cmocka_unit_test_setup_teardown(add_and_verify, setup, teardown),
        cmocka_unit_test_setup_teardown(commit_writes_markers_where_data_is, setup, teardown),
        cmocka_unit_test_setup_teardown(offsets_become_visible_only_at_commit, setup, teardown),
        cmocka_unit_test_setup_teardown(timeout_aborts_and_fences, setup, teardown),
        cmocka_unit_test_setup_teardown(new_instance_fences_ongoing, setup, teardown),
        cmocka_unit_test_setup_teardown(epoch_per_transaction_with_v5, setup, teardown),
        cmocka_unit_test_setup_teardown(cut_and_failed_markers_are_written_again, setup, teardown),
        cmocka_unit_test_setup_teardown(cancelled_endtxn_is_not_called, setup, teardown),
        cmocka_unit_test_setup_teardown(list_and_expire, setup, teardown),
        cmocka_unit_test(survives_restart),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
