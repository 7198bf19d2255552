/*
 * listener.c - parsing the listener settings (see listener.h).
 *
 * Per-listener keys (listener.name.NAME.KEY, NAME in lower case as Kafka writes it, matched
 * case-insensitively) that samsa reads:
 *   sasl.enabled.mechanisms     this listener's mechanisms (default: sasl.enabled.mechanisms)
 *   ssl.client.auth             none | requested | required (default: ssl.client.auth)
 *   plain.sasl.jaas.config      Kafka's PlainLoginModule line; its user_NAME="PASSWORD" options
 *                               are the PLAIN users of this listener (username/password, the
 *                               broker's own client identity in Kafka, are ignored)
 *   MECH.sasl.jaas.config       for the SCRAM mechanisms: accepted and ignored (the credentials
 *                               are in the metadata log)
 * Any other listener.name key is refused, so a typo does not silently weaken a listener.
 */
#include "broker/security/listener.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include "core/mem.h"
#include "core/net.h"

#define SET_ERR(...) snprintf(errstr, errstr_size, __VA_ARGS__)

const char *sa_secproto_name(sa_secproto_t proto) {
    static const char *const names[] = {"PLAINTEXT", "SSL", "SASL_PLAINTEXT", "SASL_SSL"};
    return (unsigned)proto < 4 ? names[proto] : "?";
}

static int secproto_by_name(const char *s, sa_secproto_t *out) {
    for (int p = SA_SECPROTO_PLAINTEXT; p <= SA_SECPROTO_SASL_SSL; p++)
        if (!strcasecmp(s, sa_secproto_name((sa_secproto_t)p))) {
            *out = (sa_secproto_t)p;
            return 0;
        }
    return -1;
}

unsigned sa_mech_bit(const char *name) {
    if (!strcmp(name, "PLAIN")) return SA_MECH_PLAIN;
    if (!strcmp(name, "SCRAM-SHA-256")) return SA_MECH_SCRAM_SHA_256;
    if (!strcmp(name, "SCRAM-SHA-512")) return SA_MECH_SCRAM_SHA_512;
    return 0;
}

static void upper(char *s) {
    for (; *s; s++) *s = (char)toupper((unsigned char)*s);
}

static char *trim(char *s) {
    while (isspace((unsigned char)*s)) s++;
    char *e = s + strlen(s);
    while (e > s && isspace((unsigned char)e[-1])) *--e = '\0';
    return s;
}

/* Find the protocol of listener @p name in the map "NAME:PROTO,...". */
static int map_lookup(const char *map, const char *name, sa_secproto_t *out) {
    char *copy = sa_strdup(map), *save = NULL;
    int rc = -1;
    for (char *item = strtok_r(copy, ",", &save); item; item = strtok_r(NULL, ",", &save)) {
        char *colon = strchr(item, ':');
        if (!colon) continue;
        *colon = '\0';
        if (!strcasecmp(trim(item), name)) {
            rc = secproto_by_name(trim(colon + 1), out);
            break;
        }
    }
    free(copy);
    return rc;
}

/* "NAME://HOST:PORT" or "HOST:PORT" (PLAINTEXT) into name/host/port. */
static int split_listener(char *item, char *name, size_t name_size, char *host, size_t host_size, int *port) {
    char *sep = strstr(item, "://");
    const char *addr = item;
    if (sep) {
        *sep = '\0';
        snprintf(name, name_size, "%s", trim(item));
        addr = sep + 3;
    } else {
        snprintf(name, name_size, "PLAINTEXT");
    }
    upper(name);
    if (!*name || strspn(name, "ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_-") != strlen(name)) return -1;
    return sa_net_split_hostport(addr, host, host_size, port);
}

static int is_wildcard(const char *host) {
    return !*host || !strcmp(host, "0.0.0.0") || !strcmp(host, "::") || !strcmp(host, "[::]");
}

/* Parse a comma list of mechanisms into @p l. */
static sa_err_t set_mechanisms(sa_listener_t *l, const char *list, const char *what, char *errstr,
                               size_t errstr_size) {
    char *copy = sa_strdup(list), *save = NULL;
    sa_err_t rc = SA_OK;
    l->mechs = 0;
    l->mech_list[0] = '\0';
    for (char *m = strtok_r(copy, ",", &save); m; m = strtok_r(NULL, ",", &save)) {
        m = trim(m);
        if (!*m) continue;
        unsigned bit = sa_mech_bit(m);
        if (!bit) {
            SET_ERR("%s: SASL mechanism \"%s\" is not supported by samsa (PLAIN, SCRAM-SHA-256, "
                    "SCRAM-SHA-512)",
                    what, m);
            rc = SA_ERR_INVALID_ARG;
            break;
        }
        if (l->mechs & bit) continue;
        l->mechs |= bit;
        size_t used = strlen(l->mech_list);
        snprintf(l->mech_list + used, sizeof(l->mech_list) - used, "%s%s", used ? "," : "", m);
    }
    free(copy);
    if (rc == SA_OK && !l->mechs && sa_secproto_sasl(l->proto)) {
        SET_ERR("%s: listener %s uses SASL but enables no mechanism", what, l->name);
        rc = SA_ERR_INVALID_ARG;
    }
    return rc;
}

static sa_err_t set_client_auth(sa_listener_t *l, const char *v, const char *what, char *errstr,
                                size_t errstr_size) {
    if (!strcasecmp(v, "none"))
        l->client_auth = SA_TLS_CLIENT_AUTH_NONE;
    else if (!strcasecmp(v, "requested"))
        l->client_auth = SA_TLS_CLIENT_AUTH_REQUESTED;
    else if (!strcasecmp(v, "required"))
        l->client_auth = SA_TLS_CLIENT_AUTH_REQUIRED;
    else {
        SET_ERR("%s: expected none, requested or required, got \"%s\"", what, v);
        return SA_ERR_INVALID_ARG;
    }
    return SA_OK;
}

/* The user_NAME="PASSWORD" options of a JAAS login module line. */
static sa_err_t parse_jaas_users(sa_listener_t *l, const char *jaas, const char *what, char *errstr,
                                 size_t errstr_size) {
    const char *p = jaas;
    /* Skip the login module class and the control flag: the options follow. */
    for (int words = 0; words < 2; words++) {
        while (isspace((unsigned char)*p)) p++;
        while (*p && !isspace((unsigned char)*p) && *p != ';') p++;
    }
    for (;;) {
        while (isspace((unsigned char)*p)) p++;
        if (!*p || *p == ';') break;
        const char *key = p;
        while (*p && *p != '=' && !isspace((unsigned char)*p)) p++;
        size_t key_len = (size_t)(p - key);
        if (*p != '=' || p[1] != '"') goto bad;
        p += 2;
        char value[1024];
        size_t n = 0;
        while (*p && *p != '"') {
            if (*p == '\\' && p[1]) p++;
            if (n + 1 >= sizeof(value)) goto bad;
            value[n++] = *p++;
        }
        if (*p != '"') goto bad;
        p++;
        value[n] = '\0';
        if (key_len > 5 && !strncmp(key, "user_", 5)) {
            l->plain_users = sa_realloc(l->plain_users, (l->nplain_users + 1) * sizeof(*l->plain_users));
            sa_plain_user_t *u = &l->plain_users[l->nplain_users++];
            u->name = sa_strndup(key + 5, key_len - 5);
            u->password = sa_strdup(value);
        }
    }
    return SA_OK;
bad:
    SET_ERR("%s: expected a JAAS line like 'org.apache.kafka.common.security.plain.PlainLoginModule "
            "required user_alice=\"PASSWORD\";' (one line)",
            what);
    return SA_ERR_INVALID_ARG;
}

const char *sa_listener_plain_password(const sa_listener_t *l, const char *name) {
    for (size_t i = 0; i < l->nplain_users; i++)
        if (!strcmp(l->plain_users[i].name, name)) return l->plain_users[i].password;
    return NULL;
}

/* Apply one "listener.name.NAME.KEY=VALUE" entry. */
static sa_err_t apply_per_name(sa_listener_t *ls, size_t n, const char *entry, char *errstr,
                               size_t errstr_size) {
    const char *rest = entry + strlen("listener.name.");
    const char *dot = strchr(rest, '.'), *eq = strchr(entry, '=');
    if (!dot || !eq || dot > eq) {
        SET_ERR("%s: expected listener.name.NAME.KEY=VALUE", entry);
        return SA_ERR_INVALID_ARG;
    }
    char name[64], key[128], what[256];
    snprintf(name, sizeof(name), "%.*s", (int)(dot - rest), rest);
    snprintf(key, sizeof(key), "%.*s", (int)(eq - dot - 1), dot + 1);
    snprintf(what, sizeof(what), "%.*s", (int)(eq - entry), entry);
    const char *value = eq + 1;
    sa_listener_t *l = NULL;
    for (size_t i = 0; i < n; i++)
        if (!strcasecmp(ls[i].name, name)) l = &ls[i];
    if (!l) {
        SET_ERR("%s: there is no listener named %s in listeners", what, name);
        return SA_ERR_INVALID_ARG;
    }
    if (!strcmp(key, "sasl.enabled.mechanisms")) return set_mechanisms(l, value, what, errstr, errstr_size);
    if (!strcmp(key, "ssl.client.auth")) return set_client_auth(l, value, what, errstr, errstr_size);
    if (!strcasecmp(key, "plain.sasl.jaas.config"))
        return parse_jaas_users(l, value, what, errstr, errstr_size);
    if (!strcasecmp(key, "scram-sha-256.sasl.jaas.config") ||
        !strcasecmp(key, "scram-sha-512.sasl.jaas.config"))
        return SA_OK;
    SET_ERR("%s: samsa does not know this per-listener setting (sasl.enabled.mechanisms, ssl.client.auth, "
            "plain.sasl.jaas.config)",
            what);
    return SA_ERR_INVALID_ARG;
}

sa_err_t sa_listeners_parse(const sa_listener_conf_t *conf, sa_listener_t **out, size_t *nout, char *errstr,
                            size_t errstr_size) {
    sa_listener_t *ls = NULL;
    size_t n = 0;
    sa_err_t rc = SA_ERR_INVALID_ARG;
    char *copy = sa_strdup(conf->listeners), *save = NULL;
    for (char *item = strtok_r(copy, ",", &save); item; item = strtok_r(NULL, ",", &save)) {
        item = trim(item);
        if (!*item) continue;
        ls = sa_realloc(ls, (n + 1) * sizeof(*ls));
        sa_listener_t *l = &ls[n++];
        memset(l, 0, sizeof(*l));
        l->fd = -1;
        if (split_listener(item, l->name, sizeof(l->name), l->host, sizeof(l->host), &l->port)) {
            SET_ERR("listeners: \"%s\": expected NAME://HOST:PORT or HOST:PORT", item);
            goto out;
        }
        if (map_lookup(conf->protocol_map, l->name, &l->proto) && secproto_by_name(l->name, &l->proto)) {
            SET_ERR("listeners: listener %s is not in listener.security.protocol.map (\"%s\")", l->name,
                    conf->protocol_map);
            goto out;
        }
        for (size_t i = 0; i + 1 < n; i++) {
            if (!strcmp(ls[i].name, l->name)) {
                SET_ERR("listeners: listener name %s is used twice", l->name);
                goto out;
            }
            if (ls[i].port == l->port && l->port != 0) {
                SET_ERR("listeners: port %d is used by both %s and %s", l->port, ls[i].name, l->name);
                goto out;
            }
        }
        if (set_mechanisms(l, conf->mechanisms, "sasl.enabled.mechanisms", errstr, errstr_size) ||
            set_client_auth(l, conf->client_auth, "ssl.client.auth", errstr, errstr_size))
            goto out;
    }
    if (!n) {
        SET_ERR("listeners: no listener given");
        goto out;
    }
    free(copy);
    copy = sa_strdup(conf->advertised ? conf->advertised : "");
    save = NULL;
    for (char *item = strtok_r(copy, ",", &save); item; item = strtok_r(NULL, ",", &save)) {
        item = trim(item);
        if (!*item) continue;
        char name[64], host[256];
        int port;
        if (split_listener(item, name, sizeof(name), host, sizeof(host), &port) || is_wildcard(host)) {
            SET_ERR("advertised.listeners: \"%s\": expected NAME://HOST:PORT with a host clients can reach "
                    "(not 0.0.0.0)",
                    item);
            goto out;
        }
        sa_listener_t *l = NULL;
        for (size_t i = 0; i < n; i++)
            if (!strcmp(ls[i].name, name)) l = &ls[i];
        if (!l && n == 1 && !strstr(conf->advertised, "://")) l = &ls[0]; /* a bare HOST:PORT: the only one */
        if (!l) {
            SET_ERR("advertised.listeners: %s is not one of the listeners", name);
            goto out;
        }
        snprintf(l->adv_host, sizeof(l->adv_host), "%s", host);
        l->adv_port = port;
        l->adv_explicit = 1;
    }
    for (size_t i = 0; i < n; i++) {
        sa_listener_t *l = &ls[i];
        if (l->adv_explicit) continue;
        snprintf(l->adv_host, sizeof(l->adv_host), "%s", l->host);
        if (is_wildcard(l->host) && gethostname(l->adv_host, sizeof(l->adv_host)) < 0)
            snprintf(l->adv_host, sizeof(l->adv_host), "localhost");
        l->adv_port = l->port;
    }
    for (size_t i = 0; i < (conf->per_name ? conf->per_name->n : 0); i++)
        if (apply_per_name(ls, n, conf->per_name->v[i], errstr, errstr_size)) goto out;
    rc = SA_OK;
out:
    free(copy);
    if (rc != SA_OK) {
        sa_listeners_free(ls, n);
        ls = NULL;
        n = 0;
    }
    *out = ls;
    *nout = n;
    return rc;
}

void sa_listeners_free(sa_listener_t *ls, size_t n) {
    for (size_t i = 0; i < n; i++) {
        for (size_t u = 0; u < ls[i].nplain_users; u++) {
            free(ls[i].plain_users[u].name);
            free(ls[i].plain_users[u].password);
        }
        free(ls[i].plain_users);
    }
    free(ls);
}
