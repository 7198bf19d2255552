/*
 * db_posts.c - the store's operations on posts, verdicts and offsets (see db.h), in SQL that
 * SQLite and PostgreSQL both run (db_int.h). Each write is one transaction through sa_db_tx, so
 * a transient conflict (busy, deadlock) runs it again from the start: the bodies below reset
 * their outputs first.
 *
 * The hot writes are multi-row statements (sa_db_multi, db_int.h "Batches"): the web's outbox
 * round is a few statements and the worker's batch commit a few more (plus one per post the
 * store did not have at all), whatever the number of posts. Per-row statements cost a round trip
 * each with PostgreSQL, and with SQLite each INSERT statement made FTS5 write its pending index
 * as a segment of its own (a statement savepoint flushes it): 63 us per post at 5 posts per
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

/* Row callback: column 0 (an id) becomes a key of the json object @p opaque (a set). */
static int row_id_set(void *opaque, int ncols, const char *const *cols) {
    if (ncols >= 1 && cols[0]) json_object_set_new(opaque, cols[0], json_true());
    return 0;
}

/* ---- acknowledged, not yet marked ------------------------------------------------------------ */

void sa_db_acked(sa_db_t *db, const char *id) {
    pthread_mutex_lock(&db->lock);
    if (db->n_acked == db->cap_acked) {
        db->cap_acked = db->cap_acked ? 2 * db->cap_acked : 64;
        db->acked = sa_realloc(db->acked, db->cap_acked * sizeof(*db->acked));
    }
    snprintf(db->acked[db->n_acked++], SA_ULID_LEN + 1, "%s", id);
    pthread_mutex_unlock(&db->lock);
}

/* @returns whether post @p id was acknowledged by the broker and its queued mark is not yet
 * committed. */
static int acked_has(sa_db_t *db, const char *id) {
    pthread_mutex_lock(&db->lock);
    int found = 0;
    for (size_t k = 0; k < db->n_acked && !found; k++) found = !strcmp(db->acked[k], id);
    pthread_mutex_unlock(&db->lock);
    return found;
}

/* Forget the outcomes' posts (their marks were written, or failed: the sweep takes them then). */
static void acked_forget(sa_db_t *db, const sa_db_outbox_t *outcomes, size_t n) {
    pthread_mutex_lock(&db->lock);
    for (size_t i = 0; i < n && db->n_acked; i++)
        for (size_t k = 0; k < db->n_acked; k++)
            if (!strcmp(db->acked[k], outcomes[i].id)) {
                memcpy(db->acked[k], db->acked[--db->n_acked], SA_ULID_LEN + 1);
                break;
            }
    pthread_mutex_unlock(&db->lock);
}

static int cmp_post_desc(const void *a, const void *b) {
    return strcmp(json_string_value(json_object_get(*(json_t *const *)b, "id")),
                  json_string_value(json_object_get(*(json_t *const *)a, "id")));
}

/* Merge into the feed page @p posts (newest first, older than @p before) the posts acknowledged
 * here whose marks have not committed yet and that belong on it. */
static void merge_acked(sa_db_t *db, json_t *posts, const char *before, int limit) {
    size_t have = json_array_size(posts);
    const char *oldest = have >= (size_t)limit
                             ? json_string_value(json_object_get(json_array_get(posts, have - 1), "id"))
                             : NULL;
    char(*ids)[SA_ULID_LEN + 1] = NULL;
    size_t n = 0;
    pthread_mutex_lock(&db->lock);
    if (db->n_acked) ids = sa_malloc(db->n_acked * sizeof(*ids));
    for (size_t k = 0; k < db->n_acked; k++)
        if ((!before || strcmp(db->acked[k], before) < 0) && (!oldest || strcmp(db->acked[k], oldest) > 0))
            memcpy(ids[n++], db->acked[k], SA_ULID_LEN + 1);
    pthread_mutex_unlock(&db->lock);
    int added = 0;
    for (size_t k = 0; k < n; k++) {
        int dup = 0;
        for (size_t i = 0; i < json_array_size(posts) && !dup; i++)
            dup = !strcmp(json_string_value(json_object_get(json_array_get(posts, i), "id")), ids[k]);
        json_t *post = NULL;
        char errstr[64];
        if (!dup && sa_db_post_get(db, ids[k], &post, errstr, sizeof(errstr)) > 0) {
            json_array_append_new(posts, post);
            added = 1;
        }
    }
    free(ids);
    if (!added) return;
    size_t total = json_array_size(posts);
    json_t **v = sa_malloc(total * sizeof(*v));
    for (size_t i = 0; i < total; i++) v[i] = json_incref(json_array_get(posts, i));
    qsort(v, total, sizeof(*v), cmp_post_desc);
    json_array_clear(posts);
    for (size_t i = 0; i < total; i++)
        if (i < (size_t)limit)
            json_array_append_new(posts, v[i]);
        else
            json_decref(v[i]);
    free(v);
}

/* ---- row locks ------------------------------------------------------------------------------- */

/* PostgreSQL locks the rows a statement updates in whatever order its plan meets them: two
 * transactions updating the same posts in different orders - the web's queued marks and the
 * worker's verdicts come a moment apart - deadlocked, and PostgreSQL breaks a deadlock only
 * after deadlock_timeout (1 s: p99.9 of 1,030 ms). So with row locks, every multi-row update of
 * posts first locks its rows in id order (and reservations insert in key order), a global
 * order in which no cycle can form. */
static sa_db_multi_t lock_posts_in_order = {
    "SELECT id FROM posts WHERE id IN (", "?", ") ORDER BY id FOR UPDATE", {0}};

static int cmp_text_val(const void *a, const void *b) {
    const char *x = ((const sa_db_val_t *)a)->s, *y = ((const sa_db_val_t *)b)->s;
    return x && y ? strcmp(x, y) : !x - !y; /* NULLs last */
}

/* Rows of a reservation (id, key, ...) by key: two servers inserting the same keys wait for each
 * other's insert of a key, so they must meet the keys in one order too. */
static int cmp_row_key(const void *a, const void *b) {
    return cmp_text_val((const sa_db_val_t *)a + 1, (const sa_db_val_t *)b + 1);
}

/* Lock the posts whose ids are @p rows[i * stride] (i < n), in id order, if the backend needs it. */
static int lock_posts(sa_db_t *db, sa_db_conn_t *conn, const sa_db_val_t *rows, size_t n, size_t stride,
                      char *errstr, size_t errstr_size) {
    if (!db->be->row_locks || !n) return SA_DB_Q_OK;
    sa_db_val_t *ids = sa_calloc(n, sizeof(*ids));
    for (size_t i = 0; i < n; i++) ids[i] = rows[i * stride];
    qsort(ids, n, sizeof(*ids), cmp_text_val);
    int rc = sa_db_multi(db, conn, &lock_posts_in_order, ids, n, NULL, NULL, NULL, errstr, errstr_size);
    free(ids);
    return rc;
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

/* queued never overwrites a verdict; a release leaves a row a sweeper took (it will be produced
 * again, so the key must stay with it) */
static sa_db_multi_t mark_queued = {
    "UPDATE posts SET state = 'queued' WHERE state = 'pending' AND id IN (", "?", ")", {0}};
static sa_db_multi_t release = {
    "DELETE FROM posts WHERE state = 'pending' AND lease_ms = 0 AND id IN (", "?", ")", {0}};
static sa_db_multi_t insert_pending = {
    "INSERT INTO posts(id, idempotency_key, title, content, author, lang, submitted_at, state, reserved_ms)"
    " VALUES ",
    "(?, ?, ?, ?, ?, ?, ?, 'pending', ?)",
    " ON CONFLICT DO NOTHING RETURNING id",
    {0}};

static int apply_outcomes(sa_db_t *db, sa_db_conn_t *conn, const outbox_tx_t *tx, char *errstr,
                          size_t errstr_size) {
    sa_db_val_t *ids = sa_calloc(tx->n_outcomes ? tx->n_outcomes : 1, sizeof(*ids));
    int rc = SA_DB_Q_OK;
    for (int action = SA_DB_OUT_QUEUED; action <= SA_DB_OUT_RELEASE && rc == SA_DB_Q_OK; action++) {
        size_t n = 0;
        for (size_t i = 0; i < tx->n_outcomes; i++)
            if (tx->outcomes[i].action == action) ids[n++] = DV_TEXT(tx->outcomes[i].id);
        rc = lock_posts(db, conn, ids, n, 1, errstr, errstr_size);
        if (rc == SA_DB_Q_OK)
            rc = sa_db_multi(db, conn, action == SA_DB_OUT_QUEUED ? &mark_queued : &release, ids, n, NULL,
                             NULL, NULL, errstr, errstr_size);
    }
    free(ids);
    return rc;
}

static int reserve(sa_db_t *db, sa_db_conn_t *conn, outbox_tx_t *tx, char *errstr, size_t errstr_size) {
    enum { NCOLS = 8 };
    sa_db_val_t *v = sa_calloc(tx->n * NCOLS, sizeof(*v));
    for (size_t i = 0; i < tx->n; i++) {
        const json_t *op = tx->items[i].op;
        sa_db_val_t row[NCOLS] = {DV_TEXT(str_field(op, "id", "")),
                                  DV_TEXT(json_string_value(json_object_get(op, "idempotency_key"))),
                                  DV_TEXT(str_field(op, "title", "")),
                                  DV_TEXT(str_field(op, "content", "")),
                                  DV_TEXT(str_field(op, "author", "")),
                                  DV_TEXT(str_field(op, "lang", "")),
                                  DV_TEXT(str_field(op, "submitted_at", "")),
                                  DV_INT(tx->items[i].now_ms)};
        memcpy(v + i * NCOLS, row, sizeof(row));
    }
    if (db->be->row_locks) qsort(v, tx->n, NCOLS * sizeof(*v), cmp_row_key); /* see lock_posts */
    json_t *inserted = json_object();
    int rc =
        sa_db_multi(db, conn, &insert_pending, v, tx->n, row_id_set, inserted, NULL, errstr, errstr_size);
    free(v);
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
    int rc = sa_db_tx(db, outbox_body, &tx, errstr, errstr_size);
    acked_forget(db, outcomes, n_outcomes);
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
    if (sa_db_query1(db, "SELECT " POST_COLS " FROM posts WHERE id = $1", p, 1, row_post, out, NULL, errstr,
                     errstr_size))
        return -1;
    return *out != NULL;
}

int sa_db_post_by_key(sa_db_t *db, const char *key, char id[SA_ULID_LEN + 1], int *pending, json_t **post,
                      char *errstr, size_t errstr_size) {
    sa_db_reserve_t it = {0};
    if (post) *post = NULL;
    sa_db_val_t p[] = {DV_TEXT(key)};
    /* A pending row whose post this process saw acknowledged is not pending any more: its request
     * was answered (202) before its queued mark commits, and a retry must get 200, not 409. The
     * overlay forgets the id only after the mark commits, so a pending row whose id is not in the
     * overlay either is pending or was marked after this read: a second read tells which. */
    for (int attempt = 0; attempt < 2; attempt++) {
        json_decref(it.post);
        it = (sa_db_reserve_t){0};
        if (sa_db_query1(db, "SELECT " POST_COLS " FROM posts WHERE idempotency_key = $1", p, 1,
                         row_key_owner, &it, NULL, errstr, errstr_size)) {
            json_decref(it.post);
            return -1;
        }
        if (!it.post) return 0;
        if (it.pending && acked_has(db, it.id)) it.pending = 0;
        if (!it.pending) break;
    }
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
    if (!(q && *q)) merge_acked(db, posts, before, limit);
    return posts;
}

static int catch_up_body(sa_db_t *db, sa_db_conn_t *conn, void *arg, char *errstr, size_t errstr_size) {
    (void)arg;
    return db->be->exec(conn, db->be->search_catch_up_sql, errstr, errstr_size);
}

int sa_db_search_catch_up(sa_db_t *db, char *errstr, size_t errstr_size) {
    if (!db->be->search_catch_up_sql) return 0;
    return sa_db_tx(db, catch_up_body, NULL, errstr, errstr_size);
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

static sa_db_multi_t select_stored = {"SELECT id, result, flags FROM posts WHERE id IN (", "?", ")", {0}};

/* Look up the verdicts of the posts @p ids. @returns SA_DB_Q_* with *@p found a new
 * {id: [result or null, flags]} of the posts there. */
static int find_stored_batch(sa_db_t *db, sa_db_conn_t *conn, const sa_db_val_t *ids, size_t n,
                             json_t **found, char *errstr, size_t errstr_size) {
    *found = json_object();
    return sa_db_multi(db, conn, &select_stored, ids, n, row_stored_map, *found, NULL, errstr, errstr_size);
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
    sa_db_val_t *ids = sa_calloc(n, sizeof(*ids));
    for (size_t i = 0; i < n; i++) ids[i] = DV_TEXT(items[i].id);
    sa_db_conn_t *conn = sa_db_conn_get(db, errstr, errstr_size);
    json_t *found = NULL;
    int rc = conn ? find_stored_batch(db, conn, ids, n, &found, errstr, errstr_size) : SA_DB_Q_ERR;
    sa_db_conn_put(db, conn, 0);
    for (size_t i = 0; i < n; i++) take_stored(&items[i], rc ? NULL : json_object_get(found, items[i].id));
    json_decref(found);
    free(ids);
    return rc ? -1 : 0;
}

/* The columns a verdict sets (VCOLS values, in update_verdicts' order), from the result line,
 * which also carries "source", the record it was made from. */
enum { VCOLS = 12 };
typedef struct verdict_vals_s {
    sa_db_val_t v[VCOLS];
    char *reasons, *metrics; /* owned: what v[3], v[4] point to */
} verdict_vals_t;

static void verdict_vals(verdict_vals_t *out, const char *id, const json_t *result, const char *line,
                         int64_t now_ms, int flags) {
    const json_t *source = json_object_get(result, "source");
    const json_t *score = json_object_get(result, "score");
    const json_t *part = json_object_get(source, "partition");
    json_t *m = json_object_get(result, "metrics");
    out->reasons = json_dumps(json_object_get(result, "reasons"), JSON_COMPACT | JSON_ENCODE_ANY);
    out->metrics = m ? json_dumps(m, JSON_COMPACT | JSON_ENCODE_ANY | JSON_REAL_PRECISION(10)) : NULL;
    sa_db_val_t v[VCOLS] = {DV_TEXT(id),
                            DV_TEXT(str_field(result, "status", "review")),
                            json_is_number(score) ? DV_INT((int64_t)json_number_value(score)) : DV_NULL,
                            DV_TEXT(out->reasons),
                            DV_TEXT(out->metrics),
                            DV_TEXT(json_string_value(json_object_get(result, "processed_at"))),
                            DV_TEXT(json_string_value(json_object_get(result, "worker"))),
                            DV_TEXT(line),
                            DV_INT(now_ms),
                            DV_INT(flags),
                            DV_TEXT(json_string_value(json_object_get(source, "topic"))),
                            json_is_integer(part) ? DV_INT(json_integer_value(part)) : DV_NULL};
    memcpy(out->v, v, sizeof(v));
}

static void verdict_vals_free(verdict_vals_t *vals) {
    free(vals->reasons);
    free(vals->metrics);
}

/*
 * A post the store does not have at all (a record from another producer, or an old data dir):
 * created from the result line, which carries the post's fields; its key, if another post holds
 * it already, is left out rather than refusing the post (every record on the topic gets its
 * verdict). *won: 1 if inserted; else @p s says what is there.
 */
static int insert_verdict_post(sa_db_t *db, sa_db_conn_t *conn, const verdict_vals_t *vals,
                               const json_t *result, int *won, stored_t *s, char *errstr,
                               size_t errstr_size) {
    const sa_db_val_t *c = vals->v;
    sa_db_val_t v[] = {c[0],
                       c[1],
                       c[2],
                       c[3],
                       c[4],
                       c[5],
                       c[6],
                       c[7],
                       c[8],
                       c[9],
                       DV_TEXT(json_string_value(json_object_get(result, "idempotency_key"))),
                       DV_TEXT(str_field(result, "title", "")),
                       DV_TEXT(str_field(result, "content", "")),
                       DV_TEXT(str_field(result, "author", "")),
                       DV_TEXT(str_field(result, "lang", "")),
                       DV_TEXT(str_field(result, "submitted_at", "")),
                       c[10],
                       c[11]};
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
        rc = find_stored(db, conn, c[0].s, s, errstr, errstr_size);
        if (rc || s->found) break; /* the post is there (another verdict was first, or none yet) */
        if (!v[10].s) break;       /* nothing conflicted that a retry could avoid */
    }
    return rc;
}

/* The verdict of each row, onto the posts that have none yet. PostgreSQL types the VALUES
 * columns from the casts (a bare parameter there would be text). */
static sa_db_multi_t update_verdicts = {
    "UPDATE posts SET state = v.column2, score = v.column3, reasons = v.column4, metrics = v.column5,"
    " processed_at = v.column6, worker = v.column7, result = v.column8, processed_ms = v.column9, flags ="
    " v.column10, src_topic = v.column11, src_part = v.column12 FROM (VALUES ",
    "(CAST(? AS TEXT), CAST(? AS TEXT), CAST(? AS INTEGER), CAST(? AS TEXT), CAST(? AS TEXT), CAST(? AS "
    "TEXT),"
    " CAST(? AS TEXT), CAST(? AS TEXT), CAST(? AS BIGINT), CAST(? AS INTEGER), CAST(? AS TEXT), CAST(? AS"
    " INTEGER))",
    ") AS v WHERE posts.id = v.column1 AND posts.result IS NULL RETURNING posts.id",
    {0}};

/*
 * Store each item's verdict (with @p flags) unless its post has one; first wins. A few
 * statements for the batch: an UPDATE of the posts without a verdict, a lookup of the rest, and
 * an INSERT for each post the store does not have. Of several items of one post, the first is
 * the one offered. Outputs: won, stored, flags.
 */
static int store_verdicts(sa_db_t *db, sa_db_conn_t *conn, sa_db_verdict_t *items, size_t n, int flags,
                          char *errstr, size_t errstr_size) {
    json_t *first = json_object(); /* id -> index of its first item */
    verdict_vals_t *vals = sa_calloc(n ? n : 1, sizeof(*vals));
    size_t *of = sa_calloc(n ? n : 1, sizeof(*of)); /* vals[k] is items[of[k]]'s */
    sa_db_val_t *rows = sa_calloc(n ? n * VCOLS : 1, sizeof(*rows));
    size_t nv = 0;
    for (size_t i = 0; i < n; i++) {
        sa_db_verdict_t *it = &items[i];
        free(it->stored);
        it->stored = NULL;
        it->won = 0;
        it->flags = 0;
        if (!it->result || json_object_get(first, it->id)) continue;
        json_object_set_new(first, it->id, json_integer((json_int_t)i));
        verdict_vals(&vals[nv], it->id, it->result, it->line, it->now_ms, flags);
        memcpy(rows + nv * VCOLS, vals[nv].v, sizeof(vals[nv].v));
        of[nv++] = i;
    }
    json_t *updated = json_object(), *found = NULL;
    int rc = lock_posts(db, conn, rows, nv, VCOLS, errstr, errstr_size);
    if (rc == SA_DB_Q_OK)
        rc =
            sa_db_multi(db, conn, &update_verdicts, rows, nv, row_id_set, updated, NULL, errstr, errstr_size);
    if (rc == SA_DB_Q_OK && (size_t)json_object_size(updated) < nv) {
        sa_db_val_t *rest = sa_calloc(nv, sizeof(*rest));
        size_t nr = 0;
        for (size_t k = 0; k < nv; k++)
            if (!json_object_get(updated, vals[k].v[0].s)) rest[nr++] = vals[k].v[0];
        rc = find_stored_batch(db, conn, rest, nr, &found, errstr, errstr_size);
        free(rest);
        for (size_t k = 0; rc == SA_DB_Q_OK && k < nv; k++) {
            const char *id = vals[k].v[0].s;
            if (json_object_get(updated, id) || json_object_get(found, id)) continue;
            int won;
            stored_t st;
            rc = insert_verdict_post(db, conn, &vals[k], items[of[k]].result, &won, &st, errstr, errstr_size);
            if (rc == SA_DB_Q_OK && won)
                json_object_set_new(updated, id, json_true());
            else if (rc == SA_DB_Q_OK && st.found)
                json_object_set_new(found, id, json_pack("[s?, i]", st.line, st.flags));
            free(st.line);
        }
    }
    for (size_t i = 0; rc == SA_DB_Q_OK && i < n; i++) {
        sa_db_verdict_t *it = &items[i];
        if (!it->result) continue;
        size_t j = (size_t)json_integer_value(json_object_get(first, it->id));
        if (json_object_get(updated, it->id)) {
            it->won = j == i;
            if (j != i) it->stored = sa_strdup(items[j].line); /* a later item of a post stored now */
            it->flags = flags;
        } else {
            take_stored(it, json_object_get(found, it->id));
        }
    }
    for (size_t k = 0; k < nv; k++) verdict_vals_free(&vals[k]);
    free(vals);
    free(of);
    free(rows);
    json_decref(updated);
    json_decref(found);
    json_decref(first);
    return rc;
}

typedef struct commit_tx_s {
    const char *group;
    sa_db_verdict_t *items;
    size_t n;
    const sa_db_offset_t *offsets;
    size_t n_offsets;
} commit_tx_t;

static sa_db_multi_t upsert_offsets = {
    "INSERT INTO consumer_offsets(grp, topic, part, next_offset) VALUES ",
    "(?, ?, ?, ?)",
    " ON CONFLICT(grp, topic, part) DO UPDATE SET next_offset = CASE WHEN excluded.next_offset >"
    " consumer_offsets.next_offset THEN excluded.next_offset ELSE consumer_offsets.next_offset END",
    {0}};

static int commit_body(sa_db_t *db, sa_db_conn_t *conn, void *arg, char *errstr, size_t errstr_size) {
    commit_tx_t *tx = arg;
    int rc = store_verdicts(db, conn, tx->items, tx->n, 0, errstr, errstr_size);
    if (rc) return rc;
    sa_db_val_t *v = sa_calloc(tx->n_offsets ? tx->n_offsets * 4 : 1, sizeof(*v));
    for (size_t i = 0; i < tx->n_offsets; i++) {
        const sa_db_offset_t *o = &tx->offsets[i];
        sa_db_val_t row[4] = {DV_TEXT(tx->group), DV_TEXT(o->topic), DV_INT(o->partition), DV_INT(o->next)};
        memcpy(v + i * 4, row, sizeof(row));
    }
    rc = sa_db_multi(db, conn, &upsert_offsets, v, tx->n_offsets, NULL, NULL, NULL, errstr, errstr_size);
    free(v);
    return rc;
}

int sa_db_verdicts_commit(sa_db_t *db, const char *group, sa_db_verdict_t *items, size_t n,
                          const sa_db_offset_t *offsets, size_t n_offsets, char *errstr, size_t errstr_size) {
    commit_tx_t tx = {group, items, n, offsets, n_offsets};
    return sa_db_tx(db, commit_body, &tx, errstr, errstr_size);
}

typedef struct mark_tx_s {
    const char *const *ids;
    size_t n;
    int flags;
} mark_tx_t;

static sa_db_multi_t mark_flags = {"UPDATE posts SET flags = posts.flags | v.column2 FROM (VALUES ",
                                   "(CAST(? AS TEXT), CAST(? AS INTEGER))",
                                   ") AS v WHERE posts.id = v.column1",
                                   {0}};

static int mark_body(sa_db_t *db, sa_db_conn_t *conn, void *arg, char *errstr, size_t errstr_size) {
    mark_tx_t *tx = arg;
    sa_db_val_t *v = sa_calloc(tx->n * 2, sizeof(*v));
    for (size_t i = 0; i < tx->n; i++) {
        v[2 * i] = DV_TEXT(tx->ids[i]);
        v[2 * i + 1] = DV_INT(tx->flags);
    }
    int rc = lock_posts(db, conn, v, tx->n, 2, errstr, errstr_size);
    if (rc == SA_DB_Q_OK)
        rc = sa_db_multi(db, conn, &mark_flags, v, tx->n, NULL, NULL, NULL, errstr, errstr_size);
    free(v);
    return rc;
}

#define MARKS_PER_TX 128 /* short transactions: the other process's writer waits for each */

int sa_db_mark(sa_db_t *db, const char *const *ids, size_t n, int flags, char *errstr, size_t errstr_size) {
    for (size_t from = 0; from < n; from += MARKS_PER_TX) {
        mark_tx_t tx = {ids + from, SA_MIN(n - from, (size_t)MARKS_PER_TX), flags};
        if (sa_db_tx(db, mark_body, &tx, errstr, errstr_size)) return -1;
    }
    return 0;
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

typedef struct unfinished_s {
    json_t *rows;
    const sa_db_part_t *owned;
    size_t n_owned;
    int64_t older_than_ms;
    size_t max;
} unfinished_t;

static int row_unfinished(void *opaque, int ncols, const char *const *c) {
    unfinished_t *u = opaque;
    if (ncols < 6 || !c[0] || !c[1] || json_array_size(u->rows) >= u->max) return 0;
    int ours = c[5] && strtoll(c[5], NULL, 10) < u->older_than_ms;
    for (size_t i = 0; !ours && c[3] && c[4] && i < u->n_owned; i++)
        ours = u->owned[i].partition == atoi(c[4]) && !strcmp(u->owned[i].topic, c[3]);
    if (ours)
        json_array_append_new(u->rows, json_pack("{s:s, s:s, s:i}", "id", c[0], "line", c[1], "flags",
                                                 atoi(c[2] ? c[2] : "0")));
    return 0;
}

json_t *sa_db_unfinished(sa_db_t *db, const sa_db_part_t *owned, size_t n_owned, int64_t older_than_ms,
                         int max, char *errstr, size_t errstr_size) {
    unfinished_t u = {json_array(), owned, n_owned, older_than_ms, max > 0 ? (size_t)max : 0};
    /* the partial index posts_unfinished holds just these rows (the batches in flight, normally):
     * a scan of it is cheap, and the partition filter is easier here than in two dialects */
    sa_db_val_t p[] = {DV_INT(8 * (int64_t)u.max)};
    if (sa_db_query1(
            db,
            "SELECT id, result, flags, src_topic, src_part, processed_ms FROM posts WHERE result IS NOT"
            " NULL AND flags <> 3 ORDER BY processed_ms LIMIT CAST($1 AS BIGINT)",
            p, 1, row_unfinished, &u, NULL, errstr, errstr_size)) {
        json_decref(u.rows);
        return NULL;
    }
    return u.rows;
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
    return sa_db_tx(db, import_body, &tx, errstr, errstr_size);
}
