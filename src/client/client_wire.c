/*
 * client_wire.c - samsa's own blocking Kafka connection for the requests librdkafka has no API
 * for (see client_wire.h).
 *
 * Framing (Kafka protocol guide): a request is a 4-byte big-endian size, the request header
 * (v1, or v2 for flexible versions) and the body; a response is a size, the response header (v0,
 * or v1 for flexible versions; ApiVersions always v0) and the body. The socket is non-blocking
 * and every read and write waits with poll() against the call's deadline, so a broker that stops
 * answering costs at most the timeout.
 */
#include "client/client_wire.h"

#include <errno.h>
#include <fcntl.h>
#include <netdb.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <unistd.h>

#include "core/buf.h"
#include "core/mem.h"
#include "core/net.h"
#include "core/time.h"
#include "proto/proto.h"

struct sa_client_wire_s {
    int fd;                                  /* connected socket, -1 once broken */
    char peer[300];                          /* host:port */
    char client_id[256];                     /* request header ClientId */
    int32_t correlation;                     /* of the last request */
    int16_t max_version[SA_PROTO_API_COUNT]; /* per sa_proto_apis[] entry: the broker's max, -1 unserved */
    int16_t min_version[SA_PROTO_API_COUNT]; /* ... and its min */
};

/* ---- the socket ---- */

/* Wait until @p fd is ready for @p events or @p deadline (monotonic ms) passes.
 * @returns 1 ready, 0 timed out, -1 error (errno). */
static int wait_fd(int fd, short events, int64_t deadline) {
    for (;;) {
        int64_t left = deadline - sa_mono_ms();
        if (left <= 0) return 0;
        struct pollfd pfd = {.fd = fd, .events = events};
        int r = poll(&pfd, 1, (int)(left > 1000000 ? 1000000 : left));
        if (r > 0) return 1;
        if (r < 0 && errno != EINTR) return -1;
    }
}

/* @returns a connected non-blocking socket to @p host:@p port, or -1 with errstr. */
static int connect_to(const char *host, int port, int64_t deadline, char *errstr, size_t errstr_size) {
    char portstr[16];
    snprintf(portstr, sizeof(portstr), "%d", port);
    struct addrinfo hints = {.ai_socktype = SOCK_STREAM}, *res = NULL;
    int gai = getaddrinfo(host, portstr, &hints, &res);
    if (gai) {
        snprintf(errstr, errstr_size, "cannot resolve %s: %s", host, gai_strerror(gai));
        return -1;
    }
    int fd = -1, why = ETIMEDOUT;
    for (struct addrinfo *ai = res; ai && fd < 0; ai = ai->ai_next) {
        int s = socket(ai->ai_family, ai->ai_socktype | SOCK_CLOEXEC | SOCK_NONBLOCK, ai->ai_protocol);
        if (s < 0) {
            why = errno;
            continue;
        }
        int err = 0;
        if (connect(s, ai->ai_addr, ai->ai_addrlen) != 0) {
            err = errno;
            if (err == EINPROGRESS) {
                socklen_t len = sizeof(err);
                int r = wait_fd(s, POLLOUT, deadline);
                if (r == 1 && getsockopt(s, SOL_SOCKET, SO_ERROR, &err, &len) != 0) err = errno;
                if (r == 0) err = ETIMEDOUT;
                if (r < 0) err = errno;
            }
        }
        if (err) {
            why = err;
            close(s);
            continue;
        }
        fd = s;
    }
    freeaddrinfo(res);
    if (fd < 0) snprintf(errstr, errstr_size, "cannot connect to %s:%d: %s", host, port, strerror(why));
    return fd;
}

static int write_all(int fd, const uint8_t *p, size_t n, int64_t deadline) {
    while (n > 0) {
        ssize_t w = send(fd, p, n, MSG_NOSIGNAL);
        if (w > 0) {
            p += w;
            n -= (size_t)w;
        } else if (w < 0 && errno != EAGAIN && errno != EINTR) {
            return -1;
        } else if (wait_fd(fd, POLLOUT, deadline) != 1) {
            if (!errno) errno = ETIMEDOUT;
            return -1;
        }
    }
    return 0;
}

/* @returns 0, or -1 with errno (0 for the peer closing the connection). */
static int read_all(int fd, uint8_t *p, size_t n, int64_t deadline) {
    while (n > 0) {
        ssize_t r = recv(fd, p, n, 0);
        if (r > 0) {
            p += r;
            n -= (size_t)r;
        } else if (r == 0) {
            errno = 0;
            return -1;
        } else if (errno != EAGAIN && errno != EINTR) {
            return -1;
        } else {
            int ready = wait_fd(fd, POLLIN, deadline);
            if (ready != 1) {
                if (ready == 0) errno = ETIMEDOUT;
                return -1;
            }
        }
    }
    return 0;
}

static void broken(sa_client_wire_t *w) {
    if (w->fd >= 0) close(w->fd);
    w->fd = -1;
}

/* ---- requests ---- */

static int api_index(int16_t api_key) {
    for (int i = 0; i < SA_PROTO_API_COUNT; i++)
        if (sa_proto_apis[i].key == api_key) return i;
    return -1;
}

int16_t sa_client_wire_version(const sa_client_wire_t *w, int16_t api_key) {
    int i = api_index(api_key);
    if (i < 0 || w->max_version[i] < 0) return -1;
    int16_t hi =
        w->max_version[i] < sa_proto_apis[i].max_version ? w->max_version[i] : sa_proto_apis[i].max_version;
    int16_t lo =
        w->min_version[i] > sa_proto_apis[i].min_version ? w->min_version[i] : sa_proto_apis[i].min_version;
    return hi >= lo ? hi : -1;
}

int sa_client_wire_call(sa_client_wire_t *w, int16_t api_key, int16_t version, const void *req, void *resp,
                        sa_arena_t *arena, int timeout_ms, char *errstr, size_t errstr_size) {
    const sa_proto_api_t *api = sa_proto_api(api_key);
    int rc = -1;
    sa_buf_t frame = SA_BUF_INIT(0);
    if (!api || version < api->min_version || version > api->max_version) {
        snprintf(errstr, errstr_size, "no codec for %s v%d", sa_proto_api_name(api_key), version);
        goto out;
    }
    if (w->fd < 0) {
        snprintf(errstr, errstr_size, "the connection to %s is closed after an earlier error", w->peer);
        goto out;
    }
    int64_t deadline = sa_mono_ms() + timeout_ms;
    sa_RequestHeader_t hdr;
    sa_RequestHeader_init(&hdr);
    hdr.RequestApiKey = api_key;
    hdr.RequestApiVersion = version;
    hdr.CorrelationId = ++w->correlation;
    hdr.ClientId = sa_str(w->client_id);
    if (sa_buf_put_be32(&frame, 0) ||
        sa_RequestHeader_encode(&hdr, sa_proto_request_header_version(api_key, version), &frame) ||
        api->request->encode(req, version, &frame)) {
        snprintf(errstr, errstr_size, "cannot encode %s v%d", api->name, version);
        goto out;
    }
    sa_store_be32(frame.data, (uint32_t)(frame.len - 4));
    if (write_all(w->fd, frame.data, frame.len, deadline)) {
        snprintf(errstr, errstr_size, "sending %s to %s: %s", api->name, w->peer, strerror(errno));
        broken(w);
        goto out;
    }
    uint8_t size[4];
    if (read_all(w->fd, size, 4, deadline)) {
        snprintf(errstr, errstr_size, "no %s response from %s: %s", api->name, w->peer,
                 errno ? strerror(errno) : "the broker closed the connection");
        broken(w);
        goto out;
    }
    uint32_t n = sa_load_be32(size);
    if (n < 4 || n > SA_CLIENT_WIRE_MAX_RESPONSE) {
        snprintf(errstr, errstr_size, "%s response from %s claims %u bytes", api->name, w->peer, n);
        broken(w);
        goto out;
    }
    uint8_t *body = sa_arena_alloc(arena, n);
    if (!body || read_all(w->fd, body, n, deadline)) {
        snprintf(errstr, errstr_size, "%s response from %s: %s", api->name, w->peer,
                 !body   ? "out of memory"
                 : errno ? strerror(errno)
                         : "the broker closed the connection");
        broken(w);
        goto out;
    }
    sa_rd_t rd;
    sa_rd_init(&rd, body, n);
    sa_ResponseHeader_t rh;
    if (sa_ResponseHeader_decode(&rd, sa_proto_response_header_version(api_key, version), arena, &rh) ||
        rh.CorrelationId != w->correlation) {
        snprintf(errstr, errstr_size, "%s response from %s: bad header (correlation id %d, expected %d)",
                 api->name, w->peer, (int)rh.CorrelationId, (int)w->correlation);
        broken(w);
        goto out;
    }
    if (api->response->decode(&rd, version, arena, resp)) {
        snprintf(errstr, errstr_size, "%s v%d response from %s does not decode", api->name, version, w->peer);
        broken(w);
        goto out;
    }
    rc = 0;
out:
    sa_buf_free(&frame);
    return rc;
}

/* ---- opening ---- */

static void conf_get(const rd_kafka_conf_t *conf, const char *key, char *out, size_t size) {
    size_t n = size;
    if (rd_kafka_conf_get(conf, key, out, &n) != RD_KAFKA_CONF_OK) out[0] = '\0';
}

/* Ask ApiVersions (v0: every broker answers it) and keep the ranges. @returns 0 or -1. */
static int negotiate(sa_client_wire_t *w, int timeout_ms, char *errstr, size_t errstr_size) {
    for (int i = 0; i < SA_PROTO_API_COUNT; i++) w->min_version[i] = w->max_version[i] = -1;
    sa_arena_t arena;
    sa_arena_init(&arena, SA_CLIENT_WIRE_MAX_RESPONSE);
    sa_ApiVersionsRequest_t req;
    sa_ApiVersionsRequest_init(&req);
    sa_ApiVersionsResponse_t resp;
    int rc =
        sa_client_wire_call(w, SA_API_ApiVersions, 0, &req, &resp, &arena, timeout_ms, errstr, errstr_size);
    if (rc == 0 && resp.ErrorCode) {
        snprintf(errstr, errstr_size, "ApiVersions at %s: %s", w->peer, sa_err2str(resp.ErrorCode));
        rc = -1;
    }
    for (int32_t k = 0; rc == 0 && k < resp.ApiKeys_count; k++) {
        int i = api_index(resp.ApiKeys[k].ApiKey);
        if (i < 0) continue;
        w->min_version[i] = resp.ApiKeys[k].MinVersion;
        w->max_version[i] = resp.ApiKeys[k].MaxVersion;
    }
    sa_arena_free(&arena);
    return rc;
}

static sa_client_wire_t *open_one(const char *host, int port, const char *client_id, int64_t deadline,
                                  char *errstr, size_t errstr_size) {
    int fd = connect_to(host, port, deadline, errstr, errstr_size);
    if (fd < 0) return NULL;
    sa_client_wire_t *w = sa_calloc(1, sizeof(*w));
    w->fd = fd;
    snprintf(w->peer, sizeof(w->peer), strchr(host, ':') ? "[%s]:%d" : "%s:%d", host, port);
    snprintf(w->client_id, sizeof(w->client_id), "%s", client_id);
    int left = (int)(deadline - sa_mono_ms());
    if (negotiate(w, left > 0 ? left : 1, errstr, errstr_size)) {
        sa_client_wire_close(w);
        return NULL;
    }
    return w;
}

/* Split one bootstrap server ("host:port", "PLAINTEXT://host:port", "host", "[v6]:port").
 * @returns 0 or -1 if it is malformed. */
static int split_server(const char *server, char *host, size_t host_size, int *port) {
    const char *s = strstr(server, "://");
    s = s ? s + 3 : server;
    while (*s == ' ') s++;
    if (!*s) return -1;
    *port = 9092; /* librdkafka's default when a server has no port */
    if (!strchr(s, ':') || (s[0] == '[' && !strstr(s, "]:"))) {
        snprintf(host, host_size, "%s", s[0] == '[' ? s + 1 : s);
        host[strcspn(host, "] ")] = '\0';
        return 0;
    }
    return sa_net_split_hostport(s, host, host_size, port);
}

int sa_client_wire_usable(const rd_kafka_conf_t *conf, char *errstr, size_t errstr_size) {
    char proto[64];
    conf_get(conf, "security.protocol", proto, sizeof(proto));
    if (*proto && strcasecmp(proto, "plaintext") != 0) {
        snprintf(
            errstr, errstr_size,
            "security.protocol=%s: samsa sends these requests itself (librdkafka's admin API has no call "
            "for them) and speaks PLAINTEXT only; use Apache Kafka's own tool for this cluster",
            proto);
        return -1;
    }
    return 0;
}

sa_client_wire_t *sa_client_wire_open(const rd_kafka_conf_t *conf, const char *hostport, int timeout_ms,
                                      char *errstr, size_t errstr_size) {
    char client_id[256], servers[2048];
    if (sa_client_wire_usable(conf, errstr, errstr_size)) return NULL;
    conf_get(conf, "client.id", client_id, sizeof(client_id));
    conf_get(conf, "bootstrap.servers", servers, sizeof(servers));
    int64_t deadline = sa_mono_ms() + timeout_ms;
    if (hostport) snprintf(servers, sizeof(servers), "%s", hostport);
    errstr[0] = '\0';
    for (const char *p = servers; *p;) {
        size_t n = strcspn(p, ",");
        char server[512], host[512];
        snprintf(server, sizeof(server), "%.*s", (int)n, p);
        p += n + (p[n] == ',');
        int port;
        if (split_server(server, host, sizeof(host), &port)) {
            snprintf(errstr, errstr_size, "malformed broker address \"%s\"", server);
            continue;
        }
        sa_client_wire_t *w = open_one(host, port, client_id, deadline, errstr, errstr_size);
        if (w) return w;
    }
    if (!errstr[0]) snprintf(errstr, errstr_size, "no broker address given");
    return NULL;
}

void sa_client_wire_close(sa_client_wire_t *w) {
    if (!w) return;
    broken(w);
    free(w);
}

const char *sa_client_wire_peer(const sa_client_wire_t *w) { return w->peer; }
