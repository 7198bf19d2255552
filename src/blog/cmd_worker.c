/* Placeholder until `samsa worker` is built. */
#include "commands.h"

SA_COMMAND_NOT_BUILT(sa_cmd_worker, "worker", "the scoring worker (group blog_group on blog_operations)");
