/*
 * txn_test.h - helpers of the transaction tests (integration 0110-0119, fault tests driving
 * transactions): a librdkafka transactional producer whose every API call must succeed, and a
 * consumer that reads a topic to its end (the last stable offset for read_committed) collecting
 * what it saw. On top of group_test.h; header-only: each test is one executable.
 */
#ifndef SA_TEST_TXN_TEST_H
#define SA_TEST_TXN_TEST_H

#include "group_test.h"

/* Fail the test with @p what if @p e is an error (and destroy it). */
#define TT_OK(e, what)                                                                                       \
    do {                                                                                                     \
        rd_kafka_error_t *tt_e_ = (e);                                                                       \
        if (tt_e_) {                                                                                         \
            fprintf(stderr, "FAIL %s:%d: %s: %s (%s)\n", __FILE__, __LINE__, what,                           \
                    rd_kafka_error_string(tt_e_), rd_kafka_error_name(tt_e_));                               \
            exit(1);                                                                                         \
        }                                                                                                    \
    } while (0)

/* A transactional producer with @p txid, initialised (InitProducerId done). @p extra: more
 * "key", "value" pairs ending in NULL (may be NULL). */
static inline rd_kafka_t *tt_producer(const char *addr, const char *txid, const char *const *extra) {
    const char *const kv[] = {"transactional.id", txid, "linger.ms", "2", NULL};
    rd_kafka_conf_t *conf = kt_conf(addr, kv, extra);
    rd_kafka_conf_set_dr_msg_cb(conf, gt_dr_cb);
    rd_kafka_t *p = kt_new(RD_KAFKA_PRODUCER, conf);
    TT_OK(rd_kafka_init_transactions(p, th_scaled_ms(30000)), "init_transactions");
    return p;
}

/* What a read saw: values in the order they came, per partition. */
#define TT_MAX_VALUES 20000
typedef struct tt_seen_s {
    char *values[TT_MAX_VALUES];
    int32_t partition[TT_MAX_VALUES];
    int64_t offset[TT_MAX_VALUES];
    int n;
} tt_seen_t;

static inline void tt_seen_free(tt_seen_t *s) {
    for (int i = 0; i < s->n; i++) free(s->values[i]);
    s->n = 0;
}

/* @returns how many values of @p s start with @p prefix. */
static inline int tt_count(const tt_seen_t *s, const char *prefix) {
    int n = 0;
    for (int i = 0; i < s->n; i++) n += !strncmp(s->values[i], prefix, strlen(prefix));
    return n;
}

/* @returns 1 if @p value is in @p s. */
static inline int tt_has(const tt_seen_t *s, const char *value) {
    for (int i = 0; i < s->n; i++)
        if (!strcmp(s->values[i], value)) return 1;
    return 0;
}

/*
 * Read every partition of @p topic (@p nparts) from the beginning with isolation @p isolation
 * ("read_committed" / "read_uncommitted") until each reports its end (partition EOF: the LSO for
 * read_committed, the HWM otherwise) at or past @p min_end[p] (may be NULL), into @p out.
 */
static inline void tt_read_all(const char *addr, const char *topic, int nparts, const char *isolation,
                               const int64_t *min_end, tt_seen_t *out) {
    const char *const kv[] = {"isolation.level",
                              isolation,
                              "enable.partition.eof",
                              "true",
                              "group.id",
                              "tt-reader",
                              "enable.auto.commit",
                              "false",
                              NULL};
    rd_kafka_t *c = kt_new(RD_KAFKA_CONSUMER, kt_conf(addr, kv, NULL));
    rd_kafka_topic_partition_list_t *tl = rd_kafka_topic_partition_list_new(nparts);
    for (int p = 0; p < nparts; p++)
        rd_kafka_topic_partition_list_add(tl, topic, p)->offset = RD_KAFKA_OFFSET_BEGINNING;
    GT_ASSERT(!rd_kafka_assign(c, tl), "assign");
    rd_kafka_topic_partition_list_destroy(tl);
    int64_t *end = calloc((size_t)nparts, sizeof(*end));
    for (int p = 0; p < nparts; p++) end[p] = -1;
    int64_t deadline = th_now_ms() + th_scaled_ms(30000);
    for (;;) {
        int done = 1;
        for (int p = 0; p < nparts; p++) done &= end[p] >= 0 && (!min_end || end[p] >= min_end[p]);
        if (done) break;
        GT_ASSERT(th_now_ms() < deadline, "reading %s (%s) did not reach the end", topic, isolation);
        rd_kafka_message_t *m = rd_kafka_consumer_poll(c, 100);
        if (!m) continue;
        if (m->err == RD_KAFKA_RESP_ERR__PARTITION_EOF) {
            end[m->partition] = m->offset;
        } else if (m->err) {
            GT_FAIL("consume %s: %s", topic, rd_kafka_message_errstr(m));
        } else {
            GT_ASSERT(out->n < TT_MAX_VALUES, "too many records");
            char *v = malloc(m->len + 1);
            memcpy(v, m->payload, m->len);
            v[m->len] = '\0';
            out->values[out->n] = v;
            out->partition[out->n] = m->partition;
            out->offset[out->n] = m->offset;
            out->n++;
            end[m->partition] = -1; /* more came after an EOF */
        }
        rd_kafka_message_destroy(m);
    }
    free(end);
    rd_kafka_consumer_close(c);
    rd_kafka_destroy(c);
}

#endif
