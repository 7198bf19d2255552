/*
 * tool.c - shared plumbing of the lab tools; see tool.h.
 */
#include "tools/tool.h"

#include <errno.h>
#include <stdarg.h>
#include <stdlib.h>
#include <stdio.h>
#include <string.h>

#include "client/kconf.h"
#include "core/cli.h"
#include "core/log.h"
#include "core/mem.h"

void sa_tools_error(const char *cmd, const char *fmt, ...) {
    va_list ap;
    fprintf(stderr, "samsa %s: ", cmd);
    va_start(ap, fmt);
    vfprintf(stderr, fmt, ap);
    va_end(ap);
    fputc('\n', stderr);
}

static void quiet_log_cb(const rd_kafka_t *rk, int level, const char *fac, const char *buf) {
    (void)rk;
    if (sa_log_level < SA_LOG_INFO) return;
    sa_log_level_t lvl = sa_kconf_log_level(level);
    if (lvl <= sa_log_level) sa_log_write(lvl, "rdkafka", "%s: %s", fac, buf);
}

int sa_tools_logging(const sa_tools_conn_t *conn) {
    return sa_cli_apply_logging(conn->log_level, conn->debug);
}

/* The user's librdkafka settings in order: the -F file (or $SAMSA_CONFIG), then -X.
 * @returns 0, or -1 after printing why the file could not be read. */
static int user_overrides(const char *cmd, const sa_tools_conn_t *conn, sa_strlist_t *out) {
    const char *path = conn->kafka_config ? conn->kafka_config : getenv("SAMSA_CONFIG");
    if (path && *path) {
        FILE *fp = fopen(path, "r");
        if (!fp) {
            sa_tools_error(cmd, "-F %s: %s", path, strerror(errno));
            return -1;
        }
        char line[4096];
        int lineno = 0, rc = 0;
        while (fgets(line, sizeof(line), fp)) {
            lineno++;
            char *s = line, *e = line + strlen(line);
            while (*s == ' ' || *s == '\t') s++;
            while (e > s && (e[-1] == '\n' || e[-1] == '\r' || e[-1] == ' ' || e[-1] == '\t')) *--e = '\0';
            if (!*s || *s == '#') continue;
            if (!strchr(s, '=')) {
                sa_tools_error(cmd, "%s:%d: expected key=value, got \"%s\"", path, lineno, s);
                rc = -1;
                break;
            }
            sa_strlist_add(out, s);
        }
        fclose(fp);
        if (rc) return -1;
    }
    for (size_t i = 0; i < conn->x.n; i++) sa_strlist_add(out, conn->x.v[i]);
    return 0;
}

static int x_has(const sa_tools_conn_t *conn, const char *word) {
    for (size_t i = 0; i < conn->x.n; i++)
        if (!strcmp(conn->x.v[i], word)) return 1;
    return 0;
}

rd_kafka_t *sa_tools_client_new(const char *cmd, rd_kafka_type_t type, const sa_tools_conn_t *conn,
                                const char *const *defaults, void (*setup)(rd_kafka_conf_t *conf),
                                void *opaque) {
    char errstr[512];
    rd_kafka_t *rk = NULL;
    sa_strlist_t over = {0};
    if (user_overrides(cmd, conn, &over)) goto out;
    rd_kafka_conf_t *conf = sa_kconf_new(conn->bootstrap, defaults, &over, errstr, sizeof(errstr));
    if (!conf) {
        sa_tools_error(cmd, "%s", errstr);
        goto out;
    }
    /* The tools print their own one-line errors; librdkafka's chatter (connection refused, ...)
     * only shows from --log-level info up. */
    rd_kafka_conf_set_log_cb(conf, quiet_log_cb);
    if (setup) setup(conf);
    rd_kafka_conf_set_opaque(conf, opaque);
    rk = rd_kafka_new(type, conf, errstr, sizeof(errstr));
    if (!rk) {
        rd_kafka_conf_destroy(conf);
        sa_tools_error(cmd, "cannot create the Kafka client: %s", errstr);
    }
out:
    sa_strlist_free(&over);
    return rk;
}

int sa_tools_conf_query(const char *cmd, const sa_tools_conn_t *conn, const char *const *defaults) {
    if (x_has(conn, "list")) {
        rd_kafka_conf_properties_show(stdout);
        return SA_EXIT_OK;
    }
    if (!x_has(conn, "dump")) return -1;
    sa_tools_conn_t c = *conn;
    sa_strlist_t x = {0}, over = {0};
    for (size_t i = 0; i < conn->x.n; i++)
        if (strcmp(conn->x.v[i], "dump")) sa_strlist_add(&x, conn->x.v[i]);
    c.x = x;
    int rc = SA_EXIT_USAGE;
    char errstr[512];
    if (user_overrides(cmd, &c, &over)) goto out;
    rd_kafka_conf_t *conf = sa_kconf_new(conn->bootstrap, defaults, &over, errstr, sizeof(errstr));
    if (!conf) {
        sa_tools_error(cmd, "%s", errstr);
        goto out;
    }
    size_t n;
    const char **kv = rd_kafka_conf_dump(conf, &n);
    for (size_t i = 0; i + 1 < n; i += 2) printf("%s = %s\n", kv[i], kv[i + 1]);
    rd_kafka_conf_dump_free(kv, n);
    rd_kafka_conf_destroy(conf);
    rc = SA_EXIT_OK;
out:
    sa_strlist_free(&x);
    sa_strlist_free(&over);
    return rc;
}

int sa_tools_probe(const char *cmd, rd_kafka_t *rk, const sa_tools_conn_t *conn) {
    const struct rd_kafka_metadata *md = NULL;
    /* all_topics=0 with no topic asks for brokers only: cheap on a big cluster. */
    rd_kafka_resp_err_t err = rd_kafka_metadata(rk, 0, NULL, &md, (int)conn->timeout_ms);
    if (md) rd_kafka_metadata_destroy(md);
    if (err) {
        sa_tools_error(cmd, "cannot reach the Kafka cluster at %s within %.1f s: %s", conn->bootstrap,
                       (double)conn->timeout_ms / 1000.0, rd_kafka_err2str(err));
        return -1;
    }
    return 0;
}

rd_kafka_AdminOptions_t *sa_tools_admin_options(rd_kafka_t *rk, rd_kafka_admin_op_t op,
                                                const sa_tools_conn_t *conn) {
    rd_kafka_AdminOptions_t *opts = rd_kafka_AdminOptions_new(rk, op);
    char errstr[256];
    rd_kafka_AdminOptions_set_request_timeout(opts, (int)conn->timeout_ms, errstr, sizeof(errstr));
    /* Only topic operations take an operation timeout; others reject it harmlessly. */
    rd_kafka_AdminOptions_set_operation_timeout(opts, (int)conn->timeout_ms, errstr, sizeof(errstr));
    return opts;
}

rd_kafka_event_t *sa_tools_admin_wait(const char *cmd, rd_kafka_queue_t *q, rd_kafka_event_type_t evtype,
                                      const sa_tools_conn_t *conn) {
    /* The request timeout already bounds the wait; the margin covers the queue hop. */
    rd_kafka_event_t *ev = rd_kafka_queue_poll(q, (int)conn->timeout_ms + 2000);
    if (!ev) {
        sa_tools_error(cmd, "no answer from %s within %.1f s", conn->bootstrap,
                       (double)conn->timeout_ms / 1000.0);
        return NULL;
    }
    if (rd_kafka_event_type(ev) != evtype) {
        sa_tools_error(cmd, "unexpected event %s", rd_kafka_event_name(ev));
        rd_kafka_event_destroy(ev);
        return NULL;
    }
    if (rd_kafka_event_error(ev)) {
        sa_tools_error(cmd, "%s", rd_kafka_event_error_string(ev));
        rd_kafka_event_destroy(ev);
        return NULL;
    }
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
