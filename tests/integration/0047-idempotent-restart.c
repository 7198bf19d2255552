/*
 * 0047-idempotent-restart: an idempotent producer keeps sending while the broker is killed
 * with -9 and restarted on the same port and data directory. Batches that reached the log
 * before the kill but whose acknowledgement never left are retried by librdkafka with their
 * original producer id and sequence; the restarted broker must recognise them from producer
 * state rebuilt out of the log, so every record is in the log exactly once, in order.
 */
#include "group_test.h"

#define TOPIC   "idem_restart"
#define TOTAL   300000
#define KILL_AT 100000 /* records acknowledged before the kill */

static long acked;
static void dr(rd_kafka_t *rk, const rd_kafka_message_t *m, void *opaque) {
    (void)rk;
    (void)opaque;
    if (m->err) GT_FAIL("delivery failed: %s", rd_kafka_err2str(m->err));
    acked++;
}

static th_proc_t broker;
static const char *const args[] = {"-o",      "num.partitions=2", "-o", "auto.create.topics.enable=true",
                                   "--debug", "storage",          NULL};

static void kill_and_restart(long produced) {
    th_proc_stop(&broker, SIGKILL); /* with records in flight */
    GT_ASSERT(th_broker_restart(&broker, args) == 0, "restart");
    printf("killed and restarted the broker after %ld acknowledged, %ld produced\n", acked, produced);
}

int main(void) {
    GT_ASSERT(th_broker_start(&broker, NULL, args) == 0, "broker did not start");
    char errstr[256];
    rd_kafka_conf_t *conf = rd_kafka_conf_new();
    const char *kv[] = {"bootstrap.servers",
                        broker.addr,
                        "enable.idempotence",
                        "true",
                        "linger.ms",
                        "5",
                        "message.timeout.ms",
                        "120000",
                        "queue.buffering.max.messages",
                        "1000000",
                        "reconnect.backoff.ms",
                        "20",
                        "reconnect.backoff.max.ms",
                        "200",
                        "log_level",
                        "0",
                        NULL};
    for (int i = 0; kv[i]; i += 2) rd_kafka_conf_set(conf, kv[i], kv[i + 1], NULL, 0);
    rd_kafka_conf_set_dr_msg_cb(conf, dr);
    rd_kafka_t *p = rd_kafka_new(RD_KAFKA_PRODUCER, conf, errstr, sizeof(errstr));
    GT_ASSERT(p, "%s", errstr);
    char value[64];
    int killed = 0;
    for (long i = 0; i < TOTAL; i++) {
        int n = snprintf(value, sizeof(value), "%09ld", i);
        gt_produce(p, TOPIC, (int32_t)(i % 2), value, (size_t)n);
        rd_kafka_poll(p, 0);
        if (!killed && acked >= KILL_AT) {
            kill_and_restart(i + 1);
            killed = 1;
        }
    }
    /* A fast client may queue every record before KILL_AT acknowledgements arrive: then kill
     * as soon as they have, while the rest is still in flight. */
    if (!killed) {
        GT_ASSERT(TH_WAIT_UNTIL((rd_kafka_poll(p, 10), acked >= KILL_AT), 60000), "only %ld acknowledged",
                  acked);
        kill_and_restart(TOTAL);
        killed = 1;
    }
    GT_ASSERT(rd_kafka_flush(p, th_scaled_ms(120000)) == 0, "flush timed out");
    GT_ASSERT(killed, "the broker was never killed (only %ld acknowledged)", acked);
    GT_ASSERT(acked == TOTAL, "%ld of %d acknowledged", acked, TOTAL);
    rd_kafka_destroy(p);

    const char *cconf[] = {"group.id", "idem-restart-check", "enable.partition.eof", "true", NULL};
    rd_kafka_t *c = gt_client(RD_KAFKA_CONSUMER, broker.addr, cconf);
    rd_kafka_topic_partition_list_t *tl = rd_kafka_topic_partition_list_new(2);
    for (int part = 0; part < 2; part++)
        rd_kafka_topic_partition_list_add(tl, TOPIC, part)->offset = RD_KAFKA_OFFSET_BEGINNING;
    GT_ASSERT(rd_kafka_assign(c, tl) == 0, "assign");
    rd_kafka_topic_partition_list_destroy(tl);
    long next[2] = {0, 1}, count = 0;
    int64_t deadline = th_now_ms() + th_scaled_ms(60000);
    while (next[0] < TOTAL || next[1] < TOTAL) {
        GT_ASSERT(th_now_ms() < deadline, "read back timed out after %ld", count);
        rd_kafka_message_t *m = rd_kafka_consumer_poll(c, 100);
        if (!m) continue;
        if (m->err == RD_KAFKA_RESP_ERR__PARTITION_EOF) {
            GT_ASSERT(next[m->partition] >= TOTAL, "partition %d ends before record %ld", m->partition,
                      next[m->partition]);
        } else {
            GT_ASSERT(!m->err, "consume: %s", rd_kafka_message_errstr(m));
            long got = strtol((const char *)m->payload, NULL, 10);
            if (got != next[m->partition])
                GT_FAIL("partition %d offset %lld: record %ld where %ld was expected (%s)", m->partition,
                        (long long)m->offset, got, next[m->partition],
                        got < next[m->partition] ? "duplicate" : "gap");
            next[m->partition] += 2;
            count++;
        }
        rd_kafka_message_destroy(m);
    }
    rd_kafka_destroy(c);
    printf("read back %ld records: each exactly once, in order\n", count);
    GT_ASSERT(th_proc_stop(&broker, SIGTERM) == 0, "broker did not exit cleanly");
    th_proc_cleanup(&broker);
    printf("ok\n");
    return 0;
}
