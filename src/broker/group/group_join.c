/*
 * group_join.c - JoinGroup and the rebalance: the join phase (PreparingRebalance), protocol
 * selection, leader election and the start of each generation.
 *
 * The join phase ends when every known member has a parked JoinGroup and no member id handed out
 * with MEMBER_ID_REQUIRED is still outstanding, or at the rebalance timeout (the largest of the
 * members'), when the members that did not rejoin are dropped. For a group that was Empty, the
 * first phase is held open for group.initial.rebalance.delay.ms, extended in steps while new
 * members keep arriving (up to the rebalance timeout), so a fleet of consumers starting together
 * lands in one generation instead of one per arrival.
 *
 * Protocol selection: the candidates are the protocols every member supports; each member votes
 * for the first candidate in its own preference order, and the most votes wins (ties go to the
 * earlier preference of the first member). Assignment itself is the leader client's job.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>

#include "broker/group/group_int.h"
#include "core/log.h"
#include "core/mem.h"

static void answer_join_error(sa_group_join_cb *cb, void *opaque, sa_err_t err, const char *member_id) {
    sa_group_join_result_t res = {
        .ErrorCode = err, .GenerationId = -1, .Leader = "", .MemberId = member_id ? member_id : ""};
    cb(opaque, &res);
}

/* "<client id>-<uuid v4>", as Kafka forms member ids. @returns new. */
static char *new_member_id(sa_gcoord_t *coord, const char *client_id) {
    uint8_t r[16];
    if (getrandom(r, sizeof(r), 0) != (ssize_t)sizeof(r)) { /* never on Linux >= 3.17; stay unique anyway */
        uint64_t seq = ++coord->member_seq;
        memcpy(r, &seq, sizeof(seq));
        memcpy(r + 8, &coord, sizeof(coord) < 8 ? sizeof(coord) : 8);
    }
    r[6] = (uint8_t)((r[6] & 0x0f) | 0x40);
    r[8] = (uint8_t)((r[8] & 0x3f) | 0x80);
    char uuid[40];
    snprintf(uuid, sizeof(uuid), "%02x%02x%02x%02x-%02x%02x-%02x%02x-%02x%02x-%02x%02x%02x%02x%02x%02x", r[0],
             r[1], r[2], r[3], r[4], r[5], r[6], r[7], r[8], r[9], r[10], r[11], r[12], r[13], r[14], r[15]);
    size_t len = strlen(client_id) + 1 + strlen(uuid) + 1;
    char *id = sa_malloc(len);
    snprintf(id, len, "%s-%s", client_id, uuid);
    return id;
}

/* ---- protocols ---------------------------------------------------------------------------- */

static int member_supports(const gmember_t *mem, const char *name) {
    return gc_member_protocol(mem, name) != NULL;
}

/* Would a member proposing @p req's protocols fit the group (same type, a protocol in common)? */
static int protocols_compatible(const group_t *grp, const sa_group_join_req_t *req, const gmember_t *except) {
    if (!req->ProtocolType || !*req->ProtocolType || !req->ProtocolCount) return 0;
    if (!grp->nmembers || (grp->nmembers == 1 && except && grp->members == except)) return 1;
    if (grp->protocol_type && strcmp(grp->protocol_type, req->ProtocolType)) return 0;
    for (size_t i = 0; i < req->ProtocolCount; i++) {
        int all = 1;
        for (const gmember_t *mem = grp->members; mem && all; mem = mem->next)
            if (mem != except && !member_supports(mem, req->Protocols[i].Name)) all = 0;
        if (all) return 1;
    }
    return 0;
}

static void set_protocols(gmember_t *mem, const sa_group_join_req_t *req) {
    for (size_t i = 0; i < mem->nprotocols; i++) {
        free(mem->protocols[i].name);
        free(mem->protocols[i].meta);
    }
    free(mem->protocols);
    mem->nprotocols = req->ProtocolCount;
    mem->protocols = sa_calloc(req->ProtocolCount ? req->ProtocolCount : 1, sizeof(*mem->protocols));
    for (size_t i = 0; i < req->ProtocolCount; i++) {
        const sa_group_protocol_t *p = &req->Protocols[i];
        mem->protocols[i].name = sa_strdup(p->Name ? p->Name : "");
        mem->protocols[i].meta_len = p->MetadataLen;
        if (p->MetadataLen) {
            mem->protocols[i].meta = sa_malloc(p->MetadataLen);
            memcpy(mem->protocols[i].meta, p->Metadata, p->MetadataLen);
        }
    }
}

/* Same protocol names and metadata, in the same order? */
static int same_protocols(const gmember_t *mem, const sa_group_join_req_t *req) {
    if (mem->nprotocols != req->ProtocolCount) return 0;
    for (size_t i = 0; i < req->ProtocolCount; i++) {
        const gproto_t *a = &mem->protocols[i];
        const sa_group_protocol_t *b = &req->Protocols[i];
        if (strcmp(a->name, b->Name ? b->Name : "") || a->meta_len != b->MetadataLen ||
            (a->meta_len && memcmp(a->meta, b->Metadata, a->meta_len)))
            return 0;
    }
    return 1;
}

/* @returns the protocol chosen for the group (borrowed from a member), or NULL if none is common. */
static const char *select_protocol(const group_t *grp) {
    const gmember_t *first = grp->members;
    if (!first) return NULL;
    const char *best = NULL;
    size_t best_votes = 0;
    for (size_t c = 0; c < first->nprotocols; c++) {
        const char *cand = first->protocols[c].name;
        int common = 1;
        for (const gmember_t *mem = grp->members; mem && common; mem = mem->next)
            common = member_supports(mem, cand);
        if (!common) continue;
        size_t votes = 0;
        for (const gmember_t *mem = grp->members; mem; mem = mem->next) {
            for (size_t i = 0; i < mem->nprotocols; i++) {
                int everyone = 1;
                for (const gmember_t *o = grp->members; o && everyone; o = o->next)
                    everyone = member_supports(o, mem->protocols[i].name);
                if (!everyone) continue;
                if (!strcmp(mem->protocols[i].name, cand)) votes++;
                break; /* the member's first common protocol is its vote */
            }
        }
        if (votes > best_votes) {
            best = cand;
            best_votes = votes;
        }
    }
    return best;
}

/* ---- the join phase ----------------------------------------------------------------------- */

static int32_t max_rebalance_timeout(const group_t *grp) {
    int32_t t = 0;
    for (const gmember_t *mem = grp->members; mem; mem = mem->next)
        if (mem->rebalance_timeout_ms > t) t = mem->rebalance_timeout_ms;
    return t;
}

void gc_prepare_rebalance(sa_gcoord_t *coord, group_t *grp, int64_t now_ms, const char *why) {
    if (grp->state == SA_GROUP_PREPARING_REBALANCE) return;
    if (grp->state == SA_GROUP_COMPLETING_REBALANCE) {
        /* the assignment being waited for is stale: tell the waiting followers to rejoin */
        for (gmember_t *mem = grp->members; mem; mem = mem->next) {
            if (!mem->sync_cb) continue;
            sa_group_sync_cb *cb = mem->sync_cb;
            mem->sync_cb = NULL;
            sa_group_sync_result_t res = {.ErrorCode = SA_ERR_REBALANCE_IN_PROGRESS};
            cb(mem->sync_opaque, &res);
        }
    }
    for (gmember_t *mem = grp->members; mem; mem = mem->next) {
        free(mem->assignment);
        mem->assignment = NULL;
        mem->assignment_len = 0;
    }
    int32_t timeout = max_rebalance_timeout(grp);
    if (grp->state == SA_GROUP_EMPTY && coord->conf.initial_rebalance_delay_ms > 0) {
        int32_t delay = coord->conf.initial_rebalance_delay_ms;
        grp->initial_delay = 1;
        grp->joined_during_delay = 0;
        grp->delay_left_ms = timeout > delay ? timeout - delay : 0;
        grp->join_deadline_ms = now_ms + delay;
    } else {
        grp->initial_delay = 0;
        grp->join_deadline_ms = now_ms + timeout;
    }
    sa_log_info("group", "%s: rebalance (generation %d, %zu members): %s", grp->id, grp->generation,
                grp->nmembers, why);
    gc_set_state(grp, SA_GROUP_PREPARING_REBALANCE);
}

void gc_try_complete_join(sa_gcoord_t *coord, group_t *grp, int64_t now_ms) {
    if (grp->state != SA_GROUP_PREPARING_REBALANCE || grp->initial_delay || grp->pending) return;
    for (const gmember_t *mem = grp->members; mem; mem = mem->next)
        if (!mem->join_cb) return;
    gc_complete_join(coord, grp, now_ms);
}

/* Answer every parked JoinGroup of the new generation; the leader also gets the member list. */
static void answer_joins(group_t *grp, int64_t now_ms) {
    sa_group_join_member_t *list = sa_calloc(grp->nmembers ? grp->nmembers : 1, sizeof(*list));
    size_t n = 0;
    for (const gmember_t *mem = grp->members; mem; mem = mem->next) {
        const gproto_t *proto = gc_member_protocol(mem, grp->protocol_name);
        list[n].MemberId = mem->member_id;
        list[n].GroupInstanceId = mem->instance_id;
        list[n].Metadata = proto ? proto->meta : NULL;
        list[n].MetadataLen = proto ? proto->meta_len : 0;
        n++;
    }
    for (gmember_t *mem = grp->members; mem; mem = mem->next) {
        mem->expires_ms = now_ms + mem->session_timeout_ms;
        if (!mem->join_cb) continue;
        int leader = !strcmp(mem->member_id, grp->leader_id);
        sa_group_join_result_t res = {
            .ErrorCode = SA_OK,
            .GenerationId = grp->generation,
            .ProtocolType = grp->protocol_type,
            .ProtocolName = grp->protocol_name,
            .Leader = grp->leader_id,
            .MemberId = mem->member_id,
            .Members = leader ? list : NULL,
            .MemberCount = leader ? n : 0,
        };
        sa_group_join_cb *cb = mem->join_cb;
        mem->join_cb = NULL;
        cb(mem->join_opaque, &res);
    }
    free(list);
}

void gc_complete_join(sa_gcoord_t *coord, group_t *grp, int64_t now_ms) {
    if (grp->state != SA_GROUP_PREPARING_REBALANCE) return;
    grp->initial_delay = 0;
    grp->join_deadline_ms = 0;
    for (gmember_t *mem = grp->members, *next; mem; mem = next) {
        next = mem->next;
        if (!mem->join_cb)
            gc_member_remove(coord, grp, mem, SA_ERR_UNKNOWN_MEMBER_ID); /* did not rejoin in time */
    }
    while (grp->pending) {
        gpending_t *p = grp->pending;
        grp->pending = p->next;
        free(p->member_id);
        free(p);
    }
    grp->generation++;
    free(grp->protocol_name);
    grp->protocol_name = NULL;
    if (!grp->nmembers) {
        free(grp->leader_id);
        grp->leader_id = NULL;
        gc_set_state(grp, SA_GROUP_EMPTY);
        sa_log_info("group", "%s: generation %d is empty", grp->id, grp->generation);
        gc_persist(coord, grp);
        return;
    }
    const char *proto = select_protocol(grp);
    if (!proto) {
        /* members were checked on the way in, so this only follows a bug; fail them cleanly */
        sa_log_error("group", "%s: no protocol common to all members; failing the join", grp->id);
        while (grp->members) gc_member_remove(coord, grp, grp->members, SA_ERR_INCONSISTENT_GROUP_PROTOCOL);
        gc_set_state(grp, SA_GROUP_EMPTY);
        return;
    }
    grp->protocol_name = sa_strdup(proto);
    if (!grp->leader_id) grp->leader_id = sa_strdup(grp->members->member_id);
    gc_set_state(grp, SA_GROUP_COMPLETING_REBALANCE);
    sa_log_info("group", "%s: generation %d with %zu members, protocol %s, leader %s", grp->id,
                grp->generation, grp->nmembers, grp->protocol_name, grp->leader_id);
    answer_joins(grp, now_ms);
}

void gc_member_gone(sa_gcoord_t *coord, group_t *grp, int64_t now_ms, const char *why) {
    switch (grp->state) {
    case SA_GROUP_STABLE:
    case SA_GROUP_COMPLETING_REBALANCE: gc_prepare_rebalance(coord, grp, now_ms, why); break;
    case SA_GROUP_PREPARING_REBALANCE: gc_try_complete_join(coord, grp, now_ms); break;
    default: break;
    }
    if (grp->state == SA_GROUP_PREPARING_REBALANCE && !grp->nmembers && !grp->pending)
        gc_complete_join(coord, grp, now_ms); /* nobody left to wait for */
}

/* ---- JoinGroup ---------------------------------------------------------------------------- */

static gmember_t *add_member(sa_gcoord_t *coord, group_t *grp, const sa_group_join_req_t *req,
                             char *member_id, int64_t now_ms) {
    gmember_t *mem = sa_new(gmember_t);
    mem->member_id = member_id;
    mem->instance_id = req->GroupInstanceId ? sa_strdup(req->GroupInstanceId) : NULL;
    mem->client_id = sa_strdup(req->ClientId ? req->ClientId : "");
    mem->client_host = sa_strdup(req->ClientHost ? req->ClientHost : "");
    mem->session_timeout_ms = req->SessionTimeoutMs;
    mem->rebalance_timeout_ms = req->RebalanceTimeoutMs > 0 ? req->RebalanceTimeoutMs : req->SessionTimeoutMs;
    mem->expires_ms = now_ms + req->SessionTimeoutMs;
    set_protocols(mem, req);
    gmember_t **tail = &grp->members;
    while (*tail) tail = &(*tail)->next;
    *tail = mem;
    grp->nmembers++;
    if (!grp->protocol_type) grp->protocol_type = sa_strdup(req->ProtocolType);
    if (grp->initial_delay) grp->joined_during_delay = 1;
    (void)coord;
    return mem;
}

/* Park @p cb on @p mem; a JoinGroup it had parked already is superseded (its client gave up on it). */
static void park_join(gmember_t *mem, sa_group_join_cb *cb, void *opaque) {
    if (mem->join_cb) {
        sa_group_join_cb *old = mem->join_cb;
        mem->join_cb = NULL;
        answer_join_error(old, mem->join_opaque, SA_ERR_REBALANCE_IN_PROGRESS, mem->member_id);
    }
    mem->join_cb = cb;
    mem->join_opaque = opaque;
}

/* Answer at once with the current generation (a member rejoining with nothing new to say).
 * @p skip_assignment: v9's SkipAssignment for the leader of a Stable group (KIP-814). */
static void answer_current(const group_t *grp, const gmember_t *mem, int skip_assignment,
                           sa_group_join_cb *cb, void *opaque) {
    int leader = grp->leader_id && !strcmp(grp->leader_id, mem->member_id);
    sa_group_join_member_t *list = NULL;
    size_t n = 0;
    if (leader) {
        list = sa_calloc(grp->nmembers, sizeof(*list));
        for (const gmember_t *m = grp->members; m; m = m->next) {
            const gproto_t *proto = gc_member_protocol(m, grp->protocol_name);
            list[n++] = (sa_group_join_member_t){m->member_id, m->instance_id, proto ? proto->meta : NULL,
                                                 proto ? proto->meta_len : 0};
        }
    }
    sa_group_join_result_t res = {.ErrorCode = SA_OK,
                                  .GenerationId = grp->generation,
                                  .ProtocolType = grp->protocol_type,
                                  .ProtocolName = grp->protocol_name,
                                  .Leader = grp->leader_id ? grp->leader_id : "",
                                  .MemberId = mem->member_id,
                                  .SkipAssignment = leader && skip_assignment,
                                  .Members = list,
                                  .MemberCount = n};
    cb(opaque, &res);
    free(list);
}

/*
 * A static member's JoinGroup of the current generation without a rebalance (Kafka's
 * GroupCoordinator.updateStaticMemberAndRebalance, Stable case). The assignment it had is kept
 * for its SyncGroup. A follower gets no member list. The leader is not told to assign, since a
 * Stable group would ignore a new assignment: from v9 it is told it leads with SkipAssignment
 * (and gets the members, so it can watch for metadata changes, KIP-814); before v9 it is given
 * the leader id it had before (@p old_leader), which is not its new id.
 */
static void answer_static_stable(const group_t *grp, const gmember_t *mem, const char *old_leader,
                                 int skip_ok, sa_group_join_cb *cb, void *opaque) {
    int leader = grp->leader_id && !strcmp(grp->leader_id, mem->member_id);
    if (leader && skip_ok) {
        answer_current(grp, mem, 1, cb, opaque);
        return;
    }
    sa_group_join_result_t res = {.ErrorCode = SA_OK,
                                  .GenerationId = grp->generation,
                                  .ProtocolType = grp->protocol_type,
                                  .ProtocolName = grp->protocol_name,
                                  .Leader = leader ? old_leader : grp->leader_id,
                                  .MemberId = mem->member_id};
    cb(opaque, &res);
}

/*
 * A static member came back with no member id while @p old still holds its group.instance.id
 * (KIP-345; Kafka's GroupCoordinator.updateStaticMemberAndRebalance): @p member_id (taken)
 * replaces the old id, which is fenced from now on (its parked calls are answered
 * FENCED_INSTANCE_ID), and the member's protocols and timeouts are updated. In a Stable group
 * whose protocol would still be chosen, that is all: no rebalance, whatever the leader or the
 * subscription bytes. Otherwise (the protocol choice changes, or the group is completing a
 * rebalance whose assignment would name the old id) a rebalance starts; in PreparingRebalance the
 * member simply joins it.
 */
static void join_static_again(sa_gcoord_t *coord, group_t *grp, gmember_t *old, char *member_id,
                              const sa_group_join_req_t *req, int64_t now_ms, sa_group_join_cb *cb,
                              void *opaque) {
    sa_log_info("group", "%s: static member %s rejoined as %s (was %s) in state %s", grp->id,
                req->GroupInstanceId, member_id, old->member_id, sa_group_state_name(grp->state));
    if (old->join_cb) {
        sa_group_join_cb *ocb = old->join_cb;
        old->join_cb = NULL;
        answer_join_error(ocb, old->join_opaque, SA_ERR_FENCED_INSTANCE_ID, old->member_id);
    }
    if (old->sync_cb) {
        sa_group_sync_cb *ocb = old->sync_cb;
        old->sync_cb = NULL;
        sa_group_sync_result_t res = {.ErrorCode = SA_ERR_FENCED_INSTANCE_ID};
        ocb(old->sync_opaque, &res);
    }
    char *old_leader = grp->leader_id ? sa_strdup(grp->leader_id) : NULL;
    if (grp->leader_id && !strcmp(grp->leader_id, old->member_id)) {
        free(grp->leader_id);
        grp->leader_id = sa_strdup(member_id);
    }
    free(old->member_id);
    old->member_id = member_id;
    old->session_timeout_ms = req->SessionTimeoutMs;
    if (req->RebalanceTimeoutMs > 0) old->rebalance_timeout_ms = req->RebalanceTimeoutMs;
    old->expires_ms = now_ms + req->SessionTimeoutMs;
    set_protocols(old, req);
    const char *next = grp->state == SA_GROUP_STABLE ? select_protocol(grp) : NULL;
    if (next && grp->protocol_name && !strcmp(next, grp->protocol_name)) {
        gc_persist(coord, grp); /* the instance's new member id */
        answer_static_stable(grp, old, old_leader, req->skip_assignment_ok, cb, opaque);
    } else {
        if (grp->state != SA_GROUP_PREPARING_REBALANCE)
            gc_prepare_rebalance(coord, grp, now_ms,
                                 grp->state == SA_GROUP_STABLE
                                     ? "static member rejoined with another protocol"
                                     : "static member rejoined during the sync phase");
        park_join(old, cb, opaque);
        gc_try_complete_join(coord, grp, now_ms);
    }
    free(old_leader);
}

/* A JoinGroup with no member id. */
static void join_new(sa_gcoord_t *coord, group_t *grp, const sa_group_join_req_t *req, int64_t now_ms,
                     sa_group_join_cb *cb, void *opaque) {
    char *member_id = new_member_id(coord, req->ClientId ? req->ClientId : "");
    if (req->GroupInstanceId) {
        gmember_t *old = gc_member_find_instance(grp, req->GroupInstanceId);
        if (old) {
            join_static_again(coord, grp, old, member_id, req, now_ms, cb, opaque);
            return;
        }
    } else if (req->require_known_member_id) {
        /* KIP-394: hand out the id and wait for the member to come back with it, so a client
         * that times out and retries does not leave a ghost member behind */
        gpending_t *p = sa_new(gpending_t);
        p->member_id = member_id;
        p->expires_ms = now_ms + req->SessionTimeoutMs;
        p->next = grp->pending;
        grp->pending = p;
        answer_join_error(cb, opaque, SA_ERR_MEMBER_ID_REQUIRED, member_id);
        return;
    }
    if (coord->conf.max_group_size > 0 && grp->nmembers >= (size_t)coord->conf.max_group_size) {
        answer_join_error(cb, opaque, SA_ERR_GROUP_MAX_SIZE_REACHED, "");
        free(member_id);
        return;
    }
    gmember_t *mem = add_member(coord, grp, req, member_id, now_ms);
    park_join(mem, cb, opaque);
    if (grp->state == SA_GROUP_PREPARING_REBALANCE) {
        if (grp->initial_delay) grp->joined_during_delay = 1;
        gc_try_complete_join(coord, grp, now_ms);
    } else {
        gc_prepare_rebalance(coord, grp, now_ms, "new member joined");
        gc_try_complete_join(coord, grp, now_ms);
    }
}

/* A JoinGroup from a member that gives its id. */
static void join_known(sa_gcoord_t *coord, group_t *grp, const sa_group_join_req_t *req, int64_t now_ms,
                       sa_group_join_cb *cb, void *opaque) {
    for (gpending_t **pp = &grp->pending; *pp; pp = &(*pp)->next) {
        gpending_t *p = *pp;
        if (strcmp(p->member_id, req->MemberId)) continue;
        *pp = p->next;
        char *member_id = p->member_id;
        free(p);
        if (coord->conf.max_group_size > 0 && grp->nmembers >= (size_t)coord->conf.max_group_size) {
            answer_join_error(cb, opaque, SA_ERR_GROUP_MAX_SIZE_REACHED, member_id);
            free(member_id);
            return;
        }
        gmember_t *mem = add_member(coord, grp, req, member_id, now_ms);
        park_join(mem, cb, opaque);
        if (grp->state == SA_GROUP_PREPARING_REBALANCE)
            gc_try_complete_join(coord, grp, now_ms);
        else {
            gc_prepare_rebalance(coord, grp, now_ms, "new member joined");
            gc_try_complete_join(coord, grp, now_ms);
        }
        return;
    }
    gmember_t *mem;
    sa_err_t err = gc_member_check(grp, req->MemberId, req->GroupInstanceId, &mem);
    if (err) {
        answer_join_error(cb, opaque, err, req->MemberId);
        return;
    }
    mem->expires_ms = now_ms + req->SessionTimeoutMs;
    mem->session_timeout_ms = req->SessionTimeoutMs;
    if (req->RebalanceTimeoutMs > 0) mem->rebalance_timeout_ms = req->RebalanceTimeoutMs;
    int leader = grp->leader_id && !strcmp(grp->leader_id, mem->member_id);
    switch (grp->state) {
    case SA_GROUP_PREPARING_REBALANCE:
        set_protocols(mem, req);
        park_join(mem, cb, opaque);
        gc_try_complete_join(coord, grp, now_ms);
        break;
    case SA_GROUP_COMPLETING_REBALANCE:
        if (same_protocols(mem, req)) { /* its JoinGroup answer was lost: send it again */
            answer_current(grp, mem, 0, cb, opaque);
            break;
        }
        set_protocols(mem, req);
        park_join(mem, cb, opaque);
        gc_prepare_rebalance(coord, grp, now_ms, "member changed its metadata");
        gc_try_complete_join(coord, grp, now_ms);
        break;
    case SA_GROUP_STABLE:
        if (!leader && same_protocols(mem, req)) {
            answer_current(grp, mem, 0, cb, opaque);
            break;
        }
        set_protocols(mem, req);
        park_join(mem, cb, opaque);
        gc_prepare_rebalance(coord, grp, now_ms, leader ? "leader rejoined" : "member changed its metadata");
        gc_try_complete_join(coord, grp, now_ms);
        break;
    default: answer_join_error(cb, opaque, SA_ERR_UNKNOWN_MEMBER_ID, req->MemberId); break;
    }
}

static void join_request(sa_gcoord_t *coord, const sa_group_join_req_t *req, int64_t now_ms,
                         sa_group_join_cb *cb, void *opaque) {
    const char *member_id = req->MemberId ? req->MemberId : "";
    if (!req->GroupId || !*req->GroupId) {
        answer_join_error(cb, opaque, SA_ERR_INVALID_GROUP_ID, member_id);
        return;
    }
    if (req->SessionTimeoutMs < coord->conf.min_session_timeout_ms ||
        req->SessionTimeoutMs > coord->conf.max_session_timeout_ms) {
        answer_join_error(cb, opaque, SA_ERR_INVALID_SESSION_TIMEOUT, member_id);
        return;
    }
    group_t *grp = gc_group_get(coord, req->GroupId);
    if (grp && grp->state == SA_GROUP_DEAD) {
        answer_join_error(cb, opaque, SA_ERR_COORDINATOR_NOT_AVAILABLE, member_id);
        return;
    }
    if (!grp && *member_id) {
        answer_join_error(cb, opaque, SA_ERR_UNKNOWN_MEMBER_ID, member_id);
        return;
    }
    gmember_t *self = grp ? gc_member_find(grp, member_id) : NULL;
    if (!protocols_compatible(grp ? grp : &(group_t){0}, req, self)) {
        answer_join_error(cb, opaque, SA_ERR_INCONSISTENT_GROUP_PROTOCOL, member_id);
        return;
    }
    if (!grp) grp = gc_group_get_or_create(coord, req->GroupId);
    if (!grp->nmembers && grp->protocol_type && strcmp(grp->protocol_type, req->ProtocolType)) {
        free(grp->protocol_type); /* an Empty group takes on the type of its first member */
        grp->protocol_type = NULL;
    }
    if (!*member_id)
        join_new(coord, grp, req, now_ms, cb, opaque);
    else
        join_known(coord, grp, req, now_ms, cb, opaque);
}

void sa_gcoord_join(sa_gcoord_t *coord, const sa_group_join_req_t *req, int64_t now_ms, sa_group_join_cb *cb,
                    void *opaque) {
    gc_enter(coord, now_ms);
    join_request(coord, req, now_ms, cb, opaque);
    gc_leave(coord);
}
