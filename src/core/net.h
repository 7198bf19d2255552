/*
 * net.h - small socket helpers shared by the broker, `samsa up` and the tests.
 */
#ifndef SA_CORE_NET_H
#define SA_CORE_NET_H

#include <stddef.h>

/** Split "host:port", "[v6]:port" or ":port" (host "0.0.0.0"). @returns 0, or -1 if malformed. */
int sa_net_split_hostport(const char *hostport, char *host, size_t host_size, int *port);

/** @returns 0 once a TCP connection to host:port succeeds within @p timeout_ms, else -1. */
int sa_net_wait_listening(const char *hostport, int timeout_ms);

#endif
