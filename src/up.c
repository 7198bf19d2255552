/*
 * up.c - `samsa up`: broker + web + worker for a laptop, in one command.
 *
 * Each part runs as a child process of this same binary (so a crash in one is contained and
 * every part is exactly what `samsa broker|web|worker` runs), with SAMSA_LOG_TAG set so the one
 * shared log stream says which part speaks. Start order: broker, wait until it accepts
 * connections, then worker and web; print the URL once the web server accepts connections.
 * Ctrl-C (SIGINT to the whole foreground group) or SIGTERM to this process stops web and worker
 * first, then the broker, so the worker's last commit still has a broker to land on.
 */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "commands.h"
#include "core/log.h"
#include "core/net.h"
#include "core/time.h"

typedef struct up_conf_s {
    char *data_dir;  /* broker data and the results log live below it */
    char *listen;    /* broker address */
    char *http;      /* web address */
    char *db;        /* the store's URL; "" = sqlite:DATA_DIR/blog.db */
    int64_t work_ms; /* simulated heavy step of the worker */
    char *log_level;
    char *debug;
} up_conf_t;

static const sa_cfg_opt_t up_opts[] = {
    {NULL, "data-dir", 'd', SA_CFG_STR, offsetof(up_conf_t, data_dir), 0, 0, "samsa-data", "DIR",
     "data directory: broker logs in DIR/broker, store DIR/blog.db, results log DIR/results.jsonl"},
    {NULL, "listen", 'l', SA_CFG_STR, offsetof(up_conf_t, listen), 0, 0, "127.0.0.1:9092", "HOST:PORT",
     "broker address"},
    {NULL, "http", 0, SA_CFG_STR, offsetof(up_conf_t, http), 0, 0, "127.0.0.1:8080", "HOST:PORT",
     "web server address"},
    {NULL, "db", 0, SA_CFG_STR, offsetof(up_conf_t, db), 0, 0, "", "URL",
     "the blog's store for web and worker (default sqlite:DIR/blog.db; or postgresql://...)"},
    {NULL, "work-ms", 0, SA_CFG_MS, offsetof(up_conf_t, work_ms), 0, 3600000, "1000", "MS",
     "simulated heavy processing per post in the worker"},
    {NULL, "log-level", 0, SA_CFG_STR, offsetof(up_conf_t, log_level), 0, 0, "info", "LEVEL",
     "error, warn, info or debug"},
    {NULL, "debug", 0, SA_CFG_STR, offsetof(up_conf_t, debug), 0, 0, "", "LIST",
     "debug subsystems: net,proto,storage,group,http,worker,client or all"},
    {0}};

static const sa_cfg_cmd_t up_spec = {
    "up", "samsa up [--data-dir DIR] [--listen HOST:PORT] [--http HOST:PORT] [--work-ms N]",
    "Start the broker, the web server and the worker together; Ctrl-C stops all three cleanly.", up_opts,
    "example:\n  samsa up --data-dir /tmp/samsa --listen 127.0.0.1:19092 --http 127.0.0.1:18080 --work-ms 0"};

enum { PART_BROKER, PART_WORKER, PART_WEB, PART_COUNT };
static const char *const part_names[PART_COUNT] = {"broker", "worker", "web"};
static pid_t pids[PART_COUNT];
static volatile sig_atomic_t stop_requested;

static void on_signal(int sig) { stop_requested = sig; }

static pid_t spawn(int part, char *const argv[]) {
    pid_t pid = fork();
    if (pid < 0) {
        sa_log_error("up", "fork: %s", strerror(errno));
        return -1;
    }
    if (pid == 0) {
        signal(SIGINT, SIG_DFL);
        signal(SIGTERM, SIG_DFL);
        setenv("SAMSA_LOG_TAG", part_names[part], 1);
        execv("/proc/self/exe", argv);
        fprintf(stderr, "samsa up: exec %s: %s\n", part_names[part], strerror(errno));
        _exit(127);
    }
    pids[part] = pid;
    return pid;
}

/* Reap children that exited; @returns the part of the first unexpected exit, or -1. */
static int reap(void) {
    int died = -1, status;
    pid_t pid;
    while ((pid = waitpid(-1, &status, WNOHANG)) > 0)
        for (int p = 0; p < PART_COUNT; p++)
            if (pids[p] == pid) {
                pids[p] = 0;
                /* After Ctrl-C the parts stop on their own (the signal reaches the whole group). */
                sa_log_level_t level = stop_requested ? SA_LOG_INFO : SA_LOG_ERROR;
                if (WIFSIGNALED(status))
                    sa_log_(level, "up", "%s was killed by signal %d", part_names[p], WTERMSIG(status));
                else
                    sa_log_(level, "up", "%s exited with status %d", part_names[p], WEXITSTATUS(status));
                if (died < 0) died = p;
            }
    return died;
}

/* Wait until @p part accepts connections on @p addr, watching the children meanwhile: a part
 * that dies during start-up (port taken, data dir unusable) or a Ctrl-C ends the wait at once.
 * @returns 0 when listening; -1 on a stop request, a child's exit (logged by reap) or the
 * deadline. */
static int wait_listening(int part, const char *addr, int timeout_ms) {
    int64_t deadline = sa_mono_ms() + timeout_ms;
    for (;;) {
        if (sa_net_wait_listening(addr, 0) == 0) return 0; /* one attempt */
        if (stop_requested || reap() >= 0) return -1;
        if (sa_mono_ms() >= deadline) {
            sa_log_error("up", "the %s did not start listening on %s within %d ms", part_names[part], addr,
                         timeout_ms);
            return -1;
        }
        sa_sleep_ms(50);
    }
}

static void stop_part(int part, int timeout_ms) {
    if (!pids[part]) return;
    kill(pids[part], SIGTERM);
    int64_t deadline = sa_mono_ms() + timeout_ms;
    int status;
    while (sa_mono_ms() < deadline) {
        if (waitpid(pids[part], &status, WNOHANG) == pids[part]) {
            pids[part] = 0;
            return;
        }
        sa_sleep_ms(20);
    }
    sa_log_warn("up", "%s did not stop within %d ms; killing it", part_names[part], timeout_ms);
    kill(pids[part], SIGKILL);
    waitpid(pids[part], &status, 0);
    pids[part] = 0;
}

static int run_up(int argc, char **argv) {
    up_conf_t conf = {0};
    int first, rc = sa_cli_parse(&up_spec, &conf, argc, argv, &first);
    if (rc >= 0) goto out;
    rc = SA_EXIT_USAGE;
    if (first < argc) {
        fprintf(stderr, "samsa up: unexpected argument \"%s\"\n", argv[first]);
        goto out;
    }
    if (sa_cli_apply_logging(conf.log_level, conf.debug)) goto out;
    rc = SA_EXIT_FAIL;

    if (mkdir(conf.data_dir, 0755) && errno != EEXIST) {
        sa_log_error("up", "cannot create data directory %s: %s", conf.data_dir, strerror(errno));
        goto out;
    }
    char broker_dir[4096], results[4096], db_url[4200], work_ms[32];
    if ((size_t)snprintf(results, sizeof(results), "%s/results.jsonl", conf.data_dir) >= sizeof(results)) {
        sa_log_error("up", "--data-dir is too long (%zu bytes)", strlen(conf.data_dir));
        goto out;
    }
    snprintf(broker_dir, sizeof(broker_dir), "%s/broker", conf.data_dir); /* shorter: fits */
    if (*conf.db)
        snprintf(db_url, sizeof(db_url), "%s", conf.db);
    else
        snprintf(db_url, sizeof(db_url), "sqlite:%s/blog.db", conf.data_dir);
    snprintf(work_ms, sizeof(work_ms), "%lld", (long long)conf.work_ms);

    struct sigaction sa = {.sa_handler = on_signal};
    sigaction(SIGINT, &sa, NULL);
    sigaction(SIGTERM, &sa, NULL);

    char *broker_argv[] = {"samsa",       "broker",       "--listen", conf.listen, "--data-dir", broker_dir,
                           "--log-level", conf.log_level, "--debug",  conf.debug,  NULL};
    if (spawn(PART_BROKER, broker_argv) < 0 || wait_listening(PART_BROKER, conf.listen, 15000)) goto stop;
    char *worker_argv[] = {"samsa",   "worker",        "-b",    conf.listen,   "--work-ms",
                           work_ms,   "--results-log", results, "--log-level", conf.log_level,
                           "--debug", conf.debug,      "--db",  db_url,        NULL};
    char *web_argv[] = {"samsa",       "web",          "-b",      conf.listen, "--http", conf.http,
                        "--log-level", conf.log_level, "--debug", conf.debug,  "--db",   db_url,
                        NULL};
    if (spawn(PART_WORKER, worker_argv) < 0 || spawn(PART_WEB, web_argv) < 0 ||
        wait_listening(PART_WEB, conf.http, 15000))
        goto stop;
    char host[256];
    int port;
    sa_net_split_hostport(conf.http, host, sizeof(host), &port);
    printf("samsa is up: open http://%s:%d/  (broker %s, data in %s; Ctrl-C stops)\n",
           strcmp(host, "0.0.0.0") ? host : "localhost", port, conf.listen, conf.data_dir);
    fflush(stdout);

    while (!stop_requested) {
        if (reap() >= 0) goto stop;
        sa_sleep_ms(100);
    }
stop:
    /* A stop the user asked for is a success, even during start-up; a part's death is not. */
    if (stop_requested) {
        sa_log_info("up", "stopping (signal %d)", (int)stop_requested);
        rc = SA_EXIT_OK;
    }
    stop_part(PART_WEB, 10000);
    stop_part(PART_WORKER, 15000);
    stop_part(PART_BROKER, 15000);
out:
    sa_cfg_free(up_opts, &conf);
    return rc;
}

const sa_command_t sa_cmd_up = {"up", "broker + web + worker in one command, prints the URL", run_up,
                                &up_spec};
