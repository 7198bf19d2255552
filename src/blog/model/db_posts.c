/*
 * db_posts.c - the store's operations on posts, verdicts and offsets (see db.h), in SQL that
 * SQLite and PostgreSQL both run (db_int.h). Each write is one transaction through sa_db_tx, so
 * a transient conflict (busy, deadlock) runs it again from the start: the bodies below reset
 * their outputs first.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "blog/model/db.h"
#include "blog/model/db_int.h"
#include "core/mem.h"

/* The columns of a post as the web shows it (post_json reads them in this order). */
#define POST_COLS                                                                                            \
    "id, title, content, author, lang, submitted_at, state, score, reasons, metrics, processed_at, worker, " \
    "seq"

static json_t *json_or(const char *text, json_t *fallback) {
    json_t *v = text ? json_loads(text, JSON_DECODE_ANY, NULL) : NULL;
    if (!v) return fallback;
    json_decref(fallback);
    return v;
}

/* @returns new: the public JSON of a post row (POST_COLS). A pending post reads as queued. */
static json_t *post_json(const char *const *c) {
    const char *state = c[6] ? c[6] : "queued";
    json_t *post =
        json_pack("{s:s, s:s, s:s, s:s, s:s, s:s, s:s}", "id", c[0] ? c[0] : "", "title", c[1] ? c[1] : "",
                  "content", c[2] ? c[2] : "", "author", c[3] ? c[3] : "", "lang", c[4] ? c[4] : "",
                  "submitted_at", c[5] ? c[5] : "", "status", strcmp(state, "pending") ? state : "queued");
    json_object_set_new(post, "score", c[7] ? json_integer(strtoll(c[7], NULL, 10)) : json_null());
    json_object_set_new(post, "reasons", json_or(c[8], json_array()));
    if (c[9]) json_object_set_new(post, "metrics", json_or(c[9], json_object()));
    if (c[10]) json_object_set_new(post, "processed_at", json_string(c[10]));
    if (c[11]) json_object_set_new(post, "worker", json_string(c[11]));
    return post;
}

static int row_post(void *opaque, int ncols, const char *const *cols) {
    json_t **out = opaque;
    if (ncols >= 13 && !*out) *out = post_json(cols);
    return 1;
}

static int row_append_post(void *opaque, int ncols, const char *const *cols) {
    if (ncols >= 13) json_array_append_new(opaque, post_json(cols));
    return 0;
}

static const char *str_field(const json_t *obj, const char *key, const char *dflt) {
    const char *s = json_string_value(json_object_get(obj, key));
    return s ? s : dflt;
}

/* ---- reserve ---------------------------------------------------------------------------------- */

typedef struct reserve_tx_s {
    sa_db_reserve_t *items;
    size_t n;
} reserve_tx_t;

static int row_key_owner(void *opaque, int ncols, const char *const *cols) {
    sa_db_reserve_t *it = opaque;
    if (ncols < 13 || it->post) return 1;
    snprintf(it->id, sizeof(it->id), "%s", cols[0] ? cols[0] : "");
    it->pending = cols[6] && !strcmp(cols[6], "pending");
    it->post = post_json(cols);
    return 1;
}

static int reserve_body(sa_db_t *db, sa_db_conn_t *conn, void *arg, char *errstr, size_t errstr_size) {
    reserve_tx_t *tx = arg;
    for (size_t i = 0; i < tx->n; i++) {
        sa_db_reserve_t *it = &tx->items[i];
        json_decref(it->post);
        it->post = NULL;
        it->pending = 0;
        it->id[0] = '\0';
        const json_t *op = it->op;
        const char *key = json_string_value(json_object_get(op, "idempotency_key"));
        sa_db_val_t p[] = {DV_TEXT(str_field(op, "id", "")),           DV_TEXT(key),
                           DV_TEXT(str_field(op, "title", "")),        DV_TEXT(str_field(op, "content", "")),
                           DV_TEXT(str_field(op, "author", "")),       DV_TEXT(str_field(op, "lang", "")),
                           DV_TEXT(str_field(op, "submitted_at", "")), DV_INT(it->now_ms)};
        int64_t changes = 0;
        int rc =
            db->be->query(conn,
                          "INSERT INTO posts(id, idempotency_key, title, content, author, lang, submitted_at,"
                          " state, reserved_ms) VALUES ($1, $2, $3, $4, $5, $6, $7, 'pending', $8)"
                          " ON CONFLICT DO NOTHING",
                          p, 8, NULL, NULL, &changes, errstr, errstr_size);
        if (rc) return rc;
        if (changes == 1) {
            it->rc = SA_DB_RES_NEW;
            continue;
        }
        it->rc = SA_DB_RES_EXISTS;
        if (!key) {
            snprintf(errstr, errstr_size, "post id %s exists already", str_field(op, "id", ""));
            return SA_DB_Q_ERR;
        }
        sa_db_val_t k[] = {DV_TEXT(key)};
        rc = db->be->query(conn, "SELECT " POST_COLS " FROM posts WHERE idempotency_key = $1", k, 1,
                           row_key_owner, it, NULL, errstr, errstr_size);
        if (rc) return rc;
        if (!it->post) return SA_DB_Q_RETRY; /* its owner released it meanwhile: try again */
    }
    return SA_DB_Q_OK;
}

int sa_db_reserve(sa_db_t *db, sa_db_reserve_t *items, size_t n, char *errstr, size_t errstr_size) {
    reserve_tx_t tx = {items, n};
    int rc = sa_db_tx(db, reserve_body, &tx, errstr, errstr_size);
    if (rc)
        for (size_t i = 0; i < n; i++) {
            json_decref(items[i].post);
            items[i].post = NULL;
        }
    return rc;
}

/* ---- outbox ------------------------------------------------------------------------------------ */

typedef struct outbox_tx_s {
    const sa_db_outbox_t *items;
    size_t n;
} outbox_tx_t;

static int outbox_body(sa_db_t *db, sa_db_conn_t *conn, void *arg, char *errstr, size_t errstr_size) {
    outbox_tx_t *tx = arg;
    for (size_t i = 0; i < tx->n; i++) {
        sa_db_val_t p[] = {DV_TEXT(tx->items[i].id)};
        /* queued never overwrites a verdict; a release leaves a row a sweeper took (it will be
         * produced again, so the key must stay with it) */
        const char *sql = tx->items[i].action == SA_DB_OUT_QUEUED
                              ? "UPDATE posts SET state = 'queued' WHERE id = $1 AND state = 'pending'"
                              : "DELETE FROM posts WHERE id = $1 AND state = 'pending' AND lease_ms = 0";
        int rc = db->be->query(conn, sql, p, 1, NULL, NULL, NULL, errstr, errstr_size);
        if (rc) return rc;
    }
    return SA_DB_Q_OK;
}

int sa_db_outbox_apply(sa_db_t *db, const sa_db_outbox_t *items, size_t n, char *errstr, size_t errstr_size) {
    outbox_tx_t tx = {items, n};
    return sa_db_tx(db, outbox_body, &tx, errstr, errstr_size);
}

static int row_op(void *opaque, int ncols, const char *const *c) {
    if (ncols < 7) return 0;
    json_t *op = json_pack("{s:s, s:s, s:s, s:s, s:s, s:s, s:s}", "type", "create_post", "id",
                           c[0] ? c[0] : "", "title", c[2] ? c[2] : "", "content", c[3] ? c[3] : "", "author",
                           c[4] ? c[4] : "", "lang", c[5] ? c[5] : "", "submitted_at", c[6] ? c[6] : "");
    json_object_set_new(op, "idempotency_key", c[1] ? json_string(c[1]) : json_null());
    json_array_append_new(opaque, op);
    return 0;
}

json_t *sa_db_claim_stale(sa_db_t *db, int64_t now_ms, int64_t stale_before_ms, int64_t lease_ms, int max,
                          char *errstr, size_t errstr_size) {
    json_t *ops = json_array();
    sa_db_val_t p[] = {DV_INT(now_ms), DV_INT(stale_before_ms), DV_INT(lease_ms), DV_INT(max)};
    /* the outer conditions are checked again on the row itself, so two sweepers racing for a row
     * (PostgreSQL re-reads a row updated under it) do not both claim it */
    int rc =
        sa_db_query1(db,
                     "UPDATE posts SET lease_ms = CAST($1 AS BIGINT) + CAST($3 AS BIGINT) WHERE seq IN"
                     " (SELECT seq FROM posts WHERE state = 'pending' AND reserved_ms < $2 AND lease_ms < $1"
                     " ORDER BY reserved_ms LIMIT CAST($4 AS BIGINT)) AND state = 'pending' AND lease_ms < $1"
                     " RETURNING id, idempotency_key, title, content, author, lang, submitted_at",
                     p, 4, row_op, ops, NULL, errstr, errstr_size);
    if (rc) {
        json_decref(ops);
        return NULL;
    }
    return ops;
}

/* ---- reads ------------------------------------------------------------------------------------- */

int sa_db_post_get(sa_db_t *db, const char *id, json_t **out, char *errstr, size_t errstr_size) {
    *out = NULL;
    sa_db_val_t p[] = {DV_TEXT(id)};
    if (sa_db_query1(db, "SELECT " POST_COLS " FROM posts WHERE id = $1 AND state <> 'pending'", p, 1,
                     row_post, out, NULL, errstr, errstr_size))
        return -1;
    return *out != NULL;
}

int sa_db_post_by_key(sa_db_t *db, const char *key, char id[SA_ULID_LEN + 1], int *pending, json_t **post,
                      char *errstr, size_t errstr_size) {
    sa_db_reserve_t it = {0};
    if (post) *post = NULL;
    sa_db_val_t p[] = {DV_TEXT(key)};
    if (sa_db_query1(db, "SELECT " POST_COLS " FROM posts WHERE idempotency_key = $1", p, 1, row_key_owner,
                     &it, NULL, errstr, errstr_size))
        return -1;
    if (!it.post) return 0;
    memcpy(id, it.id, SA_ULID_LEN + 1);
    *pending = it.pending;
    if (post)
        *post = it.post;
    else
        json_decref(it.post);
    return 1;
}

json_t *sa_db_posts_list(sa_db_t *db, const char *before, const char *q, int limit, char *errstr,
                         size_t errstr_size) {
    json_t *posts = json_array();
    int rc;
    if (before && !*before) before = NULL;
    if (q && *q) {
        char *terms = db->be->quote_terms ? db->be->quote_terms(q) : NULL;
        sa_db_val_t p[] = {DV_TEXT(terms ? terms : q), DV_TEXT(before), DV_INT(limit)};
        rc = sa_db_query1(db, db->be->search_sql, p, 3, row_append_post, posts, NULL, errstr, errstr_size);
        free(terms);
    } else if (before) {
        sa_db_val_t p[] = {DV_TEXT(before), DV_INT(limit)};
        rc = sa_db_query1(db,
                          "SELECT " POST_COLS
                          " FROM posts WHERE id < $1 AND state <> 'pending' ORDER BY id DESC"
                          " LIMIT CAST($2 AS BIGINT)",
                          p, 2, row_append_post, posts, NULL, errstr, errstr_size);
    } else {
        sa_db_val_t p[] = {DV_INT(limit)};
        rc = sa_db_query1(db,
                          "SELECT " POST_COLS " FROM posts WHERE state <> 'pending' ORDER BY id DESC"
                          " LIMIT CAST($1 AS BIGINT)",
                          p, 1, row_append_post, posts, NULL, errstr, errstr_size);
    }
    if (rc) {
        json_decref(posts);
        return NULL;
    }
    return posts;
}

static int row_count(void *opaque, int ncols, const char *const *c) {
    sa_db_stats_t *st = opaque;
    if (ncols < 2 || !c[0] || !c[1]) return 0;
    int64_t n = strtoll(c[1], NULL, 10);
    if (!strcmp(c[0], "queued"))
        st->queued = n;
    else if (!strcmp(c[0], "published"))
        st->published = n;
    else if (!strcmp(c[0], "review"))
        st->review = n;
    else if (!strcmp(c[0], "rejected"))
        st->rejected = n;
    return 0;
}

int sa_db_stats(sa_db_t *db, sa_db_stats_t *out, char *errstr, size_t errstr_size) {
    memset(out, 0, sizeof(*out));
    if (sa_db_query1(db, "SELECT state, CAST(sum(n) AS BIGINT) FROM post_counts GROUP BY state", NULL, 0,
                     row_count, out, NULL, errstr, errstr_size))
        return -1;
    out->processed = out->published + out->review + out->rejected;
    out->posts = out->queued + out->processed;
    return 0;
}

/* ---- the worker ---------------------------------------------------------------------------------- */

typedef struct stored_s {
    char *line;
    int flags;
    int found;
} stored_t;

static int row_stored(void *opaque, int ncols, const char *const *c) {
    stored_t *s = opaque;
    if (ncols < 2 || s->found) return 1;
    s->found = 1;
    s->line = c[0] ? sa_strdup(c[0]) : NULL;
    s->flags = c[1] ? atoi(c[1]) : 0;
    return 1;
}

static int find_stored(sa_db_t *db, sa_db_conn_t *conn, const char *id, stored_t *s, char *errstr,
                       size_t errstr_size) {
    memset(s, 0, sizeof(*s));
    sa_db_val_t p[] = {DV_TEXT(id)};
    return db->be->query(conn, "SELECT result, flags FROM posts WHERE id = $1", p, 1, row_stored, s, NULL,
                         errstr, errstr_size);
}

int sa_db_verdicts_find(sa_db_t *db, sa_db_verdict_t *items, size_t n, char *errstr, size_t errstr_size) {
    sa_db_conn_t *conn = sa_db_conn_get(db, errstr, errstr_size);
    if (!conn) return -1;
    int rc = SA_DB_Q_OK;
    for (size_t i = 0; i < n && rc == SA_DB_Q_OK; i++) {
        stored_t s;
        free(items[i].stored);
        items[i].stored = NULL;
        items[i].flags = 0;
        rc = find_stored(db, conn, items[i].id, &s, errstr, errstr_size);
        items[i].stored = s.line;
        items[i].flags = s.flags;
    }
    sa_db_conn_put(db, conn, 0);
    return rc ? -1 : 0;
}

/*
 * Store the verdict of @p result unless the post has one. The post row is usually there (the web
 * reserved it); if not (a record from another producer, or an old data dir), it is created from
 * the result line, which carries the post's fields; its key, if another post holds it already,
 * is left out rather than refusing the post (every record on the topic gets its verdict).
 */
static int store_verdict(sa_db_t *db, sa_db_conn_t *conn, const char *id, const json_t *result,
                         const char *line, int64_t now_ms, int flags, int *won, stored_t *s, char *errstr,
                         size_t errstr_size) {
    *won = 0;
    memset(s, 0, sizeof(*s));
    char *reasons = json_dumps(json_object_get(result, "reasons"), JSON_COMPACT | JSON_ENCODE_ANY);
    json_t *m = json_object_get(result, "metrics");
    char *metrics = m ? json_dumps(m, JSON_COMPACT | JSON_ENCODE_ANY | JSON_REAL_PRECISION(10)) : NULL;
    json_t *score = json_object_get(result, "score");
    const char *status = str_field(result, "status", "review");
    sa_db_val_t v[] = {DV_TEXT(id),
                       DV_TEXT(status),
                       json_is_number(score) ? DV_INT((int64_t)json_number_value(score)) : DV_NULL,
                       DV_TEXT(reasons),
                       DV_TEXT(metrics),
                       DV_TEXT(json_string_value(json_object_get(result, "processed_at"))),
                       DV_TEXT(json_string_value(json_object_get(result, "worker"))),
                       DV_TEXT(line),
                       DV_INT(now_ms),
                       DV_INT(flags),
                       DV_TEXT(json_string_value(json_object_get(result, "idempotency_key"))),
                       DV_TEXT(str_field(result, "title", "")),
                       DV_TEXT(str_field(result, "content", "")),
                       DV_TEXT(str_field(result, "author", "")),
                       DV_TEXT(str_field(result, "lang", "")),
                       DV_TEXT(str_field(result, "submitted_at", ""))};
    int64_t changes = 0;
    int rc = db->be->query(
        conn,
        "UPDATE posts SET state = $2, score = $3, reasons = $4, metrics = $5, processed_at = $6,"
        " worker = $7, result = $8, processed_ms = $9, flags = $10 WHERE id = $1 AND result IS NULL",
        v, 10, NULL, NULL, &changes, errstr, errstr_size);
    for (int with_key = 1; rc == SA_DB_Q_OK && changes == 0 && with_key >= 0; with_key--) {
        rc = find_stored(db, conn, id, s, errstr, errstr_size);
        if (rc || s->found) break; /* another verdict was first */
        if (!with_key) v[10] = DV_NULL;
        rc = db->be->query(
            conn,
            "INSERT INTO posts(id, state, score, reasons, metrics, processed_at, worker, result,"
            " processed_ms, flags, idempotency_key, title, content, author, lang, submitted_at,"
            " reserved_ms) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14,"
            " $15, $16, $9) ON CONFLICT DO NOTHING",
            v, 16, NULL, NULL, &changes, errstr, errstr_size);
    }
    if (rc == SA_DB_Q_OK && changes == 1) *won = 1;
    free(reasons);
    free(metrics);
    return rc;
}

typedef struct commit_tx_s {
    const char *group;
    sa_db_verdict_t *items;
    size_t n;
    const sa_db_offset_t *offsets;
    size_t n_offsets;
} commit_tx_t;

static int commit_body(sa_db_t *db, sa_db_conn_t *conn, void *arg, char *errstr, size_t errstr_size) {
    commit_tx_t *tx = arg;
    for (size_t i = 0; i < tx->n; i++) {
        sa_db_verdict_t *it = &tx->items[i];
        free(it->stored);
        it->stored = NULL;
        it->won = 0;
        it->flags = 0;
        if (!it->result) continue;
        stored_t s;
        int rc = store_verdict(db, conn, it->id, it->result, it->line, it->now_ms, 0, &it->won, &s, errstr,
                               errstr_size);
        if (rc) {
            free(s.line);
            return rc;
        }
        it->stored = s.line;
        it->flags = s.flags;
    }
    for (size_t i = 0; i < tx->n_offsets; i++) {
        const sa_db_offset_t *o = &tx->offsets[i];
        sa_db_val_t p[] = {DV_TEXT(tx->group), DV_TEXT(o->topic), DV_INT(o->partition), DV_INT(o->next)};
        int rc = db->be->query(
            conn,
            "INSERT INTO consumer_offsets(grp, topic, part, next_offset) VALUES ($1, $2, $3, $4)"
            " ON CONFLICT(grp, topic, part) DO UPDATE SET next_offset = CASE WHEN"
            " excluded.next_offset > consumer_offsets.next_offset THEN excluded.next_offset"
            " ELSE consumer_offsets.next_offset END",
            p, 4, NULL, NULL, NULL, errstr, errstr_size);
        if (rc) return rc;
    }
    return SA_DB_Q_OK;
}

int sa_db_verdicts_commit(sa_db_t *db, const char *group, sa_db_verdict_t *items, size_t n,
                          const sa_db_offset_t *offsets, size_t n_offsets, char *errstr, size_t errstr_size) {
    commit_tx_t tx = {group, items, n, offsets, n_offsets};
    return sa_db_tx(db, commit_body, &tx, errstr, errstr_size);
}

typedef struct mark_tx_s {
    const char *const *ids;
    size_t n;
    int flag;
} mark_tx_t;

static int mark_body(sa_db_t *db, sa_db_conn_t *conn, void *arg, char *errstr, size_t errstr_size) {
    mark_tx_t *tx = arg;
    for (size_t i = 0; i < tx->n; i++) {
        sa_db_val_t p[] = {DV_TEXT(tx->ids[i]), DV_INT(tx->flag)};
        int rc = db->be->query(conn, "UPDATE posts SET flags = flags | CAST($2 AS INTEGER) WHERE id = $1", p,
                               2, NULL, NULL, NULL, errstr, errstr_size);
        if (rc) return rc;
    }
    return SA_DB_Q_OK;
}

int sa_db_mark(sa_db_t *db, const char *const *ids, size_t n, int flag, char *errstr, size_t errstr_size) {
    if (!n) return 0;
    mark_tx_t tx = {ids, n, flag};
    return sa_db_tx(db, mark_body, &tx, errstr, errstr_size);
}

int sa_db_offset_get(sa_db_t *db, const char *group, const char *topic, int32_t partition, int64_t *next,
                     char *errstr, size_t errstr_size) {
    char *v = NULL;
    sa_db_val_t p[] = {DV_TEXT(group), DV_TEXT(topic), DV_INT(partition)};
    if (sa_db_query1(db,
                     "SELECT next_offset FROM consumer_offsets WHERE grp = $1 AND topic = $2 AND part = $3",
                     p, 3, sa_db_row_str0, &v, NULL, errstr, errstr_size))
        return -1;
    if (!v) return 0;
    *next = strtoll(v, NULL, 10);
    free(v);
    return 1;
}

static int row_unfinished(void *opaque, int ncols, const char *const *c) {
    if (ncols < 3 || !c[0] || !c[1]) return 0;
    json_array_append_new(
        opaque, json_pack("{s:s, s:s, s:i}", "id", c[0], "line", c[1], "flags", atoi(c[2] ? c[2] : "0")));
    return 0;
}

json_t *sa_db_unfinished(sa_db_t *db, int64_t older_than_ms, const char *worker, int max, char *errstr,
                         size_t errstr_size) {
    json_t *rows = json_array();
    sa_db_val_t p[] = {DV_INT(older_than_ms), DV_TEXT(worker ? worker : ""), DV_INT(max)};
    if (sa_db_query1(db,
                     "SELECT id, result, flags FROM posts WHERE result IS NOT NULL AND flags <> 3 AND"
                     " (processed_ms < $1 OR worker = $2) ORDER BY processed_ms LIMIT CAST($3 AS BIGINT)",
                     p, 3, row_unfinished, rows, NULL, errstr, errstr_size)) {
        json_decref(rows);
        return NULL;
    }
    return rows;
}

/* ---- import ------------------------------------------------------------------------------------ */

typedef struct import_tx_s {
    json_t *const *recs;
    size_t n;
    int is_result;
    int flags;
} import_tx_t;

static int import_body(sa_db_t *db, sa_db_conn_t *conn, void *arg, char *errstr, size_t errstr_size) {
    import_tx_t *tx = arg;
    for (size_t i = 0; i < tx->n; i++) {
        const json_t *r = tx->recs[i];
        const char *id = json_string_value(json_object_get(r, "id"));
        if (!id || !*id) continue;
        int rc;
        if (tx->is_result) {
            char *line = json_dumps(r, JSON_COMPACT | JSON_REAL_PRECISION(10));
            int won;
            stored_t s;
            rc = store_verdict(db, conn, id, r, line, 0, tx->flags, &won, &s, errstr, errstr_size);
            free(s.line);
            free(line);
        } else {
            const char *key = json_string_value(json_object_get(r, "idempotency_key"));
            int64_t changes = 0;
            for (int with_key = 1; with_key >= 0; with_key--) {
                sa_db_val_t p[] = {DV_TEXT(id),
                                   DV_TEXT(with_key ? key : NULL),
                                   DV_TEXT(str_field(r, "title", "")),
                                   DV_TEXT(str_field(r, "content", "")),
                                   DV_TEXT(str_field(r, "author", "")),
                                   DV_TEXT(str_field(r, "lang", "")),
                                   DV_TEXT(str_field(r, "submitted_at", ""))};
                rc = db->be->query(conn,
                                   "INSERT INTO posts(id, idempotency_key, title, content, author, lang,"
                                   " submitted_at, state, reserved_ms) VALUES ($1, $2, $3, $4, $5, $6, $7,"
                                   " 'queued', 0) ON CONFLICT DO NOTHING",
                                   p, 7, NULL, NULL, &changes, errstr, errstr_size);
                if (rc || changes || !key) break;
                stored_t s;
                rc = find_stored(db, conn, id, &s, errstr, errstr_size);
                free(s.line);
                if (rc || s.found) break; /* the post is there: its first version stays */
            }
        }
        if (rc) return rc;
    }
    return SA_DB_Q_OK;
}

int sa_db_import(sa_db_t *db, json_t *const *recs, size_t n, int is_result, int flags, char *errstr,
                 size_t errstr_size) {
    import_tx_t tx = {recs, n, is_result, flags};
    return sa_db_tx(db, import_body, &tx, errstr, errstr_size);
}
