/*
 * transport.h - how a connection moves bytes: plain TCP or TLS, behind one small function set
 * (as Redis's connection types), so conn.c's framing, queue and backpressure are written once.
 * Internal to src/broker.
 *
 * Contract of every function: non-blocking. A return of -1 with errno EAGAIN means "try again
 * when the socket is ready for what wants() says" (TLS may need to WRITE to go on reading, or
 * READ to go on writing: a key update, an alert). Any other -1 is fatal for the connection,
 * with errno (EPIPE/ECONNRESET for a peer that went away) and, for TLS, a reason in why().
 *
 * Ownership: conn.c creates a transport state with new() when it accepts, and frees it with
 * free() when it closes the socket; the state borrows the fd.
 */
#ifndef SA_BROKER_TRANSPORT_H
#define SA_BROKER_TRANSPORT_H

#include <stddef.h>
#include <sys/types.h>
#include <sys/uio.h>

typedef struct sa_transport_s {
    const char *name; /* "tcp", "tls" */
    /** Finish the handshake. @returns 1 done, 0 again later (see wants), -1 failed (why()). */
    int (*handshake)(void *t);
    /** Read up to @p len bytes. @returns n > 0, 0 at the peer's orderly end, -1 (errno). */
    ssize_t (*read)(void *t, void *buf, size_t len);
    /** Write from @p iov. @returns bytes taken (> 0, may be short), -1 (errno). */
    ssize_t (*writev)(void *t, const struct iovec *iov, int iovcnt);
    /** @returns 1 if decrypted bytes wait inside the transport (epoll will not report them). */
    int (*pending)(const void *t);
    /** @returns SA_LOOP_READ/SA_LOOP_WRITE: what the last EAGAIN (or handshake 0) waits for. */
    unsigned (*wants)(const void *t);
    /** @returns why the last call failed ("" if unknown), valid until the next call. */
    const char *(*why)(const void *t);
    /** Free the state (not the fd). */
    void (*free)(void *t);
} sa_transport_t;

#endif
