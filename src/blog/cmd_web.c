/* Placeholder until `samsa web` is built. */
#include "commands.h"

SA_COMMAND_NOT_BUILT(sa_cmd_web, "web", "the blog web server (default 127.0.0.1:8080)");
