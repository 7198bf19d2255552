/*
 * handle_apiversions.c - ApiVersions (key 18): what this broker serves, from the dispatch table.
 *
 * The list is built from the table, so it shows exactly the handlers that exist. A version
 * this broker does not know gets the v0 answer with UNSUPPORTED_VERSION and the full list
 * (KIP-511): the client then retries with a version from it. The response header is always v0
 * (written by dispatch through sa_proto_write_response_header).
 */
#include "broker/dispatch.h"
#include "broker/handlers.h"
#include "broker/kit.h"
#include "proto/proto.h"

sa_err_t sa_handle_ApiVersions(sa_req_t *req) {
    const sa_api_t *self = sa_dispatch_api(SA_API_ApiVersions);
    int16_t version = req->ApiVersion;
    sa_ApiVersionsResponse_t resp;
    sa_ApiVersionsResponse_init(&resp);
    if (version < self->min || version > self->max) {
        version = 0;
        resp.ErrorCode = SA_ERR_UNSUPPORTED_VERSION;
    } else {
        /* The body only carries the client's software name (v3+); we do not need it, but a
         * body that does not parse is still a malformed request. */
        sa_ApiVersionsRequest_t body;
        if (sa_kit_decode(req, &body) != SA_OK) {
            /* Kafka answers INVALID_REQUEST here rather than closing. */
            resp.ErrorCode = SA_ERR_INVALID_REQUEST;
        }
    }
    int n = 0, slots = sa_dispatch_api_count();
    for (int key = 0; key < slots; key++) n += sa_dispatch_api(key) != NULL;
    if (!SA_KIT_ARRAY(req, resp.ApiKeys, n)) return SA_ERR_TOOBIG;
    n = 0;
    for (int key = 0; key < slots; key++) {
        const sa_api_t *api = sa_dispatch_api(key);
        if (!api) continue;
        resp.ApiKeys[n++] = (sa_ApiVersionsResponse_ApiVersion_t){(int16_t)key, api->min, api->max};
    }
    /* not sa_kit_encode: an unknown version is answered in v0 */
    return sa_ApiVersionsResponse_encode(&resp, version, &req->resp);
}
