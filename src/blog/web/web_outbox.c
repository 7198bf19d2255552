/*
 * web_outbox.c - the web server's outbox: new posts are written to the store BEFORE they are
 * produced, so the store always knows every post that may be on its way to the broker.
 *
 * One writer thread per process does every write of the submit path, batching what concurrent
 * requests queued meanwhile into one transaction (group commit: with SQLite one fsync'd commit
 * costs ~0.25 ms here, so a commit per post would cap a server far below what the broker
 * takes). Per batch:
 *   1. outcomes of earlier produces: acknowledged -> queued; surely not sent -> the pending row
 *      is deleted (its key is free again) and its request resumed (503);
 *   2. reservations: INSERT .. ON CONFLICT DO NOTHING as pending with the idempotency key; the
 *      UNIQUE key decides races (with other requests, servers, a restarted self). A new post is
 *      produced (acks=all, idempotent producer, key = id) and its request waits for the delivery
 *      report; a taken key resumes the request at once with the post that has it.
 *   3. once a second, the recovery sweep: pending posts older than the producer's
 *      message.timeout.ms (+5 s) cannot be waiting for a delivery report of a live server any
 *      more - their server died between the store and the broker, or the report failed with the
 *      record maybe sent - so they are claimed (a lease, so that two servers rarely both take one)
 *      and produced again with the same id and key. The worker dedupes by post id, so producing a
 *      post twice never makes a second post, and every pending post ends with a verdict.
 *
 * Invariants:
 *  1. A request suspended by sa_web_submit is resumed exactly once: by the writer (key taken,
 *     store failure, produce refused and released) or by its delivery report (web_server.c).
 *  2. A pending row is deleted only when its produce surely failed and no sweeper claimed it,
 *     so a post that may be on the topic always keeps its key.
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

#define SWEEP_EVERY_MS 1000
#define SWEEP_MAX      200  /* posts claimed per sweep */
#define BATCH_MAX      1024 /* reservations per transaction */

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

struct sa_web_outbox_s {
    sa_web_server_t *srv;
    pthread_mutex_t lock;
    pthread_cond_t cond;      /* work for the writer */
    pthread_cond_t idle_cond; /* the writer finished a round */
    req_t **queue;            /* reservations waiting (under lock) */
    size_t n_queue, cap_queue;
    done_t *done_head, *done_tail; /* outcomes waiting (under lock) */
    int busy;                      /* the writer holds reservations it took (under lock) */
    int stop;
    int started;
    pthread_t thread;
    int64_t stale_ms; /* a pending post older than this is swept */
};

static void apply_dones(sa_web_outbox_t *ob, done_t *list) {
    sa_db_outbox_t items[256];
    while (list) {
        size_t n = 0;
        done_t *batch = list;
        for (done_t *d = list; d && n < SA_ARRAY_LEN(items); d = d->next) {
            items[n++] = (sa_db_outbox_t){d->id, d->action};
            list = d->next;
        }
        char errstr[256];
        if (sa_db_outbox_apply(ob->srv->db, items, n, errstr, sizeof(errstr)))
            /* the rows stay pending: the sweep produces them again later (harmless: the worker
             * dedupes by id), so nothing is lost - only a released key stays taken */
            sa_log_warn("web", "store: %s", errstr);
        for (size_t i = 0; i < n; i++) {
            done_t *d = batch;
            batch = d->next;
            if (d->req) sa_web_resume(d->req, d->outcome);
            free(d);
        }
    }
}

static void fail_req(req_t *req, const char *why) {
    free(req->ack_err);
    req->ack_err = sa_strdup(why);
    sa_web_resume(req, SUBMIT_FAILED);
}

static void produce_new(sa_web_outbox_t *ob, req_t *req) {
    char *value = json_dumps(req->op, JSON_COMPACT);
    char errstr[256];
    atomic_store(&req->state, REQ_PRODUCING);
    req->t0_us = sa_mono_us();
    /* after a successful produce the delivery report owns the request: do not touch it */
    if (sa_web_kafka_produce(ob->srv->kafka, req->id, value, strlen(value), req, errstr, sizeof(errstr))) {
        sa_db_outbox_t item = {req->id, SA_DB_OUT_RELEASE};
        char dberr[256];
        if (sa_db_outbox_apply(ob->srv->db, &item, 1, dberr, sizeof(dberr)))
            sa_log_warn("web", "store: %s", dberr);
        fail_req(req, errstr);
    }
    free(value);
}

static void reserve_batch(sa_web_outbox_t *ob, req_t **reqs, size_t n) {
    sa_db_reserve_t *items = sa_calloc(n, sizeof(*items));
    int64_t now = sa_wall_ms();
    for (size_t i = 0; i < n; i++) items[i] = (sa_db_reserve_t){.op = reqs[i]->op, .now_ms = now};
    char errstr[512];
    if (sa_db_reserve(ob->srv->db, items, n, errstr, sizeof(errstr))) {
        sa_log_warn("web", "store: %s", errstr);
        for (size_t i = 0; i < n; i++) fail_req(reqs[i], "the store is unavailable");
        free(items);
        return;
    }
    for (size_t i = 0; i < n; i++) {
        req_t *req = reqs[i];
        if (items[i].rc == SA_DB_RES_NEW) {
            produce_new(ob, req);
            continue;
        }
        memcpy(req->id, items[i].id, sizeof(req->id));
        req->existing = items[i].post;
        req->pending = items[i].pending;
        sa_web_resume(req, SUBMIT_EXISTS);
    }
    free(items);
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

static void *writer_main(void *arg) {
    sa_web_outbox_t *ob = arg;
    int64_t next_sweep = 0; /* at once: what a previous run left behind */
    pthread_mutex_lock(&ob->lock);
    for (;;) {
        while (!ob->stop && !ob->n_queue && !ob->done_head && sa_mono_ms() < next_sweep) {
            struct timespec ts;
            clock_gettime(CLOCK_REALTIME, &ts);
            ts.tv_nsec += 200 * 1000000L;
            if (ts.tv_nsec >= 1000000000L) ts.tv_sec++, ts.tv_nsec -= 1000000000L;
            pthread_cond_timedwait(&ob->cond, &ob->lock, &ts);
        }
        if (ob->stop && !ob->n_queue && !ob->done_head) break;
        size_t n = SA_MIN(ob->n_queue, (size_t)BATCH_MAX);
        req_t **reqs = n ? sa_malloc(n * sizeof(*reqs)) : NULL;
        if (n) {
            memcpy(reqs, ob->queue, n * sizeof(*reqs));
            memmove(ob->queue, ob->queue + n, (ob->n_queue - n) * sizeof(*reqs));
            ob->n_queue -= n;
        }
        done_t *dones = ob->done_head;
        ob->done_head = ob->done_tail = NULL;
        ob->busy = 1;
        int stopping = ob->stop;
        pthread_mutex_unlock(&ob->lock);

        if (dones) apply_dones(ob, dones);
        if (n) reserve_batch(ob, reqs, n);
        free(reqs);
        if (!stopping && sa_mono_ms() >= next_sweep) {
            sweep(ob);
            next_sweep = sa_mono_ms() + SWEEP_EVERY_MS;
        }

        pthread_mutex_lock(&ob->lock);
        ob->busy = 0;
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
    pthread_cond_init(&ob->idle_cond, NULL);
    ob->started = !pthread_create(&ob->thread, NULL, writer_main, ob);
    if (!ob->started) {
        sa_web_outbox_free(ob);
        return NULL;
    }
    return ob;
}

void sa_web_outbox_reserve(sa_web_outbox_t *ob, req_t *req) {
    pthread_mutex_lock(&ob->lock);
    if (ob->n_queue == ob->cap_queue) {
        ob->cap_queue = ob->cap_queue ? 2 * ob->cap_queue : 64;
        ob->queue = sa_realloc(ob->queue, ob->cap_queue * sizeof(*ob->queue));
    }
    ob->queue[ob->n_queue++] = req;
    pthread_cond_signal(&ob->cond);
    pthread_mutex_unlock(&ob->lock);
}

void sa_web_outbox_done(sa_web_outbox_t *ob, const char *id, int action, req_t *req, req_outcome_t outcome) {
    done_t *d = sa_new(done_t);
    snprintf(d->id, sizeof(d->id), "%s", id);
    d->action = action;
    d->req = req;
    d->outcome = outcome;
    pthread_mutex_lock(&ob->lock);
    if (ob->done_tail)
        ob->done_tail->next = d;
    else
        ob->done_head = d;
    ob->done_tail = d;
    pthread_cond_signal(&ob->cond);
    pthread_mutex_unlock(&ob->lock);
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
    while ((ob->n_queue || ob->busy) && sa_mono_ms() < deadline) {
        struct timespec ts;
        clock_gettime(CLOCK_REALTIME, &ts);
        ts.tv_nsec += 50 * 1000000L;
        if (ts.tv_nsec >= 1000000000L) ts.tv_sec++, ts.tv_nsec -= 1000000000L;
        pthread_cond_timedwait(&ob->idle_cond, &ob->lock, &ts);
    }
    pthread_mutex_unlock(&ob->lock);
}

void sa_web_outbox_free(sa_web_outbox_t *ob) {
    if (!ob) return;
    if (ob->started) {
        pthread_mutex_lock(&ob->lock);
        ob->stop = 1;
        pthread_cond_signal(&ob->cond);
        pthread_mutex_unlock(&ob->lock);
        pthread_join(ob->thread, NULL);
    }
    assert(!ob->n_queue && !ob->done_head);
    free(ob->queue);
    pthread_cond_destroy(&ob->idle_cond);
    pthread_cond_destroy(&ob->cond);
    pthread_mutex_destroy(&ob->lock);
    free(ob);
}
