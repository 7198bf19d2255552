/* Placeholder until `samsa dump-log` is built. */
#include "commands.h"

SA_COMMAND_NOT_BUILT(sa_cmd_dump_log, "dump-log", "print a segment file's batches and records");
