/*
 * worker.h - the blog's scoring worker: blog_operations -> score -> store -> results log ->
 * blog_results.
 *
 * Two modes (--exactly-once store|txn) share the steps and the store's and the log's guarantees;
 * they differ in how blog_results and blog_errors are written and where the consumer resumes.
 *
 * store (the default). Per batch of records polled from the consumer group (one record per batch
 * when --work-ms > 0 makes posts slow, up to 500 otherwise), in this order (DESIGN.md §4):
 *   1. validate each value; a poison one becomes a dead letter for blog_errors; the posts the
 *      store has a verdict for already (one query for the batch) are not scored again (they are
 *      replayed: steps 4 and 5 only);
 *   2. score each new post (plus the simulated heavy step); produce the dead letters (acks=all)
 *      and wait for them;
 *   3. store the new verdicts (first verdict wins: one that lost to another worker becomes a
 *      replay of the stored one) with the batch's next offsets (never backwards), in
 *      transactions of at most 64 verdicts - each with the offsets of the records up to its last
 *      one, so a short transaction keeps the web server's writer waiting briefly - then ONE
 *      sync: every verdict is durable before step 4 can log it;
 *   4. append the verdicts not yet logged to the results log, fdatasync;
 *   5. produce the verdicts not yet published to blog_results (acks=all, idempotent), wait for
 *      every delivery report, and mark them logged and published in the store (one write, not
 *      forced to disk);
 *   6. commit the offsets to Kafka as well (for `samsa groups` and the web's lag).
 *
 * Exactly once into the store: a crash before a transaction of step 3 loses nothing (its records
 * come again, from the store's offsets, which advance with their verdicts); after it they do not
 * come again, and what steps 4 and 5 had not finished - verdicts stored but not marked done - is
 * found by the reconciliation. The verdict's source partition is stored with it, and the worker
 * that owns that partition finishes it: at once when the partition is assigned to it (its
 * previous owner lost it first: the rebalance callback runs between batches, and with the eager
 * protocol every partition is revoked before any is assigned; a worker that died holds nothing)
 * and every 5 s after. A verdict from a partition no one owns (a topic deleted or shrunk, a
 * verdict imported without its source) is taken by any worker once it is STALE_MS old.
 *
 * The results log holds each post once: a line that reached it before a crash is in the log's
 * index (results_log.h) and is not appended again. A lost mark (it is not synced) only makes the
 * reconciliation do steps 4 and 5 again, which the index and the web's dedupe by id make
 * harmless. Step 3's sync comes before step 4, so a power failure cannot leave the log holding a
 * verdict the store lost (scoring the post again could give another). A worker that lost its
 * partition while still in a batch (a stall longer than the session timeout) may finish the same
 * verdicts as the new owner: blog_results may get them twice (it is at-least-once, like
 * blog_errors: the web keys results by post id), and each results log still holds a post once.
 * A failed step seeks the partitions back to the batch start and retries after a pause; the
 * store makes the second pass a replay.
 *
 * txn (worker_txn.h). Kafka transactions (KIP-98, KIP-447) carry what goes to Kafka:
 *   1-4 as in store mode, except that the dead letters of 2 wait for the transaction (the store
 *       keeps writing its offsets in 3: they are what store mode resumes from after a switch);
 *   5. ONE Kafka transaction: begin; produce the dead letters and the results - a new verdict,
 *      or a replay whose stored verdict was made from this very record (its "source" names the
 *      record's topic, partition and offset); send the batch's next offsets with the consumer's
 *      group metadata; commit; then mark the verdicts done. No step 6, no reconciliation.
 *   The consumer reads with isolation.level=read_committed and resumes from Kafka's committed
 *   offsets, never the store's: they move only with the transaction that published the batch
 *   (and librdkafka's read_committed OffsetFetch waits for a pending transactional commit).
 * Sources of truth: the store for each post's verdict (first wins; the web reads it); Kafka for
 * which records are done (the group's offsets) and for blog_results and blog_errors; the results
 * log follows the store (each post once, by its index). Crash points (kill -9, or a failed step,
 * which aborts the open transaction and rewinds):
 *   - before a transaction of 3: nothing durable, no Kafka transaction begun; the records come
 *     again and are scored.
 *   - after 3, before the commit: Kafka's offsets did not move, so the records come again; the
 *     store has their verdicts, made from these records: replayed, logged if 4 had not, and
 *     published in the new transaction. A transaction left open is aborted by the restarted
 *     worker's InitProducerId (the same transactional.id: at once) or by the coordinator after
 *     transaction.timeout.ms (10 s by default); read_committed readers never see its records.
 *   - once the commit reached the coordinator: Kafka completes it (the producer's death does not
 *     undo a prepared commit); records and offsets are in together. A missing "done" mark is
 *     harmless: txn mode never publishes from the marks.
 * So every blog_operations record gives exactly one committed record on blog_results (or
 * blog_errors) for read_committed readers: each post once, since a second operation record of a
 * post (the web's recovery sweep) is a replay of another record and its verdict's own record
 * publishes it (and marks it done). A zombie (a worker whose partitions moved on while it ran its
 * batch: store mode's double publish above) is refused at send-offsets (its group generation is
 * stale, KIP-447) and aborts; a restarted worker fences its previous incarnation through its
 * transactional.id (worker_txn.h says how it is chosen). Every worker of a group uses one mode:
 * store mode's reconciliation would publish outside the transactions. Switching a group between
 * modes while it is stopped is safe: txn -> store resumes from the store's offsets and the
 * partitions' owners reconcile what a crash left unpublished; store -> txn resumes from Kafka's
 * offsets (step 6 moved them after publishing), at worst republishing the batch a store-mode
 * crash had left uncommitted in Kafka.
 */
#ifndef SA_BLOG_WORKER_H
#define SA_BLOG_WORKER_H

#include <signal.h>
#include <stdint.h>

#include "client/client.h"
#include "core/config.h"

typedef struct sa_worker_conf_s {
    sa_client_opts_t kafka;  /* -b, -X, -F for both clients */
    char *group;             /* consumer group (blog_group) */
    char *topic;             /* input topic (blog_operations) */
    char *results_topic;     /* blog_results */
    char *errors_topic;      /* blog_errors */
    char *results_log;       /* path of the JSON Lines results log */
    char *db;                /* --db URL of the store */
    char *exactly_once;      /* "store" or "txn" (see above) */
    char *worker_id;         /* "" = hostname-pid */
    int64_t work_ms;         /* simulated heavy step per post */
    int64_t partitions;      /* partitions of the topics it creates */
    int64_t max_value_bytes; /* larger blog_operations values are dead letters */
    int64_t recent;          /* posts remembered for near-duplicate detection */
    char *config;            /* --config FILE (.properties), already applied */
    char *log_level;
    char *debug;
} sa_worker_conf_t;

/* The worker's Kafka clients: the producer (results, dead letters, topic creation; transactional
 * in txn mode) and the consumer in the group --group. */
#define SA_WORKER_CLIENTS 2

/** Fill @p roles with the worker's clients for @p conf (the consumer's group is conf->group). */
void sa_worker_clients(const sa_worker_conf_t *conf, sa_client_role_t roles[SA_WORKER_CLIENTS]);

/**
 * Run the worker until *@p stop becomes non-zero (set from a signal handler), then finish the
 * current post, commit, leave the group and return.
 * @param conf  borrowed for the call.
 * @returns SA_EXIT_OK after a clean stop, SA_EXIT_STORE (db.h) when the store cannot be opened,
 *          SA_EXIT_FAIL when it cannot go on (results log unusable, invalid client configuration,
 *          fatal client error).
 */
int sa_worker_run(const sa_worker_conf_t *conf, volatile sig_atomic_t *stop);

#endif
