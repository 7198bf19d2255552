/*
 * dispatch.c - the API table and request dispatch.
 *
 * The table is the single list of what the broker serves: ApiVersions advertises exactly its
 * rows, so a new handler shows up to clients by adding its row (see broker.h, "ADDING A
 * HANDLER"). Ranges follow DESIGN.md §5: minimums matter as much as maximums (librdkafka
 * enables features only when old versions are advertised), and every version advertised must
 * really be served (Produce 0-2's old message formats are converted to v2 batches, as Kafka 3.x
 * does; see handle_produce.c).
 *
 * The fourth column is the operation on the cluster an API needs in Kafka (KafkaApis), for
 * sa_kit_authorize_cluster(): what it gates is the API's rule (CreateTopics and Metadata's
 * auto-creation fall back to CREATE on the topic, ListGroups to DESCRIBE on each group,
 * DescribeConfigs and the AlterConfigs APIs check it for broker resources, InitProducerId without
 * a transactional id falls back to WRITE on any topic, AddPartitionsToTxn needs CLUSTER_ACTION for
 * its broker-to-broker v4+ only, WriteTxnMarkers for the whole request, the ACL APIs check it for
 * every entry). No column: no cluster-level check. WriteTxnMarkers is served at v1 only: Kafka 4.0
 * removed v0 (KIP-896), and only Kafka's brokers and admin tools send it.
 *
 * Unknown API keys and unsupported versions: ApiVersions of a version we do not know is answered
 * in v0 with UNSUPPORTED_VERSION and our list (KIP-511), so a newer client can downgrade. For
 * every other API, the response layout of an unknown version is unknowable, so the connection
 * is closed after the responses before it are written, which is what Kafka does.
 */
#include "broker/dispatch.h"

#include <stdio.h>

#include "broker/handlers.h"
#include "broker/security/sasl.h"
#include "core/log.h"
#include "proto/proto.h"

#define API_SLOTS                128
/* Response structures (all topics in a Metadata answer, every partition of a Fetch) are built in
 * the request's arena too; their size follows the broker's state, not the request, so the
 * decode cap derived from the frame size gets this allowance on top. */
#define RESPONSE_ARENA_ALLOWANCE ((size_t)64 << 20)

static const sa_api_t apis[API_SLOTS] = {
    [SA_API_Produce] = {0, 11, sa_handle_Produce},
    [SA_API_Fetch] = {4, 12, sa_handle_Fetch},
    [SA_API_ListOffsets] = {1, 7, sa_handle_ListOffsets},
    [SA_API_Metadata] = {0, 12, sa_handle_Metadata, SA_ACL_CREATE},
    [SA_API_ApiVersions] = {0, 4, sa_handle_ApiVersions},
    [SA_API_FindCoordinator] = {0, 4, sa_handle_FindCoordinator},
    [SA_API_JoinGroup] = {0, 9, sa_handle_JoinGroup},
    [SA_API_SyncGroup] = {0, 5, sa_handle_SyncGroup},
    [SA_API_Heartbeat] = {0, 4, sa_handle_Heartbeat},
    [SA_API_LeaveGroup] = {0, 5, sa_handle_LeaveGroup},
    [SA_API_OffsetCommit] = {2, 9, sa_handle_OffsetCommit},
    [SA_API_OffsetFetch] = {1, 9, sa_handle_OffsetFetch},
    [SA_API_OffsetDelete] = {0, 0, sa_handle_OffsetDelete},
    [SA_API_ListGroups] = {0, 5, sa_handle_ListGroups, SA_ACL_DESCRIBE},
    [SA_API_DescribeGroups] = {0, 5, sa_handle_DescribeGroups},
    [SA_API_DeleteGroups] = {0, 2, sa_handle_DeleteGroups},
    [SA_API_InitProducerId] = {0, 5, sa_handle_InitProducerId, SA_ACL_IDEMPOTENT_WRITE},
    [SA_API_AddPartitionsToTxn] = {0, 5, sa_handle_AddPartitionsToTxn, SA_ACL_CLUSTER_ACTION},
    [SA_API_AddOffsetsToTxn] = {0, 4, sa_handle_AddOffsetsToTxn},
    [SA_API_EndTxn] = {0, 5, sa_handle_EndTxn},
    [SA_API_TxnOffsetCommit] = {0, 4, sa_handle_TxnOffsetCommit},
    [SA_API_WriteTxnMarkers] = {1, 1, sa_handle_WriteTxnMarkers, SA_ACL_CLUSTER_ACTION},
    [SA_API_DescribeTransactions] = {0, 0, sa_handle_DescribeTransactions},
    [SA_API_ListTransactions] = {0, 1, sa_handle_ListTransactions},
    [SA_API_DescribeProducers] = {0, 0, sa_handle_DescribeProducers},
    [SA_API_CreateTopics] = {0, 7, sa_handle_CreateTopics, SA_ACL_CREATE},
    [SA_API_DeleteTopics] = {0, 6, sa_handle_DeleteTopics},
    [SA_API_CreatePartitions] = {0, 3, sa_handle_CreatePartitions},
    [SA_API_DescribeConfigs] = {0, 4, sa_handle_DescribeConfigs, SA_ACL_DESCRIBE_CONFIGS},
    [SA_API_AlterConfigs] = {0, 2, sa_handle_AlterConfigs, SA_ACL_ALTER_CONFIGS},
    [SA_API_IncrementalAlterConfigs] = {0, 1, sa_handle_IncrementalAlterConfigs, SA_ACL_ALTER_CONFIGS},
    [SA_API_DescribeCluster] = {0, 1, sa_handle_DescribeCluster},
    [SA_API_OffsetForLeaderEpoch] = {0, 4, sa_handle_OffsetForLeaderEpoch},
    [SA_API_DeleteRecords] = {0, 2, sa_handle_DeleteRecords},
    [SA_API_SaslHandshake] = {0, 1, sa_handle_SaslHandshake},
    [SA_API_SaslAuthenticate] = {0, 2, sa_handle_SaslAuthenticate},
    [SA_API_DescribeUserScramCredentials] = {0, 0, sa_handle_DescribeUserScramCredentials, SA_ACL_DESCRIBE},
    [SA_API_AlterUserScramCredentials] = {0, 0, sa_handle_AlterUserScramCredentials, SA_ACL_ALTER},
    [SA_API_DescribeAcls] = {0, 3, sa_handle_DescribeAcls, SA_ACL_DESCRIBE},
    [SA_API_CreateAcls] = {0, 3, sa_handle_CreateAcls, SA_ACL_ALTER},
    [SA_API_DeleteAcls] = {0, 3, sa_handle_DeleteAcls, SA_ACL_ALTER},
};

const sa_api_t *sa_dispatch_api(int api_key) {
    if (api_key < 0 || api_key >= API_SLOTS || !apis[api_key].fn) return NULL;
    return &apis[api_key];
}

int sa_dispatch_api_count(void) { return API_SLOTS; }

sa_err_t sa_dispatch(sa_req_t *req, char *errstr, size_t errstr_size) {
    sa_rd_t rd;
    sa_RequestHeader_t hdr;
    sa_arena_set_cap(&req->arena, sa_proto_arena_cap(req->_frame_len) + RESPONSE_ARENA_ALLOWANCE);
    sa_rd_init(&rd, req->_frame, req->_frame_len);
    if (sa_proto_read_request_header(&rd, &req->arena, &hdr) != SA_OK) {
        /* The frame is >= 8 bytes (conn.c), so the key and version can be named. */
        snprintf(errstr, errstr_size, "malformed request header (ApiKey %d v%d, %zu-byte frame)",
                 (int16_t)sa_load_be16(req->_frame), (int16_t)sa_load_be16(req->_frame + 2), req->_frame_len);
        return SA_ERR_PARSE;
    }
    req->ApiKey = hdr.RequestApiKey;
    req->ApiVersion = hdr.RequestApiVersion;
    req->_codec = sa_proto_api(req->ApiKey);
    req->CorrelationId = hdr.CorrelationId;
    req->ClientId = sa_str_dup(hdr.ClientId, &req->arena);
    if (!req->ClientId) req->ClientId = "";
    req->body = rd.p;
    req->body_len = sa_rd_left(&rd);

    /* Before SASL authentication only ApiVersions and SaslHandshake pass (security/sasl.h). */
    sa_err_t gate = sa_auth_gate(req, errstr, errstr_size);
    if (gate != SA_OK) return gate;

    const sa_api_t *api = sa_dispatch_api(req->ApiKey);
    int known_version = api && req->ApiVersion >= api->min && req->ApiVersion <= api->max;
    if (!known_version && req->ApiKey != SA_API_ApiVersions) {
        if (api)
            snprintf(errstr, errstr_size, "%s v%d is not supported (versions %d-%d; client \"%s\")",
                     sa_proto_api_name(req->ApiKey), req->ApiVersion, api->min, api->max, req->ClientId);
        else
            snprintf(errstr, errstr_size, "unknown ApiKey %d v%d (client \"%s\")", req->ApiKey,
                     req->ApiVersion, req->ClientId);
        return SA_ERR_UNSUPPORTED_VERSION;
    }
    /* The size is filled in when the response is complete. */
    int16_t resp_version = known_version ? req->ApiVersion : 0;
    if (sa_buf_put_be32(&req->resp, 0) != SA_OK ||
        sa_proto_write_response_header(&req->resp, req->ApiKey, resp_version, req->CorrelationId) != SA_OK) {
        snprintf(errstr, errstr_size, "cannot build a response header");
        return SA_ERR_NOMEM;
    }
    sa_log_debug(SA_DBG_PROTO, "proto", "%s: %s v%d corr %d (%zu bytes)", sa_req_peer(req),
                 sa_proto_api_name(req->ApiKey), req->ApiVersion, req->CorrelationId, req->_frame_len);
    sa_err_t err = apis[req->ApiKey].fn(req);
    if (err == SA_ERR_PARSE || err == SA_ERR_TOOBIG)
        snprintf(errstr, errstr_size, "malformed %s v%d request body (%zu bytes)",
                 sa_proto_api_name(req->ApiKey), req->ApiVersion, req->body_len);
    else if (err != SA_OK && err != SA_ERR_AGAIN)
        snprintf(errstr, errstr_size, "%s v%d: %s", sa_proto_api_name(req->ApiKey), req->ApiVersion,
                 sa_err2str(err));
    return err;
}
