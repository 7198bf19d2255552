/*
 * handle_create_topics.c - CreateTopics (key 19, v0-7).
 *
 * One node holds one copy of everything, so:
 *   - ReplicationFactor 1 or -1 (the default) is accepted; anything else is
 *     INVALID_REPLICATION_FACTOR, as a Kafka cluster with one broker answers.
 *   - Manual Assignments are accepted when every partition 0..N-1 is listed exactly once with
 *     this broker as its only replica (NumPartitions and ReplicationFactor must then be -1, as
 *     Kafka requires); anything else is INVALID_REPLICA_ASSIGNMENT.
 *   - NumPartitions -1 takes num.partitions.
 * Names, partition counts and configs are validated by storage (sa_store_topic_create), which
 * also does the validateOnly dry run. A name given twice in one request fails for every copy
 * with INVALID_REQUEST (Kafka does the same), so which copy "won" is never a question.
 *
 * v5+ also returns what was created: partitions, replication factor and every config entry with
 * its source. For validateOnly nothing exists to describe, so Configs is null there (Kafka
 * returns the would-be configs; no client samsa knows reads them on a dry run).
 */
#include <stdio.h>
#include <string.h>

#include "broker/admin.h"
#include "broker/handlers.h"
#include "broker/kit.h"
#include "core/log.h"

/* Storage's limit (storage.h, sa_store_topic_create); checked here first so that a hostile
 * assignment list is refused before it costs anything. */
#define MAX_PARTITIONS 100000

typedef sa_CreateTopicsRequest_CreatableTopic_t ctopic_t;
typedef sa_CreateTopicsResponse_CreatableTopicResult_t cresult_t;

/* Check replication factor and manual assignments; *partitions gets the count to create. */
static sa_err_t check_layout(sa_req_t *req, const ctopic_t *ct, int32_t *partitions, char *errstr,
                             size_t errstr_size) {
    *partitions = ct->NumPartitions;
    if (ct->Assignments_count <= 0) {
        if (ct->ReplicationFactor == -1 || ct->ReplicationFactor == 1) return SA_OK;
        if (ct->ReplicationFactor < 1)
            snprintf(errstr, errstr_size,
                     "Replication factor must be larger than 0, or -1 to use the default value.");
        else
            snprintf(errstr, errstr_size,
                     "Unable to replicate the partition %d time(s): The target replication "
                     "factor of %d cannot be reached because only 1 broker(s) are registered.",
                     (int)ct->ReplicationFactor, (int)ct->ReplicationFactor);
        return SA_ERR_INVALID_REPLICATION_FACTOR;
    }
    if (ct->NumPartitions != -1 || ct->ReplicationFactor != -1) {
        snprintf(errstr, errstr_size,
                 "Both numPartitions or replicationFactor and replicasAssignments were set. "
                 "Both cannot be used at the same time.");
        return SA_ERR_INVALID_REQUEST;
    }
    int32_t n = ct->Assignments_count;
    if (n > MAX_PARTITIONS) {
        snprintf(errstr, errstr_size, "Number of partitions must be between 1 and %d, got %d", MAX_PARTITIONS,
                 (int)n);
        return SA_ERR_INVALID_PARTITIONS;
    }
    uint8_t *seen = sa_kit_array(req, n, 1, NULL);
    if (!seen) return SA_ERR_TOOBIG;
    for (int32_t i = 0; i < n; i++) {
        const sa_CreateTopicsRequest_CreatableReplicaAssignment_t *as = &ct->Assignments[i];
        if (as->PartitionIndex < 0 || as->PartitionIndex >= n || seen[as->PartitionIndex]++) {
            snprintf(errstr, errstr_size, "Partitions must be listed once each, 0 to %d (got partition %d)",
                     (int)n - 1, (int)as->PartitionIndex);
            return SA_ERR_INVALID_REPLICA_ASSIGNMENT;
        }
        if (as->BrokerIds_count != 1 || as->BrokerIds[0] != req->broker->node_id) {
            snprintf(errstr, errstr_size,
                     "Partition %d: the only broker is %d, which must be the only replica",
                     (int)as->PartitionIndex, (int)req->broker->node_id);
            return SA_ERR_INVALID_REPLICA_ASSIGNMENT;
        }
    }
    *partitions = n;
    return SA_OK;
}

/* Copy the request's configs into kv form. Null values are refused, as Kafka does. */
static sa_err_t collect_configs(sa_req_t *req, const ctopic_t *ct, sa_config_kv_t **kvs, char *errstr,
                                size_t errstr_size) {
    int32_t n;
    *kvs = sa_kit_array(req, ct->Configs_count, sizeof(**kvs), &n);
    if (!*kvs) return SA_ERR_TOOBIG;
    for (int32_t i = 0; i < n; i++) {
        const sa_CreateTopicsRequest_CreatableTopicConfig_t *c = &ct->Configs[i];
        char *name = sa_str_dup(c->Name, &req->arena);
        char *value = sa_str_dup(c->Value, &req->arena);
        if (!name || !value) return SA_ERR_TOOBIG;
        if (sa_str_is_null(c->Value)) {
            snprintf(errstr, errstr_size, "Null value not supported for topic configs: %s", name);
            return SA_ERR_INVALID_CONFIG;
        }
        (*kvs)[i] = (sa_config_kv_t){name, value};
    }
    return SA_OK;
}

/* v5+: describe the created topic. */
static sa_err_t describe_created(sa_req_t *req, sa_topic_t *topic, cresult_t *out) {
    size_t n = sa_topic_config_count(topic);
    out->NumPartitions = sa_topic_partition_count(topic);
    out->ReplicationFactor = 1;
    memcpy(out->TopicId.b, sa_topic_id(topic), 16);
    /* its configs only to a principal that may DESCRIBE_CONFIGS it (Kafka's TopicConfigErrorCode) */
    sa_err_t denied = sa_kit_authorize(req, SA_ACL_DESCRIBE_CONFIGS, SA_RESOURCE_TOPIC, sa_topic_name(topic));
    if (denied) {
        out->TopicConfigErrorCode = sa_kit_code(denied);
        n = 0;
    }
    if (!SA_KIT_ARRAY(req, out->Configs, (int32_t)n)) return SA_ERR_TOOBIG;
    for (size_t i = 0; i < n; i++) {
        sa_config_entry_t e;
        sa_CreateTopicsResponse_CreatableTopicConfigs_t *c = &out->Configs[i];
        sa_CreateTopicsResponse_CreatableTopicConfigs_init(c);
        if (sa_topic_config_get(topic, i, &e) != SA_OK) return SA_ERR_NOT_FOUND;
        c->Name = sa_str(e.name);
        c->Value = sa_str(e.value);
        c->ReadOnly = e.read_only;
        c->ConfigSource = sa_admin_config_source(e.origin);
        c->IsSensitive = e.sensitive;
    }
    return SA_OK;
}

static sa_err_t one_topic(sa_req_t *req, const sa_CreateTopicsRequest_t *creq, int32_t i, int repeated,
                          cresult_t *out) {
    const ctopic_t *ct = &creq->Topics[i];
    sa_store_t *store = req->broker->store;
    char errstr[512] = "";
    const char *name;
    int32_t partitions = -1;
    sa_config_kv_t *kvs = NULL;
    sa_CreateTopicsResponse_CreatableTopicResult_init(out);
    out->Name = ct->Name;
    sa_err_t err = sa_kit_topic(req, ct->Name, &name);
    if (err == SA_ERR_INVALID_TOPIC_EXCEPTION)
        snprintf(errstr, sizeof(errstr), "Topic name is null or holds a NUL byte");
    if (err == SA_OK && repeated) {
        snprintf(errstr, sizeof(errstr), "Topic '%s' is listed more than once in the request", name);
        err = SA_ERR_INVALID_REQUEST;
    }
    /* CREATE on the cluster, else on the topic (Kafka: after the repeated names) */
    if (err == SA_OK && sa_kit_authorize_cluster(req) != SA_OK &&
        (err = sa_kit_authorize(req, SA_ACL_CREATE, SA_RESOURCE_TOPIC, name)) != SA_OK)
        snprintf(errstr, sizeof(errstr), "Authorization failed.");
    if (err == SA_OK) err = check_layout(req, ct, &partitions, errstr, sizeof(errstr));
    if (err == SA_OK) err = collect_configs(req, ct, &kvs, errstr, sizeof(errstr));
    if (err == SA_ERR_TOOBIG) return err;
    if (err == SA_OK)
        err = sa_store_topic_create(store, name, partitions, kvs,
                                    (size_t)(ct->Configs_count > 0 ? ct->Configs_count : 0),
                                    creq->validateOnly, errstr, sizeof(errstr));
    SA_KIT_SET_ERROR(req, out, err, errstr);
    if (err != SA_OK) {
        sa_log_debug(SA_DBG_PROTO, "admin", "%s: create topic \"%s\": %s", sa_req_peer(req), name, errstr);
        return SA_OK;
    }
    if (creq->validateOnly) {
        out->NumPartitions = partitions == -1 ? (int32_t)sa_store_conf(store)->num_partitions : partitions;
        out->ReplicationFactor = 1;
        return SA_OK;
    }
    sa_log_info("admin", "created topic \"%s\" for %s (client \"%s\")", name, sa_req_peer(req),
                req->ClientId);
    sa_topic_t *topic = sa_store_topic_find(store, name);
    return topic ? describe_created(req, topic, out) : SA_OK;
}

sa_err_t sa_handle_CreateTopics(sa_req_t *req) {
    sa_CreateTopicsRequest_t creq;
    sa_err_t err = sa_kit_decode(req, &creq);
    if (err != SA_OK) return err;
    sa_CreateTopicsResponse_t resp;
    sa_CreateTopicsResponse_init(&resp);
    if (!SA_KIT_ARRAY(req, resp.Topics, creq.Topics_count)) return SA_ERR_TOOBIG;
    uint8_t *repeated;
    if ((err = SA_KIT_MARK_REPEATED(req, creq.Topics, resp.Topics_count, Name, &repeated, NULL)) != SA_OK)
        return err;
    for (int32_t i = 0; i < resp.Topics_count; i++)
        if ((err = one_topic(req, &creq, i, repeated[i], &resp.Topics[i])) != SA_OK) return err;
    return sa_kit_encode(req, &resp);
}
