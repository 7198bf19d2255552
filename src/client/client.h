/*
 * client.h - the one way samsa builds a librdkafka client: every producer, consumer and admin
 * client of every command (web, worker, topics, groups, loggen, logstat) gets its configuration
 * from here, spelled and layered the same way, as kcat does.
 *
 * The user's side, the same flags in every client command (SA_CLIENT_OPTS rows):
 *   -b HOST:PORT[,...]   bootstrap.servers
 *   -X KEY=VALUE         any librdkafka property, repeatable (also spelled --property)
 *   -F FILE              a file of KEY=VALUE lines (# comments), repeatable; without -F the file
 *                        named by $SAMSA_CONFIG is read; -F none reads neither
 *   -X list              print librdkafka's properties and exit 0
 *   -X dump              print the effective configuration of each of the command's clients,
 *                        secrets masked, and exit 0
 *
 * Precedence, lowest first (kcat applies -F and -X in command-line order and reads $KCAT_CONFIG
 * after them; samsa uses one fixed order in which the command line always wins over files):
 *   1. librdkafka's defaults;
 *   2. client.id=samsa-CMD, the command's defaults for that client (acks=all for the web's
 *      producer, ...), and `debug=...` from --debug client;
 *   3. the -F files in order, or else $SAMSA_CONFIG;
 *   4. -X in order;
 *   5. -b when given; without -b, bootstrap.servers from 3-4, else localhost:9092;
 *   6. group.id from the command's --group (worker, logstat): a user's group.id is refused there
 *      with a message naming --group, so the two can never disagree silently.
 *
 * Roles: a property librdkafka documents as producer-only (C/P column "P") is applied to
 * producers only, a consumer-only one ("C") to consumers only, and an admin client (metadata and
 * admin requests) takes only the common ones ("*"). librdkafka itself says which is which
 * (rd_kafka_conf_properties_show), so no prefix list is kept here. A -X property that none of
 * the command's clients takes is reported as having no effect.
 *
 * Errors: an unknown property, a bad value or an unreadable file are usage errors: one line
 * "samsa CMD: WHERE: why" (WHERE is `-X key=value` or FILE:LINE) and exit 2, before anything
 * is started.
 *
 * Logs: every client logs into samsa's log (subsystem "rdkafka", with the client's name). A
 * broker that cannot be reached is one line naming the address and how to start a broker, then
 * repeats are folded into a count every 30 s (client_log.c) instead of librdkafka's line per
 * retry.
 */
#ifndef SA_CLIENT_CLIENT_H
#define SA_CLIENT_CLIENT_H

#include <librdkafka/rdkafka.h>
#include <stddef.h>

#include "core/config.h"

#define SA_CLIENT_DEFAULT_BOOTSTRAP "localhost:9092"

typedef enum sa_client_kind_e {
    SA_CLIENT_PRODUCER, /* a producer handle: common and producer properties */
    SA_CLIENT_CONSUMER, /* a consumer handle: common and consumer properties */
    SA_CLIENT_ADMIN,    /* a consumer handle used for metadata and admin requests: common ones only */
} sa_client_kind_t;

/* One client of a command, described once and used to build its conf and to dump it. */
typedef struct sa_client_role_s {
    const char *name;            /* "producer", "tail consumer": -X dump's headings */
    sa_client_kind_t kind;       /* which properties apply, and the handle type */
    const char *const *defaults; /* "key=value", NULL-ended, may be NULL: the command's defaults */
    const char *group;           /* group.id set by the command's --group, or NULL (borrowed) */
} sa_client_role_t;

/* The user's client settings, filled by the SA_CLIENT_OPTS rows of a command's option table. */
typedef struct sa_client_opts_s {
    char *bootstrap;    /* -b, or NULL (see precedence 5) */
    sa_strlist_t x;     /* -X KEY=VALUE in order, or the words list / dump */
    sa_strlist_t files; /* -F FILE in order; none given: $SAMSA_CONFIG */
    sa_strlist_t props; /* set by sa_client_setup: the KEY=VALUE of the files then -X, all valid */
    const char *cmd;    /* set by sa_client_setup: the command, for the default client.id samsa-CMD */
    int ready;          /* sa_client_setup succeeded: props may be used */
} sa_client_opts_t;

/* Option rows for a config struct of type @p type with an sa_client_opts_t member @p m (one row
 * per line, like every option table, rather than the formatter's one field per line). */
// clang-format off
#define SA_CLIENT_OPTS(type, m)                                                                                \
    {NULL, "bootstrap-server", 'b', SA_CFG_STR, offsetof(type, m.bootstrap), 0, 0, NULL, "HOST:PORT[,...]",  \
     "Kafka broker(s) to connect to; wins over bootstrap.servers from -F/-X (neither: localhost:9092)"},     \
    {NULL, "property", 'X', SA_CFG_LIST, offsetof(type, m.x), 0, 0, NULL, "KEY=VALUE",                         \
     "librdkafka property for every client of the command, e.g. -X security.protocol=SASL_SSL "            \
     "(repeatable; wins over -F and samsa's defaults); -X list: all properties; -X dump: the effective "    \
     "configuration"},                                                                                       \
    {NULL, "kafka-config", 'F', SA_CFG_LIST, offsetof(type, m.files), 0, 0, NULL, "FILE",                      \
     "librdkafka properties file (KEY=VALUE lines, # comments; repeatable); without -F: $SAMSA_CONFIG; "    \
     "-F none: no file"}
// clang-format on

/**
 * Read the user's files, check every property against librdkafka, and serve `-X list` and
 * `-X dump` for @p cmd's clients @p roles (@p nroles of them, borrowed for the call).
 * Call once after parsing the command line, before anything starts.
 * @returns -1 to go on (opts->props filled, opts->ready set); else the exit code to return:
 *          SA_EXIT_OK after list/dump was printed, SA_EXIT_USAGE after "samsa CMD: ..." on stderr.
 */
int sa_client_setup(const char *cmd, sa_client_opts_t *opts, const sa_client_role_t *roles, size_t nroles);

/** Free what sa_client_setup added to @p opts (the option table's sa_cfg_free frees the rest). */
void sa_client_opts_free(sa_client_opts_t *opts);

/**
 * Build the configuration of one client (the precedence above), with samsa's log and error
 * callbacks installed. @p opts must have been through sa_client_setup.
 * @returns new conf (give it to rd_kafka_new or destroy it), or NULL with errstr set.
 */
rd_kafka_conf_t *sa_client_conf_new(const sa_client_opts_t *opts, const sa_client_role_t *role, char *errstr,
                                    size_t errstr_size);

/** @returns the handle type librdkafka needs for @p kind. */
rd_kafka_type_t sa_client_handle_type(sa_client_kind_t kind);

/**
 * @returns the bootstrap servers the clients use (precedence 5), borrowed from @p opts: valid
 * until opts is freed.
 */
const char *sa_client_bootstrap(const sa_client_opts_t *opts);

/**
 * Quick TCP check of @p bootstrap ("host:port[,...]", "SSL://host:port" accepted): tries every
 * address of every server for up to @p timeout_ms each.
 * @returns 1 if one accepted a connection, 0 if none could be decided in time (slow network:
 *          let the client find out), -1 if every one was refused or does not resolve, with
 *          errstr saying why (e.g. "connection refused at 127.0.0.1:1").
 */
int sa_client_reachable(const char *bootstrap, int timeout_ms, char *errstr, size_t errstr_size);

/**
 * Write the hint that follows "cannot reach ..." into @p buf: whether a broker runs at the
 * first server of @p bootstrap and the commands that start one.
 */
void sa_client_start_hint(const char *bootstrap, char *buf, size_t size);

/** Install samsa's log and error callbacks on @p conf (sa_client_conf_new does it). */
void sa_client_use_samsa_log(rd_kafka_conf_t *conf);

/*
 * Admin requests through librdkafka's Admin API, the same way for every command (client_admin.c).
 */

/**
 * @returns new admin options for @p op: the request timeout @p timeout_ms, and the operation
 * timeout too for the operations that take one (topic creation and deletion, partition creation,
 * record deletion).
 */
rd_kafka_AdminOptions_t *sa_client_admin_options(rd_kafka_t *rk, rd_kafka_admin_op_t op, int timeout_ms);

/**
 * Wait on @p q for the result event of type @p type of a request made with @p timeout_ms (the
 * request timeout bounds the wait; a margin covers the queue hop). @returns new event (destroy
 * with rd_kafka_event_destroy) whose request-level error was checked, or NULL with the reason in
 * @p errstr; *timed_out (may be NULL) tells whether nothing came at all.
 */
rd_kafka_event_t *sa_client_admin_wait(rd_kafka_queue_t *q, rd_kafka_event_type_t type, int timeout_ms,
                                       int *timed_out, char *errstr, size_t errstr_size);

#endif
