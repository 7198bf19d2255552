/*
 * fuzz_sasl.c - what an unauthenticated client (or a broker, for samsa's own client) can feed the
 * SASL and SCRAM code, and what a damaged metadata log can feed the credential store. The first
 * byte picks the path:
 *   0  a whole SCRAM server exchange: the input is "client-first\nclient-final" against a store
 *      holding a credential for "alice", through scram_server.c;
 *   1  client-first parser    2  client-final parser    3  server-first and server-final parsers
 *   4  a credential record (kind 32, then the same bytes as kind 33) applied to a store, then
 *      snapshot: what is applied must be what the snapshot writes back
 *   5  credential specs ('SCRAM-SHA-256=[...]', kafka-configs and --add-scram)
 *   6  a listener.name.* setting (JAAS lines, mechanism lists) on a SASL_SSL listener
 * Nothing may crash, read out of bounds or leak; parsers must refuse rather than guess.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "broker/metastore.h"
#include "broker/security/listener.h"
#include "broker/security/scram_server.h"
#include "broker/security/scram_store.h"
#include "core/scram.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static sa_scram_store_t *store_with_alice(void) {
    sa_scram_store_t *st = sa_scram_store_new(NULL);
    sa_buf_t b = SA_BUF_INIT(0);
    uint8_t salt[16] = "fuzz-salt-16byte", salted[32], stored[32], server[32];
    sa_scram_hash(SA_SCRAM_SHA_256, "pw", 2, salted);
    sa_scram_keys(SA_SCRAM_SHA_256, salted, stored, server);
    sa_buf_put_be16(&b, 5);
    sa_buf_append_str(&b, "alice");
    sa_buf_putc(&b, SA_SCRAM_SHA_256);
    sa_buf_put_be32(&b, 4096);
    sa_buf_putc(&b, sizeof(salt));
    sa_buf_append(&b, salt, sizeof(salt));
    sa_buf_append(&b, stored, 32);
    sa_buf_append(&b, server, 32);
    if (sa_scram_store_apply(st, SA_META_SCRAM_CREDENTIAL, b.data, b.len) != SA_OK) abort();
    sa_buf_free(&b);
    return st;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    if (size < 1) return 0;
    const char *in = (const char *)data + 1;
    size_t len = size - 1;
    char err[256], user[SA_SCRAM_NAME_MAX + 1];
    switch (data[0] % 7) {
    case 0: {
        sa_scram_store_t *st = store_with_alice();
        sa_scram_server_t *s = sa_scram_server_new(SA_SCRAM_SHA_256, st);
        const char *nl = memchr(in, '\n', len);
        size_t first = nl ? (size_t)(nl - in) : len;
        sa_buf_t out = SA_BUF_INIT(0);
        int done = 0;
        if (sa_scram_server_step(s, (const uint8_t *)in, first, &out, &done, err, sizeof(err)) == SA_OK &&
            nl) {
            sa_buf_reset(&out);
            /* A made-up proof must never be accepted. */
            if (sa_scram_server_step(s, (const uint8_t *)nl + 1, len - first - 1, &out, &done, err,
                                     sizeof(err)) == SA_OK)
                abort();
        }
        sa_buf_free(&out);
        sa_scram_server_free(s);
        sa_scram_store_free(st);
        break;
    }
    case 1: {
        sa_scram_client_first_t cf;
        if (!sa_scram_parse_client_first(in, len, &cf, user, sizeof(user), err, sizeof(err)) &&
            (!user[0] || cf.bare.p + cf.bare.len != in + len || !cf.nonce.len))
            abort();
        break;
    }
    case 2: {
        sa_scram_client_final_t cf;
        if (!sa_scram_parse_client_final(in, len, &cf, err, sizeof(err)) &&
            (cf.without_proof.len >= len || !cf.proof_len || cf.proof_len > SA_SCRAM_KEY_MAX))
            abort();
        break;
    }
    case 3: {
        sa_scram_server_first_t sf;
        uint8_t sig[SA_SCRAM_KEY_MAX];
        if (!sa_scram_parse_server_first(in, len, &sf, err, sizeof(err)) &&
            (sf.salt_len == 0 || sf.salt_len > SA_SCRAM_SALT_MAX || sf.iterations < 1))
            abort();
        int n = sa_scram_parse_server_final(in, len, sig, err, sizeof(err));
        if (n > SA_SCRAM_KEY_MAX) abort();
        break;
    }
    case 4: {
        sa_scram_store_t *st = sa_scram_store_new(NULL);
        if (sa_scram_store_apply(st, SA_META_SCRAM_CREDENTIAL, data + 1, len) == SA_OK) {
            sa_buf_t frames = SA_BUF_INIT(0), desc = SA_BUF_INIT(0);
            sa_metalog_writer_t w = {&frames, 0};
            sa_scram_store_snapshot(st, &w);
            if (w._records != 1 || sa_scram_store_live(st) != 1) abort();
            if (sa_scram_store_describe(SA_META_SCRAM_CREDENTIAL, data + 1, len, &desc) != SA_OK) abort();
            sa_buf_free(&frames);
            sa_buf_free(&desc);
        }
        sa_scram_store_apply(st, SA_META_SCRAM_DELETE, data + 1, len);
        sa_scram_store_free(st);
        break;
    }
    case 5: {
        char *s = strndup(in, len);
        const char *p = s;
        for (int i = 0; i < 4 && *p; i++) {
            sa_scram_spec_t spec;
            const char *before = p;
            if (sa_scram_parse_spec(&p, &spec, err, sizeof(err))) break;
            if (p <= before) abort(); /* progress or failure, never a loop */
            if (spec.iterations <= SA_SCRAM_MIN_ITERATIONS + 8) sa_scram_spec_derive(&spec, err, sizeof(err));
            sa_scram_spec_wipe(&spec);
        }
        free(s);
        break;
    }
    case 6: {
        char *s = malloc(len + 64);
        memcpy(s, "listener.name.sasl_ssl.", 23);
        memcpy(s + 23, in, len);
        s[23 + len] = '\0';
        sa_strlist_t props = {0};
        sa_strlist_add(&props, s);
        sa_listener_conf_t c = {"SASL_SSL://127.0.0.1:1", "", "SASL_SSL:SASL_SSL", "PLAIN", "none", &props};
        sa_listener_t *ls;
        size_t n;
        if (sa_listeners_parse(&c, &ls, &n, err, sizeof(err)) == SA_OK) {
            if (n != 1) abort();
            sa_listeners_free(ls, n);
        }
        sa_strlist_free(&props);
        free(s);
        break;
    }
    }
    return 0;
}
