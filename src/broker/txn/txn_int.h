/*
 * txn_int.h - the transaction coordinator's layouts, shared by coordinator.c (the state machine)
 * and txn_persist.c (its metadata-log records). Internal to src/broker/txn/.
 */
#ifndef SA_BROKER_TXN_INT_H
#define SA_BROKER_TXN_INT_H

#include <stdint.h>

#include "core/hash.h"
#include "broker/txn/coordinator.h"

#define TXN_EPOCH_MAX       32767 /* Short.MaxValue: never handed to a producer */
#define TXN_EPOCH_EXHAUSTED 32766 /* an epoch this high moves the id to a new producer id */

/* A partition of a transaction. */
typedef struct tpart_s {
    char *topic; /* owned */
    int32_t partition;
    int64_t marker; /* runtime, while completing: the marker's offset, -1 none needed, -2 not written */
} tpart_t;

/* An offset committed inside a transaction, not visible until it commits. */
typedef struct toffset_s {
    char *group, *topic; /* owned */
    int32_t partition;
    int64_t offset;
    int32_t leader_epoch;
    uint8_t *metadata; /* owned, never NULL */
    size_t metadata_len;
    int64_t commit_ms; /* wall clock of the TxnOffsetCommit */
} toffset_t;

/* A parked EndTxn. */
typedef struct twaiter_s {
    sa_tcoord_end_cb *cb;
    void *opaque;
    struct twaiter_s *next;
} twaiter_t;

/* Where an ending transaction is (runtime only: a restart or a rebuild starts it over). */
enum {
    END_IDLE = 0,  /* not ending */
    END_PREPARING, /* Prepare* appended, waiting for it to be durable */
    END_MARKERS,   /* markers written, waiting for them to be durable */
    END_RETRY,     /* a marker could not be written: tried again at retry_ms */
};

/* One transactional id. Persisted fields first (txn_persist.c encodes exactly these). */
typedef struct txn_s {
    char *id; /* owned; also the map key */
    int64_t pid;
    int64_t prev_pid; /* the id before a rotation (epoch exhaustion), -1 */
    int64_t next_pid; /* TV2: the id a Complete* moves to when the Prepare* exhausted the epoch, -1 */
    int16_t epoch;
    int16_t last_epoch; /* the epoch before the last bump, -1: none (KIP-360 retries) */
    int32_t timeout_ms;
    sa_txn_state_t state;
    int tv2;          /* the last EndTxn was v5+ (KIP-890 part 2): epoch bumped per transaction */
    int64_t start_ms; /* when the ongoing transaction started (wall), -1 */
    int64_t update_ms;
    tpart_t *parts; /* Ongoing/Prepare*: its partitions */
    size_t nparts, parts_cap;
    char **groups; /* Ongoing/Prepare*: its consumer groups (owned) */
    size_t ngroups, groups_cap;
    toffset_t *offsets; /* Ongoing: offsets committed in it */
    size_t noffsets, offsets_cap;
    /* runtime */
    uint64_t state_seq;    /* the last txn_state record appended for it (0: replayed, durable) */
    int end_phase;         /* END_* */
    uint64_t end_seq;      /* the Prepare* record */
    int64_t retry_ms;      /* END_RETRY: when */
    twaiter_t *waiters;    /* parked EndTxns, oldest first */
    int fenced_by_timeout; /* this abort came from the timeout (statistics, logs) */
} txn_t;

struct sa_tcoord_s {
    sa_tcoord_conf_t conf;
    sa_metalog_t *log;     /* borrowed, NULL: memory only */
    sa_pid_alloc_t *pids;  /* borrowed */
    sa_offsets_t *offsets; /* borrowed */
    sa_tcoord_ops_t ops;
    void *ops_arg;
    sa_hmap_t txns;   /* id -> txn_t (keyed by its own id) */
    twaiter_t *limbo; /* waiters of txns a reset forgot, with their ids (limbo_ids) */
    char **limbo_ids;
    size_t nlimbo, limbo_cap;
    uint64_t last_seq; /* the last record appended */
    sa_buf_t scratch;  /* a payload being encoded */
    sa_tcoord_stats_t st;
    sa_txn_tp_t *desc; /* sa_tcoord_describe's array (owned) */
    char *desc_names;  /* ...and its __consumer_offsets names */
    size_t desc_cap;
};

/* ---- txn_persist.c ---- */
/** Append the txn_state record of @p t as it is now and apply it. @returns SA_OK or KAFKA_STORAGE_ERROR
 *  (nothing changed then: the caller restores @p t from its copy). */
sa_err_t txn_log_state(sa_tcoord_t *tc, const txn_t *t);
/** Append a txn_offsets record and apply it. @returns SA_OK, KAFKA_STORAGE_ERROR, SA_ERR_TOOBIG. */
sa_err_t txn_log_offsets(sa_tcoord_t *tc, const char *txid, int64_t pid, int16_t epoch, const char *group,
                         const sa_txn_offset_t *offs, size_t n, int64_t now_ms);

/* ---- coordinator.c, for txn_persist.c's apply ---- */
txn_t *txn_get(const sa_tcoord_t *tc, const char *id);
/** @returns the entry of @p id, created (Empty, epoch -1) if absent. */
txn_t *txn_get_or_add(sa_tcoord_t *tc, const char *id);
void txn_remove(sa_tcoord_t *tc, txn_t *t);
void txn_clear_parts(txn_t *t);
void txn_clear_offsets(txn_t *t);
void txn_add_part(txn_t *t, const char *topic, int32_t partition);
void txn_add_group(txn_t *t, const char *group);
/** Keep (or replace) one pending offset. */
void txn_put_offset(txn_t *t, const char *group, const char *topic, int32_t partition, int64_t offset,
                    int32_t leader_epoch, const void *meta, size_t meta_len, int64_t commit_ms);
/** Apply a PrepareCommit: the pending offsets become the groups' committed offsets. */
void txn_materialize_offsets(sa_tcoord_t *tc, txn_t *t);

#endif
