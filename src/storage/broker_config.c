/*
 * broker_config.c - dynamic broker configs: the BROKER resource of AlterConfigs and
 * IncrementalAlterConfigs (`kafka-configs.sh --entity-type brokers --entity-default` or
 * `--entity-name ID`), kept durable beside the topic configs.
 *
 * DESIGN. Two scopes, as in Kafka: the cluster-wide default (resource name "",
 * DYNAMIC_DEFAULT_BROKER_CONFIG) and this broker (its node id, DYNAMIC_BROKER_CONFIG, which wins).
 * The configs that can change at run time are the broker-level names of the topic configs
 * (log.retention.ms, log.segment.bytes, message.max.bytes, log.cleanup.policy, ...: each row's
 * synonym in topic_config.c, as Kafka's DynamicLogConfig has them, minus
 * log.message.format.version); they act as the defaults of every topic that does not set its own,
 * between the topic's value and server.properties (topic_config.c resolves the order). Values are
 * validated with the topic config's rules. Every other broker setting is read-only here.
 *
 * Storage: DATA_DIR/broker-configs.properties, replaced crash-safely (safe_file.h) before the
 * change is applied in memory, so an acknowledged change survives a crash and a failed write
 * changes nothing. One line per value, "default.KEY=VALUE" or "node.KEY=VALUE"; '#' comments.
 * A line that does not parse fails the store's open (the file is written only by samsa, and a
 * silently dropped retention setting could delete data sooner than asked). This file is meant to
 * move onto the metadata log later; its format is private.
 *
 * INVARIANTS
 *   1. val[scope][i] is NULL or a value that passed sa_topic_config_check for row i.
 *   2. The file and val[][] hold the same values whenever no call is in progress.
 */
#include <assert.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/log.h"
#include "core/mem.h"
#include "storage/safe_file.h"
#include "storage/storage_int.h"

#define FILE_NAME "broker-configs.properties"
#define FILE_MAX  (1 << 20)

struct sa_broker_configs_s {
    char *val[2][SA_TOPIC_CONFIG_MAX]; /* [sa_broker_scope_t][topic config row], owned, NULL = not set */
};

static const char *const scope_prefix[2] = {"default.", "node."};

int sa_broker_config_row(const char *key) {
    if (!key || !strcmp(key, "log.message.format.version")) return -1; /* not dynamic in Kafka 3 */
    size_t n = sa_topic_config_rows();
    for (size_t i = 0; i < n; i++) {
        const char *syn = sa_topic_config_synonym((int)i);
        if (syn && !strcmp(syn, key)) return (int)i;
    }
    return -1;
}

const char *sa_store_broker_config(const sa_store_t *store, sa_broker_scope_t scope, int row) {
    if (!store->bcfg || row < 0 || row >= SA_TOPIC_CONFIG_MAX) return NULL;
    return store->bcfg->val[scope][row];
}

size_t sa_store_broker_config_list(const sa_store_t *store, sa_broker_scope_t scope, int *rows, size_t max) {
    size_t n = 0, nrows = sa_topic_config_rows();
    for (size_t i = 0; i < nrows; i++)
        if (sa_store_broker_config(store, scope, (int)i) && n < max) rows[n++] = (int)i;
    return n;
}

static void free_values(char *val[2][SA_TOPIC_CONFIG_MAX]) {
    for (int s = 0; s < 2; s++)
        for (int i = 0; i < SA_TOPIC_CONFIG_MAX; i++) {
            free(val[s][i]);
            val[s][i] = NULL;
        }
}

void sa_broker_configs_free(sa_store_t *store) {
    if (!store->bcfg) return;
    free_values(store->bcfg->val);
    free(store->bcfg);
    store->bcfg = NULL;
}

sa_err_t sa_broker_configs_load(sa_store_t *store, char *errstr, size_t errstr_size) {
    char path[4096];
    snprintf(path, sizeof(path), "%s/%s", store->dir, FILE_NAME);
    store->bcfg = sa_new(struct sa_broker_configs_s);
    sa_buf_t b = SA_BUF_INIT(0);
    sa_err_t err = sa_safe_file_read(path, FILE_MAX, &b);
    if (err == SA_ERR_NOT_FOUND) return SA_OK;
    if (err) {
        snprintf(errstr, errstr_size, "cannot read %s: %s", path, sa_err2str(err));
        goto out;
    }
    char *text = (char *)sa_buf_cstr(&b);
    int lineno = 0, nvalues = 0;
    for (char *line = text, *next; line && *line; line = next) {
        next = strchr(line, '\n');
        if (next) *next++ = '\0';
        lineno++;
        if (!*line || *line == '#') continue;
        char *eq = strchr(line, '=');
        int scope = -1;
        for (int s = 0; s < 2 && scope < 0; s++)
            if (!strncmp(line, scope_prefix[s], strlen(scope_prefix[s]))) scope = s;
        int row = -1;
        if (eq && scope >= 0) {
            *eq = '\0';
            row = sa_broker_config_row(line + strlen(scope_prefix[scope]));
        }
        if (row < 0 || sa_topic_config_check(row, eq + 1, NULL, 0) != SA_OK) {
            snprintf(errstr, errstr_size,
                     "%s line %d does not parse; fix or remove the line (the dynamic broker configs "
                     "are in it) and restart",
                     path, lineno);
            err = SA_ERR_CORRUPT;
            goto out;
        }
        free(store->bcfg->val[scope][row]);
        store->bcfg->val[scope][row] = sa_strdup(eq + 1);
        nvalues++;
    }
    if (nvalues) sa_log_info("storage", "%s: %d dynamic broker config(s)", path, nvalues);
out:
    sa_buf_free(&b);
    return err;
}

/* Write @p val (the whole new state) to the file. */
static sa_err_t save(const sa_store_t *store, char *val[2][SA_TOPIC_CONFIG_MAX], char *errstr,
                     size_t errstr_size) {
    char path[4096];
    snprintf(path, sizeof(path), "%s/%s", store->dir, FILE_NAME);
    sa_buf_t b = SA_BUF_INIT(0);
    sa_buf_append_str(&b,
                      "# dynamic broker configs (AlterConfigs on the BROKER resource); written by samsa\n");
    for (int s = 0; s < 2; s++)
        for (int i = 0; i < SA_TOPIC_CONFIG_MAX; i++)
            if (val[s][i])
                sa_buf_printf(&b, "%s%s=%s\n", scope_prefix[s], sa_topic_config_synonym(i), val[s][i]);
    sa_err_t err = sa_safe_file_write(path, b.data, b.len, errstr, errstr_size);
    sa_buf_free(&b);
    return err;
}

#define BAD(code, ...)                                                                                       \
    do {                                                                                                     \
        if (errstr) snprintf(errstr, errstr_size, __VA_ARGS__);                                              \
        err = (code);                                                                                        \
        goto out;                                                                                            \
    } while (0)

/* Is item @p it (length n) in the comma-separated list @p list? */
static int list_has(const char *list, const char *it, size_t n) {
    for (const char *p = list; *p;) {
        size_t m = strcspn(p, ",");
        if (m == n && !strncmp(p, it, n)) return 1;
        p += m;
        if (*p == ',') p++;
    }
    return 0;
}

/* APPEND / SUBTRACT on a list value: @returns new. */
static char *list_edit(const char *cur, const char *items, int append) {
    sa_buf_t b = SA_BUF_INIT(0);
    const char *src = cur ? cur : "";
    for (const char *p = src; *p;) { /* keep the current items (minus the subtracted ones) */
        size_t m = strcspn(p, ",");
        if (m && (append || !list_has(items, p, m))) {
            if (b.len) sa_buf_putc(&b, ',');
            sa_buf_append(&b, p, m);
        }
        p += m;
        if (*p == ',') p++;
    }
    if (append)
        for (const char *p = items; *p;) {
            size_t m = strcspn(p, ",");
            if (m && !list_has(b.len ? sa_buf_cstr(&b) : "", p, m)) {
                if (b.len) sa_buf_putc(&b, ',');
                sa_buf_append(&b, p, m);
            }
            p += m;
            if (*p == ',') p++;
        }
    sa_buf_putc(&b, '\0');
    return sa_buf_take(&b);
}

sa_err_t sa_store_broker_alter_configs(sa_store_t *store, sa_broker_scope_t scope, const sa_config_kv_t *kvs,
                                       const sa_config_op_t *ops, size_t n, int replace_all,
                                       int validate_only, char *errstr, size_t errstr_size) {
    char *next[2][SA_TOPIC_CONFIG_MAX] = {{0}};
    sa_err_t err = SA_OK;
    assert(store->bcfg);
    /* the new state: a copy of the old one (the other scope always; this one unless replaced) */
    for (int s = 0; s < 2; s++)
        for (int i = 0; i < SA_TOPIC_CONFIG_MAX; i++)
            if (store->bcfg->val[s][i] && !(replace_all && s == (int)scope))
                next[s][i] = sa_strdup(store->bcfg->val[s][i]);
    for (size_t k = 0; k < n; k++) {
        const char *key = kvs[k].name, *value = kvs[k].value;
        sa_config_op_t op = ops ? ops[k] : SA_CONFIG_OP_SET;
        int row = sa_broker_config_row(key);
        if (op > SA_CONFIG_OP_SUBTRACT) BAD(SA_ERR_INVALID_REQUEST, "Unknown config operation %d", (int)op);
        if (row < 0) {
            BAD(SA_ERR_INVALID_REQUEST,
                "Unknown broker config: %s (samsa changes only these at run time: the broker-level "
                "names of the topic configs, such as log.retention.ms)",
                key);
        }
        int is_list = sa_topic_config_type(row) == SA_CONFIG_VALUE_LIST;
        if ((op == SA_CONFIG_OP_APPEND || op == SA_CONFIG_OP_SUBTRACT) && !is_list)
            BAD(SA_ERR_INVALID_CONFIG, "Config value %s is not allowed for config key: %s",
                op == SA_CONFIG_OP_APPEND ? "append" : "subtract", key);
        if (op != SA_CONFIG_OP_DELETE && !value)
            BAD(SA_ERR_INVALID_CONFIG, "Null value not supported for : %s", key);
        char *v = NULL;
        if (op == SA_CONFIG_OP_SET) v = sa_strdup(value);
        if (op == SA_CONFIG_OP_APPEND || op == SA_CONFIG_OP_SUBTRACT)
            v = list_edit(next[scope][row], value, op == SA_CONFIG_OP_APPEND);
        if (v && !*v && is_list) { /* SUBTRACT took every item: the scope no longer sets it */
            free(v);
            v = NULL;
        }
        if (v && sa_topic_config_check_as(row, key, v, errstr, errstr_size) != SA_OK) {
            free(v);
            /* Kafka answers a broker config that fails validation with INVALID_REQUEST (KAFKA-13609) */
            err = SA_ERR_INVALID_REQUEST;
            goto out;
        }
        free(next[scope][row]);
        next[scope][row] = v; /* NULL for DELETE */
    }
    if (validate_only) goto out;
    if ((err = save(store, next, errstr, errstr_size)) != SA_OK) goto out;
    free_values(store->bcfg->val);
    memcpy(store->bcfg->val, next, sizeof(next));
    memset(next, 0, sizeof(next));
    for (size_t t = 0; t < store->ntopics; t++) sa_topic_config_resolve(store->topics[t]);
out:
    free_values(next);
    return err;
}
