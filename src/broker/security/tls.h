/*
 * tls.h - the broker's TLS: one OpenSSL server context built from Kafka's ssl.* settings (PEM),
 * and the TLS transport (transport.h) of the connections of SSL and SASL_SSL listeners.
 *
 * Keys and certificates are PEM files (samsa does not read JKS or PKCS12 keystores; `openssl
 * pkcs12` or `keytool -importkeystore` converts them, docs/security.md):
 *   ssl.keystore.type=PEM + ssl.keystore.location=FILE   private key and certificate chain in one
 *                                                         file, as Kafka's PEM keystore
 *   ssl.certificate.location + ssl.key.location           or two files (librdkafka's names)
 *   ssl.key.password                                       the key's passphrase, if encrypted
 *   ssl.truststore.type=PEM + ssl.truststore.location      CAs that sign client certificates
 * TLS 1.2 and 1.3 only. With ssl.client.auth=requested|required the client's certificate is
 * verified against the truststore; its subject becomes the connection's principal:
 * "User:" + the subject in RFC 2253 form ("CN=alice,O=samsa"), as Kafka's DEFAULT
 * ssl.principal.mapping.rules gives it.
 *
 * @locality the broker's loop thread.
 */
#ifndef SA_BROKER_SECURITY_TLS_H
#define SA_BROKER_SECURITY_TLS_H

#include <stddef.h>

#include "broker/transport.h"
#include "core/err.h"

typedef struct sa_tls_ctx_s sa_tls_ctx_t;

typedef struct sa_tls_conf_s {
    const char *keystore_type;       /* ssl.keystore.type: PEM */
    const char *keystore_location;   /* ssl.keystore.location ("" none) */
    const char *key_password;        /* ssl.key.password ("" none); never logged */
    const char *cert_location;       /* ssl.certificate.location ("" none) */
    const char *key_location;        /* ssl.key.location ("" none) */
    const char *truststore_type;     /* ssl.truststore.type: PEM */
    const char *truststore_location; /* ssl.truststore.location ("" none) */
    int need_truststore;             /* some listener asks for client certificates */
} sa_tls_conf_t;

/**
 * Build the server context: load and check the key and certificate (they must match), the
 * truststore. @returns SA_OK and *out (returns new); SA_ERR_INVALID_ARG with one line in
 * @p errstr naming the setting and file.
 */
sa_err_t sa_tls_ctx_new(const sa_tls_conf_t *conf, sa_tls_ctx_t **out, char *errstr, size_t errstr_size);
void sa_tls_ctx_free(sa_tls_ctx_t *ctx);

/** The TLS transport's functions. */
extern const sa_transport_t sa_transport_tls;

/**
 * A TLS transport state for accepted socket @p fd (borrowed), verifying client certificates per
 * @p client_auth (SA_TLS_CLIENT_AUTH_*). @returns new state for sa_transport_tls, or NULL.
 */
void *sa_tls_new(sa_tls_ctx_t *ctx, int fd, int client_auth);

/**
 * After the handshake: the verified client certificate's subject as a principal "User:CN=..."
 * into @p out. @returns 1 if there was one, 0 if none (the principal stays ANONYMOUS).
 */
int sa_tls_peer_principal(const void *t, char *out, size_t size);

#endif
