/* core/utf8: decoding, the RFC 3629 edge cases, counting, encoding, valid prefixes. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>

#include "core/utf8.h"

static void decodes_every_length(void **state) {
    (void)state;
    uint32_t cp;
    assert_int_equal(sa_utf8_next("A", 1, &cp), 1), assert_int_equal(cp, 'A');
    assert_int_equal(sa_utf8_next("\xd0\x96", 2, &cp), 2), assert_int_equal(cp, 0x416); /* Ж */
    assert_int_equal(sa_utf8_next("\xe2\x82\xac", 3, &cp), 3), assert_int_equal(cp, 0x20AC);
    assert_int_equal(sa_utf8_next("\xf0\x9f\x98\x80", 4, &cp), 4), assert_int_equal(cp, 0x1F600);
    /* a real U+FFFD is three bytes and valid */
    assert_int_equal(sa_utf8_next("\xef\xbf\xbd", 3, &cp), 3), assert_int_equal(cp, 0xFFFD);
    assert_true(sa_utf8_valid("\xef\xbf\xbd", 3));
}

static void refuses_malformed(void **state) {
    (void)state;
    static const char *const bad[] = {
        "\xc0\xaf",         /* overlong '/' */
        "\xe0\x80\xaf",     /* overlong, 3 bytes */
        "\xed\xa0\x80",     /* surrogate */
        "\xf4\x90\x80\x80", /* past U+10FFFF */
        "\xe2\x82",         /* truncated */
        "\x80",             /* lone continuation */
        "\xff",             /* never in UTF-8 */
    };
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        uint32_t cp;
        assert_int_equal(sa_utf8_next(bad[i], strlen(bad[i]), &cp), 1); /* always advances */
        assert_int_equal(cp, SA_UTF8_REPLACEMENT);
        assert_false(sa_utf8_valid(bad[i], strlen(bad[i])));
        assert_int_equal(sa_utf8_count(bad[i], strlen(bad[i])), -1);
    }
}

static void counts_and_prefixes(void **state) {
    (void)state;
    assert_int_equal(sa_utf8_count("Привет", strlen("Привет")), 6);
    assert_int_equal(sa_utf8_count("", 0), 0);
    assert_int_equal(sa_utf8_length("a\xff"
                                    "b",
                                    3),
                     3); /* malformed bytes count one each */
    /* a cut inside "Ж" leaves the prefix before it */
    assert_int_equal(sa_utf8_valid_prefix("ab\xd0\x96", 3), 2);
    assert_int_equal(sa_utf8_valid_prefix("ab\xd0\x96", 4), 4);
    assert_int_equal(sa_utf8_valid_prefix("\xff"
                                          "abc",
                                          4),
                     0);
}

static void encodes_round_trip(void **state) {
    (void)state;
    static const uint32_t cps[] = {0,     'z',    0x7F,   0x80,    0x416,   0x7FF,
                                   0x800, 0x20AC, 0xFFFF, 0x10000, 0x10FFFF};
    for (size_t i = 0; i < sizeof(cps) / sizeof(cps[0]); i++) {
        char buf[4];
        uint32_t back;
        size_t n = sa_utf8_encode(cps[i], buf);
        assert_int_equal(sa_utf8_next(buf, n, &back), n);
        assert_int_equal(back, cps[i]);
    }
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(decodes_every_length),
        cmocka_unit_test(refuses_malformed),
        cmocka_unit_test(counts_and_prefixes),
        cmocka_unit_test(encodes_round_trip),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
