/*
 * handle_metadata.c - Metadata (key 3, v0-12): one broker, its topics, auto-creation.
 *
 * This node is every partition's leader and only replica, and the controller. It advertises
 * the advertised address of the listener the request came in on (advertised.listeners by
 * name), which is what clients connect to after bootstrap.
 *
 * Which topics: a null list (v1+) or an empty list in v0 means all topics; otherwise the ones
 * named (or, v10+, given by topic id). A missing named topic is created with num.partitions
 * when auto.create.topics.enable is on and the request allows it (AllowAutoTopicCreation, v4+;
 * always allowed before v4), as Kafka does; it is returned at once with NONE, since creation on
 * one node is immediate.
 *
 * Authorization (Kafka's KafkaApis): a topic the principal may not DESCRIBE is left out of an
 * all-topics answer, and a named one is answered TOPIC_AUTHORIZATION_FAILED, whether it exists or
 * not (its existence is not disclosed, nothing is created). Auto-creation needs CREATE on the
 * cluster (dispatch.c's column) or on the topic; without it: TOPIC_AUTHORIZATION_FAILED.
 *
 * Authorized operations (v8+): when asked for, every topic answered (except the unauthorized
 * ones) carries the bitfield of authz.h, and the cluster (v8-10) its own, or 0 without DESCRIBE
 * on the cluster; otherwise Kafka's "not provided" (INT32_MIN, the codec's default).
 */
#include <stdio.h>
#include <string.h>

#include "broker/authz.h"
#include "broker/handlers.h"
#include "broker/kit.h"
#include "broker/security/listener.h"
#include "core/log.h"
#include "proto/proto.h"
#include "storage/storage.h"

typedef sa_MetadataResponse_MetadataResponseTopic_t mtopic_t;
typedef sa_MetadataResponse_MetadataResponsePartition_t mpart_t;

/* Fill @p out for @p topic; @returns SA_OK or SA_ERR_TOOBIG (arena). */
static sa_err_t describe_topic(sa_req_t *req, sa_topic_t *topic, mtopic_t *out) {
    out->ErrorCode = SA_OK;
    out->Name = sa_str(sa_topic_name(topic));
    memcpy(out->TopicId.b, sa_topic_id(topic), 16);
    int32_t *node = sa_arena_alloc(&req->arena, sizeof(int32_t));
    if (!SA_KIT_ARRAY(req, out->Partitions, sa_topic_partition_count(topic)) || !node) return SA_ERR_TOOBIG;
    *node = req->broker->node_id;
    for (int32_t i = 0; i < out->Partitions_count; i++) {
        mpart_t *p = &out->Partitions[i];
        sa_MetadataResponse_MetadataResponsePartition_init(p);
        p->PartitionIndex = i;
        p->LeaderId = req->broker->node_id;
        p->LeaderEpoch = 0;
        p->ReplicaNodes = p->IsrNodes = node;
        p->ReplicaNodes_count = p->IsrNodes_count = 1;
        p->OfflineReplicas_count = 0;
    }
    return SA_OK;
}

/* Look up (and maybe create) one requested topic. */
static sa_err_t one_topic(sa_req_t *req, const sa_MetadataRequest_t *mreq,
                          const sa_MetadataRequest_MetadataRequestTopic_t *want, mtopic_t *out) {
    sa_broker_t *broker = req->broker;
    sa_MetadataResponse_MetadataResponseTopic_init(out);
    if (sa_str_is_null(want->Name)) {
        sa_topic_t *topic = sa_kit_topic_by_id(req, &want->TopicId);
        out->TopicId = want->TopicId;
        if (!topic) {
            out->ErrorCode = SA_ERR_UNKNOWN_TOPIC_ID;
            return SA_OK;
        }
        if ((out->ErrorCode = sa_kit_code(
                 sa_kit_authorize(req, SA_ACL_DESCRIBE, SA_RESOURCE_TOPIC, sa_topic_name(topic)))))
            return SA_OK;
        return describe_topic(req, topic, out);
    }
    const char *name;
    sa_err_t err = sa_kit_topic(req, want->Name, &name);
    out->Name = want->Name;
    if (err == SA_OK) err = sa_kit_authorize(req, SA_ACL_DESCRIBE, SA_RESOURCE_TOPIC, name);
    if (err != SA_OK) { /* a name holding a NUL byte: no topic has it, none can be created */
        out->ErrorCode = sa_kit_code(err);
        return err == SA_ERR_TOOBIG ? err : SA_OK;
    }
    sa_topic_t *topic = sa_store_topic_find(broker->store, name);
    int allowed = broker->conf->auto_create && (req->ApiVersion < 4 || mreq->AllowAutoTopicCreation);
    if (!topic && allowed && sa_kit_authorize_cluster(req) != SA_OK &&
        sa_kit_authorize(req, SA_ACL_CREATE, SA_RESOURCE_TOPIC, name) != SA_OK) {
        out->ErrorCode = SA_ERR_TOPIC_AUTHORIZATION_FAILED;
        return SA_OK;
    }
    if (!topic && allowed) {
        char errstr[256] = "";
        err = sa_store_topic_create(broker->store, name, -1, NULL, 0, 0, errstr, sizeof(errstr));
        if (err == SA_OK) {
            sa_log_info("broker", "auto-created topic \"%s\" (%d partitions) for %s", name,
                        (int)broker->conf->num_partitions, sa_req_peer(req));
        } else if (err != SA_ERR_TOPIC_ALREADY_EXISTS) {
            sa_log_debug(SA_DBG_PROTO, "proto", "auto-create \"%s\": %s", name, errstr);
            out->ErrorCode = sa_kit_code(err);
            return SA_OK;
        }
        topic = sa_store_topic_find(broker->store, name);
    }
    if (!topic) {
        out->ErrorCode = SA_ERR_UNKNOWN_TOPIC_OR_PARTITION;
        return SA_OK;
    }
    return describe_topic(req, topic, out);
}

sa_err_t sa_handle_Metadata(sa_req_t *req) {
    sa_broker_t *broker = req->broker;
    sa_MetadataRequest_t mreq;
    sa_err_t err = sa_kit_decode(req, &mreq);
    if (err != SA_OK) return err;

    sa_MetadataResponse_t resp;
    sa_MetadataResponse_init(&resp);
    sa_MetadataResponse_MetadataResponseBroker_t self;
    sa_MetadataResponse_MetadataResponseBroker_init(&self);
    self.NodeId = broker->node_id;
    self.Host = sa_str(req->listener->adv_host);
    self.Port = req->listener->adv_port;
    resp.Brokers = &self;
    resp.Brokers_count = 1;
    resp.ClusterId = sa_str(broker->cluster_id);
    resp.ControllerId = broker->node_id;

    int all = mreq.Topics_count < 0 || (req->ApiVersion == 0 && mreq.Topics_count == 0);
    size_t n = all ? sa_store_topic_count(broker->store) : (size_t)mreq.Topics_count;
    if (!SA_KIT_ARRAY(req, resp.Topics, (int32_t)n)) return SA_ERR_TOOBIG;
    int32_t answered = 0;
    for (size_t i = 0; i < n; i++) {
        mtopic_t *t = &resp.Topics[answered];
        if (all) {
            sa_topic_t *topic = sa_store_topic_at(broker->store, i);
            /* all topics: those it may not DESCRIBE are not there at all */
            if (sa_kit_authorize(req, SA_ACL_DESCRIBE, SA_RESOURCE_TOPIC, sa_topic_name(topic)) != SA_OK)
                continue;
            sa_MetadataResponse_MetadataResponseTopic_init(t);
            err = describe_topic(req, topic, t);
        } else {
            err = one_topic(req, &mreq, &mreq.Topics[i], t);
        }
        if (err != SA_OK) return err;
        answered++;
        /* Kafka sets it on every topic answered, errors included, but the unauthorized ones */
        if (mreq.IncludeTopicAuthorizedOperations && t->ErrorCode != SA_ERR_TOPIC_AUTHORIZATION_FAILED)
            t->TopicAuthorizedOperations =
                sa_authz_operations(req, SA_RESOURCE_TOPIC, sa_kit_str(req, t->Name));
    }
    resp.Topics_count = answered;
    if (mreq.IncludeClusterAuthorizedOperations)
        resp.ClusterAuthorizedOperations =
            sa_kit_authorize(req, SA_ACL_DESCRIBE, SA_RESOURCE_CLUSTER, "") == SA_OK
                ? sa_authz_operations(req, SA_RESOURCE_CLUSTER, "")
                : 0;
    return sa_kit_encode(req, &resp);
}
