/* Placeholder until `samsa groups` is built. */
#include "commands.h"

SA_COMMAND_NOT_BUILT(sa_cmd_groups, "groups", "list, describe, reset and delete consumer groups");
