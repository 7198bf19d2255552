/*
 * scram_store.h - the SCRAM credentials of the broker's users, salted and hashed, durable in
 * the metadata log (kinds 32-33, metastore.h), in memory for the authentications.
 *
 * A credential is what RFC 5802 lets a server keep: salt, iterations, StoredKey, ServerKey
 * (core/scram.h). The password and the salted password are never stored: AlterUserScram-
 * Credentials sends the salted password (Kafka's clients derive it), from which the store keeps
 * only the two keys.
 *
 * RECORDS (payloads; all integers big-endian):
 *   kind 32 scram_credential  u16 name length N, N bytes user name (UTF-8), u8 mechanism
 *                             (1 SCRAM-SHA-256, 2 SCRAM-SHA-512), i32 iterations, u8 salt length
 *                             S (1..128), S bytes salt, K bytes StoredKey, K bytes ServerKey
 *                             (K = 32 or 64 by mechanism): the credential is set (replaced)
 *   kind 33 scram_delete      u16 N, N bytes user name, u8 mechanism: the credential is gone
 * A snapshot (compaction) writes one kind-32 record per live credential.
 *
 * Changes go through the log first (sa_scram_store_upsert/_delete append, then apply); the
 * AlterUserScramCredentials handler answers once its records are durable, so a credential a
 * client was told about survives a crash, and one lost to a failed sync vanishes from memory
 * with the replay (metalog.h).
 *
 * @locality the broker's loop thread.
 */
#ifndef SA_BROKER_SECURITY_SCRAM_STORE_H
#define SA_BROKER_SECURITY_SCRAM_STORE_H

#include <stddef.h>
#include <stdint.h>

#include "core/buf.h"
#include "core/err.h"
#include "core/scram.h"
#include "storage/metalog.h"

typedef struct sa_scram_cred_s {
    sa_scram_mech_t mech;
    int32_t iterations;
    uint8_t salt[SA_SCRAM_SALT_MAX];
    size_t salt_len;
    uint8_t stored_key[SA_SCRAM_KEY_MAX]; /* sa_scram_key_len(mech) bytes used */
    uint8_t server_key[SA_SCRAM_KEY_MAX];
} sa_scram_cred_t;

typedef struct sa_scram_store_s sa_scram_store_t;

/** @returns a new, empty store appending to @p log (borrowed). */
sa_scram_store_t *sa_scram_store_new(sa_metalog_t *log);
void sa_scram_store_free(sa_scram_store_t *st);

/** @returns @p user's credential for @p mech (valid until the next change), or NULL. */
const sa_scram_cred_t *sa_scram_store_find(const sa_scram_store_t *st, const char *user,
                                           sa_scram_mech_t mech);

/** @returns how many users have at least one credential; sa_scram_store_user(st, i) names the
 *  i-th in byte order (valid until the next change). */
size_t sa_scram_store_count(const sa_scram_store_t *st);
const char *sa_scram_store_user(const sa_scram_store_t *st, size_t i);

/**
 * Set @p user's credential (@p cred borrowed): append the record, then apply it. *@p seq gets
 * the record's sequence number (answer once sa_metalog_durable). @returns SA_OK or the log's error.
 */
sa_err_t sa_scram_store_upsert(sa_scram_store_t *st, const char *user, const sa_scram_cred_t *cred,
                               uint64_t *seq);
/** Remove @p user's @p mech credential (it must exist). @returns SA_OK or the log's error. */
sa_err_t sa_scram_store_delete(sa_scram_store_t *st, const char *user, sa_scram_mech_t mech, uint64_t *seq);

/** Derive a credential from a salted password (AlterUserScramCredentials' upsertion). @returns 0 or -1. */
int sa_scram_cred_from_salted(sa_scram_cred_t *cred, sa_scram_mech_t mech, int32_t iterations,
                              const uint8_t *salt, size_t salt_len, const uint8_t *salted, size_t salted_len);

/* The metadata log's owner callbacks (metastore.c). */
sa_err_t sa_scram_store_apply(sa_scram_store_t *st, uint8_t kind, const uint8_t *payload, size_t len);
void sa_scram_store_reset(sa_scram_store_t *st);
uint64_t sa_scram_store_live(const sa_scram_store_t *st);
void sa_scram_store_snapshot(const sa_scram_store_t *st, sa_metalog_writer_t *w);
/** The dumper's view of a record: user, mechanism, iterations (never a key). */
sa_err_t sa_scram_store_describe(uint8_t kind, const uint8_t *payload, size_t len, sa_buf_t *out);

#endif
