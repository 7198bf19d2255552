/*
 * storage.h - durable partition logs: the contract the broker codes against.
 *
 * A store is one data directory holding topics, each with N partitions, each partition a log of
 * record batches kept exactly as producers sent them (BaseOffset rewritten). Single-threaded:
 * every call is made from the broker's event loop thread unless a function says otherwise.
 * (sa_store_sync and sa_store_sync_start hand fdatasyncs to up to three helper threads it owns;
 * they touch nothing else and are joined by sa_store_close.)
 *
 * Durability (group commit): sa_partition_append() writes without fsync; the broker calls
 * sa_store_sync_start()/_finish() (or the blocking sa_store_sync()), which fdatasyncs every file with
 * unsynced appends (one fdatasync per dirty segment file, never per record) and then moves each partition's
 * high watermark (HWM) to its durable end. Only then does the broker answer acks=1/all, and consumers only
 * ever read below the HWM, so nothing a client saw can be lost by a power failure. If the fdatasync fails,
 * the unsynced tail is cut off again (the partition returns to its HWM) and the sync callback reports
 * KAFKA_STORAGE_ERROR for it: those producers get an error and retry.
 *
 * Offsets: log start offset (first readable) <= HWM (durable end, readable end) <= log end
 * offset (LEO, next offset to assign). (LSO below is the last stable offset, never the log start.)
 *
 * On-disk format (all integers big-endian):
 *
 *   DIR/.lock                      empty; flock(LOCK_EX|LOCK_NB) held while open (one broker per dir)
 *   DIR/.clean-shutdown            empty; written by sa_store_close(), removed by open. Present:
 *                                  the tail scan and index rebuild are skipped.
 *   DIR/topics/NAME.topic          topic metadata, text lines "key=value", replaced crash-safely:
 *                                    version=1
 *                                    name=NAME
 *                                    id=<32 lowercase hex digits: the 16-byte topic id>
 *                                    partitions=N
 *                                    config.<kafka topic config>=<value>   (only those set)
 *                                  The topic exists iff this file exists; it is written before
 *                                  partition directories are made and removed before they are.
 *   DIR/NAME-P/                    partition P of topic NAME
 *   DIR/NAME-P/<20-digit base offset>.log
 *                                  a segment: record batches back to back, as on the wire
 *                                  (record_batch.h), BaseOffset = their real offset,
 *                                  PartitionLeaderEpoch 0. The first batch's BaseOffset equals
 *                                  the file's base offset (or later, after DeleteRecords).
 *   DIR/NAME-P/<base>.index        sparse offset index: 8-byte entries {uint32 offset - base,
 *                                  uint32 file position of the batch starting there}, one per
 *                                  ~index.interval.bytes (4096) of log; written when the segment
 *                                  is sealed (rolled) and at clean close, rebuilt otherwise.
 *   DIR/NAME-P/<base>.timeindex    sparse time index: 12-byte entries {int64 max timestamp so
 *                                  far, uint32 offset - base of the batch that reached it};
 *                                  timestamps never decrease. Same lifecycle as .index.
 *   DIR/NAME-P/<base>.txnindex     the segment's aborted-transaction index (txn.c): present only
 *                                  when it has something to say (an ABORT marker in the segment, a
 *                                  transaction open at its start or its end); written whole and
 *                                  replaced crash-safely (sa_safe_file_write) when the segment is
 *                                  sealed, before the next one is created (a failed write fails
 *                                  the roll and the append), and for the active one at clean close:
 *                                    0   8   magic "SATXNIX1"
 *                                    8   4   u32 A: aborted transactions whose ABORT marker is here
 *                                   12   4   u32 O: transactions open at the end of the segment
 *                                   16  34*A an entry of Kafka's .txnindex per abort, marker order:
 *                                            i16 version 0, i64 producer id, i64 first offset,
 *                                            i64 last offset (the ABORT marker), i64 the LSO
 *                                            right after the abort
 *                                   ..  18*O i64 producer id, i16 epoch, i64 first offset
 *                                   ..   4   u32 CRC-32C of every byte before it
 *                                  A damaged or missing one (where transactions were open before
 *                                  the segment) is rebuilt from the batch headers at open.
 *   DIR/NAME-P/<offset>.snapshot   the partition's producer state (pstate.h, producers.c) as of
 *                                  <offset> (20 digits: every batch below it, nothing at or above),
 *                                  written whole and crash-safely (sa_safe_file_write) at each roll
 *                                  (<offset> = the new segment's base, after the old one's
 *                                  fdatasync) and at clean close (<offset> = the LEO, after the
 *                                  final sync); one per segment base and the newest, the older ones
 *                                  inside the active segment deleted when a newer one is written:
 *                                    0   8   magic "SAPRODST"
 *                                    8   2   u16 version 1
 *                                   10   8   i64 offset (equals the name)
 *                                   18   4   u32 P: producers, by producer id
 *                                   22  ..   per producer: i64 producer id, i16 epoch, i64 last
 *                                            timestamp (-1: none), i32 coordinator epoch of its
 *                                            last marker (-1: none), u8 flags (1: a marker moved
 *                                            the epoch on, the ring is empty), u8 B (<= 5), then
 *                                            B x {i32 first sequence, i32 last sequence, i64 first
 *                                            offset, i64 last offset}, oldest first
 *                                   ..   4   u32 CRC-32C of every byte before it
 *                                  At open the newest one <= LEO that checks (magic, version, CRC,
 *                                  every entry) is loaded and the batches from its offset on are
 *                                  scanned; a damaged one is deleted and an older one tried; none
 *                                  at all: the whole log is scanned (still at open, never on a
 *                                  produce). Snapshots below the first segment's base are deleted
 *                                  with the segments retention and DeleteRecords delete.
 *   DIR/NAME-P/log-start-offset    text "<offset>\n", replaced crash-safely when DeleteRecords
 *                                  or retention moves the log start offset.
 *   DIR/NAME-P/cleaner-offset      compacted topics: text "<offset>\n", the cleaner checkpoint
 *   DIR/NAME-P/<base>.<end>.cleaned, .swap, .txncleaned
 *                                  compacted topics: a cleaned segment replacing the segments with
 *                                  base in [base, end): being written (deleted at open), or
 *                                  committed (the swap is finished at open), and the merge of
 *                                  those segments' .txnindex files, renamed to <base>.txnindex
 *                                  with the swap. cleaner.c.
 *                                  A cleaned segment keeps its base; its batches have offset gaps.
 *
 * Recovery at open (no clean-shutdown marker): for each partition, every batch of the last
 * segment is checked (complete length, magic 2, CRC-32C); the file is truncated at the first bad
 * byte; earlier segments are trusted (only the last one can be torn). Indexes are rebuilt from
 * the batch headers, and so are the last segment's transactions (txn.c) and the producer state
 * after the newest snapshot (producers.c; after a clean close: none to scan). The recovered tail is
 * fdatasync'd, so HWM = LEO after open. A cleaning that a crash interrupted is dropped or finished
 * first (sa_cleaner_recover_dir, storage_int.h).
 *
 * Offsets (transactions): log start <= last stable offset (LSO) <= HWM, where
 * LSO = max(log start, min(HWM, first offset of every transaction open here)) and a transaction
 * stays open until its marker is below the HWM. Below the LSO every transaction is decided and its
 * marker durable; read_committed Fetch and ListOffsets stop there (invariant 7 of storage_int.h).
 * Ownership: the open transactions and each segment's aborted entries belong to the partition
 * (txn.c); sa_partition_aborted_txns copies what a Fetch reports into the caller's buffer.
 */
#ifndef SA_STORAGE_STORAGE_H
#define SA_STORAGE_STORAGE_H

#include <stddef.h>
#include <stdint.h>

#include "core/buf.h"
#include "core/err.h"
#include "proto/record_batch.h"
#include "storage/pstate.h"

typedef struct sa_store_s sa_store_t;
typedef struct sa_topic_s sa_topic_t;
typedef struct sa_partition_s sa_partition_t;

/* ---- store ---- */

/** Broker-level defaults (server.properties names in comments); -1 means unlimited. */
typedef struct sa_store_conf_s {
    int64_t retention_ms;         /* log.retention.ms (default 604800000 = 7 days) */
    int64_t retention_bytes;      /* log.retention.bytes (default -1) */
    int64_t segment_bytes;        /* log.segment.bytes (default 1073741824) */
    int64_t segment_ms;           /* log.roll.ms (default 604800000) */
    int64_t max_message_bytes;    /* message.max.bytes: largest batch (default 1048588) */
    int32_t num_partitions;       /* num.partitions: for create with partitions -1 (default 1) */
    int64_t index_interval_bytes; /* log.index.interval.bytes (default 4096) */
    /* Compaction (cleaner.c, docs/compaction.md) */
    char cleanup_policy[32];                /* log.cleanup.policy: "delete", "compact" or "compact,delete" */
    int cleaner_enable;                     /* log.cleaner.enable (default 1) */
    double cleaner_io_max_bytes_per_second; /* log.cleaner.io.max.bytes.per.second: read + written
                                               (default 0 = unlimited, Kafka's Double.MAX_VALUE) */
    int64_t cleaner_dedupe_buffer_size;     /* log.cleaner.dedupe.buffer.size: the key map (128 MiB) */
    double min_cleanable_ratio;             /* log.cleaner.min.cleanable.ratio (default 0.5) */
    int64_t min_compaction_lag_ms;          /* log.cleaner.min.compaction.lag.ms (default 0) */
    int64_t max_compaction_lag_ms;          /* log.cleaner.max.compaction.lag.ms (default INT64_MAX) */
    int64_t delete_retention_ms;            /* log.cleaner.delete.retention.ms (default 86400000) */
    int64_t producer_id_expiration_ms;      /* producer.id.expiration.ms (default 86400000) */
} sa_store_conf_t;

/** Fill @p conf with Kafka's defaults. */
void sa_store_conf_defaults(sa_store_conf_t *conf);

/**
 * Open (creating if missing) the store in directory @p dir (borrowed): lock it, load every
 * topic, recover every partition (see the file comment).
 * @returns SA_OK and *storep (returns new; free with sa_store_close);
 *          SA_ERR_EXISTS if another process holds the lock;
 *          KAFKA_STORAGE_ERROR / SA_ERR_CORRUPT (unreadable metadata) with detail in @p errstr.
 * *storep is NULL on failure.
 */
sa_err_t sa_store_open(const char *dir, const sa_store_conf_t *conf, sa_store_t **storep, char *errstr,
                       size_t errstr_size);

/**
 * Sync everything, write index files and the clean-shutdown marker, release the lock, free.
 * @returns SA_OK, or KAFKA_STORAGE_ERROR if a final sync failed (no marker is written then, so
 * the next open recovers). NULL is allowed.
 */
sa_err_t sa_store_close(sa_store_t *store);

/** @returns the directory (valid until close). */
const char *sa_store_dir(const sa_store_t *store);
/** @returns the broker-level defaults in use (valid until close). */
const sa_store_conf_t *sa_store_conf(const sa_store_t *store);

/**
 * Called by sa_store_sync() for each partition whose sync failed (@p err = KAFKA_STORAGE_ERROR);
 * its unsynced appends were removed, so every producer waiting on an offset >= its HWM must get
 * @p err.
 */
typedef void(sa_store_sync_fail_cb)(void *opaque, sa_partition_t *part, sa_err_t err);

/**
 * Group commit: fdatasync every partition with unsynced appends, one call per dirty segment,
 * then set each synced partition's HWM to its LEO. After it returns, a produce request is
 * durable iff its last offset < sa_partition_hwm(part).
 * @p on_fail (may be NULL) is told about each partition that failed.
 * @returns SA_OK, or KAFKA_STORAGE_ERROR if any partition failed.
 */
sa_err_t sa_store_sync(sa_store_t *store, sa_store_sync_fail_cb *on_fail, void *opaque);

/**
 * The same group commit without blocking the caller (the broker's event loop keeps reading and
 * appending while the disk works): snapshot the end of every partition with unsynced appends,
 * hand their fdatasyncs to the store's helper threads and return. When they are done, 1 is
 * written to the eventfd @p notify_fd (borrowed; written before returning if the store has no
 * helper threads); the caller then calls sa_store_sync_finish(). One commit is in flight at a
 * time. Appends made meanwhile wait for the next commit.
 * @returns 1 if a commit was started, 0 if nothing was dirty or one is in flight already.
 */
int sa_store_sync_start(sa_store_t *store, int notify_fd);

/** @returns 1 between sa_store_sync_start() and sa_store_sync_finish(). */
int sa_store_sync_busy(const sa_store_t *store);

/**
 * Complete the commit in flight (waiting for it if it is not done): each partition's HWM moves
 * to its end as of sa_store_sync_start(). A partition whose fdatasync failed is cut back to its
 * HWM - appends made after the start are cut too, so their producers must get an error - and
 * @p on_fail is told. sa_store_sync() and sa_store_close() finish a commit in flight first.
 * @returns SA_OK (also when none was in flight), or KAFKA_STORAGE_ERROR if a partition failed.
 */
sa_err_t sa_store_sync_finish(sa_store_t *store, sa_store_sync_fail_cb *on_fail, void *opaque);

/** @returns 1 if some partition has appends not yet synced (the broker then calls sync). */
int sa_store_dirty(const sa_store_t *store);

/**
 * Retention: for every partition delete whole segments whose largest timestamp is older than
 * now_ms - retention.ms, then the oldest segments while the partition stays above
 * retention.bytes. Segments holding data above the HWM are never deleted; an expired active
 * segment is rolled first so the next offset is kept. The log start offset moves forward.
 * Cheap when nothing is due; the broker calls it every few seconds (log.retention.check.interval.ms).
 * @returns SA_OK or KAFKA_STORAGE_ERROR (the failing partition is logged; others still run).
 */
sa_err_t sa_store_enforce_retention(sa_store_t *store, int64_t now_ms);

/* ---- compaction (cleaner.c, cleaner_sched.c; docs/compaction.md) ---- */

/** What cleanings did (one, or the sum since open). */
typedef struct sa_clean_stats_s {
    int64_t cleanings;
    int64_t bytes_read, bytes_written; /* the key map's pass and the rewrite's, and the output */
    int64_t records_read, records_kept;
    int64_t batches_rewritten;
    int64_t segments_in, segments_out; /* replaced, and their replacements */
    int64_t duration_us, throttled_us;
} sa_clean_stats_t;

/**
 * The log cleaner's turn, called by the event loop now and then (the broker: every
 * log.cleaner.backoff.ms, and every 100 ms while a cleaning runs). Adopts a finished cleaning (the
 * partition's new segments replace the old ones in memory; the files were swapped by the cleaner
 * thread), then, if log.cleaner.enable and the cleaner is idle, starts one on the partition of a
 * compacted topic most worth it: dirty ratio >= min.cleanable.dirty.ratio, or a record older than
 * max.compaction.lag.ms not yet cleaned. Never blocks on the disk.
 * @returns 1 if a cleaning is running (call again soon), 0 if the cleaner is idle.
 */
int sa_store_clean_tick(sa_store_t *store, int64_t now_ms);

/**
 * Clean @p part now on the calling thread, whatever its dirty ratio (tests, benchmarks; the broker
 * uses the thread). The same job as the thread's: the same files, the same swap.
 * @returns SA_OK (and *stats, may be NULL); SA_ERR_NOT_FOUND if the topic is not compacted or
 *          nothing is cleanable; KAFKA_STORAGE_ERROR / CORRUPT_MESSAGE (logged).
 */
sa_err_t sa_partition_clean(sa_partition_t *part, int64_t now_ms, sa_clean_stats_t *stats);

/** The cleaner's totals since the store opened. */
void sa_store_clean_stats(const sa_store_t *store, sa_clean_stats_t *stats);

/** Told about each record a compacted topic refuses: its index in its batch (Produce v8's
 *  RecordErrors BatchIndex). */
typedef void(sa_record_error_cb)(void *opaque, int32_t batch_index, const char *topic, int32_t partition);

/**
 * For a topic whose cleanup.policy holds "compact": find the records of @p batches (@p len bytes,
 * whole batches, borrowed) that have no key, which sa_partition_append refuses with INVALID_RECORD.
 * @p cb (may be NULL) is told each. @returns how many (0 for other topics).
 */
int sa_partition_keyless_records(const sa_partition_t *part, const uint8_t *batches, size_t len,
                                 sa_record_error_cb *cb, void *opaque);

/* ---- topics ---- */

/** A config key/value pair (both borrowed). */
typedef struct sa_config_kv_s {
    const char *name;
    const char *value; /* NULL: reset to default (only in alter) */
} sa_config_kv_t;

/** IncrementalAlterConfigs operations (the wire values). */
typedef enum sa_config_op_e {
    SA_CONFIG_OP_SET = 0,
    SA_CONFIG_OP_DELETE = 1,
    SA_CONFIG_OP_APPEND = 2,   /* list configs: add the value(s) */
    SA_CONFIG_OP_SUBTRACT = 3, /* list configs: remove the value(s) */
} sa_config_op_t;

/** Where a config's value comes from, most specific last (Kafka's order of precedence). The broker
 *  maps it to DescribeConfigs' ConfigSource (broker/admin.h): storage knows no wire numbers. */
typedef enum sa_config_origin_e {
    SA_CONFIG_ORIGIN_DEFAULT = 0,     /* Kafka's default */
    SA_CONFIG_ORIGIN_STATIC_BROKER,   /* the broker's own setting (log.retention.ms ...), server.properties or
                                         flags */
    SA_CONFIG_ORIGIN_DYNAMIC_DEFAULT, /* a dynamic cluster-wide default (BROKER resource "") */
    SA_CONFIG_ORIGIN_DYNAMIC_BROKER,  /* a dynamic config of this broker (BROKER resource "<node id>") */
    SA_CONFIG_ORIGIN_TOPIC,           /* set on the topic */
} sa_config_origin_t;

/** What kind of value a config holds (validation; the broker maps it to DescribeConfigs' ConfigType). */
typedef enum sa_config_vtype_e {
    SA_CONFIG_VALUE_STRING = 0,
    SA_CONFIG_VALUE_BOOLEAN,
    SA_CONFIG_VALUE_INT,
    SA_CONFIG_VALUE_LONG,
    SA_CONFIG_VALUE_DOUBLE,
    SA_CONFIG_VALUE_LIST, /* comma-separated */
} sa_config_vtype_t;

/** One config as DescribeConfigs lists it; strings valid until the topic is altered or deleted. */
typedef struct sa_config_entry_s {
    const char *name;
    const char *value;         /* effective value, never NULL */
    int is_default;            /* 1 unless something set it */
    sa_config_origin_t origin; /* where value comes from */
    int read_only;             /* always 0 for topic configs */
    int sensitive;             /* always 0 for topic configs */
    sa_config_vtype_t vtype;   /* what it holds */
    const char *doc;           /* one line */
    const char *synonym;       /* broker-level name ("log.retention.ms") or NULL */
    sa_config_origin_t
        base_origin;     /* STATIC_BROKER or DEFAULT: where the value below the dynamic ones comes from */
    char base_value[32]; /* that value (a topic config's broker default or Kafka's) */
} sa_config_entry_t;

/**
 * Create topic @p name (borrowed) with @p partitions partitions (-1: num.partitions) and the
 * @p nconfigs configs (borrowed; validated, stored as given). With @p validate_only nothing is
 * changed but every check runs.
 * @returns SA_OK; TOPIC_ALREADY_EXISTS; INVALID_TOPIC_EXCEPTION (empty, > 249 chars, "." or "..",
 *          chars outside [a-zA-Z0-9._-]); INVALID_PARTITIONS (< 1 or > 100000);
 *          INVALID_CONFIG (unknown name, bad value); KAFKA_STORAGE_ERROR.
 *          Detail for the response's ErrorMessage in @p errstr (may be NULL).
 */
sa_err_t sa_store_topic_create(sa_store_t *store, const char *name, int32_t partitions,
                               const sa_config_kv_t *configs, size_t nconfigs, int validate_only,
                               char *errstr, size_t errstr_size);

/**
 * Delete topic @p name and all its files. Every sa_topic_t / sa_partition_t pointer of it becomes
 * invalid. @returns SA_OK, UNKNOWN_TOPIC_OR_PARTITION, KAFKA_STORAGE_ERROR.
 */
sa_err_t sa_store_topic_delete(sa_store_t *store, const char *name, char *errstr, size_t errstr_size);

/**
 * Grow topic @p name to @p total partitions (CreatePartitions).
 * @returns SA_OK, UNKNOWN_TOPIC_OR_PARTITION, INVALID_PARTITIONS (not more than now, or > 100000),
 *          KAFKA_STORAGE_ERROR. Existing sa_partition_t pointers stay valid.
 */
sa_err_t sa_store_topic_add_partitions(sa_store_t *store, const char *name, int32_t total, int validate_only,
                                       char *errstr, size_t errstr_size);

/**
 * Change topic configs. @p ops (may be NULL: every kv is a SET) gives one sa_config_op_t per kv.
 * With @p replace_all (legacy AlterConfigs) every config not listed returns to its default.
 * All are validated before any is applied; the metadata file is replaced crash-safely.
 * @returns SA_OK, UNKNOWN_TOPIC_OR_PARTITION, INVALID_CONFIG (with the name in errstr),
 *          INVALID_REQUEST (APPEND/SUBTRACT on a non-list), KAFKA_STORAGE_ERROR.
 */
sa_err_t sa_store_topic_alter_configs(sa_store_t *store, const char *name, const sa_config_kv_t *kvs,
                                      const sa_config_op_t *ops, size_t n, int replace_all, int validate_only,
                                      char *errstr, size_t errstr_size);

/* ---- dynamic broker configs (broker_config.c) ---- */

#define SA_TOPIC_CONFIG_ROWS_MAX 48 /* >= rows of the topic config table (topic_config.c) */

/** Topic config row @p i (0 <= i < SA_TOPIC_CONFIG_ROWS_MAX, a row index from
 * sa_broker_config_row): its broker-level synonym ("log.retention.ms") or NULL, the kind of value
 * it holds, Kafka's default value (static strings). */
const char *sa_topic_config_synonym(int i);
sa_config_vtype_t sa_topic_config_type(int i);
const char *sa_topic_config_default(int i);

/** The two scopes of the BROKER resource (Kafka's resource names "" and "<node id>"). */
typedef enum sa_broker_scope_e {
    SA_BROKER_SCOPE_DEFAULT = 0, /* "": the cluster-wide default, DYNAMIC_DEFAULT_BROKER_CONFIG */
    SA_BROKER_SCOPE_NODE = 1,    /* this broker's id: DYNAMIC_BROKER_CONFIG, wins over the default */
} sa_broker_scope_t;

/** @returns the topic config row a dynamic broker config @p key ("log.retention.ms") sets, or -1
 * when @p key cannot change at run time. */
int sa_broker_config_row(const char *key);
/** @returns the dynamic value of row @p row in @p scope, or NULL (valid until the next alter). */
const char *sa_store_broker_config(const sa_store_t *store, sa_broker_scope_t scope, int row);
/** Fill @p rows (room for @p max) with the rows set in @p scope. @returns how many. */
size_t sa_store_broker_config_list(const sa_store_t *store, sa_broker_scope_t scope, int *rows, size_t max);
/**
 * Change the dynamic broker configs of @p scope, as sa_store_topic_alter_configs does for a topic
 * (@p ops NULL: all SET; @p replace_all: the legacy AlterConfigs, what is not listed is removed).
 * All entries are validated first; the file is replaced crash-safely before anything changes;
 * every topic's effective values are recomputed.
 * @returns SA_OK; INVALID_REQUEST (a key that cannot change at run time, a bad value: Kafka's
 *          codes for broker configs); INVALID_CONFIG (APPEND/SUBTRACT on a non-list, a null
 *          value); KAFKA_STORAGE_ERROR. Detail in @p errstr.
 */
sa_err_t sa_store_broker_alter_configs(sa_store_t *store, sa_broker_scope_t scope, const sa_config_kv_t *kvs,
                                       const sa_config_op_t *ops, size_t n, int replace_all,
                                       int validate_only, char *errstr, size_t errstr_size);

/** @returns the topic, or NULL (valid until it is deleted or the store closed). */
sa_topic_t *sa_store_topic_find(const sa_store_t *store, const char *name);
/** @returns the number of topics; sa_store_topic_at(i) for i < count, ordered by name. */
size_t sa_store_topic_count(const sa_store_t *store);
/** @returns topic @p i (valid until a topic is created or deleted). */
sa_topic_t *sa_store_topic_at(const sa_store_t *store, size_t i);
/** @returns the partition, or NULL if the topic or partition does not exist. */
sa_partition_t *sa_store_partition(const sa_store_t *store, const char *topic, int32_t partition);

/** @returns the name (valid while the topic exists). */
const char *sa_topic_name(const sa_topic_t *topic);
/** @returns the 16-byte topic id (valid while the topic exists). */
const uint8_t *sa_topic_id(const sa_topic_t *topic);
int32_t sa_topic_partition_count(const sa_topic_t *topic);
/** @returns partition @p i, or NULL if out of range. */
sa_partition_t *sa_topic_partition(const sa_topic_t *topic, int32_t i);

/** @returns the number of config entries DescribeConfigs lists for a topic. */
size_t sa_topic_config_count(const sa_topic_t *topic);
/** Fill @p entry with entry @p i (< count). @returns SA_OK or SA_ERR_NOT_FOUND. */
sa_err_t sa_topic_config_get(const sa_topic_t *topic, size_t i, sa_config_entry_t *entry);
/** Find an entry by @p name. @returns SA_OK or SA_ERR_NOT_FOUND (not a topic config). */
sa_err_t sa_topic_config_find(const sa_topic_t *topic, const char *name, sa_config_entry_t *entry);

/* ---- partitions ---- */

/** What an append did. */
typedef struct sa_append_result_s {
    int64_t base_offset;     /* offset of the first record appended */
    int64_t last_offset;     /* offset of the last record appended */
    int64_t log_append_time; /* the time stamped into the batches, or -1 (CreateTime) */
    int64_t log_start_offset;
    int32_t batch_count;
} sa_append_result_t;

/**
 * Append the record batches in @p batches (@p len bytes; borrowed, and rewritten in place:
 * BaseOffset, PartitionLeaderEpoch, and for LogAppendTime topics the timestamp and CRC).
 * Every batch is validated before anything is written: framing, magic 2, CRC-32C
 * (CORRUPT_MESSAGE), magic 0/1 (UNSUPPORTED_FOR_MESSAGE_FORMAT), a batch larger than
 * max.message.bytes (MESSAGE_TOO_LARGE), RecordsCount vs LastOffsetDelta (INVALID_RECORD), a
 * control batch (INVALID_RECORD: only the transaction coordinator writes markers, through
 * sa_partition_append_marker). A transactional batch opens its producer's transaction (txn.c).
 * Rolls the segment by segment.bytes/segment.ms first when due. Not synced: see sa_store_sync().
 *
 * After SA_OK the buffer holds the batches with their final offsets, so the caller can walk
 * them with sa_rb_iter to record ProducerId/ProducerEpoch/BaseSequence/offsets per batch.
 *
 * @returns SA_OK and *res; a validation error (nothing written); KAFKA_STORAGE_ERROR on ENOSPC/EIO
 *          (the partition is exactly as before the call; later appends work once the disk does).
 *          Detail in @p errstr (may be NULL).
 */
sa_err_t sa_partition_append(sa_partition_t *part, uint8_t *batches, size_t len, int64_t now_ms,
                             sa_append_result_t *res, char *errstr, size_t errstr_size);

/**
 * Read whole batches starting with the batch that CONTAINS @p offset, below the HWM, appended
 * to @p out: at most @p max_bytes, but always at least one whole batch when one exists (so a
 * consumer always progresses). One segment per call (a consumer comes back for the next).
 * @returns SA_OK (nothing appended at the HWM); OFFSET_OUT_OF_RANGE below the log start offset
 *          or above the HWM; SA_ERR_TOOBIG if @p out's cap is smaller than the first batch;
 *          KAFKA_STORAGE_ERROR.
 */
sa_err_t sa_partition_read(sa_partition_t *part, int64_t offset, size_t max_bytes, sa_buf_t *out);

int64_t sa_partition_log_start(const sa_partition_t *part); /* first readable offset */
int64_t sa_partition_hwm(const sa_partition_t *part);       /* durable end = readable end */
int64_t sa_partition_leo(const sa_partition_t *part);       /* next offset to assign */
/** @returns the number of log bytes (all segments). */
int64_t sa_partition_size(const sa_partition_t *part);
/** @returns the partition index within its topic. */
int32_t sa_partition_id(const sa_partition_t *part);
/** @returns the topic it belongs to. */
sa_topic_t *sa_partition_topic(const sa_partition_t *part);
/** @returns the number of segments (tests, metrics). */
size_t sa_partition_segment_count(const sa_partition_t *part);

/**
 * ListOffsets by timestamp: the first record below the HWM whose timestamp is >= @p ts
 * (found through the time index, then the records of that batch).
 * @returns SA_OK with *offset and *timestamp, or with *offset = -1 and *timestamp = -1 if none;
 *          KAFKA_STORAGE_ERROR / CORRUPT_MESSAGE.
 */
sa_err_t sa_partition_offset_for_time(sa_partition_t *part, int64_t ts, int64_t *offset, int64_t *timestamp);

/**
 * ListOffsets MAX_TIMESTAMP (-3): the largest timestamp below the HWM and the offset of the first
 * record carrying it, from the segments' tracked maxima (no scan of the log).
 * @returns SA_OK with *offset and *timestamp, both -1 when the partition has nothing readable;
 *          KAFKA_STORAGE_ERROR / CORRUPT_MESSAGE.
 */
sa_err_t sa_partition_max_timestamp(sa_partition_t *part, int64_t *offset, int64_t *timestamp);

/**
 * DeleteRecords: make @p offset (-1: the HWM) the new log start offset, persist it, and delete
 * whole segments below it. *low_watermark (may be NULL) gets the resulting log start offset.
 * @returns SA_OK (an offset at or below the current start changes nothing);
 *          OFFSET_OUT_OF_RANGE above the HWM; KAFKA_STORAGE_ERROR.
 */
sa_err_t sa_partition_delete_records(sa_partition_t *part, int64_t offset, int64_t *low_watermark);

/* ---- transactions (txn.c; KIP-98) ---- */

/**
 * Append a transaction marker for producer @p pid at @p epoch: a control batch (attributes
 * control + transactional) of one record, key {i16 version 0, i16 type: 0 ABORT, 1 COMMIT},
 * value {i16 version 0, i32 @p coordinator_epoch}, as Kafka's EndTransactionMarker. It ends the
 * producer's open transaction here (an ABORT records it in the aborted-transaction index); the
 * last stable offset passes it once the marker is durable (after the next group commit). The
 * producer state records its epoch and @p coordinator_epoch (pstate.h rule 5). Written only for the
 * transaction coordinator and WriteTxnMarkers (which checks it first: sa_pstate_check_marker);
 * client batches may not be control batches.
 * @returns SA_OK and *res; KAFKA_STORAGE_ERROR (nothing written). Detail in @p errstr (may be NULL).
 */
sa_err_t sa_partition_append_marker(sa_partition_t *part, int64_t pid, int16_t epoch, int commit,
                                    int32_t coordinator_epoch, int64_t now_ms, sa_append_result_t *res,
                                    char *errstr, size_t errstr_size);

/**
 * The last stable offset: below it every transaction's outcome is durable, so read_committed
 * readers read up to it. max(log start, min(HWM, first offset of every transaction still open or
 * whose marker is not durable yet)).
 */
int64_t sa_partition_lso(const sa_partition_t *part);

/** @returns 1 and *first (may be NULL) if producer @p pid has a transaction open here (a
 *  transactional batch and no marker after it), else 0. */
int sa_partition_txn_open(const sa_partition_t *part, int64_t pid, int64_t *first);

/** @returns how many transactions are open here (their marker not durable yet). */
size_t sa_partition_txn_count(const sa_partition_t *part);

/** An aborted transaction as a read_committed Fetch reports it. */
typedef struct sa_aborted_txn_s {
    int64_t producer_id;
    int64_t first_offset;
} sa_aborted_txn_t;

/**
 * The aborted transactions whose records may lie in [@p from, @p upto): those whose ABORT marker
 * is at or after @p from and whose first offset is below @p upto (Kafka's
 * collectAbortedTransactions), oldest marker first, appended to @p out (an array of
 * sa_aborted_txn_t; returns new entries, the caller frees out->data).
 * @returns how many were appended.
 */
size_t sa_partition_aborted_txns(const sa_partition_t *part, int64_t from, int64_t upto, sa_buf_t *out);

/**
 * sa_partition_read, but only batches that start below @p end (<= the HWM; the LSO for
 * read_committed): a read at or past @p end appends nothing.
 */
sa_err_t sa_partition_read_upto(sa_partition_t *part, int64_t offset, size_t max_bytes, int64_t end,
                                sa_buf_t *out);

/** One entry of a .txnindex file as the dumper reads it: an aborted transaction (@p aborted 1:
 *  first and last offset, lso) or one open at the segment's end (epoch, first offset). */
typedef struct sa_txnindex_entry_s {
    int aborted;
    int64_t pid;
    int16_t epoch; /* open ones */
    int64_t first; /* first offset of the transaction */
    int64_t last;  /* aborted ones: the ABORT marker */
    int64_t lso;   /* aborted ones: the LSO right after it */
} sa_txnindex_entry_t;

/**
 * Read the .txnindex file @p path (format above) for `samsa dump-log`: @p fn(opaque, entry)
 * for each entry, aborted ones first. @returns SA_OK, SA_ERR_CORRUPT (bad magic, size or CRC; with
 * what is wrong in @p errstr), KAFKA_STORAGE_ERROR.
 */
sa_err_t sa_txnindex_read_file(const char *path, void (*fn)(void *opaque, const sa_txnindex_entry_t *e),
                               void *opaque, char *errstr, size_t errstr_size);

/** The marker type of the control batch @p batch (@p len bytes): 1 COMMIT, 0 ABORT, -1 not a
 *  transaction marker; *coordinator_epoch (may be NULL) gets its value's coordinator epoch. */
int sa_txn_marker_type(const uint8_t *batch, size_t len, int32_t *coordinator_epoch);

/**
 * Visit the header of every batch from the one containing @p from_offset to the LEO (including
 * unsynced ones), in order: for rebuilding producer state (idempotence) after open. @p cb
 * returns 0 to go on, non-zero to stop (that value is returned as the sa_err_t).
 * @returns SA_OK, the callback's stop value, KAFKA_STORAGE_ERROR.
 */
typedef int(sa_batch_visit_cb)(void *opaque, const sa_rb_header_t *hdr);
sa_err_t sa_partition_scan_batches(sa_partition_t *part, int64_t from_offset, sa_batch_visit_cb *cb,
                                   void *opaque);

/* ---- producer state (producers.c; pstate.h has the rules) ---- */

/**
 * @returns the partition's producer state (borrowed, valid while the partition exists): every
 * batch and marker it wrote is recorded in it by sa_partition_append/_append_marker, and whole
 * from open on (loaded from the newest snapshot, the rest of the log scanned inside
 * sa_store_open). The produce handler checks batches against it with sa_pstate_check before it
 * appends them; nothing else may change it.
 */
sa_pstate_t *sa_partition_pstate(sa_partition_t *part);

/**
 * Producer-id expiry (producer.id.expiration.ms of the store's conf): remove from each partition's
 * state the producers whose last write is older than the expiration and that have no transaction
 * open there. One call visits partitions from where the last one stopped until about @p budget
 * producers were looked at, so that a loop turn stays short.
 * @returns 1 if the pass is not over (call again soon), 0 when it reached the last partition.
 */
int sa_store_expire_producers(sa_store_t *store, int64_t now_ms, size_t budget);

#endif
