/*
 * 0046-group-wire: the group API versions no bundled client sends, spoken frame by frame with
 * samsa's own codec: FindCoordinator v4 (batched keys, and key type 1), JoinGroup v9 with the
 * MEMBER_ID_REQUIRED round trip and v0, SyncGroup v5, Heartbeat v4, OffsetCommit v9,
 * OffsetFetch v8 with two groups at once, commit metadata holding a NUL byte stored and returned
 * whole (OffsetCommit v2 / OffsetFetch v1 and v8), LeaveGroup v5 (batch, by instance id),
 * OffsetDelete v0, DeleteGroups v2, ListGroups v3 with librdkafka 2.0.2's stray trailing byte,
 * and a truncated JoinGroup (the connection is closed; the broker keeps serving).
 */
#include "group_test.h"

static sa_JoinGroupResponse_t join(int fd, int16_t ver, const char *member, const char *instance,
                                   sa_arena_t *a, sa_buf_t *req, sa_buf_t *resp) {
    static sa_JoinGroupRequest_JoinGroupRequestProtocol_t protos[1];
    protos[0].Name = SA_STR("range");
    protos[0].Metadata = (sa_bytes_t){(const uint8_t *)"\0\0\0\0\0\1\0\12wire_topic\0\0\0\0", 22};
    sa_JoinGroupRequest_t jr;
    sa_JoinGroupRequest_init(&jr);
    jr.GroupId = SA_STR("wire_group");
    jr.SessionTimeoutMs = 10000;
    jr.RebalanceTimeoutMs = 10000;
    jr.MemberId = sa_str(member);
    jr.GroupInstanceId = sa_str(instance);
    jr.ProtocolType = SA_STR("consumer");
    jr.Protocols = protos;
    jr.Protocols_count = 1;
    GT_ENCODE(JoinGroupRequest, jr, ver, req);
    GT_ASSERT(gt_call(fd, SA_API_JoinGroup, ver, req, 0, resp) == 0, "JoinGroup v%d answered", ver);
    sa_JoinGroupResponse_t out;
    GT_DECODE(JoinGroupResponse, out, ver, resp, a);
    return out;
}

static char *dup_str(sa_str_t s) { return strndup(s.ptr ? s.ptr : "", s.len > 0 ? (size_t)s.len : 0); }

int main(void) {
    th_proc_t broker;
    const char *args[] = {
        "-o", "num.partitions=2", "-o", "auto.create.topics.enable=true", "--rebalance-delay-ms", "0", NULL};
    GT_ASSERT(th_broker_start(&broker, NULL, args) == 0, "broker did not start");
    rd_kafka_t *p = gt_producer(broker.addr, NULL);
    gt_produce(p, "wire_topic", 0, "x", 1);
    gt_flush(p);
    rd_kafka_destroy(p);
    int fd = gt_connect(broker.port);
    sa_buf_t req = SA_BUF_INIT(0), resp = SA_BUF_INIT(0);
    sa_arena_t a = SA_ARENA_INIT(0);

    /* FindCoordinator v4: two keys, and the transaction key type */
    sa_str_t keys[] = {SA_STR("g1"), SA_STR("g2")};
    sa_FindCoordinatorRequest_t fc;
    sa_FindCoordinatorRequest_init(&fc);
    fc.CoordinatorKeys = keys;
    fc.CoordinatorKeys_count = 2;
    for (int8_t kt = 0; kt <= 1; kt++) {
        fc.KeyType = kt;
        GT_ENCODE(FindCoordinatorRequest, fc, 4, &req);
        GT_ASSERT(gt_call(fd, SA_API_FindCoordinator, 4, &req, 0, &resp) == 0, "FindCoordinator v4");
        sa_FindCoordinatorResponse_t fr;
        GT_DECODE(FindCoordinatorResponse, fr, 4, &resp, &a);
        GT_ASSERT(fr.Coordinators_count == 2, "%d coordinators", fr.Coordinators_count);
        for (int i = 0; i < 2; i++)
            GT_ASSERT(fr.Coordinators[i].ErrorCode == 0 && fr.Coordinators[i].Port == broker.port &&
                          sa_str_same(fr.Coordinators[i].Key, keys[i]),
                      "coordinator %d", i);
    }
    fc.KeyType = 7;
    GT_ENCODE(FindCoordinatorRequest, fc, 4, &req);
    GT_ASSERT(gt_call(fd, SA_API_FindCoordinator, 4, &req, 0, &resp) == 0, "FindCoordinator bad key type");
    {
        sa_FindCoordinatorResponse_t fr;
        GT_DECODE(FindCoordinatorResponse, fr, 4, &resp, &a);
        GT_ASSERT(fr.Coordinators[0].ErrorCode == SA_ERR_INVALID_REQUEST, "key type 7: %d",
                  fr.Coordinators[0].ErrorCode);
    }

    /* JoinGroup v9: MEMBER_ID_REQUIRED, then the real join; the static member joins at v5 */
    sa_JoinGroupResponse_t jr = join(fd, 9, "", NULL, &a, &req, &resp);
    GT_ASSERT(jr.ErrorCode == SA_ERR_MEMBER_ID_REQUIRED && jr.MemberId.len > 0, "v9 first join: %d",
              jr.ErrorCode);
    char *m1 = dup_str(jr.MemberId);
    jr = join(fd, 9, m1, NULL, &a, &req, &resp);
    GT_ASSERT(jr.ErrorCode == 0 && jr.GenerationId == 1 && sa_str_eq(jr.Leader, m1) && jr.Members_count == 1,
              "v9 join: err %d gen %d members %d", jr.ErrorCode, jr.GenerationId, jr.Members_count);
    GT_ASSERT(sa_str_eq(jr.ProtocolType, "consumer") && sa_str_eq(jr.ProtocolName, "range"), "protocol");
    GT_ASSERT(jr.Members[0].Metadata.len == 22, "metadata echoed to the leader");

    /* SyncGroup v5 as leader */
    sa_SyncGroupRequest_SyncGroupRequestAssignment_t as = {sa_str(m1), {(const uint8_t *)"ASSIGN", 6}};
    sa_SyncGroupRequest_t sr;
    sa_SyncGroupRequest_init(&sr);
    sr.GroupId = SA_STR("wire_group");
    sr.GenerationId = 1;
    sr.MemberId = sa_str(m1);
    sr.ProtocolType = SA_STR("consumer");
    sr.ProtocolName = SA_STR("range");
    sr.Assignments = &as;
    sr.Assignments_count = 1;
    GT_ENCODE(SyncGroupRequest, sr, 5, &req);
    GT_ASSERT(gt_call(fd, SA_API_SyncGroup, 5, &req, 0, &resp) == 0, "SyncGroup v5");
    sa_SyncGroupResponse_t sy;
    GT_DECODE(SyncGroupResponse, sy, 5, &resp, &a);
    GT_ASSERT(sy.ErrorCode == 0 && sy.Assignment.len == 6 && !memcmp(sy.Assignment.ptr, "ASSIGN", 6),
              "sync: %d", sy.ErrorCode);
    sr.ProtocolName = SA_STR("roundrobin");
    GT_ENCODE(SyncGroupRequest, sr, 5, &req);
    GT_ASSERT(gt_call(fd, SA_API_SyncGroup, 5, &req, 0, &resp) == 0, "SyncGroup v5");
    GT_DECODE(SyncGroupResponse, sy, 5, &resp, &a);
    GT_ASSERT(sy.ErrorCode == SA_ERR_INCONSISTENT_GROUP_PROTOCOL, "wrong protocol name: %d", sy.ErrorCode);

    /* Heartbeat v4 */
    sa_HeartbeatRequest_t hb;
    sa_HeartbeatRequest_init(&hb);
    hb.GroupId = SA_STR("wire_group");
    hb.GenerationId = 1;
    hb.MemberId = sa_str(m1);
    GT_ENCODE(HeartbeatRequest, hb, 4, &req);
    GT_ASSERT(gt_call(fd, SA_API_Heartbeat, 4, &req, 0, &resp) == 0, "Heartbeat v4");
    sa_HeartbeatResponse_t hr;
    GT_DECODE(HeartbeatResponse, hr, 4, &resp, &a);
    GT_ASSERT(hr.ErrorCode == 0, "heartbeat: %d", hr.ErrorCode);

    /* OffsetCommit v9 as the member, and a simple commit for another group */
    sa_OffsetCommitRequest_OffsetCommitRequestPartition_t cp;
    sa_OffsetCommitRequest_OffsetCommitRequestPartition_init(&cp);
    cp.PartitionIndex = 0;
    cp.CommittedOffset = 1;
    cp.CommittedLeaderEpoch = 0;
    cp.CommittedMetadata = SA_STR("meta");
    sa_OffsetCommitRequest_OffsetCommitRequestTopic_t ct = {SA_STR("wire_topic"), &cp, 1};
    sa_OffsetCommitRequest_t oc;
    sa_OffsetCommitRequest_init(&oc);
    oc.GroupId = SA_STR("wire_group");
    oc.GenerationIdOrMemberEpoch = 1;
    oc.MemberId = sa_str(m1);
    oc.Topics = &ct;
    oc.Topics_count = 1;
    for (int g = 0; g < 2; g++) {
        GT_ENCODE(OffsetCommitRequest, oc, 9, &req);
        GT_ASSERT(gt_call(fd, SA_API_OffsetCommit, 9, &req, 0, &resp) == 0, "OffsetCommit v9");
        sa_OffsetCommitResponse_t cr;
        GT_DECODE(OffsetCommitResponse, cr, 9, &resp, &a);
        GT_ASSERT(cr.Topics_count == 1 && cr.Topics[0].Partitions[0].ErrorCode == 0, "commit %d: %d", g,
                  cr.Topics[0].Partitions[0].ErrorCode);
        oc.GroupId = SA_STR("wire_simple");
        oc.GenerationIdOrMemberEpoch = -1;
        oc.MemberId = SA_STR("");
        cp.CommittedOffset = 2;
    }

    /* OffsetFetch v8: both groups in one request, all topics for one, one partition for the other */
    int32_t parts[] = {0, 1};
    sa_OffsetFetchRequest_OffsetFetchRequestTopics_t ft = {SA_STR("wire_topic"), parts, 2};
    sa_OffsetFetchRequest_OffsetFetchRequestGroup_t fg[2];
    sa_OffsetFetchRequest_OffsetFetchRequestGroup_init(&fg[0]);
    sa_OffsetFetchRequest_OffsetFetchRequestGroup_init(&fg[1]);
    fg[0].GroupId = SA_STR("wire_group");
    fg[0].Topics = NULL;
    fg[0].Topics_count = -1;
    fg[1].GroupId = SA_STR("wire_simple");
    fg[1].Topics = &ft;
    fg[1].Topics_count = 1;
    sa_OffsetFetchRequest_t of;
    sa_OffsetFetchRequest_init(&of);
    of.Groups = fg;
    of.Groups_count = 2;
    GT_ENCODE(OffsetFetchRequest, of, 8, &req);
    GT_ASSERT(gt_call(fd, SA_API_OffsetFetch, 8, &req, 0, &resp) == 0, "OffsetFetch v8");
    sa_OffsetFetchResponse_t fr;
    GT_DECODE(OffsetFetchResponse, fr, 8, &resp, &a);
    GT_ASSERT(fr.Groups_count == 2, "%d groups", fr.Groups_count);
    GT_ASSERT(fr.Groups[0].Topics_count == 1 && fr.Groups[0].Topics[0].Partitions_count == 1 &&
                  fr.Groups[0].Topics[0].Partitions[0].CommittedOffset == 1 &&
                  sa_str_eq(fr.Groups[0].Topics[0].Partitions[0].Metadata, "meta"),
              "wire_group offsets");
    GT_ASSERT(fr.Groups[1].Topics[0].Partitions_count == 2 &&
                  fr.Groups[1].Topics[0].Partitions[0].CommittedOffset == 2 &&
                  fr.Groups[1].Topics[0].Partitions[1].CommittedOffset == -1,
              "wire_simple offsets (partition 1 uncommitted: -1)");

    /* Metadata is a string of any bytes: "Hello\0world!" (12 bytes) comes back whole, through
     * the versions kafka-python speaks (OffsetCommit v2, OffsetFetch v1) and v8, and after a
     * restart (the metadata log keeps it length-delimited). */
    static const char nul_meta[] = "Hello\0world!";
    sa_OffsetCommitRequest_OffsetCommitRequestPartition_t np;
    sa_OffsetCommitRequest_OffsetCommitRequestPartition_init(&np);
    np.PartitionIndex = 1;
    np.CommittedOffset = 12;
    np.CommittedMetadata = (sa_str_t){nul_meta, 12};
    sa_OffsetCommitRequest_OffsetCommitRequestTopic_t nt = {SA_STR("wire_topic"), &np, 1};
    sa_OffsetCommitRequest_t nc;
    sa_OffsetCommitRequest_init(&nc);
    nc.GroupId = SA_STR("wire_nul");
    nc.GenerationIdOrMemberEpoch = -1;
    nc.MemberId = SA_STR("");
    nc.RetentionTimeMs = -1;
    nc.Topics = &nt;
    nc.Topics_count = 1;
    GT_ENCODE(OffsetCommitRequest, nc, 2, &req);
    GT_ASSERT(gt_call(fd, SA_API_OffsetCommit, 2, &req, 0, &resp) == 0, "OffsetCommit v2");
    {
        sa_OffsetCommitResponse_t cr;
        GT_DECODE(OffsetCommitResponse, cr, 2, &resp, &a);
        GT_ASSERT(cr.Topics[0].Partitions[0].ErrorCode == 0, "commit with a NUL: %d",
                  cr.Topics[0].Partitions[0].ErrorCode);
    }
    for (int round = 0; round < 2; round++) {
        int32_t nparts[] = {1};
        sa_OffsetFetchRequest_OffsetFetchRequestTopic_t nft = {SA_STR("wire_topic"), nparts, 1};
        sa_OffsetFetchRequest_t nf;
        sa_OffsetFetchRequest_init(&nf);
        nf.GroupId = SA_STR("wire_nul");
        nf.Topics = &nft;
        nf.Topics_count = 1;
        GT_ENCODE(OffsetFetchRequest, nf, 1, &req);
        GT_ASSERT(gt_call(fd, SA_API_OffsetFetch, 1, &req, 0, &resp) == 0, "OffsetFetch v1");
        sa_OffsetFetchResponse_t nr;
        GT_DECODE(OffsetFetchResponse, nr, 1, &resp, &a);
        sa_str_t got = nr.Topics[0].Partitions[0].Metadata;
        GT_ASSERT(nr.Topics[0].Partitions[0].CommittedOffset == 12 && got.len == 12 &&
                      !memcmp(got.ptr, nul_meta, 12),
                  "metadata came back as %d bytes", got.len);
        sa_OffsetFetchRequest_OffsetFetchRequestTopics_t nft8 = {SA_STR("wire_topic"), nparts, 1};
        sa_OffsetFetchRequest_OffsetFetchRequestGroup_t ng;
        sa_OffsetFetchRequest_OffsetFetchRequestGroup_init(&ng);
        ng.GroupId = SA_STR("wire_nul");
        ng.Topics = &nft8;
        ng.Topics_count = 1;
        sa_OffsetFetchRequest_init(&nf);
        nf.Groups = &ng;
        nf.Groups_count = 1;
        GT_ENCODE(OffsetFetchRequest, nf, 8, &req);
        GT_ASSERT(gt_call(fd, SA_API_OffsetFetch, 8, &req, 0, &resp) == 0, "OffsetFetch v8");
        GT_DECODE(OffsetFetchResponse, nr, 8, &resp, &a);
        got = nr.Groups[0].Topics[0].Partitions[0].Metadata;
        GT_ASSERT(got.len == 12 && !memcmp(got.ptr, nul_meta, 12), "v8: metadata came back as %d bytes",
                  got.len);
        if (round) break;
        close(fd);
        GT_ASSERT(th_proc_stop(&broker, SIGTERM) == 0, "broker did not exit cleanly");
        GT_ASSERT(th_broker_restart(&broker, args) == 0, "broker did not restart");
        fd = gt_connect(broker.port);
    }

    /* ListGroups v3 with the stray trailing byte librdkafka 2.0.2 sends */
    sa_ListGroupsRequest_t lg;
    sa_ListGroupsRequest_init(&lg);
    GT_ENCODE(ListGroupsRequest, lg, 3, &req);
    GT_ASSERT(gt_call(fd, SA_API_ListGroups, 3, &req, 1, &resp) == 0, "ListGroups v3 + 1 byte");
    sa_ListGroupsResponse_t lr;
    GT_DECODE(ListGroupsResponse, lr, 3, &resp, &a);
    GT_ASSERT(lr.ErrorCode == 0 && lr.Groups_count == 3, "%d groups listed", lr.Groups_count);

    /* OffsetDelete: refused while wire_group's member subscribes to the topic, fine for wire_simple */
    sa_OffsetDeleteRequest_OffsetDeleteRequestPartition_t dp = {0};
    sa_OffsetDeleteRequest_OffsetDeleteRequestTopic_t dt = {SA_STR("wire_topic"), &dp, 1};
    sa_OffsetDeleteRequest_t od;
    sa_OffsetDeleteRequest_init(&od);
    od.Topics = &dt;
    od.Topics_count = 1;
    const char *dgroups[] = {"wire_group", "wire_simple"};
    const int16_t dwant[] = {SA_ERR_GROUP_SUBSCRIBED_TO_TOPIC, 0};
    for (int g = 0; g < 2; g++) {
        od.GroupId = sa_str(dgroups[g]);
        GT_ENCODE(OffsetDeleteRequest, od, 0, &req);
        GT_ASSERT(gt_call(fd, SA_API_OffsetDelete, 0, &req, 0, &resp) == 0, "OffsetDelete");
        sa_OffsetDeleteResponse_t dr;
        GT_DECODE(OffsetDeleteResponse, dr, 0, &resp, &a);
        GT_ASSERT(dr.ErrorCode == 0 && dr.Topics[0].Partitions[0].ErrorCode == dwant[g],
                  "OffsetDelete %s: %d", dgroups[g], dr.Topics[0].Partitions[0].ErrorCode);
    }

    /* LeaveGroup v5: a batch with the member and a stranger */
    sa_LeaveGroupRequest_MemberIdentity_t who[2];
    sa_LeaveGroupRequest_MemberIdentity_init(&who[0]);
    sa_LeaveGroupRequest_MemberIdentity_init(&who[1]);
    who[0].MemberId = sa_str(m1);
    who[1].MemberId = SA_STR("stranger");
    sa_LeaveGroupRequest_t lv;
    sa_LeaveGroupRequest_init(&lv);
    lv.GroupId = SA_STR("wire_group");
    lv.Members = who;
    lv.Members_count = 2;
    GT_ENCODE(LeaveGroupRequest, lv, 5, &req);
    GT_ASSERT(gt_call(fd, SA_API_LeaveGroup, 5, &req, 0, &resp) == 0, "LeaveGroup v5");
    sa_LeaveGroupResponse_t lvr;
    GT_DECODE(LeaveGroupResponse, lvr, 5, &resp, &a);
    GT_ASSERT(lvr.Members_count == 2 && lvr.Members[0].ErrorCode == 0 &&
                  lvr.Members[1].ErrorCode == SA_ERR_UNKNOWN_MEMBER_ID,
              "leave results %d/%d", lvr.Members[0].ErrorCode, lvr.Members[1].ErrorCode);

    /* JoinGroup v0 still works (no member id round trip before v4) */
    jr = join(fd, 0, "", NULL, &a, &req, &resp);
    GT_ASSERT(jr.ErrorCode == 0 && jr.GenerationId >= 2, "v0 join: %d", jr.ErrorCode);

    /* DeleteGroups v2: wire_group has a member again, wire_simple is gone after its delete */
    sa_str_t del[] = {SA_STR("wire_group"), SA_STR("wire_simple"), SA_STR("never_seen")};
    sa_DeleteGroupsRequest_t dg;
    sa_DeleteGroupsRequest_init(&dg);
    dg.GroupsNames = del;
    dg.GroupsNames_count = 3;
    GT_ENCODE(DeleteGroupsRequest, dg, 2, &req);
    GT_ASSERT(gt_call(fd, SA_API_DeleteGroups, 2, &req, 0, &resp) == 0, "DeleteGroups v2");
    sa_DeleteGroupsResponse_t dgr;
    GT_DECODE(DeleteGroupsResponse, dgr, 2, &resp, &a);
    GT_ASSERT(dgr.Results_count == 3 && dgr.Results[0].ErrorCode == SA_ERR_NON_EMPTY_GROUP &&
                  dgr.Results[1].ErrorCode == 0 && dgr.Results[2].ErrorCode == SA_ERR_GROUP_ID_NOT_FOUND,
              "delete results %d/%d/%d", dgr.Results[0].ErrorCode, dgr.Results[1].ErrorCode,
              dgr.Results[2].ErrorCode);

    /* a truncated JoinGroup: the connection is closed, the broker keeps serving */
    sa_JoinGroupRequest_t bad;
    sa_JoinGroupRequest_init(&bad);
    bad.GroupId = SA_STR("wire_group");
    GT_ENCODE(JoinGroupRequest, bad, 5, &req);
    req.len -= 3;
    GT_ASSERT(gt_call(fd, SA_API_JoinGroup, 5, &req, 0, &resp) < 0, "a truncated JoinGroup was answered");
    close(fd);
    fd = gt_connect(broker.port);
    GT_ENCODE(HeartbeatRequest, hb, 0, &req);
    GT_ASSERT(gt_call(fd, SA_API_Heartbeat, 0, &req, 0, &resp) == 0, "broker still serving");
    close(fd);

    free(m1);
    sa_buf_free(&req);
    sa_buf_free(&resp);
    sa_arena_free(&a);
    GT_ASSERT(th_proc_stop(&broker, SIGTERM) == 0, "broker did not exit cleanly");
    th_proc_cleanup(&broker);
    printf("ok\n");
    return 0;
}
