#include "core/cli.h"

#include <stdarg.h>
#include <stdio.h>

#include "core/log.h"

int sa_cli_parse(const sa_cfg_cmd_t *spec, void *conf, int argc, char **argv, int *first_arg) {
    sa_cfg_defaults(spec->opts, conf);
    switch (sa_cfg_parse_args(spec, conf, argc, argv, first_arg)) {
    case SA_CFG_HELP: return SA_EXIT_OK;
    case SA_CFG_USAGE: return SA_EXIT_USAGE;
    default: return -1;
    }
}

int sa_cli_apply_logging(const char *level, const char *debug) {
    if (level && *level && sa_log_set_level(level)) {
        fprintf(stderr, "samsa: --log-level: expected error, warn, info or debug, got \"%s\"\n", level);
        return -1;
    }
    if (debug && *debug && sa_log_set_debug(debug)) {
        fprintf(
            stderr,
            "samsa: --debug: unknown subsystem in \"%s\" (net,proto,storage,group,http,worker,client,all)\n",
            debug);
        return -1;
    }
    return 0;
}

void sa_cli_error(const char *cmd, const char *fmt, ...) {
    va_list ap;
    fprintf(stderr, "samsa %s: ", cmd);
    va_start(ap, fmt);
    vfprintf(stderr, fmt, ap);
    va_end(ap);
    fputc('\n', stderr);
}
