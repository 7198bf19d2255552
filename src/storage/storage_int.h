/*
 * storage_int.h - layouts shared inside src/storage/ (never included outside it).
 *
 * Invariants:
 *  1. A partition has >= 1 segment; segments are sorted by base offset and contiguous:
 *     segs[i]->next_offset == segs[i+1]->base. The last one is the active segment.
 *  2. log_start <= hwm <= leo == active->next_offset.
 *  3. hwm sits at a batch boundary: in segment hwm_seg_base at byte hwm_pos. Every byte before it
 *     has been fdatasync'd; readers never see bytes after it.
 *  4. Every segment but the active one is fully durable (roll fdatasyncs it), so after a crash
 *     only the last segment can have a torn tail.
 *  5. Index entries point at batch starts inside [0, size).
 *  6. Transactions (txn.c): a producer has at most one transaction open in a partition (txns[],
 *     end -1); an entry whose marker was appended (end >= 0) stays until that marker is durable,
 *     so end >= hwm for every entry; first < leo. A segment's aborted[] entries have their ABORT
 *     marker inside the segment, in offset order, first <= last. Why: the last stable offset is
 *     min(hwm, first of every entry), and a marker that a failed sync cuts off must reopen its
 *     transaction (sa_txn_truncated), which only works if the entry is still there.
 *  7. The last stable offset (txn.c, sa_partition_lso): log_start <= lso <= hwm, with
 *     lso = max(log_start, min(hwm, first of every txns[] entry)), so no entry begins below it
 *     unless it was clamped to the log start (a transaction whose first batches DeleteRecords or
 *     retention removed). Why: read_committed Fetch and ListOffsets stop at the LSO, so every
 *     offset below it must belong to a decided transaction whose marker is durable (6), and an LSO
 *     below the log start would send read_committed consumers to an offset that is out of range.
 *     It is computed at each call, never cached: it costs one pass over txns[] (a few entries: one
 *     per producer with a transaction open here), and a cached value would go stale whenever a
 *     sync moves the hwm or a failed sync reopens a transaction.
 *  8. Producer state (producers.c, pstate.h): pstate has recorded every batch and marker of the log
 *     below the leo and nothing at or above it, plus the producers of deleted or compacted-away
 *     batches that a snapshot carried and expiry has not removed yet; every batch a producer has in
 *     its ring ends below the leo. Why: a retried batch is answered from the ring with its original
 *     offsets, so a ring batch past a cut tail would acknowledge records that no longer exist
 *     (sa_producers_truncated runs with every cut); the broker checks Produce requests against it
 *     without ever rebuilding it, so it must be whole from sa_partition_open on.
 *  9. snaps[] lists exactly the <offset>.snapshot files, ascending, every one <= leo, and each file
 *     was written after everything below its offset was fdatasync'd (a roll's sync, or the final
 *     sync of a clean close). Why: recovery loads the newest one and scans only the batches after
 *     it, so a snapshot past the durable log would describe batches a power loss took back. The
 *     cost measured at 788 MB of idempotent data: 0.19 s to rebuild from the log, 0 with a
 *     snapshot at the log end (docs/storage.md).
 *  Compacted topics (cleaner.c) relax 1: a cleaned segment keeps its base offset but loses
 *  records, so segs[i]->next_offset <= segs[i+1]->base and a segment's batches may have gaps
 *  between them (BaseOffset only increases). The active segment is never cleaned, so recovery's
 *  check that offsets are contiguous in the last segment stands.
 *
 * WHAT LOG COMPACTION (the cleaner) MUST PRESERVE, for transactions, and how it does:
 *   - nothing at or past the last stable offset is cleaned (its transactions are undecided):
 *     cleaner_sched.c's cleanable segments end below it;
 *   - records of an aborted transaction (a producer's batches in [first, last] of an aborted[]
 *     entry, whatever segment holds its marker) never enter the key map: an aborted value must not
 *     hide a committed one. The cleaner copies them byte for byte (Kafka removes them; keeping them
 *     keeps every aborted[] entry exact and recomputable from the batches, invariant 6);
 *   - control batches (COMMIT/ABORT markers) are copied byte for byte. Kafka drops a marker once
 *     its transaction's data is gone and its delete horizon passed; samsa never drops one yet (a
 *     marker is ~80 bytes per transaction and partition);
 *   - a cleaned segment carries the aborted[] entries of the segments it replaces (adopt, in
 *     memory) and their merged .txnindex (txn.c sa_txn_merge_index, written before the swap's
 *     commit point and renamed with it: a sealed segment that should have a .txnindex never lacks
 *     one, even after a crash inside the swap); the batches it keeps keep their
 *     ProducerId/ProducerEpoch/BaseSequence and transactional bit, so producer state and
 *     read_committed filtering rebuild the same.
 */
#ifndef SA_STORAGE_INT_H
#define SA_STORAGE_INT_H

#include <stdatomic.h>
#include <stdint.h>

#include "storage/pstate.h"
#include "storage/storage.h"

#define SA_STORE_MAX_PARTITIONS 100000

typedef struct sa_sync_pool_s sa_sync_pool_t;
typedef struct sa_metalog_s sa_metalog_t;

/* The steps of a sync job, in order; a job stops at the first that fails. */
enum { SA_SYNC_STEP_FDATASYNC = 0, SA_SYNC_STEP_RENAME = 1, SA_SYNC_STEP_FSYNC_DIR = 2 };

/* One unit of work for the sync threads: fdatasync a file and, for a compacted metadata log,
 * then rename it over the old one and fsync the directory. */
typedef struct sa_sync_job_s {
    int fd;                  /* fdatasync'd (borrowed for the run) */
    const char *rename_from; /* if rename_to is set: rename(rename_from, rename_to) after the fdatasync */
    const char *rename_to;   /* (both borrowed for the run) */
    const char *dir;         /* ...and then fsync this directory (borrowed) */
    int err;                 /* out: 0, or errno of the step that failed */
    int step;                /* out: SA_SYNC_STEP_* last attempted (the failing one when err) */
} sa_sync_job_t;

typedef struct sa_idx_entry_s {
    uint32_t rel; /* batch base offset - segment base */
    uint32_t pos; /* byte position of the batch */
} sa_idx_entry_t;

typedef struct sa_tidx_entry_s {
    int64_t ts;   /* largest timestamp up to and including this batch */
    uint32_t rel; /* batch base offset - segment base */
} sa_tidx_entry_t;

/* One transaction open in a partition: a producer's first transactional batch since its last
 * marker here, and once its COMMIT/ABORT marker is appended, the marker's offset (the entry stays
 * until the marker is durable: invariant 6). */
typedef struct sa_txn_open_s {
    int64_t pid;   /* producer id */
    int16_t epoch; /* producer epoch of its latest batch */
    int64_t first; /* offset of its first batch here */
    int64_t end;   /* offset of its marker, -1 while undecided here */
} sa_txn_open_t;

/* An aborted transaction whose ABORT marker is in a segment: one entry of Kafka's .txnindex. */
typedef struct sa_txn_aborted_s {
    int64_t pid;   /* producer id */
    int64_t first; /* offset of its first batch in the partition */
    int64_t last;  /* offset of its ABORT marker */
    int64_t lso;   /* the last stable offset right after it (a search for aborts below an offset
                      X may stop at the first entry whose lso >= X: nothing later began below X) */
} sa_txn_aborted_t;

typedef struct sa_segment_s {
    int64_t base;            /* base offset: the file name */
    int fd;                  /* the .log file, O_RDWR */
    int64_t size;            /* bytes of whole batches */
    int64_t next_offset;     /* offset after the last batch (base when empty) */
    int64_t max_ts;          /* largest MaxTimestamp, -1 when empty */
    uint32_t max_ts_rel;     /* offset - base of the first batch that reached max_ts */
    int64_t durable_max_ts;  /* max_ts as of the last sync (what readers may see) */
    int64_t first_append_ms; /* when it got its first batch (for segment.ms), -1 when empty */
    int64_t unsynced;        /* 1 if appended since the last fdatasync */
    int sync_pending;        /* 1 while a background group commit covers it (roll must not skip it) */
    int64_t since_index;     /* bytes appended since the last offset index entry */
    sa_idx_entry_t *idx;     /* sparse offset index, owned */
    size_t nidx, idx_cap;
    sa_tidx_entry_t *tidx; /* sparse time index, owned */
    size_t ntidx, tidx_cap;
    sa_txn_aborted_t *aborted; /* aborted transactions whose marker is here, owned (txn.c) */
    size_t naborted, aborted_cap;
    int txn_in; /* transactions were open at its start (so it has a .txnindex once sealed; txn.c) */
} sa_segment_t;

/* A metadata log's end when a group commit started (metalog.c). */
typedef struct sa_metalog_snap_s {
    sa_metalog_t *log; /* borrowed; NULL once the log was closed meanwhile */
    uint64_t seq;      /* the last record the commit covers */
    int64_t end;       /* bytes of its file the commit covers */
    int rewrite;       /* the job installs a compacted file (rename + fsync dir) */
    int fd;            /* a dup of its fd for the job (owned), -1 if the job ran at once */
    int err, step;     /* the job's result when it ran at once */
} sa_metalog_snap_t;

/* A partition's end when a background group commit started: what its HWM moves to once the
 * fdatasync of @c fd returned. */
typedef struct sa_sync_snap_s {
    sa_partition_t *part;              /* borrowed; NULL once the partition was deleted meanwhile */
    int64_t seg_base;                  /* the segment that was active at the start */
    int64_t next_offset, size, max_ts; /* its end then */
    int fd;                            /* a dup of its fd to fdatasync (owned), -1 if nothing to sync */
    int err;                           /* 0 or errno of a sync done at once (when dup failed) */
} sa_sync_snap_t;

struct sa_partition_s {
    sa_store_t *store; /* owner */
    sa_topic_t *topic; /* owner */
    int32_t id;
    char *dir;           /* DIR/NAME-P, owned */
    sa_segment_t **segs; /* owned, sorted by base */
    size_t nsegs, segs_cap;
    int64_t log_start;
    int64_t hwm;
    int64_t hwm_seg_base; /* segment holding the HWM position */
    int64_t hwm_pos;      /* byte position of the HWM in that segment */
    int dirty;            /* in store->dirty */
    int write_failing;    /* the last append failed to write (log once per outage) */
    /* Compaction (cleaner_sched.c): while `cleaning`, a job holds dup'd fds of sealed segments and
     * may swap their files; retention and DeleteRecords then leave every sealed segment alone. */
    int cleaning;           /* a cleaner job covers this partition (for good after a half-done swap) */
    int64_t clean_to;       /* the cleaner checkpoint: offsets below it were cleaned; -1 = not read yet */
    int64_t clean_horizon;  /* the earliest delete horizon of a kept tombstone (0: not known yet) */
    int64_t clean_after_ms; /* a cleaning failed: not before this time again */
    sa_txn_open_t *txns;    /* transactions open here (invariant 6), owned (txn.c) */
    size_t ntxns, txns_cap;
    sa_pstate_t *pstate; /* producer state of every batch in the log (invariant 8), owned (producers.c) */
    int64_t *snaps;      /* offsets of the <offset>.snapshot files, ascending (invariant 9) */
    size_t nsnaps, snaps_cap;
};

/* Resolved numeric view of a topic's effective configs. */
typedef struct sa_topic_limits_s {
    int64_t retention_ms;
    int64_t retention_bytes;
    int64_t segment_bytes;
    int64_t segment_ms;
    int64_t max_message_bytes;
    int64_t index_interval_bytes;
    int log_append_time; /* message.timestamp.type=LogAppendTime */
    int compact;         /* cleanup.policy has "compact": the cleaner keeps the latest value per key */
    int delete_old;      /* cleanup.policy has "delete": retention.ms/bytes delete old segments */
    double min_cleanable_ratio;
    int64_t min_compaction_lag_ms;
    int64_t max_compaction_lag_ms;
    int64_t delete_retention_ms;
} sa_topic_limits_t;

#define SA_TOPIC_CONFIG_MAX SA_TOPIC_CONFIG_ROWS_MAX

struct sa_topic_s {
    sa_store_t *store;
    char *name; /* owned */
    uint8_t id[16];
    int32_t npart;
    sa_partition_t **parts;         /* owned */
    char *set[SA_TOPIC_CONFIG_MAX]; /* values set on the topic (owned), NULL = not set */
    char *eff[SA_TOPIC_CONFIG_MAX]; /* effective values (owned), never NULL after resolve */
    sa_topic_limits_t lim;
};

struct sa_store_s {
    char *dir; /* owned */
    sa_store_conf_t conf;
    int lock_fd;
    int clean_open;      /* the clean-shutdown marker was present at open */
    sa_topic_t **topics; /* owned, sorted by name */
    size_t ntopics, topics_cap;
    sa_partition_t **dirty; /* partitions with unsynced appends (borrowed) */
    size_t ndirty, dirty_cap;
    sa_metalog_t **logs; /* open metadata logs (owned: closed at the latest by sa_store_close) */
    size_t nlogs, logs_cap;
    sa_sync_pool_t *pool; /* parallel fdatasync, started when a sync first has >= 2 files */
    /* The jobs of the sync being run (blocking or in flight); only resized while none is in
     * flight: the helper threads read/write them. */
    sa_sync_job_t *jobs;
    size_t njobs, jobs_cap;
    /* The background group commit in flight (sa_store_sync_start .. sa_store_sync_finish). */
    int busy;
    sa_sync_snap_t *flight; /* one per partition dirty at the start */
    size_t nflight, flight_cap;
    sa_metalog_snap_t *flight_logs; /* one per metadata log dirty at the start (nlogs entries) */
    size_t nflight_logs;
    struct sa_broker_configs_s *bcfg; /* dynamic broker configs (broker_config.c), owned */
    struct sa_cleaner_s *cleaner;     /* the log cleaner thread (cleaner_sched.c), owned, lazily made */
    size_t expire_topic;              /* producer-id expiry's cursor (producers.c): the topic, */
    int32_t expire_part;              /* the partition */
    size_t expire_pos;                /* and the place in its producers where the pass goes on */
    size_t expired;                   /* producers the pass removed so far */
    int trim_due;                     /* the pass freed many: give memory back (malloc_trim) */
};

/* ---- topic_config.c ---- */
size_t sa_topic_config_rows(void);
/** Row index of config @p name, or -1. */
int sa_topic_config_index(const char *name);
/** Validate @p value for row @p i. @returns SA_OK or INVALID_CONFIG with detail. */
sa_err_t sa_topic_config_check(int i, const char *value, char *errstr, size_t errstr_size);
/** As sa_topic_config_check, naming the config @p name in the detail (a broker-level synonym). */
sa_err_t sa_topic_config_check_as(int i, const char *name, const char *value, char *errstr,
                                  size_t errstr_size);

/* ---- broker_config.c ---- */
/** Read DATA_DIR/broker-configs.properties (none: nothing set). @returns SA_OK, SA_ERR_CORRUPT. */
sa_err_t sa_broker_configs_load(sa_store_t *store, char *errstr, size_t errstr_size);
void sa_broker_configs_free(sa_store_t *store);
/** Recompute topic->eff[] and topic->lim from topic->set[] and the store's defaults. */
void sa_topic_config_resolve(sa_topic_t *topic);
const char *sa_topic_config_name(int i);

/* ---- topic.c ---- */
sa_err_t sa_topic_load_all(sa_store_t *store, char *errstr, size_t errstr_size);
void sa_topic_free(sa_topic_t *topic);

/* ---- segment.c ---- */
/** Open (creating if @p create) DIR/<base>.log. @returns new segment or NULL with errno. */
sa_segment_t *sa_segment_open(const char *dir, int64_t base, int create);
/** @returns new: a segment of base @p base over the open file @p fd (taken; sizes not read). */
sa_segment_t *sa_segment_from_fd(int fd, int64_t base);
/** Close and free (NULL ok). */
void sa_segment_free(sa_segment_t *seg);
/** Unlink the segment's files and free it. @returns 0 or -1 with errno. */
int sa_segment_remove(const char *dir, sa_segment_t *seg);
/** Unlink the segment's .index/.timeindex files (after a truncation made them stale). */
void sa_segment_remove_index_files(const char *dir, const sa_segment_t *seg);
/** Account for a batch at @p pos (index entries, next offset, max timestamp). */
void sa_segment_note_batch(sa_segment_t *seg, const sa_rb_header_t *hdr, int64_t pos, int64_t index_interval);
/** Drop index entries at or after byte @p size and offset @p next_offset (after a truncation). */
void sa_segment_trim_index(sa_segment_t *seg, int64_t size, int64_t next_offset);
/** Walker callback: @p batch is the whole batch when the walk checks CRCs, else NULL. */
typedef int(sa_segment_visit_cb)(void *opaque, const sa_rb_header_t *hdr, int64_t pos, const uint8_t *batch);
/**
 * Walk batches from byte @p from to @p end. With @p check_crc every batch is read whole and
 * its CRC checked. Stops at the first torn/bad batch (*stop = its position, SA_ERR_CORRUPT),
 * at @p end (SA_OK, *stop = end) or when @p cb returns non-zero (that value, *stop = the
 * batch's position). KAFKA_STORAGE_ERROR on a read error.
 */
sa_err_t sa_segment_walk(sa_segment_t *seg, int64_t from, int64_t end, int check_crc, sa_segment_visit_cb *cb,
                         void *opaque, int64_t *stop);
/** Position of the batch containing @p offset (< next_offset), found via the index. */
sa_err_t sa_segment_find(sa_segment_t *seg, int64_t offset, int64_t end, int64_t *pos);
/** Rebuild the in-memory index and size by walking the file (with CRC: recovery). Truncates
 *  the file at the first bad byte when @p truncate. */
sa_err_t sa_segment_recover(sa_segment_t *seg, const char *dir, int check_crc, int truncate,
                            int64_t index_interval);
/** Write DIR/<base>.index and .timeindex (fsync'd). */
sa_err_t sa_segment_write_index(const sa_segment_t *seg, const char *dir);
/** Load index files; @returns SA_OK if they exist and are consistent with the segment. */
sa_err_t sa_segment_load_index(sa_segment_t *seg, const char *dir);

/* ---- txn.c: transactions in a partition (format of <base>.txnindex in txn.c) ---- */
/** A client batch was just written at its final offsets: a transactional one opens (or extends)
 *  its producer's transaction. */
void sa_txn_note_batch(sa_partition_t *part, const sa_rb_header_t *hdr);
/** A marker of @p pid was just written at @p offset into @p seg: its open transaction ends there;
 *  an ABORT adds an aborted[] entry to @p seg. */
void sa_txn_note_marker(sa_partition_t *part, sa_segment_t *seg, int64_t pid, int commit, int64_t offset);
/** The HWM moved: forget transactions whose marker is durable now. */
void sa_txn_synced(sa_partition_t *part);
/** Everything at or above offset @p cut was cut off (a failed sync): forget what began there,
 *  reopen what a cut marker had ended, drop the aborted[] entries of cut markers. */
void sa_txn_truncated(sa_partition_t *part, int64_t cut);
/** Write <base>.txnindex of @p seg (sealed now, or at clean close: @p seg is then the active
 *  one), with the transactions open at its end; remove it when there is nothing to say.
 *  @returns SA_OK or KAFKA_STORAGE_ERROR (errno set). */
sa_err_t sa_txn_write_index(const sa_partition_t *part, const sa_segment_t *seg);
/** @returns how many transactions are open in @p part with no marker written yet. */
size_t sa_txn_open_count(const sa_partition_t *part);
/** At open, after the segments are loaded: each segment's aborted[] from its .txnindex (or, where
 *  that is missing or stale, by walking its batches), and the transactions open at the end.
 *  @p clean: the store was closed cleanly (the active segment's file is current too). */
sa_err_t sa_txn_recover(sa_partition_t *part, int clean);
/** Free what txn.c owns in @p part (not the segments' entries: sa_segment_free does those). */
void sa_txn_free(sa_partition_t *part);
/** Invariants 6 and 7 (debug and sanitizer builds check the segments' entries and the LSO too). */
void sa_txn_check(const sa_partition_t *part);
/**
 * Log compaction: write to @p out_path the .txnindex of one segment made of the sealed segments
 * whose bases are @p bases (@p n, in order; the last ends at @p end): their aborted entries in
 * order and the set open at the last one's end, read from their own .txnindex files (absent: none).
 * Any thread (files only). Nothing is written (*@p written 0) when none of them has a file.
 * @returns SA_OK; SA_ERR_CORRUPT (a file is damaged: recovery rewrites it at the next start);
 *          KAFKA_STORAGE_ERROR.
 */
sa_err_t sa_txn_merge_index(const char *dir, const int64_t *bases, size_t n, int64_t end,
                            const char *out_path, int *written);

/* ---- producers.c ---- */
/** sa_partition_scan_batches, with the segment and byte position of each batch (for reading a
 *  control batch whole: sa_txn_marker_at). */
typedef int(sa_part_visit_cb)(void *opaque, sa_segment_t *seg, const sa_rb_header_t *hdr, int64_t pos);
sa_err_t sa_partition_walk_batches(sa_partition_t *part, int64_t from_offset, sa_part_visit_cb *cb,
                                   void *opaque);
/** The transaction marker of the control batch @p hdr at @p pos of @p seg: 1 COMMIT, 0 ABORT, -1 not
 *  a marker (another control type, or too large to be one); *coordinator_epoch (may be NULL) gets
 *  its coordinator epoch. A read error sets *err to KAFKA_STORAGE_ERROR and returns -1. */
int sa_txn_marker_at(sa_segment_t *seg, const sa_rb_header_t *hdr, int64_t pos, int32_t *coordinator_epoch,
                     sa_err_t *err);
/** At open, after the segments and the transactions: part->pstate from the newest valid snapshot
 *  and the batches after it (the whole log without one). @returns SA_OK, KAFKA_STORAGE_ERROR. */
sa_err_t sa_producers_recover(sa_partition_t *part);
/** Write <@p offset>.snapshot of part->pstate (every batch below @p offset is recorded and
 *  durable), deleting older ones inside the active segment. A failure is logged and returned; the
 *  caller goes on (a missing snapshot costs a longer scan at the next open, nothing else). */
sa_err_t sa_producers_snapshot(sa_partition_t *part, int64_t offset);
/** Delete the snapshots below @p offset (the first segment's base, after segments were deleted). */
void sa_producers_drop_below(sa_partition_t *part, int64_t offset);
/** The log was cut back to @p end: forget the batches at or above it and the snapshots past it. */
void sa_producers_truncated(sa_partition_t *part, int64_t end);
void sa_producers_free(sa_partition_t *part);

/* ---- partition.c ---- */
/** Open or create partition @p id of @p topic (dir made if missing), recovering unless @p clean. */
sa_err_t sa_partition_open(sa_topic_t *topic, int32_t id, int clean, sa_partition_t **partp, char *errstr,
                           size_t errstr_size);
/** Close files and free (no sync). */
void sa_partition_free(sa_partition_t *part);
/** @returns the fd the next group commit must fdatasync (the active segment's), or -1 if none. */
int sa_partition_unsynced_fd(const sa_partition_t *part);
/** The group commit's fdatasync returned @p err (0 or errno): on success HWM = LEO, else the
 *  unsynced tail is cut off (back to the HWM) and KAFKA_STORAGE_ERROR returned. */
sa_err_t sa_partition_synced(sa_partition_t *part, int err);
/** Write the index files of the active segment (clean close). */
sa_err_t sa_partition_seal(sa_partition_t *part);
/** Apply retention. */
sa_err_t sa_partition_retention(sa_partition_t *part, int64_t now_ms);
/** Delete whole sealed segments below the log start offset (unless a cleaning runs). */
void sa_partition_drop_below_log_start(sa_partition_t *part);
/** Remove the partition directory and everything in it. */
int sa_partition_remove_dir(const char *dir);

/** Fill @p snap for a background group commit of @p part (the caller fdatasyncs snap->fd, off the
 *  loop thread) and clear the segment's unsynced flag: later appends make it dirty again. */
void sa_partition_sync_snap(sa_partition_t *part, sa_sync_snap_t *snap);
/** The background fdatasync of @p snap returned @p err (0 or errno): on success the HWM moves to
 *  the snapshot's end (not the LEO: later appends wait for the next commit); on failure
 *  everything above the HWM, later appends included, is cut off and KAFKA_STORAGE_ERROR
 *  returned. */
sa_err_t sa_partition_sync_apply(sa_partition_t *part, const sa_sync_snap_t *snap, int err);

/* ---- cleaner.c / cleaner_sched.c (log compaction) ---- */

/** A sealed segment handed to a cleaner job. */
typedef struct sa_clean_seg_s {
    int64_t base, size, next_offset;
    int fd; /* a dup (owned by the job) */
} sa_clean_seg_t;

/** A new segment a job swapped in, replacing the segments with base in [base, end). */
typedef struct sa_clean_out_s {
    sa_segment_t *seg; /* owned until adopted; its fd is the new <base>.log */
    int64_t base, end;
} sa_clean_out_t;

/** One cleaning of one partition, built on the loop thread, run anywhere (sa_clean_run). */
typedef struct sa_clean_job_s {
    sa_partition_t *part; /* borrowed; only the loop thread touches it */
    char *dir;            /* owned copy of part->dir */
    sa_clean_seg_t *segs; /* the cleanable segments, in order, owned */
    size_t nsegs;
    int64_t end;         /* offset after the last one: the next segment's base */
    int64_t log_start;   /* records below it are dropped */
    int64_t first_dirty; /* the checkpoint: the key map starts here */
    int64_t now_ms;
    int64_t delete_retention_ms;
    int64_t segment_bytes; /* bound on a group's input */
    int64_t index_interval;
    int64_t dedupe_buffer_size;
    double io_max_bytes_per_second; /* 0: unthrottled */
    atomic_int *cancel;             /* borrowed, may be NULL: stop at the next batch when set */
    sa_txn_aborted_t *aborted;      /* the partition's aborted transactions, by pid then first, owned */
    size_t naborted;
    /* results */
    sa_err_t err;
    int committed;       /* a group's swap passed its commit point but did not finish */
    sa_clean_out_t *out; /* owned */
    size_t nout;
    int64_t clean_to;     /* the new checkpoint */
    int64_t next_horizon; /* the earliest delete horizon among the batches kept (INT64_MAX: none) */
    sa_clean_stats_t stats;
} sa_clean_job_t;

/** Run @p job on the calling thread (steps in cleaner.c). @returns job->err. */
sa_err_t sa_clean_run(sa_clean_job_t *job);
void sa_clean_job_free(sa_clean_job_t *job);
/** Finish or undo what a crash left of a cleaning in partition directory @p dir. */
sa_err_t sa_cleaner_recover_dir(const char *dir);
/** @returns the checkpoint in @p dir (0 if none). */
int64_t sa_cleaner_read_checkpoint(const char *dir);
/** Stop the cleaner thread (waiting for its job) and free it (sa_store_close). */
void sa_cleaner_shutdown(sa_store_t *store);
/** Cancel and forget a job on any partition of @p topic (before the topic is deleted). */
void sa_cleaner_forget_topic(sa_store_t *store, sa_topic_t *topic);

/* ---- sync_pool.c ---- */
/** @returns new: a pool of helper threads for parallel fdatasync (free with sa_sync_pool_free). */
sa_sync_pool_t *sa_sync_pool_new(void);
void sa_sync_pool_free(sa_sync_pool_t *pool);
/** Run one job on the calling thread (fills job->err and job->step). */
void sa_sync_job_run(sa_sync_job_t *job);
/** Run the @p n @p jobs (borrowed) in parallel and wait for them. @p pool may be NULL. */
void sa_sync_pool_run(sa_sync_pool_t *pool, sa_sync_job_t *jobs, size_t n);
/** Like sa_sync_pool_run but returns at once: the helpers run @p jobs (borrowed until
 *  sa_sync_pool_wait) and the last one to finish writes 1 to the eventfd @p notify_fd. Without
 *  helper threads (none, or a forked child) the jobs run here and @p notify_fd is written before
 *  returning. */
void sa_sync_pool_start(sa_sync_pool_t *pool, sa_sync_job_t *jobs, size_t n, int notify_fd);
/** Wait until the syncs of the last sa_sync_pool_start finished (at once if they did). */
void sa_sync_pool_wait(sa_sync_pool_t *pool);

/* ---- store.c ---- */
void sa_store_mark_dirty(sa_store_t *store, sa_partition_t *part);
void sa_store_forget_partition(sa_store_t *store, sa_partition_t *part);
/** Register @p log (its group commit, its close) / unregister it (also from a commit in flight). */
void sa_store_add_metalog(sa_store_t *store, sa_metalog_t *log);
void sa_store_remove_metalog(sa_store_t *store, sa_metalog_t *log);

/* ---- metalog.c (for the store's group commit) ---- */
/** Fill @p snap for a group commit starting now and, if the log needs one, @p job (whose fd is
 *  snap->fd). @returns 1 if @p job must run; 0 if the log needs nothing (snap->log NULL) or its
 *  job already ran here (snap->fd -1, snap->err/step set). */
int sa_metalog_sync_snap(sa_metalog_t *log, sa_metalog_snap_t *snap, sa_sync_job_t *job);
/** The job of @p snap ended with @p err (0 or errno) at @p step: move the durable end, or cut back
 *  and rebuild (see metalog.h). @returns SA_OK or KAFKA_STORAGE_ERROR. */
sa_err_t sa_metalog_sync_apply(const sa_metalog_snap_t *snap, int err, int step);
/** @returns 1 if the log has appends the next commit must sync. */
int sa_metalog_dirty_(const sa_metalog_t *log);
/** Free without syncing (sa_store_close, after its own final sync). */
void sa_metalog_free_(sa_metalog_t *log);

#endif
