/*
 * broker.c - the broker process: listener, signals, the end-of-turn group commit, shutdown.
 *
 * Group commit, in the background: the loop never waits for the disk.
 *   1. before_sleep, once per turn: if something was appended and no commit is in flight,
 *      sa_store_sync_start() snapshots every dirty partition's end (and the metadata log's) and
 *      hands the fdatasyncs to the store's helper threads (ONE fdatasync per dirty segment for
 *      all appends so far, one for the metadata log's records: offset commits, producer ids...);
 *   2. meanwhile the loop keeps reading, appending and answering; appends made now wait for
 *      the next commit (their waiters have a newer generation);
 *   3. the helper writes an eventfd; on_sync_done -> sa_store_sync_finish() moves each HWM to
 *      its snapshot end, then the sync waiters registered before the start (parked Produce
 *      requests: each checks its partitions' HWM and answers) run oldest first, then the data
 *      waiters (parked Fetches re-read); the next before_sleep starts the next commit.
 * So a Produce is answered only after its bytes are on disk, and a long-polling Fetch is woken
 * by exactly the data it is allowed to see. Why not sync inline in before_sleep: the loop then
 * sat in fdatasync (p50 ~1 ms, p99 5-150 ms on the shared VM) while requests piled up in the
 * sockets, and each later turn read only REQ_BUDGET requests per connection before the next
 * blocking sync, so a backlog drained one fsync at a time (docs/broker.md, "Latency").
 * A failed fdatasync also cut the appends made after the start; commit_now() then syncs the
 * rest inline and answers every waiter, so each learns exactly whether its data survived.
 * Waiters that need no data (nothing appended) are answered in the same turn.
 * Each turn also frees the connections closed during it.
 *
 * Admission: a connection beyond max.connections, or beyond max.connections.per.ip for its
 * address (max.connections.per.ip.overrides, resolved at start), is closed at accept, counted,
 * with one warning per REFUSED_LOG_US however many (a flood of refusals must not flood the log).
 *
 * Listeners (security/listener.h): one listening socket per `listeners` entry, each accepting
 * into connections that know their listener (its security protocol: TLS handshake first, SASL
 * before any other request; the address Metadata advertises to them). The TLS context is built
 * once at start when some listener uses TLS; a missing or mismatched key refuses to start.
 * `--add-scram` credentials are written to the metadata log and synced before any listener
 * opens, so the first SCRAM user exists when every listener requires SASL; a user that already
 * has that mechanism's credential keeps it (a restart does not undo a password change).
 *
 * Shutdown (SIGINT/SIGTERM, through a signalfd so the handler is ordinary loop code): stop
 * accepting, finish the commit in flight and sync the rest inline (answer parked Produces),
 * close every connection (parked requests are cancelled), close the store (clean-shutdown
 * marker), exit 0.
 */
#include "broker/broker.h"

#include <errno.h>
#include <fcntl.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/resource.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <arpa/inet.h>
#include <unistd.h>

#include "broker/acl.h"
#include "broker/conn.h"
#include "broker/handle_group.h"
#include "broker/handle_txn.h"
#include "broker/meta.h"
#include "broker/security/listener.h"
#include "broker/security/scram_store.h"
#include "broker/security/tls.h"
#include "core/check.h"
#include "core/cli.h"
#include "core/log.h"
#include "core/mem.h"
#include "core/net.h"
#include "core/time.h"
#include "storage/storage.h"

#define ACCEPT_BUDGET  64       /* connections accepted per wakeup */
#define REFUSED_LOG_US 10000000 /* at most one warning about refused connections per 10 s */

/* One entry of max.connections.per.ip.overrides, its host resolved to a numeric address. */
typedef struct sa_ip_limit_s {
    char ip[64];
    int64_t max;
} sa_ip_limit_t;

/* ---- waiters ---- */

void sa_broker_wait_sync(sa_broker_t *broker, sa_sync_wait_t *wait, sa_sync_fn *fn) {
    if (wait->_linked) sa_broker_unwait_sync(broker, wait);
    wait->fn = fn;
    wait->_gen = broker->_sync_gen;
    wait->_next = NULL;
    wait->_prev = broker->_sync_tail;
    if (broker->_sync_tail)
        broker->_sync_tail->_next = wait;
    else
        broker->_sync_waits = wait;
    broker->_sync_tail = wait;
    wait->_linked = 1;
    broker->_dirty = 1;
}

void sa_broker_unwait_sync(sa_broker_t *broker, sa_sync_wait_t *wait) {
    if (!wait->_linked) return;
    if (wait->_prev)
        wait->_prev->_next = wait->_next;
    else
        broker->_sync_waits = wait->_next;
    if (wait->_next)
        wait->_next->_prev = wait->_prev;
    else
        broker->_sync_tail = wait->_prev;
    wait->_prev = wait->_next = NULL;
    wait->_linked = 0;
}

void sa_broker_wait_data(sa_broker_t *broker, sa_data_wait_t *wait, sa_data_fn *fn) {
    if (wait->_linked) return;
    wait->fn = fn;
    wait->_prev = NULL;
    wait->_next = broker->_data_waits;
    if (broker->_data_waits) broker->_data_waits->_prev = wait;
    broker->_data_waits = wait;
    wait->_linked = 1;
}

void sa_broker_unwait_data(sa_broker_t *broker, sa_data_wait_t *wait) {
    if (!wait->_linked) return;
    if (broker->_data_cursor == wait) broker->_data_cursor = wait->_next;
    if (wait->_prev)
        wait->_prev->_next = wait->_next;
    else
        broker->_data_waits = wait->_next;
    if (wait->_next) wait->_next->_prev = wait->_prev;
    wait->_prev = wait->_next = NULL;
    wait->_linked = 0;
}

static void on_sync_fail(void *opaque, sa_partition_t *part, sa_err_t err) {
    (void)opaque;
    /* The unsynced tail was cut; storage forgot the producer state of the batches in it. */
    sa_log_warn("storage", "%s-%d: sync failed (%s); producers waiting on it get an error and retry",
                sa_topic_name(sa_partition_topic(part)), sa_partition_id(part), sa_err2str(err));
}

/* Answer the sync waiters registered before generation @p gen (oldest first), then, if new
 * data became durable, the data waiters. */
static void run_waiters(sa_broker_t *broker, uint64_t gen, sa_err_t err, int had_data) {
    /* A callback may cancel other waits (closing a connection): always take the head. Waits
     * registered by the callbacks have a newer generation and wait for the next commit. */
    sa_sync_wait_t *wait;
    while ((wait = broker->_sync_waits) && wait->_gen < gen) {
        sa_broker_unwait_sync(broker, wait);
        wait->fn(broker, wait, err);
    }
    if (!had_data) return;
    /* The cursor survives any waiter being unwaited during the walk; new waiters go in front
     * of the list and wait for the next sync. */
    for (sa_data_wait_t *dw = broker->_data_waits; dw; dw = broker->_data_cursor) {
        broker->_data_cursor = dw->_next;
        dw->fn(broker, dw);
    }
    broker->_data_cursor = NULL;
}

/* A blocking group commit of everything appended so far (shutdown, no eventfd, failure path). */
static void commit_now(sa_broker_t *broker) {
    int had_data = sa_store_dirty(broker->store) || sa_store_sync_busy(broker->store);
    broker->_dirty = 0;
    sa_err_t err = sa_store_sync(broker->store, on_sync_fail, broker);
    run_waiters(broker, ++broker->_sync_gen, err, had_data);
}

/* The background commit finished (its eventfd fired, or shutdown): apply it, answer its waiters. */
static void commit_finish(sa_broker_t *broker) {
    if (!sa_store_sync_busy(broker->store)) return;
    sa_err_t err = sa_store_sync_finish(broker->store, on_sync_fail, broker);
    if (err) {
        /* The failed partition also lost the appends made after the commit started, whose
         * waiters belong to the next generation. Rare: make the rest durable now, blocking, so
         * every waiter learns exactly whether its data survived. */
        commit_now(broker);
        return;
    }
    run_waiters(broker, broker->_flight_gen, SA_OK, 1);
}

static void on_sync_done(sa_loop_t *loop, int fd, unsigned events, void *arg) {
    (void)loop;
    (void)events;
    uint64_t n;
    if (read(fd, &n, sizeof(n)) != (ssize_t)sizeof(n)) return;
    commit_finish(arg);
}

/* Steps 1-3 of a turn (see the file comment). */
static void group_commit(sa_broker_t *broker) {
    if (sa_store_sync_busy(broker->store)) return; /* its completion runs the waiters */
    if (!broker->_dirty && !sa_store_dirty(broker->store)) return;
    if (!sa_store_dirty(broker->store)) {
        /* Only waiters (nothing appended, or every append failed): answer them now. */
        broker->_dirty = 0;
        run_waiters(broker, ++broker->_sync_gen, SA_OK, 0);
        return;
    }
    if (broker->_sync_efd < 0) {
        commit_now(broker);
        return;
    }
    broker->_dirty = 0;
    broker->_flight_gen = ++broker->_sync_gen;
    sa_store_sync_start(broker->store, broker->_sync_efd);
}

static void before_sleep(sa_loop_t *loop, void *arg) {
    (void)loop;
    sa_broker_t *broker = arg;
    group_commit(broker);
    sa_conn_reap(broker);
    SA_DEBUG_CHECK(sa_conn_check_limits(broker));
}

/* ---- listener ---- */

static void on_accept_resume(sa_loop_t *loop, sa_timer_t *timer, void *arg) {
    (void)timer;
    sa_broker_t *broker = arg;
    for (size_t i = 0; i < broker->nlisteners; i++)
        if (broker->listeners[i].fd >= 0) sa_loop_mod_fd(loop, broker->listeners[i].fd, SA_LOOP_READ);
}

/* "::ffff:10.0.0.1" (an IPv4 client of a dual-stack listener) counts as "10.0.0.1". */
static const char *unmapped(const char *ip) {
    return !strncmp(ip, "::ffff:", 7) && strchr(ip + 7, '.') ? ip + 7 : ip;
}

/* The connection limit of @p ip: its override, else max.connections.per.ip. */
static int64_t max_for_ip(const sa_broker_t *broker, const char *ip) {
    for (size_t i = 0; i < broker->_nip_over; i++)
        if (!strcmp(broker->_ip_over[i].ip, ip)) return broker->_ip_over[i].max;
    return broker->conf->max_connections_per_ip;
}

/* Close a connection at accept, counted; a warning at most every REFUSED_LOG_US, with the count
 * since the last one, so a flood of refusals cannot flood the log. */
static void refuse(sa_broker_t *broker, int fd, const char *peer, const char *setting, int64_t max) {
    close(fd);
    broker->_refused++;
    broker->_refused_unlogged++;
    int64_t now = sa_mono_us();
    if (broker->_refused_log_us && now - broker->_refused_log_us < REFUSED_LOG_US) {
        sa_log_debug(SA_DBG_NET, "net", "%s: refused: %s (%lld) reached", peer, setting, (long long)max);
        return;
    }
    sa_log_warn(
        "net",
        "%s: refused: %s (%lld) reached; %llu connection(s) refused since the last report, %llu in all", peer,
        setting, (long long)max, (unsigned long long)broker->_refused_unlogged,
        (unsigned long long)broker->_refused);
    broker->_refused_unlogged = 0;
    broker->_refused_log_us = now;
}

/* max.connections.per.ip.overrides, Kafka's format "HOST:N,HOST:N" (HOST a name or an address;
 * the count after the last ':' so IPv6 addresses work); a name counts for each of its addresses.
 * @returns 0, or -1 with errstr. */
static int parse_ip_overrides(sa_broker_t *broker, char *errstr, size_t errstr_size) {
    const char *spec = broker->conf->max_connections_per_ip_overrides;
    if (!spec || !*spec) return 0;
    char *copy = sa_strdup(spec), *save = NULL;
    int rc = 0;
    for (char *item = strtok_r(copy, ",", &save); item && !rc; item = strtok_r(NULL, ",", &save)) {
        while (*item == ' ') item++;
        char *colon = strrchr(item, ':'), *end = NULL;
        long long max = colon ? strtoll(colon + 1, &end, 10) : -1;
        if (!colon || colon == item || end == colon + 1 || *end || max < 0 || max > INT32_MAX) {
            snprintf(errstr, errstr_size,
                     "max.connections.per.ip.overrides: \"%s\" is not HOST:COUNT (e.g. 10.0.0.1:100)", item);
            rc = -1;
            break;
        }
        *colon = '\0';
        char *host = item;
        size_t hl = strlen(host);
        if (host[0] == '[' && hl > 2 && host[hl - 1] == ']') { /* [::1]:5 */
            host[hl - 1] = '\0';
            host++;
        }
        struct addrinfo hints = {.ai_socktype = SOCK_STREAM}, *res = NULL;
        int gai = getaddrinfo(host, NULL, &hints, &res);
        if (gai) {
            snprintf(errstr, errstr_size, "max.connections.per.ip.overrides: cannot resolve \"%s\": %s", host,
                     gai_strerror(gai));
            rc = -1;
            break;
        }
        for (struct addrinfo *ai = res; ai; ai = ai->ai_next) {
            char num[64];
            if (getnameinfo(ai->ai_addr, ai->ai_addrlen, num, sizeof(num), NULL, 0, NI_NUMERICHOST)) continue;
            broker->_ip_over =
                sa_realloc(broker->_ip_over, (broker->_nip_over + 1) * sizeof(*broker->_ip_over));
            sa_ip_limit_t *o = &broker->_ip_over[broker->_nip_over++];
            snprintf(o->ip, sizeof(o->ip), "%s", unmapped(num));
            o->max = max;
        }
        freeaddrinfo(res);
    }
    free(copy);
    return rc;
}

static void on_accept(sa_loop_t *loop, int fd, unsigned events, void *arg) {
    (void)events;
    sa_listener_t *l = arg;
    sa_broker_t *broker = l->_owner;
    for (int i = 0; i < ACCEPT_BUDGET; i++) {
        struct sockaddr_storage ss;
        socklen_t sl = sizeof(ss);
        int cfd = accept4(fd, (struct sockaddr *)&ss, &sl, SOCK_NONBLOCK | SOCK_CLOEXEC);
        if (cfd < 0) {
            if (errno == EINTR) continue;
            if (errno == EMFILE || errno == ENFILE || errno == ENOBUFS || errno == ENOMEM) {
                /* The pending connection stays in the backlog and epoll would report it again
                 * at once: stop listening for a moment instead of spinning. */
                sa_log_warn("net", "accept: %s; pausing new connections for 100 ms (%zu open)",
                            strerror(errno), broker->_nconns);
                for (size_t k = 0; k < broker->nlisteners; k++)
                    if (broker->listeners[k].fd >= 0) sa_loop_mod_fd(loop, broker->listeners[k].fd, 0);
                sa_timer_start(loop, &broker->_accept_pause, 100, on_accept_resume, broker);
            } else if (errno != EAGAIN && errno != EWOULDBLOCK) {
                sa_log_warn("net", "accept: %s", strerror(errno));
            }
            return;
        }
        char host[64] = "?", serv[16] = "?", peer[96];
        getnameinfo((struct sockaddr *)&ss, sl, host, sizeof(host), serv, sizeof(serv),
                    NI_NUMERICHOST | NI_NUMERICSERV);
        snprintf(peer, sizeof(peer), "%s:%s", host, serv);
        const char *ip = unmapped(host);
        int64_t ip_max = max_for_ip(broker, ip);
        if ((int64_t)broker->_nconns >= broker->conf->max_connections) {
            refuse(broker, cfd, peer, "max.connections", broker->conf->max_connections);
            continue;
        }
        if ((int64_t)sa_conn_ip_count(broker, ip) >= ip_max) {
            refuse(broker, cfd, peer, "max.connections.per.ip", ip_max);
            continue;
        }
        int one = 1;
        setsockopt(cfd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
        sa_conn_new(broker, cfd, peer, ip, l);
    }
}

static int open_listener(const char *host, int port, char *errstr, size_t errstr_size) {
    char portstr[16];
    snprintf(portstr, sizeof(portstr), "%d", port);
    struct addrinfo hints = {.ai_socktype = SOCK_STREAM, .ai_flags = AI_PASSIVE}, *res = NULL;
    int gai = getaddrinfo(*host ? host : NULL, portstr, &hints, &res);
    if (gai) {
        snprintf(errstr, errstr_size, "cannot resolve listen host \"%s\": %s", host, gai_strerror(gai));
        return -1;
    }
    int fd = -1;
    for (struct addrinfo *ai = res; ai; ai = ai->ai_next) {
        fd = socket(ai->ai_family, ai->ai_socktype | SOCK_NONBLOCK | SOCK_CLOEXEC, ai->ai_protocol);
        if (fd < 0) continue;
        int one = 1;
        setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
        if (bind(fd, ai->ai_addr, ai->ai_addrlen) == 0 && listen(fd, 1024) == 0) break;
        snprintf(errstr, errstr_size, "cannot listen on %s:%d: %s", host, port, strerror(errno));
        close(fd);
        fd = -1;
    }
    freeaddrinfo(res);
    return fd;
}

static int is_wildcard(const char *host) {
    return !*host || !strcmp(host, "0.0.0.0") || !strcmp(host, "::") || !strcmp(host, "[::]");
}

/* Parse the listeners and build the TLS context if one needs it. @returns 0 or an sa_exit_t. */
static int setup_listeners(sa_broker_t *broker, char *errstr, size_t errstr_size) {
    const sa_broker_conf_t *conf = broker->conf;
    sa_listener_conf_t lc = {conf->listen,          conf->advertised,      conf->protocol_map,
                             conf->sasl_mechanisms, conf->ssl_client_auth, &conf->listener_props};
    if (sa_listeners_parse(&lc, &broker->listeners, &broker->nlisteners, errstr, errstr_size) != SA_OK)
        return SA_EXIT_USAGE;
    int tls = 0, need_trust = 0;
    for (size_t i = 0; i < broker->nlisteners; i++) {
        sa_listener_t *l = &broker->listeners[i];
        l->_owner = broker;
        if (!sa_secproto_tls(l->proto)) continue;
        tls = 1;
        need_trust |= l->client_auth != SA_TLS_CLIENT_AUTH_NONE;
    }
    if (!tls) return 0;
    sa_tls_conf_t tc = {conf->ssl_keystore_type,       conf->ssl_keystore_location,
                        conf->ssl_key_password,        conf->ssl_certificate_location,
                        conf->ssl_key_location,        conf->ssl_truststore_type,
                        conf->ssl_truststore_location, need_trust};
    return sa_tls_ctx_new(&tc, &broker->_tls, errstr, errstr_size) == SA_OK ? 0 : SA_EXIT_USAGE;
}

/* --add-scram: write each credential to the metadata log and sync it before serving. */
static int add_scram_users(sa_broker_t *broker) {
    const sa_strlist_t *list = &broker->conf->add_scram;
    int rc = 0;
    for (size_t i = 0; i < list->n && !rc; i++) {
        const char *p = list->v[i];
        while (*p && !rc) {
            sa_scram_spec_t spec;
            sa_scram_cred_t cred;
            char errstr[256];
            if (sa_scram_parse_spec(&p, &spec, errstr, sizeof(errstr)) ||
                sa_scram_spec_derive(&spec, errstr, sizeof(errstr)) ||
                (!*spec.name && snprintf(errstr, sizeof(errstr), "name=... is missing") > 0)) {
                sa_log_error("broker", "--add-scram: %s", errstr);
                rc = -1;
            } else if (sa_scram_store_find(broker->metastore.scram, spec.name, spec.mech)) {
                /* Kafka's format --add-scram runs once; here it is a start flag, so a user whose
                 * password was changed since must not get the old one back at the next start. */
                sa_log_info("broker", "--add-scram: user \"%s\" already has a %s credential; kept", spec.name,
                            sa_scram_mech_name(spec.mech));
            } else if (sa_scram_cred_from_salted(&cred, spec.mech, spec.iterations, spec.salt, spec.salt_len,
                                                 spec.salted, spec.salted_len) ||
                       sa_scram_store_upsert(broker->metastore.scram, spec.name, &cred, NULL) != SA_OK) {
                sa_log_error("broker", "--add-scram: cannot store the credential of %s", spec.name);
                rc = -1;
            } else {
                sa_log_info("broker", "--add-scram: %s credential of user \"%s\" set (%d iterations)",
                            sa_scram_mech_name(spec.mech), spec.name, spec.iterations);
            }
            sa_scram_spec_wipe(&spec);
        }
    }
    if (!rc && list->n && sa_store_sync(broker->store, NULL, NULL) != SA_OK) {
        sa_log_error("broker", "--add-scram: the metadata log could not be synced");
        rc = -1;
    }
    return rc;
}

static void on_signal(sa_loop_t *loop, int fd, unsigned events, void *arg) {
    (void)events;
    sa_broker_t *broker = arg;
    struct signalfd_siginfo si;
    if (read(fd, &si, sizeof(si)) != (ssize_t)sizeof(si)) return;
    sa_log_info("broker", "%s received: shutting down", strsignal((int)si.ssi_signo));
    broker->_stopping = 1;
    sa_loop_stop(loop);
}

static void on_retention(sa_loop_t *loop, sa_timer_t *timer, void *arg) {
    sa_broker_t *broker = arg;
    sa_err_t err = sa_store_enforce_retention(broker->store, sa_wall_ms());
    if (err != SA_OK) sa_log_warn("storage", "retention: %s", sa_err2str(err));
    sa_timer_start(loop, timer, broker->conf->retention_check_ms, on_retention, broker);
}

/* The log cleaner's turn: adopt a finished cleaning, start the next (storage.h). Often while one
 * runs, so its result is adopted soon; log.cleaner.backoff.ms otherwise. */
/* Producer-id expiry: a pass over the partitions in slices of EXPIRY_BUDGET producers (a few
 * ms each, docs/storage.md), the loop serving requests between slices. */
#define EXPIRY_BUDGET 20000
static void on_expiry(sa_loop_t *loop, sa_timer_t *timer, void *arg) {
    sa_broker_t *broker = arg;
    int more = sa_store_expire_producers(broker->store, sa_wall_ms(), EXPIRY_BUDGET);
    sa_timer_start(loop, timer, more ? 1 : broker->conf->producer_id_expiration_check_ms, on_expiry, broker);
}

static void on_cleaner(sa_loop_t *loop, sa_timer_t *timer, void *arg) {
    sa_broker_t *broker = arg;
    int running = sa_store_clean_tick(broker->store, sa_wall_ms());
    sa_timer_start(loop, timer,
                   running ? SA_MIN(100, broker->conf->cleaner_backoff_ms) : broker->conf->cleaner_backoff_ms,
                   on_cleaner, broker);
}

/* A number option given as text (Kafka's doubles): @returns 0 and *out, or -1. */
static int parse_double(const char *s, double lo, double hi, double *out) {
    char *end;
    errno = 0;
    double v = strtod(s, &end);
    if (errno || end == s || *end || v < lo || v > hi) return -1;
    *out = v;
    return 0;
}

/* ---- run ---- */

static int mkdir_p(const char *path) {
    char tmp[4096];
    snprintf(tmp, sizeof(tmp), "%s", path);
    for (char *p = tmp + 1; *p; p++) {
        if (*p != '/') continue;
        *p = '\0';
        if (mkdir(tmp, 0755) < 0 && errno != EEXIST) return -1;
        *p = '/';
    }
    return mkdir(tmp, 0755) < 0 && errno != EEXIST ? -1 : 0;
}

static void shutdown_conns(sa_broker_t *broker) {
    /* Answer every Produce that is durable now, then drop the connections. */
    commit_finish(broker);
    commit_now(broker);
    while (broker->_conns) {
        sa_conn_flush(broker->_conns);
        if (broker->_conns) sa_conn_close(broker->_conns, 0, "broker shutting down");
    }
    sa_conn_reap(broker);
}

int sa_broker_run(const sa_broker_conf_t *conf) {
    int64_t t0 = sa_mono_us();
    int rc = SA_EXIT_FAIL;
    char errstr[512] = "";
    sa_broker_t broker_s = {0}, *broker = &broker_s;
    broker->conf = conf;
    broker->node_id = (int32_t)conf->node_id;
    broker->_signal_fd = broker->_sync_efd = -1;
    broker->started_ms = sa_wall_ms();

    rc = setup_listeners(broker, errstr, sizeof(errstr));
    if (!rc && parse_ip_overrides(broker, errstr, sizeof(errstr)) < 0) rc = SA_EXIT_USAGE;
    if (rc) {
        fprintf(stderr, "samsa broker: %s\n", errstr);
        goto out;
    }
    broker->_budget.limit = (size_t)conf->queued_max_request_bytes;
    if (conf->queued_max_request_bytes < conf->message_max_bytes) {
        /* A record batch larger than the budget could be produced (alone) but never fetched. */
        fprintf(stderr,
                "samsa broker: queued.max.request.bytes (%lld) must be at least message.max.bytes (%lld)\n",
                (long long)conf->queued_max_request_bytes, (long long)conf->message_max_bytes);
        rc = SA_EXIT_USAGE;
        goto out;
    }
    rc = SA_EXIT_FAIL;

    if (mkdir_p(conf->data_dir) < 0) {
        sa_log_error("broker", "cannot create data directory %s: %s", conf->data_dir, strerror(errno));
        goto out;
    }
    sa_store_conf_t sconf;
    sa_store_conf_defaults(&sconf);
    sconf.retention_ms = conf->retention_ms;
    sconf.retention_bytes = conf->retention_bytes;
    sconf.segment_bytes = conf->segment_bytes;
    sconf.segment_ms = conf->roll_ms;
    sconf.max_message_bytes = conf->message_max_bytes;
    sconf.num_partitions = (int32_t)conf->num_partitions;
    snprintf(sconf.cleanup_policy, sizeof(sconf.cleanup_policy), "%s",
             conf->cleanup_policy ? conf->cleanup_policy : "delete");
    sconf.cleaner_enable = conf->cleaner_enable;
    sconf.cleaner_dedupe_buffer_size = conf->cleaner_dedupe_buffer;
    sconf.min_compaction_lag_ms = conf->cleaner_min_lag_ms;
    sconf.max_compaction_lag_ms = conf->cleaner_max_lag_ms;
    sconf.delete_retention_ms = conf->cleaner_delete_retention_ms;
    sconf.producer_id_expiration_ms = conf->producer_id_expiration_ms;
    if (conf->cleaner_min_ratio && *conf->cleaner_min_ratio &&
        parse_double(conf->cleaner_min_ratio, 0, 1, &sconf.min_cleanable_ratio)) {
        sa_log_error("broker", "log.cleaner.min.cleanable.ratio=%s: expected a number in [0, 1]",
                     conf->cleaner_min_ratio);
        goto out;
    }
    if (conf->cleaner_io_max && *conf->cleaner_io_max &&
        parse_double(conf->cleaner_io_max, 1, 1e300, &sconf.cleaner_io_max_bytes_per_second)) {
        sa_log_error("broker", "log.cleaner.io.max.bytes.per.second=%s: expected a number of bytes >= 1",
                     conf->cleaner_io_max);
        goto out;
    }
    if (sconf.cleaner_io_max_bytes_per_second >= 1e300)
        sconf.cleaner_io_max_bytes_per_second = 0; /* Kafka's "unlimited" */
    sa_err_t err = sa_store_open(conf->data_dir, &sconf, &broker->store, errstr, sizeof(errstr));
    if (err != SA_OK) {
        sa_log_error("broker", "cannot open the data directory %s: %s%s", conf->data_dir,
                     errstr[0] ? errstr : sa_err2str(err),
                     err == SA_ERR_EXISTS ? " (is another broker using it?)" : "");
        goto out;
    }
    if (sa_broker_meta_load(conf->data_dir, broker->node_id, broker->cluster_id, sizeof(broker->cluster_id),
                            errstr, sizeof(errstr)) != SA_OK) {
        sa_log_error("broker", "%s", errstr);
        goto out;
    }
    /* Committed offsets, group membership and producer ids: without them the broker would
     * answer group and idempotent-producer requests wrongly, so it does not start at all. */
    err = sa_metastore_open(&broker->metastore, broker->store, NULL, errstr, sizeof(errstr));
    if (err != SA_OK) {
        sa_log_error("broker", "cannot open the metadata log in %s: %s", conf->data_dir,
                     errstr[0] ? errstr : sa_err2str(err));
        goto out;
    }

    if (add_scram_users(broker) < 0) goto out;
    /* The authorizer and its ACLs (acl.h): a setting it cannot honour stops the start. */
    if (sa_acls_configure(broker->metastore.acls, conf->authorizer, conf->super_users, conf->allow_if_no_acl,
                          errstr, sizeof(errstr)) != SA_OK) {
        sa_log_error("broker", "%s", errstr);
        goto out;
    }
    if (sa_acls_enabled(broker->metastore.acls))
        sa_log_info("broker",
                    "authorizer on: %zu ACLs, super.users \"%s\", allow.everyone.if.no.acl.found=%s",
                    sa_acls_count(broker->metastore.acls), conf->super_users,
                    conf->allow_if_no_acl ? "true" : "false");

    broker->loop = sa_loop_new();
    if (!broker->loop) {
        sa_log_error("broker", "epoll: %s", strerror(errno));
        goto out;
    }
    signal(SIGPIPE, SIG_IGN);
    /* Every connection and every segment is an fd: use all the process may have. */
    struct rlimit rl;
    if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur < rl.rlim_max) {
        rl.rlim_cur = rl.rlim_max;
        setrlimit(RLIMIT_NOFILE, &rl);
    }
    sigset_t mask;
    sigemptyset(&mask);
    sigaddset(&mask, SIGINT);
    sigaddset(&mask, SIGTERM);
    sigprocmask(SIG_BLOCK, &mask, NULL);
    broker->_signal_fd = signalfd(-1, &mask, SFD_NONBLOCK | SFD_CLOEXEC);
    if (broker->_signal_fd < 0 ||
        sa_loop_add_fd(broker->loop, broker->_signal_fd, SA_LOOP_READ, on_signal, broker) < 0) {
        sa_log_error("broker", "signalfd: %s", strerror(errno));
        goto out;
    }
    for (size_t i = 0; i < broker->nlisteners; i++) {
        sa_listener_t *l = &broker->listeners[i];
        l->fd = open_listener(l->host, l->port, errstr, sizeof(errstr));
        if (l->fd < 0) {
            sa_log_error("broker", "listener %s: %s", l->name, errstr);
            goto out;
        }
        if (sa_loop_add_fd(broker->loop, l->fd, SA_LOOP_READ, on_accept, l) < 0) {
            sa_log_error("broker", "epoll: %s", strerror(errno));
            goto out;
        }
    }
    /* Without the eventfd the group commit just runs inline (the loop blocks while it syncs). */
    broker->_sync_efd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
    if (broker->_sync_efd >= 0 &&
        sa_loop_add_fd(broker->loop, broker->_sync_efd, SA_LOOP_READ, on_sync_done, broker) < 0) {
        close(broker->_sync_efd);
        broker->_sync_efd = -1;
    }
    if (broker->_sync_efd < 0)
        sa_log_warn("broker", "eventfd: %s; syncing on the loop thread", strerror(errno));
    sa_loop_set_before_sleep(broker->loop, before_sleep, broker);
    sa_group_open(broker);
    sa_txn_open(broker);
    sa_timer_start(broker->loop, &broker->_retention_timer, conf->retention_check_ms, on_retention, broker);
    sa_timer_start(broker->loop, &broker->_expiry_timer, conf->producer_id_expiration_check_ms, on_expiry,
                   broker);
    sa_timer_start(broker->loop, &broker->_cleaner_timer, SA_MIN(conf->cleaner_backoff_ms, 1000), on_cleaner,
                   broker);

    char where[2048] = "";
    for (size_t i = 0, used = 0; i < broker->nlisteners && used < sizeof(where); i++) {
        const sa_listener_t *l = &broker->listeners[i];
        used += (size_t)snprintf(where + used, sizeof(where) - used, "%s%s %s:%d (%s%s%s, advertised %s:%d)",
                                 i ? ", " : "", l->name, l->host, l->port, sa_secproto_name(l->proto),
                                 sa_secproto_sasl(l->proto) ? " " : "",
                                 sa_secproto_sasl(l->proto) ? l->mech_list : "", l->adv_host, l->adv_port);
    }
    sa_log_info("broker", "listening on %s (node %d, cluster %s, %zu topics, data %s) - ready in %.1f ms",
                where, broker->node_id, broker->cluster_id, sa_store_topic_count(broker->store),
                conf->data_dir, (double)(sa_mono_us() - t0) / 1000.0);
    for (size_t i = 0; i < broker->nlisteners; i++) {
        const sa_listener_t *l = &broker->listeners[i];
        if (is_wildcard(l->host) && !l->adv_explicit)
            sa_log_warn(
                "broker",
                "listener %s is on all interfaces: clients will be told to connect to \"%s:%d\"; if they "
                "cannot resolve that name (Docker, another host), set advertised.listeners",
                l->name, l->adv_host, l->adv_port);
        if (is_wildcard(l->host) && l->proto == SA_SECPROTO_PLAINTEXT)
            sa_log_warn("broker",
                        "listener %s accepts unauthenticated, unencrypted clients on every interface "
                        "(docs/security.md)",
                        l->name);
    }

    if (sa_loop_run(broker->loop) < 0) {
        sa_log_error("broker", "event loop: %s", strerror(errno));
        goto out;
    }
    rc = SA_EXIT_OK;
out:
    if (broker->loop) {
        for (size_t i = 0; i < broker->nlisteners; i++)
            if (broker->listeners[i].fd >= 0) sa_loop_del_fd(broker->loop, broker->listeners[i].fd);
        sa_timer_stop(broker->loop, &broker->_retention_timer);
        sa_timer_stop(broker->loop, &broker->_expiry_timer);
        sa_timer_stop(broker->loop, &broker->_cleaner_timer);
        sa_timer_stop(broker->loop, &broker->_accept_pause);
        if (broker->store) shutdown_conns(broker);
        sa_timer_stop(broker->loop, &broker->_mem_wake);
        if (broker->_refused)
            sa_log_info("net",
                        "%llu connection(s) were refused at accept (max.connections, max.connections.per.ip)",
                        (unsigned long long)broker->_refused);
        sa_txn_close(broker); /* before the loop goes: they hold timers */
        sa_group_close(broker);
    }
    for (size_t i = 0; i < broker->nlisteners; i++)
        if (broker->listeners[i].fd >= 0) close(broker->listeners[i].fd);
    sa_listeners_free(broker->listeners, broker->nlisteners);
    sa_tls_ctx_free(broker->_tls);
    free(broker->_ip_over);
    sa_hmap_free(&broker->_per_ip); /* empty: every connection was closed */
    if (broker->_signal_fd >= 0) close(broker->_signal_fd);
    if (broker->_sync_efd >= 0) close(broker->_sync_efd); /* the store finished every commit */
    if (broker->metastore.log && sa_metastore_close(&broker->metastore) != SA_OK)
        sa_log_error("broker", "closing the metadata log: a final sync failed (the next start recovers)");
    if (broker->store) {
        err = sa_store_close(broker->store);
        if (err != SA_OK) {
            sa_log_error("broker", "closing the store: %s (the next start recovers)", sa_err2str(err));
            rc = SA_EXIT_FAIL;
        } else if (rc == SA_EXIT_OK) {
            sa_log_info("broker", "stopped cleanly");
        }
    }
    sa_loop_free(broker->loop);
    return rc;
}
