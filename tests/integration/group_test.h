/*
 * group_test.h - helpers shared by the group/idempotence tests (integration 0040-0049, and
 * fault tests that drive the group APIs): a failing assertion, librdkafka clients with the
 * settings these tests need, a produce helper with explicit partitions, on top of
 * tests/lib/kafka_test.h; and raw request frames spoken with samsa's own codec, for what no
 * bundled client sends. Header-only: each test is one executable.
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

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>

#include "harness.h"
#include "kafka_test.h"
#include "proto/proto.h"

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

/* ---- raw frames ---- */

static int32_t gt_corr; /* the last correlation id sent */

/* @returns a socket connected to 127.0.0.1:@p port, with a (scaled) 10 s read timeout. */
static inline int gt_connect(int port) {
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in sa = {.sin_family = AF_INET, .sin_port = htons((uint16_t)port)};
    sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    GT_ASSERT(fd >= 0 && connect(fd, (struct sockaddr *)&sa, sizeof(sa)) == 0, "connect");
    struct timeval tv = {th_scaled_ms(10000) / 1000, 0};
    setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
    return fd;
}

static inline int gt_read_full(int fd, void *p, size_t n) {
    for (size_t got = 0; got < n;) {
        ssize_t r = read(fd, (char *)p + got, n - got);
        if (r <= 0) return -1;
        got += (size_t)r;
    }
    return 0;
}

/* Send request @p body (already encoded at @p ver) with @p extra trailing bytes; @returns the
 * response body in @p resp (header stripped), or -1 if the connection closed. */
static inline int gt_call(int fd, int16_t api, int16_t ver, const sa_buf_t *body, size_t extra,
                          sa_buf_t *resp) {
    sa_buf_t frame = SA_BUF_INIT(0);
    sa_RequestHeader_t h;
    sa_RequestHeader_init(&h);
    h.RequestApiKey = api;
    h.RequestApiVersion = ver;
    h.CorrelationId = ++gt_corr;
    h.ClientId = SA_STR("wire-test");
    sa_buf_put_be32(&frame, 0);
    GT_ASSERT(sa_RequestHeader_encode(&h, sa_proto_request_header_version(api, ver), &frame) == SA_OK,
              "header");
    sa_buf_append(&frame, body->data, body->len);
    for (size_t i = 0; i < extra; i++) sa_buf_putc(&frame, 0);
    sa_store_be32(frame.data, (uint32_t)(frame.len - 4));
    GT_ASSERT(write(fd, frame.data, frame.len) == (ssize_t)frame.len, "write");
    sa_buf_free(&frame);
    uint8_t sz[4];
    if (gt_read_full(fd, sz, 4) < 0) return -1;
    uint32_t n = sa_load_be32(sz);
    sa_buf_reset(resp);
    uint8_t *p = sa_buf_extend(resp, n);
    if (gt_read_full(fd, p, n) < 0) return -1;
    GT_ASSERT((int32_t)sa_load_be32(p) == gt_corr, "correlation id");
    size_t hdr = sa_proto_response_header_version(api, ver) == 1 ? 5 : 4; /* + empty tagged fields */
    sa_buf_consume(resp, hdr);
    return 0;
}

#define GT_ENCODE(Msg, m, ver, buf)                                                                          \
    do {                                                                                                     \
        sa_buf_reset(buf);                                                                                   \
        GT_ASSERT(sa_##Msg##_encode(&(m), (ver), (buf)) == SA_OK, "encode " #Msg);                           \
    } while (0)
#define GT_DECODE(Msg, out, ver, buf, arena)                                                                 \
    do {                                                                                                     \
        sa_rd_t rd_;                                                                                         \
        sa_rd_init(&rd_, (buf)->data, (buf)->len);                                                           \
        GT_ASSERT(sa_##Msg##_decode(&rd_, (ver), (arena), &(out)) == SA_OK, "decode " #Msg);                 \
    } while (0)

#endif
