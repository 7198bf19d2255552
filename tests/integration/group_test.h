/*
 * group_test.h - helpers shared by the group/idempotence integration tests (0040-0049): a
 * failing assertion, librdkafka clients with the settings these tests need, and a produce
 * helper with explicit partitions, on top of tests/lib/kafka_test.h. Header-only: each test is
 * one executable.
 */
#ifndef SA_TEST_GROUP_TEST_H
#define SA_TEST_GROUP_TEST_H

#include <librdkafka/rdkafka.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "harness.h"
#include "kafka_test.h"

/* The group tests' names for the shared helpers of tests/lib/kafka_test.h. */
#define GT_FAIL   KT_FAIL
#define GT_ASSERT KT_ASSERT

/* Create a client; @p kv is a NULL-terminated list of key, value pairs. */
static inline rd_kafka_t *gt_client(rd_kafka_type_t type, const char *addr, const char *const *kv) {
    return kt_new(type, kt_conf(addr, kv, NULL));
}

/* A consumer in @p group with manual commits, reading from the beginning. */
static inline rd_kafka_t *gt_consumer(const char *addr, const char *group, const char *const *extra) {
    const char *const kv[] = {"group.id",
                              group,
                              "enable.auto.commit",
                              "false",
                              "auto.offset.reset",
                              "earliest",
                              "session.timeout.ms",
                              "6000",
                              "heartbeat.interval.ms",
                              "500",
                              NULL};
    return kt_new(RD_KAFKA_CONSUMER, kt_conf(addr, kv, extra));
}

static inline void gt_subscribe(rd_kafka_t *rk, const char *topic) {
    rd_kafka_topic_partition_list_t *tl = rd_kafka_topic_partition_list_new(1);
    rd_kafka_topic_partition_list_add(tl, topic, RD_KAFKA_PARTITION_UA);
    rd_kafka_resp_err_t err = rd_kafka_subscribe(rk, tl);
    rd_kafka_topic_partition_list_destroy(tl);
    GT_ASSERT(!err, "subscribe: %s", rd_kafka_err2str(err));
}

/* @returns how many partitions @p rk has assigned now. */
static inline int gt_assigned(rd_kafka_t *rk) {
    rd_kafka_topic_partition_list_t *tl = NULL;
    if (rd_kafka_assignment(rk, &tl) || !tl) return -1;
    int n = tl->cnt;
    rd_kafka_topic_partition_list_destroy(tl);
    return n;
}

/* Produce @p value to @p topic/@p partition (copy), waiting while the queue is full. */
static inline void gt_produce(rd_kafka_t *p, const char *topic, int32_t partition, const void *value,
                              size_t len) {
    kt_produce(p, topic, partition, NULL, value, len);
}

static int gt_dr_failed; /* delivery reports with an error */

static inline void gt_dr_cb(rd_kafka_t *rk, const rd_kafka_message_t *m, void *opaque) {
    (void)rk;
    (void)opaque;
    if (m->err) {
        if (!gt_dr_failed) fprintf(stderr, "delivery failed: %s\n", rd_kafka_err2str(m->err));
        gt_dr_failed++;
    }
}

/* An acks=all producer that counts failed deliveries in gt_dr_failed. */
static inline rd_kafka_t *gt_producer(const char *addr, const char *const *extra) {
    static const char *const kv[] = {"acks", "all", "linger.ms", "5", NULL};
    rd_kafka_conf_t *conf = kt_conf(addr, kv, extra);
    rd_kafka_conf_set_dr_msg_cb(conf, gt_dr_cb);
    return kt_new(RD_KAFKA_PRODUCER, conf);
}

static inline void gt_flush(rd_kafka_t *p) {
    GT_ASSERT(rd_kafka_flush(p, th_scaled_ms(30000)) == RD_KAFKA_RESP_ERR_NO_ERROR, "flush timed out");
    GT_ASSERT(gt_dr_failed == 0, "%d deliveries failed", gt_dr_failed);
}

#endif
