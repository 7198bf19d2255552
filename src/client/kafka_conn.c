/*
 * kafka_conn.c - samsa's own blocking Kafka connection, with TLS and SASL (see kafka_conn.h).
 *
 * Framing (Kafka protocol guide): a request is a 4-byte big-endian size, the request header (v1,
 * or v2 for flexible versions) and the body; a response is a size, the response header (v0, or v1
 * for flexible versions; ApiVersions always v0) and the body.
 *
 * Waiting: the socket is non-blocking from connect() on, TLS included (OpenSSL's WANT_READ and
 * WANT_WRITE become a poll() for that direction), and every wait is bounded by the deadline of the
 * call or of the open, so a broker that stops answering costs at most the timeout given.
 */
#include "client/kafka_conn.h"

#include <errno.h>
#include <netdb.h>
#include <openssl/err.h>
#include <openssl/ssl.h>
#include <openssl/x509v3.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "core/buf.h"
#include "core/mem.h"
#include "core/net.h"
#include "core/scram.h"
#include "core/time.h"
#include "proto/proto.h"

#define SET_ERR(...) snprintf(errstr, errstr_size, __VA_ARGS__)

struct sa_kconn_s {
    int fd; /* connected non-blocking socket, -1 once broken */
    SSL_CTX *ctx;
    SSL *ssl;                                /* NULL without TLS */
    int versions_known;                      /* ApiVersions answered: min/max_version are the broker's */
    int32_t corr;                            /* correlation id of the last request */
    char peer[300];                          /* "host:port" */
    char client_id[256];                     /* request header ClientId */
    int16_t min_version[SA_PROTO_API_COUNT]; /* per sa_proto_apis[] entry: the broker's range, */
    int16_t max_version[SA_PROTO_API_COUNT]; /* ... -1 when it does not serve the API */
};

/* The value of @p key or its @p alias (may be NULL) in @p opts' properties ("" if absent): the
 * last one wins, as librdkafka applies them. */
static const char *prop(const sa_client_opts_t *opts, const char *key, const char *alias) {
    const char *v = "";
    for (size_t i = 0; i < opts->props.n; i++) {
        const char *kv = opts->props.v[i], *eq = strchr(kv, '=');
        size_t n = eq ? (size_t)(eq - kv) : 0;
        if (eq && ((strlen(key) == n && !strncmp(kv, key, n)) ||
                   (alias && strlen(alias) == n && !strncmp(kv, alias, n))))
            v = eq + 1;
    }
    return v;
}

static int is_true(const char *v, int dflt) {
    if (!*v) return dflt;
    return !strcasecmp(v, "true") || !strcmp(v, "1");
}

static void ssl_err(char *out, size_t size) {
    unsigned long e = ERR_get_error();
    if (e)
        ERR_error_string_n(e, out, size);
    else
        snprintf(out, size, "%s", errno ? strerror(errno) : "the broker closed the connection");
    ERR_clear_error();
}

/* ---- the socket ---- */

/* Wait until @p fd is ready for @p events or @p deadline (monotonic ms) passes.
 * @returns 1 ready, 0 timed out, -1 error (errno). */
static int wait_fd(int fd, short events, int64_t deadline) {
    for (;;) {
        int64_t left = deadline - sa_mono_ms();
        if (left <= 0) return 0;
        struct pollfd pfd = {.fd = fd, .events = events};
        int r = poll(&pfd, 1, (int)(left > 1000000 ? 1000000 : left));
        if (r > 0) return 1;
        if (r < 0 && errno != EINTR) return -1;
    }
}

/* OpenSSL writes with write(), which raises SIGPIPE on a connection the broker closed; a tool must
 * not die of it. Around every TLS call that may write (a read may too: a key update) the signal is blocked,
 * and one it raised is taken away before the mask is restored, as curl does. */
static void sigpipe_block(sigset_t *old) {
    sigset_t pipe_set;
    sigemptyset(&pipe_set);
    sigaddset(&pipe_set, SIGPIPE);
    pthread_sigmask(SIG_BLOCK, &pipe_set, old);
}

static void sigpipe_restore(const sigset_t *old) {
    int saved = errno;
    sigset_t pending, pipe_set;
    sigemptyset(&pipe_set);
    sigaddset(&pipe_set, SIGPIPE);
    if (!sigismember(old, SIGPIPE) && sigpending(&pending) == 0 && sigismember(&pending, SIGPIPE)) {
        struct timespec zero = {0, 0};
        sigtimedwait(&pipe_set, NULL, &zero);
    }
    pthread_sigmask(SIG_SETMASK, old, NULL);
    errno = saved;
}

/* Move @p n bytes to (@p writing) or from the broker by @p deadline.
 * @returns 0, or -1 with the reason in @p why. */
static int transfer(sa_kconn_t *c, int writing, uint8_t *p, size_t n, int64_t deadline, char *why,
                    size_t why_size) {
    while (n > 0) {
        short want = writing ? POLLOUT : POLLIN;
        ssize_t r;
        errno = 0;
        if (c->ssl) {
            int chunk = n > INT32_MAX ? INT32_MAX : (int)n;
            sigset_t old;
            sigpipe_block(&old);
            r = writing ? SSL_write(c->ssl, p, chunk) : SSL_read(c->ssl, p, chunk);
            sigpipe_restore(&old);
            if (r <= 0) {
                int e = SSL_get_error(c->ssl, (int)r);
                if (e == SSL_ERROR_WANT_READ) {
                    want = POLLIN;
                } else if (e == SSL_ERROR_WANT_WRITE) {
                    want = POLLOUT;
                } else if (e == SSL_ERROR_ZERO_RETURN || (e == SSL_ERROR_SYSCALL && !errno)) {
                    ERR_clear_error();
                    snprintf(why, why_size, "the broker closed the connection");
                    return -1;
                } else {
                    ssl_err(why, why_size);
                    return -1;
                }
            }
        } else {
            r = writing ? send(c->fd, p, n, MSG_NOSIGNAL) : recv(c->fd, p, n, 0);
            if (r == 0 && !writing) {
                snprintf(why, why_size, "the broker closed the connection");
                return -1;
            }
            if (r < 0 && errno == EINTR) continue;
            if (r < 0 && errno != EAGAIN && errno != EWOULDBLOCK) {
                snprintf(why, why_size, "%s", strerror(errno));
                return -1;
            }
        }
        if (r > 0) {
            p += r;
            n -= (size_t)r;
            continue;
        }
        int ready = wait_fd(c->fd, want, deadline);
        if (ready != 1) {
            snprintf(why, why_size, "%s", ready == 0 ? "timed out waiting for the broker" : strerror(errno));
            return -1;
        }
    }
    return 0;
}

/* Close the socket after a transport or framing failure: later calls refuse (no TLS goodbye on a
 * connection in an unknown state). */
static void broken(sa_kconn_t *c) {
    if (c->ssl) {
        SSL_free(c->ssl);
        c->ssl = NULL;
    }
    if (c->fd >= 0) close(c->fd);
    c->fd = -1;
}

/* ---- requests ---- */

static int api_index(int16_t api_key) {
    for (int i = 0; i < SA_PROTO_API_COUNT; i++)
        if (sa_proto_apis[i].key == api_key) return i;
    return -1;
}

int16_t sa_kconn_version(const sa_kconn_t *c, int16_t api_key) {
    int i = api_index(api_key);
    if (i < 0 || !c->versions_known || c->max_version[i] < 0) return -1;
    int16_t hi = SA_MIN(c->max_version[i], sa_proto_apis[i].max_version);
    int16_t lo = SA_MAX(c->min_version[i], sa_proto_apis[i].min_version);
    return hi >= lo ? hi : -1;
}

/* sa_kconn_request with an absolute @p deadline (monotonic ms). */
static sa_err_t call(sa_kconn_t *c, int16_t api_key, int16_t version, const void *req, void *resp,
                     sa_arena_t *arena, int64_t deadline, char *errstr, size_t errstr_size) {
    const sa_proto_api_t *api = sa_proto_api(api_key);
    if (!api || version < api->min_version || version > api->max_version) {
        SET_ERR("no codec for %s v%d", sa_proto_api_name(api_key), version);
        return SA_ERR_INVALID_ARG;
    }
    if (c->fd < 0) {
        SET_ERR("the connection to %s is closed after an earlier error", c->peer);
        return SA_ERR_CLOSED;
    }
    int i = api_index(api_key);
    if (c->versions_known && (version < c->min_version[i] || version > c->max_version[i])) {
        SET_ERR("the broker at %s does not serve %s v%d", c->peer, api->name, version);
        return SA_ERR_UNSUPPORTED_VERSION;
    }
    sa_RequestHeader_t hdr;
    sa_RequestHeader_init(&hdr);
    hdr.RequestApiKey = api_key;
    hdr.RequestApiVersion = version;
    hdr.CorrelationId = ++c->corr;
    hdr.ClientId = sa_str(c->client_id);
    sa_buf_t frame = SA_BUF_INIT(0);
    sa_err_t err = sa_buf_put_be32(&frame, 0);
    if (err == SA_OK)
        err = sa_RequestHeader_encode(&hdr, sa_proto_request_header_version(api_key, version), &frame);
    if (err == SA_OK) err = api->request->encode(req, version, &frame);
    if (err != SA_OK) {
        SET_ERR("cannot encode %s v%d: %s", api->name, version, sa_err2str(err));
        sa_buf_free(&frame);
        return SA_ERR_INVALID_ARG;
    }
    sa_store_be32(frame.data, (uint32_t)(frame.len - 4));
    char why[200];
    uint8_t size[4];
    int sent = transfer(c, 1, frame.data, frame.len, deadline, why, sizeof(why));
    sa_buf_free(&frame);
    if (sent || transfer(c, 0, size, 4, deadline, why, sizeof(why))) {
        SET_ERR("%s %s at %s: %s", sent ? "sending" : "no answer to", api->name, c->peer, why);
        broken(c);
        return SA_ERR_IO;
    }
    uint32_t n = sa_load_be32(size);
    if (n < 4 || n > SA_KCONN_MAX_RESPONSE) {
        SET_ERR("the %s response from %s claims %u bytes: not a Kafka response", api->name, c->peer, n);
        broken(c);
        return SA_ERR_PARSE;
    }
    uint8_t *body = sa_arena_alloc(arena, n);
    if (!body) {
        SET_ERR("the %s response from %s (%u bytes): out of memory", api->name, c->peer, n);
        broken(c);
        return SA_ERR_NOMEM;
    }
    if (transfer(c, 0, body, n, deadline, why, sizeof(why))) {
        SET_ERR("the %s response from %s: %s", api->name, c->peer, why);
        broken(c);
        return SA_ERR_IO;
    }
    sa_rd_t rd;
    sa_rd_init(&rd, body, n);
    sa_ResponseHeader_t rh;
    if (sa_ResponseHeader_decode(&rd, sa_proto_response_header_version(api_key, version), arena, &rh) ||
        rh.CorrelationId != c->corr) {
        SET_ERR("the %s response from %s has a bad header (correlation id %d, expected %d)", api->name,
                c->peer, (int)rh.CorrelationId, (int)c->corr);
        broken(c);
        return SA_ERR_PARSE;
    }
    if (api->response->decode(&rd, version, arena, resp)) {
        SET_ERR("the %s v%d response from %s does not decode", api->name, version, c->peer);
        broken(c);
        return SA_ERR_PARSE;
    }
    return SA_OK;
}

sa_err_t sa_kconn_request(sa_kconn_t *c, int16_t api_key, int16_t version, const void *req, void *resp,
                          sa_arena_t *arena, int timeout_ms, char *errstr, size_t errstr_size) {
    return call(c, api_key, version, req, resp, arena, sa_mono_ms() + timeout_ms, errstr, errstr_size);
}

/* Ask ApiVersions v0 (every broker answers it, before SASL too) and keep the ranges. */
static sa_err_t negotiate(sa_kconn_t *c, int64_t deadline, char *errstr, size_t errstr_size) {
    for (int i = 0; i < SA_PROTO_API_COUNT; i++) c->min_version[i] = c->max_version[i] = -1;
    sa_arena_t arena;
    sa_arena_init(&arena, 0);
    sa_ApiVersionsRequest_t req;
    sa_ApiVersionsRequest_init(&req);
    sa_ApiVersionsResponse_t resp;
    sa_err_t err = call(c, SA_API_ApiVersions, 0, &req, &resp, &arena, deadline, errstr, errstr_size);
    if (err == SA_OK && resp.ErrorCode) {
        SET_ERR("ApiVersions at %s: %s", c->peer, sa_err2str(resp.ErrorCode));
        err = SA_ERR_PARSE;
    }
    for (int32_t k = 0; err == SA_OK && k < resp.ApiKeys_count; k++) {
        int i = api_index(resp.ApiKeys[k].ApiKey);
        if (i < 0) continue;
        c->min_version[i] = resp.ApiKeys[k].MinVersion;
        c->max_version[i] = resp.ApiKeys[k].MaxVersion;
    }
    c->versions_known = err == SA_OK;
    sa_arena_free(&arena);
    return err;
}

/* ---- SASL ---- */

static sa_err_t sasl_step(sa_kconn_t *c, const void *token, size_t len, sa_SaslAuthenticateResponse_t *resp,
                          sa_arena_t *arena, int64_t deadline, char *errstr, size_t errstr_size) {
    int16_t v = sa_kconn_version(c, SA_API_SaslAuthenticate);
    if (v < 0) {
        SET_ERR("the broker at %s does not serve SaslAuthenticate", c->peer);
        return SA_ERR_UNSUPPORTED_VERSION;
    }
    sa_SaslAuthenticateRequest_t req;
    sa_SaslAuthenticateRequest_init(&req);
    req.AuthBytes = (sa_bytes_t){token, (int32_t)len};
    sa_err_t err = call(c, SA_API_SaslAuthenticate, v, &req, resp, arena, deadline, errstr, errstr_size);
    if (err == SA_OK && resp->ErrorCode) {
        SET_ERR("%s: SASL authentication failed: %.*s", c->peer,
                resp->ErrorMessage.len > 0 ? (int)resp->ErrorMessage.len : 0, resp->ErrorMessage.ptr);
        err = SA_ERR_SASL_AUTHENTICATION_FAILED;
    }
    return err;
}

static sa_err_t scram(sa_kconn_t *c, sa_scram_mech_t mech, const char *user, const char *password,
                      sa_arena_t *arena, int64_t deadline, char *errstr, size_t errstr_size) {
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
    err = sasl_step(c, first.data, first.len, &resp, arena, deadline, errstr, errstr_size);
    if (err) goto out;
    err = SA_ERR_SASL_AUTHENTICATION_FAILED;
    sa_scram_server_first_t sf;
    const char *sfirst = (const char *)resp.AuthBytes.ptr;
    size_t sfirst_len = resp.AuthBytes.len > 0 ? (size_t)resp.AuthBytes.len : 0;
    if (sa_scram_parse_server_first(sfirst, sfirst_len, &sf, errstr, errstr_size)) goto out;
    if (sf.nonce.len <= strlen(nonce) || memcmp(sf.nonce.p, nonce, strlen(nonce))) {
        SET_ERR("%s: the server's SCRAM nonce does not extend ours", c->peer);
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
    err = sasl_step(c, final.data, final.len, &resp, arena, deadline, errstr, errstr_size);
    if (err) goto out;
    err = SA_ERR_SASL_AUTHENTICATION_FAILED;
    if (sa_scram_hmac(mech, server_key, k, auth_msg.data, auth_msg.len, sig) ||
        sa_scram_parse_server_final((const char *)resp.AuthBytes.ptr,
                                    resp.AuthBytes.len > 0 ? (size_t)resp.AuthBytes.len : 0, got, errstr,
                                    errstr_size) != (int)k ||
        !sa_scram_equal(got, sig, k)) {
        SET_ERR("%s: the broker's SCRAM signature is wrong: it does not know this password", c->peer);
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

/* The SASL mechanism of @p opts ("GSSAPI", librdkafka's default, when none is set). */
static const char *mechanism(const sa_client_opts_t *opts) {
    const char *mech = prop(opts, "sasl.mechanism", "sasl.mechanisms");
    return *mech ? mech : "GSSAPI";
}

static sa_err_t authenticate(sa_kconn_t *c, const sa_client_opts_t *opts, int64_t deadline, char *errstr,
                             size_t errstr_size) {
    const char *mech = mechanism(opts);
    const char *user = prop(opts, "sasl.username", NULL), *password = prop(opts, "sasl.password", NULL);
    sa_scram_mech_t sm = sa_scram_mech_by_name(mech);
    int16_t v = sa_kconn_version(c, SA_API_SaslHandshake);
    if (v < 1) { /* v0 carries the tokens unframed, without SaslAuthenticate: Kafka before 1.0 */
        SET_ERR("the broker at %s does not serve SaslHandshake v1", c->peer);
        return SA_ERR_UNSUPPORTED_VERSION;
    }
    sa_arena_t arena;
    sa_arena_init(&arena, 0);
    sa_SaslHandshakeRequest_t hreq;
    sa_SaslHandshakeResponse_t hresp;
    sa_SaslHandshakeRequest_init(&hreq);
    hreq.Mechanism = sa_str(mech);
    sa_err_t err = call(c, SA_API_SaslHandshake, v, &hreq, &hresp, &arena, deadline, errstr, errstr_size);
    if (err == SA_OK && hresp.ErrorCode) {
        SET_ERR("%s: the broker does not offer SASL mechanism %s (%s)", c->peer, mech,
                sa_err2str((sa_err_t)hresp.ErrorCode));
        err = SA_ERR_UNSUPPORTED_SASL_MECHANISM;
    }
    if (err == SA_OK && sm) err = scram(c, sm, user, password, &arena, deadline, errstr, errstr_size);
    if (err == SA_OK && !sm) { /* PLAIN: authzid NUL user NUL password */
        size_t ul = strlen(user), pl = strlen(password);
        uint8_t *tok = sa_malloc(ul + pl + 2);
        tok[0] = 0;
        memcpy(tok + 1, user, ul);
        tok[1 + ul] = 0;
        memcpy(tok + 2 + ul, password, pl);
        sa_SaslAuthenticateResponse_t resp;
        err = sasl_step(c, tok, ul + pl + 2, &resp, &arena, deadline, errstr, errstr_size);
        OPENSSL_cleanse(tok, ul + pl + 2);
        free(tok);
    }
    sa_arena_free(&arena);
    return err;
}

/* ---- TLS ---- */

static sa_err_t start_tls(sa_kconn_t *c, const char *host, const sa_client_opts_t *opts, int64_t deadline,
                          char *errstr, size_t errstr_size) {
    char why[200];
    const char *ca = prop(opts, "ssl.ca.location", NULL),
               *cert = prop(opts, "ssl.certificate.location", NULL),
               *key = prop(opts, "ssl.key.location", NULL), *pw = prop(opts, "ssl.key.password", NULL);
    int verify = is_true(prop(opts, "enable.ssl.certificate.verification", NULL), 1);
    int check_name = strcasecmp(prop(opts, "ssl.endpoint.identification.algorithm", NULL), "none") != 0;
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
    for (;;) {
        sigset_t old;
        sigpipe_block(&old);
        errno = 0;
        int r = SSL_connect(c->ssl);
        sigpipe_restore(&old);
        if (r == 1) return SA_OK;
        int e = SSL_get_error(c->ssl, r);
        if (e != SSL_ERROR_WANT_READ && e != SSL_ERROR_WANT_WRITE) break;
        int ready = wait_fd(c->fd, e == SSL_ERROR_WANT_READ ? POLLIN : POLLOUT, deadline);
        if (ready != 1) {
            SET_ERR("%s: TLS handshake: %s", c->peer,
                    ready == 0 ? "timed out waiting for the broker" : strerror(errno));
            return SA_ERR_IO;
        }
    }
fail:
    ssl_err(why, sizeof(why));
    long vr = c->ssl ? SSL_get_verify_result(c->ssl) : X509_V_OK;
    SET_ERR("%s: TLS handshake failed: %s", c->peer,
            vr != X509_V_OK ? X509_verify_cert_error_string(vr) : why);
    return SA_ERR_IO;
}

/* ---- open/close ---- */

/* @returns a connected non-blocking socket to @p host:@p port, or -1 with errstr. */
static int connect_to(const char *host, int port, int64_t deadline, char *errstr, size_t errstr_size) {
    char portstr[16];
    snprintf(portstr, sizeof(portstr), "%d", port);
    struct addrinfo hints = {.ai_socktype = SOCK_STREAM}, *res = NULL;
    int gai = getaddrinfo(host, portstr, &hints, &res);
    if (gai) {
        SET_ERR("cannot connect to %s:%d: %s", host, port, gai_strerror(gai));
        return -1;
    }
    int fd = -1, why = ETIMEDOUT;
    for (struct addrinfo *ai = res; ai && fd < 0; ai = ai->ai_next) {
        int s = socket(ai->ai_family, ai->ai_socktype | SOCK_CLOEXEC | SOCK_NONBLOCK, ai->ai_protocol);
        if (s < 0) {
            why = errno;
            continue;
        }
        int err = 0;
        if (connect(s, ai->ai_addr, ai->ai_addrlen) != 0) {
            err = errno;
            if (err == EINPROGRESS) {
                socklen_t len = sizeof(err);
                int r = wait_fd(s, POLLOUT, deadline);
                if (r == 1 && getsockopt(s, SOL_SOCKET, SO_ERROR, &err, &len) != 0) err = errno;
                if (r == 0) err = ETIMEDOUT;
                if (r < 0) err = errno;
            }
        }
        if (err) {
            why = err;
            close(s);
            continue;
        }
        fd = s;
    }
    freeaddrinfo(res);
    if (fd < 0) SET_ERR("cannot connect to %s:%d: %s", host, port, strerror(why));
    return fd;
}

/* Split one bootstrap server ("host:port", "SASL_SSL://host:port", "host", "[v6]:port").
 * @returns 0 or -1 if it is malformed. */
static int split_server(const char *server, char *host, size_t host_size, int *port) {
    const char *s = strstr(server, "://");
    s = s ? s + 3 : server;
    while (*s == ' ') s++;
    if (!*s) return -1;
    *port = 9092; /* librdkafka's default when a server has no port */
    if (!strchr(s, ':') || (s[0] == '[' && !strstr(s, "]:"))) {
        snprintf(host, host_size, "%s", s[0] == '[' ? s + 1 : s);
        host[strcspn(host, "] ")] = '\0';
        return 0;
    }
    return sa_net_split_hostport(s, host, host_size, port);
}

sa_err_t sa_kconn_check(const sa_client_opts_t *opts, char *errstr, size_t errstr_size) {
    const char *proto = prop(opts, "security.protocol", NULL);
    int sasl = !strcasecmp(proto, "sasl_plaintext") || !strcasecmp(proto, "sasl_ssl");
    if (*proto && !sasl && strcasecmp(proto, "plaintext") && strcasecmp(proto, "ssl")) {
        SET_ERR("security.protocol %s: expected plaintext, ssl, sasl_plaintext or sasl_ssl", proto);
        return SA_ERR_INVALID_ARG;
    }
    const char *mech = mechanism(opts);
    if (sasl && strcmp(mech, "PLAIN") && !sa_scram_mech_by_name(mech)) {
        SET_ERR(
            "sasl.mechanism %s: samsa's own client (the requests librdkafka has no API for) speaks PLAIN, "
            "SCRAM-SHA-256 and SCRAM-SHA-512",
            mech);
        return SA_ERR_INVALID_ARG;
    }
    return SA_OK;
}

/* Connect to one server and make it ready for requests. @returns SA_OK with *out, or an error. */
static sa_err_t open_one(const sa_client_opts_t *opts, const char *host, int port, int64_t deadline,
                         sa_kconn_t **out, char *errstr, size_t errstr_size) {
    const char *proto = prop(opts, "security.protocol", NULL), *id = prop(opts, "client.id", NULL);
    int fd = connect_to(host, port, deadline, errstr, errstr_size);
    if (fd < 0) return SA_ERR_IO;
    sa_kconn_t *c = sa_new(sa_kconn_t);
    c->fd = fd;
    snprintf(c->peer, sizeof(c->peer), strchr(host, ':') ? "[%s]:%d" : "%s:%d", host, port);
    if (*id)
        snprintf(c->client_id, sizeof(c->client_id), "%s", id);
    else
        snprintf(c->client_id, sizeof(c->client_id), "samsa%s%s", opts->cmd ? "-" : "",
                 opts->cmd ? opts->cmd : "");
    sa_err_t err = SA_OK;
    if (!strcasecmp(proto, "ssl") || !strcasecmp(proto, "sasl_ssl"))
        err = start_tls(c, host, opts, deadline, errstr, errstr_size);
    if (err == SA_OK) err = negotiate(c, deadline, errstr, errstr_size);
    if (err == SA_OK && !strncasecmp(proto, "sasl_", 5))
        err = authenticate(c, opts, deadline, errstr, errstr_size);
    if (err == SA_OK)
        *out = c;
    else
        sa_kconn_close(c);
    return err;
}

sa_err_t sa_kconn_open(const sa_client_opts_t *opts, const char *servers, int timeout_ms, sa_kconn_t **out,
                       char *errstr, size_t errstr_size) {
    *out = NULL;
    sa_err_t err = sa_kconn_check(opts, errstr, errstr_size);
    if (err != SA_OK) return err;
    if (!servers) servers = sa_client_bootstrap(opts);
    int64_t deadline = sa_mono_ms() + timeout_ms;
    err = SA_ERR_IO;
    SET_ERR("no bootstrap server in \"%s\"", servers);
    for (const char *p = servers; *p && err == SA_ERR_IO;) {
        size_t n = strcspn(p, ",");
        char server[512], host[512];
        int port;
        snprintf(server, sizeof(server), "%.*s", (int)n, p);
        p += n + (p[n] == ',');
        if (split_server(server, host, sizeof(host), &port)) {
            SET_ERR("bootstrap server \"%s\": expected HOST:PORT", server);
            return SA_ERR_INVALID_ARG;
        }
        /* Only a server out of reach sends us to the next: a setting or the credentials that one
         * refused, another would refuse too. */
        err = open_one(opts, host, port, deadline, out, errstr, errstr_size);
    }
    return err;
}

void sa_kconn_close(sa_kconn_t *c) {
    if (!c) return;
    if (c->ssl) { /* one close_notify, not waited for */
        sigset_t old;
        sigpipe_block(&old);
        SSL_shutdown(c->ssl);
        sigpipe_restore(&old);
    }
    broken(c);
    SSL_CTX_free(c->ctx);
    free(c);
}

const char *sa_kconn_peer(const sa_kconn_t *c) { return c->peer; }
