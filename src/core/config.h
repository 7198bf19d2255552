/*
 * config.h - one table per command drives flag parsing, Kafka-style .properties files, --help
 * and the generated reference in docs/configuration.md.
 *
 * A command describes its settings once:
 *
 *   static const sa_cfg_opt_t opts[] = {
 *       {"listeners", "listen", 'l', SA_CFG_STR, offsetof(conf_t, listen), 0, 0,
 *        "127.0.0.1:9092", "HOST:PORT", "address to accept Kafka clients on"},
 *       ...
 *       {0}};
 *
 * and gets `--listen`, `-l`, `listeners=` in a properties file, the default, the help line and
 * the docs entry from that row. Bounds are checked when a value is set; errors name the flag
 * or the file and line.
 */
#ifndef SA_CORE_CONFIG_H
#define SA_CORE_CONFIG_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "core/err.h"

typedef enum sa_cfg_type_e {
    SA_CFG_STR,  /* char *, owned by the config (freed by sa_cfg_free) */
    SA_CFG_INT,  /* int64_t within [min, max] */
    SA_CFG_SIZE, /* int64_t bytes; accepts suffixes k, m, g (powers of 1024) */
    SA_CFG_MS,   /* int64_t milliseconds; accepts suffixes ms, s, m, h, d */
    SA_CFG_BOOL, /* int 0/1; as a flag it takes no argument and sets 1 */
    SA_CFG_LIST, /* sa_strlist_t; each occurrence appends (e.g. -X key=value); a row named "a.b.*"
                  * takes every key "a.b.KEY" of a file or -o, appended as "a.b.KEY=VALUE" */
    SA_CFG_FILE, /* char *; a .properties file loaded before every other flag is applied */
} sa_cfg_type_t;

typedef struct sa_strlist_s {
    char **v; /* owned strings */
    size_t n;
} sa_strlist_t;

void sa_strlist_add(sa_strlist_t *list, const char *s);
void sa_strlist_free(sa_strlist_t *list);

typedef struct sa_cfg_opt_s {
    const char *name; /* key in a .properties file ("log.dirs"); NULL: flag only */
    const char *flag; /* long flag without dashes ("data-dir"); NULL: properties only */
    int short_flag;   /* 'd' for -d, or 0 */
    sa_cfg_type_t type;
    size_t offset;       /* offsetof() the field in the command's config struct */
    int64_t min, max;    /* bounds for INT, SIZE and MS (both 0: unbounded) */
    const char *def;     /* default as text, parsed like user input; NULL: none */
    const char *argname; /* placeholder in help ("HOST:PORT"); NULL: from the type */
    const char *help;    /* one line */
} sa_cfg_opt_t;

/* The table ends with {0}: a row with no name, no flag and no short flag. */
#define SA_CFG_OPT_END(o) (!(o)->name && !(o)->flag && !(o)->short_flag)

/* A command: its name, a usage line, a summary and its options. */
typedef struct sa_cfg_cmd_s {
    const char *name;    /* "broker" */
    const char *usage;   /* "samsa broker [OPTIONS] [server.properties]" */
    const char *summary; /* one paragraph shown under the usage line */
    const sa_cfg_opt_t *opts;
    const char *epilog; /* examples and notes printed after the options, or NULL */
} sa_cfg_cmd_t;

/** Set every option that has a default. */
void sa_cfg_defaults(const sa_cfg_opt_t *opts, void *conf);

/**
 * Set one option by property name or long flag name from text.
 * @returns SA_OK; SA_ERR_NOT_FOUND for an unknown key; SA_ERR_INVALID_ARG with errstr.
 */
sa_err_t sa_cfg_set(const sa_cfg_opt_t *opts, void *conf, const char *key, const char *value, char *errstr,
                    size_t errstr_size);

/**
 * Load a Kafka-style .properties file (key=value or key: value, '#'/'!' comments).
 * Unknown keys are reported through @p unknown (may be NULL: they are ignored), not failed,
 * because Kafka's files carry many settings that do not apply to one node.
 * @returns SA_OK or SA_ERR_INVALID_ARG/SA_ERR_IO with "FILE:LINE: ..." in errstr.
 */
sa_err_t sa_cfg_load_properties(const sa_cfg_opt_t *opts, void *conf, const char *path,
                                void (*unknown)(const char *path, int line, const char *key), char *errstr,
                                size_t errstr_size);

/* Results of sa_cfg_parse_args. */
#define SA_CFG_PARSED 0 /* go on */
#define SA_CFG_HELP   1 /* -h/--help was printed to stdout: exit 0 */
#define SA_CFG_USAGE  2 /* an error was printed to stderr: exit 2 */

/**
 * Parse argv (argv[0] is the command name) against @p cmd into @p conf, which must hold the
 * defaults already. FILE options are loaded first, then every other flag in order.
 * Positional arguments are left in argv[*first_arg .. argc-1].
 * @returns SA_CFG_PARSED, SA_CFG_HELP or SA_CFG_USAGE.
 */
int sa_cfg_parse_args(const sa_cfg_cmd_t *cmd, void *conf, int argc, char **argv, int *first_arg);

/** Print "usage, summary, options with defaults, epilog" to @p out. */
void sa_cfg_print_help(const sa_cfg_cmd_t *cmd, FILE *out);
/** Print the command's options as a Markdown table (for docs/configuration.md). */
void sa_cfg_print_markdown(const sa_cfg_cmd_t *cmd, FILE *out);
/** Free every STR, FILE and LIST value held by @p conf. */
void sa_cfg_free(const sa_cfg_opt_t *opts, void *conf);

/** Parse an int64 with the suffixes of @p type. @returns 0, or -1 if @p s is not one. */
int sa_cfg_parse_number(sa_cfg_type_t type, const char *s, int64_t *out);

#endif
