/*
 * handle_alter_configs.c - AlterConfigs (key 33, v0-2) and IncrementalAlterConfigs (key 44,
 * v0-1) on topic resources.
 *
 * Both come down to one call per resource into storage (sa_store_topic_alter_configs), which
 * validates every entry before applying any and replaces the topic's metadata file crash-safely:
 *   - AlterConfigs replaces the topic's dynamic configs wholesale: what is not listed returns to
 *     its default, as Kafka does (this is why clients moved to the incremental API).
 *   - IncrementalAlterConfigs applies SET, DELETE, APPEND and SUBTRACT (the last two only on
 *     list configs such as cleanup.policy, else INVALID_REQUEST) on top of what is set.
 * ValidateOnly runs every check and changes nothing.
 *
 * Broker resources (dynamic broker configs, storage/broker_config.c): name "" is the
 * cluster-wide default, this node's id the broker itself; another id or a name that is not a
 * number is INVALID_REQUEST, as in Kafka. Only the broker-level names of the topic configs
 * (log.retention.ms, log.segment.bytes, message.max.bytes, ...) change at run time: they become
 * the defaults of every topic that does not set its own, at once and durably. Any other setting of
 * `samsa broker` is answered INVALID_REQUEST "Cannot update these configs dynamically", Kafka's
 * code and words; a bad value is INVALID_REQUEST too (Kafka maps broker config validation errors
 * to it, KAFKA-13609). A key Kafka does not know either is refused (INVALID_REQUEST) where Kafka
 * 3.9 stores it: samsa would store a setting that does nothing.
 * Other resource types: INVALID_REQUEST. A resource named twice
 * in one request fails for every copy with INVALID_REQUEST, and so does a config key given twice
 * for one resource, as in Kafka (which also keeps a hostile list of a million APPENDs cheap:
 * storage validates distinct names and stops at the first unknown one).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "broker/admin.h"
#include "broker/handlers.h"
#include "broker/kit.h"
#include "commands.h"
#include "core/log.h"

/* One resource of either request, in storage's terms. */
typedef struct alter_s {
    int8_t type;          /* SA_ADMIN_RESOURCE_* */
    sa_str_t name;        /* resource name from the wire */
    int repeated;         /* named more than once in the request */
    size_t repeated_keys; /* configs named more than once for this resource */
    sa_config_kv_t *kvs;  /* in req->arena */
    sa_config_op_t *ops;  /* NULL: legacy AlterConfigs (replace wholesale) */
    size_t n;
    int validate_only;
} alter_t;

/* @returns 1 if @p key is a setting of `samsa broker` (its option table). */
static int is_broker_setting(const char *key) {
    for (const sa_cfg_opt_t *o = sa_cmd_broker.spec->opts; !SA_CFG_OPT_END(o); o++)
        if (o->name && !strcmp(o->name, key)) return 1;
    return 0;
}

/* A BROKER resource: "" or this node's id. */
static sa_err_t alter_broker(sa_req_t *req, const alter_t *al, char *errstr, size_t errstr_size) {
    sa_broker_scope_t scope = SA_BROKER_SCOPE_DEFAULT;
    if (sa_str_is_null(al->name)) {
        snprintf(errstr, errstr_size, "A broker resource needs a name: \"\" or the broker id");
        return SA_ERR_INVALID_REQUEST;
    }
    const char *name = sa_str_dup(al->name, &req->arena);
    if (!name) return SA_ERR_TOOBIG;
    if (strlen(name) != (size_t)al->name.len) {
        snprintf(errstr, errstr_size, "Node id must be an integer, but it holds a NUL byte");
        return SA_ERR_INVALID_REQUEST;
    }
    if (*name) {
        char *end;
        long id = strtol(name, &end, 10);
        if (*end || end == name) {
            snprintf(errstr, errstr_size, "Node id must be an integer, but it is: %s", name);
            return SA_ERR_INVALID_REQUEST;
        }
        if (id != req->broker->node_id) {
            snprintf(errstr, errstr_size, "Unexpected broker id, expected %d, but received %s",
                     (int)req->broker->node_id, name);
            return SA_ERR_INVALID_REQUEST;
        }
        scope = SA_BROKER_SCOPE_NODE;
    }
    for (size_t i = 0; i < al->n; i++)
        if (sa_broker_config_row(al->kvs[i].name) < 0 && is_broker_setting(al->kvs[i].name)) {
            snprintf(errstr, errstr_size, "Cannot update these configs dynamically: Set(%s)",
                     al->kvs[i].name);
            return SA_ERR_INVALID_REQUEST;
        }
    sa_err_t err = sa_store_broker_alter_configs(req->broker->store, scope, al->kvs, al->ops, al->n, !al->ops,
                                                 al->validate_only, errstr, errstr_size);
    if (err == SA_OK && !al->validate_only)
        sa_log_info("admin", "altered %zu dynamic broker config(s) of %s%s for %s", al->n,
                    *name ? "this broker" : "the cluster default", al->ops ? "" : " (replacing all)",
                    sa_req_peer(req));
    return err;
}

/* Apply @p al; the error and its message go to the caller's result. SA_ERR_TOOBIG only for the arena. */
static sa_err_t alter_resource(sa_req_t *req, const alter_t *al, char *errstr, size_t errstr_size) {
    const char *name;
    if (al->type != SA_ADMIN_RESOURCE_TOPIC && al->type != SA_ADMIN_RESOURCE_BROKER) {
        snprintf(errstr, errstr_size, "Unsupported resource type %d", (int)al->type);
        return SA_ERR_INVALID_REQUEST;
    }
    /* ALTER_CONFIGS on the cluster for a broker (dispatch.c's column), on the topic for a topic */
    sa_err_t denied;
    if (al->type == SA_ADMIN_RESOURCE_BROKER) {
        denied = sa_kit_authorize_cluster(req);
    } else {
        if (sa_kit_topic(req, al->name, &name) == SA_ERR_TOOBIG) return SA_ERR_TOOBIG;
        denied = sa_kit_authorize(req, SA_ACL_ALTER_CONFIGS, SA_RESOURCE_TOPIC, name);
    }
    if (denied) return denied;
    if (al->repeated) {
        snprintf(errstr, errstr_size, "Resource '%.*s' is listed more than once in the request",
                 al->name.len > 0 ? (int)al->name.len : 0, al->name.len > 0 ? al->name.ptr : "");
        return SA_ERR_INVALID_REQUEST;
    }
    if (al->repeated_keys) {
        snprintf(errstr, errstr_size, "Error due to duplicate config keys");
        return SA_ERR_INVALID_REQUEST;
    }
    for (size_t i = 0; i < al->n; i++) {
        int needs_value = !al->ops || al->ops[i] != SA_CONFIG_OP_DELETE;
        if (al->ops && needs_value && !al->kvs[i].value) {
            snprintf(errstr, errstr_size, "Null value not supported for : %s", al->kvs[i].name);
            return SA_ERR_INVALID_CONFIG;
        }
    }
    if (al->type == SA_ADMIN_RESOURCE_BROKER) return alter_broker(req, al, errstr, errstr_size);
    sa_err_t err = sa_kit_topic(req, al->name, &name);
    if (err == SA_ERR_INVALID_TOPIC_EXCEPTION) err = SA_ERR_UNKNOWN_TOPIC_OR_PARTITION;
    if (err != SA_OK) return err;
    err = sa_store_topic_alter_configs(req->broker->store, name, al->kvs, al->ops, al->n, !al->ops,
                                       al->validate_only, errstr, errstr_size);
    if (err == SA_OK && !al->validate_only)
        sa_log_info("admin", "altered %zu config(s) of topic \"%s\"%s for %s", al->n, name,
                    al->ops ? "" : " (replacing all)", sa_req_peer(req));
    return err;
}

typedef sa_IncrementalAlterConfigsRequest_AlterConfigsResource_t iresource_t;
typedef sa_IncrementalAlterConfigsResponse_AlterConfigsResourceResponse_t iresult_t;

/* Build @p al for resource @p res (ops NULL when @p replace_all). @returns SA_OK or SA_ERR_TOOBIG. */
static sa_err_t prepare(sa_req_t *req, const iresource_t *res, int repeated, int replace_all,
                        int validate_only, alter_t *al) {
    size_t n = res->Configs_count > 0 ? (size_t)res->Configs_count : 0;
    uint8_t *dup_keys;
    *al = (alter_t){.type = res->ResourceType,
                    .name = res->ResourceName,
                    .repeated = repeated,
                    .kvs = sa_arena_calloc(&req->arena, n, sizeof(sa_config_kv_t)),
                    .ops = replace_all ? NULL : sa_arena_calloc(&req->arena, n, sizeof(sa_config_op_t)),
                    .n = n,
                    .validate_only = validate_only};
    if (!al->kvs || (!replace_all && !al->ops)) return SA_ERR_TOOBIG;
    sa_err_t err =
        SA_KIT_MARK_REPEATED(req, res->Configs, res->Configs_count, Name, &dup_keys, &al->repeated_keys);
    for (size_t i = 0; i < n && err == SA_OK; i++) {
        const sa_IncrementalAlterConfigsRequest_AlterableConfig_t *c = &res->Configs[i];
        al->kvs[i].name = sa_str_dup(c->Name, &req->arena);
        al->kvs[i].value = sa_str_is_null(c->Value) ? NULL : sa_str_dup(c->Value, &req->arena);
        if (!al->kvs[i].name || (!sa_str_is_null(c->Value) && !al->kvs[i].value)) err = SA_ERR_TOOBIG;
        if (al->ops) al->ops[i] = (sa_config_op_t)c->ConfigOperation; /* storage refuses unknown ones */
    }
    return err;
}

/* Run every resource of @p ireq into @p resp (arrays in req->arena). SA_ERR_TOOBIG only for the arena. */
static sa_err_t alter_all(sa_req_t *req, const sa_IncrementalAlterConfigsRequest_t *ireq, int replace_all,
                          sa_IncrementalAlterConfigsResponse_t *resp) {
    uint8_t *repeated;
    sa_IncrementalAlterConfigsResponse_init(resp);
    if (!SA_KIT_ARRAY(req, resp->Responses, ireq->Resources_count)) return SA_ERR_TOOBIG;
    int32_t n = resp->Responses_count;
    sa_err_t err = SA_KIT_MARK_REPEATED(req, ireq->Resources, n, ResourceName, &repeated, NULL);
    for (int32_t r = 0; r < n && err == SA_OK; r++) {
        const iresource_t *res = &ireq->Resources[r];
        iresult_t *out = &resp->Responses[r];
        alter_t al;
        char errstr[512] = "";
        if ((err = prepare(req, res, repeated[r], replace_all, ireq->ValidateOnly, &al)) != SA_OK) break;
        sa_err_t rerr = alter_resource(req, &al, errstr, sizeof(errstr));
        if (rerr == SA_ERR_TOOBIG) err = rerr;
        sa_IncrementalAlterConfigsResponse_AlterConfigsResourceResponse_init(out);
        SA_KIT_SET_ERROR(req, out, rerr, errstr);
        out->ResourceType = res->ResourceType;
        out->ResourceName = res->ResourceName;
    }
    return err;
}

sa_err_t sa_handle_IncrementalAlterConfigs(sa_req_t *req) {
    sa_IncrementalAlterConfigsRequest_t ireq;
    sa_IncrementalAlterConfigsResponse_t resp;
    sa_err_t err = sa_kit_decode(req, &ireq);
    if (err == SA_OK) err = alter_all(req, &ireq, 0, &resp);
    return err != SA_OK ? err : sa_kit_encode(req, &resp);
}

/* The legacy API is the incremental one with every entry a SET and replace_all: its request is
 * restated in the incremental form and the answers copied back (the layouts are the same). */
sa_err_t sa_handle_AlterConfigs(sa_req_t *req) {
    sa_AlterConfigsRequest_t areq;
    sa_err_t err = sa_kit_decode(req, &areq);
    if (err != SA_OK) return err;
    sa_IncrementalAlterConfigsRequest_t ireq;
    sa_IncrementalAlterConfigsRequest_init(&ireq);
    if (!SA_KIT_ARRAY(req, ireq.Resources, areq.Resources_count)) return SA_ERR_TOOBIG;
    int32_t n = ireq.Resources_count;
    ireq.ValidateOnly = areq.ValidateOnly;
    for (int32_t r = 0; r < n; r++) {
        const sa_AlterConfigsRequest_AlterConfigsResource_t *ares = &areq.Resources[r];
        iresource_t *ires = &ireq.Resources[r];
        *ires = (iresource_t){.ResourceType = ares->ResourceType, .ResourceName = ares->ResourceName};
        if (!SA_KIT_ARRAY(req, ires->Configs, ares->Configs_count)) return SA_ERR_TOOBIG;
        for (int32_t i = 0; i < ires->Configs_count; i++)
            ires->Configs[i] =
                (sa_IncrementalAlterConfigsRequest_AlterableConfig_t){.Name = ares->Configs[i].Name,
                                                                      .ConfigOperation = SA_CONFIG_OP_SET,
                                                                      .Value = ares->Configs[i].Value};
    }
    sa_IncrementalAlterConfigsResponse_t iresp;
    if ((err = alter_all(req, &ireq, 1, &iresp)) != SA_OK) return err;
    sa_AlterConfigsResponse_t resp;
    sa_AlterConfigsResponse_init(&resp);
    if (!SA_KIT_ARRAY(req, resp.Responses, n)) return SA_ERR_TOOBIG;
    for (int32_t r = 0; r < n; r++) {
        const iresult_t *in = &iresp.Responses[r];
        resp.Responses[r] =
            (sa_AlterConfigsResponse_AlterConfigsResourceResponse_t){.ErrorCode = in->ErrorCode,
                                                                     .ErrorMessage = in->ErrorMessage,
                                                                     .ResourceType = in->ResourceType,
                                                                     .ResourceName = in->ResourceName};
    }
    return sa_kit_encode(req, &resp);
}
