/*
 * results_log.h - the worker's results log: JSON Lines, one line per processed post, each post
 * exactly once (DESIGN.md §4).
 *
 * File format: UTF-8 JSON objects, one per line, each ending in '\n', each with a string "id"
 * (the post id). A line is written with a single write() of the whole batch and made durable
 * with fdatasync() before sa_results_log_commit() returns; only the bytes after the last '\n'
 * can be torn by a crash, and opening the log cuts them off.
 *
 * Exactly once: the log keeps an in-memory index id -> (offset, length) built when it is opened.
 * The worker asks sa_results_log_has() before appending, so a post re-delivered after a crash is
 * not written again; sa_results_log_get() gives its stored line to re-publish instead.
 *
 * Several processes may share one log file: appends happen between sa_results_log_lock() and
 * sa_results_log_commit(), under an exclusive flock(); lock() first reads the lines others
 * appended since (and cuts a tail torn by a writer that died), so the index is complete while the
 * lock is held.
 *
 * Invariants:
 *  1. every complete line in the file is in the index (or was reported as unreadable);
 *  2. between lock() and commit() the file ends exactly at the index's known end;
 *  3. a line given to append() is in the index at once (has() sees it), and leaves it again if
 *     commit() fails.
 */
#ifndef SA_BLOG_RESULTS_LOG_H
#define SA_BLOG_RESULTS_LOG_H

#include <jansson.h>
#include <stddef.h>

#include "core/err.h"

typedef struct sa_results_log_s sa_results_log_t;

/** Called for every complete line read from the file (at open and in lock()), oldest first.
 *  @p id and @p line are borrowed for the call. */
typedef void (*sa_results_line_fn)(void *opaque, const char *id, json_t *line);

/**
 * Open (creating it and its parent directory if needed) the log at @p path, cut a torn last
 * line, and index every line, calling @p on_line (may be NULL) for each.
 * @param path    borrowed.
 * @param out     set to the new log (free with sa_results_log_close), NULL on failure.
 * @returns SA_OK, or SA_ERR_IO with the path and the system error in @p errstr.
 */
sa_err_t sa_results_log_open(const char *path, sa_results_line_fn on_line, void *opaque,
                             sa_results_log_t **out, char *errstr, size_t errstr_size);

/** Close the log (discarding a batch not committed) and free it. NULL is fine. */
void sa_results_log_close(sa_results_log_t *log);

/** Start a batch: take the file lock and index lines other processes appended meanwhile.
 *  @returns SA_OK or SA_ERR_IO. */
sa_err_t sa_results_log_lock(sa_results_log_t *log, char *errstr, size_t errstr_size);

/** @returns 1 if a line for post @p id is in the log or the current batch. */
int sa_results_log_has(const sa_results_log_t *log, const char *id);

/** @returns new: the stored line for @p id without its '\n' (free() it), with its length in
 *  *len; NULL if absent or unreadable. */
char *sa_results_log_get(const sa_results_log_t *log, const char *id, size_t *len);

/** Add one line (@p line, @p len bytes, no '\n' inside; copied) for post @p id to the current
 *  batch; nothing if @p id is already in the log or the batch (each post once). Call between
 *  lock() and commit(). @p id and @p line are borrowed. */
void sa_results_log_append(sa_results_log_t *log, const char *id, const char *line, size_t len);

/**
 * Write the batch with one write(), fdatasync() it, release the lock. On failure the file is
 * cut back to where the batch began, the batch's ids leave the index, and the lock is released.
 * @returns SA_OK, SA_ERR_NOSPC or SA_ERR_IO (with errstr).
 */
sa_err_t sa_results_log_commit(sa_results_log_t *log, char *errstr, size_t errstr_size);

/** @returns the number of posts in the index. */
size_t sa_results_log_count(const sa_results_log_t *log);

#endif
