/*
 * conn.c - client connections: framing, dispatch, the in-order response queue.
 *
 * Framing (Kafka: int32 size, then that many bytes). Small frames are read in bulk into a
 * fixed read buffer (RBUF_SIZE) and copied out whole, so a burst of small requests costs one
 * read(2). A frame that does not fit is read straight into its own allocation of exactly its
 * size. The size is checked against socket.request.max.bytes (and for being negative or too
 * small to hold a header) BEFORE anything is allocated for it; a bad size closes this
 * connection only.
 *
 * Queue. Every request, answered or parked, sits in conn->head..tail in arrival order.
 * Flushing writes the responses of the leading run of finished requests (writev) and frees
 * them; a parked request at the head holds back everything behind it, which is how responses
 * stay in request order. acks=0 Produce requests have no response: they are dropped from the
 * queue when they reach the head.
 *
 * Turns. One read event dispatches at most REQ_BUDGET requests; if complete frames remain
 * buffered a 0 ms timer resumes the connection next turn, so one busy client cannot starve the
 * others or the group commit.
 *
 * Limits, so the broker is bounded as a whole and not only per connection (docs/broker.md,
 * "Limits"). Each is checked where the memory or the time is about to be spent:
 *   - Memory (queued.max.request.bytes, the pure rule in conn_budget.h). A connection is charged
 *     what it makes the broker hold: its read buffer (allocated with the first bytes of a read
 *     and freed when a read leaves nothing unparsed, so an idle connection holds none), its queued
 *     request frames, a large frame's whole allocation from the moment its size is known, and its
 *     unsent responses. Before the broker takes anything new for a connection - a read buffer,
 *     a frame copied out or allocated - the rule must admit it; a Fetch's records stop at the
 *     room it gives (sa_req_memory_room). A frame already in progress is always read to its end
 *     (its memory is already there), so a paused connection is never paused mid-frame by us. A
 *     connection refused by the rule (and not by its own per-connection limits below) waits in
 *     broker->_mem_waiters, oldest first; memory released starts a 0 ms timer (run before the
 *     next turn's fd events) that lets the waiters read in that order, each reading and being
 *     charged before the next is asked.
 *   - Per connection, as before: MAX_QUEUED requests, MAX_HELD_BYTES of frames, MAX_QUEUED_BYTES
 *     of responses; over them reads pause until the connection's own answers drain.
 *   - connections.max.idle.ms: a connection that moved no byte for that long is closed, unless
 *     it waits for the broker (a parked request at its head, or paused by memory while it reads
 *     its answers). One timer per connection, re-armed lazily when it fires, never per byte.
 *   - connections.frame.timeout.ms: a frame in progress (first bytes in, not whole) must be whole
 *     within it of when it was first seen, or the connection is closed: a client sending a byte
 *     a second holds no slot for long. The TLS handshake and SASL have their own deadline below.
 *   - max.connections and max.connections.per.ip: checked at accept by broker.c; conn.c keeps
 *     the count of each address (broker->_per_ip, an entry per address with connections open).
 *
 * Transport. Bytes move through conn->tp (transport.h): plain read/writev, or TLS (its
 * handshake first, on the loop, non-blocking). TLS may hold decrypted bytes epoll cannot see:
 * reading goes on while tp->pending(), and a resume is scheduled for them when reads were paused.
 * TLS may also need the other direction to progress (tp->wants()): a read that waits for
 * writability registers EPOLLOUT and is retried from the write event.
 *
 * Authentication (security/sasl.h): dispatch asks sa_auth_gate() before each handler; frames of
 * v0 SASL framing are bare tokens, answered through the same queue (sa_sasl_raw_token). Once
 * the state is FAILED no further frame is read, and the connection closes when the failure's
 * answer is written. A deadline (connections.handshake.timeout.ms) closes a connection whose TLS
 * handshake or SASL authentication is not done in time, so slow or garbage handshakes hold no
 * slot for long and never block the loop.
 *
 * Invariants (check_conn, after every read, flush and close):
 *   1. A closed connection has fd -1, no loop registration, no running timers, and every
 *      parked request of it was cancelled (its owner forgot it) before close returned.
 *   2. Memory of a closed connection and its requests is freed only in sa_conn_reap(), so a
 *      handler deep in a call chain never sees its request freed under it.
 *   3. head..tail holds nreqs requests in arrival order, held_bytes is the sum of their frames,
 *      and (while open) queued_bytes is what their finished responses still have to send; only
 *      the head request can be partly sent.
 *   4. rbuf[roff..rlen) is unparsed input (roff <= rlen <= RBUF_SIZE); a large frame being read
 *      in place has big_have <= big_size.
 *   5. charged == held_bytes + queued_bytes + big_size + (rbuf ? RBUF_SIZE : 0) while open, 0
 *      once closed, and the broker's budget.used is the sum of charged over the open connections
 *      (sa_conn_check_limits, every turn in debug builds).
 *   6. Each open connection counts once in its address's entry of broker->_per_ip, and a closed
 *      one in none: the entries' counts sum to the open connections, and no entry is 0.
 *   7. broker->_mem_waiters holds open connections only, each once (mem_waiting), in the order
 *      they were paused; a connection reading or in the middle of a frame is not in it.
 *   8. A closed connection runs no idle or frame timer.
 */
#include "broker/conn.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/uio.h>
#include <unistd.h>

#include "broker/conn_budget.h"
#include "broker/dispatch.h"
#include "broker/security/tls.h"
#include "broker/transport.h"
#include "core/check.h"
#include "core/log.h"
#include "core/mem.h"
#include "core/time.h"
#include "proto/proto.h"

#define RBUF_SIZE        (64 * 1024)
#define REQ_BUDGET       64          /* requests dispatched per read event */
#define READ_ROUNDS      64          /* reads per read event ... */
#define READ_BYTES       (1u << 20)  /* ... and bytes (then the next turn goes on) */
#define MAX_QUEUED       512         /* requests queued before reads pause */
#define MAX_QUEUED_BYTES (64u << 20) /* response bytes queued before reads pause */
/* Request bytes held (frames whose response has not gone out yet) before reads pause. A producer
 * pipelines up to max.in.flight requests of up to 1 MB; while a group commit runs, they would
 * all sit here. 16 MiB keeps several syncs' worth of batches moving and bounds the memory. */
#define MAX_HELD_BYTES   (16u << 20)
#define MIN_FRAME        8 /* ApiKey + ApiVersion + CorrelationId */
#define IOV_MAX_BATCH    64

enum { REQ_HANDLING, REQ_PARKED, REQ_READY };

struct sa_conn_s {
    sa_broker_t *broker;
    int fd;                        /* -1 once closed */
    char peer[64];                 /* "ip:port" */
    const sa_listener_t *listener; /* borrowed from the broker */
    const sa_transport_t *tp;      /* plain or TLS */
    void *tp_state;                /* owned by tp (NULL for plain) */
    int handshaking;               /* the TLS handshake is not done: no frame is read */
    int read_wants_write;          /* a TLS read waits for writability */
    sa_auth_t auth;                /* SASL state and principal (security/sasl.h) */
    sa_timer_t auth_deadline;      /* TLS handshake + authentication must finish by then */
    sa_conn_t *prev, *next;        /* in broker->_conns, or the reap list once closed */
    uint8_t *rbuf;                 /* RBUF_SIZE bytes; rbuf[roff..rlen) not parsed yet */
    size_t roff, rlen;
    uint8_t *big; /* a large frame being read in place, NULL if none */
    size_t big_size, big_have;
    sa_req_t *head, *tail; /* requests in arrival order */
    size_t nreqs;
    size_t queued_bytes; /* response bytes finished but not written */
    size_t held_bytes;   /* request frame bytes of the queued requests */
    unsigned watching;   /* SA_LOOP_* currently registered */
    int in_flush;        /* sa_conn_flush is on the stack (no re-entry) */
    int blocked;         /* the socket refused bytes: wait for EPOLLOUT */
    sa_timer_t resume;   /* 0 ms: continue parsing buffered frames next turn */
    /* Limits (see the file comment). */
    char ip[64];               /* the peer's address: the per-IP count's key */
    sa_ip_count_t *ipc;        /* this address's count in broker->_per_ip (one is ours) */
    size_t charged;            /* what this connection holds of the memory budget */
    sa_conn_t *wprev, *wnext;  /* in broker->_mem_waiters while mem_waiting */
    int mem_waiting;           /* paused by the memory budget, waiting to be resumed */
    int64_t last_io_us;        /* the last byte read or written (connections.max.idle.ms) */
    int64_t frame_since_us;    /* when the frame in progress was first seen (0: none) */
    sa_timer_t idle;           /* checks idleness; re-armed lazily, not on every byte */
    sa_timer_t frame_deadline; /* a frame started must be whole by then */
};

static void on_io(sa_loop_t *loop, int fd, unsigned events, void *arg);
static void schedule_resume(sa_conn_t *conn);
static int frame_in_progress(const sa_conn_t *conn);

/* What the connection holds of the memory budget (invariant 5). */
static size_t charge_of(const sa_conn_t *conn) {
    if (conn->fd < 0) return 0;
    return conn->held_bytes + conn->queued_bytes + conn->big_size + (conn->rbuf ? RBUF_SIZE : 0);
}

/* What counts against the fair share: requests and responses, not the read buffer. */
static size_t share_held(const sa_conn_t *conn) { return conn->held_bytes + conn->queued_bytes; }

/* Invariant 3, request by request (debug and sanitizer builds). */
static void check_queue(const sa_conn_t *conn) {
    size_t n = 0, held = 0, queued = 0;
    for (const sa_req_t *req = conn->head; req; req = req->_next) {
        n++;
        held += req->_frame_len;
        if (req->_state == REQ_READY && !req->_noreply) queued += req->resp.len - req->_sent;
        assert(req->_sent == 0 || req == conn->head);
        assert(req->_next || req == conn->tail);
        assert(conn->fd >= 0 || !req->_conn); /* 1: requests of a closed connection are detached */
    }
    assert(n == conn->nreqs && held == conn->held_bytes);
    assert(conn->fd < 0 || queued == conn->queued_bytes);
}

static void check_conn(const sa_conn_t *conn) {
    assert(!conn->head == !conn->tail && (conn->head || !conn->nreqs));
    assert(conn->roff <= conn->rlen && conn->rlen <= RBUF_SIZE);                    /* 4 */
    assert(!conn->big || conn->big_have <= conn->big_size);                         /* 4 */
    assert(conn->fd >= 0 || (!sa_timer_running(&conn->resume) && !conn->watching)); /* 1 */
    assert(conn->fd >= 0 || !sa_timer_running(&conn->auth_deadline));               /* 1 */
    assert(!conn->handshaking || !conn->head);                                      /* no frame before TLS */
    assert(conn->charged == charge_of(conn));                                       /* 5 */
    assert(conn->fd >= 0 || (!conn->mem_waiting && !conn->ipc));                    /* 1, 6, 7 */
    assert(!conn->mem_waiting || !frame_in_progress(conn));                         /* 7 */
    assert(conn->fd >= 0 ||
           (!sa_timer_running(&conn->idle) && !sa_timer_running(&conn->frame_deadline))); /* 8 */
    SA_DEBUG_CHECK(check_queue(conn));
}

const char *sa_req_peer(const sa_req_t *req) { return req->_conn ? req->_conn->peer : "(closed)"; }

sa_auth_t *sa_conn_auth(sa_conn_t *conn) { return &conn->auth; }

/* ---- the plain transport ---- */

static int tcp_handshake(void *t) {
    (void)t;
    return 1;
}
static ssize_t tcp_read(void *t, void *buf, size_t len) { return read((int)(intptr_t)t, buf, len); }
static ssize_t tcp_writev(void *t, const struct iovec *iov, int n) {
    return writev((int)(intptr_t)t, iov, n);
}
static int tcp_pending(const void *t) {
    (void)t;
    return 0;
}
static unsigned tcp_wants(const void *t) {
    (void)t;
    return SA_LOOP_READ;
}
static const char *tcp_why(const void *t) {
    (void)t;
    return "";
}
static void tcp_free(void *t) { (void)t; }
/* The plain transport's state is the fd itself. */
static const sa_transport_t transport_tcp = {"tcp",       tcp_handshake, tcp_read, tcp_writev,
                                             tcp_pending, tcp_wants,     tcp_why,  tcp_free};

/* Does the transport hold bytes epoll cannot report? (Never for a closed connection.) */
static int tp_pending(const sa_conn_t *conn) {
    return conn->fd >= 0 && !conn->handshaking && conn->tp->pending(conn->tp_state);
}

/* Is the connection still authenticating (TLS handshake or SASL)? */
static int authenticating(const sa_conn_t *conn) {
    return conn->handshaking || (conn->auth.state != SA_AUTH_OPEN && conn->auth.state != SA_AUTH_DONE &&
                                 conn->auth.state != SA_AUTH_REAUTH);
}

static void on_auth_deadline(sa_loop_t *loop, sa_timer_t *timer, void *arg) {
    (void)loop;
    (void)timer;
    sa_conn_t *conn = arg;
    if (conn->fd >= 0 && authenticating(conn))
        sa_conn_close(conn, 0,
                      conn->handshaking
                          ? "TLS handshake not done within connections.handshake.timeout.ms"
                          : "SASL authentication not done within connections.handshake.timeout.ms");
}

/* May another request be read and dispatched, by this connection's own limits? (Backpressure: a
 * client that pipelines faster than we answer is made to wait in its socket, not in our memory.) */
static int can_take_more(const sa_conn_t *conn) {
    return conn->nreqs < MAX_QUEUED && conn->held_bytes < MAX_HELD_BYTES &&
           conn->queued_bytes < MAX_QUEUED_BYTES && conn->auth.state != SA_AUTH_FAILED;
}

/* ---- the memory budget (conn_budget.h) ---- */

/* Is the leading unparsed frame incomplete, with its memory already there (the read buffer holds
 * it, or its own allocation)? Then reading goes on whatever the limits say - finishing it costs
 * nothing more - and connections.frame.timeout.ms runs. A large frame whose allocation the budget
 * refused is not in progress: the connection waits for memory, and not against its deadline. */
static int frame_in_progress(const sa_conn_t *conn) {
    if (conn->big) return 1;
    size_t avail = conn->rlen - conn->roff;
    if (!conn->rbuf || !avail) return 0;
    if (avail < 4) return 1;
    int32_t size = (int32_t)sa_load_be32(conn->rbuf + conn->roff);
    return size >= 0 && avail - 4 < (size_t)size && (size_t)size + 4 <= RBUF_SIZE;
}

/* The budget the next step of reading takes: a read buffer, or the leading frame's bytes. */
static size_t next_need(const sa_conn_t *conn) {
    if (!conn->rbuf) return RBUF_SIZE;
    if (conn->rlen - conn->roff < 4) return 0;
    int32_t size = (int32_t)sa_load_be32(conn->rbuf + conn->roff);
    return size > 0 ? (size_t)size : 0;
}

static int mem_admits(const sa_conn_t *conn, size_t size) {
    return sa_budget_admits(&conn->broker->_budget, share_held(conn), size);
}

size_t sa_req_memory_room(const sa_req_t *req) {
    const sa_conn_t *conn = req->_conn;
    return conn && conn->fd >= 0 ? sa_budget_room(&conn->broker->_budget, share_held(conn)) : 0;
}

static void mem_unwait(sa_conn_t *conn) {
    if (!conn->mem_waiting) return;
    sa_broker_t *broker = conn->broker;
    if (conn->wprev)
        conn->wprev->wnext = conn->wnext;
    else
        broker->_mem_waiters = conn->wnext;
    if (conn->wnext)
        conn->wnext->wprev = conn->wprev;
    else
        broker->_mem_waiters_tail = conn->wprev;
    conn->wprev = conn->wnext = NULL;
    conn->mem_waiting = 0;
}

static void mem_wait(sa_conn_t *conn) {
    if (conn->mem_waiting) return;
    sa_broker_t *broker = conn->broker;
    conn->wprev = broker->_mem_waiters_tail;
    conn->wnext = NULL;
    if (broker->_mem_waiters_tail)
        broker->_mem_waiters_tail->wnext = conn;
    else
        broker->_mem_waiters = conn;
    broker->_mem_waiters_tail = conn;
    conn->mem_waiting = 1;
}

static void on_mem_wake(sa_loop_t *loop, sa_timer_t *timer, void *arg);

/* Let the paused connections try again next turn (a timer: timers run before fd events, so the
 * paused go before the connections that did not wait). */
static void wake_waiters(sa_broker_t *broker) {
    if (broker->_mem_waiters && !sa_timer_running(&broker->_mem_wake))
        sa_timer_start(broker->loop, &broker->_mem_wake, 0, on_mem_wake, broker);
}

/* Bring conn->charged and the broker's total up to date after its held, queued, read-buffer or
 * large-frame bytes changed. Memory given back wakes the paused connections. */
static void recharge(sa_conn_t *conn) {
    sa_broker_t *broker = conn->broker;
    size_t now = charge_of(conn);
    if (now == conn->charged) return;
    assert(broker->_budget.used + now >= conn->charged);
    broker->_budget.used = broker->_budget.used - conn->charged + now;
    int released = now < conn->charged;
    conn->charged = now;
    if (released) wake_waiters(broker);
}

static void update_events(sa_conn_t *conn) {
    if (conn->fd < 0) return;
    unsigned want = 0;
    if (conn->handshaking) {
        want = conn->tp->wants(conn->tp_state);
    } else {
        int failed = conn->auth.state == SA_AUTH_FAILED;
        if (!failed &&
            (frame_in_progress(conn) || (can_take_more(conn) && mem_admits(conn, next_need(conn))))) {
            want |= SA_LOOP_READ;
            mem_unwait(conn);
        } else if (can_take_more(conn)) {
            mem_wait(conn); /* the budget, not this connection's own limits, holds it */
        } else {
            mem_unwait(conn); /* its own answers draining resume it (sa_conn_flush) */
        }
        if (conn->blocked || conn->read_wants_write) want |= SA_LOOP_WRITE;
    }
    if (want != conn->watching && sa_loop_mod_fd(conn->broker->loop, conn->fd, want) == 0)
        conn->watching = want;
}

/* ---- idleness and slow frames ---- */

/* Is the connection waiting for the broker (a parked request at the head, or reads paused by
 * the memory budget while it reads its answers), rather than the broker for it? */
static int waiting_on_broker(const sa_conn_t *conn) {
    return (conn->head && conn->head->_state != REQ_READY) || (conn->mem_waiting && !conn->blocked);
}

/* connections.max.idle.ms, checked lazily: the timer is not moved on every byte; when it fires
 * it closes, or re-arms for what is left since the last byte. */
static void on_idle_check(sa_loop_t *loop, sa_timer_t *timer, void *arg) {
    sa_conn_t *conn = arg;
    if (conn->fd < 0) return;
    int64_t now = sa_mono_us(), idle_us = conn->broker->conf->connections_max_idle_ms * 1000;
    if (waiting_on_broker(conn)) conn->last_io_us = now;
    int64_t left = conn->last_io_us + idle_us - now;
    if (left > 0) {
        sa_timer_start(loop, timer, (left + 999) / 1000, on_idle_check, conn);
        return;
    }
    sa_conn_close(conn, 0, "idle for connections.max.idle.ms");
    check_conn(conn);
}

/* connections.frame.timeout.ms: the frame in progress started at frame_since_us. */
static void on_frame_deadline(sa_loop_t *loop, sa_timer_t *timer, void *arg) {
    sa_conn_t *conn = arg;
    if (conn->fd < 0 || !frame_in_progress(conn) || !conn->frame_since_us) return;
    int64_t left = conn->frame_since_us + conn->broker->conf->frame_timeout_ms * 1000 - sa_mono_us();
    if (left > 0) {
        sa_timer_start(loop, timer, (left + 999) / 1000, on_frame_deadline, conn);
        return;
    }
    sa_conn_close(conn, 0, "a request frame was not received whole within connections.frame.timeout.ms");
    check_conn(conn);
}

/* Start the frame deadline when a frame is in progress (its clock starts when first seen). */
static void watch_frame_deadline(sa_conn_t *conn) {
    if (!frame_in_progress(conn)) {
        conn->frame_since_us = 0;
        return;
    }
    if (!conn->frame_since_us) conn->frame_since_us = sa_mono_us();
    if (!sa_timer_running(&conn->frame_deadline))
        sa_timer_start(conn->broker->loop, &conn->frame_deadline,
                       conn->broker->conf->frame_timeout_ms - (sa_mono_us() - conn->frame_since_us) / 1000,
                       on_frame_deadline, conn);
}

/* ---- per-IP counts ---- */

size_t sa_conn_ip_count(const sa_broker_t *broker, const char *ip) {
    const sa_ip_count_t *ipc = sa_hmap_get(&broker->_per_ip, ip, strlen(ip));
    return ipc ? ipc->n : 0;
}

static sa_ip_count_t *ip_take(sa_broker_t *broker, const char *ip) {
    sa_ip_count_t *ipc = sa_hmap_get(&broker->_per_ip, ip, strlen(ip));
    if (!ipc) {
        ipc = sa_new(sa_ip_count_t);
        snprintf(ipc->ip, sizeof(ipc->ip), "%s", ip);
        sa_hmap_put(&broker->_per_ip, ipc->ip, strlen(ipc->ip), ipc);
    }
    ipc->n++;
    return ipc;
}

static void ip_release(sa_broker_t *broker, sa_ip_count_t *ipc) {
    assert(ipc->n > 0);
    if (--ipc->n) return;
    sa_hmap_del(&broker->_per_ip, ipc->ip, strlen(ipc->ip));
    free(ipc);
}

sa_conn_t *sa_conn_new(sa_broker_t *broker, int fd, const char *peer, const char *ip,
                       const sa_listener_t *l) {
    sa_conn_t *conn = sa_new(sa_conn_t);
    conn->broker = broker;
    conn->fd = fd;
    conn->listener = l;
    snprintf(conn->peer, sizeof(conn->peer), "%s", peer);
    snprintf(conn->ip, sizeof(conn->ip), "%s", ip);
    conn->tp = &transport_tcp;
    conn->tp_state = (void *)(intptr_t)fd;
    if (sa_secproto_tls(l->proto)) {
        conn->tp = &sa_transport_tls;
        conn->tp_state = sa_tls_new(broker->_tls, fd, l->client_auth);
        conn->handshaking = 1;
    }
    sa_auth_init(&conn->auth, l);
    conn->watching = SA_LOOP_READ; /* the read buffer comes with the first bytes (the budget's) */
    if (!conn->tp_state || sa_loop_add_fd(broker->loop, fd, SA_LOOP_READ, on_io, conn) < 0) {
        sa_log_warn("net", "%s: cannot watch connection: %s", peer, conn->tp_state ? strerror(errno) : "TLS");
        if (conn->tp_state) conn->tp->free(conn->tp_state);
        close(fd);
        free(conn);
        return NULL;
    }
    if (authenticating(conn))
        sa_timer_start(broker->loop, &conn->auth_deadline, broker->conf->handshake_timeout_ms,
                       on_auth_deadline, conn);
    conn->last_io_us = sa_mono_us();
    sa_timer_start(broker->loop, &conn->idle, broker->conf->connections_max_idle_ms, on_idle_check, conn);
    conn->ipc = ip_take(broker, conn->ip);
    conn->next = broker->_conns;
    if (broker->_conns) broker->_conns->prev = conn;
    broker->_conns = conn;
    broker->_nconns++;
    broker->_budget.nconns = broker->_nconns;
    sa_log_debug(SA_DBG_NET, "net", "%s: connected (%zu open)", peer, broker->_nconns);
    return conn;
}

static void req_free(sa_req_t *req) {
    sa_arena_free(&req->arena);
    sa_buf_free(&req->resp);
    free(req->_frame);
    free(req);
}

void sa_conn_close(sa_conn_t *conn, int warn, const char *reason) {
    if (conn->fd < 0) return;
    sa_broker_t *broker = conn->broker;
    if (warn)
        sa_log_warn("net", "%s: closing connection: %s", conn->peer, reason ? reason : "closed");
    else
        sa_log_debug(SA_DBG_NET, "net", "%s: %s", conn->peer, reason ? reason : "closed by peer");
    sa_loop_del_fd(broker->loop, conn->fd);
    conn->tp->free(conn->tp_state);
    conn->tp_state = NULL;
    close(conn->fd);
    conn->fd = -1;
    conn->watching = 0;
    sa_timer_stop(broker->loop, &conn->resume);
    sa_timer_stop(broker->loop, &conn->auth_deadline);
    sa_timer_stop(broker->loop, &conn->idle);
    sa_timer_stop(broker->loop, &conn->frame_deadline);
    mem_unwait(conn);
    recharge(conn); /* everything it held goes back to the budget now (freed at reap) */
    ip_release(broker, conn->ipc);
    conn->ipc = NULL;
    sa_auth_free(&conn->auth);
    for (sa_req_t *req = conn->head; req; req = req->_next) {
        sa_timer_stop(broker->loop, &req->_timer);
        if (req->_state == REQ_PARKED && req->_cancel) req->_cancel(req, req->_arg);
        req->_cancel = NULL;
        req->_timeout = NULL;
        req->_conn = NULL;
    }
    /* Move from the open list to the reap list. */
    if (conn->prev)
        conn->prev->next = conn->next;
    else
        broker->_conns = conn->next;
    if (conn->next) conn->next->prev = conn->prev;
    broker->_nconns--;
    broker->_budget.nconns = broker->_nconns;
    wake_waiters(broker); /* one connection fewer: everyone's fair share grew */
    conn->prev = NULL;
    conn->next = broker->_reap;
    broker->_reap = conn;
    check_conn(conn);
}

void sa_conn_reap(sa_broker_t *broker) {
    while (broker->_reap) {
        sa_conn_t *conn = broker->_reap;
        broker->_reap = conn->next;
        while (conn->head) {
            sa_req_t *req = conn->head;
            conn->head = req->_next;
            req_free(req);
        }
        free(conn->big);
        free(conn->rbuf);
        free(conn);
    }
}

/* Free the head request (its response was written, or it has none). */
static void pop_head(sa_conn_t *conn) {
    sa_req_t *req = conn->head;
    conn->head = req->_next;
    if (!conn->head) conn->tail = NULL;
    conn->nreqs--;
    conn->held_bytes -= req->_frame_len;
    req_free(req);
    recharge(conn);
}

void sa_conn_flush(sa_conn_t *conn) {
    if (conn->fd < 0 || conn->in_flush) return;
    conn->in_flush = 1;
    for (;;) {
        struct iovec iov[IOV_MAX_BATCH];
        int n = 0;
        while (conn->head && conn->head->_state == REQ_READY && conn->head->_noreply) pop_head(conn);
        for (sa_req_t *req = conn->head; req && n < IOV_MAX_BATCH && req->_state == REQ_READY;
             req = req->_next) {
            if (req->_noreply) continue;
            iov[n].iov_base = req->resp.data + req->_sent;
            iov[n].iov_len = req->resp.len - req->_sent;
            n++;
        }
        if (!n) {
            conn->blocked = 0;
            break;
        }
        ssize_t w = conn->tp->writev(conn->tp_state, iov, n);
        if (w < 0) {
            if (errno == EINTR) continue;
            if (errno == EAGAIN || errno == EWOULDBLOCK) {
                conn->blocked = 1;
                break;
            }
            conn->in_flush = 0;
            const char *why = conn->tp->why(conn->tp_state);
            sa_conn_close(conn, 0,
                          errno == EPIPE || errno == ECONNRESET ? "peer went away"
                          : *why                                ? why
                                                                : strerror(errno));
            return;
        }
        size_t left = (size_t)w;
        if (w > 0) conn->last_io_us = sa_mono_us();
        while (left && conn->head && conn->head->_state == REQ_READY) {
            sa_req_t *req = conn->head;
            if (req->_noreply) {
                pop_head(conn);
                continue;
            }
            size_t rest = req->resp.len - req->_sent;
            if (left < rest) {
                req->_sent += left;
                conn->queued_bytes -= left;
                recharge(conn);
                left = 0;
                break;
            }
            left -= rest;
            conn->queued_bytes -= rest;
            pop_head(conn); /* recharges */
        }
        if (conn->head && conn->head->_state == REQ_READY && conn->head->_sent > 0) {
            conn->blocked = 1; /* short write: the socket buffer is full */
            break;
        }
    }
    conn->in_flush = 0;
    if (conn->auth.state == SA_AUTH_FAILED && !conn->head) {
        /* The failure's answer is out: Kafka closes the connection here. */
        sa_conn_close(conn, 0, "authentication failed");
        return;
    }
    update_events(conn);
    /* Reads may have paused on a full queue with whole frames still buffered: the socket will
     * not signal for those, so resume them explicitly now that the queue drained. */
    schedule_resume(conn);
    check_conn(conn);
}

/* The response header (and size placeholder) is written by sa_dispatch; finish the frame. */
static void req_finish(sa_req_t *req) {
    req->_state = REQ_READY;
    if (req->_noreply) return;
    sa_store_be32(req->resp.data, (uint32_t)(req->resp.len - 4));
    if (!req->_conn) return;
    req->_conn->queued_bytes += req->resp.len;
    recharge(req->_conn);
}

static void on_req_deadline(sa_loop_t *loop, sa_timer_t *timer, void *arg) {
    (void)loop;
    (void)timer;
    sa_req_t *req = arg;
    if (req->_state == REQ_PARKED && req->_timeout) req->_timeout(req, req->_arg);
}

void sa_req_defer(sa_req_t *req, int64_t timeout_ms, sa_req_timeout_fn *on_timeout,
                  sa_req_cancel_fn *on_cancel, void *arg) {
    req->_state = REQ_PARKED;
    if (!req->_conn) {
        /* The connection died while the handler ran (a write error on an earlier response). */
        if (on_cancel) on_cancel(req, arg);
        return;
    }
    req->_cancel = on_cancel;
    req->_timeout = on_timeout;
    req->_arg = arg;
    if (timeout_ms >= 0 && on_timeout)
        sa_timer_start(req->broker->loop, &req->_timer, timeout_ms, on_req_deadline, req);
}

void sa_req_complete(sa_req_t *req) {
    if (req->_state != REQ_PARKED) return;
    sa_timer_stop(req->broker->loop, &req->_timer);
    req->_cancel = NULL;
    req->_timeout = NULL;
    req_finish(req);
    if (req->_conn && req->_conn->head == req) sa_conn_flush(req->_conn);
}

/* ---- reading ---- */

static void handle_frame(sa_conn_t *conn, uint8_t *frame, size_t len) {
    sa_req_t *req = sa_new(sa_req_t);
    req->broker = conn->broker;
    req->_conn = conn;
    req->_frame = frame;
    req->_frame_len = len;
    req->_recv_us = sa_mono_us();
    req->_state = REQ_HANDLING;
    req->principal = conn->auth.principal;
    req->listener = conn->listener;
    sa_arena_init(&req->arena, 0);
    sa_buf_init(&req->resp, 0);
    if (conn->tail)
        conn->tail->_next = req;
    else
        conn->head = req;
    conn->tail = req;
    conn->nreqs++;
    conn->held_bytes += len;
    conn->frame_since_us = 0; /* the next frame's clock starts when it is seen */
    recharge(conn);

    char errstr[512] = "";
    sa_err_t err;
    if (conn->auth.state == SA_AUTH_RAW) {
        /* v0 SASL framing: a bare token, answered by a bare token in the same size framing. */
        err = sa_buf_put_be32(&req->resp, 0);
        if (err == SA_OK) err = sa_sasl_raw_token(req, errstr, sizeof(errstr));
    } else {
        err = sa_dispatch(req, errstr, sizeof(errstr));
    }
    if (conn->fd < 0) return; /* the handler's work closed us (write error) */
    if (err == SA_ERR_AGAIN) {
        /* Parked, or parked and already completed from inside the handler. */
        if (req->_state == REQ_HANDLING) {
            sa_log_error("broker", "%s: handler of ApiKey %d returned AGAIN without sa_req_defer", conn->peer,
                         req->ApiKey);
            sa_conn_close(conn, 1, "internal error");
        }
        return;
    }
    if (err != SA_OK) {
        /* Refused authentication, and an acks=0 Produce's error (a Kafka code: the connection is
         * its only answer, handle_produce.c), are the client's business, not the operator's: no
         * warning. */
        int client_err = err == SA_ERR_ILLEGAL_SASL_STATE || err == SA_ERR_SASL_AUTHENTICATION_FAILED ||
                         (req->ApiKey == SA_API_Produce && err > 0);
        sa_conn_close(conn, !client_err, errstr[0] ? errstr : sa_err2str(err));
        return;
    }
    if (!authenticating(conn)) sa_timer_stop(conn->broker->loop, &conn->auth_deadline);
    req_finish(req);
    if (conn->head == req) sa_conn_flush(conn);
}

/* @returns 1 if a frame size is acceptable, else closes the connection and returns 0. */
static int check_size(sa_conn_t *conn, int32_t size) {
    char why[128];
    int64_t max = conn->broker->conf->socket_request_max_bytes;
    if (size >= MIN_FRAME && size <= max) return 1;
    if (size < 0)
        snprintf(why, sizeof(why), "negative frame size %d", size);
    else if (size < MIN_FRAME)
        snprintf(why, sizeof(why), "frame of %d bytes is too short for a request header", size);
    else
        snprintf(why, sizeof(why), "frame of %d bytes exceeds socket.request.max.bytes (%lld)", size,
                 (long long)max);
    sa_conn_close(conn, 1, why);
    return 0;
}

/* Dispatch complete frames from rbuf, up to @p budget. @returns how many were dispatched. */
static int parse_frames(sa_conn_t *conn, int budget) {
    int done = 0;
    while (conn->fd >= 0 && done < budget && can_take_more(conn)) {
        size_t avail = conn->rlen - conn->roff;
        if (avail < 4) break;
        const uint8_t *p = conn->rbuf + conn->roff;
        int32_t size = (int32_t)sa_load_be32(p);
        if (!check_size(conn, size)) return done;
        int whole = avail - 4 >= (size_t)size;
        /* A whole frame is copied out, a large one allocated: both need the budget's room. */
        if ((whole || (size_t)size + 4 > RBUF_SIZE) && !mem_admits(conn, (size_t)size)) break;
        if (whole) {
            uint8_t *frame = sa_malloc((size_t)size);
            memcpy(frame, p + 4, (size_t)size);
            conn->roff += 4 + (size_t)size;
            done++;
            handle_frame(conn, frame, (size_t)size);
            continue;
        }
        if ((size_t)size + 4 > RBUF_SIZE) {
            /* Too big for the read buffer: read the rest straight into its own allocation. */
            conn->big = sa_malloc((size_t)size);
            conn->big_size = (size_t)size;
            conn->big_have = avail - 4;
            memcpy(conn->big, p + 4, conn->big_have);
            conn->roff = conn->rlen = 0;
            recharge(conn);
        }
        break;
    }
    if (conn->fd >= 0 && conn->roff == conn->rlen) conn->roff = conn->rlen = 0;
    return done;
}

static int frames_buffered(const sa_conn_t *conn) {
    if (tp_pending(conn)) return 1;
    size_t avail = conn->rlen - conn->roff;
    if (!conn->rbuf) return 0;
    if (avail < 4) return 0;
    int32_t size = (int32_t)sa_load_be32(conn->rbuf + conn->roff);
    return size < 0 || avail - 4 >= (size_t)size;
}

static void on_resume(sa_loop_t *loop, sa_timer_t *timer, void *arg);
static void do_read(sa_conn_t *conn);
static void settle(sa_conn_t *conn);

/* Memory was released: let the paused connections read again, in the order they were paused,
 * each reading (and charging) before the next is asked, so the first in line gets the memory
 * first. One still refused keeps its place. Only those waiting when the walk starts are visited. */
static void on_mem_wake(sa_loop_t *loop, sa_timer_t *timer, void *arg) {
    (void)loop;
    (void)timer;
    sa_broker_t *broker = arg;
    size_t n = 0;
    for (sa_conn_t *c = broker->_mem_waiters; c; c = c->wnext) n++;
    sa_conn_t *conn = broker->_mem_waiters;
    while (conn && n--) {
        sa_conn_t *next = conn->wnext;
        if (conn->fd >= 0 && can_take_more(conn) && mem_admits(conn, next_need(conn))) {
            mem_unwait(conn);
            do_read(conn); /* frames already buffered first, then the socket */
            settle(conn);
        }
        conn = next;
    }
}

static void schedule_resume(sa_conn_t *conn) {
    if (conn->fd >= 0 && frames_buffered(conn) && can_take_more(conn) && mem_admits(conn, next_need(conn)) &&
        !sa_timer_running(&conn->resume))
        sa_timer_start(conn->broker->loop, &conn->resume, 0, on_resume, conn);
}

static void on_resume(sa_loop_t *loop, sa_timer_t *timer, void *arg) {
    (void)loop;
    (void)timer;
    sa_conn_t *conn = arg;
    if (tp_pending(conn))
        do_read(conn); /* decrypted bytes wait inside TLS: epoll will not report them */
    else
        parse_frames(conn, REQ_BUDGET);
    schedule_resume(conn);
    settle(conn);
}

/* After reading: give an empty read buffer back (an idle connection holds none), run the frame
 * deadline, watch what is needed now. */
static void settle(sa_conn_t *conn) {
    if (conn->fd >= 0) {
        if (conn->rbuf && conn->roff == conn->rlen && !tp_pending(conn)) {
            free(conn->rbuf);
            conn->rbuf = NULL;
            conn->roff = conn->rlen = 0;
            recharge(conn);
        }
        watch_frame_deadline(conn);
        update_events(conn);
    }
    check_conn(conn);
}

static void do_read(sa_conn_t *conn) {
    int budget = REQ_BUDGET;
    /* Frames left from an earlier turn go first. */
    budget -= parse_frames(conn, budget);
    /* Bounded by bytes as well as rounds: a TLS read returns at most one 16 KiB record, so a
     * round count alone would cut a large produce request into many loop turns. */
    size_t got = 0;
    for (int rounds = 0; conn->fd >= 0 && budget > 0 && rounds < READ_ROUNDS && got < READ_BYTES; rounds++) {
        uint8_t *dst;
        size_t room;
        if (conn->big) {
            dst = conn->big + conn->big_have;
            room = conn->big_size - conn->big_have;
        } else {
            if (!conn->rbuf) {
                if (!mem_admits(conn, RBUF_SIZE)) break; /* waits for memory (update_events) */
                conn->rbuf = sa_malloc(RBUF_SIZE);
                recharge(conn);
            }
            if (conn->roff > 0) { /* move the partial frame to the front so a whole one fits */
                memmove(conn->rbuf, conn->rbuf + conn->roff, conn->rlen - conn->roff);
                conn->rlen -= conn->roff;
                conn->roff = 0;
            }
            dst = conn->rbuf + conn->rlen;
            room = RBUF_SIZE - conn->rlen;
            if (!room) break; /* full of frames we may not dispatch yet (queue limit) */
        }
        ssize_t n = conn->tp->read(conn->tp_state, dst, room);
        if (n == 0) {
            sa_conn_close(conn, 0, conn->big || conn->rlen ? "peer closed in the middle of a frame" : NULL);
            return;
        }
        if (n < 0) {
            if (errno == EINTR) continue;
            if (errno == EAGAIN || errno == EWOULDBLOCK) {
                conn->read_wants_write = conn->tp->wants(conn->tp_state) == SA_LOOP_WRITE;
                break;
            }
            const char *why = conn->tp->why(conn->tp_state);
            sa_conn_close(conn, 0, *why ? why : strerror(errno));
            return;
        }
        conn->read_wants_write = 0;
        got += (size_t)n;
        if (conn->big) {
            conn->big_have += (size_t)n;
            if (conn->big_have == conn->big_size) {
                uint8_t *frame = conn->big;
                size_t len = conn->big_size;
                conn->big = NULL;
                conn->big_size = conn->big_have = 0;
                budget--;
                handle_frame(conn, frame, len);
            }
        } else {
            conn->rlen += (size_t)n;
            budget -= parse_frames(conn, budget);
        }
        if ((size_t)n < room && !tp_pending(conn)) break; /* drained the socket */
    }
    if (got) conn->last_io_us = sa_mono_us();
    schedule_resume(conn);
}

/* The TLS handshake, step by step as the socket allows. */
static void continue_handshake(sa_conn_t *conn) {
    int rc = conn->tp->handshake(conn->tp_state);
    if (rc < 0) {
        /* A scanner, a plaintext client on a TLS port, a bad certificate: the client's problem. */
        sa_conn_close(conn, 0, conn->tp->why(conn->tp_state));
        return;
    }
    if (rc == 0) return;
    conn->handshaking = 0;
    char principal[SA_PRINCIPAL_MAX];
    if (conn->auth.state == SA_AUTH_OPEN &&
        sa_tls_peer_principal(conn->tp_state, principal, sizeof(principal)))
        snprintf(conn->auth.principal, sizeof(conn->auth.principal), "%s", principal);
    sa_log_debug(SA_DBG_NET, "net", "%s: TLS handshake done on listener %s (%s)", conn->peer,
                 conn->listener->name, conn->auth.principal);
    if (!authenticating(conn)) sa_timer_stop(conn->broker->loop, &conn->auth_deadline);
    do_read(conn); /* the client's first request may have come with the handshake's last flight */
}

static void on_io(sa_loop_t *loop, int fd, unsigned events, void *arg) {
    (void)loop;
    (void)fd;
    sa_conn_t *conn = arg;
    if (conn->handshaking) {
        continue_handshake(conn);
        settle(conn);
        return;
    }
    if ((events & SA_LOOP_WRITE) && conn->read_wants_write) do_read(conn);
    if (conn->fd >= 0 && (events & SA_LOOP_WRITE)) sa_conn_flush(conn);
    if (conn->fd >= 0 && (events & SA_LOOP_READ)) {
        if (conn->watching & SA_LOOP_READ)
            do_read(conn);
        else {
            /* Reads are paused (queue full) but epoll reports a hang-up or error: probe it. */
            char c;
            ssize_t n = recv(conn->fd, &c, 1, MSG_PEEK | MSG_DONTWAIT);
            if (n == 0 || (n < 0 && errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR))
                sa_conn_close(conn, 0, NULL);
        }
    }
    settle(conn);
}

void sa_conn_check_limits(const sa_broker_t *broker) {
    size_t used = 0, n = 0, ips = 0;
    for (const sa_conn_t *conn = broker->_conns; conn; conn = conn->next) {
        assert(conn->fd >= 0 && conn->charged == charge_of(conn) && conn->ipc && conn->ipc->n > 0); /* 5, 6 */
        used += conn->charged;
        n++;
    }
    assert(used == broker->_budget.used && n == broker->_nconns && n == broker->_budget.nconns); /* 5 */
    const sa_conn_t *prev = NULL;
    for (const sa_conn_t *conn = broker->_mem_waiters; conn; prev = conn, conn = conn->wnext)
        assert(conn->mem_waiting && conn->fd >= 0 && conn->wprev == prev); /* 7 */
    assert(prev == broker->_mem_waiters_tail);
    size_t pos = 0;
    const sa_ip_count_t *ipc;
    while ((ipc = sa_hmap_next(&broker->_per_ip, &pos, NULL, NULL))) ips += ipc->n;
    assert(ips == n);                  /* 6 */
    (void)used, (void)prev, (void)ips; /* release builds: the asserts are gone */
}
