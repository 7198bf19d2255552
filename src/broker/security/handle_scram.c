/*
 * handle_scram.c - DescribeUserScramCredentials (key 50) and AlterUserScramCredentials (key 51),
 * as Kafka's KRaft controller answers them (ScramControlManager), over scram_store.h.
 *
 * Describe: no users (null or empty) = every user with a credential, by name; a name asked twice:
 * DUPLICATE_RESOURCE on each copy; an unknown user: RESOURCE_NOT_FOUND. Only mechanism and
 * iterations leave the broker, never salts or keys.
 *
 * Alter: deletions and upsertions are judged per user; a user with any bad alteration gets that
 * error and none of its alterations apply, the other users' do:
 *   empty name                              UNACCEPTABLE_CREDENTIAL "Username must not be empty"
 *   mechanism not 1 or 2                    UNSUPPORTED_SASL_MECHANISM "Unknown SCRAM mechanism"
 *   the same user and mechanism twice       DUPLICATE_RESOURCE
 *   iterations < 4096 / > 16384             UNACCEPTABLE_CREDENTIAL "Too few/many iterations"
 *   empty or oversized salt, salted password not of the hash's length  UNACCEPTABLE_CREDENTIAL
 *   deleting a credential that is not there RESOURCE_NOT_FOUND
 * Both need the cluster operation dispatch.c's table names (DESCRIBE, ALTER), checked through the
 * kit: CLUSTER_AUTHORIZATION_FAILED for the request (Describe) or every user (Alter).
 * The answer waits until the records are durable (a failed sync: KAFKA_STORAGE_ERROR for the
 * users whose records it lost, and the store forgets them with the replay).
 */
#include <stdio.h>
#include <string.h>

#include "broker/handlers.h"
#include "broker/kit.h"
#include "broker/security/scram_store.h"
#include "core/log.h"
#include "proto/proto.h"

typedef sa_DescribeUserScramCredentialsResponse_DescribeUserScramCredentialsResult_t dresult_t;
typedef sa_AlterUserScramCredentialsResponse_AlterUserScramCredentialsResult_t aresult_t;
typedef sa_AlterUserScramCredentialsRequest_ScramCredentialDeletion_t deletion_t;
typedef sa_AlterUserScramCredentialsRequest_ScramCredentialUpsertion_t upsertion_t;

static int str_eq(sa_str_t a, sa_str_t b) {
    return a.len == b.len && (a.len <= 0 || !memcmp(a.ptr, b.ptr, (size_t)a.len));
}

static void describe_user(sa_req_t *req, const char *name, dresult_t *r) {
    const sa_scram_store_t *st = req->broker->metastore.scram;
    int n = 0;
    sa_DescribeUserScramCredentialsResponse_CredentialInfo_t *infos =
        sa_arena_calloc(&req->arena, 2, sizeof(*infos));
    for (int m = SA_SCRAM_SHA_256; infos && m <= SA_SCRAM_SHA_512; m++) {
        const sa_scram_cred_t *c = sa_scram_store_find(st, name, (sa_scram_mech_t)m);
        if (!c) continue;
        infos[n].Mechanism = (int8_t)m;
        infos[n].Iterations = c->iterations;
        n++;
    }
    r->User = sa_str(name);
    if (!n) {
        r->ErrorCode = SA_ERR_RESOURCE_NOT_FOUND;
        r->ErrorMessage = sa_str("Attempt to describe a user credential that does not exist");
    }
    r->CredentialInfos = infos;
    r->CredentialInfos_count = n;
}

sa_err_t sa_handle_DescribeUserScramCredentials(sa_req_t *req) {
    sa_DescribeUserScramCredentialsRequest_t in;
    sa_err_t err = sa_kit_decode(req, &in);
    if (err != SA_OK) return err;
    const sa_scram_store_t *st = req->broker->metastore.scram;
    sa_DescribeUserScramCredentialsResponse_t out;
    sa_DescribeUserScramCredentialsResponse_init(&out);
    out.ErrorMessage = SA_STR_NULL;
    err = sa_kit_authorize_cluster(req); /* DESCRIBE on the cluster, as Kafka */
    if (err != SA_OK) {
        SA_KIT_SET_ERROR(req, &out, err, NULL);
        return sa_kit_encode(req, &out);
    }
    int all = in.Users_count <= 0;
    size_t n = all ? sa_scram_store_count(st) : (size_t)in.Users_count;
    out.Results = sa_arena_calloc(&req->arena, n ? n : 1, sizeof(*out.Results));
    if (!out.Results) return SA_ERR_TOOBIG;
    out.Results_count = (int32_t)n;
    for (size_t i = 0; i < n; i++) {
        dresult_t *r = &out.Results[i];
        sa_DescribeUserScramCredentialsResponse_DescribeUserScramCredentialsResult_init(r);
        r->ErrorMessage = SA_STR_NULL;
        if (all) {
            describe_user(req, sa_scram_store_user(st, i), r);
            continue;
        }
        int dup = 0;
        for (size_t j = 0; j < n && !dup; j++) dup = j != i && str_eq(in.Users[i].Name, in.Users[j].Name);
        if (dup) {
            r->User = in.Users[i].Name;
            r->ErrorCode = SA_ERR_DUPLICATE_RESOURCE;
            r->ErrorMessage =
                sa_str("Cannot describe SCRAM credentials for the same user twice in a single request");
            continue;
        }
        describe_user(req, sa_kit_str(req, in.Users[i].Name), r);
    }
    return sa_kit_encode(req, &out);
}

/* ---- alter ---- */

typedef struct alter_s {
    sa_AlterUserScramCredentialsResponse_t out;
    uint64_t *seqs; /* per result: the last record appended for that user (0: none) */
} alter_t;

static sa_err_t alter_answer(sa_req_t *req, void *arg, int durable) {
    alter_t *a = arg;
    for (int32_t i = 0; i < a->out.Results_count; i++) {
        aresult_t *r = &a->out.Results[i];
        if (r->ErrorCode || !a->seqs[i] ||
            (durable && sa_metalog_durable(req->broker->metastore.log, a->seqs[i])))
            continue;
        r->ErrorCode = SA_ERR_KAFKA_STORAGE_ERROR;
        r->ErrorMessage = sa_str("the metadata log could not be synced; the change was not kept");
    }
    return sa_kit_encode(req, &a->out);
}

/* The first error among @p user's alterations (SA_OK: all valid), with its message. */
static sa_err_t judge_user(sa_req_t *req, const sa_AlterUserScramCredentialsRequest_t *in, sa_str_t user,
                           const char **msg) {
    const sa_scram_store_t *st = req->broker->metastore.scram;
    int total = in->Deletions_count + in->Upsertions_count;
    if (user.len <= 0) {
        *msg = "Username must not be empty";
        return SA_ERR_UNACCEPTABLE_CREDENTIAL;
    }
    const char *name = sa_kit_str(req, user);
    for (int i = 0; i < total; i++) {
        int is_del = i < in->Deletions_count;
        const deletion_t *d = is_del ? &in->Deletions[i] : NULL;
        const upsertion_t *u = is_del ? NULL : &in->Upsertions[i - in->Deletions_count];
        sa_str_t nm = is_del ? d->Name : u->Name;
        int8_t mech = is_del ? d->Mechanism : u->Mechanism;
        if (!str_eq(nm, user)) continue;
        if (!sa_scram_key_len((sa_scram_mech_t)mech)) {
            *msg = "Unknown SCRAM mechanism";
            return SA_ERR_UNSUPPORTED_SASL_MECHANISM;
        }
        for (int j = i + 1; j < total; j++) {
            int jd = j < in->Deletions_count;
            sa_str_t nj = jd ? in->Deletions[j].Name : in->Upsertions[j - in->Deletions_count].Name;
            int8_t mj = jd ? in->Deletions[j].Mechanism : in->Upsertions[j - in->Deletions_count].Mechanism;
            if (str_eq(nj, user) && mj == mech) {
                *msg = "A user credential cannot be altered twice in the same request";
                return SA_ERR_DUPLICATE_RESOURCE;
            }
        }
        if (is_del) {
            if (!sa_scram_store_find(st, name, (sa_scram_mech_t)mech)) {
                *msg = "Attempt to delete a user credential that does not exist";
                return SA_ERR_RESOURCE_NOT_FOUND;
            }
            continue;
        }
        if (u->Iterations < SA_SCRAM_MIN_ITERATIONS) {
            *msg = "Too few iterations";
            return SA_ERR_UNACCEPTABLE_CREDENTIAL;
        }
        if (u->Iterations > SA_SCRAM_MAX_ITERATIONS) {
            *msg = "Too many iterations";
            return SA_ERR_UNACCEPTABLE_CREDENTIAL;
        }
        if (u->Salt.len <= 0 || u->Salt.len > SA_SCRAM_SALT_MAX ||
            u->SaltedPassword.len != (int32_t)sa_scram_key_len((sa_scram_mech_t)mech)) {
            *msg = "The salt must be 1 to 128 bytes and the salted password as long as the mechanism's hash";
            return SA_ERR_UNACCEPTABLE_CREDENTIAL;
        }
    }
    return SA_OK;
}

/* Apply @p user's alterations (judged valid). @returns SA_OK with *seq, or the log's error. */
static sa_err_t apply_user(sa_req_t *req, const sa_AlterUserScramCredentialsRequest_t *in, sa_str_t user,
                           uint64_t *seq) {
    sa_scram_store_t *st = req->broker->metastore.scram;
    const char *name = sa_kit_str(req, user);
    sa_err_t err = SA_OK;
    for (int32_t i = 0; i < in->Deletions_count && !err; i++)
        if (str_eq(in->Deletions[i].Name, user))
            err = sa_scram_store_delete(st, name, (sa_scram_mech_t)in->Deletions[i].Mechanism, seq);
    for (int32_t i = 0; i < in->Upsertions_count && !err; i++) {
        const upsertion_t *u = &in->Upsertions[i];
        if (!str_eq(u->Name, user)) continue;
        sa_scram_cred_t cred;
        if (sa_scram_cred_from_salted(&cred, (sa_scram_mech_t)u->Mechanism, u->Iterations, u->Salt.ptr,
                                      (size_t)u->Salt.len, u->SaltedPassword.ptr,
                                      (size_t)u->SaltedPassword.len))
            err = SA_ERR_UNKNOWN_SERVER_ERROR;
        else
            err = sa_scram_store_upsert(st, name, &cred, seq);
        sa_log_info("auth", "%s: %s credential of user \"%s\" %s (%d iterations)", sa_req_peer(req),
                    sa_scram_mech_name(u->Mechanism), name, err ? "NOT set" : "set", (int)u->Iterations);
    }
    return err;
}

sa_err_t sa_handle_AlterUserScramCredentials(sa_req_t *req) {
    sa_AlterUserScramCredentialsRequest_t in;
    sa_err_t err = sa_kit_decode(req, &in);
    if (err != SA_OK) return err;
    sa_err_t authz = sa_kit_authorize_cluster(req); /* ALTER on the cluster, as Kafka */
    if (in.Deletions_count < 0) in.Deletions_count = 0;
    if (in.Upsertions_count < 0) in.Upsertions_count = 0;
    int total = in.Deletions_count + in.Upsertions_count;
    alter_t *a = sa_arena_calloc(&req->arena, 1, sizeof(*a));
    sa_str_t *users = sa_arena_calloc(&req->arena, (size_t)total + 1, sizeof(*users));
    if (!a || !users) return SA_ERR_TOOBIG;
    int nusers = 0;
    for (int i = 0; i < total; i++) {
        sa_str_t nm =
            i < in.Deletions_count ? in.Deletions[i].Name : in.Upsertions[i - in.Deletions_count].Name;
        int seen = 0;
        for (int j = 0; j < nusers && !seen; j++) seen = str_eq(users[j], nm);
        if (!seen) users[nusers++] = nm;
    }
    sa_AlterUserScramCredentialsResponse_init(&a->out);
    a->out.Results = sa_arena_calloc(&req->arena, (size_t)nusers + 1, sizeof(*a->out.Results));
    a->seqs = sa_arena_calloc(&req->arena, (size_t)nusers + 1, sizeof(*a->seqs));
    if (!a->out.Results || !a->seqs) return SA_ERR_TOOBIG;
    a->out.Results_count = nusers;
    uint64_t last = 0;
    for (int i = 0; i < nusers; i++) {
        aresult_t *r = &a->out.Results[i];
        sa_AlterUserScramCredentialsResponse_AlterUserScramCredentialsResult_init(r);
        r->User = users[i];
        r->ErrorMessage = SA_STR_NULL; /* as Kafka: null unless there is an error */
        const char *msg = NULL;
        err = authz;
        if (err == SA_OK) err = judge_user(req, &in, users[i], &msg);
        if (err == SA_OK) {
            err = apply_user(req, &in, users[i], &a->seqs[i]);
            if (err) msg = "the metadata log refused the change";
            if (a->seqs[i] > last) last = a->seqs[i];
        }
        if (err) SA_KIT_SET_ERROR(req, r, err, msg);
    }
    return sa_kit_answer_when_durable(req, last, alter_answer, a);
}
