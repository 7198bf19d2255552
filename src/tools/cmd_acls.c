/*
 * cmd_acls.c - `samsa acls`: kafka-acls over the librdkafka admin API (CreateAcls, DescribeAcls,
 * DeleteAcls), against samsa or Apache Kafka with an authorizer.
 *
 * Flags and output are kafka-acls.sh's (Kafka's AclCommand): --add / --remove / --list, the
 * principals and hosts to allow or deny, --operation (default All), one resource per flag
 * (--topic, --group, --cluster), --resource-pattern-type, the --producer and --consumer
 * conveniences, and --force to remove without asking. Each added or removed resource and the
 * ACLs left on it are printed as kafka-acls.sh prints them:
 *
 *     Current ACLs for resource `ResourcePattern(resourceType=TOPIC, name=t, patternType=LITERAL)`:
 *     	(principal=User:alice, host=*, operation=READ, permissionType=ALLOW)
 *
 * (Kafka 4.x's AclCommand, byte for byte; 3.x's Scala one put a blank before each first tab and
 * after each last entry.)
 *
 * librdkafka (2.0 to at least 2.15) drops DescribeAcls' error code: a listing refused with
 * SECURITY_DISABLED or CLUSTER_AUTHORIZATION_FAILED arrives as an empty one, so an empty
 * listing is reported with that caveat on stderr (CreateAcls and DeleteAcls errors do arrive).
 *
 * librdkafka 2.0 (Debian's) names the cluster resource BROKER and knows no TRANSACTIONAL_ID,
 * DELEGATION_TOKEN or USER resource and no token operations: --transactional-id is refused here
 * with that reason rather than sent wrong.
 *
 * Exit codes: 0 done; 1 the cluster refused (SECURITY_DISABLED: no authorizer; not authorized)
 * or was unreachable; 2 wrong input.
 */
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "commands.h"
#include "core/log.h"
#include "core/mem.h"
#include "tools/tool.h"

#define CMD "acls"

typedef struct conf_s {
    sa_tools_conn_t conn;
    int add, remove, list, force, producer, consumer, cluster, idempotent;
    sa_strlist_t allow_principal, deny_principal, allow_host, deny_host, operation;
    sa_strlist_t topic, group, transactional_id, principal;
    char *pattern_type;
} conf_t;

static const sa_cfg_opt_t opts[] = {
    SA_TOOLS_CONN_OPTS(conf_t, conn),
    {NULL, "add", 0, SA_CFG_BOOL, offsetof(conf_t, add), 0, 0, NULL, NULL, "add ACLs"},
    {NULL, "remove", 0, SA_CFG_BOOL, offsetof(conf_t, remove), 0, 0, NULL, NULL, "remove ACLs"},
    {NULL, "list", 0, SA_CFG_BOOL, offsetof(conf_t, list), 0, 0, NULL, NULL,
     "list ACLs (of the resources given, else all)"},
    {NULL, "allow-principal", 0, SA_CFG_LIST, offsetof(conf_t, allow_principal), 0, 0, NULL, "PRINCIPAL",
     "principal to allow, e.g. User:alice or User:* (repeatable)"},
    {NULL, "deny-principal", 0, SA_CFG_LIST, offsetof(conf_t, deny_principal), 0, 0, NULL, "PRINCIPAL",
     "principal to deny (repeatable)"},
    {NULL, "allow-host", 0, SA_CFG_LIST, offsetof(conf_t, allow_host), 0, 0, NULL, "HOST",
     "host the allowed principals may connect from (default *)"},
    {NULL, "deny-host", 0, SA_CFG_LIST, offsetof(conf_t, deny_host), 0, 0, NULL, "HOST",
     "host the denied principals are denied from (default *)"},
    {NULL, "operation", 0, SA_CFG_LIST, offsetof(conf_t, operation), 0, 0, NULL, "OP",
     "All (default), Read, Write, Create, Delete, Alter, Describe, ClusterAction, DescribeConfigs, "
     "AlterConfigs, IdempotentWrite (repeatable)"},
    {NULL, "topic", 0, SA_CFG_LIST, offsetof(conf_t, topic), 0, 0, NULL, "TOPIC", "topic resource (* = all)"},
    {NULL, "group", 0, SA_CFG_LIST, offsetof(conf_t, group), 0, 0, NULL, "GROUP", "consumer group resource"},
    {NULL, "cluster", 0, SA_CFG_BOOL, offsetof(conf_t, cluster), 0, 0, NULL, NULL, "the cluster resource"},
    {NULL, "transactional-id", 0, SA_CFG_LIST, offsetof(conf_t, transactional_id), 0, 0, NULL, "ID",
     "transactional id resource (not with librdkafka 2.0's admin API)"},
    {NULL, "resource-pattern-type", 0, SA_CFG_STR, offsetof(conf_t, pattern_type), 0, 0, "LITERAL", "TYPE",
     "LITERAL or PREFIXED (--add); also ANY or MATCH (--list, --remove)"},
    {NULL, "principal", 0, SA_CFG_LIST, offsetof(conf_t, principal), 0, 0, NULL, "PRINCIPAL",
     "--list: only the ACLs of this principal"},
    {NULL, "producer", 0, SA_CFG_BOOL, offsetof(conf_t, producer), 0, 0, NULL, NULL,
     "a producer's ACLs: WRITE, DESCRIBE and CREATE on --topic"},
    {NULL, "consumer", 0, SA_CFG_BOOL, offsetof(conf_t, consumer), 0, 0, NULL, NULL,
     "a consumer's ACLs: READ and DESCRIBE on --topic, READ on --group"},
    {NULL, "idempotent", 0, SA_CFG_BOOL, offsetof(conf_t, idempotent), 0, 0, NULL, NULL,
     "--producer: also IDEMPOTENT_WRITE on the cluster"},
    {NULL, "force", 0, SA_CFG_BOOL, offsetof(conf_t, force), 0, 0, NULL, NULL, "--remove without asking"},
    {0}};

static const sa_cfg_cmd_t spec = {
    "acls", "samsa acls [-b HOST:PORT] (--add | --remove | --list) [RESOURCE] [PRINCIPALS] [OPTIONS]",
    "Add, remove and list ACLs, with Apache Kafka's kafka-acls flags and output. The broker needs an "
    "authorizer (samsa broker -o "
    "authorizer.class.name=org.apache.kafka.metadata.authorizer.StandardAuthorizer); "
    "the principal running this command needs ALTER (add, remove) or DESCRIBE (list) on the cluster.",
    opts,
    "examples:\n"
    "  samsa acls --add --allow-principal User:alice --operation Read --operation Describe --topic orders\n"
    "  samsa acls --add --allow-principal User:bob --producer --topic logs- --resource-pattern-type "
    "prefixed\n"
    "  samsa acls --add --allow-principal User:app --consumer --topic orders --group billing\n"
    "  samsa acls --add --deny-principal User:mallory --deny-host 10.0.0.9 --operation All --topic '*'\n"
    "  samsa acls --list --topic orders\n"
    "  samsa acls --remove --force --allow-principal User:alice --operation Read --topic orders\n"
    "exit status: 0 done, 1 the cluster refused or was unreachable, 2 wrong input"};

/* ---- names as Kafka's AclCommand parses and prints them ----------------------------------- */

static const char *const op_names[] = {NULL,
                                       NULL,
                                       "All",
                                       "Read",
                                       "Write",
                                       "Create",
                                       "Delete",
                                       "Alter",
                                       "Describe",
                                       "ClusterAction",
                                       "DescribeConfigs",
                                       "AlterConfigs",
                                       "IdempotentWrite"};

/* "DescribeConfigs", "describe_configs", "DESCRIBECONFIGS" alike: letters compared case-blind. */
static int same_word(const char *a, const char *b) {
    for (;;) {
        while (*a == '_' || *a == '-') a++;
        while (*b == '_' || *b == '-') b++;
        if (!*a || !*b) return !*a && !*b;
        if (tolower((unsigned char)*a++) != tolower((unsigned char)*b++)) return 0;
    }
}

static int parse_op(const char *s) {
    for (int i = 2; i < (int)(sizeof(op_names) / sizeof(op_names[0])); i++)
        if (same_word(s, op_names[i])) return i;
    return -1;
}

/* Kafka's names: CLUSTER for librdkafka's BROKER. */
static const char *restype_name(rd_kafka_ResourceType_t t) {
    return t == RD_KAFKA_RESOURCE_BROKER ? "CLUSTER" : rd_kafka_ResourceType_name(t);
}

static void print_pattern(rd_kafka_ResourceType_t t, const char *name, rd_kafka_ResourcePatternType_t p) {
    printf("ResourcePattern(resourceType=%s, name=%s, patternType=%s)", restype_name(t),
           name ? name : "<any>", rd_kafka_ResourcePatternType_name(p));
}

static void print_entry(const char *principal, const char *host, rd_kafka_AclOperation_t op,
                        rd_kafka_AclPermissionType_t perm) {
    printf("(principal=%s, host=%s, operation=%s, permissionType=%s)", principal, host,
           rd_kafka_AclOperation_name(op), rd_kafka_AclPermissionType_name(perm));
}

/* ---- what the flags ask for ----------------------------------------------------------------- */

typedef struct resource_s {
    rd_kafka_ResourceType_t type;
    const char *name;
} resource_t;

typedef struct entry_s {
    const char *principal, *host;
    rd_kafka_AclOperation_t op;
    rd_kafka_AclPermissionType_t perm;
} entry_t;

typedef struct plan_s {
    resource_t res[64];
    size_t nres;
    entry_t *ent[64]; /* per resource: malloc'd */
    size_t nent[64];
    rd_kafka_ResourcePatternType_t pattern;
} plan_t;

static void plan_free(plan_t *p) {
    for (size_t i = 0; i < p->nres; i++) free(p->ent[i]);
}

static int add_resource(plan_t *p, rd_kafka_ResourceType_t type, const char *name) {
    for (size_t i = 0; i < p->nres; i++)
        if (p->res[i].type == type && !strcmp(p->res[i].name, name)) return (int)i;
    if (p->nres == sizeof(p->res) / sizeof(p->res[0])) return -1;
    p->res[p->nres] = (resource_t){type, name};
    return (int)p->nres++;
}

static void add_entry(plan_t *p, int r, const char *principal, const char *host, int op,
                      rd_kafka_AclPermissionType_t perm) {
    for (size_t i = 0; i < p->nent[r]; i++) {
        const entry_t *e = &p->ent[r][i];
        if (!strcmp(e->principal, principal) && !strcmp(e->host, host) &&
            e->op == (rd_kafka_AclOperation_t)op && e->perm == perm)
            return;
    }
    p->ent[r] = sa_realloc(p->ent[r], (p->nent[r] + 1) * sizeof(entry_t));
    p->ent[r][p->nent[r]++] = (entry_t){principal, host, (rd_kafka_AclOperation_t)op, perm};
}

/* Every principal x host x op of @p c for resource @p r (the --allow and --deny sides). */
static void add_entries(plan_t *p, const conf_t *c, int r, const int *ops, size_t nops) {
    if (r < 0) return; /* past the resource table's size: make_plan reports it */
    for (int deny = 0; deny < 2; deny++) {
        const sa_strlist_t *pr = deny ? &c->deny_principal : &c->allow_principal;
        const sa_strlist_t *hs = deny ? &c->deny_host : &c->allow_host;
        for (size_t i = 0; i < pr->n; i++)
            for (size_t h = 0; h < (hs->n ? hs->n : 1); h++)
                for (size_t o = 0; o < nops; o++)
                    add_entry(p, r, pr->v[i], hs->n ? hs->v[h] : "*", ops[o],
                              deny ? RD_KAFKA_ACL_PERMISSION_TYPE_DENY : RD_KAFKA_ACL_PERMISSION_TYPE_ALLOW);
    }
}

/* Kafka's AclEntry.supportedOperations, for AclCommand's "only supports operations" check. */
static int supported(rd_kafka_ResourceType_t t, int op) {
    if (op == RD_KAFKA_ACL_OPERATION_ALL) return 1;
    switch (t) {
    case RD_KAFKA_RESOURCE_TOPIC:
        return op == RD_KAFKA_ACL_OPERATION_READ || op == RD_KAFKA_ACL_OPERATION_WRITE ||
               op == RD_KAFKA_ACL_OPERATION_CREATE || op == RD_KAFKA_ACL_OPERATION_DESCRIBE ||
               op == RD_KAFKA_ACL_OPERATION_DELETE || op == RD_KAFKA_ACL_OPERATION_ALTER ||
               op == RD_KAFKA_ACL_OPERATION_DESCRIBE_CONFIGS || op == RD_KAFKA_ACL_OPERATION_ALTER_CONFIGS;
    case RD_KAFKA_RESOURCE_GROUP:
        return op == RD_KAFKA_ACL_OPERATION_READ || op == RD_KAFKA_ACL_OPERATION_DESCRIBE ||
               op == RD_KAFKA_ACL_OPERATION_DELETE;
    case RD_KAFKA_RESOURCE_BROKER:
        return op == RD_KAFKA_ACL_OPERATION_CREATE || op == RD_KAFKA_ACL_OPERATION_CLUSTER_ACTION ||
               op == RD_KAFKA_ACL_OPERATION_DESCRIBE_CONFIGS || op == RD_KAFKA_ACL_OPERATION_ALTER_CONFIGS ||
               op == RD_KAFKA_ACL_OPERATION_IDEMPOTENT_WRITE || op == RD_KAFKA_ACL_OPERATION_ALTER ||
               op == RD_KAFKA_ACL_OPERATION_DESCRIBE;
    default: return 0;
    }
}

/* Build @p p from the flags (--add and --remove). @returns 0, or -1 after a usage error. */
static int make_plan(const conf_t *c, plan_t *p) {
    int ops[16];
    size_t nops = 0;
    for (size_t i = 0; i < c->operation.n; i++) {
        int op = parse_op(c->operation.v[i]);
        if (op < 0 || nops == 16) {
            sa_cli_error(
                CMD,
                "--operation %s: not an operation (All, Read, Write, Create, Delete, Alter, Describe, "
                "ClusterAction, DescribeConfigs, AlterConfigs, IdempotentWrite)",
                c->operation.v[i]);
            return -1;
        }
        ops[nops++] = op;
    }
    if (c->producer || c->consumer) {
        if (c->operation.n) {
            sa_cli_error(CMD, "--operation does not go with --producer or --consumer");
            return -1;
        }
        if (!c->topic.n || (c->consumer && !c->group.n)) {
            sa_cli_error(CMD, "--%s needs --topic%s", c->producer ? "producer" : "consumer",
                         c->consumer ? " and --group" : "");
            return -1;
        }
        for (size_t i = 0; i < c->topic.n; i++) {
            int r = add_resource(p, RD_KAFKA_RESOURCE_TOPIC, c->topic.v[i]);
            int prod[] = {RD_KAFKA_ACL_OPERATION_WRITE, RD_KAFKA_ACL_OPERATION_DESCRIBE,
                          RD_KAFKA_ACL_OPERATION_CREATE};
            int cons[] = {RD_KAFKA_ACL_OPERATION_READ, RD_KAFKA_ACL_OPERATION_DESCRIBE};
            if (r < 0) return -1;
            if (c->producer) add_entries(p, c, r, prod, 3);
            if (c->consumer) add_entries(p, c, r, cons, 2);
        }
        int read = RD_KAFKA_ACL_OPERATION_READ, idem = RD_KAFKA_ACL_OPERATION_IDEMPOTENT_WRITE;
        for (size_t i = 0; c->consumer && i < c->group.n; i++)
            add_entries(p, c, add_resource(p, RD_KAFKA_RESOURCE_GROUP, c->group.v[i]), &read, 1);
        if (c->producer && c->idempotent)
            add_entries(p, c, add_resource(p, RD_KAFKA_RESOURCE_BROKER, "kafka-cluster"), &idem, 1);
        return 0;
    }
    if (!nops) ops[nops++] = RD_KAFKA_ACL_OPERATION_ALL;
    for (size_t i = 0; i < c->topic.n; i++) add_resource(p, RD_KAFKA_RESOURCE_TOPIC, c->topic.v[i]);
    for (size_t i = 0; i < c->group.n; i++) add_resource(p, RD_KAFKA_RESOURCE_GROUP, c->group.v[i]);
    if (c->cluster) add_resource(p, RD_KAFKA_RESOURCE_BROKER, "kafka-cluster");
    for (size_t r = 0; r < p->nres; r++) {
        for (size_t o = 0; o < nops; o++)
            if (!supported(p->res[r].type, ops[o])) {
                sa_cli_error(CMD, "ResourceType %s only supports some operations; %s is not one of them",
                             restype_name(p->res[r].type), op_names[ops[o]]);
                return -1;
            }
        add_entries(p, c, (int)r, ops, nops);
    }
    return 0;
}

static int parse_pattern(const char *s, int list_or_remove) {
    const char *names[] = {"ANY", "MATCH", "LITERAL", "PREFIXED"};
    const int vals[] = {RD_KAFKA_RESOURCE_PATTERN_ANY, RD_KAFKA_RESOURCE_PATTERN_MATCH,
                        RD_KAFKA_RESOURCE_PATTERN_LITERAL, RD_KAFKA_RESOURCE_PATTERN_PREFIXED};
    for (int i = 0; i < 4; i++)
        if (same_word(s, names[i])) return i < 2 && !list_or_remove ? -1 : vals[i];
    return -1;
}

/* ---- the requests ----------------------------------------------------------------------- */

static int refused(rd_kafka_resp_err_t err, const char *what, const char *msg) {
    sa_cli_error(CMD, "%s: %s%s", what, msg && *msg ? msg : rd_kafka_err2str(err),
                 err == RD_KAFKA_RESP_ERR_SECURITY_DISABLED
                     ? " (the broker has no authorizer: set authorizer.class.name)"
                     : "");
    return SA_EXIT_FAIL;
}

/* Print the ACLs of each resource @p filter selects (kafka-acls' "Current ACLs for resource"),
 * only @p principal's if not NULL. @returns an exit code. */
static int list_acls(rd_kafka_t *rk, const conf_t *c, const rd_kafka_AclBindingFilter_t *filter,
                     const char *principal) {
    int rc = SA_EXIT_FAIL;
    rd_kafka_queue_t *q = rd_kafka_queue_new(rk);
    rd_kafka_AdminOptions_t *ao = sa_tools_admin_options(rk, RD_KAFKA_ADMIN_OP_DESCRIBEACLS, &c->conn);
    rd_kafka_DescribeAcls(rk, (rd_kafka_AclBindingFilter_t *)filter, ao, q);
    rd_kafka_event_t *ev = sa_tools_admin_wait(CMD, q, RD_KAFKA_EVENT_DESCRIBEACLS_RESULT, &c->conn);
    if (ev) {
        rd_kafka_resp_err_t err = rd_kafka_event_error(ev);
        if (err) {
            rc = refused(err, "cannot list ACLs", rd_kafka_event_error_string(ev));
        } else {
            size_t n;
            const rd_kafka_AclBinding_t **acls =
                rd_kafka_DescribeAcls_result_acls(rd_kafka_event_DescribeAcls_result(ev), &n);
            uint8_t *done = sa_calloc(n ? n : 1, 1);
            for (size_t i = 0; i < n; i++) {
                if (done[i] || (principal && strcmp(principal, rd_kafka_AclBinding_principal(acls[i]))))
                    continue;
                const rd_kafka_AclBinding_t *a = acls[i];
                printf("Current ACLs for resource `");
                print_pattern(rd_kafka_AclBinding_restype(a), rd_kafka_AclBinding_name(a),
                              rd_kafka_AclBinding_resource_pattern_type(a));
                printf("`:\n");
                int first = 1;
                for (size_t j = i; j < n; j++) {
                    const rd_kafka_AclBinding_t *b = acls[j];
                    if (done[j] || rd_kafka_AclBinding_restype(b) != rd_kafka_AclBinding_restype(a) ||
                        rd_kafka_AclBinding_resource_pattern_type(b) !=
                            rd_kafka_AclBinding_resource_pattern_type(a) ||
                        strcmp(rd_kafka_AclBinding_name(b), rd_kafka_AclBinding_name(a)) ||
                        (principal && strcmp(principal, rd_kafka_AclBinding_principal(b))))
                        continue;
                    done[j] = 1;
                    printf("%s\t", first ? "" : "\n");
                    print_entry(rd_kafka_AclBinding_principal(b), rd_kafka_AclBinding_host(b),
                                rd_kafka_AclBinding_operation(b), rd_kafka_AclBinding_permission_type(b));
                    first = 0;
                }
                printf("\n\n");
            }
            free(done);
            /* librdkafka 2.0 drops DescribeAcls' error code: a refusal (no authorizer, no
             * DESCRIBE on the cluster) reaches us as an empty list, so say so */
            if (!n)
                sa_log_warn(
                    CMD,
                    "no ACLs listed (librdkafka %s reports a refused listing as an empty one: the broker "
                    "may have no authorizer, or deny DESCRIBE on the cluster)",
                    rd_kafka_version_str());
            rc = SA_EXIT_OK;
        }
        rd_kafka_event_destroy(ev);
    }
    rd_kafka_AdminOptions_destroy(ao);
    rd_kafka_queue_destroy(q);
    return rc;
}

static rd_kafka_AclBindingFilter_t *resource_filter(const resource_t *r,
                                                    rd_kafka_ResourcePatternType_t pattern) {
    char errstr[256];
    return rd_kafka_AclBindingFilter_new(
        r ? r->type : RD_KAFKA_RESOURCE_ANY, r ? r->name : NULL, r ? pattern : RD_KAFKA_RESOURCE_PATTERN_ANY,
        NULL, NULL, RD_KAFKA_ACL_OPERATION_ANY, RD_KAFKA_ACL_PERMISSION_TYPE_ANY, errstr, sizeof(errstr));
}

/* After --add or --remove: the ACLs left on each resource of the plan. */
static int list_plan(rd_kafka_t *rk, const conf_t *c, const plan_t *p) {
    int rc = SA_EXIT_OK;
    for (size_t r = 0; r < p->nres && rc == SA_EXIT_OK; r++) {
        rd_kafka_AclBindingFilter_t *f = resource_filter(&p->res[r], p->pattern);
        rc = list_acls(rk, c, f, NULL);
        rd_kafka_AclBinding_destroy(f);
    }
    return rc;
}

static void print_entries(const entry_t *e, size_t n) {
    for (size_t i = 0; i < n; i++) {
        printf("%s\t", i ? "\n" : "");
        print_entry(e[i].principal, e[i].host, e[i].op, e[i].perm);
    }
}

static int do_add(rd_kafka_t *rk, const conf_t *c, const plan_t *p) {
    char errstr[512];
    size_t total = 0;
    for (size_t r = 0; r < p->nres; r++) total += p->nent[r];
    rd_kafka_AclBinding_t **acls = sa_calloc(total ? total : 1, sizeof(*acls));
    size_t k = 0;
    int rc = SA_EXIT_USAGE;
    for (size_t r = 0; r < p->nres; r++) {
        printf("Adding ACLs for resource `");
        print_pattern(p->res[r].type, p->res[r].name, p->pattern);
        printf("`: \n ");
        print_entries(p->ent[r], p->nent[r]);
        printf("\n\n");
        for (size_t i = 0; i < p->nent[r]; i++) {
            const entry_t *e = &p->ent[r][i];
            acls[k] = rd_kafka_AclBinding_new(p->res[r].type, p->res[r].name, p->pattern, e->principal,
                                              e->host, e->op, e->perm, errstr, sizeof(errstr));
            if (!acls[k]) {
                sa_cli_error(CMD, "%s", errstr);
                goto out;
            }
            k++;
        }
    }
    fflush(stdout);
    rc = SA_EXIT_FAIL;
    rd_kafka_queue_t *q = rd_kafka_queue_new(rk);
    rd_kafka_AdminOptions_t *ao = sa_tools_admin_options(rk, RD_KAFKA_ADMIN_OP_CREATEACLS, &c->conn);
    rd_kafka_CreateAcls(rk, acls, k, ao, q);
    rd_kafka_event_t *ev = sa_tools_admin_wait(CMD, q, RD_KAFKA_EVENT_CREATEACLS_RESULT, &c->conn);
    if (ev) {
        size_t n;
        const rd_kafka_acl_result_t **res =
            rd_kafka_CreateAcls_result_acls(rd_kafka_event_CreateAcls_result(ev), &n);
        rc = SA_EXIT_OK;
        for (size_t i = 0; i < n && rc == SA_EXIT_OK; i++) {
            const rd_kafka_error_t *err = rd_kafka_acl_result_error(res[i]);
            if (err) {
                refused(rd_kafka_error_code(err), "cannot add ACLs", rd_kafka_error_string(err));
                rc = rd_kafka_error_code(err) == RD_KAFKA_RESP_ERR_INVALID_REQUEST ? SA_EXIT_USAGE
                                                                                   : SA_EXIT_FAIL;
            }
        }
        rd_kafka_event_destroy(ev);
    }
    rd_kafka_AdminOptions_destroy(ao);
    rd_kafka_queue_destroy(q);
    if (rc == SA_EXIT_OK) rc = list_plan(rk, c, p);
out:
    for (size_t i = 0; i < k; i++) rd_kafka_AclBinding_destroy(acls[i]);
    free(acls);
    return rc;
}

/* kafka-acls asks before removing; --force (or a non-interactive "y") says yes. */
static int confirm(const conf_t *c, const plan_t *p, size_t r) {
    if (c->force) return 1;
    if (p->nent[r]) {
        printf("Are you sure you want to remove ACLs: \n ");
        print_entries(p->ent[r], p->nent[r]);
        printf("\n from resource filter `");
    } else {
        printf("Are you sure you want to delete all ACLs for resource filter `");
    }
    print_pattern(p->res[r].type, p->res[r].name, p->pattern);
    printf("`? (y/n)\n");
    fflush(stdout);
    char line[16];
    return fgets(line, sizeof(line), stdin) && (line[0] == 'y' || line[0] == 'Y');
}

static int do_remove(rd_kafka_t *rk, const conf_t *c, const plan_t *p) {
    int rc = SA_EXIT_OK;
    char errstr[512];
    for (size_t r = 0; r < p->nres && rc == SA_EXIT_OK; r++) {
        if (!confirm(c, p, r)) continue;
        size_t nf = p->nent[r] ? p->nent[r] : 1;
        rd_kafka_AclBindingFilter_t **f = sa_calloc(nf, sizeof(*f));
        for (size_t i = 0; i < nf; i++) {
            const entry_t *e = p->nent[r] ? &p->ent[r][i] : NULL;
            f[i] = rd_kafka_AclBindingFilter_new(
                p->res[r].type, p->res[r].name, p->pattern, e ? e->principal : NULL, e ? e->host : NULL,
                e ? e->op : RD_KAFKA_ACL_OPERATION_ANY, e ? e->perm : RD_KAFKA_ACL_PERMISSION_TYPE_ANY,
                errstr, sizeof(errstr));
        }
        rd_kafka_queue_t *q = rd_kafka_queue_new(rk);
        rd_kafka_AdminOptions_t *ao = sa_tools_admin_options(rk, RD_KAFKA_ADMIN_OP_DELETEACLS, &c->conn);
        rd_kafka_DeleteAcls(rk, f, nf, ao, q);
        rd_kafka_event_t *ev = sa_tools_admin_wait(CMD, q, RD_KAFKA_EVENT_DELETEACLS_RESULT, &c->conn);
        rc = ev ? SA_EXIT_OK : SA_EXIT_FAIL;
        if (ev) {
            size_t n;
            const rd_kafka_DeleteAcls_result_response_t **res =
                rd_kafka_DeleteAcls_result_responses(rd_kafka_event_DeleteAcls_result(ev), &n);
            for (size_t i = 0; i < n && rc == SA_EXIT_OK; i++) {
                const rd_kafka_error_t *err = rd_kafka_DeleteAcls_result_response_error(res[i]);
                if (err)
                    rc = refused(rd_kafka_error_code(err), "cannot remove ACLs", rd_kafka_error_string(err));
            }
            rd_kafka_event_destroy(ev);
        }
        rd_kafka_AdminOptions_destroy(ao);
        rd_kafka_queue_destroy(q);
        for (size_t i = 0; i < nf; i++) rd_kafka_AclBinding_destroy(f[i]);
        free(f);
    }
    return rc == SA_EXIT_OK ? list_plan(rk, c, p) : rc;
}

static int do_list(rd_kafka_t *rk, const conf_t *c, const plan_t *p) {
    int rc = SA_EXIT_OK;
    const char *principal = c->principal.n ? c->principal.v[0] : NULL;
    if (principal) printf("ACLs for principal `%s`\n", principal);
    if (!p->nres) { /* every ACL */
        rd_kafka_AclBindingFilter_t *f = resource_filter(NULL, p->pattern);
        rc = list_acls(rk, c, f, principal);
        rd_kafka_AclBinding_destroy(f);
        return rc;
    }
    for (size_t r = 0; r < p->nres && rc == SA_EXIT_OK; r++) {
        rd_kafka_AclBindingFilter_t *f = resource_filter(&p->res[r], p->pattern);
        rc = list_acls(rk, c, f, principal);
        rd_kafka_AclBinding_destroy(f);
    }
    return rc;
}

static int acls_main(int argc, char **argv) {
    conf_t c = {0};
    plan_t p = {0};
    rd_kafka_t *rk = NULL;
    static const sa_client_role_t role = {"admin client", SA_CLIENT_ADMIN, NULL, NULL};
    int first, rc = sa_cli_parse(&spec, &c, argc, argv, &first);
    if (rc >= 0) goto out;
    if ((rc = sa_tools_setup(CMD, &c.conn, &role, 1)) >= 0) goto out;
    rc = SA_EXIT_USAGE;
    if (first < argc) {
        sa_cli_error(CMD, "unexpected argument \"%s\"", argv[first]);
        goto out;
    }
    if (c.add + c.remove + c.list != 1) {
        sa_cli_error(CMD, "give exactly one of --add, --remove and --list");
        goto out;
    }
    if (c.transactional_id.n) {
        sa_cli_error(CMD,
                     "--transactional-id: librdkafka %s's admin API has no TRANSACTIONAL_ID resource; use "
                     "Kafka's kafka-acls.sh for those ACLs",
                     rd_kafka_version_str());
        goto out;
    }
    int pattern = parse_pattern(c.pattern_type, !c.add);
    if (pattern < 0) {
        sa_cli_error(CMD, "--resource-pattern-type %s: expected LITERAL or PREFIXED%s", c.pattern_type,
                     c.add ? "" : " (or ANY, MATCH)");
        goto out;
    }
    p.pattern = (rd_kafka_ResourcePatternType_t)pattern;
    if (c.list) {
        for (size_t i = 0; i < c.topic.n; i++) add_resource(&p, RD_KAFKA_RESOURCE_TOPIC, c.topic.v[i]);
        for (size_t i = 0; i < c.group.n; i++) add_resource(&p, RD_KAFKA_RESOURCE_GROUP, c.group.v[i]);
        if (c.cluster) add_resource(&p, RD_KAFKA_RESOURCE_BROKER, "kafka-cluster");
    } else {
        if (!c.topic.n && !c.group.n && !c.cluster) {
            sa_cli_error(CMD, "give a resource: --topic, --group or --cluster");
            goto out;
        }
        if (c.add && !c.allow_principal.n && !c.deny_principal.n) {
            sa_cli_error(CMD, "--add needs --allow-principal or --deny-principal");
            goto out;
        }
        if ((c.allow_host.n && !c.allow_principal.n) || (c.deny_host.n && !c.deny_principal.n)) {
            sa_cli_error(CMD, "--allow-host and --deny-host go with --allow-principal and --deny-principal");
            goto out;
        }
        if (make_plan(&c, &p)) goto out;
    }
    rc = SA_EXIT_FAIL;
    if (!(rk = sa_tools_connect(CMD, &c.conn, &role, NULL, NULL))) goto out;
    rc = c.add ? do_add(rk, &c, &p) : c.remove ? do_remove(rk, &c, &p) : do_list(rk, &c, &p);
    if (fflush(stdout) || ferror(stdout)) rc = SA_EXIT_FAIL;
out:
    plan_free(&p);
    if (rk) rd_kafka_destroy(rk);
    sa_client_opts_free(&c.conn.client);
    sa_cfg_free(opts, &c);
    return rc;
}

const sa_command_t sa_cmd_acls = {"acls", "add, remove and list ACLs (kafka-acls)", acls_main, &spec};
