/*
 * handle_group_admin.c - ListGroups (key 16, v0-5), DescribeGroups (key 15, v0-5) and
 * DeleteGroups (key 42, v0-2): what kafka-consumer-groups and the admin clients use.
 *
 * ListGroups v5 reports each group's type ("classic": samsa has no KIP-848 groups) and filters by
 * TypesFilter. DescribeGroups v3+ answers IncludeAuthorizedOperations with authz.h's bitfield for
 * every group described without error, as Kafka does.
 *
 * Authorization (Kafka's KafkaApis): ListGroups lists every group with DESCRIBE on the cluster
 * (dispatch.c's column), else only the groups the principal may DESCRIBE; DescribeGroups answers
 * a group it may not DESCRIBE with GROUP_AUTHORIZATION_FAILED and nothing else; DeleteGroups
 * needs DELETE on each group.
 *
 * librdkafka 2.0.2 sends ListGroups v3+ with one stray trailing byte; trailing bytes after a
 * complete ListGroups request are therefore ignored (the generated decoder leaves them unread).
 */
#include <stdlib.h>
#include <strings.h>

#include "broker/authz.h"
#include "broker/handle_group.h"
#include "broker/handlers.h"
#include "broker/kit.h"
#include "core/mem.h"
#include "core/time.h"

/* v5 TypesFilter (KIP-848): empty means every type; names compare case-insensitively, as Kafka
 * parses them ("Classic" matches, "consumer" and unknown names match no classic group). */
static int wants_classic(sa_req_t *req, const sa_ListGroupsRequest_t *in) {
    if (in->TypesFilter_count <= 0) return 1;
    for (int32_t i = 0; i < in->TypesFilter_count; i++)
        if (!strcasecmp(sa_kit_str(req, in->TypesFilter[i]), "classic")) return 1;
    return 0;
}

sa_err_t sa_handle_ListGroups(sa_req_t *req) {
    sa_ListGroupsRequest_t in;
    sa_ListGroupsResponse_t out;
    sa_err_t err = sa_kit_decode(req, &in);
    if (err != SA_OK) return err;
    sa_ListGroupsResponse_init(&out);
    if (!wants_classic(req, &in)) /* every samsa group is a classic group */
        return sa_kit_encode(req, &out);
    int32_t nf;
    const char **states = sa_kit_array(req, in.StatesFilter_count, sizeof(*states), &nf);
    if (!states) return SA_ERR_TOOBIG;
    for (int32_t i = 0; i < nf; i++) states[i] = sa_kit_str(req, in.StatesFilter[i]);
    size_t n;
    sa_group_listing_t *list = sa_gcoord_list(req->broker->coord, states, (size_t)nf, sa_mono_ms(), &n);
    sa_group_rearm(req->broker);
    sa_ListGroupsResponse_ListedGroup_t *groups = sa_calloc(n ? n : 1, sizeof(*groups));
    int all = sa_kit_authorize_cluster(req) == SA_OK;
    int32_t listed = 0;
    for (size_t i = 0; i < n; i++) {
        if (!all && sa_kit_authorize(req, SA_ACL_DESCRIBE, SA_RESOURCE_GROUP, list[i].GroupId) != SA_OK)
            continue;
        sa_ListGroupsResponse_ListedGroup_t *lg = &groups[listed++];
        sa_ListGroupsResponse_ListedGroup_init(lg);
        lg->GroupId = sa_str(list[i].GroupId);
        lg->ProtocolType = sa_str(list[i].ProtocolType);
        lg->GroupState = sa_str(list[i].GroupState);
        lg->GroupType = SA_STR("classic");
    }
    out.Groups = groups;
    out.Groups_count = listed;
    err = sa_kit_encode(req, &out);
    free(groups);
    free(list);
    return err;
}

sa_err_t sa_handle_DescribeGroups(sa_req_t *req) {
    sa_DescribeGroupsRequest_t in;
    sa_DescribeGroupsResponse_t out;
    sa_err_t err = sa_kit_decode(req, &in);
    if (err != SA_OK) return err;
    sa_DescribeGroupsResponse_init(&out);
    int64_t now = sa_mono_ms();
    int32_t ng = in.Groups_count > 0 ? in.Groups_count : 0;
    sa_DescribeGroupsResponse_DescribedGroup_t *groups = sa_calloc((size_t)(ng ? ng : 1), sizeof(*groups));
    sa_group_desc_t *descs = sa_calloc((size_t)(ng ? ng : 1), sizeof(*descs));
    for (int32_t g = 0; g < ng; g++) {
        sa_DescribeGroupsResponse_DescribedGroup_t *dg = &groups[g];
        sa_DescribeGroupsResponse_DescribedGroup_init(dg);
        dg->GroupId = in.Groups[g];
        sa_group_desc_t *d = &descs[g];
        sa_err_t denied =
            sa_kit_authorize(req, SA_ACL_DESCRIBE, SA_RESOURCE_GROUP, sa_kit_str(req, in.Groups[g]));
        if (denied) { /* the id and the error, nothing about the group */
            dg->ErrorCode = sa_kit_code(denied);
            dg->GroupState = dg->ProtocolType = dg->ProtocolData = SA_STR("");
            continue;
        }
        sa_gcoord_describe(req->broker->coord, sa_kit_str(req, in.Groups[g]), now, d);
        dg->ErrorCode = (int16_t)d->ErrorCode;
        dg->GroupState = sa_str(d->GroupState);
        dg->ProtocolType = sa_str(d->ProtocolType);
        dg->ProtocolData = sa_str(d->ProtocolData);
        if (in.IncludeAuthorizedOperations && dg->ErrorCode == SA_OK)
            dg->AuthorizedOperations =
                sa_authz_operations(req, SA_RESOURCE_GROUP, sa_kit_str(req, in.Groups[g]));
        dg->Members = sa_calloc(d->MemberCount ? d->MemberCount : 1, sizeof(*dg->Members));
        dg->Members_count = (int32_t)d->MemberCount;
        for (size_t i = 0; i < d->MemberCount; i++) {
            const sa_group_desc_member_t *m = &d->Members[i];
            sa_DescribeGroupsResponse_DescribedGroupMember_t *dm = &dg->Members[i];
            sa_DescribeGroupsResponse_DescribedGroupMember_init(dm);
            dm->MemberId = sa_str(m->MemberId);
            dm->GroupInstanceId = m->GroupInstanceId ? sa_str(m->GroupInstanceId) : SA_STR_NULL;
            dm->ClientId = sa_str(m->ClientId);
            dm->ClientHost = sa_str(m->ClientHost);
            dm->MemberMetadata = (sa_bytes_t){m->MemberMetadata ? m->MemberMetadata : (const uint8_t *)"",
                                              (int32_t)m->MemberMetadataLen};
            dm->MemberAssignment =
                (sa_bytes_t){m->MemberAssignment ? m->MemberAssignment : (const uint8_t *)"",
                             (int32_t)m->MemberAssignmentLen};
        }
    }
    sa_group_rearm(req->broker);
    out.Groups = groups;
    out.Groups_count = ng;
    err = sa_kit_encode(req, &out);
    for (int32_t g = 0; g < ng; g++) {
        free(groups[g].Members);
        sa_gcoord_desc_free(&descs[g]);
    }
    free(descs);
    free(groups);
    return err;
}

static sa_err_t delete_answer(sa_req_t *req, void *arg, int durable) {
    sa_DeleteGroupsResponse_t *out = arg;
    for (int32_t i = 0; !durable && i < out->Results_count; i++)
        if (!out->Results[i].ErrorCode) out->Results[i].ErrorCode = SA_GROUP_STORAGE_ERROR;
    return sa_kit_encode(req, out);
}

/* A deleted group is answered once its deletion is durable in the metadata log. */
sa_err_t sa_handle_DeleteGroups(sa_req_t *req) {
    sa_DeleteGroupsRequest_t in;
    sa_err_t err = sa_kit_decode(req, &in);
    if (err != SA_OK) return err;
    sa_DeleteGroupsResponse_t *out = sa_arena_calloc(&req->arena, 1, sizeof(*out));
    if (!out) return SA_ERR_TOOBIG;
    sa_DeleteGroupsResponse_init(out);
    sa_broker_t *broker = req->broker;
    if (!SA_KIT_ARRAY(req, out->Results, in.GroupsNames_count)) return SA_ERR_TOOBIG;
    uint64_t seq = 0; /* the last record appended */
    int64_t now = sa_mono_ms();
    for (int32_t i = 0; i < out->Results_count; i++) {
        sa_DeleteGroupsResponse_DeletableGroupResult_init(&out->Results[i]);
        out->Results[i].GroupId = in.GroupsNames[i];
        const char *group = sa_kit_str(req, in.GroupsNames[i]);
        sa_err_t gerr = sa_kit_authorize(req, SA_ACL_DELETE, SA_RESOURCE_GROUP, group);
        if (!gerr) gerr = sa_gcoord_delete_group(broker->coord, group, now);
        if (gerr == SA_ERR_KAFKA_STORAGE_ERROR) gerr = SA_GROUP_STORAGE_ERROR;
        if (!gerr) seq = sa_metalog_last_seq(broker->metastore.log);
        out->Results[i].ErrorCode = (int16_t)gerr;
    }
    sa_group_rearm(broker);
    return sa_kit_answer_when_durable(req, seq, delete_answer, out);
}
