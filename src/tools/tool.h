/*
 * tool.h - what the four lab tools (topics, groups, loggen, logstat) share: the connection
 * options every client takes, creating a librdkafka handle from them, a reachability probe with
 * a clear error, and waiting for one admin result with a deadline.
 *
 * Every tool's config struct embeds an sa_tools_conn_t and splices SA_TOOLS_CONN_OPTS into its
 * option table, so `-b/--bootstrap-server`, `-X`, `--timeout`, `--log-level` and `--debug` are
 * spelled, defaulted and documented the same way everywhere.
 */
#ifndef SA_TOOLS_TOOL_H
#define SA_TOOLS_TOOL_H

#include <librdkafka/rdkafka.h>
#include <stddef.h>
#include <stdint.h>

#include "core/config.h"

typedef struct sa_tools_conn_s {
    char *bootstrap;    /* bootstrap.servers */
    sa_strlist_t x;     /* -X key=value librdkafka properties, applied last; or "list" / "dump" */
    char *kafka_config; /* -F: a file of librdkafka key=value lines (default $SAMSA_CONFIG) */
    int64_t timeout_ms; /* deadline for reaching the broker and for each admin request */
    char *log_level;    /* error|warn|info|debug */
    char *debug;        /* debug subsystems ("client" turns on librdkafka's debug) */
} sa_tools_conn_t;

/* Option rows for a config struct of type @p type with an sa_tools_conn_t member @p m (kept one row
 * per line, like every option table, rather than the formatter's one field per line). */
// clang-format off
#define SA_TOOLS_CONN_OPTS(type, m)                                                                       \
    {NULL, "bootstrap-server", 'b', SA_CFG_STR, offsetof(type, m.bootstrap), 0, 0,                        \
     "localhost:9092", "HOST:PORT[,...]", "Kafka broker(s) to connect to"},                               \
    {NULL, NULL, 'X', SA_CFG_LIST, offsetof(type, m.x), 0, 0, NULL, "KEY=VALUE",                          \
     "librdkafka property, e.g. -X security.protocol=SASL_SSL (repeatable; wins over defaults); "         \
     "-X list: all properties, -X dump: the effective configuration"},                                    \
    {NULL, "kafka-config", 'F', SA_CFG_STR, offsetof(type, m.kafka_config), 0, 0, NULL, "FILE",           \
     "librdkafka properties file (key=value lines, # comments) applied before -X; default $SAMSA_CONFIG"}, \
    {NULL, "timeout", 0, SA_CFG_MS, offsetof(type, m.timeout_ms), 1, 86400000, "10s", NULL,               \
     "give up reaching the broker or waiting for a request after this long"},                             \
    {NULL, "log-level", 0, SA_CFG_STR, offsetof(type, m.log_level), 0, 0, "warn",                         \
     "error|warn|info|debug", "diagnostics printed on stderr"},                                           \
    {NULL, "debug", 0, SA_CFG_STR, offsetof(type, m.debug), 0, 0, NULL, "LIST",                           \
     "debug subsystems, e.g. client (librdkafka's own debug)"}
// clang-format on

/**
 * Create a librdkafka handle of @p type from @p conn, with @p defaults ("key=value", NULL-ended,
 * may be NULL) under the user's -F file (or $SAMSA_CONFIG) and -X. @p setup (may be NULL) is called on the
 * conf before the handle is made, to install callbacks; @p opaque becomes the handle's opaque.
 * @returns new handle, or NULL after printing "samsa CMD: why" to stderr.
 */
rd_kafka_t *sa_tools_client_new(const char *cmd, rd_kafka_type_t type, const sa_tools_conn_t *conn,
                                const char *const *defaults, void (*setup)(rd_kafka_conf_t *conf),
                                void *opaque);

/**
 * Handle `-X list` (print librdkafka's properties) and `-X dump` (print the configuration the
 * command would use: @p defaults, then -F/$SAMSA_CONFIG, then -X).
 * @returns -1 if neither was asked for, else the exit code to return.
 */
int sa_tools_conf_query(const char *cmd, const sa_tools_conn_t *conn, const char *const *defaults);

/**
 * Check that the cluster answers a metadata request within conn->timeout_ms.
 * @returns 0, or -1 after printing a one-line error naming the bootstrap servers.
 */
int sa_tools_probe(const char *cmd, rd_kafka_t *rk, const sa_tools_conn_t *conn);

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

/** Apply --log-level/--debug. @returns 0, or -1 after printing an error. */
int sa_tools_logging(const sa_tools_conn_t *conn);

/**
 * Split @p csv ("a=1,b=2") on commas and append each non-empty piece to @p out.
 */
void sa_tools_split_csv(const char *csv, sa_strlist_t *out);

/** Print "samsa CMD: MESSAGE" on stderr. */
void sa_tools_error(const char *cmd, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

#endif
