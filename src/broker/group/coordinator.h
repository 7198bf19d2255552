/*
 * coordinator.h - the classic (pre-KIP-848) consumer group coordinator, free of any transport.
 *
 * The coordinator keeps groups, their members and generations, runs the rebalance state machine
 * and its timers, and validates offset commits. It never touches a socket or a clock: every call
 * takes the current monotonic time in milliseconds, and the broker (or a unit test) calls
 * sa_gcoord_tick() when sa_gcoord_next_deadline() comes due. Every call first runs what is due
 * at its `now_ms` (a member whose session ended before a request arrived is gone before the
 * request is judged), so the answer never depends on whether the timer or the request came
 * first in the broker's loop. Wire handlers translate requests into the structs below and
 * results back into responses (src/broker/handle_group*.c).
 *
 * Deferred answers. JoinGroup and SyncGroup often cannot be answered at once: a JoinGroup waits
 * until every member has rejoined (or the rebalance timeout passes), a SyncGroup from a follower
 * waits for the leader's assignment. Those calls take a callback and an opaque pointer; the
 * callback is invoked exactly once, either during the call itself or during a later call into the
 * coordinator (another member's request, a tick), unless the caller withdraws it first with
 * sa_gcoord_cancel() (its connection went away). Callbacks must not call back into the
 * coordinator; they only encode and queue a response. Every pointer a callback receives is
 * valid only during the callback.
 *
 * Group states (Kafka's names):
 *   Empty                no members (offsets may exist); a JoinGroup starts a rebalance.
 *   PreparingRebalance   waiting for members to (re)join; JoinGroup answers are parked.
 *   CompletingRebalance  joins answered; waiting for the leader's SyncGroup with assignments.
 *   Stable               assignments handed out; members heartbeat.
 *   Dead                 being removed (DeleteGroups, or expired with no offsets).
 *
 * Invariants:
 *   1. A member has at most one parked JoinGroup and one parked SyncGroup callback.
 *   2. In Stable and CompletingRebalance no member has a parked JoinGroup.
 *   3. A member with a parked callback never expires by session timeout (Kafka keeps members
 *      awaiting a rebalance alive); the rebalance timeout bounds PreparingRebalance instead.
 *   4. The generation id only grows; it increases by one each time a rebalance completes.
 *   5. Empty has no members and no leader; Stable and CompletingRebalance have members, a leader
 *      among them and a protocol; a parked SyncGroup exists only in CompletingRebalance.
 * (Checked after every call in debug and sanitizer builds: check_group() in coordinator.c.)
 *
 * @locality single-threaded: the broker's loop thread.
 */
#ifndef SA_BROKER_GROUP_COORDINATOR_H
#define SA_BROKER_GROUP_COORDINATOR_H

#include <stddef.h>
#include <stdint.h>

#include "core/err.h"

typedef struct sa_gcoord_s sa_gcoord_t;

typedef enum sa_group_state_e {
    SA_GROUP_EMPTY = 0,
    SA_GROUP_PREPARING_REBALANCE,
    SA_GROUP_COMPLETING_REBALANCE,
    SA_GROUP_STABLE,
    SA_GROUP_DEAD,
} sa_group_state_t;

/** @returns Kafka's name of @p state ("Empty", "PreparingRebalance", ...), static. */
const char *sa_group_state_name(sa_group_state_t state);

typedef struct sa_gcoord_conf_s {
    int32_t min_session_timeout_ms;     /* group.min.session.timeout.ms (Kafka: 6000) */
    int32_t max_session_timeout_ms;     /* group.max.session.timeout.ms (Kafka: 1800000) */
    int32_t initial_rebalance_delay_ms; /* group.initial.rebalance.delay.ms (Kafka: 3000) */
    int64_t offsets_retention_ms;       /* offsets.retention.minutes * 60000 (Kafka: 7 days) */
    int64_t retention_check_ms;         /* how often expired offsets are looked for (Kafka: 600000) */
    int32_t max_group_size;             /* group.max.size; 0 = unlimited */
} sa_gcoord_conf_t;

/** Fill @p conf with Kafka's defaults. */
void sa_gcoord_conf_defaults(sa_gcoord_conf_t *conf);

struct sa_offsets_s;

/**
 * @returns new: a coordinator. @p offsets is borrowed (may be NULL in tests of membership only)
 * and must outlive it; every group that has committed offsets is created in state Empty.
 */
sa_gcoord_t *sa_gcoord_new(const sa_gcoord_conf_t *conf, struct sa_offsets_s *offsets, int64_t now_ms);
/** Free everything. Parked callbacks are dropped without being called. */
void sa_gcoord_free(sa_gcoord_t *coord);

/** @returns the monotonic time (ms) of the next timer, or INT64_MAX if there is none. */
int64_t sa_gcoord_next_deadline(const sa_gcoord_t *coord);
/** Run every timer due at @p now_ms: session expiry, rebalance and initial-delay timeouts, offset expiry. */
void sa_gcoord_tick(sa_gcoord_t *coord, int64_t now_ms);
/** Withdraw every parked callback whose opaque is @p opaque (its connection closed). */
void sa_gcoord_cancel(sa_gcoord_t *coord, const void *opaque);
/**
 * Create (Empty, or from its membership record) every group the offsets store knows and the
 * coordinator does not: at start, and after a failed sync rebuilt the offsets store from the
 * metadata log. Groups the coordinator has keep their live state.
 */
void sa_gcoord_load_groups(sa_gcoord_t *coord, int64_t now_ms);

/* ---- JoinGroup ---------------------------------------------------------------------------- */

typedef struct sa_group_protocol_s {
    const char *Name;        /* assignor name, "range" */
    const uint8_t *Metadata; /* opaque subscription bytes */
    size_t MetadataLen;
} sa_group_protocol_t;

/** A JoinGroup request; every pointer is borrowed for the call (the coordinator copies). */
typedef struct sa_group_join_req_s {
    const char *GroupId;
    int32_t SessionTimeoutMs;
    int32_t RebalanceTimeoutMs;           /* v0: the session timeout */
    const char *MemberId;                 /* "" for a new member */
    const char *GroupInstanceId;          /* NULL: dynamic member (static membership otherwise) */
    const char *ProtocolType;             /* "consumer" */
    const sa_group_protocol_t *Protocols; /* in the member's order of preference */
    size_t ProtocolCount;
    const char *ClientId;        /* for DescribeGroups; may be NULL */
    const char *ClientHost;      /* "/127.0.0.1"; may be NULL */
    int require_known_member_id; /* v4+: a new member first gets MEMBER_ID_REQUIRED */
    int skip_assignment_ok;      /* v9+: a returning static leader may be told SkipAssignment */
} sa_group_join_req_t;

typedef struct sa_group_join_member_s {
    const char *MemberId;
    const char *GroupInstanceId; /* NULL for dynamic members */
    const uint8_t *Metadata;     /* the member's metadata for the chosen protocol */
    size_t MetadataLen;
} sa_group_join_member_t;

/** The answer to a JoinGroup; valid only during the callback. */
typedef struct sa_group_join_result_s {
    sa_err_t ErrorCode;
    int32_t GenerationId;     /* -1 on error */
    const char *ProtocolType; /* NULL on error */
    const char *ProtocolName; /* NULL on error */
    const char *Leader;       /* "" on error */
    const char *MemberId;     /* the member's id ("" if none; set with MEMBER_ID_REQUIRED) */
    int SkipAssignment;       /* v9: a returning static leader of a Stable group must not assign */
    const sa_group_join_member_t *Members; /* the leader's copy of every member; NULL/0 otherwise */
    size_t MemberCount;
} sa_group_join_result_t;

typedef void sa_group_join_cb(void *opaque, const sa_group_join_result_t *res);

/** Handle a JoinGroup; @p cb(@p opaque) is called exactly once, now or later (see the top). */
void sa_gcoord_join(sa_gcoord_t *coord, const sa_group_join_req_t *req, int64_t now_ms, sa_group_join_cb *cb,
                    void *opaque);

/* ---- SyncGroup ---------------------------------------------------------------------------- */

typedef struct sa_group_assignment_s {
    const char *MemberId;
    const uint8_t *Assignment;
    size_t AssignmentLen;
} sa_group_assignment_t;

typedef struct sa_group_sync_req_s {
    const char *GroupId;
    int32_t GenerationId;
    const char *MemberId;
    const char *GroupInstanceId;              /* NULL if none */
    const char *ProtocolType;                 /* v5+, NULL if absent */
    const char *ProtocolName;                 /* v5+, NULL if absent */
    const sa_group_assignment_t *Assignments; /* the leader's; ignored from followers */
    size_t AssignmentCount;
} sa_group_sync_req_t;

/** The answer to a SyncGroup; pointers valid only during the callback. */
typedef struct sa_group_sync_result_s {
    sa_err_t ErrorCode;
    const char *ProtocolType; /* NULL on error */
    const char *ProtocolName; /* NULL on error */
    const uint8_t *Assignment;
    size_t AssignmentLen;
} sa_group_sync_result_t;

typedef void sa_group_sync_cb(void *opaque, const sa_group_sync_result_t *res);

void sa_gcoord_sync(sa_gcoord_t *coord, const sa_group_sync_req_t *req, int64_t now_ms, sa_group_sync_cb *cb,
                    void *opaque);

/* ---- Heartbeat, LeaveGroup, commit validation -------------------------------------------- */

/** @returns NONE, UNKNOWN_MEMBER_ID, ILLEGAL_GENERATION, REBALANCE_IN_PROGRESS, FENCED_INSTANCE_ID, ... */
sa_err_t sa_gcoord_heartbeat(sa_gcoord_t *coord, const char *group_id, int32_t generation,
                             const char *member_id, const char *instance_id, int64_t now_ms);

/**
 * One member leaving (LeaveGroup v0-2 has one; v3+ a list). @p member_id may be "" when
 * @p instance_id names a static member. @returns the member's error code.
 */
sa_err_t sa_gcoord_leave(sa_gcoord_t *coord, const char *group_id, const char *member_id,
                         const char *instance_id, int64_t now_ms);

/**
 * May this OffsetCommit be written? Simple commits (generation -1, member "") are accepted only
 * while the group has no members; member commits must carry the current generation. Creates the
 * group (Empty) if it does not exist. @returns NONE or the error for every partition.
 */
sa_err_t sa_gcoord_commit_check(sa_gcoord_t *coord, const char *group_id, int32_t generation,
                                const char *member_id, const char *instance_id, int64_t now_ms);

/**
 * May this TxnOffsetCommit be kept (Kafka's validateOffsetCommit with isTransactional)? As
 * sa_gcoord_commit_check, except that an anonymous commit (generation -1, no member: TxnOffsetCommit
 * v0-2) is accepted even while the group has members, and a rebalance does not refuse it.
 * Creates the group (Empty) if it does not exist. @returns NONE or the error for every partition.
 */
sa_err_t sa_gcoord_txn_commit_check(sa_gcoord_t *coord, const char *group_id, int32_t generation,
                                    const char *member_id, const char *instance_id, int64_t now_ms);

/** Is the group known and not Dead? (OffsetFetch answers GROUP_ID_NOT_FOUND-free -1 either way.) */
int sa_gcoord_group_exists(sa_gcoord_t *coord, const char *group_id, int64_t now_ms);

/* ---- DescribeGroups, ListGroups, DeleteGroups, OffsetDelete ------------------------------ */

typedef struct sa_group_desc_member_s {
    const char *MemberId;
    const char *GroupInstanceId; /* NULL if dynamic */
    const char *ClientId;
    const char *ClientHost;
    const uint8_t *MemberMetadata; /* for the group's protocol (empty unless Stable/Completing) */
    size_t MemberMetadataLen;
    const uint8_t *MemberAssignment; /* empty unless Stable */
    size_t MemberAssignmentLen;
} sa_group_desc_member_t;

typedef struct sa_group_desc_s {
    sa_err_t ErrorCode;       /* NONE; a group never seen is described as Dead with NONE, as Kafka does */
    const char *GroupState;   /* "Stable", ... */
    const char *ProtocolType; /* "" if none */
    const char *ProtocolData; /* the chosen protocol name, "" if none */
    sa_group_desc_member_t *Members; /* owned by the desc (free with sa_gcoord_desc_free) */
    size_t MemberCount;
} sa_group_desc_t;

/**
 * Describe @p group_id into @p out. Strings point into the coordinator and stay valid until the
 * next call into it; out->Members is new (sa_gcoord_desc_free).
 */
void sa_gcoord_describe(sa_gcoord_t *coord, const char *group_id, int64_t now_ms, sa_group_desc_t *out);
void sa_gcoord_desc_free(sa_group_desc_t *desc);

typedef struct sa_group_listing_s {
    const char *GroupId;      /* valid until the next call into the coordinator */
    const char *ProtocolType; /* "" for groups that only hold offsets */
    const char *GroupState;
} sa_group_listing_t;

/**
 * @returns new: every live group (free() the array), their count in @p *count. When
 * @p states/@p nstates is non-empty, only groups in one of those states (names compared
 * case-insensitively, as ListGroups v4 does).
 */
sa_group_listing_t *sa_gcoord_list(sa_gcoord_t *coord, const char *const *states, size_t nstates,
                                   int64_t now_ms, size_t *count);

/**
 * DeleteGroups for one group: NON_EMPTY_GROUP while it has members, GROUP_ID_NOT_FOUND if
 * unknown; otherwise removes the group and appends the deletion of its offsets and membership
 * record to the metadata log (durable with the next group commit). @returns the error code, or
 * KAFKA_STORAGE_ERROR if the append failed (the group stays).
 */
sa_err_t sa_gcoord_delete_group(sa_gcoord_t *coord, const char *group_id, int64_t now_ms);

/**
 * OffsetDelete group-level check: GROUP_ID_NOT_FOUND if unknown; GROUP_SUBSCRIBED_TO_TOPIC if a
 * current member subscribes to @p topic (read from "consumer" protocol metadata; metadata that
 * does not parse counts as subscribed, so nothing in use is deleted). @returns NONE when offsets
 * of @p topic may be deleted.
 */
sa_err_t sa_gcoord_offset_delete_check(sa_gcoord_t *coord, const char *group_id, const char *topic,
                                       int64_t now_ms);

#endif
