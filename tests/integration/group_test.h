/*
 * group_test.h - helpers shared by the group/idempotence integration tests (0040-0049): a
 * failing assertion, librdkafka clients with the settings these tests need, and a produce
 * helper with explicit partitions. Header-only: each test is one executable.
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

#define GT_FAIL(...)                                                                              \
    do {                                                                                          \
        fprintf(stderr, "FAIL %s:%d: ", __FILE__, __LINE__);                                      \
        fprintf(stderr, __VA_ARGS__);                                                             \
        fprintf(stderr, "\n");                                                                    \
        exit(1);                                                                                  \
    } while (0)
#define GT_ASSERT(cond, ...)                                                                      \
    do {                                                                                          \
        if (!(cond)) GT_FAIL(__VA_ARGS__);                                                        \
    } while (0)

/* Create a client; @p kv is a NULL-terminated list of key, value pairs. */
static inline rd_kafka_t *gt_client(rd_kafka_type_t type, const char *addr, const char *const *kv) {
    char errstr[512];
    rd_kafka_conf_t *conf = rd_kafka_conf_new();
    rd_kafka_conf_set(conf, "bootstrap.servers", addr, NULL, 0);
    rd_kafka_conf_set(conf, "log_level", getenv("GT_DEBUG") ? "7" : "3", NULL, 0);
    if (getenv("GT_DEBUG")) rd_kafka_conf_set(conf, "debug", getenv("GT_DEBUG"), NULL, 0);
    for (int i = 0; kv && kv[i]; i += 2)
        if (rd_kafka_conf_set(conf, kv[i], kv[i + 1], errstr, sizeof(errstr)) != RD_KAFKA_CONF_OK)
            GT_FAIL("conf %s=%s: %s", kv[i], kv[i + 1], errstr);
    rd_kafka_t *rk = rd_kafka_new(type, conf, errstr, sizeof(errstr));
    if (!rk) GT_FAIL("rd_kafka_new: %s", errstr);
    if (type == RD_KAFKA_CONSUMER) rd_kafka_poll_set_consumer(rk);
    return rk;
}

/* A consumer in @p group with manual commits, reading from the beginning. */
static inline rd_kafka_t *gt_consumer(const char *addr, const char *group, const char *const *extra) {
    const char *kv[64] = {"group.id", group, "enable.auto.commit", "false", "auto.offset.reset", "earliest",
                          "session.timeout.ms", "6000", "heartbeat.interval.ms", "500", NULL};
    int n = 10;
    for (int i = 0; extra && extra[i] && n < 62; i++) kv[n++] = extra[i];
    kv[n] = NULL;
    rd_kafka_t *rk = gt_client(RD_KAFKA_CONSUMER, addr, kv);
    return rk;
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
static inline void gt_produce(rd_kafka_t *p, const char *topic, int32_t partition, const void *value, size_t len) {
    for (;;) {
        rd_kafka_resp_err_t err = rd_kafka_producev(p, RD_KAFKA_V_TOPIC(topic), RD_KAFKA_V_PARTITION(partition),
                                                    RD_KAFKA_V_VALUE((void *)value, len),
                                                    RD_KAFKA_V_MSGFLAGS(RD_KAFKA_MSG_F_COPY), RD_KAFKA_V_END);
        if (err == RD_KAFKA_RESP_ERR__QUEUE_FULL) {
            rd_kafka_poll(p, 10);
            continue;
        }
        GT_ASSERT(!err, "produce: %s", rd_kafka_err2str(err));
        return;
    }
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
    char errstr[512];
    rd_kafka_conf_t *conf = rd_kafka_conf_new();
    rd_kafka_conf_set(conf, "bootstrap.servers", addr, NULL, 0);
    rd_kafka_conf_set(conf, "acks", "all", NULL, 0);
    rd_kafka_conf_set(conf, "linger.ms", "5", NULL, 0);
    rd_kafka_conf_set(conf, "log_level", getenv("GT_DEBUG") ? "7" : "3", NULL, 0);
    if (getenv("GT_DEBUG")) rd_kafka_conf_set(conf, "debug", getenv("GT_DEBUG"), NULL, 0);
    for (int i = 0; extra && extra[i]; i += 2)
        if (rd_kafka_conf_set(conf, extra[i], extra[i + 1], errstr, sizeof(errstr)) != RD_KAFKA_CONF_OK)
            GT_FAIL("conf %s=%s: %s", extra[i], extra[i + 1], errstr);
    rd_kafka_conf_set_dr_msg_cb(conf, gt_dr_cb);
    rd_kafka_t *rk = rd_kafka_new(RD_KAFKA_PRODUCER, conf, errstr, sizeof(errstr));
    if (!rk) GT_FAIL("rd_kafka_new: %s", errstr);
    return rk;
}

static inline void gt_flush(rd_kafka_t *p) {
    GT_ASSERT(rd_kafka_flush(p, th_scaled_ms(30000)) == RD_KAFKA_RESP_ERR_NO_ERROR, "flush timed out");
    GT_ASSERT(gt_dr_failed == 0, "%d deliveries failed", gt_dr_failed);
}

#endif
