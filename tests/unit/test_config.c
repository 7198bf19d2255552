/* The config table: defaults, flags, .properties files, bounds, errors naming file and line. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <cmocka.h>

#include "core/config.h"
#include "core/err.h"

typedef struct conf_s {
    char *listen;
    int64_t partitions;
    int64_t retention_ms;
    int64_t segment_bytes;
    int auto_create;
    sa_strlist_t props;
    char *file;
} conf_t;

static const sa_cfg_opt_t opts[] = {
    {"listeners", "listen", 'l', SA_CFG_STR, offsetof(conf_t, listen), 0, 0, "127.0.0.1:9092", "HOST:PORT",
     "listen"},
    {"num.partitions", "partitions", 'p', SA_CFG_INT, offsetof(conf_t, partitions), 1, 10000, "1", NULL,
     "parts"},
    {"log.retention.ms", NULL, 0, SA_CFG_MS, offsetof(conf_t, retention_ms), 0, 0, "7d", NULL, "retention"},
    {"log.segment.bytes", NULL, 0, SA_CFG_SIZE, offsetof(conf_t, segment_bytes), 1024, 0x7fffffff, "1g", NULL,
     "seg"},
    {"auto.create.topics.enable", "auto-create", 0, SA_CFG_BOOL, offsetof(conf_t, auto_create), 0, 0, "true",
     NULL, "ac"},
    {NULL, NULL, 'X', SA_CFG_LIST, offsetof(conf_t, props), 0, 0, NULL, "KEY=VALUE", "prop"},
    {NULL, "config", 'c', SA_CFG_FILE, offsetof(conf_t, file), 0, 0, NULL, NULL, "file"},
    {0}};

static const sa_cfg_cmd_t cmd = {"test", "samsa test", "a test command", opts, NULL};

static void defaults(void **state) {
    (void)state;
    conf_t c = {0};
    sa_cfg_defaults(opts, &c);
    assert_string_equal(c.listen, "127.0.0.1:9092");
    assert_int_equal(c.partitions, 1);
    assert_true(c.retention_ms == 7LL * 86400000);
    assert_true(c.segment_bytes == 1024LL * 1024 * 1024);
    assert_int_equal(c.auto_create, 1);
    sa_cfg_free(opts, &c);
}

static void flags_and_positionals(void **state) {
    (void)state;
    conf_t c = {0};
    sa_cfg_defaults(opts, &c);
    char *argv[] = {"test", "--listen", "0.0.0.0:1",     "-p", "3", "-X", "a=b", "-X",
                    "c=d",  "pos",      "--auto-create", NULL};
    int first = 0;
    assert_int_equal(sa_cfg_parse_args(&cmd, &c, 11, argv, &first), SA_CFG_PARSED);
    assert_string_equal(c.listen, "0.0.0.0:1");
    assert_int_equal(c.partitions, 3);
    assert_int_equal(c.props.n, 2);
    assert_string_equal(c.props.v[1], "c=d");
    assert_int_equal(first, 10);
    assert_string_equal(argv[first], "pos");
    sa_cfg_free(opts, &c);
}

static void bounds_and_bad_values(void **state) {
    (void)state;
    conf_t c = {0};
    char err[256];
    sa_cfg_defaults(opts, &c);
    assert_int_equal(sa_cfg_set(opts, &c, "num.partitions", "0", err, sizeof(err)), SA_ERR_INVALID_ARG);
    assert_non_null(strstr(err, "out of range"));
    assert_int_equal(sa_cfg_set(opts, &c, "partitions", "x", err, sizeof(err)), SA_ERR_INVALID_ARG);
    assert_int_equal(sa_cfg_set(opts, &c, "auto-create", "maybe", err, sizeof(err)), SA_ERR_INVALID_ARG);
    assert_int_equal(sa_cfg_set(opts, &c, "nope", "1", err, sizeof(err)), SA_ERR_NOT_FOUND);
    assert_int_equal(c.partitions, 1);
    char *argv[] = {"test", "--partitions", "0", NULL};
    assert_int_equal(sa_cfg_parse_args(&cmd, &c, 3, argv, NULL), SA_CFG_USAGE);
    char *argv2[] = {"test", "--bogus", NULL};
    assert_int_equal(sa_cfg_parse_args(&cmd, &c, 2, argv2, NULL), SA_CFG_USAGE);
    sa_cfg_free(opts, &c);
}

static void properties_file_then_flags_override(void **state) {
    (void)state;
    char path[] = "/tmp/samsa-cfg-XXXXXX";
    int fd = mkstemp(path);
    FILE *fp = fdopen(fd, "w");
    fprintf(fp, "# comment\n! also comment\nlisteners = 127.0.0.1:1234\nnum.partitions: 4\nbroker.id=0\n"
                "log.retention.ms=1000\n");
    fclose(fp);
    conf_t c = {0};
    sa_cfg_defaults(opts, &c);
    char *argv[] = {"test", "-p", "5", "--config", path, NULL};
    assert_int_equal(sa_cfg_parse_args(&cmd, &c, 5, argv, NULL), SA_CFG_PARSED);
    assert_string_equal(c.listen, "127.0.0.1:1234"); /* from the file */
    assert_int_equal(c.partitions, 5);               /* the flag wins even though it came first */
    assert_int_equal(c.retention_ms, 1000);
    sa_cfg_free(opts, &c);

    fp = fopen(path, "w");
    fprintf(fp, "listeners=x\n\nnum.partitions=-3\n");
    fclose(fp);
    char err[256];
    sa_cfg_defaults(opts, &c);
    assert_int_equal(sa_cfg_load_properties(opts, &c, path, NULL, err, sizeof(err)), SA_ERR_INVALID_ARG);
    char want[300];
    snprintf(want, sizeof(want), "%s:3:", path);
    assert_non_null(strstr(err, want));
    sa_cfg_free(opts, &c);
    unlink(path);
}

static void numbers_with_units(void **state) {
    (void)state;
    int64_t v;
    assert_int_equal(sa_cfg_parse_number(SA_CFG_SIZE, "16k", &v), 0);
    assert_int_equal(v, 16384);
    assert_int_equal(sa_cfg_parse_number(SA_CFG_MS, "30s", &v), 0);
    assert_int_equal(v, 30000);
    assert_int_equal(sa_cfg_parse_number(SA_CFG_MS, "250ms", &v), 0);
    assert_int_equal(v, 250);
    assert_int_equal(sa_cfg_parse_number(SA_CFG_INT, "12abc", &v), -1);
    assert_int_equal(sa_cfg_parse_number(SA_CFG_SIZE, "99999999999999999g", &v), -1);
}

/* A line longer than the reader's buffer is an error naming the line, not two settings made of
 * its halves (the second half of a long value must never be applied as a key). */
static void properties_line_too_long(void **state) {
    (void)state;
    char path[] = "/tmp/samsa-cfg-XXXXXX";
    int fd = mkstemp(path);
    FILE *fp = fdopen(fd, "w");
    fprintf(fp, "num.partitions=2\nlisteners=");
    for (int i = 0; i < 5000; i++) fputc('x', fp);
    fprintf(fp, "num.partitions=7\n");
    fclose(fp);
    conf_t c = {0};
    char err[256];
    sa_cfg_defaults(opts, &c);
    assert_int_equal(sa_cfg_load_properties(opts, &c, path, NULL, err, sizeof(err)), SA_ERR_INVALID_ARG);
    char want[300];
    snprintf(want, sizeof(want), "%s:2: line too long", path);
    assert_non_null(strstr(err, want));
    assert_int_equal(c.partitions, 2);
    sa_cfg_free(opts, &c);
    unlink(path);
}

/* Run sa_cfg_parse_args with stderr captured into @p err. */
static int parse_capturing_stderr(int argc, char **argv, char *err, size_t err_size) {
    char path[] = "/tmp/samsa-cfg-err-XXXXXX";
    int fd = mkstemp(path), saved = dup(2);
    fflush(stderr);
    dup2(fd, 2);
    conf_t c = {0};
    sa_cfg_defaults(opts, &c);
    int rc = sa_cfg_parse_args(&cmd, &c, argc, argv, NULL);
    fflush(stderr);
    dup2(saved, 2);
    close(saved);
    ssize_t n = pread(fd, err, err_size - 1, 0);
    err[n > 0 ? n : 0] = '\0';
    close(fd);
    unlink(path);
    sa_cfg_free(opts, &c);
    return rc;
}

/* The usage error names the option that is wrong, also inside a cluster of short options. */
static void usage_error_names_the_bad_option(void **state) {
    (void)state;
    char err[1024];
    char *cluster[] = {"test", "-l", "host:1", "-QZ", NULL};
    assert_int_equal(parse_capturing_stderr(4, cluster, err, sizeof(err)), SA_CFG_USAGE);
    assert_non_null(strstr(err, "unknown option -Q"));
    char *alone[] = {"test", "--no-such", NULL};
    assert_int_equal(parse_capturing_stderr(2, alone, err, sizeof(err)), SA_CFG_USAGE);
    assert_non_null(strstr(err, "unknown option --no-such"));
    char *missing[] = {"test", "--listen", NULL};
    assert_int_equal(parse_capturing_stderr(2, missing, err, sizeof(err)), SA_CFG_USAGE);
    assert_non_null(strstr(err, "missing argument for option --listen"));
    char *missing_short[] = {"test", "-l", NULL};
    assert_int_equal(parse_capturing_stderr(2, missing_short, err, sizeof(err)), SA_CFG_USAGE);
    assert_non_null(strstr(err, "missing argument for option -l"));
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(defaults),
        cmocka_unit_test(flags_and_positionals),
        cmocka_unit_test(bounds_and_bad_values),
        cmocka_unit_test(properties_file_then_flags_override),
        cmocka_unit_test(numbers_with_units),
        cmocka_unit_test(properties_line_too_long),
        cmocka_unit_test(usage_error_names_the_bad_option),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
