/*
 * tls.c - the broker's TLS context and transport over OpenSSL (see tls.h).
 *
 * Non-blocking I/O. The SSL object reads and writes the socket itself; SSL_ERROR_WANT_READ and
 * SSL_ERROR_WANT_WRITE become EAGAIN, and wants() tells conn.c which event to wait for (a read
 * may need the socket writable during a TLS 1.3 key update, and the other way round).
 *
 * Writes. A connection's responses come as an iovec (the in-order queue). Each SSL_write makes
 * at least one TLS record and one write(2), so small responses are first copied into a 16 KiB
 * staging buffer (one record), and a response that is at least that large goes out straight
 * from its own memory (OpenSSL splits it into records). SSL_MODE_ENABLE_PARTIAL_WRITE returns
 * after each record written, so the queue's accounting of "bytes taken" stays exact. A write
 * that returned WANT_WRITE must be retried with the same leading bytes: the staging is a pure
 * function of the queue's head bytes (the first min(16 KiB, queued) of them, or the whole first
 * response when it is large), the queue only grows at its tail until bytes are taken, and
 * SSL_MODE_ACCEPT_MOVING_WRITE_BUFFER lets the retry come from another address.
 *
 * Reads use OpenSSL's read-ahead (one read(2) fetches several records); decrypted or raw bytes
 * left inside OpenSSL are reported by pending(), which conn.c drains since epoll cannot see them.
 * A peer that closes without close_notify reads as an orderly end (SSL_OP_IGNORE_UNEXPECTED_EOF):
 * Kafka clients do, and there is no truncation attack on length-framed requests.
 */
#include "broker/security/tls.h"

#include <errno.h>
#include <openssl/err.h>
#include <openssl/ssl.h>
#include <openssl/x509.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "broker/loop.h"
#include "broker/security/listener.h"
#include "core/mem.h"

#define STAGE_SIZE   (16 * 1024)  /* one TLS record of plaintext */
#define READ_BUFFER  (128 * 1024) /* read-ahead: what one read(2) may bring in */
#define SET_ERR(...) snprintf(errstr, errstr_size, __VA_ARGS__)

struct sa_tls_ctx_s {
    SSL_CTX *ssl_ctx;
    char *key_password; /* owned; for the passphrase callback */
};

typedef struct tls_s {
    SSL *ssl;
    unsigned wants; /* SA_LOOP_* the last EAGAIN waits for */
    uint8_t *stage; /* STAGE_SIZE bytes, allocated at the first small write */
    char why[160];  /* last failure */
} tls_t;

/* The first OpenSSL error of the queue as text (and clear the queue). */
static void ssl_reason(char *out, size_t size, const char *fallback) {
    unsigned long e = ERR_get_error();
    if (e)
        ERR_error_string_n(e, out, size);
    else
        snprintf(out, size, "%s", fallback);
    ERR_clear_error();
}

static int password_cb(char *buf, int size, int rwflag, void *userdata) {
    (void)rwflag;
    const char *pw = userdata;
    if (!pw) return 0;
    int n = (int)strlen(pw);
    if (n > size) n = size;
    memcpy(buf, pw, (size_t)n);
    return n;
}

static int is_pem(const char *type) { return !type || !*type || !strcasecmp(type, "PEM"); }

sa_err_t sa_tls_ctx_new(const sa_tls_conf_t *conf, sa_tls_ctx_t **out, char *errstr, size_t errstr_size) {
    *out = NULL;
    char reason[160];
    const char *cert = *conf->keystore_location ? conf->keystore_location : conf->cert_location;
    const char *key = *conf->keystore_location ? conf->keystore_location : conf->key_location;
    if (!is_pem(conf->keystore_type) || !is_pem(conf->truststore_type)) {
        SET_ERR("ssl.keystore.type/ssl.truststore.type: samsa reads PEM files only (convert a JKS or PKCS12 "
                "keystore with keytool/openssl, see docs/security.md)");
        return SA_ERR_INVALID_ARG;
    }
    if (*conf->keystore_location && (*conf->cert_location || *conf->key_location)) {
        SET_ERR(
            "set either ssl.keystore.location (key and chain in one PEM file) or ssl.certificate.location + "
            "ssl.key.location, not both");
        return SA_ERR_INVALID_ARG;
    }
    if (!*cert || !*key) {
        SET_ERR("a TLS listener (SSL, SASL_SSL) needs a key and certificate: ssl.keystore.location (PEM with "
                "both) "
                "or ssl.certificate.location + ssl.key.location");
        return SA_ERR_INVALID_ARG;
    }
    if (conf->need_truststore && !*conf->truststore_location) {
        SET_ERR("ssl.client.auth asks for client certificates: set ssl.truststore.location (PEM CA file)");
        return SA_ERR_INVALID_ARG;
    }
    sa_tls_ctx_t *ctx = sa_new(sa_tls_ctx_t);
    ERR_clear_error();
    ctx->ssl_ctx = SSL_CTX_new(TLS_server_method());
    if (!ctx->ssl_ctx) goto ssl_fail;
    SSL_CTX_set_min_proto_version(ctx->ssl_ctx, TLS1_2_VERSION);
    /* Buffers stay with the connection (no SSL_MODE_RELEASE_BUFFERS: freeing and reallocating
     * them around every burst costs throughput to save ~34 KiB per idle connection). */
    SSL_CTX_set_mode(ctx->ssl_ctx, SSL_MODE_ENABLE_PARTIAL_WRITE | SSL_MODE_ACCEPT_MOVING_WRITE_BUFFER);
    SSL_CTX_set_options(ctx->ssl_ctx, SSL_OP_IGNORE_UNEXPECTED_EOF | SSL_OP_NO_RENEGOTIATION |
                                          SSL_OP_CIPHER_SERVER_PREFERENCE);
    /* AES-128-GCM first: strong, and the fastest suite with AES-NI (librdkafka lists AES-256
     * first; with server preference, the broker's order decides). */
    SSL_CTX_set_ciphersuites(ctx->ssl_ctx,
                             "TLS_AES_128_GCM_SHA256:TLS_AES_256_GCM_SHA384:TLS_CHACHA20_POLY1305_SHA256");
    SSL_CTX_set_read_ahead(ctx->ssl_ctx, 1);
    SSL_CTX_set_default_read_buffer_len(ctx->ssl_ctx, READ_BUFFER); /* several records per read(2) */
    if (*conf->key_password) {
        ctx->key_password = sa_strdup(conf->key_password);
        SSL_CTX_set_default_passwd_cb(ctx->ssl_ctx, password_cb);
        SSL_CTX_set_default_passwd_cb_userdata(ctx->ssl_ctx, ctx->key_password);
    }
    if (SSL_CTX_use_certificate_chain_file(ctx->ssl_ctx, cert) != 1) {
        ssl_reason(reason, sizeof(reason), "unreadable");
        SET_ERR("%s: cannot load the certificate (chain) in PEM: %s", cert, reason);
        goto fail;
    }
    if (SSL_CTX_use_PrivateKey_file(ctx->ssl_ctx, key, SSL_FILETYPE_PEM) != 1) {
        int mismatch = ERR_GET_REASON(ERR_peek_last_error()) == X509_R_KEY_VALUES_MISMATCH;
        ssl_reason(reason, sizeof(reason), "unreadable");
        if (mismatch) {
            SET_ERR("%s: the private key does not match the certificate %s", key, cert);
            goto fail;
        }
        SET_ERR("%s: cannot load the private key in PEM (wrong ssl.key.password?): %s", key, reason);
        goto fail;
    }
    if (SSL_CTX_check_private_key(ctx->ssl_ctx) != 1) {
        ssl_reason(reason, sizeof(reason), "mismatch");
        SET_ERR("%s: the private key does not match the certificate: %s", key, reason);
        goto fail;
    }
    if (*conf->truststore_location) {
        if (SSL_CTX_load_verify_locations(ctx->ssl_ctx, conf->truststore_location, NULL) != 1) {
            ssl_reason(reason, sizeof(reason), "unreadable");
            SET_ERR("ssl.truststore.location %s: cannot load the CA certificates in PEM: %s",
                    conf->truststore_location, reason);
            goto fail;
        }
        STACK_OF(X509_NAME) *names = SSL_load_client_CA_file(conf->truststore_location);
        if (names) SSL_CTX_set_client_CA_list(ctx->ssl_ctx, names);
    }
    *out = ctx;
    return SA_OK;
ssl_fail:
    ssl_reason(reason, sizeof(reason), "out of memory");
    SET_ERR("cannot create a TLS context: %s", reason);
fail:
    sa_tls_ctx_free(ctx);
    return SA_ERR_INVALID_ARG;
}

void sa_tls_ctx_free(sa_tls_ctx_t *ctx) {
    if (!ctx) return;
    SSL_CTX_free(ctx->ssl_ctx);
    if (ctx->key_password) {
        OPENSSL_cleanse(ctx->key_password, strlen(ctx->key_password));
        free(ctx->key_password);
    }
    free(ctx);
}

void *sa_tls_new(sa_tls_ctx_t *ctx, int fd, int client_auth) {
    tls_t *t = sa_new(tls_t);
    ERR_clear_error();
    t->ssl = SSL_new(ctx->ssl_ctx);
    if (!t->ssl || SSL_set_fd(t->ssl, fd) != 1) {
        SSL_free(t->ssl);
        free(t);
        ERR_clear_error();
        return NULL;
    }
    if (client_auth != SA_TLS_CLIENT_AUTH_NONE)
        SSL_set_verify(t->ssl,
                       SSL_VERIFY_PEER |
                           (client_auth == SA_TLS_CLIENT_AUTH_REQUIRED ? SSL_VERIFY_FAIL_IF_NO_PEER_CERT : 0),
                       NULL);
    SSL_set_accept_state(t->ssl);
    t->wants = SA_LOOP_READ;
    return t;
}

/* Map the result @p rc of an SSL call to the transport contract. @returns -1 with errno. */
static int ssl_fail(tls_t *t, int rc) {
    int e = SSL_get_error(t->ssl, rc);
    switch (e) {
    case SSL_ERROR_WANT_READ:
        t->wants = SA_LOOP_READ;
        errno = EAGAIN;
        return -1;
    case SSL_ERROR_WANT_WRITE:
        t->wants = SA_LOOP_WRITE;
        errno = EAGAIN;
        return -1;
    case SSL_ERROR_ZERO_RETURN: return 0;
    case SSL_ERROR_SYSCALL:
        if (!errno) errno = ECONNRESET;
        snprintf(t->why, sizeof(t->why), "%s", strerror(errno));
        ERR_clear_error();
        return -1;
    default:
        ssl_reason(t->why, sizeof(t->why), "TLS error");
        errno = EPROTO;
        return -1;
    }
}

static int tls_handshake(void *p) {
    tls_t *t = p;
    ERR_clear_error();
    errno = 0;
    int rc = SSL_do_handshake(t->ssl);
    if (rc == 1) return 1;
    int r = ssl_fail(t, rc);
    if (r < 0 && errno == EAGAIN) return 0;
    if (r == 0) snprintf(t->why, sizeof(t->why), "peer closed during the TLS handshake");
    return -1;
}

static ssize_t tls_read(void *p, void *buf, size_t len) {
    tls_t *t = p;
    if (len > INT32_MAX) len = INT32_MAX;
    ERR_clear_error();
    errno = 0;
    int n = SSL_read(t->ssl, buf, (int)len);
    if (n > 0) return n;
    return ssl_fail(t, n);
}

static ssize_t tls_writev(void *p, const struct iovec *iov, int iovcnt) {
    tls_t *t = p;
    const void *data;
    size_t len;
    if (iovcnt <= 0) return 0;
    if (iov[0].iov_len >= STAGE_SIZE) {
        data = iov[0].iov_base;
        len = iov[0].iov_len > INT32_MAX ? INT32_MAX : iov[0].iov_len;
    } else {
        if (!t->stage) t->stage = sa_malloc(STAGE_SIZE);
        len = 0;
        for (int i = 0; i < iovcnt && len < STAGE_SIZE; i++) {
            size_t take = iov[i].iov_len < STAGE_SIZE - len ? iov[i].iov_len : STAGE_SIZE - len;
            memcpy(t->stage + len, iov[i].iov_base, take);
            len += take;
        }
        data = t->stage;
    }
    ERR_clear_error();
    errno = 0;
    int n = SSL_write(t->ssl, data, (int)len);
    if (n > 0) return n;
    if (ssl_fail(t, n) == 0) errno = EPIPE; /* close_notify received while writing */
    return -1;
}

static int tls_pending(const void *p) { return SSL_has_pending(((const tls_t *)p)->ssl); }
static unsigned tls_wants(const void *p) { return ((const tls_t *)p)->wants; }
static const char *tls_why(const void *p) { return ((const tls_t *)p)->why; }

static void tls_free(void *p) {
    tls_t *t = p;
    if (!t) return;
    SSL_free(t->ssl);
    free(t->stage);
    free(t);
}

const sa_transport_t sa_transport_tls = {"tls",       tls_handshake, tls_read, tls_writev,
                                         tls_pending, tls_wants,     tls_why,  tls_free};

int sa_tls_peer_principal(const void *p, char *out, size_t size) {
    const tls_t *t = p;
    X509 *cert = SSL_get0_peer_certificate(t->ssl);
    if (!cert || SSL_get_verify_result(t->ssl) != X509_V_OK) return 0;
    BIO *bio = BIO_new(BIO_s_mem());
    if (!bio) return 0;
    /* RFC 2253 order and escaping, as Java's X500Principal.getName(); UTF-8 kept as is. */
    X509_NAME_print_ex(bio, X509_get_subject_name(cert), 0, XN_FLAG_RFC2253 & ~ASN1_STRFLGS_ESC_MSB);
    char *text = NULL;
    long n = BIO_get_mem_data(bio, &text);
    snprintf(out, size, "User:%.*s", (int)(n > 0 ? n : 0), text ? text : "");
    BIO_free(bio);
    return 1;
}
