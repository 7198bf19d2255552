/*
 * kafka_conn.h - samsa's own blocking Kafka connection, for the requests librdkafka has no API for
 * in the version Debian ships (2.0.2): DescribeUserScramCredentials and AlterUserScramCredentials
 * (`samsa configs`), FindCoordinator for a transactional id, DescribeTransactions and
 * ListTransactions (`samsa transactions`). librdkafka stays the way samsa speaks Kafka; this is
 * the one way a tool sends what its admin API lacks.
 *
 * Configuration: the same client settings as every librdkafka client of the command (client.h's
 * sa_client_opts_t: -b, -X, -F, $SAMSA_CONFIG), read with librdkafka's names:
 *
 *   bootstrap.servers            where to connect (or the server a caller names)
 *   client.id                    request header ClientId (default samsa-CMD, as client.h sets it)
 *   security.protocol            plaintext | ssl | sasl_plaintext | sasl_ssl
 *   ssl.ca.location              PEM CAs to verify the broker (default: the system's)
 *   ssl.certificate.location, ssl.key.location, ssl.key.password    a client certificate
 *   ssl.endpoint.identification.algorithm   https (default: the broker's name must match) | none
 *   enable.ssl.certificate.verification     true (default) | false
 *   sasl.mechanism(s), sasl.username, sasl.password    PLAIN, SCRAM-SHA-256, SCRAM-SHA-512
 *
 * Design: one request in flight per connection (request, then its response: a tool's few calls
 * need no pipelining). Opening connects, starts TLS, asks ApiVersions v0 (every Kafka since 0.10
 * and samsa answer it, before SASL too) and authenticates, all within the timeout given; then a
 * call can pick the highest version both sides speak (sa_kconn_version). Every call has its own
 * deadline: the socket is non-blocking and each wait is a poll() against it. Requests and
 * responses go through the generated codec (proto/) with the header version the API's
 * flexibility asks for; the SCRAM client is core/scram.h's, the TLS is OpenSSL's.
 *
 * Ownership: a response is decoded into the caller's arena, frame included: what a call returns
 * lives until that arena is reset or freed.
 *
 * Invariants: a connection whose transport or framing failed (I/O error, timeout, short read,
 * wrong correlation id, a response that does not decode) is closed, and every later call on it
 * fails without touching the network; a response frame larger than SA_KCONN_MAX_RESPONSE is
 * refused before anything is allocated for it.
 */
#ifndef SA_CLIENT_KAFKA_CONN_H
#define SA_CLIENT_KAFKA_CONN_H

#include <stddef.h>
#include <stdint.h>

#include "client/client.h"
#include "core/arena.h"
#include "core/err.h"

#define SA_KCONN_MAX_RESPONSE (64u << 20) /* bytes: an admin answer is far smaller */

typedef struct sa_kconn_s sa_kconn_t;

/**
 * Check that this client can honour @p opts' security settings (a known security.protocol; with
 * SASL, a mechanism it speaks), so a tool can say so before it connects anywhere.
 * @returns SA_OK, or SA_ERR_INVALID_ARG with one line in @p errstr naming the setting.
 */
sa_err_t sa_kconn_check(const sa_client_opts_t *opts, char *errstr, size_t errstr_size);

/**
 * Connect to the first server of @p servers ("host:port[,...]"; NULL: @p opts' bootstrap servers)
 * that accepts, start TLS, learn its API versions and authenticate, with the settings of @p opts
 * (borrowed for the call), all within @p timeout_ms.
 * @returns SA_OK and *out (returns new: close with sa_kconn_close); else an error with one line in
 *          @p errstr (which server, what failed: refused, TLS verification, SASL with the broker's
 *          message). SA_ERR_INVALID_ARG: a setting is wrong (sa_kconn_check); SA_ERR_IO: no server
 *          could be reached; anything else: a server answered and refused.
 */
sa_err_t sa_kconn_open(const sa_client_opts_t *opts, const char *servers, int timeout_ms, sa_kconn_t **out,
                       char *errstr, size_t errstr_size);

/** Close and free @p c (NULL is fine). */
void sa_kconn_close(sa_kconn_t *c);

/** @returns the "host:port" @p c goes to (valid until it is closed). */
const char *sa_kconn_peer(const sa_kconn_t *c);

/**
 * @returns the highest version of @p api_key that both the broker and samsa's codec speak, or
 * -1 when the broker does not serve the API (or no version is common).
 */
int16_t sa_kconn_version(const sa_kconn_t *c, int16_t api_key);

/**
 * Send @p req (the API's sa_<Api>Request_t, borrowed) as @p api_key v@p version and decode the
 * answer into @p resp (its sa_<Api>Response_t), all within @p timeout_ms.
 * @param arena  holds the response frame and its arrays: @p resp is valid until it is reset.
 * @returns SA_OK; else an error with @p errstr: SA_ERR_UNSUPPORTED_VERSION (the broker does not
 *          serve that version; nothing was sent, @p c stays usable), SA_ERR_INVALID_ARG (no codec
 *          for it), SA_ERR_CLOSED (an earlier call broke @p c); SA_ERR_IO, SA_ERR_PARSE or
 *          SA_ERR_NOMEM: this call broke it, every later one fails.
 */
sa_err_t sa_kconn_request(sa_kconn_t *c, int16_t api_key, int16_t version, const void *req, void *resp,
                          sa_arena_t *arena, int timeout_ms, char *errstr, size_t errstr_size);

#endif
