/*
 * cmd_web.c - `samsa web`: the blog's web server (pages, JSON API, live updates).
 *
 * The signal handler only records the signal; the main thread waits for it, then stops the
 * server in order: stop accepting, flush the producer (every acknowledged post stays
 * acknowledged, every waiting request gets its answer), end the event streams, exit 0.
 */
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "blog/model/db_import.h"
#include "blog/web/web_kafka.h"
#include "blog/web/web_server.h"
#include "commands.h"
#include "core/log.h"
#include "core/mem.h"

static const sa_cfg_opt_t web_opts[] = {
    SA_CLIENT_OPTS(sa_web_conf_t, kafka),
    {NULL, "http", 0, SA_CFG_STR, offsetof(sa_web_conf_t, http), 0, 0, "127.0.0.1:8080", "HOST:PORT",
     "address to serve HTTP on"},
    {NULL, "topic", 0, SA_CFG_STR, offsetof(sa_web_conf_t, topic), 0, 0, "blog_operations", "TOPIC",
     "topic new posts are produced to"},
    {NULL, "results-topic", 0, SA_CFG_STR, offsetof(sa_web_conf_t, results_topic), 0, 0, "blog_results",
     "TOPIC", "topic the worker publishes verdicts to"},
    {NULL, "group", 0, SA_CFG_STR, offsetof(sa_web_conf_t, group), 0, 0, "blog_group", "GROUP",
     "the workers' consumer group (queue lag and workers alive)"},
    {NULL, "db", 0, SA_CFG_STR, offsetof(sa_web_conf_t, db), 0, 0, "sqlite:samsa-data/blog.db", "URL",
     "the blog's store: sqlite:PATH (one machine) or postgresql://USER:PASSWORD@HOST/DBNAME (several)"},
    {NULL, "max-body", 0, SA_CFG_SIZE, offsetof(sa_web_conf_t, max_body), 1024, 64 << 20, "256k", "BYTES",
     "largest request body; larger ones get 413"},
    {NULL, "http-threads", 0, SA_CFG_INT, offsetof(sa_web_conf_t, threads), 1, 64, "2", "N",
     "HTTP polling threads"},
    {NULL, "allowed-origin", 0, SA_CFG_LIST, offsetof(sa_web_conf_t, allowed_origins), 0, 0, NULL, "ORIGIN",
     "another origin whose pages may post here (repeatable; e.g. https://blog.example.com)"},
    {NULL, "max-conns-per-ip", 0, SA_CFG_INT, offsetof(sa_web_conf_t, max_per_ip), 1, 100000, "64", "N",
     "connections at once from one IP address"},
    {NULL, "header-timeout", 0, SA_CFG_MS, offsetof(sa_web_conf_t, header_timeout_ms), 100, 3600000, "10s",
     "MS", "a request's headers must arrive within this (also the keep-alive wait)"},
    {NULL, "body-timeout", 0, SA_CFG_MS, offsetof(sa_web_conf_t, body_timeout_ms), 100, 3600000, "30s", "MS",
     "a request's body must arrive within this after its headers"},
    {NULL, "log-level", 0, SA_CFG_STR, offsetof(sa_web_conf_t, log_level), 0, 0, "info", "LEVEL",
     "error, warn, info or debug"},
    {NULL, "debug", 0, SA_CFG_STR, offsetof(sa_web_conf_t, debug), 0, 0, "", "LIST",
     "debug subsystems: http,client or all"},
    {0}};

static const sa_cfg_cmd_t web_spec = {
    "web",
    "samsa web [-b HOST:PORT] [-X KEY=VALUE ...] [-F FILE] [--http HOST:PORT] [--db URL] [--topic T] "
    "[--results-topic T] [--max-body BYTES]",
    "Serve the blog: the form, the feed with paging and search, the JSON API (/api/posts), live updates "
    "(/api/events), /healthz and /metrics. Posts are stored (the store is the system of record, --db), "
    "produced to the operations topic (acks=all, idempotent) and answered only once the broker "
    "acknowledged them. Exit status 3: the store cannot be opened (unreachable, locked, damaged or "
    "written by a newer samsa); the message says which and what to do.",
    web_opts,
    "example:\n  samsa web -b 127.0.0.1:9092 --http 127.0.0.1:8080\n"
    "  curl -si -H 'Content-Type: application/json' -d '{\"title\":\"Hi\",\"content\":\"Hello\"}' "
    "http://127.0.0.1:8080/api/posts"};

static volatile sig_atomic_t stop_signal;
static void on_signal(int sig) { stop_signal = sig; }

static int run_web(int argc, char **argv) {
    sa_web_conf_t conf = {0};
    sa_web_server_t *srv = NULL;
    sa_db_t *db = NULL;
    int first, rc = sa_cli_parse(&web_spec, &conf, argc, argv, &first);
    if (rc >= 0) goto out;
    rc = SA_EXIT_USAGE;
    if (first < argc) {
        fprintf(stderr, "samsa web: unexpected argument \"%s\"\n", argv[first]);
        goto out;
    }
    if (sa_cli_apply_logging(conf.log_level, conf.debug)) goto out;
    const sa_client_role_t clients[] = {sa_web_kafka_clients[0], sa_web_kafka_clients[1],
                                        sa_db_import_client};
    if ((rc = sa_client_setup("web", &conf.kafka, clients, SA_ARRAY_LEN(clients))) >= 0) goto out;
    rc = SA_EXIT_FAIL;

    struct sigaction sa = {.sa_handler = on_signal};
    sigaction(SIGINT, &sa, NULL);
    sigaction(SIGTERM, &sa, NULL);
    signal(SIGPIPE, SIG_IGN);
    /* block the stop signals in every thread (the server's threads inherit this mask); the main
     * thread takes them in sigsuspend, so none can arrive between the check and the wait */
    sigset_t stops;
    sigemptyset(&stops);
    sigaddset(&stops, SIGINT);
    sigaddset(&stops, SIGTERM);
    pthread_sigmask(SIG_BLOCK, &stops, NULL);

    char errstr[512];
    sa_db_why_t why;
    db = sa_db_open(conf.db, &why, errstr, sizeof(errstr));
    if (!db) {
        sa_log_error("web", "%s", errstr);
        rc = SA_EXIT_STORE;
        goto out;
    }
    if (sa_db_import_topics(db, &conf.kafka, conf.topic, conf.results_topic, errstr, sizeof(errstr)) < 0)
        sa_log_warn("web",
                    "importing the posts of the topics into the store: %s (tried again at the next start)",
                    errstr);
    srv = sa_web_server_start(&conf, db, errstr, sizeof(errstr));
    if (!srv) {
        sa_log_error("web", "%s", errstr);
        goto out;
    }
    sa_log_info("web", "serving http://%s/ (broker %s, topics %s and %s, store %s)", conf.http,
                sa_client_bootstrap(&conf.kafka), conf.topic, conf.results_topic, sa_db_url(db));
    sigset_t none;
    sigemptyset(&none);
    while (!stop_signal) sigsuspend(&none); /* returns after each handled signal */
    sa_log_info("web", "signal %d: stopping", (int)stop_signal);
    sa_web_server_stop(srv);
    srv = NULL;
    rc = SA_EXIT_OK;
out:
    sa_web_server_stop(srv);
    sa_db_close(db);
    sa_client_opts_free(&conf.kafka);
    sa_cfg_free(web_opts, &conf);
    return rc;
}

const sa_command_t sa_cmd_web = {"web", "the blog web server (default 127.0.0.1:8080)", run_web, &web_spec};
