/*
 * cmd_broker.c - `samsa broker`: the option table (Kafka's server.properties names plus samsa
 * flags), then sa_broker_run().
 *
 * Every setting is one row: its server.properties key, its flag, its default and its help, so
 * `--config server.properties`, `--help` and `samsa config-docs` all come from here. Kafka's own
 * server.properties keys that a single node does not use are reported and ignored.
 */
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "broker/broker.h"
#include "commands.h"
#include "core/log.h"

#define C(field) offsetof(sa_broker_conf_t, field)

static const sa_cfg_opt_t broker_opts[] = {
    {NULL, "config", 'c', SA_CFG_FILE, C(config_file), 0, 0, NULL, "FILE",
     "read a Kafka-style server.properties first (flags override it)"},
    {"listeners", "listen", 'l', SA_CFG_STR, C(listen), 0, 0, "127.0.0.1:9092", "LIST",
     "where to accept Kafka clients: NAME://HOST:PORT,... (PLAINTEXT, SSL, SASL_PLAINTEXT, SASL_SSL or a "
     "name of listener.security.protocol.map); a bare HOST:PORT is PLAINTEXT"},
    {"advertised.listeners", "advertised-listener", 'a', SA_CFG_STR, C(advertised), 0, 0, "", "LIST",
     "NAME://HOST:PORT,... that Metadata tells the clients of each listener to connect to (default: the "
     "listener's address; with 0.0.0.0, this host's name). In Docker it must be reachable FROM the client"},
    {"listener.security.protocol.map", NULL, 0, SA_CFG_STR, C(protocol_map), 0, 0,
     "PLAINTEXT:PLAINTEXT,SSL:SSL,SASL_PLAINTEXT:SASL_PLAINTEXT,SASL_SSL:SASL_SSL", "NAME:PROTO,...",
     "the security protocol of each listener name"},
    {"listener.name.*", NULL, 0, SA_CFG_LIST, C(listener_props), 0, 0, NULL, "VALUE",
     "per-listener settings listener.name.NAME.KEY: sasl.enabled.mechanisms, ssl.client.auth, "
     "plain.sasl.jaas.config (PLAIN users: user_NAME=\"PASSWORD\" options, one line)"},
    {"sasl.enabled.mechanisms", NULL, 0, SA_CFG_STR, C(sasl_mechanisms), 0, 0, "SCRAM-SHA-256,SCRAM-SHA-512",
     "LIST", "SASL mechanisms of the SASL listeners: PLAIN, SCRAM-SHA-256, SCRAM-SHA-512"},
    {"connections.max.reauth.ms", NULL, 0, SA_CFG_MS, C(connections_max_reauth_ms), 0, INT64_MAX, "0", "MS",
     "a SASL session lasts this long; the client must re-authenticate (KIP-368) or its connection is closed "
     "at its next request (0: sessions never end)"},
    {"connections.handshake.timeout.ms", NULL, 0, SA_CFG_MS, C(handshake_timeout_ms), 100, INT64_MAX, "10s",
     "MS",
     "a connection's TLS handshake and SASL authentication must be done this long after it was accepted "
     "(samsa)"},
    {"ssl.keystore.type", NULL, 0, SA_CFG_STR, C(ssl_keystore_type), 0, 0, "PEM", "PEM",
     "format of ssl.keystore.location: samsa reads PEM (convert JKS/PKCS12, docs/security.md)"},
    {"ssl.keystore.location", NULL, 0, SA_CFG_STR, C(ssl_keystore_location), 0, 0, "", "FILE",
     "PEM file holding the TLS listeners' private key and certificate chain"},
    {"ssl.key.password", NULL, 0, SA_CFG_STR, C(ssl_key_password), 0, 0, "", "PASSWORD",
     "passphrase of an encrypted private key (never logged)"},
    {"ssl.certificate.location", NULL, 0, SA_CFG_STR, C(ssl_certificate_location), 0, 0, "", "FILE",
     "PEM certificate (chain), with ssl.key.location: the alternative to ssl.keystore.location (librdkafka's "
     "names)"},
    {"ssl.key.location", NULL, 0, SA_CFG_STR, C(ssl_key_location), 0, 0, "", "FILE",
     "PEM private key of ssl.certificate.location"},
    {"ssl.truststore.type", NULL, 0, SA_CFG_STR, C(ssl_truststore_type), 0, 0, "PEM", "PEM",
     "format of ssl.truststore.location (PEM)"},
    {"ssl.truststore.location", NULL, 0, SA_CFG_STR, C(ssl_truststore_location), 0, 0, "", "FILE",
     "PEM file of the CAs that sign client certificates (ssl.client.auth)"},
    {"ssl.client.auth", NULL, 0, SA_CFG_STR, C(ssl_client_auth), 0, 0, "none", "MODE",
     "client certificates on TLS listeners: none, requested or required; a verified certificate's subject "
     "is the principal (User:CN=...,O=...)"},
    {NULL, "add-scram", 0, SA_CFG_LIST, C(add_scram), 0, 0, NULL, "MECH=[name=N,password=P]",
     "create a SCRAM credential before serving, as kafka-storage format --add-scram, unless the user "
     "already has one for that mechanism (repeatable; e.g. "
     "'SCRAM-SHA-256=[name=admin,password=admin-secret]'; "
     "iterations=, salt=, saltedpassword= optional)"},
    {"log.dirs", "data-dir", 'd', SA_CFG_STR, C(data_dir), 0, 0, "./samsa-data/broker", "DIR",
     "directory of the partition logs (created if missing; one broker per directory)"},
    {"node.id", "node-id", 0, SA_CFG_INT, C(node_id), 0, INT32_MAX, "0", "N", "this broker's node id"},
    {"broker.id", NULL, 0, SA_CFG_INT, C(node_id), 0, INT32_MAX, NULL, "N",
     "the same as node.id (ZooKeeper-era name)"},
    {"num.partitions", "num-partitions", 0, SA_CFG_INT, C(num_partitions), 1, 100000, "1", "N",
     "partitions of auto-created topics"},
    {"auto.create.topics.enable", NULL, 0, SA_CFG_BOOL, C(auto_create), 0, 0, "true", NULL,
     "create a missing topic (num.partitions) when a client asks for its metadata"},
    {"default.replication.factor", NULL, 0, SA_CFG_INT, C(replication_factor), 1, 32767, "1", "N",
     "accepted for compatibility; a single node keeps one copy"},
    {"log.retention.ms", "retention-ms", 0, SA_CFG_MS, C(retention_ms), -1, INT64_MAX, NULL, "MS",
     "delete segments older than this (-1 = keep forever; default: log.retention.hours)"},
    {"log.retention.hours", NULL, 0, SA_CFG_INT, C(retention_hours), -1, 10000000, "168", "HOURS",
     "retention in hours when log.retention.ms is not set (7 days)"},
    {"log.retention.bytes", "retention-bytes", 0, SA_CFG_SIZE, C(retention_bytes), -1, INT64_MAX, "-1",
     "BYTES", "delete the oldest segments while a partition is larger than this (-1 = no limit)"},
    {"log.segment.bytes", "segment-bytes", 0, SA_CFG_SIZE, C(segment_bytes), 14, INT32_MAX, "1g", "BYTES",
     "roll to a new segment file at this size"},
    {"log.roll.ms", NULL, 0, SA_CFG_MS, C(roll_ms), 1, INT64_MAX, "7d", "MS",
     "roll to a new segment after this long"},
    {"log.retention.check.interval.ms", "retention-check-ms", 0, SA_CFG_MS, C(retention_check_ms), 1,
     INT64_MAX, "300000", "MS", "how often retention runs"},
    {"log.cleanup.policy", NULL, 0, SA_CFG_STR, C(cleanup_policy), 0, 0, "delete", "POLICY",
     "default cleanup.policy of topics: delete, compact or compact,delete (docs/compaction.md)"},
    {"log.cleaner.enable", NULL, 0, SA_CFG_BOOL, C(cleaner_enable), 0, 0, "true", NULL,
     "run the log cleaner, which compacts topics whose cleanup.policy has compact"},
    {"log.cleaner.io.max.bytes.per.second", NULL, 0, SA_CFG_STR, C(cleaner_io_max), 0, 0, "", "BYTES",
     "the cleaner's read + write budget per second (a number, 1e7 accepted; empty: unlimited)"},
    {"log.cleaner.dedupe.buffer.size", NULL, 0, SA_CFG_SIZE, C(cleaner_dedupe_buffer), 1 << 20, INT64_MAX,
     "128m", "BYTES",
     "memory of the cleaner's key map (24 bytes a key); a larger dirty part is cleaned in steps"},
    {"log.cleaner.backoff.ms", NULL, 0, SA_CFG_MS, C(cleaner_backoff_ms), 1, INT64_MAX, "15000", "MS",
     "how often the cleaner looks for a partition to clean when it has nothing to do"},
    {"log.cleaner.min.cleanable.ratio", NULL, 0, SA_CFG_STR, C(cleaner_min_ratio), 0, 0, "0.5", "RATIO",
     "default min.cleanable.dirty.ratio of compacted topics"},
    {"log.cleaner.min.compaction.lag.ms", NULL, 0, SA_CFG_MS, C(cleaner_min_lag_ms), 0, INT64_MAX, "0", "MS",
     "default min.compaction.lag.ms"},
    {"log.cleaner.max.compaction.lag.ms", NULL, 0, SA_CFG_MS, C(cleaner_max_lag_ms), 1, INT64_MAX,
     "9223372036854775807", "MS", "default max.compaction.lag.ms"},
    {"log.cleaner.delete.retention.ms", NULL, 0, SA_CFG_MS, C(cleaner_delete_retention_ms), 0, INT64_MAX,
     "86400000", "MS", "default delete.retention.ms: how long tombstones stay after their first cleaning"},
    {"message.max.bytes", "message-max-bytes", 0, SA_CFG_SIZE, C(message_max_bytes), 64, INT32_MAX, "1048588",
     "BYTES", "largest record batch a producer may send"},
    {"socket.request.max.bytes", NULL, 0, SA_CFG_SIZE, C(socket_request_max_bytes), 64, INT32_MAX, "100m",
     "BYTES", "largest request frame; a larger one closes the connection before any allocation"},
    {"max.connections", "max-connections", 0, SA_CFG_INT, C(max_connections), 1, 1000000, "10000", "N",
     "connections beyond this are closed at once"},
    {"max.connections.per.ip", NULL, 0, SA_CFG_INT, C(max_connections_per_ip), 0, INT32_MAX, "2147483647",
     "N",
     "connections one client address may have open; more are closed at accept (counted, one warning per 10 "
     "s)"},
    {"max.connections.per.ip.overrides", NULL, 0, SA_CFG_STR, C(max_connections_per_ip_overrides), 0, 0, "",
     "HOST:N,...",
     "per-address exceptions to max.connections.per.ip, e.g. \"10.0.0.7:500,gateway.lan:50\" "
     "(a name counts for each of its addresses, resolved at start)"},
    {"queued.max.request.bytes", NULL, 0, SA_CFG_SIZE, C(queued_max_request_bytes), 1 << 20, INT64_MAX, "96m",
     "BYTES",
     "memory all connections together may hold: read buffers, requests not answered yet, answers not sent "
     "yet; when spent, the connections holding the most stop being read (docs/broker.md, Limits)"},
    {"connections.max.idle.ms", NULL, 0, SA_CFG_MS, C(connections_max_idle_ms), 1, INT64_MAX, "600000", "MS",
     "close a connection that moved no byte for this long (one waiting for the broker's answer is not idle)"},
    {"connections.frame.timeout.ms", NULL, 0, SA_CFG_MS, C(frame_timeout_ms), 1, INT64_MAX, "30000", "MS",
     "a request frame must arrive whole this long after its first byte, or the connection is closed "
     "(slow senders; samsa)"},
    {"offsets.retention.minutes", NULL, 0, SA_CFG_INT, C(offsets_retention_minutes), 1, 100000000, "10080",
     "MIN", "committed offsets of an empty group are kept this long (7 days)"},
    {"group.initial.rebalance.delay.ms", "rebalance-delay-ms", 0, SA_CFG_MS,
     C(group_initial_rebalance_delay_ms), 0, 600000, "100", "MS",
     "wait this long for more members before the first rebalance of a new group (Kafka: 3000; "
     "samsa picks 100 so a dev loop does not stall)"},
    {"group.min.session.timeout.ms", NULL, 0, SA_CFG_MS, C(group_min_session_timeout_ms), 1, INT64_MAX,
     "6000", "MS", "smallest session timeout a consumer may ask for"},
    {"group.max.session.timeout.ms", NULL, 0, SA_CFG_MS, C(group_max_session_timeout_ms), 1, INT64_MAX,
     "1800000", "MS", "largest session timeout a consumer may ask for"},
    {"authorizer.class.name", NULL, 0, SA_CFG_STR, C(authorizer), 0, 0, "", "CLASS",
     "turn on ACLs: org.apache.kafka.metadata.authorizer.StandardAuthorizer (or "
     "kafka.security.authorizer.AclAuthorizer); empty: no authorizer, every client may do everything"},
    {"super.users", NULL, 0, SA_CFG_STR, C(super_users), 0, 0, "", "LIST",
     "principals the authorizer always allows, separated by ';' (User:admin;User:CN=ops)"},
    {"allow.everyone.if.no.acl.found", NULL, 0, SA_CFG_BOOL, C(allow_if_no_acl), 0, 0, "false", NULL,
     "with an authorizer: allow an operation on a resource that no ACL names"},
    {"transaction.max.timeout.ms", NULL, 0, SA_CFG_MS, C(txn_max_timeout_ms), 1, INT32_MAX, "900000", "MS",
     "largest transaction.timeout.ms a transactional producer may ask for (INVALID_TRANSACTION_TIMEOUT "
     "above it)"},
    {"transactional.id.expiration.ms", NULL, 0, SA_CFG_MS, C(txn_id_expiration_ms), 1, INT32_MAX, "604800000",
     "MS", "a transactional id without a transaction for this long is forgotten (7 days)"},
    {"producer.id.expiration.ms", NULL, 0, SA_CFG_MS, C(producer_id_expiration_ms), 1, INT64_MAX, "86400000",
     "MS",
     "a partition forgets an idempotent producer whose last write is older than this and that has no "
     "transaction open there (1 day); its next batch is taken with any sequence, as Kafka does"},
    {"producer.id.expiration.check.interval.ms", NULL, 0, SA_CFG_MS, C(producer_id_expiration_check_ms), 1,
     INT64_MAX, "600000", "MS", "how often producer.id.expiration.ms is applied (10 minutes)"},
    {"transaction.partition.verification.enable", NULL, 0, SA_CFG_BOOL, C(txn_verification), 0, 0, "true",
     NULL,
     "refuse a transactional write to a partition not added to its transaction (KIP-890 part 1; "
     "INVALID_TXN_STATE, TRANSACTION_ABORTABLE from Produce v11)"},
    {NULL, "set", 'o', SA_CFG_LIST, C(overrides), 0, 0, NULL, "KEY=VALUE",
     "set any server.properties key from the command line (repeatable)"},
    {NULL, "log-level", 0, SA_CFG_STR, C(log_level), 0, 0, "info", "LEVEL", "error, warn, info or debug"},
    {NULL, "debug", 0, SA_CFG_STR, C(debug), 0, 0, "", "LIST",
     "debug subsystems: net,proto,storage,group or all"},
    {0}};

static const sa_cfg_cmd_t broker_spec = {
    "broker", "samsa broker [OPTIONS]",
    "Run a single-node, durable, Kafka-compatible broker. Every acknowledged record (acks=1 or "
    "all) was fdatasync'd first (group commit: one fsync per event-loop turn). Kafka clients "
    "(librdkafka, kcat, kafka-python, the Java client) connect to it as to Apache Kafka.",
    broker_opts,
    "examples:\n"
    "  samsa broker --listen 127.0.0.1:19092 --data-dir /tmp/samsa-broker\n"
    "  samsa broker --config server.properties -o num.partitions=3\n"
    "  samsa broker server.properties          (as kafka-server-start.sh takes it)\n"
    "\n"
    "Settings without a flag are set in the file or with -o KEY=VALUE.\n"
    "\n"
    "Clients first connect to the bootstrap address, then to the address the broker ADVERTISES\n"
    "in Metadata. Listening on 0.0.0.0 (e.g. in Docker) advertises this host's name unless\n"
    "--advertised-listener says otherwise; set it to an address the clients can reach.\n"
    "\n"
    "TLS and SASL (docs/security.md):\n"
    "  samsa broker -l 'SASL_SSL://0.0.0.0:9094' -a 'SASL_SSL://kafka.example.com:9094' \\\n"
    "    -o ssl.keystore.location=server.pem --add-scram 'SCRAM-SHA-512=[name=admin,password=...]'\n"};

/* Kafka's settings that have no meaning on one samsa node: accepted silently in a file so a
 * stock server.properties loads with only the interesting ones reported. */
static const char *const kafka_ignored[] = {"process.roles",
                                            "controller.quorum.voters",
                                            "controller.quorum.bootstrap.servers",
                                            "controller.listener.names",
                                            "inter.broker.listener.name",
                                            "security.inter.broker.protocol",
                                            "sasl.mechanism.inter.broker.protocol",
                                            "sasl.mechanism.controller.protocol",
                                            "ssl.endpoint.identification.algorithm",
                                            "num.network.threads",
                                            "num.io.threads",
                                            "socket.send.buffer.bytes",
                                            "socket.receive.buffer.bytes",
                                            "num.recovery.threads.per.data.dir",
                                            "offsets.topic.replication.factor",
                                            "transaction.state.log.replication.factor",
                                            "transaction.state.log.min.isr",
                                            "transaction.state.log.num.partitions",
                                            "transaction.state.log.segment.bytes",
                                            "transaction.abort.timed.out.transaction.cleanup.interval.ms",
                                            "transaction.remove.expired.transaction.cleanup.interval.ms",
                                            "share.coordinator.state.topic.replication.factor",
                                            "share.coordinator.state.topic.min.isr",
                                            "zookeeper.connect",
                                            "zookeeper.connection.timeout.ms",
                                            "log.flush.interval.messages",
                                            "log.flush.interval.ms",
                                            NULL};

static int is_ignored(const char *key) {
    for (int i = 0; kafka_ignored[i]; i++)
        if (!strcmp(key, kafka_ignored[i])) return 1;
    return 0;
}

static void report_unknown(const char *path, int line, const char *key) {
    if (!is_ignored(key))
        fprintf(stderr, "samsa broker: %s:%d: \"%s\" is not used by samsa; ignored\n", path, line, key);
}

static int apply_overrides(sa_broker_conf_t *conf) {
    for (size_t i = 0; i < conf->overrides.n; i++) {
        char *kv = conf->overrides.v[i];
        char *eq = strchr(kv, '=');
        if (!eq) {
            fprintf(stderr, "samsa broker: -o %s: expected KEY=VALUE\n", kv);
            return -1;
        }
        *eq = '\0';
        char errstr[256];
        sa_err_t err = sa_cfg_set(broker_opts, conf, kv, eq + 1, errstr, sizeof(errstr));
        if (err == SA_ERR_NOT_FOUND && is_ignored(kv)) err = SA_OK;
        if (err != SA_OK) {
            fprintf(stderr, "samsa broker: -o %s=%s: %s\n", kv, eq + 1,
                    err == SA_ERR_NOT_FOUND ? "unknown setting" : errstr);
            *eq = '=';
            return -1;
        }
        *eq = '=';
    }
    return 0;
}

static int run(int argc, char **argv) {
    sa_broker_conf_t conf = {0};
    int first_arg = 0;
    conf.retention_ms = INT64_MIN; /* unset: log.retention.hours decides */
    int rc = sa_cli_parse(&broker_spec, &conf, argc, argv, &first_arg);
    if (rc >= 0) goto out;
    rc = SA_EXIT_USAGE;
    if (first_arg < argc) {
        /* `samsa broker server.properties`, as kafka-server-start.sh takes it. */
        if (first_arg + 1 < argc || conf.config_file) {
            fprintf(stderr, "samsa broker: unexpected argument \"%s\"\n", argv[first_arg]);
            goto out;
        }
        char errstr[512];
        if (sa_cfg_load_properties(broker_opts, &conf, argv[first_arg], report_unknown, errstr,
                                   sizeof(errstr)) != SA_OK) {
            fprintf(stderr, "samsa broker: %s\n", errstr);
            goto out;
        }
        /* Flags override the file: parse them again on top of it. */
        if (sa_cfg_parse_args(&broker_spec, &conf, argc, argv, &first_arg) != SA_CFG_PARSED) goto out;
    }
    if (apply_overrides(&conf) < 0) goto out;
    if (sa_cli_apply_logging(conf.log_level, conf.debug) < 0) goto out;
    if (conf.retention_ms == INT64_MIN)
        conf.retention_ms = conf.retention_hours < 0 ? -1 : conf.retention_hours * 3600 * 1000;
    rc = sa_broker_run(&conf);
out:
    sa_cfg_free(broker_opts, &conf);
    return rc;
}

const sa_command_t sa_cmd_broker = {"broker", "the Kafka-compatible broker (default 127.0.0.1:9092)", run,
                                    &broker_spec};
