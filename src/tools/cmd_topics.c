/*
 * cmd_topics.c - `samsa topics`: kafka-topics (and the topic half of kafka-configs) over the
 * librdkafka admin API.
 *
 * Modes, chosen by a flag as Kafka's tool does (--create, --list, --describe, --alter,
 * --delete) or by a first word (samsa topics create ...), plus `create-lab`, the lab's four
 * topics in one request. Exactly one mode; mixing is a usage error.
 *
 * Exit codes: 0 done; 1 the cluster could not do it (unreachable, topic exists/missing); 2 wrong
 * input, whether caught here (missing --topic, 0 partitions, unknown config) or by the broker
 * (INVALID_PARTITIONS, INVALID_CONFIG, ...).
 */
#include <inttypes.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "commands.h"
#include "core/log.h"
#include "core/mem.h"
#include "tools/topic_configs.h"
#include "tools/topics_describe.h"
#include "tools/tool.h"

#define CMD "topics"

typedef struct conf_s {
    sa_tools_conn_t conn;
    int create, list, describe, alter, del;
    char *topic;
    int64_t partitions;         /* -1: not given */
    int64_t replication_factor; /* -1: not given */
    sa_strlist_t config;        /* --config k=v (create) */
    sa_strlist_t add_config;    /* --add-config k=v,k2=v2 (alter) */
    sa_strlist_t delete_config; /* --delete-config k (alter) */
    int if_not_exists, if_exists, exclude_internal;
    char *output;
} conf_t;

static const sa_cfg_opt_t opts[] = {
    SA_TOOLS_CONN_OPTS(conf_t, conn),
    {NULL, "create", 0, SA_CFG_BOOL, offsetof(conf_t, create), 0, 0, NULL, NULL, "create --topic"},
    {NULL, "list", 0, SA_CFG_BOOL, offsetof(conf_t, list), 0, 0, NULL, NULL, "list topic names"},
    {NULL, "describe", 0, SA_CFG_BOOL, offsetof(conf_t, describe), 0, 0, NULL, NULL,
     "partitions (leader, replicas, ISR, earliest/latest offset) and non-default configs of --topic, or of "
     "all"},
    {NULL, "alter", 0, SA_CFG_BOOL, offsetof(conf_t, alter), 0, 0, NULL, NULL,
     "raise --partitions and/or change configs (--add-config, --delete-config) of --topic"},
    {NULL, "delete", 0, SA_CFG_BOOL, offsetof(conf_t, del), 0, 0, NULL, NULL, "delete --topic"},
    {NULL, "topic", 't', SA_CFG_STR, offsetof(conf_t, topic), 0, 0, NULL, "TOPIC", "the topic"},
    {NULL, "partitions", 'p', SA_CFG_INT, offsetof(conf_t, partitions), 0, 0, NULL, NULL,
     "partition count (create: broker default if not given; alter: the new total)"},
    {NULL, "replication-factor", 'r', SA_CFG_INT, offsetof(conf_t, replication_factor), 0, 0, NULL, NULL,
     "replicas per partition (broker default if not given)"},
    {NULL, "config", 'c', SA_CFG_LIST, offsetof(conf_t, config), 0, 0, NULL, "KEY=VALUE",
     "topic config for --create, e.g. retention.ms=604800000 (repeatable)"},
    {NULL, "add-config", 0, SA_CFG_LIST, offsetof(conf_t, add_config), 0, 0, NULL, "K=V[,K2=V2]",
     "--alter: set configs, as kafka-configs does"},
    {NULL, "delete-config", 0, SA_CFG_LIST, offsetof(conf_t, delete_config), 0, 0, NULL, "K[,K2]",
     "--alter: remove configs (back to the default)"},
    {NULL, "if-not-exists", 0, SA_CFG_BOOL, offsetof(conf_t, if_not_exists), 0, 0, NULL, NULL,
     "--create: succeed if the topic exists"},
    {NULL, "if-exists", 0, SA_CFG_BOOL, offsetof(conf_t, if_exists), 0, 0, NULL, NULL,
     "--alter/--delete/--describe: succeed if the topic does not exist"},
    {NULL, "exclude-internal", 0, SA_CFG_BOOL, offsetof(conf_t, exclude_internal), 0, 0, NULL, NULL,
     "--list/--describe: leave out internal topics (__consumer_offsets, ...)"},
    {NULL, "output", 'o', SA_CFG_STR, offsetof(conf_t, output), 0, 0, "table", "table|json",
     "output format of --list and --describe"},
    {0}};

static const sa_cfg_cmd_t spec = {
    "topics",
    "samsa topics [-b HOST:PORT] (--create | --list | --describe | --alter | --delete | create-lab) [--topic "
    "T] "
    "[OPTIONS]",
    "Create, list, describe, alter and delete topics, with Apache Kafka's kafka-topics flags (and "
    "kafka-configs' --add-config/--delete-config); the mode can also be a first word (samsa topics "
    "create --topic T ...). `create-lab` creates the lab's four topics: "
    "kafka-logs (3 partitions, retention.ms=604800000), user-events, system-metrics and "
    "payment-transactions (2 partitions each); existing ones are left alone.",
    opts,
    "examples:\n"
    "  samsa topics -b localhost:9092 --create --topic kafka-logs --partitions 3 --replication-factor 1 \\\n"
    "      --config retention.ms=604800000\n"
    "  samsa topics --list\n"
    "  samsa topics --describe --topic kafka-logs --output json\n"
    "  samsa topics --alter --topic kafka-logs --partitions 6\n"
    "  samsa topics --alter --topic kafka-logs --add-config retention.ms=86400000,segment.bytes=1048576\n"
    "  samsa topics --delete --topic user-events --if-exists\n"
    "  samsa topics create-lab\n"
    "exit status: 0 done, 1 the cluster refused or was unreachable, 2 wrong input"};

typedef enum mode_e { M_NONE, M_CREATE, M_LIST, M_DESCRIBE, M_ALTER, M_DELETE, M_CREATE_LAB } mode_t_;

static const char *const mode_words[] = {"", "create", "list", "describe", "alter", "delete", "create-lab"};

/* Broker errors that mean the request itself was wrong. */
static int is_input_error(rd_kafka_resp_err_t err) {
    return err == RD_KAFKA_RESP_ERR_INVALID_PARTITIONS ||
           err == RD_KAFKA_RESP_ERR_INVALID_REPLICATION_FACTOR || err == RD_KAFKA_RESP_ERR_INVALID_CONFIG ||
           err == RD_KAFKA_RESP_ERR_TOPIC_EXCEPTION || err == RD_KAFKA_RESP_ERR_INVALID_REQUEST ||
           err == RD_KAFKA_RESP_ERR_INVALID_REPLICA_ASSIGNMENT || err == RD_KAFKA_RESP_ERR_POLICY_VIOLATION;
}

typedef struct new_topic_s {
    const char *name;
    int partitions;
    int rf;
    const sa_strlist_t *configs;
} new_topic_t;

/* Create @p n topics in one request; existing ones are fine when @p if_not_exists. */
static int create_topics(rd_kafka_t *rk, const conf_t *c, const new_topic_t *nt, size_t n,
                         int if_not_exists) {
    int rc = SA_EXIT_FAIL;
    char errstr[512];
    rd_kafka_NewTopic_t **topics = sa_calloc(n, sizeof(*topics));
    rd_kafka_queue_t *q = rd_kafka_queue_new(rk);
    rd_kafka_AdminOptions_t *ao = sa_tools_admin_options(rk, RD_KAFKA_ADMIN_OP_CREATETOPICS, &c->conn);
    rd_kafka_event_t *ev = NULL;
    for (size_t i = 0; i < n; i++) {
        topics[i] = rd_kafka_NewTopic_new(nt[i].name, nt[i].partitions, nt[i].rf, errstr, sizeof(errstr));
        if (!topics[i]) {
            sa_cli_error(CMD, "%s: %s", nt[i].name, errstr);
            rc = SA_EXIT_USAGE;
            goto out;
        }
        for (size_t k = 0; nt[i].configs && k < nt[i].configs->n; k++) {
            char *kv = sa_strdup(nt[i].configs->v[k]), *eq = strchr(kv, '=');
            *eq = '\0';
            rd_kafka_NewTopic_set_config(topics[i], kv, eq + 1);
            free(kv);
        }
    }
    rd_kafka_CreateTopics(rk, topics, n, ao, q);
    if (!(ev = sa_tools_admin_wait(CMD, q, RD_KAFKA_EVENT_CREATETOPICS_RESULT, &c->conn))) goto out;
    size_t cnt;
    const rd_kafka_topic_result_t **res =
        rd_kafka_CreateTopics_result_topics(rd_kafka_event_CreateTopics_result(ev), &cnt);
    rc = SA_EXIT_OK;
    for (size_t i = 0; i < cnt; i++) {
        rd_kafka_resp_err_t err = rd_kafka_topic_result_error(res[i]);
        const char *name = rd_kafka_topic_result_name(res[i]);
        if (!err) {
            printf("Created topic %s.\n", name);
        } else if (err == RD_KAFKA_RESP_ERR_TOPIC_ALREADY_EXISTS && if_not_exists) {
            printf("Topic %s already exists.\n", name);
        } else {
            const char *msg = rd_kafka_topic_result_error_string(res[i]);
            sa_cli_error(CMD, "cannot create topic %s: %s", name, msg && *msg ? msg : rd_kafka_err2str(err));
            if (rc == SA_EXIT_OK) rc = is_input_error(err) ? SA_EXIT_USAGE : SA_EXIT_FAIL;
        }
    }
out:
    for (size_t i = 0; i < n; i++)
        if (topics[i]) rd_kafka_NewTopic_destroy(topics[i]);
    free(topics);
    if (ev) rd_kafka_event_destroy(ev);
    rd_kafka_AdminOptions_destroy(ao);
    rd_kafka_queue_destroy(q);
    return rc;
}

static int do_create(rd_kafka_t *rk, const conf_t *c) {
    new_topic_t nt = {c->topic, (int)c->partitions, (int)c->replication_factor, &c->config};
    return create_topics(rk, c, &nt, 1, c->if_not_exists);
}

static int do_create_lab(rd_kafka_t *rk, const conf_t *c) {
    sa_strlist_t week = {0}, none = {0};
    sa_strlist_add(&week, "retention.ms=604800000"); /* the lab's 7 days */
    int rf = (int)c->replication_factor;
    const new_topic_t lab[] = {{"kafka-logs", 3, rf, &week},
                               {"user-events", 2, rf, &none},
                               {"system-metrics", 2, rf, &none},
                               {"payment-transactions", 2, rf, &none}};
    int rc = create_topics(rk, c, lab, SA_ARRAY_LEN(lab), 1);
    sa_strlist_free(&week);
    return rc;
}

static int do_delete(rd_kafka_t *rk, const conf_t *c) {
    int rc = SA_EXIT_FAIL;
    rd_kafka_DeleteTopic_t *dt = rd_kafka_DeleteTopic_new(c->topic);
    rd_kafka_queue_t *q = rd_kafka_queue_new(rk);
    rd_kafka_AdminOptions_t *ao = sa_tools_admin_options(rk, RD_KAFKA_ADMIN_OP_DELETETOPICS, &c->conn);
    rd_kafka_DeleteTopics(rk, &dt, 1, ao, q);
    rd_kafka_event_t *ev = sa_tools_admin_wait(CMD, q, RD_KAFKA_EVENT_DELETETOPICS_RESULT, &c->conn);
    if (ev) {
        size_t cnt;
        const rd_kafka_topic_result_t **res =
            rd_kafka_DeleteTopics_result_topics(rd_kafka_event_DeleteTopics_result(ev), &cnt);
        rd_kafka_resp_err_t err = cnt ? rd_kafka_topic_result_error(res[0]) : RD_KAFKA_RESP_ERR__FAIL;
        if (!err) {
            printf("Deleted topic %s.\n", c->topic);
            rc = SA_EXIT_OK;
        } else if (err == RD_KAFKA_RESP_ERR_UNKNOWN_TOPIC_OR_PART && c->if_exists) {
            rc = SA_EXIT_OK;
        } else {
            sa_cli_error(CMD, "cannot delete topic %s: %s", c->topic, rd_kafka_err2str(err));
        }
        rd_kafka_event_destroy(ev);
    }
    rd_kafka_AdminOptions_destroy(ao);
    rd_kafka_queue_destroy(q);
    rd_kafka_DeleteTopic_destroy(dt);
    return rc;
}

static int alter_partitions(rd_kafka_t *rk, const conf_t *c) {
    int rc = SA_EXIT_FAIL;
    char errstr[512];
    rd_kafka_NewPartitions_t *np =
        rd_kafka_NewPartitions_new(c->topic, (size_t)c->partitions, errstr, sizeof(errstr));
    if (!np) {
        sa_cli_error(CMD, "--partitions: %s", errstr);
        return SA_EXIT_USAGE;
    }
    rd_kafka_queue_t *q = rd_kafka_queue_new(rk);
    rd_kafka_AdminOptions_t *ao = sa_tools_admin_options(rk, RD_KAFKA_ADMIN_OP_CREATEPARTITIONS, &c->conn);
    rd_kafka_CreatePartitions(rk, &np, 1, ao, q);
    rd_kafka_event_t *ev = sa_tools_admin_wait(CMD, q, RD_KAFKA_EVENT_CREATEPARTITIONS_RESULT, &c->conn);
    if (ev) {
        size_t cnt;
        const rd_kafka_topic_result_t **res =
            rd_kafka_CreatePartitions_result_topics(rd_kafka_event_CreatePartitions_result(ev), &cnt);
        rd_kafka_resp_err_t err = cnt ? rd_kafka_topic_result_error(res[0]) : RD_KAFKA_RESP_ERR__FAIL;
        if (!err) {
            printf("Topic %s now has %" PRId64 " partitions.\n", c->topic, c->partitions);
            rc = SA_EXIT_OK;
        } else {
            const char *msg = cnt ? rd_kafka_topic_result_error_string(res[0]) : NULL;
            sa_cli_error(CMD, "cannot change the partitions of %s: %s", c->topic,
                         msg && *msg ? msg : rd_kafka_err2str(err));
            rc = is_input_error(err) ? SA_EXIT_USAGE : SA_EXIT_FAIL;
        }
        rd_kafka_event_destroy(ev);
    }
    rd_kafka_AdminOptions_destroy(ao);
    rd_kafka_queue_destroy(q);
    rd_kafka_NewPartitions_destroy(np);
    return rc;
}

/* librdkafka 2.0 has only the non-incremental AlterConfigs, which replaces a topic's whole set
 * of overrides: read the current overrides, apply the changes, write the full set back (what
 * kafka-configs did before IncrementalAlterConfigs). */
static int alter_configs(rd_kafka_t *rk, const conf_t *c) {
    int rc = SA_EXIT_FAIL;
    sa_strlist_t cur = {0};
    if (sa_tools_topic_describe_configs(CMD, rk, &c->conn, c->topic, &cur)) goto out;
    sa_strlist_t adds = {0}, dels = {0};
    for (size_t i = 0; i < c->add_config.n; i++) sa_tools_split_csv(c->add_config.v[i], &adds);
    for (size_t i = 0; i < c->delete_config.n; i++) sa_tools_split_csv(c->delete_config.v[i], &dels);
    rd_kafka_ConfigResource_t *cr = rd_kafka_ConfigResource_new(RD_KAFKA_RESOURCE_TOPIC, c->topic);
    for (size_t i = 0; i < cur.n; i++) {
        char *kv = cur.v[i], *eq = strchr(kv, '=');
        *eq = '\0';
        int drop = 0;
        for (size_t k = 0; k < dels.n; k++) drop |= !strcmp(dels.v[k], kv);
        for (size_t k = 0; k < adds.n; k++)
            drop |= !strncmp(adds.v[k], kv, strlen(kv)) && adds.v[k][strlen(kv)] == '=';
        if (!drop) rd_kafka_ConfigResource_set_config(cr, kv, eq + 1);
        *eq = '=';
    }
    for (size_t k = 0; k < dels.n; k++) {
        int found = 0;
        for (size_t i = 0; i < cur.n; i++)
            found |= !strncmp(cur.v[i], dels.v[k], strlen(dels.v[k])) && cur.v[i][strlen(dels.v[k])] == '=';
        if (!found) sa_log_warn(CMD, "%s has no override for %s; nothing to delete", c->topic, dels.v[k]);
    }
    for (size_t k = 0; k < adds.n; k++) {
        char *kv = sa_strdup(adds.v[k]), *eq = strchr(kv, '=');
        *eq = '\0';
        rd_kafka_ConfigResource_set_config(cr, kv, eq + 1);
        free(kv);
    }
    rd_kafka_queue_t *q = rd_kafka_queue_new(rk);
    rd_kafka_AdminOptions_t *ao = sa_tools_admin_options(rk, RD_KAFKA_ADMIN_OP_ALTERCONFIGS, &c->conn);
    rd_kafka_AlterConfigs(rk, &cr, 1, ao, q);
    rd_kafka_event_t *ev = sa_tools_admin_wait(CMD, q, RD_KAFKA_EVENT_ALTERCONFIGS_RESULT, &c->conn);
    if (ev) {
        size_t cnt;
        const rd_kafka_ConfigResource_t **res =
            rd_kafka_AlterConfigs_result_resources(rd_kafka_event_AlterConfigs_result(ev), &cnt);
        rd_kafka_resp_err_t err = cnt ? rd_kafka_ConfigResource_error(res[0]) : RD_KAFKA_RESP_ERR__FAIL;
        if (!err) {
            printf("Completed updating config for topic %s.\n", c->topic);
            rc = SA_EXIT_OK;
        } else {
            const char *msg = cnt ? rd_kafka_ConfigResource_error_string(res[0]) : NULL;
            sa_cli_error(CMD, "cannot change the configs of %s: %s", c->topic,
                         msg && *msg ? msg : rd_kafka_err2str(err));
            rc = is_input_error(err) ? SA_EXIT_USAGE : SA_EXIT_FAIL;
        }
        rd_kafka_event_destroy(ev);
    }
    rd_kafka_AdminOptions_destroy(ao);
    rd_kafka_queue_destroy(q);
    rd_kafka_ConfigResource_destroy(cr);
    sa_strlist_free(&adds);
    sa_strlist_free(&dels);
out:
    sa_strlist_free(&cur);
    return rc;
}

static int do_alter(rd_kafka_t *rk, const conf_t *c) {
    int rc = SA_EXIT_OK;
    if (c->if_exists) {
        int e = sa_tools_topic_exists(CMD, rk, &c->conn, c->topic);
        if (e <= 0) return e < 0 ? SA_EXIT_FAIL : SA_EXIT_OK;
    }
    if (c->partitions >= 0) rc = alter_partitions(rk, c);
    if (rc == SA_EXIT_OK && (c->add_config.n || c->delete_config.n)) rc = alter_configs(rk, c);
    return rc;
}

static int do_list(rd_kafka_t *rk, const conf_t *c) {
    sa_strlist_t names = {0};
    if (sa_tools_topic_list(CMD, rk, &c->conn, c->exclude_internal, &names)) return SA_EXIT_FAIL;
    if (!strcmp(c->output, "json")) {
        json_t *a = json_array();
        for (size_t i = 0; i < names.n; i++) json_array_append_new(a, json_string(names.v[i]));
        json_dumpf(a, stdout, 0);
        putchar('\n');
        json_decref(a);
    } else {
        for (size_t i = 0; i < names.n; i++) puts(names.v[i]);
    }
    sa_strlist_free(&names);
    return SA_EXIT_OK;
}

static int do_describe(rd_kafka_t *rk, const conf_t *c) {
    sa_strlist_t names = {0};
    int rc = SA_EXIT_FAIL, json = !strcmp(c->output, "json");
    if (c->topic) {
        int e = sa_tools_topic_exists(CMD, rk, &c->conn, c->topic);
        if (e < 0) return SA_EXIT_FAIL;
        if (!e) {
            if (c->if_exists) return SA_EXIT_OK;
            sa_cli_error(CMD, "topic %s does not exist", c->topic);
            return SA_EXIT_FAIL;
        }
        sa_strlist_add(&names, c->topic);
    } else if (sa_tools_topic_list(CMD, rk, &c->conn, c->exclude_internal, &names)) {
        return SA_EXIT_FAIL;
    }
    json_t *all = json ? json_array() : NULL;
    for (size_t i = 0; i < names.n; i++) {
        sa_tools_topic_t td;
        if (sa_tools_topic_describe(CMD, rk, &c->conn, names.v[i], &td)) goto out;
        if (json)
            json_array_append_new(all, sa_tools_topic_to_json(&td));
        else
            sa_tools_topic_print(&td, stdout);
        sa_tools_topic_free(&td);
    }
    if (json) {
        /* one topic: the object itself (scripts read .partitions); all: {"topics": [...]} */
        json_t *doc = c->topic ? json_incref(json_array_get(all, 0)) : json_pack("{s:O}", "topics", all);
        json_dumpf(doc, stdout, JSON_INDENT(2) | JSON_PRESERVE_ORDER);
        putchar('\n');
        json_decref(doc);
    }
    rc = SA_EXIT_OK;
out:
    if (all) json_decref(all);
    sa_strlist_free(&names);
    return rc;
}

/* Work out the one mode from the flags and an optional first word. @returns M_NONE after an error. */
static mode_t_ pick_mode(const conf_t *c, int argc, char **argv, int first) {
    int flags[] = {0, c->create, c->list, c->describe, c->alter, c->del, 0};
    mode_t_ mode = M_NONE;
    int n = 0;
    for (int m = M_CREATE; m <= M_DELETE; m++)
        if (flags[m]) mode = (mode_t_)m, n++;
    if (first < argc) {
        mode_t_ word = M_NONE;
        for (int m = M_CREATE; m <= M_CREATE_LAB; m++)
            if (!strcmp(argv[first], mode_words[m])) word = (mode_t_)m;
        if (word == M_NONE) {
            sa_cli_error(CMD, "unknown action \"%s\" (create, list, describe, alter, delete, create-lab)",
                         argv[first]);
            return M_NONE;
        }
        if (first + 1 < argc) {
            sa_cli_error(CMD, "unexpected argument \"%s\"", argv[first + 1]);
            return M_NONE;
        }
        if (n && mode != word)
            n++;
        else if (!n)
            n = 1;
        mode = word;
    }
    if (n == 0)
        sa_cli_error(CMD, "say what to do: --create, --list, --describe, --alter or --delete");
    else if (n > 1)
        sa_cli_error(CMD, "choose one of --create, --list, --describe, --alter, --delete");
    return n == 1 ? mode : M_NONE;
}

/* Check the flags that make sense for @p mode. @returns 0 or -1 after printing why. */
static int validate(const conf_t *c, mode_t_ mode) {
    char why[256];
    int need_topic = mode == M_CREATE || mode == M_ALTER || mode == M_DELETE;
    if (need_topic && (!c->topic || !*c->topic)) {
        sa_cli_error(CMD, "--%s needs --topic", mode_words[mode]);
        return -1;
    }
    if (strcmp(c->output, "table") && strcmp(c->output, "json")) {
        sa_cli_error(CMD, "--output: expected table or json, got \"%s\"", c->output);
        return -1;
    }
    if (c->partitions != -1 && c->partitions < 1) {
        sa_cli_error(CMD, "--partitions must be at least 1, got %" PRId64, c->partitions);
        return -1;
    }
    if (c->partitions > 100000 || c->replication_factor > 32767) {
        sa_cli_error(CMD, "--partitions or --replication-factor is too large");
        return -1;
    }
    if (c->replication_factor != -1 && c->replication_factor < 1) {
        sa_cli_error(CMD, "--replication-factor must be at least 1, got %" PRId64, c->replication_factor);
        return -1;
    }
    if ((c->partitions != -1 || c->replication_factor != -1) && mode != M_CREATE && mode != M_ALTER &&
        mode != M_CREATE_LAB) {
        sa_cli_error(CMD, "--partitions and --replication-factor go with --create or --alter");
        return -1;
    }
    if (mode == M_ALTER && c->replication_factor != -1) {
        sa_cli_error(CMD, "--alter cannot change the replication factor");
        return -1;
    }
    if (c->config.n && mode != M_CREATE) {
        sa_cli_error(CMD, "--config goes with --create; use --alter --add-config to change a topic");
        return -1;
    }
    if ((c->add_config.n || c->delete_config.n) && mode != M_ALTER) {
        sa_cli_error(CMD, "--add-config and --delete-config go with --alter");
        return -1;
    }
    if (mode == M_ALTER && c->partitions == -1 && !c->add_config.n && !c->delete_config.n) {
        sa_cli_error(CMD, "--alter needs --partitions, --add-config or --delete-config");
        return -1;
    }
    for (size_t i = 0; i < c->config.n; i++)
        if (sa_tools_topic_config_check(c->config.v[i], 1, why, sizeof(why))) goto bad;
    for (int del = 0; del < 2; del++) {
        sa_strlist_t parts = {0};
        const sa_strlist_t *l = del ? &c->delete_config : &c->add_config;
        for (size_t i = 0; i < l->n; i++) sa_tools_split_csv(l->v[i], &parts);
        int bad = 0;
        for (size_t i = 0; i < parts.n && !bad; i++)
            bad = sa_tools_topic_config_check(parts.v[i], !del, why, sizeof(why));
        sa_strlist_free(&parts);
        if (bad) goto bad;
    }
    return 0;
bad:
    sa_cli_error(CMD, "%s", why);
    return -1;
}

/* Never auto-create a topic through a metadata request (describe must not create). */
static const char *const admin_defaults[] = {"allow.auto.create.topics=false", NULL};
static const sa_client_role_t admin_role = {"admin client", SA_CLIENT_ADMIN, admin_defaults, NULL};

static int topics_main(int argc, char **argv) {
    conf_t c = {.partitions = -1, .replication_factor = -1};
    rd_kafka_t *rk = NULL;
    int first, rc = sa_cli_parse(&spec, &c, argc, argv, &first);
    if (rc >= 0) goto out;
    if ((rc = sa_tools_setup(CMD, &c.conn, &admin_role, 1)) >= 0) goto out;
    rc = SA_EXIT_USAGE;
    mode_t_ mode = pick_mode(&c, argc, argv, first);
    if (mode == M_NONE || validate(&c, mode)) goto out;
    rc = SA_EXIT_FAIL;
    if (!(rk = sa_tools_connect(CMD, &c.conn, &admin_role, NULL, NULL))) goto out;
    switch (mode) {
    case M_CREATE: rc = do_create(rk, &c); break;
    case M_CREATE_LAB: rc = do_create_lab(rk, &c); break;
    case M_LIST: rc = do_list(rk, &c); break;
    case M_DESCRIBE: rc = do_describe(rk, &c); break;
    case M_ALTER: rc = do_alter(rk, &c); break;
    case M_DELETE: {
        int e = c.if_exists ? sa_tools_topic_exists(CMD, rk, &c.conn, c.topic) : 1;
        rc = e < 0 ? SA_EXIT_FAIL : e == 0 ? SA_EXIT_OK : do_delete(rk, &c);
        break;
    }
    default: break;
    }
out:
    if (rk) rd_kafka_destroy(rk);
    sa_client_opts_free(&c.conn.client);
    sa_cfg_free(opts, &c);
    return rc;
}

const sa_command_t sa_cmd_topics = {"topics", "create, list, describe, alter and delete topics", topics_main,
                                    &spec};
