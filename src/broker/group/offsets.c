/*
 * offsets.c - committed offsets and membership records: an in-memory map, persisted as records
 * of the metadata log (kinds 1-4 of broker/metastore.h).
 *
 * Payloads (all integers big-endian; str16 = u16 length + that many bytes, no terminator). Every
 * kind starts with the same key, so replay and the dumper read it one way:
 *
 *   key, all kinds:   str16 group, str16 topic, i32 partition
 *                     (kinds 3 and 4 concern the whole group: topic "" and partition -1)
 *   1 offset_commit:  key, i64 offset, i32 leader epoch (-1 = none), i64 commit time (wall ms),
 *                     str16 metadata (any bytes, NUL included; <= SA_OFFSETS_METADATA_MAX)
 *   2 offset_delete:  key
 *   3 group_delete:   key (every offset and the membership record of the group go)
 *   4 group_membership: key, u32 length, that many bytes: the record of group_persist.c
 *                     (length 0 removes it)
 *
 * These are the record bodies of the offsets log of earlier versions (coordinator/offsets.log)
 * without their leading type byte, which was the kind: broker/metastore.c migrates that file by
 * feeding its bodies to sa_offsets_apply().
 *
 * Invariants:
 *   1. Memory equals the replay of the metadata log (a failed append changes neither; a failed
 *      sync resets and replays, see storage/metalog.h).
 *   2. st.live is the number of entries over all groups; st.metas the number of groups with a
 *      membership record; a group is in the map iff it has an entry or a membership record.
 */
#include "broker/group/offsets.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "broker/metastore.h"
#include "core/check.h"
#include "core/log.h"
#include "core/hash.h"
#include "core/mem.h"

typedef struct oentry_s {
    char *topic; /* owned: "topic\0" + BE32 partition, the entry's key in its group's parts */
    int32_t partition;
    int64_t offset;
    int32_t leader_epoch;
    int64_t commit_ts_ms;
    uint8_t *metadata; /* owned, never NULL (1 byte allocated for an empty one) */
    size_t metadata_len;
} oentry_t;

typedef struct ogroup_s {
    char *id;        /* owned: the group's key in offs->groups */
    sa_hmap_t parts; /* "topic\0" + BE32 partition (the entry's own) -> oentry_t */
    uint8_t *meta;   /* owned: the membership record, NULL if none */
    size_t meta_len;
} ogroup_t;

struct sa_offsets_s {
    sa_metalog_t *log; /* borrowed: where changes are appended (NULL: memory only) */
    sa_hmap_t groups;  /* group id (the group's own) -> ogroup_t */
    sa_offsets_stats_t st;
    sa_buf_t scratch; /* one payload being encoded */
};

/* ---- in-memory map ----------------------------------------------------------------------- */

static size_t part_key(char *key, size_t size, const char *topic, int32_t partition) {
    size_t tlen = strlen(topic);
    if (tlen + 5 > size) tlen = size - 5; /* topics are <= 249 bytes; the key buffer is larger */
    memcpy(key, topic, tlen);
    key[tlen] = '\0';
    sa_store_be32((uint8_t *)key + tlen + 1, (uint32_t)partition);
    return tlen + 5;
}

static void entry_free(oentry_t *ent) {
    free(ent->topic);
    free(ent->metadata);
    free(ent);
}

static void group_free(ogroup_t *grp) {
    oentry_t *ent;
    for (size_t pos = 0; (ent = sa_hmap_next(&grp->parts, &pos, NULL, NULL));) entry_free(ent);
    sa_hmap_free(&grp->parts);
    free(grp->id);
    free(grp->meta);
    free(grp);
}

static ogroup_t *group_get_or_add(sa_offsets_t *offs, const char *group) {
    ogroup_t *grp = sa_hmap_gets(&offs->groups, group);
    if (!grp) {
        grp = sa_new(ogroup_t);
        grp->id = sa_strdup(group);
        sa_hmap_puts(&offs->groups, grp->id, grp);
    }
    return grp;
}

/* Remove @p group from the map if it holds nothing any more (invariant 2). */
static void group_drop_if_empty(sa_offsets_t *offs, const char *group, ogroup_t *grp) {
    if (!grp->parts.count && !grp->meta) group_free(sa_hmap_dels(&offs->groups, group));
}

static void mem_commit(sa_offsets_t *offs, const char *group, const char *topic, int32_t partition,
                       int64_t offset, int32_t leader_epoch, int64_t ts, const uint8_t *metadata,
                       size_t mlen) {
    ogroup_t *grp = group_get_or_add(offs, group);
    char key[32800];
    size_t klen = part_key(key, sizeof(key), topic, partition);
    oentry_t *ent = sa_hmap_get(&grp->parts, key, klen);
    if (!ent) {
        ent = sa_new(oentry_t);
        ent->topic = sa_malloc(klen);
        memcpy(ent->topic, key, klen);
        ent->partition = partition;
        sa_hmap_put(&grp->parts, ent->topic, klen, ent);
        offs->st.live++;
    } else {
        free(ent->metadata);
    }
    ent->offset = offset;
    ent->leader_epoch = leader_epoch;
    ent->commit_ts_ms = ts;
    ent->metadata = sa_malloc(mlen ? mlen : 1);
    if (mlen) memcpy(ent->metadata, metadata, mlen);
    ent->metadata_len = mlen;
}

static void mem_delete(sa_offsets_t *offs, const char *group, const char *topic, int32_t partition) {
    ogroup_t *grp = sa_hmap_gets(&offs->groups, group);
    if (!grp) return;
    char key[32800];
    size_t klen = part_key(key, sizeof(key), topic, partition);
    oentry_t *ent = sa_hmap_del(&grp->parts, key, klen);
    if (ent) {
        entry_free(ent);
        offs->st.live--;
    }
    group_drop_if_empty(offs, group, grp);
}

static void mem_put_meta(sa_offsets_t *offs, const char *group, const uint8_t *blob, size_t len) {
    ogroup_t *grp = sa_hmap_gets(&offs->groups, group);
    if (!grp && !len) return;
    if (!grp) grp = group_get_or_add(offs, group);
    if (grp->meta) offs->st.metas--;
    free(grp->meta);
    grp->meta = NULL;
    grp->meta_len = 0;
    if (len) {
        grp->meta = sa_malloc(len);
        memcpy(grp->meta, blob, len);
        grp->meta_len = len;
        offs->st.metas++;
    }
    group_drop_if_empty(offs, group, grp);
}

static void mem_delete_group(sa_offsets_t *offs, const char *group) {
    ogroup_t *grp = sa_hmap_dels(&offs->groups, group);
    if (!grp) return;
    offs->st.live -= grp->parts.count;
    if (grp->meta) offs->st.metas--;
    group_free(grp);
}

static void check_offsets(const sa_offsets_t *offs) {
    assert(offs->st.metas <= offs->groups.count);
    SA_DEBUG_CHECK({
        uint64_t live = 0, metas = 0;
        const ogroup_t *grp;
        for (size_t pos = 0; (grp = sa_hmap_next(&offs->groups, &pos, NULL, NULL));) {
            assert(grp->parts.count || grp->meta);
            live += grp->parts.count;
            metas += grp->meta != NULL;
        }
        assert(live == offs->st.live && metas == offs->st.metas);
    });
}

/* ---- payloads ---------------------------------------------------------------------------- */

static void put_str16(sa_buf_t *buf, const void *s, size_t len) {
    sa_buf_put_be16(buf, (uint16_t)len);
    sa_buf_append(buf, s, len);
}

/* The key every kind starts with. */
static void put_key(sa_buf_t *buf, const char *group, const char *topic, int32_t partition) {
    put_str16(buf, group, strlen(group));
    put_str16(buf, topic, strlen(topic));
    sa_buf_put_be32(buf, (uint32_t)partition);
}

/* A bounds-checked reader over one payload. */
typedef struct rd_s {
    const uint8_t *p, *end;
    int bad;
} rd_t;

static uint64_t rd_n(rd_t *rd, size_t n) {
    if (rd->bad || (size_t)(rd->end - rd->p) < n) {
        rd->bad = 1;
        return 0;
    }
    uint64_t v = 0;
    for (size_t i = 0; i < n; i++) v = (v << 8) | rd->p[i];
    rd->p += n;
    return v;
}

/* @returns a view of @p *len bytes (u16 length prefix), or NULL when the payload is short. */
static const uint8_t *rd_bytes(rd_t *rd, size_t lenbytes, size_t *len) {
    *len = (size_t)rd_n(rd, lenbytes);
    if (rd->bad || (size_t)(rd->end - rd->p) < *len) {
        rd->bad = 1;
        *len = 0;
        return NULL;
    }
    const uint8_t *s = rd->p;
    rd->p += *len;
    return s;
}

/* A decoded payload; strings are new (free with rec_free). */
typedef struct rec_s {
    char *group, *topic;
    int32_t partition;
    int64_t offset, ts;
    int32_t epoch;
    const uint8_t *blob; /* metadata (kind 1) or membership record (kind 4): a view into the payload */
    size_t blob_len;
} rec_t;

static void rec_free(rec_t *r) {
    free(r->group);
    free(r->topic);
}

/* Decode @p payload of @p kind. @returns SA_OK or SA_ERR_CORRUPT (then *r holds nothing). */
static sa_err_t decode(uint8_t kind, const uint8_t *payload, size_t len, rec_t *r) {
    rd_t rd = {payload, payload + len, 0};
    size_t glen, tlen;
    memset(r, 0, sizeof(*r));
    const uint8_t *g = rd_bytes(&rd, 2, &glen), *t = rd_bytes(&rd, 2, &tlen);
    r->partition = (int32_t)rd_n(&rd, 4);
    switch (kind) {
    case SA_META_OFFSET_COMMIT:
        r->offset = (int64_t)rd_n(&rd, 8);
        r->epoch = (int32_t)rd_n(&rd, 4);
        r->ts = (int64_t)rd_n(&rd, 8);
        r->blob = rd_bytes(&rd, 2, &r->blob_len);
        if (r->blob_len > SA_OFFSETS_METADATA_MAX) rd.bad = 1;
        break;
    case SA_META_GROUP_MEMBERSHIP:
        r->blob = rd_bytes(&rd, 4, &r->blob_len);
        if (r->blob_len > SA_OFFSETS_GROUP_META_MAX) rd.bad = 1;
        break;
    case SA_META_OFFSET_DELETE:
    case SA_META_GROUP_DELETE: break;
    default: return SA_ERR_CORRUPT;
    }
    /* group and topic are C strings in memory: a NUL inside would alias another name */
    if (rd.bad || rd.p != rd.end || !glen || memchr(g, 0, glen) || memchr(t, 0, tlen)) return SA_ERR_CORRUPT;
    r->group = sa_strndup((const char *)g, glen);
    r->topic = sa_strndup((const char *)t, tlen);
    return SA_OK;
}

sa_err_t sa_offsets_apply(sa_offsets_t *offs, uint8_t kind, const uint8_t *payload, size_t len) {
    rec_t r;
    sa_err_t err = decode(kind, payload, len, &r);
    if (err) return err;
    switch (kind) {
    case SA_META_OFFSET_COMMIT:
        mem_commit(offs, r.group, r.topic, r.partition, r.offset, r.epoch, r.ts, r.blob, r.blob_len);
        break;
    case SA_META_OFFSET_DELETE: mem_delete(offs, r.group, r.topic, r.partition); break;
    case SA_META_GROUP_DELETE: mem_delete_group(offs, r.group); break;
    case SA_META_GROUP_MEMBERSHIP: mem_put_meta(offs, r.group, r.blob, r.blob_len); break;
    default: break;
    }
    rec_free(&r);
    return SA_OK;
}

/* Append one record built in offs->scratch and apply it. On failure nothing changed. */
static sa_err_t append(sa_offsets_t *offs, uint8_t kind) {
    sa_err_t err = SA_OK;
    if (offs->log) err = sa_metalog_append(offs->log, kind, offs->scratch.data, offs->scratch.len, NULL);
    if (err) return err;
    err = sa_offsets_apply(offs, kind, offs->scratch.data, offs->scratch.len);
    assert(err == SA_OK); /* we encoded it: it parses */
    check_offsets(offs);
    return err;
}

/* ---- public operations ------------------------------------------------------------------- */

sa_offsets_t *sa_offsets_new(sa_metalog_t *log) {
    sa_offsets_t *offs = sa_new(sa_offsets_t);
    offs->log = log;
    return offs;
}

void sa_offsets_reset(sa_offsets_t *offs) {
    ogroup_t *grp;
    for (size_t pos = 0; (grp = sa_hmap_next(&offs->groups, &pos, NULL, NULL));) group_free(grp);
    sa_hmap_free(&offs->groups);
    memset(&offs->st, 0, sizeof(offs->st));
}

void sa_offsets_free(sa_offsets_t *offs) {
    if (!offs) return;
    sa_offsets_reset(offs);
    sa_buf_free(&offs->scratch);
    free(offs);
}

sa_err_t sa_offsets_commit(sa_offsets_t *offs, const char *group, const char *topic, int32_t partition,
                           int64_t offset, int32_t leader_epoch, const void *metadata, size_t metadata_len,
                           int64_t commit_ts_ms) {
    if (metadata_len > SA_OFFSETS_METADATA_MAX) return SA_ERR_OFFSET_METADATA_TOO_LARGE;
    if (strlen(group) > 0xffff || strlen(topic) > 0xffff) return SA_ERR_INVALID_REQUEST;
    sa_buf_t *b = &offs->scratch;
    sa_buf_reset(b);
    put_key(b, group, topic, partition);
    sa_buf_put_be64(b, (uint64_t)offset);
    sa_buf_put_be32(b, (uint32_t)leader_epoch);
    sa_buf_put_be64(b, (uint64_t)commit_ts_ms);
    put_str16(b, metadata ? metadata : "", metadata ? metadata_len : 0);
    return append(offs, SA_META_OFFSET_COMMIT);
}

void sa_offsets_put_mem(sa_offsets_t *offs, const char *group, const char *topic, int32_t partition,
                        int64_t offset, int32_t leader_epoch, const void *metadata, size_t metadata_len,
                        int64_t commit_ts_ms) {
    mem_commit(offs, group, topic, partition, offset, leader_epoch, commit_ts_ms, metadata, metadata_len);
    check_offsets(offs);
}

int sa_offsets_get(const sa_offsets_t *offs, const char *group, const char *topic, int32_t partition,
                   sa_offset_entry_t *out) {
    ogroup_t *grp = sa_hmap_gets(&offs->groups, group);
    if (!grp) return 0;
    char key[32800];
    size_t klen = part_key(key, sizeof(key), topic, partition);
    oentry_t *ent = sa_hmap_get(&grp->parts, key, klen);
    if (!ent) return 0;
    *out = (sa_offset_entry_t){ent->offset, ent->leader_epoch, ent->commit_ts_ms, ent->metadata,
                               ent->metadata_len};
    return 1;
}

void sa_offsets_foreach(const sa_offsets_t *offs, const char *group, sa_offsets_visit_fn *fn, void *arg) {
    ogroup_t *grp = sa_hmap_gets(&offs->groups, group);
    if (!grp) return;
    oentry_t *ent;
    for (size_t pos = 0; (ent = sa_hmap_next(&grp->parts, &pos, NULL, NULL));) {
        sa_offset_entry_t view = {ent->offset, ent->leader_epoch, ent->commit_ts_ms, ent->metadata,
                                  ent->metadata_len};
        fn(arg, ent->topic, ent->partition, &view);
    }
}

void sa_offsets_foreach_group(const sa_offsets_t *offs, void (*fn)(void *arg, const char *group), void *arg) {
    const ogroup_t *grp;
    for (size_t pos = 0; (grp = sa_hmap_next(&offs->groups, &pos, NULL, NULL));) fn(arg, grp->id);
}

size_t sa_offsets_count(const sa_offsets_t *offs, const char *group) {
    ogroup_t *grp = sa_hmap_gets(&offs->groups, group);
    return grp ? grp->parts.count : 0;
}

sa_err_t sa_offsets_delete(sa_offsets_t *offs, const char *group, const char *topic, int32_t partition) {
    sa_offset_entry_t ent;
    if (!sa_offsets_get(offs, group, topic, partition, &ent)) return SA_OK;
    sa_buf_reset(&offs->scratch);
    put_key(&offs->scratch, group, topic, partition);
    return append(offs, SA_META_OFFSET_DELETE);
}

sa_err_t sa_offsets_delete_group(sa_offsets_t *offs, const char *group) {
    if (!sa_hmap_gets(&offs->groups, group)) return SA_OK; /* neither offsets nor membership */
    sa_buf_reset(&offs->scratch);
    put_key(&offs->scratch, group, "", -1);
    return append(offs, SA_META_GROUP_DELETE);
}

size_t sa_offsets_expire(sa_offsets_t *offs, const char *group, int64_t before_ms) {
    ogroup_t *grp = sa_hmap_gets(&offs->groups, group);
    if (!grp) return 0;
    /* collect first: deleting while iterating would invalidate the iterator */
    size_t n = 0, cap = grp->parts.count;
    oentry_t **victims = sa_calloc(cap ? cap : 1, sizeof(*victims));
    oentry_t *ent;
    for (size_t pos = 0; (ent = sa_hmap_next(&grp->parts, &pos, NULL, NULL));) {
        if (ent->commit_ts_ms < before_ms) victims[n++] = ent;
    }
    size_t done = 0;
    if (n && n == cap && !grp->meta) {
        done = sa_offsets_delete_group(offs, group) ? 0 : n;
    } else {
        for (size_t i = 0; i < n; i++) {
            char *topic = sa_strdup(victims[i]->topic); /* the entry is freed by the delete */
            if (!sa_offsets_delete(offs, group, topic, victims[i]->partition)) done++;
            free(topic);
        }
    }
    free(victims);
    return done;
}

sa_err_t sa_offsets_put_group_meta(sa_offsets_t *offs, const char *group, const void *blob, size_t len) {
    if (len > SA_OFFSETS_GROUP_META_MAX) return SA_ERR_TOOBIG;
    ogroup_t *grp = sa_hmap_gets(&offs->groups, group);
    if (!len && (!grp || !grp->meta)) return SA_OK;
    if (grp && grp->meta && grp->meta_len == len && !memcmp(grp->meta, blob, len))
        return SA_OK; /* unchanged */
    sa_buf_t *b = &offs->scratch;
    sa_buf_reset(b);
    put_key(b, group, "", -1);
    sa_buf_put_be32(b, (uint32_t)len);
    sa_buf_append(b, blob, len);
    return append(offs, SA_META_GROUP_MEMBERSHIP);
}

const uint8_t *sa_offsets_group_meta(const sa_offsets_t *offs, const char *group, size_t *len) {
    ogroup_t *grp = sa_hmap_gets(&offs->groups, group);
    *len = grp && grp->meta ? grp->meta_len : 0;
    return grp ? grp->meta : NULL;
}

/* ---- compaction and the dumper ----------------------------------------------------------- */

uint64_t sa_offsets_live(const sa_offsets_t *offs) { return offs->st.live + offs->st.metas; }

void sa_offsets_snapshot(const sa_offsets_t *offs, sa_metalog_writer_t *w) {
    sa_buf_t b = SA_BUF_INIT(0);
    const ogroup_t *grp;
    for (size_t gpos = 0; (grp = sa_hmap_next(&offs->groups, &gpos, NULL, NULL));) {
        const oentry_t *ent;
        for (size_t pos = 0; (ent = sa_hmap_next(&grp->parts, &pos, NULL, NULL));) {
            sa_buf_reset(&b);
            put_key(&b, grp->id, ent->topic, ent->partition);
            sa_buf_put_be64(&b, (uint64_t)ent->offset);
            sa_buf_put_be32(&b, (uint32_t)ent->leader_epoch);
            sa_buf_put_be64(&b, (uint64_t)ent->commit_ts_ms);
            put_str16(&b, ent->metadata, ent->metadata_len);
            sa_metalog_put(w, SA_META_OFFSET_COMMIT, b.data, b.len);
        }
        if (grp->meta) {
            sa_buf_reset(&b);
            put_key(&b, grp->id, "", -1);
            sa_buf_put_be32(&b, (uint32_t)grp->meta_len);
            sa_buf_append(&b, grp->meta, grp->meta_len);
            sa_metalog_put(w, SA_META_GROUP_MEMBERSHIP, b.data, b.len);
        }
    }
    sa_buf_free(&b);
}

sa_err_t sa_offsets_describe(uint8_t kind, const uint8_t *payload, size_t len, sa_buf_t *out) {
    rec_t r;
    sa_err_t err = decode(kind, payload, len, &r);
    if (err) return err;
    sa_buf_append_str(out, "\"group\":");
    sa_metastore_json_str(out, r.group, strlen(r.group));
    if (kind == SA_META_OFFSET_COMMIT || kind == SA_META_OFFSET_DELETE) {
        sa_buf_append_str(out, ",\"topic\":");
        sa_metastore_json_str(out, r.topic, strlen(r.topic));
        sa_buf_printf(out, ",\"partition\":%" PRId32, r.partition);
    }
    if (kind == SA_META_OFFSET_COMMIT) {
        sa_buf_printf(out,
                      ",\"offset\":%" PRId64 ",\"leader_epoch\":%" PRId32 ",\"commit_time\":%" PRId64
                      ",\"metadata\":",
                      r.offset, r.epoch, r.ts);
        sa_metastore_json_str(out, r.blob, r.blob_len);
    }
    if (kind == SA_META_GROUP_MEMBERSHIP) sa_buf_printf(out, ",\"record_bytes\":%zu", r.blob_len);
    rec_free(&r);
    return SA_OK;
}

void sa_offsets_stats(const sa_offsets_t *offs, sa_offsets_stats_t *out) {
    *out = offs->st;
    out->groups = offs->groups.count;
}
