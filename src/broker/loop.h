/*
 * loop.h - the broker's single-threaded event loop (epoll), in the manner of Redis's ae:
 * file-descriptor events, one-shot timers and a before_sleep hook that runs once per turn,
 * right before the loop blocks in epoll_wait. When it wakes, the timers due by then run before
 * the fd events that woke it (what a socket brings arrived after any deadline already passed).
 *
 * before_sleep is where batched work happens: the broker's group commit (one fsync for every
 * append of the turn) and the release of the responses that waited on it. A handler therefore
 * never fsyncs itself; it appends, parks its response, and the hook finishes the turn.
 *
 * Timers are intrusive (sa_timer_t lives inside its owner, e.g. a parked Fetch), kept in a
 * binary min-heap by deadline, so starting and stopping one costs O(log n) and never allocates
 * per timer. Stopping a timer that is not running is a no-op, so owners can always stop on
 * teardown.
 *
 * @locality everything here runs on the loop's thread; nothing is thread-safe.
 */
#ifndef SA_BROKER_LOOP_H
#define SA_BROKER_LOOP_H

#include <stddef.h>
#include <stdint.h>

typedef struct sa_loop_s sa_loop_t;
typedef struct sa_timer_s sa_timer_t;

#define SA_LOOP_READ  1u /* fd readable (or hung up: the read then returns 0/error) */
#define SA_LOOP_WRITE 2u /* fd writable */

/** Called with the events that fired (SA_LOOP_READ|SA_LOOP_WRITE). */
typedef void sa_loop_fd_fn(sa_loop_t *loop, int fd, unsigned events, void *arg);
typedef void sa_loop_timer_fn(sa_loop_t *loop, sa_timer_t *timer, void *arg);
typedef void sa_loop_hook_fn(sa_loop_t *loop, void *arg);

struct sa_timer_s {
    int64_t when_us;      /* deadline on the monotonic clock */
    sa_loop_timer_fn *fn; /* called once at the deadline, after which the timer is stopped */
    void *arg;            /* borrowed, passed to fn */
    size_t _heap_idx;     /* position in the heap + 1; 0 = not running */
};

/** @returns new: an empty loop, or NULL if epoll could not be created (errno set). */
sa_loop_t *sa_loop_new(void);
/** Free the loop; fds registered are not closed (their owners close them). */
void sa_loop_free(sa_loop_t *loop);

/** Watch @p fd for @p events with @p fn(arg) (arg borrowed). @returns 0 or -1 (errno). */
int sa_loop_add_fd(sa_loop_t *loop, int fd, unsigned events, sa_loop_fd_fn *fn, void *arg);
/** Change the events watched on a registered fd. @returns 0 or -1 (errno). */
int sa_loop_mod_fd(sa_loop_t *loop, int fd, unsigned events);
/** Stop watching @p fd (call before closing it). Events already collected for it this turn are dropped. */
void sa_loop_del_fd(sa_loop_t *loop, int fd);

/** (Re)start @p timer to fire in @p delay_ms (>= 0). The timer is borrowed until it fires or is stopped. */
void sa_timer_start(sa_loop_t *loop, sa_timer_t *timer, int64_t delay_ms, sa_loop_timer_fn *fn, void *arg);
/** Stop @p timer if it is running. */
void sa_timer_stop(sa_loop_t *loop, sa_timer_t *timer);
static inline int sa_timer_running(const sa_timer_t *timer) { return timer->_heap_idx != 0; }

/** Run @p fn(arg) once per turn before the loop blocks (NULL to remove). */
void sa_loop_set_before_sleep(sa_loop_t *loop, sa_loop_hook_fn *fn, void *arg);

/** Run until sa_loop_stop(). @returns 0, or -1 if epoll_wait failed for a reason other than EINTR. */
int sa_loop_run(sa_loop_t *loop);
/** Make sa_loop_run return after the current turn. */
void sa_loop_stop(sa_loop_t *loop);

#endif
