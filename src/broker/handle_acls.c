/*
 * handle_acls.c - CreateAcls (key 30), DescribeAcls (key 29), DeleteAcls (key 31), v0-3: the ACL
 * bindings of acl.h, as Kafka's AclApis serves them.
 *
 * Without an authorizer (authorizer.class.name empty) every binding or filter is answered
 * SECURITY_DISABLED, as Kafka answers. With one, CreateAcls and DeleteAcls need ALTER on the
 * cluster and DescribeAcls DESCRIBE (dispatch.c's column): CLUSTER_AUTHORIZATION_FAILED per
 * creation, per filter, or for the whole DescribeAcls.
 *
 * Durability: a creation or deletion is in force as soon as it is appended to the metadata log
 * and answered once durable (sa_kit_answer_when_durable, waiting for the last record appended so
 * far: a creation of a binding another request just added is not answered before that one is
 * durable). If the group commit fails, the log forgets the records and so does memory; the
 * request is then answered KAFKA_STORAGE_ERROR for every entry that had succeeded.
 *
 * DeleteAcls, like Kafka's controller, matches every filter against the bindings as they were
 * before the request: a binding two filters select is reported under both and deleted once.
 *
 * Strings from the wire holding a NUL byte are refused (INVALID_REQUEST): as C strings they would
 * stand for their prefix, and a filter must never select what it does not name.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "broker/handlers.h"
#include "broker/kit.h"
#include "core/log.h"

/* The error that answers every entry before any work: no authorizer, or not allowed. */
static sa_err_t gate(sa_req_t *req) {
    if (!sa_authz_enabled(req)) return SA_ERR_SECURITY_DISABLED;
    return sa_kit_authorize_cluster(req);
}

static const char *gate_message(sa_err_t err) {
    return err == SA_ERR_SECURITY_DISABLED ? "No Authorizer is configured." : NULL;
}

/* *out = @p s as a C string in the arena (NULL for a null string when @p nullable).
 * @returns SA_OK or INVALID_REQUEST (a NUL byte inside, or null where not allowed). */
static sa_err_t wire_cstr(sa_req_t *req, sa_str_t s, int nullable, const char **out) {
    *out = NULL;
    if (sa_str_is_null(s)) return nullable ? SA_OK : SA_ERR_INVALID_REQUEST;
    if (s.len > 0 && memchr(s.ptr, 0, (size_t)s.len)) return SA_ERR_INVALID_REQUEST;
    *out = sa_kit_str(req, s);
    return SA_OK;
}

/* A filter from DescribeAcls or DeleteAcls (the same fields in both). */
static sa_err_t wire_filter(sa_req_t *req, int8_t type, sa_str_t name, int8_t pattern, sa_str_t principal,
                            sa_str_t host, int8_t op, int8_t perm, sa_acl_binding_t *f, char *errstr,
                            size_t errstr_size) {
    *f = (sa_acl_binding_t){type, pattern, op, perm, NULL, NULL, NULL};
    if (wire_cstr(req, name, 1, &f->name) || wire_cstr(req, principal, 1, &f->principal) ||
        wire_cstr(req, host, 1, &f->host)) {
        snprintf(errstr, errstr_size, "a filter string holds a NUL byte");
        return SA_ERR_INVALID_REQUEST;
    }
    return sa_acl_check_filter(f, errstr, errstr_size);
}

static void log_change(sa_req_t *req, const char *what, const sa_acl_binding_t *b) {
    sa_log_info("acl", "%s %s %s on %s:%s:%s for %s from host %s (by %s, client \"%s\")", what,
                sa_acl_perm_name(b->permission), sa_acl_op_name(b->operation),
                sa_acl_resource_name(b->resource_type), sa_acl_pattern_name(b->pattern_type), b->name,
                b->principal, b->host, sa_authz_principal(req), req->ClientId);
}

/* ---- CreateAcls --------------------------------------------------------------------------- */

static sa_err_t create_answer(sa_req_t *req, void *arg, int durable) {
    sa_CreateAclsResponse_t *out = arg;
    for (int32_t i = 0; !durable && i < out->Results_count; i++)
        if (!out->Results[i].ErrorCode)
            SA_KIT_SET_ERROR(req, &out->Results[i], SA_ERR_KAFKA_STORAGE_ERROR, NULL);
    return sa_kit_encode(req, out);
}

sa_err_t sa_handle_CreateAcls(sa_req_t *req) {
    sa_CreateAclsRequest_t in;
    sa_err_t err = sa_kit_decode(req, &in);
    if (err != SA_OK) return err;
    sa_CreateAclsResponse_t *out = sa_arena_calloc(&req->arena, 1, sizeof(*out));
    if (!out) return SA_ERR_TOOBIG;
    sa_CreateAclsResponse_init(out);
    if (!SA_KIT_ARRAY(req, out->Results, in.Creations_count)) return SA_ERR_TOOBIG;
    sa_acls_t *acls = req->broker->metastore.acls;
    sa_err_t denied = gate(req);
    for (int32_t i = 0; i < out->Results_count; i++) {
        const sa_CreateAclsRequest_AclCreation_t *c = &in.Creations[i];
        sa_CreateAclsResponse_AclCreationResult_init(&out->Results[i]);
        char errstr[256] = "";
        sa_acl_binding_t b = {
            c->ResourceType, c->ResourcePatternType, c->Operation, c->PermissionType, NULL, NULL, NULL};
        err = denied;
        if (!err && (wire_cstr(req, c->ResourceName, 0, &b.name) ||
                     wire_cstr(req, c->Principal, 0, &b.principal) || wire_cstr(req, c->Host, 0, &b.host))) {
            err = SA_ERR_INVALID_REQUEST;
            snprintf(errstr, sizeof(errstr), "a null string, or one holding a NUL byte");
        }
        if (!err) err = sa_acl_check_binding(&b, errstr, sizeof(errstr));
        uint64_t seq = 0;
        if (!err) err = sa_acls_create(acls, &b, &seq);
        if (!err && seq) log_change(req, "added", &b);
        SA_KIT_SET_ERROR(req, &out->Results[i], err, errstr[0] ? errstr : gate_message(err));
    }
    return sa_kit_answer_when_durable(req, sa_metalog_last_seq(req->broker->metastore.log), create_answer,
                                      out);
}

/* ---- DescribeAcls ------------------------------------------------------------------------- */

typedef sa_DescribeAclsResponse_DescribeAclsResource_t dres_t;
typedef sa_DescribeAclsResponse_AclDescription_t ddesc_t;

typedef struct describe_s {
    dres_t *res; /* malloc'd: at most one per binding */
    ddesc_t *desc;
    int32_t nres, ndesc;
} describe_t;

/* Bindings of one resource pattern come one after another (acl.h): a new pattern opens a new
 * resource entry, the rest go under it. */
static void describe_one(void *arg, const sa_acl_binding_t *b) {
    describe_t *d = arg;
    dres_t *last = d->nres ? &d->res[d->nres - 1] : NULL;
    if (!last || last->ResourceType != b->resource_type || last->PatternType != b->pattern_type ||
        strcmp(last->ResourceName.ptr, b->name)) {
        last = &d->res[d->nres++];
        sa_DescribeAclsResponse_DescribeAclsResource_init(last);
        last->ResourceType = b->resource_type;
        last->PatternType = b->pattern_type;
        last->ResourceName = sa_str(b->name); /* NUL-terminated: strcmp above is safe */
        last->Acls = &d->desc[d->ndesc];
    }
    ddesc_t *e = &d->desc[d->ndesc++];
    sa_DescribeAclsResponse_AclDescription_init(e);
    e->Principal = sa_str(b->principal);
    e->Host = sa_str(b->host);
    e->Operation = b->operation;
    e->PermissionType = b->permission;
    last->Acls_count++;
}

sa_err_t sa_handle_DescribeAcls(sa_req_t *req) {
    sa_DescribeAclsRequest_t in;
    sa_err_t err = sa_kit_decode(req, &in);
    if (err != SA_OK) return err;
    sa_DescribeAclsResponse_t out;
    sa_DescribeAclsResponse_init(&out);
    char errstr[256] = "";
    sa_acl_binding_t f;
    const sa_acls_t *acls = req->broker->metastore.acls;
    describe_t d = {0};
    err = gate(req);
    if (!err)
        err = wire_filter(req, in.ResourceTypeFilter, in.ResourceNameFilter, in.PatternTypeFilter,
                          in.PrincipalFilter, in.HostFilter, in.Operation, in.PermissionType, &f, errstr,
                          sizeof(errstr));
    if (!err) {
        size_t n = sa_acls_list(acls, &f, NULL, NULL);
        d.res = calloc(n ? n : 1, sizeof(*d.res));
        d.desc = calloc(n ? n : 1, sizeof(*d.desc));
        if (!d.res || !d.desc) {
            err = SA_ERR_NOMEM;
        } else {
            sa_acls_list(acls, &f, describe_one, &d);
            out.Resources = d.res;
            out.Resources_count = d.nres;
        }
    }
    SA_KIT_SET_ERROR(req, &out, err, errstr[0] ? errstr : gate_message(err));
    sa_err_t enc = err == SA_ERR_NOMEM ? err : sa_kit_encode(req, &out);
    free(d.res);
    free(d.desc);
    return enc;
}

/* ---- DeleteAcls --------------------------------------------------------------------------- */

typedef sa_DeleteAclsResponse_DeleteAclsFilterResult_t fresult_t;
typedef sa_DeleteAclsResponse_DeleteAclsMatchingAcl_t match_t;

typedef struct delete_s {
    sa_req_t *req;
    fresult_t *fr; /* the filter's result being filled */
    int32_t cap;
    int failed; /* out of arena */
} delete_t;

/* Copy a selected binding into the filter's result: it is deleted before the answer is encoded. */
static void delete_match(void *arg, const sa_acl_binding_t *b) {
    delete_t *d = arg;
    if (d->failed || d->fr->MatchingAcls_count >= d->cap) return;
    match_t *m = &d->fr->MatchingAcls[d->fr->MatchingAcls_count];
    sa_DeleteAclsResponse_DeleteAclsMatchingAcl_init(m);
    char *name = sa_arena_strndup(&d->req->arena, b->name, strlen(b->name));
    char *principal = sa_arena_strndup(&d->req->arena, b->principal, strlen(b->principal));
    char *host = sa_arena_strndup(&d->req->arena, b->host, strlen(b->host));
    if (!name || !principal || !host) {
        d->failed = 1;
        return;
    }
    m->ResourceType = b->resource_type;
    m->PatternType = b->pattern_type;
    m->ResourceName = sa_str(name);
    m->Principal = sa_str(principal);
    m->Host = sa_str(host);
    m->Operation = b->operation;
    m->PermissionType = b->permission;
    d->fr->MatchingAcls_count++;
}

static void delete_log(void *arg, const sa_acl_binding_t *b) { log_change(arg, "removing", b); }

static sa_err_t delete_answer(sa_req_t *req, void *arg, int durable) {
    sa_DeleteAclsResponse_t *out = arg;
    for (int32_t i = 0; !durable && i < out->FilterResults_count; i++)
        if (!out->FilterResults[i].ErrorCode && out->FilterResults[i].MatchingAcls_count)
            SA_KIT_SET_ERROR(req, &out->FilterResults[i], SA_ERR_KAFKA_STORAGE_ERROR, NULL);
    return sa_kit_encode(req, out);
}

sa_err_t sa_handle_DeleteAcls(sa_req_t *req) {
    sa_DeleteAclsRequest_t in;
    sa_err_t err = sa_kit_decode(req, &in);
    if (err != SA_OK) return err;
    sa_DeleteAclsResponse_t *out = sa_arena_calloc(&req->arena, 1, sizeof(*out));
    if (!out) return SA_ERR_TOOBIG;
    sa_DeleteAclsResponse_init(out);
    if (!SA_KIT_ARRAY(req, out->FilterResults, in.Filters_count)) return SA_ERR_TOOBIG;
    sa_acls_t *acls = req->broker->metastore.acls;
    sa_acl_binding_t *filters =
        sa_arena_calloc(&req->arena, (size_t)out->FilterResults_count, sizeof(*filters));
    if (!filters && out->FilterResults_count) return SA_ERR_TOOBIG;
    sa_err_t denied = gate(req);
    /* 1: what each filter selects now */
    for (int32_t i = 0; i < out->FilterResults_count; i++) {
        const sa_DeleteAclsRequest_DeleteAclsFilter_t *f = &in.Filters[i];
        fresult_t *fr = &out->FilterResults[i];
        sa_DeleteAclsResponse_DeleteAclsFilterResult_init(fr);
        char errstr[256] = "";
        err = denied;
        if (!err)
            err = wire_filter(req, f->ResourceTypeFilter, f->ResourceNameFilter, f->PatternTypeFilter,
                              f->PrincipalFilter, f->HostFilter, f->Operation, f->PermissionType, &filters[i],
                              errstr, sizeof(errstr));
        if (!err) {
            size_t n = sa_acls_list(acls, &filters[i], NULL, NULL);
            delete_t d = {req, fr, (int32_t)n, 0};
            if (!SA_KIT_ARRAY(req, fr->MatchingAcls, (int32_t)n)) return SA_ERR_TOOBIG;
            fr->MatchingAcls_count = 0;
            sa_acls_list(acls, &filters[i], delete_match, &d);
            if (d.failed) return SA_ERR_TOOBIG;
        }
        SA_KIT_SET_ERROR(req, fr, err, errstr[0] ? errstr : gate_message(err));
    }
    /* 2: delete */
    for (int32_t i = 0; i < out->FilterResults_count; i++) {
        fresult_t *fr = &out->FilterResults[i];
        if (fr->ErrorCode || !fr->MatchingAcls_count) continue;
        sa_acls_list(acls, &filters[i], delete_log, req);
        uint64_t seq;
        err = sa_acls_delete(acls, &filters[i], &seq);
        if (err) SA_KIT_SET_ERROR(req, fr, err, NULL);
    }
    return sa_kit_answer_when_durable(req, sa_metalog_last_seq(req->broker->metastore.log), delete_answer,
                                      out);
}
