/*
 * metalog.h - the metadata log: the broker's small durable state that is not a partition
 * (committed offsets, group membership records, producer-id blocks; next: transaction state,
 * SCRAM users, ACLs), kept as framed, CRC-32C-checked records in an append-only file and made
 * durable by the store's group commit, on its sync threads, together with the partitions.
 *
 * Model. A log is a sequence of records, each a one-byte KIND and an opaque PAYLOAD. The log
 * neither knows nor cares what a kind means: its OWNER (sa_metalog_owner_t, the broker's
 * metastore.c) keeps the state in memory, applies records to it, and can write that state out
 * again as records (a snapshot). Memory always equals the replay of the durable file:
 *   - open checks every frame and cuts a torn or corrupt tail (only the tail can be damaged:
 *     records are appended whole, at the end, in one write);
 *   - attach replays the file into the owner;
 *   - an append writes the record (no fsync) and the owner applies it to memory at once;
 *   - the store's group commit (sa_store_sync_start/_finish, sa_store_sync) fdatasyncs the file
 *     with the partitions, off the loop thread; a record is durable iff sa_metalog_durable();
 *   - a failed fdatasync cuts the file back to its last durable end (the kernel may have dropped
 *     the pages, so what is above is unknown), asks the owner to forget everything and replays
 *     the file again: the records of the failed commit vanish from memory too, and their
 *     waiters learn it from sa_metalog_durable(). Appends then resume, as on a partition;
 *   - compaction: when the file holds much more than the live state, the group commit that
 *     starts next writes the owner's snapshot to NAME.log.compact (loop thread, page cache only)
 *     and its sync thread fdatasyncs it, renames it over NAME.log and fsyncs the directory.
 *     Appends made meanwhile go to the new file. If the fdatasync or the rename fails, the old
 *     file is still the log: it is cut back to its durable end and replayed, as above. If only
 *     the directory fsync fails, which of the two files a crash would leave is unknown (both are
 *     complete logs); the log refuses appends (KAFKA_STORAGE_ERROR) until a restart.
 *
 * The byte format is documented in metalog.c, where it is implemented.
 *
 * Ownership: sa_metalog_open() registers the log with its store, which owns it: it is closed by
 * sa_metalog_close() or, at the latest, by sa_store_close().
 *
 * @locality the thread that drives the store (the broker's loop thread); the store's helper
 * threads only fdatasync/rename/fsync the files named in a sync job.
 */
#ifndef SA_STORAGE_METALOG_H
#define SA_STORAGE_METALOG_H

#include <stddef.h>
#include <stdint.h>

#include "core/buf.h"
#include "core/err.h"

typedef struct sa_store_s sa_store_t;
typedef struct sa_metalog_s sa_metalog_t;

#define SA_METALOG_RECORD_MAX (1u << 20) /* kind + payload: far above any valid record */

typedef struct sa_metalog_conf_s {
    int64_t compact_min_bytes; /* never compact a file smaller than this (default 1 MiB) */
    uint64_t compact_slack;    /* ...nor one holding <= 2 * live + this records (default 1000) */
} sa_metalog_conf_t;

/** Fill @p conf with the defaults. */
void sa_metalog_conf_defaults(sa_metalog_conf_t *conf);

/** Collects a snapshot's records (see sa_metalog_owner_t.snapshot). */
typedef struct sa_metalog_writer_s {
    sa_buf_t *_buf;    /* framed records */
    uint64_t _records; /* how many */
} sa_metalog_writer_t;

/** What the log needs from the state it persists. Every callback runs on the store's thread. */
typedef struct sa_metalog_owner_s {
    /** Apply one record to memory (replay). @returns SA_OK, or SA_ERR_CORRUPT if the kind is
     *  unknown or the payload does not parse: the replay stops with an error. */
    sa_err_t (*apply)(void *opaque, uint8_t kind, const uint8_t *payload, size_t len);
    /** Forget all state: a replay from the beginning follows. */
    void (*reset)(void *opaque);
    /** @returns how many records snapshot() would write now (the compaction threshold). */
    uint64_t (*live)(void *opaque);
    /** Write every live record with sa_metalog_put(); replaying them alone recreates the state. */
    void (*snapshot)(void *opaque, sa_metalog_writer_t *w);
    /** May be NULL: a failed sync's reset and replay are done (state derived from the owner's,
     *  elsewhere, can catch up now). */
    void (*rebuilt)(void *opaque);
} sa_metalog_owner_t;

/**
 * Open (creating if missing) DIR/@p name.log of @p store (@p name borrowed, e.g. "metadata"),
 * check every frame, cut a torn tail, and register it with the store's group commit.
 * @p conf may be NULL (defaults).
 * @returns SA_OK and *logp (owned by the store; see the top); KAFKA_STORAGE_ERROR (I/O) or
 *          SA_ERR_CORRUPT (not a metadata log: bad magic) with detail in @p errstr. *logp NULL then.
 */
sa_err_t sa_metalog_open(sa_store_t *store, const char *name, const sa_metalog_conf_t *conf,
                         sa_metalog_t **logp, char *errstr, size_t errstr_size);

/**
 * Give the log its owner (@p owner and @p opaque borrowed until close) and replay every record
 * into it. @returns SA_OK, SA_ERR_CORRUPT (a record the owner refused: "kind K at byte P") or
 * KAFKA_STORAGE_ERROR, with detail in @p errstr.
 */
sa_err_t sa_metalog_attach(sa_metalog_t *log, const sa_metalog_owner_t *owner, void *opaque, char *errstr,
                           size_t errstr_size);

/**
 * Sync what is pending (blocking), close the file and unregister from the store. The owner is
 * never called again. NULL is fine. @returns SA_OK or KAFKA_STORAGE_ERROR (the final sync failed;
 * those records may be lost, as any unacknowledged ones).
 */
sa_err_t sa_metalog_close(sa_metalog_t *log);

/**
 * Append one record (@p payload borrowed; @p len + 1 <= SA_METALOG_RECORD_MAX). Not synced: it
 * is durable after the next group commit, if sa_metalog_durable(*seq) says so then. The caller
 * applies it to its memory itself (only after SA_OK).
 * @returns SA_OK and *seq (may be NULL): the record's sequence number (> 0);
 *          KAFKA_STORAGE_ERROR if the write failed (the file is as before) or the log refuses
 *          appends after an unrecoverable failure; SA_ERR_TOOBIG if the record is too large.
 */
sa_err_t sa_metalog_append(sa_metalog_t *log, uint8_t kind, const void *payload, size_t len, uint64_t *seq);

/**
 * Is record @p seq durable? 1 once a group commit covering it succeeded; 0 while it waits for
 * one, and for good if a failed sync cut it. @p seq 0 (nothing appended) is durable. Exact when
 * asked right after the commit that covered @p seq completed (a sync waiter's callback).
 */
int sa_metalog_durable(const sa_metalog_t *log, uint64_t seq);

/** @returns the sequence number of the last record appended (0 if none since open). */
uint64_t sa_metalog_last_seq(const sa_metalog_t *log);

/** Add one record to a snapshot being written (see sa_metalog_owner_t.snapshot). */
void sa_metalog_put(sa_metalog_writer_t *w, uint8_t kind, const void *payload, size_t len);

/**
 * Compact now, blocking: write the owner's snapshot to NAME.log.compact, fdatasync it, rename it
 * over NAME.log and fsync the directory (start-up and migrations only; at run time the group
 * commit compacts). @returns SA_OK or KAFKA_STORAGE_ERROR (the old file is then still the log).
 */
sa_err_t sa_metalog_rewrite_now(sa_metalog_t *log, char *errstr, size_t errstr_size);

/** Counters for logs, tests and the dumper. */
typedef struct sa_metalog_stats_s {
    uint64_t records;     /* records in the file now */
    uint64_t bytes;       /* file size (whole records) */
    uint64_t syncs;       /* successful syncs that covered new records */
    uint64_t compactions; /* compacted files installed */
    uint64_t truncated;   /* bytes of torn or corrupt tail cut at open */
    uint64_t cuts;        /* failed syncs that cut the file back */
    int failed;           /* refuses appends until restart */
} sa_metalog_stats_t;
void sa_metalog_stats(const sa_metalog_t *log, sa_metalog_stats_t *out);

/* ---- reading a file without a store (the dumper, tests) ---------------------------------- */

/** Called per valid record: position of its frame, kind, payload (valid during the call). Non-zero stops. */
typedef int(sa_metalog_visit_fn)(void *opaque, int64_t pos, uint8_t kind, const uint8_t *payload, size_t len);

/** Where a scan ended. */
typedef struct sa_metalog_scan_s {
    int64_t valid_end; /* bytes of magic + whole, intact records */
    int64_t file_size; /* bytes in the file */
    uint64_t records;  /* valid records visited */
    char why[128];     /* why the scan stopped before file_size ("" if it did not) */
} sa_metalog_scan_t;

/**
 * Visit every record of the metadata log file @p path (borrowed) up to the first damaged byte.
 * @returns SA_OK (also when a torn tail ended it: see @p res->why), SA_ERR_CORRUPT (not a
 *          metadata log: bad magic), KAFKA_STORAGE_ERROR (cannot open/read, errno set), or the
 *          visitor's stop value.
 */
sa_err_t sa_metalog_scan_file(const char *path, sa_metalog_visit_fn *fn, void *opaque,
                              sa_metalog_scan_t *res);

/** @returns 1 if the @p len bytes at @p head start a metadata log file (its magic). */
int sa_metalog_is_magic(const void *head, size_t len);

#endif
