/*
 * 0049-group-broker-restart: a live librdkafka group member keeps consuming while the broker
 * restarts under it, once cleanly and once with kill -9. Group membership is not persisted, so
 * the member's next Heartbeat gets UNKNOWN_MEMBER_ID and it rejoins; its committed offsets are,
 * so it resumes where it left off. Every record produced is delivered, none twice (each was
 * committed synchronously before the restart).
 */
#include "group_test.h"

#define TOPIC "restart_topic"
#define ROUND 50

static int seen[2][1000];
static int produced[2];

static void produce_round(const char *addr, int round) {
    rd_kafka_t *p = gt_producer(addr, NULL);
    for (int i = 0; i < ROUND; i++) {
        char v[32];
        int n = snprintf(v, sizeof(v), "r%d-%d", round, i);
        gt_produce(p, TOPIC, i % 2, v, (size_t)n);
        produced[i % 2]++;
    }
    gt_flush(p);
    rd_kafka_destroy(p);
}

static int all_seen(void) {
    for (int p = 0; p < 2; p++)
        for (int o = 0; o < produced[p]; o++)
            if (!seen[p][o]) return 0;
    return 1;
}

static void consume_until_all_seen(rd_kafka_t *c, const char *what) {
    int64_t deadline = th_now_ms() + th_scaled_ms(45000);
    while (!all_seen()) {
        GT_ASSERT(th_now_ms() < deadline, "%s: not every record delivered", what);
        rd_kafka_message_t *m = rd_kafka_consumer_poll(c, 50);
        if (!m) continue;
        if (!m->err) {
            GT_ASSERT(m->offset < 1000, "offset %lld", (long long)m->offset);
            seen[m->partition][m->offset]++;
            GT_ASSERT(seen[m->partition][m->offset] == 1, "%s: %d/%lld delivered twice", what, m->partition,
                      (long long)m->offset);
            rd_kafka_resp_err_t err = rd_kafka_commit_message(c, m, 0);
            GT_ASSERT(!err, "%s: commit: %s", what, rd_kafka_err2str(err));
        }
        rd_kafka_message_destroy(m);
    }
}

int main(void) {
    th_proc_t broker;
    const char *args[] = {"-o", "num.partitions=2", "-o", "auto.create.topics.enable=true", NULL};
    GT_ASSERT(th_broker_start(&broker, NULL, args) == 0, "broker did not start");
    produce_round(broker.addr, 0);
    rd_kafka_t *c =
        gt_consumer(broker.addr, "restart_group",
                    (const char *[]){"reconnect.backoff.ms", "20", "reconnect.backoff.max.ms", "200", NULL});
    gt_subscribe(c, TOPIC);
    consume_until_all_seen(c, "before restarts");

    GT_ASSERT(th_proc_stop(&broker, SIGTERM) == 0, "clean stop");
    GT_ASSERT(th_broker_restart(&broker, args) == 0, "restart");
    produce_round(broker.addr, 1);
    int64_t t0 = th_now_ms();
    consume_until_all_seen(c, "after a clean restart");
    printf("after a clean restart: caught up in %lld ms\n", (long long)(th_now_ms() - t0));

    th_proc_stop(&broker, SIGKILL);
    GT_ASSERT(th_broker_restart(&broker, args) == 0, "restart after kill -9");
    produce_round(broker.addr, 2);
    t0 = th_now_ms();
    consume_until_all_seen(c, "after kill -9");
    printf("after kill -9: caught up in %lld ms\n", (long long)(th_now_ms() - t0));

    rd_kafka_consumer_close(c);
    rd_kafka_destroy(c);
    GT_ASSERT(th_proc_stop(&broker, SIGTERM) == 0, "broker did not exit cleanly");
    th_proc_cleanup(&broker);
    printf("ok\n");
    return 0;
}
