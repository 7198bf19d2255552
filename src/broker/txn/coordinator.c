/*
 * coordinator.c - the transaction coordinator's state machine (see coordinator.h for the model,
 * txn_persist.c for its records).
 *
 * Every transition is computed on a copy of the transaction ("next"), appended as a txn_state
 * record, and reaches memory only through that record's apply (txn_persist.c): a failed append
 * changes nothing, and memory is always the replay of the log (invariant 1). Kafka's
 * TransactionCoordinator/TransactionMetadata are the reference for every answer; where samsa
 * differs it says so (coordinator.h: EndTxn is answered once the markers are durable; a retried
 * EndTxn of the same decision waits for it instead of getting CONCURRENT_TRANSACTIONS).
 *
 * Durability of what others act on: a partition accepts a transactional batch only for a
 * transaction whose last record is durable (sa_tcoord_verify), and markers are written only
 * after the Prepare* record is durable, so no partition ever holds data or a decision the log
 * could lose.
 */
#include "broker/txn/coordinator.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "broker/group/offsets.h"
#include "broker/producer_id.h"
#include "broker/txn/txn_int.h"
#include "core/check.h"
#include "core/log.h"
#include "core/mem.h"

static const char *const state_names[SA_TXN_STATES] = {
    "Empty",          "Ongoing",       "PrepareCommit", "PrepareAbort",
    "CompleteCommit", "CompleteAbort", "Dead",          "PrepareEpochFence",
};

const char *sa_txn_state_name(int state) {
    return state >= 0 && state < SA_TXN_STATES ? state_names[state] : "Unknown";
}

int sa_txn_state_by_name(const char *name) {
    for (int i = 0; i < SA_TXN_STATES; i++)
        if (!strcmp(state_names[i], name)) return i;
    return -1;
}

void sa_tcoord_conf_defaults(sa_tcoord_conf_t *conf) {
    conf->max_timeout_ms = 900000;
    conf->id_expiration_ms = 604800000;
    conf->marker_retry_ms = 500;
    conf->offsets_partitions = 50;
}

static int is_prepare(sa_txn_state_t s) { return s == SA_TXN_PREPARE_COMMIT || s == SA_TXN_PREPARE_ABORT; }
static int is_complete(sa_txn_state_t s) { return s == SA_TXN_COMPLETE_COMMIT || s == SA_TXN_COMPLETE_ABORT; }
static int epoch_exhausted(int16_t epoch) { return epoch >= TXN_EPOCH_EXHAUSTED; }

/* ---- the map and its entries ---------------------------------------------------------------- */

txn_t *txn_get(const sa_tcoord_t *tc, const char *id) { return sa_hmap_gets(&tc->txns, id); }

txn_t *txn_get_or_add(sa_tcoord_t *tc, const char *id) {
    txn_t *t = txn_get(tc, id);
    if (t) return t;
    t = sa_new(txn_t);
    t->id = sa_strdup(id);
    t->pid = t->prev_pid = t->next_pid = -1;
    t->epoch = t->last_epoch = -1;
    t->state = SA_TXN_EMPTY;
    t->start_ms = -1;
    sa_hmap_puts(&tc->txns, t->id, t);
    return t;
}

void txn_clear_parts(txn_t *t) {
    for (size_t i = 0; i < t->nparts; i++) free(t->parts[i].topic);
    t->nparts = 0;
}

void txn_clear_offsets(txn_t *t) {
    for (size_t i = 0; i < t->noffsets; i++) {
        free(t->offsets[i].group);
        free(t->offsets[i].topic);
        free(t->offsets[i].metadata);
    }
    t->noffsets = 0;
}

static void txn_free(txn_t *t) {
    txn_clear_parts(t);
    txn_clear_offsets(t);
    for (size_t i = 0; i < t->ngroups; i++) free(t->groups[i]);
    while (t->waiters) {
        twaiter_t *w = t->waiters;
        t->waiters = w->next;
        free(w);
    }
    free(t->parts);
    free(t->groups);
    free(t->offsets);
    free(t->id);
    free(t);
}

void txn_remove(sa_tcoord_t *tc, txn_t *t) {
    sa_hmap_dels(&tc->txns, t->id);
    txn_free(t);
}

static int has_part(const txn_t *t, const char *topic, int32_t partition) {
    for (size_t i = 0; i < t->nparts; i++)
        if (t->parts[i].partition == partition && !strcmp(t->parts[i].topic, topic)) return 1;
    return 0;
}

static int has_group(const txn_t *t, const char *group) {
    for (size_t i = 0; i < t->ngroups; i++)
        if (!strcmp(t->groups[i], group)) return 1;
    return 0;
}

void txn_add_part(txn_t *t, const char *topic, int32_t partition) {
    if (has_part(t, topic, partition)) return;
    if (t->nparts == t->parts_cap) {
        t->parts_cap = t->parts_cap ? t->parts_cap * 2 : 4;
        t->parts = sa_realloc(t->parts, t->parts_cap * sizeof(*t->parts));
    }
    t->parts[t->nparts++] = (tpart_t){sa_strdup(topic), partition, -2};
}

void txn_add_group(txn_t *t, const char *group) {
    if (has_group(t, group)) return;
    if (t->ngroups == t->groups_cap) {
        t->groups_cap = t->groups_cap ? t->groups_cap * 2 : 2;
        t->groups = sa_realloc(t->groups, t->groups_cap * sizeof(*t->groups));
    }
    t->groups[t->ngroups++] = sa_strdup(group);
}

void txn_put_offset(txn_t *t, const char *group, const char *topic, int32_t partition, int64_t offset,
                    int32_t leader_epoch, const void *meta, size_t meta_len, int64_t commit_ms) {
    toffset_t *o = NULL;
    for (size_t i = 0; i < t->noffsets && !o; i++)
        if (t->offsets[i].partition == partition && !strcmp(t->offsets[i].topic, topic) &&
            !strcmp(t->offsets[i].group, group))
            o = &t->offsets[i];
    if (!o) {
        if (t->noffsets == t->offsets_cap) {
            t->offsets_cap = t->offsets_cap ? t->offsets_cap * 2 : 4;
            t->offsets = sa_realloc(t->offsets, t->offsets_cap * sizeof(*t->offsets));
        }
        o = &t->offsets[t->noffsets++];
        *o = (toffset_t){.group = sa_strdup(group), .topic = sa_strdup(topic), .partition = partition};
    } else {
        free(o->metadata);
    }
    o->offset = offset;
    o->leader_epoch = leader_epoch;
    o->metadata = sa_malloc(meta_len ? meta_len : 1);
    if (meta_len) memcpy(o->metadata, meta, meta_len);
    o->metadata_len = meta_len;
    o->commit_ms = commit_ms;
}

void txn_materialize_offsets(sa_tcoord_t *tc, txn_t *t) {
    for (size_t i = 0; tc->offsets && i < t->noffsets; i++) {
        const toffset_t *o = &t->offsets[i];
        sa_offsets_put_mem(tc->offsets, o->group, o->topic, o->partition, o->offset, o->leader_epoch,
                           o->metadata, o->metadata_len, o->commit_ms);
    }
    txn_clear_offsets(t);
}

/* Invariants 2-4 of coordinator.h for @p t. */
static void check_txn(const txn_t *t) {
    assert(t->epoch >= -1 && t->pid >= 0);
    assert(t->state != SA_TXN_DEAD && t->state != SA_TXN_PREPARE_EPOCH_FENCE);
    assert(t->noffsets == 0 || t->state == SA_TXN_ONGOING);
    assert((t->nparts == 0 && t->ngroups == 0) || t->state == SA_TXN_ONGOING || is_prepare(t->state));
    assert((t->end_phase == END_IDLE && !t->waiters) || is_prepare(t->state));
}

static void check_all(const sa_tcoord_t *tc) {
    SA_DEBUG_CHECK({
        size_t pos = 0;
        for (const txn_t *t; (t = sa_hmap_next(&tc->txns, &pos, NULL, NULL));) check_txn(t);
    });
}

/* ---- life cycle ------------------------------------------------------------------------------ */

sa_tcoord_t *sa_tcoord_new(const sa_tcoord_conf_t *conf, sa_metalog_t *log, sa_pid_alloc_t *pids,
                           sa_offsets_t *offsets, const sa_tcoord_ops_t *ops, void *ops_arg) {
    sa_tcoord_t *tc = sa_new(sa_tcoord_t);
    if (conf)
        tc->conf = *conf;
    else
        sa_tcoord_conf_defaults(&tc->conf);
    tc->log = log;
    tc->pids = pids;
    tc->offsets = offsets;
    if (ops) tc->ops = *ops;
    tc->ops_arg = ops_arg;
    return tc;
}

void sa_tcoord_configure(sa_tcoord_t *tc, const sa_tcoord_conf_t *conf, const sa_tcoord_ops_t *ops,
                         void *ops_arg) {
    if (conf) tc->conf = *conf;
    if (ops) tc->ops = *ops;
    tc->ops_arg = ops_arg;
}

static void free_limbo(sa_tcoord_t *tc) {
    while (tc->limbo) {
        twaiter_t *w = tc->limbo;
        tc->limbo = w->next;
        free(w);
    }
    for (size_t i = 0; i < tc->nlimbo; i++) free(tc->limbo_ids[i]);
    free(tc->limbo_ids);
    tc->limbo_ids = NULL;
    tc->nlimbo = tc->limbo_cap = 0;
}

void sa_tcoord_reset(sa_tcoord_t *tc) {
    /* Parked EndTxns outlive the reset: sa_tcoord_start re-attaches them to what the replay
     * finds, or answers them. Each limbo waiter's id is limbo_ids[i] in the same order. */
    size_t pos = 0;
    for (txn_t *t; (t = sa_hmap_next(&tc->txns, &pos, NULL, NULL));) {
        while (t->waiters) {
            twaiter_t *w = t->waiters;
            t->waiters = w->next;
            if (tc->nlimbo == tc->limbo_cap) {
                tc->limbo_cap = tc->limbo_cap ? tc->limbo_cap * 2 : 4;
                tc->limbo_ids = sa_realloc(tc->limbo_ids, tc->limbo_cap * sizeof(*tc->limbo_ids));
            }
            tc->limbo_ids[tc->nlimbo++] = sa_strdup(t->id);
            w->next = NULL;
            /* append at the tail to keep limbo and limbo_ids in the same order */
            twaiter_t **tail = &tc->limbo;
            while (*tail) tail = &(*tail)->next;
            *tail = w;
        }
        txn_free(t);
    }
    sa_hmap_free(&tc->txns);
    tc->last_seq = 0;
}

void sa_tcoord_free(sa_tcoord_t *tc) {
    if (!tc) return;
    size_t pos = 0;
    for (txn_t *t; (t = sa_hmap_next(&tc->txns, &pos, NULL, NULL));) txn_free(t);
    sa_hmap_free(&tc->txns);
    free_limbo(tc);
    sa_buf_free(&tc->scratch);
    free(tc->desc);
    free(tc->desc_names);
    free(tc);
}

uint64_t sa_tcoord_last_seq(const sa_tcoord_t *tc) { return tc->last_seq; }

static int durable(const sa_tcoord_t *tc, uint64_t seq) {
    return !tc->log || sa_metalog_durable(tc->log, seq);
}

/* ---- transitions ------------------------------------------------------------------------------ */

/* A new producer id. Its block's record precedes the state record that hands it out in the log,
 * so that record's durability covers it. */
static sa_err_t new_pid(sa_tcoord_t *tc, int64_t *pid) {
    uint64_t seq;
    return sa_pid_alloc_next(tc->pids, pid, &seq);
}

/* A copy of @p t to compute a transition on; its arrays are the original's (read only). */
static txn_t next_of(const txn_t *t) {
    txn_t n = *t;
    n.waiters = NULL;
    return n;
}

/* Append @p next as the new state of its id (memory follows through the record's apply). The
 * last state record's sequence number is kept so verification can wait for its durability. */
static sa_err_t transit(sa_tcoord_t *tc, const txn_t *next) {
    int dead = next->state == SA_TXN_DEAD;
    sa_err_t err = txn_log_state(tc, next);
    if (err) {
        sa_log_warn("txn", "transactional id \"%s\": cannot append its %s state: %s", next->id,
                    sa_txn_state_name(next->state), sa_err2str(err));
        return err == SA_ERR_TOOBIG ? SA_ERR_KAFKA_STORAGE_ERROR : err;
    }
    txn_t *t = dead ? NULL : txn_get(tc, next->id); /* (a Dead record freed the id next points to) */
    if (t) t->state_seq = tc->last_seq;
    return SA_OK;
}

/* A transient txn_t with a partition or group list of its own (names borrowed). */
typedef struct scratch_lists_s {
    tpart_t *parts;
    char **groups;
} scratch_lists_t;

static void scratch_free(scratch_lists_t *s) {
    free(s->parts);
    free(s->groups);
}

/* Answer @p t's parked EndTxns with @p err (and its producer id/epoch on success). */
static void answer_waiters(txn_t *t, sa_err_t err) {
    while (t->waiters) {
        twaiter_t *w = t->waiters;
        t->waiters = w->next;
        w->cb(w->opaque, err, err ? -1 : t->pid, err ? -1 : t->epoch);
        free(w);
    }
}

static void park(txn_t *t, sa_tcoord_end_cb *cb, void *opaque) {
    twaiter_t *w = sa_new(twaiter_t), **tail = &t->waiters;
    w->cb = cb;
    w->opaque = opaque;
    while (*tail) tail = &(*tail)->next;
    *tail = w;
}

/* Step 1 of ending (coordinator.h): append Prepare{Commit,Abort}. @p fence: the coordinator ends
 * it (timeout, InitProducerId) with a bumped epoch; @p tv2: the client's EndTxn v5 bumps it. */
static sa_err_t begin_end(sa_tcoord_t *tc, txn_t *t, int commit, int tv2, int fence, int64_t now_ms) {
    txn_t next = next_of(t);
    next.state = commit ? SA_TXN_PREPARE_COMMIT : SA_TXN_PREPARE_ABORT;
    next.update_ms = now_ms;
    next.tv2 = fence ? 0 : tv2;
    if (fence) {
        if (t->epoch < TXN_EPOCH_MAX) next.epoch = (int16_t)(t->epoch + 1);
        next.last_epoch = -1;
    } else if (tv2) {
        if (epoch_exhausted(t->epoch)) {
            sa_err_t err = new_pid(tc, &next.next_pid);
            if (err) return err;
        }
        next.last_epoch = t->epoch;
        next.epoch = (int16_t)(t->epoch + 1);
    }
    sa_err_t err = transit(tc, &next);
    if (err) return err;
    t->end_phase = END_PREPARING;
    t->end_seq = tc->last_seq;
    t->fenced_by_timeout = 0;
    for (size_t i = 0; i < t->nparts; i++) t->parts[i].marker = -2;
    tc->st.completing++;
    return SA_OK;
}

/* Write the markers not written yet (marker == -2). @returns 1 if all are written. */
static int write_markers(sa_tcoord_t *tc, txn_t *t, int64_t now_ms) {
    int commit = t->state == SA_TXN_PREPARE_COMMIT, all = 1;
    for (size_t i = 0; i < t->nparts; i++) {
        tpart_t *p = &t->parts[i];
        if (p->marker != -2) continue;
        int64_t offset = -1;
        sa_err_t err = tc->ops.write_marker ? tc->ops.write_marker(tc->ops_arg, p->topic, p->partition,
                                                                   t->pid, t->epoch, commit, now_ms, &offset)
                                            : SA_OK;
        if (err) {
            sa_log_warn("txn", "transactional id \"%s\": cannot write the %s marker to %s-%d: %s; retrying",
                        t->id, commit ? "COMMIT" : "ABORT", p->topic, p->partition, sa_err2str(err));
            all = 0;
            continue;
        }
        p->marker = offset;
    }
    return all;
}

/* Step 3: every marker is durable; append Complete* and answer. */
static void complete(sa_tcoord_t *tc, txn_t *t, int64_t now_ms) {
    txn_t next = next_of(t);
    next.state = t->state == SA_TXN_PREPARE_COMMIT ? SA_TXN_COMPLETE_COMMIT : SA_TXN_COMPLETE_ABORT;
    next.nparts = next.ngroups = next.noffsets = 0;
    next.update_ms = now_ms;
    if (t->tv2 && t->next_pid >= 0) { /* the Prepare* exhausted the epoch: move to the new id */
        next.prev_pid = t->pid;
        next.pid = t->next_pid;
        next.epoch = 0;
    }
    next.next_pid = -1;
    next.last_epoch = t->epoch;
    if (transit(tc, &next)) {
        t->end_phase = END_RETRY;
        t->retry_ms = now_ms + tc->conf.marker_retry_ms;
        return;
    }
    t->end_phase = END_IDLE;
    tc->st.completing--;
    sa_log_debug(SA_DBG_GROUP, "txn", "transactional id \"%s\": %s (producer %" PRId64 " epoch %d)", t->id,
                 sa_txn_state_name(t->state), t->pid, t->epoch);
    answer_waiters(t, SA_OK);
}

/* Move @p t's ending on as far as it can go now (steps 2 and 3 of coordinator.h). */
static void end_step(sa_tcoord_t *tc, txn_t *t, int64_t now_ms) {
    if (t->end_phase == END_PREPARING) {
        if (!durable(tc, t->end_seq)) return;
        t->end_phase = END_MARKERS;
    } else if (t->end_phase == END_RETRY) {
        if (now_ms < t->retry_ms) return;
        t->end_phase = END_MARKERS;
    }
    if (t->end_phase != END_MARKERS) return;
    /* A marker a failed sync cut off is written again. */
    for (size_t i = 0; i < t->nparts; i++) {
        tpart_t *p = &t->parts[i];
        if (p->marker >= 0 && tc->ops.marker_state &&
            tc->ops.marker_state(tc->ops_arg, p->topic, p->partition, t->pid, p->marker) ==
                SA_TXN_MARKER_LOST)
            p->marker = -2;
    }
    if (!write_markers(tc, t, now_ms)) {
        t->end_phase = END_RETRY;
        t->retry_ms = now_ms + tc->conf.marker_retry_ms;
        return;
    }
    for (size_t i = 0; i < t->nparts; i++) {
        tpart_t *p = &t->parts[i];
        if (p->marker >= 0 && tc->ops.marker_state &&
            tc->ops.marker_state(tc->ops_arg, p->topic, p->partition, t->pid, p->marker) !=
                SA_TXN_MARKER_DURABLE)
            return; /* the next group commit */
    }
    complete(tc, t, now_ms);
}

int sa_tcoord_wants_sync(const sa_tcoord_t *tc) {
    size_t pos = 0;
    for (const txn_t *t; tc->st.completing && (t = sa_hmap_next(&tc->txns, &pos, NULL, NULL));) {
        if (t->end_phase == END_PREPARING || t->end_phase == END_MARKERS) return 1;
    }
    return 0;
}

void sa_tcoord_synced(sa_tcoord_t *tc, int64_t now_ms) {
    size_t pos = 0;
    for (txn_t *t; tc->st.completing && (t = sa_hmap_next(&tc->txns, &pos, NULL, NULL));) {
        if (t->end_phase == END_PREPARING || t->end_phase == END_MARKERS) end_step(tc, t, now_ms);
    }
    check_all(tc);
}

void sa_tcoord_start(sa_tcoord_t *tc, int64_t now_ms) {
    /* Re-attach the EndTxns a reset parked; answer the ones whose decision did not survive. */
    twaiter_t *w = tc->limbo;
    for (size_t i = 0; w; i++) {
        twaiter_t *nextw = w->next;
        txn_t *t = txn_get(tc, tc->limbo_ids[i]);
        if (!w->cb) { /* its connection closed meanwhile */
            free(w);
        } else if (t && is_prepare(t->state)) {
            w->next = NULL;
            twaiter_t **tail = &t->waiters;
            while (*tail) tail = &(*tail)->next;
            *tail = w;
        } else {
            w->cb(w->opaque, SA_ERR_NOT_COORDINATOR, -1, -1);
            free(w);
        }
        w = nextw;
    }
    tc->limbo = NULL;
    free_limbo(tc);
    /* Finish every decided transaction: its markers go where they are missing. */
    tc->st.completing = 0;
    size_t pos = 0;
    for (txn_t *t; (t = sa_hmap_next(&tc->txns, &pos, NULL, NULL));) {
        t->end_phase = END_IDLE;
        if (!is_prepare(t->state)) continue;
        sa_log_info("txn",
                    "transactional id \"%s\" is in %s: writing its markers (producer %" PRId64
                    " epoch %d, %zu partitions)",
                    t->id, sa_txn_state_name(t->state), t->pid, t->epoch, t->nparts);
        t->end_phase = END_PREPARING;
        t->end_seq = 0; /* replayed: durable */
        for (size_t i = 0; i < t->nparts; i++) t->parts[i].marker = -2;
        tc->st.completing++;
        end_step(tc, t, now_ms);
    }
    check_all(tc);
}

/* ---- InitProducerId ----------------------------------------------------------------------------- */

/* Kafka's isValidProducerId: may a producer claiming @p pid/@p epoch re-initialise @p t? */
static int valid_producer(const txn_t *t, int64_t pid, int16_t epoch) {
    return t->epoch == -1 || pid == t->pid || (pid == t->prev_pid && epoch_exhausted(epoch));
}

sa_err_t sa_tcoord_init_pid(sa_tcoord_t *tc, const char *txid, int32_t timeout_ms, int64_t expected_pid,
                            int16_t expected_epoch, int64_t now_ms, sa_txn_pid_t *out) {
    if (!txid || !*txid) return SA_ERR_INVALID_REQUEST;
    if (timeout_ms <= 0 || timeout_ms > tc->conf.max_timeout_ms) return SA_ERR_INVALID_TRANSACTION_TIMEOUT;
    txn_t fresh, *t = txn_get(tc, txid);
    if (!t) { /* a new id: its state exists only once its first record is appended */
        memset(&fresh, 0, sizeof(fresh));
        fresh.id = (char *)txid;
        fresh.prev_pid = fresh.next_pid = -1;
        fresh.epoch = fresh.last_epoch = -1;
        fresh.state = SA_TXN_EMPTY;
        fresh.start_ms = -1;
        sa_err_t err = new_pid(tc, &fresh.pid);
        if (err) return err;
    }
    const txn_t *cur = t ? t : &fresh;
    int has_expected = expected_pid >= 0;
    if (t && t->end_phase != END_IDLE) return SA_ERR_CONCURRENT_TRANSACTIONS;
    if (has_expected && !valid_producer(cur, expected_pid, expected_epoch)) return SA_ERR_PRODUCER_FENCED;
    switch (cur->state) {
    case SA_TXN_PREPARE_COMMIT:
    case SA_TXN_PREPARE_ABORT: return SA_ERR_CONCURRENT_TRANSACTIONS;
    case SA_TXN_ONGOING: {
        /* Fence it: abort with a bumped epoch (never handed out), then the client retries and
         * gets a second bump (Kafka's PrepareEpochFence). */
        sa_log_info("txn",
                    "transactional id \"%s\": a new producer fences producer %" PRId64
                    " epoch %d and aborts its transaction",
                    txid, cur->pid, cur->epoch);
        sa_err_t err = begin_end(tc, t, 0, 0, 1, now_ms);
        if (err) return err;
        end_step(tc, t, now_ms);
        return SA_ERR_CONCURRENT_TRANSACTIONS;
    }
    default: break;
    }
    txn_t next = next_of(cur);
    next.state = SA_TXN_EMPTY;
    next.timeout_ms = timeout_ms;
    next.nparts = next.ngroups = next.noffsets = 0;
    next.start_ms = -1;
    next.update_ms = now_ms;
    next.tv2 = 0;
    next.next_pid = -1;
    if (epoch_exhausted(cur->epoch) && (!has_expected || expected_epoch == cur->epoch)) {
        /* Out of epochs: a new producer id (Kafka's prepareProducerIdRotation). */
        sa_err_t err = new_pid(tc, &next.pid);
        if (err) return err;
        next.prev_pid = cur->pid;
        next.epoch = 0;
        next.last_epoch = has_expected ? cur->epoch : -1;
    } else if (!has_expected) {
        next.epoch = (int16_t)(cur->epoch + 1);
        next.last_epoch = -1;
    } else if (cur->epoch == -1 || expected_epoch == cur->epoch) {
        next.epoch = (int16_t)(cur->epoch + 1);
        next.last_epoch = cur->epoch;
    } else if (expected_epoch == cur->last_epoch) {
        /* A retry of a bump that succeeded: the same answer again. */
        next.epoch = cur->epoch;
        next.last_epoch = cur->last_epoch;
    } else {
        return SA_ERR_PRODUCER_FENCED;
    }
    sa_err_t err = transit(tc, &next);
    if (err) return err;
    t = txn_get(tc, txid);
    out->ProducerId = t->pid;
    out->ProducerEpoch = t->epoch;
    check_all(tc);
    return SA_OK;
}

/* ---- AddPartitionsToTxn, AddOffsetsToTxn ------------------------------------------------------------ */

/* The checks every add makes (Kafka's handleAddPartitionsToTransaction). */
static sa_err_t add_check(const sa_tcoord_t *tc, const char *txid, int64_t pid, int16_t epoch, txn_t **tp) {
    if (!txid || !*txid) return SA_ERR_INVALID_REQUEST;
    txn_t *t = txn_get(tc, txid);
    if (!t || t->pid != pid) return SA_ERR_INVALID_PRODUCER_ID_MAPPING;
    if (t->epoch != epoch) return SA_ERR_PRODUCER_FENCED;
    if (t->end_phase != END_IDLE || is_prepare(t->state)) return SA_ERR_CONCURRENT_TRANSACTIONS;
    *tp = t;
    return SA_OK;
}

/* Start (or extend) the transaction with @p lists as its new partitions and groups. */
static sa_err_t add_to(sa_tcoord_t *tc, txn_t *t, tpart_t *parts, size_t nparts, char **groups,
                       size_t ngroups, int64_t now_ms) {
    txn_t next = next_of(t);
    if (t->state != SA_TXN_ONGOING) next.start_ms = now_ms;
    next.state = SA_TXN_ONGOING;
    next.update_ms = now_ms;
    next.parts = parts;
    next.nparts = nparts;
    next.groups = groups;
    next.ngroups = ngroups;
    return transit(tc, &next);
}

sa_err_t sa_tcoord_add_partitions(sa_tcoord_t *tc, const char *txid, int64_t pid, int16_t epoch,
                                  const sa_txn_tp_t *tps, size_t n, int64_t now_ms) {
    txn_t *t;
    sa_err_t err = add_check(tc, txid, pid, epoch, &t);
    if (err) return err;
    scratch_lists_t s = {sa_calloc(t->nparts + n + 1, sizeof(tpart_t)), NULL};
    size_t np = t->nparts;
    if (t->nparts) memcpy(s.parts, t->parts, t->nparts * sizeof(tpart_t));
    for (size_t i = 0; i < n; i++) {
        int dup = 0;
        for (size_t k = 0; k < np && !dup; k++)
            dup = s.parts[k].partition == tps[i].partition && !strcmp(s.parts[k].topic, tps[i].topic);
        if (!dup) s.parts[np++] = (tpart_t){(char *)tps[i].topic, tps[i].partition, -2};
    }
    if (t->state == SA_TXN_ONGOING && np == t->nparts) { /* all in already */
        scratch_free(&s);
        return SA_OK;
    }
    err = add_to(tc, t, s.parts, np, t->groups, t->ngroups, now_ms);
    scratch_free(&s);
    check_all(tc);
    return err;
}

sa_err_t sa_tcoord_add_group(sa_tcoord_t *tc, const char *txid, int64_t pid, int16_t epoch, const char *group,
                             int64_t now_ms) {
    txn_t *t;
    sa_err_t err = add_check(tc, txid, pid, epoch, &t);
    if (err) return err;
    if (t->state == SA_TXN_ONGOING && has_group(t, group)) return SA_OK;
    scratch_lists_t s = {NULL, sa_calloc(t->ngroups + 1, sizeof(char *))};
    if (t->ngroups) memcpy(s.groups, t->groups, t->ngroups * sizeof(char *));
    size_t ng = t->ngroups;
    if (!has_group(t, group)) s.groups[ng++] = (char *)group;
    err = add_to(tc, t, t->parts, t->nparts, s.groups, ng, now_ms);
    scratch_free(&s);
    check_all(tc);
    return err;
}

sa_err_t sa_tcoord_verify(const sa_tcoord_t *tc, const char *txid, int64_t pid, int16_t epoch,
                          const char *topic, int32_t partition, const char *group) {
    if (!txid || !*txid) return SA_ERR_INVALID_REQUEST;
    const txn_t *t = txn_get(tc, txid);
    if (!t || t->pid != pid) return SA_ERR_INVALID_PRODUCER_ID_MAPPING;
    if (t->epoch != epoch) return SA_ERR_PRODUCER_FENCED;
    /* Being ended, or its last change not durable yet: a partition must not take data for it. */
    if (is_prepare(t->state) || !durable(tc, t->state_seq)) return SA_ERR_CONCURRENT_TRANSACTIONS;
    int in = group ? has_group(t, group) : has_part(t, topic, partition);
    return in && t->state == SA_TXN_ONGOING ? SA_OK : SA_ERR_TRANSACTION_ABORTABLE;
}

/* ---- TxnOffsetCommit ----------------------------------------------------------------------------------- */

sa_err_t sa_tcoord_commit_offsets(sa_tcoord_t *tc, const char *txid, int64_t pid, int16_t epoch,
                                  const char *group, const sa_txn_offset_t *offs, size_t n, int64_t now_ms) {
    for (size_t i = 0; i < n; i++)
        if (offs[i].metadata_len > SA_OFFSETS_METADATA_MAX) return SA_ERR_OFFSET_METADATA_TOO_LARGE;
    if (!n) return SA_OK;
    sa_err_t err = txn_log_offsets(tc, txid, pid, epoch, group, offs, n, now_ms);
    if (err == SA_ERR_TOOBIG) return SA_ERR_INVALID_COMMIT_OFFSET_SIZE;
    return err;
}

int sa_tcoord_offset_pending(const sa_tcoord_t *tc, const char *group, const char *topic, int32_t partition) {
    size_t pos = 0;
    for (const txn_t *t; (t = sa_hmap_next(&tc->txns, &pos, NULL, NULL));) {
        for (size_t i = 0; i < t->noffsets; i++)
            if (t->offsets[i].partition == partition && !strcmp(t->offsets[i].topic, topic) &&
                !strcmp(t->offsets[i].group, group))
                return 1;
    }
    return 0;
}

/* ---- EndTxn ------------------------------------------------------------------------------------------- */

sa_err_t sa_tcoord_end_txn(sa_tcoord_t *tc, const char *txid, int64_t pid, int16_t epoch, int commit, int tv2,
                           int64_t now_ms, sa_tcoord_end_cb *cb, void *opaque, sa_txn_pid_t *out) {
    if (!txid || !*txid) return SA_ERR_INVALID_REQUEST;
    txn_t *t = txn_get(tc, txid);
    if (!t) return SA_ERR_INVALID_PRODUCER_ID_MAPPING;
    /* Kafka's endTransaction: with an epoch per transaction (TV2) a retry carries the epoch
     * before the bump; with TV1 the epoch must be the current one. */
    int v2 = t->tv2;
    int retry_bump = v2 && t->epoch == epoch + 1;
    int retry_overflow = v2 && t->prev_pid == pid && epoch == TXN_EPOCH_EXHAUSTED && t->epoch == 0;
    int valid_epoch = epoch == t->epoch;
    if (v2 && is_prepare(t->state))
        valid_epoch = retry_bump;
    else if (v2 && is_complete(t->state))
        valid_epoch = retry_bump || retry_overflow;
    if (t->pid != pid && !retry_overflow) return SA_ERR_INVALID_PRODUCER_ID_MAPPING;
    if (!valid_epoch) return SA_ERR_PRODUCER_FENCED;
    switch (t->state) {
    case SA_TXN_ONGOING: {
        sa_err_t err = begin_end(tc, t, commit, tv2, 0, now_ms);
        if (err) return err;
        park(t, cb, opaque);
        end_step(tc, t, now_ms);
        check_all(tc);
        return SA_ERR_AGAIN; /* end_step may have answered already: the callback ran */
    }
    case SA_TXN_PREPARE_COMMIT:
    case SA_TXN_PREPARE_ABORT:
        if ((t->state == SA_TXN_PREPARE_COMMIT) != !!commit) return SA_ERR_INVALID_TXN_STATE;
        park(t, cb, opaque); /* a retry: answered when the first one is */
        return SA_ERR_AGAIN;
    case SA_TXN_COMPLETE_COMMIT:
    case SA_TXN_COMPLETE_ABORT:
        if ((t->state == SA_TXN_COMPLETE_COMMIT) != !!commit) return SA_ERR_INVALID_TXN_STATE;
        out->ProducerId = t->pid;
        out->ProducerEpoch = t->epoch;
        return SA_OK;
    default: return SA_ERR_INVALID_TXN_STATE; /* Empty: no transaction */
    }
}

void sa_tcoord_cancel(sa_tcoord_t *tc, const void *opaque) {
    size_t pos = 0;
    for (txn_t *t; (t = sa_hmap_next(&tc->txns, &pos, NULL, NULL));) {
        for (twaiter_t **pw = &t->waiters; *pw;) {
            if ((*pw)->opaque == opaque) {
                twaiter_t *w = *pw;
                *pw = w->next;
                free(w);
            } else {
                pw = &(*pw)->next;
            }
        }
    }
    /* limbo entries are matched by position with limbo_ids: neutralise instead of unlinking */
    for (twaiter_t *w = tc->limbo; w; w = w->next)
        if (w->opaque == opaque) w->cb = NULL;
}

/* ---- timers ------------------------------------------------------------------------------------------- */

int64_t sa_tcoord_next_deadline(const sa_tcoord_t *tc) {
    int64_t next = INT64_MAX;
    size_t pos = 0;
    for (const txn_t *t; (t = sa_hmap_next(&tc->txns, &pos, NULL, NULL));) {
        int64_t when = INT64_MAX;
        if (t->end_phase == END_RETRY)
            when = t->retry_ms;
        else if (t->state == SA_TXN_ONGOING && t->end_phase == END_IDLE)
            when = t->start_ms + t->timeout_ms;
        else if ((t->state == SA_TXN_EMPTY || is_complete(t->state)) && t->end_phase == END_IDLE)
            when = t->update_ms + tc->conf.id_expiration_ms;
        if (when < next) next = when;
    }
    return next;
}

void sa_tcoord_tick(sa_tcoord_t *tc, int64_t now_ms) {
    /* Collect first: ending or expiring changes the map. */
    size_t n = 0, cap = tc->txns.count;
    txn_t **due = sa_calloc(cap ? cap : 1, sizeof(*due));
    size_t pos = 0;
    for (txn_t *t; (t = sa_hmap_next(&tc->txns, &pos, NULL, NULL));) {
        if ((t->end_phase == END_RETRY && t->retry_ms <= now_ms) ||
            (t->state == SA_TXN_ONGOING && t->end_phase == END_IDLE &&
             t->start_ms + t->timeout_ms <= now_ms) ||
            ((t->state == SA_TXN_EMPTY || is_complete(t->state)) && t->end_phase == END_IDLE &&
             t->update_ms + tc->conf.id_expiration_ms <= now_ms))
            due[n++] = t;
    }
    for (size_t i = 0; i < n; i++) {
        txn_t *t = due[i];
        if (t->end_phase == END_RETRY) {
            end_step(tc, t, now_ms);
        } else if (t->state == SA_TXN_ONGOING) {
            sa_log_info("txn",
                        "transactional id \"%s\": transaction of producer %" PRId64
                        " epoch %d timed out after %" PRId32 " ms; aborting it and fencing the producer",
                        t->id, t->pid, t->epoch, t->timeout_ms);
            if (begin_end(tc, t, 0, 0, 1, now_ms) == SA_OK) {
                t->fenced_by_timeout = 1;
                tc->st.timeouts++;
                end_step(tc, t, now_ms);
            }
        } else {
            sa_log_info("txn", "transactional id \"%s\" unused for %" PRId64 " ms: expiring it", t->id,
                        now_ms - t->update_ms);
            txn_t next = next_of(t);
            next.state = SA_TXN_DEAD;
            next.update_ms = now_ms;
            transit(tc, &next); /* removes it (a failed append is tried again at the next tick) */
        }
    }
    free(due);
    check_all(tc);
}

/* ---- DescribeTransactions, ListTransactions ------------------------------------------------------------ */

/* Kafka's partition of __consumer_offsets for @p group: abs(String.hashCode) % partitions, over
 * the group's UTF-16 code units (decoded from UTF-8; bytes that are not UTF-8 count as themselves). */
static int32_t offsets_partition(const char *group, int32_t partitions) {
    const uint8_t *p = (const uint8_t *)group;
    uint32_t h = 0;
    while (*p) {
        uint32_t c = *p++;
        int more = c >= 0xf0 ? 3 : c >= 0xe0 ? 2 : c >= 0xc0 ? 1 : 0;
        if (more) {
            c &= 0x3f >> more;
            for (int i = 0; i < more && (*p & 0xc0) == 0x80; i++) c = (c << 6) | (*p++ & 0x3f);
        }
        if (c >= 0x10000) { /* a surrogate pair in UTF-16 */
            c -= 0x10000;
            h = h * 31 + (0xd800 + (c >> 10));
            h = h * 31 + (0xdc00 + (c & 0x3ff));
        } else {
            h = h * 31 + c;
        }
    }
    int32_t v = (int32_t)h;
    v = v == INT32_MIN ? 0 : (v < 0 ? -v : v);
    return partitions > 0 ? v % partitions : 0;
}

sa_err_t sa_tcoord_describe(sa_tcoord_t *tc, const char *txid, sa_txn_desc_t *out) {
    const txn_t *t = txid && *txid ? txn_get(tc, txid) : NULL;
    if (!t) return SA_ERR_TRANSACTIONAL_ID_NOT_FOUND;
    size_t n = t->nparts + t->ngroups;
    if (n > tc->desc_cap) {
        tc->desc_cap = n;
        tc->desc = sa_realloc(tc->desc, n * sizeof(*tc->desc));
    }
    free(tc->desc_names);
    tc->desc_names = NULL;
    for (size_t i = 0; i < t->nparts; i++)
        tc->desc[i] = (sa_txn_tp_t){t->parts[i].topic, t->parts[i].partition};
    for (size_t i = 0; i < t->ngroups; i++)
        tc->desc[t->nparts + i] =
            (sa_txn_tp_t){"__consumer_offsets", offsets_partition(t->groups[i], tc->conf.offsets_partitions)};
    *out = (sa_txn_desc_t){t->id, t->state, t->timeout_ms, t->start_ms, t->pid, t->epoch, tc->desc, n};
    return SA_OK;
}

void sa_tcoord_list(const sa_tcoord_t *tc, unsigned states, const int64_t *pids, size_t npids,
                    int64_t min_duration_ms, int64_t now_ms, sa_tcoord_list_fn *fn, void *arg) {
    size_t pos = 0;
    for (const txn_t *t; (t = sa_hmap_next(&tc->txns, &pos, NULL, NULL));) {
        if (states && !(states & (1u << t->state))) continue;
        int match = !npids;
        for (size_t i = 0; i < npids && !match; i++) match = pids[i] == t->pid;
        if (!match) continue;
        if (min_duration_ms >= 0 && now_ms - t->start_ms <= min_duration_ms)
            continue; /* as Kafka: any state */
        fn(arg, t->id, t->pid, t->state);
    }
}

void sa_tcoord_stats(const sa_tcoord_t *tc, sa_tcoord_stats_t *out) {
    *out = tc->st;
    out->ids = tc->txns.count;
    out->ongoing = 0;
    size_t pos = 0;
    for (const txn_t *t; (t = sa_hmap_next(&tc->txns, &pos, NULL, NULL));)
        out->ongoing += t->state == SA_TXN_ONGOING;
}
