/*
 * console_store.c - the console's own store: the lag history and the message rates, sampled by
 * the sampler and read by the charts.
 *
 * Why SQLite (and not a fixed-size ring file): a chart asks for one group over a time range,
 * bucketed to a few hundred points, which is one indexed GROUP BY; retention is one DELETE; the
 * file survives restarts; and SQLite is already linked for the blog's store. A ring file would
 * need its own index per group to answer the same question.
 *
 * Schema (version 1):
 *   lag(ts, grp, lag, tlag)         per group and sample: total lag, largest time lag (ms; NULL:
 *                                   unknown); index (grp, ts)
 *   rates(ts, in_rate, out_rate)    per sample: messages per second in and out
 * Size: one row per group per sample: 100 groups sampled every 10 s for 7 days is 6 million
 * rows (~250 MB); --history-keep bounds it.
 *
 * Threads: one connection opened in serialized mode (SQLite's own mutex): the sampler writes,
 * HTTP threads read.
 */
#include <math.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "console/console_int.h"
#include "core/log.h"
#include "core/mem.h"
#include "core/time.h"

struct cs_store_s {
    sqlite3 *db;
};

static const char schema[] =
    "PRAGMA journal_mode=WAL;"
    "PRAGMA synchronous=NORMAL;"
    "CREATE TABLE IF NOT EXISTS lag(ts INTEGER NOT NULL, grp TEXT NOT NULL, lag INTEGER, "
    "tlag INTEGER);"
    "CREATE INDEX IF NOT EXISTS lag_grp_ts ON lag(grp, ts);"
    "CREATE TABLE IF NOT EXISTS rates(ts INTEGER PRIMARY KEY, in_rate REAL, out_rate REAL);";

/* Make the parent folder of @p path (one level, like the blog's store). */
static void make_parent(const char *path) {
    char dir[1024];
    snprintf(dir, sizeof(dir), "%s", path);
    char *slash = strrchr(dir, '/');
    if (!slash || slash == dir) return;
    *slash = '\0';
    mkdir(dir, 0755);
}

cs_store_t *cs_store_open(const char *path, char *errstr, size_t errstr_size) {
    cs_store_t *st = sa_new(cs_store_t);
    int memory = !path || !*path || !strcmp(path, "none");
    if (!memory) make_parent(path);
    int rc = sqlite3_open_v2(memory ? ":memory:" : path, &st->db,
                             SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_FULLMUTEX, NULL);
    char *err = NULL;
    if (rc == SQLITE_OK) {
        sqlite3_busy_timeout(st->db, 2000);
        rc = sqlite3_exec(st->db, schema, NULL, NULL, &err);
    }
    if (rc != SQLITE_OK) {
        snprintf(errstr, errstr_size, "--history %s: %s", memory ? "none" : path,
                 err      ? err
                 : st->db ? sqlite3_errmsg(st->db)
                          : "cannot open");
        sqlite3_free(err);
        cs_store_close(st);
        return NULL;
    }
    return st;
}

void cs_store_close(cs_store_t *st) {
    if (!st) return;
    sqlite3_close(st->db);
    free(st);
}

void cs_store_record(cs_store_t *st, const cs_snap_t *s, int64_t keep_ms) {
    sqlite3_stmt *ins = NULL, *rates = NULL, *del = NULL, *del2 = NULL;
    sqlite3_exec(st->db, "BEGIN", NULL, NULL, NULL);
    if (sqlite3_prepare_v2(st->db, "INSERT INTO lag(ts, grp, lag, tlag) VALUES(?, ?, ?, ?)", -1, &ins,
                           NULL) == SQLITE_OK) {
        for (int g = 0; g < s->ngroups; g++) {
            const cs_group_t *grp = &s->groups[g];
            sqlite3_bind_int64(ins, 1, s->taken_ms);
            sqlite3_bind_text(ins, 2, grp->name, -1, SQLITE_STATIC);
            sqlite3_bind_int64(ins, 3, grp->total_lag);
            if (grp->max_time_lag_ms >= 0)
                sqlite3_bind_int64(ins, 4, grp->max_time_lag_ms);
            else
                sqlite3_bind_null(ins, 4);
            sqlite3_step(ins);
            sqlite3_reset(ins);
        }
    }
    if (s->in_rate >= 0 &&
        sqlite3_prepare_v2(st->db, "INSERT OR REPLACE INTO rates(ts, in_rate, out_rate) VALUES(?, ?, ?)", -1,
                           &rates, NULL) == SQLITE_OK) {
        sqlite3_bind_int64(rates, 1, s->taken_ms);
        sqlite3_bind_double(rates, 2, s->in_rate);
        sqlite3_bind_double(rates, 3, s->out_rate);
        sqlite3_step(rates);
    }
    int64_t cut = s->taken_ms - keep_ms;
    if (sqlite3_prepare_v2(st->db, "DELETE FROM lag WHERE ts < ?", -1, &del, NULL) == SQLITE_OK) {
        sqlite3_bind_int64(del, 1, cut);
        sqlite3_step(del);
    }
    if (sqlite3_prepare_v2(st->db, "DELETE FROM rates WHERE ts < ?", -1, &del2, NULL) == SQLITE_OK) {
        sqlite3_bind_int64(del2, 1, cut);
        sqlite3_step(del2);
    }
    if (sqlite3_exec(st->db, "COMMIT", NULL, NULL, NULL) != SQLITE_OK) {
        sa_log_warn("console", "lag history: %s", sqlite3_errmsg(st->db));
        sqlite3_exec(st->db, "ROLLBACK", NULL, NULL, NULL);
    }
    sqlite3_finalize(ins);
    sqlite3_finalize(rates);
    sqlite3_finalize(del);
    sqlite3_finalize(del2);
}

cs_point_t *cs_store_series(cs_store_t *st, const char *group, int64_t since_ms, int max_points, int *n) {
    *n = 0;
    /* the buckets span the data there is, not the whole range: a young history still has its points */
    sqlite3_stmt *first = NULL;
    if (sqlite3_prepare_v2(st->db,
                           group ? "SELECT MIN(ts) FROM lag WHERE grp = ?1 AND ts >= ?2"
                                 : "SELECT MIN(ts) FROM rates WHERE ts >= ?2",
                           -1, &first, NULL) != SQLITE_OK)
        return NULL;
    if (group) sqlite3_bind_text(first, 1, group, -1, SQLITE_STATIC);
    sqlite3_bind_int64(first, 2, since_ms);
    if (sqlite3_step(first) == SQLITE_ROW && sqlite3_column_type(first, 0) != SQLITE_NULL)
        since_ms = sqlite3_column_int64(first, 0);
    sqlite3_finalize(first);
    int64_t bucket = SA_MAX(1, (sa_wall_ms() - since_ms) / SA_MAX(1, max_points));
    const char *sql = group ? "SELECT MAX(ts), MAX(lag), MAX(tlag) FROM lag WHERE grp = ?1 AND ts >= ?2 "
                              "GROUP BY (ts - ?2) / ?3 ORDER BY 1"
                            : "SELECT MAX(ts), MAX(in_rate), MAX(out_rate) FROM rates WHERE ts >= ?2 "
                              "GROUP BY (ts - ?2) / ?3 ORDER BY 1";
    sqlite3_stmt *q = NULL;
    if (sqlite3_prepare_v2(st->db, sql, -1, &q, NULL) != SQLITE_OK) return NULL;
    if (group) sqlite3_bind_text(q, 1, group, -1, SQLITE_STATIC);
    sqlite3_bind_int64(q, 2, since_ms);
    sqlite3_bind_int64(q, 3, bucket);
    int cap = 64;
    cs_point_t *pts = sa_malloc((size_t)cap * sizeof(cs_point_t));
    while (sqlite3_step(q) == SQLITE_ROW) {
        if (*n == cap) pts = sa_realloc(pts, (size_t)(cap *= 2) * sizeof(cs_point_t));
        cs_point_t *p = &pts[(*n)++];
        p->t_ms = sqlite3_column_int64(q, 0);
        p->v = sqlite3_column_double(q, 1);
        p->v2 = sqlite3_column_type(q, 2) == SQLITE_NULL ? NAN : sqlite3_column_double(q, 2);
    }
    sqlite3_finalize(q);
    return pts;
}
