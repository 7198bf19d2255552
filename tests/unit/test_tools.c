/* Lab tools: the loggen record generator (rules, determinism, JSON), logstat's record scanner
 * (valid and hostile input) and its statistics (exact percentiles, shares). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>
#include <jansson.h>

#include "tools/loggen_record.h"
#include "tools/logstat_scan.h"
#include "tools/logstat_stats.h"

static void loggen_follows_the_lab_rules(void **state) {
    (void)state;
    sa_loggen_rng_t rng;
    sa_loggen_seed(&rng, 1);
    int levels[4] = {0}, users = 0, n = 200000;
    for (int i = 0; i < n; i++) {
        sa_loggen_rec_t r;
        sa_loggen_make(&rng, (uint64_t)i, &r);
        assert_string_equal(r.service, sa_loggen_services[i % 5]);
        assert_true(r.ip_last >= 1 && r.ip_last <= 254);
        if (r.user_id) users++, assert_true(r.user_id >= 1000 && r.user_id <= 9999);
        int timed = i % 5 == 0 || i % 5 == 3;
        if (timed)
            assert_true(r.response_time_ms >= 10 && r.response_time_ms <= 5000);
        else
            assert_int_equal(r.response_time_ms, -1);
        int coded = i % 5 == 1 || i % 5 == 4;
        assert_int_equal(r.status_code != 0, coded);
        int lvl = !strcmp(r.level, "INFO")      ? 0
                  : !strcmp(r.level, "WARNING") ? 1
                  : !strcmp(r.level, "ERROR")   ? 2
                                                : 3;
        if (lvl == 3) assert_string_equal(r.level, "DEBUG");
        levels[lvl]++;
        assert_int_equal(r.error_code != 0, lvl == 2);
        if (lvl == 2) assert_true(r.error_code >= 100 && r.error_code <= 999);
    }
    const double w[4] = {0.60, 0.20, 0.15, 0.05};
    for (int i = 0; i < 4; i++) assert_true(abs(levels[i] - (int)(w[i] * n)) < n / 200);
    assert_true(abs(users - (int)(0.7 * n)) < n / 200);
}

static void loggen_is_reproducible_and_valid_json(void **state) {
    (void)state;
    sa_loggen_rng_t a, b;
    sa_loggen_seed(&a, 42);
    sa_loggen_seed(&b, 42);
    char ja[SA_LOGGEN_REC_MAX], jb[SA_LOGGEN_REC_MAX];
    for (int i = 0; i < 1000; i++) {
        sa_loggen_rec_t ra, rb;
        sa_loggen_make(&a, (uint64_t)i, &ra);
        sa_loggen_make(&b, (uint64_t)i, &rb);
        size_t la = sa_loggen_format(&ra, 1795000000123456LL, ja, sizeof(ja));
        size_t lb = sa_loggen_format(&rb, 1795000000123456LL, jb, sizeof(jb));
        assert_int_equal(la, lb);
        assert_memory_equal(ja, jb, la);
        json_error_t err;
        json_t *o = json_loadb(ja, la, 0, &err);
        assert_non_null(o);
        assert_string_equal(json_string_value(json_object_get(o, "level")), ra.level);
        assert_true(json_is_real(json_object_get(o, "timestamp_unix")));
        assert_true(json_real_value(json_object_get(o, "timestamp_unix")) > 1795000000.12);
        assert_int_equal(json_object_size(o), ra.error_code ? 11 : 9);
        json_decref(o);
        sa_logscan_t s;
        assert_int_equal(sa_logscan(ja, la, &s), 0);
        assert_int_equal(s.level_len, strlen(ra.level));
        assert_int_equal(s.response_ms, ra.response_time_ms);
        assert_int_equal(s.status_code, ra.status_code ? ra.status_code : -1);
    }
}

static void scan_rejects_what_is_not_one_object(void **state) {
    (void)state;
    const char *bad[] = {"",
                         " ",
                         "null",
                         "[]",
                         "\"x\"",
                         "{",
                         "{\"a\"}",
                         "{\"a\":}",
                         "{\"a\":1,}",
                         "{\"a\":1} x",
                         "{\"a\":tru}",
                         "{\"a\":\"\\q\"}",
                         "{\"a\":\"\\u12\"}",
                         "{\"a\":\"x\n\"}",
                         "{\"a\":01}",
                         "{\"a\":1.}",
                         "{\"a\":-}",
                         "{\"a\":[1,2}",
                         "{\"level\":\"INFO\"",
                         "{'a':1}"};
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        sa_logscan_t s;
        assert_int_equal(sa_logscan(bad[i], strlen(bad[i]), &s), -1);
    }
    /* deep nesting is refused, not recursed into without bound */
    char deep[200];
    size_t k = 0;
    deep[k++] = '{', deep[k++] = '"', deep[k++] = 'a', deep[k++] = '"', deep[k++] = ':';
    for (int i = 0; i < 60; i++) deep[k++] = '[';
    for (int i = 0; i < 60; i++) deep[k++] = ']';
    deep[k++] = '}';
    sa_logscan_t s;
    assert_int_equal(sa_logscan(deep, k, &s), -1);
    /* a record cut short anywhere is malformed, never read past its end */
    const char *rec =
        "{\"level\": \"ERROR\", \"x\": [1, {\"y\": null}], \"service\": \"db\", \"status_code\": 500}";
    for (size_t n = 0; n < strlen(rec); n++) {
        char *copy = malloc(n ? n : 1); /* exact size, so ASan sees any overread */
        memcpy(copy, rec, n);
        assert_int_equal(sa_logscan(copy, n, &s), -1);
        free(copy);
    }
    assert_int_equal(sa_logscan(rec, strlen(rec), &s), 0);
    assert_int_equal(s.status_code, 500);
    assert_int_equal(s.service_len, 2);
}

static void stats_percentiles_and_malformed(void **state) {
    (void)state;
    sa_logstat_t st;
    sa_logstat_init(&st);
    char rec[128];
    for (int v = 1; v <= 100; v++) {
        int n =
            snprintf(rec, sizeof(rec), "{\"level\": \"%s\", \"service\": \"web\", \"response_time_ms\": %d}",
                     v % 4 ? "INFO" : "ERROR", v);
        sa_logstat_add(&st, rec, (size_t)n, 1000, 1000000);
    }
    assert_int_equal(sa_logstat_add(&st, "oops", 4, 1000, 1000000), -1);
    assert_int_equal(sa_logstat_add(&st, "{\"service\": \"x\"}", 16, 1000, 1000000), -1);
    assert_int_equal(st.total, 100);
    assert_int_equal(st.malformed, 2);
    assert_int_equal(st.level[0], 75);
    assert_int_equal(st.level[2], 25);
    assert_int_equal(sa_logstat_percentile(&st, 50), 50);
    assert_int_equal(sa_logstat_percentile(&st, 95), 95);
    assert_int_equal(sa_logstat_percentile(&st, 99), 99);
    assert_int_equal(st.nsvc, 1);
    /* no timestamp_unix: the Kafka record's time (1 s) counts */
    assert_int_equal(sa_logstat_last_minute(&st, 30000), 100);
    assert_int_equal(sa_logstat_last_minute(&st, 90000), 0);
    sa_logstat_free(&st);
}

/* A long non-ASCII service name is kept to a whole number of characters, so the JSON summary
 * (jansson refuses invalid UTF-8) still lists it. */
static void stats_long_service_name_stays_utf8(void **state) {
    (void)state;
    sa_logstat_t st;
    sa_logstat_init(&st);
    char rec[256] = "{\"level\": \"INFO\", \"service\": \"ab";
    for (int i = 0; i < 40; i++) strcat(rec, "ж"); /* 82 bytes: a 63-byte cut lands inside a character */
    strcat(rec, "\"}");
    assert_int_equal(sa_logstat_add(&st, rec, strlen(rec), -1, 1000000), 0);
    char *text = NULL;
    size_t size = 0;
    FILE *out = open_memstream(&text, &size);
    sa_logstat_print_json(&st, "t", "g", NULL, 1.0, 2000000, out);
    fclose(out);
    json_t *doc = json_loads(text, 0, NULL);
    assert_non_null(doc);
    json_t *services = json_object_get(doc, "services");
    assert_non_null(services);
    assert_int_equal(json_object_size(services), 1);
    json_decref(doc);
    free(text);
    sa_logstat_free(&st);
}

/* The log's own rates come from the records' times, not from when they were read: 100 records
 * 0.1 s apart are 600 a minute even when all are read in the same instant, in any order. */
static void stats_rates_from_record_times(void **state) {
    (void)state;
    sa_logstat_t st;
    sa_logstat_init(&st);
    char rec[160];
    const double t0 = 1795000000.0;
    for (int k = 0; k < 100; k++) {
        int i = (k * 37) % 100; /* out of time order, as three partitions deliver them */
        int n =
            snprintf(rec, sizeof(rec), "{\"timestamp_unix\": %.6f, \"level\": \"INFO\", \"service\": \"db\"}",
                     t0 + i * 0.1);
        assert_int_equal(sa_logstat_add(&st, rec, (size_t)n, 42 /* Kafka time: ignored */, 5000000), 0);
    }
    assert_float_equal(sa_logstat_per_minute(&st), 600.0, 0.5);
    const int64_t end_ms = (int64_t)(t0 * 1000) + 9900;
    assert_int_equal(sa_logstat_last_minute(&st, end_ms + 1000), 100);
    assert_int_equal(sa_logstat_last_minute(&st, end_ms + 55000), 50); /* the 50 of its last 5 s */
    assert_int_equal(sa_logstat_last_minute(&st, end_ms + 120000), 0);
    /* a record older than the ring still widens the span */
    int n = snprintf(rec, sizeof(rec), "{\"timestamp_unix\": %.1f, \"level\": \"INFO\"}", t0 - 90.1);
    assert_int_equal(sa_logstat_add(&st, rec, (size_t)n, -1, 5000000), 0);
    assert_float_equal(sa_logstat_per_minute(&st), 100.0 * 60.0 / 100.0, 0.5);

    char *text = NULL;
    size_t size = 0;
    FILE *out = open_memstream(&text, &size);
    sa_logstat_print_text(&st, "h", end_ms, out);
    fclose(out);
    assert_non_null(strstr(text, "on average over 100.0 s of log"));
    free(text);
    sa_logstat_free(&st);
}

/* The ERROR records: counted per service, the latest ones kept for the live view. */
static void stats_errors_per_service_and_latest(void **state) {
    (void)state;
    sa_logstat_t st;
    sa_logstat_init(&st);
    char rec[200];
    for (int i = 0; i < 7; i++) {
        int n = snprintf(
            rec, sizeof(rec),
            "{\"timestamp_unix\": 1795000000.%d, \"level\": \"ERROR\", \"message\": \"boom \\\"%d\\\"\", "
            "\"service\": \"%s\"}",
            i, i, i % 3 ? "auth" : "db");
        assert_int_equal(sa_logstat_add(&st, rec, (size_t)n, -1, 1), 2);
    }
    assert_int_equal(sa_logstat_add(&st, "{\"level\": \"INFO\", \"service\": \"db\"}", 34, -1, 1), 0);
    char *text = NULL;
    size_t size = 0;
    FILE *out = open_memstream(&text, &size);
    sa_logstat_print_text(&st, "h", 1795000001000, out);
    fclose(out);
    assert_non_null(strstr(text, "SERVICE                   COUNT   SHARE   ERRORS"));
    assert_non_null(strstr(text, "auth                          4   50.0%        4"));
    assert_non_null(strstr(text, "db                            4   50.0%        3"));
    assert_non_null(strstr(text, "latest errors (5 of 7):"));
    assert_null(strstr(text, "boom \\\"1\\\"")); /* pushed out of the ring */
    const char *e2 = strstr(text, "boom \\\"2\\\""), *e6 = strstr(text, "boom \\\"6\\\"");
    assert_true(e2 && e6 && e2 < e6); /* oldest first */
    free(text);

    text = NULL;
    out = open_memstream(&text, &size);
    sa_logstat_print_json(&st, "t", "g", NULL, 1.0, 2, out);
    fclose(out);
    json_t *doc = json_loads(text, 0, NULL);
    assert_non_null(doc);
    assert_int_equal(json_integer_value(json_object_get(json_object_get(doc, "service_errors"), "auth")), 4);
    assert_int_equal(json_integer_value(json_object_get(json_object_get(doc, "service_errors"), "db")), 3);
    json_decref(doc);
    free(text);
    sa_logstat_free(&st);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(loggen_follows_the_lab_rules),
        cmocka_unit_test(loggen_is_reproducible_and_valid_json),
        cmocka_unit_test(scan_rejects_what_is_not_one_object),
        cmocka_unit_test(stats_percentiles_and_malformed),
        cmocka_unit_test(stats_long_service_name_stays_utf8),
        cmocka_unit_test(stats_rates_from_record_times),
        cmocka_unit_test(stats_errors_per_service_and_latest),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
