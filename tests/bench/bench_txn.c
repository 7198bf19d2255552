/*
 * bench_txn - the transactions benchmark client of `make bench` (tests/bench/bench_txn.py runs it
 * against samsa and Apache Kafka): a librdkafka transactional producer, and a read_committed
 * consumer. Every run prints one JSON object on stdout.
 *
 *   bench_txn produce -b HOST:PORT -t TOPIC -n TXN_RECORDS [-s BYTES] [-d SECONDS] [-P PARTITIONS]
 *   bench_txn e2e     -b HOST:PORT -t TOPIC -n TXN_RECORDS -r RATE [-d SECONDS] [-s BYTES] [-P PARTITIONS]
 *   common: -X key=value (any librdkafka property, producer and consumer), -S SEED
 *
 * produce: transactions of -n records back to back for -d seconds (at least 3 of them): begin,
 *   produce n records (keyless: spread over the partitions), commit. Throughput = records
 *   committed / time from the first begin to the last commit's return; also the commit call's
 *   and the whole transaction's p50/p99 (ms).
 * e2e: a fixed-rate schedule (record i is due at start + i/RATE) produced in transactions of -n
 *   records, each committed as soon as its last record is sent, and a read_committed consumer on
 *   the same topic. Latency = when the consumer gets the record - its due time, so a slow commit
 *   counts against every record that should have gone out meanwhile (no coordinated omission);
 *   a record only becomes visible to read_committed at its transaction's commit, so the latency
 *   includes waiting for the rest of its transaction (at most n/RATE) and the commit.
 *
 * The topic is created first (CreateTopics, "already exists" is fine). The transactional.id is
 * bench-txn-PID-TOPIC. Not a test: exit 0 unless a transaction fails, records go missing or the
 * broker cannot be reached.
 */
#include <librdkafka/rdkafka.h>
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
    long size, txn_records, rate, partitions;
    double seconds;
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
    fprintf(stderr, "bench_txn: %s: %s\n", what, detail);
    exit(1);
}

static void conf_set(rd_kafka_conf_t *conf, const char *key, const char *val) {
    char errstr[512];
    if (rd_kafka_conf_set(conf, key, val, errstr, sizeof(errstr)) != RD_KAFKA_CONF_OK) die(key, errstr);
}

static rd_kafka_conf_t *new_conf(const opts_t *o) {
    rd_kafka_conf_t *conf = rd_kafka_conf_new();
    conf_set(conf, "bootstrap.servers", o->brokers);
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

static void check(rd_kafka_error_t *error, const char *what) {
    if (!error) return;
    char msg[512];
    snprintf(msg, sizeof(msg), "%s", rd_kafka_error_string(error));
    rd_kafka_error_destroy(error);
    die(what, msg);
}

static void topic_create(const opts_t *o, rd_kafka_t *rk) {
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

/* ---- the transactional producer ------------------------------------------------------------- */

static atomic_long failed_deliveries;

static void dr_cb(rd_kafka_t *rk, const rd_kafka_message_t *m, void *opaque) {
    (void)rk;
    (void)opaque;
    if (m->err && atomic_fetch_add(&failed_deliveries, 1) < 5)
        fprintf(stderr, "bench_txn: delivery failed: %s\n", rd_kafka_err2str(m->err));
}

static rd_kafka_t *new_txn_producer(const opts_t *o) {
    rd_kafka_conf_t *conf = new_conf(o);
    char tid[300];
    snprintf(tid, sizeof(tid), "bench-txn-%d-%s", (int)getpid(), o->topic);
    conf_set(conf, "transactional.id", tid);
    rd_kafka_conf_set_dr_msg_cb(conf, dr_cb);
    rd_kafka_t *rk = new_client(RD_KAFKA_PRODUCER, conf);
    topic_create(o, rk);
    check(rd_kafka_init_transactions(rk, 60000), "init_transactions");
    return rk;
}

static void send_one(rd_kafka_t *rk, const char *topic, const void *payload, size_t size) {
    for (;;) {
        rd_kafka_resp_err_t err =
            rd_kafka_producev(rk, RD_KAFKA_V_TOPIC(topic), RD_KAFKA_V_MSGFLAGS(RD_KAFKA_MSG_F_COPY),
                              RD_KAFKA_V_VALUE((void *)payload, size), RD_KAFKA_V_END);
        if (!err) return;
        if (err != RD_KAFKA_RESP_ERR__QUEUE_FULL) die("produce", rd_kafka_err2str(err));
        rd_kafka_poll(rk, 1);
    }
}

static void commit(rd_kafka_t *rk) {
    check(rd_kafka_commit_transaction(rk, 60000), "commit_transaction");
    if (atomic_load(&failed_deliveries)) die("commit", "records failed inside a committed transaction");
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

static int cmp_i64(const void *a, const void *b) {
    int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;
    return (x > y) - (x < y);
}

/* @returns the @p q quantile (0..1) of @p v (sorted in place), in ms. */
static double pct_ms(int64_t *v, size_t n, double q) {
    if (!n) return -1;
    qsort(v, n, sizeof(*v), cmp_i64);
    size_t i = (size_t)(q * (double)(n - 1) + 0.5);
    return (double)v[i] / 1000.0;
}

static int run_produce(const opts_t *o) {
    rd_kafka_t *rk = new_txn_producer(o);
    char *payload = new_payload(o);
    /* a first transaction sets up connections, partitions and the coordinator off the clock */
    check(rd_kafka_begin_transaction(rk), "begin_transaction");
    send_one(rk, o->topic, payload, (size_t)o->size);
    commit(rk);
    size_t cap = 1024, n = 0;
    int64_t *txn_us = malloc(cap * sizeof(*txn_us)), *commit_us = malloc(cap * sizeof(*commit_us));
    if (!txn_us || !commit_us) die("malloc", "timings");
    int64_t t0 = now_us(), end = t0 + (int64_t)(o->seconds * 1e6), records = 0;
    while (now_us() < end || n < 3) {
        int64_t b = now_us();
        check(rd_kafka_begin_transaction(rk), "begin_transaction");
        for (long i = 0; i < o->txn_records; i++) send_one(rk, o->topic, payload, (size_t)o->size);
        int64_t c = now_us();
        commit(rk);
        int64_t e = now_us();
        if (n == cap) {
            cap *= 2;
            int64_t *t = realloc(txn_us, cap * sizeof(*txn_us)),
                    *c2 = realloc(commit_us, cap * sizeof(*commit_us));
            if (!t || !c2) die("realloc", "timings");
            txn_us = t;
            commit_us = c2;
        }
        txn_us[n] = e - b;
        commit_us[n++] = e - c;
        records += o->txn_records;
    }
    double secs = (double)(now_us() - t0) / 1e6;
    printf("{\"mode\":\"produce\",\"size\":%ld,\"txn_records\":%ld,\"partitions\":%ld,\"records\":%lld,"
           "\"txns\":%zu,\"seconds\":%.3f,\"msgs_per_s\":%.0f,\"txns_per_s\":%.1f,\"txn_ms_p50\":%.3f,"
           "\"txn_ms_p99\":%.3f,\"commit_ms_p50\":%.3f,\"commit_ms_p99\":%.3f}\n",
           o->size, o->txn_records, o->partitions, (long long)records, n, secs, (double)records / secs,
           (double)n / secs, pct_ms(txn_us, n, 0.5), pct_ms(txn_us, n, 0.99), pct_ms(commit_us, n, 0.5),
           pct_ms(commit_us, n, 0.99));
    free(txn_us);
    free(commit_us);
    free(payload);
    rd_kafka_destroy(rk);
    return 0;
}

/* ---- e2e: fixed-rate transactions, a read_committed consumer ------------------------------ */

typedef struct e2e_s {
    const opts_t *o;
    int64_t t0, n_sched;
    int64_t *lat;         /* [seq] end-to-end latency from the due time, us; -1 until seen */
    atomic_long received; /* distinct records seen */
    atomic_int done;      /* the producer finished; the consumer may stop once all arrived */
    rd_kafka_t *consumer;
} e2e_t;

static int64_t due_us(const e2e_t *e, int64_t seq) {
    return e->t0 + (int64_t)((double)seq * 1e6 / (double)e->o->rate);
}

static void *consume_main(void *arg) {
    e2e_t *e = arg;
    int64_t give_up = 0;
    while (atomic_load(&e->received) < e->n_sched) {
        if (atomic_load(&e->done) && !give_up) give_up = now_us() + 30000000;
        if (give_up && now_us() > give_up) break;
        rd_kafka_message_t *m = rd_kafka_consumer_poll(e->consumer, 100);
        if (!m) continue;
        int64_t t = now_us();
        if (!m->err && m->len >= sizeof(int64_t)) {
            int64_t seq;
            memcpy(&seq, m->payload, sizeof(seq));
            if (seq >= 0 && seq < e->n_sched && e->lat[seq] < 0) {
                e->lat[seq] = t - due_us(e, seq);
                atomic_fetch_add(&e->received, 1);
            }
        }
        rd_kafka_message_destroy(m);
    }
    return NULL;
}

/* Assign every partition at its current end (read_committed: the last stable offset). */
static void assign_at_end(rd_kafka_t *c, const opts_t *o) {
    rd_kafka_topic_partition_list_t *parts = rd_kafka_topic_partition_list_new((int)o->partitions);
    for (int p = 0; p < o->partitions; p++) {
        int64_t lo, hi;
        rd_kafka_resp_err_t err = rd_kafka_query_watermark_offsets(c, o->topic, p, &lo, &hi, 30000);
        if (err) die("watermarks", rd_kafka_err2str(err));
        rd_kafka_topic_partition_list_add(parts, o->topic, p)->offset = hi;
    }
    rd_kafka_resp_err_t err = rd_kafka_assign(c, parts);
    if (err) die("assign", rd_kafka_err2str(err));
    rd_kafka_topic_partition_list_destroy(parts);
}

static int run_e2e(const opts_t *o) {
    rd_kafka_t *rk = new_txn_producer(o);
    char *payload = new_payload(o);
    check(rd_kafka_begin_transaction(rk), "begin_transaction"); /* warm-up, before the consumer */
    send_one(rk, o->topic, payload, (size_t)o->size);
    commit(rk);

    e2e_t e = {.o = o};
    e.n_sched = (int64_t)(o->seconds * (double)o->rate);
    e.lat = malloc((size_t)e.n_sched * sizeof(*e.lat));
    for (int64_t i = 0; i < e.n_sched; i++) e.lat[i] = -1;
    rd_kafka_conf_t *cc = new_conf(o);
    conf_set(cc, "log_level", "3"); /* -X is for both clients: no warning per producer property */
    conf_set(cc, "group.id", "bench_txn");
    conf_set(cc, "enable.auto.commit", "false");
    conf_set(cc, "isolation.level", "read_committed");
    e.consumer = new_client(RD_KAFKA_CONSUMER, cc);
    rd_kafka_poll_set_consumer(e.consumer);
    assign_at_end(e.consumer, o);
    pthread_t th;
    e.t0 = now_us() + 200000; /* the consumer's first fetch is out before the first record is due */
    pthread_create(&th, NULL, consume_main, &e);
    for (int64_t seq = 0; seq < e.n_sched;) {
        check(rd_kafka_begin_transaction(rk), "begin_transaction");
        for (long k = 0; k < o->txn_records && seq < e.n_sched; k++, seq++) {
            int64_t wait = due_us(&e, seq) - now_us();
            if (wait > 0) usleep((useconds_t)wait);
            memcpy(payload, &seq, sizeof(seq));
            send_one(rk, o->topic, payload, (size_t)o->size);
        }
        commit(rk);
    }
    atomic_store(&e.done, 1);
    pthread_join(th, NULL);
    int64_t *seen = malloc((size_t)e.n_sched * sizeof(*seen));
    size_t n = 0;
    for (int64_t i = 0; i < e.n_sched; i++)
        if (e.lat[i] >= 0) seen[n++] = e.lat[i];
    printf(
        "{\"mode\":\"e2e\",\"size\":%ld,\"txn_records\":%ld,\"partitions\":%ld,\"rate\":%ld,\"records\":%lld,"
        "\"missing\":%lld,\"e2e_ms_p50\":%.3f,\"e2e_ms_p99\":%.3f,\"e2e_ms_p999\":%.3f,\"e2e_ms_max\":%.3f}"
        "\n",
        o->size, o->txn_records, o->partitions, o->rate, (long long)e.n_sched,
        (long long)(e.n_sched - (int64_t)n), pct_ms(seen, n, 0.5), pct_ms(seen, n, 0.99),
        pct_ms(seen, n, 0.999), pct_ms(seen, n, 1.0));
    int rc = (int64_t)n == e.n_sched ? 0 : 1;
    free(seen);
    free(e.lat);
    free(payload);
    rd_kafka_consumer_close(e.consumer);
    rd_kafka_destroy(e.consumer);
    rd_kafka_destroy(rk);
    return rc;
}

static _Noreturn void usage(void) {
    fprintf(stderr, "usage: bench_txn produce|e2e -b HOST:PORT -t TOPIC -n TXN_RECORDS [-r RATE] [-s BYTES] "
                    "[-d SECONDS] [-P PARTITIONS] [-X key=value] [-S SEED]\n");
    exit(2);
}

int main(int argc, char **argv) {
    if (argc < 2) usage();
    opts_t o = {.mode = argv[1], .size = 100, .seconds = 2, .partitions = 1, .seed = 42, .txn_records = 100};
    for (int i = 2; i < argc; i++) {
        const char *a = argv[i], *v = i + 1 < argc ? argv[i + 1] : NULL;
        if (!v) usage();
        i++;
        if (!strcmp(a, "-b"))
            o.brokers = v;
        else if (!strcmp(a, "-t"))
            o.topic = v;
        else if (!strcmp(a, "-n"))
            o.txn_records = atol(v);
        else if (!strcmp(a, "-r"))
            o.rate = atol(v);
        else if (!strcmp(a, "-s"))
            o.size = atol(v);
        else if (!strcmp(a, "-d"))
            o.seconds = atof(v);
        else if (!strcmp(a, "-P"))
            o.partitions = atol(v);
        else if (!strcmp(a, "-S"))
            o.seed = (unsigned)atol(v);
        else if (!strcmp(a, "-X") && o.nx < MAX_X)
            o.xs[o.nx++] = argv[i];
        else
            usage();
    }
    if (!o.brokers || !o.topic || o.txn_records < 1 || o.partitions < 1 || o.size < (long)sizeof(int64_t))
        usage();
    if (!strcmp(o.mode, "produce")) return run_produce(&o);
    if (!strcmp(o.mode, "e2e") && o.rate > 0) return run_e2e(&o);
    usage();
}
