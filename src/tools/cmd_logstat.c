/* Placeholder until `samsa logstat` is built. */
#include "commands.h"

SA_COMMAND_NOT_BUILT(sa_cmd_logstat, "logstat", "the lab-6 log consumer with live statistics");
