/*
 * cmd_groups.c - `samsa groups`: kafka-consumer-groups over the librdkafka admin API: list
 * groups, describe one with its lag, reset its offsets (a dry run unless --execute, as Kafka
 * does), delete it.
 *
 * Lag per partition = log end offset (high watermark) - committed offset; a partition that is
 * assigned but has no commit shows "-" and does not add to the total.
 */
#include <inttypes.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "commands.h"
#include "core/mem.h"
#include "tools/group_offsets.h"
#include "tools/tool.h"
#include "tools/topics_describe.h"

#define CMD "groups"

typedef struct conf_s {
    sa_tools_conn_t conn;
    int list, describe, reset, del;
    char *group;
    char *topic;
    int to_earliest, to_latest;
    char *to_offset;
    char *to_datetime;
    int execute, dry_run;
    char *output;
} conf_t;

static const sa_cfg_opt_t opts[] = {
    SA_TOOLS_CONN_OPTS(conf_t, conn),
    {NULL, "list", 0, SA_CFG_BOOL, offsetof(conf_t, list), 0, 0, NULL, NULL, "list consumer groups"},
    {NULL, "describe", 0, SA_CFG_BOOL, offsetof(conf_t, describe), 0, 0, NULL, NULL,
     "committed offsets, log end offsets, lag and members of --group"},
    {NULL, "reset-offsets", 0, SA_CFG_BOOL, offsetof(conf_t, reset), 0, 0, NULL, NULL,
     "move --group's offsets on --topic (a dry run unless --execute)"},
    {NULL, "delete", 0, SA_CFG_BOOL, offsetof(conf_t, del), 0, 0, NULL, NULL, "delete --group"},
    {NULL, "group", 'g', SA_CFG_STR, offsetof(conf_t, group), 0, 0, NULL, "GROUP", "the consumer group"},
    {NULL, "topic", 't', SA_CFG_STR, offsetof(conf_t, topic), 0, 0, NULL, "TOPIC",
     "--reset-offsets: the topic (all its partitions); --describe: show only this topic"},
    {NULL, "to-earliest", 0, SA_CFG_BOOL, offsetof(conf_t, to_earliest), 0, 0, NULL, NULL,
     "reset to the earliest offset"},
    {NULL, "to-latest", 0, SA_CFG_BOOL, offsetof(conf_t, to_latest), 0, 0, NULL, NULL,
     "reset to the latest offset"},
    {NULL, "to-offset", 0, SA_CFG_STR, offsetof(conf_t, to_offset), 0, 0, NULL, "N",
     "reset to offset N (kept within each partition's earliest..latest)"},
    {NULL, "to-datetime", 0, SA_CFG_STR, offsetof(conf_t, to_datetime), 0, 0, NULL,
     "YYYY-MM-DDTHH:MM:SS[.sss][Z|+hh:mm]",
     "reset to the first record at or after this time (local time without a zone)"},
    {NULL, "execute", 0, SA_CFG_BOOL, offsetof(conf_t, execute), 0, 0, NULL, NULL,
     "really reset the offsets"},
    {NULL, "dry-run", 0, SA_CFG_BOOL, offsetof(conf_t, dry_run), 0, 0, NULL, NULL,
     "only print the new offsets (the default)"},
    {NULL, "output", 'o', SA_CFG_STR, offsetof(conf_t, output), 0, 0, "table", "table|json", "output format"},
    {0}};

static const sa_cfg_cmd_t spec = {
    "groups",
    "samsa groups [-b HOST:PORT] (--list | --describe --group G | --reset-offsets --group G --topic T TARGET "
    "[--execute] | --delete --group G)",
    "List, describe, reset and delete consumer groups, with Apache Kafka's kafka-consumer-groups "
    "flags and columns (GROUP TOPIC PARTITION CURRENT-OFFSET LOG-END-OFFSET LAG CONSUMER-ID HOST "
    "CLIENT-ID) plus the total lag. Offsets can only be reset while the group has no members.",
    opts,
    "examples:\n"
    "  samsa groups --list\n"
    "  samsa groups --describe --group logstat\n"
    "  samsa groups --reset-offsets --group logstat --topic kafka-logs --to-earliest            # plan only\n"
    "  samsa groups --reset-offsets --group logstat --topic kafka-logs --to-earliest --execute\n"
    "  samsa groups --reset-offsets --group logstat --topic kafka-logs --to-datetime 2026-11-22T10:00:00 "
    "--execute\n"
    "  samsa groups --delete --group logstat\n"
    "exit status: 0 done, 1 the cluster refused or was unreachable, 2 wrong input"};

static int is_json(const conf_t *c) { return !strcmp(c->output, "json"); }

static int cmp_listing(const void *a, const void *b) {
    return strcmp(rd_kafka_ConsumerGroupListing_group_id(*(const rd_kafka_ConsumerGroupListing_t *const *)a),
                  rd_kafka_ConsumerGroupListing_group_id(*(const rd_kafka_ConsumerGroupListing_t *const *)b));
}

static int do_list(rd_kafka_t *rk, const conf_t *c) {
    rd_kafka_queue_t *q = rd_kafka_queue_new(rk);
    rd_kafka_AdminOptions_t *ao = sa_tools_admin_options(rk, RD_KAFKA_ADMIN_OP_LISTCONSUMERGROUPS, &c->conn);
    rd_kafka_ListConsumerGroups(rk, ao, q);
    rd_kafka_event_t *ev = sa_tools_admin_wait(CMD, q, RD_KAFKA_EVENT_LISTCONSUMERGROUPS_RESULT, &c->conn);
    int rc = SA_EXIT_FAIL;
    if (ev) {
        const rd_kafka_ListConsumerGroups_result_t *res = rd_kafka_event_ListConsumerGroups_result(ev);
        size_t n, nerr;
        const rd_kafka_ConsumerGroupListing_t **v = rd_kafka_ListConsumerGroups_result_valid(res, &n);
        const rd_kafka_error_t **errs = rd_kafka_ListConsumerGroups_result_errors(res, &nerr);
        const rd_kafka_ConsumerGroupListing_t **sorted = sa_calloc(n ? n : 1, sizeof(*sorted));
        if (n) memcpy(sorted, v, n * sizeof(*sorted));
        qsort(sorted, n, sizeof(*sorted), cmp_listing);
        json_t *a = is_json(c) ? json_array() : NULL;
        for (size_t i = 0; i < n; i++) {
            const char *id = rd_kafka_ConsumerGroupListing_group_id(sorted[i]);
            const char *state =
                rd_kafka_consumer_group_state_name(rd_kafka_ConsumerGroupListing_state(sorted[i]));
            if (a)
                json_array_append_new(a, json_pack("{s:s,s:s}", "group", id, "state", state));
            else
                puts(id);
        }
        if (a) {
            json_dumpf(a, stdout, JSON_INDENT(2));
            putchar('\n');
            json_decref(a);
        }
        free(sorted);
        for (size_t i = 0; i < nerr; i++)
            sa_cli_error(CMD, "listing groups: %s", rd_kafka_error_string(errs[i]));
        rc = nerr ? SA_EXIT_FAIL : SA_EXIT_OK;
        rd_kafka_event_destroy(ev);
    }
    rd_kafka_AdminOptions_destroy(ao);
    rd_kafka_queue_destroy(q);
    return rc;
}

static void print_row(const sa_tools_group_row_t *r, const char *group) {
    char cur[24] = "-", end[24] = "-", lag[24] = "-";
    if (r->committed >= 0) snprintf(cur, sizeof(cur), "%" PRId64, r->committed);
    if (r->log_end >= 0) snprintf(end, sizeof(end), "%" PRId64, r->log_end);
    if (r->lag >= 0) snprintf(lag, sizeof(lag), "%" PRId64, r->lag);
    printf("%-16s %-24s %-9d %-15s %-15s %-6s %-40s %-16s %s\n", group, r->topic, r->partition, cur, end, lag,
           r->consumer_id ? r->consumer_id : "-", r->host ? r->host : "-", r->client_id ? r->client_id : "-");
}

static int do_describe(rd_kafka_t *rk, const conf_t *c) {
    sa_tools_group_desc_t gd;
    if (sa_tools_group_describe(CMD, rk, &c->conn, c->group, c->topic, &gd)) return SA_EXIT_FAIL;
    int rc = SA_EXIT_OK;
    if (!gd.nrows && !gd.nmembers && gd.state == RD_KAFKA_CONSUMER_GROUP_STATE_DEAD) {
        sa_cli_error(CMD, "consumer group '%s' does not exist", c->group);
        rc = SA_EXIT_FAIL;
    } else if (is_json(c)) {
        json_t *o = sa_tools_group_to_json(&gd);
        json_dumpf(o, stdout, JSON_INDENT(2) | JSON_PRESERVE_ORDER);
        putchar('\n');
        json_decref(o);
    } else {
        if (!gd.nmembers) printf("\nConsumer group '%s' has no active members.\n", c->group);
        printf("\n%-16s %-24s %-9s %-15s %-15s %-6s %-40s %-16s %s\n", "GROUP", "TOPIC", "PARTITION",
               "CURRENT-OFFSET", "LOG-END-OFFSET", "LAG", "CONSUMER-ID", "HOST", "CLIENT-ID");
        for (size_t i = 0; i < gd.nrows; i++) print_row(&gd.rows[i], c->group);
        printf("\nTOTAL-LAG: %" PRId64 "  (state %s, %zu member(s))\n", gd.total_lag,
               rd_kafka_consumer_group_state_name(gd.state), gd.nmembers);
    }
    sa_tools_group_desc_free(&gd);
    return rc;
}

/* Parse Kafka's reset datetime: YYYY-MM-DDTHH:MM:SS[.sss] with an optional Z or +hh:mm / -hhmm;
 * without a zone it is local time. @returns 0 with milliseconds since the epoch, or -1. */
static int parse_datetime(const char *s, int64_t *ms) {
    struct tm tm = {0};
    const char *p = strptime(s, "%Y-%m-%dT%H:%M:%S", &tm);
    if (!p) return -1;
    int frac = 0;
    if (*p == '.') {
        int digits = 0;
        for (p++; *p >= '0' && *p <= '9'; p++, digits++)
            if (digits < 3) frac = frac * 10 + (*p - '0');
        if (!digits) return -1;
        for (; digits < 3; digits++) frac *= 10;
    }
    time_t t;
    if (!*p) {
        tm.tm_isdst = -1;
        t = mktime(&tm);
    } else if (*p == 'Z' && !p[1]) {
        t = timegm(&tm);
    } else if (*p == '+' || *p == '-') {
        int hh, mm;
        if (sscanf(p + 1, "%2d:%2d", &hh, &mm) != 2 && sscanf(p + 1, "%2d%2d", &hh, &mm) != 2) return -1;
        size_t rest = strlen(p + 1);
        if (rest != 5 && rest != 4) return -1;
        t = timegm(&tm) - (*p == '+' ? 1 : -1) * (hh * 3600 + mm * 60);
    } else {
        return -1;
    }
    if (t == (time_t)-1) return -1;
    *ms = (int64_t)t * 1000 + frac;
    return 0;
}

static int do_reset(rd_kafka_t *rk, const conf_t *c) {
    sa_tools_reset_target_t target = {0};
    if (c->to_earliest)
        target.kind = SA_TOOLS_RESET_EARLIEST;
    else if (c->to_latest)
        target.kind = SA_TOOLS_RESET_LATEST;
    else if (c->to_offset) {
        target.kind = SA_TOOLS_RESET_OFFSET;
        target.value = strtoll(c->to_offset, NULL, 10);
    } else {
        target.kind = SA_TOOLS_RESET_DATETIME;
        parse_datetime(c->to_datetime, &target.value); /* validated before connecting */
    }
    sa_tools_group_desc_t gd;
    if (sa_tools_group_describe(CMD, rk, &c->conn, c->group, NULL, &gd)) return SA_EXIT_FAIL;
    int active = gd.nmembers > 0;
    rd_kafka_consumer_group_state_t state = gd.state;
    sa_tools_group_desc_free(&gd);
    if (active) {
        sa_cli_error(
            CMD, "assignments can only be reset if the group '%s' is inactive, but the current state is %s",
            c->group, rd_kafka_consumer_group_state_name(state));
        return SA_EXIT_FAIL;
    }
    rd_kafka_topic_partition_list_t *plan = sa_tools_group_reset_plan(CMD, rk, &c->conn, c->topic, &target);
    if (!plan) return SA_EXIT_FAIL;
    int rc = SA_EXIT_OK;
    if (is_json(c)) {
        json_t *a = json_array();
        for (int i = 0; i < plan->cnt; i++)
            json_array_append_new(a, json_pack("{s:s,s:s,s:i,s:I}", "group", c->group, "topic",
                                               plan->elems[i].topic, "partition", plan->elems[i].partition,
                                               "new_offset", (json_int_t)plan->elems[i].offset));
        json_t *o = json_pack("{s:b,s:o}", "executed", c->execute, "offsets", a);
        json_dumpf(o, stdout, JSON_INDENT(2) | JSON_PRESERVE_ORDER);
        putchar('\n');
        json_decref(o);
    } else {
        printf("\n%-16s %-24s %-9s %s\n", "GROUP", "TOPIC", "PARTITION", "NEW-OFFSET");
        for (int i = 0; i < plan->cnt; i++)
            printf("%-16s %-24s %-9d %" PRId64 "\n", c->group, plan->elems[i].topic, plan->elems[i].partition,
                   plan->elems[i].offset);
    }
    if (c->execute)
        rc = sa_tools_group_commit_offsets(CMD, rk, &c->conn, c->group, plan) ? SA_EXIT_FAIL : SA_EXIT_OK;
    else if (!is_json(c))
        fprintf(stderr, "samsa groups: dry run; add --execute to reset the offsets\n");
    rd_kafka_topic_partition_list_destroy(plan);
    return rc;
}

static int do_delete(rd_kafka_t *rk, const conf_t *c) {
    int rc = SA_EXIT_FAIL;
    rd_kafka_DeleteGroup_t *dg = rd_kafka_DeleteGroup_new(c->group);
    rd_kafka_queue_t *q = rd_kafka_queue_new(rk);
    rd_kafka_AdminOptions_t *ao = sa_tools_admin_options(rk, RD_KAFKA_ADMIN_OP_DELETEGROUPS, &c->conn);
    rd_kafka_DeleteGroups(rk, &dg, 1, ao, q);
    rd_kafka_event_t *ev = sa_tools_admin_wait(CMD, q, RD_KAFKA_EVENT_DELETEGROUPS_RESULT, &c->conn);
    if (ev) {
        size_t n;
        const rd_kafka_group_result_t **res =
            rd_kafka_DeleteGroups_result_groups(rd_kafka_event_DeleteGroups_result(ev), &n);
        const rd_kafka_error_t *err = n ? rd_kafka_group_result_error(res[0]) : NULL;
        if (n && !err) {
            printf("Deletion of requested consumer groups ('%s') was successful.\n", c->group);
            rc = SA_EXIT_OK;
        } else {
            sa_cli_error(CMD, "cannot delete group %s: %s", c->group,
                         err ? rd_kafka_error_string(err) : "no answer");
        }
        rd_kafka_event_destroy(ev);
    }
    rd_kafka_AdminOptions_destroy(ao);
    rd_kafka_queue_destroy(q);
    rd_kafka_DeleteGroup_destroy(dg);
    return rc;
}

/* @returns 0 or -1 after printing what is wrong with the flags. */
static int validate(const conf_t *c) {
    int modes = c->list + c->describe + c->reset + c->del;
    if (modes != 1) {
        sa_cli_error(CMD, "choose one of --list, --describe, --reset-offsets, --delete");
        return -1;
    }
    if (!c->list && (!c->group || !*c->group)) {
        sa_cli_error(CMD, "--%s needs --group",
                     c->describe ? "describe"
                     : c->reset  ? "reset-offsets"
                                 : "delete");
        return -1;
    }
    if (strcmp(c->output, "table") && strcmp(c->output, "json")) {
        sa_cli_error(CMD, "--output: expected table or json, got \"%s\"", c->output);
        return -1;
    }
    int targets = c->to_earliest + c->to_latest + !!c->to_offset + !!c->to_datetime;
    if (!c->reset) {
        if (targets || c->execute || c->dry_run) {
            sa_cli_error(CMD, "--to-* , --execute and --dry-run go with --reset-offsets");
            return -1;
        }
        return 0;
    }
    if (!c->topic || !*c->topic) {
        sa_cli_error(CMD, "--reset-offsets needs --topic");
        return -1;
    }
    if (targets != 1) {
        sa_cli_error(CMD,
                     "--reset-offsets needs one of --to-earliest, --to-latest, --to-offset, --to-datetime");
        return -1;
    }
    if (c->execute && c->dry_run) {
        sa_cli_error(CMD, "--execute and --dry-run contradict each other");
        return -1;
    }
    if (c->to_offset) {
        char *end;
        long long v = strtoll(c->to_offset, &end, 10);
        if (end == c->to_offset || *end || v < 0) {
            sa_cli_error(CMD, "--to-offset: expected a non-negative offset, got \"%s\"", c->to_offset);
            return -1;
        }
    }
    int64_t ms;
    if (c->to_datetime && parse_datetime(c->to_datetime, &ms)) {
        sa_cli_error(CMD, "--to-datetime: expected YYYY-MM-DDTHH:MM:SS[.sss][Z|+hh:mm], got \"%s\"",
                     c->to_datetime);
        return -1;
    }
    return 0;
}

/* Offsets are read and committed through admin requests; no group is ever joined. */
static const char *const admin_defaults[] = {"allow.auto.create.topics=false", NULL};
static const sa_client_role_t admin_role = {"admin client", SA_CLIENT_ADMIN, admin_defaults, NULL};

static int groups_main(int argc, char **argv) {
    conf_t c = {0};
    rd_kafka_t *rk = NULL;
    int first, rc = sa_cli_parse(&spec, &c, argc, argv, &first);
    if (rc >= 0) goto out;
    rc = SA_EXIT_USAGE;
    if (first < argc) {
        sa_cli_error(CMD, "unexpected argument \"%s\"", argv[first]);
        goto out;
    }
    if ((rc = sa_tools_setup(CMD, &c.conn, &admin_role, 1)) >= 0) goto out;
    rc = SA_EXIT_USAGE;
    if (validate(&c)) goto out;
    rc = SA_EXIT_FAIL;
    if (!(rk = sa_tools_connect(CMD, &c.conn, &admin_role, NULL, NULL))) goto out;
    if (c.list)
        rc = do_list(rk, &c);
    else if (c.describe)
        rc = do_describe(rk, &c);
    else if (c.reset)
        rc = do_reset(rk, &c);
    else
        rc = do_delete(rk, &c);
out:
    if (rk) rd_kafka_destroy(rk);
    sa_client_opts_free(&c.conn.client);
    sa_cfg_free(opts, &c);
    return rc;
}

const sa_command_t sa_cmd_groups = {"groups", "list, describe, reset and delete consumer groups", groups_main,
                                    &spec};
