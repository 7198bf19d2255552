/*
 * 0111-txn-wire: the transaction APIs frame by frame with samsa's own codec, for the answers and
 * versions no bundled client shows: Kafka's error codes for bad input and how they depend on the
 * version.
 *
 *   InitProducerId: an empty id INVALID_REQUEST; a timeout of 0 or above transaction.max.timeout.ms
 *     INVALID_TRANSACTION_TIMEOUT; v3 with a producer id but no epoch INVALID_REQUEST; a stale
 *     epoch is INVALID_PRODUCER_EPOCH at v3 and PRODUCER_FENCED at v4 (KIP-588).
 *   EndTxn: an unknown id INVALID_PRODUCER_ID_MAPPING; no transaction INVALID_TXN_STATE; a fenced
 *     epoch INVALID_PRODUCER_EPOCH at v1, PRODUCER_FENCED at v2; v5 answers the bumped epoch.
 *   AddPartitionsToTxn v3: an unknown partition UNKNOWN_TOPIC_OR_PARTITION and the others
 *     OPERATION_NOT_ATTEMPTED; v4 VerifyOnly answers per partition (TRANSACTION_ABORTABLE if not
 *     added) and adds nothing.
 *   Produce: a transactional batch without a transactional id TRANSACTIONAL_ID_AUTHORIZATION_FAILED;
 *     to a partition not added INVALID_TXN_STATE at v9, TRANSACTION_ABORTABLE at v11; a control
 *     batch INVALID_RECORD; a plain batch while the producer's transaction is open there
 *     INVALID_TXN_STATE.
 *   Fetch v11 read_committed: stops at the LSO (LastStableOffset) while a transaction is open;
 *     after an abort returns the batches with AbortedTransactions {producer id, first offset};
 *     read_uncommitted answers AbortedTransactions null.
 *   ListOffsets v5 isolation read_committed: LATEST is the LSO.
 *   TxnOffsetCommit before AddOffsetsToTxn: INVALID_TXN_STATE at v3, TRANSACTION_ABORTABLE at v4;
 *     after it, OffsetFetch v7 RequireStable answers UNSTABLE_OFFSET_COMMIT until the commit, then
 *     the offset.
 *   DescribeTransactions: unknown TRANSACTIONAL_ID_NOT_FOUND, "" INVALID_REQUEST, an ongoing one with
 *     its partitions and __consumer_offsets; ListTransactions v1 with an unknown state filter.
 *   DescribeProducers: the producer's epoch, last sequence and the first offset of its open
 *     transaction, then -1 and coordinator epoch 0 after the abort; an unknown partition
 *     UNKNOWN_TOPIC_OR_PARTITION.
 */
#include "txn_test.h"

#include "proto/record_batch.h"

#define TOPIC "wire_txn"

static int fd;
static sa_buf_t req, resp;
static sa_arena_t a;

static sa_InitProducerIdResponse_t init_pid(int16_t ver, const char *txid, int32_t timeout, int64_t pid,
                                            int16_t epoch) {
    sa_InitProducerIdRequest_t r;
    sa_InitProducerIdRequest_init(&r);
    r.TransactionalId = sa_str(txid);
    r.TransactionTimeoutMs = timeout;
    r.ProducerId = pid;
    r.ProducerEpoch = epoch;
    GT_ENCODE(InitProducerIdRequest, r, ver, &req);
    GT_ASSERT(gt_call(fd, SA_API_InitProducerId, ver, &req, 0, &resp) == 0, "InitProducerId v%d", ver);
    sa_InitProducerIdResponse_t out;
    GT_DECODE(InitProducerIdResponse, out, ver, &resp, &a);
    return out;
}

static sa_EndTxnResponse_t end_txn(int16_t ver, const char *txid, int64_t pid, int16_t epoch, int commit) {
    sa_EndTxnRequest_t r;
    sa_EndTxnRequest_init(&r);
    r.TransactionalId = sa_str(txid);
    r.ProducerId = pid;
    r.ProducerEpoch = epoch;
    r.Committed = commit;
    GT_ENCODE(EndTxnRequest, r, ver, &req);
    GT_ASSERT(gt_call(fd, SA_API_EndTxn, ver, &req, 0, &resp) == 0, "EndTxn v%d", ver);
    sa_EndTxnResponse_t out;
    GT_DECODE(EndTxnResponse, out, ver, &resp, &a);
    return out;
}

/* AddPartitionsToTxn v0-3 of @p n partitions of @p topic; @returns partition @p which's error. */
static int16_t add_parts(int16_t ver, const char *txid, int64_t pid, int16_t epoch, const char *topic,
                         int32_t *parts, int32_t n, int which) {
    sa_AddPartitionsToTxnRequest_AddPartitionsToTxnTopic_t t = {sa_str(topic), parts, n};
    sa_AddPartitionsToTxnRequest_t r;
    sa_AddPartitionsToTxnRequest_init(&r);
    r.V3AndBelowTransactionalId = sa_str(txid);
    r.V3AndBelowProducerId = pid;
    r.V3AndBelowProducerEpoch = epoch;
    r.V3AndBelowTopics = &t;
    r.V3AndBelowTopics_count = 1;
    GT_ENCODE(AddPartitionsToTxnRequest, r, ver, &req);
    GT_ASSERT(gt_call(fd, SA_API_AddPartitionsToTxn, ver, &req, 0, &resp) == 0, "AddPartitionsToTxn v%d",
              ver);
    sa_AddPartitionsToTxnResponse_t out;
    GT_DECODE(AddPartitionsToTxnResponse, out, ver, &resp, &a);
    GT_ASSERT(out.ResultsByTopicV3AndBelow_count == 1 &&
                  out.ResultsByTopicV3AndBelow[0].ResultsByPartition_count == n,
              "AddPartitionsToTxn answer shape");
    return out.ResultsByTopicV3AndBelow[0].ResultsByPartition[which].PartitionErrorCode;
}

static int16_t add_offsets(int16_t ver, const char *txid, int64_t pid, int16_t epoch, const char *group) {
    sa_AddOffsetsToTxnRequest_t r;
    sa_AddOffsetsToTxnRequest_init(&r);
    r.TransactionalId = sa_str(txid);
    r.ProducerId = pid;
    r.ProducerEpoch = epoch;
    r.GroupId = sa_str(group);
    GT_ENCODE(AddOffsetsToTxnRequest, r, ver, &req);
    GT_ASSERT(gt_call(fd, SA_API_AddOffsetsToTxn, ver, &req, 0, &resp) == 0, "AddOffsetsToTxn v%d", ver);
    sa_AddOffsetsToTxnResponse_t out;
    GT_DECODE(AddOffsetsToTxnResponse, out, ver, &resp, &a);
    return out.ErrorCode;
}

/* Produce one batch of @p n records to TOPIC/@p partition; @returns the partition's error and
 * its base offset in *base. @p attrs: extra batch attributes (transactional, control). */
static int16_t produce(int16_t ver, const char *txid, int32_t partition, int64_t pid, int16_t epoch,
                       int32_t seq, int16_t attrs, int n, int64_t *base) {
    sa_rb_rec_in_t recs[8];
    for (int i = 0; i < n; i++) recs[i] = (sa_rb_rec_in_t){"k", 1, "v", 1, NULL, 0, 1700000000000LL};
    sa_rb_build_opts_t o = SA_RB_BUILD_OPTS_INIT;
    o.leader_epoch = -1;
    o.attributes = attrs;
    o.producer_id = pid;
    o.producer_epoch = epoch;
    o.base_sequence = seq;
    sa_buf_t batch = SA_BUF_INIT(0);
    GT_ASSERT(sa_rb_build(&batch, &o, recs, (size_t)n) == SA_OK, "build a batch");
    sa_ProduceRequest_PartitionProduceData_t pd = {partition, {batch.data, (int32_t)batch.len}};
    sa_ProduceRequest_TopicProduceData_t td = {SA_STR(TOPIC), &pd, 1};
    sa_ProduceRequest_t r;
    sa_ProduceRequest_init(&r);
    r.TransactionalId = sa_str(txid);
    r.Acks = -1;
    r.TimeoutMs = 10000;
    r.TopicData = &td;
    r.TopicData_count = 1;
    GT_ENCODE(ProduceRequest, r, ver, &req);
    sa_buf_free(&batch);
    GT_ASSERT(gt_call(fd, SA_API_Produce, ver, &req, 0, &resp) == 0, "Produce v%d", ver);
    sa_ProduceResponse_t out;
    GT_DECODE(ProduceResponse, out, ver, &resp, &a);
    GT_ASSERT(out.Responses_count == 1 && out.Responses[0].PartitionResponses_count == 1,
              "Produce answer shape");
    if (base) *base = out.Responses[0].PartitionResponses[0].BaseOffset;
    return out.Responses[0].PartitionResponses[0].ErrorCode;
}

/* Fetch TOPIC/@p partition from @p offset at isolation @p iso (v11). */
static sa_FetchResponse_PartitionData_t fetch(int32_t partition, int64_t offset, int8_t iso) {
    sa_FetchRequest_FetchPartition_t fp;
    sa_FetchRequest_FetchPartition_init(&fp);
    fp.Partition = partition;
    fp.FetchOffset = offset;
    fp.PartitionMaxBytes = 1 << 20;
    sa_FetchRequest_FetchTopic_t ft;
    sa_FetchRequest_FetchTopic_init(&ft);
    ft.Topic = SA_STR(TOPIC);
    ft.Partitions = &fp;
    ft.Partitions_count = 1;
    sa_FetchRequest_t r;
    sa_FetchRequest_init(&r);
    r.ReplicaId = -1;
    r.MaxWaitMs = 0;
    r.MinBytes = 0;
    r.MaxBytes = 1 << 20;
    r.IsolationLevel = iso;
    r.Topics = &ft;
    r.Topics_count = 1;
    GT_ENCODE(FetchRequest, r, 11, &req);
    GT_ASSERT(gt_call(fd, SA_API_Fetch, 11, &req, 0, &resp) == 0, "Fetch v11");
    sa_FetchResponse_t out;
    GT_DECODE(FetchResponse, out, 11, &resp, &a);
    GT_ASSERT(out.Responses_count == 1 && out.Responses[0].Partitions_count == 1, "Fetch answer shape");
    return out.Responses[0].Partitions[0];
}

/* @returns how many batches are in @p records, and the base offset of the last in *last. */
static int batches(sa_bytes_t records, int64_t *last) {
    sa_rb_iter_t it;
    sa_rb_header_t hdr;
    int n = 0;
    sa_rb_iter_init(&it, records.ptr, records.len > 0 ? (size_t)records.len : 0);
    while (sa_rb_iter_next(&it, &hdr, NULL) == SA_OK) {
        n++;
        if (last) *last = hdr.BaseOffset;
    }
    return n;
}

static int64_t list_latest(int32_t partition, int8_t iso) {
    sa_ListOffsetsRequest_ListOffsetsPartition_t lp;
    sa_ListOffsetsRequest_ListOffsetsPartition_init(&lp);
    lp.PartitionIndex = partition;
    lp.Timestamp = -1;
    sa_ListOffsetsRequest_ListOffsetsTopic_t lt = {SA_STR(TOPIC), &lp, 1};
    sa_ListOffsetsRequest_t r;
    sa_ListOffsetsRequest_init(&r);
    r.ReplicaId = -1;
    r.IsolationLevel = iso;
    r.Topics = &lt;
    r.Topics_count = 1;
    GT_ENCODE(ListOffsetsRequest, r, 5, &req);
    GT_ASSERT(gt_call(fd, SA_API_ListOffsets, 5, &req, 0, &resp) == 0, "ListOffsets v5");
    sa_ListOffsetsResponse_t out;
    GT_DECODE(ListOffsetsResponse, out, 5, &resp, &a);
    GT_ASSERT(out.Topics[0].Partitions[0].ErrorCode == 0, "ListOffsets error %d",
              out.Topics[0].Partitions[0].ErrorCode);
    return out.Topics[0].Partitions[0].Offset;
}

static int16_t txn_offset_commit(int16_t ver, const char *txid, int64_t pid, int16_t epoch, const char *group,
                                 int64_t offset) {
    sa_TxnOffsetCommitRequest_TxnOffsetCommitRequestPartition_t p;
    sa_TxnOffsetCommitRequest_TxnOffsetCommitRequestPartition_init(&p);
    p.PartitionIndex = 0;
    p.CommittedOffset = offset;
    p.CommittedMetadata = SA_STR("m");
    sa_TxnOffsetCommitRequest_TxnOffsetCommitRequestTopic_t t = {SA_STR(TOPIC), &p, 1};
    sa_TxnOffsetCommitRequest_t r;
    sa_TxnOffsetCommitRequest_init(&r);
    r.TransactionalId = sa_str(txid);
    r.GroupId = sa_str(group);
    r.ProducerId = pid;
    r.ProducerEpoch = epoch;
    r.Topics = &t;
    r.Topics_count = 1;
    GT_ENCODE(TxnOffsetCommitRequest, r, ver, &req);
    GT_ASSERT(gt_call(fd, SA_API_TxnOffsetCommit, ver, &req, 0, &resp) == 0, "TxnOffsetCommit v%d", ver);
    sa_TxnOffsetCommitResponse_t out;
    GT_DECODE(TxnOffsetCommitResponse, out, ver, &resp, &a);
    return out.Topics[0].Partitions[0].ErrorCode;
}

/* OffsetFetch v7 of TOPIC-0 for @p group with RequireStable. */
static sa_OffsetFetchResponse_OffsetFetchResponsePartition_t offset_fetch(const char *group) {
    int32_t parts[] = {0};
    sa_OffsetFetchRequest_OffsetFetchRequestTopic_t t = {SA_STR(TOPIC), parts, 1};
    sa_OffsetFetchRequest_t r;
    sa_OffsetFetchRequest_init(&r);
    r.GroupId = sa_str(group);
    r.Topics = &t;
    r.Topics_count = 1;
    r.RequireStable = true;
    GT_ENCODE(OffsetFetchRequest, r, 7, &req);
    GT_ASSERT(gt_call(fd, SA_API_OffsetFetch, 7, &req, 0, &resp) == 0, "OffsetFetch v7");
    sa_OffsetFetchResponse_t out;
    GT_DECODE(OffsetFetchResponse, out, 7, &resp, &a);
    return out.Topics[0].Partitions[0];
}

/* DescribeProducers of TOPIC partitions 0 and 7: @returns partition 0's entry of @p pid (ProducerId
 * -2 if absent), after checking partition 7 is UNKNOWN_TOPIC_OR_PARTITION. */
static sa_DescribeProducersResponse_ProducerState_t describe_producer(int64_t pid) {
    int32_t parts[] = {0, 7};
    sa_DescribeProducersRequest_TopicRequest_t t = {SA_STR(TOPIC), parts, 2};
    sa_DescribeProducersRequest_t r;
    sa_DescribeProducersRequest_init(&r);
    r.Topics = &t;
    r.Topics_count = 1;
    GT_ENCODE(DescribeProducersRequest, r, 0, &req);
    GT_ASSERT(gt_call(fd, SA_API_DescribeProducers, 0, &req, 0, &resp) == 0, "DescribeProducers");
    sa_DescribeProducersResponse_t out;
    GT_DECODE(DescribeProducersResponse, out, 0, &resp, &a);
    GT_ASSERT(out.Topics_count == 1 && out.Topics[0].Partitions_count == 2, "DescribeProducers shape");
    const sa_DescribeProducersResponse_PartitionResponse_t *pr = out.Topics[0].Partitions;
    GT_ASSERT(pr[0].ErrorCode == 0 && pr[0].PartitionIndex == 0, "partition 0: %d", pr[0].ErrorCode);
    GT_ASSERT(pr[1].ErrorCode == SA_ERR_UNKNOWN_TOPIC_OR_PARTITION && pr[1].PartitionIndex == 7,
              "partition 7: %d", pr[1].ErrorCode);
    sa_DescribeProducersResponse_ProducerState_t none = {.ProducerId = -2};
    for (int32_t i = 0; i < pr[0].ActiveProducers_count; i++)
        if (pr[0].ActiveProducers[i].ProducerId == pid) return pr[0].ActiveProducers[i];
    return none;
}

int main(void) {
    th_proc_t broker;
    const char *args[] = {"-o", "num.partitions=2", "-o", "transaction.max.timeout.ms=60000", NULL};
    GT_ASSERT(th_broker_start(&broker, NULL, args) == 0, "broker did not start");
    rd_kafka_t *p = gt_producer(broker.addr, NULL);
    gt_produce(p, TOPIC, 0, "x", 1);
    gt_flush(p);
    rd_kafka_destroy(p);
    fd = gt_connect(broker.port);

    /* InitProducerId */
    GT_ASSERT(init_pid(4, "", 10000, -1, -1).ErrorCode == SA_ERR_INVALID_REQUEST, "empty id");
    GT_ASSERT(init_pid(4, "w", 0, -1, -1).ErrorCode == SA_ERR_INVALID_TRANSACTION_TIMEOUT, "timeout 0");
    GT_ASSERT(init_pid(4, "w", 60001, -1, -1).ErrorCode == SA_ERR_INVALID_TRANSACTION_TIMEOUT,
              "timeout > max");
    GT_ASSERT(init_pid(3, "w", 10000, 5, -1).ErrorCode == SA_ERR_INVALID_REQUEST,
              "producer id without epoch");
    sa_InitProducerIdResponse_t ip = init_pid(4, "w", 10000, -1, -1);
    GT_ASSERT(ip.ErrorCode == 0 && ip.ProducerId >= 0 && ip.ProducerEpoch == 0, "init: %d", ip.ErrorCode);
    int64_t pid = ip.ProducerId;
    /* EndTxn of nothing */
    GT_ASSERT(end_txn(3, "nobody", pid, 0, 1).ErrorCode == SA_ERR_INVALID_PRODUCER_ID_MAPPING, "unknown id");
    GT_ASSERT(end_txn(3, "w", pid, 0, 1).ErrorCode == SA_ERR_INVALID_TXN_STATE,
              "EndTxn without a transaction");

    /* AddPartitionsToTxn v3 with an unknown partition: nothing is added */
    int32_t parts[] = {0, 1, 7};
    GT_ASSERT(add_parts(3, "w", pid, 0, TOPIC, parts, 3, 2) == SA_ERR_UNKNOWN_TOPIC_OR_PARTITION,
              "partition 7");
    GT_ASSERT(add_parts(3, "w", pid, 0, TOPIC, parts, 3, 0) == SA_ERR_OPERATION_NOT_ATTEMPTED, "partition 0");

    /* Produce: no transactional id; not added (v9, v11); control batch */
    GT_ASSERT(produce(9, NULL, 0, pid, 0, 0, SA_RB_ATTR_TRANSACTIONAL, 1, NULL) ==
                  SA_ERR_TRANSACTIONAL_ID_AUTHORIZATION_FAILED,
              "transactional batch without an id");
    GT_ASSERT(produce(9, "w", 0, pid, 0, 0, SA_RB_ATTR_TRANSACTIONAL, 1, NULL) == SA_ERR_INVALID_TXN_STATE,
              "v9: not added");
    GT_ASSERT(produce(11, "w", 0, pid, 0, 0, SA_RB_ATTR_TRANSACTIONAL, 1, NULL) ==
                  SA_ERR_TRANSACTION_ABORTABLE,
              "v11: not added");
    GT_ASSERT(produce(9, NULL, 0, pid, 0, 0, SA_RB_ATTR_CONTROL, 1, NULL) == SA_ERR_INVALID_RECORD,
              "control batch from a client");

    /* v4 VerifyOnly before and after the add */
    GT_ASSERT(add_parts(3, "w", pid, 0, TOPIC, parts, 1, 0) == 0, "add partition 0");
    {
        int32_t vparts[] = {0, 1};
        sa_AddPartitionsToTxnRequest_AddPartitionsToTxnTopic_t t = {SA_STR(TOPIC), vparts, 2};
        sa_AddPartitionsToTxnRequest_AddPartitionsToTxnTransaction_t tx = {SA_STR("w"), pid, 0, true, &t, 1};
        sa_AddPartitionsToTxnRequest_t r;
        sa_AddPartitionsToTxnRequest_init(&r);
        r.Transactions = &tx;
        r.Transactions_count = 1;
        for (int round = 0; round < 2; round++) {
            tx.ProducerEpoch = (int16_t)round; /* round 1: a wrong epoch */
            GT_ENCODE(AddPartitionsToTxnRequest, r, 4, &req);
            GT_ASSERT(gt_call(fd, SA_API_AddPartitionsToTxn, 4, &req, 0, &resp) == 0,
                      "AddPartitionsToTxn v4");
            sa_AddPartitionsToTxnResponse_t out;
            GT_DECODE(AddPartitionsToTxnResponse, out, 4, &resp, &a);
            GT_ASSERT(out.ResultsByTransaction_count == 1 &&
                          sa_str_eq(out.ResultsByTransaction[0].TransactionalId, "w"),
                      "v4 answer shape");
            const sa_AddPartitionsToTxnResponse_AddPartitionsToTxnPartitionResult_t *pr =
                out.ResultsByTransaction[0].TopicResults[0].ResultsByPartition;
            if (round == 0)
                GT_ASSERT(pr[0].PartitionErrorCode == 0 &&
                              pr[1].PartitionErrorCode == SA_ERR_TRANSACTION_ABORTABLE,
                          "verify: %d %d", pr[0].PartitionErrorCode, pr[1].PartitionErrorCode);
            else
                GT_ASSERT(pr[0].PartitionErrorCode == SA_ERR_PRODUCER_FENCED, "verify, wrong epoch: %d",
                          pr[0].PartitionErrorCode);
        }
        /* VerifyOnly added nothing: partition 1 still refuses */
        GT_ASSERT(produce(9, "w", 1, pid, 0, 0, SA_RB_ATTR_TRANSACTIONAL, 1, NULL) ==
                      SA_ERR_INVALID_TXN_STATE,
                  "VerifyOnly must not add");
    }

    /* The transaction: 3 records in partition 0; read_committed stops before them */
    int64_t first, lso;
    GT_ASSERT(produce(9, "w", 0, pid, 0, 0, SA_RB_ATTR_TRANSACTIONAL, 3, &first) == 0,
              "transactional produce");
    GT_ASSERT(first == 1, "first offset %lld", (long long)first);
    GT_ASSERT(produce(9, NULL, 0, pid, 0, 3, 0, 1, NULL) == SA_ERR_INVALID_TXN_STATE,
              "a plain batch inside the producer's open transaction");
    sa_FetchResponse_PartitionData_t fr = fetch(0, 0, 1);
    GT_ASSERT(fr.ErrorCode == 0 && fr.LastStableOffset == 1 && fr.HighWatermark == 4, "rc: LSO %lld HWM %lld",
              (long long)fr.LastStableOffset, (long long)fr.HighWatermark);
    GT_ASSERT(batches(fr.Records, NULL) == 1, "read_committed returned %d batches before the LSO",
              batches(fr.Records, NULL));
    GT_ASSERT(fetch(0, 1, 1).Records.len == 0, "read_committed at the LSO returns nothing");
    GT_ASSERT(list_latest(0, 1) == 1 && list_latest(0, 0) == 4, "ListOffsets: rc %lld ru %lld",
              (long long)list_latest(0, 1), (long long)list_latest(0, 0));

    /* TxnOffsetCommit before AddOffsetsToTxn */
    GT_ASSERT(txn_offset_commit(3, "w", pid, 0, "wg", 1) == SA_ERR_INVALID_TXN_STATE, "v3: group not added");
    GT_ASSERT(txn_offset_commit(4, "w", pid, 0, "wg", 1) == SA_ERR_TRANSACTION_ABORTABLE,
              "v4: group not added");
    GT_ASSERT(add_offsets(3, "w", pid, 0, "wg") == 0, "AddOffsetsToTxn");
    GT_ASSERT(txn_offset_commit(3, "w", pid, 0, "wg", 1) == 0, "TxnOffsetCommit");
    sa_OffsetFetchResponse_OffsetFetchResponsePartition_t of = offset_fetch("wg");
    GT_ASSERT(of.ErrorCode == SA_ERR_UNSTABLE_OFFSET_COMMIT && of.CommittedOffset == -1,
              "pending offset: %d %lld", of.ErrorCode, (long long)of.CommittedOffset);

    /* DescribeProducers: the open transaction's first offset */
    {
        sa_DescribeProducersResponse_ProducerState_t st = describe_producer(pid);
        GT_ASSERT(st.ProducerId == pid && st.ProducerEpoch == 0 && st.LastSequence == 2 &&
                      st.LastTimestamp > 0 && st.CoordinatorEpoch == -1 && st.CurrentTxnStartOffset == 1,
                  "describe producer: id %lld epoch %d seq %d ts %lld coord %d start %lld",
                  (long long)st.ProducerId, st.ProducerEpoch, st.LastSequence, (long long)st.LastTimestamp,
                  st.CoordinatorEpoch, (long long)st.CurrentTxnStartOffset);
    }

    /* DescribeTransactions / ListTransactions while it is ongoing */
    {
        sa_str_t ids[] = {SA_STR("w"), SA_STR("nobody"), SA_STR("")};
        sa_DescribeTransactionsRequest_t r;
        sa_DescribeTransactionsRequest_init(&r);
        r.TransactionalIds = ids;
        r.TransactionalIds_count = 3;
        GT_ENCODE(DescribeTransactionsRequest, r, 0, &req);
        GT_ASSERT(gt_call(fd, SA_API_DescribeTransactions, 0, &req, 0, &resp) == 0, "DescribeTransactions");
        sa_DescribeTransactionsResponse_t out;
        GT_DECODE(DescribeTransactionsResponse, out, 0, &resp, &a);
        sa_DescribeTransactionsResponse_TransactionState_t *s = out.TransactionStates;
        GT_ASSERT(out.TransactionStates_count == 3, "3 states");
        GT_ASSERT(s[0].ErrorCode == 0 && sa_str_eq(s[0].TransactionState, "Ongoing") &&
                      s[0].ProducerId == pid && s[0].TransactionTimeoutMs == 10000 &&
                      s[0].TransactionStartTimeMs > 0 && s[0].Topics_count == 2,
                  "describe w: %d, %d topics", s[0].ErrorCode, s[0].Topics_count);
        GT_ASSERT(s[1].ErrorCode == SA_ERR_TRANSACTIONAL_ID_NOT_FOUND, "describe unknown: %d",
                  s[1].ErrorCode);
        GT_ASSERT(s[2].ErrorCode == SA_ERR_INVALID_REQUEST, "describe \"\": %d", s[2].ErrorCode);
        int offsets_topic = sa_str_eq(s[0].Topics[0].Topic, "__consumer_offsets") ||
                            sa_str_eq(s[0].Topics[1].Topic, "__consumer_offsets");
        GT_ASSERT(offsets_topic, "the group shows as __consumer_offsets");

        sa_str_t filters[] = {SA_STR("Ongoing"), SA_STR("Bogus")};
        sa_ListTransactionsRequest_t lr;
        sa_ListTransactionsRequest_init(&lr);
        lr.StateFilters = filters;
        lr.StateFilters_count = 2;
        lr.DurationFilter = -1;
        GT_ENCODE(ListTransactionsRequest, lr, 1, &req);
        GT_ASSERT(gt_call(fd, SA_API_ListTransactions, 1, &req, 0, &resp) == 0, "ListTransactions v1");
        sa_ListTransactionsResponse_t lo;
        GT_DECODE(ListTransactionsResponse, lo, 1, &resp, &a);
        GT_ASSERT(lo.ErrorCode == 0 && lo.UnknownStateFilters_count == 1 &&
                      sa_str_eq(lo.UnknownStateFilters[0], "Bogus"),
                  "unknown filters");
        GT_ASSERT(lo.TransactionStates_count == 1 && sa_str_eq(lo.TransactionStates[0].TransactionalId, "w"),
                  "%d listed", lo.TransactionStates_count);
    }

    /* Abort: read_committed gets the aborted batch and the list to drop it by */
    GT_ASSERT(end_txn(3, "w", pid, 0, 0).ErrorCode == 0, "abort");
    GT_ASSERT(end_txn(3, "w", pid, 0, 0).ErrorCode == 0, "a retried abort is answered again");
    GT_ASSERT(end_txn(3, "w", pid, 0, 1).ErrorCode == SA_ERR_INVALID_TXN_STATE, "commit after the abort");
    fr = fetch(0, 0, 1);
    int64_t last = -1;
    GT_ASSERT(fr.LastStableOffset == 5 && fr.HighWatermark == 5, "after abort: LSO %lld",
              (long long)fr.LastStableOffset);
    GT_ASSERT(batches(fr.Records, &last) == 3 && last == 4, "batches: %d, last at %lld",
              batches(fr.Records, NULL), (long long)last);
    GT_ASSERT(fr.AbortedTransactions_count == 1 && fr.AbortedTransactions[0].ProducerId == pid &&
                  fr.AbortedTransactions[0].FirstOffset == 1,
              "aborted transactions: %d", fr.AbortedTransactions_count);
    GT_ASSERT(fetch(0, 0, 0).AbortedTransactions_count == -1, "read_uncommitted: AbortedTransactions null");
    lso = list_latest(0, 1);
    GT_ASSERT(lso == 5, "LSO after the abort: %lld", (long long)lso);
    {
        sa_DescribeProducersResponse_ProducerState_t st = describe_producer(pid);
        GT_ASSERT(st.ProducerId == pid && st.CoordinatorEpoch == 0 && st.CurrentTxnStartOffset == -1,
                  "describe producer after the abort: coord %d start %lld", st.CoordinatorEpoch,
                  (long long)st.CurrentTxnStartOffset);
    }
    of = offset_fetch("wg");
    GT_ASSERT(of.ErrorCode == 0 && of.CommittedOffset == -1, "aborted offset: %d %lld", of.ErrorCode,
              (long long)of.CommittedOffset);

    /* The next transaction commits its offset; EndTxn v5 bumps the epoch */
    GT_ASSERT(add_offsets(3, "w", pid, 0, "wg") == 0, "AddOffsetsToTxn");
    GT_ASSERT(txn_offset_commit(3, "w", pid, 0, "wg", 4) == 0, "TxnOffsetCommit");
    sa_EndTxnResponse_t er = end_txn(5, "w", pid, 0, 1);
    GT_ASSERT(er.ErrorCode == 0 && er.ProducerId == pid && er.ProducerEpoch == 1, "EndTxn v5: %d epoch %d",
              er.ErrorCode, er.ProducerEpoch);
    of = offset_fetch("wg");
    GT_ASSERT(of.ErrorCode == 0 && of.CommittedOffset == 4, "committed offset: %d %lld", of.ErrorCode,
              (long long)of.CommittedOffset);

    /* Fencing, answered by version: a second instance takes the id */
    ip = init_pid(4, "w", 10000, -1, -1);
    GT_ASSERT(ip.ErrorCode == 0 && ip.ProducerEpoch == 2, "second instance: %d epoch %d", ip.ErrorCode,
              ip.ProducerEpoch);
    GT_ASSERT(add_parts(1, "w", pid, 1, TOPIC, parts, 1, 0) == SA_ERR_INVALID_PRODUCER_EPOCH, "v1 fenced");
    GT_ASSERT(add_parts(2, "w", pid, 1, TOPIC, parts, 1, 0) == SA_ERR_PRODUCER_FENCED, "v2 fenced");
    GT_ASSERT(end_txn(1, "w", pid, 1, 1).ErrorCode == SA_ERR_INVALID_PRODUCER_EPOCH, "EndTxn v1 fenced");
    GT_ASSERT(end_txn(2, "w", pid, 1, 1).ErrorCode == SA_ERR_PRODUCER_FENCED, "EndTxn v2 fenced");
    GT_ASSERT(init_pid(3, "w", 10000, pid, 1).ErrorCode == SA_ERR_INVALID_PRODUCER_EPOCH,
              "InitProducerId v3 fenced");
    GT_ASSERT(init_pid(4, "w", 10000, pid, 1).ErrorCode == SA_ERR_PRODUCER_FENCED,
              "InitProducerId v4 fenced");
    GT_ASSERT(produce(9, "w", 0, pid, 1, 0, SA_RB_ATTR_TRANSACTIONAL, 1, NULL) ==
                  SA_ERR_INVALID_PRODUCER_EPOCH,
              "produce with the fenced epoch");

    close(fd);
    sa_buf_free(&req);
    sa_buf_free(&resp);
    sa_arena_free(&a);
    GT_ASSERT(th_proc_stop(&broker, SIGTERM) == 0, "broker did not stop cleanly");
    th_proc_cleanup(&broker);
    printf("ok\n");
    return 0;
}
