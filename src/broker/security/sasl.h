/*
 * sasl.h - a connection's authentication state machine (SASL over Kafka's SaslHandshake and
 * SaslAuthenticate, KIP-43/KIP-152/KIP-368) and the principal it establishes.
 *
 * STATES (sa_auth_t.state), per connection:
 *
 *   OPEN ........ listener without SASL (PLAINTEXT, SSL): every request is served; the principal
 *                 is User:ANONYMOUS or, over SSL with a verified client certificate, its subject.
 *   HANDSHAKE ... SASL listener, not authenticated: only ApiVersions and SaslHandshake are served
 *                 (any other request closes the connection, as Kafka does).
 *       SaslHandshake v0 (mechanism enabled) -> RAW;  v1 -> AUTHENTICATE;
 *       an unknown or disabled mechanism: UNSUPPORTED_SASL_MECHANISM with the enabled list, then
 *       the connection closes.
 *   RAW ......... (v0 framing) the next frames are bare SASL tokens, answered by bare tokens
 *                 (conn.c hands them to sa_sasl_raw_token); success -> DONE, failure: closed.
 *   AUTHENTICATE  only SaslAuthenticate; each token is one step of the mechanism;
 *                 success -> DONE, failure: SASL_AUTHENTICATION_FAILED with Kafka's message, closed.
 *   DONE ........ authenticated: every request is served while the session lasts. With
 *                 connections.max.reauth.ms > 0 the session ends that long after it began
 *                 (SaslAuthenticate v1+ says so in SessionLifetimeMs); a request after the end
 *                 that does not start a re-authentication closes the connection.
 *       SaslHandshake (same mechanism) -> REAUTH: SaslAuthenticate steps as in AUTHENTICATE;
 *       success keeps the connection with a new session (the principal must not change).
 *   FAILED ...... the failure's response is queued; no further frame is read; conn.c closes the
 *                 connection once it is written.
 *
 * The time until authentication is done (TLS handshake included) is bounded by
 * connections.handshake.timeout.ms (conn.c), so a client that stalls holds no slot for long.
 * Passwords and tokens are never logged; failures are logged at info with the peer, the
 * mechanism and the user name the client claimed.
 *
 * @locality the broker's loop thread.
 */
#ifndef SA_BROKER_SECURITY_SASL_H
#define SA_BROKER_SECURITY_SASL_H

#include <stddef.h>
#include <stdint.h>

#include "broker/broker.h"
#include "broker/security/listener.h"
#include "core/scram.h"

typedef enum sa_auth_state_e {
    SA_AUTH_OPEN,
    SA_AUTH_HANDSHAKE,
    SA_AUTH_RAW,
    SA_AUTH_AUTHENTICATE,
    SA_AUTH_DONE,
    SA_AUTH_REAUTH,
    SA_AUTH_FAILED,
} sa_auth_state_t;

#define SA_PRINCIPAL_MAX (SA_SCRAM_NAME_MAX + 64)

typedef struct sa_scram_server_s sa_scram_server_t;

typedef struct sa_auth_s {
    sa_auth_state_t state;
    const sa_listener_t *listener;    /* borrowed from the broker */
    unsigned mech;                    /* SA_MECH_* of the handshake, 0 before */
    int authenticated;                /* DONE at least once (REAUTH keeps serving) */
    sa_scram_server_t *scram;         /* owned: a SCRAM exchange in progress, or NULL */
    int64_t session_end_ms;           /* monotonic ms the session ends, 0: never */
    char principal[SA_PRINCIPAL_MAX]; /* "User:ANONYMOUS" until authenticated */
} sa_auth_t;

/** Start the state of a connection accepted on @p l. */
void sa_auth_init(sa_auth_t *auth, const sa_listener_t *l);
/** Free what the state holds (a SCRAM exchange in progress). */
void sa_auth_free(sa_auth_t *auth);

/**
 * May @p req (header decoded) be served in its connection's state? Checked by dispatch before
 * the handler. @returns SA_OK, or SA_ERR_ILLEGAL_SASL_STATE with the reason in @p errstr: the
 * connection is closed without an answer, as Kafka does.
 */
sa_err_t sa_auth_gate(sa_req_t *req, char *errstr, size_t errstr_size);

/**
 * A bare SASL token (v0 framing, state RAW) in @p req's frame: run the mechanism's step and put
 * the bare answer into req->resp after its size placeholder. @returns SA_OK (answer ready), or
 * SA_ERR_SASL_AUTHENTICATION_FAILED with a reason (close without an answer, as Kafka does).
 */
sa_err_t sa_sasl_raw_token(sa_req_t *req, char *errstr, size_t errstr_size);

sa_err_t sa_handle_SaslHandshake(sa_req_t *req);
sa_err_t sa_handle_SaslAuthenticate(sa_req_t *req);

#endif
