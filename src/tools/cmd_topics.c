/* Placeholder until `samsa topics` is built. */
#include "commands.h"

SA_COMMAND_NOT_BUILT(sa_cmd_topics, "topics", "create, list, describe, alter and delete topics");
