/* The broker's event loop: timer heap order and stop/restart, fd events, before_sleep once per
 * turn, removing an fd from inside another fd's callback, and a timer that came due before the
 * event that woke the loop running before that event's callback. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <cmocka.h>

#include "broker/loop.h"
#include "core/time.h"

typedef struct rec_s {
    int order[64];
    int n;
    sa_loop_t *loop;
    int stop_after;
} rec_t;

typedef struct tm_s {
    sa_timer_t timer;
    rec_t *rec;
    int id;
} tm_t;

static void on_timer(sa_loop_t *loop, sa_timer_t *timer, void *arg) {
    tm_t *t = arg;
    (void)timer;
    t->rec->order[t->rec->n++] = t->id;
    if (t->rec->n == t->rec->stop_after) sa_loop_stop(loop);
}

static void timers_fire_in_deadline_order(void **state) {
    (void)state;
    sa_loop_t *loop = sa_loop_new();
    assert_non_null(loop);
    rec_t rec = {.stop_after = 4};
    /* Deadlines 40, 10, 30, 20, 50 ms; 50 is stopped before it fires, 30 is re-armed to 5. */
    int delays[] = {40, 10, 30, 20, 50};
    tm_t t[5];
    for (int i = 0; i < 5; i++) {
        t[i] = (tm_t){.rec = &rec, .id = i};
        sa_timer_start(loop, &t[i].timer, delays[i], on_timer, &t[i]);
    }
    sa_timer_stop(loop, &t[4].timer);
    assert_false(sa_timer_running(&t[4].timer));
    sa_timer_start(loop, &t[2].timer, 5, on_timer, &t[2]);
    sa_timer_stop(loop, &t[4].timer); /* stopping a stopped timer is a no-op */
    assert_int_equal(sa_loop_run(loop), 0);
    assert_int_equal(rec.n, 4);
    int want[] = {2, 1, 3, 0};
    for (int i = 0; i < 4; i++) assert_int_equal(rec.order[i], want[i]);
    for (int i = 0; i < 5; i++) assert_false(sa_timer_running(&t[i].timer));
    sa_loop_free(loop);
}

static void many_timers_random_stops(void **state) {
    (void)state;
    sa_loop_t *loop = sa_loop_new();
    enum { N = 60 };
    static tm_t t[N];
    rec_t rec = {0};
    srand(7);
    for (int i = 0; i < N; i++) {
        t[i] = (tm_t){.rec = &rec, .id = i};
        sa_timer_start(loop, &t[i].timer, rand() % 40, on_timer, &t[i]);
    }
    int running = N;
    for (int i = 0; i < N; i += 3) {
        sa_timer_stop(loop, &t[i].timer);
        running--;
    }
    for (int i = 0; i < N; i++) assert_int_equal(sa_timer_running(&t[i].timer), i % 3 != 0);
    rec.stop_after = running;
    assert_int_equal(sa_loop_run(loop), 0);
    assert_int_equal(rec.n, running);
    for (int i = 0; i < rec.n; i++) assert_int_not_equal(rec.order[i] % 3, 0); /* stopped ones never fire */
    for (int i = 1; i < rec.n; i++) /* the heap hands them out by deadline */
        assert_true(t[rec.order[i - 1]].timer.when_us <= t[rec.order[i]].timer.when_us);
    sa_loop_free(loop);
}

typedef struct io_s {
    int pipes[2][2];
    int reads;
    int hooks;
    sa_loop_t *loop;
} io_t;

static void on_read(sa_loop_t *loop, int fd, unsigned events, void *arg) {
    io_t *io = arg;
    char buf[16];
    assert_true(events & SA_LOOP_READ);
    assert_true(read(fd, buf, sizeof(buf)) > 0);
    io->reads++;
    /* Remove BOTH pipes from inside one callback: the other's pending event must be dropped. */
    sa_loop_del_fd(loop, io->pipes[0][0]);
    sa_loop_del_fd(loop, io->pipes[1][0]);
}

static void before_sleep(sa_loop_t *loop, void *arg) {
    io_t *io = arg;
    if (++io->hooks == 2) sa_loop_stop(loop);
}

static void fd_events_and_removal_inside_callbacks(void **state) {
    (void)state;
    io_t io = {0};
    io.loop = sa_loop_new();
    for (int i = 0; i < 2; i++) {
        assert_int_equal(pipe(io.pipes[i]), 0);
        assert_int_equal(sa_loop_add_fd(io.loop, io.pipes[i][0], SA_LOOP_READ, on_read, &io), 0);
        assert_int_equal(write(io.pipes[i][1], "x", 1), 1);
    }
    sa_loop_set_before_sleep(io.loop, before_sleep, &io);
    assert_int_equal(sa_loop_run(io.loop), 0);
    assert_int_equal(io.reads, 1); /* the second pipe's event was dropped with its fd */
    assert_int_equal(io.hooks, 2);
    assert_int_equal(sa_loop_mod_fd(io.loop, io.pipes[0][0], SA_LOOP_READ), -1); /* not registered */
    for (int i = 0; i < 2; i++) {
        close(io.pipes[i][0]);
        close(io.pipes[i][1]);
    }
    sa_loop_free(io.loop);
}

/* The order callbacks ran in: 'T' the timer, 'F' the fd. */
typedef struct order_s {
    char seen[8];
    int n;
    int pipe[2];
    sa_timer_t timer;
    int hooks;
} order_t;

static void order_timer(sa_loop_t *loop, sa_timer_t *timer, void *arg) {
    (void)loop;
    (void)timer;
    order_t *o = arg;
    o->seen[o->n++] = 'T';
}

static void order_read(sa_loop_t *loop, int fd, unsigned events, void *arg) {
    (void)events;
    order_t *o = arg;
    char c;
    assert_int_equal(read(fd, &c, 1), 1);
    o->seen[o->n++] = 'F';
    sa_loop_stop(loop);
}

/* The first time the loop is about to sleep, a request arrives (the pipe becomes readable) and
 * the time passes the timer's deadline before the loop looks: the deadline is earlier than the
 * request, so the timer must run first. */
static void order_hook(sa_loop_t *loop, void *arg) {
    (void)loop;
    order_t *o = arg;
    if (o->hooks++) return;
    assert_int_equal(write(o->pipe[1], "r", 1), 1);
    while (sa_mono_us() <= o->timer.when_us) usleep(1000); /* the precondition, not a wait for a result */
}

static void due_timers_run_before_the_io_that_woke_the_loop(void **state) {
    (void)state;
    order_t o = {0};
    sa_loop_t *loop = sa_loop_new();
    assert_int_equal(pipe(o.pipe), 0);
    assert_int_equal(sa_loop_add_fd(loop, o.pipe[0], SA_LOOP_READ, order_read, &o), 0);
    sa_timer_start(loop, &o.timer, 20, order_timer, &o);
    sa_loop_set_before_sleep(loop, order_hook, &o);
    assert_int_equal(sa_loop_run(loop), 0);
    assert_int_equal(o.n, 2);
    assert_memory_equal(o.seen, "TF", 2);
    close(o.pipe[0]);
    close(o.pipe[1]);
    sa_loop_free(loop);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(timers_fire_in_deadline_order),
        cmocka_unit_test(many_timers_random_stops),
        cmocka_unit_test(fd_events_and_removal_inside_callbacks),
        cmocka_unit_test(due_timers_run_before_the_io_that_woke_the_loop),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
