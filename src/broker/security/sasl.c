/*
 * sasl.c - SaslHandshake, SaslAuthenticate, bare v0 tokens, PLAIN, and the gate before every
 * request (the state machine is drawn in sasl.h).
 *
 * What clients see, as Kafka 3.x answers (SaslServerAuthenticator, PlainSaslServer,
 * ScramSaslServer, KafkaApis):
 *   - a disabled or unknown mechanism: SaslHandshake UNSUPPORTED_SASL_MECHANISM with the enabled
 *     list, then the connection closes;
 *   - PLAIN failures: SASL_AUTHENTICATION_FAILED "Authentication failed: Invalid username or
 *     password" (and Kafka's texts for a malformed message, a missing name or password, a
 *     different authorization id);
 *   - SCRAM failures: SASL_AUTHENTICATION_FAILED "Authentication failed during authentication
 *     due to invalid credentials with SASL mechanism SCRAM-SHA-256" (re-authentication: "during
 *     re-authentication"); the precise reason only goes to the broker's log;
 *   - any request but ApiVersions/SaslHandshake before authentication, or but SaslAuthenticate
 *     during it: the connection closes without an answer;
 *   - SaslHandshake/SaslAuthenticate on a listener without SASL, or SaslAuthenticate after
 *     authentication without a new handshake: ILLEGAL_SASL_STATE, the connection stays.
 */
#include "broker/security/sasl.h"

#include <openssl/crypto.h>
#include <stdio.h>
#include <string.h>

#include "broker/conn.h"
#include "broker/kit.h"
#include "broker/security/scram_server.h"
#include "core/log.h"
#include "core/time.h"
#include "proto/proto.h"

#define SET_ERR(...) snprintf(errstr, errstr_size, __VA_ARGS__)

void sa_auth_init(sa_auth_t *auth, const sa_listener_t *l) {
    memset(auth, 0, sizeof(*auth));
    auth->listener = l;
    auth->state = sa_secproto_sasl(l->proto) ? SA_AUTH_HANDSHAKE : SA_AUTH_OPEN;
    snprintf(auth->principal, sizeof(auth->principal), "User:ANONYMOUS");
}

void sa_auth_free(sa_auth_t *auth) {
    sa_scram_server_free(auth->scram);
    auth->scram = NULL;
}

static const char *mech_name(unsigned mech) {
    return mech == SA_MECH_PLAIN           ? "PLAIN"
           : mech == SA_MECH_SCRAM_SHA_256 ? "SCRAM-SHA-256"
           : mech == SA_MECH_SCRAM_SHA_512 ? "SCRAM-SHA-512"
                                           : "?";
}

static sa_auth_t *auth_of(sa_req_t *req) { return req->_conn ? sa_conn_auth(req->_conn) : NULL; }

sa_err_t sa_auth_gate(sa_req_t *req, char *errstr, size_t errstr_size) {
    sa_auth_t *auth = auth_of(req);
    if (!auth) return SA_OK;
    int16_t key = req->ApiKey;
    switch (auth->state) {
    case SA_AUTH_OPEN: return SA_OK;
    case SA_AUTH_HANDSHAKE:
        if (key == SA_API_ApiVersions || key == SA_API_SaslHandshake) return SA_OK;
        SET_ERR("%s before SASL authentication (only ApiVersions and SaslHandshake are allowed)",
                sa_proto_api_name(key));
        return SA_ERR_ILLEGAL_SASL_STATE;
    case SA_AUTH_AUTHENTICATE:
    case SA_AUTH_REAUTH:
        if (key == SA_API_SaslAuthenticate) return SA_OK;
        SET_ERR("%s during SASL authentication (only SaslAuthenticate is allowed)", sa_proto_api_name(key));
        return SA_ERR_ILLEGAL_SASL_STATE;
    case SA_AUTH_DONE:
        if (auth->session_end_ms && sa_mono_ms() >= auth->session_end_ms && key != SA_API_SaslHandshake) {
            SET_ERR(
                "%s after the session of %s expired (connections.max.reauth.ms) without re-authentication",
                sa_proto_api_name(key), auth->principal);
            return SA_ERR_ILLEGAL_SASL_STATE;
        }
        return SA_OK;
    case SA_AUTH_RAW:
    case SA_AUTH_FAILED: break;
    }
    SET_ERR("request in SASL state %d", (int)auth->state);
    return SA_ERR_ILLEGAL_SASL_STATE;
}

/* ---- handshake ---- */

sa_err_t sa_handle_SaslHandshake(sa_req_t *req) {
    sa_SaslHandshakeRequest_t in;
    sa_err_t err = sa_kit_decode(req, &in);
    if (err != SA_OK) return err;
    sa_auth_t *auth = auth_of(req);
    sa_SaslHandshakeResponse_t out;
    sa_SaslHandshakeResponse_init(&out);
    char mech[64];
    snprintf(mech, sizeof(mech), "%.*s", in.Mechanism.len > 0 ? (int)in.Mechanism.len : 0, in.Mechanism.ptr);
    unsigned bit = sa_mech_bit(mech);
    const sa_listener_t *l = auth->listener;
    if (auth->state == SA_AUTH_OPEN || auth->state == SA_AUTH_REAUTH) {
        out.ErrorCode = SA_ERR_ILLEGAL_SASL_STATE; /* Kafka: SASL is not used here / already under way */
    } else if (!(l->mechs & bit) || (auth->authenticated && bit != auth->mech)) {
        out.ErrorCode = SA_ERR_UNSUPPORTED_SASL_MECHANISM;
        sa_log_info("auth", "%s: SASL mechanism \"%s\" is not enabled on listener %s (%s)%s",
                    sa_req_peer(req), mech, l->name, l->mech_list,
                    auth->authenticated ? " for re-authentication" : "");
        auth->state = SA_AUTH_FAILED;
    } else {
        auth->mech = bit;
        sa_scram_server_free(auth->scram);
        auth->scram = NULL;
        if (bit != SA_MECH_PLAIN)
            auth->scram =
                sa_scram_server_new(bit == SA_MECH_SCRAM_SHA_256 ? SA_SCRAM_SHA_256 : SA_SCRAM_SHA_512,
                                    req->broker->metastore.scram);
        auth->state = auth->authenticated    ? SA_AUTH_REAUTH
                      : req->ApiVersion == 0 ? SA_AUTH_RAW
                                             : SA_AUTH_AUTHENTICATE;
    }
    /* The enabled list, in the configured order: a client that asked for another one can tell. */
    char list[sizeof(l->mech_list)], *save = NULL;
    snprintf(list, sizeof(list), "%s",
             out.ErrorCode == SA_ERR_ILLEGAL_SASL_STATE && auth->state == SA_AUTH_OPEN ? "" : l->mech_list);
    sa_str_t names[3];
    int n = 0;
    for (char *m = strtok_r(list, ",", &save); m && n < 3; m = strtok_r(NULL, ",", &save))
        names[n++] = sa_str(sa_str_dup(sa_str(m), &req->arena));
    out.Mechanisms = names;
    out.Mechanisms_count = n;
    return sa_kit_encode(req, &out);
}

/* ---- one step of the mechanism ---- */

/* PLAIN (RFC 4616): authzid NUL authcid NUL passwd. @returns SA_OK or the client's message. */
static sa_err_t plain_step(sa_auth_t *auth, const uint8_t *in, size_t len, const char **client_msg,
                           char *errstr, size_t errstr_size) {
    const char *p = (const char *)in, *end = p + len;
    const char *tok[3];
    size_t tlen[3];
    int n = 0;
    for (const char *s = p;; n++) {
        const char *z = memchr(s, 0, (size_t)(end - s));
        if (n < 3) {
            tok[n] = s;
            tlen[n] = (size_t)((z ? z : end) - s);
        }
        if (!z) {
            n++;
            break;
        }
        s = z + 1;
    }
    if (n != 3) {
        static char msg[96];
        snprintf(msg, sizeof(msg), "Invalid SASL/PLAIN response: expected 3 tokens, got %d", n);
        *client_msg = msg;
        SET_ERR("malformed PLAIN message (%d tokens)", n);
        return SA_ERR_SASL_AUTHENTICATION_FAILED;
    }
    char user[SA_SCRAM_NAME_MAX + 1];
    snprintf(user, sizeof(user), "%.*s", (int)(tlen[1] < SA_SCRAM_NAME_MAX ? tlen[1] : SA_SCRAM_NAME_MAX),
             tok[1]);
    if (!tlen[1]) {
        *client_msg = "Authentication failed: username not specified";
    } else if (!tlen[2]) {
        *client_msg = "Authentication failed: password not specified";
    } else if (tlen[0] && (tlen[0] != tlen[1] || memcmp(tok[0], tok[1], tlen[0]))) {
        *client_msg =
            "Authentication failed: Client requested an authorization id that is different from username";
    } else {
        const char *want = sa_listener_plain_password(auth->listener, user);
        uint8_t a[SA_SCRAM_KEY_MAX], b[SA_SCRAM_KEY_MAX];
        /* Compare digests, so neither the time nor the length tells how much of it matched. */
        int ok = want && tlen[1] <= SA_SCRAM_NAME_MAX &&
                 !sa_scram_hash(SA_SCRAM_SHA_256, tok[2], tlen[2], a) &&
                 !sa_scram_hash(SA_SCRAM_SHA_256, want, strlen(want), b) && sa_scram_equal(a, b, 32);
        OPENSSL_cleanse(a, sizeof(a));
        OPENSSL_cleanse(b, sizeof(b));
        if (ok) {
            snprintf(auth->principal, sizeof(auth->principal), "User:%s", user);
            return SA_OK;
        }
        *client_msg = "Authentication failed: Invalid username or password";
    }
    SET_ERR("PLAIN authentication of user \"%s\" failed: %s", user, *client_msg);
    return SA_ERR_SASL_AUTHENTICATION_FAILED;
}

/* Run one token through the mechanism; the answer is appended to @p out. *done when complete.
 * On failure *client_msg is the text the client may see. */
static sa_err_t step(sa_req_t *req, sa_auth_t *auth, const uint8_t *in, size_t len, sa_buf_t *out, int *done,
                     const char **client_msg, char *errstr, size_t errstr_size) {
    *done = 0;
    *client_msg =
        auth->authenticated
            ? "Authentication failed during re-authentication due to invalid credentials with SASL mechanism "
            : "Authentication failed during authentication due to invalid credentials with SASL mechanism ";
    char prev[SA_PRINCIPAL_MAX];
    snprintf(prev, sizeof(prev), "%s", auth->principal);
    sa_err_t err;
    if (auth->mech == SA_MECH_PLAIN) {
        err = plain_step(auth, in, len, client_msg, errstr, errstr_size);
        *done = err == SA_OK;
    } else {
        err = sa_scram_server_step(auth->scram, in, len, out, done, errstr, errstr_size);
        if (err == SA_OK && *done)
            snprintf(auth->principal, sizeof(auth->principal), "User:%s", sa_scram_server_user(auth->scram));
        if (err != SA_OK && auth->scram && *sa_scram_server_user(auth->scram)) {
            char why[256];
            snprintf(why, sizeof(why), "%s", errstr);
            SET_ERR("%s authentication of user \"%s\" failed: %s", mech_name(auth->mech),
                    sa_scram_server_user(auth->scram), why);
        }
    }
    if (err == SA_OK && *done && auth->authenticated && strcmp(prev, auth->principal)) {
        static char msg[SA_PRINCIPAL_MAX * 2 + 64];
        snprintf(msg, sizeof(msg), "Cannot change principals during re-authentication from %s: %s", prev,
                 auth->principal);
        snprintf(auth->principal, sizeof(auth->principal), "%s", prev);
        *client_msg = msg;
        SET_ERR("%s", msg);
        return SA_ERR_SASL_AUTHENTICATION_FAILED;
    }
    if (err == SA_OK && *done) {
        int64_t reauth = req->broker->conf->connections_max_reauth_ms;
        auth->session_end_ms = reauth > 0 ? sa_mono_ms() + reauth : 0;
        sa_log_debug(SA_DBG_NET, "auth", "%s: %s as %s with %s", sa_req_peer(req),
                     auth->authenticated ? "re-authenticated" : "authenticated", auth->principal,
                     mech_name(auth->mech));
        auth->authenticated = 1;
        auth->state = SA_AUTH_DONE;
        sa_scram_server_free(auth->scram);
        auth->scram = NULL;
    }
    return err;
}

sa_err_t sa_handle_SaslAuthenticate(sa_req_t *req) {
    sa_SaslAuthenticateRequest_t in;
    sa_err_t err = sa_kit_decode(req, &in);
    if (err != SA_OK) return err;
    sa_auth_t *auth = auth_of(req);
    sa_SaslAuthenticateResponse_t out;
    sa_SaslAuthenticateResponse_init(&out);
    out.ErrorMessage = SA_STR_NULL;
    out.AuthBytes = (sa_bytes_t){(const uint8_t *)"", 0};
    if (auth->state != SA_AUTH_AUTHENTICATE && auth->state != SA_AUTH_REAUTH) {
        out.ErrorCode = SA_ERR_ILLEGAL_SASL_STATE;
        out.ErrorMessage =
            sa_str(auth->state == SA_AUTH_OPEN ? "SASL is not enabled on this listener"
                                               : "SaslAuthenticate request received after successful "
                                                 "authentication");
        return sa_kit_encode(req, &out);
    }
    sa_buf_t token = SA_BUF_INIT(0);
    int done = 0;
    const char *client_msg = "";
    char errstr[512] = "";
    const char *what = auth->authenticated ? "re-authentication" : "authentication";
    err = step(req, auth, in.AuthBytes.ptr ? in.AuthBytes.ptr : (const uint8_t *)"",
               in.AuthBytes.len > 0 ? (size_t)in.AuthBytes.len : 0, &token, &done, &client_msg, errstr,
               sizeof(errstr));
    if (err != SA_OK) {
        char msg[SA_PRINCIPAL_MAX * 2 + 160];
        size_t cl = strlen(client_msg);
        int generic = cl >= 10 && !strcmp(client_msg + cl - 10, "mechanism "); /* Kafka names it last */
        snprintf(msg, sizeof(msg), "%s%s", client_msg, generic ? mech_name(auth->mech) : "");
        sa_log_info("auth", "%s: %s failed on listener %s: %s", sa_req_peer(req), what, auth->listener->name,
                    errstr);
        out.ErrorCode = SA_ERR_SASL_AUTHENTICATION_FAILED;
        out.ErrorMessage = sa_str(sa_str_dup(sa_str(msg), &req->arena));
        auth->state = SA_AUTH_FAILED;
    } else {
        uint8_t *copy = sa_arena_alloc(&req->arena, token.len + 1);
        if (copy && token.len) memcpy(copy, token.data, token.len);
        out.AuthBytes = (sa_bytes_t){copy, copy ? (int32_t)token.len : 0};
        if (done && auth->session_end_ms)
            out.SessionLifetimeMs = req->broker->conf->connections_max_reauth_ms;
    }
    sa_buf_free(&token);
    return sa_kit_encode(req, &out);
}

sa_err_t sa_sasl_raw_token(sa_req_t *req, char *errstr, size_t errstr_size) {
    sa_auth_t *auth = auth_of(req);
    int done = 0;
    const char *client_msg = "";
    sa_err_t err =
        step(req, auth, req->_frame, req->_frame_len, &req->resp, &done, &client_msg, errstr, errstr_size);
    if (err != SA_OK) {
        char why[512];
        snprintf(why, sizeof(why), "%s", errstr);
        SET_ERR("SASL authentication (v0 framing) failed on listener %s: %s", auth->listener->name, why);
        auth->state = SA_AUTH_FAILED;
    }
    return err;
}
