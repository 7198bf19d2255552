/* The Fetch size accounting (src/broker/fetch_limits.h, KIP-74): only the first batch of the first
 * non-empty partition may exceed MaxBytes or PartitionMaxBytes; empty partitions keep the grace;
 * the room never goes negative. Each partition is modelled as a list of batch sizes read the way
 * sa_partition_read reads them (whole batches up to the limit, the first one whole if allowed). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "broker/fetch_limits.h"

#define MB 1000000

/* Whole batches of @p batches (0-terminated) within @p limit; the first one whole if allowed. */
static size_t read_model(const int64_t *batches, int64_t limit, int whole_first) {
    size_t n = 0;
    for (size_t i = 0; batches[i]; i++) {
        if ((int64_t)n + batches[i] > limit && !(i == 0 && whole_first)) break;
        n += (size_t)batches[i];
    }
    return n;
}

/* Fetch @p nparts partitions (each a 0-terminated batch list) with the given limits. */
static void fetch_model(int32_t max_bytes, const int32_t *pmax, const int64_t (*parts)[4], size_t nparts,
                        size_t *got) {
    sa_fetch_room_t room;
    sa_fetch_room_init(&room, max_bytes);
    for (size_t p = 0; p < nparts; p++) {
        int whole_first;
        int64_t limit = sa_fetch_room_limit(&room, pmax[p], &whole_first);
        got[p] = limit == 0 && !whole_first ? 0 : read_model(parts[p], limit, whole_first);
        sa_fetch_room_used(&room, got[p]);
        assert_true(room.left >= 0);
    }
}

/* The report's case: 1 MB over three partitions of ~900 KB batches used to answer 1.8+ MB. */
static void test_three_big_batches(void **state) {
    (void)state;
    const int64_t parts[3][4] = {{900000, 0}, {900000, 0}, {900000, 0}};
    const int32_t pmax[3] = {MB, MB, MB};
    size_t got[3];
    fetch_model(MB, pmax, parts, 3, got);
    assert_int_equal(got[0], 900000);
    assert_int_equal(got[1], 0);
    assert_int_equal(got[2], 0);
}

static void test_fills_up_to_max_bytes(void **state) {
    (void)state;
    const int64_t parts[3][4] = {{400000, 400000, 0}, {150000, 100000, 0}, {50000, 0}};
    const int32_t pmax[3] = {MB, MB, MB};
    size_t got[3];
    fetch_model(MB, pmax, parts, 3, got);
    assert_int_equal(got[0], 800000);
    assert_int_equal(got[1], 150000); /* the second batch would pass 1 MB */
    assert_int_equal(got[2], 50000);  /* exactly 1 MB in all */
}

static void test_first_batch_over_max_bytes(void **state) {
    (void)state;
    const int64_t parts[3][4] = {{0}, {1500000, 10, 0}, {10, 0}};
    const int32_t pmax[3] = {MB, MB, MB};
    size_t got[3];
    fetch_model(MB, pmax, parts, 3, got);
    assert_int_equal(got[0], 0);
    assert_int_equal(got[1], 1500000); /* first non-empty: whole, alone */
    assert_int_equal(got[2], 0);       /* nothing left */
}

static void test_partition_max_bytes(void **state) {
    (void)state;
    const int64_t parts[3][4] = {{5000, 5000, 0}, {5000, 0}, {800, 800, 0}};
    const int32_t pmax[3] = {1000, 1000, 1000};
    size_t got[3];
    fetch_model(MB, pmax, parts, 3, got);
    assert_int_equal(got[0], 5000); /* first batch of the first non-empty partition */
    assert_int_equal(got[1], 0);    /* over its PartitionMaxBytes, no longer excused */
    assert_int_equal(got[2], 800);
}

static void test_room_accounting(void **state) {
    (void)state;
    sa_fetch_room_t room;
    int whole_first;
    sa_fetch_room_init(&room, -5); /* nonsense MaxBytes: no room, but the grace stays */
    assert_int_equal(sa_fetch_room_limit(&room, 100, &whole_first), 0);
    assert_true(whole_first);
    sa_fetch_room_init(&room, 100);
    sa_fetch_room_used(&room, 0); /* an empty partition keeps the grace */
    assert_int_equal(sa_fetch_room_limit(&room, -1, &whole_first), 0);
    assert_true(whole_first);
    sa_fetch_room_used(&room, 250);
    assert_int_equal(room.left, 0);
    assert_int_equal(sa_fetch_room_limit(&room, 100, &whole_first), 0);
    assert_false(whole_first);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_three_big_batches),
        cmocka_unit_test(test_fills_up_to_max_bytes),
        cmocka_unit_test(test_first_batch_over_max_bytes),
        cmocka_unit_test(test_partition_max_bytes),
        cmocka_unit_test(test_room_accounting),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
