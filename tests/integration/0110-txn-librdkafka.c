/*
 * 0110-txn-librdkafka: librdkafka's transactional producer and read_committed consumer against a
 * real samsa broker (KIP-98).
 *
 *   commit_abort   40 transactions of 12 records over 3 partitions, every other one aborted: a
 *                  read_committed consumer gets exactly the committed records, each once and in
 *                  order; a read_uncommitted one gets all of them.
 *   open_invisible records of a transaction not yet committed, and the plain records written
 *                  after them, stay invisible to read_committed (the LSO holds at the open
 *                  transaction; ListOffsets read_committed says so) until it commits.
 *   fencing        a second producer with the same transactional.id fences the first: the first's
 *                  commit fails fatally (its transaction is aborted) and only the second's records
 *                  are ever read_committed.
 *   timeout        a producer that vanishes mid-transaction (transaction.timeout.ms 1500): the
 *                  broker aborts it and fences it; its records never become visible; the LSO moves on.
 *   ctp            consume-transform-produce with send_offsets_to_transaction: 200 input records in
 *                  transactions of 10, one in three aborted and redone; the output has each input
 *                  exactly once and the group's committed offsets are the input's end.
 */
#include "txn_test.h"

#define NPART 3

static th_proc_t broker;

static void create_topic(const char *topic) {
    /* Auto-created on first use with num.partitions = 3; make it exist before transactions. */
    rd_kafka_t *p = gt_producer(broker.addr, NULL);
    gt_produce(p, topic, 0, "init", 4);
    gt_flush(p);
    rd_kafka_destroy(p);
}

static int64_t partition_end(rd_kafka_t *c, const char *topic, int32_t partition) {
    int64_t lo = -1, hi = -1;
    rd_kafka_resp_err_t err =
        rd_kafka_query_watermark_offsets(c, topic, partition, &lo, &hi, th_scaled_ms(10000));
    GT_ASSERT(!err, "watermarks of %s-%d: %s", topic, partition, rd_kafka_err2str(err));
    return hi;
}

static void commit_abort(void) {
    create_topic("ca");
    rd_kafka_t *p = tt_producer(broker.addr, "tx-ca", NULL);
    char v[64];
    for (int t = 0; t < 40; t++) {
        TT_OK(rd_kafka_begin_transaction(p), "begin");
        for (int i = 0; i < 12; i++) {
            snprintf(v, sizeof(v), "%c%02d-%02d", t % 2 ? 'a' : 'c', t, i);
            gt_produce(p, "ca", i % NPART, v, strlen(v));
        }
        if (t % 2) {
            gt_flush(p); /* in the log first: an abort before the flush would only purge the queue */
            TT_OK(rd_kafka_abort_transaction(p, th_scaled_ms(30000)), "abort");
        } else {
            TT_OK(rd_kafka_commit_transaction(p, th_scaled_ms(30000)), "commit");
        }
    }
    GT_ASSERT(gt_dr_failed == 0, "deliveries failed");
    tt_seen_t seen = {0};
    tt_read_all(broker.addr, "ca", NPART, "read_committed", NULL, &seen);
    GT_ASSERT(tt_count(&seen, "a") == 0, "read_committed saw %d aborted records", tt_count(&seen, "a"));
    GT_ASSERT(tt_count(&seen, "c") == 20 * 12, "read_committed saw %d of 240 committed records",
              tt_count(&seen, "c"));
    /* In order per partition: transaction by transaction, record by record. */
    char last[NPART][64] = {{0}};
    for (int i = 0; i < seen.n; i++) {
        if (seen.values[i][0] != 'c') continue;
        int32_t part = seen.partition[i];
        GT_ASSERT(strcmp(seen.values[i], last[part]) > 0, "out of order in partition %d: %s after %s", part,
                  seen.values[i], last[part]);
        snprintf(last[part], sizeof(last[part]), "%s", seen.values[i]);
    }
    tt_seen_free(&seen);
    tt_read_all(broker.addr, "ca", NPART, "read_uncommitted", NULL, &seen);
    GT_ASSERT(tt_count(&seen, "a") == 240 && tt_count(&seen, "c") == 240,
              "read_uncommitted saw %d aborted, %d committed", tt_count(&seen, "a"), tt_count(&seen, "c"));
    tt_seen_free(&seen);
    rd_kafka_destroy(p);
    printf("commit_abort: ok\n");
}

static void open_invisible(void) {
    create_topic("oi");
    rd_kafka_t *p = tt_producer(broker.addr, "tx-oi", NULL);
    TT_OK(rd_kafka_begin_transaction(p), "begin");
    for (int i = 0; i < 10; i++) gt_produce(p, "oi", 0, "open", 4);
    gt_flush(p); /* in the log, durable, undecided */
    rd_kafka_t *plain = gt_producer(broker.addr, NULL);
    for (int i = 0; i < 5; i++) gt_produce(plain, "oi", 0, "plain", 5);
    gt_flush(plain);
    /* read_committed stops at the open transaction (offset 1: "init" is at 0). */
    const char *const rc[] = {"isolation.level", "read_committed", NULL};
    const char *const ru[] = {"isolation.level", "read_uncommitted", NULL};
    rd_kafka_t *crc = gt_consumer(broker.addr, "oi-rc", rc), *cru = gt_consumer(broker.addr, "oi-ru", ru);
    GT_ASSERT(partition_end(crc, "oi", 0) == 1, "read_committed end %lld, expected the LSO 1",
              (long long)partition_end(crc, "oi", 0));
    GT_ASSERT(partition_end(cru, "oi", 0) == 16, "read_uncommitted end %lld, expected the HWM 16",
              (long long)partition_end(cru, "oi", 0));
    tt_seen_t seen = {0};
    tt_read_all(broker.addr, "oi", NPART, "read_committed", NULL, &seen);
    GT_ASSERT(seen.n == 1 && !strcmp(seen.values[0], "init"),
              "read_committed saw %d records before the commit", seen.n);
    tt_seen_free(&seen);
    TT_OK(rd_kafka_commit_transaction(p, th_scaled_ms(30000)), "commit");
    GT_ASSERT(partition_end(crc, "oi", 0) == 17,
              "read_committed end %lld after the commit, expected 17 (marker)",
              (long long)partition_end(crc, "oi", 0));
    int64_t min_end[NPART] = {17, 0, 0};
    tt_read_all(broker.addr, "oi", NPART, "read_committed", min_end, &seen);
    GT_ASSERT(tt_count(&seen, "open") == 10 && tt_count(&seen, "plain") == 5,
              "after the commit: %d open, %d plain", tt_count(&seen, "open"), tt_count(&seen, "plain"));
    tt_seen_free(&seen);
    rd_kafka_destroy(crc);
    rd_kafka_destroy(cru);
    rd_kafka_destroy(plain);
    rd_kafka_destroy(p);
    printf("open_invisible: ok\n");
}

static void fencing(void) {
    create_topic("fe");
    rd_kafka_t *a = tt_producer(broker.addr, "tx-fe", NULL);
    TT_OK(rd_kafka_begin_transaction(a), "begin a");
    for (int i = 0; i < 6; i++) gt_produce(a, "fe", i % NPART, "zombie", 6);
    gt_flush(a);
    rd_kafka_t *b = tt_producer(broker.addr, "tx-fe", NULL); /* fences a, aborts its transaction */
    TT_OK(rd_kafka_begin_transaction(b), "begin b");
    for (int i = 0; i < 6; i++) gt_produce(b, "fe", i % NPART, "winner", 6);
    gt_produce(a, "fe", 0, "zombie", 6);
    rd_kafka_error_t *e = rd_kafka_commit_transaction(a, th_scaled_ms(30000));
    GT_ASSERT(e, "the fenced producer's commit succeeded");
    GT_ASSERT(rd_kafka_error_is_fatal(e), "fenced commit: not fatal: %s", rd_kafka_error_string(e));
    GT_ASSERT(rd_kafka_fatal_error(a, NULL, 0) == RD_KAFKA_RESP_ERR__FENCED ||
                  rd_kafka_fatal_error(a, NULL, 0) == RD_KAFKA_RESP_ERR_PRODUCER_FENCED ||
                  rd_kafka_fatal_error(a, NULL, 0) == RD_KAFKA_RESP_ERR_INVALID_PRODUCER_EPOCH,
              "fatal error %s, expected fenced", rd_kafka_err2name(rd_kafka_fatal_error(a, NULL, 0)));
    rd_kafka_error_destroy(e);
    TT_OK(rd_kafka_commit_transaction(b, th_scaled_ms(30000)), "commit b");
    gt_dr_failed = 0; /* the zombie's deliveries failed, as they must */
    tt_seen_t seen = {0};
    tt_read_all(broker.addr, "fe", NPART, "read_committed", NULL, &seen);
    GT_ASSERT(tt_count(&seen, "zombie") == 0 && tt_count(&seen, "winner") == 6,
              "read_committed: %d zombie, %d winner", tt_count(&seen, "zombie"), tt_count(&seen, "winner"));
    tt_seen_free(&seen);
    rd_kafka_destroy(a);
    rd_kafka_destroy(b);
    printf("fencing: ok\n");
}

static void timeout(void) {
    create_topic("to");
    const char *const kv[] = {"transaction.timeout.ms", "1500", NULL};
    rd_kafka_t *p = tt_producer(broker.addr, "tx-to", kv);
    TT_OK(rd_kafka_begin_transaction(p), "begin");
    for (int i = 0; i < 9; i++) gt_produce(p, "to", i % NPART, "vanished", 8);
    gt_flush(p);
    /* The producer goes quiet; the broker aborts the transaction after 1.5 s: the LSO moves past
     * it (the ABORT markers are durable) and read_committed reads to the end without it. */
    const char *const rc[] = {"isolation.level", "read_committed", NULL};
    rd_kafka_t *c = gt_consumer(broker.addr, "to-rc", rc);
    int64_t hwm[NPART];
    for (int part = 0; part < NPART; part++) hwm[part] = 1 + (part == 0) + 3; /* init + 3 records + marker */
    GT_ASSERT(TH_WAIT_UNTIL(partition_end(c, "to", 0) == 5 && partition_end(c, "to", 1) == 4 &&
                                partition_end(c, "to", 2) == 4,
                            15000),
              "the LSO did not move past the timed-out transaction (ends %lld %lld %lld)",
              (long long)partition_end(c, "to", 0), (long long)partition_end(c, "to", 1),
              (long long)partition_end(c, "to", 2));
    (void)hwm;
    tt_seen_t seen = {0};
    tt_read_all(broker.addr, "to", NPART, "read_committed", NULL, &seen);
    GT_ASSERT(tt_count(&seen, "vanished") == 0, "read_committed saw %d records of the timed-out transaction",
              tt_count(&seen, "vanished"));
    tt_seen_free(&seen);
    /* The producer comes back: its transaction is gone, and it was fenced. */
    rd_kafka_error_t *e = rd_kafka_commit_transaction(p, th_scaled_ms(30000));
    GT_ASSERT(e, "commit after the timeout succeeded");
    printf("timeout: commit after the abort: %s (fatal %d, abortable %d)\n", rd_kafka_error_string(e),
           rd_kafka_error_is_fatal(e), rd_kafka_error_txn_requires_abort(e));
    rd_kafka_error_destroy(e);
    gt_dr_failed = 0;
    rd_kafka_destroy(c);
    rd_kafka_destroy(p);
    printf("timeout: ok\n");
}

/* Commit @p c's position as part of @p p's transaction. */
static void send_offsets(rd_kafka_t *p, rd_kafka_t *c) {
    rd_kafka_topic_partition_list_t *pos = NULL;
    GT_ASSERT(!rd_kafka_assignment(c, &pos), "assignment");
    GT_ASSERT(!rd_kafka_position(c, pos), "position");
    rd_kafka_consumer_group_metadata_t *meta = rd_kafka_consumer_group_metadata(c);
    TT_OK(rd_kafka_send_offsets_to_transaction(p, pos, meta, th_scaled_ms(30000)), "send_offsets");
    rd_kafka_consumer_group_metadata_destroy(meta);
    rd_kafka_topic_partition_list_destroy(pos);
}

/* Go back to the group's committed offsets (after an abort). */
static void rewind_to_committed(rd_kafka_t *c) {
    rd_kafka_topic_partition_list_t *pos = NULL;
    GT_ASSERT(!rd_kafka_assignment(c, &pos), "assignment");
    GT_ASSERT(!rd_kafka_committed(c, pos, th_scaled_ms(10000)), "committed");
    for (int i = 0; i < pos->cnt; i++)
        if (pos->elems[i].offset < 0) pos->elems[i].offset = RD_KAFKA_OFFSET_BEGINNING;
    TT_OK(rd_kafka_seek_partitions(c, pos, th_scaled_ms(10000)), "seek");
    rd_kafka_topic_partition_list_destroy(pos);
}

static void ctp(void) {
    rd_kafka_t *plain = gt_producer(broker.addr, NULL);
    char v[32];
    for (int i = 0; i < 200; i++) {
        snprintf(v, sizeof(v), "in-%03d", i);
        gt_produce(plain, "ctp-in", i % NPART, v, strlen(v));
    }
    gt_flush(plain);
    rd_kafka_destroy(plain);
    create_topic("ctp-out");
    const char *const rc[] = {"isolation.level", "read_committed", "fetch.wait.max.ms", "20", NULL};
    rd_kafka_t *c = gt_consumer(broker.addr, "ctp-group", rc);
    gt_subscribe(c, "ctp-in");
    rd_kafka_t *p = tt_producer(broker.addr, "tx-ctp", NULL);
    int done = 0, txns = 0;
    int64_t deadline = th_now_ms() + th_scaled_ms(60000);
    while (done < 200) {
        GT_ASSERT(th_now_ms() < deadline, "consume-transform-produce stalled at %d of 200", done);
        TT_OK(rd_kafka_begin_transaction(p), "begin");
        int n = 0;
        while (n < 10 && th_now_ms() < deadline) {
            rd_kafka_message_t *m = rd_kafka_consumer_poll(c, 200);
            if (!m) {
                if (n) break;
                continue;
            }
            GT_ASSERT(!m->err, "consume: %s", rd_kafka_message_errstr(m));
            snprintf(v, sizeof(v), "out-%.*s", (int)m->len - 3, (const char *)m->payload + 3);
            gt_produce(p, "ctp-out", RD_KAFKA_PARTITION_UA, v, strlen(v));
            rd_kafka_message_destroy(m);
            n++;
        }
        send_offsets(p, c);
        if (++txns % 3 == 0) {
            gt_flush(p); /* the aborted output is in the log, for read_committed to skip */
            TT_OK(rd_kafka_abort_transaction(p, th_scaled_ms(30000)), "abort");
            rewind_to_committed(c);
        } else {
            TT_OK(rd_kafka_commit_transaction(p, th_scaled_ms(30000)), "commit");
            done += n;
        }
    }
    tt_seen_t seen = {0};
    tt_read_all(broker.addr, "ctp-out", NPART, "read_committed", NULL, &seen);
    int outs = tt_count(&seen, "out-");
    GT_ASSERT(outs == 200, "the output has %d records, expected each of 200 inputs once", outs);
    for (int i = 0; i < 200; i++) {
        snprintf(v, sizeof(v), "out-%03d", i);
        GT_ASSERT(tt_has(&seen, v), "%s missing from the output", v);
    }
    tt_seen_free(&seen);
    rd_kafka_topic_partition_list_t *parts = rd_kafka_topic_partition_list_new(NPART);
    for (int i = 0; i < NPART; i++) rd_kafka_topic_partition_list_add(parts, "ctp-in", i);
    GT_ASSERT(!rd_kafka_committed(c, parts, th_scaled_ms(10000)), "committed");
    int64_t sum = 0;
    for (int i = 0; i < NPART; i++) sum += parts->elems[i].offset;
    GT_ASSERT(sum == 200, "the group's committed offsets sum to %lld, expected 200", (long long)sum);
    rd_kafka_topic_partition_list_destroy(parts);
    rd_kafka_consumer_close(c);
    rd_kafka_destroy(c);
    rd_kafka_destroy(p);
    printf("ctp: ok (%d transactions)\n", txns);
}

int main(void) {
    const char *args[] = {"-o", "num.partitions=3", NULL};
    GT_ASSERT(th_broker_start(&broker, NULL, args) == 0, "broker did not start");
    void (*const steps[])(void) = {commit_abort, open_invisible, fencing, timeout, ctp};
    for (size_t i = 0; i < sizeof(steps) / sizeof(steps[0]); i++) {
        int64_t t0 = th_now_ms();
        steps[i]();
        printf("  (%lld ms)\n", (long long)(th_now_ms() - t0));
    }
    GT_ASSERT(th_proc_stop(&broker, SIGTERM) == 0, "broker did not stop cleanly");
    th_proc_cleanup(&broker);
    return 0;
}
