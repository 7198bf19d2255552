/*
 * results_log.c - JSON Lines results log with crash recovery and a post-id index.
 *
 * Design: the file is opened O_APPEND; a batch is built in memory and written with one write()
 * (looping only on a short write) under flock(LOCK_EX), then fdatasync'd. The index is a
 * core/hash.h map from post id to the line's offset and length (a removal is rare: only after a
 * failed commit); lines themselves stay on disk and are
 * read back with pread() only when a re-delivered post must be re-published.
 *
 * Recovery (scan): read from the known end in 64 KiB chunks, hand every '\n'-terminated line to
 * index_line(); bytes after the last '\n' are a torn write and are cut with ftruncate (they were
 * never acknowledged: the offset commit comes after fdatasync). A complete line that is not a
 * JSON object with a string "id" is reported and skipped, never deleted.
 */
#include "blog/worker/results_log.h"

#include <assert.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include "core/buf.h"
#include "core/config.h"
#include "core/hash.h"
#include "core/log.h"
#include "core/mem.h"

#define LINE_MAX_BYTES (64u << 20) /* a longer line is reported as unreadable, not indexed */
/* Where one post's line is; the entry owns its id, which is also its key in the index. */
typedef struct line_loc_s {
    off_t offset; /* where the line starts in the file */
    size_t len;   /* line length without '\n' */
    char id[];    /* the post id, NUL-terminated */
} line_loc_t;

struct sa_results_log_s {
    char *path;      /* owned copy, for messages */
    int fd;          /* O_RDWR | O_APPEND */
    off_t known_end; /* end of the last complete line indexed */
    sa_hmap_t index; /* post id -> line_loc_t (owned) */
    sa_results_line_fn on_line;
    void *opaque;
    sa_buf_t batch;         /* lines appended since lock(), each with its '\n' */
    sa_strlist_t batch_ids; /* ids in the batch, to undo on a failed commit */
    int locked;
};

static line_loc_t *find_slot(const sa_results_log_t *log, const char *id) {
    return sa_hmap_gets(&log->index, id);
}

/* Insert @p id unless it is there: a second line for one id (an older samsa, or a hand edit)
 * loses, the first one wins. */
static void index_put(sa_results_log_t *log, const char *id, off_t offset, size_t len) {
    if (find_slot(log, id)) return;
    size_t idlen = strlen(id);
    line_loc_t *loc = sa_malloc(sizeof(*loc) + idlen + 1);
    loc->offset = offset;
    loc->len = len;
    memcpy(loc->id, id, idlen + 1);
    sa_hmap_puts(&log->index, loc->id, loc);
}

static void index_remove(sa_results_log_t *log, const char *id) { free(sa_hmap_dels(&log->index, id)); }

/* Forget every indexed line (the file shrank: offsets past the cut mean nothing any more). */
static void index_clear(sa_results_log_t *log) {
    size_t pos = 0;
    line_loc_t *loc;
    while ((loc = sa_hmap_next(&log->index, &pos, NULL, NULL))) free(loc);
    sa_hmap_free(&log->index);
}

static void index_line(sa_results_log_t *log, const char *line, size_t len, off_t offset) {
    json_error_t jerr;
    if (len == 0) return; /* a blank line: nothing to index, nothing lost */
    json_t *obj = len <= LINE_MAX_BYTES ? json_loadb(line, len, 0, &jerr) : NULL;
    json_t *id = obj ? json_object_get(obj, "id") : NULL;
    if (!json_is_string(id)) {
        sa_log_warn("worker", "%s: skipping the unreadable line at byte %lld (%s)", log->path,
                    (long long)offset,
                    obj                    ? "no string \"id\""
                    : len > LINE_MAX_BYTES ? "too long"
                                           : jerr.text);
    } else {
        index_put(log, json_string_value(id), offset, len);
        if (log->on_line) log->on_line(log->opaque, json_string_value(id), obj);
    }
    json_decref(obj);
}

/* Index every complete line from known_end to the end of the file; cut a torn tail. */
static sa_err_t scan(sa_results_log_t *log, char *errstr, size_t errstr_size) {
    sa_buf_t line = SA_BUF_INIT(0);
    char chunk[65536];
    off_t pos = log->known_end, line_start = log->known_end;
    sa_err_t rc = SA_ERR_IO;
    for (;;) {
        ssize_t n = pread(log->fd, chunk, sizeof(chunk), pos);
        if (n < 0 && errno == EINTR) continue;
        if (n < 0) {
            snprintf(errstr, errstr_size, "%s: read: %s", log->path, strerror(errno));
            goto out;
        }
        if (n == 0) break;
        size_t i = 0;
        while (i < (size_t)n) {
            char *nl = memchr(chunk + i, '\n', (size_t)n - i);
            size_t take = nl ? (size_t)(nl - (chunk + i)) : (size_t)n - i;
            /* Past the limit keep LINE_MAX_BYTES only, which index_line reports as too long. */
            if (line.len < LINE_MAX_BYTES)
                sa_buf_append(&line, chunk + i, SA_MIN(take, LINE_MAX_BYTES - line.len + 1));
            i += take;
            if (nl) {
                off_t end = pos + (off_t)i + 1;
                index_line(log, (const char *)line.data, line.len, line_start);
                sa_buf_reset(&line);
                line_start = end;
                log->known_end = end;
                i++;
            }
        }
        pos += n;
    }
    if (pos > log->known_end) {
        sa_log_warn("worker", "%s: cutting a torn last line (%lld bytes at byte %lld) left by a crash",
                    log->path, (long long)(pos - log->known_end), (long long)log->known_end);
        if (ftruncate(log->fd, log->known_end) != 0 || fdatasync(log->fd) != 0) {
            snprintf(errstr, errstr_size, "%s: truncate: %s", log->path, strerror(errno));
            goto out;
        }
    }
    rc = SA_OK;
out:
    sa_buf_free(&line);
    return rc;
}

static int lock_file(sa_results_log_t *log, int op, char *errstr, size_t errstr_size) {
    while (flock(log->fd, op) != 0) {
        if (errno == EINTR) continue;
        snprintf(errstr, errstr_size, "%s: flock: %s", log->path, strerror(errno));
        return -1;
    }
    return 0;
}

/* mkdir -p of the directory holding @p path. */
static void make_parent(const char *path) {
    char *dir = sa_strdup(path);
    for (char *p = dir + 1; *p; p++) {
        if (*p != '/') continue;
        *p = '\0';
        mkdir(dir, 0755);
        *p = '/';
    }
    free(dir);
}

sa_err_t sa_results_log_open(const char *path, sa_results_line_fn on_line, void *opaque,
                             sa_results_log_t **out, char *errstr, size_t errstr_size) {
    sa_results_log_t *log = sa_new(sa_results_log_t);
    sa_err_t rc = SA_ERR_IO;
    *out = NULL;
    log->path = sa_strdup(path);
    log->on_line = on_line;
    log->opaque = opaque;
    sa_buf_init(&log->batch, 0);
    make_parent(path);
    log->fd = open(path, O_RDWR | O_APPEND | O_CREAT | O_CLOEXEC, 0644);
    if (log->fd < 0) {
        snprintf(errstr, errstr_size, "%s: %s", path, strerror(errno));
        goto out;
    }
    if (lock_file(log, LOCK_EX, errstr, errstr_size)) goto out;
    rc = scan(log, errstr, errstr_size);
    flock(log->fd, LOCK_UN);
out:
    if (rc == SA_OK)
        *out = log;
    else
        sa_results_log_close(log);
    return rc;
}

void sa_results_log_close(sa_results_log_t *log) {
    if (!log) return;
    if (log->fd >= 0) close(log->fd); /* also drops a lock still held */
    index_clear(log);
    sa_buf_free(&log->batch);
    sa_strlist_free(&log->batch_ids);
    free(log->path);
    free(log);
}

sa_err_t sa_results_log_lock(sa_results_log_t *log, char *errstr, size_t errstr_size) {
    if (log->locked) return SA_OK;
    if (lock_file(log, LOCK_EX, errstr, errstr_size)) return SA_ERR_IO;
    struct stat st;
    if (fstat(log->fd, &st) != 0) {
        snprintf(errstr, errstr_size, "%s: stat: %s", log->path, strerror(errno));
        flock(log->fd, LOCK_UN);
        return SA_ERR_IO;
    }
    if (st.st_size < log->known_end) {
        /* Cut by someone else than samsa. Re-index from the start: posts whose lines are gone
         * must be scored again (a "re-publish" of missing bytes would fail for ever), and a cut
         * through a line leaves a torn tail that the scan cuts back to the last whole line. */
        sa_log_error("worker", "%s shrank from %lld to %lld bytes behind our back; indexing it again",
                     log->path, (long long)log->known_end, (long long)st.st_size);
        index_clear(log);
        log->known_end = 0;
    }
    if (st.st_size > log->known_end && scan(log, errstr, errstr_size) != SA_OK) {
        flock(log->fd, LOCK_UN);
        return SA_ERR_IO;
    }
    log->locked = 1;
    sa_buf_reset(&log->batch);
    sa_strlist_free(&log->batch_ids);
    return SA_OK;
}

int sa_results_log_has(const sa_results_log_t *log, const char *id) { return find_slot(log, id) != NULL; }

char *sa_results_log_get(const sa_results_log_t *log, const char *id, size_t *len) {
    const line_loc_t *s = find_slot(log, id);
    if (!s) return NULL;
    char *line = sa_malloc(s->len + 1);
    if (s->offset >= log->known_end) { /* still in the batch */
        assert((size_t)(s->offset - log->known_end) + s->len <= log->batch.len);
        memcpy(line, log->batch.data + (s->offset - log->known_end), s->len);
    } else {
        size_t got = 0;
        while (got < s->len) {
            ssize_t n = pread(log->fd, line + got, s->len - got, s->offset + (off_t)got);
            if (n < 0 && errno == EINTR) continue;
            if (n <= 0) {
                sa_log_error("worker", "%s: reading the line of %s: %s", log->path, id,
                             n ? strerror(errno) : "short file");
                free(line);
                return NULL;
            }
            got += (size_t)n;
        }
    }
    line[s->len] = '\0';
    if (len) *len = s->len;
    return line;
}

void sa_results_log_append(sa_results_log_t *log, const char *id, const char *line, size_t len) {
    /* Each post once; and a failed commit must only undo ids this batch added. */
    if (find_slot(log, id)) return;
    index_put(log, id, log->known_end + (off_t)log->batch.len, len);
    sa_strlist_add(&log->batch_ids, id);
    sa_buf_append(&log->batch, line, len);
    sa_buf_putc(&log->batch, '\n');
}

sa_err_t sa_results_log_commit(sa_results_log_t *log, char *errstr, size_t errstr_size) {
    sa_err_t rc = SA_OK;
    size_t done = 0;
    while (done < log->batch.len) {
        ssize_t n = write(log->fd, log->batch.data + done, log->batch.len - done);
        if (n < 0 && errno == EINTR) continue;
        if (n < 0) goto fail;
        done += (size_t)n;
    }
    if (log->batch.len && fdatasync(log->fd) != 0) goto fail;
    log->known_end += (off_t)log->batch.len;
    goto out;
fail:
    rc = errno == ENOSPC ? SA_ERR_NOSPC : SA_ERR_IO;
    snprintf(errstr, errstr_size, "%s: write: %s", log->path, strerror(errno));
    /* Undo: nothing of this batch was acknowledged, so it must not stay half on disk. */
    if (ftruncate(log->fd, log->known_end) != 0)
        sa_log_error("worker", "%s: cutting a failed batch: %s", log->path, strerror(errno));
    for (size_t i = 0; i < log->batch_ids.n; i++) index_remove(log, log->batch_ids.v[i]);
out:
    sa_buf_reset(&log->batch);
    sa_strlist_free(&log->batch_ids);
    log->locked = 0;
    flock(log->fd, LOCK_UN);
    return rc;
}

size_t sa_results_log_count(const sa_results_log_t *log) { return log->index.count; }
