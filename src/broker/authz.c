/*
 * authz.c - the broker's authorizer (see authz.h): the request's principal and host, and the
 * authorized-operations bitfields. The decision itself is acl.c's.
 *
 * Supported operations per resource type are Kafka's AclEntry.supportedOperations, checked
 * against Apache Kafka 3.9.2 with no authorizer: topic 3576, cluster 8096, group 328.
 */
#include "broker/authz.h"

#include <arpa/inet.h>
#include <stdio.h>
#include <string.h>

#define OP(op) (1 << (op))

static int32_t supported(sa_resource_type_t type) {
    switch (type) {
    case SA_RESOURCE_TOPIC:
        return OP(SA_ACL_READ) | OP(SA_ACL_WRITE) | OP(SA_ACL_CREATE) | OP(SA_ACL_DESCRIBE) |
               OP(SA_ACL_DELETE) | OP(SA_ACL_ALTER) | OP(SA_ACL_DESCRIBE_CONFIGS) | OP(SA_ACL_ALTER_CONFIGS);
    case SA_RESOURCE_GROUP:
        /* Kafka 3.9's set (328); 4.x adds DESCRIBE_CONFIGS and ALTER_CONFIGS with group configs
         * (KIP-848), which samsa does not have */
        return OP(SA_ACL_READ) | OP(SA_ACL_DESCRIBE) | OP(SA_ACL_DELETE);
    case SA_RESOURCE_CLUSTER:
        return OP(SA_ACL_CREATE) | OP(SA_ACL_CLUSTER_ACTION) | OP(SA_ACL_DESCRIBE_CONFIGS) |
               OP(SA_ACL_ALTER_CONFIGS) | OP(SA_ACL_IDEMPOTENT_WRITE) | OP(SA_ACL_ALTER) |
               OP(SA_ACL_DESCRIBE);
    case SA_RESOURCE_TRANSACTIONAL_ID: return OP(SA_ACL_DESCRIBE) | OP(SA_ACL_WRITE);
    case SA_RESOURCE_DELEGATION_TOKEN: return OP(SA_ACL_DESCRIBE);
    case SA_RESOURCE_USER: return OP(SA_ACL_CREATE_TOKENS) | OP(SA_ACL_DESCRIBE_TOKENS);
    default: return 0;
    }
}

const char *sa_authz_principal(const sa_req_t *req) {
    /* the connection's (conn.c): SASL's User:NAME, a verified client certificate's subject, or
     * ANONYMOUS; a request made without a connection (unit tests) is ANONYMOUS */
    return req->principal && req->principal[0] ? req->principal : "User:ANONYMOUS";
}

const char *sa_authz_host(const sa_req_t *req, char *out) {
    /* sa_req_peer is "ip:port" (getnameinfo's numeric form, so IPv6 has no brackets) */
    const char *peer = sa_req_peer(req);
    const char *colon = strrchr(peer, ':');
    size_t n = colon ? (size_t)(colon - peer) : strlen(peer);
    char ip[SA_AUTHZ_HOST_MAX];
    snprintf(ip, sizeof(ip), "%.*s", (int)n, peer);
    struct in6_addr a6;
    if (inet_pton(AF_INET6, ip, &a6) != 1) {
        snprintf(out, SA_AUTHZ_HOST_MAX, "%s", ip);
        return out;
    }
    if (IN6_IS_ADDR_V4MAPPED(&a6)) { /* Java hands such a peer over as an Inet4Address */
        snprintf(out, SA_AUTHZ_HOST_MAX, "%u.%u.%u.%u", a6.s6_addr[12], a6.s6_addr[13], a6.s6_addr[14],
                 a6.s6_addr[15]);
        return out;
    }
    /* Java's Inet6Address.getHostAddress: eight groups in lower-case hex, none compressed */
    size_t pos = 0;
    for (int i = 0; i < 8; i++)
        pos += (size_t)snprintf(out + pos, SA_AUTHZ_HOST_MAX - pos, "%s%x", i ? ":" : "",
                                (unsigned)(a6.s6_addr[2 * i] << 8 | a6.s6_addr[2 * i + 1]));
    return out;
}

static const sa_acls_t *acls_of(const sa_req_t *req) { return req->broker->metastore.acls; }

int sa_authz_enabled(const sa_req_t *req) { return sa_acls_enabled(acls_of(req)); }

int sa_authz_allowed(const sa_req_t *req, sa_acl_op_t op, sa_resource_type_t type, const char *name) {
    const sa_acls_t *acls = acls_of(req);
    if (!sa_acls_enabled(acls)) return 1;
    char host[SA_AUTHZ_HOST_MAX];
    return sa_acls_authorize(acls, sa_authz_principal(req), sa_authz_host(req, host), op, type, name);
}

int sa_authz_allowed_any(const sa_req_t *req, sa_acl_op_t op, sa_resource_type_t type) {
    const sa_acls_t *acls = acls_of(req);
    if (!sa_acls_enabled(acls)) return 1;
    char host[SA_AUTHZ_HOST_MAX];
    return sa_acls_authorize_any(acls, sa_authz_principal(req), sa_authz_host(req, host), op, type);
}

int32_t sa_authz_operations(const sa_req_t *req, sa_resource_type_t type, const char *name) {
    int32_t ops = supported(type);
    const sa_acls_t *acls = acls_of(req);
    if (!sa_acls_enabled(acls)) return ops;
    char host[SA_AUTHZ_HOST_MAX];
    const char *principal = sa_authz_principal(req);
    sa_authz_host(req, host);
    int32_t allowed = 0;
    for (int op = SA_ACL_READ; op <= SA_ACL_OP_MAX; op++)
        if ((ops & OP(op)) && sa_acls_authorize(acls, principal, host, (sa_acl_op_t)op, type, name))
            allowed |= OP(op);
    return allowed;
}
