/*
 * web_outbox.c - the web server's outbox: new posts are written to the store BEFORE they are
 * produced, so the store always knows every post that may be on its way to the broker.
 *
 * Two threads, so that neither the store's lock nor the disk is ever waited for by both paths:
 *
 *   writer - the only thread of the process that writes the submit path to the store. Each
 *            round takes what concurrent requests queued meanwhile (group commit) and writes it
 *            in ONE transaction of a few statements (sa_db_outbox_write), whatever the number of
 *            posts:
 *              1. the outcomes of earlier produces: acknowledged -> queued (the request was
 *                 answered at the acknowledgement already, see below); surely not sent -> the
 *                 pending row is deleted (its key is free again), answered (503) once that is
 *                 durable;
 *              2. reservations: inserted as pending with the idempotency key (the UNIQUE key
 *                 decides races with other requests, servers, a restarted self); a taken key
 *                 answers at once with the post that has it; a new post goes to the syncer.
 *            The outcomes go first, so a request with the key of a post acknowledged before it
 *            finds that post queued. No commit is forced to disk, so a transaction holds the
 *            database's write lock for ~0.1-0.3 ms, not for an fsync.
 *   syncer - makes the writer's commits durable (sa_db_sync: one fdatasync of SQLite's WAL,
 *            covering every commit before it, by this process or the worker) and only then
 *            produces the new posts (acks=all, idempotent producer, key = id) and answers the
 *            releases. While it syncs, the writer commits the next round.
 *
 * An acknowledged request is answered (202/303) by its delivery report at once, without waiting
 * for its queued mark: the post is then noted in the store's in-process overlay (sa_db_acked),
 * so this server's feed shows it until the mark commits ~0.1-1 ms later, and a read by id shows
 * a pending post anyway (its id was known to no one before the acknowledgement). Waiting for the
 * mark's commit cost ~1 ms per request (measured from the acknowledgement to the answer: the
 * writer's current transaction, then the mark's), of a p50 of ~6.5 ms.
 *
 * Why this is enough (docs/web.md "Durability"): a reservation is durable before its record can
 * reach the broker, so a power failure can never free the key of a post that is in Kafka; a
 * release is durable before its 503. A queued mark is not forced to disk: if a power failure
 * loses it, the post is pending again (still readable by id), its record is in the broker's
 * fsync'd log, the worker's verdict shows it, and the recovery sweep produces it once more (the
 * worker dedupes by post id).
 *
 * Search: the writer brings the store's search index up to date (sa_db_search_catch_up) at most
 * SEARCH_EVERY_MS after a reservation, with every post since the last time in one statement,
 * and once a second for what other processes inserted.
 *
 * Once a second the writer also runs the recovery sweep: pending posts older than the producer's
 * message.timeout.ms (+5 s) cannot be waiting for a delivery report of a live server any more -
 * their server died between the store and the broker, or the report failed with the record maybe
 * sent - so they are claimed (a lease, so that two servers rarely both take one) and produced
 * again with the same id and key. Their rows were durable long ago.
 *
 * Invariants:
 *  1. A request suspended by sa_web_submit is resumed exactly once: by the writer (key taken,
 *     store failure), by the syncer (release answered, store failure) or by its delivery report
 *     (acknowledged: sa_web_outbox_done; a failure with the record maybe persisted: web_server.c).
 *  2. A pending row is deleted only when its produce surely failed and no sweeper claimed it,
 *     so a post that may be on the topic always keeps its key.
 *  3. A reservation is produced only after an sa_db_sync that began after its commit.
 */
#include <assert.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "blog/web/web_int.h"
#include "core/log.h"
#include "core/mem.h"
#include "core/time.h"

#define SWEEP_EVERY_MS  1000
#define SWEEP_MAX       200  /* posts claimed per sweep */
#define BATCH_MAX       1024 /* reservations per transaction */
#define SEARCH_EVERY_MS 50   /* a new post is findable by search this long after its reservation */

typedef struct done_s {
    char id[SA_ULID_LEN + 1];
    int action; /* SA_DB_OUT_* */
    req_t *req; /* resumed after it is applied, or NULL */
    req_outcome_t outcome;
    struct done_s *next;
} done_t;

typedef struct sweep_msg_s {
    int kind; /* PRODUCE_SWEEP: first, like req_t's */
    sa_web_outbox_t *ob;
    char id[SA_ULID_LEN + 1];
} sweep_msg_t;

/* A growable array of requests. */
typedef struct reqs_s {
    req_t **v;
    size_t n, cap;
} reqs_t;

struct sa_web_outbox_s {
    sa_web_server_t *srv;
    pthread_mutex_t lock;
    pthread_cond_t cond;           /* work for the writer */
    pthread_cond_t sync_cond;      /* work for the syncer */
    pthread_cond_t idle_cond;      /* a thread finished a round */
    reqs_t queue;                  /* reservations waiting for the writer (under lock) */
    done_t *done_head, *done_tail; /* outcomes waiting for the writer (under lock) */
    reqs_t to_produce;             /* reserved, waiting for the syncer (under lock) */
    reqs_t to_answer;              /* released, waiting for the syncer (under lock) */
    int busy, sync_busy;           /* a thread holds requests it took (under lock) */
    int stop;                      /* the writer ends once it has applied what is queued */
    int sync_stop;                 /* ... and the syncer, set after the writer ended */
    int started, sync_started;
    pthread_t thread, sync_thread;
    int64_t stale_ms; /* a pending post older than this is swept */
};

static void reqs_push(reqs_t *a, req_t *req) {
    if (a->n == a->cap) {
        a->cap = a->cap ? 2 * a->cap : 64;
        a->v = sa_realloc(a->v, a->cap * sizeof(*a->v));
    }
    a->v[a->n++] = req;
}

/* Move up to @p max requests from the front of @p from into a new @p to (caller frees to->v). */
static void reqs_take(reqs_t *from, reqs_t *to, size_t max) {
    size_t n = SA_MIN(from->n, max);
    *to = (reqs_t){n ? sa_malloc(n * sizeof(req_t *)) : NULL, n, n};
    if (!n) return;
    memcpy(to->v, from->v, n * sizeof(req_t *));
    memmove(from->v, from->v + n, (from->n - n) * sizeof(req_t *));
    from->n -= n;
}

static void fail_req(req_t *req, const char *why) {
    free(req->ack_err);
    req->ack_err = sa_strdup(why);
    sa_web_resume(req, SUBMIT_FAILED);
}

/* Hand @p produce (reserved) and @p answer (released) to the syncer. */
static void to_syncer(sa_web_outbox_t *ob, const reqs_t *produce, const reqs_t *answer) {
    if (!produce->n && !answer->n) return;
    pthread_mutex_lock(&ob->lock);
    for (size_t i = 0; i < produce->n; i++) reqs_push(&ob->to_produce, produce->v[i]);
    for (size_t i = 0; i < answer->n; i++) reqs_push(&ob->to_answer, answer->v[i]);
    pthread_cond_signal(&ob->sync_cond);
    pthread_mutex_unlock(&ob->lock);
}

/* One round: the outcomes @p dones (freed here), then the reservations @p reqs, in one
 * transaction. A taken key is answered at once; new posts and released requests go to the
 * syncer (produced, answered, once durable). */
static void write_round(sa_web_outbox_t *ob, done_t *dones, const reqs_t *reqs, int stopping) {
    size_t n_out = 0;
    for (done_t *d = dones; d; d = d->next) n_out++;
    sa_db_outbox_t *outcomes = sa_calloc(n_out ? n_out : 1, sizeof(*outcomes));
    size_t k = 0;
    for (done_t *d = dones; d; d = d->next) outcomes[k++] = (sa_db_outbox_t){d->id, d->action};
    size_t n = stopping ? 0 : reqs->n; /* stopping: the producer may be gone, produce nothing */
    sa_db_reserve_t *items = sa_calloc(n ? n : 1, sizeof(*items));
    int64_t now = sa_wall_ms();
    for (size_t i = 0; i < n; i++) items[i] = (sa_db_reserve_t){.op = reqs->v[i]->op, .now_ms = now};

    char errstr[512];
    int failed = sa_db_outbox_write(ob->srv->db, outcomes, n_out, items, n, errstr, sizeof(errstr)) != 0;
    if (failed)
        /* acknowledged rows stay pending: the sweep produces them again later (harmless: the
         * worker dedupes by id); a release not applied keeps its key taken; nothing is lost */
        sa_log_warn("web", "store: %s", errstr);

    reqs_t produce = {0}, answer = {0};
    for (done_t *d = dones, *next; d; d = next) {
        next = d->next;
        assert(!d->req || d->action == SA_DB_OUT_RELEASE); /* acknowledged ones were answered */
        if (d->req && !failed)
            reqs_push(&answer, d->req); /* a release: answered once it is durable */
        else if (d->req)
            sa_web_resume(d->req, d->outcome);
        free(d);
    }
    for (size_t i = 0; i < reqs->n; i++) {
        req_t *req = reqs->v[i];
        if (i >= n) {
            fail_req(req, "the server is stopping");
        } else if (failed) {
            fail_req(req, "the store is unavailable");
        } else if (items[i].rc == SA_DB_RES_NEW) {
            reqs_push(&produce, req);
        } else {
            memcpy(req->id, items[i].id, sizeof(req->id));
            req->existing = items[i].post;
            req->pending = items[i].pending;
            sa_web_resume(req, SUBMIT_EXISTS);
        }
    }
    to_syncer(ob, &produce, &answer);
    free(produce.v);
    free(answer.v);
    free(items);
    free(outcomes);
}

static void produce_new(sa_web_outbox_t *ob, req_t *req) {
    char *value = json_dumps(req->op, JSON_COMPACT);
    char errstr[256];
    atomic_store(&req->state, REQ_PRODUCING);
    req->t0_us = sa_mono_us();
    /* after a successful produce the delivery report owns the request: do not touch it */
    if (sa_web_kafka_produce(ob->srv->kafka, req->id, value, strlen(value), req, errstr, sizeof(errstr))) {
        free(req->ack_err);
        req->ack_err = sa_strdup(errstr);
        atomic_store(&req->state, REQ_RELEASING);
        /* surely not sent: free its key, then answer */
        sa_web_outbox_done(ob, req->id, SA_DB_OUT_RELEASE, req, SUBMIT_FAILED);
    }
    free(value);
}

static void sweep(sa_web_outbox_t *ob) {
    if (!sa_web_kafka_healthy(ob->srv->kafka)) return; /* nothing to gain: they would fail again */
    int64_t now = sa_wall_ms();
    char errstr[256];
    json_t *ops = sa_db_claim_stale(ob->srv->db, now, now - ob->stale_ms, 2 * ob->stale_ms, SWEEP_MAX, errstr,
                                    sizeof(errstr));
    if (!ops) {
        sa_log_warn("web", "recovery sweep: %s", errstr);
        return;
    }
    size_t i;
    json_t *op;
    json_array_foreach(ops, i, op) {
        sweep_msg_t *msg = sa_new(sweep_msg_t);
        msg->kind = PRODUCE_SWEEP;
        msg->ob = ob;
        snprintf(msg->id, sizeof(msg->id), "%s", json_string_value(json_object_get(op, "id")));
        char *value = json_dumps(op, JSON_COMPACT);
        if (sa_web_kafka_produce(ob->srv->kafka, msg->id, value, strlen(value), msg, errstr,
                                 sizeof(errstr))) {
            sa_log_warn("web", "recovery sweep: producing post %s: %s (tried again later)", msg->id, errstr);
            free(msg);
        } else {
            sa_log_info("web",
                        "recovery sweep: post %s was left pending by a server that stopped; produced again",
                        msg->id);
        }
        free(value);
    }
    json_decref(ops);
}

/* Wait on @p cond for at most @p ms (under ob->lock). */
static void timed_wait(sa_web_outbox_t *ob, pthread_cond_t *cond, long ms) {
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    ts.tv_nsec += ms * 1000000L;
    if (ts.tv_nsec >= 1000000000L) ts.tv_sec++, ts.tv_nsec -= 1000000000L;
    pthread_cond_timedwait(cond, &ob->lock, &ts);
}

/* Make the posts written since the last time findable by search (sa_db_search_catch_up). */
static void search_catch_up(sa_web_outbox_t *ob) {
    char errstr[256];
    if (sa_db_search_catch_up(ob->srv->db, errstr, sizeof(errstr)))
        sa_log_warn("web", "store: search index: %s (tried again later)", errstr);
}

static void *writer_main(void *arg) {
    sa_web_outbox_t *ob = arg;
    int64_t next_sweep = 0;  /* at once: what a previous run left behind */
    int64_t next_search = 0; /* while reservations come: the next search catch-up */
    int unsearchable = 0;    /* reservations since the last catch-up */
    pthread_mutex_lock(&ob->lock);
    for (;;) {
        while (!ob->stop && !ob->queue.n && !ob->done_head && sa_mono_ms() < next_sweep &&
               !(unsearchable && sa_mono_ms() >= next_search))
            timed_wait(ob, &ob->cond, unsearchable ? SEARCH_EVERY_MS : 200);
        if (ob->stop && !ob->queue.n && !ob->done_head) break;
        reqs_t reqs;
        reqs_take(&ob->queue, &reqs, BATCH_MAX);
        done_t *dones = ob->done_head;
        ob->done_head = ob->done_tail = NULL;
        ob->busy = 1;
        int stopping = ob->stop;
        pthread_mutex_unlock(&ob->lock);

        if (dones || reqs.n) write_round(ob, dones, &reqs, stopping);
        if (reqs.n && !unsearchable) next_search = sa_mono_ms() + SEARCH_EVERY_MS;
        unsearchable += reqs.n > 0;
        free(reqs.v);
        int64_t now = sa_mono_ms();
        if (!stopping && now >= next_sweep) { /* also indexes what other processes inserted */
            sweep(ob);
            search_catch_up(ob);
            unsearchable = 0;
            next_sweep = sa_mono_ms() + SWEEP_EVERY_MS;
        } else if (unsearchable && now >= next_search) {
            search_catch_up(ob);
            unsearchable = 0;
        }

        pthread_mutex_lock(&ob->lock);
        ob->busy = 0;
        pthread_cond_broadcast(&ob->idle_cond);
    }
    pthread_mutex_unlock(&ob->lock);
    if (unsearchable) search_catch_up(ob);
    return NULL;
}

static void *syncer_main(void *arg) {
    sa_web_outbox_t *ob = arg;
    pthread_mutex_lock(&ob->lock);
    for (;;) {
        while (!ob->sync_stop && !ob->to_produce.n && !ob->to_answer.n)
            pthread_cond_wait(&ob->sync_cond, &ob->lock);
        if (ob->sync_stop && !ob->to_produce.n && !ob->to_answer.n) break;
        reqs_t produce = ob->to_produce, answer = ob->to_answer;
        ob->to_produce = ob->to_answer = (reqs_t){0};
        ob->sync_busy = 1;
        int stopping = ob->sync_stop;
        pthread_mutex_unlock(&ob->lock);

        char errstr[256];
        int failed = sa_db_sync(ob->srv->db, errstr, sizeof(errstr)) != 0;
        if (failed) sa_log_warn("web", "store: %s", errstr);
        for (size_t i = 0; i < produce.n; i++) {
            req_t *req = produce.v[i];
            if (!failed && !stopping) {
                produce_new(ob, req);
            } else if (!stopping) { /* not known to be durable: not produced, so its key is freed */
                free(req->ack_err);
                req->ack_err = sa_strdup("the store is unavailable");
                sa_web_outbox_done(ob, req->id, SA_DB_OUT_RELEASE, req, SUBMIT_FAILED);
            } else { /* no producer and no writer any more: the sweep of a later run produces it */
                fail_req(req, "the server is stopping");
            }
        }
        for (size_t i = 0; i < answer.n; i++) sa_web_resume(answer.v[i], SUBMIT_FAILED);
        free(produce.v);
        free(answer.v);

        pthread_mutex_lock(&ob->lock);
        ob->sync_busy = 0;
        pthread_cond_broadcast(&ob->idle_cond);
    }
    pthread_mutex_unlock(&ob->lock);
    return NULL;
}

sa_web_outbox_t *sa_web_outbox_new(sa_web_server_t *srv) {
    sa_web_outbox_t *ob = sa_new(sa_web_outbox_t);
    ob->srv = srv;
    ob->stale_ms = sa_web_kafka_message_timeout_ms(srv->kafka) + 5000;
    sa_log_debug(SA_DBG_HTTP, "web", "recovery sweep: pending posts older than %lld ms",
                 (long long)ob->stale_ms);
    pthread_mutex_init(&ob->lock, NULL);
    pthread_cond_init(&ob->cond, NULL);
    pthread_cond_init(&ob->sync_cond, NULL);
    pthread_cond_init(&ob->idle_cond, NULL);
    ob->sync_started = !pthread_create(&ob->sync_thread, NULL, syncer_main, ob);
    ob->started = ob->sync_started && !pthread_create(&ob->thread, NULL, writer_main, ob);
    if (!ob->started) {
        sa_web_outbox_free(ob);
        return NULL;
    }
    return ob;
}

void sa_web_outbox_reserve(sa_web_outbox_t *ob, req_t *req) {
    pthread_mutex_lock(&ob->lock);
    reqs_push(&ob->queue, req);
    pthread_cond_signal(&ob->cond);
    pthread_mutex_unlock(&ob->lock);
}

void sa_web_outbox_done(sa_web_outbox_t *ob, const char *id, int action, req_t *req, req_outcome_t outcome) {
    /* An acknowledged request is answered now, not after its mark's commit: until that commits,
     * this process's reads show the post as acknowledged (sa_db_acked). */
    req_t *answer_now = action == SA_DB_OUT_QUEUED ? req : NULL;
    done_t *d = sa_new(done_t);
    snprintf(d->id, sizeof(d->id), "%s", id); /* id may be req->id: copied before req is answered */
    d->action = action;
    d->req = answer_now ? NULL : req;
    d->outcome = outcome;
    if (answer_now) sa_db_acked(ob->srv->db, d->id);
    pthread_mutex_lock(&ob->lock);
    if (ob->done_tail)
        ob->done_tail->next = d;
    else
        ob->done_head = d;
    ob->done_tail = d;
    pthread_cond_signal(&ob->cond);
    pthread_mutex_unlock(&ob->lock);
    /* d may be gone now. Answered after its mark is queued, so a retry with its key, queued
     * after the answer, is written after the mark and finds the post queued. */
    if (answer_now) sa_web_resume(answer_now, outcome);
}

void sa_web_outbox_sweep_ack(void *opaque, const char *err) {
    sweep_msg_t *msg = opaque;
    if (!err)
        sa_web_outbox_done(msg->ob, msg->id, SA_DB_OUT_QUEUED, NULL, SUBMIT_ACKED);
    else /* its lease runs out and a later sweep tries again */
        sa_log_warn("web", "recovery sweep: post %s not acknowledged: %s", msg->id, err);
    free(msg);
}

void sa_web_outbox_drain(sa_web_outbox_t *ob, int timeout_ms) {
    int64_t deadline = sa_mono_ms() + timeout_ms;
    pthread_mutex_lock(&ob->lock);
    while ((ob->queue.n || ob->busy || ob->to_produce.n || ob->sync_busy) && sa_mono_ms() < deadline)
        timed_wait(ob, &ob->idle_cond, 50);
    pthread_mutex_unlock(&ob->lock);
}

void sa_web_outbox_free(sa_web_outbox_t *ob) {
    if (!ob) return;
    pthread_mutex_lock(&ob->lock);
    ob->stop = 1;
    pthread_cond_signal(&ob->cond);
    pthread_mutex_unlock(&ob->lock);
    /* the writer first: what it applies last may still go to the syncer */
    if (ob->started) pthread_join(ob->thread, NULL);
    pthread_mutex_lock(&ob->lock);
    ob->sync_stop = 1;
    pthread_cond_signal(&ob->sync_cond);
    pthread_mutex_unlock(&ob->lock);
    if (ob->sync_started) pthread_join(ob->sync_thread, NULL);
    /* a release the syncer queued while the writer was ending (its sync had failed): answered,
     * its row left pending for the sweep of a later run */
    for (done_t *d = ob->done_head, *next; d; d = next) {
        next = d->next;
        if (d->req) sa_web_resume(d->req, d->outcome);
        free(d);
    }
    ob->done_head = ob->done_tail = NULL;
    assert(!ob->queue.n && !ob->to_produce.n && !ob->to_answer.n);
    free(ob->queue.v);
    free(ob->to_produce.v);
    free(ob->to_answer.v);
    pthread_cond_destroy(&ob->idle_cond);
    pthread_cond_destroy(&ob->sync_cond);
    pthread_cond_destroy(&ob->cond);
    pthread_mutex_destroy(&ob->lock);
    free(ob);
}
