/*
 * coordinator.h - the transaction coordinator (KIP-98, KIP-447, KIP-890), free of any transport.
 *
 * One entry per transactional id: its producer id and epoch, state, timeout, the partitions and
 * consumer groups of its ongoing transaction, and the offsets it committed in it (TxnOffsetCommit)
 * that become the groups' committed offsets only if it commits. Every change is a record of the
 * broker's metadata log (kinds 16-17, payloads in txn_persist.c), appended first and applied to
 * memory only once appended, so memory always equals the replay of the log; nothing here syncs.
 * A handler answers once the record it caused is durable (sa_tcoord_last_seq() after the call,
 * then sa_kit_answer_when_durable), as the group handlers do.
 *
 * Like the group coordinator it never reads a clock or touches a socket: every call takes the
 * wall-clock time in ms (transaction start and update times are persisted and shown by
 * DescribeTransactions, so they are wall-clock), and the broker calls sa_tcoord_tick() when
 * sa_tcoord_next_deadline() comes due. It never touches a partition either: it asks the broker
 * through sa_tcoord_ops_t to write a marker into one partition and whether that marker is durable.
 *
 * States (Kafka's names and ids; DescribeTransactions shows the names):
 *   Empty          no transaction (after InitProducerId)          -> Ongoing (AddPartitions/AddOffsets)
 *   Ongoing        partitions or groups added                    -> PrepareCommit / PrepareAbort (EndTxn),
 *                                                                   PrepareAbort with a bumped epoch
 *                                                                   (timeout, or InitProducerId fencing it)
 *   PrepareCommit  the decision is in the log; markers go out     -> CompleteCommit
 *   PrepareAbort                                                   -> CompleteAbort
 *   CompleteCommit / CompleteAbort  markers durable everywhere    -> Ongoing, Empty (InitProducerId), Dead
 *   Dead           expired (transactional.id.expiration.ms idle): the record removes the id
 *   PrepareEpochFence  Kafka's name for "fencing": here the fence is the PrepareAbort record with the
 *                  bumped epoch, so this state is never stored; it is listed for ListTransactions filters.
 *
 * ENDING A TRANSACTION (EndTxn, a timeout, a fence). 1. Append Prepare{Commit,Abort}: the
 * decision; applying a PrepareCommit turns the transaction's pending offsets into committed
 * offsets of their groups at that point of the log (metastore.h: "commit the transaction and
 * materialise its offsets" is one record), a PrepareAbort drops them. 2. Once that record is
 * durable, write a COMMIT/ABORT marker into every partition of the transaction where the producer
 * has a transaction open (ops->write_marker; one where it wrote nothing needs none). 3. Once every
 * marker is durable (ops->marker_state, asked after each group commit while it waits),
 * append Complete{Commit,Abort} and answer the EndTxn. A marker a failed sync cut off is written
 * again; a marker that cannot be written is retried on a timer. The decision is never written to
 * a partition before it is durable in the log, so after a crash a transaction is either still
 * Ongoing everywhere (it times out and aborts) or decided, and a decided one found in Prepare* at
 * start (or after a failed sync rebuilt the state) is finished by writing the markers that are
 * missing: committed everywhere or aborted everywhere. The client's EndTxn is answered only after
 * step 3 (Kafka answers after step 1), so a read_committed consumer sees a committed transaction as
 * soon as its producer learns it committed, and the next transaction never meets
 * CONCURRENT_TRANSACTIONS.
 *
 * Epochs: EndTxn v0-4 keeps the epoch across transactions (TV1); EndTxn v5 (KIP-890 part 2, TV2)
 * bumps it in every Prepare*, and the markers carry the new epoch, so a zombie of the previous
 * transaction is fenced in every partition. Fencing (InitProducerId of an Ongoing id, a timeout)
 * bumps it too. An exhausted epoch (32766) makes InitProducerId (or a TV2 EndTxn) move the id to
 * a new producer id.
 *
 * Invariants (check_txn in coordinator.c, after every call in debug builds):
 *   1. Memory equals the replay of the metadata log (appends applied only after they succeeded).
 *   2. parts/groups are non-empty only in Ongoing and Prepare*; pending offsets only in Ongoing.
 *   3. A transaction has an EndTxn waiter or a completion running only in Prepare*.
 *   4. epoch >= 0 except right after creation; epoch <= 32767.
 *
 * @locality single-threaded: the broker's loop thread.
 */
#ifndef SA_BROKER_TXN_COORDINATOR_H
#define SA_BROKER_TXN_COORDINATOR_H

#include <stddef.h>
#include <stdint.h>

#include "core/buf.h"
#include "core/err.h"
#include "storage/metalog.h"

typedef struct sa_tcoord_s sa_tcoord_t;
typedef struct sa_offsets_s sa_offsets_t;
typedef struct sa_pid_alloc_s sa_pid_alloc_t;

/* Kafka's transaction states; the values are Kafka's ids (and this module's record encoding). */
typedef enum sa_txn_state_e {
    SA_TXN_EMPTY = 0,
    SA_TXN_ONGOING = 1,
    SA_TXN_PREPARE_COMMIT = 2,
    SA_TXN_PREPARE_ABORT = 3,
    SA_TXN_COMPLETE_COMMIT = 4,
    SA_TXN_COMPLETE_ABORT = 5,
    SA_TXN_DEAD = 6,
    SA_TXN_PREPARE_EPOCH_FENCE = 7,
} sa_txn_state_t;
#define SA_TXN_STATES 8

/** @returns Kafka's name of @p state ("Ongoing", ...), static; "Unknown" out of range. */
const char *sa_txn_state_name(int state);
/** @returns the state named @p name (exact, as Kafka's ListTransactions filter), or -1. */
int sa_txn_state_by_name(const char *name);

typedef struct sa_tcoord_conf_s {
    int64_t max_timeout_ms;     /* transaction.max.timeout.ms (Kafka: 900000) */
    int64_t id_expiration_ms;   /* transactional.id.expiration.ms (Kafka: 604800000) */
    int64_t marker_retry_ms;    /* a marker that could not be written is tried again after this (1000) */
    int32_t offsets_partitions; /* offsets.topic.num.partitions, for showing a group as Kafka's
                                   __consumer_offsets partition (Kafka: 50) */
} sa_tcoord_conf_t;

/** Fill @p conf with Kafka's defaults. */
void sa_tcoord_conf_defaults(sa_tcoord_conf_t *conf);

/** What the coordinator needs from the partitions. @p arg is sa_tcoord_new's ops_arg. */
typedef struct sa_tcoord_ops_s {
    /**
     * Write a COMMIT (@p commit 1) or ABORT marker for @p pid / @p epoch into @p topic-@p partition
     * if the producer has a transaction open there. @returns SA_OK with *offset = the marker's
     * offset, or -1 when none was needed (nothing open there, or the partition is gone); another
     * error if it could not be written (tried again later).
     */
    sa_err_t (*write_marker)(void *arg, const char *topic, int32_t partition, int64_t pid, int16_t epoch,
                             int commit, int64_t now_ms, int64_t *offset);
    /** @returns where the marker of @p pid at @p offset of @p topic-@p partition is: SA_TXN_MARKER_*. */
    int (*marker_state)(void *arg, const char *topic, int32_t partition, int64_t pid, int64_t offset);
} sa_tcoord_ops_t;

enum {
    SA_TXN_MARKER_DURABLE = 0, /* durable (or the partition is gone) */
    SA_TXN_MARKER_PENDING = 1, /* written, waiting for a group commit */
    SA_TXN_MARKER_LOST = 2,    /* a failed sync cut it off: the producer's transaction is open there again */
};

/**
 * @returns new: a coordinator appending to @p log (NULL in tests: memory only), taking producer
 * ids from @p pids, committing offsets into @p offsets (all borrowed; they outlive it). It is
 * also the owner of its record kinds (sa_tcoord_apply... below): attach the log after this.
 */
sa_tcoord_t *sa_tcoord_new(const sa_tcoord_conf_t *conf, sa_metalog_t *log, sa_pid_alloc_t *pids,
                           sa_offsets_t *offsets, const sa_tcoord_ops_t *ops, void *ops_arg);
/** Set the configuration and the partition operations (the broker does this once it has them;
 *  the coordinator exists earlier, as the owner of its records when the metadata log opens). */
void sa_tcoord_configure(sa_tcoord_t *tc, const sa_tcoord_conf_t *conf, const sa_tcoord_ops_t *ops,
                         void *ops_arg);
/** Free everything; parked EndTxn callbacks are dropped without being called. */
void sa_tcoord_free(sa_tcoord_t *tc);

/**
 * Start serving after the replay (and again after a failed sync rebuilt the state): finish every
 * transaction found in Prepare* (write its missing markers), and re-attach or fail the EndTxn
 * waiters of before the rebuild (NOT_COORDINATOR when their decision was lost: they retry).
 */
void sa_tcoord_start(sa_tcoord_t *tc, int64_t now_ms);

/** @returns the sequence number of the last metadata-log record appended (answer once durable). */
uint64_t sa_tcoord_last_seq(const sa_tcoord_t *tc);

/** @returns the wall-clock ms of the next timeout, expiry or marker retry, or INT64_MAX. */
int64_t sa_tcoord_next_deadline(const sa_tcoord_t *tc);
/** Abort transactions past their timeout (fencing their producer), expire idle ids, retry markers. */
void sa_tcoord_tick(sa_tcoord_t *tc, int64_t now_ms);
/** @returns 1 while a completion waits for a group commit: the broker must then call
 *  sa_tcoord_synced() after the next one (it registers a sync waiter). */
int sa_tcoord_wants_sync(const sa_tcoord_t *tc);
/** A group commit completed: move every completion that waited for it one step on. */
void sa_tcoord_synced(sa_tcoord_t *tc, int64_t now_ms);

/* ---- InitProducerId ------------------------------------------------------------------------- */

typedef struct sa_txn_pid_s {
    int64_t ProducerId;
    int16_t ProducerEpoch;
} sa_txn_pid_t;

/**
 * InitProducerId with a transactional id (v0+; v3+ may pass the producer's current id/epoch,
 * else -1/-1). @returns SA_OK with *out; INVALID_REQUEST (empty id), INVALID_TRANSACTION_TIMEOUT,
 * CONCURRENT_TRANSACTIONS (a transaction is being ended, or an Ongoing one was just fenced:
 * retry), PRODUCER_FENCED (another instance took over; the handler maps it to
 * INVALID_PRODUCER_EPOCH before v4), KAFKA_STORAGE_ERROR.
 */
sa_err_t sa_tcoord_init_pid(sa_tcoord_t *tc, const char *txid, int32_t timeout_ms, int64_t expected_pid,
                            int16_t expected_epoch, int64_t now_ms, sa_txn_pid_t *out);

/* ---- AddPartitionsToTxn, AddOffsetsToTxn, verification -------------------------------------- */

typedef struct sa_txn_tp_s {
    const char *topic;
    int32_t partition;
} sa_txn_tp_t;

/**
 * Add @p n partitions (borrowed) to the transaction (starting it if none is ongoing).
 * @returns SA_OK; INVALID_PRODUCER_ID_MAPPING (unknown id or another producer id),
 * PRODUCER_FENCED (another epoch), CONCURRENT_TRANSACTIONS (being ended), KAFKA_STORAGE_ERROR.
 */
sa_err_t sa_tcoord_add_partitions(sa_tcoord_t *tc, const char *txid, int64_t pid, int16_t epoch,
                                  const sa_txn_tp_t *tps, size_t n, int64_t now_ms);
/** Add consumer group @p group to the transaction (AddOffsetsToTxn). Errors as above. */
sa_err_t sa_tcoord_add_group(sa_tcoord_t *tc, const char *txid, int64_t pid, int16_t epoch, const char *group,
                             int64_t now_ms);

/**
 * Is @p topic-@p partition part of @p txid's ongoing transaction of @p pid/@p epoch (KIP-890 part 1:
 * a transactional Produce, AddPartitionsToTxn v4+ VerifyOnly)? @returns SA_OK;
 * INVALID_PRODUCER_ID_MAPPING; PRODUCER_FENCED; CONCURRENT_TRANSACTIONS (being ended);
 * TRANSACTION_ABORTABLE (not added: the handler maps it by version). @p group non-NULL asks about a
 * group (TxnOffsetCommit) instead; @p topic is then ignored.
 */
sa_err_t sa_tcoord_verify(const sa_tcoord_t *tc, const char *txid, int64_t pid, int16_t epoch,
                          const char *topic, int32_t partition, const char *group);

/* ---- TxnOffsetCommit ------------------------------------------------------------------------ */

typedef struct sa_txn_offset_s {
    const char *topic;
    int32_t partition;
    int64_t offset;
    int32_t leader_epoch;
    const void *metadata; /* metadata_len bytes (any bytes), borrowed */
    size_t metadata_len;
} sa_txn_offset_t;

/**
 * Keep @p n offsets (borrowed) for @p group in @p txid's transaction: they become the group's
 * committed offsets if it commits. The caller has verified the transaction (sa_tcoord_verify with
 * the group) and the group membership. @returns SA_OK, OFFSET_METADATA_TOO_LARGE,
 * KAFKA_STORAGE_ERROR.
 */
sa_err_t sa_tcoord_commit_offsets(sa_tcoord_t *tc, const char *txid, int64_t pid, int16_t epoch,
                                  const char *group, const sa_txn_offset_t *offs, size_t n, int64_t now_ms);

/** @returns 1 if an ongoing transaction holds an offset for @p group @p topic-@p partition not yet
 *  committed (OffsetFetch with RequireStable answers UNSTABLE_OFFSET_COMMIT then, KIP-447). */
int sa_tcoord_offset_pending(const sa_tcoord_t *tc, const char *group, const char *topic, int32_t partition);

/* ---- EndTxn ------------------------------------------------------------------------------------ */

/** The answer to a parked EndTxn: @p err, and with SA_OK the producer id/epoch to use next. */
typedef void sa_tcoord_end_cb(void *opaque, sa_err_t err, int64_t pid, int16_t epoch);

/**
 * End @p txid's transaction (@p commit 1: commit). @p tv2: the client asked with EndTxn v5+
 * (KIP-890 part 2: the epoch is bumped, *out has the new one).
 * @returns SA_ERR_AGAIN: parked, @p cb(@p opaque, ...) is called exactly once later (unless
 *          sa_tcoord_cancel(@p opaque) first); SA_OK with *out: already done (a retry of an EndTxn
 *          that completed); or the error at once: INVALID_REQUEST, INVALID_PRODUCER_ID_MAPPING,
 *          PRODUCER_FENCED, CONCURRENT_TRANSACTIONS (ending already), INVALID_TXN_STATE (no
 *          transaction, or the other decision), KAFKA_STORAGE_ERROR.
 */
sa_err_t sa_tcoord_end_txn(sa_tcoord_t *tc, const char *txid, int64_t pid, int16_t epoch, int commit, int tv2,
                           int64_t now_ms, sa_tcoord_end_cb *cb, void *opaque, sa_txn_pid_t *out);
/** Withdraw every parked EndTxn whose opaque is @p opaque (its connection closed). */
void sa_tcoord_cancel(sa_tcoord_t *tc, const void *opaque);

/* ---- DescribeTransactions, ListTransactions ------------------------------------------------- */

typedef struct sa_txn_desc_s {
    const char *TransactionalId; /* valid until the next call into the coordinator */
    sa_txn_state_t State;
    int32_t TransactionTimeoutMs;
    int64_t TransactionStartTimeMs; /* of the current or last transaction; -1 after InitProducerId */
    int64_t ProducerId;
    int16_t ProducerEpoch;
    const sa_txn_tp_t *Partitions; /* the partitions, then each group as __consumer_offsets-N */
    size_t PartitionCount;
} sa_txn_desc_t;

/** Describe @p txid into @p out (arrays owned by the coordinator, valid until the next call).
 *  @returns SA_OK or TRANSACTIONAL_ID_NOT_FOUND. */
sa_err_t sa_tcoord_describe(sa_tcoord_t *tc, const char *txid, sa_txn_desc_t *out);

typedef void sa_tcoord_list_fn(void *arg, const char *txid, int64_t pid, sa_txn_state_t state);
/**
 * Call @p fn for every transactional id whose state is in @p states (bit i = state i; 0 = any),
 * whose producer id is one of @p pids (@p npids 0 = any), and, with @p min_duration_ms >= 0,
 * whose (last) transaction started more than that long ago (ListTransactions v1; as Kafka, an id
 * with no transaction, start -1, always passes this filter).
 */
void sa_tcoord_list(const sa_tcoord_t *tc, unsigned states, const int64_t *pids, size_t npids,
                    int64_t min_duration_ms, int64_t now_ms, sa_tcoord_list_fn *fn, void *arg);

/* ---- as the owner of its record kinds (broker/metastore.c) ------------------------------------ */

/** Apply a record of kind 16 or 17. @returns SA_OK or SA_ERR_CORRUPT. */
sa_err_t sa_tcoord_apply(sa_tcoord_t *tc, uint8_t kind, const uint8_t *payload, size_t len);
/** Forget the stored state (a replay follows; parked EndTxns wait for sa_tcoord_start). */
void sa_tcoord_reset(sa_tcoord_t *tc);
/** @returns how many records sa_tcoord_snapshot() writes. */
uint64_t sa_tcoord_live(const sa_tcoord_t *tc);
/** Write every live record. */
void sa_tcoord_snapshot(const sa_tcoord_t *tc, sa_metalog_writer_t *w);
/** Describe a record of kind 16 or 17 as JSON object members. @returns SA_OK or SA_ERR_CORRUPT. */
sa_err_t sa_tcoord_describe_record(uint8_t kind, const uint8_t *payload, size_t len, sa_buf_t *out);

/** Statistics for logs and tests. */
typedef struct sa_tcoord_stats_s {
    uint64_t ids;        /* transactional ids known */
    uint64_t ongoing;    /* in Ongoing */
    uint64_t completing; /* in Prepare*, markers going out */
    uint64_t timeouts;   /* transactions aborted by their timeout since start */
} sa_tcoord_stats_t;
void sa_tcoord_stats(const sa_tcoord_t *tc, sa_tcoord_stats_t *out);

#endif
