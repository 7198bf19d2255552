/*
 * partition.c - one partition's log: open/recover, append, group-commit sync, read, offsets,
 * DeleteRecords and retention.
 *
 * Design (invariants are numbered in storage_int.h):
 *  - Appends go to the active segment with one pwrite for the whole request, after every batch
 *    has been validated, so a bad batch writes nothing and a failed write is cut off again with
 *    ftruncate: the partition is exactly as before the call.
 *  - Nothing is fsync'd on append. The group commit (sa_store_sync) fdatasyncs the active segment once for
 *    everything appended since the last sync, then moves the HWM to the LEO. If the fdatasync
 *    fails, the kernel may already have dropped the dirty pages, so the unsynced tail is cut off
 *    (truncate back to the HWM) and the waiting producers get KAFKA_STORAGE_ERROR.
 *  - Rolling to a new segment fdatasyncs the old one first, so only the last segment can ever
 *    be torn by a crash and recovery only scans that one.
 *  - Background commit (sa_store_sync_start): the HWM moves to the end recorded at the start
 *    (sa_sync_snap_t), not to the LEO: later appends wait for the next commit.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "core/check.h"
#include "core/log.h"
#include "core/mem.h"
#include "storage/safe_file.h"
#include "storage/storage_int.h"
#include "core/sysio.h"

#define SET_ERR(...)                                                                                         \
    do {                                                                                                     \
        if (errstr) snprintf(errstr, errstr_size, __VA_ARGS__);                                              \
    } while (0)

static sa_segment_t *active_seg(const sa_partition_t *part) { return part->segs[part->nsegs - 1]; }

/* Invariants 1, 3, 4 and 5 of storage_int.h, segment by segment (debug and sanitizer builds). */
static void check_segments(const sa_partition_t *part) {
    int hwm_seg_found = 0;
    for (size_t i = 0; i < part->nsegs; i++) {
        const sa_segment_t *seg = part->segs[i];
        assert(seg->size >= 0 && seg->next_offset >= seg->base);
        if (i + 1 < part->nsegs) {
            assert(seg->base < part->segs[i + 1]->base); /* 1: sorted (a gap is tolerated, see open) */
            assert(!seg->unsynced);                      /* 4: only the active segment has unsynced bytes */
        }
        if (seg->base == part->hwm_seg_base) {
            hwm_seg_found = 1;
            assert(part->hwm_pos <= seg->size); /* 3 */
        }
        assert(seg->size > 0 || seg->nidx == 0);
        for (size_t k = 0; k < seg->nidx; k++) { /* 5: batch starts inside the file, increasing */
            assert(seg->idx[k].pos < seg->size);
            assert(k == 0 ||
                   (seg->idx[k].rel > seg->idx[k - 1].rel && seg->idx[k].pos > seg->idx[k - 1].pos));
        }
        for (size_t k = 1; k < seg->ntidx; k++) assert(seg->tidx[k].ts >= seg->tidx[k - 1].ts);
    }
    assert(hwm_seg_found); /* 3 */
    (void)hwm_seg_found;   /* only asserted: unused where NDEBUG drops assert() (Release) */
}

/* The invariants of storage_int.h: the offsets always (three comparisons), the segments and the
 * last stable offset in debug and sanitizer builds. Called wherever the log's shape changes. */
static void check_part(const sa_partition_t *part) {
    assert(part->nsegs >= 1);                                                           /* 1 */
    assert(part->log_start <= part->hwm && part->hwm <= active_seg(part)->next_offset); /* 2 */
    SA_DEBUG_CHECK(check_segments(part));
    sa_txn_check(part);                                                                      /* 6, 7 */
    assert(!part->nsnaps || part->snaps[part->nsnaps - 1] <= active_seg(part)->next_offset); /* 9 */
}

static void push_seg(sa_partition_t *part, sa_segment_t *seg) {
    if (part->nsegs == part->segs_cap) {
        part->segs_cap = part->segs_cap ? part->segs_cap * 2 : 8;
        part->segs = sa_realloc(part->segs, part->segs_cap * sizeof(*part->segs));
    }
    part->segs[part->nsegs++] = seg;
}

/* Remove segment @p i from the list and its files from disk. */
static void drop_seg(sa_partition_t *part, size_t i) {
    sa_segment_t *seg = part->segs[i];
    memmove(part->segs + i, part->segs + i + 1, (part->nsegs - i - 1) * sizeof(*part->segs));
    part->nsegs--;
    int64_t base = seg->base;
    if (sa_segment_remove(part->dir, seg))
        sa_log_warn("storage", "%s: could not remove all files of segment %" PRId64 ": %s", part->dir, base,
                    strerror(errno));
}

static int cmp_i64(const void *a, const void *b) {
    int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;
    return x < y ? -1 : x > y;
}

/* Base offsets of the DIR/<20 digits>.log files, sorted. @returns count, or -1. */
static ssize_t list_segments(const char *dir, int64_t **bases) {
    DIR *d = opendir(dir);
    if (!d) return -1;
    size_t n = 0, cap = 0;
    *bases = NULL;
    struct dirent *de;
    while ((de = readdir(d))) {
        const char *s = de->d_name;
        if (strlen(s) != 24 || strcmp(s + 20, ".log") || strspn(s, "0123456789") != 20) continue;
        if (n == cap) {
            cap = cap ? cap * 2 : 16;
            *bases = sa_realloc(*bases, cap * sizeof(**bases));
        }
        (*bases)[n++] = strtoll(s, NULL, 10);
    }
    closedir(d);
    if (n) qsort(*bases, n, sizeof(**bases), cmp_i64);
    return (ssize_t)n;
}

static sa_err_t write_log_start(sa_partition_t *part) {
    char path[4096], text[32];
    snprintf(path, sizeof(path), "%s/log-start-offset", part->dir);
    int n = snprintf(text, sizeof(text), "%" PRId64 "\n", part->log_start);
    return sa_safe_file_write(path, text, (size_t)n, NULL, 0);
}

static int64_t read_log_start(const sa_partition_t *part) {
    char path[4096];
    snprintf(path, sizeof(path), "%s/log-start-offset", part->dir);
    sa_buf_t b = SA_BUF_INIT(0);
    int64_t v = -1;
    if (sa_safe_file_read(path, 64, &b) == SA_OK) {
        sa_buf_putc(&b, 0);
        char *end;
        long long x = strtoll((const char *)b.data, &end, 10);
        if (end != (const char *)b.data && x >= 0) v = x;
    }
    sa_buf_free(&b);
    return v;
}

/* An HWM at the very end of a sealed segment is the same place as the start of the next one: say
 * so, so that retention may delete the sealed segment and the HWM still names a segment
 * (invariant 3 of storage_int.h). */
static void hwm_past_sealed(sa_partition_t *part) {
    for (size_t i = 0; i + 1 < part->nsegs; i++) {
        const sa_segment_t *seg = part->segs[i];
        if (seg->base != part->hwm_seg_base) continue;
        if (part->hwm_pos == seg->size && part->hwm == seg->next_offset &&
            part->segs[i + 1]->base == seg->next_offset) {
            part->hwm_seg_base = part->segs[i + 1]->base;
            part->hwm_pos = 0;
        }
        return;
    }
}

static void set_hwm_at_end(sa_partition_t *part) {
    sa_segment_t *act = active_seg(part);
    act->durable_max_ts = act->max_ts;
    part->hwm = act->next_offset;
    part->hwm_seg_base = act->base;
    part->hwm_pos = act->size;
}

sa_err_t sa_partition_open(sa_topic_t *topic, int32_t id, int clean, sa_partition_t **partp, char *errstr,
                           size_t errstr_size) {
    sa_partition_t *part = sa_new(sa_partition_t);
    part->store = topic->store;
    part->topic = topic;
    part->id = id;
    char dir[4096];
    snprintf(dir, sizeof(dir), "%s/%s-%d", sa_store_dir(topic->store), topic->name, (int)id);
    part->dir = sa_strdup(dir);
    int64_t *bases = NULL;
    sa_err_t err = SA_ERR_KAFKA_STORAGE_ERROR;
    const char *op = "mkdir";
    int created = 0;
    if (sa_sysio.mkdir(dir, 0755) == 0)
        created = 1;
    else if (errno != EEXIST)
        goto fail;
    part->clean_to = -1;
    op = "finish a cleaning";
    if (!created && sa_cleaner_recover_dir(dir)) goto fail;
    op = "list";
    ssize_t n = list_segments(dir, &bases);
    if (n < 0) goto fail;
    int64_t interval = topic->lim.index_interval_bytes > 0 ? topic->lim.index_interval_bytes : 4096;
    op = "open segment";
    for (ssize_t i = 0; i < n; i++) {
        sa_segment_t *seg = sa_segment_open(dir, bases[i], 0);
        if (!seg) goto fail;
        push_seg(part, seg);
        int last = i == n - 1;
        if (clean || !last) {
            if (sa_segment_load_index(seg, dir) == SA_OK) continue;
            /* Sealed segments were fdatasync'd at roll: trust them, just re-index. */
            err = sa_segment_recover(seg, dir, 0, 0, interval);
        } else {
            err = sa_segment_recover(seg, dir, 1, 1, interval);
        }
        if (err) goto fail;
        err = SA_ERR_KAFKA_STORAGE_ERROR;
    }
    int64_t ckpt = read_log_start(part);
    if (n == 0) {
        int64_t base = ckpt > 0 ? ckpt : 0;
        sa_segment_t *seg = sa_segment_open(dir, base, 1);
        if (!seg) goto fail;
        push_seg(part, seg);
        op = "fsync dir";
        if (sa_sysio_fsync_dir(dir)) goto fail;
        if (created && sa_sysio_fsync_dir(sa_store_dir(topic->store))) goto fail;
    } else if (!clean) {
        op = "fdatasync";
        /* What a killed process left in the page cache is made durable before it is readable. */
        if (sa_sysio.fdatasync(active_seg(part)->fd)) goto fail;
    }
    for (size_t i = 0; i + 1 < part->nsegs && !topic->lim.compact; i++) /* compaction leaves gaps */
        if (part->segs[i]->next_offset != part->segs[i + 1]->base)
            sa_log_warn("storage", "%s: offsets %" PRId64 "..%" PRId64 " are missing between segments", dir,
                        part->segs[i]->next_offset, part->segs[i + 1]->base - 1);
    set_hwm_at_end(part);
    part->log_start = part->segs[0]->base;
    if (ckpt > part->log_start) part->log_start = SA_MIN(ckpt, part->hwm);
    op = "recover the transactions of";
    if ((err = sa_txn_recover(part, clean)) != SA_OK) goto fail;
    op = "recover the producer state of";
    if ((err = sa_producers_recover(part)) != SA_OK) goto fail;
    free(bases);
    check_part(part);
    *partp = part;
    return SA_OK;
fail:
    SET_ERR("%s %s: %s", op, dir, err == SA_ERR_KAFKA_STORAGE_ERROR ? strerror(errno) : sa_err2str(err));
    sa_log_error("storage", "cannot open partition %s: %s %s", dir, op, strerror(errno));
    free(bases);
    sa_partition_free(part);
    *partp = NULL;
    return SA_ERR_KAFKA_STORAGE_ERROR;
}

void sa_partition_free(sa_partition_t *part) {
    if (!part) return;
    sa_txn_free(part);
    sa_producers_free(part);
    for (size_t i = 0; i < part->nsegs; i++) sa_segment_free(part->segs[i]);
    free(part->segs);
    free(part->dir);
    free(part);
}

int sa_partition_remove_dir(const char *dir) {
    DIR *d = opendir(dir);
    if (!d) return errno == ENOENT ? 0 : -1;
    int rc = 0;
    struct dirent *de;
    char path[4096];
    while ((de = readdir(d))) {
        if (!strcmp(de->d_name, ".") || !strcmp(de->d_name, "..")) continue;
        snprintf(path, sizeof(path), "%s/%s", dir, de->d_name);
        if (sa_sysio.unlink(path)) rc = -1;
    }
    closedir(d);
    if (sa_sysio.rmdir(dir)) rc = -1;
    return rc;
}

/* Start a new active segment at the LEO; the old one is made durable first (invariant 4). */
static sa_err_t roll(sa_partition_t *part, char *errstr, size_t errstr_size) {
    sa_segment_t *old = active_seg(part);
    /* A background group commit may still be syncing it: sync here too, the roll cannot wait. */
    if (old->unsynced || old->sync_pending) {
        if (sa_sysio.fdatasync(old->fd)) {
            SET_ERR("fdatasync %s/%020" PRId64 ".log: %s", part->dir, old->base, strerror(errno));
            return SA_ERR_KAFKA_STORAGE_ERROR;
        }
        old->unsynced = 0;
    }
    if (sa_segment_write_index(old, part->dir))
        sa_log_warn("storage", "%s: could not write the index of segment %" PRId64 "; it will be rebuilt",
                    part->dir, old->base);
    /* Unlike the offset index, the transaction index of a sealed segment must exist when it has
     * something to say (txn.c, RECOVERY): without it the roll does not happen. */
    if (sa_txn_write_index(part, old)) {
        SET_ERR("write the transaction index of segment %" PRId64 " in %s: %s", old->base, part->dir,
                strerror(errno));
        return SA_ERR_KAFKA_STORAGE_ERROR;
    }
    /* The producer state as of the new segment's base: everything below it was just synced. */
    sa_producers_snapshot(part, old->next_offset);
    sa_segment_t *seg = sa_segment_open(part->dir, old->next_offset, 1);
    if (!seg || sa_sysio_fsync_dir(part->dir)) {
        SET_ERR("create segment %" PRId64 " in %s: %s", old->next_offset, part->dir, strerror(errno));
        if (seg) sa_segment_remove(part->dir, seg);
        return SA_ERR_KAFKA_STORAGE_ERROR;
    }
    seg->txn_in = sa_txn_open_count(part) > 0;
    push_seg(part, seg);
    hwm_past_sealed(part);
    sa_log_debug(SA_DBG_STORAGE, "storage", "%s: rolled to segment %" PRId64, part->dir, seg->base);
    return SA_OK;
}

/* Write @p len bytes of validated batches (@p records records in all) at the LEO: roll first when
 * due, give them their offsets, one pwrite, index them. The partition is exactly as before on
 * failure. @p note(part, seg, hdr, arg) sees each batch at its final offset once written. */
typedef void note_fn(sa_partition_t *part, sa_segment_t *seg, const sa_rb_header_t *hdr, void *arg);

static sa_err_t write_batches(sa_partition_t *part, uint8_t *batches, size_t len, int64_t records,
                              int32_t nbatches, int64_t now_ms, note_fn *note, void *note_arg,
                              sa_append_result_t *res, char *errstr, size_t errstr_size) {
    const sa_topic_limits_t *lim = &part->topic->lim;
    sa_rb_header_t hdr;
    sa_segment_t *seg = active_seg(part);
    int64_t leo = seg->next_offset;
    /* The active segment is never cleaned: a compacted topic rolls by max.compaction.lag.ms too. */
    int64_t roll_ms = lim->compact ? SA_MIN(lim->segment_ms, lim->max_compaction_lag_ms) : lim->segment_ms;
    if (seg->size > 0 &&
        (seg->size + (int64_t)len > lim->segment_bytes || now_ms - seg->first_append_ms >= roll_ms ||
         leo + records - seg->base > INT32_MAX || seg->size + (int64_t)len > UINT32_MAX)) {
        sa_err_t err = roll(part, errstr, errstr_size);
        if (err) return err;
        seg = active_seg(part);
    }
    int64_t off = leo;
    for (size_t pos = 0; pos < len; pos += sa_rb_size(&hdr)) {
        uint8_t *p = batches + pos;
        sa_rb_parse_header(p, len - pos, &hdr, NULL, 0);
        sa_rb_set_base_offset(p, off);
        sa_rb_set_leader_epoch(p, 0);
        if (lim->log_append_time) sa_rb_set_log_append_time(p, sa_rb_size(&hdr), now_ms);
        off += (int64_t)hdr.LastOffsetDelta + 1;
    }
    if (sa_sysio_pwrite_all(seg->fd, batches, len, seg->size)) {
        int saved = errno;
        /* Cut off whatever part of the write landed; if even that fails, the next append
         * overwrites the same bytes (writes are positional) and recovery's CRC check would
         * stop at any leftover. */
        if (sa_sysio.ftruncate(seg->fd, seg->size))
            sa_log_warn("storage", "%s: truncate after failed write: %s", part->dir, strerror(errno));
        SET_ERR("write %s/%020" PRId64 ".log: %s", part->dir, seg->base, strerror(saved));
        /* Once per outage, not once per retried request. */
        if (!part->write_failing)
            sa_log_error("storage",
                         "append to %s failed: %s; producers get KAFKA_STORAGE_ERROR and retry, "
                         "the log is unchanged; free disk space (or fix the disk) and appends resume",
                         part->dir, strerror(saved));
        else
            sa_log_debug(SA_DBG_STORAGE, "storage", "append to %s failed again: %s", part->dir,
                         strerror(saved));
        part->write_failing = 1;
        return SA_ERR_KAFKA_STORAGE_ERROR;
    }
    if (part->write_failing) {
        sa_log_info("storage", "appends to %s work again", part->dir);
        part->write_failing = 0;
    }
    int64_t interval = lim->index_interval_bytes > 0 ? lim->index_interval_bytes : 4096;
    for (size_t pos = 0; pos < len; pos += sa_rb_size(&hdr)) {
        sa_rb_parse_header(batches + pos, len - pos, &hdr, NULL, 0);
        sa_segment_note_batch(seg, &hdr, seg->size, interval);
        note(part, seg, &hdr, note_arg);
    }
    if (seg->first_append_ms < 0) seg->first_append_ms = now_ms;
    seg->unsynced = 1;
    sa_store_mark_dirty(part->store, part);
    if (res) {
        res->base_offset = leo;
        res->last_offset = off - 1;
        res->log_append_time = lim->log_append_time ? now_ms : -1;
        res->log_start_offset = part->log_start;
        res->batch_count = nbatches;
    }
    check_part(part);
    return SA_OK;
}

static void note_client_batch(sa_partition_t *part, sa_segment_t *seg, const sa_rb_header_t *hdr, void *arg) {
    (void)seg;
    (void)arg;
    sa_txn_note_batch(part, hdr);
    sa_pstate_record(part->pstate, hdr);
}

sa_err_t sa_partition_append(sa_partition_t *part, uint8_t *batches, size_t len, int64_t now_ms,
                             sa_append_result_t *res, char *errstr, size_t errstr_size) {
    const sa_topic_limits_t *lim = &part->topic->lim;
    sa_rb_header_t hdr;
    int64_t records = 0;
    int32_t nbatches = 0;
    if (len == 0) {
        SET_ERR("no record batches");
        return SA_ERR_CORRUPT_MESSAGE;
    }
    for (size_t pos = 0; pos < len; pos += sa_rb_size(&hdr), nbatches++) {
        sa_err_t err = sa_rb_validate(batches + pos, len - pos, &hdr, errstr, errstr_size);
        if (err) return err;
        if ((int64_t)sa_rb_size(&hdr) > lim->max_message_bytes) {
            SET_ERR("batch of %zu bytes is larger than max.message.bytes (%" PRId64 ")", sa_rb_size(&hdr),
                    lim->max_message_bytes);
            return SA_ERR_MESSAGE_TOO_LARGE;
        }
        if (hdr.Attributes & SA_RB_ATTR_CONTROL) {
            SET_ERR("clients are not allowed to write control records");
            return SA_ERR_INVALID_RECORD;
        }
        records += (int64_t)hdr.LastOffsetDelta + 1;
    }
    if (lim->compact && sa_partition_keyless_records(part, batches, len, NULL, NULL)) {
        SET_ERR("Compacted topic cannot accept message without key in topic partition %s-%d.",
                part->topic->name, (int)part->id);
        return SA_ERR_INVALID_RECORD;
    }
    return write_batches(part, batches, len, records, nbatches, now_ms, note_client_batch, NULL, res, errstr,
                         errstr_size);
}

/* What a marker's write needs to know to record it. */
typedef struct marker_note_s {
    int64_t pid;
    int commit;
    int32_t coordinator_epoch;
} marker_note_t;

static void note_marker(sa_partition_t *part, sa_segment_t *seg, const sa_rb_header_t *hdr, void *arg) {
    const marker_note_t *m = arg;
    sa_txn_note_marker(part, seg, m->pid, m->commit, hdr->BaseOffset);
    /* rule 5 of pstate.h */
    sa_pstate_marker(part->pstate, m->pid, hdr->ProducerEpoch, m->coordinator_epoch, hdr->MaxTimestamp);
}

sa_err_t sa_partition_append_marker(sa_partition_t *part, int64_t pid, int16_t epoch, int commit,
                                    int32_t coordinator_epoch, int64_t now_ms, sa_append_result_t *res,
                                    char *errstr, size_t errstr_size) {
    uint8_t key[4], value[6];
    sa_store_be16(key, 0); /* version */
    sa_store_be16(key + 2, (uint16_t)(commit ? 1 : 0));
    sa_store_be16(value, 0); /* version */
    sa_store_be32(value + 2, (uint32_t)coordinator_epoch);
    sa_rb_rec_in_t rec = {key, 4, value, 6, NULL, 0, now_ms};
    sa_rb_build_opts_t opts = SA_RB_BUILD_OPTS_INIT;
    opts.attributes = SA_RB_ATTR_CONTROL | SA_RB_ATTR_TRANSACTIONAL;
    opts.producer_id = pid;
    opts.producer_epoch = epoch;
    sa_buf_t b = SA_BUF_INIT(0);
    sa_err_t err = sa_rb_build(&b, &opts, &rec, 1);
    marker_note_t m = {pid, commit, coordinator_epoch};
    if (err == SA_OK)
        err = write_batches(part, b.data, b.len, 1, 1, now_ms, note_marker, &m, res, errstr, errstr_size);
    else
        SET_ERR("cannot build a transaction marker: %s", sa_err2str(err));
    sa_buf_free(&b);
    return err;
}

/* Cut everything above the HWM off again (after a failed fdatasync). */
static void truncate_to_hwm(sa_partition_t *part) {
    size_t k = 0;
    while (k + 1 < part->nsegs && part->segs[k]->base < part->hwm_seg_base) k++;
    sa_segment_t *seg = part->segs[k];
    int64_t pos = seg->base == part->hwm_seg_base ? part->hwm_pos : 0;
    while (part->nsegs > k + 1) drop_seg(part, part->nsegs - 1);
    if (sa_sysio.ftruncate(seg->fd, pos))
        sa_log_error("storage", "%s: truncate to the high watermark: %s", part->dir, strerror(errno));
    sa_segment_remove_index_files(part->dir, seg); /* stale now; rebuilt or rewritten when needed */
    /* Re-walk the durable part for exact indexes and max timestamp (rare: a failed sync). */
    if (sa_segment_recover(seg, part->dir, 0, 0,
                           part->topic->lim.index_interval_bytes > 0 ? part->topic->lim.index_interval_bytes
                                                                     : 4096) ||
        seg->size != pos)
        sa_segment_trim_index(seg, pos, part->hwm);
    seg->durable_max_ts = seg->max_ts;
    seg->unsynced = 0;
    part->hwm_seg_base = seg->base;
    part->hwm_pos = pos;
    sa_txn_truncated(part, part->hwm);
    sa_producers_truncated(part, part->hwm);
    check_part(part);
}

int sa_partition_unsynced_fd(const sa_partition_t *part) {
    const sa_segment_t *seg = active_seg(part);
    return seg->unsynced ? seg->fd : -1;
}

sa_err_t sa_partition_synced(sa_partition_t *part, int err) {
    sa_segment_t *seg = active_seg(part);
    if (err) {
        sa_log_error("storage",
                     "fdatasync %s/%020" PRId64 ".log: %s; dropping %" PRId64
                     " unacknowledged records (their producers get KAFKA_STORAGE_ERROR and retry)",
                     part->dir, seg->base, strerror(err), seg->next_offset - part->hwm);
        truncate_to_hwm(part);
        return SA_ERR_KAFKA_STORAGE_ERROR;
    }
    seg->unsynced = 0;
    set_hwm_at_end(part);
    sa_txn_synced(part);
    check_part(part);
    return SA_OK;
}

void sa_partition_sync_snap(sa_partition_t *part, sa_sync_snap_t *snap) {
    sa_segment_t *seg = active_seg(part);
    *snap = (sa_sync_snap_t){.part = part,
                             .seg_base = seg->base,
                             .next_offset = seg->next_offset,
                             .size = seg->size,
                             .max_ts = seg->max_ts,
                             .fd = -1};
    if (!seg->unsynced) return; /* only a roll since the last sync: already durable */
    /* A dup: the segment may be closed (topic deleted) while a helper thread syncs it. */
    snap->fd = fcntl(seg->fd, F_DUPFD_CLOEXEC, 0);
    if (snap->fd < 0) snap->err = sa_sysio.fdatasync(seg->fd) ? errno : 0; /* out of fds: sync now */
    seg->unsynced = 0;
    seg->sync_pending = 1;
}

sa_err_t sa_partition_sync_apply(sa_partition_t *part, const sa_sync_snap_t *snap, int err) {
    /* The snapshot's segment still exists: it holds data above the HWM, which neither retention
     * nor DeleteRecords removes, and only this function cuts the log back. */
    size_t i = part->nsegs;
    while (i > 0 && part->segs[i - 1]->base > snap->seg_base) i--;
    sa_segment_t *seg = i > 0 && part->segs[i - 1]->base == snap->seg_base ? part->segs[i - 1] : NULL;
    if (seg) seg->sync_pending = 0;
    if (err) {
        sa_log_error("storage",
                     "fdatasync %s/%020" PRId64 ".log: %s; dropping %" PRId64
                     " unacknowledged records (their producers get KAFKA_STORAGE_ERROR and retry)",
                     part->dir, snap->seg_base, strerror(err), active_seg(part)->next_offset - part->hwm);
        truncate_to_hwm(part);
        return SA_ERR_KAFKA_STORAGE_ERROR;
    }
    if (!seg || snap->next_offset <= part->hwm) return SA_OK;
    seg->durable_max_ts = snap->max_ts;
    part->hwm = snap->next_offset;
    part->hwm_seg_base = seg->base;
    part->hwm_pos = snap->size;
    hwm_past_sealed(part);
    sa_txn_synced(part);
    check_part(part);
    return SA_OK;
}

sa_err_t sa_partition_seal(sa_partition_t *part) {
    sa_err_t err = sa_segment_write_index(active_seg(part), part->dir);
    if (!err) err = sa_txn_write_index(part, active_seg(part));
    /* After the final sync: every batch below the LEO is durable (invariant 9). */
    if (!err) sa_producers_snapshot(part, active_seg(part)->next_offset);
    return err;
}

/* Index of the segment holding @p offset (the last with base <= offset). */
static size_t seg_for(const sa_partition_t *part, int64_t offset) {
    size_t lo = 0, hi = part->nsegs;
    while (lo < hi) {
        size_t mid = (lo + hi) / 2;
        if (part->segs[mid]->base <= offset)
            lo = mid + 1;
        else
            hi = mid;
    }
    return lo ? lo - 1 : 0;
}

/* Bytes of segment @p seg that readers may see (invariant 3). */
static int64_t readable(const sa_partition_t *part, const sa_segment_t *seg) {
    if (seg->base < part->hwm_seg_base) return seg->size;
    return seg->base == part->hwm_seg_base ? part->hwm_pos : 0;
}

sa_err_t sa_partition_read(sa_partition_t *part, int64_t offset, size_t max_bytes, sa_buf_t *out) {
    return sa_partition_read_upto(part, offset, max_bytes, part->hwm, out);
}

sa_err_t sa_partition_read_upto(sa_partition_t *part, int64_t offset, size_t max_bytes, int64_t end,
                                sa_buf_t *out) {
    if (offset < part->log_start || offset > part->hwm) return SA_ERR_OFFSET_OUT_OF_RANGE;
    if (end > part->hwm) end = part->hwm;
    if (offset >= end) return SA_OK;
    size_t i = seg_for(part, offset);
    /* A gap (compaction): the offset is past a segment's last batch, or the segment was emptied. */
    while (i + 1 < part->nsegs && (offset >= part->segs[i]->next_offset || part->segs[i]->size == 0)) i++;
    sa_segment_t *seg = part->segs[i];
    int64_t limit = readable(part, seg), pos;
    sa_err_t err = sa_segment_find(seg, offset, limit, &pos);
    if (err) return err == SA_ERR_CORRUPT_MESSAGE ? err : SA_ERR_KAFKA_STORAGE_ERROR;
    if (pos >= limit) return SA_OK;
    uint8_t head[SA_RB_LOG_OVERHEAD];
    if (sa_sysio_pread_all(seg->fd, head, sizeof(head), pos) != (ssize_t)sizeof(head))
        return SA_ERR_KAFKA_STORAGE_ERROR;
    int64_t first = SA_RB_LOG_OVERHEAD + (int64_t)(int32_t)sa_load_be32(head + 8);
    int64_t n = SA_MIN(limit - pos, SA_MAX((int64_t)max_bytes, first));
    if (out->cap && (int64_t)(out->cap - out->len) < n) n = (int64_t)(out->cap - out->len);
    if (n < first) return SA_ERR_TOOBIG;
    if (sa_buf_reserve(out, (size_t)n)) return SA_ERR_TOOBIG;
    uint8_t *p = out->data + out->len;
    if (sa_sysio_pread_all(seg->fd, p, (size_t)n, pos) != n) return SA_ERR_KAFKA_STORAGE_ERROR;
    /* Keep whole batches only, and only those that start below the end (the LSO is a batch
     * boundary: the first batch of a transaction, or the HWM). */
    sa_rb_iter_t it;
    sa_rb_header_t hdr;
    sa_rb_iter_init(&it, p, (size_t)n);
    size_t whole = 0;
    while (sa_rb_iter_next(&it, &hdr, NULL) == SA_OK && hdr.BaseOffset < end) whole = it.pos;
    out->len += whole;
    return SA_OK;
}

int64_t sa_partition_log_start(const sa_partition_t *part) { return part->log_start; }
int64_t sa_partition_hwm(const sa_partition_t *part) { return part->hwm; }
int64_t sa_partition_leo(const sa_partition_t *part) { return active_seg(part)->next_offset; }
int32_t sa_partition_id(const sa_partition_t *part) { return part->id; }
sa_topic_t *sa_partition_topic(const sa_partition_t *part) { return part->topic; }
size_t sa_partition_segment_count(const sa_partition_t *part) { return part->nsegs; }

int64_t sa_partition_size(const sa_partition_t *part) {
    int64_t total = 0;
    for (size_t i = 0; i < part->nsegs; i++) total += part->segs[i]->size;
    return total;
}

typedef struct time_ctx_s {
    int64_t ts;
    int64_t min_offset;
    int64_t pos;
    size_t size;
} time_ctx_t;

static int time_visit(void *opaque, const sa_rb_header_t *hdr, int64_t pos, const uint8_t *batch) {
    (void)batch;
    time_ctx_t *ctx = opaque;
    if (hdr->MaxTimestamp < ctx->ts || sa_rb_last_offset(hdr) < ctx->min_offset) return 0;
    ctx->pos = pos;
    ctx->size = sa_rb_size(hdr);
    return 1;
}

sa_err_t sa_partition_offset_for_time(sa_partition_t *part, int64_t ts, int64_t *offset, int64_t *timestamp) {
    *offset = *timestamp = -1;
    for (size_t i = seg_for(part, part->log_start); i < part->nsegs; i++) {
        sa_segment_t *seg = part->segs[i];
        int64_t limit = readable(part, seg);
        if (limit == 0 && seg->base >= part->hwm_seg_base) break;
        if (seg->max_ts < ts) continue; /* also a segment compaction emptied */
        /* Start from the last time index entry still below ts: nothing before it qualifies. */
        int64_t from = 0;
        for (size_t k = seg->ntidx; k-- > 0;)
            if (seg->tidx[k].ts < ts) {
                if (sa_segment_find(seg, seg->base + seg->tidx[k].rel, limit, &from)) from = 0;
                break;
            }
        time_ctx_t ctx = {ts, part->log_start, -1, 0};
        int64_t stop;
        sa_err_t err = sa_segment_walk(seg, from, limit, 0, time_visit, &ctx, &stop);
        if (err != 1) {
            if (err == SA_OK) continue;
            return err == SA_ERR_CORRUPT ? SA_ERR_CORRUPT_MESSAGE : err;
        }
        uint8_t *batch = sa_malloc(ctx.size);
        err = SA_ERR_KAFKA_STORAGE_ERROR;
        if (sa_sysio_pread_all(seg->fd, batch, ctx.size, ctx.pos) == (ssize_t)ctx.size) {
            sa_rb_records_t rr;
            sa_rb_record_t rec;
            err = sa_rb_records_open(&rr, batch, ctx.size, 64u << 20, NULL, 0);
            while (!err && (err = sa_rb_records_next(&rr, &rec)) == SA_OK)
                if (rec.Timestamp >= ts && rec.Offset >= part->log_start) {
                    *offset = rec.Offset;
                    *timestamp = rec.Timestamp;
                    break;
                }
            if (*offset < 0) { /* the header promised a match the records lack: use the batch */
                *offset = SA_MAX(rr.hdr.BaseOffset, part->log_start);
                *timestamp = rr.hdr.MaxTimestamp;
            }
            sa_rb_records_close(&rr);
            err = SA_OK;
        }
        free(batch);
        return err;
    }
    return SA_OK;
}

sa_err_t sa_partition_max_timestamp(sa_partition_t *part, int64_t *offset, int64_t *timestamp) {
    int64_t max = -1;
    for (size_t i = seg_for(part, part->log_start); i < part->nsegs; i++) {
        const sa_segment_t *seg = part->segs[i];
        if (readable(part, seg) == 0 && seg->base >= part->hwm_seg_base) break;
        /* The HWM segment may hold unsynced batches above the HWM: use its maximum as of the sync. */
        int64_t m =
            seg->base == part->hwm_seg_base && part->hwm_pos < seg->size ? seg->durable_max_ts : seg->max_ts;
        if (m > max) max = m;
    }
    if (max < 0) {
        *offset = *timestamp = -1;
        return SA_OK;
    }
    return sa_partition_offset_for_time(part, max, offset, timestamp);
}

/* Delete whole segments entirely below the log start offset (never the active one); while a
 * cleaning runs, at its end (the cleaner swaps sealed segments' files by name). */
void sa_partition_drop_below_log_start(sa_partition_t *part) {
    if (part->cleaning) return;
    /* The next segment's base, not this one's next offset: a compacted segment may end early. */
    while (part->nsegs > 1 && part->segs[1]->base <= part->log_start) drop_seg(part, 0);
    sa_producers_drop_below(part, part->segs[0]->base);
}

sa_err_t sa_partition_delete_records(sa_partition_t *part, int64_t offset, int64_t *low_watermark) {
    if (offset == -1) offset = part->hwm;
    if (offset < 0 || offset > part->hwm) return SA_ERR_OFFSET_OUT_OF_RANGE;
    sa_err_t err = SA_OK;
    if (offset > part->log_start) {
        int64_t old = part->log_start;
        part->log_start = offset;
        if (write_log_start(part)) {
            part->log_start = old;
            err = SA_ERR_KAFKA_STORAGE_ERROR;
        } else {
            sa_partition_drop_below_log_start(part);
        }
    }
    if (low_watermark) *low_watermark = part->log_start;
    check_part(part);
    return err;
}

/* The newest timestamp of a segment for retention: its largest record timestamp, or, when its
 * batches carry none (-1, old clients), the file's modification time, as Kafka does. */
static int64_t retention_ts(const sa_segment_t *seg) {
    if (seg->max_ts >= 0) return seg->max_ts;
    struct stat st;
    if (seg->size == 0 || sa_sysio.fstat(seg->fd, &st)) return -1;
    return (int64_t)st.st_mtim.tv_sec * 1000 + st.st_mtim.tv_nsec / 1000000;
}

sa_err_t sa_partition_retention(sa_partition_t *part, int64_t now_ms) {
    const sa_topic_limits_t *lim = &part->topic->lim;
    int64_t start = part->log_start;
    /* cleanup.policy=compact alone keeps every segment; a cleaning in progress owns them. */
    if (!lim->delete_old || part->cleaning) return SA_OK;
    if (lim->retention_ms >= 0) {
        int64_t cutoff = now_ms - lim->retention_ms;
        while (part->nsegs > 0) {
            sa_segment_t *seg = part->segs[0];
            if (retention_ts(seg) >= cutoff || seg->next_offset > part->hwm) break;
            if (part->nsegs == 1) {
                /* The active segment expired: roll so the next offset survives its deletion. */
                if (seg->size == 0 || roll(part, NULL, 0)) break;
            }
            sa_log_info("storage",
                        "%s: deleting segment %" PRId64 " (newest record older than "
                        "retention.ms=%" PRId64 ")",
                        part->dir, seg->base, lim->retention_ms);
            drop_seg(part, 0);
        }
    }
    if (lim->retention_bytes >= 0) {
        int64_t total = sa_partition_size(part);
        while (part->nsegs > 1 && total - part->segs[0]->size >= lim->retention_bytes &&
               part->segs[0]->next_offset <= part->hwm) {
            total -= part->segs[0]->size;
            sa_log_info("storage",
                        "%s: deleting segment %" PRId64 " (partition above retention.bytes="
                        "%" PRId64 ")",
                        part->dir, part->segs[0]->base, lim->retention_bytes);
            drop_seg(part, 0);
        }
    }
    if (part->segs[0]->base > part->log_start) part->log_start = part->segs[0]->base;
    sa_producers_drop_below(part, part->segs[0]->base);
    check_part(part);
    if (part->log_start != start && write_log_start(part)) return SA_ERR_KAFKA_STORAGE_ERROR;
    return SA_OK;
}

typedef struct scan_ctx_s {
    sa_part_visit_cb *cb;
    void *opaque;
    sa_segment_t *seg; /* the one being walked */
} scan_ctx_t;

static int scan_visit(void *opaque, const sa_rb_header_t *hdr, int64_t pos, const uint8_t *batch) {
    (void)batch;
    scan_ctx_t *ctx = opaque;
    return ctx->cb(ctx->opaque, ctx->seg, hdr, pos);
}

sa_err_t sa_partition_walk_batches(sa_partition_t *part, int64_t from_offset, sa_part_visit_cb *cb,
                                   void *opaque) {
    scan_ctx_t ctx = {cb, opaque, NULL};
    for (size_t i = seg_for(part, from_offset); i < part->nsegs; i++) {
        sa_segment_t *seg = part->segs[i];
        int64_t from = 0, stop;
        if (seg->base <= from_offset && sa_segment_find(seg, from_offset, seg->size, &from))
            return SA_ERR_KAFKA_STORAGE_ERROR;
        ctx.seg = seg;
        sa_err_t err = sa_segment_walk(seg, from, seg->size, 0, scan_visit, &ctx, &stop);
        if (err == SA_ERR_CORRUPT) return SA_ERR_CORRUPT_MESSAGE;
        if (err) return err;
    }
    return SA_OK;
}

typedef struct header_visit_s {
    sa_batch_visit_cb *cb;
    void *opaque;
} header_visit_t;

static int header_visit(void *opaque, sa_segment_t *seg, const sa_rb_header_t *hdr, int64_t pos) {
    (void)seg;
    (void)pos;
    header_visit_t *hv = opaque;
    return hv->cb(hv->opaque, hdr);
}

sa_err_t sa_partition_scan_batches(sa_partition_t *part, int64_t from_offset, sa_batch_visit_cb *cb,
                                   void *opaque) {
    header_visit_t hv = {cb, opaque};
    return sa_partition_walk_batches(part, from_offset, header_visit, &hv);
}
