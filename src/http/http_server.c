/*
 * http_server.c - libmicrohttpd set-up, routing, the refusals every request gets before its
 * handler, the answers with their security headers and cookies, and the request counters (see
 * http.h).
 *
 * Request life cycle (libmicrohttpd calls the access handler several times per request):
 *   1. first call: route, create the sa_http_req_t (and the application's ctx), pick the
 *      language, refuse early (Host, origin, Content-Type, Content-Length);
 *   2. body chunks: appended to req->body up to max_body (past it: 413 at the end);
 *   3. last call, and every call after a resume: the route's handler.
 *   The request is freed by the request-completed callback.
 *
 * Invariants:
 *  1. a request is answered at most once: libmicrohttpd refuses a second MHD_queue_response, and
 *     a handler that suspends answers only after its resume;
 *  2. counters are indexed by the distinct route names (two rows with one name share a counter),
 *     so /metrics has one line per (name, code).
 */
#include "http/http.h"

#include <arpa/inet.h>
#include <assert.h>
#include <netdb.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <unistd.h>

#include "core/log.h"
#include "core/mem.h"
#include "core/net.h"
#include "core/time.h"
#include "http/http_form.h"
#include "http/http_guard.h"

static const unsigned codes[] = {200, 202, 204, 303, 400, 403, 404, 405, 409, 413, 415, 422, 500, 503};
#define N_CODES   SA_ARRAY_LEN(codes)
#define MAX_NAMES 64

struct sa_http_server_s {
    const sa_http_conf_t *conf;
    struct MHD_Daemon *daemon;
    sa_http_guard_t *guard;
    MHD_socket listen_fd; /* handed back by MHD_quiesce_daemon; closed by stop */
    atomic_int stopping;
    int port;
    /* counters: names[i] is a distinct route name; row_name[r] the index of route r's name */
    const char *names[MAX_NAMES];
    int nnames;
    int *row_name;
    int static_name, other_name;
    _Atomic uint64_t (*counts)[N_CODES + 1]; /* [nnames][code], last column: any other code */
};

static int name_index(sa_http_server_t *srv, const char *name) {
    for (int i = 0; i < srv->nnames; i++)
        if (!strcmp(srv->names[i], name)) return i;
    assert(srv->nnames < MAX_NAMES);
    srv->names[srv->nnames] = name;
    return srv->nnames++;
}

void sa_http_count(sa_http_req_t *req, unsigned status) {
    sa_http_server_t *srv = req->srv;
    int name = req->route ? srv->row_name[req->route_index] : srv->other_name;
    size_t c = 0;
    while (c < N_CODES && codes[c] != status) c++;
    atomic_fetch_add_explicit(&srv->counts[name][c], 1, memory_order_relaxed);
}

void sa_http_metrics_write(sa_http_server_t *srv, sa_buf_t *out, const char *metric) {
    sa_buf_printf(out, "# HELP %s HTTP requests answered, by route and status code.\n# TYPE %s counter\n",
                  metric, metric);
    for (int n = 0; n < srv->nnames; n++)
        for (size_t c = 0; c <= N_CODES; c++) {
            uint64_t v = atomic_load_explicit(&srv->counts[n][c], memory_order_relaxed);
            if (!v) continue;
            char code[8];
            snprintf(code, sizeof(code), c < N_CODES ? "%u" : "other", c < N_CODES ? codes[c] : 0);
            sa_buf_printf(out, "%s{route=\"%s\",code=\"%s\"} %llu\n", metric, srv->names[n], code,
                          (unsigned long long)v);
        }
}

/* --- answers --------------------------------------------------------------------------------- */

static void add_headers(const sa_http_req_t *req, struct MHD_Response *resp, const char *ctype,
                        const char *const *extra) {
    const char *csp = req->srv->conf->csp ? req->srv->conf->csp : SA_HTTP_CSP;
    MHD_add_response_header(resp, "Content-Type", ctype);
    MHD_add_response_header(resp, "Content-Security-Policy", csp);
    MHD_add_response_header(resp, "X-Content-Type-Options", "nosniff");
    MHD_add_response_header(resp, "X-Frame-Options", "DENY");
    MHD_add_response_header(resp, "Referrer-Policy", "same-origin");
    for (; extra && extra[0]; extra += 2) MHD_add_response_header(resp, extra[0], extra[1]);
    if (req->set_csrf_cookie && req->csrf[0]) {
        char cookie[128];
        snprintf(cookie, sizeof(cookie), "samsa_csrf=%s; Path=/; HttpOnly; SameSite=Strict", req->csrf);
        MHD_add_response_header(resp, "Set-Cookie", cookie);
    }
    if (req->set_lang_cookie &&
        !strncmp(ctype, "text/html", 9)) { /* a year; Lax: links from elsewhere keep it */
        char cookie[96];
        snprintf(cookie, sizeof(cookie), "samsa_lang=%s; Path=/; Max-Age=31536000; SameSite=Lax",
                 sa_lang_code(req->lang));
        MHD_add_response_header(resp, "Set-Cookie", cookie);
    }
}

enum MHD_Result sa_http_respond(sa_http_req_t *req, unsigned status, const char *ctype, const char *body,
                                size_t len, const char *const *extra) {
    struct MHD_Response *resp = MHD_create_response_from_buffer(len, (void *)body, MHD_RESPMEM_MUST_COPY);
    add_headers(req, resp, ctype, extra);
    enum MHD_Result rc = MHD_queue_response(req->conn, status, resp);
    MHD_destroy_response(resp);
    sa_http_count(req, status);
    return rc;
}

enum MHD_Result sa_http_respond_page(sa_http_req_t *req, unsigned status, sa_buf_t *page,
                                     const char *const *extra) {
    enum MHD_Result rc =
        sa_http_respond(req, status, "text/html; charset=utf-8", (const char *)page->data, page->len, extra);
    sa_buf_free(page);
    return rc;
}

enum MHD_Result sa_http_redirect(sa_http_req_t *req, const char *location) {
    const char *extra[] = {"Location", location, NULL};
    return sa_http_respond(req, 303, "text/plain; charset=utf-8", location, strlen(location), extra);
}

enum MHD_Result sa_http_respond_json_text(sa_http_req_t *req, unsigned status, const char *json,
                                          const char *const *extra) {
    return sa_http_respond(req, status, "application/json", json, strlen(json), extra);
}

enum MHD_Result sa_http_respond_error(sa_http_req_t *req, unsigned status, const char *message,
                                      const char *const *extra) {
    sa_buf_t doc = SA_BUF_INIT(0);
    sa_buf_append_str(&doc, "{\"error\":\"");
    for (const unsigned char *p = (const unsigned char *)message; *p; p++) { /* JSON string escaping */
        if (*p == '"' || *p == '\\')
            sa_buf_printf(&doc, "\\%c", *p);
        else if (*p < 0x20)
            sa_buf_printf(&doc, "\\u%04x", *p);
        else
            sa_buf_putc(&doc, *p);
    }
    sa_buf_append_str(&doc, "\"}");
    enum MHD_Result rc =
        sa_http_respond(req, status, "application/json", (const char *)doc.data, doc.len, extra);
    sa_buf_free(&doc);
    return rc;
}

enum MHD_Result sa_http_serve_static(sa_http_req_t *req) {
    const char *url = req->route && !(req->route->flags & SA_HTTP_PREFIX) ? req->route->path : NULL;
    if (url && !strcmp(url, "/favicon.ico")) /* browsers ask for it; the pages have no icon */
        return sa_http_respond(req, 204, "image/x-icon", "", 0, NULL);
    char path[256];
    snprintf(path, sizeof(path), "%s%s", req->route ? req->route->path : "",
             req->path_arg ? req->path_arg : "");
    const sa_http_asset_t *a = sa_http_asset_find(path);
    if (!a) return sa_http_respond_error(req, 404, "not found", NULL);
    const char *extra[] = {"Cache-Control", "public, max-age=300", NULL};
    return sa_http_respond(req, 200, a->ctype, (const char *)a->data, a->len, extra);
}

/* --- request helpers ------------------------------------------------------------------------- */

const char *sa_http_query(sa_http_req_t *req, const char *name) {
    return MHD_lookup_connection_value(req->conn, MHD_GET_ARGUMENT_KIND, name);
}

const char *sa_http_header(sa_http_req_t *req, const char *name) {
    return MHD_lookup_connection_value(req->conn, MHD_HEADER_KIND, name);
}

char *sa_http_form(sa_http_req_t *req, const char *name) {
    return sa_form_get((const char *)req->body.data, req->body.len, name);
}

const char *sa_http_csrf(sa_http_req_t *req) {
    if (req->csrf[0]) return req->csrf;
    const char *cookie = MHD_lookup_connection_value(req->conn, MHD_COOKIE_KIND, "samsa_csrf");
    if (sa_is_hex(cookie, 2 * SA_HTTP_CSRF_BYTES)) {
        snprintf(req->csrf, sizeof(req->csrf), "%s", cookie);
    } else {
        sa_random_hex(req->csrf, SA_HTTP_CSRF_BYTES);
        req->set_csrf_cookie = 1;
    }
    return req->csrf;
}

int sa_http_csrf_ok(sa_http_req_t *req, const char *posted) {
    const char *cookie = MHD_lookup_connection_value(req->conn, MHD_COOKIE_KIND, "samsa_csrf");
    if (!sa_is_hex(posted, 2 * SA_HTTP_CSRF_BYTES) || !sa_is_hex(cookie, 2 * SA_HTTP_CSRF_BYTES)) return 0;
    size_t n = strlen(cookie);
    if (strlen(posted) != n) return 0;
    unsigned char diff = 0; /* compared in constant time */
    for (size_t i = 0; i < n; i++) diff |= (unsigned char)(posted[i] ^ cookie[i]);
    return diff == 0;
}

void sa_http_suspend(sa_http_req_t *req) { MHD_suspend_connection(req->conn); }
void sa_http_resume(sa_http_req_t *req) { MHD_resume_connection(req->conn); }

int sa_http_stopping(const sa_http_server_t *srv) { return atomic_load(&srv->stopping); }
uint64_t sa_http_reaped(sa_http_server_t *srv) { return sa_http_guard_reaped(srv->guard); }
int sa_http_port(const sa_http_server_t *srv) { return srv->port; }

/* --- routing --------------------------------------------------------------------------------- */

static int path_matches(const sa_http_route_t *r, const char *url, const char **arg) {
    if (r->flags & SA_HTTP_PREFIX) {
        size_t n = strlen(r->path);
        if (strncmp(url, r->path, n)) return 0;
        *arg = url + n;
        return 1;
    }
    *arg = NULL;
    return !strcmp(url, r->path);
}

/* @returns the row for @p method and @p url, or -1; *@p allow the methods of the rows whose path
 * matched (405's Allow). */
static int route_of(const sa_http_conf_t *conf, const char *method, const char *url, const char **arg,
                    unsigned *allow) {
    unsigned m = !strcmp(method, "GET") || !strcmp(method, "HEAD") ? SA_HTTP_GET
                 : !strcmp(method, "POST")                         ? SA_HTTP_POST
                                                                   : 0;
    *allow = 0;
    for (size_t i = 0; i < conf->nroutes; i++) {
        const char *a;
        if (!path_matches(&conf->routes[i], url, &a)) continue;
        if (conf->routes[i].methods & m) {
            *arg = a;
            return (int)i;
        }
        *allow |= conf->routes[i].methods;
    }
    *arg = NULL;
    return -1;
}

/* @returns 1 if the body's declared Content-Type is @p want (parameters ignored). */
static int ctype_is(sa_http_req_t *req, const char *want) {
    const char *ct = sa_http_header(req, "Content-Type");
    size_t n = ct ? strcspn(ct, "; \t") : 0, w = strlen(want);
    return ct && n == w && !strncasecmp(ct, want, w);
}

/* @returns 1 with the answer in *rc when the request is refused before its body is read (http.h). */
static int refuse_early(sa_http_req_t *req, const char *version, unsigned allow, enum MHD_Result *rc) {
    const char *host = sa_http_header(req, "Host");
    const char *close_[] = {"Connection", "close", NULL};
    if (!host && version && !strcmp(version, "HTTP/1.1")) {
        *rc = sa_http_respond_error(req, 400, "HTTP/1.1 request without a Host header", close_);
        return 1;
    }
    if (!req->route) {
        if (allow) {
            const char *hdr[] = {"Allow",
                                 allow == (SA_HTTP_GET | SA_HTTP_POST) ? "GET, POST"
                                 : allow == SA_HTTP_POST               ? "POST"
                                                                       : "GET",
                                 NULL};
            *rc = sa_http_respond_error(req, 405, "method not allowed", hdr);
        } else {
            *rc = sa_http_respond_error(req, 404, "not found", NULL);
        }
        return 1;
    }
    unsigned flags = req->route->flags;
    if (flags & SA_HTTP_CHANGES) {
        sa_http_origin_t o =
            sa_http_guard_origin(sa_http_header(req, "Origin"), sa_http_header(req, "Sec-Fetch-Site"), host,
                                 req->srv->conf->allowed_origins);
        if (o != SA_HTTP_ORIGIN_OK) {
            *rc = sa_http_respond_error(req, 403,
                                        o == SA_HTTP_ORIGIN_FOREIGN
                                            ? "cross-origin request refused: the Origin is not this server's "
                                              "(see --allowed-origin)"
                                            : "cross-site request refused (Sec-Fetch-Site)",
                                        close_);
            return 1;
        }
    }
    if ((flags & SA_HTTP_JSON_BODY) && !ctype_is(req, "application/json")) {
        *rc =
            sa_http_respond_error(req, 415, "the body must be JSON (Content-Type: application/json)", close_);
        return 1;
    }
    if ((flags & SA_HTTP_FORM_BODY) && !ctype_is(req, "application/x-www-form-urlencoded")) {
        *rc = sa_http_respond_error(
            req, 415, "the body must be a form (Content-Type: application/x-www-form-urlencoded)", close_);
        return 1;
    }
    const char *cl = sa_http_header(req, "Content-Length");
    if (cl && strtoll(cl, NULL, 10) > req->srv->conf->max_body) {
        req->too_large = 1;
        /* answered before the body is read; libmicrohttpd then closes the connection */
        *rc = sa_http_respond_error(req, 413, "request body too large", close_);
        return 1;
    }
    return 0;
}

static enum MHD_Result on_request(void *cls, struct MHD_Connection *conn, const char *url, const char *method,
                                  const char *version, const char *upload_data, size_t *upload_data_size,
                                  void **con_cls) {
    sa_http_server_t *srv = cls;
    const sa_http_conf_t *conf = srv->conf;
    sa_http_req_t *req = *con_cls;
    if (!req) {
        req = sa_new(sa_http_req_t);
        req->srv = srv;
        req->conn = conn;
        req->app = conf->app;
        unsigned allow;
        req->route_index = route_of(conf, method, url, &req->path_arg, &allow);
        req->route = req->route_index >= 0 ? &conf->routes[req->route_index] : NULL;
        sa_buf_init(&req->body, (size_t)conf->max_body);
        /* ?lang= wins and is remembered (a cookie); then the cookie; then Accept-Language */
        const char *asked = sa_http_query(req, "lang");
        const char *remembered = MHD_lookup_connection_value(conn, MHD_COOKIE_KIND, "samsa_lang");
        req->lang = sa_lang_pick(sa_lang_parse(asked) >= 0 ? asked : remembered,
                                 sa_http_header(req, "Accept-Language"));
        req->set_lang_cookie =
            sa_lang_parse(asked) >= 0 && (!remembered || sa_lang_parse(remembered) != (int)req->lang);
        *con_cls = req;
        sa_http_guard_phase(srv->guard, conn, SA_HTTP_PHASE_BODY);
        enum MHD_Result refused;
        if (refuse_early(req, version, allow, &refused)) return refused;
        if (conf->req_new) req->ctx = conf->req_new(req);
        return MHD_YES;
    }
    if (*upload_data_size) {
        if (!req->too_large && sa_buf_append(&req->body, upload_data, *upload_data_size) != SA_OK)
            req->too_large = 1;
        *upload_data_size = 0;
        return MHD_YES;
    }
    sa_http_guard_phase(srv->guard, conn, SA_HTTP_PHASE_SERVING);
    if (req->too_large) return sa_http_respond_error(req, 413, "request body too large", NULL);
    if (!req->route) return MHD_NO; /* answered already; a body followed (cannot happen: closed) */
    return req->route->handler(req);
}

static void on_completed(void *cls, struct MHD_Connection *conn, void **con_cls,
                         enum MHD_RequestTerminationCode toe) {
    (void)toe;
    sa_http_server_t *srv = cls;
    /* a kept-alive connection waits for the next request's headers, with their deadline */
    sa_http_guard_phase(srv->guard, conn, SA_HTTP_PHASE_HEADERS);
    sa_http_req_t *req = *con_cls;
    if (!req) return;
    if (req->ctx && srv->conf->req_free) srv->conf->req_free(req->ctx);
    sa_buf_free(&req->body);
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
     * failures that matter (cannot listen) are reported by sa_http_start itself */
    sa_log_debug(SA_DBG_HTTP, "http", "%s", line);
}

/* Resolve HOST:PORT into @p ss. @returns 0 or -1 with errstr. */
static int resolve(const char *hostport, struct sockaddr_storage *ss, char *errstr, size_t errstr_size) {
    char host[256], port_s[16];
    int port;
    if (sa_net_split_hostport(hostport, host, sizeof(host), &port) || port < 0 || port > 65535) {
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

sa_http_server_t *sa_http_start(const sa_http_conf_t *conf, char *errstr, size_t errstr_size) {
    sa_http_server_t *srv = sa_new(sa_http_server_t);
    srv->conf = conf;
    srv->listen_fd = MHD_INVALID_SOCKET;
    srv->row_name = sa_malloc(sizeof(int) * (conf->nroutes + 1));
    for (size_t i = 0; i < conf->nroutes; i++)
        srv->row_name[i] =
            name_index(srv, conf->routes[i].name ? conf->routes[i].name : conf->routes[i].path);
    srv->other_name = name_index(srv, "other");
    srv->counts = sa_calloc((size_t)srv->nnames, sizeof(*srv->counts));

    struct sockaddr_storage ss = {0};
    if (resolve(conf->listen, &ss, errstr, errstr_size)) goto err;
    srv->guard = sa_http_guard_new(conf->header_timeout_ms, conf->body_timeout_ms);
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
        sa_http_guard_notify, srv->guard, MHD_OPTION_LISTEN_BACKLOG_SIZE, 1024u, MHD_OPTION_END);
    if (!srv->daemon) {
        snprintf(errstr, errstr_size, "cannot listen on %s (in use, or not a local address)", conf->listen);
        goto err;
    }
    const union MHD_DaemonInfo *info = MHD_get_daemon_info(srv->daemon, MHD_DAEMON_INFO_BIND_PORT);
    srv->port = info ? info->port : 0;
    return srv;
err:
    sa_http_stop(srv, 0);
    return NULL;
}

void sa_http_quiesce(sa_http_server_t *srv) {
    if (!srv || atomic_exchange(&srv->stopping, 1)) return;
    if (srv->daemon) srv->listen_fd = MHD_quiesce_daemon(srv->daemon); /* no new connections */
}

void sa_http_stop(sa_http_server_t *srv, int timeout_ms) {
    if (!srv) return;
    sa_http_quiesce(srv);
    if (srv->daemon) {
        /* give resumed requests a moment to be answered before the daemon closes them */
        int64_t deadline = sa_mono_ms() + timeout_ms;
        const union MHD_DaemonInfo *info;
        while (sa_mono_ms() < deadline &&
               (info = MHD_get_daemon_info(srv->daemon, MHD_DAEMON_INFO_CURRENT_CONNECTIONS)) &&
               info->num_connections > 0)
            sa_sleep_ms(10);
        MHD_stop_daemon(srv->daemon);
        if (srv->listen_fd != MHD_INVALID_SOCKET) close(srv->listen_fd); /* quiesce handed it to us */
    }
    sa_http_guard_free(srv->guard); /* after the daemon: no connection is left to track */
    free(srv->counts);
    free(srv->row_name);
    free(srv);
}
