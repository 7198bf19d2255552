/*
 * producer_id.h - producer ids for InitProducerId, unique across restarts.
 *
 * Ids are handed out from blocks of SA_PID_BLOCK. Before the first id of a block may leave, a
 * producer_ids record with the block's end is appended to the metadata log (kind 5 of
 * broker/metastore.h) and made durable by the store's group commit: the InitProducerId that asked
 * for it waits for that commit (sa_pid_alloc_next returns the record's sequence number), so after
 * any crash the next start resumes at or past every id ever handed out (the unused rest of a
 * block is skipped). One small record per SA_PID_BLOCK producers, and no fsync of its own.
 *
 * Keep in mind for transactions (KIP-98): a transactional producer's id and epoch will live in the
 * transaction coordinator's records of the same log; this allocator only guarantees uniqueness.
 *
 * @locality the broker's loop thread.
 */
#ifndef SA_BROKER_PRODUCER_ID_H
#define SA_BROKER_PRODUCER_ID_H

#include <stddef.h>
#include <stdint.h>

#include "core/buf.h"
#include "core/err.h"
#include "storage/metalog.h"

#define SA_PID_BLOCK 1000

typedef struct sa_pid_alloc_s sa_pid_alloc_t;

/** @returns new: an allocator appending to @p log (borrowed; NULL in tests: memory only). */
sa_pid_alloc_t *sa_pid_alloc_new(sa_metalog_t *log);
void sa_pid_alloc_free(sa_pid_alloc_t *pa);

/**
 * Take the next producer id. It may be given to a client once record *@p seq is durable
 * (sa_metalog_durable; 0 when it already is): if that record is lost to a failed sync, the id
 * was never given out and the allocator has gone back to the durable block (see metalog.h).
 * @returns SA_OK with *pid and *seq, or KAFKA_STORAGE_ERROR (nothing taken).
 */
sa_err_t sa_pid_alloc_next(sa_pid_alloc_t *pa, int64_t *pid, uint64_t *seq);

/* ---- as the owner of its record kind (broker/metastore.c) -------------------------------- */

/** Apply a producer_ids record. @returns SA_OK or SA_ERR_CORRUPT. */
sa_err_t sa_pid_alloc_apply(sa_pid_alloc_t *pa, const uint8_t *payload, size_t len);
/** Forget everything (a replay follows). */
void sa_pid_alloc_reset(sa_pid_alloc_t *pa);
/** @returns how many records sa_pid_alloc_snapshot() writes (0 or 1). */
uint64_t sa_pid_alloc_live(const sa_pid_alloc_t *pa);
void sa_pid_alloc_snapshot(const sa_pid_alloc_t *pa, sa_metalog_writer_t *w);
/** Encode a producer_ids record for block end @p end into @p out (the migration writes one). */
void sa_pid_alloc_encode(int64_t end, sa_buf_t *out);
/** Describe a producer_ids record as JSON object members. @returns SA_OK or SA_ERR_CORRUPT. */
sa_err_t sa_pid_alloc_describe(const uint8_t *payload, size_t len, sa_buf_t *out);

#endif
