/*
 * bench_web.c - load generator for `samsa web`: acknowledged POST /api/posts per second and the
 * latency distribution, over keep-alive connections.
 *
 *   bench_web [--url HOST:PORT] [--connections N] [--seconds S] [--body BYTES]
 *
 * Without --url it starts its own `samsa broker` and `samsa web` on free ports ($SAMSA). Each
 * connection sends one request, waits for the whole answer (a 202 means the broker acknowledged
 * the post with acks=all), and sends the next: closed-loop load, one epoll thread.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "core/mem.h"
#include "harness.h"

typedef struct conn_s {
    int fd;
    int64_t t0_us; /* when the current request was sent */
    char in[8192];
    size_t in_len;
} conn_t;

static int64_t now_us(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
}

static int cmp_i64(const void *a, const void *b) {
    int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;
    return x < y ? -1 : x > y;
}

static int connect_to(const char *host, int port) {
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in sin = {.sin_family = AF_INET, .sin_port = htons((uint16_t)port)};
    inet_pton(AF_INET, host, &sin.sin_addr);
    if (connect(fd, (struct sockaddr *)&sin, sizeof(sin))) {
        close(fd);
        return -1;
    }
    int one = 1;
    setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
    fcntl(fd, F_SETFL, O_NONBLOCK);
    return fd;
}

/* @returns the length of one complete response at the start of @p buf, 0 if incomplete, -1 bad. */
static long complete(const char *buf, size_t len, int *status) {
    const char *end = memmem(buf, len, "\r\n\r\n", 4);
    if (!end) return 0;
    if (len < 12) return -1;
    *status = atoi(buf + 9);
    const char *cl = memmem(buf, (size_t)(end - buf), "Content-Length: ", 16);
    long body = cl ? atol(cl + 16) : 0;
    long total = (long)(end - buf) + 4 + body;
    return (long)len >= total ? total : 0;
}

int main(int argc, char **argv) {
    const char *url = NULL;
    int nconn = 32, seconds = 10, body_bytes = 300;
    for (int i = 1; i + 1 < argc; i += 2) {
        if (!strcmp(argv[i], "--url"))
            url = argv[i + 1];
        else if (!strcmp(argv[i], "--connections"))
            nconn = atoi(argv[i + 1]);
        else if (!strcmp(argv[i], "--seconds"))
            seconds = atoi(argv[i + 1]);
        else if (!strcmp(argv[i], "--body"))
            body_bytes = atoi(argv[i + 1]);
        else {
            fprintf(stderr,
                    "usage: bench_web [--url HOST:PORT] [--connections N] [--seconds S] [--body BYTES]\n");
            return 2;
        }
    }
    signal(SIGPIPE, SIG_IGN);
    th_proc_t broker = {0};
    pid_t web = 0;
    char addr[64];
    int rc = 1;
    if (!url) {
        if (th_broker_start(&broker, NULL, NULL)) return 1;
        int port = th_free_port();
        snprintf(addr, sizeof(addr), "127.0.0.1:%d", port);
        const char *argv_web[] = {"web", "-b", broker.addr, "--http", addr, "--log-level", "warn", NULL};
        web = th_spawn(argv_web);
        if (web < 0 || th_wait_port(port, th_scaled_ms(20000))) goto out;
        url = addr;
    }
    char host[64];
    int port;
    if (sscanf(url, "%63[^:]:%d", host, &port) != 2) goto out;

    char content[65536];
    if (body_bytes > (int)sizeof(content) - 1) body_bytes = (int)sizeof(content) - 1;
    for (int i = 0; i < body_bytes; i++) content[i] = "abcdefgh ij. "[i % 13];
    content[body_bytes] = '\0';
    char body[70000], req[72000];
    int blen = snprintf(body, sizeof(body),
                        "{\"title\":\"Benchmark post\",\"content\":\"%s\",\"author\":\"bench\"}", content);
    int rlen = snprintf(req, sizeof(req),
                        "POST /api/posts HTTP/1.1\r\nHost: %s\r\nContent-Type: application/json\r\n"
                        "Content-Length: %d\r\n\r\n%s",
                        url, blen, body);

    /* wait until the web server reaches the broker */
    for (int64_t deadline = now_us() + th_scaled_ms(20000) * 1000LL; now_us() < deadline; usleep(50000)) {
        int fd = connect_to(host, port);
        if (fd < 0) continue;
        fcntl(fd, F_SETFL, 0);
        const char get[] = "GET /healthz HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n";
        char resp[512] = {0};
        int ok = write(fd, get, sizeof(get) - 1) > 0 && read(fd, resp, sizeof(resp) - 1) > 12 &&
                 atoi(resp + 9) == 200;
        close(fd);
        if (ok) break;
    }

    int ep = epoll_create1(0);
    conn_t *conns = calloc((size_t)nconn, sizeof(conn_t));
    size_t lat_cap = 1 << 20, lat_n = 0, errors = 0;
    int64_t *lat = malloc(lat_cap * sizeof(int64_t));
    int64_t start = now_us(), stop = start + (int64_t)seconds * 1000000;
    for (int i = 0; i < nconn; i++) {
        conns[i].fd = connect_to(host, port);
        if (conns[i].fd < 0) {
            fprintf(stderr, "bench_web: cannot connect to %s\n", url);
            goto out;
        }
        struct epoll_event ev = {.events = EPOLLIN, .data.ptr = &conns[i]};
        epoll_ctl(ep, EPOLL_CTL_ADD, conns[i].fd, &ev);
        conns[i].t0_us = now_us();
        if (write(conns[i].fd, req, (size_t)rlen) != rlen) goto out; /* fits the socket buffer */
    }
    int active = nconn;
    while (active > 0) {
        struct epoll_event evs[256];
        int n = epoll_wait(ep, evs, 256, 1000);
        for (int e = 0; e < n; e++) {
            conn_t *c = evs[e].data.ptr;
            ssize_t r = read(c->fd, c->in + c->in_len, sizeof(c->in) - c->in_len);
            if (r <= 0) {
                if (r < 0 && errno == EAGAIN) continue;
                fprintf(stderr, "bench_web: connection closed by the server\n");
                goto out;
            }
            c->in_len += (size_t)r;
            int status = 0;
            long used;
            while ((used = complete(c->in, c->in_len, &status)) > 0) {
                int64_t t = now_us();
                if (status == 202) {
                    if (lat_n == lat_cap) lat = sa_realloc(lat, (lat_cap *= 2) * sizeof(int64_t));
                    lat[lat_n++] = t - c->t0_us;
                } else {
                    errors++;
                }
                memmove(c->in, c->in + used, c->in_len - (size_t)used);
                c->in_len -= (size_t)used;
                if (t < stop) {
                    c->t0_us = t;
                    if (write(c->fd, req, (size_t)rlen) != rlen) goto out;
                } else {
                    epoll_ctl(ep, EPOLL_CTL_DEL, c->fd, NULL);
                    active--;
                }
            }
            if (used < 0) goto out;
        }
    }
    double secs = (double)(now_us() - start) / 1e6;
    qsort(lat, lat_n, sizeof(int64_t), cmp_i64);
#define PCT(p) (lat_n ? (double)lat[(size_t)((double)(lat_n - 1) * (p))] / 1000.0 : 0.0)
    printf("bench_web: %d connections, %d s, body %d B: %zu acknowledged posts (202), %zu other answers\n",
           nconn, seconds, blen, lat_n, errors);
    printf("bench_web: %.0f posts/s  latency ms p50 %.2f  p90 %.2f  p99 %.2f  p99.9 %.2f  max %.2f\n",
           (double)lat_n / secs, PCT(0.50), PCT(0.90), PCT(0.99), PCT(0.999), PCT(1.0));
    rc = errors ? 1 : 0;
out:
    if (web > 0) {
        kill(web, SIGTERM);
        th_proc_t w = {.pid = web};
        th_proc_stop(&w, SIGTERM);
    }
    if (broker.pid) th_proc_cleanup(&broker);
    return rc;
}
