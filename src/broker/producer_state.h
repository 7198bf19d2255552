/*
 * producer_state.h - idempotent-producer deduplication, per partition.
 *
 * For each partition and producer id the broker remembers the producer's epoch and its last
 * five batches (first/last sequence, first/last offset), the same window librdkafka and the
 * Java client keep in flight (max.in.flight.requests.per.connection <= 5 with idempotence).
 * A batch that arrives again (the producer retried after a cut connection) is recognised by its
 * sequence range and answered with its original offsets; it is never written twice. A sequence
 * gap, an old epoch, or a producer the partition does not know with a non-zero sequence are
 * refused with the error Kafka gives, which librdkafka's idempotence code expects.
 *
 * The state is rebuilt from the log the first time a partition is used after a start: the
 * headers of its batches are scanned (sa_partition_scan_batches) and fed to the same recording
 * code as live appends.
 *
 * HOW THE PRODUCE HANDLER USES IT (per partition of a Produce request, batches = the records):
 *
 *   sa_producer_dup_t dup;
 *   sa_err_t err = sa_producer_state_check(ps, part, batches, len, &dup);
 *   if (err == SA_ERR_DUPLICATE_SEQUENCE_NUMBER) -> answer ErrorCode NONE, BaseOffset =
 *        dup.base_offset, append nothing (the original append is durable or in this turn's sync);
 *   else if (err) -> answer ErrorCode err, append nothing;
 *   else { sa_partition_append(...); if it succeeded: sa_producer_state_record(ps, part, batches, len); }
 *
 * and when a sync fails and the storage cuts a partition back to its HWM:
 *   sa_producer_state_truncate(ps, part, sa_partition_hwm(part));
 *
 * @locality the broker's loop thread.
 */
#ifndef SA_BROKER_PRODUCER_STATE_H
#define SA_BROKER_PRODUCER_STATE_H

#include <stddef.h>
#include <stdint.h>

#include "core/err.h"

typedef struct sa_producer_states_s sa_producer_states_t;
typedef struct sa_partition_s sa_partition_t;
typedef struct sa_rb_header_s sa_rb_header_t;
typedef struct sa_buf_s sa_buf_t;

#define SA_PRODUCER_STATE_WINDOW 5 /* batches remembered per producer and partition */

/** Where a duplicate batch was written the first time. */
typedef struct sa_producer_dup_s {
    int64_t base_offset;
    int64_t last_offset;
} sa_producer_dup_t;

/** @returns new: an empty registry (states are created per partition on first use). */
sa_producer_states_t *sa_producer_states_new(void);
void sa_producer_states_free(sa_producer_states_t *ps);

/**
 * Check the batches about to be appended to @p part (@p batches/@p len borrowed; framing is
 * assumed valid: the storage validates it on append, and a malformed set passes here so the
 * append reports it). Batches without a producer id (-1) are not checked.
 * @returns SA_OK: append; SA_ERR_DUPLICATE_SEQUENCE_NUMBER with *dup: already appended;
 *          OUT_OF_ORDER_SEQUENCE_NUMBER, INVALID_PRODUCER_EPOCH, UNKNOWN_PRODUCER_ID: refuse.
 */
sa_err_t sa_producer_state_check(sa_producer_states_t *ps, sa_partition_t *part, const uint8_t *batches,
                                 size_t len, sa_producer_dup_t *dup);

/** Record the batches just appended to @p part (their BaseOffsets are final now). */
void sa_producer_state_record(sa_producer_states_t *ps, sa_partition_t *part, const uint8_t *batches,
                              size_t len);

/** A transaction marker of @p pid at @p epoch, stamped @p timestamp, was just appended to @p part
 *  (rule 5 of producer_state.c: a newer epoch fences the older one here). */
void sa_producer_state_marker(sa_producer_states_t *ps, sa_partition_t *part, int64_t pid, int16_t epoch,
                              int64_t timestamp);

/** One producer a partition knows, as DescribeProducers reports it. */
typedef struct sa_producer_info_s {
    int64_t producer_id;
    int16_t epoch;
    int32_t last_sequence;     /* of its last batch still remembered, -1 if none */
    int64_t last_timestamp;    /* MaxTimestamp of its last batch or marker, -1 if none */
    int32_t coordinator_epoch; /* of its last marker, -1 if none */
} sa_producer_info_t;

/** The producers @p part knows (its state rebuilt from the log if not yet), by producer id,
 *  appended to @p out as sa_producer_info_t. @returns how many. */
size_t sa_producer_state_list(sa_producer_states_t *ps, sa_partition_t *part, sa_buf_t *out);

/** Forget batches at or above @p end_offset (the storage cut the unsynced tail). */
void sa_producer_state_truncate(sa_producer_states_t *ps, sa_partition_t *part, int64_t end_offset);

/* ---- the per-partition core, without storage (exposed for unit tests) --------------------- */

typedef struct sa_pstate_s sa_pstate_t;

sa_pstate_t *sa_pstate_new(void);
void sa_pstate_free(sa_pstate_t *st);
/** Check one batch header against @p st. Same results as sa_producer_state_check(). */
sa_err_t sa_pstate_check(const sa_pstate_t *st, const sa_rb_header_t *hdr, sa_producer_dup_t *dup);
/** Record one batch header (with its final BaseOffset); a control batch counts as a marker. */
void sa_pstate_record(sa_pstate_t *st, const sa_rb_header_t *hdr);
/** Record a transaction marker of @p pid at @p epoch stamped @p timestamp (-1: unknown). */
void sa_pstate_marker(sa_pstate_t *st, int64_t pid, int16_t epoch, int64_t timestamp);
/** Same as sa_producer_state_list() for one partition's state. */
size_t sa_pstate_list(const sa_pstate_t *st, sa_buf_t *out);
/** Forget batches whose last offset is >= @p end_offset. */
void sa_pstate_truncate(sa_pstate_t *st, int64_t end_offset);

#endif
