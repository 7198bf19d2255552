/*
 * producer_state.h - idempotent-producer deduplication for the produce handler.
 *
 * Each partition owns its producer state (storage/pstate.h: the rules, expiry, snapshots): storage
 * records every batch it writes, loads the state from the newest <offset>.snapshot at open and
 * rescans only the log after it, before the broker serves anything, so no produce request ever
 * waits for a rebuild. This module checks a Produce request's batch set against it: a batch that
 * arrives again (the producer retried after a cut connection) is recognised by its sequence range
 * and answered with its original offsets; it is never written twice. A sequence gap or an old
 * epoch is refused with the error Kafka gives, which librdkafka's idempotence code expects.
 *
 * HOW THE PRODUCE HANDLER USES IT (per partition of a Produce request, batches = the records):
 *
 *   sa_producer_dup_t dup;
 *   sa_err_t err = sa_producer_state_check(part, batches, len, &dup);
 *   if (err == SA_ERR_DUPLICATE_SEQUENCE_NUMBER) -> answer ErrorCode NONE, BaseOffset =
 *        dup.base_offset, append nothing (the original append is durable or in this turn's sync);
 *   else if (err) -> answer ErrorCode err, append nothing;
 *   else sa_partition_append(...) (which records the batches in the partition's state).
 *
 * @locality the broker's loop thread.
 */
#ifndef SA_BROKER_PRODUCER_STATE_H
#define SA_BROKER_PRODUCER_STATE_H

#include <stddef.h>
#include <stdint.h>

#include "core/err.h"
#include "storage/pstate.h"

typedef struct sa_partition_s sa_partition_t;

/**
 * Check the batches about to be appended to @p part (@p batches/@p len borrowed; framing is
 * assumed valid: the storage validates it on append, and a malformed set passes here so the
 * append reports it). Batches without a producer id (-1) are not checked.
 * @returns SA_OK: append; SA_ERR_DUPLICATE_SEQUENCE_NUMBER with *dup: already appended;
 *          OUT_OF_ORDER_SEQUENCE_NUMBER, INVALID_PRODUCER_EPOCH, UNKNOWN_PRODUCER_ID: refuse.
 */
sa_err_t sa_producer_state_check(sa_partition_t *part, const uint8_t *batches, size_t len,
                                 sa_producer_dup_t *dup);

/** The producers @p part knows, by producer id, appended to @p out as sa_producer_info_t.
 *  @returns how many. */
size_t sa_producer_state_list(sa_partition_t *part, sa_buf_t *out);

#endif
