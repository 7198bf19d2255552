/* core/escape: HTML entities for text and attributes, URL query encoding. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>

#include "core/escape.h"

static void html_escapes_the_five(void **state) {
    (void)state;
    sa_buf_t b = SA_BUF_INIT(0);
    sa_html_escape(&b, "<a href=\"x\" onclick='y'>&amp;</a>");
    assert_string_equal(sa_buf_cstr(&b),
                        "&lt;a href=&quot;x&quot; onclick=&#39;y&#39;&gt;&amp;amp;&lt;/a&gt;");
    sa_buf_reset(&b);
    sa_html_escape(&b, "Привет, мир");
    assert_string_equal(sa_buf_cstr(&b), "Привет, мир"); /* UTF-8 passes as is */
    sa_buf_reset(&b);
    sa_html_escape_n(&b, "a<b>c", 2); /* only the first two bytes */
    assert_string_equal(sa_buf_cstr(&b), "a&lt;");
    sa_buf_reset(&b);
    sa_html_escape(&b, "");
    assert_int_equal(b.len, 0);
    sa_buf_free(&b);
}

static void url_encodes_all_but_unreserved(void **state) {
    (void)state;
    sa_buf_t b = SA_BUF_INIT(0);
    sa_url_encode(&b, "a b&c=d/é~-_.");
    assert_string_equal(sa_buf_cstr(&b), "a%20b%26c%3Dd%2F%C3%A9~-_.");
    sa_buf_free(&b);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(html_escapes_the_five),
        cmocka_unit_test(url_encodes_all_but_unreserved),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
