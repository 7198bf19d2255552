/* Placeholder until `samsa loggen` is built. */
#include "commands.h"

SA_COMMAND_NOT_BUILT(sa_cmd_loggen, "loggen", "the lab-6 log producer (JSON log records keyed by service)");
