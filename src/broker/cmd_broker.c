/* Placeholder until `samsa broker` is built. */
#include "commands.h"

SA_COMMAND_NOT_BUILT(sa_cmd_broker, "broker", "the Kafka-compatible broker (default 127.0.0.1:9092)");
