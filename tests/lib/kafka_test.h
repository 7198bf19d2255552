/*
 * kafka_test.h - librdkafka helpers shared by the C integration tests (groups and idempotence
 * 0040-0049 through group_test.h, the worker 0050-0059 through worker_test.h): an assertion that
 * fails the test at once, client configurations with the tests' log settings, producing with a
 * retry while librdkafka's queue is full.
 *
 * Header-only (static inline): each integration test is one executable of one .c file.
 * KT_DEBUG=CONTEXTS (or GT_DEBUG, its older name) turns on librdkafka's own debug output.
 */
#ifndef SA_TEST_KAFKA_TEST_H
#define SA_TEST_KAFKA_TEST_H

#include <librdkafka/rdkafka.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define KT_FAIL(...)                                                                                         \
    do {                                                                                                     \
        fprintf(stderr, "FAIL %s:%d: ", __FILE__, __LINE__);                                                 \
        fprintf(stderr, __VA_ARGS__);                                                                        \
        fprintf(stderr, "\n");                                                                               \
        exit(1);                                                                                             \
    } while (0)
#define KT_ASSERT(cond, ...)                                                                                 \
    do {                                                                                                     \
        if (!(cond)) {                                                                                       \
            fprintf(stderr, "FAIL %s:%d: (%s) ", __FILE__, __LINE__, #cond);                                 \
            fprintf(stderr, __VA_ARGS__);                                                                    \
            fprintf(stderr, "\n");                                                                           \
            exit(1);                                                                                         \
        }                                                                                                    \
    } while (0)

/* @returns librdkafka debug contexts from the environment (borrowed), or NULL. */
static inline const char *kt_debug(void) {
    const char *d = getenv("KT_DEBUG");
    return d && *d ? d : getenv("GT_DEBUG");
}

/* Set "key", "value" pairs ending in NULL (may be NULL) on @p conf; a refusal fails the test. */
static inline void kt_conf_set_pairs(rd_kafka_conf_t *conf, const char *const *kv) {
    char errstr[512];
    for (int i = 0; kv && kv[i]; i += 2)
        if (rd_kafka_conf_set(conf, kv[i], kv[i + 1], errstr, sizeof(errstr)) != RD_KAFKA_CONF_OK)
            KT_FAIL("conf %s=%s: %s", kv[i], kv[i + 1], errstr);
}

/**
 * @returns new: a conf with bootstrap.servers = @p bootstrap, quiet logs (or KT_DEBUG's), then
 * the pairs of @p defaults, then those of @p extra (both "key", "value", ..., NULL; may be NULL),
 * so @p extra wins.
 */
static inline rd_kafka_conf_t *kt_conf(const char *bootstrap, const char *const *defaults,
                                       const char *const *extra) {
    rd_kafka_conf_t *conf = rd_kafka_conf_new();
    rd_kafka_conf_set(conf, "bootstrap.servers", bootstrap, NULL, 0);
    rd_kafka_conf_set(conf, "log_level", kt_debug() ? "7" : "3", NULL, 0);
    if (kt_debug()) rd_kafka_conf_set(conf, "debug", kt_debug(), NULL, 0);
    kt_conf_set_pairs(conf, defaults);
    kt_conf_set_pairs(conf, extra);
    return conf;
}

/** @returns new: a client of @p type made from @p conf (taken); a consumer's messages and
 *  callbacks come through rd_kafka_consumer_poll. Fails the test if librdkafka refuses. */
static inline rd_kafka_t *kt_new(rd_kafka_type_t type, rd_kafka_conf_t *conf) {
    char errstr[512];
    rd_kafka_t *rk = rd_kafka_new(type, conf, errstr, sizeof(errstr));
    if (!rk) KT_FAIL("rd_kafka_new: %s", errstr);
    if (type == RD_KAFKA_CONSUMER) rd_kafka_poll_set_consumer(rk);
    return rk;
}

/**
 * Produce a copy of @p value (@p len bytes) with @p key (NUL-terminated, may be NULL) to
 * @p topic / @p partition (RD_KAFKA_PARTITION_UA: the partitioner picks), serving delivery
 * reports while librdkafka's queue is full. Any other refusal fails the test.
 */
static inline void kt_produce(rd_kafka_t *rk, const char *topic, int32_t partition, const char *key,
                              const void *value, size_t len) {
    for (;;) {
        rd_kafka_resp_err_t err = rd_kafka_producev(
            rk, RD_KAFKA_V_TOPIC(topic), RD_KAFKA_V_PARTITION(partition),
            RD_KAFKA_V_KEY(key, key ? strlen(key) : 0), RD_KAFKA_V_VALUE((void *)value, len),
            RD_KAFKA_V_MSGFLAGS(RD_KAFKA_MSG_F_COPY), RD_KAFKA_V_END);
        if (err == RD_KAFKA_RESP_ERR__QUEUE_FULL) {
            rd_kafka_poll(rk, 10);
            continue;
        }
        KT_ASSERT(!err, "produce to %s: %s", topic, rd_kafka_err2str(err));
        return;
    }
}

#endif
