/*
 * producer_id.c - block-reserved producer id allocator (see producer_id.h).
 *
 * Payload of a producer_ids record (kind 5): i64 BE block end. Ids below it may have been
 * handed out; a replay therefore resumes at the largest end it saw.
 *
 * Invariants:
 *   1. next <= reserved (an id is only taken from a block whose record was appended).
 *   2. Every id handed to a client is < the largest block end that is durable, because the
 *      client is answered only once the record that covers its id is (InitProducerId waits).
 *   3. After a replay next == reserved == the largest durable end: ids of a block whose record
 *      was cut were never handed out, and ids of a durable block may have been, so skip them.
 */
#include "broker/producer_id.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>

#include "broker/metastore.h"
#include "core/check.h"
#include "core/log.h"
#include "core/mem.h"

struct sa_pid_alloc_s {
    sa_metalog_t *log; /* borrowed (NULL: memory only) */
    int64_t next;      /* next id to take */
    int64_t reserved;  /* ids below this are covered by an appended producer_ids record */
    uint64_t seq;      /* that record's sequence number in the log (0: durable or none) */
};

static void check_pids(const sa_pid_alloc_t *pa) { assert(pa->next >= 0 && pa->next <= pa->reserved); }

sa_pid_alloc_t *sa_pid_alloc_new(sa_metalog_t *log) {
    sa_pid_alloc_t *pa = sa_new(sa_pid_alloc_t);
    pa->log = log;
    return pa;
}

void sa_pid_alloc_free(sa_pid_alloc_t *pa) { free(pa); }

void sa_pid_alloc_encode(int64_t end, sa_buf_t *out) { sa_buf_put_be64(out, (uint64_t)end); }

sa_err_t sa_pid_alloc_apply(sa_pid_alloc_t *pa, const uint8_t *payload, size_t len) {
    if (len != 8) return SA_ERR_CORRUPT;
    int64_t end = (int64_t)sa_load_be64(payload);
    if (end < 0) return SA_ERR_CORRUPT;
    if (end > pa->reserved) pa->reserved = end;
    pa->next = pa->reserved; /* invariant 3 */
    pa->seq = 0;
    return SA_OK;
}

void sa_pid_alloc_reset(sa_pid_alloc_t *pa) { pa->next = pa->reserved = 0, pa->seq = 0; }

uint64_t sa_pid_alloc_live(const sa_pid_alloc_t *pa) { return pa->reserved > 0; }

void sa_pid_alloc_snapshot(const sa_pid_alloc_t *pa, sa_metalog_writer_t *w) {
    if (!pa->reserved) return;
    uint8_t p[8];
    sa_store_be64(p, (uint64_t)pa->reserved);
    sa_metalog_put(w, SA_META_PRODUCER_IDS, p, sizeof(p));
}

sa_err_t sa_pid_alloc_describe(const uint8_t *payload, size_t len, sa_buf_t *out) {
    if (len != 8) return SA_ERR_CORRUPT;
    sa_buf_printf(out, "\"block_end\":%" PRId64, (int64_t)sa_load_be64(payload));
    return SA_OK;
}

sa_err_t sa_pid_alloc_next(sa_pid_alloc_t *pa, int64_t *pid, uint64_t *seq) {
    if (pa->next >= pa->reserved) {
        int64_t end = pa->next + SA_PID_BLOCK;
        uint8_t p[8];
        sa_store_be64(p, (uint64_t)end);
        uint64_t s = 0;
        sa_err_t err = pa->log ? sa_metalog_append(pa->log, SA_META_PRODUCER_IDS, p, sizeof(p), &s) : SA_OK;
        if (err) {
            sa_log_error("producer", "cannot reserve producer ids: %s", sa_err2str(err));
            return SA_ERR_KAFKA_STORAGE_ERROR;
        }
        pa->reserved = end;
        pa->seq = s;
    }
    *pid = pa->next++;
    *seq = pa->seq;
    check_pids(pa);
    return SA_OK;
}
