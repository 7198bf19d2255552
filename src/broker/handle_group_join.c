/*
 * handle_group_join.c - JoinGroup (key 11, v0-9) and SyncGroup (key 14, v0-5): the two group
 * calls whose answers usually come later. Each request parks itself (sa_req_defer) unless the
 * coordinator answered during the call; the coordinator's callback encodes the response and
 * completes the request. A closed connection withdraws its parked callback (on_cancel).
 */
#include <stdlib.h>
#include <string.h>

#include "broker/handle_group.h"
#include "broker/handlers.h"
#include "broker/kit.h"
#include "core/mem.h"
#include "core/time.h"

/* One parked JoinGroup or SyncGroup; lives in the request's arena. */
typedef struct parked_s {
    sa_req_t *req;
    int in_call;      /* the coordinator call is still on the stack: the handler returns the answer */
    int done;         /* an answer was encoded */
    sa_err_t enc_err; /* ... with this result */
} parked_t;

static void finish(parked_t *st, sa_err_t enc_err) {
    st->done = 1;
    st->enc_err = enc_err;
    if (!st->in_call) sa_kit_finish(st->req, enc_err);
}

static void on_cancel(sa_req_t *req, void *arg) {
    parked_t *st = arg;
    sa_gcoord_cancel(req->broker->coord, st);
    sa_group_rearm(req->broker);
}

/* Run the coordinator call in @p call, then answer now or park. */
static sa_err_t answer_or_park(parked_t *st) {
    st->in_call = 0;
    sa_group_rearm(st->req->broker);
    if (st->done) return st->enc_err;
    sa_req_defer(st->req, -1, NULL, on_cancel, st);
    return SA_ERR_AGAIN;
}

/* ---- JoinGroup ---------------------------------------------------------------------------- */

static void on_join(void *opaque, const sa_group_join_result_t *res) {
    parked_t *st = opaque;
    sa_req_t *req = st->req;
    sa_JoinGroupResponse_t out;
    sa_JoinGroupResponse_init(&out);
    out.ErrorCode = (int16_t)res->ErrorCode;
    out.GenerationId = res->GenerationId;
    out.ProtocolType = res->ProtocolType ? sa_str(res->ProtocolType) : SA_STR_NULL;
    out.ProtocolName =
        res->ProtocolName ? sa_str(res->ProtocolName) : (req->ApiVersion >= 7 ? SA_STR_NULL : SA_STR(""));
    out.Leader = sa_str(res->Leader ? res->Leader : "");
    out.SkipAssignment = res->SkipAssignment != 0;
    out.MemberId = sa_str(res->MemberId ? res->MemberId : "");
    sa_JoinGroupResponse_JoinGroupResponseMember_t *members = NULL;
    if (res->MemberCount) {
        members = sa_calloc(res->MemberCount, sizeof(*members));
        for (size_t i = 0; i < res->MemberCount; i++) {
            const sa_group_join_member_t *m = &res->Members[i];
            sa_JoinGroupResponse_JoinGroupResponseMember_init(&members[i]);
            members[i].MemberId = sa_str(m->MemberId);
            members[i].GroupInstanceId = m->GroupInstanceId ? sa_str(m->GroupInstanceId) : SA_STR_NULL;
            members[i].Metadata =
                (sa_bytes_t){m->Metadata ? m->Metadata : (const uint8_t *)"", (int32_t)m->MetadataLen};
        }
    }
    out.Members = members;
    out.Members_count = (int32_t)res->MemberCount;
    sa_err_t err = sa_kit_encode(req, &out);
    free(members);
    finish(st, err);
}

sa_err_t sa_handle_JoinGroup(sa_req_t *req) {
    sa_JoinGroupRequest_t in;
    sa_err_t err = sa_kit_decode(req, &in);
    if (err != SA_OK) return err;
    parked_t *st = sa_arena_calloc(&req->arena, 1, sizeof(*st));
    if (!st) return SA_ERR_TOOBIG;
    st->req = req;
    int32_t n;
    sa_group_protocol_t *protos = sa_kit_array(req, in.Protocols_count, sizeof(*protos), &n);
    if (!protos) return SA_ERR_TOOBIG;
    for (int32_t i = 0; i < n; i++) {
        protos[i].Name = sa_kit_str(req, in.Protocols[i].Name);
        protos[i].Metadata = in.Protocols[i].Metadata.ptr;
        protos[i].MetadataLen = in.Protocols[i].Metadata.len > 0 ? (size_t)in.Protocols[i].Metadata.len : 0;
    }
    sa_group_join_req_t jr = {
        .GroupId = sa_kit_str(req, in.GroupId),
        .SessionTimeoutMs = in.SessionTimeoutMs,
        .RebalanceTimeoutMs = req->ApiVersion >= 1 ? in.RebalanceTimeoutMs : in.SessionTimeoutMs,
        .MemberId = sa_kit_str(req, in.MemberId),
        .GroupInstanceId = sa_kit_nstr(req, in.GroupInstanceId),
        .ProtocolType = sa_kit_str(req, in.ProtocolType),
        .Protocols = protos,
        .ProtocolCount = (size_t)n,
        .ClientId = req->ClientId,
        .ClientHost = sa_kit_client_host(req),
        .require_known_member_id = req->ApiVersion >= 4,
        .skip_assignment_ok = req->ApiVersion >= 9,
    };
    if (jr.GroupInstanceId && !*jr.GroupInstanceId) jr.GroupInstanceId = NULL;
    st->in_call = 1;
    sa_err_t denied = sa_kit_authorize(req, SA_ACL_READ, SA_RESOURCE_GROUP, jr.GroupId);
    if (denied) /* the group is not touched */
        on_join(st, &(sa_group_join_result_t){
                        .ErrorCode = denied, .GenerationId = -1, .Leader = "", .MemberId = ""});
    else
        sa_gcoord_join(req->broker->coord, &jr, sa_mono_ms(), on_join, st);
    return answer_or_park(st);
}

/* ---- SyncGroup ---------------------------------------------------------------------------- */

static void on_sync(void *opaque, const sa_group_sync_result_t *res) {
    parked_t *st = opaque;
    sa_req_t *req = st->req;
    sa_SyncGroupResponse_t out;
    sa_SyncGroupResponse_init(&out);
    out.ErrorCode = (int16_t)res->ErrorCode;
    out.ProtocolType = res->ProtocolType ? sa_str(res->ProtocolType) : SA_STR_NULL;
    out.ProtocolName = res->ProtocolName ? sa_str(res->ProtocolName) : SA_STR_NULL;
    out.Assignment =
        (sa_bytes_t){res->Assignment ? res->Assignment : (const uint8_t *)"", (int32_t)res->AssignmentLen};
    finish(st, sa_kit_encode(req, &out));
}

sa_err_t sa_handle_SyncGroup(sa_req_t *req) {
    sa_SyncGroupRequest_t in;
    sa_err_t err = sa_kit_decode(req, &in);
    if (err != SA_OK) return err;
    parked_t *st = sa_arena_calloc(&req->arena, 1, sizeof(*st));
    if (!st) return SA_ERR_TOOBIG;
    st->req = req;
    st->in_call = 1;
    int32_t n;
    sa_group_assignment_t *as = sa_kit_array(req, in.Assignments_count, sizeof(*as), &n);
    if (!as) return SA_ERR_TOOBIG;
    for (int32_t i = 0; i < n; i++) {
        as[i].MemberId = sa_kit_str(req, in.Assignments[i].MemberId);
        as[i].Assignment = in.Assignments[i].Assignment.ptr;
        as[i].AssignmentLen =
            in.Assignments[i].Assignment.len > 0 ? (size_t)in.Assignments[i].Assignment.len : 0;
    }
    sa_group_sync_req_t sr = {
        .GroupId = sa_kit_str(req, in.GroupId),
        .GenerationId = in.GenerationId,
        .MemberId = sa_kit_str(req, in.MemberId),
        .GroupInstanceId = sa_kit_nstr(req, in.GroupInstanceId),
        .ProtocolType = sa_kit_nstr(req, in.ProtocolType),
        .ProtocolName = sa_kit_nstr(req, in.ProtocolName),
        .Assignments = as,
        .AssignmentCount = (size_t)n,
    };
    sa_err_t denied = sa_kit_authorize(req, SA_ACL_READ, SA_RESOURCE_GROUP, sr.GroupId);
    if (denied)
        on_sync(st, &(sa_group_sync_result_t){.ErrorCode = denied});
    else
        sa_gcoord_sync(req->broker->coord, &sr, sa_mono_ms(), on_sync, st);
    return answer_or_park(st);
}
