/*
 * 0041-offsets-durable: committed offsets survive a clean broker restart and a kill -9. A
 * consumer in a group reads part of a partition and commits synchronously after each record;
 * after the broker comes back, a new consumer in the same group starts right after the last
 * committed offset (rd_kafka_committed agrees). Also: OffsetFetch of a partition without a
 * commit gives -1 (librdkafka: RD_KAFKA_OFFSET_INVALID).
 */
#include "group_test.h"

#define TOPIC "durable_offsets"
#define GROUP "resume_group"
#define TOTAL 300

/* Consume @p n records from a fresh group member, committing each; @returns the first offset seen. */
static int64_t consume_n(const char *addr, int n, int64_t *last) {
    rd_kafka_t *c = gt_consumer(addr, GROUP, NULL);
    gt_subscribe(c, TOPIC);
    int64_t first = -1, deadline = th_now_ms() + th_scaled_ms(30000);
    for (int got = 0; got < n;) {
        GT_ASSERT(th_now_ms() < deadline, "consumed only %d of %d", got, n);
        rd_kafka_message_t *m = rd_kafka_consumer_poll(c, 100);
        if (!m) continue;
        if (!m->err) {
            if (first < 0) first = m->offset;
            GT_ASSERT(m->offset == first + got, "offset %lld, expected %lld", (long long)m->offset,
                      (long long)(first + got));
            char want[32];
            snprintf(want, sizeof(want), "v%lld", (long long)m->offset);
            GT_ASSERT(m->len == strlen(want) && !memcmp(m->payload, want, m->len), "value at %lld",
                      (long long)m->offset);
            GT_ASSERT(rd_kafka_commit_message(c, m, 0) == 0, "commit");
            *last = m->offset;
            got++;
        }
        rd_kafka_message_destroy(m);
    }
    rd_kafka_topic_partition_list_t *tl = rd_kafka_topic_partition_list_new(1);
    rd_kafka_topic_partition_list_add(tl, TOPIC, 0);
    GT_ASSERT(rd_kafka_committed(c, tl, th_scaled_ms(10000)) == 0, "committed()");
    GT_ASSERT(tl->elems[0].offset == *last + 1, "committed %lld, expected %lld",
              (long long)tl->elems[0].offset, (long long)(*last + 1));
    rd_kafka_topic_partition_list_destroy(tl);
    rd_kafka_consumer_close(c);
    rd_kafka_destroy(c);
    return first;
}

int main(void) {
    th_proc_t broker;
    const char *args[] = {"-o", "num.partitions=1", "-o", "auto.create.topics.enable=true", NULL};
    GT_ASSERT(th_broker_start(&broker, NULL, args) == 0, "broker did not start");
    rd_kafka_t *p = gt_producer(broker.addr, NULL);
    for (int i = 0; i < TOTAL; i++) {
        char v[32];
        int n = snprintf(v, sizeof(v), "v%d", i);
        gt_produce(p, TOPIC, 0, v, (size_t)n);
    }
    gt_flush(p);
    rd_kafka_destroy(p);

    /* no commit yet: OffsetFetch answers -1 */
    rd_kafka_t *c = gt_consumer(broker.addr, GROUP, NULL);
    rd_kafka_topic_partition_list_t *tl = rd_kafka_topic_partition_list_new(1);
    rd_kafka_topic_partition_list_add(tl, TOPIC, 0);
    GT_ASSERT(rd_kafka_committed(c, tl, th_scaled_ms(10000)) == 0, "committed()");
    GT_ASSERT(tl->elems[0].offset == RD_KAFKA_OFFSET_INVALID, "uncommitted partition: %lld",
              (long long)tl->elems[0].offset);
    rd_kafka_topic_partition_list_destroy(tl);
    rd_kafka_destroy(c);

    int64_t last = -1;
    GT_ASSERT(consume_n(broker.addr, 100, &last) == 0, "first consumer starts at 0");
    GT_ASSERT(last == 99, "last %lld", (long long)last);

    GT_ASSERT(th_proc_stop(&broker, SIGTERM) == 0, "clean stop");
    GT_ASSERT(th_broker_restart(&broker, args) == 0, "restart");
    int64_t first = consume_n(broker.addr, 100, &last);
    GT_ASSERT(first == 100, "after a restart the group resumed at %lld, not 100", (long long)first);
    printf("after restart: resumed at %lld\n", (long long)first);

    th_proc_stop(&broker, SIGKILL); /* the commits above were acknowledged: they must be on disk */
    GT_ASSERT(th_broker_restart(&broker, args) == 0, "restart after kill -9");
    first = consume_n(broker.addr, 50, &last);
    GT_ASSERT(first == 200, "after kill -9 the group resumed at %lld, not 200", (long long)first);
    printf("after kill -9: resumed at %lld\n", (long long)first);

    GT_ASSERT(th_proc_stop(&broker, SIGTERM) == 0, "clean stop");
    th_proc_cleanup(&broker);
    printf("ok\n");
    return 0;
}
