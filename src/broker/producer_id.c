/*
 * producer_id.c - block-persisted producer id allocator (see producer_id.h).
 *
 * Invariant: every id handed out is < the value stored in the file (`next`), because the file
 * is rewritten to the end of a block before the block's first id leaves.
 */
#include "broker/producer_id.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/buf.h"
#include "core/log.h"
#include "core/mem.h"
#include "storage/safe_file.h"

struct sa_pid_alloc_s {
    char *path;        /* DIR/producer-ids */
    int64_t next;      /* next id to hand out */
    int64_t block_end; /* ids below this are covered by the file */
};

sa_err_t sa_pid_alloc_open(const char *dir, sa_pid_alloc_t **out, char *errstr, size_t errstr_size) {
    sa_pid_alloc_t *pa = sa_new(sa_pid_alloc_t);
    sa_buf_t buf = SA_BUF_INIT(0);
    sa_err_t err;
    sa_buf_printf(&buf, "%s/producer-ids", dir);
    pa->path = sa_buf_take(&buf);
    err = sa_safe_file_read(pa->path, 256, &buf);
    if (err == SA_ERR_NOT_FOUND) {
        err = SA_OK;
    } else if (err == SA_OK) {
        long long v;
        if (sscanf(sa_buf_cstr(&buf), "next=%lld", &v) != 1 || v < 0) {
            snprintf(errstr, errstr_size, "%s: unreadable (expected \"next=N\"); move it away to reset",
                     pa->path);
            err = SA_ERR_CORRUPT;
            goto out;
        }
        pa->next = pa->block_end = v;
    } else {
        snprintf(errstr, errstr_size, "read %s: %s", pa->path, sa_err2str(err));
        goto out;
    }
out:
    sa_buf_free(&buf);
    if (err) {
        sa_pid_alloc_free(pa);
        pa = NULL;
    }
    *out = pa;
    return err;
}

void sa_pid_alloc_free(sa_pid_alloc_t *pa) {
    if (!pa) return;
    free(pa->path);
    free(pa);
}

sa_err_t sa_pid_alloc_next(sa_pid_alloc_t *pa, int64_t *pid) {
    if (pa->next >= pa->block_end) {
        char text[64], errstr[256];
        int64_t end = pa->next + SA_PID_BLOCK;
        int n = snprintf(text, sizeof(text), "next=%" PRId64 "\n", end);
        sa_err_t err = sa_safe_file_write(pa->path, text, (size_t)n, errstr, sizeof(errstr));
        if (err) {
            sa_log_error("producer", "cannot reserve producer ids: %s", errstr);
            return SA_ERR_KAFKA_STORAGE_ERROR;
        }
        pa->block_end = end;
    }
    *pid = pa->next++;
    return SA_OK;
}
