/*
 * client_log.c - librdkafka's logs and errors in samsa's log, with a broker that cannot be
 * reached said once instead of every retry.
 *
 * librdkafka reports one failed connection three times (a FAIL log line from the broker thread,
 * an error event, and "N/N brokers are down") and again on every retry, twice a second at
 * first: a web server started before its broker printed hundreds of such lines. Here:
 *   1. The first failure of an episode prints one WARN line naming the address, the reason and
 *      how to start a broker.
 *   2. Later failures are counted; at most every FOLD_MS one line gives the count.
 *   3. An episode ends when no failure came for FOLD_MS (the connection is back, or nothing
 *      tries any more); the next failure starts a new one with a full line.
 * Only the FAIL log lines are counted: the error events (transport failure, all brokers down,
 * name resolution) repeat them and go to the debug log. The state is per process, shared by
 * all of a command's clients, because they share one log; a mutex guards it since librdkafka
 * logs from its broker threads.
 */
#include <pthread.h>
#include <stdio.h>
#include <string.h>

#include "client/client.h"
#include "core/log.h"
#include "core/time.h"

#define FOLD_MS 30000 /* summary interval, and the quiet time that ends an episode */

typedef struct fold_s {
    int64_t last_event_ms; /* monotonic time of the latest failure; 0: no episode */
    int64_t last_line_ms;  /* when the last line about this episode was printed */
    int64_t repeats;       /* failures since that line */
} fold_t;

typedef enum fold_action_e {
    FOLD_FIRST,   /* print the full line */
    FOLD_SUMMARY, /* print the count of repeats */
    FOLD_QUIET,   /* only counted */
} fold_action_t;

/* Count one failure at @p now_ms. @returns what to print; *repeats gets the count to report. */
static fold_action_t fold_event(fold_t *f, int64_t now_ms, int64_t *repeats) {
    fold_action_t act;
    if (!f->last_event_ms || now_ms - f->last_event_ms >= FOLD_MS) {
        f->repeats = 0;
        f->last_line_ms = now_ms;
        act = FOLD_FIRST;
    } else if (now_ms - f->last_line_ms >= FOLD_MS) {
        *repeats = f->repeats + 1;
        f->repeats = 0;
        f->last_line_ms = now_ms;
        act = FOLD_SUMMARY;
    } else {
        f->repeats++;
        act = FOLD_QUIET;
    }
    f->last_event_ms = now_ms;
    return act;
}

static fold_t down;
static pthread_mutex_t down_lock = PTHREAD_MUTEX_INITIALIZER;

void sa_client_start_hint(const char *bootstrap, char *buf, size_t size) {
    const char *s = bootstrap, *scheme = strstr(s, "://");
    if (scheme && scheme < s + strcspn(s, ",")) s = scheme + 3;
    int n = (int)strcspn(s, ",");
    snprintf(buf, size, "start a broker with `samsa up` or `samsa broker --listen %.*s`", n, s);
}

/* Split librdkafka's "[thrd:X]: NAME: REASON (after Nms in state S...)" into the broker address
 * (NAME up to its "/id") and the reason ("Connection refused" out of "Connect to ... failed:
 * Connection refused"). */
static void parse_failure(const char *text, char *addr, size_t addr_size, char *why, size_t why_size) {
    if (!strncmp(text, "[thrd:", 6)) {
        const char *e = strstr(text, "]: ");
        if (e) text = e + 3;
    }
    const char *colon = strstr(text, ": ");
    const char *reason = text;
    if (colon) {
        int n = (int)(colon - text);
        const char *slash = memchr(text, '/', (size_t)n);
        snprintf(addr, addr_size, "%.*s", slash ? (int)(slash - text) : n, text);
        reason = colon + 2;
    } else {
        snprintf(addr, addr_size, "?");
    }
    const char *failed = strstr(reason, "failed: ");
    if (failed) reason = failed + 8;
    const char *after = strstr(reason, " (after ");
    snprintf(why, why_size, "%.*s", after ? (int)(after - reason) : (int)strlen(reason), reason);
}

static void broker_down(const char *name, const char *text) {
    char addr[256], why[512], hint[600];
    pthread_mutex_lock(&down_lock);
    int64_t repeats = 0;
    fold_action_t act = fold_event(&down, sa_mono_ms(), &repeats);
    pthread_mutex_unlock(&down_lock);
    if (act == FOLD_QUIET) return;
    parse_failure(text, addr, sizeof(addr), why, sizeof(why));
    if (act == FOLD_FIRST) {
        sa_client_start_hint(addr, hint, sizeof(hint));
        sa_log_warn("rdkafka",
                    "%s: cannot connect to the Kafka broker at %s: %s; retrying, repeats folded (%s)", name,
                    addr, why, hint);
    } else {
        sa_log_warn("rdkafka",
                    "%s: still cannot connect to the Kafka broker at %s: %lld more failures in %d s (%s)",
                    name, addr, (long long)repeats, FOLD_MS / 1000, why);
    }
}

static sa_log_level_t level_of(int syslog_level) {
    /* syslog levels: 0-3 error, 4 warning, 5-6 info, 7 debug */
    return syslog_level <= 3   ? SA_LOG_ERROR
           : syslog_level == 4 ? SA_LOG_WARN
           : syslog_level <= 6 ? SA_LOG_INFO
                               : SA_LOG_DEBUG;
}

/* Runs on librdkafka's threads: sa_log_write is thread-safe. */
static void log_cb(const rd_kafka_t *rk, int level, const char *fac, const char *buf) {
    const char *name = rk ? rd_kafka_name(rk) : "rdkafka";
    sa_log_level_t lvl = level_of(level);
    if (lvl <= SA_LOG_WARN && !strcmp(fac, "FAIL")) {
        broker_down(name, buf);
        return;
    }
    /* Debug lines exist only when the user asked for them (-X debug=..., --debug client). */
    if (lvl <= sa_log_level || lvl == SA_LOG_DEBUG)
        sa_log_write(lvl, "rdkafka", "%s: %s: %s", name, fac, buf);
}

/* Runs on the thread that polls the client (rd_kafka_poll, consumer poll). */
static void error_cb(rd_kafka_t *rk, int err, const char *reason, void *opaque) {
    (void)opaque;
    const char *name = rd_kafka_name(rk);
    switch (err) {
    case RD_KAFKA_RESP_ERR__TRANSPORT:
    case RD_KAFKA_RESP_ERR__ALL_BROKERS_DOWN:
    case RD_KAFKA_RESP_ERR__RESOLVE:
        /* the FAIL log line of the same failure was folded already */
        sa_log_debug(SA_DBG_CLIENT, "rdkafka", "%s: %s: %s", name, rd_kafka_err2name(err), reason);
        return;
    case RD_KAFKA_RESP_ERR__FATAL: {
        char why[512];
        rd_kafka_resp_err_t fatal = rd_kafka_fatal_error(rk, why, sizeof(why));
        sa_log_error("rdkafka", "%s: fatal error %s: %s", name, rd_kafka_err2name(fatal), why);
        return;
    }
    default: sa_log_error("rdkafka", "%s: %s: %s", name, rd_kafka_err2name(err), reason);
    }
}

void sa_client_use_samsa_log(rd_kafka_conf_t *conf) {
    rd_kafka_conf_set_log_cb(conf, log_cb);
    rd_kafka_conf_set_error_cb(conf, error_cb);
}
