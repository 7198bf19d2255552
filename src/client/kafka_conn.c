/*
 * kafka_conn.c - a blocking Kafka connection with TLS and SASL (see kafka_conn.h).
 *
 * Every socket wait is bounded by SO_RCVTIMEO/SO_SNDTIMEO set from the timeout, so a broker that
 * stops answering fails the command instead of hanging it. Frames are read whole into c->frame
 * (capped at 64 MiB: an admin answer is far smaller) and decoded views point into it, valid
 * until the next request.
 */
#include "client/kafka_conn.h"

#include <errno.h>
#include <netdb.h>
#include <openssl/err.h>
#include <openssl/ssl.h>
#include <openssl/x509v3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>

#include "core/buf.h"
#include "core/mem.h"
#include "core/net.h"
#include "core/scram.h"
#include "proto/proto.h"

#define SET_ERR(...) snprintf(errstr, errstr_size, __VA_ARGS__)
#define MAX_FRAME    (64u << 20)
#define CLIENT_ID    "samsa-configs"

struct sa_kconn_s {
    int fd;
    SSL_CTX *ctx;
    SSL *ssl;
    int32_t corr;
    char server[300]; /* "host:port" connected to */
    uint8_t *frame;   /* the last response frame (owned) */
};

/* The value of @p key in @p props ("" if absent): the last one wins, as librdkafka applies them. */
static const char *prop(const sa_strlist_t *props, const char *key) {
    const char *v = "";
    size_t n = strlen(key);
    for (size_t i = 0; props && i < props->n; i++)
        if (!strncmp(props->v[i], key, n) && props->v[i][n] == '=') v = props->v[i] + n + 1;
    return v;
}

static void ssl_err(char *out, size_t size) {
    unsigned long e = ERR_get_error();
    if (e)
        ERR_error_string_n(e, out, size);
    else
        snprintf(out, size, "%s", errno ? strerror(errno) : "connection closed");
    ERR_clear_error();
}

static int io_write(sa_kconn_t *c, const void *p, size_t n) {
    const uint8_t *b = p;
    while (n) {
        ssize_t w = c->ssl ? SSL_write(c->ssl, b, n > INT32_MAX ? INT32_MAX : (int)n) : write(c->fd, b, n);
        if (w <= 0) {
            if (!c->ssl && w < 0 && errno == EINTR) continue;
            return -1;
        }
        b += w;
        n -= (size_t)w;
    }
    return 0;
}

static int io_read(sa_kconn_t *c, void *p, size_t n) {
    uint8_t *b = p;
    while (n) {
        ssize_t r = c->ssl ? SSL_read(c->ssl, b, n > INT32_MAX ? INT32_MAX : (int)n) : read(c->fd, b, n);
        if (r <= 0) {
            if (!c->ssl && r < 0 && errno == EINTR) continue;
            if (r == 0) errno = ECONNRESET;
            return -1;
        }
        b += r;
        n -= (size_t)r;
    }
    return 0;
}

/* Send one frame and read the answer's frame into c->frame. @returns its length or -1. */
static int64_t roundtrip(sa_kconn_t *c, const sa_buf_t *req, char *errstr, size_t errstr_size) {
    uint8_t size[4];
    sa_store_be32(size, (uint32_t)req->len);
    errno = 0;
    if (io_write(c, size, 4) || io_write(c, req->data, req->len) || io_read(c, size, 4)) goto io;
    uint32_t n = sa_load_be32(size);
    if (n > MAX_FRAME) {
        SET_ERR("%s: an answer of %u bytes is not a Kafka response", c->server, n);
        return -1;
    }
    free(c->frame);
    c->frame = sa_malloc(n ? n : 1);
    if (io_read(c, c->frame, n)) goto io;
    return n;
io:;
    char why[160];
    ssl_err(why, sizeof(why));
    SET_ERR("%s: %s", c->server,
            errno == EAGAIN || errno == EWOULDBLOCK ? "timed out waiting for the broker" : why);
    return -1;
}

sa_err_t sa_kconn_request(sa_kconn_t *c, int16_t api_key, int16_t version, const void *req, void *resp,
                          sa_arena_t *arena, char *errstr, size_t errstr_size) {
    const sa_proto_api_t *api = sa_proto_api(api_key);
    if (!api) {
        SET_ERR("ApiKey %d is not in the codec", api_key);
        return SA_ERR_INVALID_ARG;
    }
    sa_RequestHeader_t hdr;
    sa_RequestHeader_init(&hdr);
    hdr.RequestApiKey = api_key;
    hdr.RequestApiVersion = version;
    hdr.CorrelationId = ++c->corr;
    hdr.ClientId = sa_str(CLIENT_ID);
    sa_buf_t out = SA_BUF_INIT(0);
    sa_err_t err = sa_RequestHeader_encode(&hdr, sa_proto_request_header_version(api_key, version), &out);
    if (err == SA_OK) err = api->request->encode(req, version, &out);
    if (err != SA_OK) {
        SET_ERR("cannot encode %s v%d: %s", api->name, version, sa_err2str(err));
        sa_buf_free(&out);
        return err;
    }
    int64_t n = roundtrip(c, &out, errstr, errstr_size);
    sa_buf_free(&out);
    if (n < 0) return SA_ERR_IO;
    sa_rd_t rd;
    sa_ResponseHeader_t rh;
    sa_rd_init(&rd, c->frame, (size_t)n);
    err = sa_ResponseHeader_decode(&rd, sa_proto_response_header_version(api_key, version), arena, &rh);
    if (err == SA_OK && rh.CorrelationId != hdr.CorrelationId) err = SA_ERR_PARSE;
    if (err == SA_OK) err = api->response->decode(&rd, version, arena, resp);
    if (err != SA_OK) SET_ERR("%s: malformed %s v%d response", c->server, api->name, version);
    return err;
}

/* ---- SASL ---- */

static sa_err_t sasl_step(sa_kconn_t *c, const void *token, size_t len, sa_SaslAuthenticateResponse_t *resp,
                          sa_arena_t *arena, char *errstr, size_t errstr_size) {
    sa_SaslAuthenticateRequest_t req;
    sa_SaslAuthenticateRequest_init(&req);
    req.AuthBytes = (sa_bytes_t){token, (int32_t)len};
    sa_err_t err = sa_kconn_request(c, SA_API_SaslAuthenticate, 1, &req, resp, arena, errstr, errstr_size);
    if (err == SA_OK && resp->ErrorCode) {
        SET_ERR("%s: SASL authentication failed: %.*s", c->server,
                resp->ErrorMessage.len > 0 ? (int)resp->ErrorMessage.len : 0, resp->ErrorMessage.ptr);
        err = SA_ERR_SASL_AUTHENTICATION_FAILED;
    }
    return err;
}

static sa_err_t scram(sa_kconn_t *c, sa_scram_mech_t mech, const char *user, const char *password,
                      sa_arena_t *arena, char *errstr, size_t errstr_size) {
    char nonce[40];
    sa_buf_t first = SA_BUF_INIT(0), final = SA_BUF_INIT(0), auth_msg = SA_BUF_INIT(0);
    sa_err_t err = SA_ERR_SASL_AUTHENTICATION_FAILED;
    size_t k = sa_scram_key_len(mech);
    uint8_t salted[SA_SCRAM_KEY_MAX], client_key[SA_SCRAM_KEY_MAX], stored[SA_SCRAM_KEY_MAX],
        server_key[SA_SCRAM_KEY_MAX], sig[SA_SCRAM_KEY_MAX], got[SA_SCRAM_KEY_MAX];
    if (sa_scram_nonce(nonce, sizeof(nonce))) goto out;
    sa_buf_append_str(&first, "n,,n=");
    sa_scram_escape_name(&first, user);
    sa_buf_printf(&first, ",r=%s", nonce);
    sa_SaslAuthenticateResponse_t resp;
    err = sasl_step(c, first.data, first.len, &resp, arena, errstr, errstr_size);
    if (err) goto out;
    err = SA_ERR_SASL_AUTHENTICATION_FAILED;
    sa_scram_server_first_t sf;
    const char *sfirst = (const char *)resp.AuthBytes.ptr;
    size_t sfirst_len = resp.AuthBytes.len > 0 ? (size_t)resp.AuthBytes.len : 0;
    if (sa_scram_parse_server_first(sfirst, sfirst_len, &sf, errstr, errstr_size)) goto out;
    if (sf.nonce.len <= strlen(nonce) || memcmp(sf.nonce.p, nonce, strlen(nonce))) {
        SET_ERR("%s: the server's SCRAM nonce does not extend ours", c->server);
        goto out;
    }
    if (sa_scram_salted_password(mech, password, strlen(password), sf.salt, sf.salt_len, sf.iterations,
                                 salted) ||
        sa_scram_hmac(mech, salted, k, "Client Key", 10, client_key) ||
        sa_scram_keys(mech, salted, stored, server_key))
        goto out;
    sa_buf_printf(&final, "c=biws,r=%.*s", (int)sf.nonce.len, sf.nonce.p);
    sa_buf_append(&auth_msg, first.data + 3, first.len - 3);
    sa_buf_putc(&auth_msg, ',');
    sa_buf_append(&auth_msg, sfirst, sfirst_len);
    sa_buf_putc(&auth_msg, ',');
    sa_buf_append(&auth_msg, final.data, final.len);
    if (sa_scram_hmac(mech, stored, k, auth_msg.data, auth_msg.len, sig)) goto out;
    for (size_t i = 0; i < k; i++) client_key[i] ^= sig[i]; /* now the proof */
    sa_buf_append_str(&final, ",p=");
    sa_scram_b64_encode(&final, client_key, k);
    err = sasl_step(c, final.data, final.len, &resp, arena, errstr, errstr_size);
    if (err) goto out;
    err = SA_ERR_SASL_AUTHENTICATION_FAILED;
    if (sa_scram_hmac(mech, server_key, k, auth_msg.data, auth_msg.len, sig) ||
        sa_scram_parse_server_final((const char *)resp.AuthBytes.ptr,
                                    resp.AuthBytes.len > 0 ? (size_t)resp.AuthBytes.len : 0, got, errstr,
                                    errstr_size) != (int)k ||
        !sa_scram_equal(got, sig, k)) {
        SET_ERR("%s: the broker's SCRAM signature is wrong: it does not know this password", c->server);
        goto out;
    }
    err = SA_OK;
out:
    OPENSSL_cleanse(salted, sizeof(salted));
    OPENSSL_cleanse(client_key, sizeof(client_key));
    sa_buf_free(&first);
    sa_buf_free(&final);
    sa_buf_free(&auth_msg);
    return err;
}

static sa_err_t authenticate(sa_kconn_t *c, const sa_strlist_t *props, char *errstr, size_t errstr_size) {
    const char *mech =
        *prop(props, "sasl.mechanism") ? prop(props, "sasl.mechanism") : prop(props, "sasl.mechanisms");
    const char *user = prop(props, "sasl.username"), *password = prop(props, "sasl.password");
    if (!*mech) mech = "GSSAPI"; /* librdkafka's default */
    sa_scram_mech_t sm = sa_scram_mech_by_name(mech);
    if (strcmp(mech, "PLAIN") && !sm) {
        SET_ERR("sasl.mechanism %s: samsa's own client speaks PLAIN, SCRAM-SHA-256 and SCRAM-SHA-512", mech);
        return SA_ERR_INVALID_ARG;
    }
    sa_arena_t arena;
    sa_arena_init(&arena, 0);
    sa_SaslHandshakeRequest_t hreq;
    sa_SaslHandshakeResponse_t hresp;
    sa_SaslHandshakeRequest_init(&hreq);
    hreq.Mechanism = sa_str(mech);
    sa_err_t err = sa_kconn_request(c, SA_API_SaslHandshake, 1, &hreq, &hresp, &arena, errstr, errstr_size);
    if (err == SA_OK && hresp.ErrorCode) {
        SET_ERR("%s: the broker does not offer SASL mechanism %s (%s)", c->server, mech,
                sa_err2str((sa_err_t)hresp.ErrorCode));
        err = SA_ERR_UNSUPPORTED_SASL_MECHANISM;
    }
    if (err == SA_OK && sm) err = scram(c, sm, user, password, &arena, errstr, errstr_size);
    if (err == SA_OK && !sm) {
        size_t ul = strlen(user), pl = strlen(password);
        uint8_t *tok = sa_malloc(ul + pl + 2);
        tok[0] = 0;
        memcpy(tok + 1, user, ul);
        tok[1 + ul] = 0;
        memcpy(tok + 2 + ul, password, pl);
        sa_SaslAuthenticateResponse_t resp;
        err = sasl_step(c, tok, ul + pl + 2, &resp, &arena, errstr, errstr_size);
        OPENSSL_cleanse(tok, ul + pl + 2);
        free(tok);
    }
    sa_arena_free(&arena);
    return err;
}

/* ---- TLS ---- */

static int is_true(const char *v, int dflt) {
    if (!*v) return dflt;
    return !strcasecmp(v, "true") || !strcmp(v, "1");
}

static sa_err_t start_tls(sa_kconn_t *c, const char *host, const sa_strlist_t *props, char *errstr,
                          size_t errstr_size) {
    char why[200];
    const char *ca = prop(props, "ssl.ca.location"), *cert = prop(props, "ssl.certificate.location"),
               *key = prop(props, "ssl.key.location"), *pw = prop(props, "ssl.key.password");
    int verify = is_true(prop(props, "enable.ssl.certificate.verification"), 1);
    int check_name = strcasecmp(prop(props, "ssl.endpoint.identification.algorithm"), "none") != 0;
    ERR_clear_error();
    c->ctx = SSL_CTX_new(TLS_client_method());
    if (!c->ctx) goto fail;
    SSL_CTX_set_min_proto_version(c->ctx, TLS1_2_VERSION);
    if (verify) {
        SSL_CTX_set_verify(c->ctx, SSL_VERIFY_PEER, NULL);
        if ((*ca ? SSL_CTX_load_verify_locations(c->ctx, ca, NULL)
                 : SSL_CTX_set_default_verify_paths(c->ctx)) != 1) {
            ssl_err(why, sizeof(why));
            SET_ERR("ssl.ca.location %s: %s", *ca ? ca : "(system)", why);
            return SA_ERR_INVALID_ARG;
        }
    }
    if (*pw) SSL_CTX_set_default_passwd_cb_userdata(c->ctx, (void *)pw);
    if (*cert && (SSL_CTX_use_certificate_chain_file(c->ctx, cert) != 1 ||
                  SSL_CTX_use_PrivateKey_file(c->ctx, *key ? key : cert, SSL_FILETYPE_PEM) != 1)) {
        ssl_err(why, sizeof(why));
        SET_ERR("ssl.certificate.location/ssl.key.location: %s", why);
        return SA_ERR_INVALID_ARG;
    }
    c->ssl = SSL_new(c->ctx);
    if (!c->ssl || SSL_set_fd(c->ssl, c->fd) != 1) goto fail;
    SSL_set_tlsext_host_name(c->ssl, host);
    if (verify && check_name) SSL_set1_host(c->ssl, host);
    errno = 0;
    if (SSL_connect(c->ssl) == 1) return SA_OK;
fail:
    ssl_err(why, sizeof(why));
    long vr = c->ssl ? SSL_get_verify_result(c->ssl) : X509_V_OK;
    SET_ERR("%s: TLS handshake failed: %s", c->server,
            vr != X509_V_OK ? X509_verify_cert_error_string(vr) : why);
    return SA_ERR_IO;
}

/* ---- open/close ---- */

static int connect_one(const char *host, int port, int timeout_ms) {
    char portstr[16];
    snprintf(portstr, sizeof(portstr), "%d", port);
    struct addrinfo hints = {.ai_socktype = SOCK_STREAM}, *res = NULL;
    if (getaddrinfo(host, portstr, &hints, &res)) return -1;
    int fd = -1;
    struct timeval tv = {timeout_ms / 1000, (timeout_ms % 1000) * 1000};
    for (struct addrinfo *ai = res; ai && fd < 0; ai = ai->ai_next) {
        fd = socket(ai->ai_family, ai->ai_socktype | SOCK_CLOEXEC, ai->ai_protocol);
        if (fd < 0) continue;
        setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
        setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv));
        if (connect(fd, ai->ai_addr, ai->ai_addrlen) < 0) {
            close(fd);
            fd = -1;
        }
    }
    freeaddrinfo(res);
    return fd;
}

sa_err_t sa_kconn_open(const char *bootstrap, const sa_strlist_t *props, int timeout_ms, sa_kconn_t **out,
                       char *errstr, size_t errstr_size) {
    *out = NULL;
    const char *proto = prop(props, "security.protocol");
    int tls = !strcasecmp(proto, "ssl") || !strcasecmp(proto, "sasl_ssl");
    int sasl = !strcasecmp(proto, "sasl_plaintext") || !strcasecmp(proto, "sasl_ssl");
    if (*proto && !tls && !sasl && strcasecmp(proto, "plaintext")) {
        SET_ERR("security.protocol %s: expected plaintext, ssl, sasl_plaintext or sasl_ssl", proto);
        return SA_ERR_INVALID_ARG;
    }
    char *list = sa_strdup(bootstrap), *save = NULL;
    sa_err_t err = SA_ERR_IO;
    SET_ERR("no bootstrap server in \"%s\"", bootstrap);
    for (char *s = strtok_r(list, ",", &save); s; s = strtok_r(NULL, ",", &save)) {
        char host[256];
        int port;
        const char *addr = strstr(s, "://") ? strstr(s, "://") + 3 : s;
        if (sa_net_split_hostport(addr, host, sizeof(host), &port)) {
            SET_ERR("bootstrap server \"%s\": expected HOST:PORT", s);
            err = SA_ERR_INVALID_ARG;
            break;
        }
        sa_kconn_t *c = sa_new(sa_kconn_t);
        snprintf(c->server, sizeof(c->server), "%s", addr);
        c->fd = connect_one(host, port, timeout_ms);
        if (c->fd < 0) {
            SET_ERR("cannot connect to %s: %s", addr, strerror(errno));
            sa_kconn_close(c);
            continue;
        }
        err = tls ? start_tls(c, host, props, errstr, errstr_size) : SA_OK;
        if (err == SA_OK && sasl) err = authenticate(c, props, errstr, errstr_size);
        if (err == SA_OK) {
            *out = c;
            break;
        }
        sa_kconn_close(c);
        if (err != SA_ERR_IO) break; /* a setting or the credentials: another server will say the same */
    }
    free(list);
    return err;
}

void sa_kconn_close(sa_kconn_t *c) {
    if (!c) return;
    if (c->ssl) {
        SSL_shutdown(c->ssl);
        SSL_free(c->ssl);
    }
    SSL_CTX_free(c->ctx);
    if (c->fd >= 0) close(c->fd);
    free(c->frame);
    free(c);
}
