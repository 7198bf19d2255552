/*
 * authz.c - authorized operations (see authz.h). Without ACLs: everything the resource type
 * supports, per Kafka's AclEntry.supportedOperations. Checked against Apache Kafka 3.9.2 with no
 * authorizer: topic 3576, cluster 8096, group 328.
 */
#include "broker/authz.h"

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
    }
    return 0;
}

int32_t sa_authz_operations(const sa_req_t *req, sa_resource_type_t type, const char *name) {
    (void)req;  /* the principal, once there are ACLs */
    (void)name; /* the resource, likewise (literal and prefixed patterns) */
    return supported(type);
}
