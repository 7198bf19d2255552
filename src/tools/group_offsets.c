/*
 * group_offsets.c - consumer group offsets and lag; see group_offsets.h.
 */
#include "tools/group_offsets.h"

#include <stdlib.h>
#include <string.h>

#include "core/mem.h"
#include "tools/topics_describe.h"

static char *dup_or_null(const char *s) { return s && *s ? sa_strdup(s) : NULL; }

static sa_tools_group_row_t *row_for(sa_tools_group_desc_t *gd, size_t *cap, const char *topic,
                                     int32_t partition) {
    for (size_t i = 0; i < gd->nrows; i++)
        if (gd->rows[i].partition == partition && !strcmp(gd->rows[i].topic, topic)) return &gd->rows[i];
    if (gd->nrows == *cap) {
        *cap = *cap ? *cap * 2 : 16;
        gd->rows = sa_realloc(gd->rows, *cap * sizeof(*gd->rows));
    }
    sa_tools_group_row_t *r = &gd->rows[gd->nrows++];
    *r = (sa_tools_group_row_t){sa_strdup(topic), partition, -1, -1, -1, NULL, NULL, NULL};
    return r;
}

/* Members and their assignments. @returns 0 or -1. */
static int describe_members(const char *cmd, rd_kafka_t *rk, const sa_tools_conn_t *conn, const char *topic,
                            sa_tools_group_desc_t *gd, size_t *cap) {
    int rc = -1;
    const char *groups[1] = {gd->group};
    rd_kafka_queue_t *q = rd_kafka_queue_new(rk);
    rd_kafka_AdminOptions_t *ao = sa_tools_admin_options(rk, RD_KAFKA_ADMIN_OP_DESCRIBECONSUMERGROUPS, conn);
    rd_kafka_DescribeConsumerGroups(rk, groups, 1, ao, q);
    rd_kafka_event_t *ev = sa_tools_admin_wait(cmd, q, RD_KAFKA_EVENT_DESCRIBECONSUMERGROUPS_RESULT, conn);
    if (!ev) goto out;
    size_t n;
    const rd_kafka_ConsumerGroupDescription_t **descs =
        rd_kafka_DescribeConsumerGroups_result_groups(rd_kafka_event_DescribeConsumerGroups_result(ev), &n);
    if (!n) {
        sa_cli_error(cmd, "no description of group %s", gd->group);
        goto out;
    }
    const rd_kafka_error_t *err = rd_kafka_ConsumerGroupDescription_error(descs[0]);
    if (err) {
        sa_cli_error(cmd, "describing group %s: %s", gd->group, rd_kafka_error_string(err));
        goto out;
    }
    gd->state = rd_kafka_ConsumerGroupDescription_state(descs[0]);
    gd->nmembers = rd_kafka_ConsumerGroupDescription_member_count(descs[0]);
    for (size_t m = 0; m < gd->nmembers; m++) {
        const rd_kafka_MemberDescription_t *md = rd_kafka_ConsumerGroupDescription_member(descs[0], m);
        const rd_kafka_topic_partition_list_t *parts =
            rd_kafka_MemberAssignment_partitions(rd_kafka_MemberDescription_assignment(md));
        for (int i = 0; parts && i < parts->cnt; i++) {
            if (topic && strcmp(parts->elems[i].topic, topic)) continue;
            sa_tools_group_row_t *r = row_for(gd, cap, parts->elems[i].topic, parts->elems[i].partition);
            free(r->consumer_id);
            free(r->host);
            free(r->client_id);
            r->consumer_id = dup_or_null(rd_kafka_MemberDescription_consumer_id(md));
            r->host = dup_or_null(rd_kafka_MemberDescription_host(md));
            r->client_id = dup_or_null(rd_kafka_MemberDescription_client_id(md));
        }
    }
    rc = 0;
out:
    if (ev) rd_kafka_event_destroy(ev);
    rd_kafka_AdminOptions_destroy(ao);
    rd_kafka_queue_destroy(q);
    return rc;
}

/* Committed offsets of every partition the group has committed. @returns 0 or -1. */
static int committed_offsets(const char *cmd, rd_kafka_t *rk, const sa_tools_conn_t *conn, const char *topic,
                             sa_tools_group_desc_t *gd, size_t *cap) {
    int rc = -1;
    rd_kafka_ListConsumerGroupOffsets_t *req = rd_kafka_ListConsumerGroupOffsets_new(gd->group, NULL);
    rd_kafka_queue_t *q = rd_kafka_queue_new(rk);
    rd_kafka_AdminOptions_t *ao =
        sa_tools_admin_options(rk, RD_KAFKA_ADMIN_OP_LISTCONSUMERGROUPOFFSETS, conn);
    rd_kafka_ListConsumerGroupOffsets(rk, &req, 1, ao, q);
    rd_kafka_event_t *ev = sa_tools_admin_wait(cmd, q, RD_KAFKA_EVENT_LISTCONSUMERGROUPOFFSETS_RESULT, conn);
    if (!ev) goto out;
    size_t n;
    const rd_kafka_group_result_t **res = rd_kafka_ListConsumerGroupOffsets_result_groups(
        rd_kafka_event_ListConsumerGroupOffsets_result(ev), &n);
    if (!n) {
        sa_cli_error(cmd, "no offsets for group %s", gd->group);
        goto out;
    }
    const rd_kafka_error_t *err = rd_kafka_group_result_error(res[0]);
    if (err) {
        sa_cli_error(cmd, "offsets of group %s: %s", gd->group, rd_kafka_error_string(err));
        goto out;
    }
    const rd_kafka_topic_partition_list_t *parts = rd_kafka_group_result_partitions(res[0]);
    for (int i = 0; parts && i < parts->cnt; i++) {
        const rd_kafka_topic_partition_t *p = &parts->elems[i];
        if (p->err || p->offset < 0 || (topic && strcmp(p->topic, topic))) continue;
        row_for(gd, cap, p->topic, p->partition)->committed = p->offset;
    }
    rc = 0;
out:
    if (ev) rd_kafka_event_destroy(ev);
    rd_kafka_AdminOptions_destroy(ao);
    rd_kafka_queue_destroy(q);
    rd_kafka_ListConsumerGroupOffsets_destroy(req);
    return rc;
}

static int cmp_row(const void *a, const void *b) {
    const sa_tools_group_row_t *x = a, *y = b;
    int c = strcmp(x->topic, y->topic);
    return c ? c : (x->partition > y->partition) - (x->partition < y->partition);
}

int sa_tools_group_describe(const char *cmd, rd_kafka_t *rk, const sa_tools_conn_t *conn, const char *group,
                            const char *topic, sa_tools_group_desc_t *gd) {
    size_t cap = 0;
    memset(gd, 0, sizeof(*gd));
    gd->group = sa_strdup(group);
    if (describe_members(cmd, rk, conn, topic, gd, &cap) ||
        committed_offsets(cmd, rk, conn, topic, gd, &cap)) {
        sa_tools_group_desc_free(gd);
        return -1;
    }
    if (gd->nrows) qsort(gd->rows, gd->nrows, sizeof(*gd->rows), cmp_row);
    for (size_t i = 0; i < gd->nrows; i++) {
        sa_tools_group_row_t *r = &gd->rows[i];
        int64_t lo, hi;
        if (!rd_kafka_query_watermark_offsets(rk, r->topic, r->partition, &lo, &hi, (int)conn->timeout_ms))
            r->log_end = hi;
        if (r->log_end >= 0 && r->committed >= 0) {
            r->lag = r->log_end > r->committed ? r->log_end - r->committed : 0;
            gd->total_lag += r->lag;
        }
    }
    return 0;
}

void sa_tools_group_desc_free(sa_tools_group_desc_t *gd) {
    for (size_t i = 0; i < gd->nrows; i++) {
        free(gd->rows[i].topic);
        free(gd->rows[i].consumer_id);
        free(gd->rows[i].host);
        free(gd->rows[i].client_id);
    }
    free(gd->rows);
    free(gd->group);
    memset(gd, 0, sizeof(*gd));
}

static json_t *num_or_null(int64_t v) { return v >= 0 ? json_integer(v) : json_null(); }
static json_t *str_or_null(const char *s) { return s ? json_string(s) : json_null(); }

json_t *sa_tools_group_to_json(const sa_tools_group_desc_t *gd) {
    json_t *o = json_object(), *parts = json_array();
    json_object_set_new(o, "group", json_string(gd->group));
    json_object_set_new(o, "state", json_string(rd_kafka_consumer_group_state_name(gd->state)));
    json_object_set_new(o, "members", json_integer((json_int_t)gd->nmembers));
    json_object_set_new(o, "total_lag", json_integer(gd->total_lag));
    for (size_t i = 0; i < gd->nrows; i++) {
        const sa_tools_group_row_t *r = &gd->rows[i];
        json_t *p = json_object();
        json_object_set_new(p, "topic", json_string(r->topic));
        json_object_set_new(p, "partition", json_integer(r->partition));
        json_object_set_new(p, "current_offset", num_or_null(r->committed));
        json_object_set_new(p, "log_end_offset", num_or_null(r->log_end));
        json_object_set_new(p, "lag", num_or_null(r->lag));
        json_object_set_new(p, "consumer_id", str_or_null(r->consumer_id));
        json_object_set_new(p, "host", str_or_null(r->host));
        json_object_set_new(p, "client_id", str_or_null(r->client_id));
        json_array_append_new(parts, p);
    }
    json_object_set_new(o, "partitions", parts);
    return o;
}

rd_kafka_topic_partition_list_t *sa_tools_group_reset_plan(const char *cmd, rd_kafka_t *rk,
                                                           const sa_tools_conn_t *conn, const char *topic,
                                                           const sa_tools_reset_target_t *target) {
    sa_tools_topic_t td;
    if (sa_tools_topic_describe(cmd, rk, conn, topic, &td)) return NULL;
    rd_kafka_topic_partition_list_t *plan = rd_kafka_topic_partition_list_new(td.npart > 0 ? td.npart : 1);
    for (int i = 0; i < td.npart; i++) {
        const sa_tools_topic_part_t *p = &td.parts[i];
        if (p->earliest < 0) {
            sa_cli_error(cmd, "no offsets for %s [%d]", topic, p->id);
            goto err;
        }
        /* For --to-datetime the value is a timestamp until rd_kafka_offsets_for_times below. */
        int64_t off = target->kind == SA_TOOLS_RESET_EARLIEST ? p->earliest
                      : target->kind == SA_TOOLS_RESET_LATEST ? p->latest
                                                              : target->value;
        if (target->kind == SA_TOOLS_RESET_OFFSET)
            off = off < p->earliest ? p->earliest : off > p->latest ? p->latest : off;
        rd_kafka_topic_partition_list_add(plan, topic, p->id)->offset = off;
    }
    if (target->kind == SA_TOOLS_RESET_DATETIME) {
        rd_kafka_resp_err_t err = rd_kafka_offsets_for_times(rk, plan, (int)conn->timeout_ms);
        if (err) {
            sa_cli_error(cmd, "looking up offsets by time: %s", rd_kafka_err2str(err));
            goto err;
        }
        for (int i = 0; i < plan->cnt; i++) {
            if (plan->elems[i].err) {
                sa_cli_error(cmd, "offset by time for %s [%d]: %s", topic, plan->elems[i].partition,
                             rd_kafka_err2str(plan->elems[i].err));
                goto err;
            }
            /* -1: no record at or after that time, so the group starts at the end */
            if (plan->elems[i].offset < 0) plan->elems[i].offset = td.parts[i].latest;
        }
    }
    sa_tools_topic_free(&td);
    return plan;
err:
    rd_kafka_topic_partition_list_destroy(plan);
    sa_tools_topic_free(&td);
    return NULL;
}

int sa_tools_group_commit_offsets(const char *cmd, rd_kafka_t *rk, const sa_tools_conn_t *conn,
                                  const char *group, const rd_kafka_topic_partition_list_t *offsets) {
    int rc = -1;
    rd_kafka_AlterConsumerGroupOffsets_t *req = rd_kafka_AlterConsumerGroupOffsets_new(group, offsets);
    rd_kafka_queue_t *q = rd_kafka_queue_new(rk);
    rd_kafka_AdminOptions_t *ao =
        sa_tools_admin_options(rk, RD_KAFKA_ADMIN_OP_ALTERCONSUMERGROUPOFFSETS, conn);
    rd_kafka_AlterConsumerGroupOffsets(rk, &req, 1, ao, q);
    rd_kafka_event_t *ev = sa_tools_admin_wait(cmd, q, RD_KAFKA_EVENT_ALTERCONSUMERGROUPOFFSETS_RESULT, conn);
    if (!ev) goto out;
    size_t n;
    const rd_kafka_group_result_t **res = rd_kafka_AlterConsumerGroupOffsets_result_groups(
        rd_kafka_event_AlterConsumerGroupOffsets_result(ev), &n);
    const rd_kafka_error_t *gerr = n ? rd_kafka_group_result_error(res[0]) : NULL;
    if (!n || gerr) {
        sa_cli_error(cmd, "resetting offsets of %s: %s", group,
                     gerr ? rd_kafka_error_string(gerr) : "no answer");
        goto out;
    }
    const rd_kafka_topic_partition_list_t *parts = rd_kafka_group_result_partitions(res[0]);
    rc = 0;
    for (int i = 0; parts && i < parts->cnt; i++)
        if (parts->elems[i].err) {
            sa_cli_error(cmd, "resetting %s [%d]: %s", parts->elems[i].topic, parts->elems[i].partition,
                         rd_kafka_err2str(parts->elems[i].err));
            rc = -1;
        }
out:
    if (ev) rd_kafka_event_destroy(ev);
    rd_kafka_AdminOptions_destroy(ao);
    rd_kafka_queue_destroy(q);
    rd_kafka_AlterConsumerGroupOffsets_destroy(req);
    return rc;
}
