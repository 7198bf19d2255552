/*
 * producer_state.c - idempotent-producer deduplication (see producer_state.h).
 *
 * Per partition: producer id -> {epoch, ring of the last SA_PRODUCER_STATE_WINDOW batches}.
 * The registry maps topic id + partition to a partition's state, so a topic deleted and created
 * again under the same name starts clean. Rules (Kafka's ProducerStateManager):
 *   1. unknown producer: sequence 0 starts it; anything else is UNKNOWN_PRODUCER_ID;
 *   2. older epoch: INVALID_PRODUCER_EPOCH;
 *   3. newer epoch: sequence 0 starts the new epoch (the ring is cleared when it is recorded);
 *      anything else is OUT_OF_ORDER_SEQUENCE_NUMBER;
 *   4. same epoch: a batch with the first and last sequence of a remembered batch is a
 *      duplicate; the sequence right after the last one is accepted; anything else is
 *      OUT_OF_ORDER_SEQUENCE_NUMBER. Sequences wrap from INT32_MAX to 0.
 *   5. a transaction marker (control batch, written by the transaction coordinator) carries the
 *      producer's epoch: a newer one becomes the producer's epoch here and empties the ring (the
 *      next batch starts a new sequence space at 0: KIP-890 part 2 bumps the epoch on every
 *      transaction, a fence or a timeout bumps it once), so batches of the older epoch are
 *      refused with INVALID_PRODUCER_EPOCH; a marker of the same epoch changes nothing (with
 *      EndTxn v0-4 sequences go on across transactions). After such a reset a non-zero
 *      sequence is OUT_OF_ORDER_SEQUENCE_NUMBER, as in Kafka, not UNKNOWN_PRODUCER_ID (which
 *      stays for a producer whose batches a failed sync cut off: it must start over).
 */
#include "broker/producer_state.h"

#include <stdlib.h>
#include <string.h>

#include "core/buf.h"
#include "core/log.h"
#include "core/hash.h"
#include "core/mem.h"
#include "proto/record_batch.h"
#include "storage/storage.h"

typedef struct pbatch_s {
    int32_t first_seq, last_seq;
    int64_t base_offset, last_offset;
} pbatch_t;

typedef struct pentry_s {
    int64_t pid; /* the producer id: the entry's key in its partition's producers */
    int16_t epoch;
    int n;               /* batches in ring (<= WINDOW) */
    int head;            /* index of the newest */
    int bumped;          /* the ring is empty because a marker moved the epoch on (rule 5) */
    int64_t last_ts;     /* MaxTimestamp of its last batch or marker (-1: none) */
    int32_t coord_epoch; /* coordinator epoch of its last marker (-1: none yet) */
    pbatch_t ring[SA_PRODUCER_STATE_WINDOW];
} pentry_t;

struct sa_pstate_s {
    uint8_t key[20];     /* topic id + BE32 partition: the state's key in the registry's parts */
    sa_hmap_t producers; /* producer id (the entry's own pid) -> pentry_t */
};

struct sa_producer_states_s {
    sa_hmap_t parts; /* topic id (16) + BE32 partition (the state's own key) -> sa_pstate_t */
};

static int32_t seq_add(int32_t seq, int32_t delta) {
    int64_t s = (int64_t)seq + delta;
    return (int32_t)(s > INT32_MAX ? s - INT32_MAX - 1 : s);
}

sa_pstate_t *sa_pstate_new(void) { return sa_new(sa_pstate_t); }

void sa_pstate_free(sa_pstate_t *st) {
    if (!st) return;
    pentry_t *ent;
    for (size_t pos = 0; (ent = sa_hmap_next(&st->producers, &pos, NULL, NULL));) free(ent);
    sa_hmap_free(&st->producers);
    free(st);
}

static pentry_t *lookup(const sa_pstate_t *st, int64_t pid) {
    return sa_hmap_get(&st->producers, &pid, sizeof(pid));
}

sa_err_t sa_pstate_check(const sa_pstate_t *st, const sa_rb_header_t *hdr, sa_producer_dup_t *dup) {
    if (hdr->ProducerId < 0) return SA_OK;
    int32_t first = hdr->BaseSequence, last = seq_add(first, hdr->LastOffsetDelta);
    const pentry_t *ent = lookup(st, hdr->ProducerId);
    if (!ent || !ent->n) {
        if (ent && hdr->ProducerEpoch < ent->epoch) return SA_ERR_INVALID_PRODUCER_EPOCH;
        if (first == 0) return SA_OK;
        return ent && ent->bumped && hdr->ProducerEpoch == ent->epoch ? SA_ERR_OUT_OF_ORDER_SEQUENCE_NUMBER
                                                                      : SA_ERR_UNKNOWN_PRODUCER_ID;
    }
    if (hdr->ProducerEpoch < ent->epoch) return SA_ERR_INVALID_PRODUCER_EPOCH;
    if (hdr->ProducerEpoch > ent->epoch) return first == 0 ? SA_OK : SA_ERR_OUT_OF_ORDER_SEQUENCE_NUMBER;
    for (int i = 0; i < ent->n; i++) {
        const pbatch_t *b = &ent->ring[i];
        if (b->first_seq == first && b->last_seq == last) {
            dup->base_offset = b->base_offset;
            dup->last_offset = b->last_offset;
            return SA_ERR_DUPLICATE_SEQUENCE_NUMBER;
        }
    }
    return first == seq_add(ent->ring[ent->head].last_seq, 1) ? SA_OK : SA_ERR_OUT_OF_ORDER_SEQUENCE_NUMBER;
}

/* A new entry of @p pid at @p epoch (nothing recorded yet). */
static pentry_t *add_entry(sa_pstate_t *st, int64_t pid, int16_t epoch) {
    pentry_t *ent = sa_new(pentry_t);
    ent->pid = pid;
    ent->epoch = epoch;
    ent->last_ts = -1;
    ent->coord_epoch = -1;
    sa_hmap_put(&st->producers, &ent->pid, sizeof(ent->pid), ent);
    return ent;
}

void sa_pstate_marker(sa_pstate_t *st, int64_t pid, int16_t epoch, int64_t timestamp) {
    pentry_t *ent = lookup(st, pid);
    if (!ent) {
        ent = add_entry(st, pid, epoch);
        ent->bumped = 1;
    }
    if (timestamp >= 0) ent->last_ts = timestamp;
    ent->coord_epoch = 0;            /* one node: the coordinator's epoch is always 0 */
    if (epoch <= ent->epoch) return; /* rule 5: the same epoch goes on */
    ent->epoch = epoch;
    ent->n = 0;
    ent->bumped = 1;
}

void sa_pstate_record(sa_pstate_t *st, const sa_rb_header_t *hdr) {
    if (hdr->ProducerId < 0) return;
    if (hdr->Attributes & SA_RB_ATTR_CONTROL) { /* a marker (rebuilding from the log) */
        sa_pstate_marker(st, hdr->ProducerId, hdr->ProducerEpoch, hdr->MaxTimestamp);
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
    ent->head = ent->n ? (ent->head + 1) % SA_PRODUCER_STATE_WINDOW : 0;
    if (ent->n < SA_PRODUCER_STATE_WINDOW) ent->n++;
    ent->ring[ent->head] = (pbatch_t){hdr->BaseSequence, seq_add(hdr->BaseSequence, hdr->LastOffsetDelta),
                                      hdr->BaseOffset, sa_rb_last_offset(hdr)};
}

void sa_pstate_truncate(sa_pstate_t *st, int64_t end_offset) {
    pentry_t *ent;
    for (size_t pos = 0; (ent = sa_hmap_next(&st->producers, &pos, NULL, NULL));) {
        /* batches are recorded in offset order: drop from the newest while they are past the end */
        while (ent->n && ent->ring[ent->head].last_offset >= end_offset) {
            ent->n--;
            ent->head = (ent->head + SA_PRODUCER_STATE_WINDOW - 1) % SA_PRODUCER_STATE_WINDOW;
        }
    }
}

/* ---- registry ----------------------------------------------------------------------------- */

sa_producer_states_t *sa_producer_states_new(void) { return sa_new(sa_producer_states_t); }

void sa_producer_states_free(sa_producer_states_t *ps) {
    if (!ps) return;
    sa_pstate_t *st;
    for (size_t pos = 0; (st = sa_hmap_next(&ps->parts, &pos, NULL, NULL));) sa_pstate_free(st);
    sa_hmap_free(&ps->parts);
    free(ps);
}

static int rebuild_visit(void *opaque, const sa_rb_header_t *hdr) {
    sa_pstate_record(opaque, hdr);
    return 0;
}

/* The registry key of @p part: topic id + BE32 partition. */
static void part_key(const sa_partition_t *part, uint8_t key[20]) {
    memcpy(key, sa_topic_id(sa_partition_topic(part)), 16);
    sa_store_be32(key + 16, (uint32_t)sa_partition_id(part));
}

/* @returns the partition's state, rebuilt from its log the first time it is asked for. */
static sa_pstate_t *state_of(sa_producer_states_t *ps, sa_partition_t *part) {
    uint8_t key[20];
    sa_topic_t *topic = sa_partition_topic(part);
    int32_t id = sa_partition_id(part);
    part_key(part, key);
    sa_pstate_t *st = sa_hmap_get(&ps->parts, key, sizeof(key));
    if (st) return st;
    st = sa_pstate_new();
    memcpy(st->key, key, sizeof(key));
    sa_hmap_put(&ps->parts, st->key, sizeof(st->key), st);
    int64_t t0 = sa_partition_log_start(part);
    sa_err_t err = sa_partition_scan_batches(part, t0, rebuild_visit, st);
    if (err)
        sa_log_warn("producer",
                    "%s-%d: rebuilding producer state from the log failed (%s); retried "
                    "batches of earlier sessions may be refused",
                    sa_topic_name(topic), id, sa_err2str(err));
    else
        sa_log_debug(SA_DBG_STORAGE, "producer",
                     "%s-%d: producer state of %zu producers rebuilt from the log", sa_topic_name(topic), id,
                     st->producers.count);
    return st;
}

sa_err_t sa_producer_state_check(sa_producer_states_t *ps, sa_partition_t *part, const uint8_t *batches,
                                 size_t len, sa_producer_dup_t *dup) {
    sa_rb_iter_t it;
    sa_rb_header_t hdr;
    sa_rb_iter_init(&it, batches, len);
    if (sa_rb_iter_next(&it, &hdr, NULL) != SA_OK || hdr.ProducerId < 0) return SA_OK;
    sa_pstate_t *st = state_of(ps, part);
    sa_err_t err = sa_pstate_check(st, &hdr, dup);
    if (err)
        sa_log_debug(SA_DBG_STORAGE, "producer", "%s-%d: producer %lld epoch %d sequence %d: %s%s",
                     sa_topic_name(sa_partition_topic(part)), sa_partition_id(part),
                     (long long)hdr.ProducerId, hdr.ProducerEpoch, hdr.BaseSequence, sa_err2name(err),
                     err == SA_ERR_DUPLICATE_SEQUENCE_NUMBER ? " (a retry, answered with its first offsets)"
                                                             : "");
    /* A set of several batches (rare: librdkafka sends one per partition) must continue its own
     * sequence; only the first may be a duplicate, and then the set is taken as a whole retry. */
    if (err) return err;
    int32_t next = seq_add(hdr.BaseSequence, hdr.LastOffsetDelta + 1);
    while (sa_rb_iter_next(&it, &hdr, NULL) == SA_OK) {
        if (hdr.ProducerId < 0) continue;
        if (hdr.BaseSequence != next) return SA_ERR_OUT_OF_ORDER_SEQUENCE_NUMBER;
        next = seq_add(hdr.BaseSequence, hdr.LastOffsetDelta + 1);
    }
    return SA_OK;
}

void sa_producer_state_record(sa_producer_states_t *ps, sa_partition_t *part, const uint8_t *batches,
                              size_t len) {
    sa_rb_iter_t it;
    sa_rb_header_t hdr;
    sa_pstate_t *st = NULL;
    sa_rb_iter_init(&it, batches, len);
    while (sa_rb_iter_next(&it, &hdr, NULL) == SA_OK) {
        if (hdr.ProducerId < 0) continue;
        if (!st) st = state_of(ps, part);
        sa_pstate_record(st, &hdr);
    }
}

void sa_producer_state_marker(sa_producer_states_t *ps, sa_partition_t *part, int64_t pid, int16_t epoch,
                              int64_t timestamp) {
    sa_pstate_marker(state_of(ps, part), pid, epoch, timestamp);
}

static int by_pid(const void *a, const void *b) {
    int64_t x = ((const sa_producer_info_t *)a)->producer_id,
            y = ((const sa_producer_info_t *)b)->producer_id;
    return (x > y) - (x < y);
}

size_t sa_pstate_list(const sa_pstate_t *st, sa_buf_t *out) {
    size_t n = 0, at = out->len;
    const pentry_t *ent;
    for (size_t pos = 0; (ent = sa_hmap_next(&st->producers, &pos, NULL, NULL));) {
        sa_producer_info_t info = {0};
        info.producer_id = ent->pid;
        info.epoch = ent->epoch;
        info.last_sequence = ent->n ? ent->ring[ent->head].last_seq : -1;
        info.last_timestamp = ent->last_ts;
        info.coordinator_epoch = ent->coord_epoch;
        sa_buf_append(out, &info, sizeof(info));
        n++;
    }
    if (n > 1) qsort(out->data + at, n, sizeof(sa_producer_info_t), by_pid);
    return n;
}

size_t sa_producer_state_list(sa_producer_states_t *ps, sa_partition_t *part, sa_buf_t *out) {
    return sa_pstate_list(state_of(ps, part), out);
}

void sa_producer_state_truncate(sa_producer_states_t *ps, sa_partition_t *part, int64_t end_offset) {
    /* A partition no idempotent producer used since the start has nothing to forget: do not
     * rebuild its state (a scan of its whole log) just to truncate it. */
    uint8_t key[20];
    part_key(part, key);
    sa_pstate_t *st = sa_hmap_get(&ps->parts, key, sizeof(key));
    if (st) sa_pstate_truncate(st, end_offset);
}
