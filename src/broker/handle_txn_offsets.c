/*
 * handle_txn_offsets.c - TxnOffsetCommit (key 28, v0-4, KIP-98/KIP-447): offsets committed inside a
 * transaction, visible to OffsetFetch only once it commits (its PrepareCommit record commits them;
 * broker/txn/txn_persist.c), dropped if it aborts. Until then OffsetFetch with RequireStable answers
 * UNSTABLE_OFFSET_COMMIT for them (handle_group_offsets.c).
 *
 * The checks, in Kafka's order: WRITE on the transactional id (TRANSACTIONAL_ID_AUTHORIZATION_FAILED)
 * and READ on the group (GROUP_AUTHORIZATION_FAILED) for every partition; READ on each topic
 * (TOPIC_AUTHORIZATION_FAILED) and unknown partitions get UNKNOWN_TOPIC_OR_PARTITION (the others go
 * on); the transaction must have the group (AddOffsetsToTxn) and be ongoing with this producer id
 * and epoch (KIP-890 part 1 verification: not added is INVALID_TXN_STATE, TRANSACTION_ABORTABLE
 * from v4; an old epoch INVALID_PRODUCER_EPOCH); the group must accept the member (v3+: member
 * id, generation, instance id, as an OffsetCommit; v0-2 carry none and are accepted). Answered once
 * the record is durable (NOT_COORDINATOR if a failed sync lost it).
 */
#include <string.h>

#include "broker/handle_group.h"
#include "broker/handle_txn.h"
#include "broker/handlers.h"
#include "broker/kit.h"
#include "core/time.h"
#include "storage/storage.h"

typedef sa_TxnOffsetCommitResponse_TxnOffsetCommitResponsePartition_t tpart_t;

typedef struct tcommit_s {
    sa_TxnOffsetCommitResponse_t out;
    uint8_t **written; /* [topic][partition]: kept, waiting for the sync */
} tcommit_t;

static sa_err_t tcommit_answer(sa_req_t *req, void *arg, int durable) {
    tcommit_t *st = arg;
    for (int32_t t = 0; !durable && t < st->out.Topics_count; t++)
        for (int32_t p = 0; p < st->out.Topics[t].Partitions_count; p++)
            if (st->written[t][p]) st->out.Topics[t].Partitions[p].ErrorCode = SA_GROUP_STORAGE_ERROR;
    return sa_kit_encode(req, &st->out);
}

/* The error every valid partition gets before any is kept, or NONE. */
static int16_t check(sa_req_t *req, const sa_TxnOffsetCommitRequest_t *in, const char *txid,
                     const char *group) {
    sa_broker_t *broker = req->broker;
    sa_err_t err =
        sa_tcoord_verify(sa_txn_coord(broker), txid, in->ProducerId, in->ProducerEpoch, NULL, 0, group);
    switch (err) {
    case SA_OK: break;
    case SA_ERR_PRODUCER_FENCED: return SA_ERR_INVALID_PRODUCER_EPOCH; /* as Kafka's verification answers */
    case SA_ERR_TRANSACTION_ABORTABLE:
        return req->ApiVersion >= 4 ? SA_ERR_TRANSACTION_ABORTABLE : SA_ERR_INVALID_TXN_STATE;
    default: return (int16_t)err;
    }
    int v3 = req->ApiVersion >= 3;
    return (int16_t)sa_gcoord_txn_commit_check(
        broker->coord, group, v3 ? in->GenerationId : -1, v3 ? sa_kit_str(req, in->MemberId) : "",
        v3 ? sa_kit_nstr(req, in->GroupInstanceId) : NULL, sa_mono_ms());
}

sa_err_t sa_handle_TxnOffsetCommit(sa_req_t *req) {
    sa_TxnOffsetCommitRequest_t in;
    sa_arena_t *a = &req->arena;
    sa_err_t err = sa_kit_decode(req, &in);
    if (err != SA_OK) return err;
    tcommit_t *st = sa_arena_calloc(a, 1, sizeof(*st));
    if (!st) return SA_ERR_TOOBIG;
    sa_broker_t *broker = req->broker;
    sa_tcoord_t *tc = sa_txn_coord(broker);
    const char *txid = sa_kit_str(req, in.TransactionalId), *group = sa_kit_str(req, in.GroupId);
    sa_TxnOffsetCommitResponse_init(&st->out);
    if (!SA_KIT_ARRAY(req, st->out.Topics, in.Topics_count)) return SA_ERR_TOOBIG;
    int32_t nt = st->out.Topics_count;
    st->written = sa_arena_calloc(a, (size_t)(nt ? nt : 1), sizeof(uint8_t *));
    if (!st->written) return SA_ERR_TOOBIG;
    sa_err_t denied = sa_kit_authorize(req, SA_ACL_WRITE, SA_RESOURCE_TRANSACTIONAL_ID, txid);
    if (denied == SA_OK) denied = sa_kit_authorize(req, SA_ACL_READ, SA_RESOURCE_GROUP, group);
    size_t total = 0;
    for (int32_t t = 0; t < nt; t++)
        total += in.Topics[t].Partitions_count > 0 ? (size_t)in.Topics[t].Partitions_count : 0;
    sa_txn_offset_t *offs = sa_arena_calloc(a, total ? total : 1, sizeof(*offs));
    if (!offs) return SA_ERR_TOOBIG;
    int16_t common = -1; /* decided at the first partition that exists */
    size_t n = 0;
    for (int32_t t = 0; t < nt; t++) {
        const sa_TxnOffsetCommitRequest_TxnOffsetCommitRequestTopic_t *ti = &in.Topics[t];
        sa_TxnOffsetCommitResponse_TxnOffsetCommitResponseTopic_t *to = &st->out.Topics[t];
        sa_TxnOffsetCommitResponse_TxnOffsetCommitResponseTopic_init(to);
        to->Name = ti->Name;
        if (!SA_KIT_ARRAY(req, to->Partitions, ti->Partitions_count)) return SA_ERR_TOOBIG;
        int32_t np = to->Partitions_count;
        st->written[t] = sa_arena_calloc(a, (size_t)(np ? np : 1), 1);
        if (!st->written[t]) return SA_ERR_TOOBIG;
        const char *topic;
        sa_err_t terr = sa_kit_topic(req, ti->Name, &topic);
        if (terr == SA_ERR_TOOBIG) return terr;
        if (terr == SA_OK) terr = sa_kit_authorize(req, SA_ACL_READ, SA_RESOURCE_TOPIC, topic);
        for (int32_t p = 0; p < np; p++) {
            const sa_TxnOffsetCommitRequest_TxnOffsetCommitRequestPartition_t *pi = &ti->Partitions[p];
            tpart_t *po = &to->Partitions[p];
            sa_TxnOffsetCommitResponse_TxnOffsetCommitResponsePartition_init(po);
            po->PartitionIndex = pi->PartitionIndex;
            if (denied != SA_OK || terr == SA_ERR_TOPIC_AUTHORIZATION_FAILED) {
                po->ErrorCode = sa_kit_code(denied != SA_OK ? denied : terr);
                continue;
            }
            if (terr != SA_OK || !sa_store_partition(broker->store, topic, pi->PartitionIndex)) {
                po->ErrorCode = SA_ERR_UNKNOWN_TOPIC_OR_PARTITION;
                continue;
            }
            if (common < 0) common = check(req, &in, txid, group);
            po->ErrorCode = common;
            if (common) continue;
            sa_str_t meta = pi->CommittedMetadata; /* null is kept as "" */
            offs[n++] = (sa_txn_offset_t){topic,
                                          pi->PartitionIndex,
                                          pi->CommittedOffset,
                                          req->ApiVersion >= 2 ? pi->CommittedLeaderEpoch : -1,
                                          meta.ptr,
                                          meta.len > 0 ? (size_t)meta.len : 0};
            st->written[t][p] = 1;
        }
    }
    uint64_t seq = 0;
    if (n) {
        uint64_t before = sa_tcoord_last_seq(tc);
        err =
            sa_tcoord_commit_offsets(tc, txid, in.ProducerId, in.ProducerEpoch, group, offs, n, sa_wall_ms());
        if (err) {
            for (int32_t t = 0; t < nt; t++)
                for (int32_t p = 0; p < st->out.Topics[t].Partitions_count; p++)
                    if (st->written[t][p]) {
                        st->out.Topics[t].Partitions[p].ErrorCode =
                            sa_txn_wire_error(err, req->ApiVersion, 0);
                        st->written[t][p] = 0;
                    }
        } else if (sa_tcoord_last_seq(tc) != before) {
            seq = sa_tcoord_last_seq(tc);
        }
    }
    sa_group_rearm(broker);
    sa_txn_rearm(broker);
    return sa_kit_answer_when_durable(req, seq, tcommit_answer, st);
}
