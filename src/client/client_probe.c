/*
 * client_probe.c - is anything listening at the bootstrap servers? (see client.h)
 *
 * librdkafka treats a refused connection like any other failure and retries until the caller's
 * deadline, so a tool pointed at the wrong port used to wait its whole --timeout (10 s) and then
 * say "Broker transport failure". A refused TCP connection is certain, so a tool checks first
 * and says at once what is wrong and how to start a broker. Anything less certain (a timeout,
 * a temporary DNS failure) is left to librdkafka and the tool's own deadline.
 */
#include <stdio.h>
#include <string.h>

#include "client/client.h"
#include "core/net.h"

int sa_client_reachable(const char *bootstrap, int timeout_ms, char *errstr, size_t errstr_size) {
    int rc = -1;
    errstr[0] = '\0';
    for (const char *p = bootstrap; *p && rc != 1;) {
        size_t n = strcspn(p, ",");
        char server[512], host[512];
        snprintf(server, sizeof(server), "%.*s", (int)n, p);
        p += n + (p[n] == ',');
        char *s = server, *scheme = strstr(s, "://");
        if (scheme) s = scheme + 3; /* SSL://host:port as Kafka spells listeners */
        while (*s == ' ') s++;
        if (!*s) continue;
        int port = 9092; /* librdkafka's default when a server has no port */
        if (!strchr(s, ':') || (s[0] == '[' && !strstr(s, "]:"))) {
            snprintf(host, sizeof(host), "%s", s[0] == '[' ? s + 1 : s);
            host[strcspn(host, "]")] = '\0';
        } else if (sa_net_split_hostport(s, host, sizeof(host), &port)) {
            rc = 0; /* not ours to judge: librdkafka will say what it makes of it */
            continue;
        }
        char why[512];
        int one = sa_net_probe(host, port, timeout_ms, why, sizeof(why));
        if (one >= 0)
            rc = one;
        else if (!errstr[0] && strchr(bootstrap, ','))
            snprintf(errstr, errstr_size, "%s: %s", s, why); /* several servers: say which */
        else if (!errstr[0])
            snprintf(errstr, errstr_size, "%s", why);
    }
    if (rc < 0 && !errstr[0]) rc = 0; /* no server named at all: librdkafka will say so */
    return rc;
}
