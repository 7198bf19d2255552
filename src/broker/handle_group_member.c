/*
 * handle_group_member.c - Heartbeat (key 12, v0-4) and LeaveGroup (key 13, v0-5; v3+ carries a
 * batch of members, each answered on its own). Both are answered at once.
 */
#include "broker/handle_group.h"
#include "broker/handlers.h"
#include "core/time.h"

sa_err_t sa_handle_Heartbeat(sa_req_t *req) {
    sa_rd_t rd;
    sa_HeartbeatRequest_t in;
    sa_HeartbeatResponse_t out;
    sa_rd_init(&rd, req->body, req->body_len);
    sa_err_t err = sa_HeartbeatRequest_decode(&rd, req->ApiVersion, &req->arena, &in);
    if (err) return err == SA_ERR_TOOBIG ? err : SA_ERR_PARSE;
    sa_HeartbeatResponse_init(&out);
    out.ErrorCode = (int16_t)sa_gcoord_heartbeat(req->broker->coord, sa_hg_str(req, in.GroupId),
                                                 in.GenerationId, sa_hg_str(req, in.MemberId),
                                                 sa_hg_nstr(req, in.GroupInstanceId), sa_mono_ms());
    sa_group_rearm(req->broker);
    return sa_HeartbeatResponse_encode(&out, req->ApiVersion, &req->resp);
}

sa_err_t sa_handle_LeaveGroup(sa_req_t *req) {
    sa_rd_t rd;
    sa_LeaveGroupRequest_t in;
    sa_LeaveGroupResponse_t out;
    sa_rd_init(&rd, req->body, req->body_len);
    sa_err_t err = sa_LeaveGroupRequest_decode(&rd, req->ApiVersion, &req->arena, &in);
    if (err) return err == SA_ERR_TOOBIG ? err : SA_ERR_PARSE;
    sa_LeaveGroupResponse_init(&out);
    sa_gcoord_t *coord = req->broker->coord;
    const char *group = sa_hg_str(req, in.GroupId);
    int64_t now = sa_mono_ms();
    if (req->ApiVersion < 3) {
        out.ErrorCode = (int16_t)sa_gcoord_leave(coord, group, sa_hg_str(req, in.MemberId), NULL, now);
    } else {
        int32_t n = in.Members_count > 0 ? in.Members_count : 0;
        out.Members = sa_arena_calloc(&req->arena, (size_t)(n ? n : 1), sizeof(*out.Members));
        if (!out.Members) return SA_ERR_TOOBIG;
        out.Members_count = n;
        for (int32_t i = 0; i < n; i++) {
            const sa_LeaveGroupRequest_MemberIdentity_t *mi = &in.Members[i];
            sa_LeaveGroupResponse_MemberResponse_t *mr = &out.Members[i];
            sa_LeaveGroupResponse_MemberResponse_init(mr);
            mr->MemberId = mi->MemberId;
            mr->GroupInstanceId = mi->GroupInstanceId;
            mr->ErrorCode = (int16_t)sa_gcoord_leave(coord, group, sa_hg_str(req, mi->MemberId),
                                                     sa_hg_nstr(req, mi->GroupInstanceId), now);
        }
    }
    sa_group_rearm(req->broker);
    return sa_LeaveGroupResponse_encode(&out, req->ApiVersion, &req->resp);
}
