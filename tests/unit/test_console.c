/* Unit tests of the console's pure helpers: times typed in forms, record bytes shown safely,
 * numbers, durations and the SVG chart. */
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>

#include "console/console_int.h"

static void test_parse_time(void **state) {
    (void)state;
    assert_int_equal(cs_parse_time("2024-05-01T12:00"), 1714564800000LL);
    assert_int_equal(cs_parse_time("2024-05-01T12:00:30"), 1714564830000LL);
    assert_int_equal(cs_parse_time("2024-05-01T12:00:30Z"), 1714564830000LL);
    assert_int_equal(cs_parse_time("1714564800000"), 1714564800000LL); /* milliseconds as they are */
    assert_int_equal(cs_parse_time("yesterday"), -1);
    assert_int_equal(cs_parse_time("2024-05-01T12:00+02:00"), -1); /* UTC only, said in the form */
    assert_int_equal(cs_parse_time(""), -1);
    assert_int_equal(cs_parse_time(NULL), -1);
    assert_int_equal(cs_parse_time("-5"), -1);
}

static char *bytes(const char *data, size_t len, size_t max, int pretty, sa_buf_t *b) {
    sa_buf_reset(b);
    cs_html_bytes(b, data, len, max, pretty);
    return (char *)sa_buf_cstr(b);
}

static void test_bytes(void **state) {
    (void)state;
    sa_buf_t b = SA_BUF_INIT(0);
    assert_string_equal(bytes("<script>&", 9, 100, 0, &b), "<pre>&lt;script&gt;&amp;</pre>");
    /* invalid UTF-8 and control bytes as \xNN, valid UTF-8 kept */
    assert_string_equal(
        bytes("a\xff\x01\xd0\xaf", 5, 100, 0, &b),
        "<pre>a<span class=\"hex\">\\xff</span><span class=\"hex\">\\x01</span>\xd0\xaf</pre>");
    assert_string_equal(bytes("abcdef", 6, 3, 0, &b), "<pre>abc…</pre>"); /* cut, and said */
    /* JSON indented and escaped; not JSON: as it is */
    assert_string_equal(bytes("{\"a\":\"<b>\"}", 11, 100, 1, &b),
                        "<pre class=\"json\">{\n  &quot;a&quot;: &quot;&lt;b&gt;&quot;\n}</pre>");
    assert_string_equal(bytes("{nope", 5, 100, 1, &b), "<pre>{nope</pre>");
    assert_string_equal(bytes("a\0b", 3, 100, 0, &b), "<pre>a<span class=\"hex\">\\x00</span>b</pre>");
    sa_buf_free(&b);
}

static void test_numbers(void **state) {
    (void)state;
    sa_buf_t b = SA_BUF_INIT(0);
    cs_html_num(&b, 1234567);
    assert_string_equal(sa_buf_cstr(&b), "1\u202f234\u202f567");
    sa_buf_reset(&b);
    cs_html_num(&b, -1);
    assert_string_equal(sa_buf_cstr(&b), "—");
    sa_buf_reset(&b);
    cs_html_duration(&b, SA_LANG_EN, 90000);
    assert_string_equal(sa_buf_cstr(&b), "1.5 min");
    sa_buf_reset(&b);
    cs_html_duration(&b, SA_LANG_RU, 2500);
    assert_string_equal(sa_buf_cstr(&b), "2.5 с");
    sa_buf_free(&b);
}

static void test_chart(void **state) {
    (void)state;
    sa_buf_t b = SA_BUF_INIT(0);
    cs_html_chart(&b, SA_LANG_EN, NULL, 0, "Lag <x>", "lag", "time", 1);
    assert_non_null(strstr(sa_buf_cstr(&b), "Lag &lt;x&gt;"));
    assert_non_null(strstr(sa_buf_cstr(&b), "No samples yet"));
    sa_buf_reset(&b);
    cs_point_t pts[3] = {{1000, 10, NAN}, {2000, 20, 5000}, {3000, 0, 0}};
    cs_html_chart(&b, SA_LANG_EN, pts, 3, "Lag", "lag", "time", 1);
    const char *svg = sa_buf_cstr(&b);
    assert_non_null(strstr(
        svg, "<polyline class=\"series s1\" fill=\"none\" points=\"60.0,102.0 360.0,14.0 660.0,190.0 \""));
    /* the second series skips its unknown point: two points */
    assert_non_null(strstr(svg, "class=\"series s2\" fill=\"none\" points=\"360.0,14.0 660.0,190.0 \""));
    assert_null(strstr(svg, "nan"));
    sa_buf_free(&b);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_parse_time),
        cmocka_unit_test(test_bytes),
        cmocka_unit_test(test_numbers),
        cmocka_unit_test(test_chart),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
