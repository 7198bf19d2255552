/*
 * txn_persist.c - the transaction coordinator's records in the metadata log (kinds 16 and 17 of
 * broker/metastore.h): encoding, replay, compaction snapshots, the dumper's view.
 *
 * Payloads, all integers big-endian; str16 = i16 length + that many bytes (no NUL inside ids):
 *
 *   16 txn_state: the whole state of one transactional id (the last record of an id wins, as in
 *      Kafka's __transaction_state):
 *        str16 transactional id
 *        i64 producer id, i64 previous producer id (-1), i64 next producer id (-1)
 *        i16 producer epoch, i16 last producer epoch (-1)
 *        i32 transaction timeout (ms)
 *        i8  state: Kafka's ids, 0 Empty, 1 Ongoing, 2 PrepareCommit, 3 PrepareAbort,
 *            4 CompleteCommit, 5 CompleteAbort, 6 Dead (removes the id); 7 is never written
 *        i8  flags: bit 0 = the last EndTxn was v5+ (KIP-890 part 2: an epoch per transaction)
 *        i64 start of the ongoing transaction (wall ms, -1), i64 last update (wall ms)
 *        i32 N, then N partitions: str16 topic, i32 partition
 *        i32 G, then G consumer groups: str16 group
 *      Applying a PrepareCommit turns the id's pending offsets into committed offsets of their
 *      groups (committed offsets' memory, broker/group/offsets.h), at this point of the log;
 *      any state but Ongoing drops what is still pending.
 *
 *   17 txn_offsets: offsets committed inside the ongoing transaction of an id (TxnOffsetCommit):
 *        str16 transactional id, i64 producer id, i16 producer epoch, str16 group
 *        i32 N, then N offsets: str16 topic, i32 partition, i64 offset, i32 leader epoch (-1),
 *            i64 commit time (wall ms), str16 metadata (any bytes, <= 4096)
 *      Applied only to an Ongoing id of that producer id and epoch (it always is: the record is
 *      appended only then), replacing what that group had pending for those partitions.
 *
 * A snapshot writes one txn_state per id and, for an Ongoing one, one txn_offsets per group with
 * pending offsets. Offsets already committed by a PrepareCommit are the offsets owner's records
 * by then (metastore.c writes them before these), so a replay of the snapshot recreates both.
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "broker/group/offsets.h"
#include "broker/metastore.h"
#include "broker/txn/txn_int.h"
#include "core/check.h"
#include "core/log.h"
#include "core/mem.h"
#include "proto/wire.h"

#define FLAG_TV2 0x01

/* ---- encoding ---------------------------------------------------------------------------------- */

static void put_str(sa_buf_t *b, const void *s, size_t len) {
    sa_wr_i16(b, (int16_t)len);
    sa_buf_append(b, s, len);
}

static void encode_state(sa_buf_t *b, const txn_t *t) {
    put_str(b, t->id, strlen(t->id));
    sa_wr_i64(b, t->pid);
    sa_wr_i64(b, t->prev_pid);
    sa_wr_i64(b, t->next_pid);
    sa_wr_i16(b, t->epoch);
    sa_wr_i16(b, t->last_epoch);
    sa_wr_i32(b, t->timeout_ms);
    sa_wr_i8(b, (int8_t)t->state);
    sa_wr_i8(b, t->tv2 ? FLAG_TV2 : 0);
    sa_wr_i64(b, t->start_ms);
    sa_wr_i64(b, t->update_ms);
    sa_wr_i32(b, (int32_t)t->nparts);
    for (size_t i = 0; i < t->nparts; i++) {
        put_str(b, t->parts[i].topic, strlen(t->parts[i].topic));
        sa_wr_i32(b, t->parts[i].partition);
    }
    sa_wr_i32(b, (int32_t)t->ngroups);
    for (size_t i = 0; i < t->ngroups; i++) put_str(b, t->groups[i], strlen(t->groups[i]));
}

/* The offsets of @p t pending for @p group, as one txn_offsets payload. @returns how many. */
static size_t encode_pending(sa_buf_t *b, const txn_t *t, const char *group) {
    put_str(b, t->id, strlen(t->id));
    sa_wr_i64(b, t->pid);
    sa_wr_i16(b, t->epoch);
    put_str(b, group, strlen(group));
    size_t at = b->len, n = 0;
    sa_wr_i32(b, 0);
    for (size_t i = 0; i < t->noffsets; i++) {
        const toffset_t *o = &t->offsets[i];
        if (strcmp(o->group, group)) continue;
        put_str(b, o->topic, strlen(o->topic));
        sa_wr_i32(b, o->partition);
        sa_wr_i64(b, o->offset);
        sa_wr_i32(b, o->leader_epoch);
        sa_wr_i64(b, o->commit_ms);
        put_str(b, o->metadata, o->metadata_len);
        n++;
    }
    sa_store_be32(b->data + at, (uint32_t)n);
    return n;
}

/* ---- decoding ---------------------------------------------------------------------------------- */

/* A view of a str16 as a new C string; NULL (and rd->err) if short or holding a NUL. */
static char *get_name(sa_rd_t *rd, int allow_empty) {
    sa_str_t s = sa_rd_string(rd, false, false);
    if (rd->err || (!allow_empty && s.len == 0) || memchr(s.ptr, 0, (size_t)s.len)) {
        sa_rd_fail(rd, SA_ERR_PARSE);
        return NULL;
    }
    return sa_strndup(s.ptr, (size_t)s.len);
}

/* The decoded fields of a txn_state record (names and arrays new; free with state_free). */
typedef struct state_rec_s {
    txn_t t;
} state_rec_t;

static void state_free(state_rec_t *r) {
    free(r->t.id);
    txn_clear_parts(&r->t);
    for (size_t i = 0; i < r->t.ngroups; i++) free(r->t.groups[i]);
    free(r->t.parts);
    free(r->t.groups);
}

static sa_err_t decode_state(const uint8_t *payload, size_t len, state_rec_t *r) {
    sa_rd_t rd;
    memset(r, 0, sizeof(*r));
    sa_rd_init(&rd, payload, len);
    txn_t *t = &r->t;
    t->id = get_name(&rd, 0);
    t->pid = sa_rd_i64(&rd);
    t->prev_pid = sa_rd_i64(&rd);
    t->next_pid = sa_rd_i64(&rd);
    t->epoch = sa_rd_i16(&rd);
    t->last_epoch = sa_rd_i16(&rd);
    t->timeout_ms = sa_rd_i32(&rd);
    int8_t state = sa_rd_i8(&rd);
    int8_t flags = sa_rd_i8(&rd);
    t->start_ms = sa_rd_i64(&rd);
    t->update_ms = sa_rd_i64(&rd);
    t->state = (sa_txn_state_t)state;
    t->tv2 = (flags & FLAG_TV2) != 0;
    int32_t n = sa_rd_i32(&rd);
    if (n < 0 || (size_t)n > sa_rd_left(&rd) / 6) sa_rd_fail(&rd, SA_ERR_PARSE);
    for (int32_t i = 0; !rd.err && i < n; i++) {
        char *topic = get_name(&rd, 0);
        int32_t p = sa_rd_i32(&rd);
        if (topic && !rd.err) txn_add_part(t, topic, p);
        free(topic);
    }
    int32_t g = rd.err ? 0 : sa_rd_i32(&rd);
    if (g < 0 || (size_t)g > sa_rd_left(&rd) / 2) sa_rd_fail(&rd, SA_ERR_PARSE);
    for (int32_t i = 0; !rd.err && i < g; i++) {
        char *group = get_name(&rd, 0);
        if (group) txn_add_group(t, group);
        free(group);
    }
    if (rd.err || sa_rd_left(&rd) || state < 0 || state > SA_TXN_DEAD || t->pid < 0 || t->epoch < -1) {
        state_free(r);
        return SA_ERR_CORRUPT;
    }
    return SA_OK;
}

/* Walk a txn_offsets payload: the header into the out-parameters, then @p fn per offset (may be
 * NULL: check only). @returns SA_OK or SA_ERR_CORRUPT; *txid and *group are new (free them). */
typedef void offset_fn(void *arg, const char *topic, int32_t partition, int64_t offset, int32_t leader_epoch,
                       int64_t commit_ms, const uint8_t *meta, size_t meta_len);

static sa_err_t walk_offsets(const uint8_t *payload, size_t len, char **txid, int64_t *pid, int16_t *epoch,
                             char **group, int32_t *count, offset_fn *fn, void *arg) {
    sa_rd_t rd;
    sa_rd_init(&rd, payload, len);
    *txid = get_name(&rd, 0);
    *pid = sa_rd_i64(&rd);
    *epoch = sa_rd_i16(&rd);
    *group = get_name(&rd, 0);
    int32_t n = sa_rd_i32(&rd);
    *count = n;
    if (n < 0 || (size_t)n > sa_rd_left(&rd) / 30) sa_rd_fail(&rd, SA_ERR_PARSE);
    for (int32_t i = 0; !rd.err && i < n; i++) {
        char *topic = get_name(&rd, 1);
        int32_t p = sa_rd_i32(&rd);
        int64_t off = sa_rd_i64(&rd);
        int32_t le = sa_rd_i32(&rd);
        int64_t ts = sa_rd_i64(&rd);
        sa_str_t meta = sa_rd_string(&rd, false, false);
        if (!rd.err && meta.len > SA_OFFSETS_METADATA_MAX) sa_rd_fail(&rd, SA_ERR_PARSE);
        if (!rd.err && fn) fn(arg, topic, p, off, le, ts, (const uint8_t *)meta.ptr, (size_t)meta.len);
        free(topic);
    }
    if (rd.err || sa_rd_left(&rd)) {
        free(*txid);
        free(*group);
        *txid = *group = NULL;
        return SA_ERR_CORRUPT;
    }
    return SA_OK;
}

/* ---- apply --------------------------------------------------------------------------------------- */

static sa_err_t apply_state(sa_tcoord_t *tc, const uint8_t *payload, size_t len) {
    state_rec_t r;
    sa_err_t err = decode_state(payload, len, &r);
    if (err) return err;
    txn_t *t = txn_get(tc, r.t.id);
    if (r.t.state == SA_TXN_DEAD) {
        if (t) txn_remove(tc, t);
        state_free(&r);
        return SA_OK;
    }
    if (!t) t = txn_get_or_add(tc, r.t.id);
    sa_txn_state_t was = t->state;
    t->pid = r.t.pid;
    t->prev_pid = r.t.prev_pid;
    t->next_pid = r.t.next_pid;
    t->epoch = r.t.epoch;
    t->last_epoch = r.t.last_epoch;
    t->timeout_ms = r.t.timeout_ms;
    t->state = r.t.state;
    t->tv2 = r.t.tv2;
    t->start_ms = r.t.start_ms;
    t->update_ms = r.t.update_ms;
    /* Swap in the record's partitions and groups. */
    txn_clear_parts(t);
    free(t->parts);
    t->parts = r.t.parts;
    t->nparts = r.t.nparts;
    t->parts_cap = r.t.parts_cap;
    r.t.parts = NULL;
    r.t.nparts = 0;
    for (size_t i = 0; i < t->ngroups; i++) free(t->groups[i]);
    free(t->groups);
    t->groups = r.t.groups;
    t->ngroups = r.t.ngroups;
    t->groups_cap = r.t.groups_cap;
    r.t.groups = NULL;
    r.t.ngroups = 0;
    if (t->state == SA_TXN_PREPARE_COMMIT && was == SA_TXN_ONGOING) txn_materialize_offsets(tc, t);
    if (t->state != SA_TXN_ONGOING) txn_clear_offsets(t);
    state_free(&r);
    return SA_OK;
}

typedef struct put_ctx_s {
    txn_t *t;
    const char *group;
} put_ctx_t;

static void put_one(void *arg, const char *topic, int32_t partition, int64_t offset, int32_t leader_epoch,
                    int64_t commit_ms, const uint8_t *meta, size_t meta_len) {
    put_ctx_t *ctx = arg;
    txn_put_offset(ctx->t, ctx->group, topic, partition, offset, leader_epoch, meta, meta_len, commit_ms);
}

static sa_err_t apply_offsets(sa_tcoord_t *tc, const uint8_t *payload, size_t len) {
    char *txid, *group;
    int64_t pid;
    int16_t epoch;
    int32_t n;
    sa_err_t err = walk_offsets(payload, len, &txid, &pid, &epoch, &group, &n, NULL, NULL);
    if (err) return err;
    txn_t *t = txn_get(tc, txid);
    if (t && t->state == SA_TXN_ONGOING && t->pid == pid && t->epoch == epoch) {
        /* Second pass, now that the header checked out: the offsets themselves. */
        put_ctx_t ctx = {t, group};
        char *txid2, *group2;
        walk_offsets(payload, len, &txid2, &pid, &epoch, &group2, &n, put_one, &ctx);
        free(txid2);
        free(group2);
    }
    free(txid);
    free(group);
    return SA_OK;
}

sa_err_t sa_tcoord_apply(sa_tcoord_t *tc, uint8_t kind, const uint8_t *payload, size_t len) {
    switch (kind) {
    case SA_META_TXN_STATE: return apply_state(tc, payload, len);
    case SA_META_TXN_OFFSETS: return apply_offsets(tc, payload, len);
    default: return SA_ERR_CORRUPT;
    }
}

/* ---- appending ----------------------------------------------------------------------------------- */

static sa_err_t append(sa_tcoord_t *tc, uint8_t kind) {
    uint64_t seq = 0;
    sa_err_t err = SA_OK;
    if (tc->scratch.len + 1 > SA_METALOG_RECORD_MAX) return SA_ERR_TOOBIG;
    if (tc->log) err = sa_metalog_append(tc->log, kind, tc->scratch.data, tc->scratch.len, &seq);
    if (err) return err == SA_ERR_TOOBIG ? err : SA_ERR_KAFKA_STORAGE_ERROR;
    if (seq) tc->last_seq = seq;
    err = sa_tcoord_apply(tc, kind, tc->scratch.data, tc->scratch.len);
    assert(err == SA_OK); /* we encoded it: it parses */
    return SA_OK;
}

sa_err_t txn_log_state(sa_tcoord_t *tc, const txn_t *t) {
    sa_buf_reset(&tc->scratch);
    encode_state(&tc->scratch, t);
    return append(tc, SA_META_TXN_STATE);
}

sa_err_t txn_log_offsets(sa_tcoord_t *tc, const char *txid, int64_t pid, int16_t epoch, const char *group,
                         const sa_txn_offset_t *offs, size_t n, int64_t now_ms) {
    sa_buf_t *b = &tc->scratch;
    sa_buf_reset(b);
    put_str(b, txid, strlen(txid));
    sa_wr_i64(b, pid);
    sa_wr_i16(b, epoch);
    put_str(b, group, strlen(group));
    sa_wr_i32(b, (int32_t)n);
    for (size_t i = 0; i < n; i++) {
        put_str(b, offs[i].topic, strlen(offs[i].topic));
        sa_wr_i32(b, offs[i].partition);
        sa_wr_i64(b, offs[i].offset);
        sa_wr_i32(b, offs[i].leader_epoch);
        sa_wr_i64(b, now_ms);
        put_str(b, offs[i].metadata ? offs[i].metadata : "", offs[i].metadata ? offs[i].metadata_len : 0);
    }
    return append(tc, SA_META_TXN_OFFSETS);
}

/* ---- compaction and the dumper -------------------------------------------------------------------- */

uint64_t sa_tcoord_live(const sa_tcoord_t *tc) {
    uint64_t n = 0;
    size_t pos = 0;
    for (const txn_t *t; (t = sa_hmap_next(&tc->txns, &pos, NULL, NULL));) {
        n++;
        n += t->noffsets ? t->ngroups : 0; /* at most one per group */
    }
    return n;
}

void sa_tcoord_snapshot(const sa_tcoord_t *tc, sa_metalog_writer_t *w) {
    sa_buf_t b = SA_BUF_INIT(0);
    size_t pos = 0;
    for (const txn_t *t; (t = sa_hmap_next(&tc->txns, &pos, NULL, NULL));) {
        sa_buf_reset(&b);
        encode_state(&b, t);
        sa_metalog_put(w, SA_META_TXN_STATE, b.data, b.len);
        for (size_t g = 0; t->noffsets && g < t->ngroups; g++) {
            sa_buf_reset(&b);
            if (encode_pending(&b, t, t->groups[g])) sa_metalog_put(w, SA_META_TXN_OFFSETS, b.data, b.len);
        }
    }
    sa_buf_free(&b);
}

typedef struct desc_ctx_s {
    sa_buf_t *out;
    int first;
} desc_ctx_t;

static void describe_one(void *arg, const char *topic, int32_t partition, int64_t offset,
                         int32_t leader_epoch, int64_t commit_ms, const uint8_t *meta, size_t meta_len) {
    desc_ctx_t *ctx = arg;
    sa_buf_append_str(ctx->out, ctx->first ? "" : ",");
    ctx->first = 0;
    sa_buf_append_str(ctx->out, "{\"topic\":");
    sa_metastore_json_str(ctx->out, topic, strlen(topic));
    sa_buf_printf(ctx->out,
                  ",\"partition\":%" PRId32 ",\"offset\":%" PRId64 ",\"leader_epoch\":%" PRId32
                  ",\"commit_time\":%" PRId64 ",\"metadata\":",
                  partition, offset, leader_epoch, commit_ms);
    sa_metastore_json_str(ctx->out, meta, meta_len);
    sa_buf_putc(ctx->out, '}');
}

sa_err_t sa_tcoord_describe_record(uint8_t kind, const uint8_t *payload, size_t len, sa_buf_t *out) {
    if (kind == SA_META_TXN_STATE) {
        state_rec_t r;
        sa_err_t err = decode_state(payload, len, &r);
        if (err) return err;
        const txn_t *t = &r.t;
        sa_buf_append_str(out, "\"transactional_id\":");
        sa_metastore_json_str(out, t->id, strlen(t->id));
        sa_buf_printf(out,
                      ",\"producer_id\":%" PRId64 ",\"producer_epoch\":%d,\"previous_producer_id\":%" PRId64
                      ",\"next_producer_id\":%" PRId64 ",\"last_producer_epoch\":%d,\"timeout_ms\":%" PRId32
                      ",\"state\":\"%s\",\"epoch_per_transaction\":%s,\"start_time\":%" PRId64
                      ",\"update_time\":%" PRId64 ",\"partitions\":[",
                      t->pid, t->epoch, t->prev_pid, t->next_pid, t->last_epoch, t->timeout_ms,
                      sa_txn_state_name(t->state), t->tv2 ? "true" : "false", t->start_ms, t->update_ms);
        for (size_t i = 0; i < t->nparts; i++) {
            sa_buf_append_str(out, i ? ",{\"topic\":" : "{\"topic\":");
            sa_metastore_json_str(out, t->parts[i].topic, strlen(t->parts[i].topic));
            sa_buf_printf(out, ",\"partition\":%" PRId32 "}", t->parts[i].partition);
        }
        sa_buf_append_str(out, "],\"groups\":[");
        for (size_t i = 0; i < t->ngroups; i++) {
            if (i) sa_buf_putc(out, ',');
            sa_metastore_json_str(out, t->groups[i], strlen(t->groups[i]));
        }
        sa_buf_putc(out, ']');
        state_free(&r);
        return SA_OK;
    }
    if (kind != SA_META_TXN_OFFSETS) return SA_ERR_CORRUPT;
    char *txid, *group;
    int64_t pid;
    int16_t epoch;
    int32_t n;
    sa_err_t err = walk_offsets(payload, len, &txid, &pid, &epoch, &group, &n, NULL, NULL);
    if (err) return err;
    sa_buf_append_str(out, "\"transactional_id\":");
    sa_metastore_json_str(out, txid, strlen(txid));
    sa_buf_printf(out, ",\"producer_id\":%" PRId64 ",\"producer_epoch\":%d,\"group\":", pid, epoch);
    sa_metastore_json_str(out, group, strlen(group));
    sa_buf_append_str(out, ",\"offsets\":[");
    desc_ctx_t ctx = {out, 1};
    char *txid2, *group2;
    walk_offsets(payload, len, &txid2, &pid, &epoch, &group2, &n, describe_one, &ctx);
    sa_buf_putc(out, ']');
    free(txid);
    free(group);
    free(txid2);
    free(group2);
    return SA_OK;
}
