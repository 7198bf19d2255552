/*
 * handlers.h - every request handler the dispatch table (dispatch.c) points at.
 *
 * Contract of a handler (see broker.h, "ADDING A HANDLER"): decode req->body at
 * req->ApiVersion, encode the response body onto &req->resp and return SA_OK; or park the
 * request with sa_req_defer() and return SA_ERR_AGAIN; SA_ERR_PARSE for a malformed body.
 */
#ifndef SA_BROKER_HANDLERS_H
#define SA_BROKER_HANDLERS_H

#include "broker/broker.h"

/* Data path (this module). */
sa_err_t sa_handle_ApiVersions(sa_req_t *req); /* handle_apiversions.c */
sa_err_t sa_handle_Metadata(sa_req_t *req);    /* handle_metadata.c */
sa_err_t sa_handle_Produce(sa_req_t *req);     /* handle_produce.c */
sa_err_t sa_handle_Fetch(sa_req_t *req);       /* handle_fetch.c */
sa_err_t sa_handle_ListOffsets(sa_req_t *req); /* handle_listoffsets.c */

#endif
