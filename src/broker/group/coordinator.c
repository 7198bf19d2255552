/*
 * coordinator.c - the group registry, member bookkeeping, timers, and the read-mostly requests
 * (DescribeGroups, ListGroups, DeleteGroups, OffsetDelete checks). The rebalance itself is in
 * group_join.c; SyncGroup/Heartbeat/LeaveGroup in group_member.c.
 *
 * Timers are deadlines stored in the groups and members. Every public call is bracketed by
 * gc_enter(now) and gc_leave(): gc_enter first runs whatever is due at `now` (session expiry,
 * the end of a join phase, offset expiry), so a request is judged against the state its arrival
 * time implies, never against a member whose session ended before it arrived; gc_leave scans the
 * deadlines once (groups and members are few: a linear pass is cheaper than keeping a heap in
 * step with every heartbeat) into coord->due_ms, which sa_gcoord_next_deadline() returns and
 * gc_enter compares with, and checks the invariants of coordinator.h.
 */
#include "broker/group/group_int.h"

#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include "broker/group/offsets.h"
#include "core/check.h"
#include "core/log.h"
#include "core/mem.h"

static const char *const state_names[] = {
    [SA_GROUP_EMPTY] = "Empty",
    [SA_GROUP_PREPARING_REBALANCE] = "PreparingRebalance",
    [SA_GROUP_COMPLETING_REBALANCE] = "CompletingRebalance",
    [SA_GROUP_STABLE] = "Stable",
    [SA_GROUP_DEAD] = "Dead",
};

const char *sa_group_state_name(sa_group_state_t state) {
    return (unsigned)state < SA_ARRAY_LEN(state_names) ? state_names[state] : "Unknown";
}

void sa_gcoord_conf_defaults(sa_gcoord_conf_t *conf) {
    conf->min_session_timeout_ms = 6000;
    conf->max_session_timeout_ms = 1800000;
    conf->initial_rebalance_delay_ms = 3000;
    conf->offsets_retention_ms = 7LL * 24 * 3600 * 1000;
    conf->retention_check_ms = 600000;
    conf->max_group_size = 0;
}

static int64_t wall_now_ms(void) {
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

void gc_set_state(group_t *grp, sa_group_state_t state) {
    if (grp->state == state) return;
    sa_log_debug(SA_DBG_GROUP, "group", "%s: %s -> %s (generation %d)", grp->id,
                 sa_group_state_name(grp->state), sa_group_state_name(state), grp->generation);
    grp->state = state;
    if (state == SA_GROUP_EMPTY) grp->empty_since_ms = wall_now_ms();
}

/* ---- registry ----------------------------------------------------------------------------- */

group_t *gc_group_get(const sa_gcoord_t *coord, const char *id) { return sa_hmap_gets(&coord->groups, id); }

group_t *gc_group_get_or_create(sa_gcoord_t *coord, const char *id) {
    group_t *grp = gc_group_get(coord, id);
    if (!grp) {
        grp = sa_new(group_t);
        grp->id = sa_strdup(id);
        grp->state = SA_GROUP_EMPTY;
        grp->empty_since_ms = wall_now_ms();
        sa_hmap_puts(&coord->groups, grp->id, grp); /* the key is the group's own copy */
    }
    return grp;
}

void gc_member_free(gmember_t *mem) {
    for (size_t i = 0; i < mem->nprotocols; i++) {
        free(mem->protocols[i].name);
        free(mem->protocols[i].meta);
    }
    free(mem->protocols);
    free(mem->assignment);
    free(mem->member_id);
    free(mem->instance_id);
    free(mem->client_id);
    free(mem->client_host);
    free(mem);
}

static void group_free(group_t *grp) {
    while (grp->members) {
        gmember_t *mem = grp->members;
        grp->members = mem->next;
        gc_member_free(mem);
    }
    while (grp->pending) {
        gpending_t *p = grp->pending;
        grp->pending = p->next;
        free(p->member_id);
        free(p);
    }
    free(grp->protocol_type);
    free(grp->protocol_name);
    free(grp->leader_id);
    free(grp->id);
    free(grp);
}

static void group_remove(sa_gcoord_t *coord, group_t *grp) {
    sa_log_debug(SA_DBG_GROUP, "group", "%s: removed", grp->id);
    sa_hmap_dels(&coord->groups, grp->id);
    group_free(grp);
}

gmember_t *gc_member_find(const group_t *grp, const char *member_id) {
    if (!member_id || !*member_id) return NULL;
    for (gmember_t *mem = grp->members; mem; mem = mem->next)
        if (!strcmp(mem->member_id, member_id)) return mem;
    return NULL;
}

gmember_t *gc_member_find_instance(const group_t *grp, const char *instance_id) {
    if (!instance_id) return NULL;
    for (gmember_t *mem = grp->members; mem; mem = mem->next)
        if (mem->instance_id && !strcmp(mem->instance_id, instance_id)) return mem;
    return NULL;
}

sa_err_t gc_member_check(const group_t *grp, const char *member_id, const char *instance_id,
                         gmember_t **out) {
    *out = NULL;
    if (instance_id) {
        const gmember_t *st = gc_member_find_instance(grp, instance_id);
        if (!st) return SA_ERR_UNKNOWN_MEMBER_ID;
        if (!member_id || strcmp(st->member_id, member_id)) return SA_ERR_FENCED_INSTANCE_ID;
    }
    *out = gc_member_find(grp, member_id);
    return *out ? SA_OK : SA_ERR_UNKNOWN_MEMBER_ID;
}

const gproto_t *gc_member_protocol(const gmember_t *mem, const char *name) {
    if (!name) return NULL;
    for (size_t i = 0; i < mem->nprotocols; i++)
        if (!strcmp(mem->protocols[i].name, name)) return &mem->protocols[i];
    return NULL;
}

void gc_member_remove(sa_gcoord_t *coord, group_t *grp, gmember_t *mem, sa_err_t err) {
    (void)coord;
    for (gmember_t **pp = &grp->members; *pp; pp = &(*pp)->next) {
        if (*pp != mem) continue;
        *pp = mem->next;
        grp->nmembers--;
        break;
    }
    if (grp->leader_id && !strcmp(grp->leader_id, mem->member_id)) {
        free(grp->leader_id);
        grp->leader_id = NULL;
    }
    sa_log_debug(SA_DBG_GROUP, "group", "%s: member %s removed (%s)", grp->id, mem->member_id,
                 sa_err2name(err));
    /* Kafka answers a parked call of a removed member rather than leaving its client hanging */
    if (mem->join_cb) {
        sa_group_join_result_t res = {
            .ErrorCode = err, .GenerationId = -1, .Leader = "", .MemberId = mem->member_id};
        mem->join_cb(mem->join_opaque, &res);
    }
    if (mem->sync_cb) {
        sa_group_sync_result_t res = {.ErrorCode = err};
        mem->sync_cb(mem->sync_opaque, &res);
    }
    gc_member_free(mem);
}

/* ---- lifecycle ---------------------------------------------------------------------------- */

typedef struct load_s {
    sa_gcoord_t *coord;
    int64_t now_ms;
} load_t;

/* A group known to the offsets store but not here: create it, with its members if a membership
 * record says so. A group already here is live and keeps its state. */
static void load_group(void *arg, const char *group) {
    load_t *ld = arg;
    if (gc_group_get(ld->coord, group)) return;
    group_t *grp = gc_group_get_or_create(ld->coord, group);
    size_t len;
    const uint8_t *meta = sa_offsets_group_meta(ld->coord->offsets, group, &len);
    if (meta) gc_restore(ld->coord, grp, meta, len, ld->now_ms);
}

void sa_gcoord_load_groups(sa_gcoord_t *coord, int64_t now_ms) {
    gc_enter(coord, now_ms);
    load_t ld = {coord, now_ms};
    if (coord->offsets) sa_offsets_foreach_group(coord->offsets, load_group, &ld);
    gc_leave(coord);
}

sa_gcoord_t *sa_gcoord_new(const sa_gcoord_conf_t *conf, struct sa_offsets_s *offsets, int64_t now_ms) {
    sa_gcoord_t *coord = sa_new(sa_gcoord_t);
    coord->conf = *conf;
    coord->offsets = offsets;
    coord->next_retention_ms = now_ms + conf->retention_check_ms;
    coord->due_ms = INT64_MAX; /* nothing can be due before the first scan */
    sa_gcoord_load_groups(coord, now_ms);
    return coord;
}

void sa_gcoord_free(sa_gcoord_t *coord) {
    if (!coord) return;
    group_t *grp;
    for (size_t pos = 0; (grp = sa_hmap_next(&coord->groups, &pos, NULL, NULL));)
        group_free(grp); /* the map only holds it: freed next */
    sa_hmap_free(&coord->groups);
    free(coord);
}

void sa_gcoord_cancel(sa_gcoord_t *coord, const void *opaque) {
    group_t *grp;
    for (size_t pos = 0; (grp = sa_hmap_next(&coord->groups, &pos, NULL, NULL));) {
        for (gmember_t *mem = grp->members; mem; mem = mem->next) {
            if (mem->join_cb && mem->join_opaque == opaque) mem->join_cb = NULL, mem->join_opaque = NULL;
            if (mem->sync_cb && mem->sync_opaque == opaque) mem->sync_cb = NULL, mem->sync_opaque = NULL;
        }
    }
    gc_leave(coord); /* a member without a parked call can expire again: its deadline counts */
}

int sa_gcoord_group_exists(sa_gcoord_t *coord, const char *group_id, int64_t now_ms) {
    gc_enter(coord, now_ms);
    group_t *grp = gc_group_get(coord, group_id);
    int exists = grp && grp->state != SA_GROUP_DEAD;
    gc_leave(coord);
    return exists;
}

/* ---- timers ------------------------------------------------------------------------------- */

static int keeps_alive(const gmember_t *mem) { return mem->join_cb || mem->sync_cb; }

int64_t sa_gcoord_next_deadline(const sa_gcoord_t *coord) { return coord->due_ms; }

/* The earliest deadline of all (a linear scan; see the top). */
static int64_t scan_deadlines(const sa_gcoord_t *coord) {
    int64_t next = coord->offsets ? coord->next_retention_ms : INT64_MAX;
    const group_t *grp;
    for (size_t pos = 0; (grp = sa_hmap_next(&coord->groups, &pos, NULL, NULL));) {
        if (grp->state == SA_GROUP_PREPARING_REBALANCE && grp->join_deadline_ms < next)
            next = grp->join_deadline_ms;
        for (const gmember_t *mem = grp->members; mem; mem = mem->next)
            if (!keeps_alive(mem) && mem->expires_ms < next) next = mem->expires_ms;
        for (const gpending_t *p = grp->pending; p; p = p->next)
            if (p->expires_ms < next) next = p->expires_ms;
    }
    return next;
}

/* Expire members and pending member ids of @p grp whose session ran out. */
static void expire_members(sa_gcoord_t *coord, group_t *grp, int64_t now_ms) {
    int changed = 0;
    for (gpending_t **pp = &grp->pending; *pp;) {
        gpending_t *p = *pp;
        if (p->expires_ms > now_ms) {
            pp = &p->next;
            continue;
        }
        *pp = p->next;
        free(p->member_id);
        free(p);
        changed = 1;
    }
    /* one at a time, rescanning after each: a removal may complete the join phase, which
     * changes the member list under any iterator */
    for (;;) {
        gmember_t *mem = grp->members;
        while (mem && (keeps_alive(mem) || mem->expires_ms > now_ms)) mem = mem->next;
        if (!mem) break;
        sa_log_info("group", "%s: member %s expired (no heartbeat for %d ms)", grp->id, mem->member_id,
                    mem->session_timeout_ms);
        gc_member_remove(coord, grp, mem, SA_ERR_UNKNOWN_MEMBER_ID);
        gc_member_gone(coord, grp, now_ms, "member expired");
        changed = 0; /* gc_member_gone already re-evaluated the join phase */
    }
    if (changed && grp->state == SA_GROUP_PREPARING_REBALANCE) gc_try_complete_join(coord, grp, now_ms);
}

/* Offset retention: offsets of an Empty group expire retention after the later of their commit and
 * the moment the group became Empty; an Empty group with no offsets left is removed. */
static void expire_offsets(sa_gcoord_t *coord) {
    int64_t cutoff = wall_now_ms() - coord->conf.offsets_retention_ms;
    group_t **doomed = NULL;
    size_t ndoomed = 0;
    group_t *grp;
    for (size_t pos = 0; (grp = sa_hmap_next(&coord->groups, &pos, NULL, NULL));) {
        if (grp->state != SA_GROUP_EMPTY) continue;
        if (grp->empty_since_ms < cutoff) {
            size_t n = sa_offsets_expire(coord->offsets, grp->id, cutoff);
            if (n) sa_log_info("group", "%s: %zu committed offsets expired", grp->id, n);
        }
        if (!sa_offsets_count(coord->offsets, grp->id)) {
            doomed = sa_realloc(doomed, (ndoomed + 1) * sizeof(*doomed));
            doomed[ndoomed++] = grp;
        }
    }
    for (size_t i = 0; i < ndoomed; i++) {
        sa_offsets_delete_group(coord->offsets, doomed[i]->id); /* its membership record, if any */
        group_remove(coord, doomed[i]);
    }
    free(doomed);
}

/* Run every timer due at @p now_ms. */
static void run_due(sa_gcoord_t *coord, int64_t now_ms) {
    /* collect the groups first: completing a join phase never removes a group, but expiry may */
    size_t n = 0;
    group_t **due = sa_calloc(coord->groups.count + 1, sizeof(*due)); /* and the NULL that ends it */
    for (size_t pos = 0; (due[n] = sa_hmap_next(&coord->groups, &pos, NULL, NULL));) n++;
    for (size_t i = 0; i < n; i++) {
        group_t *grp = due[i];
        expire_members(coord, grp, now_ms);
        if (grp->state == SA_GROUP_PREPARING_REBALANCE && grp->join_deadline_ms <= now_ms) {
            if (grp->initial_delay && grp->joined_during_delay && grp->delay_left_ms > 0) {
                /* Kafka's InitialDelayedJoin: new members keep coming, wait one more step */
                int64_t step = SA_MIN((int64_t)coord->conf.initial_rebalance_delay_ms, grp->delay_left_ms);
                grp->delay_left_ms -= step;
                grp->joined_during_delay = 0;
                grp->join_deadline_ms = now_ms + step;
            } else {
                gc_complete_join(coord, grp, now_ms);
            }
        }
    }
    free(due);
    if (coord->offsets && now_ms >= coord->next_retention_ms) {
        coord->next_retention_ms = now_ms + coord->conf.retention_check_ms;
        expire_offsets(coord);
    }
}

void gc_enter(sa_gcoord_t *coord, int64_t now_ms) {
    if (now_ms >= coord->due_ms) run_due(coord, now_ms);
}

/* ---- invariants (coordinator.h) ---------------------------------------------------------- */

static void check_group(group_t *grp) {
    size_t n = 0;
    int leader_found = 0;
    for (const gmember_t *mem = grp->members; mem; mem = mem->next) {
        n++;
        if (grp->leader_id && !strcmp(grp->leader_id, mem->member_id)) leader_found = 1;
        /* 2: no parked JoinGroup outside the join phase; a parked SyncGroup only waits for the leader */
        assert(!mem->join_cb || grp->state == SA_GROUP_PREPARING_REBALANCE);
        assert(!mem->sync_cb || grp->state == SA_GROUP_COMPLETING_REBALANCE);
    }
    assert(n == grp->nmembers);
    assert(!grp->leader_id || leader_found);
    (void)leader_found; /* only asserted: unused where NDEBUG drops assert() (Release) */
    assert(grp->state != SA_GROUP_EMPTY || (!grp->nmembers && !grp->leader_id));
    assert((grp->state != SA_GROUP_STABLE && grp->state != SA_GROUP_COMPLETING_REBALANCE) ||
           (grp->nmembers && grp->leader_id && grp->protocol_name));
    assert(grp->state != SA_GROUP_PREPARING_REBALANCE || grp->join_deadline_ms > 0);
    assert(grp->generation >= grp->_checked_generation); /* 4: generations only grow */
    grp->_checked_generation = grp->generation;
}

static void check_coord(sa_gcoord_t *coord) {
    SA_DEBUG_CHECK({
        group_t *grp;
        for (size_t pos = 0; (grp = sa_hmap_next(&coord->groups, &pos, NULL, NULL));) check_group(grp);
    });
}

void gc_leave(sa_gcoord_t *coord) {
    coord->due_ms = scan_deadlines(coord);
    check_coord(coord);
}

void sa_gcoord_tick(sa_gcoord_t *coord, int64_t now_ms) {
    gc_enter(coord, now_ms);
    gc_leave(coord);
}

/* ---- describe / list / delete ------------------------------------------------------------- */

void sa_gcoord_describe(sa_gcoord_t *coord, const char *group_id, int64_t now_ms, sa_group_desc_t *out) {
    gc_enter(coord, now_ms);
    gc_leave(coord);
    memset(out, 0, sizeof(*out));
    group_t *grp = gc_group_get(coord, group_id);
    out->ErrorCode = SA_OK;
    out->GroupState = sa_group_state_name(grp ? grp->state : SA_GROUP_DEAD);
    out->ProtocolType = grp && grp->protocol_type ? grp->protocol_type : "";
    out->ProtocolData =
        grp && grp->protocol_name && grp->state != SA_GROUP_PREPARING_REBALANCE ? grp->protocol_name : "";
    if (!grp || !grp->nmembers) return;
    out->Members = sa_calloc(grp->nmembers, sizeof(*out->Members));
    int show_meta = grp->state == SA_GROUP_STABLE || grp->state == SA_GROUP_COMPLETING_REBALANCE;
    for (const gmember_t *mem = grp->members; mem; mem = mem->next) {
        sa_group_desc_member_t *dm = &out->Members[out->MemberCount++];
        dm->MemberId = mem->member_id;
        dm->GroupInstanceId = mem->instance_id;
        dm->ClientId = mem->client_id;
        dm->ClientHost = mem->client_host;
        const gproto_t *proto = show_meta ? gc_member_protocol(mem, grp->protocol_name) : NULL;
        dm->MemberMetadata = proto ? proto->meta : NULL;
        dm->MemberMetadataLen = proto ? proto->meta_len : 0;
        if (grp->state == SA_GROUP_STABLE) {
            dm->MemberAssignment = mem->assignment;
            dm->MemberAssignmentLen = mem->assignment_len;
        }
    }
}

void sa_gcoord_desc_free(sa_group_desc_t *desc) {
    free(desc->Members);
    desc->Members = NULL;
    desc->MemberCount = 0;
}

sa_group_listing_t *sa_gcoord_list(sa_gcoord_t *coord, const char *const *states, size_t nstates,
                                   int64_t now_ms, size_t *count) {
    gc_enter(coord, now_ms);
    gc_leave(coord);
    sa_group_listing_t *out = sa_calloc(coord->groups.count ? coord->groups.count : 1, sizeof(*out));
    size_t n = 0;
    const group_t *grp;
    for (size_t pos = 0; (grp = sa_hmap_next(&coord->groups, &pos, NULL, NULL));) {
        if (grp->state == SA_GROUP_DEAD) continue;
        const char *state = sa_group_state_name(grp->state);
        int match = nstates == 0;
        for (size_t i = 0; i < nstates && !match; i++) match = states[i] && !strcasecmp(states[i], state);
        if (!match) continue;
        out[n].GroupId = grp->id;
        out[n].ProtocolType = grp->protocol_type ? grp->protocol_type : "";
        out[n].GroupState = state;
        n++;
    }
    *count = n;
    return out;
}

sa_err_t sa_gcoord_delete_group(sa_gcoord_t *coord, const char *group_id, int64_t now_ms) {
    gc_enter(coord, now_ms); /* a member whose session ended before this request is gone first */
    sa_err_t err = SA_OK;
    group_t *grp = gc_group_get(coord, group_id);
    if (!grp || grp->state == SA_GROUP_DEAD)
        err = SA_ERR_GROUP_ID_NOT_FOUND;
    else if (grp->state != SA_GROUP_EMPTY)
        err = SA_ERR_NON_EMPTY_GROUP;
    else if (coord->offsets)
        err = sa_offsets_delete_group(coord->offsets, group_id);
    if (!err) group_remove(coord, grp);
    gc_leave(coord);
    return err;
}

/* Does ConsumerProtocolSubscription @p meta name @p topic? Unparseable metadata says yes. */
static int subscribes(const uint8_t *meta, size_t len, const char *topic) {
    if (len < 6) return 1;
    size_t pos = 2; /* Version */
    int32_t n = (int32_t)(((uint32_t)meta[pos] << 24) | ((uint32_t)meta[pos + 1] << 16) |
                          ((uint32_t)meta[pos + 2] << 8) | meta[pos + 3]);
    pos += 4;
    if (n < 0) return 1;
    size_t tlen = strlen(topic);
    for (int32_t i = 0; i < n; i++) {
        if (len - pos < 2) return 1;
        size_t slen = ((size_t)meta[pos] << 8) | meta[pos + 1];
        pos += 2;
        if (len - pos < slen) return 1;
        if (slen == tlen && !memcmp(meta + pos, topic, tlen)) return 1;
        pos += slen;
    }
    return 0;
}

/* The group-level answer of an OffsetDelete for @p topic. */
static sa_err_t offset_delete_check(const group_t *grp, const char *topic) {
    if (!grp || grp->state == SA_GROUP_DEAD) return SA_ERR_GROUP_ID_NOT_FOUND;
    if (!grp->nmembers) return SA_OK;
    if (!grp->protocol_type || strcmp(grp->protocol_type, "consumer")) return SA_ERR_NON_EMPTY_GROUP;
    for (const gmember_t *mem = grp->members; mem; mem = mem->next) {
        const gproto_t *proto = gc_member_protocol(mem, grp->protocol_name);
        if (!proto || subscribes(proto->meta, proto->meta_len, topic))
            return SA_ERR_GROUP_SUBSCRIBED_TO_TOPIC;
    }
    return SA_OK;
}

sa_err_t sa_gcoord_offset_delete_check(sa_gcoord_t *coord, const char *group_id, const char *topic,
                                       int64_t now_ms) {
    gc_enter(coord, now_ms);
    sa_err_t err = offset_delete_check(gc_group_get(coord, group_id), topic);
    gc_leave(coord);
    return err;
}
