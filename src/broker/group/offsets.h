/*
 * offsets.h - committed consumer offsets, durable.
 *
 * Every commit is held in memory (group -> topic+partition -> entry) and appended to an
 * append-only log, DIR/offsets.log. Appends are plain write()s; sa_offsets_sync() makes them
 * durable with one fdatasync, and the broker calls it once per loop turn (its group commit)
 * before it releases the OffsetCommit responses of that turn, so an acknowledged commit survives
 * kill -9 and power loss, at the cost of one fsync per turn rather than one per commit.
 *
 * At open the log is replayed; a torn or corrupt tail (short frame, bad CRC) is truncated at the
 * first bad byte. When the log holds more than twice the live entries (and at least 1 MiB), the
 * sync rewrites it compactly (temp file, fsync, rename, fsync dir), so it never grows without
 * bound under repeated commits to the same partitions.
 *
 * The record format is documented in offsets.c.
 *
 * @locality single-threaded (the broker's loop).
 */
#ifndef SA_BROKER_GROUP_OFFSETS_H
#define SA_BROKER_GROUP_OFFSETS_H

#include <stddef.h>
#include <stdint.h>

#include "core/err.h"

typedef struct sa_offsets_s sa_offsets_t;

/** One committed offset. */
typedef struct sa_offset_entry_s {
    int64_t offset;       /* the next offset to consume */
    int32_t leader_epoch; /* -1 if not given */
    int64_t commit_ts_ms; /* wall-clock time of the commit */
    const char *metadata; /* NUL-terminated, never NULL; valid until the entry changes */
} sa_offset_entry_t;

/** Largest metadata string kept (Kafka's offset.metadata.max.bytes default). */
#define SA_OFFSETS_METADATA_MAX 4096

/**
 * Open (create) DIR/offsets.log and replay it. @p dir must exist.
 * @returns SA_OK with *out new (sa_offsets_close), or SA_ERR_IO with errstr; *out NULL then.
 */
sa_err_t sa_offsets_open(const char *dir, sa_offsets_t **out, char *errstr, size_t errstr_size);
/** Sync what is pending, close and free. NULL is fine. */
void sa_offsets_close(sa_offsets_t *offs);

/**
 * Record a commit (visible at once, durable after the next sa_offsets_sync()).
 * @p metadata may be NULL (""). @returns SA_OK, OFFSET_METADATA_TOO_LARGE, or
 * KAFKA_STORAGE_ERROR if the append failed (nothing changed then).
 */
sa_err_t sa_offsets_commit(sa_offsets_t *offs, const char *group, const char *topic, int32_t partition,
                           int64_t offset, int32_t leader_epoch, const char *metadata, int64_t commit_ts_ms);

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
/** Delete every offset of @p group (DeleteGroups). @returns SA_OK or KAFKA_STORAGE_ERROR. */
sa_err_t sa_offsets_delete_group(sa_offsets_t *offs, const char *group);
/** Delete the offsets of @p group committed before @p before_ms (retention). @returns how many. */
size_t sa_offsets_expire(sa_offsets_t *offs, const char *group, int64_t before_ms);

/** Largest membership record kept (a group that large is not persisted; see group_persist.c). */
#define SA_OFFSETS_GROUP_META_MAX (512u * 1024)

/**
 * Store @p blob (@p len bytes, borrowed) as @p group's membership record, replacing the previous
 * one; @p len 0 removes it. Durable with the next sa_offsets_sync(); deleted with the group
 * (sa_offsets_delete_group). @returns SA_OK, SA_ERR_TOOBIG, KAFKA_STORAGE_ERROR.
 */
sa_err_t sa_offsets_put_group_meta(sa_offsets_t *offs, const char *group, const void *blob, size_t len);
/** @returns @p group's membership record (valid until it changes) and its length in *len, or NULL. */
const uint8_t *sa_offsets_group_meta(const sa_offsets_t *offs, const char *group, size_t *len);

/** @returns 1 if appends wait for sa_offsets_sync(). */
int sa_offsets_dirty(const sa_offsets_t *offs);
/**
 * fdatasync the log if dirty, then compact it if it has grown. @returns SA_OK or
 * KAFKA_STORAGE_ERROR (the commits of this turn must then be answered with that error).
 */
sa_err_t sa_offsets_sync(sa_offsets_t *offs);

/** Statistics for logs and tests. */
typedef struct sa_offsets_stats_s {
    uint64_t records;     /* records in the log file now */
    uint64_t live;        /* offsets held */
    uint64_t bytes;       /* log file size */
    uint64_t syncs;       /* fdatasyncs done */
    uint64_t compactions; /* rewrites done */
    uint64_t truncated;   /* bytes cut from a torn tail at open */
} sa_offsets_stats_t;
void sa_offsets_stats(const sa_offsets_t *offs, sa_offsets_stats_t *out);

#endif
