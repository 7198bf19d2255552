/*
 * kafka_conn.h - one blocking Kafka connection for the requests librdkafka has no API for in the
 * version Debian ships (2.0: DescribeUserScramCredentials, AlterUserScramCredentials), over the
 * same security settings a samsa client gets from -X/-F (client.h), read with librdkafka's names:
 *
 *   security.protocol            plaintext | ssl | sasl_plaintext | sasl_ssl
 *   ssl.ca.location              PEM CAs to verify the broker (default: the system's)
 *   ssl.certificate.location, ssl.key.location, ssl.key.password    a client certificate
 *   ssl.endpoint.identification.algorithm   https (default: the broker's name must match) | none
 *   enable.ssl.certificate.verification     true (default) | false
 *   sasl.mechanism(s), sasl.username, sasl.password    PLAIN, SCRAM-SHA-256, SCRAM-SHA-512
 *
 * Requests and responses go through the generated codec (proto/), with the header version the
 * API's flexibility asks for. The SCRAM client is core/scram.h's, the TLS is OpenSSL's. Meant for
 * short admin commands: one connection to the first bootstrap server that answers, requests in
 * turn, every wait bounded by the timeout given at open.
 */
#ifndef SA_CLIENT_KAFKA_CONN_H
#define SA_CLIENT_KAFKA_CONN_H

#include <stddef.h>
#include <stdint.h>

#include "core/arena.h"
#include "core/config.h"
#include "core/err.h"

typedef struct sa_kconn_s sa_kconn_t;

/**
 * Connect to the first server of @p bootstrap ("host:port[,...]") that accepts, with the
 * security settings among @p props ("KEY=VALUE" strings, borrowed), and authenticate.
 * @returns SA_OK and *out (returns new); else an error with one line in @p errstr (which server,
 * what failed: refused, TLS verification, SASL with the broker's message).
 */
sa_err_t sa_kconn_open(const char *bootstrap, const sa_strlist_t *props, int timeout_ms, sa_kconn_t **out,
                       char *errstr, size_t errstr_size);

/**
 * Send @p req (the API's sa_<Api>Request_t, borrowed) as @p api_key v@p version and decode the
 * answer into @p resp (its sa_<Api>Response_t; strings and arrays in @p arena and in memory the
 * connection keeps until the next request or close).
 * @returns SA_OK, or an error with @p errstr (the connection is then unusable).
 */
sa_err_t sa_kconn_request(sa_kconn_t *c, int16_t api_key, int16_t version, const void *req, void *resp,
                          sa_arena_t *arena, char *errstr, size_t errstr_size);

/** Close and free @p c (NULL is fine). */
void sa_kconn_close(sa_kconn_t *c);

#endif
