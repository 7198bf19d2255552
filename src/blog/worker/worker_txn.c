/*
 * worker_txn.c - the transactional producer of `samsa worker --exactly-once txn` (see
 * worker_txn.h; the argument is in worker.h).
 *
 * librdkafka's transactional calls return an error object of one of four classes (rdkafka.h,
 * "Transactional producer API"): retriable (ask again), abortable (abort, then a new
 * transaction may begin), fatal (the producer is unusable: fenced by a newer instance with the
 * same transactional.id) or none. Every call here maps them onto the worker's three outcomes.
 */
#include "blog/worker/worker_txn.h"

#include <errno.h>
#include <fcntl.h>
#include <jansson.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <unistd.h>

#include "core/hash.h"
#include "core/log.h"
#include "core/mem.h"

#define INIT_TIMEOUT_MS 5000  /* one rd_kafka_init_transactions attempt (then a stop is seen) */
#define END_TIMEOUT_MS  30000 /* one send-offsets, commit or abort attempt */
#define COMMIT_ATTEMPTS 5     /* a send-offsets or commit that keeps timing out is aborted after this many */

/* ---- the transactional.id ---- */

/* The user's transactional.id into @p out (the last one wins, as in librdkafka). @returns 1 if set. */
static int user_set(const sa_worker_conf_t *conf, char *out, size_t size) {
    for (size_t i = 0; i < conf->kafka.props.n; i++)
        if (!strncmp(conf->kafka.props.v[i], "transactional.id=", 17))
            snprintf(out, size, "%s", conf->kafka.props.v[i] + 17);
    return out[0] != '\0';
}

int sa_worker_txn_user_id(const sa_worker_conf_t *conf) {
    char id[512] = "";
    return user_set(conf, id, sizeof(id));
}

int sa_worker_txn_id(const sa_worker_conf_t *conf, char *out, size_t size, int *lock_fd, char *errstr,
                     size_t errstr_size) {
    *lock_fd = -1;
    out[0] = '\0';
    if (user_set(conf, out, size)) return 0;
    if (conf->worker_id && *conf->worker_id) {
        snprintf(out, size, "samsa-worker.%s.%s", conf->group, conf->worker_id);
        return 0;
    }
    char host[200] = "localhost", dir[PATH_MAX], lock[PATH_MAX + 32];
    gethostname(host, sizeof(host) - 1);
    snprintf(dir, sizeof(dir), "%s", conf->results_log);
    char *slash = strrchr(dir, '/');
    if (slash)
        *slash = '\0';
    else
        snprintf(dir, sizeof(dir), ".");
    char *real = realpath(dir, NULL);
    const char *named = real ? real : dir;
    uint64_t dirhash = sa_fnv1a64(named, strlen(named));
    free(real);
    for (int slot = 0; slot < SA_WORKER_TXN_SLOTS; slot++) {
        snprintf(lock, sizeof(lock), "%s.txn-%d.lock", conf->results_log, slot);
        int fd = open(lock, O_RDWR | O_CREAT | O_CLOEXEC, 0644);
        if (fd < 0) {
            snprintf(errstr, errstr_size, "cannot create %s: %s", lock, strerror(errno));
            return -1;
        }
        if (flock(fd, LOCK_EX | LOCK_NB) == 0) {
            *lock_fd = fd;
            snprintf(out, size, "samsa-worker.%s.%s.%08x.%d", conf->group, host, (unsigned)(dirhash >> 32),
                     slot);
            return 0;
        }
        close(fd);
    }
    snprintf(errstr, errstr_size,
             "%d workers already use %s (every %s.txn-N.lock is held): give each a --worker-id",
             SA_WORKER_TXN_SLOTS, conf->results_log, conf->results_log);
    return -1;
}

/* ---- the transaction ---- */

static void say(rd_kafka_error_t *error, const char *what, char *errstr, size_t errstr_size) {
    rd_kafka_resp_err_t code = rd_kafka_error_code(error);
    int fenced = code == RD_KAFKA_RESP_ERR__FENCED || code == RD_KAFKA_RESP_ERR_PRODUCER_FENCED ||
                 code == RD_KAFKA_RESP_ERR_INVALID_PRODUCER_EPOCH;
    snprintf(errstr, errstr_size, "%s: %s%s", what, rd_kafka_error_string(error),
             fenced ? " (fenced: another worker with this transactional.id took over)"
             : rd_kafka_error_is_fatal(error) ? " (fatal)"
                                              : "");
}

int sa_worker_txn_init(rd_kafka_t *producer, volatile sig_atomic_t *stop, char *errstr, size_t errstr_size) {
    for (;;) {
        rd_kafka_error_t *error = rd_kafka_init_transactions(producer, INIT_TIMEOUT_MS);
        if (!error) return 0;
        say(error, "initialising transactions", errstr, errstr_size);
        int again = rd_kafka_error_is_retriable(error) && !*stop;
        rd_kafka_error_destroy(error);
        if (!again) return -1;
        sa_log_warn("worker", "%s; asking again", errstr);
    }
}

int sa_worker_txn_begin(rd_kafka_t *producer, char *errstr, size_t errstr_size) {
    rd_kafka_error_t *error = rd_kafka_begin_transaction(producer);
    if (!error) return 0;
    say(error, "beginning a transaction", errstr, errstr_size);
    rd_kafka_error_destroy(error);
    return -1;
}

/* Abort the open transaction. @returns ABORTED, or FATAL with errstr. */
static sa_worker_txn_end_t abort_txn(rd_kafka_t *producer, char *errstr, size_t errstr_size) {
    for (;;) {
        rd_kafka_error_t *error = rd_kafka_abort_transaction(producer, END_TIMEOUT_MS);
        if (!error) return SA_WORKER_TXN_ABORTED;
        int retriable = rd_kafka_error_is_retriable(error);
        char why[512];
        say(error, "aborting the transaction", why, sizeof(why));
        rd_kafka_error_destroy(error);
        if (!retriable) {
            snprintf(errstr, errstr_size, "%s", why);
            return SA_WORKER_TXN_FATAL;
        }
        sa_log_warn("worker", "%s; asking again", why);
    }
}

/* @p error from send-offsets or commit: FATAL, ABORTED (after aborting), or -1 for retriable. */
static int classify(rd_kafka_t *producer, rd_kafka_error_t *error, const char *what, char *errstr,
                    size_t errstr_size) {
    say(error, what, errstr, errstr_size);
    int rc = -1;
    if (rd_kafka_error_is_fatal(error)) {
        rc = SA_WORKER_TXN_FATAL;
    } else if (rd_kafka_error_txn_requires_abort(error) || !rd_kafka_error_is_retriable(error)) {
        char why[512];
        rc = abort_txn(producer, why, sizeof(why));
        if (rc == SA_WORKER_TXN_FATAL) snprintf(errstr, errstr_size, "%s", why);
    }
    rd_kafka_error_destroy(error);
    return rc;
}

sa_worker_txn_end_t sa_worker_txn_end(rd_kafka_t *producer, rd_kafka_t *consumer,
                                      const rd_kafka_topic_partition_list_t *offsets, int ok, char *errstr,
                                      size_t errstr_size) {
    if (!ok) return abort_txn(producer, errstr, errstr_size);
    if (offsets->cnt > 0) {
        rd_kafka_consumer_group_metadata_t *cgmd = rd_kafka_consumer_group_metadata(consumer);
        int rc = -1;
        for (int attempt = 1; rc < 0; attempt++) {
            rd_kafka_error_t *error =
                rd_kafka_send_offsets_to_transaction(producer, offsets, cgmd, END_TIMEOUT_MS);
            if (!error) break;
            rc = classify(producer, error, "sending the consumed offsets to the transaction", errstr,
                          errstr_size);
            if (rc < 0 && attempt == COMMIT_ATTEMPTS) rc = abort_txn(producer, errstr, errstr_size);
            if (rc < 0) sa_log_warn("worker", "%s; asking again", errstr);
        }
        rd_kafka_consumer_group_metadata_destroy(cgmd);
        if (rc >= 0) return (sa_worker_txn_end_t)rc;
    }
    for (int attempt = 1;; attempt++) {
        rd_kafka_error_t *error = rd_kafka_commit_transaction(producer, END_TIMEOUT_MS);
        if (!error) return SA_WORKER_TXN_COMMITTED;
        int rc = classify(producer, error, "committing the transaction", errstr, errstr_size);
        if (rc >= 0) return (sa_worker_txn_end_t)rc;
        if (attempt == COMMIT_ATTEMPTS) {
            char why[512];
            snprintf(why, sizeof(why), "%s", errstr);
            sa_worker_txn_end_t end = abort_txn(producer, errstr, errstr_size);
            if (end == SA_WORKER_TXN_ABORTED)
                snprintf(errstr, errstr_size, "%s (%d times; aborted)", why, attempt);
            return end;
        }
        sa_log_warn("worker", "%s; asking again", errstr);
    }
}

int sa_worker_txn_own_line(const char *line, const rd_kafka_message_t *m) {
    json_t *v = json_loads(line, 0, NULL);
    json_t *src = json_object_get(v, "source");
    const char *topic = json_string_value(json_object_get(src, "topic"));
    json_t *part = json_object_get(src, "partition"), *off = json_object_get(src, "offset");
    int own = topic && json_is_integer(part) && json_is_integer(off) &&
              !strcmp(topic, rd_kafka_topic_name(m->rkt)) && json_integer_value(part) == m->partition &&
              json_integer_value(off) == m->offset;
    json_decref(v);
    return own;
}
