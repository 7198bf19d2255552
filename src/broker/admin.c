/*
 * admin.c - helpers shared by the admin handlers (see admin.h).
 *
 * Decoding and encoding go through the codec table (sa_proto_api), so each handler calls one
 * function whatever its message type; the generated per-message functions are what runs.
 */
#include "broker/admin.h"

#include <stdlib.h>
#include <string.h>

#include "core/mem.h"

sa_err_t sa_admin_decode(sa_req_t *req, void *msg) {
    const sa_proto_api_t *api = sa_proto_api(req->ApiKey);
    if (!api || !api->request) return SA_ERR_PARSE;
    sa_rd_t rd;
    sa_rd_init(&rd, req->body, req->body_len);
    sa_err_t err = api->request->decode(&rd, req->ApiVersion, &req->arena, msg);
    if (err == SA_OK) return SA_OK;
    return err == SA_ERR_TOOBIG ? SA_ERR_TOOBIG : SA_ERR_PARSE;
}

sa_err_t sa_admin_encode(sa_req_t *req, const void *msg) {
    const sa_proto_api_t *api = sa_proto_api(req->ApiKey);
    if (!api || !api->response) return SA_ERR_INVALID_ARG;
    return api->response->encode(msg, req->ApiVersion, &req->resp);
}

sa_err_t sa_admin_name(sa_req_t *req, sa_str_t s, const char **name) {
    *name = "";
    if (sa_str_is_null(s) || (s.len > 0 && memchr(s.ptr, 0, (size_t)s.len)))
        return SA_ERR_INVALID_TOPIC_EXCEPTION;
    char *copy = sa_str_dup(s, &req->arena);
    if (!copy) return SA_ERR_NOMEM;
    *name = copy;
    return SA_OK;
}

int16_t sa_admin_code(sa_err_t err) {
    if (err == SA_OK) return 0;
    return (int16_t)(sa_err_is_kafka(err) ? err : SA_ERR_UNKNOWN_SERVER_ERROR);
}

sa_str_t sa_admin_message(sa_req_t *req, sa_err_t err, const char *errstr) {
    if (err == SA_OK) return SA_STR_NULL;
    if (errstr && *errstr) {
        char *copy = sa_arena_strndup(&req->arena, errstr, strlen(errstr));
        if (copy) return sa_str(copy);
    }
    return sa_str(sa_err2str(sa_admin_code(err)));
}

sa_topic_t *sa_admin_topic_by_id(sa_store_t *store, const sa_uuid_t *id) {
    size_t n = sa_store_topic_count(store);
    for (size_t i = 0; i < n; i++) {
        sa_topic_t *topic = sa_store_topic_at(store, i);
        if (!memcmp(sa_topic_id(topic), id->b, 16)) return topic;
    }
    return NULL;
}

typedef struct named_s {
    sa_str_t name;
    int32_t idx;
} named_t;

static int cmp_named(const void *a, const void *b) {
    const sa_str_t *x = &((const named_t *)a)->name, *y = &((const named_t *)b)->name;
    if (x->len != y->len) return x->len < y->len ? -1 : 1;
    return x->len > 0 ? memcmp(x->ptr, y->ptr, (size_t)x->len) : 0;
}

sa_err_t sa_admin_mark_repeated(sa_req_t *req, const void *items, int32_t count, size_t stride,
                                size_t name_off, uint8_t **repeated, size_t *nrepeated) {
    size_t n = count > 0 ? (size_t)count : 0, flagged = 0;
    const char *base = items;
    named_t *sorted = sa_arena_calloc(&req->arena, n, sizeof(*sorted));
    *repeated = sa_arena_calloc(&req->arena, n, 1);
    if (!sorted || !*repeated) return SA_ERR_NOMEM;
    for (size_t i = 0; i < n; i++) {
        memcpy(&sorted[i].name, base + i * stride + name_off, sizeof(sa_str_t));
        sorted[i].idx = (int32_t)i;
    }
    /* Null names (len -1) sort together and count as equal, as sa_str_same says. */
    qsort(sorted, n, sizeof(*sorted), cmp_named);
    for (size_t i = 1; i < n; i++)
        if (!cmp_named(&sorted[i - 1], &sorted[i]))
            (*repeated)[sorted[i - 1].idx] = (*repeated)[sorted[i].idx] = 1;
    for (size_t i = 0; i < n; i++) flagged += (*repeated)[i];
    if (nrepeated) *nrepeated = flagged;
    return SA_OK;
}

int8_t sa_admin_config_source(sa_config_origin_t origin) {
    switch (origin) {
    case SA_CONFIG_ORIGIN_TOPIC: return SA_CONFIG_SOURCE_DYNAMIC_TOPIC;
    case SA_CONFIG_ORIGIN_DYNAMIC_BROKER: return SA_CONFIG_SOURCE_DYNAMIC_BROKER;
    case SA_CONFIG_ORIGIN_DYNAMIC_DEFAULT: return SA_CONFIG_SOURCE_DYNAMIC_DEFAULT_BROKER;
    case SA_CONFIG_ORIGIN_STATIC_BROKER: return SA_CONFIG_SOURCE_STATIC_BROKER;
    default: return SA_CONFIG_SOURCE_DEFAULT;
    }
}

int8_t sa_admin_config_type(sa_config_vtype_t vtype) {
    static const int8_t wire[] = {
        [SA_CONFIG_VALUE_STRING] = SA_CONFIG_TYPE_STRING, [SA_CONFIG_VALUE_BOOLEAN] = SA_CONFIG_TYPE_BOOLEAN,
        [SA_CONFIG_VALUE_INT] = SA_CONFIG_TYPE_INT,       [SA_CONFIG_VALUE_LONG] = SA_CONFIG_TYPE_LONG,
        [SA_CONFIG_VALUE_DOUBLE] = SA_CONFIG_TYPE_DOUBLE, [SA_CONFIG_VALUE_LIST] = SA_CONFIG_TYPE_LIST,
    };
    return (unsigned)vtype < SA_ARRAY_LEN(wire) ? wire[vtype] : SA_CONFIG_TYPE_STRING;
}
