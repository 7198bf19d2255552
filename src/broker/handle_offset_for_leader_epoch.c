/*
 * handle_offset_for_leader_epoch.c - OffsetForLeaderEpoch (key 23, v0-4).
 *
 * A single node never changes leader, so every partition has had exactly one leader epoch, 0
 * (Metadata reports LeaderEpoch 0 and every stored batch carries PartitionLeaderEpoch 0).
 * Clients ask this after a leader change or to detect log truncation (KIP-320). The rules:
 *   - CurrentLeaderEpoch (v2+): -1 skips the check; 0 is current; above 0 is
 *     UNKNOWN_LEADER_EPOCH (the client knows a newer leader than exists); below -1 is
 *     FENCED_LEADER_EPOCH (an older one).
 *   - LeaderEpoch 0: the end offset of epoch 0 is the end of the log a client can see, the HWM
 *     (an unsynced tail can still be cut off by a failed fdatasync, so it is not promised).
 *   - Any other LeaderEpoch: epoch -1 and end offset -1 (UNDEFINED), with no error, as Kafka
 *     answers an epoch it does not know.
 * Unknown topics or partitions: UNKNOWN_TOPIC_OR_PARTITION.
 */
#include "broker/handlers.h"
#include "broker/kit.h"

typedef sa_OffsetForLeaderEpochRequest_OffsetForLeaderPartition_t epart_t;
typedef sa_OffsetForLeaderEpochResponse_EpochEndOffset_t eresult_t;

static void one_partition(sa_req_t *req, const char *topic, sa_err_t denied, const epart_t *ep,
                          eresult_t *out) {
    sa_OffsetForLeaderEpochResponse_EpochEndOffset_init(out);
    out->Partition = ep->Partition;
    out->LeaderEpoch = -1;
    out->EndOffset = -1;
    sa_partition_t *part =
        topic && !denied ? sa_store_partition(req->broker->store, topic, ep->Partition) : NULL;
    if (denied) {
        out->ErrorCode = sa_kit_code(denied);
    } else if (!part) {
        out->ErrorCode = SA_ERR_UNKNOWN_TOPIC_OR_PARTITION;
    } else if (ep->CurrentLeaderEpoch > 0) {
        out->ErrorCode = SA_ERR_UNKNOWN_LEADER_EPOCH;
    } else if (ep->CurrentLeaderEpoch < -1) {
        out->ErrorCode = SA_ERR_FENCED_LEADER_EPOCH;
    } else if (ep->LeaderEpoch == 0) {
        out->LeaderEpoch = 0;
        out->EndOffset = sa_partition_hwm(part);
    }
}

sa_err_t sa_handle_OffsetForLeaderEpoch(sa_req_t *req) {
    sa_OffsetForLeaderEpochRequest_t oreq;
    sa_err_t err = sa_kit_decode(req, &oreq);
    if (err != SA_OK) return err;
    sa_OffsetForLeaderEpochResponse_t resp;
    sa_OffsetForLeaderEpochResponse_init(&resp);
    if (!SA_KIT_ARRAY(req, resp.Topics, oreq.Topics_count)) return SA_ERR_TOOBIG;
    int cluster_action = sa_kit_authorize(req, SA_ACL_CLUSTER_ACTION, SA_RESOURCE_CLUSTER, "") == SA_OK;
    for (int32_t t = 0; t < resp.Topics_count; t++) {
        const sa_OffsetForLeaderEpochRequest_OffsetForLeaderTopic_t *ot = &oreq.Topics[t];
        sa_OffsetForLeaderEpochResponse_OffsetForLeaderTopicResult_t *tr = &resp.Topics[t];
        const char *name;
        err = sa_kit_topic(req, ot->Topic, &name);
        if (err == SA_ERR_TOOBIG) return err;
        sa_OffsetForLeaderEpochResponse_OffsetForLeaderTopicResult_init(tr);
        tr->Topic = ot->Topic;
        if (!SA_KIT_ARRAY(req, tr->Partitions, ot->Partitions_count)) return SA_ERR_TOOBIG;
        /* KIP-320: a replica's CLUSTER_ACTION, or a consumer's DESCRIBE on the topic */
        sa_err_t denied =
            cluster_action ? SA_OK : sa_kit_authorize(req, SA_ACL_DESCRIBE, SA_RESOURCE_TOPIC, name);
        for (int32_t p = 0; p < tr->Partitions_count; p++)
            one_partition(req, err == SA_OK ? name : NULL, denied, &ot->Partitions[p], &tr->Partitions[p]);
    }
    return sa_kit_encode(req, &resp);
}
