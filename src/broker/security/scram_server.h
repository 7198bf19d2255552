/*
 * scram_server.h - the server side of one SCRAM exchange (RFC 5802 §5 as Kafka's ScramSaslServer
 * runs it): client-first -> server-first, client-final -> server-final.
 *
 * An unknown user is not told apart from a wrong password: the exchange goes on with a random
 * salt and fails at the proof, as RFC 5802 §5.1 suggests (Kafka fails at the first message; the
 * client sees the same error either way).
 */
#ifndef SA_BROKER_SECURITY_SCRAM_SERVER_H
#define SA_BROKER_SECURITY_SCRAM_SERVER_H

#include <stddef.h>
#include <stdint.h>

#include "broker/security/scram_store.h"
#include "core/buf.h"
#include "core/err.h"

typedef struct sa_scram_server_s sa_scram_server_t;

/** @returns a new exchange for @p mech, credentials from @p store (borrowed for its life). */
sa_scram_server_t *sa_scram_server_new(sa_scram_mech_t mech, const sa_scram_store_t *store);
/** Free @p s (NULL is fine); secrets are wiped. */
void sa_scram_server_free(sa_scram_server_t *s);

/**
 * One step: @p in (@p len bytes, borrowed) is the client's message; the answer is appended to
 * @p out. *@p done is set when the exchange succeeded (the answer is server-final).
 * @returns SA_OK, or SA_ERR_SASL_AUTHENTICATION_FAILED with the reason (for the broker's log,
 * never for the client) in @p errstr.
 */
sa_err_t sa_scram_server_step(sa_scram_server_t *s, const uint8_t *in, size_t len, sa_buf_t *out, int *done,
                              char *errstr, size_t errstr_size);

/** @returns the user name the client claimed ("" before client-first), valid while @p s lives. */
const char *sa_scram_server_user(const sa_scram_server_t *s);

#endif
