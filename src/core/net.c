#include "core/net.h"

#include <netdb.h>
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
