/*
 * 0180-producer-expiry: a partition's producer state with a real broker and a real idempotent
 * producer (librdkafka), and across restarts.
 *
 *   Expiry: with producer.id.expiration.ms=2000 (checked every 100 ms) the state of an idle
 *   producer goes away (DescribeProducers no longer lists it); the same producer then goes on
 *   sending, as it would to Kafka: its next sequence is taken (no error, nothing lost or written
 *   twice, DescribeProducers lists it again with its last sequence).
 *   Snapshots: a producer's batches over several segments (log.segment.bytes=1000); after a clean
 *   restart (loaded from the snapshot at the log end) and after kill -9 (the snapshot of the last
 *   roll and a scan after it) a retry of its last batch is still answered as a duplicate with its
 *   first offset, and nothing is appended; the <offset>.snapshot files are in the partition's
 *   directory.
 */
#include <dirent.h>

#include "group_test.h"

#include "proto/record_batch.h"

#define TOPIC "pstate"

static int fd;
static sa_buf_t req, resp;
static sa_arena_t a;

/* DescribeProducers of TOPIC-0: the number of producers, @p pid's last sequence in *last_seq (-2:
 * absent) and the first producer's id in *first (may be NULL). */
static int32_t describe_all(int64_t pid, int32_t *last_seq, int64_t *first) {
    int32_t parts[] = {0};
    sa_DescribeProducersRequest_TopicRequest_t t = {SA_STR(TOPIC), parts, 1};
    sa_DescribeProducersRequest_t r;
    sa_DescribeProducersRequest_init(&r);
    r.Topics = &t;
    r.Topics_count = 1;
    GT_ENCODE(DescribeProducersRequest, r, 0, &req);
    GT_ASSERT(gt_call(fd, SA_API_DescribeProducers, 0, &req, 0, &resp) == 0, "DescribeProducers");
    sa_DescribeProducersResponse_t out;
    GT_DECODE(DescribeProducersResponse, out, 0, &resp, &a);
    const sa_DescribeProducersResponse_PartitionResponse_t *pr = out.Topics[0].Partitions;
    GT_ASSERT(pr[0].ErrorCode == 0, "DescribeProducers: %d", pr[0].ErrorCode);
    *last_seq = -2;
    for (int32_t i = 0; i < pr[0].ActiveProducers_count; i++)
        if (pr[0].ActiveProducers[i].ProducerId == pid) *last_seq = pr[0].ActiveProducers[i].LastSequence;
    if (first) *first = pr[0].ActiveProducers_count ? pr[0].ActiveProducers[0].ProducerId : -1;
    return pr[0].ActiveProducers_count;
}

static int32_t describe(int64_t pid, int32_t *last_seq) { return describe_all(pid, last_seq, NULL); }

static int64_t init_idempotent(void) {
    sa_InitProducerIdRequest_t r;
    sa_InitProducerIdRequest_init(&r);
    r.TransactionalId = SA_STR_NULL;
    r.TransactionTimeoutMs = -1;
    GT_ENCODE(InitProducerIdRequest, r, 4, &req);
    GT_ASSERT(gt_call(fd, SA_API_InitProducerId, 4, &req, 0, &resp) == 0, "InitProducerId");
    sa_InitProducerIdResponse_t out;
    GT_DECODE(InitProducerIdResponse, out, 4, &resp, &a);
    GT_ASSERT(out.ErrorCode == 0, "InitProducerId: %d", out.ErrorCode);
    return out.ProducerId;
}

/* Produce one batch of @p n records of @p pid at @p seq to TOPIC-0; @returns the error, *base. */
static int16_t produce(int64_t pid, int32_t seq, int n, int64_t *base) {
    sa_rb_rec_in_t recs[8];
    for (int i = 0; i < n; i++) recs[i] = (sa_rb_rec_in_t){"k", 1, "value-value", 11, NULL, 0, th_now_ms()};
    sa_rb_build_opts_t o = SA_RB_BUILD_OPTS_INIT;
    o.leader_epoch = -1;
    o.producer_id = pid;
    o.producer_epoch = 0;
    o.base_sequence = seq;
    sa_buf_t batch = SA_BUF_INIT(0);
    GT_ASSERT(sa_rb_build(&batch, &o, recs, (size_t)n) == SA_OK, "build a batch");
    sa_ProduceRequest_PartitionProduceData_t pd = {0, {batch.data, (int32_t)batch.len}};
    sa_ProduceRequest_TopicProduceData_t td = {SA_STR(TOPIC), &pd, 1};
    sa_ProduceRequest_t r;
    sa_ProduceRequest_init(&r);
    r.Acks = -1;
    r.TimeoutMs = 10000;
    r.TopicData = &td;
    r.TopicData_count = 1;
    GT_ENCODE(ProduceRequest, r, 9, &req);
    sa_buf_free(&batch);
    GT_ASSERT(gt_call(fd, SA_API_Produce, 9, &req, 0, &resp) == 0, "Produce");
    sa_ProduceResponse_t out;
    GT_DECODE(ProduceResponse, out, 9, &resp, &a);
    *base = out.Responses[0].PartitionResponses[0].BaseOffset;
    return out.Responses[0].PartitionResponses[0].ErrorCode;
}

static int64_t high_watermark(rd_kafka_t *rk) {
    int64_t lo = -1, hi = -1;
    GT_ASSERT(rd_kafka_query_watermark_offsets(rk, TOPIC, 0, &lo, &hi, th_scaled_ms(10000)) == 0,
              "watermarks");
    return hi;
}

static int snapshot_files(const char *data_dir) {
    char dir[700];
    snprintf(dir, sizeof(dir), "%s/" TOPIC "-0", data_dir);
    DIR *d = opendir(dir);
    GT_ASSERT(d, "open %s", dir);
    int n = 0;
    struct dirent *de;
    while ((de = readdir(d))) n += strlen(de->d_name) == 29 && !strcmp(de->d_name + 20, ".snapshot");
    closedir(d);
    return n;
}

int main(void) {
    th_proc_t broker;
    const char *short_expiry[] = {
        "-o", "producer.id.expiration.ms=2000", "-o", "producer.id.expiration.check.interval.ms=100",
        "-o", "log.segment.bytes=1000",         NULL};
    const char *day[] = {"-o", "log.segment.bytes=1000", NULL};
    GT_ASSERT(th_broker_start(&broker, NULL, short_expiry) == 0, "broker did not start");
    const char *idem[] = {"enable.idempotence", "true", NULL};
    rd_kafka_t *p = gt_producer(broker.addr, idem);
    char value[32];
    for (int i = 0; i < 100; i++) {
        int n = snprintf(value, sizeof(value), "a%03d", i);
        gt_produce(p, TOPIC, 0, value, (size_t)n);
    }
    gt_flush(p);
    fd = gt_connect(broker.port);
    int64_t pid = -1;
    int32_t last = -2;
    GT_ASSERT(describe_all(-1, &last, &pid) == 1, "one producer after the first 100 records");
    GT_ASSERT(describe(pid, &last) == 1 && last == 99, "after 100 records: last sequence %d", last);

    /* Expiry: the idle producer's state goes. */
    GT_ASSERT(TH_WAIT_UNTIL(describe(pid, &last) == 0, 20000), "producer %lld never expired", (long long)pid);
    printf("producer %lld expired\n", (long long)pid);
    /* ...and the producer goes on as with Kafka: its next sequences are taken. */
    for (int i = 100; i < 200; i++) {
        int n = snprintf(value, sizeof(value), "a%03d", i);
        gt_produce(p, TOPIC, 0, value, (size_t)n);
    }
    gt_flush(p);
    GT_ASSERT(describe(pid, &last) == 1 && last == 199, "after expiry: last sequence %d", last);
    GT_ASSERT(high_watermark(p) == 200, "200 records, once each: %lld", (long long)high_watermark(p));
    rd_kafka_destroy(p);
    close(fd);

    /* Snapshots: a day of expiry, batches over several segments. */
    th_proc_stop(&broker, SIGTERM);
    GT_ASSERT(th_broker_restart(&broker, day) == 0, "restart");
    fd = gt_connect(broker.port);
    int64_t q = init_idempotent(), base = -1, first = -1;
    for (int i = 0; i < 30; i++) GT_ASSERT(produce(q, i * 5, 5, &base) == 0, "batch %d", i);
    GT_ASSERT(describe(q, &last) >= 1 && last == 149, "last sequence %d", last);
    int64_t end = base + 5;
    close(fd);
    for (int round = 0; round < 2; round++) {
        th_proc_stop(&broker, round == 0 ? SIGTERM : SIGKILL);
        GT_ASSERT(snapshot_files(broker.data_dir) >= 2, "snapshot files after %s", round ? "kill" : "stop");
        GT_ASSERT(th_broker_restart(&broker, day) == 0, "restart");
        fd = gt_connect(broker.port);
        GT_ASSERT(produce(q, 29 * 5, 5, &first) == 0 && first == base, "retry after %s: base %lld, want %lld",
                  round ? "kill -9" : "a clean restart", (long long)first, (long long)base);
        GT_ASSERT(produce(q, 28 * 5, 5, &first) == 0 && first == base - 5, "an older retry: %lld",
                  (long long)first);
        GT_ASSERT(describe(q, &last) >= 1 && last == 149, "after restart: last sequence %d", last);
        close(fd);
    }
    fd = gt_connect(broker.port);
    GT_ASSERT(produce(q, 150, 5, &first) == 0 && first == end, "the next batch: %lld, want %lld",
              (long long)first, (long long)end);
    close(fd);
    th_proc_stop(&broker, SIGTERM);
    sa_buf_free(&req);
    sa_buf_free(&resp);
    sa_arena_free(&a);
    printf("ok\n");
    return 0;
}
