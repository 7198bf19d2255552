/*
 * 0041-offsets-durable: committed offsets survive a clean broker restart and a kill -9. A
 * consumer in a group reads part of a partition and commits synchronously after each record;
 * after the broker comes back, a new consumer in the same group starts right after the last
 * committed offset (rd_kafka_committed agrees). Also: OffsetFetch of a partition without a
 * commit gives -1 (librdkafka: RD_KAFKA_OFFSET_INVALID).
 *
 * Upgrade: a data directory of the version before the metadata log (committed offsets in
 * coordinator/offsets.log, producer ids in coordinator/producer-ids) keeps its committed offsets,
 * metadata included, and its producer ids move past the old ones: the first start migrates them
 * into metadata.log and removes coordinator/; a second start finds them there.
 */
#include <sys/stat.h>

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

/* coordinator/offsets.log as the broker before the metadata log wrote it (samsa at e3b8484, fed by
 * kafka-python: group legacy_group committed legacy_topic-0 at 4 with metadata "kept" and
 * legacy_topic-1 at 3), byte for byte. */
static const uint8_t legacy_offsets_log[] = {
    0x53, 0x41, 0x4f, 0x46, 0x46, 0x53, 0x30, 0x31, 0x00, 0x00, 0x00, 0x3b, 0xfd, 0xac, 0xe8, 0x48,
    0x01, 0x00, 0x0c, 0x6c, 0x65, 0x67, 0x61, 0x63, 0x79, 0x5f, 0x67, 0x72, 0x6f, 0x75, 0x70, 0x00,
    0x0c, 0x6c, 0x65, 0x67, 0x61, 0x63, 0x79, 0x5f, 0x74, 0x6f, 0x70, 0x69, 0x63, 0x00, 0x00, 0x00,
    0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x04, 0xff, 0xff, 0xff, 0xff, 0x00, 0x00, 0x01,
    0xa2, 0x44, 0x35, 0x9a, 0x05, 0x00, 0x04, 0x6b, 0x65, 0x70, 0x74, 0x00, 0x00, 0x00, 0x37, 0x2d,
    0xc5, 0x52, 0x6b, 0x01, 0x00, 0x0c, 0x6c, 0x65, 0x67, 0x61, 0x63, 0x79, 0x5f, 0x67, 0x72, 0x6f,
    0x75, 0x70, 0x00, 0x0c, 0x6c, 0x65, 0x67, 0x61, 0x63, 0x79, 0x5f, 0x74, 0x6f, 0x70, 0x69, 0x63,
    0x00, 0x00, 0x00, 0x01, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x03, 0xff, 0xff, 0xff, 0xff,
    0x00, 0x00, 0x01, 0xa2, 0x44, 0x35, 0x9a, 0x05, 0x00, 0x00,
};

static void write_file(const char *path, const void *data, size_t len) {
    FILE *fp = fopen(path, "wb");
    GT_ASSERT(fp && fwrite(data, 1, len, fp) == len && fclose(fp) == 0, "write %s", path);
}

/* The committed offsets of legacy_group, as librdkafka reads them. */
static void check_legacy_offsets(const char *addr) {
    rd_kafka_t *c = gt_consumer(addr, "legacy_group", NULL);
    rd_kafka_topic_partition_list_t *tl = rd_kafka_topic_partition_list_new(2);
    rd_kafka_topic_partition_list_add(tl, "legacy_topic", 0);
    rd_kafka_topic_partition_list_add(tl, "legacy_topic", 1);
    GT_ASSERT(rd_kafka_committed(c, tl, th_scaled_ms(10000)) == 0, "committed()");
    GT_ASSERT(tl->elems[0].offset == 4 && tl->elems[0].metadata_size == 4 &&
                  !memcmp(tl->elems[0].metadata, "kept", 4),
              "legacy_topic-0 committed %lld (%zu bytes of metadata)", (long long)tl->elems[0].offset,
              tl->elems[0].metadata_size);
    GT_ASSERT(tl->elems[1].offset == 3, "legacy_topic-1 committed %lld", (long long)tl->elems[1].offset);
    rd_kafka_topic_partition_list_destroy(tl);
    rd_kafka_destroy(c);
}

static void upgrade_from_coordinator_dir(void) {
    char dir[512], path[700];
    GT_ASSERT(th_mkdtemp(dir, sizeof(dir), "upgrade") == 0, "mkdtemp");
    snprintf(path, sizeof(path), "%s/coordinator", dir);
    GT_ASSERT(mkdir(path, 0755) == 0, "mkdir %s", path);
    snprintf(path, sizeof(path), "%s/coordinator/offsets.log", dir);
    write_file(path, legacy_offsets_log, sizeof(legacy_offsets_log));
    snprintf(path, sizeof(path), "%s/coordinator/producer-ids", dir);
    write_file(path, "next=1000\n", 10);
    th_proc_t broker;
    GT_ASSERT(th_broker_start(&broker, dir, NULL) == 0, "the broker did not start on an old data directory");
    check_legacy_offsets(broker.addr);
    /* producer ids continue past the old ones (InitProducerId, raw: librdkafka hides the id) */
    int fd = gt_connect(broker.port);
    sa_buf_t req = SA_BUF_INIT(0), resp = SA_BUF_INIT(0);
    sa_arena_t a = SA_ARENA_INIT(0);
    sa_InitProducerIdRequest_t ip;
    sa_InitProducerIdRequest_init(&ip);
    ip.TransactionalId = SA_STR_NULL;
    ip.TransactionTimeoutMs = 60000;
    GT_ENCODE(InitProducerIdRequest, ip, 0, &req);
    GT_ASSERT(gt_call(fd, SA_API_InitProducerId, 0, &req, 0, &resp) == 0, "InitProducerId");
    sa_InitProducerIdResponse_t ir;
    GT_DECODE(InitProducerIdResponse, ir, 0, &resp, &a);
    GT_ASSERT(ir.ErrorCode == 0 && ir.ProducerId >= 1000, "producer id %lld after the upgrade (error %d)",
              (long long)ir.ProducerId, ir.ErrorCode);
    close(fd);
    struct stat st;
    snprintf(path, sizeof(path), "%s/coordinator", dir);
    GT_ASSERT(stat(path, &st) != 0, "coordinator/ is still there after the migration");
    snprintf(path, sizeof(path), "%s/metadata.log", dir);
    GT_ASSERT(stat(path, &st) == 0, "no metadata.log after the migration");
    GT_ASSERT(th_proc_stop(&broker, SIGTERM) == 0, "clean stop");
    GT_ASSERT(th_broker_restart(&broker, NULL) == 0, "restart after the migration");
    check_legacy_offsets(broker.addr);
    GT_ASSERT(th_proc_stop(&broker, SIGTERM) == 0, "clean stop");
    th_proc_cleanup(&broker);
    th_rmtree(dir);
    sa_buf_free(&req);
    sa_buf_free(&resp);
    sa_arena_free(&a);
    printf("upgrade: committed offsets and producer ids migrated from coordinator/\n");
}

int main(void) {
    upgrade_from_coordinator_dir();
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
