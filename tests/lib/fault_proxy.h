/*
 * fault_proxy.h - a TCP proxy for tests that cuts connections on demand or periodically.
 *
 *   th_proxy_t *px = th_proxy_start(broker_port);      // listens on px->port (127.0.0.1)
 *   th_proxy_cut_every(px, 250);                        // cut everything every 250 ms
 *   ... clients connect to px->port; a broker advertises it (--advertised-listener) ...
 *   th_proxy_cut_all(px);                               // cut now
 *   th_proxy_stop(px);
 *
 * One thread runs a poll loop that accepts clients, connects each to 127.0.0.1:upstream and
 * copies bytes both ways. A cut closes both sides of every open pair at once (the client sees
 * a reset or EOF mid-request, the broker sees its connection drop), which is what a flaky
 * network or a restarted load balancer does to a Kafka client. New connections are accepted
 * after a cut. Not for production: fixed buffers, loopback only.
 */
#ifndef SA_TEST_FAULT_PROXY_H
#define SA_TEST_FAULT_PROXY_H

#include <pthread.h>
#include <stdatomic.h>
#include <stdint.h>

typedef struct th_proxy_s {
    int port;                  /* where clients connect */
    _Atomic int upstream_port; /* where bytes go (may be set after start, before clients connect) */
    /* private */
    int _listen_fd;
    int _wake[2]; /* pipe: wakes the thread for cut/stop */
    pthread_t _thread;
    _Atomic int _stop;
    _Atomic int _cut_now;
    _Atomic int64_t _cut_every_ms;
    _Atomic uint64_t cuts;      /* cuts done (each closes every open pair) */
    _Atomic uint64_t pairs_cut; /* connections closed by cuts */
    _Atomic uint64_t accepted;  /* connections accepted */
} th_proxy_t;

/** @returns new: a running proxy on a free port to 127.0.0.1:@p upstream_port, or NULL. */
th_proxy_t *th_proxy_start(int upstream_port);
/** Listen on @p port instead of a free one (0: any). */
th_proxy_t *th_proxy_start_on(int port, int upstream_port);
/** Close every open connection now (asynchronous: done by the proxy thread within ms). */
void th_proxy_cut_all(th_proxy_t *px);
/** Cut every @p ms milliseconds from now on (0 stops it). */
void th_proxy_cut_every(th_proxy_t *px, int64_t ms);
/** Stop the thread, close everything, free. */
void th_proxy_stop(th_proxy_t *px);

#endif
