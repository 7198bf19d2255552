/*
 * handle_listoffsets.c - ListOffsets (key 2, v1-7): earliest, latest, by time, max timestamp.
 *
 * Timestamp -2: the log start offset; -1: the end a consumer can read up to, the HWM, or with
 * IsolationLevel 1 (read_committed, v2+) the last stable offset (storage/txn.c); -3 (v7, KIP-734):
 * the record with the largest timestamp; any other value: the first record whose timestamp is
 * >= it (-1/-1 when none). A result at or past that end is not reported (-1/-1), as Kafka's
 * fetchOffsetForTimestamp does, so only durable data (and, read_committed, decided data) is.
 */
#include <string.h>

#include "broker/handlers.h"
#include "broker/kit.h"
#include "proto/proto.h"
#include "storage/storage.h"

#define TS_LATEST        (-1)
#define TS_EARLIEST      (-2)
#define TS_MAX_TIMESTAMP (-3)

typedef sa_ListOffsetsResponse_ListOffsetsPartitionResponse_t lpart_t;

static void one_partition(sa_partition_t *part, int64_t ts, int committed, lpart_t *out) {
    int64_t offset = -1, found_ts = -1;
    int64_t end = committed ? sa_partition_lso(part) : sa_partition_hwm(part);
    sa_err_t err = SA_OK;
    switch (ts) {
    case TS_EARLIEST: offset = sa_partition_log_start(part); break;
    case TS_LATEST: offset = end; break;
    case TS_MAX_TIMESTAMP: err = sa_partition_max_timestamp(part, &offset, &found_ts); break;
    default: err = sa_partition_offset_for_time(part, ts, &offset, &found_ts); break;
    }
    if (ts != TS_EARLIEST && ts != TS_LATEST && offset >= end) offset = found_ts = -1;
    out->ErrorCode = (int16_t)(err == SA_OK           ? SA_OK
                               : sa_err_is_kafka(err) ? err
                                                      : SA_ERR_KAFKA_STORAGE_ERROR);
    out->Offset = err == SA_OK ? offset : -1;
    out->Timestamp = err == SA_OK ? found_ts : -1;
    out->LeaderEpoch = 0;
}

sa_err_t sa_handle_ListOffsets(sa_req_t *req) {
    sa_ListOffsetsRequest_t lreq;
    sa_err_t err = sa_kit_decode(req, &lreq);
    if (err != SA_OK) return err;

    sa_ListOffsetsResponse_t resp;
    sa_ListOffsetsResponse_init(&resp);
    if (!SA_KIT_ARRAY(req, resp.Topics, lreq.Topics_count)) return SA_ERR_TOOBIG;
    for (int32_t t = 0; t < resp.Topics_count; t++) {
        const sa_ListOffsetsRequest_ListOffsetsTopic_t *lt = &lreq.Topics[t];
        sa_ListOffsetsResponse_ListOffsetsTopicResponse_t *tr = &resp.Topics[t];
        const char *name; /* "" for a name no topic can have: its partitions are unknown */
        if (sa_kit_topic(req, lt->Name, &name) == SA_ERR_TOOBIG) return SA_ERR_TOOBIG;
        sa_ListOffsetsResponse_ListOffsetsTopicResponse_init(tr);
        tr->Name = lt->Name;
        if (!SA_KIT_ARRAY(req, tr->Partitions, lt->Partitions_count)) return SA_ERR_TOOBIG;
        sa_err_t denied = sa_kit_authorize(req, SA_ACL_DESCRIBE, SA_RESOURCE_TOPIC, name);
        for (int32_t p = 0; p < tr->Partitions_count; p++) {
            lpart_t *out = &tr->Partitions[p];
            sa_ListOffsetsResponse_ListOffsetsPartitionResponse_init(out);
            out->PartitionIndex = lt->Partitions[p].PartitionIndex;
            sa_partition_t *part =
                denied ? NULL : sa_store_partition(req->broker->store, name, out->PartitionIndex);
            if (!part) {
                out->ErrorCode = denied ? sa_kit_code(denied) : SA_ERR_UNKNOWN_TOPIC_OR_PARTITION;
                continue;
            }
            one_partition(part, lt->Partitions[p].Timestamp, req->ApiVersion >= 2 && lreq.IsolationLevel == 1,
                          out);
        }
    }
    return sa_kit_encode(req, &resp);
}
