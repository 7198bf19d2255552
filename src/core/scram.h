/*
 * scram.h - SCRAM-SHA-256/512 (RFC 5802, RFC 7677) as Kafka uses it: the key derivations, the
 * three messages each side parses, and base64, shared by the broker's server (broker/security)
 * and samsa's own client (client/kafka_conn.c). Every primitive is OpenSSL's (PBKDF2, HMAC,
 * SHA-2, CRYPTO_memcmp, RAND_bytes): nothing here is hand-rolled cryptography, only the RFC's
 * glue around it.
 *
 * The mechanisms keep Kafka's wire codes (DescribeUserScramCredentials/AlterUserScramCredentials
 * "Mechanism": 1 = SCRAM-SHA-256, 2 = SCRAM-SHA-512) and Kafka's iteration bounds (4096..16384).
 *
 * Key derivation (RFC 5802 §3), H = SHA-256 or SHA-512, HMAC with H:
 *   SaltedPassword = PBKDF2-HMAC-H(password, salt, iterations, len(H))
 *   ClientKey = HMAC(SaltedPassword, "Client Key")    StoredKey = H(ClientKey)
 *   ServerKey = HMAC(SaltedPassword, "Server Key")
 * A server keeps only salt, iterations, StoredKey and ServerKey: neither the password nor the
 * salted password can be recovered from them, and they cannot be replayed as a password.
 *
 * Messages (the gs2 header is "n,," or "n,a=AUTHZID,"; channel binding is never used):
 *   client-first  gs2-header "n=" saslname ",r=" c-nonce [",ext=..."]
 *   server-first  "r=" c-nonce s-nonce ",s=" base64(salt) ",i=" iterations
 *   client-final  "c=" base64(gs2-header) ",r=" nonce [",ext"] ",p=" base64(ClientProof)
 *                 (the nonce must end with server-first's, as Kafka checks it)
 *   server-final  "v=" base64(ServerSignature)
 * AuthMessage = client-first-bare "," server-first "," client-final-without-proof;
 * ClientProof = ClientKey XOR HMAC(StoredKey, AuthMessage);
 * ServerSignature = HMAC(ServerKey, AuthMessage).
 *
 * Parsers take untrusted bytes (not NUL-terminated), check every field, and never read past
 * @p len; they return views into the input.
 */
#ifndef SA_CORE_SCRAM_H
#define SA_CORE_SCRAM_H

#include <stddef.h>
#include <stdint.h>

#include "core/buf.h"

typedef enum sa_scram_mech_e {
    SA_SCRAM_UNKNOWN = 0,
    SA_SCRAM_SHA_256 = 1, /* Kafka's ScramMechanism code */
    SA_SCRAM_SHA_512 = 2,
} sa_scram_mech_t;

#define SA_SCRAM_MIN_ITERATIONS 4096  /* Kafka's ScramMechanism.minIterations */
#define SA_SCRAM_MAX_ITERATIONS 16384 /* Kafka's ScramMechanism.maxIterations */
#define SA_SCRAM_KEY_MAX        64    /* SHA-512 */
#define SA_SCRAM_SALT_MAX       128   /* longest salt accepted or stored */
#define SA_SCRAM_NAME_MAX       1024  /* longest user name accepted */

/** @returns "SCRAM-SHA-256"/"SCRAM-SHA-512", or NULL for an unknown code. */
const char *sa_scram_mech_name(int mech);
/** @returns the mechanism named @p name (exact, as SASL names it), or SA_SCRAM_UNKNOWN. */
sa_scram_mech_t sa_scram_mech_by_name(const char *name);
/** @returns the length of H's output (32 or 64), 0 for an unknown mechanism. */
size_t sa_scram_key_len(sa_scram_mech_t mech);

/** SaltedPassword (sa_scram_key_len bytes into @p out). @returns 0, or -1 if OpenSSL failed. */
int sa_scram_salted_password(sa_scram_mech_t mech, const char *password, size_t password_len,
                             const uint8_t *salt, size_t salt_len, int iterations, uint8_t *out);
/** StoredKey and ServerKey from SaltedPassword (key_len bytes each). @returns 0 or -1. */
int sa_scram_keys(sa_scram_mech_t mech, const uint8_t *salted, uint8_t *stored_key, uint8_t *server_key);
/** HMAC-H(@p key, @p data) into @p out (key_len bytes). @returns 0 or -1. */
int sa_scram_hmac(sa_scram_mech_t mech, const uint8_t *key, size_t key_len, const void *data, size_t len,
                  uint8_t *out);
/** H(@p data) into @p out. @returns 0 or -1. */
int sa_scram_hash(sa_scram_mech_t mech, const void *data, size_t len, uint8_t *out);

/** Constant-time comparison of @p n bytes. @returns 1 if equal. */
int sa_scram_equal(const void *a, const void *b, size_t n);

/** @p n cryptographically random bytes. @returns 0, or -1 if the generator failed. */
int sa_scram_random(uint8_t *out, size_t n);
/** A fresh nonce: base64 of 24 random bytes (32 printable characters, no comma), NUL-terminated
 *  in @p out (>= 33 bytes). @returns 0 or -1. */
int sa_scram_nonce(char *out, size_t size);

/** Append base64 of @p len bytes to @p out (no NUL). */
void sa_scram_b64_encode(sa_buf_t *out, const void *data, size_t len);
/** Decode base64 @p s (@p len chars, padded) into @p out (room @p size).
 *  @returns decoded length, or -1 if malformed or too long. */
int sa_scram_b64_decode(const char *s, size_t len, uint8_t *out, size_t size);

/** A view of a byte range of a message. */
typedef struct sa_scram_str_s {
    const char *p;
    size_t len;
} sa_scram_str_t;

typedef struct sa_scram_client_first_s {
    sa_scram_str_t gs2_header; /* "n,," or "n,a=AUTHZID," */
    sa_scram_str_t authzid;    /* decoded view (len 0: none given) */
    sa_scram_str_t bare;       /* client-first-message-bare: "n=...,r=..." */
    sa_scram_str_t nonce;
    int token_auth; /* extension tokenauth=true (delegation tokens: refused by samsa) */
} sa_scram_client_first_t;

/**
 * Parse client-first. The user name is unescaped ("=2C" -> ",", "=3D" -> "=") into @p user
 * (room @p user_size, NUL-terminated). @returns 0, or -1 with why in @p errstr.
 */
int sa_scram_parse_client_first(const char *msg, size_t len, sa_scram_client_first_t *out, char *user,
                                size_t user_size, char *errstr, size_t errstr_size);

typedef struct sa_scram_server_first_s {
    sa_scram_str_t nonce; /* client + server nonce */
    uint8_t salt[SA_SCRAM_SALT_MAX];
    size_t salt_len;
    int iterations;
} sa_scram_server_first_t;

/** Parse server-first. @returns 0 or -1 with why in @p errstr. */
int sa_scram_parse_server_first(const char *msg, size_t len, sa_scram_server_first_t *out, char *errstr,
                                size_t errstr_size);

typedef struct sa_scram_client_final_s {
    sa_scram_str_t channel;       /* base64 of the gs2 header */
    sa_scram_str_t nonce;         /* client + server nonce */
    sa_scram_str_t without_proof; /* the message up to ",p=" */
    uint8_t proof[SA_SCRAM_KEY_MAX];
    size_t proof_len;
} sa_scram_client_final_t;

/** Parse client-final. @returns 0 or -1 with why in @p errstr. */
int sa_scram_parse_client_final(const char *msg, size_t len, sa_scram_client_final_t *out, char *errstr,
                                size_t errstr_size);

/** Parse server-final: "v=SIG" into @p sig (room SA_SCRAM_KEY_MAX), or "e=ERROR" (the error copied to
 *  @p errstr). @returns the signature's length, or -1. */
int sa_scram_parse_server_final(const char *msg, size_t len, uint8_t *sig, char *errstr, size_t errstr_size);

/* One credential as Kafka's tools write it: kafka-configs --add-config
 * 'SCRAM-SHA-256=[iterations=8192,password=alice-secret]' and kafka-storage --add-scram
 * 'SCRAM-SHA-256=[name=alice,password=alice-secret]' (values may be "quoted"; salt and
 * saltedpassword are base64). */
typedef struct sa_scram_spec_s {
    sa_scram_mech_t mech;
    char name[SA_SCRAM_NAME_MAX + 1]; /* "" if not given */
    char password[1024];              /* "" if not given */
    int iterations;                   /* 0 if not given */
    uint8_t salt[SA_SCRAM_SALT_MAX];
    size_t salt_len; /* 0 if not given */
    uint8_t salted[SA_SCRAM_KEY_MAX];
    size_t salted_len; /* 0 if not given */
} sa_scram_spec_t;

/**
 * Parse one "MECH=[key=value,...]" at *@p p, advancing *@p p past it and a following ','.
 * @returns 0, or -1 with why in @p errstr. Call sa_scram_spec_wipe() when done (a password).
 */
int sa_scram_parse_spec(const char **p, sa_scram_spec_t *out, char *errstr, size_t errstr_size);
void sa_scram_spec_wipe(sa_scram_spec_t *spec);

/**
 * Complete @p spec into salt, iterations and salted password: a random 32-byte salt and 4096
 * iterations unless given; the salted password derived from the password unless given.
 * @returns 0, or -1 with why in @p errstr (no password nor salted password, bounds).
 */
int sa_scram_spec_derive(sa_scram_spec_t *spec, char *errstr, size_t errstr_size);

/** Append @p user escaped as a saslname ("," -> "=2C", "=" -> "=3D") to @p out. */
void sa_scram_escape_name(sa_buf_t *out, const char *user);

#endif
