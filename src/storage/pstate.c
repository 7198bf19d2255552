/*
 * pstate.c - a partition's producer state (see pstate.h for the rules).
 *
 * DESIGN. producer id -> pentry_t in an open-addressing map; each entry holds a ring of the
 * producer's last SA_PRODUCER_STATE_WINDOW batches. Memory is what grows with producers (one
 * entry per producer id that ever wrote here, until it expires), so the entry is kept small: a
 * batch is {first sequence, last offset delta, base offset} (16 bytes; its last sequence and last
 * offset both follow from the delta, as in the batch header), the small counters are bytes.
 * Measured (docs/storage.md, "Producer state"): 244 B per producer before, 188 B now, map slots
 * included.
 *
 * SNAPSHOT BYTES (sa_pstate_encode; the file layout is documented in storage.h): producers in id
 * order so the same state always gives the same bytes. One reader (snap_walk) serves decode and
 * `samsa dump-log` (sa_pstate_snapshot_walk); decode checks everything (framing, every entry, the
 * id order, the CRC) in a first walk before it builds anything in a second, so a damaged file
 * yields SA_ERR_CORRUPT and no state.
 *
 * @locality one thread at a time.
 */
#include "storage/pstate.h"

#include <stdlib.h>
#include <string.h>

#include "core/buf.h"
#include "core/crc32c.h"
#include "core/hash.h"
#include "core/mem.h"
#include "proto/record_batch.h"

#define SNAP_MAGIC       "SAPRODST"
#define SNAP_VERSION     1
#define SNAP_HEADER      22 /* magic 8, version 2, offset 8, count 4 */
#define SNAP_ENTRY       24 /* pid 8, epoch 2, last timestamp 8, coordinator epoch 4, flags 1, batches 1 */
#define SNAP_BATCH       24 /* first sequence 4, last sequence 4, base offset 8, last offset 8 */
#define SNAP_FLAG_BUMPED 1

typedef struct pbatch_s {
    int32_t first_seq;
    int32_t delta; /* LastOffsetDelta: last sequence and last offset are first + delta */
    int64_t base_offset;
} pbatch_t;

typedef struct pentry_s {
    int64_t pid;         /* the producer id: the entry's key in producers */
    int64_t last_ts;     /* MaxTimestamp of its last batch or marker (-1: none) */
    int32_t coord_epoch; /* coordinator epoch of its last marker (-1: none yet) */
    int16_t epoch;
    uint8_t n;       /* batches in ring (<= cap) */
    uint8_t head;    /* index of the newest */
    uint8_t bumped;  /* the ring is empty because a marker moved the epoch on (rule 5) */
    uint8_t cap;     /* 1, or WINDOW once a second batch came: the ring wraps only then */
    pbatch_t ring[]; /* cap entries */
} pentry_t;

struct sa_pstate_s {
    sa_hmap_t producers;    /* producer id (the entry's own pid) -> pentry_t */
    size_t expired_in_pass; /* removed since the expiry walk last started over */
};

static int32_t seq_add(int32_t seq, int32_t delta) {
    int64_t s = (int64_t)seq + delta;
    return (int32_t)(s > INT32_MAX ? s - INT32_MAX - 1 : s);
}

static int32_t last_seq(const pbatch_t *b) { return seq_add(b->first_seq, b->delta); }
static int64_t last_offset(const pbatch_t *b) { return b->base_offset + b->delta; }

sa_pstate_t *sa_pstate_new(void) { return sa_new(sa_pstate_t); }

void sa_pstate_free(sa_pstate_t *st) {
    if (!st) return;
    pentry_t *ent;
    for (size_t pos = 0; (ent = sa_hmap_next(&st->producers, &pos, NULL, NULL));) free(ent);
    sa_hmap_free(&st->producers);
    free(st);
}

size_t sa_pstate_count(const sa_pstate_t *st) { return st->producers.count; }

static pentry_t *lookup(const sa_pstate_t *st, int64_t pid) {
    return sa_hmap_get(&st->producers, &pid, sizeof(pid));
}

sa_err_t sa_pstate_check(const sa_pstate_t *st, const sa_rb_header_t *hdr, sa_producer_dup_t *dup) {
    if (hdr->ProducerId < 0) return SA_OK;
    int32_t first = hdr->BaseSequence, last = seq_add(first, hdr->LastOffsetDelta);
    const pentry_t *ent = lookup(st, hdr->ProducerId);
    if (!ent) return SA_OK; /* rule 1 */
    if (hdr->ProducerEpoch < ent->epoch) return SA_ERR_INVALID_PRODUCER_EPOCH;
    if (hdr->ProducerEpoch > ent->epoch) return first == 0 ? SA_OK : SA_ERR_OUT_OF_ORDER_SEQUENCE_NUMBER;
    if (!ent->n) {
        if (first == 0) return SA_OK;
        return ent->bumped ? SA_ERR_OUT_OF_ORDER_SEQUENCE_NUMBER : SA_ERR_UNKNOWN_PRODUCER_ID; /* 5, 6 */
    }
    for (int i = 0; i < ent->n; i++) {
        const pbatch_t *b = &ent->ring[i];
        if (b->first_seq == first && last_seq(b) == last) {
            dup->base_offset = b->base_offset;
            dup->last_offset = last_offset(b);
            return SA_ERR_DUPLICATE_SEQUENCE_NUMBER;
        }
    }
    return first == seq_add(last_seq(&ent->ring[ent->head]), 1) ? SA_OK : SA_ERR_OUT_OF_ORDER_SEQUENCE_NUMBER;
}

/* A new entry of @p pid at @p epoch (nothing recorded yet) with room for @p cap batches. */
static pentry_t *add_entry_cap(sa_pstate_t *st, int64_t pid, int16_t epoch, uint8_t cap) {
    pentry_t *ent = sa_calloc(1, sizeof(*ent) + cap * sizeof(pbatch_t));
    ent->cap = cap;
    ent->pid = pid;
    ent->epoch = epoch;
    ent->last_ts = -1;
    ent->coord_epoch = -1;
    sa_hmap_put(&st->producers, &ent->pid, sizeof(ent->pid), ent);
    return ent;
}

/* Most producers (a client that makes up a new id per connection) write one batch, or one between
 * restarts: an entry starts with room for one and grows to the window at its second batch. */
static pentry_t *add_entry(sa_pstate_t *st, int64_t pid, int16_t epoch) {
    return add_entry_cap(st, pid, epoch, 1);
}

/* Room for the whole window (the ring has not wrapped yet: its batches are at [0, n)). */
static pentry_t *grow_entry(sa_pstate_t *st, pentry_t *ent) {
    int64_t pid = ent->pid;
    sa_hmap_del(&st->producers, &pid, sizeof(pid)); /* the map borrows the key from the entry */
    ent = sa_realloc(ent, sizeof(*ent) + SA_PRODUCER_STATE_WINDOW * sizeof(pbatch_t));
    ent->cap = SA_PRODUCER_STATE_WINDOW;
    sa_hmap_put(&st->producers, &ent->pid, sizeof(ent->pid), ent);
    return ent;
}

sa_err_t sa_pstate_check_marker(const sa_pstate_t *st, int64_t pid, int16_t epoch,
                                int32_t coordinator_epoch) {
    const pentry_t *ent = lookup(st, pid);
    if (!ent) return SA_OK;
    if (epoch < ent->epoch) return SA_ERR_INVALID_PRODUCER_EPOCH;
    if (coordinator_epoch < ent->coord_epoch) return SA_ERR_TRANSACTION_COORDINATOR_FENCED;
    return SA_OK;
}

void sa_pstate_marker(sa_pstate_t *st, int64_t pid, int16_t epoch, int32_t coordinator_epoch,
                      int64_t timestamp) {
    pentry_t *ent = lookup(st, pid);
    if (!ent) {
        ent = add_entry(st, pid, epoch);
        ent->bumped = 1;
    }
    if (timestamp >= 0) ent->last_ts = timestamp;
    ent->coord_epoch = coordinator_epoch;
    if (epoch <= ent->epoch) return; /* rule 5: the same epoch goes on */
    ent->epoch = epoch;
    ent->n = 0;
    ent->bumped = 1;
}

void sa_pstate_record(sa_pstate_t *st, const sa_rb_header_t *hdr) {
    if (hdr->ProducerId < 0) return;
    if (hdr->Attributes & SA_RB_ATTR_CONTROL) { /* a marker */
        sa_pstate_marker(st, hdr->ProducerId, hdr->ProducerEpoch, 0, hdr->MaxTimestamp);
        return;
    }
    pentry_t *ent = lookup(st, hdr->ProducerId);
    if (!ent) ent = add_entry(st, hdr->ProducerId, hdr->ProducerEpoch);
    ent->bumped = 0;
    ent->last_ts = hdr->MaxTimestamp;
    if (hdr->ProducerEpoch != ent->epoch) { /* a new epoch starts a new sequence space */
        ent->epoch = hdr->ProducerEpoch;
        ent->n = 0;
    }
    if (ent->n == ent->cap && ent->cap < SA_PRODUCER_STATE_WINDOW) ent = grow_entry(st, ent);
    ent->head = ent->n ? (uint8_t)((ent->head + 1) % ent->cap) : 0;
    if (ent->n < ent->cap) ent->n++;
    ent->ring[ent->head] = (pbatch_t){hdr->BaseSequence, hdr->LastOffsetDelta, hdr->BaseOffset};
}

void sa_pstate_truncate(sa_pstate_t *st, int64_t end_offset) {
    pentry_t *ent;
    for (size_t pos = 0; (ent = sa_hmap_next(&st->producers, &pos, NULL, NULL));) {
        /* batches are recorded in offset order: drop from the newest while they are past the end */
        while (ent->n && last_offset(&ent->ring[ent->head]) >= end_offset) {
            ent->n--;
            ent->head = (uint8_t)((ent->head + ent->cap - 1) % ent->cap);
        }
    }
}

/* Move every entry into a map of its own size: removals leave tombstones and the slot array
 * never shrinks, so after a large expiry the map alone would keep ~32 B per removed producer. */
static void compact_map(sa_pstate_t *st) {
    sa_hmap_t fresh = {0};
    pentry_t *ent;
    for (size_t pos = 0; (ent = sa_hmap_next(&st->producers, &pos, NULL, NULL));)
        sa_hmap_put(&fresh, &ent->pid, sizeof(ent->pid), ent);
    sa_hmap_free(&st->producers);
    st->producers = fresh;
}

size_t sa_pstate_expire(sa_pstate_t *st, int64_t now_ms, int64_t expiration_ms, sa_pstate_keep_cb *keep,
                        void *opaque, size_t *pos, size_t *budget) {
    size_t n = 0, seen = 0;
    pentry_t *ent;
    /* A removal only leaves a tombstone, so the walk goes on past it; a put between two calls may
     * move entries (the map grows), which at worst leaves one for the next pass. */
    while (seen < *budget && (ent = sa_hmap_next(&st->producers, pos, NULL, NULL))) {
        seen++;
        if (now_ms - ent->last_ts < expiration_ms) continue;
        if (keep && keep(opaque, ent->pid)) continue;
        int64_t pid = ent->pid;
        free(sa_hmap_del(&st->producers, &pid, sizeof(pid)));
        n++;
    }
    st->expired_in_pass += n;
    int end = seen < *budget;
    *budget -= seen;
    if (end) { /* the walk reached the end */
        if (st->expired_in_pass > st->producers.count) compact_map(st);
        st->expired_in_pass = 0;
        *pos = 0;
    }
    return n;
}

/* ---- listing and snapshots: producers in id order ----------------------------------------- */

static int by_pid(const void *a, const void *b) {
    int64_t x = (*(const pentry_t *const *)a)->pid, y = (*(const pentry_t *const *)b)->pid;
    return (x > y) - (x < y);
}

/* @returns new: the entries sorted by producer id (*n of them). */
static const pentry_t **sorted(const sa_pstate_t *st, size_t *n) {
    const pentry_t **v = sa_malloc((st->producers.count ? st->producers.count : 1) * sizeof(*v));
    const pentry_t *ent;
    *n = 0;
    for (size_t pos = 0; (ent = sa_hmap_next(&st->producers, &pos, NULL, NULL));) v[(*n)++] = ent;
    if (*n > 1) qsort(v, *n, sizeof(*v), by_pid);
    return v;
}

size_t sa_pstate_list(const sa_pstate_t *st, sa_buf_t *out) {
    size_t n;
    const pentry_t **v = sorted(st, &n);
    for (size_t i = 0; i < n; i++) {
        const pentry_t *ent = v[i];
        sa_producer_info_t info = {0};
        info.producer_id = ent->pid;
        info.epoch = ent->epoch;
        info.last_sequence = ent->n ? last_seq(&ent->ring[ent->head]) : -1;
        info.last_timestamp = ent->last_ts;
        info.coordinator_epoch = ent->coord_epoch;
        sa_buf_append(out, &info, sizeof(info));
    }
    free(v);
    return n;
}

void sa_pstate_encode(const sa_pstate_t *st, int64_t offset, sa_buf_t *out) {
    size_t n, at = out->len;
    const pentry_t **v = sorted(st, &n);
    sa_buf_append(out, SNAP_MAGIC, 8);
    sa_buf_put_be16(out, SNAP_VERSION);
    sa_buf_put_be64(out, (uint64_t)offset);
    sa_buf_put_be32(out, (uint32_t)n);
    for (size_t i = 0; i < n; i++) {
        const pentry_t *ent = v[i];
        sa_buf_put_be64(out, (uint64_t)ent->pid);
        sa_buf_put_be16(out, (uint16_t)ent->epoch);
        sa_buf_put_be64(out, (uint64_t)ent->last_ts);
        sa_buf_put_be32(out, (uint32_t)ent->coord_epoch);
        sa_buf_putc(out, ent->bumped ? SNAP_FLAG_BUMPED : 0);
        sa_buf_putc(out, ent->n);
        for (int k = ent->n - 1; k >= 0; k--) { /* oldest first */
            const pbatch_t *b = &ent->ring[(ent->head + ent->cap - k) % ent->cap];
            sa_buf_put_be32(out, (uint32_t)b->first_seq);
            sa_buf_put_be32(out, (uint32_t)last_seq(b));
            sa_buf_put_be64(out, (uint64_t)b->base_offset);
            sa_buf_put_be64(out, (uint64_t)last_offset(b));
        }
    }
    free(v);
    sa_buf_put_be32(out, sa_crc32c(0, out->data + at, out->len - at));
}

#define CORRUPT(what)                                                                                        \
    do {                                                                                                     \
        *why = (what);                                                                                       \
        return SA_ERR_CORRUPT;                                                                               \
    } while (0)

/* Walk a snapshot's producers: every entry is checked (framing, counts, batches) and, when @p fn
 * is not NULL, handed to it as it is read. The CRC is not looked at here. */
static sa_err_t snap_walk(const uint8_t *p, size_t len, sa_pstate_snap_fn *fn, void *opaque,
                          const char **why) {
    if (len < SNAP_HEADER + 4) CORRUPT("shorter than its header");
    if (memcmp(p, SNAP_MAGIC, 8)) CORRUPT("bad magic");
    if (sa_load_be16(p + 8) != SNAP_VERSION) CORRUPT("unknown version");
    if ((int64_t)sa_load_be64(p + 10) < 0) CORRUPT("negative offset");
    uint32_t count = sa_load_be32(p + 18);
    size_t at = SNAP_HEADER, end = len - 4;
    for (uint32_t i = 0; i < count; i++) {
        if (end - at < SNAP_ENTRY) CORRUPT("truncated entry");
        sa_pstate_snap_entry_t e = {0};
        e.producer_id = (int64_t)sa_load_be64(p + at);
        e.epoch = (int16_t)sa_load_be16(p + at + 8);
        e.last_timestamp = (int64_t)sa_load_be64(p + at + 10);
        e.coordinator_epoch = (int32_t)sa_load_be32(p + at + 18);
        e.bumped = (p[at + 22] & SNAP_FLAG_BUMPED) != 0;
        e.nbatches = p[at + 23];
        if (e.nbatches > SA_PRODUCER_STATE_WINDOW) CORRUPT("more batches than the window");
        if (e.producer_id < 0) CORRUPT("negative producer id");
        at += SNAP_ENTRY;
        if (end - at < (size_t)e.nbatches * SNAP_BATCH) CORRUPT("truncated batches");
        for (int k = 0; k < e.nbatches; k++, at += SNAP_BATCH) {
            sa_pstate_snap_batch_t *b = &e.batches[k];
            b->first_sequence = (int32_t)sa_load_be32(p + at);
            b->last_sequence = (int32_t)sa_load_be32(p + at + 4);
            b->first_offset = (int64_t)sa_load_be64(p + at + 8);
            b->last_offset = (int64_t)sa_load_be64(p + at + 16);
            if (b->first_offset < 0 || b->last_offset < b->first_offset ||
                b->last_offset - b->first_offset > INT32_MAX || b->first_sequence < 0 ||
                b->last_sequence != seq_add(b->first_sequence, (int32_t)(b->last_offset - b->first_offset)))
                CORRUPT("inconsistent batch");
        }
        if (fn) fn(opaque, &e);
    }
    if (at != end) CORRUPT("trailing bytes");
    return SA_OK;
}

sa_err_t sa_pstate_snapshot_walk(const uint8_t *data, size_t len, sa_pstate_snap_fn *fn, void *opaque,
                                 int64_t *offset, int *crc_ok, const char **why) {
    sa_err_t err = snap_walk(data, len, fn, opaque, why);
    if (err) return err;
    *offset = (int64_t)sa_load_be64(data + 10);
    *crc_ok = sa_crc32c(0, data, len - 4) == sa_load_be32(data + len - 4);
    return SA_OK;
}

/* A checked entry into the state being decoded (a producer twice is refused before: decode). */
static void add_snap_entry(void *opaque, const sa_pstate_snap_entry_t *e) {
    sa_pstate_t *st = opaque;
    pentry_t *ent =
        add_entry_cap(st, e->producer_id, e->epoch, e->nbatches > 1 ? SA_PRODUCER_STATE_WINDOW : 1);
    ent->last_ts = e->last_timestamp;
    ent->coord_epoch = e->coordinator_epoch;
    ent->bumped = (uint8_t)e->bumped;
    ent->n = (uint8_t)e->nbatches;
    ent->head = ent->n ? (uint8_t)(ent->n - 1) : 0;
    for (int k = 0; k < e->nbatches; k++) {
        const sa_pstate_snap_batch_t *b = &e->batches[k];
        ent->ring[k] =
            (pbatch_t){b->first_sequence, (int32_t)(b->last_offset - b->first_offset), b->first_offset};
    }
}

/* Producer ids are written in ascending order (sa_pstate_encode): any other order is a damaged file. */
typedef struct order_check_s {
    int64_t last;
    int repeated;
} order_check_t;

static void check_order(void *opaque, const sa_pstate_snap_entry_t *e) {
    order_check_t *oc = opaque;
    if (e->producer_id <= oc->last) oc->repeated = 1;
    oc->last = e->producer_id;
}

sa_err_t sa_pstate_decode(const uint8_t *p, size_t len, sa_pstate_t **stp, int64_t *offset,
                          const char **why) {
    *stp = NULL;
    int crc_ok = 0;
    order_check_t oc = {-1, 0};
    sa_err_t err = sa_pstate_snapshot_walk(p, len, check_order, &oc, offset, &crc_ok, why);
    if (err) return err;
    if (!crc_ok) CORRUPT("CRC mismatch");
    if (oc.repeated) CORRUPT("producers out of order or repeated");
    sa_pstate_t *st = sa_pstate_new();
    snap_walk(p, len, add_snap_entry, st, why); /* checked just above: cannot fail */
    *stp = st;
    return SA_OK;
}
