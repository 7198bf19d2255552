/*
 * db_int.h - what the store's files share: the backend function set (SQLite, PostgreSQL), one
 * connection's handle, parameter values, and the connection pool of sa_db_t. Not for use outside
 * src/blog/model/db*.c.
 *
 * Design: the posts logic (db_posts.c) is written once, in SQL that both dialects accept
 * (INSERT .. ON CONFLICT, RETURNING, UPDATE .. FROM, partial indexes, $1-style parameters: SQLite
 * reads "$1" as a named parameter and db_sqlite.c binds it by name). What differs - the schema
 * DDL, the text search, BEGIN IMMEDIATE vs BEGIN, how a commit is made durable, error
 * classification - sits behind the backend's functions (STYLE.md B2). Every value crosses the
 * boundary as text (PostgreSQL's text protocol; SQLite's column_text), so rows are read the same
 * way from both.
 *
 * Batches: a statement over many rows is a multi-row one - `VALUES (...), (...)` or
 * `IN (?, ?, ...)` - made from a template (sa_db_multi_t) for 1, 2, 4 ... 64 rows, so a batch of
 * n rows is at most seven prepared statements (usually one to three), not n: one round trip
 * each with PostgreSQL, and with SQLite one FTS5 flush per statement (a statement savepoint
 * flushes FTS5's pending index: per-row INSERTs wrote a segment per post). Parameters are bound
 * directly; passing the rows as one JSON parameter instead cost twice the per-row UPDATE in
 * SQLite (each ->> parses the row's JSON again): per-row 10.9 us, JSON 22.6, VALUES 8.6 us per
 * verdict (measured, SQLite 3.40.1).
 *
 * Invariants:
 *  1. A connection is used by one thread at a time: it is taken from the pool for one call (or
 *     one transaction) and given back.
 *  2. A failed statement inside a transaction leaves the transaction to be rolled back by the
 *     caller (sa_db_tx_end with ok=0); no backend call rolls back on its own.
 */
#ifndef SA_BLOG_DB_INT_H
#define SA_BLOG_DB_INT_H

#include <pthread.h>
#include <stddef.h>
#include <stdint.h>

#include "blog/model/db.h"

typedef struct sa_db_conn_s sa_db_conn_t; /* a backend's connection (opaque here) */

typedef enum sa_db_vtype_e { SA_DB_V_NULL, SA_DB_V_INT, SA_DB_V_TEXT } sa_db_vtype_t;

typedef struct sa_db_val_s {
    sa_db_vtype_t type;
    int64_t i;     /* SA_DB_V_INT */
    const char *s; /* SA_DB_V_TEXT: borrowed for the call */
} sa_db_val_t;

#define DV_NULL    ((sa_db_val_t){SA_DB_V_NULL, 0, NULL})
#define DV_INT(v)  ((sa_db_val_t){SA_DB_V_INT, (int64_t)(v), NULL})
#define DV_TEXT(v) ((sa_db_val_t){(v) ? SA_DB_V_TEXT : SA_DB_V_NULL, 0, (v)})

/** Called for each result row; @p cols[i] is NULL for SQL NULL; all borrowed for the call.
 *  @returns 0 to go on, non-zero to stop reading rows. */
typedef int (*sa_db_row_fn)(void *opaque, int ncols, const char *const *cols);

/* Statement outcomes of the backend calls. */
#define SA_DB_Q_OK    0
#define SA_DB_Q_ERR   (-1) /* failed: errstr says why */
#define SA_DB_Q_RETRY (-2) /* transient (busy, deadlock, serialization): roll back and run again */

typedef struct sa_db_backend_s {
    const char *name; /* "sqlite" or "postgresql" */
    /**
     * Connect to @p target (a path for SQLite, the libpq conninfo/URL for PostgreSQL).
     * @returns new connection, or NULL with *@p why (SA_DB_E_*) and errstr.
     */
    sa_db_conn_t *(*connect)(const char *target, int *why, char *errstr, size_t errstr_size);
    void (*close)(sa_db_conn_t *conn);
    /** Run @p sql (one or more statements, no parameters). @returns SA_DB_Q_*. */
    int (*exec)(sa_db_conn_t *conn, const char *sql, char *errstr, size_t errstr_size);
    /**
     * Run one statement with $1..$n parameters; call @p fn per row (may be NULL). *@p changes
     * (may be NULL) gets the rows inserted/updated/deleted. Statements are prepared once per
     * connection and cached by the address of @p sql (pass string literals).
     * @returns SA_DB_Q_*.
     */
    int (*query)(sa_db_conn_t *conn, const char *sql, const sa_db_val_t *params, int nparams, sa_db_row_fn fn,
                 void *opaque, int64_t *changes, char *errstr, size_t errstr_size);
    /** @returns 1 if @p conn can be used again (not broken by a lost server), else 0. */
    int (*alive)(sa_db_conn_t *conn);
    /**
     * Make every transaction committed so far - on @p conn, on any other connection, by any
     * process - durable (on disk), without holding the database's write lock meanwhile.
     * @returns SA_DB_Q_*.
     */
    int (*sync)(sa_db_conn_t *conn, char *errstr, size_t errstr_size);
    const char *begin_sql;       /* opens a write transaction (the migrations') */
    const char *begin_lazy_sql;  /* ... whose COMMIT does not wait for the disk (sa_db_tx's) */
    int row_locks;               /* 1: writers lock rows, and two of them can deadlock (db_posts.c) */
    const char *lock_sql;        /* run first in the migration transaction (serializes migrators), or NULL */
    const char *meta_exists_sql; /* one row, one column: 1 if the meta table exists, else 0 */
    /** The schema migrations in this dialect: migrations[v-1] brings version v-1 to v. */
    const char *const *migrations;
    int n_migrations;
    /**
     * The search query: rows of posts (SA_DB_POST_COLS) matching $1 (the user's text, already
     * made safe by quote_terms when set), with seq < $2, newest first, at most $3.
     */
    const char *search_sql;
    /** Turn the user's words into the backend's query syntax (new string), or NULL to pass as is. */
    char *(*quote_terms)(const char *q);
    /** Statements (exec'd in one transaction) that bring the search index up to date with the
     *  posts inserted since they last ran, or NULL when the index follows each row by itself. */
    const char *search_catch_up_sql;
} sa_db_backend_t;

extern const sa_db_backend_t sa_db_sqlite;
extern const sa_db_backend_t sa_db_pg;

#define SA_DB_POOL_MAX 8 /* idle connections kept */

struct sa_db_s {
    const sa_db_backend_t *be;
    char *target;     /* owned: path or conninfo */
    char *url_masked; /* owned: the URL for messages, password hidden */
    pthread_mutex_t lock;
    sa_db_conn_t *idle[SA_DB_POOL_MAX]; /* under lock */
    int n_idle;
    /* posts acknowledged by the broker whose queued mark has not committed yet (sa_db_acked), under
     * lock: a few dozen at most (the web's writer marks them within a round) */
    char (*acked)[SA_ULID_LEN + 1];
    size_t n_acked, cap_acked;
};

/** Take a connection from the pool (or open one). @returns NULL with errstr. */
sa_db_conn_t *sa_db_conn_get(sa_db_t *db, char *errstr, size_t errstr_size);
/** Give @p conn back (@p broken: close it instead). */
void sa_db_conn_put(sa_db_t *db, sa_db_conn_t *conn, int broken);

#define SA_DB_MULTI_LOG2 6 /* a multi-row statement has at most 1 << 6 = 64 rows */

/* A multi-row statement: head, then the row template once per row (joined by ", "), then tail.
 * Each '?' of the row template becomes the next $n (row r's k-th is $(r * ncols + k)); head and
 * tail hold no parameter and no '?'. Define it static: its texts are made once per row count. */
typedef struct sa_db_multi_s {
    const char *head, *row, *tail;
    const char *sql[SA_DB_MULTI_LOG2 + 1]; /* made on first use: sql[k] for 1 << k rows (under a lock) */
} sa_db_multi_t;

/**
 * Run @p m over the @p n rows of @p params (n x ncols values, row after row), in statements of
 * 64, 32 ... 1 rows; @p fn (may be NULL) per result row; *@p changes (may be NULL) gets the sum.
 * @returns SA_DB_Q_*.
 */
int sa_db_multi(sa_db_t *db, sa_db_conn_t *conn, sa_db_multi_t *m, const sa_db_val_t *params, size_t n,
                sa_db_row_fn fn, void *opaque, int64_t *changes, char *errstr, size_t errstr_size);

/** Run one statement on a pooled connection outside a transaction. @returns SA_DB_Q_*. */
int sa_db_query1(sa_db_t *db, const char *sql, const sa_db_val_t *params, int nparams, sa_db_row_fn fn,
                 void *opaque, int64_t *changes, char *errstr, size_t errstr_size);

/** Row callback that copies column 0 of the first row into a new string at *(char **)opaque. */
int sa_db_row_str0(void *opaque, int ncols, const char *const *cols);

/** The body of a transaction; it may run more than once (a retry): reset its outputs first. */
typedef int (*sa_db_tx_fn)(sa_db_t *db, sa_db_conn_t *conn, void *arg, char *errstr, size_t errstr_size);

/**
 * BEGIN (begin_lazy_sql), @p fn, COMMIT on one pooled connection; on SA_DB_Q_RETRY (from @p fn
 * or the commit) roll back and run it again, a few times. The commit is not waited for on disk:
 * it can be lost by a power failure or an OS crash (never by a crash of samsa) until an
 * sa_db_sync that begins after it returns. @returns 0 or -1 with errstr.
 */
int sa_db_tx(sa_db_t *db, sa_db_tx_fn fn, void *arg, char *errstr, size_t errstr_size);

/** Create or upgrade the schema on @p conn. @returns 0, or -1 with *why and errstr. */
int sa_db_migrate(sa_db_t *db, sa_db_conn_t *conn, int *why, char *errstr, size_t errstr_size);

#endif
