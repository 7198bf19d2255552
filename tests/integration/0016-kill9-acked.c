/*
 * 0016-kill9-acked: kill -9 the broker in the middle of an acks=all stream; after a restart
 * every record whose delivery report said "delivered" is readable, at the offset the report
 * gave, with its bytes intact (librdkafka checks each batch's CRC), and offsets are contiguous.
 *
 * Records are "seq-<n>" values; the delivery report callback stores offset -> n for every
 * acknowledged one. Unacknowledged records may or may not be there (they were in flight).
 */
#include <librdkafka/rdkafka.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "harness.h"

#define TOPIC      "durable"
#define MAX_RECS   2000000
#define KILL_AFTER 30000 /* acknowledged records before the kill */

static int64_t *acked_seq; /* [offset] -> seq, -1 if not acknowledged */
static int64_t nacked, max_acked_offset = -1;

#define FAIL(...)                                                                                            \
    do {                                                                                                     \
        fprintf(stderr, "FAIL: " __VA_ARGS__);                                                               \
        fprintf(stderr, "\n");                                                                               \
        exit(1);                                                                                             \
    } while (0)

static void dr_cb(rd_kafka_t *rk, const rd_kafka_message_t *m, void *opaque) {
    (void)rk;
    (void)opaque;
    if (m->err) return;
    if (m->offset < 0 || m->offset >= MAX_RECS)
        FAIL("delivery report with offset %lld", (long long)m->offset);
    acked_seq[m->offset] = (int64_t)(intptr_t)m->_private;
    nacked++;
    if (m->offset > max_acked_offset) max_acked_offset = m->offset;
}

static rd_kafka_t *new_client(rd_kafka_type_t type, const char *addr) {
    char errstr[256];
    rd_kafka_conf_t *conf = rd_kafka_conf_new();
    rd_kafka_conf_set(conf, "bootstrap.servers", addr, NULL, 0);
    if (type == RD_KAFKA_PRODUCER) {
        rd_kafka_conf_set(conf, "acks", "all", NULL, 0);
        rd_kafka_conf_set(conf, "linger.ms", "1", NULL, 0);
        rd_kafka_conf_set(conf, "message.timeout.ms", "5000", NULL, 0);
        rd_kafka_conf_set(conf, "retries", "0", NULL, 0);
        rd_kafka_conf_set_dr_msg_cb(conf, dr_cb);
    } else {
        rd_kafka_conf_set(conf, "group.id", "kill9-reader", NULL, 0);
        rd_kafka_conf_set(conf, "enable.auto.commit", "false", NULL, 0);
        rd_kafka_conf_set(conf, "check.crcs", "true", NULL, 0);
        rd_kafka_conf_set(conf, "enable.partition.eof", "true", NULL, 0);
    }
    rd_kafka_conf_set(conf, "log_level", "2", NULL, 0);
    rd_kafka_t *rk = rd_kafka_new(type, conf, errstr, sizeof(errstr));
    if (!rk) FAIL("rd_kafka_new: %s", errstr);
    return rk;
}

int main(void) {
    th_proc_t broker;
    const char *extra[] = {"-o", "auto.create.topics.enable=true", NULL};
    acked_seq = malloc(sizeof(int64_t) * MAX_RECS);
    for (int i = 0; i < MAX_RECS; i++) acked_seq[i] = -1;
    if (th_broker_start(&broker, NULL, extra) < 0) FAIL("broker did not start");

    rd_kafka_t *p = new_client(RD_KAFKA_PRODUCER, broker.addr);
    int64_t seq = 0, deadline = th_now_ms() + th_scaled_ms(60000);
    int killed = 0;
    while (!killed) {
        char val[64];
        int n = snprintf(val, sizeof(val), "seq-%lld", (long long)seq);
        rd_kafka_resp_err_t err =
            rd_kafka_producev(p, RD_KAFKA_V_TOPIC(TOPIC), RD_KAFKA_V_VALUE(val, (size_t)n),
                              RD_KAFKA_V_MSGFLAGS(RD_KAFKA_MSG_F_COPY),
                              RD_KAFKA_V_OPAQUE((void *)(intptr_t)seq), RD_KAFKA_V_END);
        if (err == RD_KAFKA_RESP_ERR__QUEUE_FULL) {
            rd_kafka_poll(p, 1);
            continue;
        }
        if (err) FAIL("produce: %s", rd_kafka_err2str(err));
        seq++;
        if (seq >= MAX_RECS) FAIL("produced %d without reaching %d acks", MAX_RECS, KILL_AFTER);
        rd_kafka_poll(p, 0);
        if (nacked >= KILL_AFTER) {
            th_proc_stop(&broker, SIGKILL); /* mid-stream: records are in flight */
            killed = 1;
        }
        if (th_now_ms() > deadline) FAIL("only %lld acks within the deadline", (long long)nacked);
    }
    /* Collect the remaining reports (failures for what the dead broker never acknowledged). */
    rd_kafka_flush(p, th_scaled_ms(15000));
    rd_kafka_destroy(p);
    int64_t acked_total = nacked;
    printf("produced %lld, acknowledged %lld (max offset %lld) before/around kill -9\n", (long long)seq,
           (long long)acked_total, (long long)max_acked_offset);

    if (th_broker_restart(&broker, extra) < 0) FAIL("broker did not restart");
    rd_kafka_t *c = new_client(RD_KAFKA_CONSUMER, broker.addr);
    rd_kafka_topic_partition_list_t *tp = rd_kafka_topic_partition_list_new(1);
    rd_kafka_topic_partition_list_add(tp, TOPIC, 0)->offset = RD_KAFKA_OFFSET_BEGINNING;
    if (rd_kafka_assign(c, tp)) FAIL("assign");
    rd_kafka_topic_partition_list_destroy(tp);
    int64_t next = 0, found_acked = 0;
    deadline = th_now_ms() + th_scaled_ms(60000);
    for (int eof = 0; !eof;) {
        if (th_now_ms() > deadline) FAIL("reading back timed out at offset %lld", (long long)next);
        rd_kafka_message_t *m = rd_kafka_consumer_poll(c, 200);
        if (!m) continue;
        if (m->err == RD_KAFKA_RESP_ERR__PARTITION_EOF) {
            eof = next > max_acked_offset;
            if (!eof)
                FAIL("end of partition at %lld, but offset %lld was acknowledged", (long long)next,
                     (long long)max_acked_offset);
        } else if (m->err) {
            FAIL("consume: %s", rd_kafka_message_errstr(m));
        } else {
            if (m->offset != next)
                FAIL("offset %lld where %lld was expected", (long long)m->offset, (long long)next);
            long long got_seq;
            if (sscanf((const char *)m->payload, "seq-%lld", &got_seq) != 1 || m->len > 30)
                FAIL("corrupt value at offset %lld", (long long)m->offset);
            if (acked_seq[m->offset] >= 0) {
                if (acked_seq[m->offset] != got_seq)
                    FAIL("offset %lld holds seq %lld, acknowledged as seq %lld", (long long)m->offset,
                         got_seq, (long long)acked_seq[m->offset]);
                found_acked++;
            }
            next++;
        }
        rd_kafka_message_destroy(m);
    }
    rd_kafka_consumer_close(c);
    rd_kafka_destroy(c);
    th_proc_cleanup(&broker);
    printf("after restart: %lld records readable, %lld of %lld acknowledged found\n", (long long)next,
           (long long)found_acked, (long long)acked_total);
    if (found_acked != acked_total)
        FAIL("%lld acknowledged records lost", (long long)(acked_total - found_acked));
    free(acked_seq);
    printf("ok\n");
    return 0;
}
