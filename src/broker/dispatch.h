/*
 * dispatch.h - from a request frame to its handler: header decoding, the API table, version
 * checks, and the ApiVersions list built from that same table. Internal to src/broker.
 */
#ifndef SA_BROKER_DISPATCH_H
#define SA_BROKER_DISPATCH_H

#include "broker/authz.h"
#include "broker/broker.h"

/**
 * Decode the header of req->_frame, write the response header into req->resp, and run the
 * handler of the request's ApiKey.
 * @returns SA_OK (response complete in req->resp, or no response if req->_noreply),
 *          SA_ERR_AGAIN (the handler deferred it), or an error after which the connection must
 *          be closed (malformed frame, unknown API), with a reason in @p errstr.
 */
sa_err_t sa_dispatch(sa_req_t *req, char *errstr, size_t errstr_size);

/** One row of the API table. */
typedef struct sa_api_s {
    int16_t min, max; /* advertised versions, inclusive */
    sa_err_t (*fn)(sa_req_t *req);
    sa_acl_op_t cluster_op; /* the operation on the cluster the API needs (sa_kit_authorize_cluster) */
} sa_api_t;

/** @returns the row for @p api_key, or NULL if no handler is registered for it. */
const sa_api_t *sa_dispatch_api(int api_key);
/** @returns how many ApiKey values the table spans (rows 0..n-1, most of them empty). */
int sa_dispatch_api_count(void);

#endif
