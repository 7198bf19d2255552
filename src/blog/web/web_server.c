/*
 * web_server.c - libmicrohttpd set-up, routing, the request life cycle and the suspend ->
 * outbox -> delivery report -> resume path (see web_int.h for the life cycle), and the live
 * events made from the topics' tail.
 *
 * Threads: libmicrohttpd's polling threads run every handler; the outbox's writer thread
 * (web_outbox.c) and the producer's poller thread (web_kafka.c, ack()) only store outcomes and
 * resume connections, so all answering happens on the HTTP threads.
 */
#include "blog/web/web_server.h"

#include <arpa/inet.h>
#include <netdb.h>
#include <sys/socket.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include "blog/web/web_int.h"
#include "core/log.h"
#include "core/mem.h"
#include "core/net.h"
#include "core/time.h"

const char *const sa_web_route_names[ROUTE_COUNT_] = {[ROUTE_INDEX] = "/",
                                                      [ROUTE_POST_FORM] = "POST /posts",
                                                      [ROUTE_POST_PAGE] = "/posts/{id}",
                                                      [ROUTE_API_CREATE] = "POST /api/posts",
                                                      [ROUTE_API_LIST] = "/api/posts",
                                                      [ROUTE_API_GET] = "/api/posts/{id}",
                                                      [ROUTE_API_EVENTS] = "/api/events",
                                                      [ROUTE_API_STATS] = "/api/stats",
                                                      [ROUTE_HEALTHZ] = "/healthz",
                                                      [ROUTE_METRICS] = "/metrics",
                                                      [ROUTE_STATIC] = "/static",
                                                      [ROUTE_OTHER] = "other"};

/* Pages load only our own script and style; no inline script anywhere. */
static const char csp[] =
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
    "connect-src 'self'; object-src 'none'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'";

static void add_headers(struct MHD_Response *resp, const char *ctype, const char *const *extra) {
    MHD_add_response_header(resp, "Content-Type", ctype);
    MHD_add_response_header(resp, "Content-Security-Policy", csp);
    MHD_add_response_header(resp, "X-Content-Type-Options", "nosniff");
    MHD_add_response_header(resp, "X-Frame-Options", "DENY");
    MHD_add_response_header(resp, "Referrer-Policy", "same-origin");
    for (; extra && extra[0]; extra += 2) MHD_add_response_header(resp, extra[0], extra[1]);
}

enum MHD_Result sa_web_respond(req_t *req, unsigned status, const char *ctype, const char *body, size_t len,
                               const char *const *extra) {
    struct MHD_Response *resp = MHD_create_response_from_buffer(len, (void *)body, MHD_RESPMEM_MUST_COPY);
    add_headers(resp, ctype, extra);
    if (req->set_cookie && req->csrf[0]) {
        char cookie[128];
        snprintf(cookie, sizeof(cookie), "samsa_csrf=%s; Path=/; HttpOnly; SameSite=Strict", req->csrf);
        MHD_add_response_header(resp, "Set-Cookie", cookie);
    }
    if (req->set_lang_cookie &&
        !strncmp(ctype, "text/html", 9)) { /* a year; Lax: links from elsewhere keep it */
        char cookie[96];
        snprintf(cookie, sizeof(cookie), "samsa_lang=%s; Path=/; Max-Age=31536000; SameSite=Lax",
                 sa_i18n_code(req->lang));
        MHD_add_response_header(resp, "Set-Cookie", cookie);
    }
    enum MHD_Result rc = MHD_queue_response(req->conn, status, resp);
    MHD_destroy_response(resp);
    sa_web_metrics_request(req->srv->metrics, req->route, status);
    return rc;
}

enum MHD_Result sa_web_respond_json(req_t *req, unsigned status, json_t *doc, const char *const *extra) {
    char *text = json_dumps(doc, JSON_COMPACT | JSON_REAL_PRECISION(10));
    json_decref(doc);
    enum MHD_Result rc =
        sa_web_respond(req, status, "application/json", text ? text : "{}", text ? strlen(text) : 2, extra);
    free(text);
    return rc;
}

enum MHD_Result sa_web_respond_error(req_t *req, unsigned status, const char *message,
                                     const char *const *extra) {
    return sa_web_respond_json(req, status, json_pack("{s:s}", "error", message), extra);
}

const char *sa_web_query(req_t *req, const char *name) {
    return MHD_lookup_connection_value(req->conn, MHD_GET_ARGUMENT_KIND, name);
}

/* Delivery report, on the producer's poller thread. */
static void ack(void *msg_opaque, const char *err, int maybe_persisted) {
    if (*(const int *)msg_opaque == PRODUCE_SWEEP) {
        sa_web_outbox_sweep_ack(msg_opaque, err);
        return;
    }
    req_t *req = msg_opaque;
    sa_web_outbox_t *ob = req->srv->outbox;
    if (!err) { /* answered once the post is queued in the store, so the feed shows it at once */
        sa_web_outbox_done(ob, req->id, SA_DB_OUT_QUEUED, req, SUBMIT_ACKED);
        return;
    }
    req->ack_err = sa_strdup(err);
    if (maybe_persisted) /* it stays pending: the recovery sweep produces it again */
        sa_web_resume(req, SUBMIT_FAILED);
    else /* surely not sent: free its key before answering, so a retry can use it */
        sa_web_outbox_done(ob, req->id, SA_DB_OUT_RELEASE, req, SUBMIT_FAILED);
}

void sa_web_resume(req_t *req, req_outcome_t outcome) {
    req->outcome = outcome;
    atomic_store(&req->state, REQ_DONE);
    MHD_resume_connection(req->conn);
}

void sa_web_submit(req_t *req) {
    sa_ulid_new(req->id);
    char when[48];
    sa_time_rfc3339(sa_wall_ms(), when);
    req->op = sa_post_op_new(&req->in, req->id, when, req->key);
    /* suspend first: the outbox may resume it before this function returns */
    atomic_store(&req->state, REQ_RESERVING);
    MHD_suspend_connection(req->conn);
    sa_web_outbox_reserve(req->srv->outbox, req);
}

void sa_web_finish_submit(req_t *req) {
    if (req->outcome == SUBMIT_EXISTS) return;
    sa_web_metrics_produce(req->srv->metrics, req->t0_us ? sa_mono_us() - req->t0_us : 0,
                           req->outcome == SUBMIT_ACKED);
    if (req->outcome == SUBMIT_FAILED)
        sa_log_warn("web", "post %s was not acknowledged: %s", req->id, req->ack_err);
}

/* A record of the topics' tail (tail thread): a live event with the post as the store has it. */
static void on_record(void *opaque, int is_op, const json_t *value) {
    sa_web_server_t *srv = opaque;
    const char *id = json_string_value(json_object_get(value, "id"));
    if (!sa_ulid_valid(id)) return;
    json_t *post = NULL;
    char errstr[256];
    if (sa_db_post_get(srv->db, id, &post, errstr, sizeof(errstr)) < 0)
        sa_log_debug(SA_DBG_HTTP, "web", "live event for %s: %s", id, errstr);
    const char *status = json_string_value(json_object_get(post, "status"));
    if (!is_op && (!status || !strcmp(status, "queued"))) {
        /* a verdict the store lacks: not from samsa's worker (it stores before it publishes), so
         * another producer's. It is kept (first verdict wins) and left for a worker to log. */
        json_t *recs[1] = {(json_t *)value};
        if (sa_db_import(srv->db, recs, 1, 1, SA_DB_F_PUBLISHED, errstr, sizeof(errstr)))
            sa_log_warn("web", "store: %s", errstr);
        json_decref(post);
        post = NULL;
        sa_db_post_get(srv->db, id, &post, errstr, sizeof(errstr));
    }
    if (!post && is_op) { /* still pending in the store (its ack is on the way): the record says it all */
        static const char *const fields[] = {"title", "content", "author", "lang", "submitted_at"};
        post = json_pack("{s:s, s:s, s:n, s:[]}", "id", id, "status", "queued", "score", "reasons");
        for (size_t i = 0; i < SA_ARRAY_LEN(fields); i++) {
            const char *v = json_string_value(json_object_get(value, fields[i]));
            json_object_set_new(post, fields[i], json_string(v ? v : ""));
        }
    }
    if (!post) return;
    sa_web_events_emit(srv->events, is_op ? "post" : "status", post);
    json_decref(post);
}

/* Resolve the --http address HOST:PORT into @p ss. @returns 0 or -1 with errstr. */
static int resolve(const char *hostport, struct sockaddr_storage *ss, char *errstr, size_t errstr_size) {
    char host[256], port_s[16];
    int port;
    if (sa_net_split_hostport(hostport, host, sizeof(host), &port) || port <= 0 || port > 65535) {
        snprintf(errstr, errstr_size, "--http: expected HOST:PORT, got \"%s\"", hostport);
        return -1;
    }
    snprintf(port_s, sizeof(port_s), "%d", port);
    struct addrinfo hints = {.ai_socktype = SOCK_STREAM, .ai_flags = AI_PASSIVE}, *ai = NULL;
    int gai = getaddrinfo(host, port_s, &hints, &ai);
    if (gai || !ai) {
        snprintf(errstr, errstr_size, "--http %s: %s", hostport, gai_strerror(gai));
        return -1;
    }
    memcpy(ss, ai->ai_addr, ai->ai_addrlen);
    freeaddrinfo(ai);
    return 0;
}

static route_t route_of(const char *method, const char *url, const char **arg) {
    int get = !strcmp(method, "GET") || !strcmp(method, "HEAD"), post = !strcmp(method, "POST");
    *arg = NULL;
    if (!strcmp(url, "/")) return get ? ROUTE_INDEX : ROUTE_OTHER;
    if (!strcmp(url, "/favicon.ico")) return get ? ROUTE_STATIC : ROUTE_OTHER;
    if (!strcmp(url, "/posts")) return post ? ROUTE_POST_FORM : ROUTE_OTHER;
    if (!strncmp(url, "/posts/", 7)) {
        *arg = url + 7;
        return get ? ROUTE_POST_PAGE : ROUTE_OTHER;
    }
    if (!strcmp(url, "/api/posts")) return post ? ROUTE_API_CREATE : get ? ROUTE_API_LIST : ROUTE_OTHER;
    if (!strncmp(url, "/api/posts/", 11)) {
        *arg = url + 11;
        return get ? ROUTE_API_GET : ROUTE_OTHER;
    }
    if (!strcmp(url, "/api/events")) return get ? ROUTE_API_EVENTS : ROUTE_OTHER;
    if (!strcmp(url, "/api/stats")) return get ? ROUTE_API_STATS : ROUTE_OTHER;
    if (!strcmp(url, "/healthz")) return get ? ROUTE_HEALTHZ : ROUTE_OTHER;
    if (!strcmp(url, "/metrics")) return get ? ROUTE_METRICS : ROUTE_OTHER;
    if (!strncmp(url, "/static/", 8)) return get ? ROUTE_STATIC : ROUTE_OTHER;
    return ROUTE_OTHER;
}

static enum MHD_Result not_routed(req_t *req, const char *url) {
    /* a known path with the wrong method is 405, anything else 404 */
    static const char *const known[] = {"/",          "/posts",   "/api/posts", "/api/events",
                                        "/api/stats", "/healthz", "/metrics"};
    for (size_t i = 0; i < SA_ARRAY_LEN(known); i++)
        if (!strcmp(url, known[i]) || !strncmp(url, "/posts/", 7) || !strncmp(url, "/api/posts/", 11)) {
            const char *allow[] = {"Allow",
                                   !strcmp(url, "/posts")       ? "POST"
                                   : !strcmp(url, "/api/posts") ? "GET, POST"
                                                                : "GET",
                                   NULL};
            return sa_web_respond_error(req, 405, "method not allowed", allow);
        }
    return sa_web_respond_error(req, 404, "not found", NULL);
}

static enum MHD_Result serve_static(req_t *req, const char *url) {
    if (!strcmp(url, "/favicon.ico")) /* browsers ask for it; the pages have no icon */
        return sa_web_respond(req, 204, "image/x-icon", "", 0, NULL);
    const sa_web_asset_t *a = sa_web_asset_find(url);
    if (!a) return sa_web_respond_error(req, 404, "not found", NULL);
    const char *extra[] = {"Cache-Control", "public, max-age=300", NULL};
    return sa_web_respond(req, 200, a->ctype, (const char *)a->data, a->len, extra);
}

static enum MHD_Result dispatch(req_t *req, const char *url) {
    switch (req->route) {
    case ROUTE_INDEX: return sa_web_page_index(req);
    case ROUTE_POST_FORM: return sa_web_page_post_form(req);
    case ROUTE_POST_PAGE: return sa_web_page_post(req);
    case ROUTE_API_CREATE: return sa_web_api_create(req);
    case ROUTE_API_LIST: return sa_web_api_list(req);
    case ROUTE_API_GET: return sa_web_api_get(req);
    case ROUTE_API_EVENTS: return sa_web_sse_open(req);
    case ROUTE_API_STATS: return sa_web_api_stats(req);
    case ROUTE_HEALTHZ: return sa_web_healthz(req);
    case ROUTE_METRICS: return sa_web_metrics_page(req);
    case ROUTE_STATIC: return serve_static(req, url);
    default: return not_routed(req, url);
    }
}

/* @returns 1 with the answer in *rc when the request is refused before its body is read:
 *  400 for HTTP/1.1 without Host (RFC 9112 3.2), 403 for a state-changing request from another
 *  site (web_guard.h's origin rule), 415 for an API post whose body is not declared JSON (a form
 *  or text/plain body is what a cross-site page can send without a preflight). */
static int refuse_early(req_t *req, const char *version, enum MHD_Result *rc) {
    struct MHD_Connection *conn = req->conn;
    const char *host = MHD_lookup_connection_value(conn, MHD_HEADER_KIND, "Host");
    const char *close_[] = {"Connection", "close", NULL};
    if (!host && version && !strcmp(version, "HTTP/1.1")) {
        *rc = sa_web_respond_error(req, 400, "HTTP/1.1 request without a Host header", close_);
        return 1;
    }
    if (req->route != ROUTE_POST_FORM && req->route != ROUTE_API_CREATE) return 0;
    sa_web_origin_t o =
        sa_web_guard_origin(MHD_lookup_connection_value(conn, MHD_HEADER_KIND, "Origin"),
                            MHD_lookup_connection_value(conn, MHD_HEADER_KIND, "Sec-Fetch-Site"), host,
                            &req->srv->conf->allowed_origins);
    if (o != SA_WEB_ORIGIN_OK) {
        *rc = sa_web_respond_error(req, 403,
                                   o == SA_WEB_ORIGIN_FOREIGN
                                       ? "cross-origin request refused: the Origin is not this server's "
                                         "(see --allowed-origin)"
                                       : "cross-site request refused (Sec-Fetch-Site)",
                                   close_);
        return 1;
    }
    if (req->route == ROUTE_API_CREATE) {
        const char *ct = MHD_lookup_connection_value(conn, MHD_HEADER_KIND, "Content-Type");
        size_t n = ct ? strcspn(ct, "; \t") : 0;
        if (!ct || n != 16 || strncasecmp(ct, "application/json", 16)) {
            *rc = sa_web_respond_error(req, 415, "the body must be JSON (Content-Type: application/json)",
                                       close_);
            return 1;
        }
    }
    return 0;
}

static enum MHD_Result on_request(void *cls, struct MHD_Connection *conn, const char *url, const char *method,
                                  const char *version, const char *upload_data, size_t *upload_data_size,
                                  void **con_cls) {
    sa_web_server_t *srv = cls;
    req_t *req = *con_cls;
    if (!req) {
        req = sa_new(req_t);
        req->kind = PRODUCE_REQ;
        req->srv = srv;
        req->conn = conn;
        req->route = route_of(method, url, &req->path_arg);
        sa_buf_init(&req->body, (size_t)srv->conf->max_body);
        /* ?lang= wins and is remembered (a cookie); then the cookie; then Accept-Language */
        const char *asked = MHD_lookup_connection_value(conn, MHD_GET_ARGUMENT_KIND, "lang");
        const char *remembered = MHD_lookup_connection_value(conn, MHD_COOKIE_KIND, "samsa_lang");
        req->lang = sa_i18n_pick(sa_i18n_parse(asked) >= 0 ? asked : remembered,
                                 MHD_lookup_connection_value(conn, MHD_HEADER_KIND, "Accept-Language"));
        req->set_lang_cookie =
            sa_i18n_parse(asked) >= 0 && (!remembered || sa_i18n_parse(remembered) != (int)req->lang);
        *con_cls = req;
        sa_web_guard_phase(srv->guard, conn, SA_WEB_PHASE_BODY);
        enum MHD_Result refused;
        if (refuse_early(req, version, &refused)) return refused;
        const char *cl = MHD_lookup_connection_value(conn, MHD_HEADER_KIND, "Content-Length");
        if (cl && strtoll(cl, NULL, 10) > srv->conf->max_body) {
            req->too_large = 1;
            /* answered before the body is read; libmicrohttpd then closes the connection */
            return sa_web_respond_error(req, 413, "request body too large",
                                        (const char *[]){"Connection", "close", NULL});
        }
        return MHD_YES;
    }
    if (*upload_data_size) {
        if (!req->too_large && sa_buf_append(&req->body, upload_data, *upload_data_size) != SA_OK)
            req->too_large = 1;
        *upload_data_size = 0;
        return MHD_YES;
    }
    sa_web_guard_phase(srv->guard, conn, SA_WEB_PHASE_SERVING);
    if (req->too_large) return sa_web_respond_error(req, 413, "request body too large", NULL);
    return dispatch(req, url);
}

static void on_completed(void *cls, struct MHD_Connection *conn, void **con_cls,
                         enum MHD_RequestTerminationCode toe) {
    (void)toe;
    sa_web_server_t *srv = cls;
    /* a kept-alive connection waits for the next request's headers, with their deadline */
    sa_web_guard_phase(srv->guard, conn, SA_WEB_PHASE_HEADERS);
    req_t *req = *con_cls;
    if (!req) return;
    sa_buf_free(&req->body);
    sa_post_input_clear(&req->in);
    free(req->ack_err);
    free(req->key);
    json_decref(req->op);
    json_decref(req->existing);
    free(req);
    *con_cls = NULL;
}

static void mhd_log(void *cls, const char *fmt, va_list ap) {
    (void)cls;
    char line[512];
    vsnprintf(line, sizeof(line), fmt, ap);
    size_t n = strlen(line);
    while (n && line[n - 1] == '\n') line[--n] = '\0';
    /* libmicrohttpd reports every client that goes away mid-stream (each closed SSE tab);
     * failures that matter (cannot listen) are reported by sa_web_server_start itself */
    sa_log_debug(SA_DBG_HTTP, "http", "%s", line);
}

sa_web_server_t *sa_web_server_start(const sa_web_conf_t *conf, sa_db_t *db, char *errstr,
                                     size_t errstr_size) {
    sa_web_server_t *srv = sa_new(sa_web_server_t);
    srv->conf = conf;
    srv->db = db;
    srv->metrics = sa_web_metrics_new();
    srv->sse = sa_web_sse_new(srv);
    srv->events = sa_web_events_new(sa_web_sse_notify, srv->sse);

    struct sockaddr_storage ss = {0};
    if (resolve(conf->http, &ss, errstr, errstr_size)) goto err;

    sa_web_kafka_conf_t kc = {&conf->kafka, conf->topic, conf->results_topic, conf->group, ack,
                              on_record,    srv};
    srv->kafka = sa_web_kafka_new(&kc, errstr, errstr_size);
    if (!srv->kafka) goto err;
    srv->outbox = sa_web_outbox_new(srv);
    if (!srv->outbox) {
        snprintf(errstr, errstr_size, "cannot start a thread");
        goto err;
    }

    srv->guard = sa_web_guard_new(conf->header_timeout_ms, conf->body_timeout_ms);
    if (!srv->guard) {
        snprintf(errstr, errstr_size, "cannot start a thread");
        goto err;
    }
    unsigned flags = MHD_USE_AUTO_INTERNAL_THREAD | MHD_ALLOW_SUSPEND_RESUME | MHD_USE_ERROR_LOG;
    if (ss.ss_family == AF_INET6) flags |= MHD_USE_IPv6;
    srv->daemon = MHD_start_daemon(
        flags, 0, NULL, NULL, on_request, srv, MHD_OPTION_EXTERNAL_LOGGER, mhd_log, srv, MHD_OPTION_SOCK_ADDR,
        (struct sockaddr *)&ss, MHD_OPTION_NOTIFY_COMPLETED, on_completed, srv, MHD_OPTION_THREAD_POOL_SIZE,
        (unsigned)conf->threads, MHD_OPTION_CONNECTION_TIMEOUT, 120u, MHD_OPTION_CONNECTION_LIMIT, 4000u,
        MHD_OPTION_PER_IP_CONNECTION_LIMIT, (unsigned)conf->max_per_ip, MHD_OPTION_NOTIFY_CONNECTION,
        sa_web_guard_notify, srv->guard, MHD_OPTION_LISTEN_BACKLOG_SIZE, 1024u, MHD_OPTION_END);
    if (!srv->daemon) {
        snprintf(errstr, errstr_size, "cannot listen on %s (in use, or not a local address)", conf->http);
        goto err;
    }
    return srv;
err:
    sa_web_server_stop(srv);
    return NULL;
}

void sa_web_server_stop(sa_web_server_t *srv) {
    if (!srv) return;
    atomic_store(&srv->stopping, 1);
    MHD_socket listen_fd =
        srv->daemon ? MHD_quiesce_daemon(srv->daemon) : MHD_INVALID_SOCKET; /* no new connections */
    /* reservations taken are produced, every produce gets its delivery report and every
     * outcome reaches the store, so each waiting request gets its answer */
    if (srv->outbox) sa_web_outbox_drain(srv->outbox, 10000);
    if (srv->kafka) {
        int left = sa_web_kafka_flush(srv->kafka, 10000);
        if (left) sa_log_warn("web", "%d posts were still not acknowledged at shutdown", left);
    }
    sa_web_kafka_free(srv->kafka); /* no delivery report after this */
    srv->kafka = NULL;
    sa_web_outbox_free(srv->outbox);
    srv->outbox = NULL;
    if (srv->sse) sa_web_sse_close_all(srv->sse);
    if (srv->daemon) {
        /* give resumed requests a moment to be answered before the daemon closes them */
        int64_t deadline = sa_mono_ms() + 2000;
        const union MHD_DaemonInfo *info;
        while (sa_mono_ms() < deadline &&
               (info = MHD_get_daemon_info(srv->daemon, MHD_DAEMON_INFO_CURRENT_CONNECTIONS)) &&
               info->num_connections > 0)
            sa_sleep_ms(10);
        MHD_stop_daemon(srv->daemon);
        if (listen_fd != MHD_INVALID_SOCKET) close(listen_fd); /* quiesce handed it to us */
    }
    sa_web_kafka_free(srv->kafka);
    sa_web_outbox_free(srv->outbox);
    sa_web_guard_free(srv->guard); /* after the daemon: no connection is left to track */
    sa_web_events_free(srv->events);
    sa_web_sse_free(srv->sse);
    sa_web_metrics_free(srv->metrics);
    free(srv);
}
