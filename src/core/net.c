#include "core/net.h"

#include <errno.h>
#include <fcntl.h>
#include <netdb.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "core/time.h"

int sa_net_split_hostport(const char *hostport, char *host, size_t host_size, int *port) {
    const char *colon;
    if (hostport[0] == '[') {
        const char *end = strchr(hostport, ']');
        if (!end || end[1] != ':') return -1;
        if ((size_t)(end - hostport - 1) >= host_size) return -1;
        snprintf(host, host_size, "%.*s", (int)(end - hostport - 1), hostport + 1);
        colon = end + 1;
    } else {
        colon = strrchr(hostport, ':');
        if (!colon || (size_t)(colon - hostport) >= host_size) return -1;
        snprintf(host, host_size, "%.*s", (int)(colon - hostport), hostport);
        if (!*host) snprintf(host, host_size, "0.0.0.0");
    }
    char *end;
    long p = strtol(colon + 1, &end, 10);
    if (*end || end == colon + 1 || p < 0 || p > 65535) return -1;
    *port = (int)p;
    return 0;
}

static int try_connect(const char *host, int port) {
    char portstr[16];
    snprintf(portstr, sizeof(portstr), "%d", port);
    struct addrinfo hints = {.ai_socktype = SOCK_STREAM}, *res = NULL;
    if (!strcmp(host, "0.0.0.0")) host = "127.0.0.1";
    if (getaddrinfo(host, portstr, &hints, &res)) return -1;
    int ok = -1;
    for (struct addrinfo *ai = res; ai && ok; ai = ai->ai_next) {
        int fd = socket(ai->ai_family, ai->ai_socktype | SOCK_CLOEXEC, ai->ai_protocol);
        if (fd < 0) continue;
        if (connect(fd, ai->ai_addr, ai->ai_addrlen) == 0) ok = 0;
        close(fd);
    }
    freeaddrinfo(res);
    return ok;
}

int sa_net_wait_listening(const char *hostport, int timeout_ms) {
    char host[256];
    int port;
    if (sa_net_split_hostport(hostport, host, sizeof(host), &port)) return -1;
    int64_t deadline = sa_mono_ms() + timeout_ms;
    for (;;) {
        if (try_connect(host, port) == 0) return 0;
        if (sa_mono_ms() >= deadline) return -1;
        sa_sleep_ms(20);
    }
}

/* One address: 1 connected, -1 refused or unreachable (errno-like code in *why), 0 undecided. */
static int probe_one(const struct addrinfo *ai, int timeout_ms, int *why) {
    int fd = socket(ai->ai_family, ai->ai_socktype | SOCK_CLOEXEC | SOCK_NONBLOCK, ai->ai_protocol);
    if (fd < 0) return 0;
    int rc = 0, err = 0;
    if (connect(fd, ai->ai_addr, ai->ai_addrlen) == 0) {
        rc = 1;
    } else if (errno == EINPROGRESS) {
        struct pollfd pfd = {.fd = fd, .events = POLLOUT};
        socklen_t len = sizeof(err);
        if (poll(&pfd, 1, timeout_ms) == 1 && getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &len) == 0)
            rc = err == 0 ? 1 : -1;
    } else {
        err = errno;
        rc = -1;
    }
    close(fd);
    if (rc < 0 && err != ECONNREFUSED && err != ENETUNREACH && err != EHOSTUNREACH && err != EADDRNOTAVAIL)
        rc = 0; /* anything else (a firewall's timeout, a full table) says nothing for sure */
    *why = err;
    return rc;
}

int sa_net_probe(const char *host, int port, int timeout_ms, char *errstr, size_t errstr_size) {
    char portstr[16];
    snprintf(portstr, sizeof(portstr), "%d", port);
    struct addrinfo hints = {.ai_socktype = SOCK_STREAM}, *res = NULL;
    int gai = getaddrinfo(host, portstr, &hints, &res);
    if (gai) {
        snprintf(errstr, errstr_size, "cannot resolve %s: %s", host, gai_strerror(gai));
        return gai == EAI_AGAIN ? 0 : -1;
    }
    int rc = -1, why = ECONNREFUSED;
    for (struct addrinfo *ai = res; ai && rc != 1; ai = ai->ai_next) {
        int one_why = 0, one = probe_one(ai, timeout_ms, &one_why);
        if (one >= 0) rc = one;
        if (one < 0) why = one_why;
    }
    freeaddrinfo(res);
    if (rc < 0) snprintf(errstr, errstr_size, "%s", strerror(why));
    return rc;
}
