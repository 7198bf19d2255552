/*
 * handle_describe_configs.c - DescribeConfigs (key 32, v0-4): topic and broker resources.
 *
 * Topic: every topic config entry (or only the keys asked for; unknown keys are left out, as
 * Kafka does) with its effective value and source from storage (DYNAMIC_TOPIC_CONFIG when set
 * on the topic, STATIC_BROKER_CONFIG when the broker's config changes the default,
 * DEFAULT_CONFIG otherwise). Topic configs are writable and none is sensitive. The Java admin
 * client and kafka-configs.sh read exactly this, so the list is complete, not just what was set.
 *
 * Broker, this node's id: every server.properties setting of `samsa broker` (the option table in
 * cmd_broker.c, through sa_cmd_broker.spec) with the value in use: a dynamic broker config
 * (AlterConfigs on the BROKER resource, storage/broker_config.c) as DYNAMIC_BROKER_CONFIG or
 * DYNAMIC_DEFAULT_BROKER_CONFIG, else STATIC_BROKER_CONFIG when it differs from the default and
 * DEFAULT_CONFIG otherwise (a setting without a fixed default, log.retention.ms, counts as set);
 * read-only unless it can change at run time; then the dynamic configs set that have no setting
 * of their own (log.cleanup.policy ...). Broker "": only the dynamic cluster defaults that are
 * set, as Kafka lists them. Aliases (broker.id for node.id) are listed once. Another broker id is
 * INVALID_REQUEST; broker loggers are not supported (INVALID_REQUEST, with a message).
 *
 * Synonyms (v1+, when asked), Kafka's chain, most specific first: the topic's own value, this
 * broker's dynamic value, the cluster's dynamic default (each if set), then the broker setting
 * (log.retention.ms ...) from server.properties or its default. ConfigType (v3+) is always
 * filled; Documentation only when IncludeDocumentation.
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "broker/admin.h"
#include "broker/handlers.h"
#include "broker/kit.h"
#include "commands.h"

typedef sa_DescribeConfigsRequest_DescribeConfigsResource_t dresource_t;
typedef sa_DescribeConfigsResponse_DescribeConfigsResult_t dresult_t;
typedef sa_DescribeConfigsResponse_DescribeConfigsResourceResult_t dentry_t;

/* @returns 1 if @p name is wanted by @p res (a null or empty key list wants everything). */
static int wanted(const dresource_t *res, const char *name) {
    if (res->ConfigurationKeys_count <= 0) return 1;
    for (int32_t i = 0; i < res->ConfigurationKeys_count; i++)
        if (sa_str_eq(res->ConfigurationKeys[i], name)) return 1;
    return 0;
}

typedef sa_DescribeConfigsResponse_DescribeConfigsSynonym_t dsyn_t;

/*
 * The synonyms of @p e in Kafka's order, most specific first: the topic's own value, this
 * broker's dynamic value, the cluster's dynamic default (each only if set), then the value below
 * them (server.properties or Kafka's default). @p level LEVEL_TOPIC: @p e is a topic config (its
 * broker-level name is e->synonym); otherwise e->name is the broker key, and the cluster default
 * (LEVEL_BROKER_DEFAULT) lists only itself, as Kafka does. Arena-allocated.
 */
enum { LEVEL_TOPIC, LEVEL_BROKER, LEVEL_BROKER_DEFAULT }; /* what is being described */

static sa_err_t synonyms(sa_req_t *req, const sa_config_entry_t *e, int level, dentry_t *out) {
    int topic_level = level == LEVEL_TOPIC;
    dsyn_t *syn = sa_arena_calloc(&req->arena, 4, sizeof(*syn));
    const char *bkey = topic_level ? e->synonym : e->name;
    int row = sa_broker_config_row(bkey);
    int n = 0;
    if (!syn) return SA_ERR_TOOBIG;
    if (level == LEVEL_BROKER_DEFAULT) {
        syn[0] = (dsyn_t){
            .Name = sa_str(e->name), .Value = sa_str(e->value), .Source = sa_admin_config_source(e->origin)};
        out->Synonyms = syn;
        out->Synonyms_count = 1;
        return SA_OK;
    }
    if (topic_level && e->origin == SA_CONFIG_ORIGIN_TOPIC)
        syn[n++] = (dsyn_t){
            .Name = sa_str(e->name), .Value = sa_str(e->value), .Source = SA_CONFIG_SOURCE_DYNAMIC_TOPIC};
    static const sa_broker_scope_t scopes[2] = {SA_BROKER_SCOPE_NODE, SA_BROKER_SCOPE_DEFAULT};
    static const int8_t sources[2] = {SA_CONFIG_SOURCE_DYNAMIC_BROKER,
                                      SA_CONFIG_SOURCE_DYNAMIC_DEFAULT_BROKER};
    for (int s = 0; s < 2 && row >= 0; s++) {
        const char *v = sa_store_broker_config(req->broker->store, scopes[s], row);
        if (v) syn[n++] = (dsyn_t){.Name = sa_str(bkey), .Value = sa_str(v), .Source = sources[s]};
    }
    if (bkey || !topic_level) {
        /* an unset broker string setting has a null value, and so does its synonym */
        const char *base = NULL;
        if (topic_level || e->base_value[0]) {
            base = sa_arena_strndup(&req->arena, e->base_value, strlen(e->base_value));
            if (!base) return SA_ERR_TOOBIG;
        }
        syn[n++] = (dsyn_t){.Name = sa_str(bkey ? bkey : e->name),
                            .Value = sa_str(base),
                            .Source = sa_admin_config_source(e->base_origin)};
    }
    out->Synonyms = syn;
    out->Synonyms_count = n;
    return SA_OK;
}

/* Fill @p out from @p e (strings borrowed from e, valid until the response is encoded). */
static sa_err_t fill_entry(sa_req_t *req, const sa_DescribeConfigsRequest_t *dreq, const sa_config_entry_t *e,
                           int level, dentry_t *out) {
    sa_DescribeConfigsResponse_DescribeConfigsResourceResult_init(out);
    out->Name = sa_str(e->name);
    out->Value = sa_str(e->value);
    out->ReadOnly = e->read_only;
    out->IsDefault = e->is_default;
    out->ConfigSource = sa_admin_config_source(e->origin);
    out->IsSensitive = e->sensitive;
    out->ConfigType = sa_admin_config_type(e->vtype);
    out->Documentation = dreq->IncludeDocumentation ? sa_str(e->doc) : SA_STR_NULL;
    out->Synonyms_count = 0;
    return dreq->IncludeSynonyms ? synonyms(req, e, level, out) : SA_OK;
}

static sa_err_t describe_topic(sa_req_t *req, const sa_DescribeConfigsRequest_t *dreq, const dresource_t *res,
                               dresult_t *out) {
    const char *name;
    sa_err_t err = sa_kit_topic(req, res->ResourceName, &name);
    if (err == SA_ERR_TOOBIG) return err;
    sa_err_t denied = sa_kit_authorize(req, SA_ACL_DESCRIBE_CONFIGS, SA_RESOURCE_TOPIC, name);
    if (denied) { /* before its existence: nothing disclosed */
        SA_KIT_SET_ERROR(req, out, denied, NULL);
        return SA_OK;
    }
    sa_topic_t *topic = err == SA_OK ? sa_store_topic_find(req->broker->store, name) : NULL;
    if (!topic) {
        char errstr[300];
        snprintf(errstr, sizeof(errstr), "Topic '%s' does not exist", name);
        SA_KIT_SET_ERROR(req, out, SA_ERR_UNKNOWN_TOPIC_OR_PARTITION, errstr);
        return SA_OK;
    }
    size_t n = sa_topic_config_count(topic);
    out->Configs = sa_arena_calloc(&req->arena, n, sizeof(*out->Configs));
    if (!out->Configs) return SA_ERR_TOOBIG;
    for (size_t i = 0; i < n; i++) {
        sa_config_entry_t e;
        if (sa_topic_config_get(topic, i, &e) != SA_OK || !wanted(res, e.name)) continue;
        if ((err = fill_entry(req, dreq, &e, LEVEL_TOPIC, &out->Configs[out->Configs_count])) != SA_OK)
            return err;
        out->Configs_count++;
    }
    return SA_OK;
}

/* The value of broker option @p o as text in the arena; NULL value for an unset string. */
static sa_err_t broker_value(sa_req_t *req, const sa_cfg_opt_t *o, const char **value, int *is_default) {
    const char *base = (const char *)req->broker->conf + o->offset;
    char tmp[32];
    const char *v = NULL;
    *is_default = 0;
    switch (o->type) {
    case SA_CFG_STR:
        v = *(char *const *)(const void *)base;
        *is_default = o->def ? v && !strcmp(v, o->def) : !v || !*v;
        break;
    case SA_CFG_BOOL: {
        int b = *(const int *)(const void *)base;
        v = b ? "true" : "false";
        *is_default = o->def && !strcmp(o->def, v);
        break;
    }
    default: {
        int64_t x = *(const int64_t *)(const void *)base, d;
        snprintf(tmp, sizeof(tmp), "%" PRId64, x);
        v = tmp;
        *is_default = o->def && sa_cfg_parse_number(o->type, o->def, &d) == 0 && d == x;
        break;
    }
    }
    *value = v ? sa_arena_strndup(&req->arena, v, strlen(v)) : NULL;
    return v && !*value ? SA_ERR_TOOBIG : SA_OK;
}

/* @returns 1 if row @p i sets the same field as an earlier row (broker.id for node.id): listed once. */
static int is_alias(const sa_cfg_opt_t *opts, size_t i) {
    for (size_t j = 0; j < i; j++)
        if (opts[j].name && opts[j].offset == opts[i].offset) return 1;
    return 0;
}

static sa_config_vtype_t broker_vtype(sa_cfg_type_t type) {
    switch (type) {
    case SA_CFG_BOOL: return SA_CONFIG_VALUE_BOOLEAN;
    case SA_CFG_INT:
    case SA_CFG_SIZE:
    case SA_CFG_MS: return SA_CONFIG_VALUE_LONG;
    default: return SA_CONFIG_VALUE_STRING;
    }
}

/* An entry for dynamic broker config row @p row as seen from @p scope: its value in the most
 * specific scope that sets it (NODE sees the cluster default too). @returns 0 if none is set. */
static int dynamic_entry(const sa_store_t *store, sa_broker_scope_t scope, int row, sa_config_entry_t *e) {
    const char *v = NULL;
    if (scope == SA_BROKER_SCOPE_NODE && (v = sa_store_broker_config(store, SA_BROKER_SCOPE_NODE, row)))
        e->origin = SA_CONFIG_ORIGIN_DYNAMIC_BROKER;
    else if ((v = sa_store_broker_config(store, SA_BROKER_SCOPE_DEFAULT, row)))
        e->origin = SA_CONFIG_ORIGIN_DYNAMIC_DEFAULT;
    if (!v) return 0;
    e->value = v;
    e->is_default = 0;
    e->read_only = 0;
    return 1;
}

/* Rows of dynamic broker configs set in either scope, in row order, without repeats. */
static size_t dynamic_rows(const sa_store_t *store, sa_broker_scope_t scope, int *rows, size_t max) {
    size_t n = sa_store_broker_config_list(store, SA_BROKER_SCOPE_DEFAULT, rows, max);
    if (scope == SA_BROKER_SCOPE_DEFAULT) return n;
    int node[SA_TOPIC_CONFIG_ROWS_MAX];
    size_t m = sa_store_broker_config_list(store, SA_BROKER_SCOPE_NODE, node, SA_TOPIC_CONFIG_ROWS_MAX);
    for (size_t i = 0; i < m; i++) {
        int seen = 0;
        for (size_t j = 0; j < n; j++) seen |= rows[j] == node[i];
        if (!seen && n < max) rows[n++] = node[i];
    }
    return n;
}

/*
 * Broker resource, as Kafka describes it: "" (the cluster default) lists only the dynamic
 * defaults that are set, as DYNAMIC_DEFAULT_BROKER_CONFIG; this node's id lists every setting of
 * `samsa broker` with the value in use (a dynamic one wins, and the settings that can change at
 * run time are not read-only), then the dynamic configs that have no `samsa broker` setting.
 */
static sa_err_t describe_broker(sa_req_t *req, const sa_DescribeConfigsRequest_t *dreq,
                                const dresource_t *res, dresult_t *out) {
    char id[16];
    const sa_store_t *store = req->broker->store;
    snprintf(id, sizeof(id), "%d", (int)req->broker->node_id);
    sa_broker_scope_t scope = res->ResourceName.len > 0 ? SA_BROKER_SCOPE_NODE : SA_BROKER_SCOPE_DEFAULT;
    if (scope == SA_BROKER_SCOPE_NODE && !sa_str_eq(res->ResourceName, id)) {
        char errstr[128];
        snprintf(errstr, sizeof(errstr), "This is broker %s, the only broker of the cluster", id);
        SA_KIT_SET_ERROR(req, out, SA_ERR_INVALID_REQUEST, errstr);
        return SA_OK;
    }
    const sa_cfg_opt_t *opts = sa_cmd_broker.spec->opts;
    size_t n = 0;
    while (!SA_CFG_OPT_END(&opts[n])) n++;
    int rows[SA_TOPIC_CONFIG_ROWS_MAX];
    size_t nrows = dynamic_rows(store, scope, rows, SA_TOPIC_CONFIG_ROWS_MAX);
    out->Configs = sa_arena_calloc(&req->arena, n + nrows, sizeof(*out->Configs));
    if (!out->Configs) return SA_ERR_TOOBIG;
    sa_err_t err;
    for (size_t i = 0; i < n && scope == SA_BROKER_SCOPE_NODE; i++) {
        const sa_cfg_opt_t *o = &opts[i];
        if (!o->name || o->type == SA_CFG_LIST || o->type == SA_CFG_FILE || is_alias(opts, i) ||
            !wanted(res, o->name))
            continue;
        sa_config_entry_t e = {
            .name = o->name, .read_only = 1, .vtype = broker_vtype(o->type), .doc = o->help};
        if ((err = broker_value(req, o, &e.value, &e.is_default)) != SA_OK) return err;
        e.origin = e.is_default ? SA_CONFIG_ORIGIN_DEFAULT : SA_CONFIG_ORIGIN_STATIC_BROKER;
        e.base_origin = e.origin;
        snprintf(e.base_value, sizeof(e.base_value), "%s", e.value ? e.value : "");
        int row = sa_broker_config_row(o->name);
        if (row >= 0) {
            e.read_only = 0;
            dynamic_entry(store, scope, row, &e);
        }
        if ((err = fill_entry(req, dreq, &e, LEVEL_BROKER, &out->Configs[out->Configs_count])) != SA_OK)
            return err;
        out->Configs_count++;
    }
    for (size_t r = 0; r < nrows; r++) {
        const char *key = sa_topic_config_synonym(rows[r]);
        int listed = 0;
        for (size_t i = 0; i < n && scope == SA_BROKER_SCOPE_NODE; i++)
            listed |= opts[i].name && !strcmp(opts[i].name, key);
        if (listed || !wanted(res, key)) continue;
        sa_config_entry_t e = {
            .name = key, .vtype = sa_topic_config_type(rows[r]), .base_origin = SA_CONFIG_ORIGIN_DEFAULT};
        snprintf(e.base_value, sizeof(e.base_value), "%s", sa_topic_config_default(rows[r]));
        dynamic_entry(store, scope, rows[r], &e);
        int level = scope == SA_BROKER_SCOPE_DEFAULT ? LEVEL_BROKER_DEFAULT : LEVEL_BROKER;
        if ((err = fill_entry(req, dreq, &e, level, &out->Configs[out->Configs_count])) != SA_OK) return err;
        out->Configs_count++;
    }
    return SA_OK;
}

sa_err_t sa_handle_DescribeConfigs(sa_req_t *req) {
    sa_DescribeConfigsRequest_t dreq;
    sa_err_t err = sa_kit_decode(req, &dreq);
    if (err != SA_OK) return err;
    if (req->ApiVersion < 1) dreq.IncludeSynonyms = false;
    sa_DescribeConfigsResponse_t resp;
    sa_DescribeConfigsResponse_init(&resp);
    if (!SA_KIT_ARRAY(req, resp.Results, dreq.Resources_count)) return SA_ERR_TOOBIG;
    for (int32_t i = 0; i < resp.Results_count && err == SA_OK; i++) {
        const dresource_t *res = &dreq.Resources[i];
        dresult_t *out = &resp.Results[i];
        sa_DescribeConfigsResponse_DescribeConfigsResult_init(out);
        out->ResourceType = res->ResourceType;
        out->ResourceName = res->ResourceName;
        out->Configs_count = 0;
        if (res->ResourceType == SA_ADMIN_RESOURCE_TOPIC) {
            err = describe_topic(req, &dreq, res, out);
        } else if (res->ResourceType == SA_ADMIN_RESOURCE_BROKER) {
            sa_err_t denied = sa_kit_authorize_cluster(req); /* DESCRIBE_CONFIGS on the cluster */
            if (denied)
                SA_KIT_SET_ERROR(req, out, denied, NULL);
            else
                err = describe_broker(req, &dreq, res, out);
        } else {
            SA_KIT_SET_ERROR(req, out, SA_ERR_INVALID_REQUEST,
                             res->ResourceType == SA_ADMIN_RESOURCE_BROKER_LOGGER
                                 ? "Broker loggers are not supported by samsa"
                                 : "Unsupported resource type");
        }
    }
    return err != SA_OK ? err : sa_kit_encode(req, &resp);
}
