/*
 * handle_create_partitions.c - CreatePartitions (key 37, v0-3): grow a topic to Count partitions.
 *
 * Count must be larger than the current count (INVALID_PARTITIONS otherwise, checked by
 * storage). Assignments, when given, must name one new partition each, with this broker as the
 * only replica (INVALID_REPLICA_ASSIGNMENT otherwise). ValidateOnly runs every check and changes
 * nothing. A topic named twice in one request fails for each copy with INVALID_REQUEST.
 */
#include <stdio.h>

#include "broker/handlers.h"
#include "broker/kit.h"
#include "core/log.h"

typedef sa_CreatePartitionsRequest_CreatePartitionsTopic_t ptopic_t;

static sa_err_t check_assignments(sa_req_t *req, const ptopic_t *pt, int32_t now, char *errstr,
                                  size_t errstr_size) {
    if (pt->Assignments_count < 0) return SA_OK;
    if (pt->Assignments_count != pt->Count - now) {
        snprintf(errstr, errstr_size,
                 "Increasing the number of partitions by %d but %d assignments provided.",
                 (int)(pt->Count - now), (int)pt->Assignments_count);
        return SA_ERR_INVALID_REPLICA_ASSIGNMENT;
    }
    for (int32_t i = 0; i < pt->Assignments_count; i++) {
        const sa_CreatePartitionsRequest_CreatePartitionsAssignment_t *as = &pt->Assignments[i];
        if (as->BrokerIds_count != 1 || as->BrokerIds[0] != req->broker->node_id) {
            snprintf(errstr, errstr_size,
                     "New partition %d: the only broker is %d, which must be the only replica",
                     (int)(now + i), (int)req->broker->node_id);
            return SA_ERR_INVALID_REPLICA_ASSIGNMENT;
        }
    }
    return SA_OK;
}

static sa_err_t one_topic(sa_req_t *req, const sa_CreatePartitionsRequest_t *preq, int32_t i, int repeated,
                          sa_CreatePartitionsResponse_CreatePartitionsTopicResult_t *out) {
    const ptopic_t *pt = &preq->Topics[i];
    sa_store_t *store = req->broker->store;
    char errstr[512] = "";
    const char *name;
    sa_CreatePartitionsResponse_CreatePartitionsTopicResult_init(out);
    out->Name = pt->Name;
    sa_err_t err = sa_kit_topic(req, pt->Name, &name);
    if (err == SA_ERR_TOOBIG) return err;
    if (err == SA_ERR_INVALID_TOPIC_EXCEPTION) err = SA_ERR_UNKNOWN_TOPIC_OR_PARTITION;
    if (err == SA_OK && repeated) {
        snprintf(errstr, sizeof(errstr), "Topic '%s' is listed more than once in the request", name);
        err = SA_ERR_INVALID_REQUEST;
    }
    if (err == SA_OK && (err = sa_kit_authorize(req, SA_ACL_ALTER, SA_RESOURCE_TOPIC, name)) != SA_OK)
        snprintf(errstr, sizeof(errstr), "The topic authorization is failed.");
    sa_topic_t *topic = err == SA_OK ? sa_store_topic_find(store, name) : NULL;
    if (topic && pt->Count > sa_topic_partition_count(topic))
        err = check_assignments(req, pt, sa_topic_partition_count(topic), errstr, sizeof(errstr));
    if (err == SA_OK)
        err =
            sa_store_topic_add_partitions(store, name, pt->Count, preq->ValidateOnly, errstr, sizeof(errstr));
    SA_KIT_SET_ERROR(req, out, err, errstr);
    if (err == SA_OK && !preq->ValidateOnly)
        sa_log_info("admin", "topic \"%s\" grown to %d partitions for %s", name, (int)pt->Count,
                    sa_req_peer(req));
    return SA_OK;
}

sa_err_t sa_handle_CreatePartitions(sa_req_t *req) {
    sa_CreatePartitionsRequest_t preq;
    sa_err_t err = sa_kit_decode(req, &preq);
    if (err != SA_OK) return err;
    sa_CreatePartitionsResponse_t resp;
    sa_CreatePartitionsResponse_init(&resp);
    if (!SA_KIT_ARRAY(req, resp.Results, preq.Topics_count)) return SA_ERR_TOOBIG;
    uint8_t *repeated;
    if ((err = SA_KIT_MARK_REPEATED(req, preq.Topics, resp.Results_count, Name, &repeated, NULL)) != SA_OK)
        return err;
    for (int32_t i = 0; i < resp.Results_count; i++)
        if ((err = one_topic(req, &preq, i, repeated[i], &resp.Results[i])) != SA_OK) return err;
    return sa_kit_encode(req, &resp);
}
