/*
 * cmd_worker.c - `samsa worker`: flags, signals, then sa_worker_run().
 *
 * The signal handler only sets `stop`; the worker finishes the post in hand, commits, leaves the
 * group and returns, so Ctrl-C and SIGTERM (what `samsa up` sends) always stop cleanly.
 */
#include <signal.h>
#include <stddef.h>
#include <string.h>

#include "blog/worker/worker.h"
#include "blog/worker/worker_txn.h"
#include "commands.h"
#include "core/log.h"

static const sa_cfg_opt_t worker_opts[] = {
    SA_CLIENT_OPTS(sa_worker_conf_t, kafka),
    {"group", "group", 'g', SA_CFG_STR, offsetof(sa_worker_conf_t, group), 0, 0, "blog_group", "GROUP",
     "consumer group"},
    {"topic", "topic", 't', SA_CFG_STR, offsetof(sa_worker_conf_t, topic), 0, 0, "blog_operations", "TOPIC",
     "topic of post operations to score"},
    {"results.topic", "results-topic", 0, SA_CFG_STR, offsetof(sa_worker_conf_t, results_topic), 0, 0,
     "blog_results", "TOPIC", "topic the results are published to (key = post id)"},
    {"errors.topic", "errors-topic", 0, SA_CFG_STR, offsetof(sa_worker_conf_t, errors_topic), 0, 0,
     "blog_errors", "TOPIC", "dead-letter topic for records the worker cannot process"},
    {"results.log", "results-log", 0, SA_CFG_STR, offsetof(sa_worker_conf_t, results_log), 0, 0,
     "samsa-data/results.jsonl", "PATH", "JSON Lines results log, each post exactly once (fdatasync'd)"},
    {"db", "db", 0, SA_CFG_STR, offsetof(sa_worker_conf_t, db), 0, 0, "sqlite:samsa-data/blog.db", "URL",
     "the blog's store: sqlite:PATH (shared with samsa web on one machine) or postgresql://..."},
    {"exactly.once", "exactly-once", 0, SA_CFG_STR, offsetof(sa_worker_conf_t, exactly_once), 0, 0, "store",
     "store|txn",
     "store: the store's transaction holds verdicts and consumed offsets, blog_results is at-least-once; "
     "txn: also one Kafka transaction per batch holds the results and the consumed offsets, so "
     "read_committed readers see each result on blog_results exactly once (worker.h)"},
    {"work.ms", "work-ms", 0, SA_CFG_MS, offsetof(sa_worker_conf_t, work_ms), 0, 3600000, "0", "MS",
     "simulated heavy processing per post (samsa up uses 1000)"},
    {"partitions", "partitions", 'p', SA_CFG_INT, offsetof(sa_worker_conf_t, partitions), 1, 10000, "3", "N",
     "partitions of blog_operations and blog_results when the worker creates them"},
    {"worker.id", "worker-id", 0, SA_CFG_STR, offsetof(sa_worker_conf_t, worker_id), 0, 0, "", "NAME",
     "name in the results and logs (with --exactly-once txn also the transactional.id's); empty: "
     "hostname-pid"},
    {"max.value.bytes", "max-value-bytes", 0, SA_CFG_SIZE, offsetof(sa_worker_conf_t, max_value_bytes), 1,
     1073741824, "1m", "BYTES", "larger operation values go to the dead-letter topic unparsed"},
    {"recent.posts", "recent-posts", 0, SA_CFG_INT, offsetof(sa_worker_conf_t, recent), 1, 10000000, "1000",
     "N", "recent posts compared for near-duplicates (rebuilt from the results log at start)"},
    {NULL, "config", 'c', SA_CFG_FILE, offsetof(sa_worker_conf_t, config), 0, 0, NULL, "FILE",
     "a .properties file with any of the settings above (flags override it)"},
    {"log.level", "log-level", 0, SA_CFG_STR, offsetof(sa_worker_conf_t, log_level), 0, 0, "info", "LEVEL",
     "error, warn, info or debug"},
    {"debug", "debug", 0, SA_CFG_STR, offsetof(sa_worker_conf_t, debug), 0, 0, "", "LIST",
     "debug subsystems: worker,client or all"},
    {0}};

static const sa_cfg_cmd_t worker_spec = {
    "worker",
    "samsa worker [-b HOST:PORT] [-X KEY=VALUE ...] [-F FILE] [--group G] [--db URL] [--results-log PATH] "
    "[--work-ms N] [--exactly-once store|txn] [OPTIONS]",
    "Score blog posts from blog_operations in consumer group blog_group: store each verdict with the "
    "consumed offsets in one transaction (--db), append it once to the results log (fdatasync'd), publish it "
    "to blog_results (with --exactly-once txn: in a Kafka transaction with the consumed offsets). Records "
    "that are not valid posts go to blog_errors. Ctrl-C/SIGTERM finishes the current "
    "post, commits and leaves the group. Exit status 3: the store cannot be opened.",
    worker_opts, "example:\n  samsa worker -b 127.0.0.1:19092 --results-log /tmp/results.jsonl --work-ms 0"};

static volatile sig_atomic_t stop;

static void on_signal(int sig) { stop = sig; }

static int run_worker(int argc, char **argv) {
    sa_worker_conf_t conf;
    memset(&conf, 0, sizeof(conf));
    int first = 0, rc = sa_cli_parse(&worker_spec, &conf, argc, argv, &first);
    if (rc >= 0) goto out;
    rc = SA_EXIT_USAGE;
    if (first < argc) {
        fprintf(stderr, "samsa worker: unexpected argument \"%s\"\n", argv[first]);
        goto out;
    }
    if (strcmp(conf.exactly_once, "store") && strcmp(conf.exactly_once, "txn")) {
        fprintf(stderr, "samsa worker: --exactly-once: expected store or txn, got \"%s\"\n",
                conf.exactly_once);
        goto out;
    }
    if (sa_cli_apply_logging(conf.log_level, conf.debug)) goto out;
    sa_client_role_t roles[SA_WORKER_CLIENTS];
    sa_worker_clients(&conf, roles);
    if ((rc = sa_client_setup("worker", &conf.kafka, roles, SA_WORKER_CLIENTS)) >= 0) goto out;
    rc = SA_EXIT_USAGE;
    if (strcmp(conf.exactly_once, "txn") && sa_worker_txn_user_id(&conf)) {
        fprintf(stderr, "samsa worker: transactional.id (-X/-F) goes with --exactly-once txn\n");
        goto out;
    }
    struct sigaction sa;
    memset(&sa, 0, sizeof(sa));
    sa.sa_handler = on_signal; /* no SA_RESTART: a blocking poll returns at once */
    sigaction(SIGINT, &sa, NULL);
    sigaction(SIGTERM, &sa, NULL);
    signal(SIGPIPE, SIG_IGN);
    rc = sa_worker_run(&conf, &stop);
out:
    sa_client_opts_free(&conf.kafka);
    sa_cfg_free(worker_opts, &conf);
    return rc;
}

const sa_command_t sa_cmd_worker = {"worker", "the scoring worker (group blog_group on blog_operations)",
                                    run_worker, &worker_spec};
