/* The broker's memory budget (src/broker/conn_budget.h): an empty broker admits anything; the
 * shared half admits everyone; beyond it only a connection under its fair share, never past the
 * limit; the room a response may take matches what is admitted (invariant 2) and stops at the
 * limit; and a crowd of connections that each take all they may never takes the share of one
 * that holds nothing. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "broker/conn_budget.h"

#define MB (1u << 20)

static void empty_broker_admits_anything(void **state) {
    (void)state;
    sa_budget_t b = {.limit = 16 * MB, .used = 0, .nconns = 3};
    assert_true(sa_budget_admits(&b, 0, 100 * MB));   /* a frame over the whole budget, alone */
    assert_int_equal(sa_budget_room(&b, 0), 16 * MB); /* a response: the budget at most */
}

static void shared_half_admits_everyone(void **state) {
    (void)state;
    sa_budget_t b = {.limit = 16 * MB, .used = 4 * MB, .nconns = 4};
    assert_true(sa_budget_admits(&b, 10 * MB, 4 * MB));      /* exactly half: still shared */
    assert_false(sa_budget_admits(&b, 10 * MB, 4 * MB + 1)); /* holds more than its share */
    assert_int_equal(sa_budget_room(&b, 10 * MB), 4 * MB);
}

static void reserve_only_under_share(void **state) {
    (void)state;
    sa_budget_t b = {.limit = 16 * MB, .used = 10 * MB, .nconns = 4}; /* share: 8 MB / 4 = 2 MB */
    assert_int_equal(sa_budget_share(&b), 2 * MB);
    assert_true(sa_budget_admits(&b, 0, 1 * MB));
    assert_true(sa_budget_admits(&b, 2 * MB - 1, 6 * MB));      /* under its share: up to the limit */
    assert_false(sa_budget_admits(&b, 2 * MB - 1, 6 * MB + 1)); /* never past the limit */
    assert_false(sa_budget_admits(&b, 2 * MB, 1));              /* at its share: paused */
    assert_int_equal(sa_budget_room(&b, 0), 2 * MB);
    assert_int_equal(sa_budget_room(&b, 1 * MB), 1 * MB);
    assert_int_equal(sa_budget_room(&b, 2 * MB), 0);
    b.used = 16 * MB;
    assert_false(sa_budget_admits(&b, 0, 1));
    assert_int_equal(sa_budget_room(&b, 0), 0);
}

/* Invariant 2 over a grid of states. */
static void room_matches_admits(void **state) {
    (void)state;
    for (size_t limit = 1; limit < 40; limit += 3)
        for (size_t used = 0; used <= limit + 2; used++)
            for (size_t n = 1; n < 6; n++)
                for (size_t held = 0; held <= limit; held++) {
                    sa_budget_t b = {.limit = limit, .used = used, .nconns = n};
                    size_t room = sa_budget_room(&b, held);
                    assert_int_equal(room != 0, sa_budget_admits(&b, held, 1));
                    if (room) assert_true(used + room <= limit);
                    if (room && used) assert_true(sa_budget_admits(&b, held, room));
                }
}

/* 99 greedy connections (each takes all the room it is given, and never gives it back) cannot
 * take the share of the hundredth, which holds nothing. */
static void greedy_crowd_leaves_a_share(void **state) {
    (void)state;
    enum { N = 100 };
    size_t held[N] = {0};
    sa_budget_t b = {.limit = 64 * MB, .used = 1, .nconns = N};
    for (int round = 0; round < 10; round++)
        for (int i = 0; i < N - 1; i++) {
            size_t room = sa_budget_room(&b, held[i]);
            if (!room) continue;
            held[i] += room;
            b.used += room;
        }
    assert_true(b.used <= b.limit);
    assert_true(sa_budget_admits(&b, 0, sa_budget_share(&b) / 2));
    assert_true(sa_budget_room(&b, 0) >= sa_budget_share(&b) / 2);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(empty_broker_admits_anything), cmocka_unit_test(shared_half_admits_everyone),
        cmocka_unit_test(reserve_only_under_share),     cmocka_unit_test(room_matches_admits),
        cmocka_unit_test(greedy_crowd_leaves_a_share),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
