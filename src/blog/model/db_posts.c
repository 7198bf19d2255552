/*
 * db_posts.c - the store's operations on posts, verdicts and offsets (see db.h), in SQL that
 * SQLite and PostgreSQL both run (db_int.h). Each write is one transaction through sa_db_tx, so
 * a transient conflict (busy, deadlock) runs it again from the start: the bodies below reset
 * their outputs first.
 *
 * The hot writes take their rows as one JSON parameter (db_int.h "Batches"): the web's outbox
 * round is at most three statements, the worker's batch commit two (plus one per post the store
 * did not have at all), whatever the number of posts. Per-row statements cost a round trip each
 * with PostgreSQL, and with SQLite each INSERT statement made FTS5 write its pending index as a
 * segment of its own (a statement savepoint flushes it): 63 us per post at 5 posts per
 * transaction against 35 us for one multi-row statement (measured, 3.40.1).
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

/* The rows of a batch statement: {"0": row, "1": row, ...} in the order added. */
typedef struct batch_s {
    json_t *rows;
    size_t n;
} batch_t;

static void batch_init(batch_t *b) { *b = (batch_t){json_object(), 0}; }

/* Takes @p row. */
static void batch_add(batch_t *b, json_t *row) {
    char key[24];
    snprintf(key, sizeof(key), "%zu", b->n++);
    json_object_set_new(b->rows, key, row);
}

/* @returns new: the parameter text. */
static char *batch_text(const batch_t *b) {
    return json_dumps(b->rows, JSON_COMPACT | JSON_REAL_PRECISION(17));
}

static void batch_free(batch_t *b) {
    json_decref(b->rows);
    b->rows = NULL;
}

/* Run @p sql with the batch as $1 (and @p extra as $2, if not NULL). */
static int batch_query(sa_db_t *db, sa_db_conn_t *conn, const char *sql, const batch_t *b,
                       const sa_db_val_t *extra, sa_db_row_fn fn, void *opaque, char *errstr,
                       size_t errstr_size) {
    char *text = batch_text(b);
    sa_db_val_t p[2] = {DV_TEXT(text), extra ? *extra : DV_NULL};
    int rc = db->be->query(conn, sql, p, extra ? 2 : 1, fn, opaque, NULL, errstr, errstr_size);
    free(text);
    return rc;
}

/* Row callback: column 0 (an id) becomes a key of the json object @p opaque. */
static int row_id_set(void *opaque, int ncols, const char *const *cols) {
    if (ncols >= 1 && cols[0]) json_object_set_new(opaque, cols[0], json_true());
    return 0;
}

/* ---- the outbox: one round ---------------------------------------------------------------------- */

typedef struct outbox_tx_s {
    const sa_db_outbox_t *outcomes;
    size_t n_outcomes;
    sa_db_reserve_t *items;
    size_t n;
} outbox_tx_t;

static int row_key_owner(void *opaque, int ncols, const char *const *cols) {
    sa_db_reserve_t *it = opaque;
    if (ncols < 13 || it->post) return 1;
    snprintf(it->id, sizeof(it->id), "%s", cols[0] ? cols[0] : "");
    it->pending = cols[6] && !strcmp(cols[6], "pending");
    it->post = post_json(cols);
    return 1;
}

static int apply_outcomes(sa_db_t *db, sa_db_conn_t *conn, const outbox_tx_t *tx, char *errstr,
                          size_t errstr_size) {
    /* queued never overwrites a verdict; a release leaves a row a sweeper took (it will be
     * produced again, so the key must stay with it) */
    static const char *const sql[2] = {
        [SA_DB_OUT_QUEUED] = "UPDATE posts SET state = 'queued' WHERE state = 'pending' AND id IN"
                             " (SELECT value->>'id' FROM json_each($1))",
        [SA_DB_OUT_RELEASE] = "DELETE FROM posts WHERE state = 'pending' AND lease_ms = 0 AND id IN"
                              " (SELECT value->>'id' FROM json_each($1))",
    };
    for (int action = SA_DB_OUT_QUEUED; action <= SA_DB_OUT_RELEASE; action++) {
        batch_t b;
        batch_init(&b);
        for (size_t i = 0; i < tx->n_outcomes; i++)
            if (tx->outcomes[i].action == action) batch_add(&b, json_pack("{s:s}", "id", tx->outcomes[i].id));
        int rc =
            b.n ? batch_query(db, conn, sql[action], &b, NULL, NULL, NULL, errstr, errstr_size) : SA_DB_Q_OK;
        batch_free(&b);
        if (rc) return rc;
    }
    return SA_DB_Q_OK;
}

static int reserve(sa_db_t *db, sa_db_conn_t *conn, outbox_tx_t *tx, char *errstr, size_t errstr_size) {
    batch_t b;
    batch_init(&b);
    for (size_t i = 0; i < tx->n; i++) {
        const json_t *op = tx->items[i].op;
        json_t *row =
            json_pack("{s:s, s:O?, s:s, s:s, s:s, s:s, s:s, s:I}", "id", str_field(op, "id", ""), "key",
                      json_object_get(op, "idempotency_key"), "title", str_field(op, "title", ""), "content",
                      str_field(op, "content", ""), "author", str_field(op, "author", ""), "lang",
                      str_field(op, "lang", ""), "submitted_at", str_field(op, "submitted_at", ""), "now",
                      (json_int_t)tx->items[i].now_ms);
        batch_add(&b, row);
    }
    json_t *inserted = json_object();
    int rc = batch_query(
        db, conn,
        "INSERT INTO posts(id, idempotency_key, title, content, author, lang, submitted_at, state,"
        " reserved_ms) SELECT value->>'id', value->>'key', value->>'title', value->>'content',"
        " value->>'author', value->>'lang', value->>'submitted_at', 'pending',"
        " CAST(value->>'now' AS BIGINT) FROM json_each($1) WHERE true ON CONFLICT DO NOTHING"
        " RETURNING id",
        &b, NULL, row_id_set, inserted, errstr, errstr_size);
    batch_free(&b);
    for (size_t i = 0; rc == SA_DB_Q_OK && i < tx->n; i++) {
        sa_db_reserve_t *it = &tx->items[i];
        const char *id = str_field(it->op, "id", "");
        if (json_object_get(inserted, id)) {
            it->rc = SA_DB_RES_NEW;
            continue;
        }
        /* rare: the key is taken (by an earlier post or one of this batch) */
        it->rc = SA_DB_RES_EXISTS;
        const char *key = json_string_value(json_object_get(it->op, "idempotency_key"));
        if (!key) {
            snprintf(errstr, errstr_size, "post id %s exists already", id);
            rc = SA_DB_Q_ERR;
            break;
        }
        sa_db_val_t k[] = {DV_TEXT(key)};
        rc = db->be->query(conn, "SELECT " POST_COLS " FROM posts WHERE idempotency_key = $1", k, 1,
                           row_key_owner, it, NULL, errstr, errstr_size);
        if (rc == SA_DB_Q_OK && !it->post) rc = SA_DB_Q_RETRY; /* its owner released it meanwhile: again */
    }
    json_decref(inserted);
    return rc;
}

static int outbox_body(sa_db_t *db, sa_db_conn_t *conn, void *arg, char *errstr, size_t errstr_size) {
    outbox_tx_t *tx = arg;
    for (size_t i = 0; i < tx->n; i++) {
        sa_db_reserve_t *it = &tx->items[i];
        json_decref(it->post);
        it->post = NULL;
        it->pending = 0;
        it->id[0] = '\0';
    }
    int rc = apply_outcomes(db, conn, tx, errstr, errstr_size);
    if (rc == SA_DB_Q_OK && tx->n) rc = reserve(db, conn, tx, errstr, errstr_size);
    return rc;
}

int sa_db_outbox_write(sa_db_t *db, const sa_db_outbox_t *outcomes, size_t n_outcomes, sa_db_reserve_t *items,
                       size_t n_items, char *errstr, size_t errstr_size) {
    outbox_tx_t tx = {outcomes, n_outcomes, items, n_items};
    if (!n_outcomes && !n_items) return 0;
    int rc = sa_db_tx(db, outbox_body, &tx, SA_DB_TX_LAZY, errstr, errstr_size);
    if (rc)
        for (size_t i = 0; i < n_items; i++) {
            json_decref(items[i].post);
            items[i].post = NULL;
        }
    return rc;
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

/* Row callback of a batch lookup: id, result, flags -> @p opaque {id: [result, flags]}. */
static int row_stored_map(void *opaque, int ncols, const char *const *c) {
    if (ncols >= 3 && c[0])
        json_object_set_new(opaque, c[0], json_pack("[s?, i]", c[1], c[2] ? atoi(c[2]) : 0));
    return 0;
}

/* Look up the verdicts of the posts @p ids (a batch of {"id"}) in one statement.
 * @returns SA_DB_Q_* with *@p found a new {id: [result or null, flags]} of the posts there. */
static int find_stored_batch(sa_db_t *db, sa_db_conn_t *conn, const batch_t *ids, json_t **found,
                             char *errstr, size_t errstr_size) {
    *found = json_object();
    return batch_query(
        db, conn, "SELECT id, result, flags FROM posts WHERE id IN (SELECT value->>'id' FROM json_each($1))",
        ids, NULL, row_stored_map, *found, errstr, errstr_size);
}

/* Set @p it's outputs from a find_stored_batch entry (NULL: no such post). */
static void take_stored(sa_db_verdict_t *it, const json_t *entry) {
    free(it->stored);
    const char *line = json_string_value(json_array_get(entry, 0));
    it->stored = line ? sa_strdup(line) : NULL;
    it->flags = (int)json_integer_value(json_array_get(entry, 1));
}

int sa_db_verdicts_find(sa_db_t *db, sa_db_verdict_t *items, size_t n, char *errstr, size_t errstr_size) {
    if (!n) return 0;
    batch_t b;
    batch_init(&b);
    for (size_t i = 0; i < n; i++) batch_add(&b, json_pack("{s:s}", "id", items[i].id));
    sa_db_conn_t *conn = sa_db_conn_get(db, errstr, errstr_size);
    json_t *found = NULL;
    int rc = conn ? find_stored_batch(db, conn, &b, &found, errstr, errstr_size) : SA_DB_Q_ERR;
    sa_db_conn_put(db, conn, 0);
    for (size_t i = 0; i < n; i++) take_stored(&items[i], rc ? NULL : json_object_get(found, items[i].id));
    json_decref(found);
    batch_free(&b);
    return rc ? -1 : 0;
}

/* The columns a verdict sets, as a batch row: from the result line (which also carries the
 * post's fields, and "source", the record it was made from). @returns new. */
static json_t *verdict_row(const char *id, const json_t *result, const char *line, int64_t now_ms,
                           int flags) {
    json_t *source = json_object_get(result, "source");
    json_t *score = json_object_get(result, "score");
    json_t *m = json_object_get(result, "metrics");
    char *reasons = json_dumps(json_object_get(result, "reasons"), JSON_COMPACT | JSON_ENCODE_ANY);
    char *metrics = m ? json_dumps(m, JSON_COMPACT | JSON_ENCODE_ANY | JSON_REAL_PRECISION(10)) : NULL;
    json_t *row = json_pack(
        "{s:s, s:s, s:o, s:s?, s:s?, s:s?, s:s?, s:s, s:I, s:i, s:s?, s:o}", "id", id, "status",
        str_field(result, "status", "review"), "score",
        json_is_number(score) ? json_integer((json_int_t)json_number_value(score)) : json_null(), "reasons",
        reasons, "metrics", metrics, "processed_at",
        json_string_value(json_object_get(result, "processed_at")), "worker",
        json_string_value(json_object_get(result, "worker")), "line", line, "now", (json_int_t)now_ms,
        "flags", flags, "src_topic", json_string_value(json_object_get(source, "topic")), "src_part",
        json_is_integer(json_object_get(source, "partition"))
            ? json_incref(json_object_get(source, "partition"))
            : json_null());
    free(reasons);
    free(metrics);
    return row;
}

/*
 * A post the store does not have at all (a record from another producer, or an old data dir):
 * created from the result line, which carries the post's fields; its key, if another post holds
 * it already, is left out rather than refusing the post (every record on the topic gets its
 * verdict). @p row is verdict_row's. *won: 1 if inserted; else @p s says what is there.
 */
static int insert_verdict_post(sa_db_t *db, sa_db_conn_t *conn, const json_t *row, const json_t *result,
                               int *won, stored_t *s, char *errstr, size_t errstr_size) {
    const json_t *score = json_object_get(row, "score");
    const json_t *part = json_object_get(row, "src_part");
    sa_db_val_t v[] = {DV_TEXT(str_field(row, "id", "")),
                       DV_TEXT(str_field(row, "status", "review")),
                       json_is_integer(score) ? DV_INT(json_integer_value(score)) : DV_NULL,
                       DV_TEXT(json_string_value(json_object_get(row, "reasons"))),
                       DV_TEXT(json_string_value(json_object_get(row, "metrics"))),
                       DV_TEXT(json_string_value(json_object_get(row, "processed_at"))),
                       DV_TEXT(json_string_value(json_object_get(row, "worker"))),
                       DV_TEXT(json_string_value(json_object_get(row, "line"))),
                       DV_INT(json_integer_value(json_object_get(row, "now"))),
                       DV_INT(json_integer_value(json_object_get(row, "flags"))),
                       DV_TEXT(json_string_value(json_object_get(result, "idempotency_key"))),
                       DV_TEXT(str_field(result, "title", "")),
                       DV_TEXT(str_field(result, "content", "")),
                       DV_TEXT(str_field(result, "author", "")),
                       DV_TEXT(str_field(result, "lang", "")),
                       DV_TEXT(str_field(result, "submitted_at", "")),
                       DV_TEXT(json_string_value(json_object_get(row, "src_topic"))),
                       json_is_integer(part) ? DV_INT(json_integer_value(part)) : DV_NULL};
    *won = 0;
    memset(s, 0, sizeof(*s));
    int rc = SA_DB_Q_OK;
    for (int with_key = 1; with_key >= 0; with_key--) {
        if (!with_key) v[10] = DV_NULL;
        int64_t changes = 0;
        rc = db->be->query(
            conn,
            "INSERT INTO posts(id, state, score, reasons, metrics, processed_at, worker, result,"
            " processed_ms, flags, idempotency_key, title, content, author, lang, submitted_at,"
            " reserved_ms, src_topic, src_part) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10,"
            " $11, $12, $13, $14, $15, $16, $9, $17, $18) ON CONFLICT DO NOTHING",
            v, (int)SA_ARRAY_LEN(v), NULL, NULL, &changes, errstr, errstr_size);
        if (rc) break;
        if (changes == 1) {
            *won = 1;
            break;
        }
        rc = find_stored(db, conn, str_field(row, "id", ""), s, errstr, errstr_size);
        if (rc || s->found) break; /* the post is there (another verdict was first, or none yet) */
        if (!v[10].s) break;       /* nothing conflicted that a retry could avoid */
    }
    return rc;
}

/*
 * Store each item's verdict (with @p flags) unless its post has one; first wins. Three
 * statements for the batch: an UPDATE of the posts without a verdict, a lookup of the rest, and
 * an INSERT for each post the store does not have. Of several items of one post, the first is
 * the one offered. Outputs: won, stored, flags.
 */
static int store_verdicts(sa_db_t *db, sa_db_conn_t *conn, sa_db_verdict_t *items, size_t n, int flags,
                          char *errstr, size_t errstr_size) {
    batch_t b;
    batch_init(&b);
    json_t *first = json_object(); /* id -> index of its first item */
    json_t *rows = json_array();   /* verdict_row of each first item, in b's order */
    for (size_t i = 0; i < n; i++) {
        sa_db_verdict_t *it = &items[i];
        free(it->stored);
        it->stored = NULL;
        it->won = 0;
        it->flags = 0;
        if (!it->result || json_object_get(first, it->id)) continue;
        json_object_set_new(first, it->id, json_integer((json_int_t)i));
        json_t *row = verdict_row(it->id, it->result, it->line, it->now_ms, flags);
        json_array_append(rows, row);
        batch_add(&b, row);
    }
    json_t *updated = json_object(), *found = NULL;
    int rc = SA_DB_Q_OK;
    if (b.n)
        rc = batch_query(
            db, conn,
            "UPDATE posts SET state = v.value->>'status', score = CAST(v.value->>'score' AS INTEGER),"
            " reasons = v.value->>'reasons', metrics = v.value->>'metrics', processed_at ="
            " v.value->>'processed_at', worker = v.value->>'worker', result = v.value->>'line',"
            " processed_ms = CAST(v.value->>'now' AS BIGINT), flags = CAST(v.value->>'flags' AS"
            " INTEGER), src_topic = v.value->>'src_topic', src_part = CAST(v.value->>'src_part' AS"
            " INTEGER) FROM json_each($1) AS v WHERE posts.id = v.value->>'id' AND posts.result IS"
            " NULL RETURNING posts.id",
            &b, NULL, row_id_set, updated, errstr, errstr_size);
    if (rc == SA_DB_Q_OK && (size_t)json_object_size(updated) < b.n) {
        batch_t rest;
        batch_init(&rest);
        size_t k;
        json_t *row;
        json_array_foreach(rows, k, row) {
            const char *id = str_field(row, "id", "");
            if (!json_object_get(updated, id)) batch_add(&rest, json_pack("{s:s}", "id", id));
        }
        rc = find_stored_batch(db, conn, &rest, &found, errstr, errstr_size);
        batch_free(&rest);
        json_array_foreach(rows, k, row) {
            if (rc) break;
            const char *id = str_field(row, "id", "");
            if (json_object_get(updated, id) || json_object_get(found, id)) continue;
            size_t i = (size_t)json_integer_value(json_object_get(first, id));
            int won;
            stored_t s;
            rc = insert_verdict_post(db, conn, row, items[i].result, &won, &s, errstr, errstr_size);
            if (rc == SA_DB_Q_OK && won)
                json_object_set_new(updated, id, json_true());
            else if (rc == SA_DB_Q_OK && s.found)
                json_object_set_new(found, id, json_pack("[s?, i]", s.line, s.flags));
            free(s.line);
        }
    }
    for (size_t i = 0; rc == SA_DB_Q_OK && i < n; i++) {
        sa_db_verdict_t *it = &items[i];
        if (!it->result) continue;
        size_t j = (size_t)json_integer_value(json_object_get(first, it->id));
        if (j == i && json_object_get(updated, it->id)) {
            it->won = 1;
            it->flags = flags;
        } else if (j != i && json_object_get(updated, it->id)) { /* a later item of a post stored now */
            it->stored = sa_strdup(items[j].line);
            it->flags = flags;
        } else {
            take_stored(it, json_object_get(found, it->id));
        }
    }
    json_decref(updated);
    json_decref(found);
    json_decref(rows);
    json_decref(first);
    batch_free(&b);
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
    int rc = store_verdicts(db, conn, tx->items, tx->n, 0, errstr, errstr_size);
    if (rc || !tx->n_offsets) return rc;
    batch_t b;
    batch_init(&b);
    for (size_t i = 0; i < tx->n_offsets; i++) {
        const sa_db_offset_t *o = &tx->offsets[i];
        batch_add(&b, json_pack("{s:s, s:i, s:I}", "topic", o->topic, "part", (int)o->partition, "next",
                                (json_int_t)o->next));
    }
    sa_db_val_t group = DV_TEXT(tx->group);
    rc = batch_query(
        db, conn,
        "INSERT INTO consumer_offsets(grp, topic, part, next_offset) SELECT $2, value->>'topic',"
        " CAST(value->>'part' AS INTEGER), CAST(value->>'next' AS BIGINT) FROM json_each($1) WHERE"
        " true ON CONFLICT(grp, topic, part) DO UPDATE SET next_offset = CASE WHEN"
        " excluded.next_offset > consumer_offsets.next_offset THEN excluded.next_offset"
        " ELSE consumer_offsets.next_offset END",
        &b, &group, NULL, NULL, errstr, errstr_size);
    batch_free(&b);
    return rc;
}

int sa_db_verdicts_commit(sa_db_t *db, const char *group, sa_db_verdict_t *items, size_t n,
                          const sa_db_offset_t *offsets, size_t n_offsets, char *errstr, size_t errstr_size) {
    commit_tx_t tx = {group, items, n, offsets, n_offsets};
    return sa_db_tx(db, commit_body, &tx, SA_DB_TX_DURABLE, errstr, errstr_size);
}

typedef struct mark_tx_s {
    const char *const *ids;
    size_t n;
    int flags;
} mark_tx_t;

static int mark_body(sa_db_t *db, sa_db_conn_t *conn, void *arg, char *errstr, size_t errstr_size) {
    mark_tx_t *tx = arg;
    batch_t b;
    batch_init(&b);
    for (size_t i = 0; i < tx->n; i++) batch_add(&b, json_pack("{s:s}", "id", tx->ids[i]));
    sa_db_val_t flags = DV_INT(tx->flags);
    int rc = batch_query(db, conn,
                         "UPDATE posts SET flags = flags | CAST($2 AS INTEGER) WHERE id IN"
                         " (SELECT value->>'id' FROM json_each($1))",
                         &b, &flags, NULL, NULL, errstr, errstr_size);
    batch_free(&b);
    return rc;
}

int sa_db_mark(sa_db_t *db, const char *const *ids, size_t n, int flags, char *errstr, size_t errstr_size) {
    if (!n) return 0;
    mark_tx_t tx = {ids, n, flags};
    return sa_db_tx(db, mark_body, &tx, SA_DB_TX_LAZY, errstr, errstr_size);
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

json_t *sa_db_unfinished(sa_db_t *db, const sa_db_part_t *owned, size_t n_owned, int64_t older_than_ms,
                         int max, char *errstr, size_t errstr_size) {
    batch_t b;
    batch_init(&b);
    for (size_t i = 0; i < n_owned; i++)
        batch_add(&b, json_pack("{s:s, s:i}", "topic", owned[i].topic, "part", (int)owned[i].partition));
    char *parts = batch_text(&b);
    batch_free(&b);
    json_t *rows = json_array();
    sa_db_val_t p[] = {DV_TEXT(parts), DV_INT(older_than_ms), DV_INT(max)};
    /* the partial index posts_unfinished holds just these rows: a scan of it is cheap */
    int rc = sa_db_query1(db,
                          "SELECT id, result, flags FROM posts WHERE result IS NOT NULL AND flags <> 3 AND"
                          " (processed_ms < $2 OR EXISTS (SELECT 1 FROM json_each($1) o WHERE"
                          " o.value->>'topic' = posts.src_topic AND CAST(o.value->>'part' AS INTEGER) ="
                          " posts.src_part)) ORDER BY processed_ms LIMIT CAST($3 AS BIGINT)",
                          p, 3, row_unfinished, rows, NULL, errstr, errstr_size);
    free(parts);
    if (rc) {
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
    if (tx->is_result) {
        sa_db_verdict_t *v = sa_calloc(tx->n ? tx->n : 1, sizeof(*v));
        char **lines = sa_calloc(tx->n ? tx->n : 1, sizeof(*lines));
        size_t nv = 0;
        for (size_t i = 0; i < tx->n; i++) {
            const char *id = json_string_value(json_object_get(tx->recs[i], "id"));
            if (!id || !*id) continue;
            lines[nv] = json_dumps(tx->recs[i], JSON_COMPACT | JSON_REAL_PRECISION(10));
            v[nv] = (sa_db_verdict_t){.id = id, .result = tx->recs[i], .line = lines[nv], .now_ms = 0};
            nv++;
        }
        int rc = store_verdicts(db, conn, v, nv, tx->flags, errstr, errstr_size);
        for (size_t i = 0; i < nv; i++) {
            free(v[i].stored);
            free(lines[i]);
        }
        free(v);
        free(lines);
        return rc;
    }
    for (size_t i = 0; i < tx->n; i++) {
        const json_t *r = tx->recs[i];
        const char *id = json_string_value(json_object_get(r, "id"));
        if (!id || !*id) continue;
        const char *key = json_string_value(json_object_get(r, "idempotency_key"));
        int64_t changes = 0;
        int rc = SA_DB_Q_OK;
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
        if (rc) return rc;
    }
    return SA_DB_Q_OK;
}

int sa_db_import(sa_db_t *db, json_t *const *recs, size_t n, int is_result, int flags, char *errstr,
                 size_t errstr_size) {
    import_tx_t tx = {recs, n, is_result, flags};
    return sa_db_tx(db, import_body, &tx, SA_DB_TX_LAZY, errstr, errstr_size);
}
