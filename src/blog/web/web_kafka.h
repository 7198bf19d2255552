/*
 * web_kafka.h - the web server's Kafka side: one idempotent producer for blog_operations, a
 * tail of blog_operations + blog_results feeding the store, and the queue statistics.
 *
 * Threads (all owned here):
 *   poller  - rd_kafka_poll() on the producer; delivery reports run on it and call the caller's
 *             ack callback (which resumes the suspended HTTP request);
 *   tail    - a consumer with assign() (not a group: every web server reads everything) from the
 *             end of every partition of both topics, handing each new record to the record
 *             callback (live events; the store is the system of record); new partitions are
 *             picked up from their beginning;
 *   monitor - every second: broker reachability (for /healthz and a fast 503), and the consumer
 *             lag and live members of the workers' group through the admin API.
 */
#ifndef SA_BLOG_WEB_KAFKA_H
#define SA_BLOG_WEB_KAFKA_H

#include <stddef.h>
#include <stdint.h>

#include <jansson.h>
#include "client/client.h"
#include "core/config.h"

typedef struct sa_web_kafka_s sa_web_kafka_t;

/** Called on the poller thread once per produced record: @p err is NULL when acknowledged; on a
 *  failure @p maybe_persisted says the record may be in the log all the same. */
typedef void sa_web_ack_cb(void *msg_opaque, const char *err, int maybe_persisted);
/** Called on the tail thread for each record (a JSON object, borrowed) of the operations topic
 *  (@p is_op 1) or the results topic (0). */
typedef void sa_web_record_cb(void *opaque, int is_op, const json_t *value);

typedef struct sa_web_kafka_conf_s {
    const sa_client_opts_t *kafka; /* -b, -X, -F; borrowed */
    const char *topic;             /* blog_operations */
    const char *results_topic;     /* blog_results */
    const char *group;             /* the workers' consumer group, for lag and members */
    sa_web_ack_cb *ack;
    sa_web_record_cb *record;
    void *opaque; /* for record */
} sa_web_kafka_conf_t;

/* The web server's Kafka clients: the producer (also serves the admin requests) and the tail. */
#define SA_WEB_KAFKA_CLIENTS 2
extern const sa_client_role_t sa_web_kafka_clients[SA_WEB_KAFKA_CLIENTS];

/** @returns new, with its threads running; NULL with errstr on a bad configuration. */
sa_web_kafka_t *sa_web_kafka_new(const sa_web_kafka_conf_t *conf, char *errstr, size_t errstr_size);

/** @returns the producer's message.timeout.ms: after it, a record is either acknowledged or failed. */
int64_t sa_web_kafka_message_timeout_ms(sa_web_kafka_t *k);

/**
 * Produce @p value (copied) with @p key to the operations topic. The ack callback gets
 * @p msg_opaque later. @returns 0, or -1 with errstr if it could not even be queued (then no
 * callback comes).
 */
int sa_web_kafka_produce(sa_web_kafka_t *k, const char *key, const char *value, size_t len, void *msg_opaque,
                         char *errstr, size_t errstr_size);

/** @returns 1 if the broker answered within the last few seconds, else 0. */
int sa_web_kafka_healthy(sa_web_kafka_t *k);

/** Lag of the workers' group on the operations topic and its members; -1 where unknown. */
void sa_web_kafka_queue(sa_web_kafka_t *k, int64_t *lag, int64_t *workers);

/**
 * Wait up to @p timeout_ms for every produced record's delivery report; then purge what is
 * left, so its delivery reports (failures) come too. @returns the records that were left.
 */
int sa_web_kafka_flush(sa_web_kafka_t *k, int timeout_ms);

/** Flush, stop the threads and free. */
void sa_web_kafka_free(sa_web_kafka_t *k);

#endif
