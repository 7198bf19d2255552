/* CRC-32C: standard check values, and hardware against software on random input. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "core/crc32c.h"

static void check_values(void **state) {
    (void)state;
    /* The CRC-32C check value (RFC 3720 / iSCSI) and the RFC 3720 B.4 test vectors. */
    assert_int_equal(sa_crc32c_sw(0, "123456789", 9), 0xe3069283u);
    assert_int_equal(sa_crc32c(0, "123456789", 9), 0xe3069283u);
    uint8_t zeros[32] = {0}, ones[32], inc[32];
    memset(ones, 0xff, sizeof(ones));
    for (int i = 0; i < 32; i++) inc[i] = (uint8_t)i;
    assert_int_equal(sa_crc32c(0, zeros, 32), 0x8a9136aau);
    assert_int_equal(sa_crc32c(0, ones, 32), 0x62a8ab43u);
    assert_int_equal(sa_crc32c(0, inc, 32), 0x46dd794eu);
    assert_int_equal(sa_crc32c(0, "", 0), 0u);
}

static void incremental_equals_whole(void **state) {
    (void)state;
    const char *s = "The quick brown fox jumps over the lazy dog";
    size_t n = strlen(s);
    for (size_t cut = 0; cut <= n; cut++)
        assert_int_equal(sa_crc32c(sa_crc32c(0, s, cut), s + cut, n - cut), sa_crc32c(0, s, n));
}

static void hw_matches_sw_on_random_input(void **state) {
    (void)state;
    if (!sa_crc32c_hw_available()) skip();
    uint8_t buf[4099];
    srand(42);
    for (int round = 0; round < 2000; round++) {
        size_t len = (size_t)rand() % sizeof(buf);
        size_t off = (size_t)rand() % 8; /* unaligned starts */
        if (off + len > sizeof(buf)) len = sizeof(buf) - off;
        for (size_t i = 0; i < off + len; i++) buf[i] = (uint8_t)rand();
        assert_int_equal(sa_crc32c_hw(0, buf + off, len), sa_crc32c_sw(0, buf + off, len));
    }
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(check_values),
        cmocka_unit_test(incremental_equals_whole),
        cmocka_unit_test(hw_matches_sw_on_random_input),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
