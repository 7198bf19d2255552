/*
 * conn.h - a client connection inside the broker: framing, the in-order response queue,
 * backpressure. Internal to src/broker (handlers see only sa_req_t).
 *
 * States of a connection: [HANDSHAKE (TLS listeners: the TLS handshake runs on the loop, no
 * frame is read)] -> OPEN (reading frames, dispatching, writing responses) -> CLOSED (fd closed,
 * pending requests cancelled, memory waiting in broker->_reap for before_sleep). Inside OPEN, a
 * SASL listener's connection goes through the authentication states of security/sasl.h; the TLS
 * handshake and the authentication together must finish within connections.handshake.timeout.ms.
 * Reads pause while too many requests, request bytes or response bytes are queued (a client that
 * pipelines faster than it is answered, or does not read its responses, cannot make the broker
 * buffer without bound) and resume when drained. All connections together are bounded too: by
 * one memory budget (queued.max.request.bytes: when it runs short, the connections that hold the
 * memory are the ones paused, and resumed in the order they were paused), connections.max.idle.ms,
 * connections.frame.timeout.ms (a frame started must arrive whole in time) and, at accept in
 * broker.c, max.connections and max.connections.per.ip (conn.c's header).
 */
#ifndef SA_BROKER_CONN_H
#define SA_BROKER_CONN_H

#include "broker/broker.h"
#include "broker/security/listener.h"
#include "broker/security/sasl.h"

/* How many connections one address has open (broker->_per_ip, max.connections.per.ip). */
typedef struct sa_ip_count_s {
    size_t n;    /* open connections from ip (> 0 while in the map) */
    char ip[64]; /* the key, numeric ("127.0.0.1", "::1") */
} sa_ip_count_t;

/**
 * Take @p fd (an accepted, non-blocking socket of listener @p l, borrowed from the broker) and
 * start serving it: TLS listeners start with the handshake. @p ip (the peer's numeric address,
 * borrowed) is counted in broker->_per_ip until the connection closes.
 * @returns the connection, or NULL (fd closed) if it could not be registered.
 */
sa_conn_t *sa_conn_new(sa_broker_t *broker, int fd, const char *peer, const char *ip, const sa_listener_t *l);

/** @returns how many connections @p ip has open now. */
size_t sa_conn_ip_count(const sa_broker_t *broker, const char *ip);

/** Check the broker-wide limits' invariants (the budget's total, the wait list); debug builds. */
void sa_conn_check_limits(const sa_broker_t *broker);

/** The authentication state of @p conn (security/sasl.c drives it). Valid while conn lives. */
sa_auth_t *sa_conn_auth(sa_conn_t *conn);

/**
 * Close @p conn: stop reading and writing, cancel its deferred requests, close the fd.
 * Its memory is freed later by sa_conn_reap(), so this is safe inside any callback.
 * @p reason (NULL: a normal close by the peer) is logged with the peer: at warn level
 * when @p warn, else at debug (net).
 */
void sa_conn_close(sa_conn_t *conn, int warn, const char *reason);

/** Free every connection closed since the last call (before_sleep). */
void sa_conn_reap(sa_broker_t *broker);

/** A request of @p conn is ready: write what can go out in order. */
void sa_conn_flush(sa_conn_t *conn);

#endif
