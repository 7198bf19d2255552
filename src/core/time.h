/*
 * time.h - clocks. Monotonic time for deadlines and durations (never goes back), wall-clock
 * milliseconds for record timestamps and retention.
 */
#ifndef SA_CORE_TIME_H
#define SA_CORE_TIME_H

#include <stdint.h>
#include <time.h>

/** Monotonic clock in microseconds. */
static inline int64_t sa_mono_us(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
}

/** Monotonic clock in milliseconds. */
static inline int64_t sa_mono_ms(void) { return sa_mono_us() / 1000; }

/** Wall clock in milliseconds since the Unix epoch (Kafka's timestamp unit). */
static inline int64_t sa_wall_ms(void) {
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/** Format @p wall_ms as RFC 3339 UTC with milliseconds ("2026-11-22T19:23:40.123Z") into @p out (48 bytes).
 */
void sa_time_rfc3339(int64_t wall_ms, char out[48]);

/** Sleep for @p ms milliseconds (restarts on EINTR). */
void sa_sleep_ms(int64_t ms);

#endif
