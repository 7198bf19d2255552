/*
 * handle_delete_topics.c - DeleteTopics (key 20, v0-6): by name, or (v6) by topic id.
 *
 * Deletion is immediate and complete on one node: the topic's metadata file goes first, then
 * its partition directories (sa_store_topic_delete), so a crash in between leaves no topic, and
 * leftovers are cleared if the name is created again. Handlers look partitions up by name on
 * every use, so a parked Fetch on a deleted topic sees UNKNOWN_TOPIC_OR_PARTITION when it wakes.
 * Committed group offsets of the topic are kept, as Kafka keeps them until the group expires.
 *
 * Authorization (Kafka's controller): DELETE on the topic, else TOPIC_AUTHORIZATION_FAILED; a topic
 * named by id that the principal may not even DESCRIBE is UNKNOWN_TOPIC_ID (its name undisclosed).
 */
#include <stdio.h>
#include <string.h>

#include "broker/handlers.h"
#include "broker/kit.h"
#include "core/log.h"

typedef sa_DeleteTopicsResponse_DeletableTopicResult_t dresult_t;

static sa_err_t delete_one(sa_req_t *req, sa_str_t wire_name, const sa_uuid_t *id, dresult_t *out) {
    sa_store_t *store = req->broker->store;
    char errstr[512] = "";
    const char *name = "";
    sa_err_t err;
    sa_DeleteTopicsResponse_DeletableTopicResult_init(out);
    out->Name = wire_name;
    if (id && sa_str_is_null(wire_name)) {
        out->TopicId = *id;
        sa_topic_t *topic = sa_kit_topic_by_id(req, id);
        err = topic ? SA_OK : SA_ERR_UNKNOWN_TOPIC_ID;
        if (topic &&
            sa_kit_authorize(req, SA_ACL_DESCRIBE, SA_RESOURCE_TOPIC, sa_topic_name(topic)) != SA_OK) {
            topic = NULL;
            err = SA_ERR_UNKNOWN_TOPIC_ID;
        }
        if (topic) {
            char *copy = sa_arena_strndup(&req->arena, sa_topic_name(topic), strlen(sa_topic_name(topic)));
            if (!copy) return SA_ERR_TOOBIG;
            name = copy;
            out->Name = sa_str(copy);
        }
    } else {
        err = sa_kit_topic(req, wire_name, &name);
        if (err == SA_ERR_INVALID_TOPIC_EXCEPTION) err = SA_ERR_UNKNOWN_TOPIC_OR_PARTITION;
        if (err == SA_OK) {
            sa_topic_t *topic = sa_store_topic_find(store, name);
            if (topic) memcpy(out->TopicId.b, sa_topic_id(topic), 16);
        }
    }
    if (err == SA_ERR_TOOBIG) return err;
    if (err == SA_OK && (err = sa_kit_authorize(req, SA_ACL_DELETE, SA_RESOURCE_TOPIC, name)) != SA_OK)
        memset(out->TopicId.b, 0, 16); /* nothing disclosed, as Kafka's ZERO_UUID */
    if (err == SA_OK) err = sa_store_topic_delete(store, name, errstr, sizeof(errstr));
    SA_KIT_SET_ERROR(req, out, err, errstr);
    if (err == SA_OK)
        sa_log_info("admin", "deleted topic \"%s\" for %s (client \"%s\")", name, sa_req_peer(req),
                    req->ClientId);
    else if (err == SA_ERR_KAFKA_STORAGE_ERROR)
        sa_log_error("admin", "delete topic \"%s\": %s", name, errstr);
    return SA_OK;
}

sa_err_t sa_handle_DeleteTopics(sa_req_t *req) {
    sa_DeleteTopicsRequest_t dreq;
    sa_err_t err = sa_kit_decode(req, &dreq);
    if (err != SA_OK) return err;
    int by_state = req->ApiVersion >= 6;
    sa_DeleteTopicsResponse_t resp;
    sa_DeleteTopicsResponse_init(&resp);
    if (!SA_KIT_ARRAY(req, resp.Responses, by_state ? dreq.Topics_count : dreq.TopicNames_count))
        return SA_ERR_TOOBIG;
    for (int32_t i = 0; i < resp.Responses_count && err == SA_OK; i++) {
        if (by_state)
            err = delete_one(req, dreq.Topics[i].Name, &dreq.Topics[i].TopicId, &resp.Responses[i]);
        else
            err = delete_one(req, dreq.TopicNames[i], NULL, &resp.Responses[i]);
    }
    return err != SA_OK ? err : sa_kit_encode(req, &resp);
}
