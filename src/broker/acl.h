/*
 * acl.h - access control lists with Apache Kafka's semantics: the bindings, their durable store
 * (kinds 40-41 of the metadata log, broker/metastore.h), the filters of DescribeAcls/DeleteAcls,
 * and the authorizer's decision. No dependency on requests or connections: authz.h asks it with
 * the request's principal and host, and the unit tests ask it directly.
 *
 * A BINDING is a resource pattern (resource type, pattern type LITERAL or PREFIXED, name) and an
 * entry (principal "User:alice" or "User:*", host "10.0.0.1" or "*", operation, ALLOW or DENY).
 * The numbers are Kafka's wire codes (AclOperation, ResourceType, PatternType,
 * AclPermissionType), so a request's fields are used as they are.
 *
 * THE DECISION (Kafka's StandardAuthorizer, same as the ZooKeeper-era AclAuthorizer), for a
 * principal P from host H performing operation O on resource (T, N):
 *   1. no authorizer configured: allowed (samsa without ACLs, as Kafka without an authorizer);
 *   2. P is one of super.users: allowed;
 *   3. the ACLs "on the resource" are those of type T whose pattern is LITERAL N, LITERAL "*",
 *      or PREFIXED p with N starting with p, whatever their principal, host or operation;
 *   4. one of them MATCHES when its principal is P or "User:*", its host is H or "*", and its
 *      operation is ALL, or O, or, for an ALLOW binding only, implies O: READ, WRITE, DELETE and
 *      ALTER imply DESCRIBE; ALTER_CONFIGS implies DESCRIBE_CONFIGS (a DENY READ does not deny
 *      DESCRIBE);
 *   5. a matching DENY wins: denied; else a matching ALLOW: allowed;
 *   6. else: allowed iff there is no ACL on the resource at all and
 *      allow.everyone.if.no.acl.found is true; denied otherwise.
 * "May P do O on some resource of type T" (Kafka's authorizeByResourceType, KIP-679: an
 * idempotent producer without IDEMPOTENT_WRITE on the cluster needs WRITE on some topic) is
 * sa_acls_authorize_any().
 *
 * FILTERS (DescribeAcls, DeleteAcls; Kafka's AclBindingFilter): a binding whose strings may be
 * NULL (any) and whose enums may be ANY; pattern type MATCH selects the bindings that would apply
 * to a resource of that name (LITERAL name, LITERAL "*", PREFIXED prefixes of it), ANY every
 * pattern type with exactly that name; a filter's principal and host are compared exactly ("*"
 * finds the wildcard bindings, not every one).
 *
 * Invariants:
 *   1. Memory equals the replay of the metadata log: a binding is in memory iff its last record
 *      is an acl_create (a failed append changes nothing; a failed sync resets and replays).
 *   2. No two bindings are equal (Kafka's ACLs are a set): creating an existing one is a success
 *      that appends nothing.
 *   3. Every stored binding passes sa_acl_check_binding().
 *
 * @locality the broker's loop thread.
 */
#ifndef SA_BROKER_ACL_H
#define SA_BROKER_ACL_H

#include <stddef.h>
#include <stdint.h>

#include "core/buf.h"
#include "core/err.h"
#include "storage/metalog.h"

/* Kafka's AclOperation codes (also the bit numbers of the authorized-operations bitfields). */
typedef enum sa_acl_op_e {
    SA_ACL_NONE = 0, /* UNKNOWN; in dispatch.c's table: an API without a cluster-level check */
    SA_ACL_ANY = 1,  /* filters only */
    SA_ACL_ALL = 2,  /* bindings: every operation */
    SA_ACL_READ = 3,
    SA_ACL_WRITE = 4,
    SA_ACL_CREATE = 5,
    SA_ACL_DELETE = 6,
    SA_ACL_ALTER = 7,
    SA_ACL_DESCRIBE = 8,
    SA_ACL_CLUSTER_ACTION = 9,
    SA_ACL_DESCRIBE_CONFIGS = 10,
    SA_ACL_ALTER_CONFIGS = 11,
    SA_ACL_IDEMPOTENT_WRITE = 12,
    SA_ACL_CREATE_TOKENS = 13,
    SA_ACL_DESCRIBE_TOKENS = 14,
} sa_acl_op_t;
#define SA_ACL_OP_MAX 14

/* Kafka's ResourceType codes. */
typedef enum sa_resource_type_e {
    SA_RESOURCE_UNKNOWN = 0,
    SA_RESOURCE_ANY = 1, /* filters only */
    SA_RESOURCE_TOPIC = 2,
    SA_RESOURCE_GROUP = 3,
    SA_RESOURCE_CLUSTER = 4,
    SA_RESOURCE_TRANSACTIONAL_ID = 5,
    SA_RESOURCE_DELEGATION_TOKEN = 6,
    SA_RESOURCE_USER = 7,
} sa_resource_type_t;
#define SA_RESOURCE_MAX 7

/* Kafka's PatternType codes. */
typedef enum sa_pattern_type_e {
    SA_PATTERN_UNKNOWN = 0,
    SA_PATTERN_ANY = 1,   /* filters only: every pattern type, exact name */
    SA_PATTERN_MATCH = 2, /* filters only: what applies to a resource of that name */
    SA_PATTERN_LITERAL = 3,
    SA_PATTERN_PREFIXED = 4,
} sa_pattern_type_t;

/* Kafka's AclPermissionType codes. */
typedef enum sa_acl_perm_e {
    SA_PERM_UNKNOWN = 0,
    SA_PERM_ANY = 1, /* filters only */
    SA_PERM_DENY = 2,
    SA_PERM_ALLOW = 3,
} sa_acl_perm_t;

#define SA_ACL_CLUSTER_NAME       "kafka-cluster" /* the one name of the CLUSTER resource */
#define SA_ACL_WILDCARD           "*"             /* resource name and host of every one */
#define SA_ACL_WILDCARD_PRINCIPAL "User:*"

/* A binding (every field set) or a filter (NULL strings and ANY enums match anything).
 * Strings are borrowed by whoever holds the struct; the store copies what it keeps. */
typedef struct sa_acl_binding_s {
    int8_t resource_type;  /* sa_resource_type_t */
    int8_t pattern_type;   /* sa_pattern_type_t */
    int8_t operation;      /* sa_acl_op_t */
    int8_t permission;     /* sa_acl_perm_t */
    const char *name;      /* resource name ("kafka-cluster" for the cluster) */
    const char *principal; /* "User:alice", "User:*" */
    const char *host;      /* "127.0.0.1", "*" */
} sa_acl_binding_t;

typedef struct sa_acls_s sa_acls_t;

/** @returns new: an empty store appending to @p log (borrowed; NULL in tests: memory only),
 *  with no authorizer (everything allowed) until sa_acls_configure(). */
sa_acls_t *sa_acls_new(sa_metalog_t *log);
void sa_acls_free(sa_acls_t *acls);

/**
 * Set the authorizer: @p authorizer is authorizer.class.name ("" = none; Kafka's
 * StandardAuthorizer and AclAuthorizer names turn it on), @p super_users super.users
 * ("User:a;User:b", may be NULL), @p allow_if_none allow.everyone.if.no.acl.found.
 * @returns SA_OK, or SA_ERR_INVALID_ARG with @p errstr for an authorizer samsa does not have.
 */
sa_err_t sa_acls_configure(sa_acls_t *acls, const char *authorizer, const char *super_users,
                           int allow_if_none, char *errstr, size_t errstr_size);
/** @returns 1 if an authorizer is configured (the ACL APIs answer SECURITY_DISABLED otherwise). */
int sa_acls_enabled(const sa_acls_t *acls);
/** @returns how many bindings are stored. */
size_t sa_acls_count(const sa_acls_t *acls);

/**
 * The decision of the top of this file. @p principal, @p host and @p name are borrowed ("" or
 * "kafka-cluster" for the cluster: both name it). @returns 1 allowed, 0 denied.
 */
int sa_acls_authorize(const sa_acls_t *acls, const char *principal, const char *host, sa_acl_op_t op,
                      sa_resource_type_t type, const char *name);
/** May @p principal perform @p op on at least one resource of @p type (Kafka's
 *  authorizeByResourceType)? @returns 1 or 0. */
int sa_acls_authorize_any(const sa_acls_t *acls, const char *principal, const char *host, sa_acl_op_t op,
                          sa_resource_type_t type);

/**
 * Is @p b a binding CreateAcls may store? Kafka's rules: known resource type (not ANY), pattern
 * LITERAL or PREFIXED, known operation (not ANY), ALLOW or DENY, a non-empty name ("kafka-cluster"
 * for the cluster), a principal "Type:name", a host.
 * @returns SA_OK or SA_ERR_INVALID_REQUEST with the reason in @p errstr.
 */
sa_err_t sa_acl_check_binding(const sa_acl_binding_t *b, char *errstr, size_t errstr_size);
/** Is @p f a usable filter (no UNKNOWN field)? @returns SA_OK or SA_ERR_INVALID_REQUEST. */
sa_err_t sa_acl_check_filter(const sa_acl_binding_t *f, char *errstr, size_t errstr_size);
/** @returns 1 if filter @p f selects binding @p b (the rules of the top of this file). */
int sa_acl_filter_matches(const sa_acl_binding_t *f, const sa_acl_binding_t *b);

/**
 * Store binding @p b (checked with sa_acl_check_binding first; strings copied). It is in force at
 * once and durable once record *@p seq is (sa_metalog_durable; 0 when nothing was appended
 * because it already existed).
 * @returns SA_OK, KAFKA_STORAGE_ERROR (nothing changed) or SA_ERR_INVALID_REQUEST.
 */
sa_err_t sa_acls_create(sa_acls_t *acls, const sa_acl_binding_t *b, uint64_t *seq);

/** Called per binding (valid during the call only); the bindings of one resource pattern come
 *  one after another. */
typedef void sa_acl_visit_fn(void *arg, const sa_acl_binding_t *b);
/** Call @p fn for every binding @p filter selects. @returns how many. */
size_t sa_acls_list(const sa_acls_t *acls, const sa_acl_binding_t *filter, sa_acl_visit_fn *fn, void *arg);
/**
 * Remove every binding @p filter selects, appending an acl_delete record for each; *@p seq gets
 * the last record's sequence number (0 if none). @returns SA_OK or KAFKA_STORAGE_ERROR (the
 * bindings removed before the failure stay removed: each record is on its own).
 */
sa_err_t sa_acls_delete(sa_acls_t *acls, const sa_acl_binding_t *filter, uint64_t *seq);

/* ---- names (Kafka's, upper case, as kafka-acls.sh prints them) ---------------------------- */

const char *sa_acl_op_name(int op);
const char *sa_acl_resource_name(int type);
const char *sa_acl_pattern_name(int pattern);
const char *sa_acl_perm_name(int perm);

/* ---- as the owner of its record kinds (broker/metastore.c) -------------------------------- */

sa_err_t sa_acls_apply(sa_acls_t *acls, uint8_t kind, const uint8_t *payload, size_t len);
void sa_acls_reset(sa_acls_t *acls);
uint64_t sa_acls_live(const sa_acls_t *acls);
void sa_acls_snapshot(const sa_acls_t *acls, sa_metalog_writer_t *w);
/** Describe an acl_create / acl_delete record as JSON object members. */
sa_err_t sa_acls_describe(uint8_t kind, const uint8_t *payload, size_t len, sa_buf_t *out);

#endif
