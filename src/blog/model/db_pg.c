/*
 * db_pg.c - the PostgreSQL backend of the store (db_int.h): `postgresql://...` or
 * `postgres://...`, handed to libpq as is (so every libpq URL parameter works: sslmode, host=
 * a unix socket directory, connect_timeout...).
 *
 * For several web servers and workers on several machines: READ COMMITTED transactions; the
 * UNIQUE constraints decide races; a deadlock or serialization failure (SQLSTATE 40P01/40001)
 * is reported as SA_DB_Q_RETRY and the caller runs the transaction again.
 *
 * The state counters (post_counts) are spread over 64 rows per state, and each connection owns
 * one of them: at connect it takes a session advisory lock on a free shard number and sets
 * samsa.shard; statement-level triggers (one UPDATE per statement, not per row) add to that
 * shard only. So two transactions never update the same counter row and cannot deadlock or
 * queue on it (schema v1 shared shards by backend pid mod 16: two connections with the same
 * shard updating states in different orders deadlocked, and PostgreSQL breaks a deadlock only
 * after deadlock_timeout, 1 s). More than 64 connections at once share shards by pid (correct;
 * a rare deadlock is retried). Statistics sum the shards.
 *
 * Durability: a transaction opened with begin_lazy_sql commits with synchronous_commit off (it
 * can be lost by a crash of the server's machine, within ~3 x wal_writer_delay, never half);
 * pg_sync makes such commits durable by committing one small transaction synchronously: its
 * commit record comes after theirs in the WAL, and waiting for it to be flushed waits for them.
 *
 * Statements are prepared once per connection (named s0, s1, ...) and cached by the address of
 * their SQL text. Values travel in the text format both ways.
 */
#include <libpq-fe.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "blog/model/db_int.h"
#include "core/mem.h"

#define STMT_CACHE    64
#define PARAMS_INLINE 24 /* more parameters: allocated */

typedef struct stmt_slot_s {
    const char *sql;
    char name[16];
} stmt_slot_t;

struct sa_db_conn_s {
    PGconn *pg;
    stmt_slot_t cache[STMT_CACHE];
    int n_cache;
    int next_name;
};

static void quiet(void *arg, const char *message) {
    (void)arg, (void)message;
} /* "already exists, skipping" */

static void pg_close(sa_db_conn_t *conn) {
    if (!conn) return;
    PQfinish(conn->pg);
    free(conn);
}

/* libpq's messages end in a newline and may hold several lines: keep the first. */
static void first_line(char *errstr, size_t errstr_size, const char *msg) {
    snprintf(errstr, errstr_size, "%s", msg && *msg ? msg : "unknown error");
    char *nl = strchr(errstr, '\n');
    if (nl) *nl = '\0';
}

static sa_db_conn_t *pg_connect(const char *target, int *why, char *errstr, size_t errstr_size) {
    sa_db_conn_t *conn = sa_new(sa_db_conn_t);
    conn->pg = PQconnectdb(target);
    if (!conn->pg || PQstatus(conn->pg) != CONNECTION_OK) {
        first_line(errstr, errstr_size, conn->pg ? PQerrorMessage(conn->pg) : "out of memory");
        *why = SA_DB_E_UNREACHABLE;
        pg_close(conn);
        return NULL;
    }
    PQsetNoticeProcessor(conn->pg, quiet, NULL);
    /* this connection's counter shard (see the header); the lock ends with the session. Not
     * fatal: without it the triggers fall back to pid mod 64 */
    PQclear(PQexec(conn->pg, "SELECT set_config('samsa.shard', COALESCE((SELECT g::text FROM"
                             " generate_series(0, 63) g WHERE pg_try_advisory_lock(1935764321, g) LIMIT 1),"
                             " (pg_backend_pid() % 64)::text), false)"));
    return conn;
}

static int result_code(PGresult *res, sa_db_conn_t *conn, char *errstr, size_t errstr_size) {
    ExecStatusType st = PQresultStatus(res);
    if (st == PGRES_COMMAND_OK || st == PGRES_TUPLES_OK) return SA_DB_Q_OK;
    const char *state = PQresultErrorField(res, PG_DIAG_SQLSTATE);
    first_line(errstr, errstr_size, res ? PQresultErrorMessage(res) : PQerrorMessage(conn->pg));
    if (state && (!strcmp(state, "40P01") || !strcmp(state, "40001") || !strcmp(state, "55P03")))
        return SA_DB_Q_RETRY;
    return SA_DB_Q_ERR;
}

static int pg_exec(sa_db_conn_t *conn, const char *sql, char *errstr, size_t errstr_size) {
    PGresult *res = PQexec(conn->pg, sql);
    int rc = result_code(res, conn, errstr, errstr_size);
    PQclear(res);
    return rc;
}

static const char *prepared(sa_db_conn_t *conn, const char *sql, char *errstr, size_t errstr_size) {
    for (int i = 0; i < conn->n_cache; i++)
        if (conn->cache[i].sql == sql) return conn->cache[i].name;
    if (conn->n_cache == STMT_CACHE) { /* full: forget the oldest (the server keeps it; harmless) */
        memmove(conn->cache, conn->cache + 1, (STMT_CACHE - 1) * sizeof(stmt_slot_t));
        conn->n_cache--;
    }
    stmt_slot_t *slot = &conn->cache[conn->n_cache];
    snprintf(slot->name, sizeof(slot->name), "s%d", conn->next_name++);
    PGresult *res = PQprepare(conn->pg, slot->name, sql, 0, NULL);
    int rc = result_code(res, conn, errstr, errstr_size);
    PQclear(res);
    if (rc != SA_DB_Q_OK) return NULL;
    slot->sql = sql;
    conn->n_cache++;
    return slot->name;
}

static int pg_query(sa_db_conn_t *conn, const char *sql, const sa_db_val_t *params, int nparams,
                    sa_db_row_fn fn, void *opaque, int64_t *changes, char *errstr, size_t errstr_size) {
    const char *name = prepared(conn, sql, errstr, errstr_size);
    if (!name) return SA_DB_Q_ERR;
    const char *values_small[PARAMS_INLINE], **values = values_small;
    char ints_small[PARAMS_INLINE][24], (*ints)[24] = ints_small;
    if (nparams > PARAMS_INLINE) { /* a multi-row statement */
        values = sa_malloc((size_t)nparams * sizeof(*values));
        ints = sa_malloc((size_t)nparams * sizeof(*ints));
    }
    for (int i = 0; i < nparams; i++) {
        switch (params[i].type) {
        case SA_DB_V_NULL: values[i] = NULL; break;
        case SA_DB_V_INT:
            snprintf(ints[i], sizeof(ints[i]), "%lld", (long long)params[i].i);
            values[i] = ints[i];
            break;
        case SA_DB_V_TEXT: values[i] = params[i].s; break;
        }
    }
    PGresult *res = PQexecPrepared(conn->pg, name, nparams, values, NULL, NULL, 0);
    int rc = result_code(res, conn, errstr, errstr_size);
    if (rc == SA_DB_Q_OK) {
        int rows = PQntuples(res), ncols = PQnfields(res);
        if (ncols > 32) ncols = 32;
        for (int r = 0; fn && r < rows; r++) {
            const char *cols[32];
            for (int c = 0; c < ncols; c++) cols[c] = PQgetisnull(res, r, c) ? NULL : PQgetvalue(res, r, c);
            if (fn(opaque, ncols, cols)) break;
        }
        if (changes) {
            const char *t = PQcmdTuples(res);
            *changes = t && *t ? strtoll(t, NULL, 10) : 0;
        }
    }
    PQclear(res);
    if (values != values_small) {
        free(values);
        free(ints);
    }
    return rc;
}

static int pg_sync(sa_db_conn_t *conn, char *errstr, size_t errstr_size) {
    /* a transaction with an xid writes a commit record; committing it synchronously waits until
     * the WAL is flushed past it, so past every lazy commit before it */
    return pg_exec(conn, "SELECT txid_current()", errstr, errstr_size);
}

static int pg_alive(sa_db_conn_t *conn) {
    return conn && PQstatus(conn->pg) == CONNECTION_OK && PQtransactionStatus(conn->pg) == PQTRANS_IDLE;
}

static const char *const migrations[] = {
    /* 1: as db_sqlite.c's, in PostgreSQL: identity seq, a generated tsvector ('simple': no
     * stemming, so Russian and English words both match as written) with a GIN index, and the
     * counters spread over 16 shards per state. */
    "CREATE TABLE meta(key TEXT PRIMARY KEY, value TEXT NOT NULL);"
    "CREATE TABLE posts("
    " seq BIGINT GENERATED BY DEFAULT AS IDENTITY PRIMARY KEY,"
    " id TEXT COLLATE \"C\" NOT NULL UNIQUE," /* ULIDs sort by time in byte order, whatever the locale */
    " idempotency_key TEXT UNIQUE,"
    " title TEXT NOT NULL, content TEXT NOT NULL, author TEXT NOT NULL, lang TEXT NOT NULL,"
    " submitted_at TEXT NOT NULL,"
    " state TEXT NOT NULL,"
    " reserved_ms BIGINT NOT NULL,"
    " lease_ms BIGINT NOT NULL DEFAULT 0,"
    " score INTEGER, reasons TEXT, metrics TEXT, processed_at TEXT, worker TEXT,"
    " result TEXT, processed_ms BIGINT,"
    " flags INTEGER NOT NULL DEFAULT 0,"
    " tsv tsvector GENERATED ALWAYS AS (to_tsvector('simple', title || ' ' || content || ' ' || author)) "
    "STORED);"
    "CREATE INDEX posts_pending ON posts(reserved_ms) WHERE state = 'pending';"
    "CREATE INDEX posts_unfinished ON posts(processed_ms) WHERE result IS NOT NULL AND flags <> 3;"
    "CREATE INDEX posts_tsv ON posts USING GIN(tsv);"
    "CREATE TABLE consumer_offsets(grp TEXT NOT NULL, topic TEXT NOT NULL, part INTEGER NOT NULL,"
    " next_offset BIGINT NOT NULL, PRIMARY KEY(grp, topic, part));"
    "CREATE TABLE post_counts(state TEXT NOT NULL, shard INTEGER NOT NULL, n BIGINT NOT NULL,"
    " PRIMARY KEY(state, shard));"
    "INSERT INTO post_counts SELECT s, g, 0 FROM unnest(ARRAY['pending','queued','published','review',"
    " 'rejected']) s, generate_series(0, 15) g;"
    "CREATE FUNCTION posts_count() RETURNS trigger LANGUAGE plpgsql AS $f$"
    " DECLARE sh INTEGER := pg_backend_pid() % 16; BEGIN"
    " IF TG_OP IN ('DELETE', 'UPDATE') THEN"
    "  UPDATE post_counts SET n = n - 1 WHERE state = OLD.state AND shard = sh; END IF;"
    " IF TG_OP IN ('INSERT', 'UPDATE') THEN"
    "  UPDATE post_counts SET n = n + 1 WHERE state = NEW.state AND shard = sh; END IF;"
    " RETURN NULL; END $f$;"
    "CREATE TRIGGER posts_count_ins AFTER INSERT OR DELETE ON posts FOR EACH ROW EXECUTE FUNCTION "
    "posts_count();"
    "CREATE TRIGGER posts_count_upd AFTER UPDATE OF state ON posts FOR EACH ROW"
    " WHEN (OLD.state IS DISTINCT FROM NEW.state) EXECUTE FUNCTION posts_count();",

    /* 2: where each verdict's record came from (the worker finishes another's unfinished
     * verdicts as soon as their partition is assigned to it); counters: a shard per connection
     * (64 per state, the 16 of v1 keep their counts) added to by statement-level triggers. */
    "ALTER TABLE posts ADD COLUMN src_topic TEXT, ADD COLUMN src_part INTEGER;"
    "DROP TRIGGER posts_count_ins ON posts; DROP TRIGGER posts_count_upd ON posts;"
    "DROP FUNCTION posts_count();"
    "INSERT INTO post_counts SELECT s, g, 0 FROM unnest(ARRAY['pending','queued','published','review',"
    " 'rejected']) s, generate_series(16, 63) g;"
    "CREATE FUNCTION posts_count_shard() RETURNS INTEGER LANGUAGE sql STABLE AS $f$"
    " SELECT COALESCE(NULLIF(current_setting('samsa.shard', true), '')::int, pg_backend_pid() % 64) $f$;"
    "CREATE FUNCTION posts_count_ins() RETURNS trigger LANGUAGE plpgsql AS $f$ BEGIN"
    " UPDATE post_counts c SET n = c.n + d.k FROM (SELECT state, count(*) AS k FROM new_rows GROUP BY state) "
    "d"
    " WHERE c.state = d.state AND c.shard = posts_count_shard(); RETURN NULL; END $f$;"
    "CREATE FUNCTION posts_count_del() RETURNS trigger LANGUAGE plpgsql AS $f$ BEGIN"
    " UPDATE post_counts c SET n = c.n - d.k FROM (SELECT state, count(*) AS k FROM old_rows GROUP BY state) "
    "d"
    " WHERE c.state = d.state AND c.shard = posts_count_shard(); RETURN NULL; END $f$;"
    "CREATE FUNCTION posts_count_upd() RETURNS trigger LANGUAGE plpgsql AS $f$ BEGIN"
    " UPDATE post_counts c SET n = c.n + d.k FROM (SELECT state, sum(k) AS k FROM ("
    "  SELECT nw.state, 1 AS k FROM new_rows nw JOIN old_rows od ON od.seq = nw.seq WHERE od.state <> "
    "nw.state"
    "  UNION ALL"
    "  SELECT od.state, -1 FROM new_rows nw JOIN old_rows od ON od.seq = nw.seq WHERE od.state <> nw.state"
    " ) x GROUP BY state) d WHERE c.state = d.state AND c.shard = posts_count_shard(); RETURN NULL; END $f$;"
    "CREATE TRIGGER posts_count_ins AFTER INSERT ON posts REFERENCING NEW TABLE AS new_rows"
    " FOR EACH STATEMENT EXECUTE FUNCTION posts_count_ins();"
    "CREATE TRIGGER posts_count_del AFTER DELETE ON posts REFERENCING OLD TABLE AS old_rows"
    " FOR EACH STATEMENT EXECUTE FUNCTION posts_count_del();"
    "CREATE TRIGGER posts_count_upd AFTER UPDATE ON posts REFERENCING OLD TABLE AS old_rows NEW TABLE AS"
    " new_rows FOR EACH STATEMENT EXECUTE FUNCTION posts_count_upd();",
};

const sa_db_backend_t sa_db_pg = {
    .name = "postgresql",
    .connect = pg_connect,
    .close = pg_close,
    .exec = pg_exec,
    .query = pg_query,
    .alive = pg_alive,
    .sync = pg_sync,
    .begin_sql = "BEGIN",
    .begin_lazy_sql = "BEGIN; SET LOCAL synchronous_commit TO off",
    .row_locks = 1,
    .lock_sql = "SELECT pg_advisory_xact_lock(7261737361)", /* "samsa": one migrator at a time */
    .meta_exists_sql = "SELECT count(*) FROM information_schema.tables WHERE table_schema = current_schema()"
                       " AND table_name = 'meta'",
    .migrations = migrations,
    .n_migrations = (int)(sizeof(migrations) / sizeof(migrations[0])),
    .search_sql =
        "SELECT id, title, content, author, lang, submitted_at, state, score, reasons, metrics,"
        " processed_at, worker, seq FROM posts WHERE tsv @@ plainto_tsquery('simple', $1) AND seq <"
        " COALESCE((SELECT seq FROM posts WHERE id = $2), 9223372036854775807) AND state <> 'pending'"
        " ORDER BY seq DESC LIMIT CAST($3 AS BIGINT)",
    .quote_terms = NULL,         /* plainto_tsquery takes plain words; no syntax to escape */
    .search_catch_up_sql = NULL, /* the GIN index takes each row (its fastupdate list batches them) */
};
