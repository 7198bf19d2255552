/*
 * db.c - opening the store: the URL, the connection pool, transactions with retry, and the
 * versioned schema migrations (see db.h; the backends are db_sqlite.c and db_pg.c).
 *
 * Migrations: meta.schema_version says which of the backend's migrations[] ran. Opening runs the
 * missing ones in one write transaction (SQLite: BEGIN IMMEDIATE; PostgreSQL: an advisory lock),
 * so two processes starting at once (samsa up) migrate once. A version above ours is refused: a
 * newer samsa wrote it, and this one would misread it.
 */
#include "blog/model/db.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "blog/model/db_int.h"
#include "core/mem.h"
#include "core/time.h"

#define TX_TRIES       8
#define OPEN_LOCKED_MS 10000 /* how long opening waits for a store another process keeps locked */

/* A copy of @p url with the password of user:password@ replaced by "***". */
static char *mask_url(const char *url) {
    const char *scheme = strstr(url, "://");
    const char *at = scheme ? strchr(scheme + 3, '@') : NULL;
    const char *colon = at ? memchr(scheme + 3, ':', (size_t)(at - scheme - 3)) : NULL;
    if (!colon) return sa_strdup(url);
    size_t head = (size_t)(colon + 1 - url), n = head + 3 + strlen(at) + 1;
    char *out = sa_malloc(n);
    snprintf(out, n, "%.*s***%s", (int)head, url, at);
    return out;
}

sa_db_conn_t *sa_db_conn_get(sa_db_t *db, char *errstr, size_t errstr_size) {
    pthread_mutex_lock(&db->lock);
    sa_db_conn_t *conn = db->n_idle ? db->idle[--db->n_idle] : NULL;
    pthread_mutex_unlock(&db->lock);
    if (conn) return conn;
    int why = 0;
    char msg[256];
    conn = db->be->connect(db->target, &why, msg, sizeof(msg));
    if (!conn) snprintf(errstr, errstr_size, "%s: %.200s", db->url_masked, msg);
    // cppcheck-suppress returnDanglingLifetime ; connect() only writes through &why, it keeps nothing
    return conn;
}

void sa_db_conn_put(sa_db_t *db, sa_db_conn_t *conn, int broken) {
    if (!conn) return;
    if (!broken && db->be->alive(conn)) {
        pthread_mutex_lock(&db->lock);
        if (db->n_idle < SA_DB_POOL_MAX) {
            db->idle[db->n_idle++] = conn;
            conn = NULL;
        }
        pthread_mutex_unlock(&db->lock);
    }
    if (conn) db->be->close(conn);
}

int sa_db_query1(sa_db_t *db, const char *sql, const sa_db_val_t *params, int nparams, sa_db_row_fn fn,
                 void *opaque, int64_t *changes, char *errstr, size_t errstr_size) {
    sa_db_conn_t *conn = sa_db_conn_get(db, errstr, errstr_size);
    if (!conn) return SA_DB_Q_ERR;
    int rc = db->be->query(conn, sql, params, nparams, fn, opaque, changes, errstr, errstr_size);
    sa_db_conn_put(db, conn, 0);
    return rc;
}

static pthread_mutex_t multi_lock = PTHREAD_MUTEX_INITIALIZER;

/* @returns the text of @p m for 1 << @p k rows (made once; never freed: a statement cache keys
 * on its address). */
static const char *multi_sql(sa_db_multi_t *m, int k) {
    pthread_mutex_lock(&multi_lock);
    const char *sql = m->sql[k];
    if (!sql) {
        size_t rows = (size_t)1 << k, q = 0;
        for (const char *c = m->row; *c; c++) q += *c == '?';
        size_t cap = strlen(m->head) + strlen(m->tail) + rows * (strlen(m->row) + 2 + q * 6) + 1, o = 0;
        char *out = sa_malloc(cap);
        o += (size_t)snprintf(out, cap, "%s", m->head);
        for (size_t r = 0, n = 0; r < rows; r++) {
            if (r) o += (size_t)snprintf(out + o, cap - o, ", ");
            for (const char *c = m->row; *c; c++) {
                if (*c == '?')
                    o += (size_t)snprintf(out + o, cap - o, "$%zu", ++n);
                else
                    out[o++] = *c;
            }
        }
        snprintf(out + o, cap - o, "%s", m->tail);
        m->sql[k] = sql = out;
    }
    pthread_mutex_unlock(&multi_lock);
    return sql;
}

int sa_db_multi(sa_db_t *db, sa_db_conn_t *conn, sa_db_multi_t *m, const sa_db_val_t *params, size_t n,
                sa_db_row_fn fn, void *opaque, int64_t *changes, char *errstr, size_t errstr_size) {
    size_t ncols = 0;
    for (const char *c = m->row; *c; c++) ncols += *c == '?';
    int64_t total = 0;
    for (size_t done = 0; done < n;) {
        int k = SA_DB_MULTI_LOG2;
        while (((size_t)1 << k) > n - done) k--;
        size_t rows = (size_t)1 << k;
        int64_t c = 0;
        int rc = db->be->query(conn, multi_sql(m, k), params + done * ncols, (int)(rows * ncols), fn, opaque,
                               &c, errstr, errstr_size);
        if (rc) return rc;
        total += c;
        done += rows;
    }
    if (changes) *changes = total;
    return SA_DB_Q_OK;
}

int sa_db_row_str0(void *opaque, int ncols, const char *const *cols) {
    char **out = opaque;
    if (ncols > 0 && cols[0] && !*out) *out = sa_strdup(cols[0]);
    return 1;
}

int sa_db_tx(sa_db_t *db, sa_db_tx_fn fn, void *arg, char *errstr, size_t errstr_size) {
    const sa_db_backend_t *be = db->be;
    for (int attempt = 0;; attempt++) {
        sa_db_conn_t *conn = sa_db_conn_get(db, errstr, errstr_size);
        if (!conn) return -1;
        int rc = be->exec(conn, be->begin_lazy_sql, errstr, errstr_size);
        if (rc == SA_DB_Q_OK) rc = fn(db, conn, arg, errstr, errstr_size);
        if (rc == SA_DB_Q_OK) rc = be->exec(conn, "COMMIT", errstr, errstr_size);
        if (rc != SA_DB_Q_OK) {
            char ignore[64];
            be->exec(conn, "ROLLBACK", ignore, sizeof(ignore));
        }
        sa_db_conn_put(db, conn, 0);
        if (rc == SA_DB_Q_OK) return 0;
        if (rc != SA_DB_Q_RETRY || attempt + 1 >= TX_TRIES) return -1;
        usleep((useconds_t)(1000 << (attempt < 6 ? attempt : 6))); /* 1, 2, 4 ... 64 ms */
    }
}

int sa_db_migrate(sa_db_t *db, sa_db_conn_t *conn, int *why, char *errstr, size_t errstr_size) {
    const sa_db_backend_t *be = db->be;
    char *exists = NULL, *version_s = NULL;
    int rc = be->exec(conn, be->begin_sql, errstr, errstr_size);
    if (rc == SA_DB_Q_OK && be->lock_sql) rc = be->exec(conn, be->lock_sql, errstr, errstr_size);
    if (rc == SA_DB_Q_OK)
        rc =
            be->query(conn, be->meta_exists_sql, NULL, 0, sa_db_row_str0, &exists, NULL, errstr, errstr_size);
    if (rc == SA_DB_Q_OK && exists && strcmp(exists, "0"))
        rc = be->query(conn, "SELECT value FROM meta WHERE key = 'schema_version'", NULL, 0, sa_db_row_str0,
                       &version_s, NULL, errstr, errstr_size);
    if (rc != SA_DB_Q_OK) {
        *why = rc == SA_DB_Q_RETRY                                               ? SA_DB_E_LOCKED
               : strstr(errstr, "not a database") || strstr(errstr, "malformed") ? SA_DB_E_CORRUPT
                                                                                 : SA_DB_E_FAIL;
        goto fail;
    }
    int version = version_s ? atoi(version_s) : 0;
    if (version > be->n_migrations) {
        snprintf(errstr, errstr_size,
                 "its schema is version %d, newer than this samsa's %d: it was written by a newer samsa; "
                 "run that version (or a fresh --db)",
                 version, be->n_migrations);
        *why = SA_DB_E_NEWER;
        rc = SA_DB_Q_ERR;
        goto fail;
    }
    for (int v = version; v < be->n_migrations && rc == SA_DB_Q_OK; v++)
        rc = be->exec(conn, be->migrations[v], errstr, errstr_size);
    if (rc == SA_DB_Q_OK && version < be->n_migrations) {
        sa_db_val_t p[] = {DV_INT(be->n_migrations)};
        rc = be->query(
            conn,
            "INSERT INTO meta(key, value) VALUES ('schema_version', CAST($1 AS TEXT)) ON CONFLICT(key)"
            " DO UPDATE SET value = excluded.value",
            p, 1, NULL, NULL, NULL, errstr, errstr_size);
    }
    if (rc == SA_DB_Q_OK) rc = be->exec(conn, "COMMIT", errstr, errstr_size);
    if (rc != SA_DB_Q_OK) {
        *why = rc == SA_DB_Q_RETRY ? SA_DB_E_LOCKED : SA_DB_E_FAIL;
        goto fail;
    }
    free(exists);
    free(version_s);
    return 0;
fail:;
    char ignore[64];
    be->exec(conn, "ROLLBACK", ignore, sizeof(ignore));
    free(exists);
    free(version_s);
    return -1;
}

static const char *advice(sa_db_why_t why) {
    switch (why) {
    case SA_DB_E_URL: return "use --db sqlite:PATH or --db postgresql://USER@HOST/DBNAME";
    case SA_DB_E_UNREACHABLE:
        return "check that the server runs and the URL, user and password are right, or that the path is "
               "writable";
    case SA_DB_E_LOCKED: return "another process keeps it locked; stop it or wait, then start again";
    case SA_DB_E_CORRUPT:
        return "it is not a samsa database or it is damaged: restore it from a backup or point --db "
               "elsewhere";
    case SA_DB_E_NEWER: return "upgrade samsa";
    default: return "see the message";
    }
}

sa_db_t *sa_db_open(const char *url, sa_db_why_t *why, char *errstr, size_t errstr_size) {
    sa_db_t *db = sa_new(sa_db_t);
    pthread_mutex_init(&db->lock, NULL);
    db->url_masked = mask_url(url ? url : "");
    *why = SA_DB_E_OK;
    char msg[512] = "";
    if (url && !strncmp(url, "sqlite:", 7) && url[7]) {
        db->be = &sa_db_sqlite;
        db->target = sa_strdup(url + 7);
    } else if (url && (!strncmp(url, "postgresql://", 13) || !strncmp(url, "postgres://", 11))) {
        db->be = &sa_db_pg;
        db->target = sa_strdup(url);
    } else {
        *why = SA_DB_E_URL;
        snprintf(msg, sizeof(msg), "not a database URL");
        goto err;
    }
    /* Two processes opening a new SQLite file at once (samsa up) meet SQLITE_BUSY in places
     * where SQLite does not wait on its own (switching to WAL): try again for a while. */
    int64_t deadline = sa_mono_ms() + OPEN_LOCKED_MS;
    for (;;) {
        int w = SA_DB_E_OK;
        sa_db_conn_t *conn = db->be->connect(db->target, &w, msg, sizeof(msg));
        if (conn && sa_db_migrate(db, conn, &w, msg, sizeof(msg)) == 0) {
            sa_db_conn_put(db, conn, 0);
            return db;
        }
        if (conn) db->be->close(conn);
        *why = w;
        if (w != SA_DB_E_LOCKED || sa_mono_ms() >= deadline) goto err;
        usleep(50000);
    }
err:
    snprintf(errstr, errstr_size, "store %s: %s; %s", db->url_masked, msg, advice(*why));
    sa_db_close(db);
    return NULL;
}

void sa_db_close(sa_db_t *db) {
    if (!db) return;
    for (int i = 0; i < db->n_idle; i++) db->be->close(db->idle[i]);
    pthread_mutex_destroy(&db->lock);
    free(db->acked);
    free(db->target);
    free(db->url_masked);
    free(db);
}

const char *sa_db_url(const sa_db_t *db) { return db->url_masked; }

int sa_db_sync(sa_db_t *db, char *errstr, size_t errstr_size) {
    sa_db_conn_t *conn = sa_db_conn_get(db, errstr, errstr_size);
    if (!conn) return -1;
    int rc = db->be->sync(conn, errstr, errstr_size);
    sa_db_conn_put(db, conn, rc != SA_DB_Q_OK);
    return rc == SA_DB_Q_OK ? 0 : -1;
}

int sa_db_ping(sa_db_t *db) {
    char errstr[256];
    return sa_db_query1(db, "SELECT 1", NULL, 0, NULL, NULL, NULL, errstr, sizeof(errstr)) == SA_DB_Q_OK;
}

char *sa_db_meta_get(sa_db_t *db, const char *key) {
    char *value = NULL, errstr[256];
    sa_db_val_t p[] = {DV_TEXT(key)};
    sa_db_query1(db, "SELECT value FROM meta WHERE key = $1", p, 1, sa_db_row_str0, &value, NULL, errstr,
                 sizeof(errstr));
    return value;
}

int sa_db_meta_set(sa_db_t *db, const char *key, const char *value, char *errstr, size_t errstr_size) {
    sa_db_val_t p[] = {DV_TEXT(key), DV_TEXT(value)};
    return sa_db_query1(db,
                        "INSERT INTO meta(key, value) VALUES ($1, $2) ON CONFLICT(key) DO UPDATE SET value ="
                        " excluded.value",
                        p, 2, NULL, NULL, NULL, errstr, errstr_size) == SA_DB_Q_OK
               ? 0
               : -1;
}
