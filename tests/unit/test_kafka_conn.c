/* kafka_conn (src/client): a request and its decoded response against a scripted broker on a
 * loopback port, with the client.id of the settings; version negotiation from ApiVersions (a
 * version the broker does not serve is refused without sending, the connection stays usable); a
 * broker that answers with the wrong correlation id, claims a huge frame, closes the connection or
 * never answers (the call fails with a reason within its timeout, and the connection refuses later
 * calls); TLS to a broker that does not speak it fails in time; settings it cannot honour (an
 * unknown security.protocol, a SASL mechanism other than PLAIN and SCRAM) refused before
 * connecting. */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>
#include <cmocka.h>

#include "client/kafka_conn.h"
#include "core/time.h"
#include "proto/proto.h"

typedef enum answer_e {
    ANSWER_OK,       /* a ListTransactions response with one transaction */
    ANSWER_BAD_CORR, /* ... with the correlation id of another request */
    ANSWER_HUGE,     /* a frame size of 2 GB */
    ANSWER_CLOSE,    /* close the connection */
    ANSWER_SILENT,   /* read the request, never answer */
} answer_t;

typedef struct fake_s {
    int lfd, port;
    answer_t answer;
    pthread_t thread;
    char client_id[64]; /* of the last request */
} fake_t;

static int read_full(int fd, void *p, size_t n) {
    for (size_t got = 0; got < n;) {
        ssize_t r = read(fd, (char *)p + got, n - got);
        if (r <= 0) return -1;
        got += (size_t)r;
    }
    return 0;
}

/* Read one request frame: @returns its api key, correlation id and client id, or -1 at EOF or
 * for what is not a request (a TLS ClientHello reads as a frame of hundreds of MB). */
static int read_request(int fd, int16_t *api, int32_t *corr, char *client_id, size_t size) {
    uint8_t hdr[4];
    if (read_full(fd, hdr, 4)) return -1;
    uint32_t n = sa_load_be32(hdr);
    if (n < 10 || n > (1u << 20)) return -1;
    uint8_t *body = malloc(n);
    int rc = read_full(fd, body, n);
    if (rc == 0) {
        *api = (int16_t)sa_load_be16(body);
        *corr = (int32_t)sa_load_be32(body + 4);
        int16_t len = (int16_t)sa_load_be16(body + 8);
        snprintf(client_id, size, "%.*s", len > 0 && (uint32_t)len <= n - 10 ? (int)len : 0,
                 (char *)body + 10);
    }
    free(body);
    return rc;
}

static void send_frame(int fd, sa_buf_t *b) {
    sa_store_be32(b->data, (uint32_t)(b->len - 4));
    assert_int_equal(write(fd, b->data, b->len), (ssize_t)b->len);
}

static void *fake_main(void *arg) {
    fake_t *f = arg;
    int fd = accept(f->lfd, NULL, NULL);
    int16_t api;
    int32_t corr;
    while (fd >= 0 && read_request(fd, &api, &corr, f->client_id, sizeof(f->client_id)) == 0) {
        sa_buf_t b = SA_BUF_INIT(0);
        sa_buf_put_be32(&b, 0);
        if (api == SA_API_ApiVersions) {
            sa_ApiVersionsResponse_t r;
            sa_ApiVersionsResponse_init(&r);
            sa_ApiVersionsResponse_ApiVersion_t keys[2] = {{SA_API_ListTransactions, 0, 7},
                                                           {SA_API_ApiVersions, 0, 4}};
            r.ApiKeys = keys;
            r.ApiKeys_count = 2;
            sa_proto_write_response_header(&b, SA_API_ApiVersions, 0, corr);
            sa_ApiVersionsResponse_encode(&r, 0, &b);
            send_frame(fd, &b);
        } else if (f->answer == ANSWER_CLOSE) {
            sa_buf_free(&b);
            break;
        } else if (f->answer == ANSWER_SILENT) {
            sa_buf_free(&b);
            continue;
        } else if (f->answer == ANSWER_HUGE) {
            uint8_t huge[4] = {0x7f, 0xff, 0xff, 0xff};
            assert_int_equal(write(fd, huge, 4), 4);
        } else {
            sa_ListTransactionsResponse_t r;
            sa_ListTransactionsResponse_init(&r);
            sa_ListTransactionsResponse_TransactionState_t t = {SA_STR("app-1"), 42, SA_STR("Ongoing")};
            r.TransactionStates = &t;
            r.TransactionStates_count = 1;
            sa_proto_write_response_header(&b, SA_API_ListTransactions, 1,
                                           f->answer == ANSWER_BAD_CORR ? corr + 7 : corr);
            sa_ListTransactionsResponse_encode(&r, 1, &b);
            send_frame(fd, &b);
        }
        sa_buf_free(&b);
    }
    if (fd >= 0) close(fd);
    return NULL;
}

static void fake_start(fake_t *f, answer_t answer) {
    f->answer = answer;
    f->lfd = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in sa = {.sin_family = AF_INET};
    sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    socklen_t len = sizeof(sa);
    assert_int_equal(bind(f->lfd, (struct sockaddr *)&sa, sizeof(sa)), 0);
    assert_int_equal(listen(f->lfd, 4), 0);
    getsockname(f->lfd, (struct sockaddr *)&sa, &len);
    f->port = ntohs(sa.sin_port);
    pthread_create(&f->thread, NULL, fake_main, f);
}

static void fake_stop(fake_t *f, sa_kconn_t *c) {
    sa_kconn_close(c); /* the fake's read sees EOF and it returns */
    pthread_join(f->thread, NULL);
    close(f->lfd);
}

/* Open a connection to "PLAINTEXT://127.0.0.1:@p port" with the settings @p props (NULL-ended
 * "KEY=VALUE"), as a command's sa_client_setup would have left them.
 * @returns what sa_kconn_open returned; the reason in @p errstr. */
static sa_err_t open_port(int port, const char *const *props, int timeout_ms, sa_kconn_t **out, char *errstr,
                          size_t size) {
    char servers[64];
    snprintf(servers, sizeof(servers), "PLAINTEXT://127.0.0.1:%d", port);
    sa_client_opts_t opts = {.bootstrap = servers, .cmd = "test", .ready = 1};
    for (const char *const *p = props; p && *p; p++) sa_strlist_add(&opts.props, *p);
    sa_err_t err = sa_kconn_open(&opts, NULL, timeout_ms, out, errstr, size);
    sa_strlist_free(&opts.props);
    return err;
}

static sa_kconn_t *open_fake(const fake_t *f) {
    static const char *const props[] = {"client.id=kconn-test", NULL};
    char errstr[512];
    sa_kconn_t *c = NULL;
    if (open_port(f->port, props, 2000, &c, errstr, sizeof(errstr))) fail_msg("open: %s", errstr);
    return c;
}

/* Call ListTransactions v1 with a @p timeout_ms deadline. @returns the call's result. */
static sa_err_t list(sa_kconn_t *c, sa_arena_t *arena, sa_ListTransactionsResponse_t *resp, int timeout_ms,
                     char *errstr, size_t size) {
    sa_ListTransactionsRequest_t req;
    sa_ListTransactionsRequest_init(&req);
    return sa_kconn_request(c, SA_API_ListTransactions, 1, &req, resp, arena, timeout_ms, errstr, size);
}

static void test_call_and_versions(void **state) {
    (void)state;
    fake_t f;
    fake_start(&f, ANSWER_OK);
    sa_kconn_t *w = open_fake(&f);
    assert_non_null(w);
    assert_string_equal(f.client_id, "kconn-test"); /* client.id of the settings */
    /* the broker says 0-7, samsa's codec knows 0-1: the common highest is 1 */
    assert_int_equal(sa_kconn_version(w, SA_API_ListTransactions), 1);
    assert_int_equal(sa_kconn_version(w, SA_API_DescribeTransactions), -1); /* not served */
    assert_int_equal(sa_kconn_version(w, 9999), -1);
    sa_arena_t arena;
    sa_arena_init(&arena, 0);
    sa_ListTransactionsResponse_t resp;
    char errstr[256];
    /* a version the broker does not serve is refused before sending; the connection stays usable */
    sa_DescribeTransactionsRequest_t dreq;
    sa_DescribeTransactionsRequest_init(&dreq);
    sa_DescribeTransactionsResponse_t dresp;
    assert_int_equal(sa_kconn_request(w, SA_API_DescribeTransactions, 0, &dreq, &dresp, &arena, 2000, errstr,
                                      sizeof(errstr)),
                     SA_ERR_UNSUPPORTED_VERSION);
    assert_non_null(strstr(errstr, "does not serve DescribeTransactions v0"));
    for (int i = 0; i < 2; i++) { /* two calls on one connection */
        assert_int_equal(list(w, &arena, &resp, 2000, errstr, sizeof(errstr)), SA_OK);
        assert_int_equal(resp.TransactionStates_count, 1);
        assert_true(sa_str_eq(resp.TransactionStates[0].TransactionalId, "app-1"));
        assert_int_equal(resp.TransactionStates[0].ProducerId, 42);
        assert_true(sa_str_eq(resp.TransactionStates[0].TransactionState, "Ongoing"));
        sa_arena_reset(&arena);
    }
    sa_arena_free(&arena);
    fake_stop(&f, w);
}

/* The call fails with @p want in its reason within its timeout; the connection then refuses. */
static void expect_failure(answer_t answer, const char *want) {
    fake_t f;
    fake_start(&f, answer);
    sa_kconn_t *w = open_fake(&f);
    assert_non_null(w);
    sa_arena_t arena;
    sa_arena_init(&arena, 0);
    sa_ListTransactionsResponse_t resp;
    char errstr[256] = "";
    int64_t t0 = sa_mono_ms();
    assert_int_not_equal(list(w, &arena, &resp, 300, errstr, sizeof(errstr)), SA_OK);
    assert_true(sa_mono_ms() - t0 < 2000);
    if (!strstr(errstr, want)) fail_msg("reason \"%s\" lacks \"%s\"", errstr, want);
    assert_int_equal(list(w, &arena, &resp, 300, errstr, sizeof(errstr)), SA_ERR_CLOSED);
    assert_non_null(strstr(errstr, "closed after an earlier error"));
    assert_true(arena.used < 4096); /* nothing was allocated for the claimed frame */
    sa_arena_free(&arena);
    fake_stop(&f, w);
}

static void test_bad_correlation(void **state) {
    (void)state;
    expect_failure(ANSWER_BAD_CORR, "correlation id");
}

static void test_huge_frame(void **state) {
    (void)state;
    expect_failure(ANSWER_HUGE, "claims 2147483647 bytes");
}

static void test_closed(void **state) {
    (void)state;
    expect_failure(ANSWER_CLOSE, "closed the connection");
}

static void test_silent(void **state) {
    (void)state;
    expect_failure(ANSWER_SILENT, "timed out");
}

/* TLS to a listener that does not speak it: the handshake fails, in time, saying so. */
static void test_tls_to_plaintext(void **state) {
    (void)state;
    fake_t f;
    fake_start(&f, ANSWER_OK);
    static const char *const props[] = {"security.protocol=SSL", "enable.ssl.certificate.verification=false",
                                        NULL};
    sa_kconn_t *c = NULL;
    char errstr[512];
    int64_t t0 = sa_mono_ms();
    assert_int_equal(open_port(f.port, props, 1000, &c, errstr, sizeof(errstr)), SA_ERR_IO);
    assert_true(sa_mono_ms() - t0 < 3000);
    assert_null(c);
    if (!strstr(errstr, "TLS handshake")) fail_msg("reason \"%s\" lacks \"TLS handshake\"", errstr);
    fake_stop(&f, NULL);
}

/* Settings samsa's client cannot honour are refused before anything is contacted (port 1 would
 * say "cannot connect"); a refused connection names the address. */
static void test_settings_refused(void **state) {
    (void)state;
    static const char *const gssapi[] = {"security.protocol=SASL_SSL", "sasl.mechanism=GSSAPI", NULL};
    static const char *const no_mech[] = {"security.protocol=sasl_plaintext", NULL}; /* GSSAPI by default */
    static const char *const oauth[] = {"security.protocol=SASL_PLAINTEXT", "sasl.mechanisms=OAUTHBEARER",
                                        NULL};
    static const char *const bogus[] = {"security.protocol=carrier_pigeon", NULL};
    const char *const *refused[] = {gssapi, no_mech, oauth, bogus};
    const char *why[] = {"speaks PLAIN", "speaks PLAIN", "speaks PLAIN", "expected plaintext"};
    char errstr[512];
    sa_kconn_t *c = NULL;
    for (size_t i = 0; i < sizeof(refused) / sizeof(*refused); i++) {
        assert_int_equal(open_port(1, refused[i], 1000, &c, errstr, sizeof(errstr)), SA_ERR_INVALID_ARG);
        if (!strstr(errstr, why[i])) fail_msg("reason \"%s\" lacks \"%s\"", errstr, why[i]);
        assert_null(c);
    }
    static const char *const scram[] = {"security.protocol=SASL_SSL", "sasl.mechanism=SCRAM-SHA-512", NULL};
    assert_int_equal(open_port(1, scram, 1000, &c, errstr, sizeof(errstr)),
                     SA_ERR_IO); /* accepted: connects */
    assert_non_null(strstr(errstr, "cannot connect to 127.0.0.1:1"));
    assert_null(c);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_call_and_versions),
        cmocka_unit_test(test_bad_correlation),
        cmocka_unit_test(test_huge_frame),
        cmocka_unit_test(test_closed),
        cmocka_unit_test(test_silent),
        cmocka_unit_test(test_tls_to_plaintext),
        cmocka_unit_test(test_settings_refused),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
