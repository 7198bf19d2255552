/*
 * scram_server.c - one SCRAM exchange, server side (see scram_server.h and core/scram.h).
 *
 * Steps: FIRST (expects client-first) -> FINAL (expects client-final) -> DONE or FAILED.
 * The proof check: ClientKey = ClientProof XOR HMAC(StoredKey, AuthMessage); the client knows the
 * password iff H(ClientKey) == StoredKey, compared in constant time.
 */
#include "broker/security/scram_server.h"

#include <openssl/crypto.h>
#include <stdio.h>
#include <string.h>

#include "core/mem.h"
#include "core/scram.h"

#define SET_ERR(...) snprintf(errstr, errstr_size, __VA_ARGS__)

enum { STEP_FIRST, STEP_FINAL, STEP_DONE, STEP_FAILED };

struct sa_scram_server_s {
    int step;
    sa_scram_mech_t mech;
    const sa_scram_store_t *store;
    char user[SA_SCRAM_NAME_MAX + 1];
    sa_scram_cred_t cred;
    int unknown;              /* no credential: the proof must fail */
    sa_buf_t auth_message;    /* client-first-bare "," server-first (client-final added at the end) */
    char gs2_b64[64];         /* base64 of the client's gs2 header: the expected channel binding */
    char nonce[2 * 128 + 40]; /* client nonce + server nonce */
};

sa_scram_server_t *sa_scram_server_new(sa_scram_mech_t mech, const sa_scram_store_t *store) {
    sa_scram_server_t *s = sa_new(sa_scram_server_t);
    s->mech = mech;
    s->store = store;
    sa_buf_init(&s->auth_message, 0);
    return s;
}

void sa_scram_server_free(sa_scram_server_t *s) {
    if (!s) return;
    OPENSSL_cleanse(&s->cred, sizeof(s->cred));
    sa_buf_free(&s->auth_message);
    free(s);
}

const char *sa_scram_server_user(const sa_scram_server_t *s) { return s->user; }

static sa_err_t first(sa_scram_server_t *s, const char *msg, size_t len, sa_buf_t *out, char *errstr,
                      size_t errstr_size) {
    sa_scram_client_first_t cf;
    if (sa_scram_parse_client_first(msg, len, &cf, s->user, sizeof(s->user), errstr, errstr_size))
        return SA_ERR_SASL_AUTHENTICATION_FAILED;
    if (cf.token_auth) {
        SET_ERR("delegation tokens (tokenauth) are not supported");
        return SA_ERR_SASL_AUTHENTICATION_FAILED;
    }
    if (cf.authzid.len &&
        (cf.authzid.len != strlen(s->user) || memcmp(cf.authzid.p, s->user, cf.authzid.len))) {
        SET_ERR("the client asked for an authorization id different from its user name");
        return SA_ERR_SASL_AUTHENTICATION_FAILED;
    }
    if (cf.nonce.len > 128 || cf.gs2_header.len > 40) {
        SET_ERR("client nonce or gs2 header too long");
        return SA_ERR_SASL_AUTHENTICATION_FAILED;
    }
    const sa_scram_cred_t *cred = sa_scram_store_find(s->store, s->user, s->mech);
    if (cred) {
        s->cred = *cred;
    } else {
        s->unknown = 1;
        s->cred.mech = s->mech;
        s->cred.iterations = SA_SCRAM_MIN_ITERATIONS;
        s->cred.salt_len = 16;
        if (sa_scram_random(s->cred.salt, s->cred.salt_len)) goto rand_fail;
    }
    char snonce[40];
    if (sa_scram_nonce(snonce, sizeof(snonce))) goto rand_fail;
    snprintf(s->nonce, sizeof(s->nonce), "%.*s%s", (int)cf.nonce.len, cf.nonce.p, snonce);
    sa_buf_t gs2 = SA_BUF_INIT(0);
    sa_scram_b64_encode(&gs2, cf.gs2_header.p, cf.gs2_header.len);
    snprintf(s->gs2_b64, sizeof(s->gs2_b64), "%.*s", (int)gs2.len, (const char *)gs2.data);
    sa_buf_free(&gs2);

    size_t start = out->len;
    sa_buf_printf(out, "r=%s,s=", s->nonce);
    sa_scram_b64_encode(out, s->cred.salt, s->cred.salt_len);
    sa_buf_printf(out, ",i=%d", (int)s->cred.iterations);
    sa_buf_append(&s->auth_message, cf.bare.p, cf.bare.len);
    sa_buf_putc(&s->auth_message, ',');
    sa_buf_append(&s->auth_message, out->data + start, out->len - start);
    s->step = STEP_FINAL;
    return SA_OK;
rand_fail:
    SET_ERR("the random generator failed");
    return SA_ERR_SASL_AUTHENTICATION_FAILED;
}

static sa_err_t final(sa_scram_server_t *s, const char *msg, size_t len, sa_buf_t *out, int *done,
                      char *errstr, size_t errstr_size) {
    sa_scram_client_final_t cf;
    size_t k = sa_scram_key_len(s->mech);
    if (sa_scram_parse_client_final(msg, len, &cf, errstr, errstr_size))
        return SA_ERR_SASL_AUTHENTICATION_FAILED;
    /* RFC 5802 wants the nonce of server-first back; Kafka accepts any nonce that ENDS with it,
     * and librdkafka 2.0 relies on that (it sends its client nonce once more in front). The
     * proof covers the message as sent, so the check is as strong either way. */
    size_t nl = strlen(s->nonce);
    if (cf.nonce.len < nl || memcmp(cf.nonce.p + cf.nonce.len - nl, s->nonce, nl)) {
        SET_ERR("invalid nonce in the client-final message");
        return SA_ERR_SASL_AUTHENTICATION_FAILED;
    }
    if (cf.channel.len != strlen(s->gs2_b64) || memcmp(cf.channel.p, s->gs2_b64, cf.channel.len)) {
        SET_ERR("channel binding does not match the gs2 header");
        return SA_ERR_SASL_AUTHENTICATION_FAILED;
    }
    if (cf.proof_len != k) {
        SET_ERR("client proof of %zu bytes, expected %zu", cf.proof_len, k);
        return SA_ERR_SASL_AUTHENTICATION_FAILED;
    }
    sa_buf_putc(&s->auth_message, ',');
    sa_buf_append(&s->auth_message, cf.without_proof.p, cf.without_proof.len);
    uint8_t sig[SA_SCRAM_KEY_MAX], client_key[SA_SCRAM_KEY_MAX], stored[SA_SCRAM_KEY_MAX];
    sa_err_t err = SA_ERR_SASL_AUTHENTICATION_FAILED;
    if (sa_scram_hmac(s->mech, s->cred.stored_key, k, s->auth_message.data, s->auth_message.len, sig))
        goto out;
    for (size_t i = 0; i < k; i++) client_key[i] = cf.proof[i] ^ sig[i];
    if (sa_scram_hash(s->mech, client_key, k, stored)) goto out;
    /* Always compare, even for an unknown user: the time taken does not tell them apart. */
    if (!sa_scram_equal(stored, s->cred.stored_key, k) || s->unknown) {
        SET_ERR(s->unknown ? "no %s credential for this user" : "invalid %s client proof (wrong password)",
                sa_scram_mech_name(s->mech));
        goto out;
    }
    if (sa_scram_hmac(s->mech, s->cred.server_key, k, s->auth_message.data, s->auth_message.len, sig))
        goto out;
    sa_buf_append_str(out, "v=");
    sa_scram_b64_encode(out, sig, k);
    *done = 1;
    err = SA_OK;
out:
    OPENSSL_cleanse(client_key, sizeof(client_key));
    OPENSSL_cleanse(stored, sizeof(stored));
    return err;
}

sa_err_t sa_scram_server_step(sa_scram_server_t *s, const uint8_t *in, size_t len, sa_buf_t *out, int *done,
                              char *errstr, size_t errstr_size) {
    *done = 0;
    sa_err_t err;
    if (s->step == STEP_FIRST)
        err = first(s, (const char *)in, len, out, errstr, errstr_size);
    else if (s->step == STEP_FINAL)
        err = final(s, (const char *)in, len, out, done, errstr, errstr_size);
    else {
        SET_ERR("SCRAM exchange already %s", s->step == STEP_DONE ? "complete" : "failed");
        err = SA_ERR_SASL_AUTHENTICATION_FAILED;
    }
    if (err != SA_OK)
        s->step = STEP_FAILED;
    else if (*done)
        s->step = STEP_DONE;
    return err;
}
