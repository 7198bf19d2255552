/*
 * group_persist.c - the membership record of a group, so a broker restart does not throw its
 * consumers out: like Kafka, which keeps group metadata next to the offsets in
 * __consumer_offsets, the coordinator writes a group's generation, protocol, leader and members
 * (with their subscription and assignment) into the metadata log (a group_membership record,
 * broker/metastore.h) when the group becomes Stable or Empty, and loads it at start. A member restored this
 * way keeps heartbeating and committing with its old id and generation; one that is gone expires after its
 * session timeout.
 *
 * Record (Kafka's classic encodings, via proto/wire.h; opaque to offsets.c):
 *   i8   version (1)
 *   i8   state: 0 Empty, 3 Stable (sa_group_state_t)
 *   i32  generation
 *   str  protocol type, protocol name, leader (nullable)
 *   i32  member count, then per member:
 *        str member id, str instance id (nullable), str client id, str client host,
 *        i32 session timeout, i32 rebalance timeout,
 *        bytes metadata of the chosen protocol, bytes assignment
 * A record that does not parse, or whose leader is not among its members, is ignored (the group
 * starts Empty); offsets are unaffected. What is restored meets the coordinator's invariants.
 */
#include <stdlib.h>
#include <string.h>

#include "broker/group/group_int.h"
#include "broker/group/offsets.h"
#include "core/log.h"
#include "core/mem.h"
#include "proto/wire.h"

#define PERSIST_VERSION 1

static sa_str_t nstr(const char *s) { return s ? sa_str(s) : SA_STR_NULL; }

void gc_persist(sa_gcoord_t *coord, group_t *grp) {
    if (!coord->offsets) return;
    if (grp->state != SA_GROUP_STABLE && grp->state != SA_GROUP_EMPTY) return;
    sa_buf_t buf = SA_BUF_INIT(SA_OFFSETS_GROUP_META_MAX);
    sa_err_t err = SA_OK;
    err = err ? err : sa_wr_i8(&buf, PERSIST_VERSION);
    err = err ? err : sa_wr_i8(&buf, (int8_t)grp->state);
    err = err ? err : sa_wr_i32(&buf, grp->generation);
    err = err ? err : sa_wr_string(&buf, nstr(grp->protocol_type), false, true);
    err = err ? err : sa_wr_string(&buf, nstr(grp->protocol_name), false, true);
    err = err ? err : sa_wr_string(&buf, nstr(grp->leader_id), false, true);
    int32_t n = grp->state == SA_GROUP_STABLE ? (int32_t)grp->nmembers : 0;
    err = err ? err : sa_wr_i32(&buf, n);
    for (const gmember_t *mem = grp->members; n && mem && !err; mem = mem->next) {
        const gproto_t *proto = gc_member_protocol(mem, grp->protocol_name);
        err = sa_wr_string(&buf, sa_str(mem->member_id), false, false);
        err = err ? err : sa_wr_string(&buf, nstr(mem->instance_id), false, true);
        err = err ? err : sa_wr_string(&buf, sa_str(mem->client_id), false, false);
        err = err ? err : sa_wr_string(&buf, sa_str(mem->client_host), false, false);
        err = err ? err : sa_wr_i32(&buf, mem->session_timeout_ms);
        err = err ? err : sa_wr_i32(&buf, mem->rebalance_timeout_ms);
        err = err ? err
                  : sa_wr_bytes(&buf,
                                (sa_bytes_t){proto && proto->meta ? proto->meta : (const uint8_t *)"",
                                             proto ? (int32_t)proto->meta_len : 0},
                                false, false);
        err = err ? err
                  : sa_wr_bytes(&buf,
                                (sa_bytes_t){mem->assignment ? mem->assignment : (const uint8_t *)"",
                                             (int32_t)mem->assignment_len},
                                false, false);
    }
    if (err) {
        /* too large to keep: the group will start Empty after a restart (its offsets are kept) */
        sa_log_warn("group", "%s: membership record over %u bytes; not persisted", grp->id,
                    SA_OFFSETS_GROUP_META_MAX);
        sa_offsets_put_group_meta(coord->offsets, grp->id, NULL, 0);
    } else if ((err = sa_offsets_put_group_meta(coord->offsets, grp->id, buf.data, buf.len))) {
        sa_log_warn("group", "%s: cannot persist membership: %s", grp->id, sa_err2str(err));
    }
    sa_buf_free(&buf);
}

static char *dup_str(sa_str_t s) { return s.len < 0 ? NULL : sa_strndup(s.ptr, (size_t)s.len); }

static uint8_t *dup_bytes(sa_bytes_t b, size_t *len) {
    *len = b.len > 0 ? (size_t)b.len : 0;
    if (!*len) return NULL;
    uint8_t *p = sa_malloc(*len);
    memcpy(p, b.ptr, *len);
    return p;
}

void gc_restore(sa_gcoord_t *coord, group_t *grp, const uint8_t *blob, size_t len, int64_t now_ms) {
    (void)coord;
    sa_rd_t rd;
    sa_rd_init(&rd, blob, len);
    int8_t version = sa_rd_i8(&rd), state = sa_rd_i8(&rd);
    int32_t generation = sa_rd_i32(&rd);
    sa_str_t ptype = sa_rd_string(&rd, false, true), pname = sa_rd_string(&rd, false, true);
    sa_str_t leader = sa_rd_string(&rd, false, true);
    int32_t n = sa_rd_i32(&rd);
    if (rd.err || version != PERSIST_VERSION || (state != SA_GROUP_STABLE && state != SA_GROUP_EMPTY) ||
        n < 0 || (size_t)n > sa_rd_left(&rd) / 20 || (n > 0 && (pname.len <= 0 || leader.len <= 0))) {
        sa_log_warn("group", "%s: unreadable membership record; the group starts Empty", grp->id);
        return;
    }
    gmember_t *members = NULL, **tail = &members;
    size_t count = 0;
    for (int32_t i = 0; i < n && !rd.err; i++) {
        sa_str_t id = sa_rd_string(&rd, false, false), inst = sa_rd_string(&rd, false, true);
        sa_str_t cid = sa_rd_string(&rd, false, false), host = sa_rd_string(&rd, false, false);
        int32_t session = sa_rd_i32(&rd), rebalance = sa_rd_i32(&rd);
        sa_bytes_t meta = sa_rd_bytes(&rd, false, false), assignment = sa_rd_bytes(&rd, false, false);
        if (rd.err || id.len <= 0 || session <= 0) break;
        gmember_t *mem = sa_new(gmember_t);
        mem->member_id = dup_str(id);
        mem->instance_id = dup_str(inst);
        mem->client_id = dup_str(cid);
        mem->client_host = dup_str(host);
        mem->session_timeout_ms = session;
        mem->rebalance_timeout_ms = rebalance;
        mem->protocols = sa_new(gproto_t);
        mem->nprotocols = 1;
        mem->protocols->name = dup_str(pname);
        mem->protocols->meta = dup_bytes(meta, &mem->protocols->meta_len);
        mem->assignment = dup_bytes(assignment, &mem->assignment_len);
        mem->expires_ms = now_ms + session; /* it has that long to show up again */
        *tail = mem;
        tail = &mem->next;
        count++;
    }
    int leader_found = count == 0;
    for (const gmember_t *mem = members; mem && !leader_found; mem = mem->next)
        leader_found = leader.len > 0 && (size_t)leader.len == strlen(mem->member_id) &&
                       !memcmp(mem->member_id, leader.ptr, (size_t)leader.len);
    if (rd.err || count != (size_t)n || !leader_found) {
        while (members) {
            gmember_t *next = members->next;
            gc_member_free(members);
            members = next;
        }
        sa_log_warn("group", "%s: unreadable membership record; the group starts Empty", grp->id);
        return;
    }
    grp->generation = generation;
    free(grp->protocol_type);
    free(grp->protocol_name);
    free(grp->leader_id);
    grp->protocol_type = dup_str(ptype);
    grp->protocol_name = count ? dup_str(pname) : NULL;
    grp->leader_id = count ? dup_str(leader) : NULL;
    grp->members = members;
    grp->nmembers = count;
    grp->state = count ? SA_GROUP_STABLE : SA_GROUP_EMPTY;
    if (count)
        sa_log_info("group",
                    "%s: restored generation %d with %zu members (they have their session timeout to "
                    "heartbeat)",
                    grp->id, generation, count);
}
