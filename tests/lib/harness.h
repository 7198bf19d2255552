/*
 * harness.h - start real `samsa` processes for tests, on free ports, and wait on conditions
 * with deadlines (never sleep-and-hope).
 *
 *   th_proc_t broker;
 *   th_broker_start(&broker, NULL);          // temp data dir, free port
 *   ... use broker.addr ("127.0.0.1:PORT") with librdkafka ...
 *   th_proc_stop(&broker, SIGTERM);
 *
 * The binary is $SAMSA (set by CTest). Timeouts scale with $TEST_TIMEOUT_SCALE (ASan is slower).
 */
#ifndef SA_TEST_HARNESS_H
#define SA_TEST_HARNESS_H

#include <signal.h>
#include <stdint.h>
#include <sys/types.h>

typedef struct th_proc_s {
    pid_t pid;          /* 0 when not running */
    int port;           /* the port it was given */
    char addr[64];      /* "127.0.0.1:port" */
    char data_dir[512]; /* for brokers: its --data-dir */
    int own_data_dir;   /* data_dir is a temp dir the harness removes */
} th_proc_t;

/** @returns a TCP port on 127.0.0.1 that was free a moment ago. */
int th_free_port(void);
/** @returns the path of the samsa binary ($SAMSA, else build/samsa). */
const char *th_samsa(void);
/** Scale a timeout by $TEST_TIMEOUT_SCALE (default 1). */
int th_scaled_ms(int ms);
/** Make a fresh temp dir and copy its path into @p out. @returns 0 or -1. */
int th_mkdtemp(char *out, size_t size, const char *prefix);
/** rm -rf @p path. */
void th_rmtree(const char *path);

/** Spawn `samsa ARGV...` (argv NULL-terminated, argv[0] = the command name). @returns pid or -1. */
pid_t th_spawn(const char *const argv[]);
/**
 * Start `samsa broker` on a free port with @p data_dir (NULL: a temp dir removed at stop),
 * plus @p extra args (NULL-terminated, may be NULL), and wait until it accepts connections.
 * @returns 0, or -1 after printing why.
 */
int th_broker_start(th_proc_t *proc, const char *data_dir, const char *const extra[]);
/** Restart a stopped broker on the same port and data dir. */
int th_broker_restart(th_proc_t *proc, const char *const extra[]);
/** Send @p sig, wait for exit (SIGKILL after 20 s). @returns the exit status as waitpid gives it. */
int th_proc_stop(th_proc_t *proc, int sig);
/** Stop and remove a temp data dir. */
void th_proc_cleanup(th_proc_t *proc);
/** Wait until TCP @p port on 127.0.0.1 accepts connections. @returns 0 or -1 at the deadline. */
int th_wait_port(int port, int timeout_ms);
int64_t th_now_ms(void);

/* Poll @p cond every 10 ms until true or the (scaled) deadline; evaluates to 1 if it came true. */
#define TH_WAIT_UNTIL(cond, timeout_ms)                                                                      \
    ({                                                                                                       \
        int64_t th_deadline_ = th_now_ms() + th_scaled_ms(timeout_ms);                                       \
        int th_ok_ = 0;                                                                                      \
        for (;;) {                                                                                           \
            if (cond) {                                                                                      \
                th_ok_ = 1;                                                                                  \
                break;                                                                                       \
            }                                                                                                \
            if (th_now_ms() >= th_deadline_) break;                                                          \
            usleep(10000);                                                                                   \
        }                                                                                                    \
        th_ok_;                                                                                              \
    })

#endif
