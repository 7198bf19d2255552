/*
 * check.h - invariants checked in code, the way SQLite's assert_pager_state() does it.
 *
 * Every module states its invariants in its header comment; this file is how they are checked
 * rather than only written down. Two tiers:
 *
 *   assert(cond)            a cheap invariant (a few comparisons). On in every build but Release:
 *                           the top CMakeLists.txt keeps assert() in RelWithDebInfo (what `make`
 *                           builds) on purpose, so a broker never runs past a broken invariant.
 *   SA_DEBUG_CHECK(stmt)    a whole-structure check (walk every segment, every queued request,
 *                           every member): runs only in debug and sanitizer builds, i.e. when
 *                           assert() is on and the compiler does not optimise (CMake's Debug and
 *                           the asan-ubsan preset). The statement is compiled in every build, so
 *                           a check cannot rot unseen; the optimiser drops it.
 *
 * A module writes one `static void check_<thing>(const thing_t *)` that asserts every invariant
 * of its state, with the expensive part inside SA_DEBUG_CHECK, and calls it where the state
 * changes (end of append, sync, rebalance step...). See storage/partition.c, broker/conn.c,
 * broker/group/coordinator.c and storage/metalog.c.
 */
#ifndef SA_CORE_CHECK_H
#define SA_CORE_CHECK_H

#include <assert.h>

#if !defined(NDEBUG) && !defined(__OPTIMIZE__)
#define SA_DEBUG_CHECKS 1 /* debug and sanitizer builds: expensive checks on */
#else
#define SA_DEBUG_CHECKS 0
#endif

/* Run the statement(s) (usually a call to a whole-structure check) in debug and sanitizer builds
 * only. Variadic so a block with commas in it passes through whole. */
#define SA_DEBUG_CHECK(...)                                                                                  \
    do {                                                                                                     \
        if (SA_DEBUG_CHECKS) {                                                                               \
            __VA_ARGS__;                                                                                     \
        }                                                                                                    \
    } while (0)

#endif
