/*
 * client_wire.h - Kafka requests that librdkafka has no API for, sent by samsa itself: a
 * blocking connection to one broker that frames requests and responses with samsa's generated
 * codec (src/proto). librdkafka stays the way samsa speaks Kafka; this is only for the few
 * requests a tool needs that its admin API lacks (librdkafka 2.0.2: FindCoordinator for a
 * transactional id, DescribeTransactions, ListTransactions).
 *
 * Configuration: a connection takes its settings from a librdkafka configuration built by
 * sa_client_conf_new (client.h), so -b, -X and -F mean the same as for every other client:
 * bootstrap.servers, client.id, socket.timeout.ms. It speaks PLAINTEXT only: with another
 * security.protocol (TLS, SASL) opening fails with a message that says so and names Kafka's own
 * tool as the fallback, rather than sending a request the listener cannot read.
 *
 * Design: one request in flight per connection (request, then its response: a tool's few
 * calls need no pipelining); ApiVersions v0 on connect (every Kafka since 0.10 and samsa answer
 * it), so a call can pick the highest version both sides know. Responses are decoded into the
 * caller's arena, frame included: what a call returns lives until that arena is reset.
 *
 * Invariants: a connection whose framing failed (short read, wrong correlation id, a response
 * that does not decode) is closed and every later call on it fails; responses larger than
 * SA_CLIENT_WIRE_MAX_RESPONSE are refused before anything is allocated for them.
 */
#ifndef SA_CLIENT_CLIENT_WIRE_H
#define SA_CLIENT_CLIENT_WIRE_H

#include <librdkafka/rdkafka.h>
#include <stddef.h>
#include <stdint.h>

#include "core/arena.h"

#define SA_CLIENT_WIRE_MAX_RESPONSE (64u << 20) /* bytes: a response frame above this is refused */

typedef struct sa_client_wire_s sa_client_wire_t;

/**
 * @returns 0 if connections can be opened with @p conf (borrowed), or -1 with errstr saying why
 * not (a security.protocol other than PLAINTEXT), so a tool can say so before it connects.
 */
int sa_client_wire_usable(const rd_kafka_conf_t *conf, char *errstr, size_t errstr_size);

/**
 * Connect to @p hostport ("host:port"; NULL: the first of @p conf's bootstrap.servers that
 * answers) and ask its ApiVersions, all within @p timeout_ms.
 * @param conf  borrowed for the call: client.id, bootstrap.servers, security.protocol.
 * @returns new connection (close with sa_client_wire_close), or NULL with errstr saying why.
 */
sa_client_wire_t *sa_client_wire_open(const rd_kafka_conf_t *conf, const char *hostport, int timeout_ms,
                                      char *errstr, size_t errstr_size);

void sa_client_wire_close(sa_client_wire_t *w);

/** @returns the "host:port" this connection goes to (valid until it is closed). */
const char *sa_client_wire_peer(const sa_client_wire_t *w);

/**
 * @returns the highest version of @p api_key that both the broker and samsa's codec speak, or
 * -1 when the broker does not serve the API (or no version is common).
 */
int16_t sa_client_wire_version(const sa_client_wire_t *w, int16_t api_key);

/**
 * Send request @p req (the generated struct of @p api_key's request) at @p version and decode
 * the response into @p resp (the generated response struct), all within @p timeout_ms.
 * @param arena  holds the response frame and its arrays: @p resp is valid until it is reset.
 * @returns 0, or -1 with errstr (the connection is then unusable: close it).
 */
int sa_client_wire_call(sa_client_wire_t *w, int16_t api_key, int16_t version, const void *req, void *resp,
                        sa_arena_t *arena, int timeout_ms, char *errstr, size_t errstr_size);

#endif
