/*
 * acl.c - the ACL store and the authorizer's decision (see acl.h for the rules and their source).
 *
 * Payload of acl_create (kind 40) and acl_delete (kind 41) records, integers big-endian,
 * str16 = u16 length + that many bytes (no NUL inside, no terminator):
 *     u8 resource type, u8 pattern type, u8 operation, u8 permission,
 *     str16 resource name, str16 principal, str16 host
 * acl_create adds the binding (if absent), acl_delete removes it (if present). A snapshot is one
 * acl_create per binding.
 *
 * LAYOUT. Bindings are grouped by resource pattern (type, pattern type, name): one res_t holds
 * the bindings of one pattern, found by name in a map per (pattern type, resource type). A
 * decision looks up at most: the literal name, the literal "*", and, for the PREFIXED patterns,
 * the name's prefixes of each length that some prefixed pattern of that type has (plens, with a
 * count per length), so it costs a few hash lookups whatever the number of bindings, and nothing
 * beyond the super-user comparison when the broker has none.
 */
#include "broker/acl.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "broker/metastore.h"
#include "core/check.h"
#include "core/hash.h"
#include "core/mem.h"

typedef struct acl_s {
    sa_acl_binding_t b; /* strings point into data */
    char data[];
} acl_t;

typedef struct res_s {
    char *name; /* owned: the key in its map */
    size_t name_len;
    int8_t type, pattern;
    acl_t **v; /* owned, with each binding */
    size_t n, cap;
} res_t;

typedef struct plen_s {
    size_t len;   /* a prefixed pattern name length ... */
    size_t count; /* ... and how many prefixed patterns of the type have it */
} plen_t;

enum { LIT, PRE };

struct sa_acls_s {
    sa_metalog_t *log;                     /* borrowed (NULL: memory only) */
    sa_hmap_t map[2][SA_RESOURCE_MAX + 1]; /* [LIT|PRE][type]: name -> res_t */
    plen_t *plens[SA_RESOURCE_MAX + 1];    /* owned: distinct prefixed name lengths per type */
    size_t nplens[SA_RESOURCE_MAX + 1];
    size_t count;      /* bindings */
    int enabled;       /* an authorizer is configured */
    int allow_if_none; /* allow.everyone.if.no.acl.found */
    char **supers;     /* owned: super.users principals */
    size_t nsupers;
};

/* ---- names -------------------------------------------------------------------------------- */

static const char *const op_names[] = {"UNKNOWN",
                                       "ANY",
                                       "ALL",
                                       "READ",
                                       "WRITE",
                                       "CREATE",
                                       "DELETE",
                                       "ALTER",
                                       "DESCRIBE",
                                       "CLUSTER_ACTION",
                                       "DESCRIBE_CONFIGS",
                                       "ALTER_CONFIGS",
                                       "IDEMPOTENT_WRITE",
                                       "CREATE_TOKENS",
                                       "DESCRIBE_TOKENS"};
static const char *const resource_names[] = {
    "UNKNOWN", "ANY", "TOPIC", "GROUP", "CLUSTER", "TRANSACTIONAL_ID", "DELEGATION_TOKEN", "USER"};
static const char *const pattern_names[] = {"UNKNOWN", "ANY", "MATCH", "LITERAL", "PREFIXED"};
static const char *const perm_names[] = {"UNKNOWN", "ANY", "DENY", "ALLOW"};

#define NAME_OF(table, v) ((v) >= 0 && (size_t)(v) < SA_ARRAY_LEN(table) ? (table)[(v)] : "UNKNOWN")
const char *sa_acl_op_name(int op) { return NAME_OF(op_names, op); }
const char *sa_acl_resource_name(int type) { return NAME_OF(resource_names, type); }
const char *sa_acl_pattern_name(int pattern) { return NAME_OF(pattern_names, pattern); }
const char *sa_acl_perm_name(int perm) { return NAME_OF(perm_names, perm); }

/* ---- life cycle --------------------------------------------------------------------------- */

sa_acls_t *sa_acls_new(sa_metalog_t *log) {
    sa_acls_t *acls = sa_new(sa_acls_t);
    acls->log = log;
    return acls;
}

static void res_free(res_t *r) {
    for (size_t i = 0; i < r->n; i++) free(r->v[i]);
    free(r->v);
    free(r->name);
    free(r);
}

void sa_acls_reset(sa_acls_t *acls) {
    for (int k = 0; k < 2; k++)
        for (int t = 0; t <= SA_RESOURCE_MAX; t++) {
            size_t pos = 0;
            res_t *r;
            while ((r = sa_hmap_next(&acls->map[k][t], &pos, NULL, NULL))) res_free(r);
            sa_hmap_free(&acls->map[k][t]);
        }
    for (int t = 0; t <= SA_RESOURCE_MAX; t++) {
        free(acls->plens[t]);
        acls->plens[t] = NULL;
        acls->nplens[t] = 0;
    }
    acls->count = 0;
}

static void free_supers(sa_acls_t *acls) {
    for (size_t i = 0; i < acls->nsupers; i++) free(acls->supers[i]);
    free(acls->supers);
    acls->supers = NULL;
    acls->nsupers = 0;
}

void sa_acls_free(sa_acls_t *acls) {
    if (!acls) return;
    sa_acls_reset(acls);
    free_supers(acls);
    free(acls);
}

/* Kafka's two authorizer class names (KRaft's and the ZooKeeper era's, and its older alias). */
static const char *const authorizers[] = {"org.apache.kafka.metadata.authorizer.StandardAuthorizer",
                                          "kafka.security.authorizer.AclAuthorizer",
                                          "kafka.security.auth.SimpleAclAuthorizer"};

sa_err_t sa_acls_configure(sa_acls_t *acls, const char *authorizer, const char *super_users,
                           int allow_if_none, char *errstr, size_t errstr_size) {
    int enabled = 0;
    if (authorizer && *authorizer) {
        for (size_t i = 0; i < SA_ARRAY_LEN(authorizers); i++)
            if (!strcmp(authorizer, authorizers[i])) enabled = 1;
        if (!enabled) {
            snprintf(
                errstr, errstr_size,
                "authorizer.class.name=%s: samsa has one authorizer, with Kafka's ACL semantics; name it "
                "%s (or %s), or leave it empty for none",
                authorizer, authorizers[0], authorizers[1]);
            return SA_ERR_INVALID_ARG;
        }
    }
    free_supers(acls);
    /* super.users: "User:a;User:b", blanks around each ignored */
    for (const char *p = super_users ? super_users : ""; *p;) {
        size_t n = strcspn(p, ";");
        const char *s = p, *e = p + n;
        while (s < e && (*s == ' ' || *s == '\t')) s++;
        while (e > s && (e[-1] == ' ' || e[-1] == '\t')) e--;
        if (e > s) {
            acls->supers = sa_realloc(acls->supers, (acls->nsupers + 1) * sizeof(*acls->supers));
            acls->supers[acls->nsupers++] = sa_strndup(s, (size_t)(e - s));
        }
        p += n + (p[n] == ';');
    }
    acls->enabled = enabled;
    acls->allow_if_none = allow_if_none;
    return SA_OK;
}

int sa_acls_enabled(const sa_acls_t *acls) { return acls->enabled; }
size_t sa_acls_count(const sa_acls_t *acls) { return acls->count; }

/* ---- checks ------------------------------------------------------------------------------- */

#define SET_ERR(...) (errstr ? (void)snprintf(errstr, errstr_size, __VA_ARGS__) : (void)0)

static int valid_principal(const char *p) {
    const char *colon = p ? strchr(p, ':') : NULL;
    return colon && colon > p; /* "Type:name"; Kafka's parseKafkaPrincipal */
}

sa_err_t sa_acl_check_binding(const sa_acl_binding_t *b, char *errstr, size_t errstr_size) {
    if (b->resource_type < SA_RESOURCE_TOPIC || b->resource_type > SA_RESOURCE_MAX) {
        SET_ERR("Invalid resourceType %s", sa_acl_resource_name(b->resource_type));
    } else if (b->pattern_type != SA_PATTERN_LITERAL && b->pattern_type != SA_PATTERN_PREFIXED) {
        SET_ERR("Invalid patternType %s", sa_acl_pattern_name(b->pattern_type));
    } else if (b->operation < SA_ACL_ALL || b->operation > SA_ACL_OP_MAX) {
        SET_ERR("Invalid operation %s", sa_acl_op_name(b->operation));
    } else if (b->permission != SA_PERM_ALLOW && b->permission != SA_PERM_DENY) {
        SET_ERR("Invalid permissionType %s", sa_acl_perm_name(b->permission));
    } else if (!b->name || !*b->name) {
        SET_ERR("Invalid empty resource name");
    } else if (b->resource_type == SA_RESOURCE_CLUSTER && strcmp(b->name, SA_ACL_CLUSTER_NAME)) {
        SET_ERR("The only valid name for the CLUSTER resource is %s", SA_ACL_CLUSTER_NAME);
    } else if (!valid_principal(b->principal)) {
        SET_ERR("Could not parse principal from `%s` (no colon is present separating the principal type from "
                "the principal name)",
                b->principal ? b->principal : "null");
    } else if (!b->host) {
        SET_ERR("Invalid null host");
    } else {
        return SA_OK;
    }
    return SA_ERR_INVALID_REQUEST;
}

sa_err_t sa_acl_check_filter(const sa_acl_binding_t *f, char *errstr, size_t errstr_size) {
    if (f->resource_type <= SA_RESOURCE_UNKNOWN || f->resource_type > SA_RESOURCE_MAX ||
        f->pattern_type <= SA_PATTERN_UNKNOWN || f->pattern_type > SA_PATTERN_PREFIXED) {
        SET_ERR("Unknown patternFilter.");
        return SA_ERR_INVALID_REQUEST;
    }
    if (f->operation <= SA_ACL_NONE || f->operation > SA_ACL_OP_MAX || f->permission <= SA_PERM_UNKNOWN ||
        f->permission > SA_PERM_ALLOW) {
        SET_ERR("Unknown entryFilter.");
        return SA_ERR_INVALID_REQUEST;
    }
    return SA_OK;
}

int sa_acl_filter_matches(const sa_acl_binding_t *f, const sa_acl_binding_t *b) {
    if (f->resource_type != SA_RESOURCE_ANY && f->resource_type != b->resource_type) return 0;
    if (f->pattern_type != SA_PATTERN_ANY && f->pattern_type != SA_PATTERN_MATCH &&
        f->pattern_type != b->pattern_type)
        return 0;
    if (f->name) {
        if (f->pattern_type == SA_PATTERN_MATCH) {
            if (b->pattern_type == SA_PATTERN_LITERAL) {
                if (strcmp(f->name, b->name) && strcmp(b->name, SA_ACL_WILDCARD)) return 0;
            } else if (strncmp(f->name, b->name, strlen(b->name))) {
                return 0; /* PREFIXED: the filter's name must start with the pattern's */
            }
        } else if (strcmp(f->name, b->name)) {
            return 0;
        }
    }
    if (f->principal && strcmp(f->principal, b->principal)) return 0;
    if (f->host && strcmp(f->host, b->host)) return 0;
    if (f->operation != SA_ACL_ANY && f->operation != b->operation) return 0;
    if (f->permission != SA_PERM_ANY && f->permission != b->permission) return 0;
    return 1;
}

/* ---- the decision ------------------------------------------------------------------------- */

static int is_super(const sa_acls_t *acls, const char *principal) {
    for (size_t i = 0; i < acls->nsupers; i++)
        if (!strcmp(acls->supers[i], principal)) return 1;
    return 0;
}

/* Does binding @p b's operation cover @p op (rule 4 of acl.h)? */
static int op_covers(const sa_acl_binding_t *b, sa_acl_op_t op) {
    if (b->operation == SA_ACL_ALL || b->operation == (int8_t)op) return 1;
    if (b->permission != SA_PERM_ALLOW) return 0; /* implications are ALLOW's only */
    if (op == SA_ACL_DESCRIBE)
        return b->operation == SA_ACL_READ || b->operation == SA_ACL_WRITE || b->operation == SA_ACL_DELETE ||
               b->operation == SA_ACL_ALTER;
    if (op == SA_ACL_DESCRIBE_CONFIGS) return b->operation == SA_ACL_ALTER_CONFIGS;
    return 0;
}

static int entry_applies(const sa_acl_binding_t *b, const char *principal, const char *host) {
    return (!strcmp(b->principal, principal) || !strcmp(b->principal, SA_ACL_WILDCARD_PRINCIPAL)) &&
           (!strcmp(b->host, host) || !strcmp(b->host, SA_ACL_WILDCARD));
}

typedef struct verdict_s {
    int any;   /* some ACL is on the resource (rule 6) */
    int allow; /* a matching ALLOW */
    int deny;  /* a matching DENY */
} verdict_t;

static void judge(const res_t *r, const char *principal, const char *host, sa_acl_op_t op, verdict_t *v) {
    if (!r) return;
    v->any |= r->n > 0;
    for (size_t i = 0; i < r->n && !v->deny; i++) {
        const sa_acl_binding_t *b = &r->v[i]->b;
        if (!entry_applies(b, principal, host) || !op_covers(b, op)) continue;
        if (b->permission == SA_PERM_DENY)
            v->deny = 1;
        else
            v->allow = 1;
    }
}

int sa_acls_authorize(const sa_acls_t *acls, const char *principal, const char *host, sa_acl_op_t op,
                      sa_resource_type_t type, const char *name) {
    if (!acls->enabled || is_super(acls, principal)) return 1;
    if (type < SA_RESOURCE_TOPIC || type > SA_RESOURCE_MAX) return 0;
    if (type == SA_RESOURCE_CLUSTER && !*name) name = SA_ACL_CLUSTER_NAME;
    size_t len = strlen(name);
    verdict_t v = {0};
    judge(sa_hmap_get(&acls->map[LIT][type], name, len), principal, host, op, &v);
    judge(sa_hmap_get(&acls->map[LIT][type], SA_ACL_WILDCARD, 1), principal, host, op, &v);
    for (size_t i = 0; i < acls->nplens[type] && !v.deny; i++)
        if (acls->plens[type][i].len <= len)
            judge(sa_hmap_get(&acls->map[PRE][type], name, acls->plens[type][i].len), principal, host, op,
                  &v);
    if (v.deny) return 0;
    if (v.allow) return 1;
    return !v.any && acls->allow_if_none;
}

/* A set of names, for sa_acls_authorize_any. */
typedef struct names_s {
    const char **v;
    size_t n;
} names_t;

static void names_add(names_t *s, const char *name) {
    s->v = sa_realloc(s->v, (s->n + 1) * sizeof(*s->v));
    s->v[s->n++] = name;
}

static int names_has(const names_t *s, const char *name, size_t len) {
    for (size_t i = 0; i < s->n; i++)
        if (strlen(s->v[i]) == len && !memcmp(s->v[i], name, len)) return 1;
    return 0;
}

int sa_acls_authorize_any(const sa_acls_t *acls, const char *principal, const char *host, sa_acl_op_t op,
                          sa_resource_type_t type) {
    /* As Kafka: a name no ACL names first, so super users (and allow.everyone.if.no.acl.found
     * without a wildcard ACL) are allowed whatever the DENY bindings say. */
    if (sa_acls_authorize(acls, principal, host, op, type, "hardcode")) return 1;
    if (type < SA_RESOURCE_TOPIC || type > SA_RESOURCE_MAX) return 0;
    names_t deny_lit = {0}, deny_pre = {0}, allow_lit = {0}, allow_pre = {0};
    int allowed = 0, wildcard_deny = 0;
    for (int k = 0; k < 2; k++) {
        size_t pos = 0;
        const res_t *r;
        while ((r = sa_hmap_next(&acls->map[k][type], &pos, NULL, NULL))) {
            for (size_t i = 0; i < r->n; i++) {
                const sa_acl_binding_t *b = &r->v[i]->b;
                /* exact operation or ALL: no implications here (Kafka's) */
                if (!entry_applies(b, principal, host) ||
                    (b->operation != SA_ACL_ALL && b->operation != (int8_t)op))
                    continue;
                int literal = k == LIT;
                if (b->permission == SA_PERM_DENY) {
                    if (literal && !strcmp(b->name, SA_ACL_WILDCARD)) wildcard_deny = 1;
                    names_add(literal ? &deny_lit : &deny_pre, b->name);
                } else if (literal && !strcmp(b->name, SA_ACL_WILDCARD)) {
                    allowed = 1;
                } else {
                    names_add(literal ? &allow_lit : &allow_pre, b->name);
                }
            }
        }
    }
    if (wildcard_deny) allowed = 0;
    /* An allowed name counts unless a DENY covers it: the same literal name, or a prefix. */
    for (int k = 0; k < 2 && !allowed && !wildcard_deny; k++) {
        const names_t *allows = k == LIT ? &allow_lit : &allow_pre;
        for (size_t i = 0; i < allows->n && !allowed; i++) {
            const char *name = allows->v[i];
            if (k == LIT && names_has(&deny_lit, name, strlen(name))) continue;
            int dominated = 0;
            for (size_t l = 1; l <= strlen(name) && !dominated; l++)
                dominated = names_has(&deny_pre, name, l);
            if (!dominated) allowed = 1;
        }
    }
    free(deny_lit.v), free(deny_pre.v), free(allow_lit.v), free(allow_pre.v);
    return allowed;
}

/* ---- changing the set --------------------------------------------------------------------- */

static void plen_add(sa_acls_t *acls, int type, size_t len, int delta) {
    plen_t *p = acls->plens[type];
    size_t n = acls->nplens[type], i = 0;
    while (i < n && p[i].len != len) i++;
    if (i == n) {
        assert(delta > 0);
        p = acls->plens[type] = sa_realloc(p, (n + 1) * sizeof(*p));
        p[n] = (plen_t){len, 0};
        acls->nplens[type] = ++n;
    }
    p[i].count = (size_t)((long)p[i].count + delta);
    if (!p[i].count) p[i] = p[--acls->nplens[type]];
}

static int same_binding(const sa_acl_binding_t *a, const sa_acl_binding_t *b) {
    return a->operation == b->operation && a->permission == b->permission &&
           !strcmp(a->principal, b->principal) && !strcmp(a->host, b->host);
}

static res_t *res_of(const sa_acls_t *acls, const sa_acl_binding_t *b) {
    return sa_hmap_get(&acls->map[b->pattern_type == SA_PATTERN_PREFIXED][b->resource_type], b->name,
                       strlen(b->name));
}

static ssize_t find_in(const res_t *r, const sa_acl_binding_t *b) {
    for (size_t i = 0; r && i < r->n; i++)
        if (same_binding(&r->v[i]->b, b)) return (ssize_t)i;
    return -1;
}

static void mem_add(sa_acls_t *acls, const sa_acl_binding_t *b) {
    int k = b->pattern_type == SA_PATTERN_PREFIXED;
    res_t *r = res_of(acls, b);
    if (find_in(r, b) >= 0) return; /* invariant 2 */
    if (!r) {
        r = sa_new(res_t);
        r->name_len = strlen(b->name);
        r->name = sa_strndup(b->name, r->name_len);
        r->type = b->resource_type;
        r->pattern = b->pattern_type;
        sa_hmap_put(&acls->map[k][r->type], r->name, r->name_len, r);
        if (k == PRE) plen_add(acls, r->type, r->name_len, 1);
    }
    size_t ln = strlen(b->name), lp = strlen(b->principal), lh = strlen(b->host);
    acl_t *a = sa_malloc(sizeof(*a) + ln + lp + lh + 3);
    char *d = a->data;
    a->b = *b;
    a->b.name = memcpy(d, b->name, ln + 1);
    a->b.principal = memcpy(d + ln + 1, b->principal, lp + 1);
    a->b.host = memcpy(d + ln + lp + 2, b->host, lh + 1);
    if (r->n == r->cap) {
        r->cap = r->cap ? 2 * r->cap : 4;
        r->v = sa_realloc(r->v, r->cap * sizeof(*r->v));
    }
    r->v[r->n++] = a;
    acls->count++;
}

static void mem_del(sa_acls_t *acls, const sa_acl_binding_t *b) {
    res_t *r = res_of(acls, b);
    ssize_t i = find_in(r, b);
    if (i < 0) return;
    free(r->v[i]);
    r->v[i] = r->v[--r->n];
    acls->count--;
    if (r->n) return;
    sa_hmap_del(&acls->map[r->pattern == SA_PATTERN_PREFIXED][r->type], r->name, r->name_len);
    if (r->pattern == SA_PATTERN_PREFIXED) plen_add(acls, r->type, r->name_len, -1);
    res_free(r);
}

static void encode(uint8_t kind, const sa_acl_binding_t *b, sa_buf_t *out) {
    (void)kind;
    sa_buf_putc(out, (uint8_t)b->resource_type);
    sa_buf_putc(out, (uint8_t)b->pattern_type);
    sa_buf_putc(out, (uint8_t)b->operation);
    sa_buf_putc(out, (uint8_t)b->permission);
    const char *s[3] = {b->name, b->principal, b->host};
    for (int i = 0; i < 3; i++) {
        size_t n = strlen(s[i]);
        sa_buf_put_be16(out, (uint16_t)n);
        sa_buf_append(out, s[i], n);
    }
}

/* Append one record of @p kind for @p b. */
static sa_err_t append(sa_acls_t *acls, uint8_t kind, const sa_acl_binding_t *b, uint64_t *seq) {
    if (!acls->log) return SA_OK;
    sa_buf_t p = SA_BUF_INIT(0);
    encode(kind, b, &p);
    sa_err_t err = sa_metalog_append(acls->log, kind, p.data, p.len, seq);
    sa_buf_free(&p);
    return err == SA_OK ? SA_OK : SA_ERR_KAFKA_STORAGE_ERROR;
}

sa_err_t sa_acls_create(sa_acls_t *acls, const sa_acl_binding_t *b, uint64_t *seq) {
    *seq = 0;
    if (sa_acl_check_binding(b, NULL, 0) != SA_OK) return SA_ERR_INVALID_REQUEST;
    /* the strings are stored with u16 lengths */
    if (strlen(b->name) > UINT16_MAX || strlen(b->principal) > UINT16_MAX || strlen(b->host) > UINT16_MAX)
        return SA_ERR_INVALID_REQUEST;
    if (find_in(res_of(acls, b), b) >= 0) return SA_OK;
    sa_err_t err = append(acls, SA_META_ACL_CREATE, b, seq);
    if (err) return err;
    mem_add(acls, b);
    return SA_OK;
}

size_t sa_acls_list(const sa_acls_t *acls, const sa_acl_binding_t *filter, sa_acl_visit_fn *fn, void *arg) {
    size_t n = 0;
    for (int k = 0; k < 2; k++)
        for (int t = SA_RESOURCE_TOPIC; t <= SA_RESOURCE_MAX; t++) {
            size_t pos = 0;
            const res_t *r;
            while ((r = sa_hmap_next(&acls->map[k][t], &pos, NULL, NULL)))
                for (size_t i = 0; i < r->n; i++)
                    if (sa_acl_filter_matches(filter, &r->v[i]->b)) {
                        if (fn) fn(arg, &r->v[i]->b);
                        n++;
                    }
        }
    return n;
}

sa_err_t sa_acls_delete(sa_acls_t *acls, const sa_acl_binding_t *filter, uint64_t *seq) {
    *seq = 0;
    for (int k = 0; k < 2; k++)
        for (int t = SA_RESOURCE_TOPIC; t <= SA_RESOURCE_MAX; t++) {
            /* Collect first: removing may free a resource pattern, and the map must not change
             * under the iteration other than by removing the entry just returned. */
            size_t pos = 0, n = 0, cap = 0;
            acl_t **hits = NULL;
            const res_t *r;
            while ((r = sa_hmap_next(&acls->map[k][t], &pos, NULL, NULL)))
                for (size_t i = 0; i < r->n; i++)
                    if (sa_acl_filter_matches(filter, &r->v[i]->b)) {
                        if (n == cap) hits = sa_realloc(hits, (cap = cap ? 2 * cap : 8) * sizeof(*hits));
                        hits[n++] = r->v[i];
                    }
            sa_err_t err = SA_OK;
            for (size_t i = 0; i < n && !err; i++) {
                sa_acl_binding_t b = hits[i]->b;
                err = append(acls, SA_META_ACL_DELETE, &b, seq);
                if (!err) mem_del(acls, &b); /* frees hits[i]: b's strings are not used after */
            }
            free(hits);
            if (err) return err;
        }
    return SA_OK;
}

/* ---- the metadata log's owner side -------------------------------------------------------- */

/* Parse a payload into @p b, strings copied into @p store (NUL-terminated). */
static sa_err_t decode(const uint8_t *p, size_t len, sa_acl_binding_t *b, sa_buf_t *store) {
    if (len < 4) return SA_ERR_CORRUPT;
    b->resource_type = (int8_t)p[0], b->pattern_type = (int8_t)p[1];
    b->operation = (int8_t)p[2], b->permission = (int8_t)p[3];
    size_t pos = 4, offs[3];
    for (int i = 0; i < 3; i++) {
        if (len - pos < 2) return SA_ERR_CORRUPT;
        size_t n = sa_load_be16(p + pos);
        pos += 2;
        if (len - pos < n || memchr(p + pos, 0, n)) return SA_ERR_CORRUPT;
        offs[i] = store->len;
        sa_buf_append(store, p + pos, n);
        sa_buf_putc(store, 0);
        pos += n;
    }
    if (pos != len) return SA_ERR_CORRUPT;
    b->name = (const char *)store->data + offs[0];
    b->principal = (const char *)store->data + offs[1];
    b->host = (const char *)store->data + offs[2];
    return sa_acl_check_binding(b, NULL, 0) == SA_OK ? SA_OK : SA_ERR_CORRUPT;
}

sa_err_t sa_acls_apply(sa_acls_t *acls, uint8_t kind, const uint8_t *payload, size_t len) {
    sa_buf_t store = SA_BUF_INIT(0);
    sa_acl_binding_t b;
    sa_err_t err = decode(payload, len, &b, &store);
    if (!err && kind == SA_META_ACL_CREATE)
        mem_add(acls, &b);
    else if (!err && kind == SA_META_ACL_DELETE)
        mem_del(acls, &b);
    else if (!err)
        err = SA_ERR_CORRUPT;
    sa_buf_free(&store);
    return err;
}

uint64_t sa_acls_live(const sa_acls_t *acls) { return acls->count; }

static void snap_one(void *arg, const sa_acl_binding_t *b) {
    sa_metalog_writer_t *w = arg;
    sa_buf_t p = SA_BUF_INIT(0);
    encode(SA_META_ACL_CREATE, b, &p);
    sa_metalog_put(w, SA_META_ACL_CREATE, p.data, p.len);
    sa_buf_free(&p);
}

void sa_acls_snapshot(const sa_acls_t *acls, sa_metalog_writer_t *w) {
    sa_acl_binding_t all = {SA_RESOURCE_ANY, SA_PATTERN_ANY, SA_ACL_ANY, SA_PERM_ANY, NULL, NULL, NULL};
    sa_acls_list(acls, &all, snap_one, w);
}

sa_err_t sa_acls_describe(uint8_t kind, const uint8_t *payload, size_t len, sa_buf_t *out) {
    (void)kind;
    sa_buf_t store = SA_BUF_INIT(0);
    sa_acl_binding_t b;
    sa_err_t err = decode(payload, len, &b, &store);
    if (!err) {
        sa_buf_printf(out, "\"resource_type\":\"%s\",\"pattern_type\":\"%s\",\"name\":",
                      sa_acl_resource_name(b.resource_type), sa_acl_pattern_name(b.pattern_type));
        sa_metastore_json_str(out, b.name, strlen(b.name));
        sa_buf_append_str(out, ",\"principal\":");
        sa_metastore_json_str(out, b.principal, strlen(b.principal));
        sa_buf_append_str(out, ",\"host\":");
        sa_metastore_json_str(out, b.host, strlen(b.host));
        sa_buf_printf(out, ",\"operation\":\"%s\",\"permission\":\"%s\"", sa_acl_op_name(b.operation),
                      sa_acl_perm_name(b.permission));
    }
    sa_buf_free(&store);
    return err;
}
