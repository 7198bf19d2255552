/* The group coordinator's state machine, driven directly with a fake clock: joins, the
 * member-id round trip, leader election, protocol selection, SyncGroup waiting for the leader,
 * heartbeats, leaving, session and rebalance timeouts, static membership, commit checks,
 * describe/list/delete. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "broker/group/coordinator.h"
#include "core/log.h"

/* A client's view of one parked call. */
typedef struct call_s {
    int answered;
    sa_err_t err;
    int32_t generation;
    char member_id[128];
    char leader[128];
    char protocol[32];
    size_t nmembers;     /* JoinGroup: members the leader was given */
    int skip;            /* JoinGroup: SkipAssignment */
    char assignment[64]; /* SyncGroup */
} call_t;

static void on_join(void *opaque, const sa_group_join_result_t *res) {
    call_t *c = opaque;
    assert_false(c->answered); /* exactly once */
    c->answered = 1;
    c->err = res->ErrorCode;
    c->generation = res->GenerationId;
    snprintf(c->member_id, sizeof(c->member_id), "%s", res->MemberId ? res->MemberId : "");
    snprintf(c->leader, sizeof(c->leader), "%s", res->Leader ? res->Leader : "");
    snprintf(c->protocol, sizeof(c->protocol), "%s", res->ProtocolName ? res->ProtocolName : "");
    c->nmembers = res->MemberCount;
    c->skip = res->SkipAssignment;
}

static void on_sync(void *opaque, const sa_group_sync_result_t *res) {
    call_t *c = opaque;
    assert_false(c->answered);
    c->answered = 1;
    c->err = res->ErrorCode;
    snprintf(c->assignment, sizeof(c->assignment), "%.*s", (int)res->AssignmentLen,
             res->Assignment ? (const char *)res->Assignment : "");
}

static sa_gcoord_t *new_coord(int delay_ms) {
    sa_gcoord_conf_t conf;
    sa_gcoord_conf_defaults(&conf);
    conf.initial_rebalance_delay_ms = delay_ms;
    return sa_gcoord_new(&conf, NULL, 0);
}

static const sa_group_protocol_t range_rr[] = {{"range", (const uint8_t *)"R", 1},
                                               {"roundrobin", (const uint8_t *)"O", 1}};

/* JoinGroup; @p v4: MEMBER_ID_REQUIRED round trip; @p v9: SkipAssignment understood. */
static void join_v(sa_gcoord_t *gc, call_t *c, const char *group, const char *member_id, const char *instance,
                   const sa_group_protocol_t *protos, size_t nprotos, int v4, int v9, int64_t now) {
    char id[128];
    snprintf(id, sizeof(id), "%s", member_id); /* it may live in *c, which is reset below */
    member_id = id;
    memset(c, 0, sizeof(*c));
    sa_group_join_req_t req = {.GroupId = group,
                               .SessionTimeoutMs = 10000,
                               .RebalanceTimeoutMs = 30000,
                               .MemberId = member_id,
                               .GroupInstanceId = instance,
                               .ProtocolType = "consumer",
                               .Protocols = protos,
                               .ProtocolCount = nprotos,
                               .ClientId = "c",
                               .ClientHost = "/127.0.0.1",
                               .require_known_member_id = v4,
                               .skip_assignment_ok = v9};
    sa_gcoord_join(gc, &req, now, on_join, c);
}

static void join(sa_gcoord_t *gc, call_t *c, const char *group, const char *member_id, const char *instance,
                 const sa_group_protocol_t *protos, size_t nprotos, int v4, int64_t now) {
    join_v(gc, c, group, member_id, instance, protos, nprotos, v4, 0, now);
}

static void sync_call(sa_gcoord_t *gc, call_t *c, const char *group, int32_t gen, const char *member,
                      const sa_group_assignment_t *as, size_t nas, int64_t now) {
    memset(c, 0, sizeof(*c));
    sa_group_sync_req_t req = {
        .GroupId = group, .GenerationId = gen, .MemberId = member, .Assignments = as, .AssignmentCount = nas};
    sa_gcoord_sync(gc, &req, now, on_sync, c);
}

/* A time before every deadline: look at the coordinator without letting its clock run. */
#define LOOK INT64_MIN

static const char *state_of(sa_gcoord_t *gc, const char *group) {
    sa_group_desc_t d;
    sa_gcoord_describe(gc, group, LOOK, &d);
    const char *s = d.GroupState;
    sa_gcoord_desc_free(&d);
    return s;
}

/* Bring up a stable group of n dynamic members (v0 joins, no delay); ids into ids[]. */
static void stable_group(sa_gcoord_t *gc, const char *group, int n, char ids[][128], int32_t *gen) {
    call_t j[8] = {0}, s[8] = {0};
    for (int i = 0; i < n; i++) join(gc, &j[i], group, "", NULL, range_rr, 2, 0, 0);
    /* the first join completed alone (no delay, everyone known had joined); the others then
     * started a second rebalance that the first member must rejoin */
    if (n > 1) {
        assert_true(j[0].answered);
        call_t r;
        join(gc, &r, group, j[0].member_id, NULL, range_rr, 2, 0, 0);
        j[0] = r;
    }
    for (int i = 0; i < n; i++) {
        assert_true(j[i].answered);
        assert_int_equal(j[i].err, SA_OK);
        snprintf(ids[i], 128, "%s", j[i].member_id);
    }
    *gen = j[0].generation;
    sa_group_assignment_t as[8];
    char text[8][16];
    for (int i = 0; i < n; i++) {
        snprintf(text[i], sizeof(text[i]), "A%d", i);
        as[i] = (sa_group_assignment_t){ids[i], (const uint8_t *)text[i], strlen(text[i])};
    }
    const char *leader = j[0].leader;
    for (int i = 0; i < n; i++)
        if (strcmp(ids[i], leader)) sync_call(gc, &s[i], group, *gen, ids[i], NULL, 0, 0);
    for (int i = 0; i < n; i++)
        if (!strcmp(ids[i], leader)) sync_call(gc, &s[i], group, *gen, ids[i], as, (size_t)n, 0);
    for (int i = 0; i < n; i++) {
        assert_true(s[i].answered);
        assert_int_equal(s[i].err, SA_OK);
        assert_string_equal(s[i].assignment, text[i]);
    }
    assert_string_equal(state_of(gc, group), "Stable");
}

static void member_id_required_then_delay(void **state) {
    (void)state;
    sa_gcoord_t *gc = new_coord(3000);
    call_t a, b;
    join(gc, &a, "g", "", NULL, range_rr, 2, 1, 0);
    assert_true(a.answered);
    assert_int_equal(a.err, SA_ERR_MEMBER_ID_REQUIRED);
    assert_true(strncmp(a.member_id, "c-", 2) == 0);
    join(gc, &b, "g", a.member_id, NULL, range_rr, 2, 1, 10);
    assert_false(b.answered); /* held by group.initial.rebalance.delay.ms */
    assert_string_equal(state_of(gc, "g"), "PreparingRebalance");
    assert_int_equal(sa_gcoord_next_deadline(gc), 3010);
    sa_gcoord_tick(gc, 3009);
    assert_false(b.answered);
    sa_gcoord_tick(gc, 3010);
    assert_true(b.answered);
    assert_int_equal(b.err, SA_OK);
    assert_int_equal(b.generation, 1);
    assert_string_equal(b.leader, a.member_id);
    assert_string_equal(b.protocol, "range");
    assert_int_equal(b.nmembers, 1);
    assert_string_equal(state_of(gc, "g"), "CompletingRebalance");
    /* an unknown id on the second round trip */
    call_t c;
    join(gc, &c, "g", "nobody", NULL, range_rr, 2, 1, 20);
    assert_int_equal(c.err, SA_ERR_UNKNOWN_MEMBER_ID);
    sa_gcoord_free(gc);
}

static void delay_extends_while_members_arrive(void **state) {
    (void)state;
    sa_gcoord_t *gc = new_coord(3000);
    call_t a, b;
    join(gc, &a, "g", "", NULL, range_rr, 2, 0, 0);
    join(gc, &b, "g", "", NULL, range_rr, 2, 0, 2000); /* arrives during the delay */
    sa_gcoord_tick(gc, 3000);
    assert_false(a.answered); /* extended by one more step */
    sa_gcoord_tick(gc, 6000);
    assert_true(a.answered && b.answered);
    assert_int_equal(a.generation, 1);
    assert_int_equal(b.generation, 1);
    assert_string_equal(a.leader, b.leader);
    call_t *leader = !strcmp(a.leader, a.member_id) ? &a : &b;
    assert_int_equal(leader->nmembers, 2);
    assert_int_equal((leader == &a ? &b : &a)->nmembers, 0);
    sa_gcoord_free(gc);
}

static void three_members_sync_waits_for_leader(void **state) {
    (void)state;
    sa_gcoord_t *gc = new_coord(0);
    char ids[3][128];
    int32_t gen;
    stable_group(gc, "g", 3, ids, &gen);
    assert_int_equal(gen, 2);
    for (int i = 0; i < 3; i++) assert_int_equal(sa_gcoord_heartbeat(gc, "g", gen, ids[i], NULL, 100), SA_OK);
    assert_int_equal(sa_gcoord_heartbeat(gc, "g", gen - 1, ids[0], NULL, 100), SA_ERR_ILLEGAL_GENERATION);
    assert_int_equal(sa_gcoord_heartbeat(gc, "g", gen, "stranger", NULL, 100), SA_ERR_UNKNOWN_MEMBER_ID);
    assert_int_equal(sa_gcoord_heartbeat(gc, "nogroup", gen, ids[0], NULL, 100), SA_ERR_UNKNOWN_MEMBER_ID);
    sa_group_desc_t d;
    sa_gcoord_describe(gc, "g", LOOK, &d);
    assert_int_equal(d.MemberCount, 3);
    assert_string_equal(d.ProtocolData, "range");
    assert_string_equal(d.ProtocolType, "consumer");
    assert_int_equal(d.Members[0].MemberAssignmentLen, 2);
    assert_string_equal(d.Members[0].ClientHost, "/127.0.0.1");
    sa_gcoord_desc_free(&d);
    sa_gcoord_free(gc);
}

static void leave_triggers_rebalance(void **state) {
    (void)state;
    sa_gcoord_t *gc = new_coord(0);
    char ids[3][128];
    int32_t gen;
    stable_group(gc, "g", 3, ids, &gen);
    assert_int_equal(sa_gcoord_leave(gc, "g", ids[2], NULL, 1000), SA_OK);
    assert_string_equal(state_of(gc, "g"), "PreparingRebalance");
    assert_int_equal(sa_gcoord_heartbeat(gc, "g", gen, ids[0], NULL, 1000), SA_ERR_REBALANCE_IN_PROGRESS);
    assert_int_equal(sa_gcoord_leave(gc, "g", ids[2], NULL, 1000), SA_ERR_UNKNOWN_MEMBER_ID);
    /* a member commits what it gives up during PreparingRebalance: allowed */
    assert_int_equal(sa_gcoord_commit_check(gc, "g", gen, ids[0], NULL, 1000), SA_OK);
    call_t a, b;
    join(gc, &a, "g", ids[0], NULL, range_rr, 2, 1, 1100);
    assert_false(a.answered);
    join(gc, &b, "g", ids[1], NULL, range_rr, 2, 1, 1200);
    assert_true(a.answered && b.answered); /* everyone left has rejoined */
    assert_int_equal(a.generation, gen + 1);
    assert_string_equal(state_of(gc, "g"), "CompletingRebalance");
    /* SyncGroup with the old generation */
    call_t s;
    sync_call(gc, &s, "g", gen, ids[1], NULL, 0, 1300);
    assert_int_equal(s.err, SA_ERR_ILLEGAL_GENERATION);
    /* commits are refused until the assignment is handed out */
    assert_int_equal(sa_gcoord_commit_check(gc, "g", gen + 1, ids[0], NULL, 1300),
                     SA_ERR_REBALANCE_IN_PROGRESS);
    sa_gcoord_free(gc);
}

static void session_timeout_expires_member(void **state) {
    (void)state;
    sa_gcoord_t *gc = new_coord(0);
    char ids[2][128];
    int32_t gen;
    stable_group(gc, "g", 2, ids, &gen);
    /* member 0 heartbeats, member 1 is silent (killed) */
    for (int64_t t = 3000; t <= 9000; t += 3000)
        assert_int_equal(sa_gcoord_heartbeat(gc, "g", gen, ids[0], NULL, t), SA_OK);
    sa_gcoord_tick(gc, 9999);
    assert_string_equal(state_of(gc, "g"), "Stable");
    sa_gcoord_tick(gc, 10000); /* member 1's session (10 s from its sync at 0) ran out */
    assert_string_equal(state_of(gc, "g"), "PreparingRebalance");
    assert_int_equal(sa_gcoord_heartbeat(gc, "g", gen, ids[1], NULL, 10001), SA_ERR_UNKNOWN_MEMBER_ID);
    assert_int_equal(sa_gcoord_heartbeat(gc, "g", gen, ids[0], NULL, 10001), SA_ERR_REBALANCE_IN_PROGRESS);
    call_t a;
    join(gc, &a, "g", ids[0], NULL, range_rr, 2, 1, 10002);
    assert_true(a.answered);
    assert_int_equal(a.nmembers, 1);
    assert_string_equal(a.leader, ids[0]);
    sa_gcoord_free(gc);
}

static void rebalance_timeout_drops_laggard(void **state) {
    (void)state;
    sa_gcoord_t *gc = new_coord(0);
    char ids[3][128];
    int32_t gen;
    stable_group(gc, "g", 3, ids, &gen);
    call_t a, b, c;
    join(gc, &a, "g", ids[0], NULL, range_rr, 2, 1, 1000); /* the leader rejoins: rebalance */
    join(gc, &b, "g", ids[1], NULL, range_rr, 2, 1, 1000);
    /* ids[2] keeps heartbeating but never rejoins */
    for (int64_t t = 1000; t < 31000; t += 3000)
        assert_int_equal(sa_gcoord_heartbeat(gc, "g", gen, ids[2], NULL, t), SA_ERR_REBALANCE_IN_PROGRESS);
    assert_false(a.answered);
    sa_gcoord_tick(gc, 31000); /* rebalance timeout: 30 s from the start of the phase */
    assert_true(a.answered && b.answered);
    assert_int_equal(a.generation, gen + 1);
    call_t *leader = !strcmp(a.leader, a.member_id) ? &a : &b;
    assert_int_equal(leader->nmembers, 2);
    join(gc, &c, "g", ids[2], NULL, range_rr, 2, 1, 31001);
    assert_int_equal(c.err, SA_ERR_UNKNOWN_MEMBER_ID);
    sa_gcoord_free(gc);
}

static void protocol_selection(void **state) {
    (void)state;
    sa_gcoord_t *gc = new_coord(100);
    const sa_group_protocol_t p1[] = {{"range", NULL, 0}, {"roundrobin", NULL, 0}};
    const sa_group_protocol_t p2[] = {{"roundrobin", NULL, 0}, {"range", NULL, 0}};
    const sa_group_protocol_t p3[] = {{"roundrobin", NULL, 0}, {"cooperative-sticky", NULL, 0}};
    const sa_group_protocol_t bad[] = {{"sticky", NULL, 0}};
    call_t a, b, c, d;
    join(gc, &a, "g", "", NULL, p1, 2, 0, 0);
    join(gc, &b, "g", "", NULL, p2, 2, 0, 0);
    join(gc, &c, "g", "", NULL, p3, 2, 0, 0);
    join(gc, &d, "g", "", NULL, bad, 1, 0, 0);
    assert_true(d.answered);
    assert_int_equal(d.err, SA_ERR_INCONSISTENT_GROUP_PROTOCOL);
    sa_gcoord_tick(gc, 100); /* members kept arriving during the delay: one more step */
    assert_false(a.answered);
    sa_gcoord_tick(gc, 200);
    assert_true(a.answered && b.answered && c.answered);
    assert_string_equal(a.protocol, "roundrobin"); /* the only one all support */
    /* a different protocol type */
    call_t e;
    memset(&e, 0, sizeof(e));
    sa_group_join_req_t req = {.GroupId = "g",
                               .SessionTimeoutMs = 10000,
                               .MemberId = "",
                               .ProtocolType = "connect",
                               .Protocols = p1,
                               .ProtocolCount = 2};
    sa_gcoord_join(gc, &req, 300, on_join, &e);
    assert_int_equal(e.err, SA_ERR_INCONSISTENT_GROUP_PROTOCOL);
    /* votes: two prefer roundrobin, one range */
    sa_gcoord_t *gc2 = new_coord(100);
    join(gc2, &a, "h", "", NULL, p1, 2, 0, 0);
    join(gc2, &b, "h", "", NULL, p2, 2, 0, 0);
    join(gc2, &c, "h", "", NULL, p2, 2, 0, 0);
    sa_gcoord_tick(gc2, 100);
    sa_gcoord_tick(gc2, 200);
    assert_string_equal(a.protocol, "roundrobin");
    sa_gcoord_free(gc2);
    sa_gcoord_free(gc);
}

static void bad_requests(void **state) {
    (void)state;
    sa_gcoord_t *gc = new_coord(0);
    call_t a;
    memset(&a, 0, sizeof(a));
    sa_group_join_req_t req = {.GroupId = "g",
                               .SessionTimeoutMs = 10,
                               .MemberId = "",
                               .ProtocolType = "consumer",
                               .Protocols = range_rr,
                               .ProtocolCount = 2};
    sa_gcoord_join(gc, &req, 0, on_join, &a);
    assert_int_equal(a.err, SA_ERR_INVALID_SESSION_TIMEOUT);
    memset(&a, 0, sizeof(a));
    req.SessionTimeoutMs = 10000;
    req.GroupId = "";
    sa_gcoord_join(gc, &req, 0, on_join, &a);
    assert_int_equal(a.err, SA_ERR_INVALID_GROUP_ID);
    memset(&a, 0, sizeof(a));
    req.GroupId = "g";
    req.ProtocolCount = 0;
    sa_gcoord_join(gc, &req, 0, on_join, &a);
    assert_int_equal(a.err, SA_ERR_INCONSISTENT_GROUP_PROTOCOL);
    join(gc, &a, "g", "ghost", NULL, range_rr, 2, 1, 0); /* a member id for a group never seen */
    assert_int_equal(a.err, SA_ERR_UNKNOWN_MEMBER_ID);
    call_t s;
    sync_call(gc, &s, "g", 1, "ghost", NULL, 0, 0);
    assert_int_equal(s.err, SA_ERR_UNKNOWN_MEMBER_ID);
    sa_gcoord_free(gc);
}

static void static_member_rejoins_without_rebalance(void **state) {
    (void)state;
    sa_gcoord_t *gc = new_coord(0);
    call_t a, b, sa, sb;
    join(gc, &a, "g", "", "inst-a", range_rr, 2, 1, 0); /* static members skip MEMBER_ID_REQUIRED */
    assert_int_equal(a.err, SA_OK);
    join(gc, &b, "g", "", "inst-b", range_rr, 2, 1, 0);
    join(gc, &a, "g", a.member_id, "inst-a", range_rr, 2, 1, 0);
    assert_true(a.answered && b.answered);
    int32_t gen = a.generation;
    const char *leader = a.leader;
    call_t *lead = !strcmp(leader, a.member_id) ? &a : &b, *follow = lead == &a ? &b : &a;
    sa_group_assignment_t as[] = {{a.member_id, (const uint8_t *)"AA", 2},
                                  {b.member_id, (const uint8_t *)"BB", 2}};
    sync_call(gc, follow == &a ? &sa : &sb, "g", gen, follow->member_id, NULL, 0, 0);
    sync_call(gc, lead == &a ? &sa : &sb, "g", gen, lead->member_id, as, 2, 0);
    assert_string_equal(sa.assignment, "AA");
    assert_string_equal(sb.assignment, "BB");
    /* the follower restarts: new member id, same instance, no rebalance */
    char old_id[128];
    snprintf(old_id, sizeof(old_id), "%s", follow->member_id);
    const char *inst = follow == &a ? "inst-a" : "inst-b";
    call_t r;
    join(gc, &r, "g", "", inst, range_rr, 2, 1, 100);
    assert_true(r.answered);
    assert_int_equal(r.err, SA_OK);
    assert_int_equal(r.generation, gen);
    assert_string_not_equal(r.member_id, old_id);
    assert_string_equal(state_of(gc, "g"), "Stable");
    call_t s;
    sync_call(gc, &s, "g", gen, r.member_id, NULL, 0, 100);
    assert_string_equal(s.assignment, follow == &a ? "AA" : "BB");
    /* the old incarnation is fenced */
    assert_int_equal(sa_gcoord_heartbeat(gc, "g", gen, old_id, inst, 200), SA_ERR_FENCED_INSTANCE_ID);
    /* LeaveGroup v3+ by instance id only */
    assert_int_equal(sa_gcoord_leave(gc, "g", "", inst, 300), SA_OK);
    assert_string_equal(state_of(gc, "g"), "PreparingRebalance");
    sa_gcoord_free(gc);
}

static void commit_checks(void **state) {
    (void)state;
    sa_gcoord_t *gc = new_coord(0);
    /* simple consumer: a group nobody joined */
    assert_int_equal(sa_gcoord_commit_check(gc, "simple", -1, "", NULL, 0), SA_OK);
    assert_true(sa_gcoord_group_exists(gc, "simple", LOOK));
    assert_string_equal(state_of(gc, "simple"), "Empty");
    assert_int_equal(sa_gcoord_commit_check(gc, "other", 5, "m", NULL, 0), SA_ERR_ILLEGAL_GENERATION);
    char ids[2][128];
    int32_t gen;
    stable_group(gc, "g", 2, ids, &gen);
    assert_int_equal(sa_gcoord_commit_check(gc, "g", gen, ids[1], NULL, 0), SA_OK);
    assert_int_equal(sa_gcoord_commit_check(gc, "g", gen + 7, ids[1], NULL, 0), SA_ERR_ILLEGAL_GENERATION);
    assert_int_equal(sa_gcoord_commit_check(gc, "g", -1, "", NULL, 0), SA_ERR_UNKNOWN_MEMBER_ID);
    assert_int_equal(sa_gcoord_commit_check(gc, "g", gen, "x", NULL, 0), SA_ERR_UNKNOWN_MEMBER_ID);
    sa_gcoord_free(gc);
}

static void describe_list_delete(void **state) {
    (void)state;
    sa_gcoord_t *gc = new_coord(0);
    char ids[1][128];
    int32_t gen;
    stable_group(gc, "busy", 1, ids, &gen);
    assert_int_equal(sa_gcoord_commit_check(gc, "idle", -1, "", NULL, 0), SA_OK);
    size_t n;
    sa_group_listing_t *l = sa_gcoord_list(gc, NULL, 0, LOOK, &n);
    assert_int_equal(n, 2);
    free(l);
    const char *stable[] = {"stable"};
    l = sa_gcoord_list(gc, stable, 1, LOOK, &n);
    assert_int_equal(n, 1);
    assert_string_equal(l[0].GroupId, "busy");
    assert_string_equal(l[0].ProtocolType, "consumer");
    free(l);
    assert_string_equal(state_of(gc, "never"), "Dead");
    assert_int_equal(sa_gcoord_delete_group(gc, "busy", 0), SA_ERR_NON_EMPTY_GROUP);
    assert_int_equal(sa_gcoord_delete_group(gc, "never", 0), SA_ERR_GROUP_ID_NOT_FOUND);
    assert_int_equal(sa_gcoord_delete_group(gc, "idle", 0), SA_OK);
    assert_false(sa_gcoord_group_exists(gc, "idle", LOOK));
    /* the last member leaves: Empty, then deletable */
    assert_int_equal(sa_gcoord_leave(gc, "busy", ids[0], NULL, 10), SA_OK);
    assert_string_equal(state_of(gc, "busy"), "Empty");
    assert_int_equal(sa_gcoord_delete_group(gc, "busy", 10), SA_OK);
    sa_gcoord_free(gc);
}

static void cancel_withdraws_parked_call(void **state) {
    (void)state;
    sa_gcoord_t *gc = new_coord(1000);
    call_t a;
    join(gc, &a, "g", "", NULL, range_rr, 2, 0, 0);
    sa_gcoord_cancel(gc, &a); /* the connection closed */
    sa_gcoord_tick(gc, 1000);
    assert_false(a.answered);
    /* the member did not get an answer and did not rejoin: gone after its session */
    sa_gcoord_tick(gc, 1000 + 10000);
    sa_group_desc_t d;
    sa_gcoord_describe(gc, "g", LOOK, &d);
    assert_int_equal(d.MemberCount, 0);
    sa_gcoord_desc_free(&d);
    sa_gcoord_free(gc);
}

static void follower_sync_answered_when_rebalance_restarts(void **state) {
    (void)state;
    sa_gcoord_t *gc = new_coord(0);
    call_t a, b, s;
    join(gc, &a, "g", "", NULL, range_rr, 2, 0, 0);
    join(gc, &b, "g", "", NULL, range_rr, 2, 0, 0);
    join(gc, &a, "g", a.member_id, NULL, range_rr, 2, 0, 0);
    assert_true(a.answered && b.answered);
    call_t *follow = strcmp(a.leader, a.member_id) ? &a : &b;
    call_t *lead = follow == &a ? &b : &a;
    sync_call(gc, &s, "g", follow->generation, follow->member_id, NULL, 0, 0);
    assert_false(s.answered); /* waiting for the leader */
    assert_int_equal(sa_gcoord_leave(gc, "g", lead->member_id, NULL, 10), SA_OK);
    assert_true(s.answered);
    assert_int_equal(s.err, SA_ERR_REBALANCE_IN_PROGRESS);
    sa_gcoord_free(gc);
}

static void fencing_and_static_leader(void **state) {
    (void)state;
    sa_gcoord_t *gc = new_coord(0);
    call_t a, b;
    join(gc, &a, "g", "", "inst-a", range_rr, 2, 1, 0);
    join(gc, &b, "g", "", "inst-b", range_rr, 2, 1, 0);
    join(gc, &a, "g", a.member_id, "inst-a", range_rr, 2, 1, 0);
    assert_true(a.answered && b.answered);
    assert_string_equal(a.leader, a.member_id);
    /* a known member id presented with another instance id is fenced */
    call_t x;
    join(gc, &x, "g", b.member_id, "inst-a", range_rr, 2, 1, 10);
    assert_int_equal(x.err, SA_ERR_FENCED_INSTANCE_ID);
    /* the static leader restarting keeps the generation too (Kafka, KIP-345): a pre-v9 client is
     * given the old leader id, so it does not assign, and gets its assignment back */
    sa_group_assignment_t as[] = {{a.member_id, (const uint8_t *)"AA", 2},
                                  {b.member_id, (const uint8_t *)"BB", 2}};
    call_t sa, sb;
    sync_call(gc, &sb, "g", a.generation, b.member_id, NULL, 0, 20);
    sync_call(gc, &sa, "g", a.generation, a.member_id, as, 2, 20);
    assert_string_equal(state_of(gc, "g"), "Stable");
    char old_leader[128];
    snprintf(old_leader, sizeof(old_leader), "%s", a.member_id);
    call_t r;
    join(gc, &r, "g", "", "inst-a", range_rr, 2, 1, 30);
    assert_true(r.answered);
    assert_int_equal(r.err, SA_OK);
    assert_int_equal(r.generation, a.generation);
    assert_string_equal(r.leader, old_leader);
    assert_string_not_equal(r.member_id, old_leader);
    assert_int_equal(r.nmembers, 0);
    assert_false(r.skip);
    assert_string_equal(state_of(gc, "g"), "Stable");
    call_t s;
    sync_call(gc, &s, "g", a.generation, r.member_id, NULL, 0, 35);
    assert_int_equal(s.err, SA_OK);
    assert_string_equal(s.assignment, "AA");
    /* the old incarnation is fenced everywhere */
    assert_int_equal(sa_gcoord_heartbeat(gc, "g", a.generation, old_leader, "inst-a", 40),
                     SA_ERR_FENCED_INSTANCE_ID);
    call_t x2;
    join(gc, &x2, "g", old_leader, "inst-a", range_rr, 2, 1, 40);
    assert_int_equal(x2.err, SA_ERR_FENCED_INSTANCE_ID);
    assert_int_equal(sa_gcoord_commit_check(gc, "g", a.generation, old_leader, "inst-a", 40),
                     SA_ERR_FENCED_INSTANCE_ID);
    assert_int_equal(sa_gcoord_leave(gc, "g", old_leader, "inst-a", 40), SA_ERR_FENCED_INSTANCE_ID);
    /* an instance id the group does not know is UNKNOWN_MEMBER_ID, not fenced */
    assert_int_equal(sa_gcoord_heartbeat(gc, "g", a.generation, b.member_id, "inst-zz", 40),
                     SA_ERR_UNKNOWN_MEMBER_ID);
    /* v9: the leader is told it leads, with the members, but to skip the assignment (KIP-814) */
    char second[128];
    snprintf(second, sizeof(second), "%s", r.member_id);
    join_v(gc, &r, "g", "", "inst-a", range_rr, 2, 1, 1, 50);
    assert_true(r.answered);
    assert_int_equal(r.err, SA_OK);
    assert_string_equal(r.leader, r.member_id);
    assert_string_not_equal(r.member_id, second);
    assert_true(r.skip);
    assert_int_equal(r.nmembers, 2);
    assert_string_equal(state_of(gc, "g"), "Stable");
    /* a leader rejoining with its current id does rebalance (it asks for one) */
    join(gc, &r, "g", r.member_id, "inst-a", range_rr, 2, 1, 60);
    assert_false(r.answered);
    assert_string_equal(state_of(gc, "g"), "PreparingRebalance");
    join(gc, &b, "g", b.member_id, "inst-b", range_rr, 2, 1, 70);
    assert_true(r.answered && b.answered);
    assert_int_equal(r.generation, a.generation + 1);
    assert_int_equal(r.nmembers, 2);
    sa_gcoord_free(gc);
}

/* Two static members in a Stable group: a, b with assignments "AA", "BB". */
static void stable_static_pair(sa_gcoord_t *gc, call_t *a, call_t *b) {
    join(gc, a, "g", "", "inst-a", range_rr, 2, 1, 0);
    join(gc, b, "g", "", "inst-b", range_rr, 2, 1, 0);
    join(gc, a, "g", a->member_id, "inst-a", range_rr, 2, 1, 0);
    assert_true(a->answered && b->answered);
    assert_string_equal(a->leader, a->member_id);
    sa_group_assignment_t as[] = {{a->member_id, (const uint8_t *)"AA", 2},
                                  {b->member_id, (const uint8_t *)"BB", 2}};
    call_t sa, sb;
    sync_call(gc, &sb, "g", a->generation, b->member_id, NULL, 0, 0);
    sync_call(gc, &sa, "g", a->generation, a->member_id, as, 2, 0);
    assert_string_equal(sb.assignment, "BB");
    assert_string_equal(state_of(gc, "g"), "Stable");
}

/* The report's case: a restarted static consumer's subscription bytes differ (its metadata
 * carries generation/rack/owned partitions); Kafka keeps the generation because the protocol it
 * would choose is unchanged. */
static void static_member_new_metadata_no_rebalance(void **state) {
    (void)state;
    sa_gcoord_t *gc = new_coord(0);
    call_t a, b, r, s;
    stable_static_pair(gc, &a, &b);
    static const sa_group_protocol_t changed[] = {{"range", (const uint8_t *)"R-new-bytes", 11},
                                                  {"roundrobin", (const uint8_t *)"O2", 2}};
    join(gc, &r, "g", "", "inst-b", changed, 2, 1, 100);
    assert_true(r.answered);
    assert_int_equal(r.err, SA_OK);
    assert_int_equal(r.generation, a.generation);
    assert_string_equal(r.leader, a.member_id);
    assert_int_equal(r.nmembers, 0);
    assert_string_equal(state_of(gc, "g"), "Stable");
    sync_call(gc, &s, "g", a.generation, r.member_id, NULL, 0, 110);
    assert_int_equal(s.err, SA_OK);
    assert_string_equal(s.assignment, "BB");
    /* the leader's heartbeat sees no rebalance either */
    assert_int_equal(sa_gcoord_heartbeat(gc, "g", a.generation, a.member_id, "inst-a", 120), SA_OK);
    /* the new metadata is what the next generation's leader sees */
    sa_group_desc_t d;
    sa_gcoord_describe(gc, "g", LOOK, &d);
    int found = 0;
    for (size_t i = 0; i < d.MemberCount; i++)
        if (!strcmp(d.Members[i].MemberId, r.member_id)) {
            found = 1;
            assert_int_equal(d.Members[i].MemberMetadataLen, 11);
        }
    assert_true(found);
    sa_gcoord_desc_free(&d);
    sa_gcoord_free(gc);
}

/* A returning static member whose protocols change the group's choice forces a rebalance; one
 * returning while the group waits for the leader's assignment does too, and its old
 * incarnation's parked SyncGroup is fenced. */
static void static_member_rebalances_when_it_must(void **state) {
    (void)state;
    sa_gcoord_t *gc = new_coord(0);
    call_t a, b, r;
    stable_static_pair(gc, &a, &b);
    static const sa_group_protocol_t rr_only[] = {{"roundrobin", (const uint8_t *)"O", 1}};
    join(gc, &r, "g", "", "inst-b", rr_only, 1, 1, 100);
    assert_false(r.answered);
    assert_string_equal(state_of(gc, "g"), "PreparingRebalance");
    join(gc, &a, "g", a.member_id, "inst-a", range_rr, 2, 1, 110);
    assert_true(a.answered && r.answered);
    assert_string_equal(r.protocol, "roundrobin");
    assert_int_equal(r.generation, b.generation + 1);
    assert_string_equal(state_of(gc, "g"), "CompletingRebalance");
    /* CompletingRebalance: the follower's SyncGroup is parked; its instance restarts */
    call_t s_old, r2;
    sync_call(gc, &s_old, "g", r.generation, r.member_id, NULL, 0, 120);
    assert_false(s_old.answered);
    join(gc, &r2, "g", "", "inst-b", rr_only, 1, 1, 130);
    assert_true(s_old.answered);
    assert_int_equal(s_old.err, SA_ERR_FENCED_INSTANCE_ID);
    assert_false(r2.answered);
    assert_string_equal(state_of(gc, "g"), "PreparingRebalance");
    join(gc, &a, "g", a.member_id, "inst-a", range_rr, 2, 1, 140);
    assert_true(a.answered && r2.answered);
    assert_int_equal(r2.err, SA_OK);
    assert_int_equal(r2.generation, r.generation + 1);
    sa_gcoord_free(gc);
}

static void max_group_size(void **state) {
    (void)state;
    sa_gcoord_conf_t conf;
    sa_gcoord_conf_defaults(&conf);
    conf.initial_rebalance_delay_ms = 0;
    conf.max_group_size = 1;
    sa_gcoord_t *gc = sa_gcoord_new(&conf, NULL, 0);
    call_t a, b;
    join(gc, &a, "g", "", NULL, range_rr, 2, 0, 0);
    assert_int_equal(a.err, SA_OK);
    join(gc, &b, "g", "", NULL, range_rr, 2, 0, 0);
    assert_int_equal(b.err, SA_ERR_GROUP_MAX_SIZE_REACHED);
    join(gc, &b, "g", "", NULL, range_rr, 2, 1, 0); /* v4: the id first ... */
    assert_int_equal(b.err, SA_ERR_MEMBER_ID_REQUIRED);
    join(gc, &b, "g", b.member_id, NULL, range_rr, 2, 1, 0); /* ... then refused */
    assert_int_equal(b.err, SA_ERR_GROUP_MAX_SIZE_REACHED);
    sa_gcoord_free(gc);
}

static void pending_member_id_expires(void **state) {
    (void)state;
    sa_gcoord_t *gc = new_coord(0);
    char ids[1][128];
    int32_t gen;
    stable_group(gc, "g", 1, ids, &gen);
    call_t a;
    join(gc, &a, "g", "", NULL, range_rr, 2, 1, 100);
    assert_int_equal(a.err, SA_ERR_MEMBER_ID_REQUIRED);
    assert_string_equal(state_of(gc, "g"), "Stable"); /* no rebalance for an id that may never come back */
    assert_int_equal(sa_gcoord_heartbeat(gc, "g", gen, ids[0], NULL, 5000), SA_OK);
    assert_int_equal(sa_gcoord_next_deadline(gc), 10100);
    sa_gcoord_tick(gc, 10100); /* the pending id's session ran out */
    call_t late;
    join(gc, &late, "g", a.member_id, NULL, range_rr, 2, 1, 10200);
    assert_int_equal(late.err, SA_ERR_UNKNOWN_MEMBER_ID);
    assert_string_equal(state_of(gc, "g"), "Stable");
    sa_gcoord_free(gc);
}

static void several_members_expire_at_once(void **state) {
    (void)state;
    sa_gcoord_t *gc = new_coord(0);
    char ids[4][128];
    int32_t gen;
    stable_group(gc, "g", 4, ids, &gen);
    /* only member 0 stays alive */
    assert_int_equal(sa_gcoord_heartbeat(gc, "g", gen, ids[0], NULL, 9000), SA_OK);
    sa_gcoord_tick(gc, 10000);
    sa_group_desc_t d;
    sa_gcoord_describe(gc, "g", LOOK, &d);
    assert_int_equal(d.MemberCount, 1);
    assert_string_equal(d.Members[0].MemberId, ids[0]);
    sa_gcoord_desc_free(&d);
    assert_int_equal(sa_gcoord_heartbeat(gc, "g", gen, ids[0], NULL, 10001), SA_ERR_REBALANCE_IN_PROGRESS);
    /* and when the last one goes silent too, the group ends Empty at the next pass */
    sa_gcoord_tick(gc, 20001); /* 10 s after its last heartbeat */
    assert_string_equal(state_of(gc, "g"), "Empty");
    sa_gcoord_free(gc);
}

/* A request that arrives after a deadline is judged after what was due: the coordinator runs its
 * timers at the request's time first, whatever the broker's loop ran first. (A DeleteGroups 2 ms
 * after the only member's session ended was refused with NON_EMPTY_GROUP when the loop handled
 * the request before the timer.) */
static void requests_see_what_was_due(void **state) {
    (void)state;
    sa_gcoord_t *gc = new_coord(0);
    char ids[1][128];
    int32_t gen;
    stable_group(gc, "g", 1, ids, &gen); /* synced at 0: the session (10 s) ends at 10000 */
    assert_int_equal(sa_gcoord_next_deadline(gc), 10000);
    /* no tick: the request itself comes 2 ms after the deadline */
    assert_int_equal(sa_gcoord_delete_group(gc, "g", 10002), SA_OK);
    assert_false(sa_gcoord_group_exists(gc, "g", 10002));
    /* the same for a heartbeat, a commit and a describe that arrive late */
    stable_group(gc, "h", 1, ids, &gen);
    assert_int_equal(sa_gcoord_heartbeat(gc, "h", gen, ids[0], NULL, 10000), SA_ERR_UNKNOWN_MEMBER_ID);
    stable_group(gc, "c", 1, ids, &gen);
    assert_int_equal(sa_gcoord_commit_check(gc, "c", gen, ids[0], NULL, 10001), SA_ERR_UNKNOWN_MEMBER_ID);
    stable_group(gc, "d", 1, ids, &gen);
    sa_group_desc_t d;
    sa_gcoord_describe(gc, "d", 10001, &d);
    assert_string_equal(d.GroupState, "Empty");
    assert_int_equal(d.MemberCount, 0);
    sa_gcoord_desc_free(&d);
    /* one ms earlier, the member was still there */
    stable_group(gc, "e", 1, ids, &gen);
    assert_int_equal(sa_gcoord_delete_group(gc, "e", 9999), SA_ERR_NON_EMPTY_GROUP);
    sa_gcoord_free(gc);
}

int main(void) {
    sa_log_set_level(getenv("SA_TEST_LOG") ? getenv("SA_TEST_LOG") : "warn");
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(member_id_required_then_delay),
        cmocka_unit_test(delay_extends_while_members_arrive),
        cmocka_unit_test(three_members_sync_waits_for_leader),
        cmocka_unit_test(leave_triggers_rebalance),
        cmocka_unit_test(session_timeout_expires_member),
        cmocka_unit_test(rebalance_timeout_drops_laggard),
        cmocka_unit_test(protocol_selection),
        cmocka_unit_test(bad_requests),
        cmocka_unit_test(static_member_rejoins_without_rebalance),
        cmocka_unit_test(commit_checks),
        cmocka_unit_test(describe_list_delete),
        cmocka_unit_test(cancel_withdraws_parked_call),
        cmocka_unit_test(follower_sync_answered_when_rebalance_restarts),
        cmocka_unit_test(fencing_and_static_leader),
        cmocka_unit_test(static_member_new_metadata_no_rebalance),
        cmocka_unit_test(static_member_rebalances_when_it_must),
        cmocka_unit_test(max_group_size),
        cmocka_unit_test(pending_member_id_expires),
        cmocka_unit_test(several_members_expire_at_once),
        cmocka_unit_test(requests_see_what_was_due),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
