/*
 * test_proto_wire.c - the wire primitives (reader, writers, varints, null/empty) and the arena.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "core/arena.h"
#include "proto/wire.h"

static void fixed_width_round_trip(void **state) {
    (void)state;
    sa_buf_t b = SA_BUF_INIT(0);
    sa_uuid_t u;
    for (int i = 0; i < 16; i++) u.b[i] = (uint8_t)(0xf0 + i);
    assert_int_equal(sa_wr_i8(&b, -2), SA_OK);
    assert_int_equal(sa_wr_i16(&b, -300), SA_OK);
    assert_int_equal(sa_wr_u16(&b, 65000), SA_OK);
    assert_int_equal(sa_wr_i32(&b, INT32_MIN), SA_OK);
    assert_int_equal(sa_wr_u32(&b, 0xdeadbeef), SA_OK);
    assert_int_equal(sa_wr_i64(&b, INT64_MIN + 5), SA_OK);
    assert_int_equal(sa_wr_bool(&b, true), SA_OK);
    assert_int_equal(sa_wr_f64(&b, -1.25), SA_OK);
    assert_int_equal(sa_wr_uuid(&b, &u), SA_OK);
    assert_int_equal(b.len, 1 + 2 + 2 + 4 + 4 + 8 + 1 + 8 + 16);
    /* Big-endian on the wire. */
    assert_int_equal(b.data[1], 0xfe);
    assert_int_equal(b.data[2], 0xd4);

    sa_rd_t rd;
    sa_rd_init(&rd, b.data, b.len);
    assert_int_equal(sa_rd_i8(&rd), -2);
    assert_int_equal(sa_rd_i16(&rd), -300);
    assert_int_equal(sa_rd_u16(&rd), 65000);
    assert_int_equal(sa_rd_i32(&rd), INT32_MIN);
    assert_int_equal(sa_rd_u32(&rd), 0xdeadbeef);
    assert_true(sa_rd_i64(&rd) == INT64_MIN + 5);
    assert_true(sa_rd_bool(&rd));
    assert_true(sa_rd_f64(&rd) == -1.25);
    sa_uuid_t u2 = sa_rd_uuid(&rd);
    assert_memory_equal(u.b, u2.b, 16);
    assert_int_equal(sa_rd_left(&rd), 0);
    assert_int_equal(rd.err, SA_OK);
    /* Past the end: sticky error, zero values, no movement. */
    assert_int_equal(sa_rd_i32(&rd), 0);
    assert_int_equal(rd.err, SA_ERR_PARSE);
    sa_buf_free(&b);
}

static void sticky_error(void **state) {
    (void)state;
    static const uint8_t d[] = {0, 1, 2};
    sa_rd_t rd;
    sa_rd_init(&rd, d, sizeof(d));
    assert_int_equal(sa_rd_i32(&rd), 0); /* 3 bytes: fails */
    assert_int_equal(rd.err, SA_ERR_PARSE);
    assert_int_equal(sa_rd_left(&rd), 3); /* nothing consumed */
    assert_int_equal(sa_rd_i8(&rd), 0);   /* later reads fail too, even those that would fit */
    assert_int_equal(sa_rd_left(&rd), 3);
    sa_rd_init(&rd, NULL, 0);
    assert_int_equal(sa_rd_left(&rd), 0);
    assert_int_equal(sa_rd_i8(&rd), 0);
    assert_int_equal(rd.err, SA_ERR_PARSE);
}

static void varints(void **state) {
    (void)state;
    static const int64_t longs[] = {0,   1,   -1,        63,        -64,       64,
                                    -65, 300, INT32_MAX, INT32_MIN, INT64_MAX, INT64_MIN};
    sa_buf_t b = SA_BUF_INIT(0);
    for (size_t i = 0; i < sizeof(longs) / sizeof(longs[0]); i++) {
        sa_buf_reset(&b);
        assert_int_equal(sa_wr_varlong(&b, longs[i]), SA_OK);
        sa_rd_t rd;
        sa_rd_init(&rd, b.data, b.len);
        assert_true(sa_rd_varlong(&rd) == longs[i]);
        assert_int_equal(sa_rd_left(&rd), 0);
        assert_int_equal(rd.err, SA_OK);
        if (longs[i] >= INT32_MIN && longs[i] <= INT32_MAX) {
            sa_buf_reset(&b);
            assert_int_equal(sa_wr_varint(&b, (int32_t)longs[i]), SA_OK);
            sa_rd_init(&rd, b.data, b.len);
            assert_int_equal(sa_rd_varint(&rd), longs[i]);
            assert_int_equal(rd.err, SA_OK);
        }
    }
    /* Zigzag bytes from the protocol guide's examples: 0->00, -1->01, 1->02, -64->7f, 64->80 01. */
    sa_buf_reset(&b);
    sa_wr_varint(&b, 0);
    sa_wr_varint(&b, -1);
    sa_wr_varint(&b, 1);
    sa_wr_varint(&b, -64);
    sa_wr_varint(&b, 64);
    static const uint8_t zz[] = {0x00, 0x01, 0x02, 0x7f, 0x80, 0x01};
    assert_int_equal(b.len, sizeof(zz));
    assert_memory_equal(b.data, zz, sizeof(zz));
    /* Unsigned varints: sizes and the 32-bit limit. */
    static const uint32_t us[] = {0, 127, 128, 16383, 16384, UINT32_MAX};
    static const size_t sizes[] = {1, 1, 2, 2, 3, 5};
    for (size_t i = 0; i < 6; i++) {
        sa_buf_reset(&b);
        sa_wr_uvarint(&b, us[i]);
        assert_int_equal(b.len, sizes[i]);
        assert_int_equal(sa_uvarint_size(us[i]), sizes[i]);
        sa_rd_t rd;
        sa_rd_init(&rd, b.data, b.len);
        assert_int_equal(sa_rd_uvarint(&rd), us[i]);
    }
    sa_rd_t rd;
    static const uint8_t too_big[] = {0xff, 0xff, 0xff, 0xff, 0x1f}; /* 35 bits */
    sa_rd_init(&rd, too_big, sizeof(too_big));
    sa_rd_uvarint(&rd);
    assert_int_equal(rd.err, SA_ERR_PARSE);
    static const uint8_t too_long[] = {0x80, 0x80, 0x80, 0x80, 0x80, 0x00}; /* 6 bytes */
    sa_rd_init(&rd, too_long, sizeof(too_long));
    sa_rd_uvarint(&rd);
    assert_int_equal(rd.err, SA_ERR_PARSE);
    static const uint8_t cut[] = {0x80, 0x80};
    sa_rd_init(&rd, cut, sizeof(cut));
    sa_rd_varlong(&rd);
    assert_int_equal(rd.err, SA_ERR_PARSE);
    static const uint8_t long11[] = {0xff, 0xff, 0xff, 0xff, 0xff,
                                     0xff, 0xff, 0xff, 0xff, 0x02}; /* 65 bits */
    sa_rd_init(&rd, long11, sizeof(long11));
    sa_rd_varlong(&rd);
    assert_int_equal(rd.err, SA_ERR_PARSE);
    sa_buf_free(&b);
}

static void strings_and_bytes(void **state) {
    (void)state;
    sa_buf_t b = SA_BUF_INIT(0);
    /* classic: null, empty, "ab"; compact: null, empty, "ab" */
    sa_wr_string(&b, SA_STR_NULL, false, true);
    sa_wr_string(&b, SA_STR(""), false, true);
    sa_wr_string(&b, SA_STR("ab"), false, true);
    sa_wr_string(&b, SA_STR_NULL, true, true);
    sa_wr_string(&b, SA_STR(""), true, true);
    sa_wr_string(&b, SA_STR("ab"), true, true);
    sa_wr_string(&b, SA_STR_NULL, false, false); /* not nullable: written empty */
    static const uint8_t want[] = {0xff, 0xff, 0, 0, 0, 2, 'a', 'b', 0, 1, 3, 'a', 'b', 0, 0};
    assert_int_equal(b.len, sizeof(want));
    assert_memory_equal(b.data, want, sizeof(want));
    sa_rd_t rd;
    sa_rd_init(&rd, b.data, b.len);
    assert_true(sa_str_is_null(sa_rd_string(&rd, false, true)));
    sa_str_t s = sa_rd_string(&rd, false, true);
    assert_int_equal(s.len, 0);
    assert_non_null(s.ptr);
    s = sa_rd_string(&rd, false, true);
    assert_true(sa_str_eq(s, "ab"));
    assert_ptr_equal(s.ptr, (const char *)b.data + 6); /* a view, not a copy */
    assert_true(sa_str_is_null(sa_rd_string(&rd, true, true)));
    assert_int_equal(sa_rd_string(&rd, true, true).len, 0);
    assert_true(sa_str_eq(sa_rd_string(&rd, true, true), "ab"));
    assert_int_equal(sa_rd_string(&rd, false, false).len, 0);
    assert_int_equal(rd.err, SA_OK);
    /* A null where the field is not nullable is malformed. */
    sa_rd_init(&rd, want, 2);
    sa_rd_string(&rd, false, false);
    assert_int_equal(rd.err, SA_ERR_PARSE);
    /* Classic strings over 32767 bytes cannot be written. */
    sa_buf_reset(&b);
    char *big = calloc(40000, 1);
    assert_int_equal(sa_wr_string(&b, (sa_str_t){big, 40000}, false, false), SA_ERR_INVALID_ARG);
    assert_int_equal(b.len, 0);
    assert_int_equal(sa_wr_string(&b, (sa_str_t){big, 40000}, true, false), SA_OK);
    free(big);
    assert_int_equal(sa_wr_string(&b, (sa_str_t){NULL, 3}, true, false), SA_ERR_INVALID_ARG);
    assert_int_equal(sa_wr_bytes(&b, (sa_bytes_t){NULL, 3}, false, true), SA_ERR_INVALID_ARG);
    /* Bytes: int32 length classic. */
    sa_buf_reset(&b);
    static const uint8_t raw[] = {9, 8, 7};
    sa_wr_bytes(&b, (sa_bytes_t){raw, 3}, false, true);
    sa_wr_bytes(&b, SA_BYTES_NULL, false, true);
    sa_wr_bytes(&b, (sa_bytes_t){raw, 3}, true, true);
    static const uint8_t wantb[] = {0, 0, 0, 3, 9, 8, 7, 0xff, 0xff, 0xff, 0xff, 4, 9, 8, 7};
    assert_int_equal(b.len, sizeof(wantb));
    assert_memory_equal(b.data, wantb, sizeof(wantb));
    sa_rd_init(&rd, b.data, b.len);
    sa_bytes_t x = sa_rd_bytes(&rd, false, true);
    assert_int_equal(x.len, 3);
    assert_memory_equal(x.ptr, raw, 3);
    assert_int_equal(sa_rd_bytes(&rd, false, true).len, -1);
    assert_int_equal(sa_rd_bytes(&rd, true, true).len, 3);
    /* A bytes length past the end. */
    static const uint8_t over[] = {0, 0, 0, 4, 1, 2, 3};
    sa_rd_init(&rd, over, sizeof(over));
    sa_rd_bytes(&rd, false, true);
    assert_int_equal(rd.err, SA_ERR_PARSE);
    /* sa_str helpers */
    sa_arena_t a = SA_ARENA_INIT(0);
    assert_string_equal(sa_str_dup(SA_STR("xy"), &a), "xy");
    assert_string_equal(sa_str_dup(SA_STR_NULL, &a), "");
    assert_true(sa_str_same(SA_STR_NULL, SA_STR_NULL));
    assert_false(sa_str_same(SA_STR_NULL, SA_STR("")));
    assert_true(sa_str_same(sa_str("q"), SA_STR("q")));
    sa_arena_free(&a);
    sa_buf_free(&b);
}

static void arrays(void **state) {
    (void)state;
    sa_arena_t a = SA_ARENA_INIT(0);
    sa_buf_t b = SA_BUF_INIT(0);
    sa_wr_array_len(&b, 2, false, false);
    sa_wr_i32(&b, 10);
    sa_wr_i32(&b, 20);
    sa_wr_array_len(&b, -1, true, true);
    sa_wr_array_len(&b, 0, true, true);
    sa_rd_t rd;
    sa_rd_init(&rd, b.data, b.len);
    int32_t n;
    int32_t *v = sa_rd_array(&rd, false, false, 4, &a, sizeof(int32_t), &n);
    assert_int_equal(n, 2);
    assert_non_null(v);
    v[0] = sa_rd_i32(&rd);
    v[1] = sa_rd_i32(&rd);
    assert_int_equal(v[1], 20);
    assert_null(sa_rd_array(&rd, true, true, 1, &a, 4, &n));
    assert_int_equal(n, -1);
    assert_null(sa_rd_array(&rd, true, true, 1, &a, 4, &n));
    assert_int_equal(n, 0);
    assert_int_equal(rd.err, SA_OK);
    /* Count vs bytes left: 2 elements of min 4 bytes need 8. */
    static const uint8_t short_arr[] = {0, 0, 0, 2, 0, 0, 0, 1, 0, 0, 0};
    sa_rd_init(&rd, short_arr, sizeof(short_arr));
    assert_null(sa_rd_array(&rd, false, false, 4, &a, 4, &n));
    assert_int_equal(rd.err, SA_ERR_PARSE);
    assert_int_equal(n, 0);
    /* Negative classic counts other than -1. */
    static const uint8_t neg[] = {0xff, 0xff, 0xff, 0xfe};
    sa_rd_init(&rd, neg, sizeof(neg));
    assert_int_equal(sa_rd_array_len(&rd, false, true, 1), -1);
    assert_int_equal(rd.err, SA_ERR_PARSE);
    sa_buf_free(&b);
    sa_arena_free(&a);
}

static void tag_sections(void **state) {
    (void)state;
    sa_buf_t b = SA_BUF_INIT(0);
    sa_wr_uvarint(&b, 2);
    assert_int_equal(sa_wr_tag(&b, 0, "xyz", 3), SA_OK);
    assert_int_equal(sa_wr_tag(&b, 300, "", 0), SA_OK);
    sa_wr_i8(&b, 42);
    static const uint8_t want[] = {2, 0, 3, 'x', 'y', 'z', 0xac, 0x02, 0, 42};
    assert_int_equal(b.len, sizeof(want));
    assert_memory_equal(b.data, want, sizeof(want));
    sa_rd_t rd, sub;
    sa_rd_init(&rd, b.data, b.len);
    assert_int_equal(sa_rd_uvarint(&rd), 2);
    assert_int_equal(sa_rd_tag(&rd, &sub), 0);
    assert_int_equal(sa_rd_left(&sub), 3);
    assert_int_equal(sa_rd_tag(&rd, &sub), 300);
    assert_int_equal(sa_rd_left(&sub), 0);
    assert_int_equal(sa_rd_i8(&rd), 42);
    sa_rd_init(&rd, b.data, b.len);
    sa_rd_skip_tags(&rd);
    assert_int_equal(sa_rd_i8(&rd), 42);
    assert_int_equal(rd.err, SA_OK);
    /* A count of tags larger than the bytes: fails, does not spin. */
    static const uint8_t lie[] = {0xff, 0xff, 0xff, 0xff, 0x0f, 0, 0};
    sa_rd_init(&rd, lie, sizeof(lie));
    sa_rd_skip_tags(&rd);
    assert_int_equal(rd.err, SA_ERR_PARSE);
    sa_buf_free(&b);
}

static void writers_respect_the_buffer_cap(void **state) {
    (void)state;
    sa_buf_t b = SA_BUF_INIT(6);
    assert_int_equal(sa_wr_i32(&b, 1), SA_OK);
    assert_int_equal(sa_wr_i32(&b, 2), SA_ERR_TOOBIG);
    assert_int_equal(b.len, 4);
    assert_int_equal(sa_wr_string(&b, SA_STR("abc"), false, false), SA_ERR_TOOBIG);
    assert_int_equal(b.len, 4); /* nothing half-written */
    sa_buf_free(&b);
}

static void arena_basics(void **state) {
    (void)state;
    sa_arena_t a;
    sa_arena_init(&a, 0);
    char *p = sa_arena_alloc(&a, 10);
    char *q = sa_arena_alloc(&a, 10);
    assert_non_null(p);
    assert_true((uintptr_t)p % SA_ARENA_ALIGN == 0 && (uintptr_t)q % SA_ARENA_ALIGN == 0);
    assert_true(q >= p + 10);
    memset(p, 1, 10);
    memset(q, 2, 10);
    assert_int_equal(p[9], 1);
    /* Bigger than a chunk. */
    uint8_t *big = sa_arena_calloc(&a, 3, 10000);
    assert_non_null(big);
    assert_int_equal(big[29999], 0);
    assert_non_null(sa_arena_alloc(&a, 0));
    sa_arena_reset(&a);
    assert_int_equal(a.used, 0);
    assert_non_null(sa_arena_alloc(&a, 100));
    char *s = sa_arena_strndup(&a, "hello world", 5);
    assert_string_equal(s, "hello");
    sa_arena_free(&a);
}

static void arena_cap(void **state) {
    (void)state;
    sa_arena_t a = SA_ARENA_INIT(100);
    assert_non_null(sa_arena_alloc(&a, 64));
    assert_null(sa_arena_alloc(&a, 64)); /* 64 + 64 > 100 */
    assert_int_equal(a.used, 64);
    assert_non_null(sa_arena_alloc(&a, 30)); /* 64 + 32 (aligned) fits */
    assert_null(sa_arena_alloc(&a, 1));
    assert_null(sa_arena_calloc(&a, SIZE_MAX / 2, 4)); /* overflow */
    assert_null(sa_arena_alloc(&a, SIZE_MAX));
    sa_arena_reset(&a);
    assert_non_null(sa_arena_alloc(&a, 96));
    sa_arena_set_cap(&a, 0);
    assert_non_null(sa_arena_alloc(&a, 100000));
    sa_arena_free(&a);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(fixed_width_round_trip),
        cmocka_unit_test(sticky_error),
        cmocka_unit_test(varints),
        cmocka_unit_test(strings_and_bytes),
        cmocka_unit_test(arrays),
        cmocka_unit_test(tag_sections),
        cmocka_unit_test(writers_respect_the_buffer_cap),
        cmocka_unit_test(arena_basics),
        cmocka_unit_test(arena_cap),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
