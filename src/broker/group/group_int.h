/*
 * group_int.h - the coordinator's internal layouts, shared by coordinator.c (registry, timers,
 * describe/list/delete), group_join.c (JoinGroup and the rebalance) and group_member.c
 * (SyncGroup, Heartbeat, LeaveGroup, commit checks). Not for use outside src/broker/group/.
 */
#ifndef SA_BROKER_GROUP_INT_H
#define SA_BROKER_GROUP_INT_H

#include "broker/group/coordinator.h"
#include "core/hash.h"

typedef struct gproto_s {
    char *name;    /* owned */
    uint8_t *meta; /* owned, may be NULL when meta_len is 0 */
    size_t meta_len;
} gproto_t;

typedef struct gmember_s {
    struct gmember_s *next; /* the group's members, in join order */
    char *member_id;        /* owned */
    char *instance_id;      /* owned, NULL for dynamic members */
    char *client_id;        /* owned, never NULL */
    char *client_host;      /* owned, never NULL */
    int32_t session_timeout_ms;
    int32_t rebalance_timeout_ms;
    gproto_t *protocols; /* owned, nprotocols, in preference order */
    size_t nprotocols;
    uint8_t *assignment; /* owned, set by the leader's SyncGroup */
    size_t assignment_len;
    sa_group_join_cb *join_cb; /* parked JoinGroup, or NULL */
    void *join_opaque;
    sa_group_sync_cb *sync_cb; /* parked SyncGroup, or NULL */
    void *sync_opaque;
    int64_t expires_ms; /* session deadline (ignored while a callback is parked) */
} gmember_t;

/* A member id handed out with MEMBER_ID_REQUIRED, waiting for the member's second JoinGroup. */
typedef struct gpending_s {
    struct gpending_s *next;
    char *member_id;    /* owned */
    int64_t expires_ms; /* dropped if it does not come back within its session timeout */
} gpending_t;

typedef struct group_s {
    char *id; /* owned; also the registry key */
    sa_group_state_t state;
    int32_t generation;
    char *protocol_type; /* owned, NULL until the first member */
    char *protocol_name; /* owned, chosen at the end of each join phase; NULL if none */
    char *leader_id;     /* owned, NULL if no leader */
    gmember_t *members;
    size_t nmembers;
    gpending_t *pending;
    int64_t join_deadline_ms;    /* PreparingRebalance: when the join phase ends regardless; else 0 */
    int initial_delay;           /* 1 while the first join phase of an Empty group is being delayed */
    int64_t delay_left_ms;       /* initial delay: how much more it may be extended */
    int joined_during_delay;     /* a new member came during the current delay step */
    int64_t empty_since_ms;      /* wall time the group became Empty (offset retention counts from it) */
    int32_t _checked_generation; /* the generation the last invariant check saw (it only grows) */
} group_t;

struct sa_gcoord_s {
    sa_gcoord_conf_t conf;
    struct sa_offsets_s *offsets; /* borrowed, may be NULL */
    sa_hmap_t groups;             /* id (the group's own) -> group_t */
    int64_t next_retention_ms;    /* monotonic time of the next offset-expiry pass */
    int64_t due_ms;               /* no deadline is earlier (exact after every public call) */
    uint64_t member_seq;          /* makes member ids unique within this process */
};

/* coordinator.c */
/** Every public call starts with this: run what is due at @p now_ms before acting on a request
 *  that arrived then. */
void gc_enter(sa_gcoord_t *coord, int64_t now_ms);
/** ...and ends with this: recompute coord->due_ms, check the invariants. */
void gc_leave(sa_gcoord_t *coord);
group_t *gc_group_get(const sa_gcoord_t *coord, const char *id);
group_t *gc_group_get_or_create(sa_gcoord_t *coord, const char *id);
gmember_t *gc_member_find(const group_t *grp, const char *member_id);
gmember_t *gc_member_find_instance(const group_t *grp, const char *instance_id);
/**
 * Kafka's validateCurrentMember: with an @p instance_id, it must be known (else
 * UNKNOWN_MEMBER_ID) and held by @p member_id (else FENCED_INSTANCE_ID: a static member's old
 * incarnation); then @p member_id must be a member (else UNKNOWN_MEMBER_ID). @returns NONE and
 * the member in *out.
 */
sa_err_t gc_member_check(const group_t *grp, const char *member_id, const char *instance_id, gmember_t **out);
/** @returns the member's metadata for protocol @p name, or NULL. */
const gproto_t *gc_member_protocol(const gmember_t *mem, const char *name);
/** Free @p mem (not linked in any group). */
void gc_member_free(gmember_t *mem);
/** Unlink and free @p mem, answering its parked callbacks with @p err. */
void gc_member_remove(sa_gcoord_t *coord, group_t *grp, gmember_t *mem, sa_err_t err);
void gc_set_state(group_t *grp, sa_group_state_t state);

/* group_persist.c */
/** Write @p grp's membership record (Stable or Empty) to the metadata log; no-op without an offsets store. */
void gc_persist(sa_gcoord_t *coord, group_t *grp);
/** Fill @p grp (new, Empty) from membership record @p blob; an unreadable record leaves it Empty. */
void gc_restore(sa_gcoord_t *coord, group_t *grp, const uint8_t *blob, size_t len, int64_t now_ms);

/* group_join.c */
/** Move to PreparingRebalance (answering parked SyncGroups with REBALANCE_IN_PROGRESS). */
void gc_prepare_rebalance(sa_gcoord_t *coord, group_t *grp, int64_t now_ms, const char *why);
/** In PreparingRebalance: complete the join phase if every member has rejoined. */
void gc_try_complete_join(sa_gcoord_t *coord, group_t *grp, int64_t now_ms);
/** End the join phase now: drop members that did not rejoin, start the next generation. */
void gc_complete_join(sa_gcoord_t *coord, group_t *grp, int64_t now_ms);
/** A member left or expired: rebalance the others (or complete the join phase without it). */
void gc_member_gone(sa_gcoord_t *coord, group_t *grp, int64_t now_ms, const char *why);

#endif
