/*
 * commands.h - every `samsa` subcommand, defined by the module that implements it.
 */
#ifndef SA_COMMANDS_H
#define SA_COMMANDS_H

#include "core/cli.h"

extern const sa_command_t sa_cmd_broker;       /* src/broker/cmd_broker.c */
extern const sa_command_t sa_cmd_dump_log;     /* src/broker/cmd_dump_log.c */
extern const sa_command_t sa_cmd_web;          /* src/blog/web/cmd_web.c */
extern const sa_command_t sa_cmd_worker;       /* src/blog/worker/cmd_worker.c */
extern const sa_command_t sa_cmd_console;      /* src/console/cmd_console.c */
extern const sa_command_t sa_cmd_up;           /* src/up.c */
extern const sa_command_t sa_cmd_topics;       /* src/tools/cmd_topics.c */
extern const sa_command_t sa_cmd_groups;       /* src/tools/cmd_groups.c */
extern const sa_command_t sa_cmd_loggen;       /* src/tools/cmd_loggen.c */
extern const sa_command_t sa_cmd_logstat;      /* src/tools/cmd_logstat.c */
extern const sa_command_t sa_cmd_configs;      /* src/tools/cmd_configs.c */
extern const sa_command_t sa_cmd_acls;         /* src/tools/cmd_acls.c */
extern const sa_command_t sa_cmd_transactions; /* src/tools/cmd_transactions.c */

#endif
