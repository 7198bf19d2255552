/* sa_buf: growth, cap, printf, consume, big-endian helpers. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "core/buf.h"

static void grows_and_keeps_bytes(void **state) {
    (void)state;
    sa_buf_t b = SA_BUF_INIT(0);
    for (int i = 0; i < 10000; i++) assert_int_equal(sa_buf_putc(&b, (uint8_t)i), SA_OK);
    assert_int_equal(b.len, 10000);
    for (int i = 0; i < 10000; i++) assert_int_equal(b.data[i], (uint8_t)i);
    sa_buf_free(&b);
}

static void cap_is_enforced_and_buffer_unchanged(void **state) {
    (void)state;
    sa_buf_t b = SA_BUF_INIT(10);
    assert_int_equal(sa_buf_append(&b, "0123456789", 10), SA_OK);
    assert_int_equal(sa_buf_putc(&b, 'x'), SA_ERR_TOOBIG);
    assert_int_equal(b.len, 10);
    assert_string_equal(sa_buf_cstr(&b), "0123456789");
    assert_int_equal(sa_buf_reserve(&b, SIZE_MAX), SA_ERR_TOOBIG);
    assert_null(sa_buf_extend(&b, 1));
    sa_buf_free(&b);
}

static void printf_consume_take(void **state) {
    (void)state;
    sa_buf_t b = SA_BUF_INIT(0);
    assert_int_equal(sa_buf_printf(&b, "%d-%s", 42, "abc"), SA_OK);
    assert_string_equal(sa_buf_cstr(&b), "42-abc");
    sa_buf_consume(&b, 3);
    assert_string_equal(sa_buf_cstr(&b), "abc");
    char *s = sa_buf_take(&b);
    assert_string_equal(s, "abc");
    assert_int_equal(b.len, 0);
    free(s);
}

static void big_endian(void **state) {
    (void)state;
    sa_buf_t b = SA_BUF_INIT(0);
    sa_buf_put_be16(&b, 0x0102);
    sa_buf_put_be32(&b, 0x03040506);
    sa_buf_put_be64(&b, 0x0708090a0b0c0d0eULL);
    const uint8_t want[] = {1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14};
    assert_memory_equal(b.data, want, sizeof(want));
    assert_int_equal(sa_load_be16(b.data), 0x0102);
    assert_int_equal(sa_load_be32(b.data + 2), 0x03040506);
    assert_true(sa_load_be64(b.data + 6) == 0x0708090a0b0c0d0eULL);
    sa_buf_free(&b);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(grows_and_keeps_bytes),
        cmocka_unit_test(cap_is_enforced_and_buffer_unchanged),
        cmocka_unit_test(printf_consume_take),
        cmocka_unit_test(big_endian),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
