/*
 * producer_state.c - a Produce request's batch set against its partition's producer state (see
 * producer_state.h; the per-batch rules are storage/pstate.h's).
 */
#include "broker/producer_state.h"

#include "core/log.h"
#include "proto/record_batch.h"
#include "storage/storage.h"

static int32_t seq_next(const sa_rb_header_t *hdr) {
    int64_t s = (int64_t)hdr->BaseSequence + hdr->LastOffsetDelta + 1;
    return (int32_t)(s > INT32_MAX ? s - INT32_MAX - 1 : s);
}

sa_err_t sa_producer_state_check(sa_partition_t *part, const uint8_t *batches, size_t len,
                                 sa_producer_dup_t *dup) {
    sa_rb_iter_t it;
    sa_rb_header_t hdr;
    sa_rb_iter_init(&it, batches, len);
    if (sa_rb_iter_next(&it, &hdr, NULL) != SA_OK || hdr.ProducerId < 0) return SA_OK;
    sa_err_t err = sa_pstate_check(sa_partition_pstate(part), &hdr, dup);
    if (err)
        sa_log_debug(SA_DBG_STORAGE, "producer", "%s-%d: producer %lld epoch %d sequence %d: %s%s",
                     sa_topic_name(sa_partition_topic(part)), sa_partition_id(part),
                     (long long)hdr.ProducerId, hdr.ProducerEpoch, hdr.BaseSequence, sa_err2name(err),
                     err == SA_ERR_DUPLICATE_SEQUENCE_NUMBER ? " (a retry, answered with its first offsets)"
                                                             : "");
    /* A set of several batches (rare: librdkafka sends one per partition) must continue its own
     * sequence; only the first may be a duplicate, and then the set is taken as a whole retry. */
    if (err) return err;
    int32_t next = seq_next(&hdr);
    while (sa_rb_iter_next(&it, &hdr, NULL) == SA_OK) {
        if (hdr.ProducerId < 0) continue;
        if (hdr.BaseSequence != next) return SA_ERR_OUT_OF_ORDER_SEQUENCE_NUMBER;
        next = seq_next(&hdr);
    }
    return SA_OK;
}

size_t sa_producer_state_list(sa_partition_t *part, sa_buf_t *out) {
    return sa_pstate_list(sa_partition_pstate(part), out);
}
