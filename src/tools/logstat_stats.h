/*
 * logstat_stats.h - the statistics of `samsa logstat`: counts per level and per service,
 * response-time percentiles, status codes, messages per minute; and the two ways of showing
 * them (a text report, refreshed live on a terminal, and a JSON report).
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

typedef struct sa_logstat_service_s {
    char name[64]; /* truncated raw name; "(other)" collects the overflow */
    int64_t count;
} sa_logstat_service_t;

typedef struct sa_logstat_s {
    int64_t total;          /* well-formed records */
    int64_t malformed;      /* records that are not a JSON object with a level */
    int64_t errors_written; /* ERROR records written to the errors file */
    int64_t level[SA_LOGSTAT_LEVELS];
    sa_logstat_service_t svc[SA_LOGSTAT_MAX_SERVICES + 1];
    int nsvc;
    int64_t *rt_hist; /* SA_LOGSTAT_RT_MAX + 1 buckets, owned */
    int64_t rt_count;
    int64_t status[1000];      /* by code 0..999 */
    int64_t first_us, last_us; /* monotonic time of the first and last record */
    int64_t window[60];        /* records per second, ring over the last minute */
    int64_t window_sec;        /* the second window[window_sec % 60] counts */
} sa_logstat_t;

extern const char *const sa_logstat_level_names[SA_LOGSTAT_LEVELS];

/** Initialise @p st (allocates the histogram). */
void sa_logstat_init(sa_logstat_t *st);
/** Free what sa_logstat_init allocated. */
void sa_logstat_free(sa_logstat_t *st);

/**
 * Count one record (@p json borrowed for the call) seen at monotonic time @p now_us.
 * @returns the level index (2 is ERROR), or -1 if the record is malformed (counted as such).
 */
int sa_logstat_add(sa_logstat_t *st, const char *json, size_t len, int64_t now_us);

/** @returns the response time at percentile @p pct (0..100), or -1 with no samples. */
int64_t sa_logstat_percentile(const sa_logstat_t *st, double pct);

/** @returns records per minute over the whole run. */
double sa_logstat_per_minute(const sa_logstat_t *st);

/** @returns records in the last 60 s up to @p now_us (the live "messages per minute"). */
int64_t sa_logstat_last_minute(sa_logstat_t *st, int64_t now_us);

/** Print the human report (the live view uses it too) on @p out. @p header is the first line. */
void sa_logstat_print_text(sa_logstat_t *st, const char *header, int64_t now_us, FILE *out);

/** Print the report as one JSON object and a newline on @p out; records_per_s counts from the first
 *  record to @p now_us. @p topic, @p group, @p errors_file borrowed (errors_file may be NULL). */
void sa_logstat_print_json(const sa_logstat_t *st, const char *topic, const char *group,
                           const char *errors_file, double elapsed_s, int64_t now_us, FILE *out);

#endif
