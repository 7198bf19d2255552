/* core/hash: FNV-1a against its published vectors, the mixer, and the map (put/get/replace,
 * removal with tombstones, growth, iteration) against a plain array as the model. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "core/hash.h"

static void fnv_vectors(void **state) {
    (void)state;
    /* FNV-1a 64 test vectors (the FNV authors' table): "" and "a" and "foobar" */
    assert_true(sa_fnv1a64("", 0) == 0xcbf29ce484222325ULL);
    assert_true(sa_fnv1a64("a", 1) == 0xaf63dc4c8601ec8cULL);
    assert_true(sa_fnv1a64("foobar", 6) == 0x85944171f73967e8ULL);
    /* the mixer is a bijection that moves about half the bits for a one-bit change */
    assert_true(sa_hash_mix64(1) != sa_hash_mix64(2));
    int d = __builtin_popcountll(sa_hash_mix64(0x1000) ^ sa_hash_mix64(0x1001));
    assert_in_range(d, 16, 48);
}

static void map_model(void **state) {
    (void)state;
    enum { N = 5000 };
    static char keys[N][16];
    static int vals[N];
    static int present[N];
    sa_hmap_t m = SA_HMAP_INIT;
    assert_null(sa_hmap_gets(&m, "nothing")); /* empty map, no table yet */
    for (int i = 0; i < N; i++) {
        snprintf(keys[i], sizeof(keys[i]), "post-%d", i);
        vals[i] = i;
        assert_null(sa_hmap_puts(&m, keys[i], &vals[i]));
        present[i] = 1;
    }
    assert_int_equal(m.count, N);
    /* replace returns the old value */
    static int other = -1;
    assert_ptr_equal(sa_hmap_puts(&m, keys[7], &other), &vals[7]);
    assert_ptr_equal(sa_hmap_gets(&m, "post-7"), &other);
    assert_int_equal(m.count, N);
    /* remove every third, then put half of them back: tombstones must not hide keys */
    for (int i = 0; i < N; i += 3) {
        assert_non_null(sa_hmap_dels(&m, keys[i]));
        present[i] = 0;
    }
    assert_null(sa_hmap_dels(&m, keys[0]));
    for (int i = 0; i < N; i += 6) {
        assert_null(sa_hmap_puts(&m, keys[i], &vals[i]));
        present[i] = 1;
    }
    size_t want = 0;
    for (int i = 0; i < N; i++) {
        want += (size_t)present[i];
        void *v = sa_hmap_gets(&m, keys[i]);
        if (present[i])
            assert_non_null(v);
        else
            assert_null(v);
    }
    assert_int_equal(m.count, want);
    /* iteration sees each entry once */
    size_t pos = 0, seen = 0;
    const void *k;
    size_t klen;
    while (sa_hmap_next(&m, &pos, &k, &klen)) {
        assert_int_equal(klen, strlen(k));
        assert_non_null(sa_hmap_get(&m, k, klen));
        seen++;
    }
    assert_int_equal(seen, want);
    sa_hmap_free(&m);
    assert_int_equal(m.count, 0);
    assert_null(sa_hmap_gets(&m, keys[1]));
}

static void churn_does_not_fill_with_tombstones(void **state) {
    (void)state;
    /* put/del of ever new keys with few alive: the table is rehashed, never full of tombstones */
    sa_hmap_t m = SA_HMAP_INIT;
    static char keys[64][16];
    static int v = 1;
    for (int round = 0; round < 20000; round++) {
        char *key = keys[round % 64];
        if (round >= 64) assert_non_null(sa_hmap_dels(&m, key));
        snprintf(key, 16, "k%d", round);
        assert_null(sa_hmap_puts(&m, key, &v));
    }
    assert_int_equal(m.count, 64);
    assert_true(m._nslots <= 256);
    sa_hmap_free(&m);
}

static void binary_keys(void **state) {
    (void)state;
    /* keys are bytes with a length: NUL bytes inside, prefixes of each other, the empty key */
    static const char a[] = "t\0\0\0\0\1", b[] = "t\0\0\0\0\2", c[] = "t";
    static int va = 1, vb = 2, vc = 3, ve = 4;
    sa_hmap_t m = SA_HMAP_INIT;
    assert_null(sa_hmap_put(&m, a, 6, &va));
    assert_null(sa_hmap_put(&m, b, 6, &vb));
    assert_null(sa_hmap_put(&m, c, 1, &vc));
    assert_null(sa_hmap_put(&m, "", 0, &ve));
    assert_int_equal(m.count, 4);
    assert_ptr_equal(sa_hmap_get(&m, "t\0\0\0\0\1", 6), &va); /* another copy of the bytes */
    assert_ptr_equal(sa_hmap_get(&m, b, 6), &vb);
    assert_ptr_equal(sa_hmap_gets(&m, "t"), &vc);
    assert_ptr_equal(sa_hmap_get(&m, "x", 0), &ve);
    assert_null(sa_hmap_get(&m, a, 5));
    /* removing the entry just returned while iterating: every other entry is still seen once */
    size_t pos = 0, seen = 0;
    const void *k;
    size_t klen;
    while (sa_hmap_next(&m, &pos, &k, &klen)) {
        assert_non_null(sa_hmap_del(&m, k, klen));
        seen++;
    }
    assert_int_equal(seen, 4);
    assert_int_equal(m.count, 0);
    assert_null(sa_hmap_get(&m, a, 6));
    sa_hmap_free(&m);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(fnv_vectors),
        cmocka_unit_test(map_model),
        cmocka_unit_test(binary_keys),
        cmocka_unit_test(churn_does_not_fill_with_tombstones),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
