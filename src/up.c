/*
 * up.c - `samsa up`: broker + web + worker + console for a laptop, in one command.
 *
 * Each part runs as a child process of this same binary (so a crash in one is contained and
 * every part is exactly what `samsa broker|web|worker` runs), with SAMSA_LOG_TAG set so the one
 * shared log stream says which part speaks.
 *
 * Order:
 *   1. check everything before starting anything: the three addresses parse and resolve (and
 *      differ), --db is a store URL, the data dir can be made and locked (DATA_DIR/up.lock,
 *      flock: a second `up` on it is told the pid and addresses of the first), and the ports are
 *      free (else: which pid holds them). A mistake costs one line on stderr and starts nothing;
 *   2. broker, wait until it accepts connections; then worker, web and console (the console on
 *      its own port, --console-http; --console-http none leaves it out);
 *   3. "samsa is up" only once all four answer: the web's /healthz is 200 (store open, broker
 *      reachable), its /api/stats counts a live worker in the group, and the console's /healthz
 *      is 200 (it has sampled the cluster).
 * Ctrl-C (SIGINT to the whole foreground group) or SIGTERM to this process stops console, web and
 * worker first, then the broker, so the worker's last commit still has a broker to land on. The
 * parts get SIGTERM when `up` dies in any way (PR_SET_PDEATHSIG), even by kill -9: none is
 * orphaned.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <jansson.h>
#include <netdb.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "commands.h"
#include "core/log.h"
#include "core/net.h"
#include "core/time.h"

#define READY_TIMEOUT_MS 60000 /* all three parts must answer within this after the start */

typedef struct up_conf_s {
    char *data_dir;  /* broker data and the results log live below it */
    char *listen;    /* broker address */
    char *http;      /* web address */
    char *console;   /* console address, or "none" */
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
    {NULL, "console-http", 0, SA_CFG_STR, offsetof(up_conf_t, console), 0, 0, "127.0.0.1:8081", "HOST:PORT",
     "console address (its own port; none: no console); its lag history is DIR/console.db"},
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
    "up",
    "samsa up [--data-dir DIR] [--listen HOST:PORT] [--http HOST:PORT] [--console-http HOST:PORT] [--work-ms "
    "N]",
    "Start the broker, the web server, the worker and the console together; Ctrl-C stops them all cleanly.",
    up_opts,
    "example:\n  samsa up --data-dir /tmp/samsa --listen 127.0.0.1:19092 --http 127.0.0.1:18080 "
    "--console-http 127.0.0.1:18081 --work-ms 0"};

enum { PART_BROKER, PART_WORKER, PART_WEB, PART_CONSOLE, PART_COUNT };
static const char *const part_names[PART_COUNT] = {"broker", "worker", "web", "console"};
static pid_t pids[PART_COUNT];
static volatile sig_atomic_t stop_requested;

static void on_signal(int sig) { stop_requested = sig; }

static pid_t spawn(int part, char *const argv[]) {
    pid_t parent = getpid();
    pid_t pid = fork();
    if (pid < 0) {
        sa_log_error("up", "fork: %s", strerror(errno));
        return -1;
    }
    if (pid == 0) {
        /* die with `up`, whatever kills it; the check closes the race with a parent that died
         * between fork() and prctl() */
        prctl(PR_SET_PDEATHSIG, SIGTERM);
        if (getppid() != parent) _exit(1);
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

/* ---- checks before anything starts ---- */

/* Resolve HOST:PORT of @p flag into @p ss. @returns 0, or -1 after one line on stderr. */
static int resolve(const char *flag, const char *hostport, struct sockaddr_storage *ss, socklen_t *sslen) {
    char host[256], port_s[16];
    int port;
    if (sa_net_split_hostport(hostport, host, sizeof(host), &port) || port <= 0 || port > 65535) {
        fprintf(stderr, "samsa up: --%s: expected HOST:PORT (e.g. 127.0.0.1:8080), got \"%s\"\n", flag,
                hostport);
        return -1;
    }
    snprintf(port_s, sizeof(port_s), "%d", port);
    struct addrinfo hints = {.ai_socktype = SOCK_STREAM, .ai_flags = AI_PASSIVE}, *ai = NULL;
    int gai = getaddrinfo(host, port_s, &hints, &ai);
    if (gai || !ai) {
        fprintf(stderr, "samsa up: --%s %s: %s\n", flag, hostport, gai_strerror(gai));
        return -1;
    }
    memcpy(ss, ai->ai_addr, ai->ai_addrlen);
    *sslen = ai->ai_addrlen;
    freeaddrinfo(ai);
    return 0;
}

static int port_of(const struct sockaddr_storage *ss) {
    return ntohs(ss->ss_family == AF_INET6 ? ((const struct sockaddr_in6 *)ss)->sin6_port
                                           : ((const struct sockaddr_in *)ss)->sin_port);
}

/* The socket inode listening on TCP @p port, from /proc/net/tcp{,6}. @returns 0 if none found. */
static unsigned long listening_inode(int port) {
    static const char *const tables[] = {"/proc/net/tcp", "/proc/net/tcp6"};
    for (size_t t = 0; t < 2; t++) {
        FILE *f = fopen(tables[t], "r");
        if (!f) continue;
        char line[512];
        unsigned long found = 0;
        if (!fgets(line, sizeof(line), f)) line[0] = '\0'; /* the header line */
        while (!found && fgets(line, sizeof(line), f)) {
            char local[64];
            unsigned st;
            unsigned long inode;
            /* sl local rem st tx:rx tr:when retrnsmt uid timeout inode */
            if (sscanf(line, " %*s %63s %*s %x %*s %*s %*s %*s %*s %lu", local, &st, &inode) != 3) continue;
            const char *colon = strrchr(local, ':');
            if (st == 0x0A && colon && (int)strtol(colon + 1, NULL, 16) == port) found = inode;
        }
        fclose(f);
        if (found) return found;
    }
    return 0;
}

/* Describe who holds TCP @p port ("pid 1234 (samsa broker --listen ...)") into @p out; "" when
 * it cannot be seen (another user's process). */
static void port_holder(int port, char *out, size_t size) {
    out[0] = '\0';
    unsigned long inode = listening_inode(port);
    if (!inode) return;
    char want[64];
    snprintf(want, sizeof(want), "socket:[%lu]", inode);
    DIR *proc = opendir("/proc");
    struct dirent *pe;
    while (proc && !out[0] && (pe = readdir(proc))) {
        if (pe->d_name[0] < '1' || pe->d_name[0] > '9') continue;
        char path[600], link[64];
        snprintf(path, sizeof(path), "/proc/%s/fd", pe->d_name);
        DIR *fds = opendir(path);
        struct dirent *fe;
        while (fds && !out[0] && (fe = readdir(fds))) {
            snprintf(path, sizeof(path), "/proc/%s/fd/%s", pe->d_name, fe->d_name);
            ssize_t n = readlink(path, link, sizeof(link) - 1);
            if (n <= 0) continue;
            link[n] = '\0';
            if (strcmp(link, want)) continue;
            char cmd[160] = "";
            snprintf(path, sizeof(path), "/proc/%s/cmdline", pe->d_name);
            FILE *f = fopen(path, "r");
            size_t got = f ? fread(cmd, 1, sizeof(cmd) - 1, f) : 0;
            if (f) fclose(f);
            for (size_t i = 0; i < got; i++)
                if (!cmd[i]) cmd[i] = ' ';
            while (got && cmd[got - 1] == ' ') got--;
            cmd[got] = '\0';
            snprintf(out, size, "pid %.16s (%.200s)", pe->d_name, cmd);
        }
        if (fds) closedir(fds);
    }
    if (proc) closedir(proc);
}

/* @returns 0 if nothing listens on @p ss, else -1 after one line on stderr saying who does. */
static int port_free(const char *flag, const char *hostport, const struct sockaddr_storage *ss,
                     socklen_t sslen) {
    int fd = socket(ss->ss_family, SOCK_STREAM | SOCK_CLOEXEC, 0), one = 1, rc = -1;
    if (fd < 0) {
        fprintf(stderr, "samsa up: socket: %s\n", strerror(errno));
        return -1;
    }
    setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one)); /* as the servers bind */
    if (bind(fd, (const struct sockaddr *)ss, sslen) == 0) {
        rc = 0;
    } else if (errno == EADDRINUSE) {
        char who[256];
        port_holder(port_of(ss), who, sizeof(who));
        fprintf(stderr, "samsa up: --%s %s is in use%s%s; stop it or choose another address\n", flag,
                hostport, who[0] ? " by " : "", who);
    } else {
        fprintf(stderr, "samsa up: --%s %s: cannot listen there: %s\n", flag, hostport, strerror(errno));
    }
    close(fd);
    return rc;
}

/* Lock DATA_DIR/up.lock for this `up` and write who holds it. @returns the fd (kept open for
 * the lifetime of `up`; closing it releases the lock), or -1 after one line on stderr. */
static int lock_data_dir(const up_conf_t *c) {
    char path[4200];
    snprintf(path, sizeof(path), "%s/up.lock", c->data_dir);
    int fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0644);
    if (fd < 0) {
        fprintf(stderr, "samsa up: %s: %s\n", path, strerror(errno));
        return -1;
    }
    if (flock(fd, LOCK_EX | LOCK_NB)) {
        char who[512] = "";
        ssize_t n = pread(fd, who, sizeof(who) - 1, 0);
        who[n > 0 ? n : 0] = '\0';
        who[strcspn(who, "\n")] = '\0';
        fprintf(stderr,
                "samsa up: the data dir %s is in use by another samsa up%s%s%s; stop it or use another "
                "--data-dir\n",
                c->data_dir, who[0] ? " (" : "", who, who[0] ? ")" : "");
        close(fd);
        return -1;
    }
    char who[600];
    int len = snprintf(who, sizeof(who), "pid %d, broker %s, web http://%s/, console %s\n", (int)getpid(),
                       c->listen, c->http, c->console);
    if (ftruncate(fd, 0) || pwrite(fd, who, (size_t)len, 0) != len)
        sa_log_warn("up", "%s: cannot record the pid: %s", path, strerror(errno));
    return fd;
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

/* ---- readiness ---- */

/* GET @p path from the web server at @p ss; the body (NUL-terminated) into @p body.
 * @returns the HTTP status, or -1. */
static int http_get(const struct sockaddr_storage *ss, socklen_t sslen, const char *path, char *body,
                    size_t size) {
    struct sockaddr_storage to = *ss;
    /* a wildcard listen address is reached on loopback */
    if (to.ss_family == AF_INET && ((struct sockaddr_in *)&to)->sin_addr.s_addr == htonl(INADDR_ANY))
        ((struct sockaddr_in *)&to)->sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if (to.ss_family == AF_INET6 && IN6_IS_ADDR_UNSPECIFIED(&((struct sockaddr_in6 *)&to)->sin6_addr))
        ((struct sockaddr_in6 *)&to)->sin6_addr = in6addr_loopback;
    int fd = socket(to.ss_family, SOCK_STREAM | SOCK_CLOEXEC, 0), status = -1;
    if (fd < 0) return -1;
    struct timeval tv = {2, 0};
    setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
    setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv));
    char req[256], resp[8192];
    int n = snprintf(req, sizeof(req), "GET %s HTTP/1.0\r\nHost: localhost\r\n\r\n", path);
    size_t got = 0;
    if (connect(fd, (struct sockaddr *)&to, sslen) || write(fd, req, (size_t)n) != n) goto out;
    for (ssize_t r; got < sizeof(resp) - 1 && (r = read(fd, resp + got, sizeof(resp) - 1 - got)) > 0;)
        got += (size_t)r;
    resp[got] = '\0';
    if (sscanf(resp, "HTTP/%*s %d", &status) != 1) status = -1;
    const char *b = strstr(resp, "\r\n\r\n");
    snprintf(body, size, "%s", b ? b + 4 : "");
out:
    close(fd);
    return status;
}

/* Wait until the web server says the store and broker answer (/healthz 200) and a worker is in
 * the group (/api/stats "workers" >= 1), watching the children meanwhile.
 * @returns 0 when ready; -1 on a stop request, a child's exit (logged by reap) or the deadline. */
static int wait_ready(const struct sockaddr_storage *ss, socklen_t sslen, const struct sockaddr_storage *css,
                      socklen_t csslen, int timeout_ms) {
    int64_t deadline = sa_mono_ms() + timeout_ms;
    const char *missing = "the web server's /healthz";
    for (;;) {
        char body[8192];
        if (http_get(ss, sslen, "/healthz", body, sizeof(body)) == 200) {
            missing = "a worker in the consumer group";
            if (http_get(ss, sslen, "/api/stats", body, sizeof(body)) == 200) {
                json_t *st = json_loads(body, 0, NULL);
                json_int_t workers = json_integer_value(json_object_get(st, "workers"));
                json_decref(st);
                missing = "the console's /healthz";
                if (workers >= 1 && (!css || http_get(css, csslen, "/healthz", body, sizeof(body)) == 200))
                    return 0;
            }
        }
        if (stop_requested || reap() >= 0) return -1;
        if (sa_mono_ms() >= deadline) {
            sa_log_error("up", "not ready within %d ms: still waiting for %s", timeout_ms, missing);
            return -1;
        }
        sa_sleep_ms(100);
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
    int lock_fd = -1;
    int first, rc = sa_cli_parse(&up_spec, &conf, argc, argv, &first);
    if (rc >= 0) goto out;
    rc = SA_EXIT_USAGE;
    if (first < argc) {
        fprintf(stderr, "samsa up: unexpected argument \"%s\"\n", argv[first]);
        goto out;
    }
    if (sa_cli_apply_logging(conf.log_level, conf.debug)) goto out;
    struct sockaddr_storage listen_ss, http_ss, console_ss;
    socklen_t listen_len, http_len, console_len = 0;
    int console = strcmp(conf.console, "none") != 0;
    if (resolve("listen", conf.listen, &listen_ss, &listen_len) ||
        resolve("http", conf.http, &http_ss, &http_len) ||
        (console && resolve("console-http", conf.console, &console_ss, &console_len)))
        goto out;
    if (port_of(&listen_ss) == port_of(&http_ss)) {
        fprintf(stderr, "samsa up: --listen and --http cannot share port %d\n", port_of(&http_ss));
        goto out;
    }
    if (console &&
        (port_of(&console_ss) == port_of(&http_ss) || port_of(&console_ss) == port_of(&listen_ss))) {
        fprintf(stderr, "samsa up: --console-http cannot share port %d with --listen or --http\n",
                port_of(&console_ss));
        goto out;
    }
    if (*conf.db && strncmp(conf.db, "sqlite:", 7) && strncmp(conf.db, "postgresql://", 13) &&
        strncmp(conf.db, "postgres://", 11)) {
        fprintf(stderr, "samsa up: --db: expected sqlite:PATH or postgresql://..., got \"%s\"\n", conf.db);
        goto out;
    }
    rc = SA_EXIT_FAIL;

    if (mkdir(conf.data_dir, 0755) && errno != EEXIST) {
        fprintf(stderr, "samsa up: cannot create the data dir %s: %s\n", conf.data_dir, strerror(errno));
        goto out;
    }
    if ((lock_fd = lock_data_dir(&conf)) < 0) goto out;
    if (port_free("listen", conf.listen, &listen_ss, listen_len) ||
        port_free("http", conf.http, &http_ss, http_len) ||
        (console && port_free("console-http", conf.console, &console_ss, console_len)))
        goto out;
    char broker_dir[4096], results[4096], db_url[4200], work_ms[32], history[4200];
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
    snprintf(history, sizeof(history), "%s/console.db", conf.data_dir);

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
    char *console_argv[] = {"samsa",       "console",      "-b",      conf.listen, "--http",    conf.console,
                            "--log-level", conf.log_level, "--debug", conf.debug,  "--history", history,
                            NULL};
    if (spawn(PART_WORKER, worker_argv) < 0 || spawn(PART_WEB, web_argv) < 0 ||
        (console && spawn(PART_CONSOLE, console_argv) < 0) || wait_listening(PART_WEB, conf.http, 15000) ||
        (console && wait_listening(PART_CONSOLE, conf.console, 15000)) ||
        wait_ready(&http_ss, http_len, console ? &console_ss : NULL, console_len, READY_TIMEOUT_MS))
        goto stop;
    char host[256];
    int port;
    sa_net_split_hostport(conf.http, host, sizeof(host), &port);
    printf("samsa is up: open http://%s:%d/  (broker %s, data in %s; Ctrl-C stops)\n",
           strcmp(host, "0.0.0.0") ? host : "localhost", port, conf.listen, conf.data_dir);
    if (console) {
        sa_net_split_hostport(conf.console, host, sizeof(host), &port);
        printf("the console: http://%s:%d/\n", strcmp(host, "0.0.0.0") ? host : "localhost", port);
    }
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
    stop_part(PART_CONSOLE, 10000);
    stop_part(PART_WEB, 10000);
    stop_part(PART_WORKER, 15000);
    stop_part(PART_BROKER, 15000);
out:
    if (lock_fd >= 0) close(lock_fd); /* releases the data dir */
    sa_cfg_free(up_opts, &conf);
    return rc;
}

const sa_command_t sa_cmd_up = {"up", "broker + web + worker + console in one command, prints the URLs",
                                run_up, &up_spec};
