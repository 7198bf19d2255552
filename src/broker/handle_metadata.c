/*
 * handle_metadata.c - Metadata (key 3, v0-12): one broker, its topics, auto-creation.
 *
 * This node is every partition's leader and only replica, and the controller. It advertises
 * broker->adv_host:adv_port, which is what clients connect to after bootstrap.
 *
 * Which topics: a null list (v1+) or an empty list in v0 means all topics; otherwise the ones
 * named (or, v10+, given by topic id). A missing named topic is created with num.partitions
 * when auto.create.topics.enable is on and the request allows it (AllowAutoTopicCreation, v4+;
 * always allowed before v4), as Kafka does; it is returned at once with NONE, since creation on
 * one node is immediate.
 *
 * Authorized operations (v8+): when asked for, every topic answered and the cluster (v8-10) carry
 * the bitfield of authz.h; otherwise Kafka's "not provided" (INT32_MIN, the codec's default).
 */
#include <stdio.h>
#include <string.h>

#include "broker/authz.h"
#include "broker/handlers.h"
#include "core/log.h"
#include "proto/proto.h"
#include "storage/storage.h"

typedef sa_MetadataResponse_MetadataResponseTopic_t mtopic_t;
typedef sa_MetadataResponse_MetadataResponsePartition_t mpart_t;

/* Fill @p out for @p topic; @returns SA_OK or SA_ERR_NOMEM (arena). */
static sa_err_t describe_topic(sa_req_t *req, sa_topic_t *topic, mtopic_t *out) {
    sa_arena_t *a = &req->arena;
    int32_t n = sa_topic_partition_count(topic);
    out->ErrorCode = SA_OK;
    out->Name = sa_str(sa_topic_name(topic));
    memcpy(out->TopicId.b, sa_topic_id(topic), 16);
    out->Partitions = sa_arena_calloc(a, (size_t)n, sizeof(*out->Partitions));
    int32_t *node = sa_arena_alloc(a, sizeof(int32_t));
    if ((n && !out->Partitions) || !node) return SA_ERR_NOMEM;
    *node = req->broker->node_id;
    out->Partitions_count = n;
    for (int32_t i = 0; i < n; i++) {
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

static sa_topic_t *find_by_id(sa_store_t *store, const sa_uuid_t *id) {
    size_t n = sa_store_topic_count(store);
    for (size_t i = 0; i < n; i++) {
        sa_topic_t *t = sa_store_topic_at(store, i);
        if (!memcmp(sa_topic_id(t), id->b, 16)) return t;
    }
    return NULL;
}

/* Look up (and maybe create) one requested topic. */
static sa_err_t one_topic(sa_req_t *req, const sa_MetadataRequest_t *mreq,
                          const sa_MetadataRequest_MetadataRequestTopic_t *want, mtopic_t *out) {
    sa_broker_t *broker = req->broker;
    sa_MetadataResponse_MetadataResponseTopic_init(out);
    if (sa_str_is_null(want->Name)) {
        sa_topic_t *topic = find_by_id(broker->store, &want->TopicId);
        out->TopicId = want->TopicId;
        if (!topic) {
            out->ErrorCode = SA_ERR_UNKNOWN_TOPIC_ID;
            return SA_OK;
        }
        return describe_topic(req, topic, out);
    }
    char *name = sa_str_dup(want->Name, &req->arena);
    if (!name) return SA_ERR_NOMEM;
    out->Name = want->Name;
    sa_topic_t *topic = sa_store_topic_find(broker->store, name);
    int allowed = broker->conf->auto_create && (req->ApiVersion < 4 || mreq->AllowAutoTopicCreation);
    if (!topic && allowed) {
        char errstr[256] = "";
        sa_err_t err = sa_store_topic_create(broker->store, name, -1, NULL, 0, 0, errstr, sizeof(errstr));
        if (err == SA_OK) {
            sa_log_info("broker", "auto-created topic \"%s\" (%d partitions) for %s", name,
                        (int)broker->conf->num_partitions, sa_req_peer(req));
        } else if (err != SA_ERR_TOPIC_ALREADY_EXISTS) {
            sa_log_debug(SA_DBG_PROTO, "proto", "auto-create \"%s\": %s", name, errstr);
            out->ErrorCode = (int16_t)(sa_err_is_kafka(err) ? err : SA_ERR_UNKNOWN_SERVER_ERROR);
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
    sa_rd_t rd;
    sa_MetadataRequest_t mreq;
    sa_rd_init(&rd, req->body, req->body_len);
    sa_err_t err = sa_MetadataRequest_decode(&rd, req->ApiVersion, &req->arena, &mreq);
    if (err != SA_OK) return err == SA_ERR_TOOBIG ? SA_ERR_TOOBIG : SA_ERR_PARSE;

    sa_MetadataResponse_t resp;
    sa_MetadataResponse_init(&resp);
    sa_MetadataResponse_MetadataResponseBroker_t self;
    sa_MetadataResponse_MetadataResponseBroker_init(&self);
    self.NodeId = broker->node_id;
    self.Host = sa_str(broker->adv_host);
    self.Port = broker->adv_port;
    resp.Brokers = &self;
    resp.Brokers_count = 1;
    resp.ClusterId = sa_str(broker->cluster_id);
    resp.ControllerId = broker->node_id;

    int all = mreq.Topics_count < 0 || (req->ApiVersion == 0 && mreq.Topics_count == 0);
    size_t n = all ? sa_store_topic_count(broker->store) : (size_t)mreq.Topics_count;
    resp.Topics = sa_arena_calloc(&req->arena, n, sizeof(*resp.Topics));
    if (n && !resp.Topics) return SA_ERR_NOMEM;
    resp.Topics_count = (int32_t)n;
    for (size_t i = 0; i < n; i++) {
        if (all) {
            sa_MetadataResponse_MetadataResponseTopic_init(&resp.Topics[i]);
            err = describe_topic(req, sa_store_topic_at(broker->store, i), &resp.Topics[i]);
        } else {
            err = one_topic(req, &mreq, &mreq.Topics[i], &resp.Topics[i]);
        }
        if (err != SA_OK) return err;
        /* Kafka sets it on every topic answered, errors included */
        if (mreq.IncludeTopicAuthorizedOperations) {
            char *name = sa_str_dup(resp.Topics[i].Name, &req->arena);
            resp.Topics[i].TopicAuthorizedOperations =
                sa_authz_operations(req, SA_RESOURCE_TOPIC, name ? name : "");
        }
    }
    if (mreq.IncludeClusterAuthorizedOperations)
        resp.ClusterAuthorizedOperations = sa_authz_operations(req, SA_RESOURCE_CLUSTER, "");
    return sa_MetadataResponse_encode(&resp, req->ApiVersion, &req->resp);
}
