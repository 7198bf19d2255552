/*
 * web_kafka.c - producer, tail consumer and queue monitor of `samsa web` (see web_kafka.h).
 *
 * Why these settings: acks=all + enable.idempotence so an acknowledged post is durably in the
 * log exactly once even if librdkafka retries; linger.ms=1 keeps the answer fast while still
 * batching under load; message.timeout.ms=5000 so a request waiting on a dead broker gets its
 * 503 in seconds rather than minutes (every one of these can be overridden with -X).
 */
#include "blog/web/web_kafka.h"

#include <librdkafka/rdkafka.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "blog/model/topics_ensure.h"
#include "client/client.h"
#include "core/log.h"
#include "core/mem.h"
#include "core/time.h"

#define MAX_PARTS 1024 /* partitions tracked per topic */

struct sa_web_kafka_s {
    sa_web_kafka_conf_t conf;
    rd_kafka_t *producer;
    rd_kafka_topic_t *rkt;
    rd_kafka_t *consumer;
    pthread_t poller, tail, monitor;
    int threads; /* how many of the three were started */
    atomic_int run;
    _Atomic int64_t last_ok_ms; /* monotonic time of the last successful metadata answer */
    _Atomic int64_t lag, workers;
    int assigned[2]; /* partitions assigned so far, per topic */
    int started[2];  /* the topic's first partitions were assigned (at their end) */
    pthread_mutex_t sleep_lock;
    pthread_cond_t sleep_cond;
};

static void dr_cb(rd_kafka_t *rk, const rd_kafka_message_t *msg, void *opaque) {
    (void)rk;
    sa_web_kafka_t *k = opaque;
    /* a failed record may still have reached the log (a timeout after sending): the caller must
     * then keep its post for the recovery sweep rather than free its key */
    int maybe = msg->err && rd_kafka_message_status(msg) != RD_KAFKA_MSG_STATUS_NOT_PERSISTED;
    k->conf.ack(msg->_private, msg->err ? rd_kafka_err2str(msg->err) : NULL, maybe);
}

/* Sleep up to @p ms, waking early when the object is being stopped. */
static void nap(sa_web_kafka_t *k, int ms) {
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    ts.tv_sec += ms / 1000;
    ts.tv_nsec += (long)(ms % 1000) * 1000000L;
    if (ts.tv_nsec >= 1000000000L) {
        ts.tv_sec++;
        ts.tv_nsec -= 1000000000L;
    }
    pthread_mutex_lock(&k->sleep_lock);
    if (atomic_load(&k->run)) pthread_cond_timedwait(&k->sleep_cond, &k->sleep_lock, &ts);
    pthread_mutex_unlock(&k->sleep_lock);
}

static void *poller_main(void *arg) {
    sa_web_kafka_t *k = arg;
    while (atomic_load(&k->run)) rd_kafka_poll(k->producer, 100);
    return NULL;
}

#define END_QUERY_MS 10000 /* how long a partition's end is asked for before the next round */

/* The end of @p topic [@p partition] as of now, or -1. A topic just created on a real cluster
 * has no leader for a moment (its watermarks fail): asked again until it has one. */
static int64_t end_now(sa_web_kafka_t *k, const char *topic, int partition) {
    int64_t deadline = sa_mono_ms() + END_QUERY_MS;
    for (;;) {
        int64_t lo = 0, hi = 0;
        rd_kafka_resp_err_t err =
            rd_kafka_query_watermark_offsets(k->consumer, topic, partition, &lo, &hi, 2000);
        if (!err) return hi;
        if (sa_mono_ms() >= deadline || !atomic_load(&k->run)) {
            sa_log_warn("web", "tail: no end offset for %s [%d] yet (%s): tried again later", topic,
                        partition, rd_kafka_err2str(err));
            return -1;
        }
        nap(k, 100);
    }
}

/* Assign every partition of the two topics not assigned yet: the first ones at their end as of
 * now (the tail only turns new records into live events; pages read the store), partitions
 * added later from their beginning. The end is asked for, not RD_KAFKA_OFFSET_END (resolved
 * later by the fetcher, so a record produced meanwhile would be skipped); a partition whose end
 * is not known yet waits for the next round with the ones after it. */
static void assign_new(sa_web_kafka_t *k) {
    const struct rd_kafka_metadata *md;
    if (rd_kafka_metadata(k->consumer, 1, NULL, &md, 2000) != RD_KAFKA_RESP_ERR_NO_ERROR) return;
    rd_kafka_topic_partition_list_t *add = rd_kafka_topic_partition_list_new(8);
    const char *topics[2] = {k->conf.topic, k->conf.results_topic};
    for (int t = 0; t < md->topic_cnt; t++)
        for (int w = 0; w < 2; w++) {
            if (strcmp(md->topics[t].topic, topics[w]) || md->topics[t].err) continue;
            int cnt = SA_MIN(md->topics[t].partition_cnt, MAX_PARTS), whole = 1;
            for (int p = k->assigned[w]; p < cnt; p++) {
                int64_t from = k->started[w] ? RD_KAFKA_OFFSET_BEGINNING : end_now(k, topics[w], p);
                if (from == -1) {
                    cnt = p;
                    whole = 0;
                    break;
                }
                rd_kafka_topic_partition_list_add(add, topics[w], p)->offset = from;
            }
            if (cnt > k->assigned[w]) k->assigned[w] = cnt;
            if (cnt > 0 && whole) k->started[w] = 1;
        }
    rd_kafka_metadata_destroy(md);
    if (add->cnt) {
        rd_kafka_error_t *error = rd_kafka_incremental_assign(k->consumer, add);
        if (error) {
            sa_log_warn("web", "cannot assign %d partitions: %s", add->cnt, rd_kafka_error_string(error));
            rd_kafka_error_destroy(error);
            memset(k->assigned, 0, sizeof(k->assigned)); /* try again next round */
        } else {
            sa_log_debug(SA_DBG_HTTP, "web", "tailing %d more partitions", add->cnt);
        }
    }
    rd_kafka_topic_partition_list_destroy(add);
}

static void apply(sa_web_kafka_t *k, const rd_kafka_message_t *msg) {
    const char *topic = rd_kafka_topic_name(msg->rkt);
    json_t *v = json_loadb(msg->payload, msg->len, 0, NULL);
    if (json_is_object(v) && k->conf.record)
        k->conf.record(k->conf.opaque, !strcmp(topic, k->conf.topic), v);
    else
        sa_log_debug(SA_DBG_HTTP, "web", "skipped a record of %s [%d] at %lld that is not a post", topic,
                     (int)msg->partition, (long long)msg->offset);
    json_decref(v);
}

static void *tail_main(void *arg) {
    sa_web_kafka_t *k = arg;
    int64_t next_check = sa_mono_ms() + 500;
    while (atomic_load(&k->run)) {
        if (sa_mono_ms() >= next_check) {
            assign_new(k);
            /* quickly until both topics exist, then now and then for new partitions */
            next_check = sa_mono_ms() + (k->assigned[0] && k->assigned[1] ? 5000 : 500);
        }
        rd_kafka_message_t *msg = rd_kafka_consumer_poll(k->consumer, 100);
        if (!msg) continue;
        if (!msg->err)
            apply(k, msg);
        else if (msg->err != RD_KAFKA_RESP_ERR__PARTITION_EOF)
            sa_log_debug(SA_DBG_HTTP, "web", "tail: %s", rd_kafka_message_errstr(msg));
        rd_kafka_message_destroy(msg);
    }
    return NULL;
}

/* Committed offsets of the workers' group: sum(high watermark - committed) over the topic. */
static void measure_queue(sa_web_kafka_t *k, int partitions, rd_kafka_queue_t *q) {
    int64_t lag = -1, workers = -1;
    rd_kafka_AdminOptions_t *opt = rd_kafka_AdminOptions_new(k->producer, RD_KAFKA_ADMIN_OP_ANY);
    rd_kafka_AdminOptions_set_request_timeout(opt, 1500, NULL, 0);

    rd_kafka_topic_partition_list_t *want = rd_kafka_topic_partition_list_new(partitions);
    for (int p = 0; p < partitions; p++) rd_kafka_topic_partition_list_add(want, k->conf.topic, p);
    rd_kafka_ListConsumerGroupOffsets_t *req = rd_kafka_ListConsumerGroupOffsets_new(k->conf.group, want);
    rd_kafka_ListConsumerGroupOffsets(k->producer, &req, 1, opt, q);
    rd_kafka_event_t *ev = rd_kafka_queue_poll(q, 3000);
    rd_kafka_ListConsumerGroupOffsets_destroy(req);
    rd_kafka_topic_partition_list_destroy(want);
    const rd_kafka_ListConsumerGroupOffsets_result_t *res =
        ev ? rd_kafka_event_ListConsumerGroupOffsets_result(ev) : NULL;
    size_t cnt = 0;
    const rd_kafka_group_result_t **groups =
        res ? rd_kafka_ListConsumerGroupOffsets_result_groups(res, &cnt) : NULL;
    if (cnt == 1 && !rd_kafka_group_result_error(groups[0])) {
        const rd_kafka_topic_partition_list_t *parts = rd_kafka_group_result_partitions(groups[0]);
        lag = 0;
        for (int i = 0; parts && i < parts->cnt; i++) {
            int64_t lo, hi;
            if (rd_kafka_query_watermark_offsets(k->producer, k->conf.topic, parts->elems[i].partition, &lo,
                                                 &hi, 1000)) {
                lag = -1;
                break;
            }
            int64_t from = parts->elems[i].offset >= 0 ? parts->elems[i].offset : lo;
            if (hi > from) lag += hi - from;
        }
    }
    if (ev) rd_kafka_event_destroy(ev);

    /* Members through the classic ListGroups/DescribeGroups call: librdkafka 2.0.2's
     * DescribeConsumerGroups admin request leaves rd_kafka_destroy() hanging at shutdown. */
    const struct rd_kafka_group_list *gl;
    if (rd_kafka_list_groups(k->producer, k->conf.group, &gl, 1500) == RD_KAFKA_RESP_ERR_NO_ERROR) {
        workers = 0;
        for (int i = 0; i < gl->group_cnt; i++)
            if (!strcmp(gl->groups[i].group, k->conf.group) && !gl->groups[i].err &&
                strcmp(gl->groups[i].state, "Dead") && strcmp(gl->groups[i].state, "Empty"))
                workers = gl->groups[i].member_cnt;
        rd_kafka_group_list_destroy(gl);
    }
    rd_kafka_AdminOptions_destroy(opt);
    atomic_store(&k->lag, lag);
    atomic_store(&k->workers, workers);
}

static void *monitor_main(void *arg) {
    sa_web_kafka_t *k = arg;
    rd_kafka_queue_t *q = rd_kafka_queue_new(k->producer);
    while (atomic_load(&k->run)) {
        const struct rd_kafka_metadata *md;
        int64_t t0 = sa_mono_ms();
        if (rd_kafka_metadata(k->producer, 0, k->rkt, &md, 1000) == RD_KAFKA_RESP_ERR_NO_ERROR) {
            atomic_store(&k->last_ok_ms, sa_mono_ms());
            int partitions = md->topic_cnt == 1 && !md->topics[0].err ? md->topics[0].partition_cnt : 0;
            rd_kafka_metadata_destroy(md);
            if (partitions > 0) measure_queue(k, partitions, q);
        }
        int64_t spent = sa_mono_ms() - t0;
        if (spent < 1000) nap(k, (int)(1000 - spent));
    }
    rd_kafka_queue_destroy(q);
    return NULL;
}

static const char *const producer_defaults[] = {"acks=all",
                                                "enable.idempotence=true",
                                                "linger.ms=1",
                                                "message.timeout.ms=5000",
                                                "socket.connection.setup.timeout.ms=3000",
                                                NULL};
static const char *const consumer_defaults[] = {
    "group.id=samsa-web", "enable.auto.commit=false", "enable.auto.offset.store=false",
    "fetch.wait.max.ms=100", "enable.partition.eof=false", "topic.metadata.refresh.interval.ms=5000",
    /* librdkafka prefetches up to 64 MB per partition by default: 6 partitions of a busy blog
     * made the web server's peak RSS ~600 MB. The tail is applied as fast as it arrives. */
    "queued.max.messages.kbytes=4096", NULL};
const sa_client_role_t sa_web_kafka_clients[SA_WEB_KAFKA_CLIENTS] = {
    {"producer (posts, queue statistics)", SA_CLIENT_PRODUCER, producer_defaults, NULL},
    {"tail consumer (operations and results)", SA_CLIENT_CONSUMER, consumer_defaults, NULL}};

sa_web_kafka_t *sa_web_kafka_new(const sa_web_kafka_conf_t *conf, char *errstr, size_t errstr_size) {
    sa_web_kafka_t *k = sa_new(sa_web_kafka_t);
    k->conf = *conf;
    atomic_store(&k->run, 1);
    atomic_store(&k->lag, -1);
    atomic_store(&k->workers, -1);
    atomic_store(&k->last_ok_ms, -100000);
    pthread_mutex_init(&k->sleep_lock, NULL);
    pthread_cond_init(&k->sleep_cond, NULL);

    rd_kafka_conf_t *pconf = sa_client_conf_new(conf->kafka, &sa_web_kafka_clients[0], errstr, errstr_size);
    if (!pconf) goto err;
    rd_kafka_conf_set_dr_msg_cb(pconf, dr_cb);
    rd_kafka_conf_set_opaque(pconf, k);
    k->producer = rd_kafka_new(RD_KAFKA_PRODUCER, pconf, errstr, errstr_size);
    if (!k->producer) {
        rd_kafka_conf_destroy(pconf);
        goto err;
    }
    /* Create the topics with their real partition counts before anything asks for their
     * metadata: the worker starts at the same moment (samsa up), and a metadata request for a
     * missing topic would auto-create it with the broker's default of one partition. */
    const sa_topic_spec_t specs[] = {{conf->topic, SA_BLOG_OPERATIONS_PARTITIONS},
                                     {conf->results_topic, SA_BLOG_RESULTS_PARTITIONS}};
    char why[512];
    if (sa_topics_ensure(k->producer, specs, SA_ARRAY_LEN(specs), 3000, why, sizeof(why)))
        sa_log_warn("web", "could not make sure the topics exist (they are created on first use): %s", why);
    k->rkt = rd_kafka_topic_new(k->producer, conf->topic, NULL);

    rd_kafka_conf_t *cconf = sa_client_conf_new(conf->kafka, &sa_web_kafka_clients[1], errstr, errstr_size);
    if (!cconf) goto err;
    k->consumer = rd_kafka_new(RD_KAFKA_CONSUMER, cconf, errstr, errstr_size);
    if (!k->consumer) {
        rd_kafka_conf_destroy(cconf);
        goto err;
    }
    rd_kafka_poll_set_consumer(k->consumer);

    /* the tail's first assignment before anything is served: no record made after the server
     * answers can fall before the tail's starting point */
    assign_new(k);
    if (pthread_create(&k->poller, NULL, poller_main, k)) goto err_thread;
    k->threads++;
    if (pthread_create(&k->tail, NULL, tail_main, k)) goto err_thread;
    k->threads++;
    if (pthread_create(&k->monitor, NULL, monitor_main, k)) goto err_thread;
    k->threads++;
    return k;
err_thread:
    snprintf(errstr, errstr_size, "cannot start a thread");
err:
    sa_web_kafka_free(k);
    return NULL;
}

int sa_web_kafka_produce(sa_web_kafka_t *k, const char *key, const char *value, size_t len, void *msg_opaque,
                         char *errstr, size_t errstr_size) {
    rd_kafka_resp_err_t err =
        rd_kafka_producev(k->producer, RD_KAFKA_V_RKT(k->rkt), RD_KAFKA_V_KEY(key, strlen(key)),
                          RD_KAFKA_V_VALUE((void *)value, len), RD_KAFKA_V_MSGFLAGS(RD_KAFKA_MSG_F_COPY),
                          RD_KAFKA_V_OPAQUE(msg_opaque), RD_KAFKA_V_END);
    if (err) {
        snprintf(errstr, errstr_size, "%s", rd_kafka_err2str(err));
        return -1;
    }
    return 0;
}

int64_t sa_web_kafka_message_timeout_ms(sa_web_kafka_t *k) {
    char v[32];
    size_t n = sizeof(v);
    if (rd_kafka_conf_get(rd_kafka_conf(k->producer), "message.timeout.ms", v, &n) != RD_KAFKA_CONF_OK)
        return 300000;
    return strtoll(v, NULL, 10);
}

int sa_web_kafka_healthy(sa_web_kafka_t *k) { return sa_mono_ms() - atomic_load(&k->last_ok_ms) < 3000; }

void sa_web_kafka_queue(sa_web_kafka_t *k, int64_t *lag, int64_t *workers) {
    *lag = atomic_load(&k->lag);
    *workers = atomic_load(&k->workers);
}

int sa_web_kafka_flush(sa_web_kafka_t *k, int timeout_ms) {
    /* the poller thread serves the delivery reports; rd_kafka_flush also polls, which is safe */
    rd_kafka_flush(k->producer, timeout_ms);
    int left = rd_kafka_outq_len(k->producer);
    if (left > 0) {
        /* fail what is left now, so every waiting request is answered (503) while it still
         * exists: the HTTP daemon frees suspended requests when it stops */
        rd_kafka_purge(k->producer, RD_KAFKA_PURGE_F_QUEUE | RD_KAFKA_PURGE_F_INFLIGHT);
        rd_kafka_flush(k->producer, 1000);
    }
    return left;
}

void sa_web_kafka_free(sa_web_kafka_t *k) {
    if (!k) return;
    if (k->producer && k->threads) sa_web_kafka_flush(k, 10000);
    pthread_mutex_lock(&k->sleep_lock);
    atomic_store(&k->run, 0);
    pthread_cond_broadcast(&k->sleep_cond);
    pthread_mutex_unlock(&k->sleep_lock);
    if (k->threads > 0) pthread_join(k->poller, NULL);
    if (k->threads > 1) pthread_join(k->tail, NULL);
    if (k->threads > 2) pthread_join(k->monitor, NULL);
    if (k->consumer) {
        rd_kafka_consumer_close(k->consumer);
        rd_kafka_destroy(k->consumer);
    }
    if (k->rkt) rd_kafka_topic_destroy(k->rkt);
    if (k->producer) rd_kafka_destroy(k->producer);
    pthread_cond_destroy(&k->sleep_cond);
    pthread_mutex_destroy(&k->sleep_lock);
    free(k);
}
