/*
 * cmd_console.c - `samsa console`: the console's command line (its option table also makes
 * --help and docs/configuration.md), signals, start and stop.
 */
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>

#include "commands.h"
#include "console/console.h"
#include "core/log.h"
#include "core/mem.h"

const sa_cfg_opt_t sa_console_opts[] = {
    SA_CLIENT_OPTS(sa_console_conf_t, kafka),
    {NULL, "http", 0, SA_CFG_STR, offsetof(sa_console_conf_t, http), 0, 0, "127.0.0.1:8081", "HOST:PORT",
     "address to serve the console on (loopback by default: anyone who reaches it can change the cluster "
     "unless --read-only)"},
    {NULL, "read-only", 0, SA_CFG_BOOL, offsetof(sa_console_conf_t, read_only), 0, 0, "false", NULL,
     "no change of any kind: no forms, every POST refused"},
    {NULL, "history", 0, SA_CFG_STR, offsetof(sa_console_conf_t, history), 0, 0, "samsa-data/console.db",
     "FILE", "SQLite file of the lag history and message rates (none: kept in memory only)"},
    {NULL, "history-keep", 0, SA_CFG_MS, offsetof(sa_console_conf_t, history_keep_ms), 60000,
     366LL * 86400000, "7d", "MS", "samples older than this are deleted"},
    {NULL, "sample-interval", 0, SA_CFG_MS, offsetof(sa_console_conf_t, sample_ms), 200, 3600000, "5s", "MS",
     "how often the cluster is sampled (topics, offsets, groups, lag)"},
    {NULL, "timeout", 0, SA_CFG_MS, offsetof(sa_console_conf_t, timeout_ms), 100, 600000, "10s", "MS",
     "deadline of each Kafka request"},
    {NULL, "max-tails", 0, SA_CFG_INT, offsetof(sa_console_conf_t, max_tails), 1, 1000, "8", "N",
     "live tails open at once (each one is a consumer)"},
    {NULL, "max-body", 0, SA_CFG_SIZE, offsetof(sa_console_conf_t, max_body), 1024, 64 << 20, "1m", "BYTES",
     "largest request body (a produced record's form); larger ones get 413"},
    {NULL, "http-threads", 0, SA_CFG_INT, offsetof(sa_console_conf_t, threads), 1, 64, "2", "N",
     "HTTP polling threads"},
    {NULL, "allowed-origin", 0, SA_CFG_LIST, offsetof(sa_console_conf_t, allowed_origins), 0, 0, NULL,
     "ORIGIN", "another origin whose pages may send changes here (repeatable)"},
    {NULL, "max-conns-per-ip", 0, SA_CFG_INT, offsetof(sa_console_conf_t, max_per_ip), 1, 100000, "64", "N",
     "connections at once from one IP address"},
    {NULL, "header-timeout", 0, SA_CFG_MS, offsetof(sa_console_conf_t, header_timeout_ms), 100, 3600000,
     "10s", "MS", "a request's headers must arrive within this (also the keep-alive wait)"},
    {NULL, "body-timeout", 0, SA_CFG_MS, offsetof(sa_console_conf_t, body_timeout_ms), 100, 3600000, "30s",
     "MS", "a request's body must arrive within this after its headers"},
    {NULL, "log-level", 0, SA_CFG_STR, offsetof(sa_console_conf_t, log_level), 0, 0, "info", "LEVEL",
     "error, warn, info or debug"},
    {NULL, "debug", 0, SA_CFG_STR, offsetof(sa_console_conf_t, debug), 0, 0, "", "LIST",
     "debug subsystems: http,client or all"},
    {0}};

static const sa_cfg_cmd_t console_spec = {
    "console",
    "samsa console [-b HOST:PORT] [-X KEY=VALUE ...] [-F FILE] [--http HOST:PORT] [--read-only] [--history "
    "FILE]",
    "Serve a web console for a Kafka cluster (samsa's broker or Apache Kafka): the cluster's overview and "
    "message rates; topics with search, sizes, partitions and offsets, created, deleted and configured; a "
    "message browser (newest first, by partition, offset or time, filters, JSON shown indented, a live tail, "
    "a produce form); consumer groups with members, assignments, lag per partition, time lag and a lag "
    "history chart, and offset resets with a dry run first. Pages work without JavaScript, in English and "
    "Russian. It uses librdkafka's admin, consumer and producer APIs only. docs/console.md has the details.",
    sa_console_opts,
    "example:\n  samsa console -b 127.0.0.1:9092 --http 127.0.0.1:8081\n"
    "  samsa console -b kafka.example.com:9093 -X security.protocol=SSL --read-only --history none"};

static volatile sig_atomic_t stop_signal;
static void on_signal(int sig) { stop_signal = sig; }

static int run_console(int argc, char **argv) {
    sa_console_conf_t conf = {0};
    sa_console_t *c = NULL;
    int first, rc = sa_cli_parse(&console_spec, &conf, argc, argv, &first);
    if (rc >= 0) goto out;
    rc = SA_EXIT_USAGE;
    if (first < argc) {
        fprintf(stderr, "samsa console: unexpected argument \"%s\"\n", argv[first]);
        goto out;
    }
    if (sa_cli_apply_logging(conf.log_level, conf.debug)) goto out;
    if ((rc = sa_client_setup("console", &conf.kafka, sa_console_clients, sa_console_nclients)) >= 0)
        goto out;
    rc = SA_EXIT_FAIL;

    struct sigaction sa = {.sa_handler = on_signal};
    sigaction(SIGINT, &sa, NULL);
    sigaction(SIGTERM, &sa, NULL);
    signal(SIGPIPE, SIG_IGN);
    /* the stop signals are blocked in every thread and taken by the main thread's sigsuspend */
    sigset_t stops;
    sigemptyset(&stops);
    sigaddset(&stops, SIGINT);
    sigaddset(&stops, SIGTERM);
    pthread_sigmask(SIG_BLOCK, &stops, NULL);

    char errstr[512];
    c = sa_console_start(&conf, errstr, sizeof(errstr));
    if (!c) {
        sa_log_error("console", "%s", errstr);
        goto out;
    }
    sa_log_info("console", "serving http://%s/ (cluster %s%s, history %s)", conf.http,
                sa_client_bootstrap(&conf.kafka), conf.read_only ? ", read-only" : "", conf.history);
    sigset_t none;
    sigemptyset(&none);
    while (!stop_signal) sigsuspend(&none);
    sa_log_info("console", "signal %d: stopping", (int)stop_signal);
    sa_console_stop(c);
    c = NULL;
    rc = SA_EXIT_OK;
out:
    sa_console_stop(c);
    sa_client_opts_free(&conf.kafka);
    sa_cfg_free(sa_console_opts, &conf);
    return rc;
}

const sa_command_t sa_cmd_console = {
    "console", "a web console for any Kafka cluster (default 127.0.0.1:8081)", run_console, &console_spec};
