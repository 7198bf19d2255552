/*
 * scram.c - SCRAM's derivations over OpenSSL and the parsers of its messages (see scram.h).
 *
 * Parsing follows RFC 5802's grammar as Kafka's ScramMessages applies it: attributes in their
 * fixed order, a nonce of printable ASCII without ',' (0x21-0x7e), base64 values that decode,
 * extensions after the nonce skipped (only "tokenauth" is noticed). Anything else is refused
 * with a reason for the broker's debug log; the client only ever learns Kafka's generic failure.
 */
#include "core/scram.h"

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <openssl/rand.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define SET_ERR(...) snprintf(errstr, errstr_size, __VA_ARGS__)

const char *sa_scram_mech_name(int mech) {
    return mech == SA_SCRAM_SHA_256 ? "SCRAM-SHA-256" : mech == SA_SCRAM_SHA_512 ? "SCRAM-SHA-512" : NULL;
}

sa_scram_mech_t sa_scram_mech_by_name(const char *name) {
    if (!strcmp(name, "SCRAM-SHA-256")) return SA_SCRAM_SHA_256;
    if (!strcmp(name, "SCRAM-SHA-512")) return SA_SCRAM_SHA_512;
    return SA_SCRAM_UNKNOWN;
}

size_t sa_scram_key_len(sa_scram_mech_t mech) {
    return mech == SA_SCRAM_SHA_256 ? 32 : mech == SA_SCRAM_SHA_512 ? 64 : 0;
}

static const EVP_MD *md_of(sa_scram_mech_t mech) {
    return mech == SA_SCRAM_SHA_256 ? EVP_sha256() : mech == SA_SCRAM_SHA_512 ? EVP_sha512() : NULL;
}

int sa_scram_salted_password(sa_scram_mech_t mech, const char *password, size_t password_len,
                             const uint8_t *salt, size_t salt_len, int iterations, uint8_t *out) {
    const EVP_MD *md = md_of(mech);
    if (!md || iterations < 1 || password_len > INT32_MAX || salt_len > INT32_MAX) return -1;
    return PKCS5_PBKDF2_HMAC(password, (int)password_len, salt, (int)salt_len, iterations, md,
                             (int)sa_scram_key_len(mech), out) == 1
               ? 0
               : -1;
}

int sa_scram_hmac(sa_scram_mech_t mech, const uint8_t *key, size_t key_len, const void *data, size_t len,
                  uint8_t *out) {
    const EVP_MD *md = md_of(mech);
    unsigned int outlen = 0;
    if (!md || key_len > INT32_MAX) return -1;
    return HMAC(md, key, (int)key_len, data, len, out, &outlen) && outlen == sa_scram_key_len(mech) ? 0 : -1;
}

int sa_scram_hash(sa_scram_mech_t mech, const void *data, size_t len, uint8_t *out) {
    const EVP_MD *md = md_of(mech);
    unsigned int outlen = 0;
    if (!md) return -1;
    return EVP_Digest(data, len, out, &outlen, md, NULL) == 1 && outlen == sa_scram_key_len(mech) ? 0 : -1;
}

int sa_scram_keys(sa_scram_mech_t mech, const uint8_t *salted, uint8_t *stored_key, uint8_t *server_key) {
    size_t n = sa_scram_key_len(mech);
    uint8_t client_key[SA_SCRAM_KEY_MAX];
    int rc = sa_scram_hmac(mech, salted, n, "Client Key", 10, client_key) ||
                     sa_scram_hash(mech, client_key, n, stored_key) ||
                     sa_scram_hmac(mech, salted, n, "Server Key", 10, server_key)
                 ? -1
                 : 0;
    OPENSSL_cleanse(client_key, sizeof(client_key));
    return rc;
}

int sa_scram_equal(const void *a, const void *b, size_t n) { return CRYPTO_memcmp(a, b, n) == 0; }

int sa_scram_random(uint8_t *out, size_t n) {
    return n <= INT32_MAX && RAND_bytes(out, (int)n) == 1 ? 0 : -1;
}

int sa_scram_nonce(char *out, size_t size) {
    uint8_t raw[24];
    if (size < 33 || sa_scram_random(raw, sizeof(raw))) return -1;
    EVP_EncodeBlock((unsigned char *)out, raw, sizeof(raw)); /* 32 chars + NUL, no padding */
    return 0;
}

void sa_scram_b64_encode(sa_buf_t *out, const void *data, size_t len) {
    size_t n = 4 * ((len + 2) / 3);
    uint8_t *dst = sa_buf_extend(out, n + 1);
    if (!dst) return;
    EVP_EncodeBlock(dst, data, (int)len);
    out->len--; /* the NUL EVP_EncodeBlock wrote is not part of the text */
}

static int is_b64(char c) {
    return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '+' || c == '/';
}

int sa_scram_b64_decode(const char *s, size_t len, uint8_t *out, size_t size) {
    if (len % 4 || len / 4 * 3 > size + 2 || len > 4096) return -1;
    size_t pad = 0;
    for (size_t i = 0; i < len; i++) {
        if (s[i] == '=' && i >= len - 2) {
            pad++;
        } else if (!is_b64(s[i]) || pad) {
            return -1;
        }
    }
    if (!len) return 0;
    uint8_t tmp[4096];
    int n = EVP_DecodeBlock(tmp, (const unsigned char *)s, (int)len);
    if (n < 0 || (size_t)n < pad || (size_t)n - pad > size) return -1;
    memcpy(out, tmp, (size_t)n - pad);
    return n - (int)pad;
}

void sa_scram_escape_name(sa_buf_t *out, const char *user) {
    for (const char *p = user; *p; p++) {
        if (*p == ',')
            sa_buf_append_str(out, "=2C");
        else if (*p == '=')
            sa_buf_append_str(out, "=3D");
        else
            sa_buf_putc(out, (uint8_t)*p);
    }
}

/* ---- parsing ---- */

/* A cursor over a message: attributes "x=value" separated by ','. */
typedef struct {
    const char *p, *end;
} cur_t;

/* Take the next attribute named @p name: its value (up to the next ',' or the end). */
static int take_attr(cur_t *c, char name, sa_scram_str_t *val) {
    if (c->end - c->p < 2 || c->p[0] != name || c->p[1] != '=') return -1;
    const char *v = c->p + 2, *e = memchr(v, ',', (size_t)(c->end - v));
    if (!e) e = c->end;
    val->p = v;
    val->len = (size_t)(e - v);
    c->p = e < c->end ? e + 1 : e;
    return 0;
}

static int valid_nonce(sa_scram_str_t n) {
    if (!n.len) return 0;
    for (size_t i = 0; i < n.len; i++)
        if (n.p[i] < 0x21 || n.p[i] > 0x7e || n.p[i] == ',') return 0;
    return 1;
}

/* Unescape a saslname into @p out. @returns 0, or -1 on a bad escape, a NUL or no room. */
static int unescape_name(sa_scram_str_t in, char *out, size_t size) {
    size_t o = 0;
    for (size_t i = 0; i < in.len; i++) {
        char c = in.p[i];
        if (c == '=') {
            if (in.len - i < 3) return -1;
            if (in.p[i + 1] == '2' && in.p[i + 2] == 'C')
                c = ',';
            else if (in.p[i + 1] == '3' && in.p[i + 2] == 'D')
                c = '=';
            else
                return -1;
            i += 2;
        } else if (c == '\0') {
            return -1;
        }
        if (o + 1 >= size) return -1;
        out[o++] = c;
    }
    out[o] = '\0';
    return 0;
}

int sa_scram_parse_client_first(const char *msg, size_t len, sa_scram_client_first_t *out, char *user,
                                size_t user_size, char *errstr, size_t errstr_size) {
    memset(out, 0, sizeof(*out));
    cur_t c = {msg, msg + len};
    /* gs2-header: "n," [ "a=" authzid ] "," ; 'y' and 'p' (channel binding) are not supported. */
    if (len < 3 || msg[0] != 'n' || msg[1] != ',') {
        SET_ERR("client-first message must start with \"n,\" (no channel binding)");
        return -1;
    }
    c.p = msg + 2;
    if (c.p < c.end && *c.p == 'a') {
        if (take_attr(&c, 'a', &out->authzid)) goto bad;
    } else {
        if (c.p >= c.end || *c.p != ',') goto bad;
        c.p++;
    }
    out->gs2_header.p = msg;
    out->gs2_header.len = (size_t)(c.p - msg);
    out->bare.p = c.p;
    out->bare.len = (size_t)(c.end - c.p);
    sa_scram_str_t name;
    if (take_attr(&c, 'n', &name) || take_attr(&c, 'r', &out->nonce)) goto bad;
    if (!name.len || unescape_name(name, user, user_size)) {
        SET_ERR("bad user name in the client-first message");
        return -1;
    }
    if (!valid_nonce(out->nonce)) {
        SET_ERR("bad nonce in the client-first message");
        return -1;
    }
    /* Extensions: "ext=value" pairs; only tokenauth is meaningful (delegation tokens). */
    while (c.p < c.end) {
        const char *e = memchr(c.p, ',', (size_t)(c.end - c.p));
        size_t l = (size_t)((e ? e : c.end) - c.p);
        if (l == 14 && !memcmp(c.p, "tokenauth=true", 14)) out->token_auth = 1;
        if (!memchr(c.p, '=', l)) goto bad;
        c.p = e ? e + 1 : c.end;
    }
    return 0;
bad:
    SET_ERR("malformed client-first message");
    return -1;
}

static int parse_int(sa_scram_str_t s, int *out) {
    if (!s.len || s.len > 9) return -1;
    int v = 0;
    for (size_t i = 0; i < s.len; i++) {
        if (s.p[i] < '0' || s.p[i] > '9') return -1;
        v = v * 10 + (s.p[i] - '0');
    }
    *out = v;
    return 0;
}

int sa_scram_parse_server_first(const char *msg, size_t len, sa_scram_server_first_t *out, char *errstr,
                                size_t errstr_size) {
    memset(out, 0, sizeof(*out));
    cur_t c = {msg, msg + len};
    sa_scram_str_t salt, iters;
    if (len >= 2 && msg[0] == 'e' && msg[1] == '=') {
        SET_ERR("server error: %.*s", (int)(len - 2), msg + 2);
        return -1;
    }
    if (take_attr(&c, 'r', &out->nonce) || take_attr(&c, 's', &salt) || take_attr(&c, 'i', &iters) ||
        !valid_nonce(out->nonce)) {
        SET_ERR("malformed server-first message");
        return -1;
    }
    int n = sa_scram_b64_decode(salt.p, salt.len, out->salt, sizeof(out->salt));
    if (n <= 0 || parse_int(iters, &out->iterations) || out->iterations < 1) {
        SET_ERR("bad salt or iteration count in the server-first message");
        return -1;
    }
    out->salt_len = (size_t)n;
    return 0;
}

int sa_scram_parse_client_final(const char *msg, size_t len, sa_scram_client_final_t *out, char *errstr,
                                size_t errstr_size) {
    memset(out, 0, sizeof(*out));
    cur_t c = {msg, msg + len};
    if (take_attr(&c, 'c', &out->channel) || take_attr(&c, 'r', &out->nonce) || !valid_nonce(out->nonce))
        goto bad;
    /* Extensions, then the proof, which must come last. */
    for (;;) {
        if (c.p >= c.end) goto bad;
        if (c.end - c.p >= 2 && c.p[0] == 'p' && c.p[1] == '=') break;
        const char *e = memchr(c.p, ',', (size_t)(c.end - c.p));
        if (!e) goto bad;
        c.p = e + 1;
    }
    out->without_proof.p = msg;
    out->without_proof.len = (size_t)(c.p - 1 - msg);
    sa_scram_str_t proof;
    if (take_attr(&c, 'p', &proof) || c.p != c.end || proof.p + proof.len != c.end) goto bad;
    int n = sa_scram_b64_decode(proof.p, proof.len, out->proof, sizeof(out->proof));
    if (n <= 0) goto bad;
    out->proof_len = (size_t)n;
    return 0;
bad:
    SET_ERR("malformed client-final message");
    return -1;
}

int sa_scram_parse_server_final(const char *msg, size_t len, uint8_t *sig, char *errstr, size_t errstr_size) {
    cur_t c = {msg, msg + len};
    sa_scram_str_t v;
    if (len >= 2 && msg[0] == 'e' && msg[1] == '=') {
        SET_ERR("server error: %.*s", (int)(len - 2), msg + 2);
        return -1;
    }
    if (take_attr(&c, 'v', &v)) {
        SET_ERR("malformed server-final message");
        return -1;
    }
    int n = sa_scram_b64_decode(v.p, v.len, sig, SA_SCRAM_KEY_MAX);
    if (n <= 0) SET_ERR("bad server signature");
    return n <= 0 ? -1 : n;
}

/* ---- credential specs ---- */

/* Copy a value (quotes stripped) ending at ',' or ']' into @p out. @returns 0 or -1. */
static int spec_value(const char **pp, char *out, size_t size) {
    const char *p = *pp;
    size_t n = 0;
    if (*p == '"') {
        for (p++; *p && *p != '"'; p++) {
            if (n + 1 >= size) return -1;
            out[n++] = *p;
        }
        if (*p != '"') return -1;
        p++;
    } else {
        for (; *p && *p != ',' && *p != ']'; p++) {
            if (n + 1 >= size) return -1;
            out[n++] = *p;
        }
    }
    out[n] = '\0';
    *pp = p;
    return 0;
}

void sa_scram_spec_wipe(sa_scram_spec_t *spec) { OPENSSL_cleanse(spec, sizeof(*spec)); }

int sa_scram_parse_spec(const char **pp, sa_scram_spec_t *out, char *errstr, size_t errstr_size) {
    memset(out, 0, sizeof(*out));
    const char *p = *pp, *eq = strchr(p, '=');
    char mech[32], val[1100];
    if (!eq || (size_t)(eq - p) >= sizeof(mech) || eq[1] != '[') {
        SET_ERR("expected MECHANISM=[key=value,...], e.g. 'SCRAM-SHA-256=[name=alice,password=secret]'");
        return -1;
    }
    snprintf(mech, sizeof(mech), "%.*s", (int)(eq - p), p);
    out->mech = sa_scram_mech_by_name(mech);
    if (!out->mech) {
        SET_ERR("unknown SCRAM mechanism \"%s\" (SCRAM-SHA-256 or SCRAM-SHA-512)", mech);
        return -1;
    }
    p = eq + 2;
    while (*p != ']') {
        const char *keq = strchr(p, '=');
        if (!keq) goto bad;
        char key[32];
        snprintf(key, sizeof(key), "%.*s", (int)(keq - p < 31 ? keq - p : 31), p);
        p = keq + 1;
        if (spec_value(&p, val, sizeof(val))) goto bad;
        int n;
        size_t vlen = strlen(val);
        if (!strcmp(key, "name")) {
            if (!vlen || vlen >= sizeof(out->name)) goto bad;
            memcpy(out->name, val, vlen + 1);
        } else if (!strcmp(key, "password")) {
            if (vlen >= sizeof(out->password)) goto bad;
            memcpy(out->password, val, vlen + 1);
        } else if (!strcmp(key, "iterations")) {
            char *end;
            long v = strtol(val, &end, 10);
            if (*end || v < 1 || v > 1000000000) goto bad;
            out->iterations = (int)v;
        } else if (!strcmp(key, "salt")) {
            if ((n = sa_scram_b64_decode(val, strlen(val), out->salt, sizeof(out->salt))) <= 0) goto bad;
            out->salt_len = (size_t)n;
        } else if (!strcmp(key, "saltedpassword")) {
            if ((n = sa_scram_b64_decode(val, strlen(val), out->salted, sizeof(out->salted))) <= 0) goto bad;
            out->salted_len = (size_t)n;
        } else {
            SET_ERR("unknown key \"%s\" (name, password, iterations, salt, saltedpassword)", key);
            OPENSSL_cleanse(val, sizeof(val));
            return -1;
        }
        if (*p == ',')
            p++;
        else if (*p != ']')
            goto bad;
    }
    p++;
    if (*p == ',') p++;
    *pp = p;
    OPENSSL_cleanse(val, sizeof(val));
    return 0;
bad:
    OPENSSL_cleanse(val, sizeof(val));
    SET_ERR("malformed %s=[...]: expected key=value pairs (name, password, iterations, salt, saltedpassword)",
            mech);
    return -1;
}

int sa_scram_spec_derive(sa_scram_spec_t *spec, char *errstr, size_t errstr_size) {
    size_t k = sa_scram_key_len(spec->mech);
    if (!spec->iterations) spec->iterations = SA_SCRAM_MIN_ITERATIONS;
    if (spec->iterations < SA_SCRAM_MIN_ITERATIONS || spec->iterations > SA_SCRAM_MAX_ITERATIONS) {
        SET_ERR("iterations=%d: %s takes %d to %d", spec->iterations, sa_scram_mech_name(spec->mech),
                SA_SCRAM_MIN_ITERATIONS, SA_SCRAM_MAX_ITERATIONS);
        return -1;
    }
    if (spec->salted_len) {
        if (spec->salted_len != k || !spec->salt_len) {
            SET_ERR("saltedpassword must be %zu bytes (base64) and come with its salt", k);
            return -1;
        }
        return 0;
    }
    if (!*spec->password) {
        SET_ERR("%s=[...] needs password=... (or salt and saltedpassword)", sa_scram_mech_name(spec->mech));
        return -1;
    }
    if (!spec->salt_len) {
        spec->salt_len = 32;
        if (sa_scram_random(spec->salt, spec->salt_len)) {
            SET_ERR("the random generator failed");
            return -1;
        }
    }
    if (sa_scram_salted_password(spec->mech, spec->password, strlen(spec->password), spec->salt,
                                 spec->salt_len, spec->iterations, spec->salted)) {
        SET_ERR("PBKDF2 failed");
        return -1;
    }
    spec->salted_len = k;
    return 0;
}
