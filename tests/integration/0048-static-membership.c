/*
 * 0048-static-membership: librdkafka consumers with group.instance.id. A static member that
 * dies (no LeaveGroup) and comes back under the same instance id within its session timeout
 * gets its old partitions back without a rebalance: the other member sees no revocation and
 * no new assignment. Its dead incarnation is fenced. As in Kafka (KIP-345), that holds when the
 * returning member's subscription bytes differ (it subscribes to one more topic: the protocol
 * the group would choose is the same) and when the member coming back is the group's leader.
 */
#include "group_test.h"

#define TOPIC "static_topic"

static int rebalances[4]; /* rebalance callbacks per consumer slot */

static void rebalance_cb(rd_kafka_t *rk, rd_kafka_resp_err_t err, rd_kafka_topic_partition_list_t *parts,
                         void *opaque) {
    int slot = (int)(intptr_t)opaque;
    rebalances[slot]++;
    if (err == RD_KAFKA_RESP_ERR__ASSIGN_PARTITIONS)
        rd_kafka_assign(rk, parts);
    else
        rd_kafka_assign(rk, NULL);
}

/* A consumer with group.instance.id @p instance subscribed to TOPIC (and @p extra_topic if not NULL). */
static rd_kafka_t *static_member(const char *addr, const char *instance, int slot, const char *extra_topic) {
    char errstr[256];
    rd_kafka_conf_t *conf = rd_kafka_conf_new();
    const char *kv[] = {"bootstrap.servers",
                        addr,
                        "group.id",
                        "static_group",
                        "group.instance.id",
                        instance,
                        "session.timeout.ms",
                        "10000",
                        "heartbeat.interval.ms",
                        "300",
                        "log_level",
                        "3",
                        "partition.assignment.strategy",
                        "range",
                        NULL};
    for (int i = 0; kv[i]; i += 2)
        GT_ASSERT(rd_kafka_conf_set(conf, kv[i], kv[i + 1], errstr, sizeof(errstr)) == 0, "%s", errstr);
    rd_kafka_conf_set_rebalance_cb(conf, rebalance_cb);
    rd_kafka_conf_set_opaque(conf, (void *)(intptr_t)slot);
    rd_kafka_t *rk = rd_kafka_new(RD_KAFKA_CONSUMER, conf, errstr, sizeof(errstr));
    GT_ASSERT(rk, "%s", errstr);
    rd_kafka_poll_set_consumer(rk);
    rd_kafka_topic_partition_list_t *tl = rd_kafka_topic_partition_list_new(2);
    rd_kafka_topic_partition_list_add(tl, TOPIC, RD_KAFKA_PARTITION_UA);
    if (extra_topic) rd_kafka_topic_partition_list_add(tl, extra_topic, RD_KAFKA_PARTITION_UA);
    rd_kafka_resp_err_t err = rd_kafka_subscribe(rk, tl);
    rd_kafka_topic_partition_list_destroy(tl);
    GT_ASSERT(!err, "subscribe: %s", rd_kafka_err2str(err));
    return rk;
}

static void pump(rd_kafka_t *a, rd_kafka_t *b) {
    rd_kafka_message_t *m = rd_kafka_consumer_poll(a, 20);
    if (m) rd_kafka_message_destroy(m);
    if (b && (m = rd_kafka_consumer_poll(b, 20))) rd_kafka_message_destroy(m);
}

static int32_t only_partition(rd_kafka_t *rk) {
    rd_kafka_topic_partition_list_t *tl = NULL;
    GT_ASSERT(rd_kafka_assignment(rk, &tl) == 0 && tl->cnt == 1, "one partition expected");
    int32_t p = tl->elems[0].partition;
    rd_kafka_topic_partition_list_destroy(tl);
    return p;
}

int main(void) {
    th_proc_t broker;
    const char *args[] = {"-o", "num.partitions=2", "-o", "auto.create.topics.enable=true", NULL};
    GT_ASSERT(th_broker_start(&broker, NULL, args) == 0, "broker did not start");
    rd_kafka_t *p = gt_producer(broker.addr, NULL);
    gt_produce(p, TOPIC, 0, "x", 1);
    gt_produce(p, "static_extra", 0, "x", 1); /* exists, so it is in a subscription's bytes */
    gt_flush(p);
    rd_kafka_destroy(p);

    rd_kafka_t *a = static_member(broker.addr, "instance-a", 0, NULL);
    int64_t deadline = th_now_ms() + th_scaled_ms(30000);
    while (gt_assigned(a) != 2) {
        GT_ASSERT(th_now_ms() < deadline, "first member did not get both partitions");
        pump(a, NULL);
    }
    rd_kafka_t *b = static_member(broker.addr, "instance-b", 1, NULL);
    while (!(gt_assigned(a) == 1 && gt_assigned(b) == 1)) {
        GT_ASSERT(th_now_ms() < deadline, "two static members did not settle");
        pump(a, b);
    }
    int32_t b_part = only_partition(b);
    /* let the group sit Stable for a few heartbeats, then note the survivor's rebalance count */
    int64_t until = th_now_ms() + 1000;
    while (th_now_ms() < until) pump(a, b);
    int a_rebalances = rebalances[0];

    /* b dies without leaving and a new process with the same instance id starts; it subscribes
     * to one more topic, so its subscription bytes differ */
    rd_kafka_destroy_flags(b, RD_KAFKA_DESTROY_F_NO_CONSUMER_CLOSE);
    rd_kafka_t *b2 = static_member(broker.addr, "instance-b", 2, "static_extra");
    deadline = th_now_ms() + th_scaled_ms(20000);
    while (gt_assigned(b2) != 1) {
        GT_ASSERT(th_now_ms() < deadline, "restarted static member did not get a partition");
        pump(a, b2);
    }
    GT_ASSERT(only_partition(b2) == b_part, "restarted member got partition %d, had %d", only_partition(b2),
              b_part);
    /* a few more heartbeats: a rebalance would show up now */
    until = th_now_ms() + 2000;
    while (th_now_ms() < until) pump(a, b2);
    GT_ASSERT(rebalances[0] == a_rebalances, "the other member went through %d rebalance callbacks",
              rebalances[0] - a_rebalances);
    GT_ASSERT(gt_assigned(a) == 1 && gt_assigned(b2) == 1, "assignments changed");
    printf("static member came back to partition %d without a rebalance\n", b_part);

    /* now the leader (a, the first member) dies and comes back: no rebalance either */
    int32_t a_part = only_partition(a);
    int b2_rebalances = rebalances[2];
    rd_kafka_destroy_flags(a, RD_KAFKA_DESTROY_F_NO_CONSUMER_CLOSE);
    a = static_member(broker.addr, "instance-a", 3, NULL);
    deadline = th_now_ms() + th_scaled_ms(20000);
    while (gt_assigned(a) != 1) {
        GT_ASSERT(th_now_ms() < deadline, "restarted static leader did not get a partition");
        pump(a, b2);
    }
    GT_ASSERT(only_partition(a) == a_part, "restarted leader got partition %d, had %d", only_partition(a),
              a_part);
    until = th_now_ms() + 2000;
    while (th_now_ms() < until) pump(a, b2);
    GT_ASSERT(rebalances[2] == b2_rebalances, "the follower went through %d rebalance callbacks",
              rebalances[2] - b2_rebalances);
    GT_ASSERT(gt_assigned(a) == 1 && gt_assigned(b2) == 1, "assignments changed after the leader came back");
    printf("static leader came back to partition %d without a rebalance\n", a_part);

    rd_kafka_consumer_close(a);
    rd_kafka_consumer_close(b2);
    rd_kafka_destroy(a);
    rd_kafka_destroy(b2);
    GT_ASSERT(th_proc_stop(&broker, SIGTERM) == 0, "broker did not exit cleanly");
    th_proc_cleanup(&broker);
    printf("ok\n");
    return 0;
}
