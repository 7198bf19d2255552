/*
 * bench_kafka - the benchmark client of `make bench`: produce, consume and end-to-end latency on
 * librdkafka, against any Kafka broker or against librdkafka's in-memory mock cluster (-b mock,
 * the ceiling of the client itself). Every run prints one JSON object on stdout; the runner
 * (tests/bench/bench_broker.py) repeats runs, interleaves the brokers and takes medians.
 *
 *   bench_kafka produce -b HOST:PORT|mock -t TOPIC [-s BYTES] [-d SECONDS] [-a ACKS] [-P PARTITIONS]
 *   bench_kafka consume -b HOST:PORT|mock -t TOPIC -n RECORDS [-s BYTES] [-P PARTITIONS]
 *   bench_kafka e2e     -b HOST:PORT|mock -t TOPIC -r RATE [-d SECONDS] [-s BYTES] [-a ACKS]
 *   common: -X key=value (any librdkafka property, producer and consumer), -S SEED
 *
 * produce: one producer sends as fast as it can for -d seconds; throughput is the records
 *   acknowledged / (last delivery report - first send), so records still queued count only when
 *   they are acknowledged.
 * consume: fills the topic up to -n records if it holds fewer (not timed), then one consumer
 *   reads every partition from the beginning up to the high watermarks; throughput is records /
 *   (last batch - first batch); the wait for the first batch is printed apart (first_ms). The
 *   mock cluster keeps only the last few MB of a partition, so it reads what it retained.
 * e2e: a fixed-rate schedule (record i is due at start + i/RATE) and a consumer thread on the
 *   same topic. Both latencies, acknowledgement and end to end, are measured from the record's
 *   due time, not from when the loop got round to sending it: a stall in the client or the broker
 *   counts against every record that should have gone out during it (no coordinated omission).
 *
 * The topic is created first (CreateTopics, -P partitions, "already exists" is fine). Payloads
 * are pseudo-random bytes from a fixed seed (-S), so compression-free runs are reproducible.
 * Not a test: exit 0 unless records fail (or in e2e are not acknowledged) or the broker cannot be
 * reached; e2e records the consumer did not see are counted in the JSON ("missing").
 */
#include <librdkafka/rdkafka.h>
#include <librdkafka/rdkafka_mock.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#define MAX_X 64

typedef struct opts_s {
    const char *mode, *brokers, *topic;
    long size, count, rate, partitions;
    double seconds;
    const char *acks;
    unsigned seed;
    char *xs[MAX_X]; /* borrows argv: -X key=value */
    int nx;
} opts_t;

static int64_t now_us(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
}

static _Noreturn void die(const char *what, const char *detail) {
    fprintf(stderr, "bench_kafka: %s: %s\n", what, detail);
    exit(1);
}

/* ---- configuration ---------------------------------------------------------------------- */

static void conf_set(rd_kafka_conf_t *conf, const char *key, const char *val) {
    char errstr[512];
    if (rd_kafka_conf_set(conf, key, val, errstr, sizeof(errstr)) != RD_KAFKA_CONF_OK) die(key, errstr);
}

/* Defaults of librdkafka except what the benchmark fixes (a producer's acks, no compression),
 * then -X (the runner passes the same -X to every target). */
static rd_kafka_conf_t *new_conf(const opts_t *o, const char *brokers, int producer) {
    rd_kafka_conf_t *conf = rd_kafka_conf_new();
    conf_set(conf, "bootstrap.servers", brokers);
    if (producer) {
        conf_set(conf, "acks", o->acks);
        conf_set(conf, "compression.codec", "none");
    }
    for (int i = 0; i < o->nx; i++) {
        char key[256];
        const char *eq = strchr(o->xs[i], '=');
        if (!eq || (size_t)(eq - o->xs[i]) >= sizeof(key)) die("-X wants key=value", o->xs[i]);
        memcpy(key, o->xs[i], (size_t)(eq - o->xs[i]));
        key[eq - o->xs[i]] = '\0';
        conf_set(conf, key, eq + 1);
    }
    return conf;
}

static rd_kafka_t *new_client(rd_kafka_type_t type, rd_kafka_conf_t *conf) {
    char errstr[512];
    rd_kafka_t *rk = rd_kafka_new(type, conf, errstr, sizeof(errstr));
    if (!rk) die("rd_kafka_new", errstr);
    return rk;
}

/* ---- target: a real broker, or a mock cluster living in this process --------------------- */

static rd_kafka_t *mock_host;
static rd_kafka_mock_cluster_t *mcluster;

/* Returns the bootstrap string to use: o->brokers, or the mock cluster's (valid until exit). */
static const char *target_open(const opts_t *o) {
    if (strcmp(o->brokers, "mock")) return o->brokers;
    rd_kafka_conf_t *conf = rd_kafka_conf_new();
    conf_set(conf, "log_level", "3"); /* the host has no bootstrap.servers, on purpose */
    mock_host = new_client(RD_KAFKA_PRODUCER, conf);
    mcluster = rd_kafka_mock_cluster_new(mock_host, 1);
    if (!mcluster) die("mock", "rd_kafka_mock_cluster_new failed");
    return rd_kafka_mock_cluster_bootstraps(mcluster);
}

static void target_close(void) {
    if (mcluster) rd_kafka_mock_cluster_destroy(mcluster);
    if (mock_host) rd_kafka_destroy(mock_host);
}

static void topic_create(const opts_t *o, rd_kafka_t *rk) {
    if (mcluster) {
        if (rd_kafka_mock_topic_create(mcluster, o->topic, (int)o->partitions, 1))
            die("mock topic create", o->topic);
        return;
    }
    char errstr[512];
    rd_kafka_NewTopic_t *nt = rd_kafka_NewTopic_new(o->topic, (int)o->partitions, 1, errstr, sizeof(errstr));
    if (!nt) die("NewTopic", errstr);
    rd_kafka_queue_t *q = rd_kafka_queue_new(rk);
    rd_kafka_CreateTopics(rk, &nt, 1, NULL, q);
    rd_kafka_event_t *ev = rd_kafka_queue_poll(q, 30000);
    const rd_kafka_CreateTopics_result_t *res = ev ? rd_kafka_event_CreateTopics_result(ev) : NULL;
    if (!res) die("CreateTopics", ev ? rd_kafka_event_error_string(ev) : "timed out");
    size_t n;
    const rd_kafka_topic_result_t **tr = rd_kafka_CreateTopics_result_topics(res, &n);
    for (size_t i = 0; i < n; i++) {
        rd_kafka_resp_err_t err = rd_kafka_topic_result_error(tr[i]);
        if (err && err != RD_KAFKA_RESP_ERR_TOPIC_ALREADY_EXISTS) die("CreateTopics", rd_kafka_err2str(err));
    }
    rd_kafka_event_destroy(ev);
    rd_kafka_queue_destroy(q);
    rd_kafka_NewTopic_destroy(nt);
}

/* ---- producing --------------------------------------------------------------------------- */

typedef struct prod_s {
    int64_t t0;                  /* first send, us */
    int64_t rate_x1000, n_sched; /* e2e: schedule (records per 1000 s) and records scheduled */
    int64_t *ack_lat;            /* e2e: [seq] acknowledgement latency from the due time, us */
    int64_t delivered, failed, last_dr_us;
} prod_t;

static int64_t due_us(int64_t t0, int64_t rate_x1000, int64_t seq) {
    return t0 + (int64_t)((double)seq * 1e9 / (double)rate_x1000);
}

static void dr_cb(rd_kafka_t *rk, const rd_kafka_message_t *m, void *opaque) {
    (void)rk;
    prod_t *p = opaque;
    int64_t t = now_us();
    if (m->err) {
        if (p->failed++ < 5) fprintf(stderr, "bench_kafka: delivery failed: %s\n", rd_kafka_err2str(m->err));
        return;
    }
    intptr_t seq = (intptr_t)m->_private;
    if (p->ack_lat && seq >= 0 && seq < p->n_sched) p->ack_lat[seq] = t - due_us(p->t0, p->rate_x1000, seq);
    p->delivered++;
    p->last_dr_us = t;
}

static rd_kafka_t *new_producer(const opts_t *o, const char *brokers, prod_t *p) {
    rd_kafka_conf_t *conf = new_conf(o, brokers, 1);
    rd_kafka_conf_set_dr_msg_cb(conf, dr_cb);
    rd_kafka_conf_set_opaque(conf, p);
    return new_client(RD_KAFKA_PRODUCER, conf);
}

static void send_one(rd_kafka_t *rk, const char *topic, const void *payload, size_t size, intptr_t seq) {
    for (;;) {
        rd_kafka_resp_err_t err = rd_kafka_producev(
            rk, RD_KAFKA_V_TOPIC(topic), RD_KAFKA_V_MSGFLAGS(RD_KAFKA_MSG_F_COPY),
            RD_KAFKA_V_VALUE((void *)payload, size), RD_KAFKA_V_OPAQUE((void *)seq), RD_KAFKA_V_END);
        if (!err) return;
        if (err != RD_KAFKA_RESP_ERR__QUEUE_FULL) die("produce", rd_kafka_err2str(err));
        rd_kafka_poll(rk, 1);
    }
}

/* Connection, metadata and the first batch happen before any clock starts. */
static void warm_up(rd_kafka_t *rk, prod_t *p, const char *topic, const void *payload, size_t size) {
    send_one(rk, topic, payload, size, -1);
    if (rd_kafka_flush(rk, 30000) || p->delivered != 1)
        die("warm-up", "the first record was not acknowledged");
    p->delivered = 0;
}

static char *new_payload(const opts_t *o) {
    char *payload = malloc((size_t)o->size);
    if (!payload) die("malloc", "payload");
    unsigned s = o->seed;
    for (long i = 0; i < o->size; i++) {
        s = s * 1103515245u + 12345u;
        payload[i] = (char)(s >> 16);
    }
    return payload;
}

static int run_produce(const opts_t *o, const char *brokers) {
    prod_t p = {0};
    char *payload = new_payload(o);
    rd_kafka_t *rk = new_producer(o, brokers, &p);
    topic_create(o, rk);
    warm_up(rk, &p, o->topic, payload, (size_t)o->size);

    p.t0 = now_us();
    int64_t end = p.t0 + (int64_t)(o->seconds * 1e6), sent = 0;
    while (now_us() < end) {
        for (int i = 0; i < 1024; i++) send_one(rk, o->topic, payload, (size_t)o->size, -1);
        sent += 1024;
        rd_kafka_poll(rk, 0);
    }
    int left = rd_kafka_flush(rk, 120000) ? rd_kafka_outq_len(rk) : 0;
    double secs = (double)(p.last_dr_us - p.t0) / 1e6, rate = secs > 0 ? (double)p.delivered / secs : 0;
    printf("{\"mode\":\"produce\",\"size\":%ld,\"acks\":\"%s\",\"partitions\":%ld,\"msgs_per_s\":%.0f,"
           "\"mb_per_s\":%.2f,\"sent\":%lld,\"delivered\":%lld,\"failed\":%lld,\"unflushed\":%d,\"secs\":%."
           "3f}\n",
           o->size, o->acks, o->partitions, rate, rate * (double)o->size / 1e6, (long long)sent,
           (long long)p.delivered, (long long)p.failed, left, secs);
    rd_kafka_destroy(rk);
    free(payload);
    return p.failed || left ? 1 : 0;
}

/* ---- consuming --------------------------------------------------------------------------- */

static rd_kafka_t *new_consumer(const opts_t *o, const char *brokers) {
    rd_kafka_conf_t *conf = new_conf(o, brokers, 0);
    conf_set(conf, "group.id", "bench_kafka");
    conf_set(conf, "enable.auto.commit", "false");
    conf_set(conf, "enable.partition.eof", "false");
    rd_kafka_t *rk = new_client(RD_KAFKA_CONSUMER, conf);
    rd_kafka_poll_set_consumer(rk);
    return rk;
}

static void assign_all(rd_kafka_t *rk, const opts_t *o) {
    rd_kafka_topic_partition_list_t *parts = rd_kafka_topic_partition_list_new((int)o->partitions);
    for (long i = 0; i < o->partitions; i++)
        rd_kafka_topic_partition_list_add(parts, o->topic, (int32_t)i)->offset = RD_KAFKA_OFFSET_BEGINNING;
    rd_kafka_resp_err_t err = rd_kafka_assign(rk, parts);
    if (err) die("assign", rd_kafka_err2str(err));
    rd_kafka_topic_partition_list_destroy(parts);
}

static int64_t high_watermarks(rd_kafka_t *rk, const opts_t *o) {
    int64_t total = 0;
    for (long i = 0; i < o->partitions; i++) {
        int64_t lo, hi, deadline = now_us() + 30 * 1000000LL;
        rd_kafka_resp_err_t err;
        /* A topic created a moment ago may not have its leader yet (Kafka): retry until it has. */
        while ((err = rd_kafka_query_watermark_offsets(rk, o->topic, (int32_t)i, &lo, &hi, 10000)) &&
               now_us() < deadline)
            usleep(100 * 1000);
        if (err) die("watermarks", rd_kafka_err2str(err));
        total += hi - lo;
    }
    return total;
}

static int run_consume(const opts_t *o, const char *brokers) {
    int rc = 1;
    prod_t p = {0};
    char *payload = new_payload(o);
    rd_kafka_t *prod = new_producer(o, brokers, &p);
    topic_create(o, prod);
    int64_t have = high_watermarks(prod, o);
    for (int64_t i = have; i < o->count; i++) {
        send_one(prod, o->topic, payload, (size_t)o->size, -1);
        if ((i & 1023) == 0) rd_kafka_poll(prod, 0);
    }
    if (rd_kafka_flush(prod, 120000) || p.failed) die("fill", "records not acknowledged");
    int64_t want = high_watermarks(prod, o);
    rd_kafka_destroy(prod);

    rd_kafka_t *rk = new_consumer(o, brokers);
    rd_kafka_queue_t *q = rd_kafka_queue_get_consumer(rk);
    rd_kafka_message_t *batch[1024];
    int64_t got = 0, bytes = 0, t_assign = now_us(), t0 = 0, t_last = 0,
            deadline = t_assign + 120 * 1000000LL;
    assign_all(rk, o);
    while (got < want && now_us() < deadline) {
        /* Never ask for more than is left: the call waits for a full batch or its timeout. */
        ssize_t n =
            rd_kafka_consume_batch_queue(q, 100, batch, want - got < 1024 ? (size_t)(want - got) : 1024);
        for (ssize_t i = 0; i < n; i++) {
            if (!batch[i]->err) {
                got++;
                bytes += (int64_t)batch[i]->len;
            } else if (batch[i]->err != RD_KAFKA_RESP_ERR__PARTITION_EOF) {
                fprintf(stderr, "bench_kafka: consume: %s\n", rd_kafka_message_errstr(batch[i]));
            }
            rd_kafka_message_destroy(batch[i]);
        }
        if (n > 0) {
            t_last = now_us();
            if (!t0) t0 = t_last;
        }
    }
    /* Timed from the first batch, so the offset look-up and first fetch (start-up, not throughput)
     * are reported apart as first_ms. */
    double secs = (double)(t_last - t0) / 1e6, rate = secs > 0 ? (double)got / secs : 0;
    printf("{\"mode\":\"consume\",\"size\":%ld,\"partitions\":%ld,\"msgs_per_s\":%.0f,\"mb_per_s\":%.2f,"
           "\"records\":%lld,\"wanted\":%lld,\"secs\":%.3f,\"first_ms\":%.1f}\n",
           o->size, o->partitions, rate, secs > 0 ? (double)bytes / secs / 1e6 : 0, (long long)got,
           (long long)want, secs, t0 ? (double)(t0 - t_assign) / 1000 : -1.0);
    rc = got == want ? 0 : 1;
    rd_kafka_queue_destroy(q);
    rd_kafka_consumer_close(rk);
    rd_kafka_destroy(rk);
    free(payload);
    return rc;
}

/* ---- end to end at a fixed rate ---------------------------------------------------------- */

/* The first 16 bytes of an e2e payload: sequence number and due time (us, CLOCK_MONOTONIC of
 * this process, which both sides share). */
typedef struct e2e_s {
    const opts_t *o;
    rd_kafka_t *rk;
    int64_t n;         /* records scheduled */
    int64_t *lat;      /* [seq] end-to-end latency from the due time, us; 0 = not seen */
    atomic_int stop;   /* set by the producer side when every record is in or time is up */
    atomic_llong seen; /* records consumed (warm-up record included) */
} e2e_t;

static void *consume_thread(void *arg) {
    e2e_t *e = arg;
    /* One record per poll: a batch call would hold early records until the batch fills. */
    while (!atomic_load(&e->stop)) {
        rd_kafka_message_t *m = rd_kafka_consumer_poll(e->rk, 50);
        if (!m) continue;
        int64_t t = now_us();
        if (!m->err && m->len >= 16) {
            int64_t hdr[2];
            memcpy(hdr, m->payload, sizeof(hdr));
            if (hdr[0] >= 0 && hdr[0] < e->n && !e->lat[hdr[0]])
                e->lat[hdr[0]] = t - hdr[1] > 0 ? t - hdr[1] : 1;
            atomic_fetch_add(&e->seen, 1);
        }
        rd_kafka_message_destroy(m);
    }
    return NULL;
}

static int cmp_i64(const void *a, const void *b) {
    int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;
    return x < y ? -1 : x > y;
}

/* Prints "name":{p50,p99,p999,max in ms} over the records seen; returns how many were missing. */
static int64_t print_percentiles(const char *name, const int64_t *lat, int64_t n) {
    int64_t *s = malloc(sizeof(int64_t) * (size_t)(n ? n : 1)), m = 0;
    if (!s) die("malloc", "percentiles");
    for (int64_t i = 0; i < n; i++)
        if (lat[i] > 0) s[m++] = lat[i];
    qsort(s, (size_t)m, sizeof(int64_t), cmp_i64);
    const double qs[] = {0.5, 0.99, 0.999};
    const char *names[] = {"p50", "p99", "p999"};
    printf("\"%s\":{", name);
    for (int k = 0; k < 3; k++) {
        int64_t idx = m ? (int64_t)(qs[k] * (double)m + 0.999999) - 1 : 0; /* nearest rank */
        printf("\"%s\":%.3f,", names[k], m ? (double)s[idx < 0 ? 0 : idx] / 1000 : -1.0);
    }
    printf("\"max\":%.3f,\"missing\":%lld}", m ? (double)s[m - 1] / 1000 : -1.0, (long long)(n - m));
    free(s);
    return n - m;
}

static int run_e2e(const opts_t *o, const char *brokers) {
    prod_t p = {0};
    char *payload = new_payload(o);
    e2e_t e = {.o = o, .n = (int64_t)((double)o->rate * o->seconds)};
    e.lat = calloc((size_t)e.n, sizeof(int64_t));
    p.ack_lat = calloc((size_t)e.n, sizeof(int64_t));
    if (!e.lat || !p.ack_lat) die("calloc", "latencies");
    rd_kafka_t *prod = new_producer(o, brokers, &p);
    topic_create(o, prod);
    e.rk = new_consumer(o, brokers);
    assign_all(e.rk, o);
    pthread_t thr;
    if (pthread_create(&thr, NULL, consume_thread, &e)) die("pthread_create", "consumer");

    /* Warm-up: one record through the whole path before the schedule starts. */
    int64_t hdr[2] = {-1, 0};
    memcpy(payload, hdr, sizeof(hdr));
    warm_up(prod, &p, o->topic, payload, (size_t)o->size);
    int64_t deadline = now_us() + 30 * 1000000LL;
    while (atomic_load(&e.seen) < 1 && now_us() < deadline) usleep(1000);
    if (atomic_load(&e.seen) < 1) die("warm-up", "the consumer did not see the first record within 30 s");

    p.rate_x1000 = o->rate * 1000;
    p.n_sched = e.n;
    p.t0 = now_us();
    int64_t late_max = 0;
    for (int64_t i = 0; i < e.n;) {
        int64_t t = now_us();
        for (; i < e.n && due_us(p.t0, p.rate_x1000, i) <= t; i++) {
            hdr[0] = i;
            hdr[1] = due_us(p.t0, p.rate_x1000, i);
            if (t - hdr[1] > late_max) late_max = t - hdr[1];
            memcpy(payload, hdr, sizeof(hdr));
            send_one(prod, o->topic, payload, (size_t)o->size, (intptr_t)i);
        }
        rd_kafka_poll(prod, 0);
        if (i < e.n) {
            int64_t wait = due_us(p.t0, p.rate_x1000, i) - now_us();
            if (wait > 0) usleep((useconds_t)(wait < 500 ? wait : 500));
        }
    }
    int64_t t_sent = now_us();
    rd_kafka_flush(prod, 60000);
    /* Wait for the consumer to see everything (or give up: a record not seen is reported). */
    deadline = now_us() + 30 * 1000000LL;
    while (atomic_load(&e.seen) < e.n + 1 && now_us() < deadline) usleep(1000);
    atomic_store(&e.stop, 1);
    pthread_join(thr, NULL);

    printf(
        "{\"mode\":\"e2e\",\"size\":%ld,\"acks\":\"%s\",\"rate\":%ld,\"records\":%lld,\"achieved_rate\":%.0f,"
        "\"send_late_max_ms\":%.3f,\"failed\":%lld,",
        o->size, o->acks, o->rate, (long long)e.n, (double)e.n * 1e6 / (double)(t_sent - p.t0),
        (double)late_max / 1000, (long long)p.failed);
    int64_t missing = print_percentiles("ack_ms", p.ack_lat, e.n);
    printf(",");
    print_percentiles("e2e_ms", e.lat, e.n); /* the runner judges these (the mock drops old data) */
    printf("}\n");
    rd_kafka_consumer_close(e.rk);
    rd_kafka_destroy(e.rk);
    rd_kafka_destroy(prod);
    free(e.lat);
    free(p.ack_lat);
    free(payload);
    return p.failed || missing ? 1 : 0;
}

/* ---- command line ------------------------------------------------------------------------ */

static void usage(FILE *f) {
    fprintf(
        f,
        "usage: bench_kafka produce|consume|e2e -b HOST:PORT|mock -t TOPIC [-s BYTES] [-d SECONDS]\n"
        "                  [-n RECORDS] [-r RATE] [-a ACKS] [-P PARTITIONS] [-S SEED] [-X key=value]...\n");
}

int main(int argc, char **argv) {
    opts_t o = {.brokers = "127.0.0.1:9092",
                .topic = "bench",
                .size = 100,
                .seconds = 3,
                .count = 100000,
                .rate = 10000,
                .partitions = 1,
                .acks = "all",
                .seed = 1};
    if (argc < 2 || argv[1][0] == '-') {
        usage(argc > 1 && !strcmp(argv[1], "-h") ? stdout : stderr);
        return argc > 1 && !strcmp(argv[1], "-h") ? 0 : 2;
    }
    o.mode = argv[1];
    optind = 2;
    int c;
    while ((c = getopt(argc, argv, "b:t:s:d:n:r:a:P:S:X:h")) != -1) {
        switch (c) {
        case 'b': o.brokers = optarg; break;
        case 't': o.topic = optarg; break;
        case 's': o.size = atol(optarg); break;
        case 'd': o.seconds = atof(optarg); break;
        case 'n': o.count = atol(optarg); break;
        case 'r': o.rate = atol(optarg); break;
        case 'a': o.acks = optarg; break;
        case 'P': o.partitions = atol(optarg); break;
        case 'S': o.seed = (unsigned)strtoul(optarg, NULL, 10); break;
        case 'X':
            if (o.nx == MAX_X) die("-X", "too many");
            o.xs[o.nx++] = optarg;
            break;
        default: usage(c == 'h' ? stdout : stderr); return c == 'h' ? 0 : 2;
        }
    }
    if (o.size < 1 || o.seconds <= 0 || o.count < 0 || o.rate < 1 || o.partitions < 1 ||
        o.partitions > 10000) {
        usage(stderr);
        return 2;
    }
    int rc = 2;
    const char *brokers = target_open(&o);
    if (!strcmp(o.mode, "produce")) {
        rc = run_produce(&o, brokers);
    } else if (!strcmp(o.mode, "consume")) {
        rc = run_consume(&o, brokers);
    } else if (!strcmp(o.mode, "e2e")) {
        if (o.size < 16) die("e2e", "-s must be at least 16 (sequence and due time)");
        rc = run_e2e(&o, brokers);
    } else {
        usage(stderr);
    }
    target_close();
    return rc;
}
