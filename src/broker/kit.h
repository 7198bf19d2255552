/*
 * kit.h - the request handlers' kit: the one way every handler (src/broker/handle_*.c) decodes,
 * names things, reports errors per entry, checks authorization and answers, now or later.
 * Internal to src/broker. Broker.h's "ADDING A HANDLER" shows it at work.
 *
 * THE CONTRACT. A handler runs on the loop thread with a request whose header is decoded and
 * whose response header is already in req->resp (dispatch.c). It
 *   1. decodes the body: sa_kit_decode(req, &in); a failure is returned as it is (the
 *      connection is closed, as Kafka does);
 *   2. builds the answer in req->arena (freed with the request): arrays with SA_KIT_ARRAY,
 *      names with sa_kit_topic / sa_kit_str. The arena is capped (the frame's decode cap plus a
 *      response allowance, dispatch.c); past the cap an allocation returns NULL and the handler
 *      returns SA_ERR_TOOBIG, which closes the connection. Only answers whose size follows the
 *      broker's state without bound (ListGroups, DescribeGroups, OffsetFetch) are malloc'd;
 *   3. answers per entry: each topic, partition, group or resource gets its own ErrorCode (and
 *      ErrorMessage where the version has one) from sa_kit_code / SA_KIT_SET_ERROR, and the other
 *      entries still run, as in Kafka. Errors the client should see are never a return value;
 *   4. answers: returns sa_kit_encode(req, &out) (the encoder's result, SA_OK normally); or,
 *      for an answer that must wait, registers what will complete the request and returns
 *      SA_ERR_AGAIN: after a group commit with sa_kit_answer_after_sync, once metadata-log records
 *      are durable with sa_kit_answer_when_durable, or on its own event (a long-polling Fetch, a
 *      rebalance) with sa_req_defer and, when the answer is encoded, sa_kit_finish.
 * Authorization: sa_kit_authorize() is the one check of an operation on a resource for this
 * request's principal; it returns the resource type's *_AUTHORIZATION_FAILED code, so it slots
 * into a handler's chain of per-entry checks. The cluster-level check an API needs is a column of
 * dispatch.c's table, checked with sa_kit_authorize_cluster(). Both ask the broker's authorizer
 * (authz.h, ACLs with Kafka's rules in acl.h); without one configured, everything is allowed.
 *
 * @locality the broker's loop thread.
 */
#ifndef SA_BROKER_KIT_H
#define SA_BROKER_KIT_H

#include <stddef.h>
#include <stdint.h>

#include "broker/authz.h"
#include "broker/broker.h"
#include "proto/proto.h"
#include "storage/storage.h"

/* ---- decode, encode, memory --------------------------------------------------------------- */

/**
 * Decode req->body as the request message of req->ApiKey at req->ApiVersion into @p msg (the
 * API's sa_<Api>Request_t). Strings point into the frame, arrays into req->arena.
 * @returns SA_OK, SA_ERR_TOOBIG (arena cap) or SA_ERR_PARSE: return it from the handler.
 */
sa_err_t sa_kit_decode(sa_req_t *req, void *msg);

/** Encode @p msg (the API's sa_<Api>Response_t, borrowed) onto req->resp at req->ApiVersion.
 *  @returns SA_OK or the encoder's error. */
sa_err_t sa_kit_encode(sa_req_t *req, const void *msg);

/**
 * @returns new in req->arena: @p count zeroed elements of @p size bytes (a negative count, a
 * null array from the wire, counts as 0 and still gets a valid pointer); *@p count_out (may be
 * NULL) gets the count used. NULL past the arena cap. Use SA_KIT_ARRAY for a response array.
 */
static inline void *sa_kit_array(sa_req_t *req, int32_t count, size_t size, int32_t *count_out) {
    if (count < 0) count = 0;
    void *p = sa_arena_calloc(&req->arena, (size_t)count, size); /* never NULL for 0 under the cap */
    if (count_out) *count_out = p ? count : 0;
    return p;
}
/** Allocate response array @p field (e.g. resp.Topics) of @p count elements and set its
 *  field_count (resp.Topics_count). @returns the array, NULL past the arena cap. */
#define SA_KIT_ARRAY(req, field, count)                                                                      \
    ((field) = sa_kit_array((req), (count), sizeof(*(field)), &(field##_count)))

/* ---- names from the wire ------------------------------------------------------------------ */

/**
 * Turn topic name @p s into a C string: *name (returns new, in req->arena) is NUL-terminated.
 * @returns SA_OK; INVALID_TOPIC_EXCEPTION for a null name or one holding a NUL byte (it could
 *          not be the name it looks like; *name is then "" so lookups fail cleanly);
 *          SA_ERR_TOOBIG past the arena cap.
 */
sa_err_t sa_kit_topic(sa_req_t *req, sa_str_t s, const char **name);
/** @returns new in req->arena: a NUL-terminated copy of @p s (group ids, member ids...), "" for
 *  null; never NULL (request strings are views into the frame, which the arena cap always fits;
 *  past it, ""). */
const char *sa_kit_str(sa_req_t *req, sa_str_t s);
/** sa_kit_str(), but NULL for a null @p s (the optional strings: GroupInstanceId ...). */
const char *sa_kit_nstr(sa_req_t *req, sa_str_t s);
/** @returns new in req->arena: "/IP" of the peer, as Kafka's ClientHost. */
const char *sa_kit_client_host(sa_req_t *req);
/** @returns the topic whose id is @p id, or NULL (valid as sa_store_topic_at's result). */
sa_topic_t *sa_kit_topic_by_id(sa_req_t *req, const sa_uuid_t *id);

/**
 * Find the names given more than once in a request (Kafka fails every copy of a repeated name):
 * @p items is an array of @p count elements of @p stride bytes, each holding an sa_str_t at
 * @p name_off. *repeated gets count flags (returns new, in req->arena): 1 where that element's
 * name appears elsewhere too; *nrepeated (may be NULL) how many are flagged. O(n log n), so
 * a request with a million names stays cheap.
 * @returns SA_OK or SA_ERR_TOOBIG. Use SA_KIT_MARK_REPEATED.
 */
sa_err_t sa_kit_mark_repeated(sa_req_t *req, const void *items, int32_t count, size_t stride, size_t name_off,
                              uint8_t **repeated, size_t *nrepeated);
#define SA_KIT_MARK_REPEATED(req, arr, count, field, repeated, nrepeated)                                    \
    sa_kit_mark_repeated((req), (arr), (count), sizeof(*(arr)), offsetof(__typeof__(*(arr)), field),         \
                         (repeated), (nrepeated))

/* ---- errors per entry --------------------------------------------------------------------- */

/** @returns the wire ErrorCode for @p err: Kafka codes as they are, internal ones UNKNOWN_SERVER_ERROR. */
int16_t sa_kit_code(sa_err_t err);

/**
 * @returns the ErrorMessage for @p err: null for SA_OK, else @p errstr (copied into req->arena)
 * when non-empty, else the code's description (static). Never fails: past the arena cap it
 * falls back to the static description.
 */
sa_str_t sa_kit_message(sa_req_t *req, sa_err_t err, const char *errstr);

/** Set @p entry's ErrorCode and ErrorMessage from @p err and @p errstr (may be NULL or ""). */
#define SA_KIT_SET_ERROR(req, entry, err, errstr)                                                            \
    ((entry)->ErrorCode = sa_kit_code(err), (entry)->ErrorMessage = sa_kit_message((req), (err), (errstr)))

/* ---- authorization ------------------------------------------------------------------------ */

/**
 * May @p req's principal perform @p op on resource @p type named @p name (borrowed; "" for the
 * cluster)? @returns SA_OK, or the type's authorization error (TOPIC_, GROUP_, CLUSTER_,
 * TRANSACTIONAL_ID_AUTHORIZATION_FAILED...) to put in the entry:
 *     if (err == SA_OK) err = sa_kit_authorize(req, SA_ACL_DELETE, SA_RESOURCE_TOPIC, name);
 */
sa_err_t sa_kit_authorize(sa_req_t *req, sa_acl_op_t op, sa_resource_type_t type, const char *name);
/** The cluster-level check dispatch.c's table names for req->ApiKey (SA_OK for an API without
 *  one): whether it gates the whole request, a kind of entry, or is a fallback is the API's
 *  rule, so the handler calls this where Kafka checks it. */
sa_err_t sa_kit_authorize_cluster(sa_req_t *req);

/* ---- answering later ---------------------------------------------------------------------- */

/**
 * Encode @p req's response (onto req->resp, usually with sa_kit_encode). @p durable is 0 when
 * what the request appended may be lost: a failed sync of the metadata log (answer_when_durable)
 * or of some partition (answer_after_sync; each partition is then checked by the callback).
 * @returns the encoder's result.
 */
typedef sa_err_t sa_kit_answer_fn(sa_req_t *req, void *arg, int durable);

/**
 * Answer @p req once metadata-log record @p seq (the last the request appended; 0: none) is
 * durable: at once if it is, else after the group commit that covers it (the request parks on
 * the broker's sync list and is cancelled with its connection). @p arg must live as long as the
 * request (its arena). @returns what the handler returns: the encoder's result when answered at
 * once, SA_ERR_AGAIN when parked (or SA_ERR_TOOBIG past the arena cap).
 */
sa_err_t sa_kit_answer_when_durable(sa_req_t *req, uint64_t seq, sa_kit_answer_fn *answer, void *arg);

/** Answer @p req after the next group commit (sa_broker_wait_sync), whatever it appended.
 *  @returns SA_ERR_AGAIN (or SA_ERR_TOOBIG past the arena cap): the handler returns it. */
sa_err_t sa_kit_answer_after_sync(sa_req_t *req, sa_kit_answer_fn *answer, void *arg);

/** A deferred @p req's response was encoded with result @p enc_err: log a failure, then send it
 *  (sa_req_complete). */
void sa_kit_finish(sa_req_t *req, sa_err_t enc_err);

#endif
