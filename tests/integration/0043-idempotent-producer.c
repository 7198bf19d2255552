/*
 * 0043-idempotent-producer: a librdkafka producer with enable.idempotence=true sends 1,000,000
 * records of 100 bytes to 3 partitions while a fault proxy between it and the broker cuts every
 * TCP connection every 100 ms. Batches in flight at a cut are retried; the broker must answer a
 * retry of a batch it already wrote with the original offset and never write it twice. Then
 * every record is in the log exactly once and in order per partition.
 *
 * The broker advertises the proxy's address, so every connection the producer makes (bootstrap
 * and the ones Metadata points it to) goes through the proxy.
 */
#include "group_test.h"

#include "fault_proxy.c" /* the test library is fixed in tests/CMakeLists.txt; the proxy is compiled here */

#define TOPIC     "idempotent"
#define NPART     3
#define VALUE_LEN 100

static long total_records(void) {
    const char *s = getenv("GT_RECORDS");
    return s ? atol(s) : 1000000;
}

int main(void) {
    long total = total_records();
    th_proxy_t *px = th_proxy_start(0);
    GT_ASSERT(px, "proxy did not start");
    char adv[64];
    snprintf(adv, sizeof(adv), "127.0.0.1:%d", px->port);
    th_proc_t broker;
    const char *args[] = {
        "-o",      "num.partitions=3", "-o", "auto.create.topics.enable=true", "--advertised-listener", adv,
        "--debug", "storage",          NULL};
    GT_ASSERT(th_broker_start(&broker, NULL, args) == 0, "broker did not start");
    px->upstream_port = broker.port;

    const char *pconf[] = {"enable.idempotence",
                           "true",
                           "linger.ms",
                           "5",
                           "message.timeout.ms",
                           "120000",
                           "queue.buffering.max.messages",
                           "1000000",
                           "queue.buffering.max.kbytes",
                           "1048576",
                           "batch.num.messages",
                           "10000",
                           "socket.timeout.ms",
                           "10000",
                           "reconnect.backoff.ms",
                           "10",
                           "reconnect.backoff.max.ms",
                           "100",
                           "log.connection.close",
                           "false",
                           NULL};
    rd_kafka_t *p = gt_producer(adv, pconf);
    char value[VALUE_LEN];
    memset(value, 'x', sizeof(value));
    /* the first records create the topic, before the cuts begin */
    int64_t t0 = th_now_ms();
    long i = 0;
    for (; i < 3; i++) {
        snprintf(value, sizeof(value), "%09ld", i);
        value[9] = 'x';
        gt_produce(p, TOPIC, (int32_t)(i % NPART), value, sizeof(value));
    }
    gt_flush(p);
    th_proxy_cut_every(px, 100);
    for (; i < total; i++) {
        snprintf(value, sizeof(value), "%09ld", i);
        value[9] = 'x';
        gt_produce(p, TOPIC, (int32_t)(i % NPART), value, sizeof(value));
        if (i % 1000 == 0) rd_kafka_poll(p, 0);
    }
    GT_ASSERT(rd_kafka_flush(p, th_scaled_ms(180000)) == 0, "flush timed out");
    int64_t t1 = th_now_ms();
    th_proxy_cut_every(px, 0);
    printf("produced %ld records in %lld ms through %llu cuts (%llu connections cut, %llu accepted)\n", total,
           (long long)(t1 - t0), (unsigned long long)px->cuts, (unsigned long long)px->pairs_cut,
           (unsigned long long)px->accepted);
    GT_ASSERT(gt_dr_failed == 0, "%d records failed", gt_dr_failed);
    GT_ASSERT(px->cuts >= 5, "only %llu cuts happened: the test did not test retries",
              (unsigned long long)px->cuts);
    rd_kafka_destroy(p);

    /* read everything back: exactly once, in order, per partition */
    const char *cconf[] = {"group.id",
                           "idem-check",
                           "enable.auto.commit",
                           "false",
                           "enable.partition.eof",
                           "true",
                           "fetch.max.bytes",
                           "52428800",
                           "max.partition.fetch.bytes",
                           "10485760",
                           NULL};
    rd_kafka_t *c = gt_client(RD_KAFKA_CONSUMER, adv, cconf);
    rd_kafka_topic_partition_list_t *tl = rd_kafka_topic_partition_list_new(NPART);
    for (int part = 0; part < NPART; part++)
        rd_kafka_topic_partition_list_add(tl, TOPIC, part)->offset = RD_KAFKA_OFFSET_BEGINNING;
    GT_ASSERT(rd_kafka_assign(c, tl) == 0, "assign");
    rd_kafka_topic_partition_list_destroy(tl);
    long next[NPART] = {0, 1, 2}, count = 0;
    int eof[NPART] = {0};
    int64_t deadline = th_now_ms() + th_scaled_ms(120000);
    while (!(eof[0] && eof[1] && eof[2])) {
        GT_ASSERT(th_now_ms() < deadline, "reading back timed out after %ld records", count);
        rd_kafka_message_t *m = rd_kafka_consumer_poll(c, 100);
        if (!m) continue;
        if (m->err == RD_KAFKA_RESP_ERR__PARTITION_EOF) {
            eof[m->partition] = next[m->partition] >= total;
            if (!eof[m->partition] && m->offset >= 0 && next[m->partition] < total) {
                /* EOF at the high watermark while records are missing: a loss */
                long exp = next[m->partition];
                rd_kafka_message_destroy(m);
                GT_FAIL("partition %d ends before record %ld", (int)(exp % NPART), exp);
            }
        } else if (m->err) {
            GT_FAIL("consume: %s", rd_kafka_message_errstr(m));
        } else {
            GT_ASSERT(m->len == VALUE_LEN, "record of %zu bytes", m->len);
            long got = strtol((const char *)m->payload, NULL, 10);
            int part = m->partition;
            if (got != next[part])
                GT_FAIL("partition %d offset %lld holds record %ld where %ld was expected (%s)", part,
                        (long long)m->offset, got, next[part], got < next[part] ? "duplicate" : "gap");
            next[part] += NPART;
            count++;
        }
        rd_kafka_message_destroy(m);
    }
    rd_kafka_destroy(c);
    printf("read back %ld records: each exactly once, in order\n", count);
    GT_ASSERT(count == total, "%ld records, expected %ld", count, total);
    GT_ASSERT(th_proc_stop(&broker, SIGTERM) == 0, "broker did not exit cleanly");
    th_proc_cleanup(&broker);
    th_proxy_stop(px);
    printf("ok\n");
    return 0;
}
