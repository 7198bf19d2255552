/*
 * handle_group_offsets.c - OffsetCommit (key 8, v2-9), OffsetFetch (key 9, v1-9) and
 * OffsetDelete (key 47, v0).
 *
 * OffsetCommit is acknowledged only once durable: the commits are appended to the offsets log,
 * the request parks on the broker's end-of-turn group commit (sa_broker_wait_sync), and its
 * callback fdatasyncs the offsets log - once per turn, since the first callback of the turn
 * clears the dirty flag and the others find nothing left to sync.
 *
 * OffsetFetch answers offset -1 (and metadata "") for partitions without a commit, as Kafka
 * does; a null topic list (v2+) means every partition the group has committed.
 */
#include <stdlib.h>
#include <string.h>

#include "broker/handle_group.h"
#include "broker/handlers.h"
#include "core/log.h"
#include "core/mem.h"
#include "core/time.h"
#include "storage/storage.h"

typedef sa_OffsetCommitResponse_OffsetCommitResponseTopic_t ctopic_t;
typedef sa_OffsetCommitResponse_OffsetCommitResponsePartition_t cpart_t;

/* A parked OffsetCommit; lives in the request's arena. `wait` is first: the sync callback gets it. */
typedef struct commit_s {
    sa_sync_wait_t wait;
    sa_req_t *req;
    sa_group_ctx_t *ctx;
    sa_OffsetCommitResponse_t out;
    uint8_t **written; /* [topic][partition]: appended, waiting for the sync */
} commit_t;

static void commit_answer(commit_t *st) {
    sa_err_t err = sa_OffsetCommitResponse_encode(&st->out, st->req->ApiVersion, &st->req->resp);
    if (err)
        sa_log_error("group", "%s: cannot encode an OffsetCommit response: %s", sa_req_peer(st->req),
                     sa_err2str(err));
}

static void on_synced(sa_broker_t *broker, sa_sync_wait_t *wait, sa_err_t store_err) {
    (void)broker;
    (void)store_err; /* the partition logs' sync; the offsets log has its own */
    commit_t *st = (commit_t *)wait;
    sa_err_t err = sa_offsets_sync(st->ctx->offsets);
    if (err) {
        for (int32_t t = 0; t < st->out.Topics_count; t++)
            for (int32_t p = 0; p < st->out.Topics[t].Partitions_count; p++)
                if (st->written[t][p]) st->out.Topics[t].Partitions[p].ErrorCode = (int16_t)err;
    }
    commit_answer(st);
    sa_req_complete(st->req);
}

static void on_commit_cancel(sa_req_t *req, void *arg) {
    commit_t *st = arg;
    sa_broker_unwait_sync(req->broker, &st->wait);
}

sa_err_t sa_handle_OffsetCommit(sa_req_t *req) {
    sa_rd_t rd;
    sa_OffsetCommitRequest_t in;
    sa_arena_t *a = &req->arena;
    sa_rd_init(&rd, req->body, req->body_len);
    sa_err_t err = sa_OffsetCommitRequest_decode(&rd, req->ApiVersion, a, &in);
    if (err) return err == SA_ERR_TOOBIG ? err : SA_ERR_PARSE;
    commit_t *st = sa_arena_calloc(a, 1, sizeof(*st));
    if (!st) return SA_ERR_TOOBIG;
    st->req = req;
    st->ctx = sa_group_ctx(req->broker);
    const char *group = sa_hg_str(req, in.GroupId);
    int64_t now = sa_mono_ms(), wall = sa_wall_ms();
    sa_err_t check = st->ctx ? sa_gcoord_commit_check(st->ctx->coord, group, in.GenerationIdOrMemberEpoch,
                                                      sa_hg_str(req, in.MemberId),
                                                      sa_hg_nstr(req, in.GroupInstanceId), now)
                             : SA_ERR_COORDINATOR_NOT_AVAILABLE;
    int32_t nt = in.Topics_count > 0 ? in.Topics_count : 0, pending = 0;
    sa_OffsetCommitResponse_init(&st->out);
    st->out.Topics = sa_arena_calloc(a, (size_t)(nt ? nt : 1), sizeof(ctopic_t));
    st->written = sa_arena_calloc(a, (size_t)(nt ? nt : 1), sizeof(uint8_t *));
    if (!st->out.Topics || !st->written) return SA_ERR_TOOBIG;
    st->out.Topics_count = nt;
    for (int32_t t = 0; t < nt; t++) {
        const sa_OffsetCommitRequest_OffsetCommitRequestTopic_t *ti = &in.Topics[t];
        ctopic_t *to = &st->out.Topics[t];
        int32_t np = ti->Partitions_count > 0 ? ti->Partitions_count : 0;
        const char *topic = sa_hg_str(req, ti->Name);
        sa_OffsetCommitResponse_OffsetCommitResponseTopic_init(to);
        to->Name = ti->Name;
        to->Partitions = sa_arena_calloc(a, (size_t)(np ? np : 1), sizeof(cpart_t));
        st->written[t] = sa_arena_calloc(a, (size_t)(np ? np : 1), 1);
        if (!to->Partitions || !st->written[t]) return SA_ERR_TOOBIG;
        to->Partitions_count = np;
        for (int32_t p = 0; p < np; p++) {
            const sa_OffsetCommitRequest_OffsetCommitRequestPartition_t *pi = &ti->Partitions[p];
            cpart_t *po = &to->Partitions[p];
            sa_OffsetCommitResponse_OffsetCommitResponsePartition_init(po);
            po->PartitionIndex = pi->PartitionIndex;
            sa_err_t perr = check;
            if (!perr && !sa_store_partition(req->broker->store, topic, pi->PartitionIndex))
                perr = SA_ERR_UNKNOWN_TOPIC_OR_PARTITION;
            if (!perr)
                perr =
                    sa_offsets_commit(st->ctx->offsets, group, topic, pi->PartitionIndex, pi->CommittedOffset,
                                      req->ApiVersion >= 6 ? pi->CommittedLeaderEpoch : -1,
                                      sa_hg_nstr(req, pi->CommittedMetadata), wall);
            po->ErrorCode = (int16_t)perr;
            if (!perr) {
                st->written[t][p] = 1;
                pending++;
            }
        }
    }
    if (st->ctx) sa_group_ctx_rearm(st->ctx);
    if (!pending) {
        commit_answer(st);
        return SA_OK;
    }
    sa_broker_wait_sync(req->broker, &st->wait, on_synced);
    sa_req_defer(req, -1, NULL, on_commit_cancel, st);
    return SA_ERR_AGAIN;
}

/* ---- OffsetFetch -------------------------------------------------------------------------- */

typedef sa_OffsetFetchResponse_OffsetFetchResponseTopics_t ftopic_t;
typedef sa_OffsetFetchResponse_OffsetFetchResponsePartitions_t fpart_t;

/* One group's answer, built in the v8+ layout (older versions copy it into theirs). Arrays are
 * malloc'd (a group can hold more offsets than the request arena is sized for): free_topics(). */
typedef struct fgroup_s {
    ftopic_t *topics;
    int32_t ntopics;
} fgroup_t;

static void free_topics(fgroup_t *fg) {
    for (int32_t t = 0; t < fg->ntopics; t++) free(fg->topics[t].Partitions);
    free(fg->topics);
    fg->topics = NULL;
    fg->ntopics = 0;
}

static void fill_part(fpart_t *fp, int32_t partition, const sa_offset_entry_t *ent) {
    sa_OffsetFetchResponse_OffsetFetchResponsePartitions_init(fp);
    fp->PartitionIndex = partition;
    fp->CommittedOffset = ent ? ent->offset : -1;
    fp->CommittedLeaderEpoch = ent ? ent->leader_epoch : -1;
    fp->Metadata = sa_str(ent ? ent->metadata : "");
    fp->ErrorCode = SA_OK;
}

static ftopic_t *add_topic(fgroup_t *fg, sa_str_t name, int32_t nparts) {
    fg->topics = sa_realloc(fg->topics, (size_t)(fg->ntopics + 1) * sizeof(*fg->topics));
    ftopic_t *ft = &fg->topics[fg->ntopics++];
    sa_OffsetFetchResponse_OffsetFetchResponseTopics_init(ft);
    ft->Name = name;
    ft->Partitions = sa_calloc((size_t)(nparts ? nparts : 1), sizeof(fpart_t));
    ft->Partitions_count = 0;
    return ft;
}

typedef struct visit_s {
    const char **topic; /* per offset: topic (points into the store, valid during the request) */
    int32_t *partition;
    sa_offset_entry_t *ent;
    size_t n, cap;
} visit_t;

static void collect(void *arg, const char *topic, int32_t partition, const sa_offset_entry_t *ent) {
    visit_t *v = arg;
    if (v->n == v->cap) {
        v->cap = v->cap ? v->cap * 2 : 16;
        v->topic = sa_realloc(v->topic, v->cap * sizeof(*v->topic));
        v->partition = sa_realloc(v->partition, v->cap * sizeof(*v->partition));
        v->ent = sa_realloc(v->ent, v->cap * sizeof(*v->ent));
    }
    v->topic[v->n] = topic;
    v->partition[v->n] = partition;
    v->ent[v->n] = *ent;
    v->n++;
}

/* Every committed offset of @p group, grouped by topic. */
static void fetch_all(const sa_offsets_t *offs, const char *group, fgroup_t *fg) {
    visit_t v = {0};
    sa_offsets_foreach(offs, group, collect, &v);
    uint8_t *done = sa_calloc(v.n ? v.n : 1, 1);
    for (size_t i = 0; i < v.n; i++) {
        if (done[i]) continue;
        int32_t count = 0;
        for (size_t j = i; j < v.n; j++) count += !done[j] && !strcmp(v.topic[j], v.topic[i]);
        ftopic_t *ft = add_topic(fg, sa_str(v.topic[i]), count);
        for (size_t j = i; j < v.n; j++) {
            if (done[j] || strcmp(v.topic[j], v.topic[i])) continue;
            done[j] = 1;
            fill_part(&ft->Partitions[ft->Partitions_count++], v.partition[j], &v.ent[j]);
        }
    }
    free(done);
    free(v.topic);
    free(v.partition);
    free(v.ent);
}

/* The partitions asked for; names are views into the request, metadata into the store. */
static void fetch_some(sa_req_t *req, const sa_offsets_t *offs, const char *group, const sa_str_t *names,
                       int32_t *const *parts, const int32_t *nparts, int32_t ntopics, fgroup_t *fg) {
    for (int32_t t = 0; t < ntopics; t++) {
        int32_t np = nparts[t] > 0 ? nparts[t] : 0;
        ftopic_t *ft = add_topic(fg, names[t], np);
        const char *topic = sa_hg_str(req, names[t]);
        for (int32_t p = 0; p < np; p++) {
            sa_offset_entry_t ent;
            int found = sa_offsets_get(offs, group, topic, parts[t][p], &ent);
            fill_part(&ft->Partitions[ft->Partitions_count++], parts[t][p], found ? &ent : NULL);
        }
    }
}

/* Build one group's answer. @p ntopics < 0: all topics. */
static void fetch_group(sa_req_t *req, sa_group_ctx_t *ctx, const char *group, const sa_str_t *names,
                        int32_t *const *parts, const int32_t *nparts, int32_t ntopics, fgroup_t *fg) {
    if (ntopics < 0)
        fetch_all(ctx->offsets, group, fg);
    else
        fetch_some(req, ctx->offsets, group, names, parts, nparts, ntopics, fg);
}

static sa_err_t offset_fetch_v8(sa_req_t *req, sa_OffsetFetchRequest_t *in, sa_group_ctx_t *ctx) {
    sa_OffsetFetchResponse_t out;
    sa_OffsetFetchResponse_init(&out);
    int32_t ng = in->Groups_count > 0 ? in->Groups_count : 0;
    sa_OffsetFetchResponse_OffsetFetchResponseGroup_t *groups =
        sa_calloc((size_t)(ng ? ng : 1), sizeof(*groups));
    fgroup_t *fgs = sa_calloc((size_t)(ng ? ng : 1), sizeof(*fgs));
    for (int32_t g = 0; g < ng; g++) {
        const sa_OffsetFetchRequest_OffsetFetchRequestGroup_t *gi = &in->Groups[g];
        sa_OffsetFetchResponse_OffsetFetchResponseGroup_init(&groups[g]);
        groups[g].GroupId = gi->GroupId;
        if (!ctx) {
            groups[g].ErrorCode = SA_ERR_COORDINATOR_NOT_AVAILABLE;
            continue;
        }
        int32_t nt = gi->Topics_count;
        sa_str_t *names = sa_arena_calloc(&req->arena, (size_t)(nt > 0 ? nt : 1), sizeof(*names));
        int32_t **parts = sa_arena_calloc(&req->arena, (size_t)(nt > 0 ? nt : 1), sizeof(*parts));
        int32_t *nparts = sa_arena_calloc(&req->arena, (size_t)(nt > 0 ? nt : 1), sizeof(*nparts));
        if (!names || !parts || !nparts) {
            groups[g].ErrorCode = SA_ERR_UNKNOWN_SERVER_ERROR;
            continue;
        }
        for (int32_t t = 0; t < nt; t++) {
            names[t] = gi->Topics[t].Name;
            parts[t] = gi->Topics[t].PartitionIndexes;
            nparts[t] = gi->Topics[t].PartitionIndexes_count;
        }
        fetch_group(req, ctx, sa_hg_str(req, gi->GroupId), names, parts, nparts, nt, &fgs[g]);
        groups[g].Topics = fgs[g].topics;
        groups[g].Topics_count = fgs[g].ntopics;
    }
    out.Groups = groups;
    out.Groups_count = ng;
    sa_err_t err = sa_OffsetFetchResponse_encode(&out, req->ApiVersion, &req->resp);
    for (int32_t g = 0; g < ng; g++) free_topics(&fgs[g]);
    free(fgs);
    free(groups);
    return err;
}

static sa_err_t offset_fetch_v1(sa_req_t *req, sa_OffsetFetchRequest_t *in, sa_group_ctx_t *ctx) {
    sa_OffsetFetchResponse_t out;
    sa_OffsetFetchResponse_init(&out);
    fgroup_t fg = {0};
    int32_t nt = in->Topics_count;
    if (nt < 0 && req->ApiVersion < 2) nt = 0; /* null is not allowed before v2 */
    sa_str_t *names = sa_arena_calloc(&req->arena, (size_t)(nt > 0 ? nt : 1), sizeof(*names));
    int32_t **parts = sa_arena_calloc(&req->arena, (size_t)(nt > 0 ? nt : 1), sizeof(*parts));
    int32_t *nparts = sa_arena_calloc(&req->arena, (size_t)(nt > 0 ? nt : 1), sizeof(*nparts));
    if (!names || !parts || !nparts) return SA_ERR_TOOBIG;
    for (int32_t t = 0; t < nt; t++) {
        names[t] = in->Topics[t].Name;
        parts[t] = in->Topics[t].PartitionIndexes;
        nparts[t] = in->Topics[t].PartitionIndexes_count;
    }
    if (ctx) {
        fetch_group(req, ctx, sa_hg_str(req, in->GroupId), names, parts, nparts, nt, &fg);
    } else if (req->ApiVersion >= 2) {
        out.ErrorCode = SA_ERR_COORDINATOR_NOT_AVAILABLE;
    } else { /* v1 has no top-level error: put it on every partition asked for */
        for (int32_t t = 0; t < nt; t++) {
            ftopic_t *ft = add_topic(&fg, names[t], nparts[t] > 0 ? nparts[t] : 0);
            for (int32_t p = 0; p < nparts[t]; p++) {
                fill_part(&ft->Partitions[p], parts[t][p], NULL);
                ft->Partitions[p].ErrorCode = SA_ERR_COORDINATOR_NOT_AVAILABLE;
                ft->Partitions_count++;
            }
        }
    }
    /* the pre-v8 layout has the same fields under other type names */
    sa_OffsetFetchResponse_OffsetFetchResponseTopic_t *topics =
        sa_calloc((size_t)(fg.ntopics ? fg.ntopics : 1), sizeof(*topics));
    for (int32_t t = 0; t < fg.ntopics; t++) {
        ftopic_t *ft = &fg.topics[t];
        sa_OffsetFetchResponse_OffsetFetchResponseTopic_init(&topics[t]);
        topics[t].Name = ft->Name;
        topics[t].Partitions = sa_calloc((size_t)(ft->Partitions_count ? ft->Partitions_count : 1),
                                         sizeof(*topics[t].Partitions));
        topics[t].Partitions_count = ft->Partitions_count;
        for (int32_t p = 0; p < ft->Partitions_count; p++) {
            sa_OffsetFetchResponse_OffsetFetchResponsePartition_t *op = &topics[t].Partitions[p];
            const fpart_t *fp = &ft->Partitions[p];
            sa_OffsetFetchResponse_OffsetFetchResponsePartition_init(op);
            op->PartitionIndex = fp->PartitionIndex;
            op->CommittedOffset = fp->CommittedOffset;
            op->CommittedLeaderEpoch = fp->CommittedLeaderEpoch;
            op->Metadata = fp->Metadata;
            op->ErrorCode = fp->ErrorCode;
        }
    }
    out.Topics = topics;
    out.Topics_count = fg.ntopics;
    sa_err_t err = sa_OffsetFetchResponse_encode(&out, req->ApiVersion, &req->resp);
    for (int32_t t = 0; t < fg.ntopics; t++) free(topics[t].Partitions);
    free(topics);
    free_topics(&fg);
    return err;
}

sa_err_t sa_handle_OffsetFetch(sa_req_t *req) {
    sa_rd_t rd;
    sa_OffsetFetchRequest_t in;
    sa_rd_init(&rd, req->body, req->body_len);
    sa_err_t err = sa_OffsetFetchRequest_decode(&rd, req->ApiVersion, &req->arena, &in);
    if (err) return err == SA_ERR_TOOBIG ? err : SA_ERR_PARSE;
    sa_group_ctx_t *ctx = sa_group_ctx(req->broker);
    return req->ApiVersion >= 8 ? offset_fetch_v8(req, &in, ctx) : offset_fetch_v1(req, &in, ctx);
}

/* ---- OffsetDelete ------------------------------------------------------------------------- */

sa_err_t sa_handle_OffsetDelete(sa_req_t *req) {
    sa_rd_t rd;
    sa_OffsetDeleteRequest_t in;
    sa_OffsetDeleteResponse_t out;
    sa_arena_t *a = &req->arena;
    sa_rd_init(&rd, req->body, req->body_len);
    sa_err_t err = sa_OffsetDeleteRequest_decode(&rd, req->ApiVersion, a, &in);
    if (err) return err == SA_ERR_TOOBIG ? err : SA_ERR_PARSE;
    sa_OffsetDeleteResponse_init(&out);
    sa_group_ctx_t *ctx = sa_group_ctx(req->broker);
    const char *group = sa_hg_str(req, in.GroupId);
    if (!ctx)
        out.ErrorCode = SA_ERR_COORDINATOR_NOT_AVAILABLE;
    else if (!sa_gcoord_group_exists(ctx->coord, group))
        out.ErrorCode = SA_ERR_GROUP_ID_NOT_FOUND;
    int32_t nt = !out.ErrorCode && in.Topics_count > 0 ? in.Topics_count : 0;
    out.Topics = sa_arena_calloc(a, (size_t)(nt ? nt : 1), sizeof(*out.Topics));
    if (!out.Topics) return SA_ERR_TOOBIG;
    out.Topics_count = nt;
    for (int32_t t = 0; t < nt; t++) {
        const sa_OffsetDeleteRequest_OffsetDeleteRequestTopic_t *ti = &in.Topics[t];
        sa_OffsetDeleteResponse_OffsetDeleteResponseTopic_t *to = &out.Topics[t];
        int32_t np = ti->Partitions_count > 0 ? ti->Partitions_count : 0;
        const char *topic = sa_hg_str(req, ti->Name);
        sa_OffsetDeleteResponse_OffsetDeleteResponseTopic_init(to);
        to->Name = ti->Name;
        to->Partitions = sa_arena_calloc(a, (size_t)(np ? np : 1), sizeof(*to->Partitions));
        if (!to->Partitions) return SA_ERR_TOOBIG;
        to->Partitions_count = np;
        sa_err_t terr = sa_gcoord_offset_delete_check(ctx->coord, group, topic);
        for (int32_t p = 0; p < np; p++) {
            sa_OffsetDeleteResponse_OffsetDeleteResponsePartition_t *po = &to->Partitions[p];
            sa_OffsetDeleteResponse_OffsetDeleteResponsePartition_init(po);
            po->PartitionIndex = ti->Partitions[p].PartitionIndex;
            sa_err_t perr = terr;
            if (!perr && !sa_store_partition(req->broker->store, topic, po->PartitionIndex))
                perr = SA_ERR_UNKNOWN_TOPIC_OR_PARTITION;
            if (!perr) perr = sa_offsets_delete(ctx->offsets, group, topic, po->PartitionIndex);
            po->ErrorCode = (int16_t)perr;
        }
    }
    return sa_OffsetDeleteResponse_encode(&out, req->ApiVersion, &req->resp);
}
