/*
 * worker.c - the worker's loop (see worker.h for the per-batch order and its guarantees).
 *
 * Threads: everything here runs on the caller's thread. librdkafka's own threads do the network
 * I/O and heartbeats; the rebalance callback and delivery reports run inside our poll calls, so
 * no state is shared across threads.
 *
 * Rebalances: the rebalance callback only runs while a batch is being *filled* (no post of it is
 * processed yet). On a revoke it drops the batch's records of the revoked partitions: their new
 * owner starts from the offsets in the store, which cover everything we processed. On an assign
 * it seeks each partition to the store's offset (Kafka's committed offset when the store has
 * none: a data dir from before the store), so a worker resumes exactly where its last
 * transaction left off, and it asks for a reconciliation at once: the partition's previous
 * owner lost it, so the verdicts it stored from that partition but did not finish are ours to
 * finish now (worker.h). The partitions we own are kept in `owned` for that.
 */
#include "blog/worker/worker.h"

#include <assert.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "blog/model/db.h"
#include "blog/worker/results_log.h"
#include "blog/worker/score.h"
#include "blog/model/topics_ensure.h"
#include "blog/worker/worker_post.h"
#include "blog/worker/worker_txn.h"
#include "client/client.h"
#include "core/cli.h"
#include "core/log.h"
#include "core/mem.h"
#include "core/time.h"

#define BATCH_MAX         500          /* records per batch with --work-ms 0 */
#define DEAD_LETTER_EMBED (128u << 10) /* bytes of an original value kept in a dead letter */
#define RETRY_PAUSE_MS    1000         /* after a failed produce or log write */
#define DR_PENDING        (-100000)    /* delivery status not known yet */
#define RECONCILE_MS      5000         /* how often verdicts left unlogged/unpublished are looked for */
#define STALE_MS          10000        /* ... and how old one from a partition we do not own must be */
#define OWNED_MAX         1024         /* partitions one worker keeps track of */
#define VERDICTS_PER_TX   64           /* verdicts per store transaction */

typedef enum action_e {
    ACT_NONE,   /* not processed (stop came first) */
    ACT_NEW,    /* scored now: its verdict goes to the store, the log and the topic */
    ACT_REPLAY, /* the store has its verdict: log it if it is not yet, publish it again */
    ACT_DEAD,   /* poison: dead letter */
} action_t;

typedef struct item_s {
    rd_kafka_message_t *msg; /* owned */
    sa_post_t post;          /* the parsed value (post.obj NULL: not parsed or poison) */
    action_t act;
    char *id;         /* owned post id (NEW, REPLAY) */
    char *out;        /* owned JSON to produce (result line or dead letter) */
    json_t *result;   /* owned: the result line as JSON (NEW) */
    int flags;        /* SA_DB_F_* of the stored verdict (REPLAY) */
    int logged;       /* it is in the results log (step 4 done) */
    char verdict[16]; /* for the log line */
    int score;
    rd_kafka_resp_err_t dr; /* delivery report, DR_PENDING until it comes */
} item_t;

typedef struct worker_s {
    const sa_worker_conf_t *conf;
    char worker_id[256];
    rd_kafka_t *consumer, *producer;
    sa_results_log_t *log;
    sa_db_t *db;
    int txn;          /* --exactly-once txn: a Kafka transaction per batch (worker_txn.h) */
    char txn_id[512]; /* its transactional.id */
    int txn_lock;     /* the slot's lock file (worker_txn.h), or -1 */
    int64_t next_reconcile_ms;
    sa_db_part_t owned[OWNED_MAX]; /* the partitions assigned to us (topic borrowed from librdkafka's
                                    * topic name of the assignment, copied: owned_topics) */
    char *owned_topics[OWNED_MAX];
    size_t n_owned;
    sa_dup_ring_t *ring; /* recent posts' signatures (near-duplicates) */
    item_t *batch;       /* BATCH_MAX items */
    size_t nbatch, batch_max;
    size_t result_max;           /* largest result line the producer can send (message.max.bytes - framing) */
    volatile sig_atomic_t *stop; /* the caller's stop flag (borrowed) */
    uint64_t processed, replayed, dead; /* counters for the exit summary */
} worker_t;

static const char *const consumer_defaults[] = {
    "enable.auto.commit=false", "enable.auto.offset.store=false", "auto.offset.reset=earliest",
    /* A killed worker's partitions move on after 6 s, not Kafka's default 45 s. */
    "session.timeout.ms=6000", "heartbeat.interval.ms=1000", "fetch.wait.max.ms=100",
    /* librdkafka's default too; txn mode relies on it (worker.h) */
    "isolation.level=read_committed", "client.id=samsa-worker", NULL};
static const char *const producer_defaults[] = {"acks=all",
                                                "enable.idempotence=true",
                                                "linger.ms=1",
                                                "message.timeout.ms=30000",
                                                "client.id=samsa-worker",
                                                NULL};

/* txn mode: a transaction left open by a killed worker of another transactional.id holds back
 * read_committed readers until it times out, so the timeout is short (a batch's transaction takes
 * milliseconds: scoring happens before it begins); librdkafka wants message.timeout.ms within it. */
static const char *const producer_txn_defaults[] = {"acks=all",
                                                    "enable.idempotence=true",
                                                    "linger.ms=1",
                                                    "message.timeout.ms=10000",
                                                    "transaction.timeout.ms=10000",
                                                    "client.id=samsa-worker",
                                                    NULL};

static int txn_mode(const sa_worker_conf_t *conf) {
    return conf->exactly_once && !strcmp(conf->exactly_once, "txn");
}

void sa_worker_clients(const sa_worker_conf_t *conf, sa_client_role_t roles[SA_WORKER_CLIENTS]) {
    roles[0] = (sa_client_role_t){
        txn_mode(conf) ? "transactional producer (results, dead letters, topic creation)"
                       : "producer (results, dead letters, topic creation)",
        SA_CLIENT_PRODUCER, txn_mode(conf) ? producer_txn_defaults : producer_defaults, NULL};
    roles[1] =
        (sa_client_role_t){"consumer (blog_operations)", SA_CLIENT_CONSUMER, consumer_defaults, conf->group};
}

static void item_clear(item_t *it) {
    if (it->msg) rd_kafka_message_destroy(it->msg);
    sa_post_clear(&it->post);
    free(it->id);
    free(it->out);
    json_decref(it->result);
    memset(it, 0, sizeof(*it));
}

/* ---- rebalance ---- */

static void drop_revoked(worker_t *w, const rd_kafka_topic_partition_list_t *parts) {
    size_t keep = 0;
    for (size_t i = 0; i < w->nbatch; i++) {
        rd_kafka_message_t *m = w->batch[i].msg;
        if (rd_kafka_topic_partition_list_find(parts, rd_kafka_topic_name(m->rkt), m->partition)) {
            item_clear(&w->batch[i]);
            continue;
        }
        w->batch[keep++] = w->batch[i];
    }
    for (size_t i = keep; i < w->nbatch; i++) memset(&w->batch[i], 0, sizeof(item_t));
    w->nbatch = keep;
}

static void log_partitions(const char *what, const rd_kafka_topic_partition_list_t *parts) {
    char list[512] = "";
    size_t o = 0;
    for (int i = 0; i < parts->cnt && o < sizeof(list) - 32; i++)
        o += (size_t)snprintf(list + o, sizeof(list) - o, "%s%s[%d]", i ? " " : "", parts->elems[i].topic,
                              parts->elems[i].partition);
    sa_log_info("worker", "%s %d partition%s: %s", what, parts->cnt, parts->cnt == 1 ? "" : "s", list);
}

/* Add (@p assigned 1) or remove @p parts to/from the partitions we own. */
static void track_owned(worker_t *w, const rd_kafka_topic_partition_list_t *parts, int assigned) {
    for (int i = 0; i < parts->cnt; i++) {
        const rd_kafka_topic_partition_t *p = &parts->elems[i];
        size_t k = 0;
        while (k < w->n_owned &&
               !(w->owned[k].partition == p->partition && !strcmp(w->owned_topics[k], p->topic)))
            k++;
        if (assigned && k == w->n_owned && w->n_owned < OWNED_MAX) {
            w->owned_topics[k] = sa_strdup(p->topic);
            w->owned[k] = (sa_db_part_t){w->owned_topics[k], p->partition};
            w->n_owned++;
        } else if (!assigned && k < w->n_owned) {
            free(w->owned_topics[k]);
            w->n_owned--;
            w->owned_topics[k] = w->owned_topics[w->n_owned];
            w->owned[k] = (sa_db_part_t){w->owned_topics[k], w->owned[w->n_owned].partition};
        }
    }
}

static void rebalance_cb(rd_kafka_t *rk, rd_kafka_resp_err_t err, rd_kafka_topic_partition_list_t *parts,
                         void *opaque) {
    worker_t *w = opaque;
    int cooperative = !strcmp(rd_kafka_rebalance_protocol(rk), "COOPERATIVE");
    rd_kafka_error_t *error = NULL;
    if (err == RD_KAFKA_RESP_ERR__ASSIGN_PARTITIONS) {
        log_partitions("assigned", parts);
        track_owned(w, parts, 1); /* eager: every partition was revoked first; cooperative: added */
        w->next_reconcile_ms = 0; /* their previous owner's unfinished verdicts are ours now */
        /* txn mode resumes from Kafka's committed offsets, which move with the transactions */
        for (int i = 0; !w->txn && i < parts->cnt; i++) {
            int64_t next;
            char errstr[256];
            int found = sa_db_offset_get(w->db, w->conf->group, parts->elems[i].topic,
                                         parts->elems[i].partition, &next, errstr, sizeof(errstr));
            if (found > 0)
                parts->elems[i].offset = next;
            else if (found < 0) /* Kafka's committed offset then: the store dedupes what it has */
                sa_log_warn("worker", "store: %s", errstr);
        }
        if (cooperative)
            error = rd_kafka_incremental_assign(rk, parts);
        else
            rd_kafka_assign(rk, parts);
    } else {
        log_partitions("revoked", parts);
        drop_revoked(w, parts);
        track_owned(w, parts, 0);
        if (cooperative)
            error = rd_kafka_incremental_unassign(rk, parts);
        else
            rd_kafka_assign(rk, NULL);
    }
    if (error) {
        sa_log_error("worker", "rebalance: %s", rd_kafka_error_string(error));
        rd_kafka_error_destroy(error);
    }
}

/* ---- delivery ---- */

static void dr_msg_cb(rd_kafka_t *rk, const rd_kafka_message_t *m, void *opaque) {
    (void)rk;
    (void)opaque;
    if (m->_private) ((item_t *)m->_private)->dr = m->err;
}

/* ---- processing one record ---- */

static void sleep_work(int64_t ms) {
    /* The heavy step is simulated, but like real work it is not cut short by a stop request:
     * "finish the current post". */
    if (ms > 0) sa_sleep_ms(ms);
}

static void make_dead_letter(worker_t *w, item_t *it, const char *reason, const char *detail) {
    const rd_kafka_message_t *m = it->msg;
    sa_post_source_t src = {rd_kafka_topic_name(m->rkt), m->partition, m->offset};
    /* JSON escaping can grow text up to 6 times: an eighth of a record always fits. */
    json_t *dl = sa_post_dead_letter(reason, detail, &src, m->key, m->key_len, m->payload, m->len,
                                     SA_MIN(DEAD_LETTER_EMBED, w->result_max / 8), w->worker_id);
    free(it->out);
    it->out = json_dumps(dl, JSON_COMPACT);
    json_decref(dl);
    it->act = ACT_DEAD;
    snprintf(it->verdict, sizeof(it->verdict), "%s", "dead-letter");
    sa_log_warn("worker", "poison record %s[%d]@%lld: %s: %s -> %s", rd_kafka_topic_name(m->rkt),
                m->partition, (long long)m->offset, reason, detail, w->conf->errors_topic);
}

static void process_post(worker_t *w, item_t *it, sa_post_t *post) {
    const rd_kafka_message_t *m = it->msg;
    sa_score_input_t in = {post->title, post->content, post->content_len, post->lang, post->id};
    sa_score_t score;
    sa_score_post(&in, w->ring, &score);
    sleep_work(w->conf->work_ms);
    char now[48];
    sa_time_rfc3339(sa_wall_ms(), now);
    json_t *obj = post->obj;
    sa_score_to_json(&score, obj);
    json_object_set_new(obj, "processed_at", json_string(now));
    json_object_set_new(obj, "worker", json_string(w->worker_id));
    json_object_set_new(obj, "source",
                        json_pack("{s:s, s:i, s:I}", "topic", rd_kafka_topic_name(m->rkt), "partition",
                                  (int)m->partition, "offset", (json_int_t)m->offset));
    /* 10 significant digits: 83.4, not 83.400000000000006. */
    it->out = json_dumps(obj, JSON_COMPACT | JSON_REAL_PRECISION(10));
    size_t len = strlen(it->out);
    if (len > w->result_max) {
        /* It could never be published: a dead letter now, rather than a partition stuck
         * retrying a produce that can only fail. Nothing goes to the log. */
        char detail[160];
        snprintf(detail, sizeof(detail),
                 "the result would have %zu bytes, more than the %zu a record may hold "
                 "(message.max.bytes)",
                 len, w->result_max);
        make_dead_letter(w, it, "value_too_large", detail);
        return;
    }
    it->id = sa_strdup(post->id);
    it->result = json_incref(obj);
    it->act = ACT_NEW;
    it->score = score.score;
    snprintf(it->verdict, sizeof(it->verdict), "%s", sa_verdict_name(score.verdict));
    sa_score_remember(w->ring, post->id, &score);
}

/* Validate @p it's value: a poison record becomes a dead letter, a valid one is kept parsed. */
static void parse_record(worker_t *w, item_t *it) {
    const rd_kafka_message_t *m = it->msg;
    char detail[256];
    sa_post_status_t st = sa_post_parse(m->payload, m->len, (size_t)w->conf->max_value_bytes, &it->post,
                                        detail, sizeof(detail));
    if (st != SA_POST_OK) make_dead_letter(w, it, sa_post_status_code(st), detail);
}

/* The verdicts the store has for the parsed posts of @p items, in one query: such a post is not
 * scored again (it is replayed). A failed lookup scores them all: the store's first-wins commit
 * turns a post it had into a replay anyway. */
static void find_replays(worker_t *w, item_t *items, size_t n) {
    sa_db_verdict_t *v = sa_calloc(n ? n : 1, sizeof(*v));
    size_t *at = sa_calloc(n ? n : 1, sizeof(*at)), nv = 0;
    for (size_t i = 0; i < n; i++)
        if (items[i].post.obj) {
            at[nv] = i;
            v[nv++].id = items[i].post.id;
        }
    char errstr[256];
    if (nv && sa_db_verdicts_find(w->db, v, nv, errstr, sizeof(errstr)))
        sa_log_warn("worker", "store: %s", errstr);
    for (size_t j = 0; j < nv; j++) {
        if (!v[j].stored) continue;
        item_t *it = &items[at[j]];
        it->act = ACT_REPLAY;
        it->id = sa_strdup(it->post.id);
        it->out = v[j].stored;
        it->flags = v[j].flags;
        snprintf(it->verdict, sizeof(it->verdict), "%s", "already-done");
    }
    free(v);
    free(at);
}

/* ---- the batch ---- */

/* Seek every partition of the batch back to its first record, so nothing after a failure is
 * skipped; the log makes the second pass idempotent. */
static void rewind_batch(worker_t *w) {
    rd_kafka_topic_partition_list_t *parts = rd_kafka_topic_partition_list_new((int)w->nbatch);
    for (size_t i = 0; i < w->nbatch; i++) {
        rd_kafka_message_t *m = w->batch[i].msg;
        if (!rd_kafka_topic_partition_list_find(parts, rd_kafka_topic_name(m->rkt), m->partition))
            rd_kafka_topic_partition_list_add(parts, rd_kafka_topic_name(m->rkt), m->partition)->offset =
                m->offset;
    }
    rd_kafka_error_t *error = rd_kafka_seek_partitions(w->consumer, parts, 5000);
    if (error) {
        sa_log_error("worker", "seeking back after a failure: %s", rd_kafka_error_string(error));
        rd_kafka_error_destroy(error);
    }
    rd_kafka_topic_partition_list_destroy(parts);
}

static int produce_item(worker_t *w, item_t *it) {
    const char *topic = it->act == ACT_DEAD ? w->conf->errors_topic : w->conf->results_topic;
    const void *key = it->act == ACT_DEAD ? it->msg->key : it->id;
    size_t key_len = it->act == ACT_DEAD ? it->msg->key_len : strlen(it->id);
    it->dr = DR_PENDING;
    for (;;) {
        rd_kafka_resp_err_t err = rd_kafka_producev(
            w->producer, RD_KAFKA_V_TOPIC(topic), RD_KAFKA_V_KEY(key, key_len),
            RD_KAFKA_V_VALUE(it->out, strlen(it->out)), RD_KAFKA_V_MSGFLAGS(RD_KAFKA_MSG_F_COPY),
            RD_KAFKA_V_OPAQUE(it), RD_KAFKA_V_END);
        if (err == RD_KAFKA_RESP_ERR__QUEUE_FULL) {
            rd_kafka_poll(w->producer, 10);
            continue;
        }
        if (err) {
            sa_log_error("worker", "producing to %s: %s", topic, rd_kafka_err2str(err));
            it->dr = err;
            return -1;
        }
        return 0;
    }
}

/* Is the replay @p it published again? Store mode: unless it was published. Txn mode: if its
 * stored verdict came from this very record, whose earlier transaction did not commit (worker.h). */
static int republish(const worker_t *w, const item_t *it) {
    if (!w->txn) return !(it->flags & SA_DB_F_PUBLISHED);
    return it->msg && it->out && sa_worker_txn_own_line(it->out, it->msg);
}

/* Produce the dead letters (@p dead 1) or the results not yet published (0) of @p items and wait
 * for every delivery report. @returns 0, or -1 if any failed. */
static int publish(worker_t *w, item_t *items, size_t n, int dead) {
    int failed = 0;
    for (size_t i = 0; i < n; i++) {
        item_t *it = &items[i];
        int want =
            dead ? it->act == ACT_DEAD : it->act == ACT_NEW || (it->act == ACT_REPLAY && republish(w, it));
        if (want && it->out && produce_item(w, it)) failed = 1;
    }
    /* flush() serves the delivery reports; it returns when every one has come. */
    while (rd_kafka_outq_len(w->producer) > 0) {
        rd_kafka_flush(w->producer, 1000);
        if (rd_kafka_fatal_error(w->producer, NULL, 0)) break;
    }
    for (size_t i = 0; i < n; i++) {
        item_t *it = &items[i];
        if (it->dr == RD_KAFKA_RESP_ERR_NO_ERROR) continue;
        if (it->dr != DR_PENDING)
            sa_log_error("worker", "delivery to %s failed: %s",
                         it->act == ACT_DEAD ? w->conf->errors_topic : w->conf->results_topic,
                         rd_kafka_err2str(it->dr));
        failed = 1;
    }
    return failed ? -1 : 0;
}

/* Mark the verdicts of @p items logged and published in the store (those not marked yet). */
static void mark_done(worker_t *w, item_t *items, size_t n) {
    const int done = SA_DB_F_LOGGED | SA_DB_F_PUBLISHED;
    const char **ids = sa_calloc(n ? n : 1, sizeof(*ids));
    size_t k = 0;
    for (size_t i = 0; i < n; i++)
        if ((items[i].act == ACT_NEW || items[i].act == ACT_REPLAY) && (items[i].flags & done) != done) {
            assert(items[i].logged);
            ids[k++] = items[i].id;
            items[i].flags |= done;
        }
    char errstr[256];
    if (sa_db_mark(w->db, ids, k, done, errstr, sizeof(errstr)))
        /* not lost: the reconciliation finds the verdict again, and the log's index and the web's
         * dedupe by id keep a second pass harmless */
        sa_log_warn("worker", "store: %s", errstr);
    free(ids);
}

/* Step 3 for the items [from, to) of the batch: one transaction with their new verdicts and the
 * offsets after them (records of a partition come in offset order, so the offsets of a chunk
 * cover exactly the records of it and of the chunks before). A verdict another worker stored
 * first turns the item into a replay of the stored one. @returns 0 or -1. */
static int store_chunk(worker_t *w, size_t from, size_t to, int64_t now) {
    sa_db_verdict_t *v = sa_calloc(to - from, sizeof(*v));
    sa_db_offset_t *offs = sa_calloc(to, sizeof(*offs));
    size_t nv = 0, no = 0;
    for (size_t i = 0; i < to; i++) {
        item_t *it = &w->batch[i];
        if (i >= from && it->act == ACT_NEW)
            v[nv++] = (sa_db_verdict_t){.id = it->id, .result = it->result, .line = it->out, .now_ms = now};
        const rd_kafka_message_t *m = it->msg;
        size_t k = 0;
        while (k < no &&
               !(offs[k].partition == m->partition && !strcmp(offs[k].topic, rd_kafka_topic_name(m->rkt))))
            k++;
        if (k == no) offs[no++] = (sa_db_offset_t){rd_kafka_topic_name(m->rkt), m->partition, 0};
        if (m->offset + 1 > offs[k].next) offs[k].next = m->offset + 1;
    }
    char errstr[512];
    int rc = sa_db_verdicts_commit(w->db, w->conf->group, v, nv, offs, no, errstr, sizeof(errstr));
    if (rc) sa_log_error("worker", "store: %s", errstr);
    for (size_t i = from, j = 0; rc == 0 && i < to; i++) {
        item_t *it = &w->batch[i];
        if (it->act != ACT_NEW) continue;
        sa_db_verdict_t *d = &v[j++];
        if (d->won) continue;
        it->act = ACT_REPLAY; /* another worker's verdict was first: that one is the post's */
        free(it->out);
        it->out = d->stored;
        d->stored = NULL;
        it->flags = d->flags;
        snprintf(it->verdict, sizeof(it->verdict), "%s", "already-done");
    }
    for (size_t j = 0; j < nv; j++) free(v[j].stored);
    free(v);
    free(offs);
    return rc;
}

/* Step 3: the batch's verdicts and offsets in transactions of at most VERDICTS_PER_TX (a
 * transaction holds the store's write lock, which the web server's writer waits for: a batch of
 * 500 in one held it ~10 ms), then one sync, so they are all durable before step 4 logs them.
 * A crash between chunks is a crash before step 3 for the later ones. @returns 0 or -1. */
static int store_verdicts(worker_t *w, size_t done) {
    int64_t now = sa_wall_ms();
    for (size_t from = 0; from < done; from += VERDICTS_PER_TX)
        if (store_chunk(w, from, SA_MIN(done, from + VERDICTS_PER_TX), now)) return -1;
    char errstr[256];
    if (sa_db_sync(w->db, errstr, sizeof(errstr))) {
        sa_log_error("worker", "store: %s", errstr);
        return -1;
    }
    return 0;
}

/* Step 4: append the verdicts not yet in the results log (fdatasync'd). The log's own index
 * (has) keeps a line that reached it before a crash from a second copy. They are marked logged
 * (with published) after step 5: one write of their rows, not two. */
static int append_log(worker_t *w, item_t *items, size_t n) {
    char errstr[512];
    if (sa_results_log_lock(w->log, errstr, sizeof(errstr)) != SA_OK) {
        sa_log_error("worker", "results log: %s", errstr);
        return -1;
    }
    for (size_t i = 0; i < n; i++) {
        item_t *it = &items[i];
        if ((it->act != ACT_NEW && it->act != ACT_REPLAY) || (it->flags & SA_DB_F_LOGGED) || !it->out)
            continue;
        if (!sa_results_log_has(w->log, it->id))
            sa_results_log_append(w->log, it->id, it->out, strlen(it->out));
    }
    if (sa_results_log_commit(w->log, errstr, sizeof(errstr)) != SA_OK) {
        sa_log_error("worker", "results log: %s", errstr);
        return -1;
    }
    for (size_t i = 0; i < n; i++) items[i].logged = 1;
    return 0;
}

/* @returns new list of the next offset of every partition of the batch's first @p done records. */
static rd_kafka_topic_partition_list_t *batch_offsets(worker_t *w, size_t done) {
    rd_kafka_topic_partition_list_t *offsets = rd_kafka_topic_partition_list_new((int)done);
    for (size_t i = 0; i < done; i++) {
        rd_kafka_message_t *m = w->batch[i].msg;
        rd_kafka_topic_partition_t *tp =
            rd_kafka_topic_partition_list_find(offsets, rd_kafka_topic_name(m->rkt), m->partition);
        if (!tp) tp = rd_kafka_topic_partition_list_add(offsets, rd_kafka_topic_name(m->rkt), m->partition);
        if (m->offset + 1 > tp->offset) tp->offset = m->offset + 1;
    }
    return offsets;
}

/* Step 6: commit the batch's offsets to Kafka too, so `samsa groups` and the web's lag see them
 * (the store's offsets are the ones the worker resumes from). */
static void commit_kafka(worker_t *w, size_t done) {
    rd_kafka_topic_partition_list_t *offsets = batch_offsets(w, done);
    rd_kafka_resp_err_t err = rd_kafka_commit(w->consumer, offsets, 0);
    if (err)
        sa_log_warn("worker", "offset commit to Kafka failed (%s); the store has them",
                    rd_kafka_err2str(err));
    rd_kafka_topic_partition_list_destroy(offsets);
}

static void log_done(worker_t *w, size_t done) {
    for (size_t i = 0; i < done; i++) {
        item_t *it = &w->batch[i];
        rd_kafka_message_t *m = it->msg;
        if (it->act == ACT_NEW)
            sa_log_info("worker", "post %s %s score=%d %s[%d]@%lld", it->id, it->verdict, it->score,
                        rd_kafka_topic_name(m->rkt), m->partition, (long long)m->offset);
        else if (it->act == ACT_REPLAY)
            sa_log_info("worker", "post %s already has its verdict: replayed %s[%d]@%lld", it->id,
                        rd_kafka_topic_name(m->rkt), m->partition, (long long)m->offset);
        w->processed += it->act == ACT_NEW;
        w->replayed += it->act == ACT_REPLAY;
        w->dead += it->act == ACT_DEAD;
    }
}

/* Txn mode's step 5: the dead letters, the results and the offsets in one transaction.
 * @returns 0 committed, -1 aborted (rewind), SA_EXIT_FAIL when the worker must stop. */
static int publish_txn(worker_t *w, size_t done) {
    char errstr[512];
    if (sa_worker_txn_begin(w->producer, errstr, sizeof(errstr))) {
        sa_log_error("worker", "%s", errstr);
        return SA_EXIT_FAIL;
    }
    int ok = publish(w, w->batch, done, 1) == 0 && publish(w, w->batch, done, 0) == 0;
    rd_kafka_topic_partition_list_t *offsets = batch_offsets(w, done);
    sa_worker_txn_end_t end =
        sa_worker_txn_end(w->producer, w->consumer, offsets, ok, errstr, sizeof(errstr));
    rd_kafka_topic_partition_list_destroy(offsets);
    if (end == SA_WORKER_TXN_COMMITTED) return 0;
    sa_log_error("worker", "transaction %s: %s", w->txn_id,
                 ok || end == SA_WORKER_TXN_FATAL ? errstr : "aborted");
    return end == SA_WORKER_TXN_FATAL ? SA_EXIT_FAIL : -1;
}

/* @returns 0, -1 on a failure that was rewound (the caller pauses), or SA_EXIT_FAIL when the
 * worker cannot go on (its transactional producer was fenced). */
static int run_batch(worker_t *w, volatile sig_atomic_t *stop) {
    int rc = -1;
    size_t done = 0;
    for (size_t i = 0; i < w->nbatch; i++) parse_record(w, &w->batch[i]);
    find_replays(w, w->batch, w->nbatch);
    for (; done < w->nbatch; done++) {
        if (*stop && done > 0) break; /* finish the current post, not the whole batch */
        item_t *it = &w->batch[done];
        if (it->post.obj && it->act == ACT_NONE) process_post(w, it, &it->post);
    }
    const char *what = "publishing dead letters";
    if (!w->txn && publish(w, w->batch, done, 1)) goto fail;
    what = "storing the verdicts";
    if (store_verdicts(w, done)) goto fail;
    what = "appending to the results log";
    if (append_log(w, w->batch, done)) goto fail;
    what = "publishing the results";
    if (w->txn) {
        int txn = publish_txn(w, done);
        if (txn == SA_EXIT_FAIL) {
            rc = SA_EXIT_FAIL;
            goto out;
        }
        what = "the transaction";
        if (txn) goto fail;
        /* a replay of another record was not published here: its own record's transaction marks it */
        for (size_t i = 0; i < done; i++)
            if (w->batch[i].act == ACT_REPLAY && !republish(w, &w->batch[i]))
                w->batch[i].flags |= SA_DB_F_LOGGED | SA_DB_F_PUBLISHED;
    } else if (publish(w, w->batch, done, 0)) {
        goto fail;
    }
    mark_done(w, w->batch, done);
    if (!w->txn) commit_kafka(w, done);
    log_done(w, done);
    rc = 0;
    goto out;
fail:
    /* the store has what was stored: the second pass replays it, scores nothing twice */
    sa_log_error("worker", "%s failed; retrying the batch in %d ms", what, RETRY_PAUSE_MS);
    rewind_batch(w);
out:
    for (size_t i = 0; i < w->nbatch; i++) item_clear(&w->batch[i]);
    w->nbatch = 0;
    return rc;
}

/* Verdicts stored but not logged or not published: a worker died (or failed) between its
 * transaction and the log or the topic (its offsets are stored, so the records do not come
 * back). Those from a partition we own are ours to finish at any time - its previous owner lost
 * it before it was assigned to us; the others once they are older than STALE_MS (a partition no
 * one owns any more: a topic deleted or shrunk, a verdict imported without its source). */
static void reconcile(worker_t *w) {
    char errstr[256];
    json_t *rows =
        sa_db_unfinished(w->db, w->owned, w->n_owned, sa_wall_ms() - STALE_MS, 500, errstr, sizeof(errstr));
    if (!rows) {
        sa_log_warn("worker", "store: %s", errstr);
        return;
    }
    size_t n = json_array_size(rows);
    item_t *items = n ? sa_calloc(n, sizeof(*items)) : NULL;
    for (size_t i = 0; i < n; i++) {
        json_t *r = json_array_get(rows, i);
        items[i].act = ACT_REPLAY;
        items[i].id = sa_strdup(json_string_value(json_object_get(r, "id")));
        items[i].out = sa_strdup(json_string_value(json_object_get(r, "line")));
        items[i].flags = (int)json_integer_value(json_object_get(r, "flags"));
    }
    if (n && append_log(w, items, n) == 0 && publish(w, items, n, 0) == 0) {
        mark_done(w, items, n);
        sa_log_info("worker", "finished %zu verdicts a stopped worker left unlogged or unpublished", n);
    }
    for (size_t i = 0; i < n; i++) item_clear(&items[i]);
    free(items);
    json_decref(rows);
}

/* Poll one batch: wait up to 200 ms for the first record, then take what is already there. */
static void fill_batch(worker_t *w) {
    int timeout = 200;
    while (w->nbatch < w->batch_max) {
        rd_kafka_message_t *m = rd_kafka_consumer_poll(w->consumer, timeout);
        if (!m) break;
        timeout = 0;
        if (m->err) {
            if (m->err != RD_KAFKA_RESP_ERR__PARTITION_EOF)
                sa_log_warn("worker", "consumer: %s", rd_kafka_message_errstr(m));
            rd_kafka_message_destroy(m);
            continue;
        }
        w->batch[w->nbatch++].msg = m;
    }
}

/* ---- start and stop ---- */

static void remember_line(void *opaque, const char *id, json_t *line) {
    worker_t *w = opaque;
    json_t *content = json_object_get(line, "content");
    if (!json_is_string(content)) return;
    sa_dup_ring_add_text(w->ring, id, json_string_value(content), json_string_length(content));
}

static rd_kafka_t *new_client(worker_t *w, rd_kafka_type_t type) {
    char errstr[512];
    const sa_worker_conf_t *c = w->conf;
    sa_client_role_t roles[SA_WORKER_CLIENTS];
    sa_worker_clients(c, roles);
    rd_kafka_conf_t *kc =
        sa_client_conf_new(&c->kafka, &roles[type == RD_KAFKA_CONSUMER], errstr, sizeof(errstr));
    if (!kc) goto err;
    rd_kafka_conf_set_opaque(kc, w);
    if (type == RD_KAFKA_CONSUMER) {
        rd_kafka_conf_set_rebalance_cb(kc, rebalance_cb);
    } else {
        rd_kafka_conf_set_dr_msg_cb(kc, dr_msg_cb);
        if (w->txn &&
            rd_kafka_conf_set(kc, "transactional.id", w->txn_id, errstr, sizeof(errstr)) != RD_KAFKA_CONF_OK)
            goto err;
    }
    rd_kafka_t *rk = rd_kafka_new(type, kc, errstr, sizeof(errstr));
    if (rk) return rk;
err:
    if (kc) rd_kafka_conf_destroy(kc);
    sa_log_error("worker", "%s: %s", type == RD_KAFKA_CONSUMER ? "consumer" : "producer", errstr);
    return NULL;
}

static int start(worker_t *w) {
    const sa_worker_conf_t *c = w->conf;
    char errstr[512];
    if (c->worker_id && *c->worker_id) {
        snprintf(w->worker_id, sizeof(w->worker_id), "%s", c->worker_id);
    } else {
        char host[200] = "localhost";
        gethostname(host, sizeof(host) - 1);
        snprintf(w->worker_id, sizeof(w->worker_id), "%s-%d", host, (int)getpid());
    }
    w->batch_max = c->work_ms > 0 ? (size_t)SA_MAX(1, 1000 / c->work_ms) : BATCH_MAX;
    w->batch = sa_calloc(BATCH_MAX, sizeof(item_t));
    w->ring = sa_dup_ring_new((size_t)c->recent);
    sa_db_why_t why;
    w->db = sa_db_open(c->db, &why, errstr, sizeof(errstr));
    if (!w->db) {
        sa_log_error("worker", "%s", errstr);
        return SA_EXIT_STORE;
    }
    if (sa_results_log_open(c->results_log, remember_line, w, &w->log, errstr, sizeof(errstr)) != SA_OK) {
        sa_log_error("worker", "results log: %s", errstr);
        return -1;
    }
    sa_log_info("worker", "%s: %zu posts already in the results log %s", w->worker_id,
                sa_results_log_count(w->log), c->results_log);
    if (w->txn && sa_worker_txn_id(c, w->txn_id, sizeof(w->txn_id), &w->txn_lock, errstr, sizeof(errstr))) {
        sa_log_error("worker", "%s", errstr);
        return -1;
    }
    if (!(w->producer = new_client(w, RD_KAFKA_PRODUCER))) return -1;
    if (w->txn) {
        /* fences an earlier incarnation with this transactional.id and aborts what it left open */
        if (sa_worker_txn_init(w->producer, w->stop, errstr, sizeof(errstr))) {
            if (*w->stop) return 0; /* stopped while the coordinator was unreachable: a clean stop */
            sa_log_error("worker", "transactional.id %s: %s", w->txn_id, errstr);
            return -1;
        }
        sa_log_info("worker", "%s: exactly-once txn, transactional.id %s", w->worker_id, w->txn_id);
    }
    char max[32];
    size_t max_size = sizeof(max);
    w->result_max = 1000000;
    if (rd_kafka_conf_get(rd_kafka_conf(w->producer), "message.max.bytes", max, &max_size) ==
        RD_KAFKA_CONF_OK)
        w->result_max = (size_t)strtoull(max, NULL, 10);
    /* Room for the record framing and the key (a post id of at most 128 bytes). */
    w->result_max = w->result_max > 1024 ? w->result_max - 1024 : w->result_max / 2;
    if (!(w->consumer = new_client(w, RD_KAFKA_CONSUMER))) return -1;
    rd_kafka_poll_set_consumer(w->consumer);

    const sa_topic_spec_t specs[] = {{c->topic, (int)c->partitions},
                                     {c->results_topic, (int)c->partitions},
                                     {c->errors_topic, SA_BLOG_ERRORS_PARTITIONS}};
    if (sa_topics_ensure(w->producer, specs, SA_ARRAY_LEN(specs), 10000, errstr, sizeof(errstr)))
        /* Not fatal: the topics may exist already, or come with the broker a moment later. */
        sa_log_warn("worker", "could not make sure the topics exist: %s", errstr);

    rd_kafka_topic_partition_list_t *sub = rd_kafka_topic_partition_list_new(1);
    rd_kafka_topic_partition_list_add(sub, c->topic, RD_KAFKA_PARTITION_UA);
    rd_kafka_resp_err_t err = rd_kafka_subscribe(w->consumer, sub);
    rd_kafka_topic_partition_list_destroy(sub);
    if (err) {
        sa_log_error("worker", "subscribe to %s: %s", c->topic, rd_kafka_err2str(err));
        return -1;
    }
    sa_log_info("worker", "%s: consuming %s in group %s from %s (work %lld ms per post)", w->worker_id,
                c->topic, c->group, sa_client_bootstrap(&c->kafka), (long long)c->work_ms);
    return 0;
}

static void finish(worker_t *w) {
    if (w->consumer) {
        /* Leaves the group now, so the partitions move to another worker at once. */
        rd_kafka_resp_err_t err = rd_kafka_consumer_close(w->consumer);
        if (err) sa_log_warn("worker", "closing the consumer: %s", rd_kafka_err2str(err));
        rd_kafka_destroy(w->consumer);
    }
    if (w->producer) {
        rd_kafka_flush(w->producer, 10000);
        rd_kafka_destroy(w->producer);
    }
    for (size_t i = 0; w->batch && i < w->nbatch; i++) item_clear(&w->batch[i]);
    free(w->batch);
    for (size_t i = 0; i < w->n_owned; i++) free(w->owned_topics[i]);
    sa_results_log_close(w->log);
    sa_dup_ring_free(w->ring);
    sa_db_close(w->db);
    if (w->txn_lock >= 0) close(w->txn_lock);
}

int sa_worker_run(const sa_worker_conf_t *conf, volatile sig_atomic_t *stop) {
    worker_t w = {.conf = conf, .txn = txn_mode(conf), .txn_lock = -1, .stop = stop};
    int rc = SA_EXIT_FAIL;
    char errstr[512];
    int started = start(&w);
    if (started) {
        if (started == SA_EXIT_STORE) rc = SA_EXIT_STORE;
        goto out;
    }
    while (!*stop) {
        if (!w.txn && sa_mono_ms() >= w.next_reconcile_ms) { /* txn mode needs none (worker.h) */
            reconcile(&w);
            w.next_reconcile_ms = sa_mono_ms() + RECONCILE_MS;
        }
        fill_batch(&w);
        if (rd_kafka_fatal_error(w.producer, errstr, sizeof(errstr)) ||
            rd_kafka_fatal_error(w.consumer, errstr, sizeof(errstr))) {
            sa_log_error("worker", "fatal client error: %s", errstr);
            goto out;
        }
        int ran = w.nbatch ? run_batch(&w, stop) : 0;
        if (ran == SA_EXIT_FAIL) goto out;
        if (ran) {
            for (int64_t until = sa_mono_ms() + RETRY_PAUSE_MS; !*stop && sa_mono_ms() < until;)
                rd_kafka_poll(w.producer, 100);
        }
    }
    rc = SA_EXIT_OK;
out:
    sa_log_info("worker", "%s stopping: %llu posts scored, %llu replayed, %llu dead letters", w.worker_id,
                (unsigned long long)w.processed, (unsigned long long)w.replayed, (unsigned long long)w.dead);
    finish(&w);
    return rc;
}
