/*
 * offsets.h - committed consumer offsets and group membership records, kept in memory and
 * persisted as records of the broker's metadata log (storage/metalog.h, broker/metastore.h).
 *
 * Every change is appended to the metadata log first and applied to memory only if the append
 * succeeded, so memory always equals the replay of the log (metalog.h explains how a failed sync
 * restores that by cutting the log back and replaying it). Nothing here syncs: a record becomes
 * durable with the store's next group commit, and a caller that must answer only once it is
 * durable (OffsetCommit, OffsetDelete, DeleteGroups) waits for that commit and then asks
 * sa_metalog_durable() about sa_metalog_last_seq() taken after its appends.
 *
 * The payload of each record kind is documented byte by byte in offsets.c.
 *
 * @locality single-threaded (the broker's loop).
 */
#ifndef SA_BROKER_GROUP_OFFSETS_H
#define SA_BROKER_GROUP_OFFSETS_H

#include <stddef.h>
#include <stdint.h>

#include "core/buf.h"
#include "core/err.h"
#include "storage/metalog.h"

typedef struct sa_offsets_s sa_offsets_t;

/** One committed offset. */
typedef struct sa_offset_entry_s {
    int64_t offset;          /* the next offset to consume */
    int32_t leader_epoch;    /* -1 if not given */
    int64_t commit_ts_ms;    /* wall-clock time of the commit */
    const uint8_t *metadata; /* metadata_len bytes (any bytes, NUL included), never NULL; valid until the
                                entry changes */
    size_t metadata_len;
} sa_offset_entry_t;

/** Largest metadata kept (Kafka's offset.metadata.max.bytes default). */
#define SA_OFFSETS_METADATA_MAX   4096
/** Largest membership record kept (a group that large is not persisted; see group_persist.c). */
#define SA_OFFSETS_GROUP_META_MAX (512u * 1024)

/** @returns new: an empty store appending to @p log (borrowed; may be NULL in tests: memory only). */
sa_offsets_t *sa_offsets_new(sa_metalog_t *log);
void sa_offsets_free(sa_offsets_t *offs);

/**
 * Record a commit (visible at once, durable after the store's next group commit). @p metadata
 * (@p metadata_len bytes, borrowed; NULL = "") is kept whole.
 * @returns SA_OK, OFFSET_METADATA_TOO_LARGE, or KAFKA_STORAGE_ERROR if the append failed
 * (nothing changed then).
 */
sa_err_t sa_offsets_commit(sa_offsets_t *offs, const char *group, const char *topic, int32_t partition,
                           int64_t offset, int32_t leader_epoch, const void *metadata, size_t metadata_len,
                           int64_t commit_ts_ms);

/**
 * Change memory only: @p group's committed offset becomes this, as if an offset_commit record had
 * been replayed. For another owner of the metadata log whose record implies commits (the
 * transaction coordinator's PrepareCommit, broker/txn/txn_persist.c): memory still equals the
 * replay of the log, since replaying that record does it again; a compaction writes these offsets
 * as offset_commit records like any other.
 */
void sa_offsets_put_mem(sa_offsets_t *offs, const char *group, const char *topic, int32_t partition,
                        int64_t offset, int32_t leader_epoch, const void *metadata, size_t metadata_len,
                        int64_t commit_ts_ms);

/** @returns 1 and fills @p out if @p group has an offset for topic/partition, else 0. */
int sa_offsets_get(const sa_offsets_t *offs, const char *group, const char *topic, int32_t partition,
                   sa_offset_entry_t *out);

typedef void sa_offsets_visit_fn(void *arg, const char *topic, int32_t partition,
                                 const sa_offset_entry_t *ent);
/** Call @p fn for every offset of @p group (unspecified order). @p fn must not change the store. */
void sa_offsets_foreach(const sa_offsets_t *offs, const char *group, sa_offsets_visit_fn *fn, void *arg);

/** Call @p fn(arg, group) for every group that holds offsets or a membership record. */
void sa_offsets_foreach_group(const sa_offsets_t *offs, void (*fn)(void *arg, const char *group), void *arg);

/** @returns how many offsets @p group holds. */
size_t sa_offsets_count(const sa_offsets_t *offs, const char *group);

/** Delete one offset (OffsetDelete). @returns SA_OK (also if absent) or KAFKA_STORAGE_ERROR. */
sa_err_t sa_offsets_delete(sa_offsets_t *offs, const char *group, const char *topic, int32_t partition);
/** Delete every offset and the membership record of @p group (DeleteGroups). @returns SA_OK or
 * KAFKA_STORAGE_ERROR. */
sa_err_t sa_offsets_delete_group(sa_offsets_t *offs, const char *group);
/** Delete the offsets of @p group committed before @p before_ms (retention). @returns how many. */
size_t sa_offsets_expire(sa_offsets_t *offs, const char *group, int64_t before_ms);

/**
 * Store @p blob (@p len bytes, borrowed) as @p group's membership record, replacing the previous
 * one; @p len 0 removes it. Deleted with the group (sa_offsets_delete_group).
 * @returns SA_OK, SA_ERR_TOOBIG, KAFKA_STORAGE_ERROR.
 */
sa_err_t sa_offsets_put_group_meta(sa_offsets_t *offs, const char *group, const void *blob, size_t len);
/** @returns @p group's membership record (valid until it changes) and its length in *len, or NULL. */
const uint8_t *sa_offsets_group_meta(const sa_offsets_t *offs, const char *group, size_t *len);

/* ---- as the owner of its record kinds (broker/metastore.c) -------------------------------- */

/** Apply one record of an offsets kind. @returns SA_OK, or SA_ERR_CORRUPT if it does not parse. */
sa_err_t sa_offsets_apply(sa_offsets_t *offs, uint8_t kind, const uint8_t *payload, size_t len);
/** Forget everything (a replay follows). */
void sa_offsets_reset(sa_offsets_t *offs);
/** @returns how many records sa_offsets_snapshot() writes. */
uint64_t sa_offsets_live(const sa_offsets_t *offs);
/** Write every live offset and membership record. */
void sa_offsets_snapshot(const sa_offsets_t *offs, sa_metalog_writer_t *w);
/** Describe a record of an offsets kind as JSON object members ("group":...,"topic":...). @returns SA_OK or
 * SA_ERR_CORRUPT. */
sa_err_t sa_offsets_describe(uint8_t kind, const uint8_t *payload, size_t len, sa_buf_t *out);

/** Statistics for logs and tests. */
typedef struct sa_offsets_stats_s {
    uint64_t live;   /* offsets held */
    uint64_t groups; /* groups with offsets or a membership record */
    uint64_t metas;  /* membership records held */
} sa_offsets_stats_t;
void sa_offsets_stats(const sa_offsets_t *offs, sa_offsets_stats_t *out);

#endif
