/*
 * segment.c - one segment file of a partition log and its sparse indexes.
 *
 * The indexes live in memory (8 and 12 bytes per ~4 KiB of log) and are written to
 * <base>.index / <base>.timeindex when a segment is sealed or the store closes cleanly; otherwise
 * they are rebuilt by walking the batch headers. A lookup finds the last index entry at or before
 * the wanted offset, then walks at most ~index.interval.bytes of headers.
 *
 * The walker reads the file through a window (sequential, large reads for recovery; small ones
 * for lookups) so a segment of tiny batches costs a few big preads, not one per batch.
 */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "core/log.h"
#include "core/mem.h"
#include "storage/safe_file.h"
#include "storage/storage_int.h"
#include "core/sysio.h"

#define WINDOW_SCAN (1 << 20)  /* recovery / rebuild reads */
#define WINDOW_FIND (16 << 10) /* lookups: ~index.interval.bytes of headers */

static void seg_path(char *out, size_t size, const char *dir, int64_t base, const char *ext) {
    snprintf(out, size, "%s/%020" PRId64 "%s", dir, base, ext);
}

sa_segment_t *sa_segment_open(const char *dir, int64_t base, int create) {
    char path[4096];
    seg_path(path, sizeof(path), dir, base, ".log");
    int fd = sa_sysio.open(path, O_RDWR | O_CLOEXEC | (create ? O_CREAT : 0), 0644);
    return fd < 0 ? NULL : sa_segment_from_fd(fd, base);
}

sa_segment_t *sa_segment_from_fd(int fd, int64_t base) {
    sa_segment_t *seg = sa_new(sa_segment_t);
    seg->base = base;
    seg->fd = fd;
    seg->next_offset = base;
    seg->max_ts = -1;
    seg->first_append_ms = -1;
    return seg;
}

void sa_segment_free(sa_segment_t *seg) {
    if (!seg) return;
    if (seg->fd >= 0) sa_sysio.close(seg->fd);
    free(seg->idx);
    free(seg->tidx);
    free(seg->aborted);
    free(seg);
}

int sa_segment_remove(const char *dir, sa_segment_t *seg) {
    static const char *const exts[] = {".log", ".index", ".timeindex", ".txnindex"};
    char path[4096];
    int rc = 0;
    for (size_t i = 0; i < SA_ARRAY_LEN(exts); i++) {
        seg_path(path, sizeof(path), dir, seg->base, exts[i]);
        if (sa_sysio.unlink(path) && errno != ENOENT) rc = -1;
    }
    sa_segment_free(seg);
    return rc;
}

void sa_segment_remove_index_files(const char *dir, const sa_segment_t *seg) {
    char path[4096];
    seg_path(path, sizeof(path), dir, seg->base, ".index");
    sa_sysio.unlink(path);
    seg_path(path, sizeof(path), dir, seg->base, ".timeindex");
    sa_sysio.unlink(path);
    seg_path(path, sizeof(path), dir, seg->base, ".txnindex");
    sa_sysio.unlink(path);
}

static void add_idx(sa_segment_t *seg, uint32_t rel, uint32_t pos) {
    if (seg->nidx == seg->idx_cap) {
        seg->idx_cap = seg->idx_cap ? seg->idx_cap * 2 : 64;
        seg->idx = sa_realloc(seg->idx, seg->idx_cap * sizeof(*seg->idx));
    }
    seg->idx[seg->nidx++] = (sa_idx_entry_t){rel, pos};
}

static void add_tidx(sa_segment_t *seg, int64_t ts, uint32_t rel) {
    if (seg->ntidx == seg->tidx_cap) {
        seg->tidx_cap = seg->tidx_cap ? seg->tidx_cap * 2 : 64;
        seg->tidx = sa_realloc(seg->tidx, seg->tidx_cap * sizeof(*seg->tidx));
    }
    seg->tidx[seg->ntidx++] = (sa_tidx_entry_t){ts, rel};
}

void sa_segment_note_batch(sa_segment_t *seg, const sa_rb_header_t *hdr, int64_t pos,
                           int64_t index_interval) {
    uint32_t rel = (uint32_t)(hdr->BaseOffset - seg->base);
    int due = seg->nidx == 0 || seg->since_index >= index_interval;
    if (due) {
        add_idx(seg, rel, (uint32_t)pos);
        seg->since_index = 0;
    }
    seg->since_index += (int64_t)sa_rb_size(hdr);
    /* The time index records each new maximum, at most once per index interval, except that
     * the very first batch always gets one so every segment with data is searchable. */
    if (hdr->MaxTimestamp > seg->max_ts) {
        if (seg->ntidx == 0 || due)
            add_tidx(seg, hdr->MaxTimestamp, rel);
        else if (seg->tidx[seg->ntidx - 1].rel == rel)
            seg->tidx[seg->ntidx - 1].ts = hdr->MaxTimestamp;
        seg->max_ts = hdr->MaxTimestamp;
        seg->max_ts_rel = rel;
    }
    seg->next_offset = sa_rb_last_offset(hdr) + 1;
    seg->size = pos + (int64_t)sa_rb_size(hdr);
}

void sa_segment_trim_index(sa_segment_t *seg, int64_t size, int64_t next_offset) {
    while (seg->nidx && seg->idx[seg->nidx - 1].pos >= size) seg->nidx--;
    while (seg->ntidx && seg->base + seg->tidx[seg->ntidx - 1].rel >= next_offset) seg->ntidx--;
    seg->max_ts =
        seg->ntidx ? seg->tidx[seg->ntidx - 1].ts : -1; /* the caller re-walks for the exact value */
    seg->max_ts_rel = seg->ntidx ? seg->tidx[seg->ntidx - 1].rel : 0;
    seg->size = size;
    seg->next_offset = next_offset;
    seg->since_index = 0;
    if (size == 0) seg->first_append_ms = -1;
}

sa_err_t sa_segment_walk(sa_segment_t *seg, int64_t from, int64_t end, int check_crc, sa_segment_visit_cb *cb,
                         void *opaque, int64_t *stop) {
    size_t window = check_crc ? WINDOW_SCAN : WINDOW_FIND;
    sa_buf_t win = SA_BUF_INIT(0);
    int64_t win_start = from, pos = from;
    sa_err_t err = SA_OK;
    while (pos < end) {
        int64_t avail = win_start + (int64_t)win.len - pos;
        sa_rb_header_t hdr;
        sa_err_t perr = SA_ERR_AGAIN;
        if (avail >= SA_RB_HEADER_SIZE) {
            perr = sa_rb_parse_header(win.data + (pos - win_start), (size_t)avail, &hdr, NULL, 0);
            /* Header-only walks need the header, not the whole batch, in the window. */
            if (perr == SA_ERR_AGAIN && !check_crc && hdr.BatchLength >= SA_RB_MIN_BATCH_LENGTH &&
                hdr.RecordsCount >= 0)
                perr = SA_OK;
        }
        if (perr == SA_ERR_AGAIN) {
            /* Refill the window at pos, big enough for the whole batch if its length is known. */
            size_t want = window;
            if (avail >= SA_RB_LOG_OVERHEAD && check_crc) {
                int64_t need =
                    SA_RB_LOG_OVERHEAD + (int64_t)(int32_t)sa_load_be32(win.data + (pos - win_start) + 8);
                if (need > end - pos) { /* cannot be complete: torn tail */
                    err = SA_ERR_CORRUPT;
                    break;
                }
                if ((size_t)need > want) want = (size_t)need;
            }
            if ((int64_t)want > end - pos) want = (size_t)(end - pos);
            if (avail > 0 && win_start + (int64_t)win.len >= end) { /* nothing more to read */
                err = SA_ERR_CORRUPT;
                break;
            }
            sa_buf_reset(&win);
            sa_buf_reserve(&win, want); /* uncapped: cannot fail */
            ssize_t n = sa_sysio_pread_all(seg->fd, win.data, want, pos);
            if (n < 0) {
                err = SA_ERR_KAFKA_STORAGE_ERROR;
                break;
            }
            win.len = (size_t)n;
            win_start = pos;
            if ((size_t)n < want) end = pos + n; /* the file is shorter than expected */
            if (n == 0) {
                err = SA_ERR_CORRUPT;
                break;
            }
            continue;
        }
        if (perr) {
            err = SA_ERR_CORRUPT;
            break;
        }
        size_t size = sa_rb_size(&hdr);
        if ((int64_t)size > end - pos) {
            err = SA_ERR_CORRUPT;
            break;
        }
        const uint8_t *batch = NULL;
        if (check_crc) {
            batch = win.data + (pos - win_start);
            if (!sa_rb_crc_ok(batch, size)) {
                err = SA_ERR_CORRUPT;
                break;
            }
        }
        if (hdr.BaseOffset < seg->base || sa_rb_last_offset(&hdr) < hdr.BaseOffset ||
            hdr.BaseOffset - seg->base > UINT32_MAX) {
            err = SA_ERR_CORRUPT;
            break;
        }
        int rc = cb ? cb(opaque, &hdr, pos, batch) : 0;
        if (rc) {
            err = (sa_err_t)rc;
            break;
        }
        pos += (int64_t)size;
        if (pos > win_start + (int64_t)win.len) { /* skipped past the window */
            sa_buf_reset(&win);
            win_start = pos;
        }
    }
    if (stop) *stop = pos;
    sa_buf_free(&win);
    return err;
}

typedef struct find_ctx_s {
    int64_t offset;
} find_ctx_t;

/* Stop at the first batch whose last offset reaches the target. */
static int find_visit(void *opaque, const sa_rb_header_t *hdr, int64_t pos, const uint8_t *batch) {
    (void)pos;
    (void)batch;
    const find_ctx_t *ctx = opaque;
    return sa_rb_last_offset(hdr) >= ctx->offset ? 1 : 0;
}

sa_err_t sa_segment_find(sa_segment_t *seg, int64_t offset, int64_t end, int64_t *pos) {
    int64_t from = 0;
    /* Binary search: last entry with base <= offset. */
    size_t lo = 0, hi = seg->nidx;
    while (lo < hi) {
        size_t mid = (lo + hi) / 2;
        if (seg->base + seg->idx[mid].rel <= offset)
            lo = mid + 1;
        else
            hi = mid;
    }
    if (lo > 0) from = seg->idx[lo - 1].pos;
    find_ctx_t ctx = {offset};
    sa_err_t err = sa_segment_walk(seg, from, end, 0, find_visit, &ctx, pos);
    if (err == 1) return SA_OK;
    if (err == SA_OK) return SA_OK; /* *pos == end: the offset is past what is readable */
    return err == SA_ERR_CORRUPT ? SA_ERR_CORRUPT_MESSAGE : err;
}

typedef struct rebuild_ctx_s {
    sa_segment_t *seg;
    int64_t interval;
    int contiguous; /* offsets must follow on (recovery of the last segment) */
} rebuild_ctx_t;

static int rebuild_visit(void *opaque, const sa_rb_header_t *hdr, int64_t pos, const uint8_t *batch) {
    (void)batch;
    rebuild_ctx_t *ctx = opaque;
    /* Offsets are contiguous inside a segment that was appended to; BaseOffset is outside the CRC,
     * so this is what catches damage to it in a torn tail. A cleaned (compacted) segment, always
     * sealed and trusted, has gaps: its offsets only increase. */
    if (ctx->contiguous ? hdr->BaseOffset != ctx->seg->next_offset : hdr->BaseOffset < ctx->seg->next_offset)
        return SA_ERR_CORRUPT;
    sa_segment_note_batch(ctx->seg, hdr, pos, ctx->interval);
    return 0;
}

sa_err_t sa_segment_recover(sa_segment_t *seg, const char *dir, int check_crc, int truncate,
                            int64_t index_interval) {
    struct stat st;
    if (sa_sysio.fstat(seg->fd, &st)) return SA_ERR_KAFKA_STORAGE_ERROR;
    seg->nidx = seg->ntidx = 0;
    seg->size = 0;
    seg->next_offset = seg->base;
    seg->max_ts = -1;
    seg->since_index = 0;
    rebuild_ctx_t ctx = {seg, index_interval, check_crc};
    int64_t stop = 0;
    sa_err_t err = sa_segment_walk(seg, 0, st.st_size, check_crc, rebuild_visit, &ctx, &stop);
    if (err == SA_ERR_CORRUPT) {
        sa_log_warn("storage", "%s/%020" PRId64 ".log: bad or torn batch at byte %" PRId64 " of %lld; %s",
                    dir, seg->base, stop, (long long)st.st_size,
                    truncate ? "truncating there" : "ignoring the rest");
        if (truncate && sa_sysio.ftruncate(seg->fd, stop)) {
            sa_log_error("storage", "truncate %s/%020" PRId64 ".log: %s", dir, seg->base, strerror(errno));
            return SA_ERR_KAFKA_STORAGE_ERROR;
        }
        err = SA_OK;
    }
    if (err) return err;
    if (seg->size > 0) seg->first_append_ms = seg->max_ts; /* best guess after a restart */
    return SA_OK;
}

sa_err_t sa_segment_write_index(const sa_segment_t *seg, const char *dir) {
    char path[4096];
    sa_buf_t b = SA_BUF_INIT(0);
    for (size_t i = 0; i < seg->nidx; i++) {
        sa_buf_put_be32(&b, seg->idx[i].rel);
        sa_buf_put_be32(&b, seg->idx[i].pos);
    }
    seg_path(path, sizeof(path), dir, seg->base, ".index");
    sa_err_t err = sa_safe_file_write(path, b.data, b.len, NULL, 0);
    sa_buf_reset(&b);
    for (size_t i = 0; !err && i < seg->ntidx; i++) {
        sa_buf_put_be64(&b, (uint64_t)seg->tidx[i].ts);
        sa_buf_put_be32(&b, seg->tidx[i].rel);
    }
    /* The sparse index may have skipped the final maximum; record it so a reload knows the
     * segment's exact largest timestamp (retention depends on it). */
    if (seg->ntidx && seg->tidx[seg->ntidx - 1].ts != seg->max_ts) {
        sa_buf_put_be64(&b, (uint64_t)seg->max_ts);
        sa_buf_put_be32(&b, seg->max_ts_rel);
    }
    seg_path(path, sizeof(path), dir, seg->base, ".timeindex");
    if (!err) err = sa_safe_file_write(path, b.data, b.len, NULL, 0);
    sa_buf_free(&b);
    return err;
}

sa_err_t sa_segment_load_index(sa_segment_t *seg, const char *dir) {
    char path[4096];
    sa_buf_t b = SA_BUF_INIT(0);
    struct stat st;
    sa_err_t err = SA_ERR_CORRUPT;
    if (sa_sysio.fstat(seg->fd, &st)) goto out;
    seg_path(path, sizeof(path), dir, seg->base, ".index");
    if (sa_safe_file_read(path, 64 << 20, &b) || b.len % 8) goto out;
    seg->nidx = 0;
    for (size_t i = 0; i < b.len; i += 8) {
        uint32_t rel = sa_load_be32(b.data + i), pos = sa_load_be32(b.data + i + 4);
        if ((int64_t)pos >= st.st_size ||
            (seg->nidx && (rel <= seg->idx[seg->nidx - 1].rel || pos <= seg->idx[seg->nidx - 1].pos)))
            goto out;
        add_idx(seg, rel, pos);
    }
    if (st.st_size > 0 && (seg->nidx == 0 || seg->idx[0].pos != 0)) goto out;
    sa_buf_reset(&b);
    seg_path(path, sizeof(path), dir, seg->base, ".timeindex");
    if (sa_safe_file_read(path, 64 << 20, &b) || b.len % 12) goto out;
    seg->ntidx = 0;
    for (size_t i = 0; i < b.len; i += 12) {
        int64_t ts = (int64_t)sa_load_be64(b.data + i);
        uint32_t rel = sa_load_be32(b.data + i + 8);
        if (seg->ntidx && (ts < seg->tidx[seg->ntidx - 1].ts || rel < seg->tidx[seg->ntidx - 1].rel))
            goto out;
        add_tidx(seg, ts, rel);
    }
    /* The tail after the last index entry is short: walk it for the size and next offset. */
    seg->size = seg->nidx ? seg->idx[seg->nidx - 1].pos : 0;
    seg->next_offset = seg->base + (seg->nidx ? seg->idx[seg->nidx - 1].rel : 0);
    seg->max_ts = seg->ntidx ? seg->tidx[seg->ntidx - 1].ts : -1;
    seg->max_ts_rel = seg->ntidx ? seg->tidx[seg->ntidx - 1].rel : 0;
    int64_t stop;
    rebuild_ctx_t ctx = {seg, INT64_MAX, 0}; /* no new index entries from this walk */
    size_t nidx = seg->nidx;
    if (sa_segment_walk(seg, seg->size, st.st_size, 0, rebuild_visit, &ctx, &stop) || stop != st.st_size)
        goto out;
    seg->nidx = nidx;
    seg->since_index = seg->nidx ? seg->size - seg->idx[seg->nidx - 1].pos : 0;
    if (seg->size > 0) seg->first_append_ms = seg->max_ts;
    err = SA_OK;
out:
    if (err) seg->nidx = seg->ntidx = 0;
    sa_buf_free(&b);
    return err;
}
