/*
 * loop.c - epoll event loop with a timer heap and a before_sleep hook (see loop.h).
 *
 * One turn: call before_sleep; epoll_wait until the next timer deadline; run the timers due by
 * now; dispatch the fd events. Timers go BEFORE the events that woke the loop: whatever the
 * events bring arrived at or after the moment epoll_wait returned, so a deadline that passed
 * meanwhile is earlier and must be acted on first (a session that expired 2 ms before a
 * DeleteGroups arrived must be expired when the DeleteGroups is handled). fds are indexed
 * directly (fd -> slot), as epoll hands back only the fd stored in its data. Errors and
 * hang-ups are delivered as SA_LOOP_READ even when only WRITE (or nothing) is watched: epoll
 * reports them regardless, and the owner's read path is what notices a dead peer and closes.
 *
 * Invariant: a slot whose fd was removed during a turn (by a timer or a callback) has
 * fn == NULL, and events still pending for it in this turn's epoll result are skipped, so a
 * timer or callback may close any connection, including ones whose events come later in the
 * same batch.
 */
#include "broker/loop.h"

#include <errno.h>
#include <stdlib.h>
#include <sys/epoll.h>
#include <unistd.h>

#include "core/mem.h"
#include "core/time.h"

typedef struct fd_slot_s {
    sa_loop_fd_fn *fn; /* NULL: not registered */
    void *arg;         /* borrowed */
    unsigned events;   /* SA_LOOP_* being watched */
} fd_slot_t;

struct sa_loop_s {
    int epfd;
    fd_slot_t *slots; /* indexed by fd */
    size_t nslots;
    sa_timer_t **heap; /* min-heap by when_us */
    size_t nheap, heap_size;
    sa_loop_hook_fn *before_sleep;
    void *before_sleep_arg;
    int stop;
};

#define MAX_EVENTS 256

sa_loop_t *sa_loop_new(void) {
    int epfd = epoll_create1(EPOLL_CLOEXEC);
    if (epfd < 0) return NULL;
    sa_loop_t *loop = sa_new(sa_loop_t);
    loop->epfd = epfd;
    return loop;
}

void sa_loop_free(sa_loop_t *loop) {
    if (!loop) return;
    close(loop->epfd);
    free(loop->slots);
    free(loop->heap);
    free(loop);
}

static uint32_t to_epoll(unsigned events) {
    return (events & SA_LOOP_READ ? EPOLLIN | EPOLLRDHUP : 0) | (events & SA_LOOP_WRITE ? EPOLLOUT : 0);
}

int sa_loop_add_fd(sa_loop_t *loop, int fd, unsigned events, sa_loop_fd_fn *fn, void *arg) {
    if (fd < 0) {
        errno = EBADF;
        return -1;
    }
    if ((size_t)fd >= loop->nslots) {
        size_t n = loop->nslots ? loop->nslots : 64;
        while (n <= (size_t)fd) n *= 2;
        loop->slots = sa_realloc(loop->slots, n * sizeof(*loop->slots));
        for (size_t i = loop->nslots; i < n; i++) loop->slots[i] = (fd_slot_t){0};
        loop->nslots = n;
    }
    struct epoll_event ev = {.events = to_epoll(events), .data.fd = fd};
    if (epoll_ctl(loop->epfd, EPOLL_CTL_ADD, fd, &ev) < 0) return -1;
    loop->slots[fd] = (fd_slot_t){fn, arg, events};
    return 0;
}

int sa_loop_mod_fd(sa_loop_t *loop, int fd, unsigned events) {
    if (fd < 0 || (size_t)fd >= loop->nslots || !loop->slots[fd].fn) {
        errno = EBADF;
        return -1;
    }
    if (loop->slots[fd].events == events) return 0;
    struct epoll_event ev = {.events = to_epoll(events), .data.fd = fd};
    if (epoll_ctl(loop->epfd, EPOLL_CTL_MOD, fd, &ev) < 0) return -1;
    loop->slots[fd].events = events;
    return 0;
}

void sa_loop_del_fd(sa_loop_t *loop, int fd) {
    if (fd < 0 || (size_t)fd >= loop->nslots || !loop->slots[fd].fn) return;
    epoll_ctl(loop->epfd, EPOLL_CTL_DEL, fd, NULL);
    loop->slots[fd] = (fd_slot_t){0};
}

/* ---- timer heap (1-based positions kept in each timer) ---- */

static void heap_set(sa_loop_t *loop, size_t i, sa_timer_t *t) {
    loop->heap[i] = t;
    t->_heap_idx = i + 1;
}

static void heap_up(sa_loop_t *loop, size_t i) {
    sa_timer_t *t = loop->heap[i];
    while (i > 0) {
        size_t parent = (i - 1) / 2;
        if (loop->heap[parent]->when_us <= t->when_us) break;
        heap_set(loop, i, loop->heap[parent]);
        i = parent;
    }
    heap_set(loop, i, t);
}

static void heap_down(sa_loop_t *loop, size_t i) {
    sa_timer_t *t = loop->heap[i];
    for (;;) {
        size_t child = 2 * i + 1;
        if (child >= loop->nheap) break;
        if (child + 1 < loop->nheap && loop->heap[child + 1]->when_us < loop->heap[child]->when_us) child++;
        if (loop->heap[child]->when_us >= t->when_us) break;
        heap_set(loop, i, loop->heap[child]);
        i = child;
    }
    heap_set(loop, i, t);
}

void sa_timer_stop(sa_loop_t *loop, sa_timer_t *timer) {
    if (!timer->_heap_idx) return;
    size_t i = timer->_heap_idx - 1;
    timer->_heap_idx = 0;
    sa_timer_t *last = loop->heap[--loop->nheap];
    if (i == loop->nheap) return;
    heap_set(loop, i, last);
    heap_up(loop, i);
    heap_down(loop, last->_heap_idx - 1);
}

void sa_timer_start(sa_loop_t *loop, sa_timer_t *timer, int64_t delay_ms, sa_loop_timer_fn *fn, void *arg) {
    sa_timer_stop(loop, timer);
    if (loop->nheap == loop->heap_size) {
        loop->heap_size = loop->heap_size ? loop->heap_size * 2 : 64;
        loop->heap = sa_realloc(loop->heap, loop->heap_size * sizeof(*loop->heap));
    }
    timer->when_us = sa_mono_us() + (delay_ms > 0 ? delay_ms : 0) * 1000;
    timer->fn = fn;
    timer->arg = arg;
    heap_set(loop, loop->nheap++, timer);
    heap_up(loop, loop->nheap - 1);
}

static void run_timers(sa_loop_t *loop) {
    int64_t now = sa_mono_us();
    /* Timers started by a callback for "now" wait for the next turn, so a 0 ms re-arm cannot
     * starve fd events. */
    size_t budget = loop->nheap;
    while (budget-- && loop->nheap && loop->heap[0]->when_us <= now) {
        sa_timer_t *t = loop->heap[0];
        sa_timer_stop(loop, t);
        t->fn(loop, t, t->arg);
    }
}

static int next_timeout_ms(sa_loop_t *loop) {
    if (!loop->nheap) return -1;
    int64_t wait_us = loop->heap[0]->when_us - sa_mono_us();
    if (wait_us <= 0) return 0;
    int64_t ms = (wait_us + 999) / 1000;
    return ms > 60000 ? 60000 : (int)ms;
}

void sa_loop_set_before_sleep(sa_loop_t *loop, sa_loop_hook_fn *fn, void *arg) {
    loop->before_sleep = fn;
    loop->before_sleep_arg = arg;
}

void sa_loop_stop(sa_loop_t *loop) { loop->stop = 1; }

int sa_loop_run(sa_loop_t *loop) {
    struct epoll_event events[MAX_EVENTS];
    loop->stop = 0;
    while (!loop->stop) {
        if (loop->before_sleep) loop->before_sleep(loop, loop->before_sleep_arg);
        if (loop->stop) break;
        int n = epoll_wait(loop->epfd, events, MAX_EVENTS, next_timeout_ms(loop));
        if (n < 0) {
            if (errno != EINTR) return -1;
            n = 0;
        }
        run_timers(loop); /* what was due before these events arrived goes first */
        for (int i = 0; i < n; i++) {
            int fd = events[i].data.fd;
            if ((size_t)fd >= loop->nslots || !loop->slots[fd].fn) continue; /* removed this turn */
            fd_slot_t *slot = &loop->slots[fd];
            uint32_t e = events[i].events;
            unsigned fired = 0;
            if (e & (EPOLLIN | EPOLLRDHUP | EPOLLHUP | EPOLLERR)) fired |= SA_LOOP_READ;
            if ((e & EPOLLOUT) && (slot->events & SA_LOOP_WRITE)) fired |= SA_LOOP_WRITE;
            if (fired) slot->fn(loop, fd, fired, slot->arg);
        }
    }
    return 0;
}
