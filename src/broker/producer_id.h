/*
 * producer_id.h - producer ids for InitProducerId, unique across restarts.
 *
 * Ids are handed out from blocks of SA_PID_BLOCK. Before the first id of a block is given out,
 * the end of the block is written crash-safely to DIR/producer-ids ("next=<N>\n", temp file +
 * fsync + rename), so after any crash the next start resumes at or past every id ever handed
 * out (the unused rest of a block is skipped). One small fsync per SA_PID_BLOCK producers.
 *
 * @locality the broker's loop thread.
 */
#ifndef SA_BROKER_PRODUCER_ID_H
#define SA_BROKER_PRODUCER_ID_H

#include <stddef.h>
#include <stdint.h>

#include "core/err.h"

#define SA_PID_BLOCK 1000

typedef struct sa_pid_alloc_s sa_pid_alloc_t;

/**
 * Open the allocator stored in @p dir (borrowed; must exist).
 * @returns SA_OK and *out (new: sa_pid_alloc_free), or KAFKA_STORAGE_ERROR / SA_ERR_CORRUPT with
 * errstr (*out NULL).
 */
sa_err_t sa_pid_alloc_open(const char *dir, sa_pid_alloc_t **out, char *errstr, size_t errstr_size);
void sa_pid_alloc_free(sa_pid_alloc_t *pa);
/** Hand out the next producer id. @returns SA_OK with *pid, or KAFKA_STORAGE_ERROR (nothing handed out). */
sa_err_t sa_pid_alloc_next(sa_pid_alloc_t *pa, int64_t *pid);

#endif
