#include "core/config.h"

#include <ctype.h>
#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include "core/mem.h"

void sa_strlist_add(sa_strlist_t *list, const char *s) {
    list->v = sa_realloc(list->v, (list->n + 1) * sizeof(*list->v));
    list->v[list->n++] = sa_strdup(s);
}

void sa_strlist_free(sa_strlist_t *list) {
    for (size_t i = 0; i < list->n; i++) free(list->v[i]);
    free(list->v);
    list->v = NULL;
    list->n = 0;
}

#define FIELD(conf, opt, type) ((type *)((char *)(conf) + (opt)->offset))

int sa_cfg_parse_number(sa_cfg_type_t type, const char *s, int64_t *out) {
    char *end;
    errno = 0;
    while (isspace((unsigned char)*s)) s++;
    if (!*s) return -1;
    long long v = strtoll(s, &end, 10);
    if (errno || end == s) return -1;
    int64_t mult = 1;
    if (type == SA_CFG_SIZE) {
        switch (tolower((unsigned char)*end)) {
        case 'k':
            mult = 1024;
            end++;
            break;
        case 'm':
            mult = 1024 * 1024;
            end++;
            break;
        case 'g':
            mult = 1024LL * 1024 * 1024;
            end++;
            break;
        default: break;
        }
        if (mult > 1 && (*end == 'b' || *end == 'B')) end++;
    } else if (type == SA_CFG_MS) {
        if (!strncmp(end, "ms", 2))
            end += 2;
        else if (*end == 's')
            mult = 1000, end++;
        else if (*end == 'm')
            mult = 60000, end++;
        else if (*end == 'h')
            mult = 3600000, end++;
        else if (*end == 'd')
            mult = 86400000, end++;
    }
    while (isspace((unsigned char)*end)) end++;
    if (*end) return -1;
    if (v != 0 && (v > INT64_MAX / mult || v < INT64_MIN / mult)) return -1;
    *out = (int64_t)v * mult;
    return 0;
}

/* A LIST row named "prefix.*" takes every key under the prefix, kept as "key=value". */
static int is_prefix_row(const sa_cfg_opt_t *o) {
    size_t n = o->name ? strlen(o->name) : 0;
    return o->type == SA_CFG_LIST && n > 2 && !strcmp(o->name + n - 2, ".*");
}

static const sa_cfg_opt_t *find_opt(const sa_cfg_opt_t *opts, const char *key) {
    for (const sa_cfg_opt_t *o = opts; !SA_CFG_OPT_END(o); o++) {
        if ((o->name && !strcmp(o->name, key)) || (o->flag && !strcmp(o->flag, key))) return o;
        if (is_prefix_row(o) && !strncmp(key, o->name, strlen(o->name) - 1) && key[strlen(o->name) - 1])
            return o;
    }
    return NULL;
}

/* The value a row stores: "key=value" for a prefix row, else the value. @returns new or @p value. */
static const char *row_value(const sa_cfg_opt_t *o, const char *key, const char *value, char **owned) {
    *owned = NULL;
    if (!is_prefix_row(o)) return value;
    size_t n = strlen(key) + strlen(value) + 2;
    *owned = sa_malloc(n);
    snprintf(*owned, n, "%s=%s", key, value);
    return *owned;
}

static const char *opt_label(const sa_cfg_opt_t *o) { return o->flag ? o->flag : o->name; }

static sa_err_t set_value(const sa_cfg_opt_t *o, void *conf, const char *value, char *errstr,
                          size_t errstr_size) {
    switch (o->type) {
    case SA_CFG_STR:
    case SA_CFG_FILE: {
        char **p = FIELD(conf, o, char *);
        free(*p);
        *p = sa_strdup(value);
        return SA_OK;
    }
    case SA_CFG_LIST: sa_strlist_add(FIELD(conf, o, sa_strlist_t), value); return SA_OK;
    case SA_CFG_BOOL: {
        int v;
        if (!strcasecmp(value, "true") || !strcmp(value, "1") || !strcasecmp(value, "yes") ||
            !strcasecmp(value, "on"))
            v = 1;
        else if (!strcasecmp(value, "false") || !strcmp(value, "0") || !strcasecmp(value, "no") ||
                 !strcasecmp(value, "off"))
            v = 0;
        else {
            snprintf(errstr, errstr_size, "%s: expected true or false, got \"%s\"", opt_label(o), value);
            return SA_ERR_INVALID_ARG;
        }
        *FIELD(conf, o, int) = v;
        return SA_OK;
    }
    case SA_CFG_INT:
    case SA_CFG_SIZE:
    case SA_CFG_MS: {
        int64_t v;
        if (sa_cfg_parse_number(o->type, value, &v)) {
            snprintf(errstr, errstr_size, "%s: expected %s, got \"%s\"", opt_label(o),
                     o->type == SA_CFG_SIZE ? "a size (e.g. 1048576 or 1m)"
                     : o->type == SA_CFG_MS ? "a duration in ms (e.g. 500, 30s, 7d)"
                                            : "an integer",
                     value);
            return SA_ERR_INVALID_ARG;
        }
        if ((o->min || o->max) && (v < o->min || v > o->max)) {
            snprintf(errstr, errstr_size, "%s: %" PRId64 " is out of range [%" PRId64 ", %" PRId64 "]",
                     opt_label(o), v, o->min, o->max);
            return SA_ERR_INVALID_ARG;
        }
        *FIELD(conf, o, int64_t) = v;
        return SA_OK;
    }
    }
    return SA_ERR_INVALID_ARG;
}

void sa_cfg_defaults(const sa_cfg_opt_t *opts, void *conf) {
    char errstr[256];
    for (const sa_cfg_opt_t *o = opts; !SA_CFG_OPT_END(o); o++) {
        if (!o->def || o->type == SA_CFG_LIST) continue;
        if (set_value(o, conf, o->def, errstr, sizeof(errstr)) != SA_OK) {
            fprintf(stderr, "samsa: bad default in the option table: %s\n", errstr);
            abort();
        }
    }
}

sa_err_t sa_cfg_set(const sa_cfg_opt_t *opts, void *conf, const char *key, const char *value, char *errstr,
                    size_t errstr_size) {
    const sa_cfg_opt_t *o = find_opt(opts, key);
    if (!o) {
        snprintf(errstr, errstr_size, "unknown setting \"%s\"", key);
        return SA_ERR_NOT_FOUND;
    }
    char *owned;
    sa_err_t err = set_value(o, conf, row_value(o, key, value, &owned), errstr, errstr_size);
    free(owned);
    return err;
}

static char *trim(char *s) {
    while (isspace((unsigned char)*s)) s++;
    char *e = s + strlen(s);
    while (e > s && isspace((unsigned char)e[-1])) *--e = '\0';
    return s;
}

sa_err_t sa_cfg_load_properties(const sa_cfg_opt_t *opts, void *conf, const char *path,
                                void (*unknown)(const char *path, int line, const char *key), char *errstr,
                                size_t errstr_size) {
    FILE *fp = fopen(path, "r");
    if (!fp) {
        snprintf(errstr, errstr_size, "%s: %s", path, strerror(errno));
        return SA_ERR_IO;
    }
    char line[4096];
    int lineno = 0;
    sa_err_t rc = SA_OK;
    while (fgets(line, sizeof(line), fp)) {
        lineno++;
        if (!strchr(line, '\n') && !feof(fp)) {
            snprintf(errstr, errstr_size, "%s:%d: line too long (more than %zu bytes)", path, lineno,
                     sizeof(line) - 2);
            rc = SA_ERR_INVALID_ARG;
            break;
        }
        char *s = trim(line);
        if (!*s || *s == '#' || *s == '!') continue;
        size_t k = strcspn(s, "=:");
        if (!s[k]) {
            snprintf(errstr, errstr_size, "%s:%d: expected key=value, got \"%s\"", path, lineno, s);
            rc = SA_ERR_INVALID_ARG;
            break;
        }
        s[k] = '\0';
        char *key = trim(s), *value = trim(s + k + 1);
        const sa_cfg_opt_t *o = find_opt(opts, key);
        if (!o || !o->name) {
            if (unknown) unknown(path, lineno, key);
            continue;
        }
        char why[256], *owned;
        sa_err_t err = set_value(o, conf, row_value(o, key, value, &owned), why, sizeof(why));
        free(owned);
        if (err != SA_OK) {
            snprintf(errstr, errstr_size, "%s:%d: %s", path, lineno, why);
            rc = SA_ERR_INVALID_ARG;
            break;
        }
    }
    fclose(fp);
    return rc;
}

static void print_unknown(const char *path, int line, const char *key) {
    fprintf(stderr, "samsa: %s:%d: ignoring setting \"%s\" (not used by samsa)\n", path, line, key);
}

/* Build getopt_long's tables from the option table; -h/--help is added. */
static size_t build_getopt(const sa_cfg_opt_t *opts, struct option *longopts, char *shortopts) {
    size_t n = 0, s = 0;
    shortopts[s++] = ':'; /* report a missing argument as ':' */
    shortopts[s++] = 'h';
    for (const sa_cfg_opt_t *o = opts; !SA_CFG_OPT_END(o); o++) {
        if (!o->flag && !o->short_flag) continue;
        int has_arg = o->type == SA_CFG_BOOL ? no_argument : required_argument;
        if (o->flag) longopts[n++] = (struct option){o->flag, has_arg, NULL, 1000 + (int)(o - opts)};
        if (o->short_flag) {
            shortopts[s++] = (char)o->short_flag;
            if (has_arg == required_argument) shortopts[s++] = ':';
        }
    }
    longopts[n++] = (struct option){"help", no_argument, NULL, 'h'};
    longopts[n] = (struct option){0};
    shortopts[s] = '\0';
    return n;
}

static const sa_cfg_opt_t *opt_for_code(const sa_cfg_opt_t *opts, int code) {
    if (code >= 1000) return &opts[code - 1000];
    for (const sa_cfg_opt_t *o = opts; !SA_CFG_OPT_END(o); o++)
        if (o->short_flag == code) return o;
    return NULL;
}

int sa_cfg_parse_args(const sa_cfg_cmd_t *cmd, void *conf, int argc, char **argv, int *first_arg) {
    size_t nopts = 0;
    for (const sa_cfg_opt_t *o = cmd->opts; !SA_CFG_OPT_END(o); o++) nopts++;
    struct option *longopts = sa_calloc(nopts + 2, sizeof(*longopts));
    char *shortopts = sa_calloc(nopts * 2 + 4, 1);
    build_getopt(cmd->opts, longopts, shortopts);
    int rc = SA_CFG_PARSED;
    char errstr[512];

    /* Two passes: FILE options first, so flags on the command line override the file. */
    for (int pass = 0; pass < 2 && rc == SA_CFG_PARSED; pass++) {
        optind = 0; /* full reset of glibc's getopt state */
        opterr = 0;
        int c;
        while ((c = getopt_long(argc, argv, shortopts, longopts, NULL)) != -1) {
            if (c == 'h') {
                if (pass == 0) {
                    sa_cfg_print_help(cmd, stdout);
                    rc = SA_CFG_HELP;
                }
                break;
            }
            if (c == '?' || c == ':') {
                /* A short option is named by optopt: argv[optind - 1] is another word when it
                 * sits inside a cluster ("-QZ") or its argument is missing at the end. */
                char shortname[3] = {'-', (char)optopt, '\0'};
                const char *bad = optopt > 0 && optopt < 256 ? shortname : argv[optind - 1];
                fprintf(stderr, "samsa %s: %s option %s\n", cmd->name,
                        c == ':' ? "missing argument for" : "unknown", bad);
                fprintf(stderr, "usage: %s\nTry 'samsa %s --help'.\n", cmd->usage, cmd->name);
                rc = SA_CFG_USAGE;
                break;
            }
            const sa_cfg_opt_t *o = opt_for_code(cmd->opts, c);
            if (!o || (o->type == SA_CFG_FILE) != (pass == 0)) continue;
            const char *value = o->type == SA_CFG_BOOL ? "true" : optarg;
            if (set_value(o, conf, value, errstr, sizeof(errstr)) != SA_OK) {
                fprintf(stderr, "samsa %s: --%s\n", cmd->name, errstr);
                rc = SA_CFG_USAGE;
                break;
            }
            if (o->type == SA_CFG_FILE && sa_cfg_load_properties(cmd->opts, conf, value, print_unknown,
                                                                 errstr, sizeof(errstr)) != SA_OK) {
                fprintf(stderr, "samsa %s: %s\n", cmd->name, errstr);
                rc = SA_CFG_USAGE;
                break;
            }
        }
    }
    if (first_arg) *first_arg = optind;
    free(longopts);
    free(shortopts);
    return rc;
}

static const char *type_argname(const sa_cfg_opt_t *o) {
    if (o->argname) return o->argname;
    switch (o->type) {
    case SA_CFG_INT: return "N";
    case SA_CFG_SIZE: return "BYTES";
    case SA_CFG_MS: return "MS";
    case SA_CFG_FILE: return "FILE";
    case SA_CFG_LIST: return "VALUE";
    case SA_CFG_BOOL: return "";
    default: return "TEXT";
    }
}

void sa_cfg_print_help(const sa_cfg_cmd_t *cmd, FILE *out) {
    fprintf(out, "usage: %s\n\n%s\n\noptions:\n", cmd->usage, cmd->summary);
    for (const sa_cfg_opt_t *o = cmd->opts; !SA_CFG_OPT_END(o); o++) {
        char left[96];
        if (!o->flag && !o->short_flag) continue;
        const char *arg = type_argname(o);
        if (o->short_flag && o->flag)
            snprintf(left, sizeof(left), "-%c, --%s%s%s", o->short_flag, o->flag, *arg ? " " : "", arg);
        else if (o->flag)
            snprintf(left, sizeof(left), "    --%s%s%s", o->flag, *arg ? " " : "", arg);
        else
            snprintf(left, sizeof(left), "-%c%s%s", o->short_flag, *arg ? " " : "", arg);
        fprintf(out, "  %-34s %s", left, o->help);
        if (o->def && o->type != SA_CFG_BOOL) fprintf(out, " (default: %s)", *o->def ? o->def : "\"\"");
        if (o->name) fprintf(out, " [%s]", o->name);
        fputc('\n', out);
    }
    fprintf(out, "  %-34s %s\n", "-h, --help", "print this help and exit");
    int props = 0;
    for (const sa_cfg_opt_t *o = cmd->opts; !SA_CFG_OPT_END(o); o++) props |= o->name && !o->flag;
    if (props) {
        fprintf(out, "\nsettings for a .properties file only:\n");
        for (const sa_cfg_opt_t *o = cmd->opts; !SA_CFG_OPT_END(o); o++) {
            if (o->flag || o->short_flag) continue;
            fprintf(out, "  %-34s %s", o->name, o->help);
            if (o->def) fprintf(out, " (default: %s)", *o->def ? o->def : "\"\"");
            fputc('\n', out);
        }
    }
    if (cmd->epilog) fprintf(out, "\n%s\n", cmd->epilog);
}

void sa_cfg_print_markdown(const sa_cfg_cmd_t *cmd, FILE *out) {
    fprintf(out, "## `samsa %s`\n\n`%s`\n\n%s\n\n", cmd->name, cmd->usage, cmd->summary);
    fprintf(out, "| flag | property | default | meaning |\n|---|---|---|---|\n");
    for (const sa_cfg_opt_t *o = cmd->opts; !SA_CFG_OPT_END(o); o++) {
        char flag[96] = "";
        if (o->flag && o->short_flag)
            snprintf(flag, sizeof(flag), "`-%c`, `--%s`", o->short_flag, o->flag);
        else if (o->flag)
            snprintf(flag, sizeof(flag), "`--%s`", o->flag);
        else if (o->short_flag)
            snprintf(flag, sizeof(flag), "`-%c`", o->short_flag);
        fprintf(out, "| %s | %s%s%s | %s%s%s | %s |\n", flag, o->name ? "`" : "", o->name ? o->name : "",
                o->name ? "`" : "", o->def && *o->def ? "`" : "", o->def ? o->def : "",
                o->def && *o->def ? "`" : "", o->help);
    }
    fputc('\n', out);
}

void sa_cfg_free(const sa_cfg_opt_t *opts, void *conf) {
    for (const sa_cfg_opt_t *o = opts; !SA_CFG_OPT_END(o); o++) {
        if (o->type == SA_CFG_STR || o->type == SA_CFG_FILE) {
            char **p = FIELD(conf, o, char *);
            free(*p);
            *p = NULL;
        } else if (o->type == SA_CFG_LIST) {
            sa_strlist_free(FIELD(conf, o, sa_strlist_t));
        }
    }
}
