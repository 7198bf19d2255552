/*
 * cli.h - the shape of a `samsa` subcommand and the exit codes every command uses.
 */
#ifndef SA_CORE_CLI_H
#define SA_CORE_CLI_H

#include "core/config.h"

/* Exit codes, the same for every command. */
typedef enum sa_exit_e {
    SA_EXIT_OK = 0,    /* success */
    SA_EXIT_FAIL = 1,  /* the work failed (broker unreachable, records not delivered, ...) */
    SA_EXIT_USAGE = 2, /* the command line was wrong; usage went to stderr */
} sa_exit_t;

typedef struct sa_command_s {
    const char *name;                  /* "broker" */
    const char *summary;               /* one line for `samsa --help` */
    int (*run)(int argc, char **argv); /* argv[0] is the command name; returns an sa_exit_t */
    const sa_cfg_cmd_t *spec;          /* its options, for docs/configuration.md; NULL if none */
} sa_command_t;

/** Parse @p argv against @p spec into @p conf (defaults are set first). On -h or a usage error it
 *  returns the exit code to use (>= 0); on success -1 and the first positional in *first_arg. */
int sa_cli_parse(const sa_cfg_cmd_t *spec, void *conf, int argc, char **argv, int *first_arg);

/** Print "samsa CMD: MESSAGE" and a newline on stderr: the one-line error of every command. */
void sa_cli_error(const char *cmd, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/** Apply the common `--log-level`/`--debug` values; @returns 0 or -1 after printing an error. */
int sa_cli_apply_logging(const char *level, const char *debug);

#endif
