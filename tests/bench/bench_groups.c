/*
 * bench_groups: the group coordinator and idempotence, against a real `samsa broker`.
 *
 *   bench_groups [ROUNDS] [RECORDS]
 *
 *  1. rebalance: a 3-member librdkafka group on a 3-partition topic; one member closes
 *     (LeaveGroup) and the time until the two survivors own all 3 partitions is measured,
 *     ROUNDS times (a fresh third member joins between rounds). heartbeat.interval.ms=100,
 *     since a survivor learns of a rebalance from its next heartbeat.
 *  2. offset commits per second: synchronous commits one at a time (latency-bound: each waits
 *     for the fsync of its turn), then asynchronous commits kept in flight (the group commit
 *     shares one fsync among all commits of a loop turn).
 *  3. produce throughput of RECORDS 100-byte records, acks=all, with enable.idempotence off
 *     and on (the broker then checks and records producer state for every batch); each twice,
 *     alternating, best of two.
 *
 * Prints a Markdown table per part. A benchmark, not a test: it asserts only that things work.
 */
#include <librdkafka/rdkafka.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "harness.h"

#define TOPIC              "bench_groups"
#define SA_BENCH_MAX(a, b) ((a) > (b) ? (a) : (b))
#define DIE(...)                                                                                             \
    do {                                                                                                     \
        fprintf(stderr, "bench_groups: " __VA_ARGS__);                                                       \
        fprintf(stderr, "\n");                                                                               \
        exit(1);                                                                                             \
    } while (0)

static int64_t now_us(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
}

static rd_kafka_t *client(rd_kafka_type_t type, const char *addr, const char *const *kv) {
    char errstr[256];
    rd_kafka_conf_t *conf = rd_kafka_conf_new();
    rd_kafka_conf_set(conf, "bootstrap.servers", addr, NULL, 0);
    rd_kafka_conf_set(conf, "log_level", "2", NULL, 0);
    for (int i = 0; kv && kv[i]; i += 2)
        if (rd_kafka_conf_set(conf, kv[i], kv[i + 1], errstr, sizeof(errstr))) DIE("%s: %s", kv[i], errstr);
    rd_kafka_t *rk = rd_kafka_new(type, conf, errstr, sizeof(errstr));
    if (!rk) DIE("rd_kafka_new: %s", errstr);
    if (type == RD_KAFKA_CONSUMER) rd_kafka_poll_set_consumer(rk);
    return rk;
}

static rd_kafka_t *member(const char *addr, const char *group) {
    const char *kv[] = {"group.id",
                        group,
                        "heartbeat.interval.ms",
                        "100",
                        "session.timeout.ms",
                        "6000",
                        "enable.auto.commit",
                        "false",
                        "auto.offset.reset",
                        "latest",
                        NULL};
    rd_kafka_t *rk = client(RD_KAFKA_CONSUMER, addr, kv);
    rd_kafka_topic_partition_list_t *tl = rd_kafka_topic_partition_list_new(1);
    rd_kafka_topic_partition_list_add(tl, TOPIC, RD_KAFKA_PARTITION_UA);
    if (rd_kafka_subscribe(rk, tl)) DIE("subscribe");
    rd_kafka_topic_partition_list_destroy(tl);
    return rk;
}

static int assigned(rd_kafka_t *rk) {
    rd_kafka_topic_partition_list_t *tl = NULL;
    if (!rk || rd_kafka_assignment(rk, &tl) || !tl) return 0;
    int n = tl->cnt;
    rd_kafka_topic_partition_list_destroy(tl);
    return n;
}

static void poll_members(rd_kafka_t **m, int n) {
    for (int i = 0; i < n; i++) {
        if (!m[i]) continue;
        rd_kafka_message_t *msg = rd_kafka_consumer_poll(m[i], 5);
        if (msg) rd_kafka_message_destroy(msg);
    }
}

static int cmp_i64(const void *a, const void *b) {
    int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;
    return x < y ? -1 : x > y;
}

static void bench_rebalance(const char *addr, int rounds) {
    rd_kafka_t *m[3];
    for (int i = 0; i < 3; i++) m[i] = member(addr, "bench_rebalance");
    int64_t *ms = calloc((size_t)rounds, sizeof(*ms));
    for (int r = 0; r < rounds; r++) {
        int64_t deadline = th_now_ms() + 60000;
        while (!(assigned(m[0]) == 1 && assigned(m[1]) == 1 && assigned(m[2]) == 1)) {
            if (th_now_ms() > deadline) DIE("group of 3 did not settle");
            poll_members(m, 3);
        }
        int64_t t0 = now_us();
        rd_kafka_consumer_close(m[2]);
        rd_kafka_destroy(m[2]);
        m[2] = NULL;
        while (!(assigned(m[0]) + assigned(m[1]) == 3 && assigned(m[0]) && assigned(m[1]))) {
            if (th_now_ms() > deadline) DIE("survivors did not take over");
            poll_members(m, 2);
        }
        ms[r] = now_us() - t0;
        m[2] = member(addr, "bench_rebalance");
    }
    qsort(ms, (size_t)rounds, sizeof(*ms), cmp_i64);
    printf("| rebalance after a member leaves (3 -> 2 members) | %d rounds | median %.0f ms | min %.0f ms | "
           "max %.0f ms |\n",
           rounds, ms[rounds / 2] / 1000.0, ms[0] / 1000.0, ms[rounds - 1] / 1000.0);
    for (int i = 0; i < 3; i++) {
        if (!m[i]) continue;
        rd_kafka_consumer_close(m[i]);
        rd_kafka_destroy(m[i]);
    }
    free(ms);
}

static int commits_done;
static void on_commit(rd_kafka_t *rk, rd_kafka_resp_err_t err, rd_kafka_topic_partition_list_t *offsets,
                      void *opaque) {
    (void)rk;
    (void)offsets;
    (void)opaque;
    if (err) DIE("async commit: %s", rd_kafka_err2str(err));
    commits_done++;
}

static void bench_commits(const char *addr, int n) {
    char errstr[256];
    rd_kafka_conf_t *conf = rd_kafka_conf_new();
    rd_kafka_conf_set(conf, "bootstrap.servers", addr, NULL, 0);
    rd_kafka_conf_set(conf, "group.id", "bench_commits", NULL, 0);
    rd_kafka_conf_set(conf, "enable.auto.commit", "false", NULL, 0);
    rd_kafka_conf_set(conf, "log_level", "2", NULL, 0);
    rd_kafka_conf_set_offset_commit_cb(conf, on_commit);
    rd_kafka_t *c = rd_kafka_new(RD_KAFKA_CONSUMER, conf, errstr, sizeof(errstr));
    if (!c) DIE("%s", errstr);
    rd_kafka_poll_set_consumer(c);
    rd_kafka_topic_partition_list_t *tl = rd_kafka_topic_partition_list_new(3);
    for (int p = 0; p < 3; p++) rd_kafka_topic_partition_list_add(tl, TOPIC, p)->offset = 0;
    /* simple-consumer commits (no membership): what is measured is the commit path itself */
    int64_t t0 = now_us();
    for (int i = 0; i < n; i++) {
        for (int p = 0; p < 3; p++) tl->elems[p].offset = i + 1;
        rd_kafka_resp_err_t err = rd_kafka_commit(c, tl, 0);
        if (err) DIE("commit: %s", rd_kafka_err2str(err));
    }
    double sync_s = (now_us() - t0) / 1e6;
    commits_done = 0;
    t0 = now_us();
    for (int i = 0; i < n * 5; i++) {
        for (int p = 0; p < 3; p++) tl->elems[p].offset = n + i + 1;
        rd_kafka_commit(c, tl, 1);
        rd_kafka_poll(c, 0);
        while (i - commits_done > 500) rd_kafka_poll(c, 1); /* bound what is in flight */
    }
    while (commits_done < n * 5) rd_kafka_poll(c, 10);
    double async_s = (now_us() - t0) / 1e6;
    printf("| OffsetCommit, synchronous, one at a time (3 partitions each) | %d commits | %.0f commits/s | "
           "%.2f ms each |\n",
           n, n / sync_s, sync_s * 1000 / n);
    printf("| OffsetCommit, asynchronous, up to 500 in flight | %d commits | %.0f commits/s | |\n", n * 5,
           n * 5 / async_s);
    rd_kafka_topic_partition_list_destroy(tl);
    rd_kafka_destroy(c);
}

static int dr_failed;
static void dr(rd_kafka_t *rk, const rd_kafka_message_t *m, void *opaque) {
    (void)rk;
    (void)opaque;
    if (m->err) dr_failed++;
}

static double bench_produce(const char *addr, long n, int idempotent) {
    char errstr[256];
    rd_kafka_conf_t *conf = rd_kafka_conf_new();
    rd_kafka_conf_set(conf, "bootstrap.servers", addr, NULL, 0);
    rd_kafka_conf_set(conf, "acks", "all", NULL, 0);
    rd_kafka_conf_set(conf, "linger.ms", "5", NULL, 0);
    rd_kafka_conf_set(conf, "batch.num.messages", "10000", NULL, 0);
    rd_kafka_conf_set(conf, "queue.buffering.max.messages", "1000000", NULL, 0);
    rd_kafka_conf_set(conf, "enable.idempotence", idempotent ? "true" : "false", NULL, 0);
    rd_kafka_conf_set(conf, "log_level", "2", NULL, 0);
    rd_kafka_conf_set_dr_msg_cb(conf, dr);
    rd_kafka_t *p = rd_kafka_new(RD_KAFKA_PRODUCER, conf, errstr, sizeof(errstr));
    if (!p) DIE("%s", errstr);
    char value[100];
    memset(value, 'v', sizeof(value));
    /* warm up: connection, metadata, producer id */
    rd_kafka_producev(p, RD_KAFKA_V_TOPIC(TOPIC), RD_KAFKA_V_VALUE(value, sizeof(value)), RD_KAFKA_V_END);
    rd_kafka_flush(p, 10000);
    int64_t t0 = now_us();
    for (long i = 0; i < n; i++) {
        while (rd_kafka_producev(p, RD_KAFKA_V_TOPIC(TOPIC), RD_KAFKA_V_PARTITION((int32_t)(i % 3)),
                                 RD_KAFKA_V_VALUE(value, sizeof(value)),
                                 RD_KAFKA_V_MSGFLAGS(RD_KAFKA_MSG_F_COPY),
                                 RD_KAFKA_V_END) == RD_KAFKA_RESP_ERR__QUEUE_FULL)
            rd_kafka_poll(p, 1);
    }
    if (rd_kafka_flush(p, 120000)) DIE("flush timed out");
    double s = (now_us() - t0) / 1e6;
    if (dr_failed) DIE("%d records failed", dr_failed);
    rd_kafka_destroy(p);
    return n / s;
}

int main(int argc, char **argv) {
    int rounds = argc > 1 ? atoi(argv[1]) : 5;
    long records = argc > 2 ? atol(argv[2]) : 1000000;
    th_proc_t broker;
    const char *args[] = {
        "-o", "num.partitions=3", "-o", "auto.create.topics.enable=true", "--log-level", "warn", NULL};
    if (th_broker_start(&broker, NULL, args) < 0) DIE("broker did not start");
    rd_kafka_t *p = client(RD_KAFKA_PRODUCER, broker.addr, NULL);
    rd_kafka_producev(p, RD_KAFKA_V_TOPIC(TOPIC), RD_KAFKA_V_VALUE("x", 1),
                      RD_KAFKA_V_END); /* create the topic */
    rd_kafka_flush(p, 10000);
    rd_kafka_destroy(p);

    printf("| measurement | size | result | | |\n|---|---|---|---|---|\n");
    bench_rebalance(broker.addr, rounds);
    bench_commits(broker.addr, 2000);
    /* alternate, best of two each: the first runs also warm up the page cache and segments */
    double off = 0, on = 0;
    for (int i = 0; i < 2; i++) {
        off = SA_BENCH_MAX(off, bench_produce(broker.addr, records, 0));
        on = SA_BENCH_MAX(on, bench_produce(broker.addr, records, 1));
    }
    printf("| produce 100-byte records, acks=all, idempotence off | %ld records | %.0f records/s | %.1f MB/s "
           "| |\n",
           records, off, off * 100 / 1e6);
    printf("| produce 100-byte records, acks=all, idempotence on | %ld records | %.0f records/s | %.1f MB/s "
           "| on/off = %.2f |\n",
           records, on, on * 100 / 1e6, on / off);
    th_proc_cleanup(&broker);
    return 0;
}
