/*
 * handle_group_offsets.c - OffsetCommit (key 8, v2-9), OffsetFetch (key 9, v1-9) and
 * OffsetDelete (key 47, v0).
 *
 * OffsetCommit and OffsetDelete are acknowledged only once durable: their records are appended
 * to the metadata log (broker/metastore.h), the request parks on the broker's group commit
 * (sa_broker_wait_sync), which fdatasyncs the metadata log with the partitions on the store's
 * sync threads, and the callback asks the log whether the last record the request appended is
 * durable. If the sync failed, the log was cut back and the offsets rebuilt without those
 * records, and the partitions get NOT_COORDINATOR (SA_GROUP_STORAGE_ERROR), as Kafka answers
 * when its append to __consumer_offsets fails: the client finds the coordinator again and retries.
 *
 * Commit metadata is a nullable string of any bytes (NUL included): it is stored and returned
 * whole, null as "" (as Kafka does).
 *
 * OffsetFetch answers offset -1 (and metadata "") for partitions without a commit, as Kafka
 * does; a null topic list (v2+) means every partition the group has committed. With RequireStable
 * (v7+, KIP-447: read_committed consumers ask so) a partition for which an ongoing transaction
 * holds an offset not committed yet answers UNSTABLE_OFFSET_COMMIT (offset -1); the consumer asks
 * again until the transaction ends.
 *
 * Authorization (Kafka's KafkaApis): OffsetCommit needs READ on the group (else every partition
 * GROUP_AUTHORIZATION_FAILED) and READ on each topic (TOPIC_AUTHORIZATION_FAILED), checked before
 * the topic's existence and the member's generation. OffsetFetch needs DESCRIBE on the group (the
 * group's error: per partition in v1, top level in v2-7, per group in v8+) and DESCRIBE on each
 * topic named (its partitions TOPIC_AUTHORIZATION_FAILED); asking for all topics leaves out those
 * it may not DESCRIBE. OffsetDelete needs DELETE on the group and READ on each topic.
 */
#include <stdlib.h>
#include <string.h>

#include "broker/handle_group.h"
#include "broker/handlers.h"
#include "broker/kit.h"
#include "broker/txn/coordinator.h"
#include "core/log.h"
#include "core/mem.h"
#include "core/time.h"
#include "storage/metalog.h"
#include "storage/storage.h"

typedef sa_OffsetCommitResponse_OffsetCommitResponseTopic_t ctopic_t;
typedef sa_OffsetCommitResponse_OffsetCommitResponsePartition_t cpart_t;

/* An OffsetCommit's answer, built while appending; lives in the request's arena. */
typedef struct commit_s {
    sa_OffsetCommitResponse_t out;
    uint8_t **written; /* [topic][partition]: appended, waiting for the sync */
} commit_t;

static sa_err_t commit_answer(sa_req_t *req, void *arg, int durable) {
    commit_t *st = arg;
    for (int32_t t = 0; !durable && t < st->out.Topics_count; t++)
        for (int32_t p = 0; p < st->out.Topics[t].Partitions_count; p++)
            if (st->written[t][p]) st->out.Topics[t].Partitions[p].ErrorCode = SA_GROUP_STORAGE_ERROR;
    return sa_kit_encode(req, &st->out);
}

sa_err_t sa_handle_OffsetCommit(sa_req_t *req) {
    sa_OffsetCommitRequest_t in;
    sa_err_t err = sa_kit_decode(req, &in);
    if (err != SA_OK) return err;
    commit_t *st = sa_arena_calloc(&req->arena, 1, sizeof(*st));
    if (!st) return SA_ERR_TOOBIG;
    sa_broker_t *broker = req->broker;
    const char *group = sa_kit_str(req, in.GroupId);
    int64_t now = sa_mono_ms(), wall = sa_wall_ms();
    /* READ on the group, then on each topic, before the group's member checks (Kafka's order) */
    sa_err_t group_denied = sa_kit_authorize(req, SA_ACL_READ, SA_RESOURCE_GROUP, group);
    sa_err_t check = group_denied ? group_denied
                                  : sa_gcoord_commit_check(broker->coord, group, in.GenerationIdOrMemberEpoch,
                                                           sa_kit_str(req, in.MemberId),
                                                           sa_kit_nstr(req, in.GroupInstanceId), now);
    uint64_t seq = 0; /* the last record appended */
    sa_OffsetCommitResponse_init(&st->out);
    int32_t nt;
    st->written = sa_kit_array(req, in.Topics_count, sizeof(uint8_t *), &nt);
    if (!st->written || !SA_KIT_ARRAY(req, st->out.Topics, nt)) return SA_ERR_TOOBIG;
    for (int32_t t = 0; t < nt; t++) {
        const sa_OffsetCommitRequest_OffsetCommitRequestTopic_t *ti = &in.Topics[t];
        ctopic_t *to = &st->out.Topics[t];
        const char *topic; /* "" for a name no topic can have: its partitions are unknown */
        if (sa_kit_topic(req, ti->Name, &topic) == SA_ERR_TOOBIG) return SA_ERR_TOOBIG;
        sa_err_t topic_denied =
            group_denied ? SA_OK : sa_kit_authorize(req, SA_ACL_READ, SA_RESOURCE_TOPIC, topic);
        sa_OffsetCommitResponse_OffsetCommitResponseTopic_init(to);
        to->Name = ti->Name;
        int32_t np;
        st->written[t] = sa_kit_array(req, ti->Partitions_count, 1, &np);
        if (!st->written[t] || !SA_KIT_ARRAY(req, to->Partitions, np)) return SA_ERR_TOOBIG;
        for (int32_t p = 0; p < np; p++) {
            const sa_OffsetCommitRequest_OffsetCommitRequestPartition_t *pi = &ti->Partitions[p];
            cpart_t *po = &to->Partitions[p];
            sa_OffsetCommitResponse_OffsetCommitResponsePartition_init(po);
            po->PartitionIndex = pi->PartitionIndex;
            sa_err_t perr = topic_denied ? topic_denied : check;
            if (!perr && !sa_store_partition(broker->store, topic, pi->PartitionIndex))
                perr = SA_ERR_UNKNOWN_TOPIC_OR_PARTITION;
            if (!perr) {
                sa_str_t meta = pi->CommittedMetadata; /* null is kept as "" */
                perr = sa_offsets_commit(broker->metastore.offsets, group, topic, pi->PartitionIndex,
                                         pi->CommittedOffset,
                                         req->ApiVersion >= 6 ? pi->CommittedLeaderEpoch : -1, meta.ptr,
                                         meta.len > 0 ? (size_t)meta.len : 0, wall);
                if (perr == SA_ERR_KAFKA_STORAGE_ERROR) perr = SA_GROUP_STORAGE_ERROR;
            }
            po->ErrorCode = (int16_t)perr;
            if (!perr) {
                st->written[t][p] = 1;
                seq = sa_metalog_last_seq(broker->metastore.log);
            }
        }
    }
    sa_group_rearm(broker);
    return sa_kit_answer_when_durable(req, seq, commit_answer, st);
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
    fp->Metadata = ent ? (sa_str_t){(const char *)ent->metadata, (int32_t)ent->metadata_len} : SA_STR("");
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

/* The partitions asked for; names are views into the request, metadata into the store. Every
 * partition gets @p denied if set (the group's error, v1), else its topic's authorization error. */
static void fetch_some(sa_req_t *req, const sa_offsets_t *offs, const char *group, const sa_str_t *names,
                       int32_t *const *parts, const int32_t *nparts, int32_t ntopics, sa_err_t denied,
                       fgroup_t *fg) {
    for (int32_t t = 0; t < ntopics; t++) {
        int32_t np = nparts[t] > 0 ? nparts[t] : 0;
        ftopic_t *ft = add_topic(fg, names[t], np);
        const char *topic; /* "" for a name no topic can have: nothing committed */
        sa_kit_topic(req, names[t], &topic);
        sa_err_t terr = denied ? denied : sa_kit_authorize(req, SA_ACL_DESCRIBE, SA_RESOURCE_TOPIC, topic);
        for (int32_t p = 0; p < np; p++) {
            sa_offset_entry_t ent;
            int found = !terr && sa_offsets_get(offs, group, topic, parts[t][p], &ent);
            fpart_t *fp = &ft->Partitions[ft->Partitions_count++];
            fill_part(fp, parts[t][p], found ? &ent : NULL);
            fp->ErrorCode = sa_kit_code(terr);
        }
    }
}

/* Leave out of @p fg the topics @p req's principal may not DESCRIBE (an all-topics answer). */
static void drop_undescribed(sa_req_t *req, fgroup_t *fg) {
    int32_t kept = 0;
    for (int32_t t = 0; t < fg->ntopics; t++) {
        ftopic_t *ft = &fg->topics[t];
        /* the names of an all-topics answer point into the store: NUL-terminated */
        if (sa_kit_authorize(req, SA_ACL_DESCRIBE, SA_RESOURCE_TOPIC, ft->Name.ptr) == SA_OK)
            fg->topics[kept++] = *ft;
        else
            free(ft->Partitions);
    }
    fg->ntopics = kept;
}

/* Build one group's answer. @p ntopics < 0: all topics. @p denied: DESCRIBE on the group (v0-1's
 * per-partition error). @p stable: RequireStable. */
static void fetch_group(sa_req_t *req, const char *group, const sa_str_t *names, int32_t *const *parts,
                        const int32_t *nparts, int32_t ntopics, sa_err_t denied, int stable, fgroup_t *fg) {
    const sa_offsets_t *offs = req->broker->metastore.offsets;
    if (ntopics < 0) {
        fetch_all(offs, group, fg);
        drop_undescribed(req, fg);
    } else {
        fetch_some(req, offs, group, names, parts, nparts, ntopics, denied, fg);
    }
    for (int32_t t = 0; stable && t < fg->ntopics; t++) {
        const char *topic = sa_kit_str(req, fg->topics[t].Name);
        for (int32_t p = 0; p < fg->topics[t].Partitions_count; p++) {
            fpart_t *fp = &fg->topics[t].Partitions[p];
            if (fp->ErrorCode ||
                !sa_tcoord_offset_pending(req->broker->metastore.txns, group, topic, fp->PartitionIndex))
                continue;
            fp->ErrorCode = SA_ERR_UNSTABLE_OFFSET_COMMIT;
            fp->CommittedOffset = -1;
            fp->CommittedLeaderEpoch = -1;
            fp->Metadata = SA_STR("");
        }
    }
}

static sa_err_t offset_fetch_v8(sa_req_t *req, sa_OffsetFetchRequest_t *in) {
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
        const char *group = sa_kit_str(req, gi->GroupId);
        if ((groups[g].ErrorCode =
                 sa_kit_code(sa_kit_authorize(req, SA_ACL_DESCRIBE, SA_RESOURCE_GROUP, group))))
            continue;
        int32_t nt = gi->Topics_count;
        sa_str_t *names = sa_kit_array(req, nt, sizeof(*names), NULL);
        int32_t **parts = sa_kit_array(req, nt, sizeof(*parts), NULL);
        int32_t *nparts = sa_kit_array(req, nt, sizeof(*nparts), NULL);
        if (!names || !parts || !nparts) {
            groups[g].ErrorCode = SA_ERR_UNKNOWN_SERVER_ERROR;
            continue;
        }
        for (int32_t t = 0; t < nt; t++) {
            names[t] = gi->Topics[t].Name;
            parts[t] = gi->Topics[t].PartitionIndexes;
            nparts[t] = gi->Topics[t].PartitionIndexes_count;
        }
        fetch_group(req, group, names, parts, nparts, nt, SA_OK, in->RequireStable, &fgs[g]);
        groups[g].Topics = fgs[g].topics;
        groups[g].Topics_count = fgs[g].ntopics;
    }
    out.Groups = groups;
    out.Groups_count = ng;
    sa_err_t err = sa_kit_encode(req, &out);
    for (int32_t g = 0; g < ng; g++) free_topics(&fgs[g]);
    free(fgs);
    free(groups);
    return err;
}

static sa_err_t offset_fetch_v1(sa_req_t *req, sa_OffsetFetchRequest_t *in) {
    sa_OffsetFetchResponse_t out;
    sa_OffsetFetchResponse_init(&out);
    fgroup_t fg = {0};
    int32_t nt = in->Topics_count;
    if (nt < 0 && req->ApiVersion < 2) nt = 0; /* null is not allowed before v2 */
    sa_str_t *names = sa_kit_array(req, nt, sizeof(*names), NULL);
    int32_t **parts = sa_kit_array(req, nt, sizeof(*parts), NULL);
    int32_t *nparts = sa_kit_array(req, nt, sizeof(*nparts), NULL);
    if (!names || !parts || !nparts) return SA_ERR_TOOBIG;
    for (int32_t t = 0; t < nt; t++) {
        names[t] = in->Topics[t].Name;
        parts[t] = in->Topics[t].PartitionIndexes;
        nparts[t] = in->Topics[t].PartitionIndexes_count;
    }
    const char *group = sa_kit_str(req, in->GroupId);
    sa_err_t denied = sa_kit_authorize(req, SA_ACL_DESCRIBE, SA_RESOURCE_GROUP, group);
    if (denied && req->ApiVersion >= 2) { /* the group's error, no topics */
        out.ErrorCode = sa_kit_code(denied);
        return sa_kit_encode(req, &out);
    }
    fetch_group(req, group, names, parts, nparts, nt, denied, req->ApiVersion >= 7 && in->RequireStable, &fg);
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
    sa_err_t err = sa_kit_encode(req, &out);
    for (int32_t t = 0; t < fg.ntopics; t++) free(topics[t].Partitions);
    free(topics);
    free_topics(&fg);
    return err;
}

sa_err_t sa_handle_OffsetFetch(sa_req_t *req) {
    sa_OffsetFetchRequest_t in;
    sa_err_t err = sa_kit_decode(req, &in);
    if (err != SA_OK) return err;
    return req->ApiVersion >= 8 ? offset_fetch_v8(req, &in) : offset_fetch_v1(req, &in);
}

/* ---- OffsetDelete ------------------------------------------------------------------------- */

static sa_err_t delete_answer(sa_req_t *req, void *arg, int durable) {
    sa_OffsetDeleteResponse_t *out = arg;
    for (int32_t t = 0; !durable && t < out->Topics_count; t++)
        for (int32_t p = 0; p < out->Topics[t].Partitions_count; p++)
            if (!out->Topics[t].Partitions[p].ErrorCode)
                out->Topics[t].Partitions[p].ErrorCode = SA_GROUP_STORAGE_ERROR;
    return sa_kit_encode(req, out);
}

sa_err_t sa_handle_OffsetDelete(sa_req_t *req) {
    sa_OffsetDeleteRequest_t in;
    sa_err_t err = sa_kit_decode(req, &in);
    if (err != SA_OK) return err;
    sa_OffsetDeleteResponse_t *out = sa_arena_calloc(&req->arena, 1, sizeof(*out));
    if (!out) return SA_ERR_TOOBIG;
    sa_OffsetDeleteResponse_init(out);
    sa_broker_t *broker = req->broker;
    const char *group = sa_kit_str(req, in.GroupId);
    int64_t now = sa_mono_ms();
    out->ErrorCode = sa_kit_code(sa_kit_authorize(req, SA_ACL_DELETE, SA_RESOURCE_GROUP, group));
    if (!out->ErrorCode && !sa_gcoord_group_exists(broker->coord, group, now))
        out->ErrorCode = SA_ERR_GROUP_ID_NOT_FOUND;
    if (!SA_KIT_ARRAY(req, out->Topics, out->ErrorCode ? 0 : in.Topics_count)) return SA_ERR_TOOBIG;
    uint64_t seq = 0; /* the last record appended */
    for (int32_t t = 0; t < out->Topics_count; t++) {
        const sa_OffsetDeleteRequest_OffsetDeleteRequestTopic_t *ti = &in.Topics[t];
        sa_OffsetDeleteResponse_OffsetDeleteResponseTopic_t *to = &out->Topics[t];
        const char *topic; /* "" for a name no topic can have: its partitions are unknown */
        if (sa_kit_topic(req, ti->Name, &topic) == SA_ERR_TOOBIG) return SA_ERR_TOOBIG;
        sa_OffsetDeleteResponse_OffsetDeleteResponseTopic_init(to);
        to->Name = ti->Name;
        if (!SA_KIT_ARRAY(req, to->Partitions, ti->Partitions_count)) return SA_ERR_TOOBIG;
        sa_err_t terr = sa_kit_authorize(req, SA_ACL_READ, SA_RESOURCE_TOPIC, topic);
        if (!terr) terr = sa_gcoord_offset_delete_check(broker->coord, group, topic, now);
        for (int32_t p = 0; p < to->Partitions_count; p++) {
            sa_OffsetDeleteResponse_OffsetDeleteResponsePartition_t *po = &to->Partitions[p];
            sa_OffsetDeleteResponse_OffsetDeleteResponsePartition_init(po);
            po->PartitionIndex = ti->Partitions[p].PartitionIndex;
            sa_err_t perr = terr;
            if (!perr && !sa_store_partition(broker->store, topic, po->PartitionIndex))
                perr = SA_ERR_UNKNOWN_TOPIC_OR_PARTITION;
            if (!perr) {
                perr = sa_offsets_delete(broker->metastore.offsets, group, topic, po->PartitionIndex);
                if (perr == SA_ERR_KAFKA_STORAGE_ERROR) perr = SA_GROUP_STORAGE_ERROR;
                if (!perr) seq = sa_metalog_last_seq(broker->metastore.log);
            }
            po->ErrorCode = (int16_t)perr;
        }
    }
    sa_group_rearm(broker);
    return sa_kit_answer_when_durable(req, seq, delete_answer, out);
}
