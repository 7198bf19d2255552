/*
 * broker.h - the broker's contract for request handlers: the broker, a request, and how a
 * handler answers now or later.
 *
 * DESIGN. One thread runs an epoll loop (loop.h). A connection reads frames, decodes the
 * request header and calls the handler registered for the ApiKey (dispatch.c). Every request
 * owns a response slot in its connection's queue; the connection writes slots strictly in
 * request order, so a handler may answer at once or park its request and answer later (a
 * Produce waiting for the group commit, a Fetch long-polling, a JoinGroup waiting for the
 * rebalance) and later requests on the same connection still reach the client in order.
 *
 * Once per loop turn, before sleeping, the broker starts a group commit of everything appended
 * so far on the store's helper threads (one fsync per dirty segment, and one for the metadata
 * log if it has new records) unless one is in flight; the loop keeps serving meanwhile. When it
 * completes (an eventfd), the broker runs the sync waiters registered before it started (Produce
 * responses, OffsetCommits...), then the data waiters (parked Fetches). Closed connections are
 * reaped before sleeping.
 *
 * ADDING A HANDLER (admin, group, transactions, ...): every handler is written with the kit
 * (kit.h: its contract, one function for each thing handlers do alike).
 *   1. Write src/broker/handle_<area>.c with sa_err_t sa_handle_<ApiName>(sa_req_t *req):
 *        sa_DeleteTopicsRequest_t in;
 *        sa_DeleteTopicsResponse_t out;
 *        sa_err_t err = sa_kit_decode(req, &in);      // at req->ApiVersion, arrays in req->arena
 *        if (err != SA_OK) return err;                // malformed: the connection is closed
 *        sa_DeleteTopicsResponse_init(&out);
 *        if (!SA_KIT_ARRAY(req, out.Responses, in.TopicNames_count)) return SA_ERR_TOOBIG;
 *        for (int32_t i = 0; i < out.Responses_count; i++) {
 *            sa_DeleteTopicsResponse_DeletableTopicResult_t *e = &out.Responses[i];
 *            const char *name;
 *            char errstr[256] = "";
 *            sa_DeleteTopicsResponse_DeletableTopicResult_init(e);
 *            e->Name = in.TopicNames[i];
 *            err = sa_kit_topic(req, e->Name, &name);          // a NUL-checked C string
 *            if (err == SA_OK) err = sa_kit_authorize(req, SA_ACL_DELETE, SA_RESOURCE_TOPIC, name);
 *            if (err == SA_OK) err = sa_store_topic_delete(req->broker->store, name, errstr, 256);
 *            SA_KIT_SET_ERROR(req, e, err, errstr);            // per entry, never returned
 *        }
 *        return sa_kit_encode(req, &out);
 *      Errors the client should see go in the entries' ErrorCode (and ErrorMessage) fields and the
 *      other entries still run; only what closes the connection is returned (a body that does not
 *      decode, the arena's cap).
 *   2. Declare it in src/broker/handlers.h and add one row to the table in dispatch.c:
 *        [SA_API_<Name>] = {MIN, MAX, sa_handle_<ApiName>},
 *      ApiVersions then advertises it automatically. An API that Kafka checks against the
 *      cluster names the operation in a fourth column, SA_ACL_<OP>, for sa_kit_authorize_cluster().
 * To answer later: an answer after the group commit (Produce) is sa_kit_answer_after_sync(); one
 * that appended to the metadata log (OffsetCommit, InitProducerId) is
 * sa_kit_answer_when_durable(); both return what the handler returns. For any other event (a
 * Fetch's new data, a rebalance), register what will complete the request, call sa_req_defer()
 * and return SA_ERR_AGAIN; when the answer is known, encode it and call sa_kit_finish().
 *
 * @locality everything here runs on the broker's loop thread.
 */
#ifndef SA_BROKER_BROKER_H
#define SA_BROKER_BROKER_H

#include <stddef.h>
#include <stdint.h>

#include "broker/conn_budget.h"
#include "broker/loop.h"
#include "broker/metastore.h"
#include "core/arena.h"
#include "core/buf.h"
#include "core/config.h"
#include "core/err.h"
#include "core/hash.h"

typedef struct sa_broker_s sa_broker_t;
typedef struct sa_conn_s sa_conn_t;
typedef struct sa_req_s sa_req_t;
typedef struct sa_store_s sa_store_t;
typedef struct sa_gcoord_s sa_gcoord_t;
typedef struct sa_listener_s sa_listener_t;
typedef struct sa_tls_ctx_s sa_tls_ctx_t;

/* The broker's settings, filled by `samsa broker` from flags and server.properties. */
typedef struct sa_broker_conf_s {
    char *config_file;                        /* --config FILE (server.properties) */
    char *listen;                             /* listeners: NAME://HOST:PORT,... (security/listener.h) */
    char *advertised;                         /* advertised.listeners; "" = derived from listen */
    char *protocol_map;                       /* listener.security.protocol.map */
    sa_strlist_t listener_props;              /* listener.name.NAME.KEY=VALUE */
    char *sasl_mechanisms;                    /* sasl.enabled.mechanisms */
    int64_t connections_max_reauth_ms;        /* connections.max.reauth.ms (0: sessions never end) */
    int64_t handshake_timeout_ms;             /* connections.handshake.timeout.ms: TLS + SASL */
    char *ssl_keystore_type;                  /* ssl.keystore.type (PEM) */
    char *ssl_keystore_location;              /* ssl.keystore.location: key + chain, PEM */
    char *ssl_key_password;                   /* ssl.key.password; never logged */
    char *ssl_certificate_location;           /* ssl.certificate.location (samsa, librdkafka's name) */
    char *ssl_key_location;                   /* ssl.key.location */
    char *ssl_truststore_type;                /* ssl.truststore.type (PEM) */
    char *ssl_truststore_location;            /* ssl.truststore.location: CAs of client certificates */
    char *ssl_client_auth;                    /* ssl.client.auth: none|requested|required */
    sa_strlist_t add_scram;                   /* --add-scram 'MECH=[name=N,password=P]' at start */
    char *data_dir;                           /* log.dirs */
    int64_t node_id;                          /* node.id / broker.id */
    int64_t num_partitions;                   /* for auto-created topics */
    int auto_create;                          /* auto.create.topics.enable */
    int64_t replication_factor;               /* default.replication.factor (accepted, always 1) */
    int64_t retention_ms;                     /* log.retention.ms; INT64_MIN = unset (use hours) */
    int64_t retention_hours;                  /* log.retention.hours */
    int64_t retention_bytes;                  /* log.retention.bytes, -1 = unlimited */
    int64_t segment_bytes;                    /* log.segment.bytes */
    int64_t roll_ms;                          /* log.roll.ms, 0 = by size only */
    int64_t retention_check_ms;               /* log.retention.check.interval.ms */
    int64_t message_max_bytes;                /* message.max.bytes: largest record batch */
    char *cleanup_policy;                     /* log.cleanup.policy */
    int cleaner_enable;                       /* log.cleaner.enable */
    char *cleaner_io_max;                     /* log.cleaner.io.max.bytes.per.second ("" = unlimited) */
    int64_t cleaner_dedupe_buffer;            /* log.cleaner.dedupe.buffer.size */
    int64_t cleaner_backoff_ms;               /* log.cleaner.backoff.ms */
    char *cleaner_min_ratio;                  /* log.cleaner.min.cleanable.ratio */
    int64_t cleaner_min_lag_ms;               /* log.cleaner.min.compaction.lag.ms */
    int64_t cleaner_max_lag_ms;               /* log.cleaner.max.compaction.lag.ms */
    int64_t cleaner_delete_retention_ms;      /* log.cleaner.delete.retention.ms */
    int64_t socket_request_max_bytes;         /* socket.request.max.bytes: largest request frame */
    int64_t max_connections;                  /* max.connections */
    int64_t max_connections_per_ip;           /* max.connections.per.ip */
    char *max_connections_per_ip_overrides;   /* max.connections.per.ip.overrides: HOST:N,... */
    int64_t queued_max_request_bytes;         /* queued.max.request.bytes: the connections' budget */
    int64_t connections_max_idle_ms;          /* connections.max.idle.ms */
    int64_t frame_timeout_ms;                 /* connections.frame.timeout.ms: a frame arrives whole */
    int64_t offsets_retention_minutes;        /* offsets.retention.minutes (group coordinator) */
    int64_t group_initial_rebalance_delay_ms; /* group.initial.rebalance.delay.ms */
    int64_t group_min_session_timeout_ms;     /* group.min.session.timeout.ms */
    int64_t group_max_session_timeout_ms;     /* group.max.session.timeout.ms */
    char *authorizer;                         /* authorizer.class.name ("" = none) */
    char *super_users;                        /* super.users: "User:a;User:b" */
    int allow_if_no_acl;                      /* allow.everyone.if.no.acl.found */
    int64_t txn_max_timeout_ms;               /* transaction.max.timeout.ms */
    int64_t txn_id_expiration_ms;             /* transactional.id.expiration.ms */
    int txn_verification;                     /* transaction.partition.verification.enable (KIP-890) */
    int64_t producer_id_expiration_ms;        /* producer.id.expiration.ms */
    int64_t producer_id_expiration_check_ms;  /* producer.id.expiration.check.interval.ms */
    sa_strlist_t overrides;                   /* -o KEY=VALUE, applied after everything else */
    char *log_level;                          /* --log-level */
    char *debug;                              /* --debug net,proto,storage */
} sa_broker_conf_t;

/* Waiting for the next group commit (see sa_broker_wait_sync). Embedded in its owner. */
typedef struct sa_sync_wait_s sa_sync_wait_t;
/** @p err is SA_OK when everything appended before the wait was registered is durable. */
typedef void sa_sync_fn(sa_broker_t *broker, sa_sync_wait_t *wait, sa_err_t err);
struct sa_sync_wait_s {
    sa_sync_fn *fn;
    sa_sync_wait_t *_prev, *_next; /* in broker->_sync_waits, oldest first */
    uint64_t _gen;                 /* broker->_sync_gen when registered */
    int _linked;
};

/* Waiting for new durable data (see sa_broker_wait_data). Embedded in its owner. */
typedef struct sa_data_wait_s sa_data_wait_t;
/** Called after a turn's sync made new data durable; the waiter stays registered. */
typedef void sa_data_fn(sa_broker_t *broker, sa_data_wait_t *wait);
struct sa_data_wait_s {
    sa_data_fn *fn;
    sa_data_wait_t *_prev, *_next;
    int _linked;
};

/* The broker. Handlers read these; only broker.c (and handle_group.c for coord/producers)
 * writes them. Everything below is opened by sa_broker_run before the first connection is
 * accepted, and the broker refuses to start if one cannot be: a handler never finds one missing. */
struct sa_broker_s {
    const sa_broker_conf_t *conf; /* borrowed from the command, valid while the broker runs */
    sa_loop_t *loop;
    sa_store_t *store;        /* the partition logs (and the metadata log's group commit) */
    sa_metastore_t metastore; /* DATA_DIR/metadata.log: offsets, membership, producer ids */
    sa_gcoord_t *coord;       /* the group coordinator (handle_group.c) */
    int32_t node_id;
    char cluster_id[32];      /* persisted in DATA_DIR/meta.properties */
    sa_listener_t *listeners; /* every listener (security/listener.h); a request's is req->listener */
    size_t nlisteners;
    int64_t started_ms; /* wall clock at start */
    /* private */
    sa_timer_t _coord_timer;     /* the coordinator's next deadline (handle_group.c) */
    sa_timer_t _txn_timer;       /* the transaction coordinator's next deadline (handle_txn.c) */
    sa_sync_wait_t _txn_sync;    /* ...and its wait for the next group commit */
    sa_timer_t _accept_pause;    /* out of fds: accepting resumes when it fires */
    sa_timer_t _retention_timer; /* log.retention.check.interval.ms */
    sa_timer_t _cleaner_timer;   /* log.cleaner.backoff.ms; 100 ms while a cleaning runs */
    sa_timer_t _expiry_timer;    /* producer.id.expiration.check.interval.ms; 1 ms while a pass runs */
    int _signal_fd;
    sa_tls_ctx_t *_tls; /* the TLS context of SSL and SASL_SSL listeners, NULL if none */
    sa_conn_t *_conns;  /* every open connection */
    size_t _nconns;
    sa_conn_t *_reap; /* closed connections to free in before_sleep */
    /* Connection limits (conn.c's header): the memory budget, connections paused on it (in the
     * order they were paused), the per-IP counts and their limits, refusals. */
    sa_budget_t _budget;
    sa_conn_t *_mem_waiters, *_mem_waiters_tail;
    sa_timer_t _mem_wake;           /* 0 ms: resume paused connections after memory was released */
    sa_hmap_t _per_ip;              /* "ip" -> sa_ip_count_t (conn.c) */
    struct sa_ip_limit_s *_ip_over; /* max.connections.per.ip.overrides, resolved to addresses */
    size_t _nip_over;
    uint64_t _refused;           /* connections refused at accept (max.connections, per IP), in all */
    uint64_t _refused_unlogged;  /* refused since the last warning */
    int64_t _refused_log_us;     /* when the last refusal warning was written */
    sa_sync_wait_t *_sync_waits; /* oldest first */
    sa_sync_wait_t *_sync_tail;
    uint64_t _sync_gen; /* syncs done; a wait is due once a sync after it ran */
    sa_data_wait_t *_data_waits;
    sa_data_wait_t *_data_cursor; /* next waiter to notify while notifying (unwait moves it) */
    int _dirty;                   /* something was appended since the last sync */
    int _sync_efd;                /* eventfd: the background group commit finished (-1: sync inline) */
    uint64_t _flight_gen;         /* _sync_gen when the commit in flight started */
    int _stopping;
};

/* A request and its response slot. Created by the connection, freed after its response was
 * written (or the connection closed). Header fields keep the spec's names. */
typedef void sa_req_cancel_fn(sa_req_t *req, void *arg);
typedef void sa_req_timeout_fn(sa_req_t *req, void *arg);

struct sa_req_s {
    sa_broker_t *broker;
    int16_t ApiKey;
    int16_t ApiVersion;
    int32_t CorrelationId;
    const char *ClientId; /* NUL-terminated copy in arena; "" if null */
    /* Who sent it and through what, the one place authorization looks (valid while the request
     * lives; the principal does not change once authenticated, re-authentication included): */
    const char *principal;         /* "User:alice" (SASL), "User:CN=app,O=org" (TLS client
                                    * certificate), "User:ANONYMOUS" (neither) */
    const sa_listener_t *listener; /* name, security protocol, the address advertised to it */
    const uint8_t *body;           /* request body after the header; valid until the request is freed */
    size_t body_len;
    sa_arena_t arena; /* decoded request and handler state; freed with the request */
    sa_buf_t resp;    /* response: header written by the broker, body appended by the handler */
    /* private */
    const struct sa_proto_api_s *_codec; /* the ApiKey's codecs (sa_proto_api), set by dispatch */
    sa_conn_t *_conn;                    /* NULL once the connection closed */
    sa_req_t *_next;                     /* in the connection's queue, request order */
    uint8_t *_frame;                     /* owned: the whole request frame (size prefix excluded) */
    size_t _frame_len;
    size_t _sent; /* bytes of resp already written */
    int _state;   /* REQ_* in conn.c */
    int _noreply; /* acks=0 Produce: no response at all */
    sa_req_cancel_fn *_cancel;
    sa_req_timeout_fn *_timeout;
    void *_arg;
    sa_timer_t _timer;
    int64_t _recv_us; /* when the frame was complete (for latency debug) */
};

/**
 * Park @p req: its response will come later with sa_req_complete().
 * @p timeout_ms >= 0 starts a deadline after which @p on_timeout(req, arg) runs (it must
 * complete the request); -1 means no deadline. If the connection closes first,
 * @p on_cancel(req, arg) runs (it must forget @p req: the request is freed soon after) and
 * neither callback runs again. Both callbacks may be NULL. The handler then returns SA_ERR_AGAIN.
 * Register whatever will complete the request (waiter, group state) BEFORE calling this: if the
 * connection already died while the handler ran, @p on_cancel runs from inside this call.
 */
void sa_req_defer(sa_req_t *req, int64_t timeout_ms, sa_req_timeout_fn *on_timeout,
                  sa_req_cancel_fn *on_cancel, void *arg);

/** The response body of a deferred @p req is in req->resp: send it, in order. Stops the deadline. */
void sa_req_complete(sa_req_t *req);

/** Send no response for @p req (Produce with acks=0). Call before returning SA_OK. */
static inline void sa_req_set_noreply(sa_req_t *req) { req->_noreply = 1; }

/** @returns a peer description "ip:port" for logs, valid while the request lives. */
const char *sa_req_peer(const sa_req_t *req);

/**
 * @returns how many bytes a response to @p req may take from the broker's memory budget
 * (queued.max.request.bytes, conn_budget.h) now: a Fetch's records stop there, even its first
 * batch. Half the budget and more while the broker is not short of memory, the whole budget
 * while it holds nothing; 0 for a closed connection.
 */
size_t sa_req_memory_room(const sa_req_t *req);

/**
 * Call @p wait->fn after the next group commit that starts after this call (at the end of this
 * loop turn, or after the one in flight), with its result. Marks the store dirty. @p wait is
 * borrowed until fn runs or sa_broker_unwait_sync().
 */
void sa_broker_wait_sync(sa_broker_t *broker, sa_sync_wait_t *wait, sa_sync_fn *fn);
void sa_broker_unwait_sync(sa_broker_t *broker, sa_sync_wait_t *wait);
/** Note that something was appended, so the turn ends with a sync. */
static inline void sa_broker_mark_dirty(sa_broker_t *broker) { broker->_dirty = 1; }

/** Call @p wait->fn after every sync that made new data durable, until unwaited. Borrowed. */
void sa_broker_wait_data(sa_broker_t *broker, sa_data_wait_t *wait, sa_data_fn *fn);
void sa_broker_unwait_data(sa_broker_t *broker, sa_data_wait_t *wait);

/** Run the broker with @p conf until SIGINT/SIGTERM. @returns an sa_exit_t. */
int sa_broker_run(const sa_broker_conf_t *conf);

#endif
