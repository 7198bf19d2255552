/*
 * 0040-group-rebalance: three librdkafka consumers in group blog_group on a 3-partition topic
 * get one partition each; when one closes (LeaveGroup), and separately when one dies without
 * leaving (its session times out), the survivors take over its partitions. Every consumer
 * commits synchronously after each record. Across the run no record is lost, and only a
 * record in flight at the death may be delivered twice.
 */
#include "group_test.h"

#define TOPIC     "blog_operations"
#define NPART     3
#define PER_ROUND 30 /* records per round, spread over the partitions */
#define MAXOFF    1000

static int seen[NPART][MAXOFF]; /* deliveries per partition/offset */
static int64_t produced[NPART]; /* records produced per partition (offsets 0..n-1) */
static int consumed_by[4];      /* records each consumer processed */

static rd_kafka_t *cons[4];

static void produce_round(rd_kafka_t *p, int round) {
    for (int i = 0; i < PER_ROUND; i++) {
        char v[64];
        int n = snprintf(v, sizeof(v), "round%d-%d", round, i);
        gt_produce(p, TOPIC, i % NPART, v, (size_t)n);
        produced[i % NPART]++;
    }
    gt_flush(p);
}

/* Poll each live consumer once; a delivered record is committed synchronously. */
static void poll_all(int timeout_ms) {
    for (int c = 1; c <= 3; c++) {
        if (!cons[c]) continue;
        rd_kafka_message_t *m = rd_kafka_consumer_poll(cons[c], timeout_ms);
        if (!m) continue;
        if (!m->err) {
            GT_ASSERT(m->partition >= 0 && m->partition < NPART && m->offset >= 0 && m->offset < MAXOFF,
                      "record at %d/%lld", m->partition, (long long)m->offset);
            seen[m->partition][m->offset]++;
            consumed_by[c]++;
            rd_kafka_resp_err_t err = rd_kafka_commit_message(cons[c], m, 0);
            /* a commit refused during a rebalance is what Kafka does too; the record is then
             * redelivered to the new owner, which the duplicate count below accounts for */
            if (err && err != RD_KAFKA_RESP_ERR_REBALANCE_IN_PROGRESS &&
                err != RD_KAFKA_RESP_ERR_ILLEGAL_GENERATION && err != RD_KAFKA_RESP_ERR_UNKNOWN_MEMBER_ID)
                GT_FAIL("consumer %d: commit: %s", c, rd_kafka_err2str(err));
            if (err)
                printf("consumer %d: commit of %d/%lld refused: %s\n", c, m->partition, (long long)m->offset,
                       rd_kafka_err2str(err));
        } else if (m->err != RD_KAFKA_RESP_ERR__PARTITION_EOF) {
            printf("consumer %d: %s\n", c, rd_kafka_message_errstr(m));
        }
        rd_kafka_message_destroy(m);
    }
}

static int all_seen(void) {
    for (int p = 0; p < NPART; p++)
        for (int64_t o = 0; o < produced[p]; o++)
            if (!seen[p][o]) return 0;
    return 1;
}

static int duplicates(void) {
    int d = 0;
    for (int p = 0; p < NPART; p++)
        for (int64_t o = 0; o < produced[p]; o++)
            if (seen[p][o] > 1) d += seen[p][o] - 1;
    return d;
}

static void wait_assignment(const int *want, const char *what) {
    int64_t deadline = th_now_ms() + th_scaled_ms(40000);
    for (;;) {
        int ok = 1;
        for (int c = 1; c <= 3; c++)
            if (cons[c] && gt_assigned(cons[c]) != want[c]) ok = 0;
        if (ok) break;
        if (th_now_ms() > deadline)
            GT_FAIL("%s: assignments %d/%d/%d, want %d/%d/%d", what, cons[1] ? gt_assigned(cons[1]) : -1,
                    cons[2] ? gt_assigned(cons[2]) : -1, cons[3] ? gt_assigned(cons[3]) : -1, want[1],
                    want[2], want[3]);
        poll_all(20);
    }
    printf("%s: assignments %d/%d/%d\n", what, want[1], want[2], want[3]);
}

static void wait_all_seen(const char *what) {
    int64_t deadline = th_now_ms() + th_scaled_ms(40000);
    while (!all_seen()) {
        if (th_now_ms() > deadline) GT_FAIL("%s: not every record was delivered", what);
        poll_all(20);
    }
}

int main(void) {
    th_proc_t broker;
    const char *args[] = {"-o", "num.partitions=3", "-o", "auto.create.topics.enable=true", NULL};
    GT_ASSERT(th_broker_start(&broker, NULL, args) == 0, "broker did not start");
    rd_kafka_t *p = gt_producer(broker.addr, NULL);
    produce_round(p, 0); /* creates the topic; these are read by whoever gets the partition */

    for (int c = 1; c <= 3; c++) {
        cons[c] = gt_consumer(broker.addr, "blog_group", NULL);
        gt_subscribe(cons[c], TOPIC);
    }
    wait_assignment((int[]){0, 1, 1, 1}, "three members");
    produce_round(p, 1);
    wait_all_seen("three members");
    GT_ASSERT(duplicates() == 0, "%d duplicates with no failure", duplicates());

    /* 1. a member closes: LeaveGroup, immediate rebalance */
    int64_t t0 = th_now_ms();
    rd_kafka_consumer_close(cons[3]);
    rd_kafka_destroy(cons[3]);
    cons[3] = NULL;
    int64_t deadline = th_now_ms() + th_scaled_ms(30000);
    while (gt_assigned(cons[1]) + gt_assigned(cons[2]) != NPART || !gt_assigned(cons[1]) ||
           !gt_assigned(cons[2])) {
        GT_ASSERT(th_now_ms() < deadline, "survivors did not take over after a close");
        poll_all(20);
    }
    printf("after close: %d + %d partitions, rebalance took %lld ms\n", gt_assigned(cons[1]),
           gt_assigned(cons[2]), (long long)(th_now_ms() - t0));
    produce_round(p, 2);
    wait_all_seen("after close");
    GT_ASSERT(duplicates() == 0, "%d duplicates after a clean close", duplicates());

    /* 2. a member dies mid-stream without leaving: session timeout, then rebalance */
    produce_round(p, 3);
    int before = consumed_by[2];
    deadline = th_now_ms() + th_scaled_ms(20000);
    while (consumed_by[2] < before + 3) {
        GT_ASSERT(th_now_ms() < deadline, "consumer 2 did not get records");
        poll_all(20);
    }
    t0 = th_now_ms();
    rd_kafka_destroy_flags(cons[2], RD_KAFKA_DESTROY_F_NO_CONSUMER_CLOSE);
    cons[2] = NULL;
    wait_assignment((int[]){0, NPART, 0, 0}, "after death");
    printf("after death: takeover took %lld ms (session timeout 6000 ms)\n", (long long)(th_now_ms() - t0));
    produce_round(p, 4);
    wait_all_seen("after death");
    int dups = duplicates();
    printf("records: %lld, duplicates: %d\n", (long long)(produced[0] + produced[1] + produced[2]), dups);
    GT_ASSERT(dups <= 1, "%d records delivered twice; only the one in flight at the death may be", dups);

    rd_kafka_consumer_close(cons[1]);
    rd_kafka_destroy(cons[1]);
    rd_kafka_destroy(p);
    GT_ASSERT(th_proc_stop(&broker, SIGTERM) == 0, "broker did not exit cleanly");
    th_proc_cleanup(&broker);
    printf("ok\n");
    return 0;
}
