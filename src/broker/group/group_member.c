/*
 * group_member.c - the calls a member makes between rebalances: SyncGroup (the leader hands in
 * the assignment, followers wait for it), Heartbeat, LeaveGroup, and the membership check of an
 * OffsetCommit. Error choices follow Kafka's GroupCoordinator, since clients key their recovery
 * on them: UNKNOWN_MEMBER_ID makes a client rejoin from scratch, ILLEGAL_GENERATION and
 * REBALANCE_IN_PROGRESS make it rejoin with its id, FENCED_INSTANCE_ID is fatal for it.
 */
#include <stdlib.h>
#include <string.h>

#include "broker/group/group_int.h"
#include "core/log.h"
#include "core/mem.h"

/* The checks every member call starts with. @returns NONE and the member in *out, or the error. */
static sa_err_t find_member(const group_t *grp, const char *member_id, const char *instance_id,
                            gmember_t **out) {
    *out = NULL;
    if (!grp || grp->state == SA_GROUP_DEAD)
        return grp ? SA_ERR_COORDINATOR_NOT_AVAILABLE : SA_ERR_UNKNOWN_MEMBER_ID;
    return gc_member_check(grp, member_id, instance_id, out);
}

static void answer_sync(sa_group_sync_cb *cb, void *opaque, sa_err_t err, const group_t *grp,
                        const gmember_t *mem) {
    sa_group_sync_result_t res = {.ErrorCode = err};
    if (!err) {
        res.ProtocolType = grp->protocol_type;
        res.ProtocolName = grp->protocol_name;
        res.Assignment = mem->assignment;
        res.AssignmentLen = mem->assignment_len;
    }
    cb(opaque, &res);
}

static void sync_request(sa_gcoord_t *coord, const sa_group_sync_req_t *req, int64_t now_ms,
                         sa_group_sync_cb *cb, void *opaque) {
    group_t *grp = req->GroupId ? gc_group_get(coord, req->GroupId) : NULL;
    gmember_t *mem;
    sa_err_t err = find_member(grp, req->MemberId, req->GroupInstanceId, &mem);
    if (!err && req->GenerationId != grp->generation) err = SA_ERR_ILLEGAL_GENERATION;
    if (!err && ((req->ProtocolType && grp->protocol_type && strcmp(req->ProtocolType, grp->protocol_type)) ||
                 (req->ProtocolName && grp->protocol_name && strcmp(req->ProtocolName, grp->protocol_name))))
        err = SA_ERR_INCONSISTENT_GROUP_PROTOCOL;
    if (err) {
        answer_sync(cb, opaque, err, grp, NULL);
        return;
    }
    mem->expires_ms = now_ms + mem->session_timeout_ms;
    switch (grp->state) {
    case SA_GROUP_PREPARING_REBALANCE:
        answer_sync(cb, opaque, SA_ERR_REBALANCE_IN_PROGRESS, grp, NULL);
        break;
    case SA_GROUP_STABLE: answer_sync(cb, opaque, SA_OK, grp, mem); break;
    case SA_GROUP_COMPLETING_REBALANCE:
        if (mem->sync_cb) { /* a retried SyncGroup replaces the one its client gave up on */
            sa_group_sync_cb *old = mem->sync_cb;
            mem->sync_cb = NULL;
            answer_sync(old, mem->sync_opaque, SA_ERR_REBALANCE_IN_PROGRESS, grp, NULL);
        }
        mem->sync_cb = cb;
        mem->sync_opaque = opaque;
        if (!grp->leader_id || strcmp(grp->leader_id, mem->member_id)) break; /* a follower waits */
        for (gmember_t *m = grp->members; m; m = m->next) {
            free(m->assignment);
            m->assignment = NULL;
            m->assignment_len = 0;
            for (size_t i = 0; i < req->AssignmentCount; i++) {
                const sa_group_assignment_t *a = &req->Assignments[i];
                if (!a->MemberId || strcmp(a->MemberId, m->member_id) || !a->AssignmentLen) continue;
                m->assignment = sa_malloc(a->AssignmentLen);
                memcpy(m->assignment, a->Assignment, a->AssignmentLen);
                m->assignment_len = a->AssignmentLen;
            }
        }
        gc_set_state(grp, SA_GROUP_STABLE);
        sa_log_info("group", "%s: generation %d is stable", grp->id, grp->generation);
        gc_persist(coord, grp);
        for (gmember_t *m = grp->members; m; m = m->next) {
            m->expires_ms = now_ms + m->session_timeout_ms;
            if (!m->sync_cb) continue;
            sa_group_sync_cb *mcb = m->sync_cb;
            m->sync_cb = NULL;
            answer_sync(mcb, m->sync_opaque, SA_OK, grp, m);
        }
        break;
    default: answer_sync(cb, opaque, SA_ERR_UNKNOWN_MEMBER_ID, grp, NULL); break;
    }
}

static sa_err_t heartbeat(sa_gcoord_t *coord, const char *group_id, int32_t generation, const char *member_id,
                          const char *instance_id, int64_t now_ms) {
    group_t *grp = group_id ? gc_group_get(coord, group_id) : NULL;
    gmember_t *mem;
    sa_err_t err = find_member(grp, member_id, instance_id, &mem);
    if (err) return err;
    if (generation != grp->generation) return SA_ERR_ILLEGAL_GENERATION;
    mem->expires_ms = now_ms + mem->session_timeout_ms;
    switch (grp->state) {
    case SA_GROUP_PREPARING_REBALANCE: return SA_ERR_REBALANCE_IN_PROGRESS;
    case SA_GROUP_COMPLETING_REBALANCE:
    case SA_GROUP_STABLE: return SA_OK;
    default: return SA_ERR_UNKNOWN_MEMBER_ID;
    }
}

static sa_err_t leave(sa_gcoord_t *coord, const char *group_id, const char *member_id,
                      const char *instance_id, int64_t now_ms) {
    group_t *grp = group_id ? gc_group_get(coord, group_id) : NULL;
    if (!grp || grp->state == SA_GROUP_DEAD)
        return grp ? SA_ERR_COORDINATOR_NOT_AVAILABLE : SA_ERR_UNKNOWN_MEMBER_ID;
    gmember_t *mem = NULL;
    if (member_id && *member_id) {
        for (gpending_t **pp = &grp->pending; *pp; pp = &(*pp)->next) {
            gpending_t *p = *pp;
            if (strcmp(p->member_id, member_id)) continue;
            *pp = p->next;
            free(p->member_id);
            free(p);
            gc_try_complete_join(coord, grp, now_ms);
            return SA_OK;
        }
        sa_err_t err = find_member(grp, member_id, instance_id, &mem);
        if (err) return err;
    } else {
        mem = gc_member_find_instance(grp, instance_id); /* v3+: a static member leaving by instance id */
        if (!mem) return SA_ERR_UNKNOWN_MEMBER_ID;
    }
    sa_log_info("group", "%s: member %s left", grp->id, mem->member_id);
    gc_member_remove(coord, grp, mem, SA_ERR_UNKNOWN_MEMBER_ID);
    gc_member_gone(coord, grp, now_ms, "member left");
    return SA_OK;
}

static sa_err_t commit_check(sa_gcoord_t *coord, const char *group_id, int32_t generation,
                             const char *member_id, const char *instance_id, int64_t now_ms) {
    if (!group_id || !*group_id) return SA_ERR_INVALID_GROUP_ID;
    group_t *grp = gc_group_get(coord, group_id);
    if (grp && grp->state == SA_GROUP_DEAD) return SA_ERR_COORDINATOR_NOT_AVAILABLE;
    if (!grp || !grp->nmembers) {
        /* Kafka accepts generation -1 commits for a group without members (standalone consumers,
         * admin tools); a generation >= 0 names a generation that is gone */
        if (generation >= 0) return grp ? SA_ERR_UNKNOWN_MEMBER_ID : SA_ERR_ILLEGAL_GENERATION;
        gc_group_get_or_create(coord, group_id);
        return SA_OK;
    }
    gmember_t *mem;
    sa_err_t err = find_member(grp, member_id, instance_id, &mem);
    if (err) return err;
    if (generation != grp->generation) return SA_ERR_ILLEGAL_GENERATION;
    /* PreparingRebalance is allowed: that is when members commit what they are giving up */
    if (grp->state == SA_GROUP_COMPLETING_REBALANCE) return SA_ERR_REBALANCE_IN_PROGRESS;
    mem->expires_ms = now_ms + mem->session_timeout_ms; /* a commit is as good as a heartbeat */
    return SA_OK;
}

/* Kafka's validateOffsetCommit for a TxnOffsetCommit: the group is created if missing; a commit
 * that names a member (generation >= 0, a member id or an instance id: v3+) must name a current
 * one of the current generation; an anonymous one (v0-2, or a producer without the consumer's
 * group metadata) is accepted whatever the group's state, as old clients send no member. */
static sa_err_t txn_commit_check(sa_gcoord_t *coord, const char *group_id, int32_t generation,
                                 const char *member_id, const char *instance_id, int64_t now_ms) {
    if (!group_id || !*group_id) return SA_ERR_INVALID_GROUP_ID;
    group_t *grp = gc_group_get(coord, group_id);
    if (grp && grp->state == SA_GROUP_DEAD) return SA_ERR_COORDINATOR_NOT_AVAILABLE;
    if (!grp) grp = gc_group_get_or_create(coord, group_id);
    if (generation < 0 && !grp->nmembers) return SA_OK;
    if (generation >= 0 || (member_id && *member_id) || instance_id) {
        gmember_t *mem;
        sa_err_t err = find_member(grp, member_id ? member_id : "", instance_id, &mem);
        if (err) return err;
        if (generation != grp->generation) return SA_ERR_ILLEGAL_GENERATION;
        mem->expires_ms = now_ms + mem->session_timeout_ms;
    }
    return SA_OK;
}

/* ---- the public calls: each catches up on what is due first (coordinator.c) ---------------- */

sa_err_t sa_gcoord_txn_commit_check(sa_gcoord_t *coord, const char *group_id, int32_t generation,
                                    const char *member_id, const char *instance_id, int64_t now_ms) {
    gc_enter(coord, now_ms);
    sa_err_t err = txn_commit_check(coord, group_id, generation, member_id, instance_id, now_ms);
    gc_leave(coord);
    return err;
}

void sa_gcoord_sync(sa_gcoord_t *coord, const sa_group_sync_req_t *req, int64_t now_ms, sa_group_sync_cb *cb,
                    void *opaque) {
    gc_enter(coord, now_ms);
    sync_request(coord, req, now_ms, cb, opaque);
    gc_leave(coord);
}

sa_err_t sa_gcoord_heartbeat(sa_gcoord_t *coord, const char *group_id, int32_t generation,
                             const char *member_id, const char *instance_id, int64_t now_ms) {
    gc_enter(coord, now_ms);
    sa_err_t err = heartbeat(coord, group_id, generation, member_id, instance_id, now_ms);
    gc_leave(coord);
    return err;
}

sa_err_t sa_gcoord_leave(sa_gcoord_t *coord, const char *group_id, const char *member_id,
                         const char *instance_id, int64_t now_ms) {
    gc_enter(coord, now_ms);
    sa_err_t err = leave(coord, group_id, member_id, instance_id, now_ms);
    gc_leave(coord);
    return err;
}

sa_err_t sa_gcoord_commit_check(sa_gcoord_t *coord, const char *group_id, int32_t generation,
                                const char *member_id, const char *instance_id, int64_t now_ms) {
    gc_enter(coord, now_ms);
    sa_err_t err = commit_check(coord, group_id, generation, member_id, instance_id, now_ms);
    gc_leave(coord);
    return err;
}
