/*
 * listener.h - the broker's listeners as Kafka writes them: `listeners`, `advertised.listeners`,
 * `listener.security.protocol.map` and the per-listener `listener.name.NAME.KEY` settings.
 *
 *   listeners=PLAINTEXT://127.0.0.1:9092,SASL_SSL://0.0.0.0:9094,INTERNAL://:9095
 *   listener.security.protocol.map=INTERNAL:SSL,PLAINTEXT:PLAINTEXT,SASL_SSL:SASL_SSL
 *   advertised.listeners=PLAINTEXT://localhost:9092,SASL_SSL://kafka.example.com:9094
 *   listener.name.sasl_ssl.sasl.enabled.mechanisms=SCRAM-SHA-512
 *   listener.name.sasl_ssl.plain.sasl.jaas.config=... user_alice="alice-secret";
 *
 * A listener is a NAME, a security protocol (through the map; a name that is a protocol maps to
 * itself, as in Kafka's default map), the address it binds, and the address Metadata and
 * FindCoordinator answer to a client that came in through it (advertised.listeners by name;
 * unset: the bind address, with this host's name for a wildcard). A bare HOST:PORT is
 * PLAINTEXT://HOST:PORT (samsa's --listen since the first release).
 *
 * Rules (checked by sa_listeners_parse, each failure one line naming the setting): names are
 * unique, ports are unique, every name is in the map, every advertised name is a listener.
 *
 * @locality the broker's loop thread (parsed once at start, read-only after).
 */
#ifndef SA_BROKER_SECURITY_LISTENER_H
#define SA_BROKER_SECURITY_LISTENER_H

#include <stddef.h>

#include "core/config.h"
#include "core/err.h"

/* Kafka's SecurityProtocol. */
typedef enum sa_secproto_e {
    SA_SECPROTO_PLAINTEXT,
    SA_SECPROTO_SSL,
    SA_SECPROTO_SASL_PLAINTEXT,
    SA_SECPROTO_SASL_SSL,
} sa_secproto_t;

/* SASL mechanisms a listener may enable (a bitmask). */
#define SA_MECH_PLAIN         (1u << 0)
#define SA_MECH_SCRAM_SHA_256 (1u << 1)
#define SA_MECH_SCRAM_SHA_512 (1u << 2)

/* ssl.client.auth */
#define SA_TLS_CLIENT_AUTH_NONE      0 /* no certificate asked for */
#define SA_TLS_CLIENT_AUTH_REQUESTED 1 /* asked for; a connection without one is still served */
#define SA_TLS_CLIENT_AUTH_REQUIRED  2 /* the handshake fails without a certificate the CA signed */

/* A PLAIN user of a listener (from its JAAS user_NAME="password" entries). */
typedef struct sa_plain_user_s {
    char *name;     /* owned */
    char *password; /* owned; never logged */
} sa_plain_user_t;

typedef struct sa_listener_s {
    char name[64]; /* upper case, as Kafka normalises it: "SASL_SSL", "INTERNAL" */
    sa_secproto_t proto;
    char host[256]; /* bind address ("" or 0.0.0.0: every interface) */
    int port;
    char adv_host[256]; /* what a client of this listener is told to connect to */
    int adv_port;
    int adv_explicit;    /* adv_* came from advertised.listeners */
    unsigned mechs;      /* SA_MECH_* enabled (SASL protocols only) */
    char mech_list[128]; /* the enabled mechanisms in the configured order, "A,B" (Handshake's list) */
    sa_plain_user_t *plain_users;
    size_t nplain_users;
    int client_auth; /* SA_TLS_CLIENT_AUTH_*, for SSL and SASL_SSL */
    int fd;          /* the listening socket, -1 when closed (broker.c) */
    void *_owner;    /* the broker (broker.c's accept callback) */
} sa_listener_t;

/* The inputs, from the broker's option table. */
typedef struct sa_listener_conf_s {
    const char *listeners;        /* listeners */
    const char *advertised;       /* advertised.listeners ("" = none) */
    const char *protocol_map;     /* listener.security.protocol.map */
    const char *mechanisms;       /* sasl.enabled.mechanisms (every SASL listener's default) */
    const char *client_auth;      /* ssl.client.auth (every TLS listener's default) */
    const sa_strlist_t *per_name; /* "listener.name.NAME.KEY=VALUE" entries */
} sa_listener_conf_t;

/**
 * Parse @p conf into *@p out (returns new array, *@p n entries; free with sa_listeners_free).
 * @returns SA_OK, or SA_ERR_INVALID_ARG with one line in @p errstr.
 */
sa_err_t sa_listeners_parse(const sa_listener_conf_t *conf, sa_listener_t **out, size_t *n, char *errstr,
                            size_t errstr_size);
void sa_listeners_free(sa_listener_t *l, size_t n);

/** @returns "PLAINTEXT", "SSL", "SASL_PLAINTEXT" or "SASL_SSL". */
const char *sa_secproto_name(sa_secproto_t proto);
static inline int sa_secproto_tls(sa_secproto_t p) {
    return p == SA_SECPROTO_SSL || p == SA_SECPROTO_SASL_SSL;
}
static inline int sa_secproto_sasl(sa_secproto_t p) {
    return p == SA_SECPROTO_SASL_PLAINTEXT || p == SA_SECPROTO_SASL_SSL;
}

/** @returns the SA_MECH_* bit of SASL mechanism @p name (exact), 0 if samsa has none. */
unsigned sa_mech_bit(const char *name);

/** @returns the password of PLAIN user @p name on @p l (borrowed), or NULL. */
const char *sa_listener_plain_password(const sa_listener_t *l, const char *name);

#endif
