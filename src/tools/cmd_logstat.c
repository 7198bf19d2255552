/*
 * cmd_logstat.c - `samsa logstat`: the lab-6 consumer. Reads the log topic in a consumer group
 * from the earliest offset, writes ERROR records to a JSON Lines file, and keeps statistics
 * (logstat_stats.h), shown live on a terminal and as a final report (text or --json).
 *
 * Design / invariants:
 *  1. An offset is committed only after the ERROR records before it are flushed and
 *     fdatasync'd to the errors file: positions are tracked here (auto commit and auto offset
 *     store are off) and committed once a second, on revoke and at exit, always after the flush.
 *     A crash therefore re-reads records (the file may hold a duplicate), never skips one.
 *  2. --exit-at-end stops when every partition currently assigned has reported partition EOF
 *     since it was (re)assigned or last delivered a record; a rebalance resets the flags, so a
 *     partition moved to us mid-run is read to its end too. A member that was assigned nothing
 *     (more members than partitions) is caught up at once; between an eager revoke and the next
 *     assign nobody is.
 *  3. A malformed record is counted and skipped, never fatal; its offset is committed as usual.
 */
#include <errno.h>
#include <inttypes.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "commands.h"
#include "core/mem.h"
#include "core/log.h"
#include "core/time.h"
#include "tools/logstat_stats.h"
#include "tools/tool.h"

#define CMD "logstat"

typedef struct conf_s {
    sa_tools_conn_t conn;
    char *topic;
    char *group;
    char *errors_file;
    int exit_at_end;
    int json;
    int no_live;
    int64_t max_records;
} conf_t;

static const sa_cfg_opt_t opts[] = {
    SA_TOOLS_CONN_OPTS(conf_t, conn),
    {NULL, "topic", 't', SA_CFG_STR, offsetof(conf_t, topic), 0, 0, "kafka-logs", "TOPIC", "topic to read"},
    {NULL, "group", 'g', SA_CFG_STR, offsetof(conf_t, group), 0, 0, "logstat", "GROUP", "consumer group"},
    {NULL, "errors-file", 'o', SA_CFG_STR, offsetof(conf_t, errors_file), 0, 0, "errors.jsonl", "FILE",
     "append ERROR records here as JSON lines (\"\" for none)"},
    {NULL, "exit-at-end", 'e', SA_CFG_BOOL, offsetof(conf_t, exit_at_end), 0, 0, NULL, NULL,
     "stop once caught up on every assigned partition"},
    {NULL, "json", 0, SA_CFG_BOOL, offsetof(conf_t, json), 0, 0, NULL, NULL,
     "print the final report as JSON on stdout"},
    {NULL, "no-live", 0, SA_CFG_BOOL, offsetof(conf_t, no_live), 0, 0, NULL, NULL,
     "no live view even on a terminal"},
    {NULL, "max-records", 0, SA_CFG_INT, offsetof(conf_t, max_records), 0, INT64_MAX, "0", NULL,
     "stop after this many records (0: no limit)"},
    {0}};

static const sa_cfg_cmd_t spec = {
    "logstat",
    "samsa logstat [-b HOST:PORT] [--topic T] [--group G] [--errors-file F] [--exit-at-end] [--json]",
    "The lab-6 log consumer: reads the topic from the earliest offset in a consumer group, appends "
    "ERROR records to a JSON Lines file and counts records per level and per service, response-time "
    "percentiles and status codes. On a terminal it shows a live view refreshed every second; at "
    "the end (Ctrl-C, or caught up with --exit-at-end) it prints the report. Offsets are committed "
    "only after the errors file is flushed.",
    opts,
    "examples:\n"
    "  samsa logstat -b localhost:9092                           # live view, Ctrl-C to stop\n"
    "  samsa logstat --exit-at-end --json --errors-file errors.jsonl\n"
    "exit status: 0 done, 1 broker unreachable or topic missing, 2 bad usage"};

static const char *const consumer_defaults[] = {"auto.offset.reset=earliest", "enable.auto.commit=false",
                                                "enable.auto.offset.store=false", "enable.partition.eof=true",
                                                NULL};
static const sa_client_role_t consumer_role = {"consumer", SA_CLIENT_CONSUMER, consumer_defaults, NULL};

typedef struct part_s {
    int assigned; /* currently ours */
    int eof;      /* reached the end since assigned or since the last record */
    int64_t next; /* offset to commit (last processed + 1), -1 if nothing new */
} part_t;

typedef struct ls_s {
    const conf_t *c;
    sa_logstat_t st;
    FILE *errf;    /* errors file, or NULL */
    part_t *parts; /* by partition id */
    int32_t nparts;
    int64_t commits_failed;
    int have_assignment; /* between an assign and the next revoke (an empty assignment counts) */
    int fatal;           /* a fatal consumer error was reported */
} ls_t;

static volatile sig_atomic_t stop;

static void on_signal(int sig) {
    (void)sig;
    stop = 1;
}

static part_t *part(ls_t *ls, int32_t p) {
    if (p < 0) return NULL;
    if (p >= ls->nparts) {
        int32_t n = p + 1;
        ls->parts = sa_realloc(ls->parts, (size_t)n * sizeof(*ls->parts));
        for (int32_t i = ls->nparts; i < n; i++) ls->parts[i] = (part_t){0, 0, -1};
        ls->nparts = n;
    }
    return &ls->parts[p];
}

/* Flush and sync the errors file. @returns 0, or -1 (then nothing may be committed). */
static int sync_errors(ls_t *ls) {
    if (!ls->errf) return 0;
    if (fflush(ls->errf) != 0 || fdatasync(fileno(ls->errf)) != 0) {
        sa_cli_error(CMD, "writing %s: %s", ls->c->errors_file, strerror(errno));
        return -1;
    }
    return 0;
}

/* Commit the positions of @p only (or of every partition when NULL) after syncing the file. */
static void commit(rd_kafka_t *rk, ls_t *ls, const rd_kafka_topic_partition_list_t *only, int async) {
    rd_kafka_topic_partition_list_t *offs = rd_kafka_topic_partition_list_new(8);
    for (int32_t p = 0; p < ls->nparts; p++) {
        if (ls->parts[p].next < 0) continue;
        if (only && !rd_kafka_topic_partition_list_find(only, ls->c->topic, p)) continue;
        rd_kafka_topic_partition_list_add(offs, ls->c->topic, p)->offset = ls->parts[p].next;
    }
    if (offs->cnt && !sync_errors(ls)) {
        rd_kafka_resp_err_t err = rd_kafka_commit(rk, offs, async);
        if (err) {
            ls->commits_failed++;
            sa_log_warn(CMD, "commit failed: %s", rd_kafka_err2str(err));
        } else {
            for (int i = 0; i < offs->cnt; i++) ls->parts[offs->elems[i].partition].next = -1;
        }
    }
    rd_kafka_topic_partition_list_destroy(offs);
}

static void mark(ls_t *ls, const rd_kafka_topic_partition_list_t *parts, int assigned) {
    for (int i = 0; i < parts->cnt; i++) {
        part_t *pt = part(ls, parts->elems[i].partition);
        if (!pt) continue;
        pt->assigned = assigned;
        pt->eof = 0;
    }
}

static void rebalance_cb(rd_kafka_t *rk, rd_kafka_resp_err_t err, rd_kafka_topic_partition_list_t *parts,
                         void *opaque) {
    ls_t *ls = opaque;
    int coop = !strcmp(rd_kafka_rebalance_protocol(rk), "COOPERATIVE");
    if (err == RD_KAFKA_RESP_ERR__ASSIGN_PARTITIONS) {
        sa_log_info(CMD, "assigned %d partition(s)", parts->cnt);
        mark(ls, parts, 1);
        ls->have_assignment = 1;
        if (coop)
            rd_kafka_incremental_assign(rk, parts);
        else
            rd_kafka_assign(rk, parts);
    } else {
        sa_log_info(CMD, "revoked %d partition(s)", parts->cnt);
        if (!coop) ls->have_assignment = 0; /* eager: nothing is ours until the next assign */
        /* Commit what we processed before the partitions go to another member. */
        commit(rk, ls, parts, 0);
        mark(ls, parts, 0);
        for (int i = 0; i < parts->cnt; i++) part(ls, parts->elems[i].partition)->next = -1;
        if (coop)
            rd_kafka_incremental_unassign(rk, parts);
        else
            rd_kafka_assign(rk, NULL);
    }
}

static void setup_conf(rd_kafka_conf_t *conf) { rd_kafka_conf_set_rebalance_cb(conf, rebalance_cb); }

/* Caught up: the group has given us our share (possibly none: more members than partitions) and
 * every partition in it reported EOF since it was assigned or last delivered a record. */
static int caught_up(const ls_t *ls) {
    if (!ls->have_assignment) return 0;
    for (int32_t p = 0; p < ls->nparts; p++)
        if (ls->parts[p].assigned && !ls->parts[p].eof) return 0;
    return 1;
}

static void handle(ls_t *ls, const rd_kafka_message_t *m, int64_t now_us) {
    if (m->err == RD_KAFKA_RESP_ERR__PARTITION_EOF) {
        part_t *pt = part(ls, m->partition);
        if (pt) pt->eof = 1;
        return;
    }
    if (m->err) {
        if (m->err == RD_KAFKA_RESP_ERR_UNKNOWN_TOPIC_OR_PART || m->err == RD_KAFKA_RESP_ERR__UNKNOWN_TOPIC ||
            m->err == RD_KAFKA_RESP_ERR_TOPIC_AUTHORIZATION_FAILED ||
            m->err == RD_KAFKA_RESP_ERR_GROUP_AUTHORIZATION_FAILED || m->err == RD_KAFKA_RESP_ERR__FATAL) {
            sa_cli_error(CMD, "%s", rd_kafka_message_errstr(m));
            ls->fatal = 1;
        } else {
            sa_log_warn(CMD, "consumer: %s", rd_kafka_message_errstr(m));
        }
        return;
    }
    part_t *pt = part(ls, m->partition);
    if (!pt) return;
    pt->eof = 0;
    pt->next = m->offset + 1;
    const char *payload = m->payload ? (const char *)m->payload : "";
    int lvl = sa_logstat_add(&ls->st, payload, m->len, rd_kafka_message_timestamp(m, NULL), now_us);
    if (lvl == 2 && ls->errf) {
        fwrite(payload, 1, m->len, ls->errf);
        fputc('\n', ls->errf);
        ls->st.errors_written++;
    }
}

static void live_view(ls_t *ls) {
    char header[512];
    snprintf(header, sizeof(header), "samsa logstat: %s (group %s) on %s - Ctrl-C to stop", ls->c->topic,
             ls->c->group, sa_client_bootstrap(&ls->c->conn.client));
    fputs("\033[H\033[J", stdout);
    sa_logstat_print_text(&ls->st, header, sa_wall_ms(), stdout);
    fflush(stdout);
}

static int run_logstat(const conf_t *c) {
    ls_t ls = {.c = c};
    rd_kafka_t *rk = NULL;
    int rc = SA_EXIT_FAIL;
    sa_logstat_init(&ls.st);
    sa_client_role_t role = consumer_role;
    role.group = c->group;
    int live = !c->json && !c->no_live && isatty(STDOUT_FILENO);
    int64_t t0 = sa_mono_us(), last_tick = t0;

    if (*c->errors_file && !(ls.errf = fopen(c->errors_file, "a"))) {
        sa_cli_error(CMD, "cannot open %s: %s", c->errors_file, strerror(errno));
        goto out;
    }
    if (!(rk = sa_tools_connect(CMD, &c->conn, &role, setup_conf, &ls))) goto out;
    rd_kafka_poll_set_consumer(rk);
    rd_kafka_topic_partition_list_t *sub = rd_kafka_topic_partition_list_new(1);
    rd_kafka_topic_partition_list_add(sub, c->topic, RD_KAFKA_PARTITION_UA);
    rd_kafka_resp_err_t err = rd_kafka_subscribe(rk, sub);
    rd_kafka_topic_partition_list_destroy(sub);
    if (err) {
        sa_cli_error(CMD, "subscribe to %s: %s", c->topic, rd_kafka_err2str(err));
        goto close;
    }
    struct sigaction sa = {.sa_handler = on_signal};
    sigemptyset(&sa.sa_mask);
    sigaction(SIGINT, &sa, NULL);
    sigaction(SIGTERM, &sa, NULL);

    /* Batches keep the per-record cost down (one queue lock and one clock read per batch); the
     * batch call also serves the rebalance callback. */
    rd_kafka_queue_t *cq = rd_kafka_queue_get_consumer(rk);
    enum { BATCH = 1024 };
    rd_kafka_message_t **batch = sa_calloc(BATCH, sizeof(*batch));
    int64_t budget = c->max_records;
    while (!stop && !ls.fatal) {
        /* A batch call with a timeout waits until the batch is full: take what is there at once,
         * and only when nothing is, block for the next single message. */
        ssize_t n = rd_kafka_consume_batch_queue(cq, 0, batch, BATCH);
        if (n == 0) n = rd_kafka_consume_batch_queue(cq, 100, batch, 1);
        int64_t now = sa_mono_us();
        for (ssize_t i = 0; i < n; i++) {
            if (!budget || ls.st.total + ls.st.malformed < budget) handle(&ls, batch[i], now);
            rd_kafka_message_destroy(batch[i]);
        }
        if (budget && ls.st.total + ls.st.malformed >= budget) break;
        if (c->exit_at_end && caught_up(&ls)) break;
        if (now - last_tick >= 1000000) {
            last_tick = now;
            commit(rk, &ls, NULL, 1);
            if (live) live_view(&ls);
        }
    }
    free(batch);
    rd_kafka_queue_destroy(cq);
    commit(rk, &ls, NULL, 0);
    rc = ls.fatal ? SA_EXIT_FAIL : SA_EXIT_OK;
close:
    rd_kafka_consumer_close(rk); /* leaves the group; the revoke callback commits once more */
    {
        int64_t end_us = sa_mono_us();
        double secs = (double)(end_us - t0) / 1e6;
        if (rc == SA_EXIT_OK) {
            if (c->json) {
                sa_logstat_print_json(&ls.st, c->topic, c->group, *c->errors_file ? c->errors_file : NULL,
                                      secs, end_us, stdout);
            } else {
                char header[512];
                snprintf(header, sizeof(header), "samsa logstat: %s (group %s), %.1f s", c->topic, c->group,
                         secs);
                if (live) fputs("\033[H\033[J", stdout);
                sa_logstat_print_text(&ls.st, header, sa_wall_ms(), stdout);
            }
        }
    }
    if (ls.errf && sync_errors(&ls)) rc = SA_EXIT_FAIL;
out:
    if (rk) rd_kafka_destroy(rk);
    if (ls.errf && fclose(ls.errf) != 0) rc = SA_EXIT_FAIL;
    sa_logstat_free(&ls.st);
    free(ls.parts);
    return rc;
}

static int logstat_main(int argc, char **argv) {
    conf_t c = {0};
    int first, rc = sa_cli_parse(&spec, &c, argc, argv, &first);
    if (rc >= 0) goto out;
    sa_client_role_t role = consumer_role;
    role.group = c.group;
    if ((rc = sa_tools_setup(CMD, &c.conn, &role, 1)) >= 0) goto out;
    rc = SA_EXIT_USAGE;
    if (first < argc) {
        sa_cli_error(CMD, "unexpected argument \"%s\"", argv[first]);
        goto out;
    }
    if (!*c.topic || !*c.group) {
        sa_cli_error(CMD, "--topic and --group must not be empty");
        goto out;
    }
    rc = run_logstat(&c);
out:
    sa_client_opts_free(&c.conn.client);
    sa_cfg_free(opts, &c);
    return rc;
}

const sa_command_t sa_cmd_logstat = {"logstat", "the lab-6 log consumer with live statistics", logstat_main,
                                     &spec};
