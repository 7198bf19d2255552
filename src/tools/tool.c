/*
 * tool.c - shared plumbing of the lab tools; see tool.h.
 */
#include "tools/tool.h"

#include <errno.h>
#include <stdlib.h>
#include <stdio.h>
#include <string.h>

#include "core/cli.h"
#include "core/log.h"
#include "core/mem.h"

int sa_tools_setup(const char *cmd, sa_tools_conn_t *conn, const sa_client_role_t *roles, size_t nroles) {
    /* logging first: --debug client shows in -X dump as librdkafka's debug property */
    if (sa_cli_apply_logging(conn->log_level, conn->debug)) return SA_EXIT_USAGE;
    return sa_client_setup(cmd, &conn->client, roles, nroles);
}

rd_kafka_t *sa_tools_connect(const char *cmd, const sa_tools_conn_t *conn, const sa_client_role_t *role,
                             void (*setup)(rd_kafka_conf_t *conf), void *opaque) {
    const char *bootstrap = sa_client_bootstrap(&conn->client);
    char errstr[512], hint[600];
    /* A refused connection is certain at once; librdkafka would retry it until the deadline. */
    int probe_ms = (int)SA_MIN(conn->timeout_ms, 1000);
    if (sa_client_reachable(bootstrap, probe_ms, errstr, sizeof(errstr)) < 0) {
        if (strstr(errstr, "cannot resolve"))
            snprintf(hint, sizeof(hint), "check the host name given with -b");
        else
            sa_client_start_hint(bootstrap, hint, sizeof(hint));
        sa_cli_error(cmd, "cannot reach the Kafka cluster at %s: %s; %s", bootstrap, errstr, hint);
        return NULL;
    }
    rd_kafka_conf_t *conf = sa_client_conf_new(&conn->client, role, errstr, sizeof(errstr));
    if (!conf) {
        sa_cli_error(cmd, "%s: %s", role->name, errstr);
        return NULL;
    }
    if (setup) setup(conf);
    rd_kafka_conf_set_opaque(conf, opaque);
    rd_kafka_t *rk = rd_kafka_new(sa_client_handle_type(role->kind), conf, errstr, sizeof(errstr));
    if (!rk) {
        rd_kafka_conf_destroy(conf);
        sa_cli_error(cmd, "cannot create the Kafka %s: %s", role->name, errstr);
        return NULL;
    }
    const struct rd_kafka_metadata *md = NULL;
    /* all_topics=0 with no topic asks for brokers only: cheap on a big cluster. */
    rd_kafka_resp_err_t err = rd_kafka_metadata(rk, 0, NULL, &md, (int)conn->timeout_ms);
    if (md) rd_kafka_metadata_destroy(md);
    if (err) {
        sa_cli_error(cmd, "cannot reach the Kafka cluster at %s within %.1f s: %s", bootstrap,
                     (double)conn->timeout_ms / 1000.0, rd_kafka_err2str(err));
        rd_kafka_destroy(rk);
        return NULL;
    }
    return rk;
}

rd_kafka_AdminOptions_t *sa_tools_admin_options(rd_kafka_t *rk, rd_kafka_admin_op_t op,
                                                const sa_tools_conn_t *conn) {
    return sa_client_admin_options(rk, op, (int)conn->timeout_ms);
}

rd_kafka_event_t *sa_tools_admin_wait(const char *cmd, rd_kafka_queue_t *q, rd_kafka_event_type_t evtype,
                                      const sa_tools_conn_t *conn) {
    char errstr[512];
    int timed_out;
    rd_kafka_event_t *ev =
        sa_client_admin_wait(q, evtype, (int)conn->timeout_ms, &timed_out, errstr, sizeof(errstr));
    if (!ev && timed_out)
        sa_cli_error(cmd, "no answer from %s within %.1f s", sa_client_bootstrap(&conn->client),
                     (double)conn->timeout_ms / 1000.0);
    else if (!ev)
        sa_cli_error(cmd, "%s", errstr);
    return ev;
}

void sa_tools_split_csv(const char *csv, sa_strlist_t *out) {
    const char *p = csv;
    while (*p) {
        size_t n = strcspn(p, ",");
        if (n) {
            char *piece = sa_strndup(p, n);
            sa_strlist_add(out, piece);
            free(piece);
        }
        p += n;
        if (*p == ',') p++;
    }
}
