/* The one client configuration (src/client): precedence of defaults, $SAMSA_CONFIG, -F, -X, -b
 * and --group; roles; -X list and -X dump (secrets masked); errors naming the bad property; the
 * folding of broker-down logs; the refused-connection check. */
#include <arpa/inet.h>
#include <netinet/in.h>
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

#include "client/client.h"
#include "core/cli.h"
#include "core/mem.h"

/* The log callbacks' statics (the fold state machine and the failure parser), reached as the
 * house style allows: this file stands in for client_log.o. */
#include "client/client_log.c"

/* ---- helpers ---- */

typedef struct captured_s {
    int rc;
    char *out, *err; /* what the call printed (owned) */
} captured_t;

static char *slurp(FILE *fp) {
    fflush(fp);
    long n = ftell(fp);
    char *s = sa_calloc((size_t)n + 1, 1);
    rewind(fp);
    assert_int_equal(fread(s, 1, (size_t)n, fp), (size_t)n);
    fclose(fp);
    return s;
}

/* Run sa_client_setup with stdout and stderr captured. */
static captured_t setup(sa_client_opts_t *opts, const sa_client_role_t *roles, size_t nroles) {
    FILE *out = tmpfile(), *err = tmpfile();
    fflush(stdout);
    fflush(stderr);
    int o = dup(1), e = dup(2);
    dup2(fileno(out), 1);
    dup2(fileno(err), 2);
    captured_t c = {sa_client_setup("test", opts, roles, nroles), NULL, NULL};
    fflush(stdout);
    fflush(stderr);
    dup2(o, 1);
    dup2(e, 2);
    close(o);
    close(e);
    c.out = slurp(out);
    c.err = slurp(err);
    return c;
}

static void captured_free(captured_t *c) {
    free(c->out);
    free(c->err);
}

static char *write_file(const char *text) {
    char *path = sa_strdup("/tmp/samsa-test-client-XXXXXX");
    int fd = mkstemp(path);
    assert_true(fd >= 0);
    assert_int_equal(write(fd, text, strlen(text)), (ssize_t)strlen(text));
    close(fd);
    return path;
}

static void opts_free(sa_client_opts_t *o) {
    sa_client_opts_free(o);
    free(o->bootstrap);
    sa_strlist_free(&o->x);
    sa_strlist_free(&o->files);
    memset(o, 0, sizeof(*o));
}

/* @returns the value of @p key in @p conf (static buffer). */
static const char *get(rd_kafka_conf_t *conf, const char *key) {
    static char v[512];
    size_t n = sizeof(v);
    if (rd_kafka_conf_get(conf, key, v, &n) == RD_KAFKA_CONF_OK) return v;
    rd_kafka_topic_conf_t *t = rd_kafka_conf_get_default_topic_conf(conf);
    n = sizeof(v);
    if (t && rd_kafka_topic_conf_get(t, key, v, &n) == RD_KAFKA_CONF_OK) return v;
    return "(unset)";
}

static const char *const producer_defaults[] = {"linger.ms=7", "client.id=from-defaults", "acks=1", NULL};
static const char *const consumer_defaults[] = {"fetch.wait.max.ms=77", NULL};
static const sa_client_role_t roles[] = {
    {"producer", SA_CLIENT_PRODUCER, producer_defaults, NULL},
    {"consumer", SA_CLIENT_CONSUMER, consumer_defaults, "the-group"},
    {"admin client", SA_CLIENT_ADMIN, NULL, NULL},
};

static rd_kafka_conf_t *conf_of(const sa_client_opts_t *o, int role) {
    char errstr[512];
    rd_kafka_conf_t *conf = sa_client_conf_new(o, &roles[role], errstr, sizeof(errstr));
    if (!conf) fail_msg("conf_new: %s", errstr);
    return conf;
}

/* ---- precedence ---- */

static void precedence_defaults_env_file_x_b(void **state) {
    (void)state;
    sa_client_opts_t o = {0};
    unsetenv("SAMSA_CONFIG");
    captured_t c = setup(&o, roles, 3);
    assert_int_equal(c.rc, -1);
    captured_free(&c);
    rd_kafka_conf_t *conf = conf_of(&o, 0);
    assert_string_equal(get(conf, "bootstrap.servers"), SA_CLIENT_DEFAULT_BOOTSTRAP);
    assert_string_equal(get(conf, "linger.ms"), "7");             /* the command's default */
    assert_string_equal(get(conf, "client.id"), "from-defaults"); /* over samsa-CMD */
    rd_kafka_conf_destroy(conf);
    conf = conf_of(&o, 2);
    assert_string_equal(get(conf, "client.id"), "samsa-test"); /* the base default */
    rd_kafka_conf_destroy(conf);
    opts_free(&o);

    /* $SAMSA_CONFIG over the defaults; -X over the file; bootstrap.servers from the file */
    char *env =
        write_file("# shared settings\nlinger.ms = 11\nclient.id=from-env\nbootstrap.servers=envhost:1\n");
    setenv("SAMSA_CONFIG", env, 1);
    sa_strlist_add(&o.x, "client.id=from-x");
    c = setup(&o, roles, 3);
    assert_int_equal(c.rc, -1);
    captured_free(&c);
    conf = conf_of(&o, 0);
    assert_string_equal(get(conf, "linger.ms"), "11");
    assert_string_equal(get(conf, "client.id"), "from-x");
    assert_string_equal(get(conf, "bootstrap.servers"), "envhost:1");
    assert_string_equal(sa_client_bootstrap(&o), "envhost:1");
    rd_kafka_conf_destroy(conf);
    opts_free(&o);

    /* -F replaces $SAMSA_CONFIG (as kcat's -F does $KCAT_CONFIG); -b wins over both */
    char *file = write_file("linger.ms=22\nbootstrap.servers=filehost:2\n");
    sa_strlist_add(&o.files, file);
    o.bootstrap = sa_strdup("flaghost:3");
    c = setup(&o, roles, 3);
    assert_int_equal(c.rc, -1);
    captured_free(&c);
    conf = conf_of(&o, 0);
    assert_string_equal(get(conf, "linger.ms"), "22");
    assert_string_equal(get(conf, "client.id"), "from-defaults"); /* the env file was not read */
    assert_string_equal(get(conf, "bootstrap.servers"), "flaghost:3");
    assert_string_equal(sa_client_bootstrap(&o), "flaghost:3");
    rd_kafka_conf_destroy(conf);
    opts_free(&o);

    /* -F none: no file at all */
    sa_strlist_add(&o.files, "none");
    c = setup(&o, roles, 3);
    assert_int_equal(c.rc, -1);
    captured_free(&c);
    conf = conf_of(&o, 0);
    assert_string_equal(get(conf, "linger.ms"), "7");
    rd_kafka_conf_destroy(conf);
    opts_free(&o);

    unsetenv("SAMSA_CONFIG");
    unlink(env);
    unlink(file);
    free(env);
    free(file);
}

/* ---- roles ---- */

static void properties_go_to_the_roles_they_belong_to(void **state) {
    (void)state;
    sa_client_opts_t o = {0};
    unsetenv("SAMSA_CONFIG");
    sa_strlist_add(&o.x, "acks=0");                        /* producer (a topic property) */
    sa_strlist_add(&o.x, "auto.offset.reset=latest");      /* consumer (a topic property) */
    sa_strlist_add(&o.x, "session.timeout.ms=7000");       /* consumer */
    sa_strlist_add(&o.x, "socket.timeout.ms=12345");       /* both */
    sa_strlist_add(&o.x, "topic.message.timeout.ms=4321"); /* producer, spelled with "topic." */
    captured_t c = setup(&o, roles, 3);
    assert_int_equal(c.rc, -1);
    assert_string_equal(c.err, ""); /* every -X is taken by some client: no note */
    captured_free(&c);

    rd_kafka_conf_t *p = conf_of(&o, 0), *k = conf_of(&o, 1), *a = conf_of(&o, 2);
    assert_string_equal(get(p, "request.required.acks"), "0");
    assert_string_equal(get(p, "message.timeout.ms"), "4321");
    assert_string_equal(get(k, "auto.offset.reset"), "largest");
    assert_string_equal(get(k, "session.timeout.ms"), "7000");
    assert_string_equal(get(k, "group.id"), "the-group");   /* from the role's --group */
    assert_string_equal(get(k, "fetch.wait.max.ms"), "77"); /* the consumer's own default */
    /* not applied where they do not belong */
    assert_string_not_equal(get(k, "request.required.acks"), "0");
    assert_string_not_equal(get(p, "session.timeout.ms"), "7000");
    assert_string_not_equal(get(a, "session.timeout.ms"), "7000");
    assert_string_not_equal(get(a, "request.required.acks"), "0");
    /* common ones everywhere */
    assert_string_equal(get(p, "socket.timeout.ms"), "12345");
    assert_string_equal(get(k, "socket.timeout.ms"), "12345");
    assert_string_equal(get(a, "socket.timeout.ms"), "12345");
    rd_kafka_conf_destroy(p);
    rd_kafka_conf_destroy(k);
    rd_kafka_conf_destroy(a);
    opts_free(&o);

    /* a -X no client of the command takes is said to have no effect */
    sa_strlist_add(&o.x, "session.timeout.ms=7000");
    c = setup(&o, roles, 1); /* the producer only */
    assert_int_equal(c.rc, -1);
    assert_non_null(strstr(c.err, "-X session.timeout.ms=7000 has no effect"));
    captured_free(&c);
    opts_free(&o);
}

/* ---- errors ---- */

static void bad_properties_are_usage_errors_naming_them(void **state) {
    (void)state;
    unsetenv("SAMSA_CONFIG");
    static const struct {
        const char *x, *file, *env, *want; /* one of x/file/env set */
    } cases[] = {
        {"bogus.prop=1", NULL, NULL,
         "samsa test: -X bogus.prop=1: No such configuration property: \"bogus.prop\""},
        {"acks=banana", NULL, NULL, "samsa test: -X acks=banana: Invalid value"},
        {"justakey", NULL, NULL, "samsa test: -X justakey: expected KEY=VALUE"},
        {"group.id=mine", NULL, NULL,
         "samsa test: -X group.id=mine: samsa test sets the consumer group with --group"},
        {NULL, "ok.not=1\n", NULL, ":1: No such configuration property: \"ok.not\""},
        {NULL, "# fine\nlinger.ms=1\nno equals sign\n", NULL,
         ":3: expected key=value, got \"no equals sign\""},
        {NULL, NULL, "linger.ms=-5\n",
         "-F none ignores it): Configuration property \"queue.buffering.max.ms\" value -5 is outside allowed "
         "range"}, /* linger.ms's real name */
    };
    for (size_t i = 0; i < SA_ARRAY_LEN(cases); i++) {
        sa_client_opts_t o = {0};
        char *path = NULL;
        if (cases[i].x) sa_strlist_add(&o.x, cases[i].x);
        if (cases[i].file) {
            path = write_file(cases[i].file);
            sa_strlist_add(&o.files, path);
        }
        if (cases[i].env) {
            path = write_file(cases[i].env);
            setenv("SAMSA_CONFIG", path, 1);
        }
        captured_t c = setup(&o, roles, 3);
        assert_int_equal(c.rc, SA_EXIT_USAGE);
        if (!strstr(c.err, cases[i].want)) fail_msg("case %zu: stderr %s lacks %s", i, c.err, cases[i].want);
        if (path) assert_non_null(strstr(c.err, path)); /* names the file */
        if (cases[i].env) assert_non_null(strstr(c.err, "$SAMSA_CONFIG"));
        assert_false(o.ready);
        captured_free(&c);
        opts_free(&o);
        unsetenv("SAMSA_CONFIG");
        if (path) unlink(path);
        free(path);
    }
    sa_client_opts_t o = {0};
    sa_strlist_add(&o.files, "/nonexistent/samsa.conf");
    captured_t c = setup(&o, roles, 3);
    assert_int_equal(c.rc, SA_EXIT_USAGE);
    assert_non_null(strstr(c.err, "/nonexistent/samsa.conf: No such file or directory"));
    captured_free(&c);
    opts_free(&o);
}

/* ---- -X list, -X dump ---- */

static void list_and_dump(void **state) {
    (void)state;
    unsetenv("SAMSA_CONFIG");
    sa_client_opts_t o = {0};
    sa_strlist_add(&o.x, "list");
    captured_t c = setup(&o, roles, 3);
    assert_int_equal(c.rc, SA_EXIT_OK);
    assert_non_null(strstr(c.out, "bootstrap.servers"));
    assert_non_null(strstr(c.out, "C/P"));
    captured_free(&c);
    opts_free(&o);

    sa_strlist_add(&o.x, "sasl.password=hunter2");
    sa_strlist_add(&o.x, "ssl.key.password=hunter3");
    sa_strlist_add(&o.x, "linger.ms=99");
    sa_strlist_add(&o.x, "dump");
    o.bootstrap = sa_strdup("dumphost:9");
    c = setup(&o, roles, 3);
    assert_int_equal(c.rc, SA_EXIT_OK);
    assert_null(strstr(c.out, "hunter"));
    assert_non_null(strstr(c.out, "sasl.password = [masked]"));
    assert_non_null(strstr(c.out, "ssl.key.password = [masked]"));
    /* one section per client, each with its effective values */
    char *prod = strstr(c.out, "# samsa test: producer\n"), *cons = strstr(c.out, "# samsa test: consumer\n"),
         *adm = strstr(c.out, "# samsa test: admin client\n");
    assert_true(prod && cons && adm && prod < cons && cons < adm);
    *cons = '\0';
    assert_non_null(strstr(prod, "queue.buffering.max.ms = 99")); /* linger.ms's real name */
    assert_non_null(strstr(prod, "metadata.broker.list = dumphost:9"));
    assert_non_null(strstr(prod, "request.required.acks = 1")); /* topic properties too */
    *adm = '\0';
    assert_non_null(strstr(cons + 1, "group.id = the-group"));
    assert_non_null(strstr(cons + 1, "fetch.wait.max.ms = 77"));
    captured_free(&c);
    opts_free(&o);
}

/* ---- logs ---- */

static void broker_down_is_folded(void **state) {
    (void)state;
    fold_t f = {0};
    int64_t rep = -1;
    assert_int_equal(fold_event(&f, 1000, &rep), FOLD_FIRST);
    for (int i = 1; i <= 50; i++) assert_int_equal(fold_event(&f, 1000 + i * 500, &rep), FOLD_QUIET);
    /* 30 s after the first line: one line with the count, then quiet again */
    assert_int_equal(fold_event(&f, 1000 + FOLD_MS, &rep), FOLD_SUMMARY);
    assert_int_equal(rep, 51);
    assert_int_equal(fold_event(&f, 1000 + FOLD_MS + 500, &rep), FOLD_QUIET);
    /* quiet for FOLD_MS: the episode is over; the next failure is a new one, said in full */
    assert_int_equal(fold_event(&f, 1000 + 3 * FOLD_MS, &rep), FOLD_FIRST);

    char addr[64], why[128];
    parse_failure("[thrd:127.0.0.1:1/bootstrap]: 127.0.0.1:1/bootstrap: Connect to ipv4#127.0.0.1:1 failed: "
                  "Connection refused (after 0ms in state CONNECT, 1 identical error(s) suppressed)",
                  addr, sizeof(addr), why, sizeof(why));
    assert_string_equal(addr, "127.0.0.1:1");
    assert_string_equal(why, "Connection refused");
    parse_failure("localhost:9092/1: Disconnected (after 5001ms in state UP)", addr, sizeof(addr), why,
                  sizeof(why));
    assert_string_equal(addr, "localhost:9092");
    assert_string_equal(why, "Disconnected");
    parse_failure("no structure here", addr, sizeof(addr), why, sizeof(why));
    assert_string_equal(why, "no structure here");

    char hint[256];
    sa_client_start_hint("SSL://kafka1:9093,kafka2:9093", hint, sizeof(hint));
    assert_non_null(strstr(hint, "samsa broker --listen kafka1:9093`"));
}

/* ---- reachability ---- */

static void refused_connections_are_known_at_once(void **state) {
    (void)state;
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in sin = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    assert_int_equal(bind(fd, (struct sockaddr *)&sin, sizeof(sin)), 0);
    socklen_t len = sizeof(sin);
    getsockname(fd, (struct sockaddr *)&sin, &len);
    int port = ntohs(sin.sin_port);
    char addr[64], errstr[256];
    snprintf(addr, sizeof(addr), "127.0.0.1:%d", port);
    /* bound but not listening: refused */
    assert_int_equal(sa_client_reachable(addr, 1000, errstr, sizeof(errstr)), -1);
    assert_string_equal(errstr, "Connection refused");
    assert_int_equal(listen(fd, 4), 0);
    assert_int_equal(sa_client_reachable(addr, 1000, errstr, sizeof(errstr)), 1);
    /* one of several is enough; a scheme is accepted */
    char both[128];
    snprintf(both, sizeof(both), "PLAINTEXT://127.0.0.1:1,%s", addr);
    assert_int_equal(sa_client_reachable(both, 1000, errstr, sizeof(errstr)), 1);
    close(fd);
    assert_int_equal(sa_client_reachable("127.0.0.1:1,127.0.0.1:2", 1000, errstr, sizeof(errstr)), -1);
    assert_string_equal(errstr, "127.0.0.1:1: Connection refused");
    assert_int_equal(sa_client_reachable("no-such-host.invalid:9092", 1000, errstr, sizeof(errstr)), -1);
    assert_non_null(strstr(errstr, "cannot resolve no-such-host.invalid"));
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(precedence_defaults_env_file_x_b),
        cmocka_unit_test(properties_go_to_the_roles_they_belong_to),
        cmocka_unit_test(bad_properties_are_usage_errors_naming_them),
        cmocka_unit_test(list_and_dump),
        cmocka_unit_test(broker_down_is_folded),
        cmocka_unit_test(refused_connections_are_known_at_once),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
