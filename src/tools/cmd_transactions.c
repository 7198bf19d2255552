/*
 * cmd_transactions.c - `samsa transactions`: Kafka's kafka-transactions.sh list and describe, with
 * its flags and columns: list the transactional ids every broker coordinates (TransactionalId
 * Coordinator ProducerId TransactionState), describe one id's current transaction (CoordinatorId
 * TransactionalId ProducerId ProducerEpoch TransactionState TransactionTimeoutMs
 * CurrentTransactionStartTimeMs TransactionDurationMs TopicPartitions).
 *
 * The table is Kafka's: every cell left-aligned to its column's widest cell and followed by a tab
 * (the last one too), so a script written against Kafka's output reads ours. Kafka spells the
 * modes as words (`list`, `describe`); samsa's tools spell them as flags (`--list`), and both
 * are accepted. The requests themselves are in txn_admin.c.
 */
#include <inttypes.h>
#include <jansson.h>
#include <regex.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "client/kafka_conn.h"
#include "commands.h"
#include "core/mem.h"
#include "tools/tool.h"
#include "tools/txn_admin.h"

#define CMD "transactions"

typedef struct conf_s {
    sa_tools_conn_t conn;
    int list, describe;
    char *transactional_id;
    int64_t duration_filter;
    char *pattern;
    char *output;
    regex_t re; /* --transactional-id-pattern, anchored, compiled by validate() */
    int have_re;
} conf_t;

static const sa_cfg_opt_t opts[] = {
    SA_TOOLS_CONN_OPTS(conf_t, conn),
    {NULL, "list", 0, SA_CFG_BOOL, offsetof(conf_t, list), 0, 0, NULL, NULL,
     "list the transactional ids of every broker (Kafka's `list`)"},
    {NULL, "describe", 0, SA_CFG_BOOL, offsetof(conf_t, describe), 0, 0, NULL, NULL,
     "the state of --transactional-id's transaction, from its coordinator (Kafka's `describe`)"},
    {NULL, "transactional-id", 0, SA_CFG_STR, offsetof(conf_t, transactional_id), 0, 0, NULL, "ID",
     "--describe: the transactional id"},
    {NULL, "duration-filter", 0, SA_CFG_INT, offsetof(conf_t, duration_filter), -1, INT64_MAX, "-1", "MS",
     "--list: only transactions running longer than MS milliseconds (< 0: all)"},
    {NULL, "transactional-id-pattern", 0, SA_CFG_STR, offsetof(conf_t, pattern), 0, 0, NULL, "REGEX",
     "--list: only ids the POSIX extended regular expression matches whole"},
    {NULL, "output", 'o', SA_CFG_STR, offsetof(conf_t, output), 0, 0, "table", "table|json", "output format"},
    {0}};

static const sa_cfg_cmd_t spec = {
    "transactions",
    "samsa transactions [-b HOST:PORT] (--list [--duration-filter MS] [--transactional-id-pattern REGEX] | "
    "--describe --transactional-id ID)",
    "List and describe the transactions of a Kafka cluster, with Apache Kafka's kafka-transactions.sh "
    "flags and columns: --list asks every broker for the transactional ids it coordinates "
    "(TransactionalId Coordinator ProducerId TransactionState); --describe asks the coordinator of one "
    "id for its current transaction (CoordinatorId TransactionalId ProducerId ProducerEpoch "
    "TransactionState TransactionTimeoutMs CurrentTransactionStartTimeMs TransactionDurationMs "
    "TopicPartitions). Kafka's spelling `list` / `describe` works too. These requests are not in "
    "librdkafka's admin API, so samsa sends them itself, with the same -X/-F security settings "
    "(SSL, SASL PLAIN and SCRAM).",
    opts,
    "examples:\n"
    "  samsa transactions --list\n"
    "  samsa transactions --list --duration-filter 60000          # open for more than a minute\n"
    "  samsa transactions --describe --transactional-id samsa-worker.blog_group.w1\n"
    "  samsa transactions -b 127.0.0.1:9092 describe --transactional-id app-1   # Kafka's spelling\n"
    "  samsa transactions -b localhost:9094 -X security.protocol=SASL_SSL -X ssl.ca.location=ca.pem \\\n"
    "      -X sasl.mechanism=SCRAM-SHA-512 -X sasl.username=admin -X sasl.password=... --list\n"
    "exit status: 0 done, 1 the cluster refused, was unreachable or does not know the id, 2 wrong input"};

static int is_json(const conf_t *c) { return !strcmp(c->output, "json"); }

/* ---- Kafka's table: cells padded to the column width, each followed by a tab ---- */

typedef struct table_s {
    size_t ncols, nrows; /* rows include the heading */
    char **cells;        /* owned, nrows * ncols */
} table_t;

static void table_row(table_t *t, const char *const *cells) {
    t->cells = sa_realloc(t->cells, (t->nrows + 1) * t->ncols * sizeof(*t->cells));
    for (size_t c = 0; c < t->ncols; c++) t->cells[t->nrows * t->ncols + c] = sa_strdup(cells[c]);
    t->nrows++;
}

static void table_print_free(table_t *t) {
    size_t *width = sa_calloc(t->ncols, sizeof(*width));
    for (size_t i = 0; i < t->nrows * t->ncols; i++)
        width[i % t->ncols] = SA_MAX(width[i % t->ncols], strlen(t->cells[i]));
    for (size_t r = 0; r < t->nrows; r++) {
        for (size_t c = 0; c < t->ncols; c++) printf("%-*s\t", (int)width[c], t->cells[r * t->ncols + c]);
        putchar('\n');
    }
    for (size_t i = 0; i < t->nrows * t->ncols; i++) free(t->cells[i]);
    free(t->cells);
    free(width);
}

static void print_json(json_t *j) {
    json_dumpf(j, stdout, JSON_INDENT(2) | JSON_PRESERVE_ORDER);
    putchar('\n');
    json_decref(j);
}

/* ---- list ---- */

static int do_list(rd_kafka_t *rk, const conf_t *c) {
    sa_tools_txn_filter_t filter = {c->duration_filter, c->have_re ? &c->re : NULL};
    sa_tools_txn_list_t list;
    if (sa_tools_txn_list(CMD, rk, &c->conn, &filter, &list)) return SA_EXIT_FAIL;
    if (is_json(c)) {
        json_t *a = json_array();
        for (size_t i = 0; i < list.n; i++)
            json_array_append_new(a, json_pack("{s:s,s:i,s:I,s:s}", "transactional_id",
                                               list.v[i].transactional_id, "coordinator",
                                               list.v[i].coordinator, "producer_id",
                                               (json_int_t)list.v[i].producer_id, "state", list.v[i].state));
        print_json(a);
    } else {
        table_t t = {.ncols = 4};
        table_row(&t,
                  (const char *const[]){"TransactionalId", "Coordinator", "ProducerId", "TransactionState"});
        for (size_t i = 0; i < list.n; i++) {
            char coord[16], pid[24];
            snprintf(coord, sizeof(coord), "%d", (int)list.v[i].coordinator);
            snprintf(pid, sizeof(pid), "%" PRId64, list.v[i].producer_id);
            table_row(&t, (const char *const[]){list.v[i].transactional_id, coord, pid, list.v[i].state});
        }
        table_print_free(&t);
    }
    sa_tools_txn_list_free(&list);
    return SA_EXIT_OK;
}

/* ---- describe ---- */

static int do_describe(const conf_t *c) {
    sa_tools_txn_desc_t d;
    if (sa_tools_txn_describe(CMD, &c->conn, c->transactional_id, &d)) return SA_EXIT_FAIL;
    int started = d.start_ms >= 0; /* Kafka prints None without a current transaction */
    if (is_json(c)) {
        json_t *parts = json_array();
        for (size_t i = 0; i < d.npartitions; i++)
            json_array_append_new(parts, json_pack("{s:s,s:i}", "topic", d.partitions[i].topic, "partition",
                                                   (int)d.partitions[i].partition));
        json_t *o = json_pack(
            "{s:i,s:s,s:I,s:i,s:s,s:i,s:o,s:o,s:o}", "coordinator_id", (int)d.coordinator_id,
            "transactional_id", d.transactional_id, "producer_id", (json_int_t)d.producer_id,
            "producer_epoch", (int)d.producer_epoch, "state", d.state, "timeout_ms", (int)d.timeout_ms,
            "start_ms", started ? json_integer(d.start_ms) : json_null(), "duration_ms",
            started ? json_integer(d.now_ms - d.start_ms) : json_null(), "topic_partitions", parts);
        print_json(o);
    } else {
        char coord[16], pid[24], epoch[8], timeout[16], start[24] = "None", duration[24] = "None";
        snprintf(coord, sizeof(coord), "%d", (int)d.coordinator_id);
        snprintf(pid, sizeof(pid), "%" PRId64, d.producer_id);
        snprintf(epoch, sizeof(epoch), "%d", (int)d.producer_epoch);
        snprintf(timeout, sizeof(timeout), "%d", (int)d.timeout_ms);
        if (started) {
            snprintf(start, sizeof(start), "%" PRId64, d.start_ms);
            snprintf(duration, sizeof(duration), "%" PRId64, d.now_ms - d.start_ms);
        }
        char *tps = sa_strdup("");
        for (size_t i = 0; i < d.npartitions; i++) {
            size_t n = strlen(tps) + strlen(d.partitions[i].topic) + 16;
            char *more = sa_malloc(n);
            snprintf(more, n, "%s%s%s-%d", tps, i ? "," : "", d.partitions[i].topic,
                     (int)d.partitions[i].partition);
            free(tps);
            tps = more;
        }
        table_t t = {.ncols = 9};
        table_row(&t, (const char *const[]){"CoordinatorId", "TransactionalId", "ProducerId", "ProducerEpoch",
                                            "TransactionState", "TransactionTimeoutMs",
                                            "CurrentTransactionStartTimeMs", "TransactionDurationMs",
                                            "TopicPartitions"});
        table_row(&t, (const char *const[]){coord, d.transactional_id, pid, epoch, d.state, timeout, start,
                                            duration, tps});
        table_print_free(&t);
        free(tps);
    }
    sa_tools_txn_desc_free(&d);
    return SA_EXIT_OK;
}

/* @returns 0 or -1 after printing what is wrong with the flags and words. */
static int validate(conf_t *c, int argc, char **argv, int first) {
    for (int i = first; i < argc; i++) {
        if (!strcmp(argv[i], "list") && !c->list && !c->describe) {
            c->list = 1;
        } else if (!strcmp(argv[i], "describe") && !c->list && !c->describe) {
            c->describe = 1;
        } else {
            sa_cli_error(CMD, "unexpected argument \"%s\"", argv[i]);
            return -1;
        }
    }
    if (c->list + c->describe != 1) {
        sa_cli_error(CMD, "choose one of --list, --describe");
        return -1;
    }
    if (c->describe && (!c->transactional_id || !*c->transactional_id)) {
        sa_cli_error(CMD, "--describe needs --transactional-id");
        return -1;
    }
    if (c->list && c->transactional_id) {
        sa_cli_error(CMD,
                     "--transactional-id goes with --describe (--list takes --transactional-id-pattern)");
        return -1;
    }
    if (c->describe && (c->duration_filter >= 0 || c->pattern)) {
        sa_cli_error(CMD, "--duration-filter and --transactional-id-pattern go with --list");
        return -1;
    }
    if (strcmp(c->output, "table") && strcmp(c->output, "json")) {
        sa_cli_error(CMD, "--output: expected table or json, got \"%s\"", c->output);
        return -1;
    }
    if (c->pattern) { /* anchored: Kafka matches the whole id */
        size_t n = strlen(c->pattern) + 8;
        char *anchored = sa_malloc(n);
        snprintf(anchored, n, "^(%s)$", c->pattern);
        int err = regcomp(&c->re, anchored, REG_EXTENDED | REG_NOSUB);
        free(anchored);
        if (err) {
            char why[256];
            regerror(err, &c->re, why, sizeof(why));
            sa_cli_error(CMD, "--transactional-id-pattern %s: %s", c->pattern, why);
            return -1;
        }
        c->have_re = 1;
    }
    return 0;
}

/* The metadata for the broker list goes through librdkafka; no group is ever joined. */
static const char *const admin_defaults[] = {"allow.auto.create.topics=false", NULL};
static const sa_client_role_t admin_role = {"admin client", SA_CLIENT_ADMIN, admin_defaults, NULL};

static int transactions_main(int argc, char **argv) {
    conf_t c = {0};
    rd_kafka_t *rk = NULL;
    int first, rc = sa_cli_parse(&spec, &c, argc, argv, &first);
    if (rc >= 0) goto out;
    if ((rc = sa_tools_setup(CMD, &c.conn, &admin_role, 1)) >= 0) goto out;
    rc = SA_EXIT_USAGE;
    if (validate(&c, argc, argv, first)) goto out;
    char errstr[512]; /* settings samsa's own connection cannot honour: said before connecting */
    if (sa_kconn_check(&c.conn.client, errstr, sizeof(errstr))) {
        sa_cli_error(CMD, "%s", errstr);
        goto out;
    }
    rc = SA_EXIT_FAIL;
    if (!(rk = sa_tools_connect(CMD, &c.conn, &admin_role, NULL, NULL))) goto out;
    rc = c.list ? do_list(rk, &c) : do_describe(&c);
out:
    if (rk) rd_kafka_destroy(rk);
    if (c.have_re) regfree(&c.re);
    sa_client_opts_free(&c.conn.client);
    sa_cfg_free(opts, &c);
    return rc;
}

const sa_command_t sa_cmd_transactions = {
    "transactions", "list and describe transactions (kafka-transactions)", transactions_main, &spec};
