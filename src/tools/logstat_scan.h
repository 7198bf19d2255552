/*
 * logstat_scan.h - pull the fields logstat needs out of one JSON log record, validating the
 * whole record on the way.
 *
 * A record must be one JSON object (RFC 8259 syntax, nesting up to 32 levels, nothing but white
 * space after it). Only top-level keys are looked at. This is a single pass with no allocation:
 * logstat reads hundreds of thousands of records a second and a DOM parser would be the
 * bottleneck.
 */
#ifndef SA_TOOLS_LOGSTAT_SCAN_H
#define SA_TOOLS_LOGSTAT_SCAN_H

#include <stddef.h>
#include <stdint.h>

typedef struct sa_logscan_s {
    const char *level; /* raw bytes of the "level" string (escapes not decoded), or NULL */
    size_t level_len;
    const char *service; /* raw bytes of the "service" string, or NULL */
    size_t service_len;
    const char *message; /* raw bytes of the "message" string, or NULL */
    size_t message_len;
    int64_t response_ms; /* "response_time_ms" as an integer, or -1 if absent/null/not a number */
    int64_t status_code; /* "status_code" as an integer, or -1 if absent/null/not a number */
    double time_s;       /* "timestamp_unix" (seconds since the epoch), or -1 if absent/not a number */
} sa_logscan_t;

/**
 * Scan @p len bytes at @p json (borrowed; the pointers in @p out point into it and are valid
 * as long as it is).
 * @returns 0, or -1 if the bytes are not one JSON object.
 */
int sa_logscan(const char *json, size_t len, sa_logscan_t *out);

#endif
