/*
 * pstate.h - a partition's producer state (idempotence, KIP-98): the core, without files.
 *
 * For each producer id that wrote to a partition: its epoch, its last five batches (first/last
 * sequence, first/last offset: the window librdkafka and the Java client keep in flight with
 * max.in.flight.requests.per.connection <= 5), the timestamp of its last write and the
 * coordinator epoch of its last transaction marker. The partition owns one (storage_int.h) and
 * feeds it every batch it writes, every batch it rescans at open and every cut of its tail, so the
 * state always describes exactly the log (plus what a snapshot remembers of deleted segments).
 * The broker's produce handler checks batches against it before appending (producer_state.h).
 *
 * Rules of sa_pstate_check (Kafka's ProducerAppendInfo):
 *   1. a producer the partition does not know (never seen, or expired: sa_pstate_expire) is
 *      accepted with any sequence, as Kafka does since 2.5 (KIP-360): its state may have been
 *      removed by expiry, retention or DeleteRecords, and a producer that goes on where it left
 *      off has done nothing wrong;
 *   2. older epoch: INVALID_PRODUCER_EPOCH;
 *   3. newer epoch: sequence 0 starts the new epoch (the ring is cleared when it is recorded);
 *      anything else is OUT_OF_ORDER_SEQUENCE_NUMBER;
 *   4. same epoch: a batch with the first and last sequence of a remembered batch is a
 *      duplicate; the sequence right after the last one is accepted; anything else is
 *      OUT_OF_ORDER_SEQUENCE_NUMBER. Sequences wrap from INT32_MAX to 0;
 *   5. a transaction marker (control batch, written by the transaction coordinator) carries the
 *      producer's epoch: a newer one becomes the producer's epoch here and empties the ring (the
 *      next batch starts a new sequence space at 0: KIP-890 part 2 bumps the epoch on every
 *      transaction, a fence or a timeout bumps it once), so batches of the older epoch are
 *      refused with INVALID_PRODUCER_EPOCH; a marker of the same epoch changes nothing (with
 *      EndTxn v0-4 sequences go on across transactions). After such a reset a non-zero
 *      sequence is OUT_OF_ORDER_SEQUENCE_NUMBER;
 *   6. a known producer whose remembered batches a failed sync cut off (sa_pstate_truncate left
 *      its entry empty) must start over: a non-zero sequence is UNKNOWN_PRODUCER_ID, on which
 *      librdkafka and the Java client reset their sequence.
 * A marker written for a WriteTxnMarkers request (Kafka's appendEndTxnMarker) is checked first
 * with sa_pstate_check_marker: an epoch older than the producer's is INVALID_PRODUCER_EPOCH, a
 * coordinator epoch older than that of its last marker here TRANSACTION_COORDINATOR_FENCED. The
 * coordinator's own markers are not checked: on one node it is the authority on epochs.
 *
 * Expiry (sa_pstate_expire, Kafka's producer.id.expiration.ms): a producer whose last write is
 * older than the expiration and that has no transaction open here is forgotten; an open
 * transaction is never expired this way (the coordinator's transaction timeout ends it).
 *
 * Snapshot (sa_pstate_encode/decode): the whole state as one CRC-checked blob, the payload of a
 * <offset>.snapshot file (format in storage.h).
 *
 * @locality one thread at a time (the broker's loop thread; any thread for a state of its own).
 */
#ifndef SA_STORAGE_PSTATE_H
#define SA_STORAGE_PSTATE_H

#include <stddef.h>
#include <stdint.h>

#include "core/err.h"

typedef struct sa_pstate_s sa_pstate_t;
typedef struct sa_rb_header_s sa_rb_header_t;
typedef struct sa_buf_s sa_buf_t;

#define SA_PRODUCER_STATE_WINDOW 5 /* batches remembered per producer and partition */

/** Where a duplicate batch was written the first time. */
typedef struct sa_producer_dup_s {
    int64_t base_offset;
    int64_t last_offset;
} sa_producer_dup_t;

/** One producer a partition knows, as DescribeProducers reports it. */
typedef struct sa_producer_info_s {
    int64_t producer_id;
    int16_t epoch;
    int32_t last_sequence;     /* of its last batch still remembered, -1 if none */
    int64_t last_timestamp;    /* MaxTimestamp of its last batch or marker, -1 if none */
    int32_t coordinator_epoch; /* of its last marker, -1 if none */
} sa_producer_info_t;

/** @returns new: an empty state (free with sa_pstate_free). */
sa_pstate_t *sa_pstate_new(void);
void sa_pstate_free(sa_pstate_t *st);
/** @returns how many producers @p st knows. */
size_t sa_pstate_count(const sa_pstate_t *st);
/** Check one batch header against @p st (rules above).
 * @returns SA_OK: append; SA_ERR_DUPLICATE_SEQUENCE_NUMBER with *dup: already appended;
 *          OUT_OF_ORDER_SEQUENCE_NUMBER, INVALID_PRODUCER_EPOCH, UNKNOWN_PRODUCER_ID: refuse. */
sa_err_t sa_pstate_check(const sa_pstate_t *st, const sa_rb_header_t *hdr, sa_producer_dup_t *dup);
/** Record one batch header (with its final BaseOffset); a control batch counts as a marker of
 *  coordinator epoch 0 (the header does not carry it: storage, which reads it, calls
 *  sa_pstate_marker for markers). */
void sa_pstate_record(sa_pstate_t *st, const sa_rb_header_t *hdr);
/** Record a transaction marker of @p pid at @p epoch, written by coordinator epoch
 *  @p coordinator_epoch, stamped @p timestamp (-1: unknown). */
void sa_pstate_marker(sa_pstate_t *st, int64_t pid, int16_t epoch, int32_t coordinator_epoch,
                      int64_t timestamp);
/** May a marker of @p pid at @p epoch from coordinator epoch @p coordinator_epoch be written (the
 *  rule above)? @returns SA_OK (also for a producer @p st does not know), INVALID_PRODUCER_EPOCH,
 *  TRANSACTION_COORDINATOR_FENCED. */
sa_err_t sa_pstate_check_marker(const sa_pstate_t *st, int64_t pid, int16_t epoch, int32_t coordinator_epoch);
/** Append the producers @p st knows to @p out as sa_producer_info_t, by producer id. @returns how many. */
size_t sa_pstate_list(const sa_pstate_t *st, sa_buf_t *out);
/** Forget batches whose last offset is >= @p end_offset. */
void sa_pstate_truncate(sa_pstate_t *st, int64_t end_offset);

/** Told about each producer sa_pstate_expire would remove: non-zero keeps it (an open transaction). */
typedef int(sa_pstate_keep_cb)(void *opaque, int64_t pid);
/**
 * Remove every producer whose last write (batch or marker timestamp) is older than
 * @p now_ms - @p expiration_ms and that @p keep (may be NULL) does not keep, looking at no more
 * than *@p budget producers (less the ones it looked at when it returns): the walk starts at
 * *@p pos (0: the beginning) and leaves it where it stopped, or at 0 when it reached the end (the
 * map is then shrunk if most of it went).
 * @returns how many were removed.
 */
size_t sa_pstate_expire(sa_pstate_t *st, int64_t now_ms, int64_t expiration_ms, sa_pstate_keep_cb *keep,
                        void *opaque, size_t *pos, size_t *budget);

/** Append the snapshot file's bytes for the state at @p offset (the offset after the last batch it
 *  includes) to @p out: header, producers by id, CRC (storage.h). */
void sa_pstate_encode(const sa_pstate_t *st, int64_t offset, sa_buf_t *out);
/** One batch of a producer in a snapshot. */
typedef struct sa_pstate_snap_batch_s {
    int32_t first_sequence, last_sequence;
    int64_t first_offset, last_offset;
} sa_pstate_snap_batch_t;

/** One producer of a snapshot, as the file has it (`samsa dump-log`). */
typedef struct sa_pstate_snap_entry_s {
    int64_t producer_id;
    int16_t epoch;
    int64_t last_timestamp;    /* -1: none */
    int32_t coordinator_epoch; /* of its last marker, -1: none */
    int bumped;                /* a marker moved the epoch on: no batches */
    int nbatches;
    sa_pstate_snap_batch_t batches[SA_PRODUCER_STATE_WINDOW]; /* oldest first */
} sa_pstate_snap_entry_t;

typedef void(sa_pstate_snap_fn)(void *opaque, const sa_pstate_snap_entry_t *e);

/**
 * Read snapshot bytes @p data (@p len, borrowed) for `samsa dump-log`: @p fn(opaque, entry) for each
 * producer, in file order, while the framing is checked; *offset gets the snapshot's offset and
 * *crc_ok whether its CRC matches (a mismatch is reported, not refused, so the dump still shows what
 * the file says). @returns SA_OK, or SA_ERR_CORRUPT when the bytes cannot be read as a snapshot
 * (magic, version, a truncated or inconsistent entry) with what is wrong in *why (static), after
 * @p fn saw the entries before it.
 */
sa_err_t sa_pstate_snapshot_walk(const uint8_t *data, size_t len, sa_pstate_snap_fn *fn, void *opaque,
                                 int64_t *offset, int *crc_ok, const char **why);

/**
 * Parse snapshot bytes @p data (@p len, borrowed).
 * @returns SA_OK with *stp (returns new) and *offset; SA_ERR_CORRUPT (bad magic, version, size,
 *          CRC or entry) with what is wrong in *why (a static string).
 */
sa_err_t sa_pstate_decode(const uint8_t *data, size_t len, sa_pstate_t **stp, int64_t *offset,
                          const char **why);

#endif
