/*
 * db.h - the blog's store: the system of record for posts, their verdicts, the idempotency keys
 * and the worker's consumed offsets (DESIGN.md §4 "Store"). Shared by `samsa web` and
 * `samsa worker`.
 *
 * Backends (one function set each, db_int.h): SQLite - `sqlite:PATH`, the embedded default, one
 * file in WAL mode shared by the web server and the worker of one machine - and PostgreSQL -
 * `postgresql://...` (or `postgres://`), for several web servers and workers on several machines.
 *
 * A post's life (the `state` column):
 *
 *      web: reserve           web: broker acked            worker: verdict
 *   --------------> pending ---------------------> queued -----------------> published|review|rejected
 *                     |  \__ produce not persisted: released (row deleted, the key is free again)
 *                     \_____ owner died: a recovery sweep (any web server) re-produces it
 *
 * The verdict may come before "queued" (the worker can read the record before the producer gets
 * its ack): marking queued never overwrites a verdict, and the worker stores a verdict on a
 * pending row as well. A pending post is not shown (not yet acknowledged).
 *
 * Idempotency: posts.idempotency_key is UNIQUE, so the database decides races between requests,
 * restarts and servers. Exactly once into the database: the worker stores verdicts together with
 * the offsets it consumed, in one transaction (first verdict wins; a later one is replayed).
 *
 * Durability: a write is on disk when its function returns only where its comment says
 * "durable"; the others may be lost by a power failure or an OS crash (never by a crash of
 * samsa), which their callers tolerate (docs/web.md "Durability"). sa_db_sync makes every
 * earlier write durable.
 *
 * Threads: every function may be called from any thread; connections come from an internal pool
 * (one per concurrent caller). Errors: functions returning int give 0 (or a count) on success and
 * -1 with errstr on failure; nothing here exits or logs at error level.
 */
#ifndef SA_BLOG_DB_H
#define SA_BLOG_DB_H

#include <jansson.h>
#include <stddef.h>
#include <stdint.h>

#include "blog/model/ulid.h"

/* The exit code of `samsa web|worker|up` when the store cannot be opened (documented in their
 * --help and docs/web.md): distinct from 1 (the work failed) and 2 (usage). */
#define SA_EXIT_STORE 3

#define SA_DB_SCHEMA_VERSION 2 /* the schema this samsa writes (meta.schema_version) */

typedef struct sa_db_s sa_db_t;

/* Why sa_db_open failed. */
typedef enum sa_db_why_e {
    SA_DB_E_OK = 0,
    SA_DB_E_URL,         /* not a sqlite: or postgresql:// URL */
    SA_DB_E_UNREACHABLE, /* cannot connect (server down, bad host, auth) or cannot create the file */
    SA_DB_E_LOCKED,      /* another process held the database locked for longer than the timeout */
    SA_DB_E_CORRUPT,     /* the file is not a database, or is damaged */
    SA_DB_E_NEWER,       /* written by a newer samsa: its schema version is higher than ours */
    SA_DB_E_FAIL,        /* anything else (the message says what) */
} sa_db_why_t;

/**
 * Open the store at @p url, creating or upgrading its schema (versioned migrations).
 * @returns new store (free with sa_db_close), or NULL with *@p why and a one-line @p errstr that
 *          names the URL (password masked) and what to do.
 */
sa_db_t *sa_db_open(const char *url, sa_db_why_t *why, char *errstr, size_t errstr_size);
void sa_db_close(sa_db_t *db);

/** @returns the URL with its password masked (valid until close), for logs. */
const char *sa_db_url(const sa_db_t *db);

/** @returns 1 if the store answers a trivial query now, else 0 (for /healthz). */
int sa_db_ping(sa_db_t *db);

/**
 * Make every write committed before the call durable - this process's and any other's. Holds
 * no lock, so writers go on meanwhile. SQLite: one fdatasync of the WAL; PostgreSQL: one small
 * synchronous commit (it waits for the WAL to be flushed past the earlier commits).
 * @returns 0 or -1 with errstr.
 */
int sa_db_sync(sa_db_t *db, char *errstr, size_t errstr_size);

/** meta table: @returns new string or NULL (absent or error). */
char *sa_db_meta_get(sa_db_t *db, const char *key);
/** @returns 0 or -1 with errstr. */
int sa_db_meta_set(sa_db_t *db, const char *key, const char *value, char *errstr, size_t errstr_size);

/* ---- the web: outbox -------------------------------------------------------------------------- */

#define SA_DB_RES_NEW    0 /* reserved: the row is pending, produce it */
#define SA_DB_RES_EXISTS 1 /* the key belongs to an existing post (see id, post, pending) */

typedef struct sa_db_reserve_s {
    const json_t *op;         /* in, borrowed: the blog_operations record (post.h) */
    int64_t now_ms;           /* in: wall clock of the reservation */
    int rc;                   /* out: SA_DB_RES_* */
    char id[SA_ULID_LEN + 1]; /* out (EXISTS): the post that has the key */
    int pending;              /* out (EXISTS): that post is still waiting for the broker */
    json_t *post;             /* out (EXISTS): new reference to its public JSON, or NULL */
} sa_db_reserve_t;

#define SA_DB_OUT_QUEUED  0 /* the broker acknowledged it: pending -> queued (never over a verdict) */
#define SA_DB_OUT_RELEASE 1 /* the produce surely failed: delete the pending row unless a sweep took it */

typedef struct sa_db_outbox_s {
    const char *id; /* borrowed */
    int action;     /* SA_DB_OUT_* */
} sa_db_outbox_t;

/**
 * One round of a web server's outbox, in one transaction of a few statements whatever the batch
 * sizes: first the outcomes of earlier produces (@p outcomes), then the reservations - each op of
 * @p items is inserted as a pending post unless its idempotency key is taken (then its item says
 * which post has the key). The outcomes come first so that a request with the key of a post
 * acknowledged before it sees that post queued, not pending.
 * Not durable: call sa_db_sync before producing a reservation or answering a release. The
 * outcomes' posts leave the sa_db_acked overlay (also when it fails: the recovery sweep takes
 * them then). @returns 0 or -1 (nothing written).
 */
int sa_db_outbox_write(sa_db_t *db, const sa_db_outbox_t *outcomes, size_t n_outcomes, sa_db_reserve_t *items,
                       size_t n_items, char *errstr, size_t errstr_size);

/**
 * Claim up to @p max pending posts reserved before @p stale_before_ms and not leased by another
 * sweeper (lease until now_ms + lease_ms). @returns new array of their blog_operations records
 * (to produce again with the same id), or NULL with errstr.
 */
json_t *sa_db_claim_stale(sa_db_t *db, int64_t now_ms, int64_t stale_before_ms, int64_t lease_ms, int max,
                          char *errstr, size_t errstr_size);

/**
 * The broker acknowledged post @p id (copied): from now until sa_db_outbox_write commits its
 * queued mark, this process's feed (sa_db_posts_list) shows it as queued although its row is
 * still pending, so the web server can answer the request at the acknowledgement instead of
 * after that commit. (By id, sa_db_post_get shows a pending post anyway.) Any thread.
 */
void sa_db_acked(sa_db_t *db, const char *id);

/* ---- the web: reads --------------------------------------------------------------------------- */

/**
 * The post @p id. @returns 1 with *@p out a new reference to its public JSON (id, title, content,
 * author, lang, submitted_at, status, score, reasons, metrics, processed_at, worker), 0 if there
 * is no such post, -1 on error. A pending post is shown as queued: its id is known to no one
 * before the broker acknowledged it (the web answers it only then, the worker and the tails read
 * it from the topic), and right after that acknowledgement its queued mark may not have
 * committed yet.
 */
int sa_db_post_get(sa_db_t *db, const char *id, json_t **out, char *errstr, size_t errstr_size);

/**
 * Which post has idempotency @p key. @returns 1 (id, *pending and, if @p post is not NULL, a new
 * reference in *post set), 0 if none, -1 on error. *pending: still waiting for the broker; a post
 * this process saw acknowledged (sa_db_acked) is not pending, even before its mark commits.
 */
int sa_db_post_by_key(sa_db_t *db, const char *key, char id[SA_ULID_LEN + 1], int *pending, json_t **post,
                      char *errstr, size_t errstr_size);

/**
 * Up to @p limit posts, newest first, older than post @p before (NULL/"": from the newest);
 * with @p q (not NULL/""): only those whose title, content or author match the words of @p q.
 * Pending posts are left out, except those acknowledged in this process (sa_db_acked).
 * @returns new array, or NULL with errstr.
 */
json_t *sa_db_posts_list(sa_db_t *db, const char *before, const char *q, int limit, char *errstr,
                         size_t errstr_size);

/**
 * Bring the search index up to date with the posts inserted since the last call (by any
 * process). SQLite's full-text index is filled in bulk here rather than row by row: FTS5 writes
 * a segment per transaction, and per-round segments were half the pages a web server's
 * reservations wrote. A post is found by search once this ran after its insert; `samsa web`
 * runs it every 100 ms while posts come in, when its writer goes idle, and once a second.
 * PostgreSQL's index follows each row (nothing to do). @returns 0 or -1 with errstr.
 */
int sa_db_search_catch_up(sa_db_t *db, char *errstr, size_t errstr_size);

typedef struct sa_db_stats_s {
    int64_t posts;     /* acknowledged posts */
    int64_t queued;    /* without a verdict yet */
    int64_t processed; /* with a verdict */
    int64_t published, review, rejected;
} sa_db_stats_t;

/** O(1): counters kept by triggers. @returns 0 or -1. */
int sa_db_stats(sa_db_t *db, sa_db_stats_t *out, char *errstr, size_t errstr_size);

/* ---- the worker ------------------------------------------------------------------------------- */

#define SA_DB_F_LOGGED    1 /* the verdict is in the results log */
#define SA_DB_F_PUBLISHED 2 /* the verdict was published to blog_results */

typedef struct sa_db_verdict_s {
    const char *id;       /* in, borrowed */
    const json_t *result; /* in, borrowed: the result line (post + verdict, "source": the record's
                           * topic and partition) to store; NULL: look up */
    const char *line;     /* in, borrowed: its serialized form (what the log and the topic get) */
    int64_t now_ms;       /* in */
    int won;              /* out: 1 if this call stored the verdict */
    char *stored;         /* out, owned (free): the verdict stored first, when there is one */
    int flags;            /* out: SA_DB_F_* of the stored row */
} sa_db_verdict_t;

typedef struct sa_db_offset_s {
    const char *topic; /* borrowed */
    int32_t partition;
    int64_t next; /* the next offset to consume */
} sa_db_offset_t;

/** For each item, look its verdict up (stored, flags), in one query; nothing is written.
 *  @returns 0 or -1. */
int sa_db_verdicts_find(sa_db_t *db, sa_db_verdict_t *items, size_t n, char *errstr, size_t errstr_size);

/**
 * In one transaction: store each item's verdict unless the post has one (first wins: won=0 and
 * stored/flags say what is there; of several items of one post in the batch the first is the
 * one stored), creating the post from the result line when the database does not have it yet,
 * and advance @p group's offsets (never backwards). Not durable: sa_db_sync before acting on it
 * (the worker logs the verdicts only after). @returns 0 or -1 (nothing stored; the caller
 * retries the batch).
 */
int sa_db_verdicts_commit(sa_db_t *db, const char *group, sa_db_verdict_t *items, size_t n,
                          const sa_db_offset_t *offsets, size_t n_offsets, char *errstr, size_t errstr_size);

/** Set @p flags (SA_DB_F_*) on the posts @p ids (a statement per 128; not durable: a lost mark
 *  makes the reconciliation do those steps again, harmlessly). @returns 0 or -1. */
int sa_db_mark(sa_db_t *db, const char *const *ids, size_t n, int flags, char *errstr, size_t errstr_size);

/** @returns 1 with *next set if @p group has a stored offset for the partition, 0 if not, -1. */
int sa_db_offset_get(sa_db_t *db, const char *group, const char *topic, int32_t partition, int64_t *next,
                     char *errstr, size_t errstr_size);

typedef struct sa_db_part_s {
    const char *topic; /* borrowed */
    int32_t partition;
} sa_db_part_t;

/**
 * Verdicts not yet in the results log or not yet published whose record came from one of the
 * partitions @p owned (at any age), or that were stored before @p older_than_ms (whatever their
 * partition), oldest first, at most @p max. @returns new array of {"id", "line", "flags"}, or
 * NULL with errstr.
 */
json_t *sa_db_unfinished(sa_db_t *db, const sa_db_part_t *owned, size_t n_owned, int64_t older_than_ms,
                         int max, char *errstr, size_t errstr_size);

/* ---- import of a data dir whose posts live only in the topics ---------------------------------- */

/**
 * Insert blog_operations records (@p is_result 0) or blog_results lines (1) that the store does
 * not have: posts keep their first version, a verdict goes to a post without one, with @p flags
 * (SA_DB_F_*: an old data dir's verdicts are in its results log and topic already). Idempotent.
 * @returns 0 or -1.
 */
int sa_db_import(sa_db_t *db, json_t *const *recs, size_t n, int is_result, int flags, char *errstr,
                 size_t errstr_size);

#endif
