/*
 * tool.h - what the four lab tools (topics, groups, loggen, logstat) share: the connection
 * options, connecting with a clear error, and waiting for one admin result with a deadline.
 *
 * Every tool's config struct embeds an sa_tools_conn_t and splices SA_TOOLS_CONN_OPTS into its
 * option table: the client flags every samsa client command takes (-b, -X, -F; client.h) plus
 * `--timeout`, `--log-level` and `--debug`, spelled, defaulted and documented the same way.
 */
#ifndef SA_TOOLS_TOOL_H
#define SA_TOOLS_TOOL_H

#include <librdkafka/rdkafka.h>
#include <stddef.h>
#include <stdint.h>

#include "client/client.h"
#include "core/cli.h"
#include "core/config.h"

typedef struct sa_tools_conn_s {
    sa_client_opts_t client; /* -b, -X, -F (client.h) */
    int64_t timeout_ms;      /* deadline for reaching the broker and for each admin request */
    char *log_level;         /* error|warn|info|debug */
    char *debug;             /* debug subsystems ("client" turns on librdkafka's debug) */
} sa_tools_conn_t;

/* Option rows for a config struct of type @p type with an sa_tools_conn_t member @p m. */
// clang-format off
#define SA_TOOLS_CONN_OPTS(type, m)                                                                       \
    SA_CLIENT_OPTS(type, m.client),                                                                       \
    {NULL, "timeout", 0, SA_CFG_MS, offsetof(type, m.timeout_ms), 1, 86400000, "10s", NULL,               \
     "give up reaching the broker or waiting for a request after this long"},                             \
    {NULL, "log-level", 0, SA_CFG_STR, offsetof(type, m.log_level), 0, 0, "warn",                         \
     "error|warn|info|debug", "diagnostics printed on stderr"},                                           \
    {NULL, "debug", 0, SA_CFG_STR, offsetof(type, m.debug), 0, 0, NULL, "LIST",                           \
     "debug subsystems, e.g. client (librdkafka's own debug)"}
// clang-format on

/**
 * Apply --log-level/--debug, then check the client settings and serve -X list/-X dump for the
 * tool's clients @p roles (client.h: sa_client_setup). Call right after parsing.
 * @returns -1 to go on, else the exit code (0 after list/dump, 2 after a one-line error).
 */
int sa_tools_setup(const char *cmd, sa_tools_conn_t *conn, const sa_client_role_t *roles, size_t nroles);

/**
 * Connect the client @p role of a tool: fail at once when nothing listens at the bootstrap
 * servers, create the handle, then wait up to --timeout for the cluster to answer a metadata
 * request. @p setup (may be NULL) is called on the conf before the handle is made, to install
 * callbacks; @p opaque becomes the handle's opaque.
 * @returns new handle, or NULL after printing "samsa CMD: why" (naming the address, and how to
 * start a broker when nothing listens there).
 */
rd_kafka_t *sa_tools_connect(const char *cmd, const sa_tools_conn_t *conn, const sa_client_role_t *role,
                             void (*setup)(rd_kafka_conf_t *conf), void *opaque);

/**
 * Wait on @p q for the admin result event of type @p evtype until conn->timeout_ms passes.
 * @returns new event (destroy with rd_kafka_event_destroy) whose request-level error was
 * checked; NULL after printing a one-line error.
 */
rd_kafka_event_t *sa_tools_admin_wait(const char *cmd, rd_kafka_queue_t *q, rd_kafka_event_type_t evtype,
                                      const sa_tools_conn_t *conn);

/** @returns new admin options for @p op with the request and operation timeouts set. */
rd_kafka_AdminOptions_t *sa_tools_admin_options(rd_kafka_t *rk, rd_kafka_admin_op_t op,
                                                const sa_tools_conn_t *conn);

/**
 * Split @p csv ("a=1,b=2") on commas and append each non-empty piece to @p out.
 */
void sa_tools_split_csv(const char *csv, sa_strlist_t *out);

#endif
