/*
 * logstat_stats.h - the statistics of `samsa logstat`: counts per level and per service (and
 * errors per service), response-time percentiles, status codes, messages per minute, the latest
 * ERROR records; and the two ways of showing them (a text report, refreshed live on a terminal,
 * and a JSON report).
 *
 * Rates are the log's own, from the records' timestamps ("timestamp_unix", else the Kafka
 * record's timestamp), not from when logstat read them: 100 records written at 10 a second are
 * 600 a minute however fast they are read back later. Records arrive out of time order across
 * partitions, so the span is min..max of their times, and the last-minute count is a ring of
 * seconds keyed by record time.
 *
 * Response times are kept in an exact histogram of 1 ms buckets up to 60 s (the lab's values are
 * 10..5000 ms), so percentiles are exact, not estimated, and adding a record is O(1).
 */
#ifndef SA_TOOLS_LOGSTAT_STATS_H
#define SA_TOOLS_LOGSTAT_STATS_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#define SA_LOGSTAT_LEVELS       5 /* INFO, WARNING, ERROR, DEBUG, other */
#define SA_LOGSTAT_MAX_SERVICES 64
#define SA_LOGSTAT_RT_MAX       60000 /* ms; larger response times share the last bucket */
#define SA_LOGSTAT_RECENT       5     /* latest ERROR records shown */

typedef struct sa_logstat_service_s {
    char name[64]; /* truncated raw name; "(other)" collects the overflow */
    int64_t count;
    int64_t errors; /* ERROR records of this service */
} sa_logstat_service_t;

typedef struct sa_logstat_error_s {
    int64_t time_ms;   /* record time, ms since the epoch; -1 unknown */
    char service[64];  /* raw, truncated at a character boundary */
    char message[160]; /* raw JSON string bytes (escapes kept), truncated likewise */
} sa_logstat_error_t;

typedef struct sa_logstat_s {
    int64_t total;          /* well-formed records */
    int64_t malformed;      /* records that are not a JSON object with a level */
    int64_t errors_written; /* ERROR records written to the errors file */
    int64_t level[SA_LOGSTAT_LEVELS];
    sa_logstat_service_t svc[SA_LOGSTAT_MAX_SERVICES + 1];
    int nsvc;
    int64_t *rt_hist; /* SA_LOGSTAT_RT_MAX + 1 buckets, owned */
    int64_t rt_count;
    int64_t status[1000];                         /* by code 0..999 */
    int64_t first_us;                             /* monotonic time the first record was read */
    int64_t timed;                                /* records with a time */
    int64_t time_min_ms, time_max_ms;             /* earliest and latest record time (ms since the epoch) */
    int64_t window[60];                           /* records per second of record time, ring over a minute */
    int64_t window_sec;                           /* the latest second the ring covers; -1: empty */
    sa_logstat_error_t recent[SA_LOGSTAT_RECENT]; /* the latest ERROR records by time, unordered */
    int64_t errors_seen;                          /* ERROR records so far */
} sa_logstat_t;

extern const char *const sa_logstat_level_names[SA_LOGSTAT_LEVELS];

/** Initialise @p st (allocates the histogram). */
void sa_logstat_init(sa_logstat_t *st);
/** Free what sa_logstat_init allocated. */
void sa_logstat_free(sa_logstat_t *st);

/**
 * Count one record (@p json borrowed for the call) read at monotonic time @p now_us; @p record_ms
 * is the Kafka record's timestamp (ms since the epoch, -1 if none), its time when the JSON has no
 * "timestamp_unix".
 * @returns the level index (2 is ERROR), or -1 if the record is malformed (counted as such).
 */
int sa_logstat_add(sa_logstat_t *st, const char *json, size_t len, int64_t record_ms, int64_t now_us);

/** @returns the response time at percentile @p pct (0..100), or -1 with no samples. */
int64_t sa_logstat_percentile(const sa_logstat_t *st, double pct);

/** @returns the log's records per minute between its earliest and latest record time (the count
 *  itself when they span less than a second). */
double sa_logstat_per_minute(const sa_logstat_t *st);

/** @returns records whose time is within the 60 s before @p now_ms (ms since the epoch). */
int64_t sa_logstat_last_minute(sa_logstat_t *st, int64_t now_ms);

/** Print the human report (the live view uses it too) on @p out. @p header is the first line;
 *  @p now_ms (ms since the epoch) ends the last minute. */
void sa_logstat_print_text(sa_logstat_t *st, const char *header, int64_t now_ms, FILE *out);

/** Print the report as one JSON object and a newline on @p out; records_per_s counts from the first
 *  record to @p now_us. @p topic, @p group, @p errors_file borrowed (errors_file may be NULL). */
void sa_logstat_print_json(const sa_logstat_t *st, const char *topic, const char *group,
                           const char *errors_file, double elapsed_s, int64_t now_us, FILE *out);

#endif
