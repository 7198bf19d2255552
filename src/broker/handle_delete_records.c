/*
 * handle_delete_records.c - DeleteRecords (key 21, v0-2): move partitions' log start offsets.
 *
 * Offset N makes N the first readable offset (whole segments below it are deleted at once; the
 * rest of the segment holding N stays on disk but is never served); -1 means the HWM (delete
 * everything readable). An offset above the HWM, or below -1, is OFFSET_OUT_OF_RANGE; one at or
 * below the current log start changes nothing. LowWatermark is the log start offset after the
 * call. The new start is persisted by storage (DIR/TOPIC-P/log-start-offset) before the answer.
 */
#include "broker/handlers.h"
#include "broker/kit.h"
#include "core/log.h"

typedef sa_DeleteRecordsResponse_DeleteRecordsPartitionResult_t rresult_t;

static void one_partition(sa_req_t *req, const char *topic, sa_err_t denied,
                          const sa_DeleteRecordsRequest_DeleteRecordsPartition_t *rp, rresult_t *out) {
    sa_DeleteRecordsResponse_DeleteRecordsPartitionResult_init(out);
    out->PartitionIndex = rp->PartitionIndex;
    out->LowWatermark = -1;
    sa_partition_t *part = topic ? sa_store_partition(req->broker->store, topic, rp->PartitionIndex) : NULL;
    sa_err_t err;
    if (denied) /* before existence, as Kafka: nothing disclosed */
        err = denied, part = NULL;
    else if (!part)
        err = SA_ERR_UNKNOWN_TOPIC_OR_PARTITION;
    else if (rp->Offset < -1)
        err = SA_ERR_OFFSET_OUT_OF_RANGE;
    else
        err = sa_partition_delete_records(part, rp->Offset, &out->LowWatermark);
    out->ErrorCode = sa_kit_code(err);
    if (err == SA_OK)
        sa_log_debug(SA_DBG_STORAGE, "admin", "%s-%d: records before %lld deleted for %s", topic,
                     (int)rp->PartitionIndex, (long long)out->LowWatermark, sa_req_peer(req));
    else if (err == SA_ERR_KAFKA_STORAGE_ERROR)
        sa_log_error("admin", "%s-%d: DeleteRecords failed: %s", topic, (int)rp->PartitionIndex,
                     sa_err2str(err));
    if (err != SA_OK && part) out->LowWatermark = sa_partition_log_start(part);
}

sa_err_t sa_handle_DeleteRecords(sa_req_t *req) {
    sa_DeleteRecordsRequest_t dreq;
    sa_err_t err = sa_kit_decode(req, &dreq);
    if (err != SA_OK) return err;
    sa_DeleteRecordsResponse_t resp;
    sa_DeleteRecordsResponse_init(&resp);
    if (!SA_KIT_ARRAY(req, resp.Topics, dreq.Topics_count)) return SA_ERR_TOOBIG;
    for (int32_t t = 0; t < resp.Topics_count; t++) {
        const sa_DeleteRecordsRequest_DeleteRecordsTopic_t *dt = &dreq.Topics[t];
        sa_DeleteRecordsResponse_DeleteRecordsTopicResult_t *tr = &resp.Topics[t];
        const char *name;
        err = sa_kit_topic(req, dt->Name, &name);
        if (err == SA_ERR_TOOBIG) return err;
        sa_DeleteRecordsResponse_DeleteRecordsTopicResult_init(tr);
        tr->Name = dt->Name;
        if (!SA_KIT_ARRAY(req, tr->Partitions, dt->Partitions_count)) return SA_ERR_TOOBIG;
        sa_err_t denied = sa_kit_authorize(req, SA_ACL_DELETE, SA_RESOURCE_TOPIC, name);
        for (int32_t p = 0; p < tr->Partitions_count; p++)
            one_partition(req, err == SA_OK ? name : NULL, denied, &dt->Partitions[p], &tr->Partitions[p]);
    }
    return sa_kit_encode(req, &resp);
}
