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
 * Broker resources: samsa has no dynamic broker configs (its settings come from flags and
 * server.properties at start), so altering one is answered INVALID_REQUEST with a message that
 * says so, rather than pretending. Other resource types: INVALID_REQUEST. A resource named twice
 * in one request fails for every copy with INVALID_REQUEST, and so does a config key given twice
 * for one resource, as in Kafka (which also keeps a hostile list of a million APPENDs cheap:
 * storage validates distinct names and stops at the first unknown one).
 */
#include <stdio.h>

#include "broker/admin.h"
#include "broker/handlers.h"
#include "core/log.h"

/* One resource of either request, in storage's terms. */
typedef struct alter_s {
    int8_t type;               /* SA_ADMIN_RESOURCE_* */
    sa_str_t name;             /* resource name from the wire */
    int repeated;              /* named more than once in the request */
    size_t repeated_keys;      /* configs named more than once for this resource */
    sa_config_kv_t *kvs;       /* in req->arena */
    sa_config_op_t *ops;       /* NULL: legacy AlterConfigs (replace wholesale) */
    size_t n;
    int validate_only;
} alter_t;

/* Apply @p al; the error and its message go to the caller's result. SA_ERR_NOMEM only for the arena. */
static sa_err_t alter_resource(sa_req_t *req, const alter_t *al, char *errstr, size_t errstr_size) {
    const char *name;
    if (al->type == SA_ADMIN_RESOURCE_BROKER) {
        snprintf(errstr, errstr_size, "samsa has no dynamic broker configs: set them in server.properties or "
                 "with flags and restart the broker");
        return SA_ERR_INVALID_REQUEST;
    }
    if (al->type != SA_ADMIN_RESOURCE_TOPIC) {
        snprintf(errstr, errstr_size, "Unsupported resource type %d", (int)al->type);
        return SA_ERR_INVALID_REQUEST;
    }
    sa_err_t err = sa_admin_name(req, al->name, &name);
    if (err == SA_ERR_INVALID_TOPIC_EXCEPTION) err = SA_ERR_UNKNOWN_TOPIC_OR_PARTITION;
    if (err != SA_OK) return err;
    if (al->repeated) {
        snprintf(errstr, errstr_size, "Resource '%s' is listed more than once in the request", name);
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
    err = sa_store_topic_alter_configs(req->broker->store, name, al->kvs, al->ops, al->n, !al->ops,
                                       al->validate_only, errstr, errstr_size);
    if (err == SA_OK && !al->validate_only)
        sa_log_info("admin", "altered %zu config(s) of topic \"%s\"%s for %s", al->n, name,
                    al->ops ? "" : " (replacing all)", sa_req_peer(req));
    return err;
}

/* Copy one wire config entry into kvs[i]; @returns SA_OK or SA_ERR_NOMEM. */
static sa_err_t take_kv(sa_req_t *req, sa_str_t name, sa_str_t value, sa_config_kv_t *kv) {
    kv->name = sa_str_dup(name, &req->arena);
    kv->value = sa_str_is_null(value) ? NULL : sa_str_dup(value, &req->arena);
    return !kv->name || (!sa_str_is_null(value) && !kv->value) ? SA_ERR_NOMEM : SA_OK;
}

sa_err_t sa_handle_AlterConfigs(sa_req_t *req) {
    sa_AlterConfigsRequest_t areq;
    sa_err_t err = sa_admin_decode(req, &areq);
    if (err != SA_OK) return err;
    sa_AlterConfigsResponse_t resp;
    sa_AlterConfigsResponse_init(&resp);
    int32_t n = areq.Resources_count > 0 ? areq.Resources_count : 0;
    resp.Responses = sa_arena_calloc(&req->arena, (size_t)n, sizeof(*resp.Responses));
    if (!resp.Responses) return SA_ERR_NOMEM;
    resp.Responses_count = n;
    uint8_t *repeated;
    if ((err = SA_ADMIN_MARK_REPEATED(req, areq.Resources, n, ResourceName, &repeated, NULL)) != SA_OK) return err;
    for (int32_t r = 0; r < n; r++) {
        const sa_AlterConfigsRequest_AlterConfigsResource_t *res = &areq.Resources[r];
        size_t nc = res->Configs_count > 0 ? (size_t)res->Configs_count : 0;
        alter_t al = {res->ResourceType, res->ResourceName, repeated[r], 0,
                      sa_arena_calloc(&req->arena, nc, sizeof(sa_config_kv_t)), NULL, nc, areq.ValidateOnly};
        if (!al.kvs) return SA_ERR_NOMEM;
        uint8_t *dup_keys;
        err = SA_ADMIN_MARK_REPEATED(req, res->Configs, res->Configs_count, Name, &dup_keys, &al.repeated_keys);
        if (err != SA_OK) return err;
        for (size_t i = 0; i < nc; i++)
            if (take_kv(req, res->Configs[i].Name, res->Configs[i].Value, &al.kvs[i]) != SA_OK) return SA_ERR_NOMEM;
        char errstr[512] = "";
        if ((err = alter_resource(req, &al, errstr, sizeof(errstr))) == SA_ERR_NOMEM) return err;
        sa_AlterConfigsResponse_AlterConfigsResourceResponse_t *out = &resp.Responses[r];
        sa_AlterConfigsResponse_AlterConfigsResourceResponse_init(out);
        out->ErrorCode = sa_admin_code(err);
        out->ErrorMessage = sa_admin_message(req, err, errstr);
        out->ResourceType = res->ResourceType;
        out->ResourceName = res->ResourceName;
    }
    return sa_admin_encode(req, &resp);
}

sa_err_t sa_handle_IncrementalAlterConfigs(sa_req_t *req) {
    sa_IncrementalAlterConfigsRequest_t ireq;
    sa_err_t err = sa_admin_decode(req, &ireq);
    if (err != SA_OK) return err;
    sa_IncrementalAlterConfigsResponse_t resp;
    sa_IncrementalAlterConfigsResponse_init(&resp);
    int32_t n = ireq.Resources_count > 0 ? ireq.Resources_count : 0;
    resp.Responses = sa_arena_calloc(&req->arena, (size_t)n, sizeof(*resp.Responses));
    if (!resp.Responses) return SA_ERR_NOMEM;
    resp.Responses_count = n;
    uint8_t *repeated;
    if ((err = SA_ADMIN_MARK_REPEATED(req, ireq.Resources, n, ResourceName, &repeated, NULL)) != SA_OK) return err;
    for (int32_t r = 0; r < n; r++) {
        const sa_IncrementalAlterConfigsRequest_AlterConfigsResource_t *res = &ireq.Resources[r];
        size_t nc = res->Configs_count > 0 ? (size_t)res->Configs_count : 0;
        alter_t al = {res->ResourceType, res->ResourceName, repeated[r], 0,
                      sa_arena_calloc(&req->arena, nc, sizeof(sa_config_kv_t)),
                      sa_arena_calloc(&req->arena, nc, sizeof(sa_config_op_t)), nc, ireq.ValidateOnly};
        if (!al.kvs || !al.ops) return SA_ERR_NOMEM;
        uint8_t *dup_keys;
        err = SA_ADMIN_MARK_REPEATED(req, res->Configs, res->Configs_count, Name, &dup_keys, &al.repeated_keys);
        if (err != SA_OK) return err;
        for (size_t i = 0; i < nc; i++) {
            if (take_kv(req, res->Configs[i].Name, res->Configs[i].Value, &al.kvs[i]) != SA_OK) return SA_ERR_NOMEM;
            al.ops[i] = (sa_config_op_t)res->Configs[i].ConfigOperation; /* storage refuses unknown ones */
        }
        char errstr[512] = "";
        if ((err = alter_resource(req, &al, errstr, sizeof(errstr))) == SA_ERR_NOMEM) return err;
        sa_IncrementalAlterConfigsResponse_AlterConfigsResourceResponse_t *out = &resp.Responses[r];
        sa_IncrementalAlterConfigsResponse_AlterConfigsResourceResponse_init(out);
        out->ErrorCode = sa_admin_code(err);
        out->ErrorMessage = sa_admin_message(req, err, errstr);
        out->ResourceType = res->ResourceType;
        out->ResourceName = res->ResourceName;
    }
    return sa_admin_encode(req, &resp);
}
