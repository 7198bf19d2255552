/*
 * client.c - building librdkafka configurations from the command's roles and the user's
 * -b/-X/-F/$SAMSA_CONFIG; see client.h for the precedence and the role rule.
 *
 * Which role a property belongs to comes from librdkafka's own property table (the C/P column
 * of rd_kafka_conf_properties_show), parsed once: librdkafka 2.0 has no call that answers it
 * directly, and keeping our own list would drift from the library the binary runs with.
 */
#include "client/client.h"

#include <assert.h>
#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/cli.h"
#include "core/log.h"
#include "core/mem.h"

/* ---- which client a property applies to ---- */

typedef struct scope_s {
    char *name; /* property name as librdkafka lists it */
    char scope; /* '*' both, 'C' consumer, 'P' producer */
} scope_t;

static scope_t *scopes; /* librdkafka's table, read once */
static size_t nscopes;
static pthread_once_t scopes_once = PTHREAD_ONCE_INIT;

/* Rows look like "linger.ms    |  P  | 0 .. 900000 | 5 | high | ..."; headings and the
 * separator lines do not have a single-letter middle column. */
static void load_scopes(void) {
    char *text = NULL;
    size_t size = 0;
    FILE *mem = open_memstream(&text, &size);
    if (!mem) return;
    rd_kafka_conf_properties_show(mem);
    fclose(mem);
    for (char *line = text, *next; line && *line; line = next) {
        next = strchr(line, '\n');
        if (next) *next++ = '\0';
        char *bar = strchr(line, '|');
        if (!bar) continue;
        char *name_end = bar;
        while (name_end > line && name_end[-1] == ' ') name_end--;
        char *s = bar + 1;
        while (*s == ' ') s++;
        char scope = *s;
        if (name_end == line || (scope != '*' && scope != 'C' && scope != 'P')) continue;
        s++;
        while (*s == ' ') s++;
        if (*s != '|') continue;
        scopes = sa_realloc(scopes, (nscopes + 1) * sizeof(*scopes));
        scopes[nscopes++] = (scope_t){sa_strndup(line, (size_t)(name_end - line)), scope};
    }
    free(text);
}

static char lookup(const char *key, size_t len) {
    for (size_t i = 0; i < nscopes; i++)
        if (strlen(scopes[i].name) == len && !strncmp(scopes[i].name, key, len)) return scopes[i].scope;
    return 0;
}

/* @returns '*', 'C' or 'P' for property @p key (@p len bytes; librdkafka also takes topic
 * properties with a "topic." prefix), or '*' for one missing from the table, so it is applied
 * everywhere and librdkafka judges it. */
static char scope_of(const char *key, size_t len) {
    pthread_once(&scopes_once, load_scopes);
    char s = lookup(key, len);
    if (!s && len > 6 && !strncmp(key, "topic.", 6)) s = lookup(key + 6, len - 6);
    return s ? s : '*';
}

static int applies(sa_client_kind_t kind, char scope) {
    switch (kind) {
    case SA_CLIENT_PRODUCER: return scope != 'C';
    case SA_CLIENT_CONSUMER: return scope != 'P';
    case SA_CLIENT_ADMIN: return scope == '*';
    }
    return 0;
}

rd_kafka_type_t sa_client_handle_type(sa_client_kind_t kind) {
    /* An admin client is a consumer handle: with no group it never joins one, and unlike a
     * producer it never asks the broker to auto-create a topic through metadata. */
    return kind == SA_CLIENT_PRODUCER ? RD_KAFKA_PRODUCER : RD_KAFKA_CONSUMER;
}

/* ---- the user's properties ---- */

static int is_word(const sa_strlist_t *x, const char *word) {
    for (size_t i = 0; i < x->n; i++)
        if (!strcmp(x->v[i], word)) return 1;
    return 0;
}

/* Append the KEY=VALUE lines of @p path to @p props, and "PATH:LINE@p note" for each to
 * @p where. @returns 0, or -1 after printing why. */
static int read_file(const char *cmd, const char *path, const char *note, sa_strlist_t *props,
                     sa_strlist_t *where) {
    FILE *fp = fopen(path, "r");
    if (!fp) {
        sa_cli_error(cmd, "cannot read the Kafka client properties file %s%s: %s", path, note,
                     strerror(errno));
        return -1;
    }
    char line[4096];
    int lineno = 0, rc = 0;
    while (fgets(line, sizeof(line), fp)) {
        lineno++;
        if (!strchr(line, '\n') && !feof(fp)) {
            sa_cli_error(cmd, "%s:%d%s: line too long (more than %zu bytes)", path, lineno, note,
                         sizeof(line) - 2);
            rc = -1;
            break;
        }
        char *s = line, *e = line + strlen(line);
        while (*s == ' ' || *s == '\t') s++;
        while (e > s && (e[-1] == '\n' || e[-1] == '\r' || e[-1] == ' ' || e[-1] == '\t')) *--e = '\0';
        if (!*s || *s == '#') continue;
        char *eq = strchr(s, '=');
        if (!eq || eq == s) {
            sa_cli_error(cmd, "%s:%d%s: expected key=value, got \"%s\"", path, lineno, note, s);
            rc = -1;
            break;
        }
        /* "key = value" as Java's files often have it */
        char *k_end = eq, *v = eq + 1;
        while (k_end > s && (k_end[-1] == ' ' || k_end[-1] == '\t')) k_end--;
        while (*v == ' ' || *v == '\t') v++;
        char kv[4096 + 2], origin[4096 + 64];
        snprintf(kv, sizeof(kv), "%.*s=%s", (int)(k_end - s), s, v);
        snprintf(origin, sizeof(origin), "%s:%d%s", path, lineno, note);
        sa_strlist_add(props, kv);
        sa_strlist_add(where, origin);
    }
    fclose(fp);
    return rc;
}

/* The user's properties in order (files, then -X), each with where it came from.
 * @returns 0, or -1 after printing why. */
static int collect(const char *cmd, const sa_client_opts_t *opts, sa_strlist_t *props, sa_strlist_t *where) {
    if (opts->files.n) {
        for (size_t i = 0; i < opts->files.n; i++) {
            const char *f = opts->files.v[i];
            if (!strcmp(f, "none") || !strcmp(f, "-")) continue;
            if (read_file(cmd, f, "", props, where)) return -1;
        }
    } else {
        const char *env = getenv("SAMSA_CONFIG");
        if (env && *env && read_file(cmd, env, " (from $SAMSA_CONFIG; -F none ignores it)", props, where))
            return -1;
    }
    for (size_t i = 0; i < opts->x.n; i++) {
        const char *kv = opts->x.v[i];
        if (!strcmp(kv, "list") || !strcmp(kv, "dump")) continue;
        const char *eq = strchr(kv, '=');
        if (!eq || eq == kv) {
            sa_cli_error(cmd, "-X %s: expected KEY=VALUE (-X list shows the properties)", kv);
            return -1;
        }
        char origin[64 + 4096];
        snprintf(origin, sizeof(origin), "-X %s", kv);
        sa_strlist_add(props, kv);
        sa_strlist_add(where, origin);
    }
    return 0;
}

/* Set "key=value" @p kv on @p conf. @returns 0, or -1 with librdkafka's reason in errstr. */
static int set_kv(rd_kafka_conf_t *conf, const char *kv, char *errstr, size_t errstr_size) {
    const char *eq = strchr(kv, '=');
    assert(eq && eq != kv);
    char key[256];
    if ((size_t)(eq - kv) >= sizeof(key)) {
        snprintf(errstr, errstr_size, "property name too long");
        return -1;
    }
    memcpy(key, kv, (size_t)(eq - kv));
    key[eq - kv] = '\0';
    return rd_kafka_conf_set(conf, key, eq + 1, errstr, errstr_size) == RD_KAFKA_CONF_OK ? 0 : -1;
}

static int key_is(const char *kv, const char *key) {
    size_t n = strlen(key);
    return !strncmp(kv, key, n) && kv[n] == '=';
}

/* Check every property: librdkafka must know it and take its value, and a group.id the
 * command sets from --group must not be set again. @returns 0, or -1 after printing why. */
static int check_props(const char *cmd, const sa_strlist_t *props, const sa_strlist_t *where,
                       const sa_client_role_t *roles, size_t nroles) {
    rd_kafka_conf_t *scratch = rd_kafka_conf_new();
    int rc = 0;
    for (size_t i = 0; i < props->n && !rc; i++) {
        const char *kv = props->v[i];
        char why[512];
        if (set_kv(scratch, kv, why, sizeof(why))) {
            sa_cli_error(cmd, "%s: %s", where->v[i], why);
            rc = -1;
            break;
        }
        int grouped = 0;
        for (size_t r = 0; r < nroles; r++) grouped |= roles[r].group != NULL;
        if (grouped && key_is(kv, "group.id")) {
            sa_cli_error(cmd, "%s: samsa %s sets the consumer group with --group", where->v[i], cmd);
            rc = -1;
            break;
        }
        if (strncmp(where->v[i], "-X ", 3)) continue;
        /* A -X the user typed for this command that no client of it takes is worth a word;
         * files are shared between commands, so theirs are not. */
        char scope = scope_of(kv, (size_t)(strchr(kv, '=') - kv));
        int used = 0;
        for (size_t r = 0; r < nroles; r++) used |= applies(roles[r].kind, scope);
        const char *role = scope == 'P' ? "producer" : "consumer";
        if (!used && sa_log_level >= SA_LOG_WARN)
            sa_cli_error(cmd, "note: %s has no effect: a %s property, and samsa %s has no %s", where->v[i],
                         role, cmd, role);
    }
    rd_kafka_conf_destroy(scratch);
    return rc;
}

/* Names whose values -X dump prints as "[masked]". */
static int is_secret(const char *name) {
    return strstr(name, "password") || strstr(name, "secret") || !strcmp(name, "ssl.key.pem") ||
           !strcmp(name, "ssl_key") || !strcmp(name, "sasl.oauthbearer.config");
}

static void dump_pairs(const char **kv, size_t n) {
    for (size_t i = 0; i + 1 < n; i += 2)
        printf("%s = %s\n", kv[i], is_secret(kv[i]) ? "[masked]" : kv[i + 1]);
}

static int dump(const char *cmd, const sa_client_opts_t *opts, const sa_client_role_t *roles, size_t nroles) {
    for (size_t r = 0; r < nroles; r++) {
        char errstr[512];
        rd_kafka_conf_t *conf = sa_client_conf_new(opts, &roles[r], errstr, sizeof(errstr));
        if (!conf) {
            sa_cli_error(cmd, "%s: %s", roles[r].name, errstr);
            return SA_EXIT_USAGE;
        }
        printf("%s# samsa %s: %s\n", r ? "\n" : "", cmd, roles[r].name);
        size_t n;
        const char **kv = rd_kafka_conf_dump(conf, &n);
        dump_pairs(kv, n);
        rd_kafka_conf_dump_free(kv, n);
        rd_kafka_topic_conf_t *tconf = rd_kafka_conf_get_default_topic_conf(conf);
        if (!tconf)
            tconf = rd_kafka_topic_conf_new(); /* none until a topic property is set */
        else
            tconf = rd_kafka_topic_conf_dup(tconf);
        kv = rd_kafka_topic_conf_dump(tconf, &n);
        dump_pairs(kv, n);
        rd_kafka_conf_dump_free(kv, n);
        rd_kafka_topic_conf_destroy(tconf);
        rd_kafka_conf_destroy(conf);
    }
    return SA_EXIT_OK;
}

int sa_client_setup(const char *cmd, sa_client_opts_t *opts, const sa_client_role_t *roles, size_t nroles) {
    if (is_word(&opts->x, "list")) {
        rd_kafka_conf_properties_show(stdout);
        return SA_EXIT_OK;
    }
    sa_strlist_t where = {0};
    sa_strlist_free(&opts->props);
    opts->ready = 0;
    int rc = SA_EXIT_USAGE;
    if (opts->bootstrap && !*opts->bootstrap) {
        sa_cli_error(cmd, "--bootstrap-server must not be empty");
        goto out;
    }
    if (collect(cmd, opts, &opts->props, &where) || check_props(cmd, &opts->props, &where, roles, nroles))
        goto out;
    opts->cmd = cmd;
    opts->ready = 1;
    rc = is_word(&opts->x, "dump") ? dump(cmd, opts, roles, nroles) : -1;
out:
    sa_strlist_free(&where);
    return rc;
}

void sa_client_opts_free(sa_client_opts_t *opts) {
    sa_strlist_free(&opts->props);
    opts->ready = 0;
}

/* ---- one client's configuration ---- */

const char *sa_client_bootstrap(const sa_client_opts_t *opts) {
    if (opts->bootstrap) return opts->bootstrap;
    const char *found = NULL;
    for (size_t i = 0; i < opts->props.n; i++)
        if (key_is(opts->props.v[i], "bootstrap.servers") || key_is(opts->props.v[i], "metadata.broker.list"))
            found = strchr(opts->props.v[i], '=') + 1;
    return found ? found : SA_CLIENT_DEFAULT_BOOTSTRAP;
}

rd_kafka_conf_t *sa_client_conf_new(const sa_client_opts_t *opts, const sa_client_role_t *role, char *errstr,
                                    size_t errstr_size) {
    assert(opts->ready); /* sa_client_setup checked the user's properties */
    rd_kafka_conf_t *conf = rd_kafka_conf_new();
    char why[512];
    if (set_kv(conf, "bootstrap.servers=" SA_CLIENT_DEFAULT_BOOTSTRAP, why, sizeof(why))) goto err;
    if (opts->cmd) {
        char id[128];
        snprintf(id, sizeof(id), "client.id=samsa-%s", opts->cmd);
        if (set_kv(conf, id, why, sizeof(why))) goto err;
    }
    for (const char *const *d = role->defaults; d && *d; d++)
        if (set_kv(conf, *d, why, sizeof(why))) {
            snprintf(errstr, errstr_size, "samsa's default %s: %s", *d, why);
            goto out_err;
        }
    if (sa_log_debug_mask & SA_DBG_CLIENT)
        set_kv(conf, "debug=broker,protocol,cgrp,topic,msg", why, sizeof(why));
    for (size_t i = 0; i < opts->props.n; i++) {
        const char *kv = opts->props.v[i];
        if (!applies(role->kind, scope_of(kv, (size_t)(strchr(kv, '=') - kv)))) continue;
        if (set_kv(conf, kv, why, sizeof(why))) {
            snprintf(errstr, errstr_size, "%s: %s", kv, why);
            goto out_err;
        }
    }
    if (opts->bootstrap &&
        rd_kafka_conf_set(conf, "bootstrap.servers", opts->bootstrap, why, sizeof(why)) != RD_KAFKA_CONF_OK) {
        snprintf(errstr, errstr_size, "--bootstrap-server %s: %s", opts->bootstrap, why);
        goto out_err;
    }
    if (role->group &&
        rd_kafka_conf_set(conf, "group.id", role->group, why, sizeof(why)) != RD_KAFKA_CONF_OK) {
        snprintf(errstr, errstr_size, "--group %s: %s", role->group, why);
        goto out_err;
    }
    sa_client_use_samsa_log(conf);
    return conf;
err:
    snprintf(errstr, errstr_size, "%s", why);
out_err:
    rd_kafka_conf_destroy(conf);
    return NULL;
}
