/*
 * authz.h - what a client may do with a resource: the one place the authorized-operations
 * bitfields of Metadata, DescribeCluster and DescribeGroups come from.
 *
 * samsa has no ACLs yet, so every client is allowed everything, and the answer is what Kafka
 * answers without an authorizer: every operation its resource type supports (Kafka's
 * AclEntry.supportedOperations), as a bitfield with bit (1 << AclOperation code) set
 * (Utils.to32BitField). When ACLs come, sa_authz_operations() is where they restrict the set
 * for the request's principal; the callers stay as they are.
 *
 * A response field whose request did not ask for operations carries SA_AUTHZ_NOT_ASKED
 * (INT32_MIN, Kafka's "not provided"); callers decide that, not this module.
 */
#ifndef SA_BROKER_AUTHZ_H
#define SA_BROKER_AUTHZ_H

#include <stdint.h>

#include "broker/broker.h"

#define SA_AUTHZ_NOT_ASKED INT32_MIN

/* Kafka's AclOperation codes (the bit numbers of the bitfield). */
typedef enum sa_acl_op_e {
    SA_ACL_NONE = 0, /* no operation: dispatch.c's table, for an API without a cluster-level check */
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

/* Kafka's ResourceType codes. */
typedef enum sa_resource_type_e {
    SA_RESOURCE_TOPIC = 2,
    SA_RESOURCE_GROUP = 3,
    SA_RESOURCE_CLUSTER = 4,
    SA_RESOURCE_TRANSACTIONAL_ID = 5,
    SA_RESOURCE_DELEGATION_TOKEN = 6,
    SA_RESOURCE_USER = 7,
} sa_resource_type_t;

/**
 * The operations @p req's client may perform on resource @p type named @p name (borrowed; "" for
 * the cluster), as Kafka's bitfield. @returns 0 for a type with no operations.
 */
int32_t sa_authz_operations(const sa_req_t *req, sa_resource_type_t type, const char *name);

#endif
