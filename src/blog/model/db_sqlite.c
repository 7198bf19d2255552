/*
 * db_sqlite.c - the SQLite backend of the store (db_int.h): `sqlite:PATH`.
 *
 * One file in WAL mode, shared by the web server and the worker of one machine: readers never
 * wait for the writer, and writers of several processes take turns (BEGIN IMMEDIATE, so a
 * transaction that will write takes the write lock first and cannot deadlock on an upgrade; a
 * busy handler lets a writer wait for the other process's commit instead of failing).
 *
 * Durability: synchronous=NORMAL, so COMMIT writes the transaction to the WAL but does not
 * fsync it - and so does not hold the write lock through an fsync (~1-2 ms here, which
 * serialized the web server's and the worker's writers). A commit that must be on disk is
 * followed by sq_sync: fdatasync of the WAL (SQLite's own handle, xSync), which makes it and
 * every commit before it durable, with the lock already free for the next writer. A commit
 * that is never synced can be lost by a power failure or an OS crash, never by a crash of the
 * process (the WAL is in the page cache); docs/web.md says which commits are synced and why.
 *
 * Waiting for the lock: SQLite's own busy handler sleeps 1, 2, 5, 10 ... 100 ms between tries;
 * a writer of the other process holds the lock for ~0.1-0.5 ms, so those sleeps were most of
 * the wait. busy() polls every 100 us first, then backs off, for BUSY_MS in all.
 *
 * Statements are prepared once per connection and cached by the address of their SQL text (the
 * callers pass string literals), so a hot path is bind + step. Parameters are written "$1".."$n"
 * in the shared SQL; SQLite takes them as named parameters, bound here by name.
 */
#include <errno.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

#include "blog/model/db_int.h"
#include "core/mem.h"

#define STMT_CACHE 64   /* distinct statements of one connection */
#define BUSY_MS    5000 /* how long a writer waits for another process's transaction */

typedef struct stmt_slot_s {
    const char *sql; /* the cache key: the caller's literal */
    sqlite3_stmt *stmt;
    int *bind; /* owned: bind[n - 1] = the bind index of "$n" (0: unused); a multi-row statement
                * has hundreds, and sqlite3_bind_parameter_index is a linear search */
    int n_bind;
} stmt_slot_t;

struct sa_db_conn_s {
    sqlite3 *db;
    stmt_slot_t cache[STMT_CACHE];
    int n_cache;
    int64_t busy_us; /* slept in the current wait for a lock */
};

/* SQLite's busy handler: @p count is the number of calls so far for this lock. @returns 0 to
 * give up (SQLITE_BUSY: the transaction is retried by sa_db_tx, then reported). */
static int busy(void *arg, int count) {
    sa_db_conn_t *conn = arg;
    if (count == 0) conn->busy_us = 0;
    if (conn->busy_us >= (int64_t)BUSY_MS * 1000) return 0;
    long us = count < 50 ? 100 : count < 100 ? 1000 : 10000; /* 5 ms of polls, then back off */
    struct timespec ts = {0, us * 1000};
    nanosleep(&ts, NULL);
    conn->busy_us += us;
    return 1;
}

static int classify(int code) {
    switch (code & 0xff) {
    case SQLITE_BUSY:
    case SQLITE_LOCKED: return SA_DB_E_LOCKED;
    case SQLITE_CORRUPT:
    case SQLITE_NOTADB: return SA_DB_E_CORRUPT;
    case SQLITE_CANTOPEN:
    case SQLITE_PERM:
    case SQLITE_READONLY: return SA_DB_E_UNREACHABLE;
    default: return SA_DB_E_FAIL;
    }
}

static int qresult(int code) {
    return (code & 0xff) == SQLITE_BUSY || (code & 0xff) == SQLITE_LOCKED ? SA_DB_Q_RETRY : SA_DB_Q_ERR;
}

static void sq_close(sa_db_conn_t *conn) {
    if (!conn) return;
    for (int i = 0; i < conn->n_cache; i++) {
        sqlite3_finalize(conn->cache[i].stmt);
        free(conn->cache[i].bind);
    }
    sqlite3_close(conn->db);
    free(conn);
}

/* The directory of @p path, created if missing (one level: like the results log's). */
static void make_parent(const char *path) {
    const char *slash = strrchr(path, '/');
    if (!slash || slash == path) return;
    char dir[4096];
    if ((size_t)(slash - path) >= sizeof(dir)) return;
    memcpy(dir, path, (size_t)(slash - path));
    dir[slash - path] = '\0';
    mkdir(dir, 0755); /* EEXIST or a real failure: sqlite3_open reports the latter */
}

static sa_db_conn_t *sq_connect(const char *path, int *why, char *errstr, size_t errstr_size) {
    sa_db_conn_t *conn = sa_new(sa_db_conn_t);
    make_parent(path);
    int rc = sqlite3_open_v2(path, &conn->db,
                             SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_NOMUTEX, NULL);
    if (rc != SQLITE_OK) {
        snprintf(errstr, errstr_size, "cannot open: %s",
                 conn->db ? sqlite3_errmsg(conn->db) : sqlite3_errstr(rc));
        *why = classify(rc);
        goto err;
    }
    sqlite3_extended_result_codes(conn->db, 1);
    sqlite3_busy_handler(conn->db, busy, conn);
    /* journal_mode reads the header first: a file that is not a database fails here */
    static const char pragmas[] =
        "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL; PRAGMA foreign_keys=OFF;"
        "PRAGMA cache_size=-4096;";
    char *msg = NULL;
    rc = sqlite3_exec(conn->db, pragmas, NULL, NULL, &msg);
    if (rc != SQLITE_OK) {
        snprintf(errstr, errstr_size, "%s", msg ? msg : sqlite3_errstr(rc));
        sqlite3_free(msg);
        *why = classify(rc);
        goto err;
    }
    return conn;
err:
    sq_close(conn);
    return NULL;
}

static int sq_exec(sa_db_conn_t *conn, const char *sql, char *errstr, size_t errstr_size) {
    char *msg = NULL;
    int rc = sqlite3_exec(conn->db, sql, NULL, NULL, &msg);
    if (rc == SQLITE_OK) return SA_DB_Q_OK;
    snprintf(errstr, errstr_size, "%s", msg ? msg : sqlite3_errstr(rc));
    sqlite3_free(msg);
    return qresult(rc);
}

static stmt_slot_t *prepared(sa_db_conn_t *conn, const char *sql, char *errstr, size_t errstr_size) {
    for (int i = 0; i < conn->n_cache; i++)
        if (conn->cache[i].sql == sql) return &conn->cache[i];
    sqlite3_stmt *stmt = NULL;
    if (sqlite3_prepare_v3(conn->db, sql, -1, SQLITE_PREPARE_PERSISTENT, &stmt, NULL) != SQLITE_OK) {
        snprintf(errstr, errstr_size, "%s", sqlite3_errmsg(conn->db));
        return NULL;
    }
    if (conn->n_cache == STMT_CACHE) { /* full: drop the oldest */
        sqlite3_finalize(conn->cache[0].stmt);
        free(conn->cache[0].bind);
        memmove(conn->cache, conn->cache + 1, (STMT_CACHE - 1) * sizeof(stmt_slot_t));
        conn->n_cache--;
    }
    stmt_slot_t *slot = &conn->cache[conn->n_cache++];
    *slot = (stmt_slot_t){sql, stmt, NULL, 0};
    for (int j = 1; j <= sqlite3_bind_parameter_count(stmt); j++) {
        const char *name = sqlite3_bind_parameter_name(stmt, j);
        int n = name && name[0] == '$' ? atoi(name + 1) : 0;
        if (n <= 0) continue;
        if (n > slot->n_bind) {
            slot->bind = sa_realloc(slot->bind, (size_t)n * sizeof(int));
            memset(slot->bind + slot->n_bind, 0, (size_t)(n - slot->n_bind) * sizeof(int));
            slot->n_bind = n;
        }
        slot->bind[n - 1] = j;
    }
    return slot;
}

static int sq_query(sa_db_conn_t *conn, const char *sql, const sa_db_val_t *params, int nparams,
                    sa_db_row_fn fn, void *opaque, int64_t *changes, char *errstr, size_t errstr_size) {
    stmt_slot_t *slot = prepared(conn, sql, errstr, errstr_size);
    if (!slot) return qresult(sqlite3_errcode(conn->db));
    sqlite3_stmt *stmt = slot->stmt;
    int rc = SQLITE_OK;
    for (int i = 0; i < nparams && rc == SQLITE_OK; i++) {
        int idx = i < slot->n_bind ? slot->bind[i] : 0;
        if (!idx) continue; /* a parameter this dialect's text does not use */
        switch (params[i].type) {
        case SA_DB_V_NULL: rc = sqlite3_bind_null(stmt, idx); break;
        case SA_DB_V_INT: rc = sqlite3_bind_int64(stmt, idx, params[i].i); break;
        case SA_DB_V_TEXT: rc = sqlite3_bind_text(stmt, idx, params[i].s, -1, SQLITE_STATIC); break;
        }
    }
    int stopped = 0;
    while (rc == SQLITE_OK || rc == SQLITE_ROW) {
        rc = sqlite3_step(stmt);
        if (rc != SQLITE_ROW || stopped) continue;
        const char *cols[32];
        int n = sqlite3_column_count(stmt);
        if (n > 32) n = 32;
        for (int c = 0; c < n; c++) cols[c] = (const char *)sqlite3_column_text(stmt, c);
        if (fn && fn(opaque, n, cols)) stopped = 1; /* step on to the end: RETURNING rows must all run */
    }
    int out = SA_DB_Q_OK;
    if (rc != SQLITE_DONE) {
        snprintf(errstr, errstr_size, "%s", sqlite3_errmsg(conn->db));
        out = qresult(rc);
    } else if (changes) {
        *changes = sqlite3_changes64(conn->db);
    }
    sqlite3_reset(stmt);
    sqlite3_clear_bindings(stmt);
    return out;
}

static int sq_alive(sa_db_conn_t *conn) { return conn && conn->db; }

/* fdatasync of the WAL through the connection's own handle of it (so it is surely the file the
 * commits went to: a WAL is never deleted while a connection, this one, has the database open). */
static int sq_sync(sa_db_conn_t *conn, char *errstr, size_t errstr_size) {
    for (int attempt = 0; attempt < 2; attempt++) {
        sqlite3_file *wal = NULL;
        int rc = sqlite3_file_control(conn->db, "main", SQLITE_FCNTL_JOURNAL_POINTER, &wal);
        if (rc == SQLITE_OK && wal && wal->pMethods) {
            rc = wal->pMethods->xSync(wal, SQLITE_SYNC_NORMAL);
            if (rc == SQLITE_OK) return SA_DB_Q_OK;
            snprintf(errstr, errstr_size, "syncing the WAL: %s", sqlite3_errstr(rc));
            return SA_DB_Q_ERR;
        }
        /* a connection that has not read yet has not opened the WAL: a read does */
        if (sq_exec(conn, "SELECT count(*) FROM meta", errstr, errstr_size) != SA_DB_Q_OK) return SA_DB_Q_ERR;
    }
    snprintf(errstr, errstr_size, "syncing the WAL: the database is not in WAL mode");
    return SA_DB_Q_ERR;
}

/* Each word becomes an FTS5 string ("..." with " doubled), so no user text is ever read as query
 * syntax (AND, NEAR, *, column filters); the words are ANDed. */
static char *sq_quote_terms(const char *q) {
    size_t n = strlen(q);
    char *out = sa_malloc(3 * n + 8), *o = out;
    const char *p = q;
    while (*p) {
        while (*p == ' ' || *p == '\t' || *p == '\n' || *p == '\r') p++;
        if (!*p) break;
        if (o != out) *o++ = ' ';
        *o++ = '"';
        while (*p && *p != ' ' && *p != '\t' && *p != '\n' && *p != '\r') {
            if (*p == '"') *o++ = '"';
            *o++ = *p++;
        }
        *o++ = '"';
    }
    *o = '\0';
    if (o == out) { /* nothing but spaces */
        free(out);
        return sa_strdup("\"\"");
    }
    return out;
}

static const char *const migrations[] = {
    /* 1: posts (with the outbox state, verdict and log/publish flags), idempotency keys, the
     * worker's offsets, state counters kept by triggers, full-text search (FTS5, external
     * content: the text is stored once, in posts). */
    "CREATE TABLE meta(key TEXT PRIMARY KEY, value TEXT NOT NULL);"
    "CREATE TABLE posts("
    " seq INTEGER PRIMARY KEY,"
    " id TEXT NOT NULL UNIQUE,"
    " idempotency_key TEXT UNIQUE,"
    " title TEXT NOT NULL, content TEXT NOT NULL, author TEXT NOT NULL, lang TEXT NOT NULL,"
    " submitted_at TEXT NOT NULL,"
    " state TEXT NOT NULL,"
    " reserved_ms INTEGER NOT NULL,"
    " lease_ms INTEGER NOT NULL DEFAULT 0,"
    " score INTEGER, reasons TEXT, metrics TEXT, processed_at TEXT, worker TEXT,"
    " result TEXT, processed_ms INTEGER,"
    " flags INTEGER NOT NULL DEFAULT 0);"
    "CREATE INDEX posts_pending ON posts(reserved_ms) WHERE state = 'pending';"
    "CREATE INDEX posts_unfinished ON posts(processed_ms) WHERE result IS NOT NULL AND flags <> 3;"
    "CREATE TABLE consumer_offsets(grp TEXT NOT NULL, topic TEXT NOT NULL, part INTEGER NOT NULL,"
    " next_offset INTEGER NOT NULL, PRIMARY KEY(grp, topic, part));"
    "CREATE TABLE post_counts(state TEXT NOT NULL, shard INTEGER NOT NULL, n INTEGER NOT NULL,"
    " PRIMARY KEY(state, shard));"
    "INSERT INTO post_counts VALUES('pending',0,0),('queued',0,0),('published',0,0),('review',0,0),"
    " ('rejected',0,0);"
    "CREATE TRIGGER posts_count_ins AFTER INSERT ON posts BEGIN"
    " UPDATE post_counts SET n = n + 1 WHERE state = NEW.state; END;"
    "CREATE TRIGGER posts_count_del AFTER DELETE ON posts BEGIN"
    " UPDATE post_counts SET n = n - 1 WHERE state = OLD.state; END;"
    "CREATE TRIGGER posts_count_upd AFTER UPDATE OF state ON posts WHEN OLD.state <> NEW.state BEGIN"
    " UPDATE post_counts SET n = n - 1 WHERE state = OLD.state;"
    " UPDATE post_counts SET n = n + 1 WHERE state = NEW.state; END;"
    "CREATE VIRTUAL TABLE posts_fts USING fts5(title, content, author, content='posts',"
    " content_rowid='seq', tokenize='unicode61 remove_diacritics 2');"
    "CREATE TRIGGER posts_fts_ins AFTER INSERT ON posts BEGIN"
    " INSERT INTO posts_fts(rowid, title, content, author) VALUES (NEW.seq, NEW.title, NEW.content, "
    "NEW.author);"
    " END;"
    "CREATE TRIGGER posts_fts_del AFTER DELETE ON posts BEGIN"
    " INSERT INTO posts_fts(posts_fts, rowid, title, content, author)"
    " VALUES ('delete', OLD.seq, OLD.title, OLD.content, OLD.author); END;",

    /* 2: where each verdict's record came from (the worker finishes another's unfinished
     * verdicts as soon as their partition is assigned to it). The full-text index is filled in
     * bulk (search_catch_up_sql) instead of by a trigger per row: meta.fts_seq is the highest
     * seq it covers, and a row is in the index exactly when its seq <= fts_seq. The triggers
     * keep that true for a row inserted at or below it (SQLite may reuse the seq of a deleted
     * last row) and for a deleted one. v1 indexed every row: all of them are covered. */
    "ALTER TABLE posts ADD COLUMN src_topic TEXT;"
    "ALTER TABLE posts ADD COLUMN src_part INTEGER;"
    "DROP TRIGGER posts_fts_ins; DROP TRIGGER posts_fts_del;"
    "INSERT INTO meta(key, value) SELECT 'fts_seq', CAST(COALESCE(max(seq), 0) AS TEXT) FROM posts;"
    "CREATE TRIGGER posts_fts_ins AFTER INSERT ON posts"
    " WHEN NEW.seq <= (SELECT CAST(value AS INTEGER) FROM meta WHERE key = 'fts_seq') BEGIN"
    " INSERT INTO posts_fts(rowid, title, content, author) VALUES (NEW.seq, NEW.title, NEW.content,"
    " NEW.author); END;"
    "CREATE TRIGGER posts_fts_del AFTER DELETE ON posts"
    " WHEN OLD.seq <= (SELECT CAST(value AS INTEGER) FROM meta WHERE key = 'fts_seq') BEGIN"
    " INSERT INTO posts_fts(posts_fts, rowid, title, content, author)"
    " VALUES ('delete', OLD.seq, OLD.title, OLD.content, OLD.author); END;",
};

const sa_db_backend_t sa_db_sqlite = {
    .name = "sqlite",
    .connect = sq_connect,
    .close = sq_close,
    .exec = sq_exec,
    .query = sq_query,
    .alive = sq_alive,
    .sync = sq_sync,
    .begin_sql = "BEGIN IMMEDIATE",
    .begin_lazy_sql = "BEGIN IMMEDIATE", /* synchronous=NORMAL: no COMMIT waits for the disk */
    .row_locks = 0,                      /* one writer at a time: the whole database is its lock */
    .lock_sql = NULL,
    .meta_exists_sql = "SELECT count(*) FROM sqlite_master WHERE type = 'table' AND name = 'meta'",
    .migrations = migrations,
    .n_migrations = (int)(sizeof(migrations) / sizeof(migrations[0])),
    /* FTS5 walks its index newest first (rowid = seq) and stops at the limit */
    .search_sql =
        "SELECT p.id, p.title, p.content, p.author, p.lang, p.submitted_at, p.state, p.score,"
        " p.reasons, p.metrics, p.processed_at, p.worker, p.seq FROM posts_fts f JOIN posts p ON"
        " p.seq = f.rowid WHERE posts_fts MATCH $1 AND f.rowid < COALESCE((SELECT seq FROM posts"
        " WHERE id = $2), 9223372036854775807) AND p.state <> 'pending' ORDER BY f.rowid DESC LIMIT $3",
    .quote_terms = sq_quote_terms,
    /* one statement for the posts since the last run (at most 5,000: a backlog, such as an import,
     * is indexed over several runs rather than in one long hold of the write lock): one FTS5
     * segment, not one per round */
    .search_catch_up_sql =
        "INSERT INTO posts_fts(rowid, title, content, author) SELECT seq, title, content, author FROM posts"
        " WHERE seq > (SELECT CAST(value AS INTEGER) FROM meta WHERE key = 'fts_seq') ORDER BY seq LIMIT "
        "5000;"
        "UPDATE meta SET value = (SELECT CAST(max(seq) AS TEXT) FROM (SELECT seq FROM posts WHERE seq >"
        " CAST(value AS INTEGER) ORDER BY seq LIMIT 5000)) WHERE key = 'fts_seq' AND EXISTS (SELECT 1 FROM"
        " posts WHERE seq > CAST(value AS INTEGER));",
};
