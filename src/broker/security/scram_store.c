/*
 * scram_store.c - SCRAM credentials in memory and in the metadata log (see scram_store.h).
 *
 * Memory: an array of users sorted by name (byte order), each with a slot per mechanism. The
 * number of users of one broker is small (people and services, not clients), so a sorted array
 * with binary search keeps lookups O(log n) and Describe's order stable without a hash table.
 */
#include "broker/security/scram_store.h"

#include <openssl/crypto.h>
#include <stdlib.h>
#include <string.h>

#include "broker/metastore.h"
#include "core/mem.h"

typedef struct user_s {
    char *name;               /* owned */
    sa_scram_cred_t creds[2]; /* by mechanism - 1 */
    int has[2];
} user_t;

struct sa_scram_store_s {
    sa_metalog_t *log; /* borrowed */
    user_t *users;     /* sorted by name */
    size_t n, cap;
};

sa_scram_store_t *sa_scram_store_new(sa_metalog_t *log) {
    sa_scram_store_t *st = sa_new(sa_scram_store_t);
    st->log = log;
    return st;
}

void sa_scram_store_reset(sa_scram_store_t *st) {
    for (size_t i = 0; i < st->n; i++) {
        OPENSSL_cleanse(st->users[i].creds, sizeof(st->users[i].creds));
        free(st->users[i].name);
    }
    st->n = 0;
}

void sa_scram_store_free(sa_scram_store_t *st) {
    if (!st) return;
    sa_scram_store_reset(st);
    free(st->users);
    free(st);
}

/* @returns the index of @p name, or -(insertion point) - 1. */
static ptrdiff_t find_user(const sa_scram_store_t *st, const char *name) {
    size_t lo = 0, hi = st->n;
    while (lo < hi) {
        size_t mid = (lo + hi) / 2;
        int c = strcmp(st->users[mid].name, name);
        if (!c) return (ptrdiff_t)mid;
        if (c < 0)
            lo = mid + 1;
        else
            hi = mid;
    }
    return -(ptrdiff_t)lo - 1;
}

const sa_scram_cred_t *sa_scram_store_find(const sa_scram_store_t *st, const char *user,
                                           sa_scram_mech_t mech) {
    if (mech != SA_SCRAM_SHA_256 && mech != SA_SCRAM_SHA_512) return NULL;
    ptrdiff_t i = find_user(st, user);
    return i >= 0 && st->users[i].has[mech - 1] ? &st->users[i].creds[mech - 1] : NULL;
}

size_t sa_scram_store_count(const sa_scram_store_t *st) { return st->n; }
const char *sa_scram_store_user(const sa_scram_store_t *st, size_t i) {
    return i < st->n ? st->users[i].name : NULL;
}

uint64_t sa_scram_store_live(const sa_scram_store_t *st) {
    uint64_t n = 0;
    for (size_t i = 0; i < st->n; i++) n += (uint64_t)st->users[i].has[0] + (uint64_t)st->users[i].has[1];
    return n;
}

static void mem_set(sa_scram_store_t *st, const char *name, const sa_scram_cred_t *cred) {
    ptrdiff_t i = find_user(st, name);
    if (i < 0) {
        size_t at = (size_t)(-i - 1);
        if (st->n == st->cap) {
            st->cap = st->cap ? st->cap * 2 : 8;
            st->users = sa_realloc(st->users, st->cap * sizeof(*st->users));
        }
        memmove(&st->users[at + 1], &st->users[at], (st->n - at) * sizeof(*st->users));
        memset(&st->users[at], 0, sizeof(*st->users));
        st->users[at].name = sa_strdup(name);
        st->n++;
        i = (ptrdiff_t)at;
    }
    st->users[i].creds[cred->mech - 1] = *cred;
    st->users[i].has[cred->mech - 1] = 1;
}

static void mem_delete(sa_scram_store_t *st, const char *name, sa_scram_mech_t mech) {
    ptrdiff_t i = find_user(st, name);
    if (i < 0) return;
    user_t *u = &st->users[i];
    OPENSSL_cleanse(&u->creds[mech - 1], sizeof(u->creds[0]));
    u->has[mech - 1] = 0;
    if (u->has[0] || u->has[1]) return;
    free(u->name);
    memmove(u, u + 1, (st->n - (size_t)i - 1) * sizeof(*u));
    st->n--;
}

/* ---- records ---- */

static void encode_name(sa_buf_t *b, const char *name) {
    size_t n = strlen(name);
    sa_buf_put_be16(b, (uint16_t)n);
    sa_buf_append(b, name, n);
}

static void encode_cred(sa_buf_t *b, const char *name, const sa_scram_cred_t *c) {
    size_t k = sa_scram_key_len(c->mech);
    encode_name(b, name);
    sa_buf_putc(b, (uint8_t)c->mech);
    sa_buf_put_be32(b, (uint32_t)c->iterations);
    sa_buf_putc(b, (uint8_t)c->salt_len);
    sa_buf_append(b, c->salt, c->salt_len);
    sa_buf_append(b, c->stored_key, k);
    sa_buf_append(b, c->server_key, k);
}

/* Decode a payload of @p kind: the name into @p name (room SA_SCRAM_NAME_MAX + 1), the mechanism,
 * and for kind 32 the credential. @returns 0 or -1. */
static int decode(uint8_t kind, const uint8_t *p, size_t len, char *name, sa_scram_cred_t *c) {
    memset(c, 0, sizeof(*c));
    if (len < 3) return -1;
    size_t n = sa_load_be16(p);
    if (n == 0 || n > SA_SCRAM_NAME_MAX || len < 2 + n + 1 || memchr(p + 2, 0, n)) return -1;
    memcpy(name, p + 2, n);
    name[n] = '\0';
    size_t pos = 2 + n;
    c->mech = (sa_scram_mech_t)p[pos++];
    size_t k = sa_scram_key_len(c->mech);
    if (!k) return -1;
    if (kind == SA_META_SCRAM_DELETE) return pos == len ? 0 : -1;
    if (len < pos + 5) return -1;
    c->iterations = (int32_t)sa_load_be32(p + pos);
    c->salt_len = p[pos + 4];
    pos += 5;
    if (c->iterations < 1 || c->salt_len == 0 || c->salt_len > SA_SCRAM_SALT_MAX ||
        len != pos + c->salt_len + 2 * k)
        return -1;
    memcpy(c->salt, p + pos, c->salt_len);
    pos += c->salt_len;
    memcpy(c->stored_key, p + pos, k);
    memcpy(c->server_key, p + pos + k, k);
    return 0;
}

sa_err_t sa_scram_store_apply(sa_scram_store_t *st, uint8_t kind, const uint8_t *payload, size_t len) {
    char name[SA_SCRAM_NAME_MAX + 1];
    sa_scram_cred_t c;
    if ((kind != SA_META_SCRAM_CREDENTIAL && kind != SA_META_SCRAM_DELETE) ||
        decode(kind, payload, len, name, &c))
        return SA_ERR_CORRUPT;
    if (kind == SA_META_SCRAM_CREDENTIAL)
        mem_set(st, name, &c);
    else
        mem_delete(st, name, c.mech);
    OPENSSL_cleanse(&c, sizeof(c));
    return SA_OK;
}

void sa_scram_store_snapshot(const sa_scram_store_t *st, sa_metalog_writer_t *w) {
    sa_buf_t b = SA_BUF_INIT(0);
    for (size_t i = 0; i < st->n; i++)
        for (int m = 0; m < 2; m++) {
            if (!st->users[i].has[m]) continue;
            sa_buf_reset(&b);
            encode_cred(&b, st->users[i].name, &st->users[i].creds[m]);
            sa_metalog_put(w, SA_META_SCRAM_CREDENTIAL, b.data, b.len);
        }
    OPENSSL_cleanse(b.data, b.len);
    sa_buf_free(&b);
}

sa_err_t sa_scram_store_upsert(sa_scram_store_t *st, const char *user, const sa_scram_cred_t *cred,
                               uint64_t *seq) {
    sa_buf_t b = SA_BUF_INIT(0);
    encode_cred(&b, user, cred);
    sa_err_t err = sa_metalog_append(st->log, SA_META_SCRAM_CREDENTIAL, b.data, b.len, seq);
    OPENSSL_cleanse(b.data, b.len);
    sa_buf_free(&b);
    if (err == SA_OK) mem_set(st, user, cred);
    return err;
}

sa_err_t sa_scram_store_delete(sa_scram_store_t *st, const char *user, sa_scram_mech_t mech, uint64_t *seq) {
    sa_buf_t b = SA_BUF_INIT(0);
    encode_name(&b, user);
    sa_buf_putc(&b, (uint8_t)mech);
    sa_err_t err = sa_metalog_append(st->log, SA_META_SCRAM_DELETE, b.data, b.len, seq);
    sa_buf_free(&b);
    if (err == SA_OK) mem_delete(st, user, mech);
    return err;
}

int sa_scram_cred_from_salted(sa_scram_cred_t *cred, sa_scram_mech_t mech, int32_t iterations,
                              const uint8_t *salt, size_t salt_len, const uint8_t *salted,
                              size_t salted_len) {
    memset(cred, 0, sizeof(*cred));
    if (!sa_scram_key_len(mech) || salt_len == 0 || salt_len > SA_SCRAM_SALT_MAX ||
        salted_len != sa_scram_key_len(mech))
        return -1;
    cred->mech = mech;
    cred->iterations = iterations;
    memcpy(cred->salt, salt, salt_len);
    cred->salt_len = salt_len;
    return sa_scram_keys(mech, salted, cred->stored_key, cred->server_key);
}

sa_err_t sa_scram_store_describe(uint8_t kind, const uint8_t *payload, size_t len, sa_buf_t *out) {
    char name[SA_SCRAM_NAME_MAX + 1];
    sa_scram_cred_t c;
    if (decode(kind, payload, len, name, &c)) return SA_ERR_CORRUPT;
    sa_buf_append_str(out, "\"user\":");
    sa_metastore_json_str(out, name, strlen(name));
    sa_buf_printf(out, ",\"mechanism\":\"%s\"", sa_scram_mech_name(c.mech));
    if (kind == SA_META_SCRAM_CREDENTIAL) sa_buf_printf(out, ",\"iterations\":%d", (int)c.iterations);
    OPENSSL_cleanse(&c, sizeof(c));
    return SA_OK;
}
