/*
 * loggen_record.h - the lab-6 log record, generated exactly by the lab producer's rules and
 * serialised the way its Python json.dumps did (same keys, same order, ", " and ": ").
 *
 * The rules (seed 003, KafkaLogProducer.generate_log_entry), for log id n:
 *   1. service = services[n % 5] (web-server, auth-service, database, api-gateway, payment-service)
 *   2. level: INFO 0.60, WARNING 0.20, ERROR 0.15, DEBUG 0.05
 *   3. message = one of ten texts + " - ID: n"; ip = 192.168.1.x, x in 1..254
 *   4. user_id = "user_NNNN" (1000..9999) with probability 0.7, else null
 *   5. response_time_ms in 10..5000 for web-server and api-gateway, else null
 *   6. status_code from {200,201,400,401,403,404,500} when the service name contains "service"
 *      (auth-service, payment-service), else null
 *   7. ERROR only: error_code "ERRnnn" (100..999); stack_trace "... stack trace details ..." with
 *      probability 0.5, else null
 * Randomness comes from a seeded generator, consumed in a fixed order per record, so one seed
 * always gives the same records; only the timestamps come from the clock.
 */
#ifndef SA_TOOLS_LOGGEN_RECORD_H
#define SA_TOOLS_LOGGEN_RECORD_H

#include <stddef.h>
#include <stdint.h>

typedef struct sa_loggen_rng_s {
    uint64_t s; /* splitmix64 state */
} sa_loggen_rng_t;

typedef struct sa_loggen_rec_s {
    uint64_t id;          /* the log id (the lab's loop counter) */
    const char *service;  /* static string */
    const char *level;    /* static string: INFO, WARNING, ERROR, DEBUG */
    const char *message;  /* static string, without " - ID: n" */
    int ip_last;          /* 1..254 */
    int user_id;          /* 1000..9999, or 0 for null */
    int response_time_ms; /* 10..5000, or -1 for null */
    int status_code;      /* one of the seven codes, or 0 for null */
    int error_code;       /* 100..999 for ERROR records, else 0 (key absent) */
    int stack_trace;      /* ERROR records: 1 text, 0 null */
} sa_loggen_rec_t;

/* The lab's services, in its order (the round-robin and the key). */
extern const char *const sa_loggen_services[5];

/** Seed @p rng; the same seed gives the same sequence. */
void sa_loggen_seed(sa_loggen_rng_t *rng, uint64_t seed);

/** Draw record @p id from @p rng into @p rec (static strings only: nothing to free). */
void sa_loggen_make(sa_loggen_rng_t *rng, uint64_t id, sa_loggen_rec_t *rec);

/**
 * Write @p rec as one JSON object (no newline) into @p out, stamped with @p wall_us (microseconds
 * since the epoch, shown as local time in `timestamp` and as seconds in `timestamp_unix`).
 * @returns the length written; @p size of SA_LOGGEN_REC_MAX always suffices.
 */
size_t sa_loggen_format(const sa_loggen_rec_t *rec, int64_t wall_us, char *out, size_t size);

#define SA_LOGGEN_REC_MAX 512

#endif
