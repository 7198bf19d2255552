#include "harness.h"

#include <arpa/inet.h>
#include <errno.h>
#include <ftw.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

int64_t th_now_ms(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

int th_scaled_ms(int ms) {
    const char *s = getenv("TEST_TIMEOUT_SCALE");
    double f = s ? atof(s) : 1.0;
    return (int)(ms * (f > 0 ? f : 1.0));
}

int th_free_port(void) {
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in sin = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    socklen_t len = sizeof(sin);
    if (fd < 0 || bind(fd, (struct sockaddr *)&sin, sizeof(sin)) ||
        getsockname(fd, (struct sockaddr *)&sin, &len)) {
        perror("th_free_port");
        abort();
    }
    close(fd);
    return ntohs(sin.sin_port);
}

const char *th_samsa(void) {
    const char *s = getenv("SAMSA");
    return s ? s : "build/samsa";
}

int th_mkdtemp(char *out, size_t size, const char *prefix) {
    const char *tmp = getenv("TMPDIR");
    snprintf(out, size, "%s/samsa-%s-XXXXXX", tmp ? tmp : "/tmp", prefix);
    return mkdtemp(out) ? 0 : -1;
}

static int rm_one(const char *path, const struct stat *st, int flag, struct FTW *ftw) {
    (void)st, (void)flag, (void)ftw;
    return remove(path);
}

void th_rmtree(const char *path) { nftw(path, rm_one, 16, FTW_DEPTH | FTW_PHYS); }

pid_t th_spawn(const char *const argv[]) {
    size_t n = 0;
    while (argv[n]) n++;
    char **full = calloc(n + 2, sizeof(char *));
    full[0] = (char *)"samsa";
    for (size_t i = 0; i < n; i++) full[i + 1] = (char *)argv[i];
    pid_t pid = fork();
    if (pid == 0) {
        /* Die with the test: a test that fails half-way must not leave a broker behind holding
         * ctest's output pipe open (ctest would then wait for its timeout). */
        prctl(PR_SET_PDEATHSIG, SIGKILL);
        execv(th_samsa(), full);
        fprintf(stderr, "exec %s: %s\n", th_samsa(), strerror(errno));
        _exit(127);
    }
    free(full);
    return pid;
}

static int port_open(int port) {
    struct sockaddr_in sin = {
        .sin_family = AF_INET, .sin_port = htons((uint16_t)port), .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd < 0) return 0;
    int ok = connect(fd, (struct sockaddr *)&sin, sizeof(sin)) == 0;
    close(fd);
    return ok;
}

int th_wait_port(int port, int timeout_ms) { return TH_WAIT_UNTIL(port_open(port), timeout_ms) ? 0 : -1; }

/* Wait until @p proc listens; a broker that exits first (port taken, bad flags) fails at once
 * with its exit status instead of after the whole deadline. */
static int wait_listening(th_proc_t *proc, int timeout_ms) {
    int status = 0, exited = 0;
    if (TH_WAIT_UNTIL(port_open(proc->port) || (exited = waitpid(proc->pid, &status, WNOHANG) == proc->pid),
                      timeout_ms) &&
        !exited)
        return 0;
    if (exited) {
        fprintf(stderr, "harness: the broker exited (%s %d) before listening on %s\n",
                WIFSIGNALED(status) ? "signal" : "status",
                WIFSIGNALED(status) ? WTERMSIG(status) : WEXITSTATUS(status), proc->addr);
        proc->pid = 0;
    }
    return -1;
}

static int broker_spawn(th_proc_t *proc, const char *const extra[]) {
    const char *argv[64];
    size_t n = 0;
    char listen[80];
    snprintf(listen, sizeof(listen), "127.0.0.1:%d", proc->port);
    argv[n++] = "broker";
    argv[n++] = "--listen";
    argv[n++] = listen;
    argv[n++] = "--data-dir";
    argv[n++] = proc->data_dir;
    for (size_t i = 0; extra && extra[i] && n < 62; i++) argv[n++] = extra[i];
    argv[n] = NULL;
    proc->pid = th_spawn(argv);
    if (proc->pid < 0 || wait_listening(proc, 20000)) {
        fprintf(stderr, "harness: broker did not start listening on %s\n", proc->addr);
        return -1;
    }
    return 0;
}

int th_broker_start(th_proc_t *proc, const char *data_dir, const char *const extra[]) {
    memset(proc, 0, sizeof(*proc));
    proc->port = th_free_port();
    snprintf(proc->addr, sizeof(proc->addr), "127.0.0.1:%d", proc->port);
    if (data_dir) {
        snprintf(proc->data_dir, sizeof(proc->data_dir), "%s", data_dir);
    } else {
        if (th_mkdtemp(proc->data_dir, sizeof(proc->data_dir), "broker")) return -1;
        proc->own_data_dir = 1;
    }
    return broker_spawn(proc, extra);
}

int th_broker_restart(th_proc_t *proc, const char *const extra[]) {
    if (proc->pid) {
        /* The running broker keeps the port and the data dir's lock: the new one would exit at
         * once while the port still answers, and the test would go on talking to the old one. */
        fprintf(stderr, "harness: restart of a broker that is still running (pid %d): stop it first\n",
                (int)proc->pid);
        return -1;
    }
    return broker_spawn(proc, extra);
}

int th_proc_stop(th_proc_t *proc, int sig) {
    int status = 0;
    if (!proc->pid) return 0;
    kill(proc->pid, sig);
    int64_t deadline = th_now_ms() + th_scaled_ms(20000);
    for (;;) {
        pid_t r = waitpid(proc->pid, &status, WNOHANG);
        if (r == proc->pid || r < 0) break;
        if (th_now_ms() >= deadline) {
            fprintf(stderr, "harness: pid %d ignored signal %d, killing it\n", (int)proc->pid, sig);
            kill(proc->pid, SIGKILL);
            waitpid(proc->pid, &status, 0);
            break;
        }
        usleep(10000);
    }
    proc->pid = 0;
    return status;
}

void th_proc_cleanup(th_proc_t *proc) {
    th_proc_stop(proc, SIGTERM);
    if (proc->own_data_dir) th_rmtree(proc->data_dir);
    proc->own_data_dir = 0;
}
