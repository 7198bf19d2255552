/*
 * metastore.h - the broker's durable metadata: everything that must survive a restart and is not
 * a partition, in ONE metadata log, DATA_DIR/metadata.log (storage/metalog.h), each kind of
 * record owned by the module whose state it is.
 *
 * KINDS. A record is one byte of kind and a payload the owning module encodes and documents.
 * Numbers are forever: never reuse one, add new kinds at the end of their range.
 *
 *    kind  name              owner                         payload documented in
 *       1  offset_commit     committed offsets             broker/group/offsets.c
 *       2  offset_delete     committed offsets             broker/group/offsets.c
 *       3  group_delete      committed offsets             broker/group/offsets.c
 *       4  group_membership  committed offsets (the blob   broker/group/offsets.c,
 *                            is group_persist.c's)         broker/group/group_persist.c
 *       5  producer_ids      producer-id blocks            broker/producer_id.c
 *      16  txn_state         the transaction coordinator    broker/txn/txn_persist.c
 *                            (a PrepareCommit also commits
 *                            the transaction's offsets)
 *      17  txn_offsets       the transaction coordinator    broker/txn/txn_persist.c
 *   18-31  reserved: the transaction coordinator
 *      32  scram_credential  SCRAM credentials             broker/security/scram_store.h
 *      33  scram_delete      SCRAM credentials             broker/security/scram_store.h
 *   34-39  reserved: SCRAM credentials
 *      40  acl_create        ACL bindings                  broker/acl.c
 *      41  acl_delete        ACL bindings                  broker/acl.c
 *   42-47  reserved: ACL bindings
 *
 * WHY ONE SHARED LOG, not one per kind: every kind is small next to the partitions, and one file
 * means one fdatasync per group commit for all of them (an OffsetCommit and an InitProducerId of
 * the same loop turn share it), one recovery scan, one compaction policy, one dumper; and the
 * transaction coordinator makes "commit the transaction and materialise its offsets" a single
 * append (its PrepareCommit record commits the offsets the transaction held: a TxnOffsetCommit
 * turning into offset commits is never torn apart from the transaction's decision). Compaction rewrites every
 * owner's live state, so a cold kind (ACLs) costs a few records per rewrite; if one kind ever grew large and
 * hot on its own, it could move to a log of its own (sa_metalog_open takes a name) without changing the
 * record formats.
 *
 * ADDING A KIND (e.g. SCRAM users):
 *   1. Add SA_META_<NAME> = N to the enum below and a row to the kind table in metastore.c
 *      (name, and the owner's apply/describe).
 *   2. The owning module appends with sa_metalog_append(ms->log, SA_META_<NAME>, payload, ...)
 *      and applies to its memory only on SA_OK; it implements apply (replay), reset, live and
 *      snapshot (compaction), and documents its payload byte by byte where it encodes it.
 *   3. metastore.c's owner callbacks (apply_record, reset_all, live_all, snapshot_all) call it;
 *      the dumper (`samsa dump-log DATA_DIR/metadata.log`) then prints its records too.
 * An older samsa refuses a log with a kind it does not know (it would drop it at compaction),
 * so a downgrade after a new kind was written fails loudly at start instead of losing state.
 *
 * UPGRADE: before the metadata log, committed offsets and membership records lived in
 * DATA_DIR/coordinator/offsets.log (magic SAOFFS01; its record bodies are kinds 1-4 with a
 * leading type byte) and producer ids in DATA_DIR/coordinator/producer-ids ("next=N"). The first
 * start with an empty metadata log replays them into the owners, writes the state to
 * metadata.log atomically (a compaction: temp file, fdatasync, rename, fsync dir) and only then
 * removes the old files. A crash before the rename leaves the old files to migrate again.
 *
 * @locality the broker's loop thread.
 */
#ifndef SA_BROKER_METASTORE_H
#define SA_BROKER_METASTORE_H

#include <stddef.h>
#include <stdint.h>

#include "core/buf.h"
#include "core/err.h"
#include "storage/metalog.h"

typedef struct sa_offsets_s sa_offsets_t;
typedef struct sa_pid_alloc_s sa_pid_alloc_t;
typedef struct sa_scram_store_s sa_scram_store_t;
typedef struct sa_acls_s sa_acls_t;
typedef struct sa_tcoord_s sa_tcoord_t;

/* The record kinds of the metadata log (see the table above). */
typedef enum sa_meta_kind_e {
    SA_META_OFFSET_COMMIT = 1,
    SA_META_OFFSET_DELETE = 2,
    SA_META_GROUP_DELETE = 3,
    SA_META_GROUP_MEMBERSHIP = 4,
    SA_META_PRODUCER_IDS = 5,
    SA_META_TXN_STATE = 16,
    SA_META_TXN_OFFSETS = 17,
    SA_META_SCRAM_CREDENTIAL = 32,
    SA_META_SCRAM_DELETE = 33,
    SA_META_ACL_CREATE = 40,
    SA_META_ACL_DELETE = 41,
} sa_meta_kind_t;

typedef struct sa_metastore_s {
    sa_metalog_t *log;       /* DATA_DIR/metadata.log (owned by the store; closed by sa_metastore_close) */
    sa_offsets_t *offsets;   /* owned: committed offsets and membership records */
    sa_pid_alloc_t *pids;    /* owned: producer-id blocks */
    sa_scram_store_t *scram; /* owned: SCRAM credentials */
    sa_acls_t *acls;         /* owned: ACL bindings (and the authorizer's settings) */
    sa_tcoord_t *txns;       /* owned: the transaction coordinator (its state is its records) */
    void (*on_rebuilt)(void *arg); /* called after a failed sync rebuilt the state (may be NULL) */
    void *on_rebuilt_arg;
} sa_metastore_t;

/**
 * Open DATA_DIR/metadata.log of @p store, replay it into fresh owners, and migrate the files of
 * older versions (see UPGRADE). @p conf may be NULL (defaults). On failure nothing stays open.
 * @returns SA_OK; KAFKA_STORAGE_ERROR or SA_ERR_CORRUPT with detail in @p errstr (the broker
 *          refuses to start with it).
 */
sa_err_t sa_metastore_open(sa_metastore_t *ms, sa_store_t *store, const sa_metalog_conf_t *conf, char *errstr,
                           size_t errstr_size);

/** Sync what is pending, close the log, free the owners. @returns SA_OK or KAFKA_STORAGE_ERROR. */
sa_err_t sa_metastore_close(sa_metastore_t *ms);

/** @returns the name of @p kind ("offset_commit"), or NULL if this samsa does not know it. */
const char *sa_metastore_kind_name(uint8_t kind);

/**
 * Describe one record as JSON object members (`"group":"g","topic":"t",...`), for the dumper.
 * @returns SA_OK, or SA_ERR_CORRUPT (unknown kind or a payload that does not parse).
 */
sa_err_t sa_metastore_describe(uint8_t kind, const uint8_t *payload, size_t len, sa_buf_t *out);

/** Append @p s (@p len bytes, borrowed) as a JSON string: valid UTF-8 as is, any other byte and
 *  control characters as \u00XX (so a NUL in offset metadata shows as \u0000). */
void sa_metastore_json_str(sa_buf_t *out, const void *s, size_t len);

#endif
