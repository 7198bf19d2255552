/*
 * metalog.c - the metadata log (see metalog.h): framing, open and recovery, append, replay,
 * the sync snapshot and its outcome, compaction.
 *
 * File DIR/NAME.log (all integers big-endian):
 *
 *   offset size  field
 *        0    8  magic "SAMETA01" (the format version is its last two characters)
 *        8    .  records back to back, each:
 *                  +0  4  N      length of what follows the CRC: kind + payload, 1 .. SA_METALOG_RECORD_MAX
 *                  +4  4  CRC    CRC-32C (Castagnoli) of those N bytes
 *                  +8  1  kind   1..255 (0 is never written); its meaning belongs to the owner
 *                  +9  N-1       payload, the owner's encoding of that kind
 *
 * During a compaction the snapshot is written to DIR/NAME.log.compact, which replaces NAME.log by
 * rename once it is durable. A NAME.log.compact found at open is the leftover of a compaction a
 * crash interrupted before the rename (after the rename the name is gone): it is removed.
 *
 * Recovery at open: the frames are walked from byte 8; the first frame with a bad length, an
 * incomplete body, a CRC mismatch or kind 0 ends the log, and the file is cut there; then it is
 * fdatasync'd, torn or not (like a partition's last segment: appends are whole records at the
 * end, so only the tail can be torn; and what a killed process left in the page cache becomes
 * durable before an owner acts on it). A file shorter than the magic whose bytes are a prefix of it was torn
 * while being created and starts over; any other magic is refused (not ours: move it away).
 *
 * Invariants (check_log):
 *   1. HEADER_SIZE <= durable <= end == the file's size, when no compaction is being installed;
 *      while one is (old_fd >= 0), fd is the new file and old_fd/old_durable the one it replaces.
 *   2. durable_seq <= seq; records cut by the last failed sync are [lost_lo, lost_hi] (empty:
 *      lost_lo > lost_hi), all above what was durable then, none above seq.
 *   3. The owner's memory equals the replay of [0, end) of fd's file: appends are applied by the
 *      owner only after they were written, and a cut replays from scratch.
 *   4. old_fd >= 0 only while a group commit covering the log is in flight (pending).
 */
#include "storage/metalog.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "core/check.h"
#include "core/crc32c.h"
#include "core/log.h"
#include "core/mem.h"
#include "core/sysio.h"
#include "storage/storage_int.h"

#define MAGIC        "SAMETA01"
#define HEADER_SIZE  8
#define FRAME_HEADER 8          /* length + CRC */
#define SCAN_WINDOW  (64 << 10) /* bytes read at a time when walking a file */

#define SET_ERR(...)                                                                                         \
    do {                                                                                                     \
        if (errstr) snprintf(errstr, errstr_size, __VA_ARGS__);                                              \
    } while (0)

struct sa_metalog_s {
    sa_store_t *store; /* registered with (owner of the group commit) */
    char *path;        /* DIR/NAME.log, owned */
    char *tmp_path;    /* DIR/NAME.log.compact, owned */
    char *dir;         /* DIR, owned: fsync'd after a compaction's rename */
    sa_metalog_conf_t conf;
    const sa_metalog_owner_t *owner; /* borrowed, NULL before attach / after close begins */
    void *opaque;                    /* passed to the owner */
    int fd;                          /* the file appends go to (positional, at end) */
    int64_t end;                     /* bytes of magic + whole records in fd's file */
    int64_t durable;                 /* bytes of fd's file known durable */
    int old_fd;                      /* the file a compaction in flight replaces, else -1 */
    int64_t old_durable;             /* its durable bytes (what a failed install falls back to) */
    uint64_t records;                /* records in fd's file */
    uint64_t seq;                    /* sequence number of the last record appended (0: none) */
    uint64_t durable_seq;            /* every record <= this was covered by a successful sync */
    uint64_t lost_lo, lost_hi;       /* records cut by the last failed sync (empty: lo > hi) */
    int dirty;                       /* appended since the last sync snapshot */
    int pending;                     /* a group commit covering it is in flight */
    int failed;                      /* the file's state is unknown: appends refused until restart */
    int write_failing;               /* the last append failed (log once per outage) */
    int64_t next_compact_end;        /* after a failed compaction: not again before end reaches this */
    sa_buf_t scratch;                /* one frame being appended */
    sa_metalog_stats_t st;
};

void sa_metalog_conf_defaults(sa_metalog_conf_t *conf) {
    conf->compact_min_bytes = 1 << 20;
    conf->compact_slack = 1000;
}

int sa_metalog_is_magic(const void *head, size_t len) {
    return len >= HEADER_SIZE && !memcmp(head, MAGIC, HEADER_SIZE);
}

/* ---- walking frames ---------------------------------------------------------------------- */

/* Visit the records of @p fd between byte HEADER_SIZE and @p size; see sa_metalog_scan_file. */
static sa_err_t walk(int fd, int64_t size, sa_metalog_visit_fn *fn, void *opaque, sa_metalog_scan_t *res) {
    sa_buf_t win = SA_BUF_INIT(0);
    int64_t win_pos = HEADER_SIZE; /* file position of win.data[0] */
    size_t off = 0;                /* parse position in win */
    sa_err_t err = SA_OK;
    res->records = 0;
    res->why[0] = '\0';
    for (;;) {
        int64_t pos = win_pos + (int64_t)off;
        if (pos >= size) break;
        size_t avail = win.len - off, need = FRAME_HEADER;
        if (avail >= FRAME_HEADER) {
            uint32_t n = sa_load_be32(win.data + off);
            if (n == 0 || n > SA_METALOG_RECORD_MAX) {
                snprintf(res->why, sizeof(res->why), "record length %" PRIu32 " out of range", n);
                break;
            }
            need = FRAME_HEADER + n;
        }
        if (avail < need) {
            if (pos + (int64_t)need > size) {
                snprintf(res->why, sizeof(res->why), "a record of %zu bytes runs past the end of the file",
                         need);
                break;
            }
            /* Slide the partial frame to the front and read at least the whole of it. */
            sa_buf_consume(&win, off);
            win_pos = pos;
            off = 0;
            size_t want = SA_MAX(need, (size_t)SCAN_WINDOW);
            if ((int64_t)want > size - pos) want = (size_t)(size - pos);
            size_t have = win.len;
            sa_buf_reserve(&win, want - have); /* uncapped: cannot fail */
            ssize_t r = sa_sysio_pread_all(fd, win.data + have, want - have, pos + (int64_t)have);
            if (r < 0) {
                err = SA_ERR_KAFKA_STORAGE_ERROR;
                break;
            }
            win.len = have + (size_t)r;
            if (win.len < need) { /* the file is shorter than it said */
                snprintf(res->why, sizeof(res->why), "the file ends inside a record");
                break;
            }
            continue;
        }
        const uint8_t *frame = win.data + off;
        uint32_t n = sa_load_be32(frame);
        if (sa_crc32c(0, frame + FRAME_HEADER, n) != sa_load_be32(frame + 4)) {
            snprintf(res->why, sizeof(res->why), "CRC mismatch");
            break;
        }
        if (frame[FRAME_HEADER] == 0) {
            snprintf(res->why, sizeof(res->why), "record of kind 0");
            break;
        }
        if (fn) {
            int rc = fn(opaque, pos, frame[FRAME_HEADER], frame + FRAME_HEADER + 1, n - 1);
            if (rc) {
                err = (sa_err_t)rc;
                break;
            }
        }
        res->records++;
        off += FRAME_HEADER + n;
    }
    res->valid_end = win_pos + (int64_t)off;
    res->file_size = size;
    sa_buf_free(&win);
    return err;
}

sa_err_t sa_metalog_scan_file(const char *path, sa_metalog_visit_fn *fn, void *opaque,
                              sa_metalog_scan_t *res) {
    memset(res, 0, sizeof(*res));
    int fd = sa_sysio.open(path, O_RDONLY | O_CLOEXEC, 0);
    if (fd < 0) return SA_ERR_KAFKA_STORAGE_ERROR;
    sa_err_t err = SA_ERR_KAFKA_STORAGE_ERROR;
    struct stat st;
    uint8_t head[HEADER_SIZE];
    if (sa_sysio.fstat(fd, &st)) goto out;
    res->file_size = st.st_size;
    ssize_t n = sa_sysio_pread_all(fd, head, sizeof(head), 0);
    if (n < 0) goto out;
    if (!sa_metalog_is_magic(head, (size_t)n)) {
        err = SA_ERR_CORRUPT;
        snprintf(res->why, sizeof(res->why), "not a samsa metadata log (no \"%s\" magic)", MAGIC);
        goto out;
    }
    err = walk(fd, st.st_size, fn, opaque, res);
out:
    sa_sysio.close(fd);
    return err;
}

/* ---- invariants -------------------------------------------------------------------------- */

static void check_file_size(const sa_metalog_t *log) {
    struct stat st;
    if (sa_sysio.fstat(log->fd, &st) == 0) assert(st.st_size == log->end);
}

static void check_log(const sa_metalog_t *log) {
    assert(log->end >= HEADER_SIZE);
    assert(log->old_fd >= 0 || (log->durable >= HEADER_SIZE && log->durable <= log->end));
    assert(log->old_fd < 0 || log->pending);
    assert(log->durable_seq <= log->seq);
    assert(log->lost_lo > log->lost_hi || (log->lost_lo >= 1 && log->lost_hi <= log->seq));
    SA_DEBUG_CHECK(if (!log->failed) check_file_size(log));
}

/* ---- open, attach, replay ---------------------------------------------------------------- */

typedef struct replay_s {
    sa_metalog_t *log;
    int64_t bad_pos; /* the record the owner refused */
    uint8_t bad_kind;
} replay_t;

static int replay_visit(void *opaque, int64_t pos, uint8_t kind, const uint8_t *payload, size_t len) {
    replay_t *rp = opaque;
    if (rp->log->owner->apply(rp->log->opaque, kind, payload, len) == SA_OK) return 0;
    rp->bad_pos = pos;
    rp->bad_kind = kind;
    return SA_ERR_CORRUPT;
}

/* Replay [HEADER_SIZE, end) of fd into the owner (if any) and count the records. */
static sa_err_t replay(sa_metalog_t *log, char *errstr, size_t errstr_size) {
    replay_t rp = {log, -1, 0};
    sa_metalog_scan_t res;
    sa_err_t err = walk(log->fd, log->end, log->owner ? replay_visit : NULL, &rp, &res);
    if (err == SA_ERR_CORRUPT)
        SET_ERR("%s: the record at byte %" PRId64 " (kind %u) was refused: a kind this samsa does not know "
                "(written by a newer version?) or a damaged payload",
                log->path, rp.bad_pos, rp.bad_kind);
    else if (err)
        SET_ERR("read %s: %s", log->path, strerror(errno));
    else if (res.valid_end != log->end) { /* checked at open: the file changed under us */
        SET_ERR("%s: damaged at byte %" PRId64 " (%s)", log->path, res.valid_end, res.why);
        err = SA_ERR_CORRUPT;
    }
    log->records = res.records;
    return err;
}

static void free_log(sa_metalog_t *log) {
    if (log->fd >= 0) sa_sysio.close(log->fd);
    if (log->old_fd >= 0) sa_sysio.close(log->old_fd);
    sa_buf_free(&log->scratch);
    free(log->path);
    free(log->tmp_path);
    free(log->dir);
    free(log);
}

/* Open the file, creating it (and fsyncing the directory) if missing. @returns fd or -1. */
static int open_file(sa_metalog_t *log, int *created) {
    *created = 0;
    int fd = sa_sysio.open(log->path, O_RDWR | O_CLOEXEC, 0);
    if (fd >= 0 || errno != ENOENT) return fd;
    fd = sa_sysio.open(log->path, O_RDWR | O_CREAT | O_EXCL | O_CLOEXEC, 0644);
    if (fd >= 0) *created = 1;
    return fd;
}

sa_err_t sa_metalog_open(sa_store_t *store, const char *name, const sa_metalog_conf_t *conf,
                         sa_metalog_t **logp, char *errstr, size_t errstr_size) {
    sa_metalog_t *log = sa_new(sa_metalog_t);
    sa_buf_t b = SA_BUF_INIT(0);
    sa_err_t err = SA_ERR_KAFKA_STORAGE_ERROR;
    const char *op = "open";
    *logp = NULL;
    log->store = store;
    log->fd = log->old_fd = -1;
    log->lost_lo = 1; /* no lost range */
    if (conf)
        log->conf = *conf;
    else
        sa_metalog_conf_defaults(&log->conf);
    sa_buf_printf(&b, "%s/%s.log", sa_store_dir(store), name);
    log->path = sa_buf_take(&b);
    sa_buf_printf(&b, "%s.compact", log->path);
    log->tmp_path = sa_buf_take(&b);
    log->dir = sa_strdup(sa_store_dir(store));
    if (sa_sysio.unlink(log->tmp_path) == 0)
        sa_log_warn("storage", "%s: removed the leftover of an interrupted compaction", log->tmp_path);
    int created;
    log->fd = open_file(log, &created);
    if (log->fd < 0) goto io_fail;
    struct stat st;
    op = "stat";
    if (sa_sysio.fstat(log->fd, &st)) goto io_fail;
    uint8_t head[HEADER_SIZE] = {0};
    op = "read";
    ssize_t n = sa_sysio_pread_all(log->fd, head, sizeof(head), 0);
    if (n < 0) goto io_fail;
    if (st.st_size < HEADER_SIZE && !memcmp(head, MAGIC, (size_t)n)) {
        /* New, or torn while its magic was being written: start it. */
        op = "initialise";
        if (sa_sysio.ftruncate(log->fd, 0) || sa_sysio_pwrite_all(log->fd, MAGIC, HEADER_SIZE, 0) ||
            sa_sysio.fdatasync(log->fd) || (created && sa_sysio_fsync_dir(log->dir)))
            goto io_fail;
        log->end = HEADER_SIZE;
    } else if (!sa_metalog_is_magic(head, (size_t)n)) {
        SET_ERR("%s is not a samsa metadata log (it does not start with \"%s\"); move it away", log->path,
                MAGIC);
        err = SA_ERR_CORRUPT;
        goto fail;
    } else {
        sa_metalog_scan_t res;
        op = "read";
        if (walk(log->fd, st.st_size, NULL, NULL, &res)) goto io_fail;
        log->end = res.valid_end;
        log->records = res.records;
        if (res.valid_end < st.st_size) {
            log->st.truncated = (uint64_t)(st.st_size - res.valid_end);
            sa_log_warn("storage", "%s: %s at byte %" PRId64 "; cutting %" PRIu64 " bytes of torn tail there",
                        log->path, res.why, res.valid_end, log->st.truncated);
            op = "truncate";
            if (sa_sysio.ftruncate(log->fd, res.valid_end)) goto io_fail;
        }
        /* What a killed process left in the page cache is made durable before anything acts on
         * it: an owner may act on a record it replays (the transaction coordinator writes the
         * markers of a transaction whose PrepareCommit it finds), and that action must not
         * outlive the record in a power loss. */
        op = "fdatasync";
        if (sa_sysio.fdatasync(log->fd)) goto io_fail;
    }
    log->durable = log->end;
    sa_store_add_metalog(store, log);
    check_log(log);
    *logp = log;
    return SA_OK;
io_fail:
    SET_ERR("%s %s: %s", op, log->path, strerror(errno));
fail:
    free_log(log);
    return err;
}

sa_err_t sa_metalog_attach(sa_metalog_t *log, const sa_metalog_owner_t *owner, void *opaque, char *errstr,
                           size_t errstr_size) {
    log->owner = owner;
    log->opaque = opaque;
    sa_err_t err = replay(log, errstr, errstr_size);
    check_log(log);
    return err;
}

/* ---- append ------------------------------------------------------------------------------ */

sa_err_t sa_metalog_append(sa_metalog_t *log, uint8_t kind, const void *payload, size_t len, uint64_t *seq) {
    assert(kind != 0);
    if (log->failed) return SA_ERR_KAFKA_STORAGE_ERROR;
    if (len + 1 > SA_METALOG_RECORD_MAX) return SA_ERR_TOOBIG;
    sa_buf_t *f = &log->scratch;
    sa_buf_reset(f);
    sa_buf_put_be32(f, (uint32_t)(len + 1));
    sa_buf_put_be32(f, 0);
    sa_buf_putc(f, kind);
    sa_buf_append(f, payload, len);
    sa_store_be32(f->data + 4, sa_crc32c(0, f->data + FRAME_HEADER, len + 1));
    if (sa_sysio_pwrite_all(log->fd, f->data, f->len, log->end)) {
        int saved = errno;
        /* Cut whatever part landed; if even that fails, the next append overwrites the same bytes
         * (writes are positional) and the CRC would stop a recovery at any leftover. */
        if (sa_sysio.ftruncate(log->fd, log->end))
            sa_log_warn("storage", "%s: truncate after a failed write: %s", log->path, strerror(errno));
        if (!log->write_failing)
            sa_log_error("storage",
                         "append to %s failed: %s; the requests that needed it get an error, the log is "
                         "unchanged; free disk space (or fix the disk) and appends resume",
                         log->path, strerror(saved));
        log->write_failing = 1;
        errno = saved;
        return SA_ERR_KAFKA_STORAGE_ERROR;
    }
    if (log->write_failing) {
        sa_log_info("storage", "appends to %s work again", log->path);
        log->write_failing = 0;
    }
    log->end += (int64_t)f->len;
    log->records++;
    log->seq++;
    log->dirty = 1;
    if (seq) *seq = log->seq;
    check_log(log);
    return SA_OK;
}

int sa_metalog_durable(const sa_metalog_t *log, uint64_t seq) {
    if (seq == 0) return 1;
    return seq <= log->durable_seq && !(seq >= log->lost_lo && seq <= log->lost_hi);
}

uint64_t sa_metalog_last_seq(const sa_metalog_t *log) { return log->seq; }

void sa_metalog_put(sa_metalog_writer_t *w, uint8_t kind, const void *payload, size_t len) {
    assert(kind != 0 && len + 1 <= SA_METALOG_RECORD_MAX);
    size_t start = w->_buf->len;
    sa_buf_put_be32(w->_buf, (uint32_t)(len + 1));
    sa_buf_put_be32(w->_buf, 0);
    sa_buf_putc(w->_buf, kind);
    sa_buf_append(w->_buf, payload, len);
    sa_store_be32(w->_buf->data + start + 4, sa_crc32c(0, w->_buf->data + start + FRAME_HEADER, len + 1));
    w->_records++;
}

/* ---- sync and compaction ----------------------------------------------------------------- */

static int compaction_due(const sa_metalog_t *log) {
    if (!log->owner || !log->owner->snapshot || log->end < log->conf.compact_min_bytes ||
        log->end < log->next_compact_end)
        return 0;
    return log->records > 2 * log->owner->live(log->opaque) + log->conf.compact_slack;
}

/* Write the owner's snapshot to the .compact file and make it the append target; the old file
 * stays open (old_fd) until the sync job installed the new one. Loop thread, page cache only. */
static sa_err_t prepare_rewrite(sa_metalog_t *log, char *errstr, size_t errstr_size) {
    sa_buf_t buf = SA_BUF_INIT(0);
    sa_metalog_writer_t w = {&buf, 0};
    sa_buf_append(&buf, MAGIC, HEADER_SIZE);
    log->owner->snapshot(log->opaque, &w);
    sa_err_t err = SA_ERR_KAFKA_STORAGE_ERROR;
    int fd = sa_sysio.open(log->tmp_path, O_RDWR | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
    if (fd < 0 || sa_sysio_pwrite_all(fd, buf.data, buf.len, 0)) {
        int saved = errno;
        SET_ERR("write %s: %s", log->tmp_path, strerror(saved));
        sa_log_warn("storage", "compacting %s: write %s: %s; keeping the log as it is", log->path,
                    log->tmp_path, strerror(saved));
        if (fd >= 0) sa_sysio.close(fd);
        sa_sysio.unlink(log->tmp_path);
        log->next_compact_end = log->end + log->conf.compact_min_bytes; /* not at every commit */
        goto out;
    }
    sa_log_debug(SA_DBG_STORAGE, "storage",
                 "compacting %s: %" PRIu64 " -> %" PRIu64 " records, %" PRId64 " -> %zu bytes", log->path,
                 log->records, w._records, log->end, buf.len);
    log->old_fd = log->fd;
    log->old_durable = log->durable;
    log->fd = fd;
    log->end = (int64_t)buf.len;
    log->records = w._records;
    err = SA_OK;
out:
    sa_buf_free(&buf);
    return err;
}

static sa_sync_job_t make_job(const sa_metalog_t *log, int fd, int rewrite) {
    sa_sync_job_t job = {.fd = fd};
    if (rewrite) {
        job.rename_from = log->tmp_path;
        job.rename_to = log->path;
        job.dir = log->dir;
    }
    return job;
}

int sa_metalog_sync_snap(sa_metalog_t *log, sa_metalog_snap_t *snap, sa_sync_job_t *job) {
    if (!log->dirty || log->failed) return 0;
    *snap = (sa_metalog_snap_t){.log = log, .fd = -1};
    snap->rewrite = compaction_due(log) && prepare_rewrite(log, NULL, 0) == SA_OK;
    snap->seq = log->seq;
    snap->end = log->end;
    log->dirty = 0;
    log->pending = 1;
    /* A dup, as for a partition: the job must not depend on the log staying open. */
    snap->fd = fcntl(log->fd, F_DUPFD_CLOEXEC, 0);
    if (snap->fd < 0) { /* out of fds: run the job here */
        sa_sync_job_t now = make_job(log, log->fd, snap->rewrite);
        sa_sync_job_run(&now);
        snap->err = now.err;
        snap->step = now.step;
        return 0;
    }
    *job = make_job(log, snap->fd, snap->rewrite);
    return 1;
}

/* A failed sync: the kernel may have dropped the pages above the durable end, so cut them off
 * and make memory the replay of what remains (invariant 3). */
static void cut_to_durable(sa_metalog_t *log) {
    log->lost_lo = log->durable_seq + 1;
    log->lost_hi = log->seq;
    log->st.cuts++;
    log->dirty = 0;
    if (sa_sysio.ftruncate(log->fd, log->durable)) {
        sa_log_error("storage",
                     "%s: truncate to the durable end after a failed sync: %s; refusing appends "
                     "until a restart recovers it",
                     log->path, strerror(errno));
        log->failed = 1;
        return;
    }
    log->end = log->durable;
    if (log->owner) log->owner->reset(log->opaque);
    char errstr[256];
    if (replay(log, errstr, sizeof(errstr))) {
        sa_log_error("storage",
                     "rebuilding from %s after a failed sync: %s; refusing appends until a restart",
                     log->path, errstr);
        log->failed = 1;
        return;
    }
    if (log->owner && log->owner->rebuilt) log->owner->rebuilt(log->opaque);
}

static const char *step_name(int step) {
    return step == SA_SYNC_STEP_RENAME      ? "rename"
           : step == SA_SYNC_STEP_FSYNC_DIR ? "fsync dir"
                                            : "fdatasync";
}

sa_err_t sa_metalog_sync_apply(const sa_metalog_snap_t *snap, int err, int step) {
    sa_metalog_t *log = snap->log;
    if (!log) return SA_OK; /* closed meanwhile */
    log->pending = 0;
    if (!err) {
        if (snap->rewrite) {
            sa_sysio.close(log->old_fd);
            log->old_fd = -1;
            log->st.compactions++;
        }
        /* Appends made after the start are above snap->end and wait for the next commit. */
        log->durable = snap->end;
        if (snap->seq > log->durable_seq) {
            log->durable_seq = snap->seq;
            log->st.syncs++;
        }
        check_log(log);
        return SA_OK;
    }
    sa_log_error("storage",
                 "%s %s: %s; dropping %" PRIu64 " records not yet durable (the requests waiting for them get "
                 "an error and retry)",
                 step_name(step), snap->rewrite && step == SA_SYNC_STEP_FDATASYNC ? log->tmp_path : log->path,
                 strerror(err), log->seq - log->durable_seq);
    if (snap->rewrite && step != SA_SYNC_STEP_FSYNC_DIR) {
        /* The compacted file never became the log: go back to the old one. */
        sa_sysio.close(log->fd);
        sa_sysio.unlink(log->tmp_path);
        log->fd = log->old_fd;
        log->old_fd = -1;
        log->durable = log->old_durable;
        log->next_compact_end = log->durable + log->conf.compact_min_bytes;
        cut_to_durable(log);
    } else if (snap->rewrite) {
        /* Renamed, but the directory may not say so after a crash: either file may come back (both
         * are complete logs). Nothing later can be promised durable until a restart settles it. */
        sa_sysio.close(log->old_fd);
        log->old_fd = -1;
        log->lost_lo = log->durable_seq + 1;
        log->lost_hi = log->seq;
        log->failed = 1;
        sa_log_error("storage",
                     "%s: the directory could not be synced after a compaction; refusing appends "
                     "until a restart",
                     log->path);
    } else {
        cut_to_durable(log);
    }
    check_log(log);
    return SA_ERR_KAFKA_STORAGE_ERROR;
}

int sa_metalog_dirty_(const sa_metalog_t *log) { return log->dirty && !log->failed; }

/* A blocking sync of this log alone (close, rewrite_now). */
static sa_err_t sync_now(sa_metalog_t *log) {
    sa_metalog_snap_t snap = {0};
    sa_sync_job_t job;
    if (!sa_metalog_sync_snap(log, &snap, &job)) /* nothing to sync, or it ran at once */
        return snap.log ? sa_metalog_sync_apply(&snap, snap.err, snap.step) : SA_OK;
    sa_sync_job_run(&job);
    sa_sysio.close(snap.fd);
    return sa_metalog_sync_apply(&snap, job.err, job.step);
}

sa_err_t sa_metalog_rewrite_now(sa_metalog_t *log, char *errstr, size_t errstr_size) {
    if (log->pending) sa_store_sync_finish(log->store, NULL, NULL);
    if (log->failed) {
        SET_ERR("%s refuses writes after an earlier failure", log->path);
        return SA_ERR_KAFKA_STORAGE_ERROR;
    }
    sa_err_t err = prepare_rewrite(log, errstr, errstr_size);
    if (err) return err;
    sa_metalog_snap_t snap = {.log = log, .seq = log->seq, .end = log->end, .rewrite = 1, .fd = -1};
    sa_sync_job_t job = make_job(log, log->fd, 1);
    log->dirty = 0;
    log->pending = 1;
    sa_sync_job_run(&job);
    err = sa_metalog_sync_apply(&snap, job.err, job.step);
    if (err) SET_ERR("%s %s: %s", step_name(job.step), log->path, strerror(job.err));
    return err;
}

sa_err_t sa_metalog_close(sa_metalog_t *log) {
    if (!log) return SA_OK;
    if (log->pending) sa_store_sync_finish(log->store, NULL, NULL); /* the helpers use its paths */
    log->owner = NULL; /* a failed final sync cuts the file, nothing to rebuild */
    sa_err_t err = log->failed ? SA_ERR_KAFKA_STORAGE_ERROR : sync_now(log);
    sa_store_remove_metalog(log->store, log);
    free_log(log);
    return err;
}

void sa_metalog_free_(sa_metalog_t *log) { free_log(log); }

void sa_metalog_stats(const sa_metalog_t *log, sa_metalog_stats_t *out) {
    *out = log->st;
    out->records = log->records;
    out->bytes = (uint64_t)log->end;
    out->failed = log->failed;
}
