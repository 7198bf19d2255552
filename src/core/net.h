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

/**
 * Try a TCP connection to every address of @p host (a name or an address) port @p port, each
 * for up to @p timeout_ms, without blocking longer.
 * @returns 1 once one accepts; -1 if the name does not resolve or every address refused or is
 *          unreachable (errstr says which); 0 if it could not be decided (a timeout, a
 *          temporary resolver failure).
 */
int sa_net_probe(const char *host, int port, int timeout_ms, char *errstr, size_t errstr_size);

#endif
