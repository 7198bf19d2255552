/*
 * 0113-txn-kill9: kill -9 of the broker while transactions are open and being committed.
 *
 * A librdkafka transactional producer runs transactions of 6 records over 3 partitions, commits
 * two of three and aborts the third (after its records are in the log), while another thread
 * kill -9s the broker at random moments and restarts it on the same data directory, 7 times. The
 * producer carries on through the outages: a commit or abort whose answer it did not get is
 * retried (librdkafka retries EndTxn) or, when librdkafka gives the producer up, left "in doubt"
 * and a new producer instance takes over the transactional id (fencing and aborting what was
 * open). A read_committed consumer reads all along.
 *
 * Then, reading everything read_committed:
 *   - every transaction whose commit was acknowledged is there, whole (nothing committed is lost);
 *   - no transaction whose abort was acknowledged (or that the producer aborted) is there;
 *   - a transaction in doubt is there whole or not at all (in doubt at restart -> consistent);
 *   - no record is there twice;
 * and the consumer that read during the kills never saw a record of a transaction that is not
 * in the final committed set, nor one twice.
 */
#include <pthread.h>

#include "txn_test.h"

#define TOPIC  "k9"
#define NPART  3
#define PERTXN 6
#define KILLS  7
#define MAXTXN 4000

enum { T_UNKNOWN = 0, T_COMMITTED, T_ABORTED, T_DOUBT };

static th_proc_t broker;
static volatile int killing_done;
static volatile int release_killer; /* the broker it started dies with its thread (PR_SET_PDEATHSIG) */
static int txn_state[MAXTXN];

static void *killer(void *arg) {
    (void)arg;
    unsigned seed = (unsigned)getpid();
    for (int k = 0; k < KILLS; k++) {
        usleep((useconds_t)(300000 + rand_r(&seed) % 900000));
        kill(broker.pid, SIGKILL);
        th_proc_stop(&broker, SIGKILL); /* reaps it */
        usleep((useconds_t)(rand_r(&seed) % 300000));
        const char *args[] = {"-o", "num.partitions=3", NULL};
        if (th_broker_restart(&broker, args) != 0) {
            fprintf(stderr, "FAIL: the broker did not restart after kill %d\n", k + 1);
            exit(1);
        }
        fprintf(stderr, "kill %d done, broker back\n", k + 1);
    }
    killing_done = 1;
    while (!release_killer) usleep(10000);
    return NULL;
}

/* The concurrent read_committed reader: what it saw, in order. */
static pthread_mutex_t seen_mu = PTHREAD_MUTEX_INITIALIZER;
static tt_seen_t live;
static volatile int stop_reader;

static void *reader(void *arg) {
    (void)arg;
    const char *const kv[] = {
        "isolation.level", "read_committed",    "group.id", "k9-live", "enable.auto.commit",
        "false",           "fetch.wait.max.ms", "50",       NULL};
    rd_kafka_t *c = kt_new(RD_KAFKA_CONSUMER, kt_conf(broker.addr, kv, NULL));
    rd_kafka_topic_partition_list_t *tl = rd_kafka_topic_partition_list_new(NPART);
    for (int p = 0; p < NPART; p++)
        rd_kafka_topic_partition_list_add(tl, TOPIC, p)->offset = RD_KAFKA_OFFSET_BEGINNING;
    rd_kafka_assign(c, tl);
    rd_kafka_topic_partition_list_destroy(tl);
    while (!stop_reader) {
        rd_kafka_message_t *m = rd_kafka_consumer_poll(c, 100);
        if (!m) continue;
        if (!m->err) {
            pthread_mutex_lock(&seen_mu);
            if (live.n < TT_MAX_VALUES) {
                live.values[live.n] = strndup(m->payload, m->len);
                live.partition[live.n] = m->partition;
                live.offset[live.n] = m->offset;
                live.n++;
            }
            pthread_mutex_unlock(&seen_mu);
        }
        rd_kafka_message_destroy(m);
    }
    rd_kafka_consumer_close(c);
    rd_kafka_destroy(c);
    return NULL;
}

static int txn_of(const char *value) { return atoi(value + 1); }

/* End the current transaction of @p p (commit or abort). @returns the state it ended in:
 * T_COMMITTED / T_ABORTED when acknowledged, T_DOUBT when the producer had to be given up. */
static int finish(rd_kafka_t *p, int commit) {
    for (int attempt = 0; attempt < 20; attempt++) {
        rd_kafka_error_t *e = commit ? rd_kafka_commit_transaction(p, th_scaled_ms(20000))
                                     : rd_kafka_abort_transaction(p, th_scaled_ms(20000));
        if (!e) return commit ? T_COMMITTED : T_ABORTED;
        int retriable = rd_kafka_error_is_retriable(e), abortable = rd_kafka_error_txn_requires_abort(e);
        fprintf(stderr, "%s: %s (retriable %d, abortable %d, fatal %d)\n", commit ? "commit" : "abort",
                rd_kafka_error_string(e), retriable, abortable, rd_kafka_error_is_fatal(e));
        rd_kafka_error_destroy(e);
        if (retriable) continue;
        if (abortable && commit) return finish(p, 0) == T_ABORTED ? T_ABORTED : T_DOUBT;
        return T_DOUBT;
    }
    return T_DOUBT;
}

int main(void) {
    const char *args[] = {"-o", "num.partitions=3", NULL};
    GT_ASSERT(th_broker_start(&broker, NULL, args) == 0, "broker did not start");
    rd_kafka_t *plain = gt_producer(broker.addr, NULL);
    gt_produce(plain, TOPIC, 0, "init", 4);
    gt_flush(plain);
    rd_kafka_destroy(plain);

    pthread_t kt, rt;
    pthread_create(&rt, NULL, reader, NULL);
    pthread_create(&kt, NULL, killer, NULL);
    const char *const pkv[] = {"transaction.timeout.ms", "60000", "message.timeout.ms", "60000", NULL};
    rd_kafka_t *p = NULL;
    int ntxn = 0, instances = 0;
    char v[64];
    while (!killing_done || ntxn < 30) {
        GT_ASSERT(ntxn < MAXTXN, "too many transactions");
        if (!p) {
            p = tt_producer(broker.addr, "k9-tx", pkv);
            instances++;
        }
        rd_kafka_error_t *e = rd_kafka_begin_transaction(p);
        GT_ASSERT(!e, "begin: %s", rd_kafka_error_string(e));
        int t = ntxn++;
        for (int i = 0; i < PERTXN; i++) {
            snprintf(v, sizeof(v), "T%d-%d", t, i);
            gt_produce(p, TOPIC, i % NPART, v, strlen(v));
        }
        int commit = t % 3 != 2;
        if (!commit) rd_kafka_flush(p, th_scaled_ms(20000)); /* aborted records in the log first */
        txn_state[t] = finish(p, commit);
        if (txn_state[t] == T_DOUBT) { /* give this instance up; the next one fences it */
            rd_kafka_destroy(p);
            p = NULL;
        }
    }
    rd_kafka_destroy(p);

    /* Everything, read_committed, after the last restart. */
    tt_seen_t all = {0};
    tt_read_all(broker.addr, TOPIC, NPART, "read_committed", NULL, &all);
    stop_reader = 1;
    pthread_join(rt, NULL);
    int *count = calloc(MAXTXN, sizeof(int));
    for (int i = 0; i < all.n; i++) {
        if (!strcmp(all.values[i], "init")) continue;
        for (int k = 0; k < i; k++)
            GT_ASSERT(strcmp(all.values[k], all.values[i]), "%s is there twice", all.values[i]);
        count[txn_of(all.values[i])]++;
    }
    int committed = 0, aborted = 0, doubt = 0, doubt_in = 0;
    for (int t = 0; t < ntxn; t++) {
        switch (txn_state[t]) {
        case T_COMMITTED:
            GT_ASSERT(count[t] == PERTXN, "committed transaction %d has %d of %d records", t, count[t],
                      PERTXN);
            committed++;
            break;
        case T_ABORTED:
            GT_ASSERT(count[t] == 0, "aborted transaction %d has %d records visible", t, count[t]);
            aborted++;
            break;
        default:
            GT_ASSERT(count[t] == 0 || count[t] == PERTXN, "transaction %d in doubt is partial: %d of %d", t,
                      count[t], PERTXN);
            doubt++;
            doubt_in += count[t] == PERTXN;
        }
    }
    /* What the reader saw during the kills: only final committed records, none twice. */
    for (int i = 0; i < live.n; i++) {
        if (!strcmp(live.values[i], "init")) continue;
        int t = txn_of(live.values[i]);
        GT_ASSERT(count[t] == PERTXN, "the live reader saw %s, of a transaction that is not committed",
                  live.values[i]);
        for (int k = 0; k < i; k++)
            GT_ASSERT(strcmp(live.values[k], live.values[i]), "the live reader saw %s twice", live.values[i]);
    }
    printf("%d transactions: %d committed, %d aborted, %d in doubt (%d of them committed); %d producer "
           "instances; "
           "the live reader saw %d records\n",
           ntxn, committed, aborted, doubt, doubt_in, instances, live.n);
    GT_ASSERT(committed >= 10, "too few transactions committed to mean anything");
    free(count);
    tt_seen_free(&all);
    tt_seen_free(&live);
    GT_ASSERT(th_proc_stop(&broker, SIGTERM) == 0, "broker did not stop cleanly");
    release_killer = 1;
    pthread_join(kt, NULL);
    th_proc_cleanup(&broker);
    return 0;
}
