/*
 * authz.h - may this request's principal do that: the broker's one authorizer, between the
 * handlers (through the kit, kit.h) and the ACLs (acl.h, whose top says the rules and where they
 * come from).
 *
 * WHO ASKS. A request's principal (req->principal, set by its connection: "User:alice" after
 * SASL, "User:CN=app,O=org" from a verified client certificate on an SSL listener,
 * "User:ANONYMOUS" without either) and host (the peer's IP address as Java prints it:
 * "127.0.0.1", "0:0:0:0:0:0:0:1") come from sa_authz_principal() and sa_authz_host(): the one
 * place that knows where they live on a request.
 *
 * AUTHORIZED OPERATIONS (Metadata, DescribeCluster, DescribeGroups): the operations of the
 * resource type's supported set (Kafka's AclEntry.supportedOperations) that the principal may
 * perform, as a bitfield with bit (1 << AclOperation code) set (Utils.to32BitField); without an
 * authorizer, the whole supported set. A response field whose request did not ask for operations
 * carries SA_AUTHZ_NOT_ASKED (INT32_MIN, Kafka's "not provided"); callers decide that.
 */
#ifndef SA_BROKER_AUTHZ_H
#define SA_BROKER_AUTHZ_H

#include <stdint.h>

#include "broker/acl.h"
#include "broker/broker.h"

#define SA_AUTHZ_NOT_ASKED INT32_MIN
#define SA_AUTHZ_HOST_MAX  64 /* an IPv6 address in Java's form, with room to spare */

/** @returns @p req's principal ("User:ANONYMOUS" until authentication says otherwise); valid
 *  while the request lives. */
const char *sa_authz_principal(const sa_req_t *req);
/** Write @p req's client address as Kafka's ACL hosts name it into @p out (SA_AUTHZ_HOST_MAX).
 *  @returns @p out. */
const char *sa_authz_host(const sa_req_t *req, char *out);

/** May @p req's principal perform @p op on resource @p type named @p name (borrowed; "" for the
 *  cluster)? @returns 1 or 0 (acl.h's decision; 1 without an authorizer). */
int sa_authz_allowed(const sa_req_t *req, sa_acl_op_t op, sa_resource_type_t type, const char *name);
/** May it perform @p op on some resource of @p type (Kafka's authorizeByResourceType)? */
int sa_authz_allowed_any(const sa_req_t *req, sa_acl_op_t op, sa_resource_type_t type);
/** @returns 1 if the broker has an authorizer (authorizer.class.name is set). */
int sa_authz_enabled(const sa_req_t *req);

/**
 * The operations @p req's principal may perform on resource @p type named @p name (borrowed; ""
 * for the cluster), as Kafka's bitfield. @returns 0 for a type with no operations.
 */
int32_t sa_authz_operations(const sa_req_t *req, sa_resource_type_t type, const char *name);

#endif
