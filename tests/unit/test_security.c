/* Security building blocks: SCRAM's derivations against RFC 7677's example, its message parsers
 * on hostile input, a whole server exchange (right and wrong proofs, unknown users), the
 * credential records of the metadata log, credential specs, and the listener settings. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "broker/metastore.h"
#include "broker/security/listener.h"
#include "broker/security/scram_server.h"
#include "broker/security/scram_store.h"
#include "core/scram.h"

/* RFC 7677 section 3. */
#define RFC_SALT          "W22ZaJ0SNY7soEsUEjb6gQ=="
#define RFC_FIRST_BARE    "n=user,r=rOprNGfwEbeRWgbNEkqO"
#define RFC_SERVER_FIRST  "r=rOprNGfwEbeRWgbNEkqO%hvYDpWUa2RaTCAfuxFIlj)hNlF$k0,s=" RFC_SALT ",i=4096"
#define RFC_FINAL_NOPROOF "c=biws,r=rOprNGfwEbeRWgbNEkqO%hvYDpWUa2RaTCAfuxFIlj)hNlF$k0"
#define RFC_PROOF         "dHzbZapWIk4jUhN+Ute9ytag9zjfMHgsqmmiz7AndVQ="
#define RFC_SERVER_SIG    "6rriTRBi23WpRR/wtup+mMhUZUn/dB5nLTJRsjl95G4="

static void b64(const uint8_t *p, size_t n, char *out) {
    sa_buf_t b = SA_BUF_INIT(0);
    sa_scram_b64_encode(&b, p, n);
    memcpy(out, b.data, b.len);
    out[b.len] = '\0';
    sa_buf_free(&b);
}

/* ClientProof and ServerSignature of @p auth_msg from @p salted. */
static void proof_and_sig(sa_scram_mech_t m, const uint8_t *salted, const char *auth_msg, uint8_t *proof,
                          uint8_t *sig) {
    size_t k = sa_scram_key_len(m);
    uint8_t client_key[64], stored[64], server_key[64], csig[64];
    assert_int_equal(sa_scram_hmac(m, salted, k, "Client Key", 10, client_key), 0);
    assert_int_equal(sa_scram_keys(m, salted, stored, server_key), 0);
    assert_int_equal(sa_scram_hmac(m, stored, k, auth_msg, strlen(auth_msg), csig), 0);
    for (size_t i = 0; i < k; i++) proof[i] = client_key[i] ^ csig[i];
    assert_int_equal(sa_scram_hmac(m, server_key, k, auth_msg, strlen(auth_msg), sig), 0);
}

static void rfc7677_vector(void **state) {
    (void)state;
    uint8_t salt[64], salted[64], proof[64], sig[64];
    int n = sa_scram_b64_decode(RFC_SALT, strlen(RFC_SALT), salt, sizeof(salt));
    assert_int_equal(n, 16);
    assert_int_equal(sa_scram_salted_password(SA_SCRAM_SHA_256, "pencil", 6, salt, 16, 4096, salted), 0);
    proof_and_sig(SA_SCRAM_SHA_256, salted, RFC_FIRST_BARE "," RFC_SERVER_FIRST "," RFC_FINAL_NOPROOF, proof,
                  sig);
    char text[128];
    b64(proof, 32, text);
    assert_string_equal(text, RFC_PROOF);
    b64(sig, 32, text);
    assert_string_equal(text, RFC_SERVER_SIG);
    /* The parsers read the RFC's messages back. */
    sa_scram_server_first_t sf;
    char err[128];
    assert_int_equal(
        sa_scram_parse_server_first(RFC_SERVER_FIRST, strlen(RFC_SERVER_FIRST), &sf, err, sizeof(err)), 0);
    assert_int_equal(sf.iterations, 4096);
    assert_int_equal(sf.salt_len, 16);
    const char *final = RFC_FINAL_NOPROOF ",p=" RFC_PROOF;
    sa_scram_client_final_t cf;
    assert_int_equal(sa_scram_parse_client_final(final, strlen(final), &cf, err, sizeof(err)), 0);
    assert_int_equal(cf.proof_len, 32);
    assert_memory_equal(cf.proof, proof, 32);
    assert_int_equal(cf.without_proof.len, strlen(RFC_FINAL_NOPROOF));
    uint8_t got[64];
    const char *sfinal = "v=" RFC_SERVER_SIG;
    assert_int_equal(sa_scram_parse_server_final(sfinal, strlen(sfinal), got, err, sizeof(err)), 32);
    assert_memory_equal(got, sig, 32);
}

static void parsers_refuse_bad_input(void **state) {
    (void)state;
    const char *bad_first[] = {
        "",          "y,,n=u,r=abc", "p=x,,n=u,r=abc", "n,,r=abc,n=u", "n,,n=,r=abc",        "n,,n=u=2,r=a",
        "n,,n=u,r=", "n,,n=u,r=a b", "n,,n=u",         "n,n=u,r=a",    "n,,n=u\x01,r=a,junk"};
    sa_scram_client_first_t cf;
    char user[64], err[128];
    for (size_t i = 0; i < sizeof(bad_first) / sizeof(*bad_first); i++)
        assert_int_equal(sa_scram_parse_client_first(bad_first[i], strlen(bad_first[i]), &cf, user,
                                                     sizeof(user), err, sizeof(err)),
                         -1);
    /* Escapes, an authzid, extensions. */
    const char *ok = "n,a=a=2Cb,n=a=2Cb=3D,r=xyz,tokenauth=true";
    assert_int_equal(sa_scram_parse_client_first(ok, strlen(ok), &cf, user, sizeof(user), err, sizeof(err)),
                     0);
    assert_string_equal(user, "a,b=");
    assert_true(cf.token_auth);
    assert_int_equal(cf.gs2_header.len, strlen("n,a=a=2Cb,"));
    /* A name longer than the room is refused, not cut. */
    assert_int_equal(sa_scram_parse_client_first("n,,n=abcdef,r=x", 15, &cf, user, 4, err, sizeof(err)), -1);
    const char *bad_final[] = {"",
                               "c=biws",
                               "c=biws,r=abc",
                               "c=biws,r=abc,p=",
                               "c=biws,r=abc,p=%%%%",
                               "r=abc,c=biws,p=AAAA",
                               "c=biws,r=abc,p=AAAA,x=1"};
    sa_scram_client_final_t fin;
    for (size_t i = 0; i < sizeof(bad_final) / sizeof(*bad_final); i++)
        assert_int_equal(
            sa_scram_parse_client_final(bad_final[i], strlen(bad_final[i]), &fin, err, sizeof(err)), -1);
    uint8_t out[8];
    assert_int_equal(sa_scram_b64_decode("AAA", 3, out, sizeof(out)), -1);
    assert_int_equal(sa_scram_b64_decode("A=AA", 4, out, sizeof(out)), -1);
    assert_int_equal(sa_scram_b64_decode("AAAAAAAAAAAAAAAA", 16, out, sizeof(out)), -1); /* 12 bytes > 8 */
    assert_int_equal(sa_scram_b64_decode("AAE=", 4, out, sizeof(out)), 2);
}

/* A kind-32 payload as scram_store.h documents it. */
static void cred_record(sa_buf_t *b, const char *name, sa_scram_mech_t m, int iters, const uint8_t *salt,
                        size_t slen, const char *password) {
    uint8_t salted[64], stored[64], server[64];
    size_t k = sa_scram_key_len(m);
    assert_int_equal(sa_scram_salted_password(m, password, strlen(password), salt, slen, iters, salted), 0);
    assert_int_equal(sa_scram_keys(m, salted, stored, server), 0);
    sa_buf_put_be16(b, (uint16_t)strlen(name));
    sa_buf_append_str(b, name);
    sa_buf_putc(b, (uint8_t)m);
    sa_buf_put_be32(b, (uint32_t)iters);
    sa_buf_putc(b, (uint8_t)slen);
    sa_buf_append(b, salt, slen);
    sa_buf_append(b, stored, k);
    sa_buf_append(b, server, k);
}

/* Run a client against a fresh server exchange; @returns the server's result of the last step. */
static sa_err_t exchange(const sa_scram_store_t *st, sa_scram_mech_t m, const char *user,
                         const char *password, int *done) {
    sa_scram_server_t *s = sa_scram_server_new(m, st);
    sa_buf_t out = SA_BUF_INIT(0);
    char err[256], first[128], final[512];
    snprintf(first, sizeof(first), "n,,n=%s,r=clientnonce123", user);
    sa_err_t rc =
        sa_scram_server_step(s, (const uint8_t *)first, strlen(first), &out, done, err, sizeof(err));
    assert_int_equal(rc, SA_OK);
    assert_false(*done);
    sa_scram_server_first_t sf;
    assert_int_equal(sa_scram_parse_server_first((const char *)out.data, out.len, &sf, err, sizeof(err)), 0);
    char sfirst[256];
    snprintf(sfirst, sizeof(sfirst), "%.*s", (int)out.len, (const char *)out.data);
    uint8_t salted[64], proof[64], sig[64];
    assert_int_equal(
        sa_scram_salted_password(m, password, strlen(password), sf.salt, sf.salt_len, sf.iterations, salted),
        0);
    char noproof[256], auth_msg[768], p64[128];
    snprintf(noproof, sizeof(noproof), "c=biws,r=%.*s", (int)sf.nonce.len, sf.nonce.p);
    snprintf(auth_msg, sizeof(auth_msg), "%s,%s,%s", first + 3, sfirst, noproof);
    proof_and_sig(m, salted, auth_msg, proof, sig);
    b64(proof, sa_scram_key_len(m), p64);
    snprintf(final, sizeof(final), "%s,p=%s", noproof, p64);
    sa_buf_reset(&out);
    rc = sa_scram_server_step(s, (const uint8_t *) final, strlen(final), &out, done, err, sizeof(err));
    if (rc == SA_OK) {
        uint8_t got[64];
        assert_int_equal(sa_scram_parse_server_final((const char *)out.data, out.len, got, err, sizeof(err)),
                         (int)sa_scram_key_len(m));
        assert_memory_equal(got, sig, sa_scram_key_len(m));
        /* A finished exchange takes no more steps. */
        int again = 0;
        assert_int_equal(
            sa_scram_server_step(s, (const uint8_t *) final, strlen(final), &out, &again, err, sizeof(err)),
            SA_ERR_SASL_AUTHENTICATION_FAILED);
    }
    sa_buf_free(&out);
    sa_scram_server_free(s);
    return rc;
}

static void server_exchange(void **state) {
    (void)state;
    sa_scram_store_t *st = sa_scram_store_new(NULL);
    uint8_t salt[20] = "0123456789abcdefghi";
    sa_buf_t rec = SA_BUF_INIT(0);
    cred_record(&rec, "alice", SA_SCRAM_SHA_512, 4096, salt, sizeof(salt), "secret");
    assert_int_equal(sa_scram_store_apply(st, SA_META_SCRAM_CREDENTIAL, rec.data, rec.len), SA_OK);
    int done = 0;
    assert_int_equal(exchange(st, SA_SCRAM_SHA_512, "alice", "secret", &done), SA_OK);
    assert_true(done);
    assert_int_equal(exchange(st, SA_SCRAM_SHA_512, "alice", "wrong", &done),
                     SA_ERR_SASL_AUTHENTICATION_FAILED);
    assert_false(done);
    /* No SHA-256 credential, an unknown user: the exchange goes on and fails at the proof. */
    assert_int_equal(exchange(st, SA_SCRAM_SHA_256, "alice", "secret", &done),
                     SA_ERR_SASL_AUTHENTICATION_FAILED);
    assert_int_equal(exchange(st, SA_SCRAM_SHA_512, "mallory", "secret", &done),
                     SA_ERR_SASL_AUTHENTICATION_FAILED);
    /* Delete, then the right password no longer works. */
    sa_buf_t del = SA_BUF_INIT(0);
    sa_buf_put_be16(&del, 5);
    sa_buf_append_str(&del, "alice");
    sa_buf_putc(&del, SA_SCRAM_SHA_512);
    assert_int_equal(sa_scram_store_apply(st, SA_META_SCRAM_DELETE, del.data, del.len), SA_OK);
    assert_int_equal(sa_scram_store_count(st), 0);
    assert_int_equal(exchange(st, SA_SCRAM_SHA_512, "alice", "secret", &done),
                     SA_ERR_SASL_AUTHENTICATION_FAILED);
    sa_buf_free(&del);
    sa_buf_free(&rec);
    sa_scram_store_free(st);
}

static void snapshot_records(void **state) {
    (void)state;
    sa_scram_store_t *st = sa_scram_store_new(NULL);
    uint8_t salt[4] = {1, 2, 3, 4};
    const char *names[] = {"zed", "amy", "mo"};
    for (int i = 0; i < 3; i++) {
        sa_buf_t rec = SA_BUF_INIT(0);
        cred_record(&rec, names[i], SA_SCRAM_SHA_256, 4096 + i, salt, sizeof(salt), "pw");
        assert_int_equal(sa_scram_store_apply(st, SA_META_SCRAM_CREDENTIAL, rec.data, rec.len), SA_OK);
        sa_buf_t desc = SA_BUF_INIT(0);
        assert_int_equal(sa_scram_store_describe(SA_META_SCRAM_CREDENTIAL, rec.data, rec.len, &desc), SA_OK);
        assert_non_null(strstr(sa_buf_cstr(&desc), "\"mechanism\":\"SCRAM-SHA-256\""));
        sa_buf_free(&desc);
        /* Every truncation of a record is refused, never half-applied. */
        for (size_t cut = 0; cut < rec.len; cut++)
            assert_int_equal(sa_scram_store_apply(st, SA_META_SCRAM_CREDENTIAL, rec.data, cut),
                             SA_ERR_CORRUPT);
        sa_buf_free(&rec);
    }
    assert_int_equal(sa_scram_store_count(st), 3);
    assert_string_equal(sa_scram_store_user(st, 0), "amy"); /* sorted */
    assert_string_equal(sa_scram_store_user(st, 2), "zed");
    assert_int_equal(sa_scram_store_live(st), 3);
    assert_int_equal(sa_scram_store_find(st, "mo", SA_SCRAM_SHA_256)->iterations, 4098);
    assert_null(sa_scram_store_find(st, "mo", SA_SCRAM_SHA_512));
    /* Replaying a snapshot recreates the state. */
    sa_buf_t frames = SA_BUF_INIT(0);
    sa_metalog_writer_t w = {&frames, 0};
    sa_scram_store_snapshot(st, &w);
    assert_int_equal(w._records, 3);
    sa_buf_free(&frames);
    sa_scram_store_free(st);
}

static void credential_specs(void **state) {
    (void)state;
    sa_scram_spec_t spec;
    char err[256];
    const char *p =
        "SCRAM-SHA-256=[name=alice,password=\"a,b]c\",iterations=8192],SCRAM-SHA-512=[password=x]";
    assert_int_equal(sa_scram_parse_spec(&p, &spec, err, sizeof(err)), 0);
    assert_int_equal(spec.mech, SA_SCRAM_SHA_256);
    assert_string_equal(spec.name, "alice");
    assert_string_equal(spec.password, "a,b]c");
    assert_int_equal(spec.iterations, 8192);
    assert_int_equal(sa_scram_spec_derive(&spec, err, sizeof(err)), 0);
    assert_int_equal(spec.salt_len, 32);
    assert_int_equal(spec.salted_len, 32);
    assert_int_equal(sa_scram_parse_spec(&p, &spec, err, sizeof(err)), 0);
    assert_int_equal(spec.mech, SA_SCRAM_SHA_512);
    assert_string_equal(p, "");
    const char *bad[] = {"SCRAM-SHA-1=[password=x]",       "SCRAM-SHA-256=password=x",
                         "SCRAM-SHA-256=[color=red]",      "SCRAM-SHA-256=[password=x",
                         "SCRAM-SHA-256=[iterations=abc]", "SCRAM-SHA-256=[salt=!!]"};
    for (size_t i = 0; i < sizeof(bad) / sizeof(*bad); i++) {
        p = bad[i];
        assert_int_equal(sa_scram_parse_spec(&p, &spec, err, sizeof(err)), -1);
    }
    p = "SCRAM-SHA-256=[iterations=100,password=x]";
    assert_int_equal(sa_scram_parse_spec(&p, &spec, err, sizeof(err)), 0);
    assert_int_equal(sa_scram_spec_derive(&spec, err, sizeof(err)), -1); /* below 4096 */
    p = "SCRAM-SHA-256=[name=a]";
    assert_int_equal(sa_scram_parse_spec(&p, &spec, err, sizeof(err)), 0);
    assert_int_equal(sa_scram_spec_derive(&spec, err, sizeof(err)), -1); /* no password */
    sa_scram_spec_wipe(&spec);
}

static sa_err_t parse(const char *listeners, const char *adv, const char *map, sa_strlist_t *props,
                      sa_listener_t **ls, size_t *n, char *err) {
    sa_listener_conf_t c = {
        listeners,
        adv,
        map ? map : "PLAINTEXT:PLAINTEXT,SSL:SSL,SASL_PLAINTEXT:SASL_PLAINTEXT,SASL_SSL:SASL_SSL",
        "SCRAM-SHA-256,SCRAM-SHA-512",
        "none",
        props};
    return sa_listeners_parse(&c, ls, n, err, 256);
}

static void listeners(void **state) {
    (void)state;
    sa_listener_t *ls;
    size_t n;
    char err[256];
    sa_strlist_t props = {0};
    sa_strlist_add(&props, "listener.name.internal.sasl.enabled.mechanisms=PLAIN");
    sa_strlist_add(
        &props,
        "listener.name.internal.plain.sasl.jaas.config=org.apache.kafka.common.security.plain."
        "PlainLoginModule required username=\"x\" password=\"y\" user_alice=\"p\\\"w\" user_bob=\"b\";");
    sa_strlist_add(&props, "listener.name.SASL_SSL.ssl.client.auth=required");
    assert_int_equal(parse("127.0.0.1:9092, SASL_SSL://:9094,internal://[::1]:9095",
                           "PLAINTEXT://kafka:9092,INTERNAL://int.example:19095",
                           "INTERNAL:SASL_PLAINTEXT,PLAINTEXT:PLAINTEXT,SASL_SSL:SASL_SSL", &props, &ls, &n,
                           err),
                     SA_OK);
    assert_int_equal(n, 3);
    assert_string_equal(ls[0].name, "PLAINTEXT");
    assert_string_equal(ls[0].adv_host, "kafka");
    assert_int_equal(ls[1].proto, SA_SECPROTO_SASL_SSL);
    assert_int_equal(ls[1].client_auth, SA_TLS_CLIENT_AUTH_REQUIRED);
    assert_int_equal(ls[1].adv_port, 9094); /* not advertised: its own address */
    assert_string_equal(ls[1].mech_list, "SCRAM-SHA-256,SCRAM-SHA-512");
    assert_string_equal(ls[2].name, "INTERNAL");
    assert_int_equal(ls[2].proto, SA_SECPROTO_SASL_PLAINTEXT);
    assert_int_equal(ls[2].mechs, SA_MECH_PLAIN);
    assert_string_equal(ls[2].adv_host, "int.example");
    assert_string_equal(sa_listener_plain_password(&ls[2], "alice"), "p\"w");
    assert_string_equal(sa_listener_plain_password(&ls[2], "bob"), "b");
    assert_null(sa_listener_plain_password(&ls[2], "x")); /* username/password are not users */
    sa_listeners_free(ls, n);
    sa_strlist_free(&props);

    const char *bad[][2] = {
        {"FOO://:1", ""},                            /* not in the map */
        {"PLAINTEXT://:1,PLAINTEXT://:2", ""},       /* name twice */
        {"PLAINTEXT://:1,SSL://:1", ""},             /* port twice */
        {"PLAINTEXT://:1", "SSL://h:1"},             /* advertised name not a listener */
        {"PLAINTEXT://:1", "PLAINTEXT://0.0.0.0:1"}, /* advertising a wildcard */
        {"PLAINTEXT://nohostport", ""},
        {"", ""},
    };
    for (size_t i = 0; i < sizeof(bad) / sizeof(*bad); i++) {
        assert_int_equal(parse(bad[i][0], bad[i][1], NULL, NULL, &ls, &n, err), SA_ERR_INVALID_ARG);
        assert_null(ls);
        assert_true(strlen(err) > 0);
    }
    const char *bad_props[] = {"listener.name.nope.sasl.enabled.mechanisms=PLAIN",
                               "listener.name.sasl_ssl.sasl.enabled.mechanisms=GSSAPI",
                               "listener.name.sasl_ssl.ssl.client.auth=maybe",
                               "listener.name.sasl_ssl.some.typo=1",
                               "listener.name.sasl_ssl.plain.sasl.jaas.config=X required user_a=unquoted;"};
    for (size_t i = 0; i < sizeof(bad_props) / sizeof(*bad_props); i++) {
        sa_strlist_t one = {0};
        sa_strlist_add(&one, bad_props[i]);
        assert_int_equal(parse("SASL_SSL://:9094", "", NULL, &one, &ls, &n, err), SA_ERR_INVALID_ARG);
        sa_strlist_free(&one);
    }
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(rfc7677_vector),   cmocka_unit_test(parsers_refuse_bad_input),
        cmocka_unit_test(server_exchange),  cmocka_unit_test(snapshot_records),
        cmocka_unit_test(credential_specs), cmocka_unit_test(listeners),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
