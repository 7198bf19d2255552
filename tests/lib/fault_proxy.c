/*
 * fault_proxy.c - see fault_proxy.h. A poll loop over: the wake pipe, the listening socket,
 * and both ends of every pair. Each direction has a small buffer; a side is only polled for
 * reading while its buffer is empty, so a slow reader slows its writer down (no unbounded
 * buffering). A cut, EOF or error on either side closes the whole pair.
 */
#include "fault_proxy.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#define MAX_PAIRS 256
#define BUF_SIZE  65536

typedef struct dir_s {
    char buf[BUF_SIZE];
    size_t len, off; /* bytes buffered, bytes of them already written */
} dir_t;

typedef struct pair_s {
    int fd[2];   /* 0: client side, 1: upstream side */
    dir_t to[2]; /* to[i]: bytes waiting to be written to fd[i] */
} pair_t;

static int64_t now_ms(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static int connect_upstream(int port) {
    int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd < 0) return -1;
    struct sockaddr_in sa = {.sin_family = AF_INET, .sin_port = htons((uint16_t)port)};
    sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if (connect(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0) {
        close(fd);
        return -1;
    }
    int one = 1;
    setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
    fcntl(fd, F_SETFL, O_NONBLOCK);
    return fd;
}

static void pair_close(pair_t *pr) {
    for (int i = 0; i < 2; i++) {
        if (pr->fd[i] < 0) continue;
        /* RST rather than FIN: the peer sees the connection die, not a polite close */
        struct linger lg = {1, 0};
        setsockopt(pr->fd[i], SOL_SOCKET, SO_LINGER, &lg, sizeof(lg));
        close(pr->fd[i]);
        pr->fd[i] = -1;
    }
}

/* Move bytes for one side: read from fd[i] into to[1-i], write to[i] into fd[i]. @returns -1 to close. */
static int pump(pair_t *pr, int i, short revents) {
    if (revents & (POLLERR | POLLNVAL)) return -1;
    if (revents & (POLLIN | POLLHUP)) {
        dir_t *d = &pr->to[1 - i];
        if (d->len == 0) {
            ssize_t n = read(pr->fd[i], d->buf, sizeof(d->buf));
            if (n == 0) return -1;
            if (n < 0 && errno != EAGAIN && errno != EINTR) return -1;
            if (n > 0) {
                d->len = (size_t)n;
                d->off = 0;
            }
        }
    }
    dir_t *w = &pr->to[i];
    while (w->off < w->len) {
        ssize_t n = write(pr->fd[i], w->buf + w->off, w->len - w->off);
        if (n < 0) {
            if (errno == EAGAIN || errno == EINTR) break;
            return -1;
        }
        w->off += (size_t)n;
    }
    if (w->off == w->len) w->len = w->off = 0;
    return 0;
}

static void *run(void *arg) {
    th_proxy_t *px = arg;
    pair_t *pairs = calloc(MAX_PAIRS, sizeof(*pairs));
    struct pollfd *pfd = calloc(2 + 2 * MAX_PAIRS, sizeof(*pfd));
    int npairs = 0;
    int64_t next_cut = 0;
    while (!px->_stop) {
        int64_t every = px->_cut_every_ms, now = now_ms();
        if (every > 0 && next_cut == 0) next_cut = now + every;
        if (every <= 0) next_cut = 0;
        if (px->_cut_now || (next_cut && now >= next_cut)) {
            px->_cut_now = 0;
            for (int k = 0; k < npairs; k++) pair_close(&pairs[k]);
            px->pairs_cut += (uint64_t)npairs;
            npairs = 0;
            px->cuts++;
            if (next_cut) next_cut = now + every;
        }
        int n = 0;
        pfd[n++] = (struct pollfd){px->_wake[0], POLLIN, 0};
        pfd[n++] = (struct pollfd){px->_listen_fd, npairs < MAX_PAIRS ? POLLIN : 0, 0};
        for (int k = 0; k < npairs; k++)
            for (int i = 0; i < 2; i++) {
                short ev = 0;
                if (pairs[k].to[1 - i].len == 0) ev |= POLLIN;
                if (pairs[k].to[i].len > pairs[k].to[i].off) ev |= POLLOUT;
                pfd[n++] = (struct pollfd){pairs[k].fd[i], ev, 0};
            }
        int timeout = next_cut ? (int)(next_cut - now_ms() > 0 ? next_cut - now_ms() : 0) : 200;
        if (poll(pfd, (nfds_t)n, timeout) < 0 && errno != EINTR) break;
        if (pfd[0].revents & POLLIN) {
            char junk[64];
            while (read(px->_wake[0], junk, sizeof(junk)) > 0) {
            }
        }
        /* pairs first (their pollfd indices are fixed), then compact, then accept */
        for (int k = 0; k < npairs; k++)
            for (int i = 0; i < 2; i++)
                if (pairs[k].fd[0] >= 0 && pump(&pairs[k], i, pfd[2 + 2 * k + i].revents) < 0)
                    pair_close(&pairs[k]);
        int live = 0;
        for (int k = 0; k < npairs; k++)
            if (pairs[k].fd[0] >= 0) pairs[live++] = pairs[k];
        npairs = live;
        if (pfd[1].revents & POLLIN) {
            int cfd = accept4(px->_listen_fd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
            if (cfd >= 0) {
                int ufd = connect_upstream(px->upstream_port);
                if (ufd < 0) {
                    close(cfd);
                } else {
                    int one = 1;
                    setsockopt(cfd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
                    memset(&pairs[npairs], 0, sizeof(pairs[npairs]));
                    pairs[npairs].fd[0] = cfd;
                    pairs[npairs].fd[1] = ufd;
                    npairs++;
                    px->accepted++;
                }
            }
        }
    }
    for (int k = 0; k < npairs; k++) pair_close(&pairs[k]);
    free(pairs);
    free(pfd);
    return NULL;
}

th_proxy_t *th_proxy_start_on(int port, int upstream_port) {
    th_proxy_t *px = calloc(1, sizeof(*px));
    px->upstream_port = upstream_port;
    px->_listen_fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
    int one = 1;
    setsockopt(px->_listen_fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
    struct sockaddr_in sa = {.sin_family = AF_INET, .sin_port = htons((uint16_t)port)};
    sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    socklen_t sl = sizeof(sa);
    if (px->_listen_fd < 0 || bind(px->_listen_fd, (struct sockaddr *)&sa, sizeof(sa)) < 0 ||
        listen(px->_listen_fd, 128) < 0 || getsockname(px->_listen_fd, (struct sockaddr *)&sa, &sl) < 0 ||
        pipe2(px->_wake, O_NONBLOCK | O_CLOEXEC) < 0) {
        if (px->_listen_fd >= 0) close(px->_listen_fd);
        free(px);
        return NULL;
    }
    px->port = ntohs(sa.sin_port);
    if (pthread_create(&px->_thread, NULL, run, px) != 0) {
        close(px->_listen_fd);
        close(px->_wake[0]);
        close(px->_wake[1]);
        free(px);
        return NULL;
    }
    return px;
}

th_proxy_t *th_proxy_start(int upstream_port) { return th_proxy_start_on(0, upstream_port); }

static void wake(th_proxy_t *px) {
    if (write(px->_wake[1], "x", 1) < 0) { /* the pipe is full: the thread is awake anyway */
    }
}

void th_proxy_cut_all(th_proxy_t *px) {
    px->_cut_now = 1;
    wake(px);
}

void th_proxy_cut_every(th_proxy_t *px, int64_t ms) {
    px->_cut_every_ms = ms;
    wake(px);
}

void th_proxy_stop(th_proxy_t *px) {
    if (!px) return;
    px->_stop = 1;
    wake(px);
    pthread_join(px->_thread, NULL);
    close(px->_listen_fd);
    close(px->_wake[0]);
    close(px->_wake[1]);
    free(px);
}
