/*
 * handle_group_member.c - Heartbeat (key 12, v0-4) and LeaveGroup (key 13, v0-5; v3+ carries a
 * batch of members, each answered on its own). Both are answered at once.
 */
#include "broker/handle_group.h"
#include "broker/handlers.h"
#include "broker/kit.h"
#include "core/time.h"

sa_err_t sa_handle_Heartbeat(sa_req_t *req) {
    sa_HeartbeatRequest_t in;
    sa_HeartbeatResponse_t out;
    sa_err_t err = sa_kit_decode(req, &in);
    if (err != SA_OK) return err;
    sa_HeartbeatResponse_init(&out);
    const char *group = sa_kit_str(req, in.GroupId);
    err = sa_kit_authorize(req, SA_ACL_READ, SA_RESOURCE_GROUP, group);
    out.ErrorCode = (int16_t)(err ? err
                                  : sa_gcoord_heartbeat(req->broker->coord, group, in.GenerationId,
                                                        sa_kit_str(req, in.MemberId),
                                                        sa_kit_nstr(req, in.GroupInstanceId), sa_mono_ms()));
    sa_group_rearm(req->broker);
    return sa_kit_encode(req, &out);
}

sa_err_t sa_handle_LeaveGroup(sa_req_t *req) {
    sa_LeaveGroupRequest_t in;
    sa_LeaveGroupResponse_t out;
    sa_err_t err = sa_kit_decode(req, &in);
    if (err != SA_OK) return err;
    sa_LeaveGroupResponse_init(&out);
    sa_gcoord_t *coord = req->broker->coord;
    const char *group = sa_kit_str(req, in.GroupId);
    int64_t now = sa_mono_ms();
    if ((err = sa_kit_authorize(req, SA_ACL_READ, SA_RESOURCE_GROUP, group))) {
        out.ErrorCode = (int16_t)err; /* no member leaves; v3+: no member list either, as Kafka */
    } else if (req->ApiVersion < 3) {
        out.ErrorCode = (int16_t)sa_gcoord_leave(coord, group, sa_kit_str(req, in.MemberId), NULL, now);
    } else {
        if (!SA_KIT_ARRAY(req, out.Members, in.Members_count)) return SA_ERR_TOOBIG;
        for (int32_t i = 0; i < out.Members_count; i++) {
            const sa_LeaveGroupRequest_MemberIdentity_t *mi = &in.Members[i];
            sa_LeaveGroupResponse_MemberResponse_t *mr = &out.Members[i];
            sa_LeaveGroupResponse_MemberResponse_init(mr);
            mr->MemberId = mi->MemberId;
            mr->GroupInstanceId = mi->GroupInstanceId;
            mr->ErrorCode = (int16_t)sa_gcoord_leave(coord, group, sa_kit_str(req, mi->MemberId),
                                                     sa_kit_nstr(req, mi->GroupInstanceId), now);
        }
    }
    sa_group_rearm(req->broker);
    return sa_kit_encode(req, &out);
}
