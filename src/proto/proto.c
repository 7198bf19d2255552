/*
 * proto.c - api table lookups and header versions over the generated table (see proto.h).
 */
#include "proto/proto.h"

const sa_proto_api_t *sa_proto_api(int16_t api_key) {
    /* The table is small and sorted by key; keys are dense enough that a scan is as fast. */
    for (size_t i = 0; i < SA_PROTO_API_COUNT; i++) {
        if (sa_proto_apis[i].key == api_key) return &sa_proto_apis[i];
        if (sa_proto_apis[i].key > api_key) break;
    }
    return NULL;
}

const char *sa_proto_api_name(int16_t api_key) {
    const sa_proto_api_t *api = sa_proto_api(api_key);
    return api ? api->name : "Unknown";
}

bool sa_proto_is_flexible(int16_t api_key, int16_t version) {
    const sa_proto_api_t *api = sa_proto_api(api_key);
    return api && version >= api->flexible_min;
}

int16_t sa_proto_request_header_version(int16_t api_key, int16_t version) {
    return sa_proto_is_flexible(api_key, version) ? 2 : 1;
}

int16_t sa_proto_response_header_version(int16_t api_key, int16_t version) {
    if (api_key == SA_API_ApiVersions) return 0;
    return sa_proto_is_flexible(api_key, version) ? 1 : 0;
}

sa_err_t sa_proto_read_request_header(sa_rd_t *rd, sa_arena_t *arena, sa_RequestHeader_t *hdr) {
    if (sa_rd_left(rd) < 4) {
        sa_RequestHeader_init(hdr);
        sa_rd_fail(rd, SA_ERR_PARSE);
        return SA_ERR_PARSE;
    }
    int16_t key = (int16_t)sa_load_be16(rd->p);
    int16_t version = (int16_t)sa_load_be16(rd->p + 2);
    sa_err_t err = sa_RequestHeader_decode(rd, sa_proto_request_header_version(key, version), arena, hdr);
    return err ? SA_ERR_PARSE : SA_OK;
}

sa_err_t sa_proto_write_response_header(sa_buf_t *out, int16_t api_key, int16_t version,
                                        int32_t correlation_id) {
    sa_ResponseHeader_t hdr;
    sa_ResponseHeader_init(&hdr);
    hdr.CorrelationId = correlation_id;
    return sa_ResponseHeader_encode(&hdr, sa_proto_response_header_version(api_key, version), out);
}
