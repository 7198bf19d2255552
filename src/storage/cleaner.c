/*
 * cleaner.c - log compaction of one partition: the key map, the rewrite of sealed segments, the
 * crash-safe swap, and the recovery of a swap a crash interrupted. Runs on any thread: it reads
 * only its job (sa_clean_job_t, built on the loop thread by cleaner_sched.c) and the files.
 *
 * DESIGN (Kafka's LogCleaner, redone for samsa's files; docs/compaction.md has the whole story).
 *  A job covers the partition's cleanable segments: sealed, entirely below the HWM's segment and
 *  older than min.compaction.lag.ms. Their file descriptors are dup'd, so the loop thread keeps
 *  reading and appending while the cleaner works, and nothing here touches sa_partition_t.
 *  1. Producers: one header walk of the job's segments finds each producer id's last batch (it is
 *     kept, empty if need be, so idempotent producers' sequence numbers survive a restart).
 *  2. Key map: the records of the dirty part (offsets >= the cleaner checkpoint) fill a map from
 *     a 128-bit key hash to the key's last offset. It is bounded by log.cleaner.dedupe.buffer.size;
 *     when full, the map ends at a batch boundary and this job cleans up to there.
 *  3. Rewrite: groups of consecutive segments (at most segment.bytes of input together) are copied
 *     into one new file, batch by batch: a record is kept iff its key is not in the map or it is
 *     the key's last record; keyless records are dropped (a topic that became compacted may hold
 *     some); a tombstone is kept until its batch's delete horizon (set when it is first cleaned:
 *     now + delete.retention.ms, in BaseTimestamp, attribute bit 6, as Kafka since KIP-534) has
 *     passed. Offsets never change: a rewritten batch keeps BaseOffset and LastOffsetDelta, so the
 *     log gets gaps. An unchanged group is not swapped.
 *     Transactions (storage_int.h, WHAT LOG COMPACTION MUST PRESERVE): the job ends before the last
 *     stable offset, so every transaction in it is decided. Control batches (markers) and the
 *     batches of aborted transactions (job->aborted, from the partition's aborted-transaction
 *     index) are copied byte for byte and never enter the key map: an aborted value never hides a
 *     committed one, and every transaction's first offset and marker stay where the index says.
 *     Committed transactional records are compacted like any others.
 *  4. Swap, per group, in this order (the names are DIR/<20-digit base>[.<20-digit end>].<ext>;
 *     the group replaces the .log files whose base is in [base, end)):
 *       a. write <base>.<end>.cleaned, fdatasync it; if the old segments have .txnindex files,
 *          write their merge to <base>.<end>.txncleaned and fdatasync it (txn.c);
 *       b. rename it to <base>.<end>.swap, fsync DIR              <- the commit point
 *       c. unlink the group's old .index/.timeindex/.txnindex/.log files, fsync DIR
 *       d. rename <base>.<end>.swap to <base>.log, <base>.<end>.txncleaned to <base>.txnindex,
 *          fsync DIR
 *       e. write the new segment's .index/.timeindex (safe_file: optional, rebuilt if missing)
 *     sa_cleaner_recover_dir() runs at every partition open before the segments are listed: a
 *     .cleaned file is deleted with its .txncleaned (step b never happened: the old files are
 *     whole); a .swap file is finished (steps c and d, idempotent), and so is a .txncleaned left
 *     without its .cleaned (a crash inside d). A crash at any moment so leaves either the old
 *     segments or the new one, never both, never neither. Old index files go (c) before the new
 *     log takes the name (d), so an index never describes the wrong file; the .txnindex must not
 *     be optional like the others (a sealed segment without one has no aborted transaction), so
 *     it is written before the commit point.
 *  5. The checkpoint DIR/cleaner-offset ("<offset>\n", safe_file) moves to the map's end after the
 *     last group; a crash before it only makes the next cleaning redo work (cleaning is
 *     idempotent: what it keeps, it keeps again).
 *  Reading and writing are throttled together to log.cleaner.io.max.bytes.per.second.
 *
 * INVARIANTS
 *  1. Every record the job keeps has the offset it had; the output's batches are in offset order
 *     and never overlap (they are a subsequence of the input's).
 *  2. For each key, the record at its highest offset in the job's range is kept, unless it is a
 *     tombstone whose delete horizon has passed (and then no earlier record of the key is kept).
 *  3. A job never touches a file outside its segments' [base, end) ranges and its own temp files.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "core/check.h"
#include "core/crc32c.h"
#include "core/hash.h"
#include "core/log.h"
#include "core/mem.h"
#include "core/sysio.h"
#include "core/time.h"
#include "storage/safe_file.h"
#include "storage/storage_int.h"

#define OUT_FLUSH     (1 << 20)    /* write the new segment in pieces this big */
#define SYNC_EVERY    (4 << 20)    /* ...and fdatasync it every this many bytes */
#define RECORDS_MAX   (256u << 20) /* decompressed batch cap */
#define MAP_SLOT_SIZE 24           /* bytes of one key map slot (what the dedupe buffer counts) */
#define MAP_LOAD      0.75         /* the key map is full at this share of its slots */

/* ---- the key map: 128-bit key hash -> last offset ---- */

typedef struct key_slot_s {
    uint64_t h1, h2; /* both 0: empty (h1 is forced odd) */
    int64_t offset;
} key_slot_t;

typedef struct key_map_s {
    key_slot_t *slots;
    size_t nslots; /* power of two */
    size_t used, limit;
} key_map_t;

/* Two independent hashes of the key: FNV-1a mixed, and CRC-32C with the length. A collision of
 * all 128 bits would drop a record, as Kafka accepts with its 128-bit MD5 map. */
static void key_hash(const uint8_t *key, int32_t len, uint64_t *h1, uint64_t *h2) {
    *h1 = sa_hash_mix64(sa_fnv1a64(key, (size_t)len)) | 1;
    *h2 = ((uint64_t)sa_crc32c(0, key, (size_t)len) << 32) | (uint32_t)len;
}

/* A map of at most @p buffer_bytes, and no bigger than @p dirty_bytes of records can fill (a record
 * takes at least 7 bytes, a slot is used up to MAP_LOAD). */
static void map_init(key_map_t *m, int64_t buffer_bytes, int64_t dirty_bytes) {
    size_t want = (size_t)SA_MIN(buffer_bytes / MAP_SLOT_SIZE, SA_MAX(dirty_bytes / 4, (int64_t)1024)),
           n = 1024;
    while (n * 2 <= want) n *= 2;
    m->slots = sa_calloc(n, sizeof(*m->slots));
    m->nslots = n;
    m->used = 0;
    m->limit = (size_t)((double)n * MAP_LOAD);
}

static key_slot_t *map_slot(const key_map_t *m, uint64_t h1, uint64_t h2) {
    size_t mask = m->nslots - 1, i = (size_t)h1 & mask;
    for (;; i = (i + 1) & mask) {
        key_slot_t *s = &m->slots[i];
        if (!s->h1 || (s->h1 == h1 && s->h2 == h2)) return s;
    }
}

static void map_put(key_map_t *m, const uint8_t *key, int32_t len, int64_t offset) {
    uint64_t h1, h2;
    key_hash(key, len, &h1, &h2);
    key_slot_t *s = map_slot(m, h1, h2);
    if (!s->h1) {
        s->h1 = h1;
        s->h2 = h2;
        m->used++;
    }
    s->offset = offset; /* records come in offset order: the last one wins */
}

/* @returns the key's last offset in the map, or -1. */
static int64_t map_get(const key_map_t *m, const uint8_t *key, int32_t len) {
    uint64_t h1, h2;
    key_hash(key, len, &h1, &h2);
    const key_slot_t *s = map_slot(m, h1, h2);
    return s->h1 ? s->offset : -1;
}

/* ---- producer ids -> offset of their last batch in the job ---- */

typedef struct pid_slot_s {
    int64_t pid; /* -1: empty */
    int64_t last_base;
} pid_slot_t;

typedef struct pid_map_s {
    pid_slot_t *slots;
    size_t nslots, used;
} pid_map_t;

static pid_slot_t *pid_slot(pid_map_t *m, int64_t pid) {
    size_t mask = m->nslots - 1, i = (size_t)sa_hash_mix64((uint64_t)pid) & mask;
    while (m->slots[i].pid != -1 && m->slots[i].pid != pid) i = (i + 1) & mask;
    return &m->slots[i];
}

static void pid_grow(pid_map_t *m) {
    pid_map_t n = {sa_malloc((m->nslots ? m->nslots * 2 : 64) * sizeof(pid_slot_t)),
                   m->nslots ? m->nslots * 2 : 64, 0};
    for (size_t i = 0; i < n.nslots; i++) n.slots[i].pid = -1;
    for (size_t i = 0; i < m->nslots; i++)
        if (m->slots[i].pid != -1) {
            *pid_slot(&n, m->slots[i].pid) = m->slots[i];
            n.used++;
        }
    free(m->slots);
    *m = n;
}

static void pid_note(pid_map_t *m, int64_t pid, int64_t base) {
    if ((m->used + 1) * 4 > m->nslots * 3) pid_grow(m);
    pid_slot_t *s = pid_slot(m, pid);
    if (s->pid == -1) {
        s->pid = pid;
        m->used++;
    }
    s->last_base = base;
}

static int pid_is_last(pid_map_t *m, int64_t pid, int64_t base) {
    if (!m->nslots) return 0;
    const pid_slot_t *s = pid_slot(m, pid);
    return s->pid == pid && s->last_base == base;
}

/* ---- aborted transactions: (producer id, first offset, marker) sorted by producer, then first ---- */

/* @returns 1 if @p hdr is a data batch of an aborted transaction (job->aborted). */
static int aborted_batch(const sa_clean_job_t *job, const sa_rb_header_t *hdr) {
    if (!(hdr->Attributes & SA_RB_ATTR_TRANSACTIONAL) || (hdr->Attributes & SA_RB_ATTR_CONTROL) ||
        hdr->ProducerId < 0 || !job->naborted)
        return 0;
    /* the last entry of this producer whose first offset is at or before the batch */
    size_t lo = 0, hi = job->naborted;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        const sa_txn_aborted_t *a = &job->aborted[mid];
        if (a->pid < hdr->ProducerId || (a->pid == hdr->ProducerId && a->first <= hdr->BaseOffset))
            lo = mid + 1;
        else
            hi = mid;
    }
    if (!lo) return 0;
    const sa_txn_aborted_t *a = &job->aborted[lo - 1];
    return a->pid == hdr->ProducerId && hdr->BaseOffset <= a->last;
}

/* ---- the job ---- */

static void seg_name(char *out, size_t size, const char *dir, int64_t base, const char *ext) {
    snprintf(out, size, "%s/%020" PRId64 "%s", dir, base, ext);
}

static void group_name(char *out, size_t size, const char *dir, int64_t base, int64_t end, const char *ext) {
    snprintf(out, size, "%s/%020" PRId64 ".%020" PRId64 "%s", dir, base, end, ext);
}

void sa_clean_job_free(sa_clean_job_t *job) {
    if (!job) return;
    for (size_t i = 0; i < job->nsegs; i++)
        if (job->segs[i].fd >= 0) sa_sysio.close(job->segs[i].fd);
    for (size_t i = 0; i < job->nout; i++) sa_segment_free(job->out[i].seg);
    free(job->segs);
    free(job->out);
    free(job->aborted);
    free(job->dir);
    free(job);
}

typedef struct run_s {
    sa_clean_job_t *job;
    key_map_t map;
    pid_map_t pids;
    int64_t map_end;  /* records at and after this offset are not in the map */
    int64_t t0_us;    /* the throttle's start */
    int64_t io_bytes; /* read + written, for the throttle */
    /* the group being written */
    sa_segment_t *out;
    sa_buf_t buf; /* not yet written bytes of out, starting at out_pos */
    int64_t out_pos;
    int64_t synced_pos; /* bytes of out already fdatasync'd */
    int changed;        /* the group differs from its input */
    sa_err_t err;
    const char *op;
} run_t;

static int cancelled(const run_t *r) { return r->job->cancel && atomic_load(r->job->cancel); }

/* Sleep as long as the byte budget asks, in slices, waking for a cancel. */
static void throttle(run_t *r, int64_t bytes) {
    r->io_bytes += bytes;
    double rate = r->job->io_max_bytes_per_second;
    if (rate <= 0) return;
    for (;;) {
        int64_t due_us = (int64_t)((double)r->io_bytes / rate * 1e6);
        int64_t ahead = due_us - (sa_mono_us() - r->t0_us);
        if (ahead < 1000 || cancelled(r)) return;
        int64_t us = SA_MIN(ahead, (int64_t)50000);
        struct timespec ts = {us / 1000000, (long)(us % 1000000) * 1000};
        nanosleep(&ts, NULL);
        r->job->stats.throttled_us += us;
    }
}

/* An input segment as a walkable sa_segment_t over the job's dup'd fd (not owned). */
static sa_segment_t *input_seg(const sa_clean_seg_t *cs) { return sa_segment_from_fd(cs->fd, cs->base); }

static void release_input(sa_segment_t *seg) {
    seg->fd = -1; /* the job owns the fd */
    sa_segment_free(seg);
}

/* ---- pass 1: producers' last batches ---- */

static int pid_visit(void *opaque, const sa_rb_header_t *hdr, int64_t pos, const uint8_t *batch) {
    (void)pos;
    (void)batch;
    if (hdr->ProducerId >= 0) pid_note(opaque, hdr->ProducerId, hdr->BaseOffset);
    return 0;
}

/* ---- pass 2: the key map ---- */

static int map_visit(void *opaque, const sa_rb_header_t *hdr, int64_t pos, const uint8_t *batch) {
    (void)pos;
    run_t *r = opaque;
    sa_clean_job_t *job = r->job;
    if (cancelled(r)) return SA_ERR_CLOSED;
    throttle(r, (int64_t)sa_rb_size(hdr));
    job->stats.bytes_read += (int64_t)sa_rb_size(hdr);
    if (sa_rb_last_offset(hdr) < job->first_dirty || (hdr->Attributes & SA_RB_ATTR_CONTROL) ||
        aborted_batch(job, hdr))
        return 0;
    if (r->map.used + (size_t)hdr->RecordsCount > r->map.limit) {
        if (r->map.used == 0) {
            r->op = "key map (log.cleaner.dedupe.buffer.size is too small for one batch)";
            r->err = SA_ERR_TOOBIG;
            return SA_ERR_TOOBIG;
        }
        r->map_end = hdr->BaseOffset; /* full: this job cleans up to this batch */
        return 1;
    }
    sa_rb_records_t rr;
    sa_rb_record_t rec;
    sa_err_t err = sa_rb_records_open(&rr, batch, sa_rb_size(hdr), RECORDS_MAX, NULL, 0);
    while (!err && (err = sa_rb_records_next(&rr, &rec)) == SA_OK)
        if (rec.KeyLength >= 0 && rec.Offset >= job->first_dirty)
            map_put(&r->map, rec.Key, rec.KeyLength, rec.Offset);
    sa_rb_records_close(&rr);
    if (err != SA_ERR_NOT_FOUND) {
        r->op = "read records";
        r->err = SA_ERR_CORRUPT_MESSAGE;
        return SA_ERR_CORRUPT_MESSAGE;
    }
    return 0;
}

/* ---- pass 3: the rewrite ---- */

static sa_err_t flush_out(run_t *r) {
    if (!r->buf.len) return SA_OK;
    if (sa_sysio_pwrite_all(r->out->fd, r->buf.data, r->buf.len, r->out_pos)) {
        r->op = "write";
        return SA_ERR_KAFKA_STORAGE_ERROR;
    }
    throttle(r, (int64_t)r->buf.len);
    r->job->stats.bytes_written += (int64_t)r->buf.len;
    r->out_pos += (int64_t)r->buf.len;
    sa_buf_reset(&r->buf);
    /* Write back as we go: one fdatasync of a whole group at the end would hold the disk for as
     * long as it takes, and the group commit's fdatasyncs would queue behind it. */
    if (r->out_pos - r->synced_pos >= SYNC_EVERY) {
        if (sa_sysio.fdatasync(r->out->fd)) {
            r->op = "fdatasync";
            return SA_ERR_KAFKA_STORAGE_ERROR;
        }
        r->synced_pos = r->out_pos;
    }
    return SA_OK;
}

/* Append the batch at @p p (@p size bytes, whole) to the group's output. */
static sa_err_t emit(run_t *r, const uint8_t *p, size_t size) {
    sa_rb_header_t hdr;
    sa_rb_parse_header(p, size, &hdr, NULL, 0);
    int64_t pos = r->out_pos + (int64_t)r->buf.len;
    if (sa_buf_append(&r->buf, p, size)) return SA_ERR_NOMEM;
    sa_segment_note_batch(r->out, &hdr, pos, r->job->index_interval);
    return r->buf.len >= OUT_FLUSH ? flush_out(r) : SA_OK;
}

static int clean_visit(void *opaque, const sa_rb_header_t *hdr, int64_t pos, const uint8_t *batch) {
    (void)pos;
    run_t *r = opaque;
    sa_clean_job_t *job = r->job;
    size_t size = sa_rb_size(hdr);
    if (cancelled(r)) return SA_ERR_CLOSED;
    throttle(r, (int64_t)size);
    job->stats.bytes_read += (int64_t)size;
    job->stats.records_read += hdr->RecordsCount;
    if (sa_rb_last_offset(hdr) < job->log_start) { /* below DeleteRecords' log start: gone */
        r->changed = 1;
        return 0;
    }
    if ((hdr->Attributes & SA_RB_ATTR_CONTROL) || aborted_batch(job, hdr)) { /* kept as they are */
        job->stats.records_kept += hdr->RecordsCount;
        return emit(r, batch, size) ? SA_ERR_KAFKA_STORAGE_ERROR : 0;
    }
    int has_horizon = (hdr->Attributes & SA_RB_ATTR_DELETE_HORIZON) != 0;
    sa_rb_records_t rr;
    sa_rb_record_t *keep = NULL;
    size_t nkeep = 0, cap = 0;
    int removed = 0, wants_horizon = 0, tombstones = 0;
    int64_t max_ts = -1;
    sa_rb_record_t rec;
    sa_err_t err = sa_rb_records_open(&rr, batch, size, RECORDS_MAX, NULL, 0);
    while (!err && (err = sa_rb_records_next(&rr, &rec)) == SA_OK) {
        int retain;
        if (rec.Offset < job->log_start || rec.KeyLength < 0) {
            retain = 0;
        } else {
            int64_t last = map_get(&r->map, rec.Key, rec.KeyLength);
            retain = last < 0 || rec.Offset >= last;
            if (retain && rec.ValueLength < 0) { /* a tombstone that is the key's last record */
                if (has_horizon && hdr->BaseTimestamp <= job->now_ms)
                    retain = 0; /* its horizon passed: every earlier record of the key is gone */
                else if (!has_horizon && rec.Offset < r->map_end)
                    wants_horizon = 1;
            }
        }
        if (!retain) {
            removed = 1;
            continue;
        }
        if (nkeep == cap) {
            cap = cap ? cap * 2 : 16;
            keep = sa_realloc(keep, cap * sizeof(*keep));
        }
        keep[nkeep++] = rec;
        tombstones += rec.ValueLength < 0;
        if (rec.Timestamp > max_ts) max_ts = rec.Timestamp;
    }
    if (err != SA_ERR_NOT_FOUND) {
        sa_rb_records_close(&rr);
        free(keep);
        r->op = "read records";
        r->err = SA_ERR_CORRUPT_MESSAGE;
        return SA_ERR_CORRUPT_MESSAGE;
    }
    job->stats.records_kept += (int64_t)nkeep;
    sa_err_t werr = SA_OK;
    if (!removed && !wants_horizon) {
        if (tombstones && has_horizon && hdr->BaseTimestamp < job->next_horizon)
            job->next_horizon = hdr->BaseTimestamp;
        werr = emit(r, batch, size); /* untouched: copied byte for byte */
    } else if (nkeep || (hdr->ProducerId >= 0 && pid_is_last(&r->pids, hdr->ProducerId, hdr->BaseOffset))) {
        /* Rebuilt; an emptied batch survives only as its producer's last (sequence numbers). */
        int16_t attr = hdr->Attributes;
        int64_t base_ts = hdr->BaseTimestamp;
        if (wants_horizon) {
            attr = (int16_t)(attr | SA_RB_ATTR_DELETE_HORIZON);
            base_ts = job->now_ms + SA_MIN(job->delete_retention_ms, INT64_MAX - job->now_ms);
        }
        if (tombstones && (attr & SA_RB_ATTR_DELETE_HORIZON) && base_ts < job->next_horizon)
            job->next_horizon = base_ts; /* when the next cleaning can drop them */
        if ((hdr->Attributes & SA_RB_ATTR_LOG_APPEND_TIME) || nkeep == 0) max_ts = hdr->MaxTimestamp;
        sa_buf_t nb = SA_BUF_INIT(0);
        werr = sa_rb_rebuild(&nb, hdr, attr, base_ts, max_ts, keep, nkeep);
        if (!werr) werr = emit(r, nb.data, nb.len);
        sa_buf_free(&nb);
        r->changed = 1;
        job->stats.batches_rewritten++;
    } else {
        r->changed = 1; /* every record of the batch is superseded */
    }
    sa_rb_records_close(&rr);
    free(keep);
    if (werr) {
        if (!r->op) r->op = "rebuild batch";
        r->err = werr == SA_ERR_NOMEM ? SA_ERR_KAFKA_STORAGE_ERROR : werr;
        return SA_ERR_KAFKA_STORAGE_ERROR;
    }
    return 0;
}

/* Unlink the .log/.index/.timeindex/.txnindex of every segment of the job whose base is in
 * [base, end). */
static int unlink_old(const sa_clean_job_t *job, int64_t base, int64_t end) {
    static const char *const exts[] = {".index", ".timeindex", ".txnindex", ".log"};
    char path[4096];
    for (size_t i = 0; i < job->nsegs; i++) {
        if (job->segs[i].base < base || job->segs[i].base >= end) continue;
        for (size_t e = 0; e < SA_ARRAY_LEN(exts); e++) {
            seg_name(path, sizeof(path), job->dir, job->segs[i].base, exts[e]);
            if (sa_sysio.unlink(path) && errno != ENOENT) return -1;
        }
    }
    return 0;
}

/* Clean segments [a, b) of the job into one new segment and swap it in (steps a-e above). */
static sa_err_t clean_group(run_t *r, size_t a, size_t b) {
    sa_clean_job_t *job = r->job;
    int64_t base = job->segs[a].base;
    int64_t end = b < job->nsegs ? job->segs[b].base : job->end;
    char cleaned[4096], swap[4096], log[4096], txncleaned[4096], txnindex[4096];
    group_name(cleaned, sizeof(cleaned), job->dir, base, end, ".cleaned");
    group_name(swap, sizeof(swap), job->dir, base, end, ".swap");
    group_name(txncleaned, sizeof(txncleaned), job->dir, base, end, ".txncleaned");
    seg_name(log, sizeof(log), job->dir, base, ".log");
    seg_name(txnindex, sizeof(txnindex), job->dir, base, ".txnindex");
    int has_txnindex = 0;
    r->op = "create";
    int fd = sa_sysio.open(cleaned, O_RDWR | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
    if (fd < 0) return SA_ERR_KAFKA_STORAGE_ERROR;
    r->out = sa_segment_from_fd(fd, base);
    r->out_pos = r->synced_pos = 0;
    r->changed = 0;
    r->op = NULL;
    sa_err_t err = SA_OK;
    for (size_t i = a; i < b && !err; i++) {
        sa_segment_t *in = input_seg(&job->segs[i]);
        int64_t stop;
        err = sa_segment_walk(in, 0, job->segs[i].size, 1, clean_visit, r, &stop);
        release_input(in);
        if (err == SA_ERR_CLOSED) break;
        if (err == SA_ERR_CORRUPT) {
            r->op = "read (bad batch in a sealed segment)";
            err = SA_ERR_CORRUPT_MESSAGE;
        } else if (err) {
            err = r->err ? r->err : SA_ERR_KAFKA_STORAGE_ERROR;
        }
    }
    if (!err) err = flush_out(r);
    if (!err && !r->changed) { /* nothing to gain: keep the old files */
        sa_segment_free(r->out);
        r->out = NULL;
        sa_sysio.unlink(cleaned);
        return SA_OK;
    }
    if (!err && sa_sysio.fdatasync(fd)) {
        r->op = "fdatasync";
        err = SA_ERR_KAFKA_STORAGE_ERROR;
    }
    if (!err) { /* the old segments' aborted transactions and open set, for the new one */
        int64_t *bases = sa_calloc(b - a, sizeof(*bases));
        for (size_t i = a; i < b; i++) bases[i - a] = job->segs[i].base;
        err = sa_txn_merge_index(job->dir, bases, b - a, end, txncleaned, &has_txnindex);
        free(bases);
        if (err) {
            r->op = err == SA_ERR_CORRUPT ? "merge transaction indexes (a damaged .txnindex)"
                                          : "write .txncleaned";
            if (err == SA_ERR_CORRUPT) err = SA_ERR_CORRUPT_MESSAGE;
        }
    }
    if (!err && cancelled(r)) err = SA_ERR_CLOSED;
    if (!err && sa_sysio.rename(cleaned, swap)) {
        r->op = "rename to .swap";
        err = SA_ERR_KAFKA_STORAGE_ERROR;
    }
    if (!err && sa_sysio_fsync_dir(job->dir)) {
        /* Not known to be committed: the next open decides (it finishes a .swap it finds). */
        r->op = "fsync dir (commit)";
        job->committed = 1;
        err = SA_ERR_KAFKA_STORAGE_ERROR;
    }
    if (err) {
        sa_segment_free(r->out);
        r->out = NULL;
        if (!job->committed) {
            sa_sysio.unlink(txncleaned);
            sa_sysio.unlink(cleaned);
            sa_sysio.unlink(swap);
        }
        return err;
    }
    /* Committed: from here on a crash is finished by sa_cleaner_recover_dir. */
    job->committed = 1;
    r->op = "remove old segments";
    if (unlink_old(job, base, end) || sa_sysio_fsync_dir(job->dir)) goto fail;
    r->op = "rename .swap to .log";
    if (sa_sysio.rename(swap, log)) goto fail;
    r->op = "rename .txncleaned to .txnindex";
    if ((has_txnindex && sa_sysio.rename(txncleaned, txnindex)) || sa_sysio_fsync_dir(job->dir)) goto fail;
    if (sa_segment_write_index(r->out, job->dir))
        sa_log_warn("cleaner", "%s: could not write the index of segment %" PRId64 "; it will be rebuilt",
                    job->dir, base);
    job->out = sa_realloc(job->out, (job->nout + 1) * sizeof(*job->out));
    job->out[job->nout++] = (sa_clean_out_t){r->out, base, end};
    r->out = NULL;
    job->stats.segments_in += (int64_t)(b - a);
    job->stats.segments_out++;
    job->committed = 0; /* this group is whole again; an error later is in another group */
    return SA_OK;
fail:
    sa_segment_free(r->out);
    r->out = NULL;
    return SA_ERR_KAFKA_STORAGE_ERROR;
}

sa_err_t sa_clean_run(sa_clean_job_t *job) {
    int64_t t0 = sa_mono_us();
    run_t r = {.job = job, .map_end = job->end, .t0_us = t0, .buf = SA_BUF_INIT(0)};
    sa_err_t err = SA_OK;
    int64_t dirty_bytes = 0;
    for (size_t i = 0; i < job->nsegs; i++)
        if (job->segs[i].next_offset > job->first_dirty) dirty_bytes += job->segs[i].size;
    map_init(&r.map, job->dedupe_buffer_size, dirty_bytes);
    /* 1: each producer's last batch */
    for (size_t i = 0; i < job->nsegs && !err; i++) {
        sa_segment_t *in = input_seg(&job->segs[i]);
        int64_t stop;
        err = sa_segment_walk(in, 0, job->segs[i].size, 0, pid_visit, &r.pids, &stop);
        release_input(in);
    }
    if (err) r.op = "scan producers";
    /* 2: the key map of the dirty part */
    for (size_t i = 0; i < job->nsegs && !err; i++) {
        if (job->segs[i].next_offset <= job->first_dirty) continue;
        sa_segment_t *in = input_seg(&job->segs[i]);
        int64_t stop;
        err = sa_segment_walk(in, 0, job->segs[i].size, 1, map_visit, &r, &stop);
        release_input(in);
        if (err == 1) { /* the map is full */
            err = SA_OK;
            break;
        }
        if (err == SA_ERR_CORRUPT)
            err = SA_ERR_CORRUPT_MESSAGE;
        else if (err && err != SA_ERR_CLOSED && r.err)
            err = r.err;
    }
    job->clean_to = r.map_end;
    /* 3, 4: rewrite and swap group by group, up to the group holding the map's end */
    for (size_t a = 0; a < job->nsegs && !err && job->segs[a].base < r.map_end;) {
        size_t b = a + 1;
        int64_t bytes = job->segs[a].size;
        while (b < job->nsegs && job->segs[b].base < r.map_end &&
               bytes + job->segs[b].size <= job->segment_bytes &&
               job->segs[b].next_offset - job->segs[a].base <= INT32_MAX) {
            bytes += job->segs[b].size;
            b++;
        }
        err = clean_group(&r, a, b);
        a = b;
    }
    /* 5: the checkpoint */
    if (!err) {
        char path[4096], text[32];
        snprintf(path, sizeof(path), "%s/cleaner-offset", job->dir);
        int n = snprintf(text, sizeof(text), "%" PRId64 "\n", job->clean_to);
        if (sa_safe_file_write(path, text, (size_t)n, NULL, 0)) {
            r.op = "write cleaner-offset";
            err = SA_ERR_KAFKA_STORAGE_ERROR;
        }
    }
    if (err && err != SA_ERR_CLOSED)
        sa_log_error("cleaner", "%s: cleaning failed at %s: %s%s", job->dir, r.op ? r.op : "?",
                     err == SA_ERR_KAFKA_STORAGE_ERROR ? strerror(errno) : sa_err2str(err),
                     job->committed ? " (a swap is half done: the next start finishes it)" : "");
    job->err = err;
    job->stats.duration_us = sa_mono_us() - t0;
    free(r.map.slots);
    free(r.pids.slots);
    sa_buf_free(&r.buf);
    return err;
}

/* ---- recovery at open ---- */

/* Parse "<20 digits>.<20 digits><ext>". @returns 1 with *base and *end. */
static int parse_group(const char *name, const char *ext, int64_t *base, int64_t *end) {
    size_t n = strlen(name), e = strlen(ext);
    if (n != 41 + e || strcmp(name + 41, ext) || name[20] != '.' || strspn(name, "0123456789") != 20 ||
        strspn(name + 21, "0123456789") != 20)
        return 0;
    *base = strtoll(name, NULL, 10);
    *end = strtoll(name + 21, NULL, 10);
    return *base < *end;
}

typedef struct group_s {
    int64_t base, end;
} group_t;

static void push_group(group_t **v, size_t *n, int64_t base, int64_t end) {
    *v = sa_realloc(*v, (*n + 1) * sizeof(**v));
    (*v)[(*n)++] = (group_t){base, end};
}

static int has_group(const group_t *v, size_t n, int64_t base, int64_t end) {
    for (size_t i = 0; i < n; i++)
        if (v[i].base == base && v[i].end == end) return 1;
    return 0;
}

sa_err_t sa_cleaner_recover_dir(const char *dir) {
    DIR *d = opendir(dir);
    if (!d) return errno == ENOENT ? SA_OK : SA_ERR_KAFKA_STORAGE_ERROR;
    char path[4096];
    struct dirent *de;
    group_t *swaps = NULL, *cleaneds = NULL, *txns = NULL;
    size_t nswaps = 0, ncleaneds = 0, ntxns = 0;
    int64_t *logs = NULL;
    size_t nlogs = 0;
    sa_err_t err = SA_OK;
    while ((de = readdir(d))) {
        const char *s = de->d_name;
        int64_t base, end;
        if (parse_group(s, ".cleaned", &base, &end)) {
            push_group(&cleaneds, &ncleaneds, base, end);
        } else if (parse_group(s, ".swap", &base, &end)) {
            push_group(&swaps, &nswaps, base, end);
        } else if (parse_group(s, ".txncleaned", &base, &end)) {
            push_group(&txns, &ntxns, base, end);
        } else if (strlen(s) == 24 && !strcmp(s + 20, ".log") && strspn(s, "0123456789") == 20) {
            logs = sa_realloc(logs, (nlogs + 1) * sizeof(*logs));
            logs[nlogs++] = strtoll(s, NULL, 10);
        }
    }
    closedir(d);
    /* Not committed: the old files are whole. The .txncleaned goes first: one without its .cleaned
     * means the commit happened. */
    for (size_t k = 0; k < ncleaneds && !err; k++) {
        group_name(path, sizeof(path), dir, cleaneds[k].base, cleaneds[k].end, ".cleaned");
        sa_log_info("cleaner", "%s: removing an unfinished cleaning", path);
        char txn[4096];
        group_name(txn, sizeof(txn), dir, cleaneds[k].base, cleaneds[k].end, ".txncleaned");
        if ((sa_sysio.unlink(txn) && errno != ENOENT) || sa_sysio.unlink(path))
            err = SA_ERR_KAFKA_STORAGE_ERROR;
    }
    for (size_t k = 0; k < nswaps && !err; k++) {
        int64_t base = swaps[k].base, end = swaps[k].end;
        sa_log_info("cleaner", "%s: finishing the swap of segments %" PRId64 "..%" PRId64, dir, base,
                    end - 1);
        static const char *const exts[] = {".index", ".timeindex", ".txnindex", ".log"};
        for (size_t i = 0; i < nlogs && !err; i++) {
            if (logs[i] < base || logs[i] >= end) continue;
            for (size_t e = 0; e < SA_ARRAY_LEN(exts); e++) {
                seg_name(path, sizeof(path), dir, logs[i], exts[e]);
                if (sa_sysio.unlink(path) && errno != ENOENT) err = SA_ERR_KAFKA_STORAGE_ERROR;
            }
        }
        char swap[4096], log[4096];
        group_name(swap, sizeof(swap), dir, base, end, ".swap");
        seg_name(log, sizeof(log), dir, base, ".log");
        if (!err && (sa_sysio_fsync_dir(dir) || sa_sysio.rename(swap, log))) err = SA_ERR_KAFKA_STORAGE_ERROR;
    }
    /* Committed (a .swap was, or its rename is done): the merged index takes its name. */
    for (size_t k = 0; k < ntxns && !err; k++) {
        if (has_group(cleaneds, ncleaneds, txns[k].base, txns[k].end)) continue; /* removed above */
        char txn[4096];
        group_name(txn, sizeof(txn), dir, txns[k].base, txns[k].end, ".txncleaned");
        seg_name(path, sizeof(path), dir, txns[k].base, ".txnindex");
        if (sa_sysio.rename(txn, path)) err = SA_ERR_KAFKA_STORAGE_ERROR;
    }
    if (!err && (nswaps || ntxns || ncleaneds) && sa_sysio_fsync_dir(dir)) err = SA_ERR_KAFKA_STORAGE_ERROR;
    free(swaps);
    free(cleaneds);
    free(txns);
    free(logs);
    return err;
}

int64_t sa_cleaner_read_checkpoint(const char *dir) {
    char path[4096];
    snprintf(path, sizeof(path), "%s/cleaner-offset", dir);
    sa_buf_t b = SA_BUF_INIT(0);
    int64_t v = 0;
    if (sa_safe_file_read(path, 64, &b) == SA_OK) {
        sa_buf_putc(&b, 0);
        long long x = strtoll((const char *)b.data, NULL, 10);
        if (x > 0) v = x;
    }
    sa_buf_free(&b);
    return v;
}

/* ---- what a compacted topic accepts ---- */

int sa_partition_keyless_records(const sa_partition_t *part, const uint8_t *batches, size_t len,
                                 sa_record_error_cb *cb, void *opaque) {
    if (!part->topic->lim.compact) return 0;
    int found = 0;
    sa_rb_iter_t it;
    sa_rb_header_t hdr;
    const uint8_t *batch;
    sa_rb_iter_init(&it, batches, len);
    while (sa_rb_iter_next(&it, &hdr, &batch) == SA_OK) {
        if (hdr.Attributes & SA_RB_ATTR_CONTROL) continue;
        sa_rb_records_t rr;
        sa_rb_record_t rec;
        int32_t index = 0;
        sa_err_t err = sa_rb_records_open(&rr, batch, sa_rb_size(&hdr), RECORDS_MAX, NULL, 0);
        while (!err && (err = sa_rb_records_next(&rr, &rec)) == SA_OK) {
            if (rec.KeyLength < 0) {
                found++;
                if (cb) cb(opaque, index, part->topic->name, part->id);
            }
            index++;
        }
        sa_rb_records_close(&rr);
    }
    return found;
}
