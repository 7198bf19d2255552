/*
 * worker_txn.h - the worker's `--exactly-once txn` mode: its Kafka transactions (consume-
 * transform-produce, KIP-98/447). worker.h has the argument of what is exactly-once where; this
 * module holds the transactional producer's life: the transactional.id, init, begin, and the end
 * of a batch's transaction (its offsets with the consumer's group metadata, then commit, or
 * abort), with librdkafka's error classes turned into three outcomes.
 *
 * The transactional.id must name one worker instance and survive its restarts: a restarted
 * worker's InitProducerId then fences its previous incarnation at once (PRODUCER_FENCED for a
 * zombie) and aborts the transaction it left open, instead of every read_committed reader of
 * blog_results waiting for that transaction's timeout. Two live workers must never share one
 * (they would fence each other). So (sa_worker_txn_id):
 *   - -X transactional.id=ID: that;
 *   - --worker-id NAME: samsa-worker.GROUP.NAME (a name is one instance by contract);
 *   - else samsa-worker.GROUP.HOST.DIRHASH.SLOT: DIRHASH names the results log's directory (one
 *     data dir), SLOT is the lowest k whose lock file RESULTS_LOG.txn-k.lock this process holds
 *     (flock, released by the kernel when the process dies): a restart takes its slot back,
 *     and a second worker on the same log takes the next one.
 */
#ifndef SA_BLOG_WORKER_TXN_H
#define SA_BLOG_WORKER_TXN_H

#include <librdkafka/rdkafka.h>
#include <signal.h>
#include <stddef.h>

#include "blog/worker/worker.h"

#define SA_WORKER_TXN_SLOTS 64 /* workers of one group on one results log at once */

/** @returns 1 if the user set transactional.id (-X or -F) in @p conf's client settings. */
int sa_worker_txn_user_id(const sa_worker_conf_t *conf);

/**
 * Choose this worker's transactional.id (rules above) into @p out. Holds the slot's lock file
 * open in *@p lock_fd (-1 when no slot was needed); close it when the worker stops.
 * @returns 0, or -1 with errstr (every slot taken, or the lock files cannot be made).
 */
int sa_worker_txn_id(const sa_worker_conf_t *conf, char *out, size_t size, int *lock_fd, char *errstr,
                     size_t errstr_size);

/**
 * rd_kafka_init_transactions, asked again while the answer is retriable (the coordinator is
 * loading or unreachable) until *@p stop. @returns 0, or -1 with errstr (fatal, or stopped).
 */
int sa_worker_txn_init(rd_kafka_t *producer, volatile sig_atomic_t *stop, char *errstr, size_t errstr_size);

/** rd_kafka_begin_transaction. @returns 0, or -1 with errstr (the producer is in a fatal state). */
int sa_worker_txn_begin(rd_kafka_t *producer, char *errstr, size_t errstr_size);

typedef enum sa_worker_txn_end_e {
    SA_WORKER_TXN_COMMITTED, /* the records and the offsets are in, atomically */
    SA_WORKER_TXN_ABORTED,   /* nothing is in: rewind the batch and process it again */
    SA_WORKER_TXN_FATAL,     /* fenced or fatal: this worker must stop (another owns the id) */
} sa_worker_txn_end_t;

/**
 * End the open transaction: when @p ok, send @p offsets (borrowed: the next offset of each
 * consumed partition) with @p consumer's group metadata and commit; otherwise, or when that
 * fails with an abortable error, abort. A commit that times out is asked again (librdkafka
 * allows it) until it is decided.
 * @returns the outcome; errstr says why for ABORTED (after ok) and FATAL.
 */
sa_worker_txn_end_t sa_worker_txn_end(rd_kafka_t *producer, rd_kafka_t *consumer,
                                      const rd_kafka_topic_partition_list_t *offsets, int ok, char *errstr,
                                      size_t errstr_size);

/**
 * @returns 1 if the result line @p line (a stored verdict) was made from record @p m: its
 * "source" names m's topic, partition and offset. In txn mode such a replay is published again
 * (its first transaction did not commit, or the record would not have come again); a replay of
 * another record of the same post is not (the record that made the verdict owns its publishing).
 */
int sa_worker_txn_own_line(const char *line, const rd_kafka_message_t *m);

#endif
