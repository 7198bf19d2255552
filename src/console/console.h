/*
 * console.h - `samsa console`: a web UI for any Kafka cluster (samsa's broker or Apache Kafka),
 * built on librdkafka's admin, consumer and producer APIs only, served by the shared HTTP server
 * (src/http). `samsa up` starts one too (src/up.c).
 *
 * What it shows and does (docs/console.md): the cluster's overview with message rates; topics
 * with search, sizes, partitions and offsets, create/delete/edit configs; a message browser
 * (newest first, by partition, offset or time, filters, live tail over SSE, a produce form);
 * consumer groups with members, assignments, lag per partition, time lag and a lag-history chart
 * from the console's own store, and offset resets with a dry run first.
 *
 * Safe by default: it listens on 127.0.0.1, --read-only turns every change off, and every change
 * is a CSRF-checked form POST that passes the shared server's origin and Content-Type rules.
 */
#ifndef SA_CONSOLE_H
#define SA_CONSOLE_H

#include <stddef.h>
#include <stdint.h>

#include "client/client.h"
#include "core/config.h"

typedef struct sa_console_s sa_console_t;

typedef struct sa_console_conf_s {
    sa_client_opts_t kafka;       /* -b, -X, -F: every Kafka client of the console */
    char *http;                   /* HOST:PORT to listen on */
    char *history;                /* the lag history's SQLite file, or "none" (memory only) */
    int64_t history_keep_ms;      /* samples older than this are deleted */
    int64_t sample_ms;            /* how often the cluster is sampled */
    int64_t timeout_ms;           /* deadline of each Kafka request */
    int read_only;                /* --read-only: no change of any kind */
    int64_t threads;              /* HTTP polling threads */
    int64_t max_body;             /* bytes */
    int64_t max_per_ip;           /* connections at once from one address */
    int64_t header_timeout_ms;    /* headers within this */
    int64_t body_timeout_ms;      /* body within this after the headers */
    int64_t max_tails;            /* live tails (each one a consumer) at once */
    sa_strlist_t allowed_origins; /* other origins that may send changes */
    char *log_level;
    char *debug;
} sa_console_conf_t;

/* The option rows of `samsa console` (also spliced into `samsa up` under other names). */
extern const sa_cfg_opt_t sa_console_opts[];

/* The console's Kafka clients, for sa_client_setup (-X dump). */
extern const sa_client_role_t sa_console_clients[];
extern const size_t sa_console_nclients;

/** @returns new: a running console (borrows @p conf until stopped), or NULL with errstr. It
 *  serves pages at once; the first sample of the cluster follows within a few seconds. */
sa_console_t *sa_console_start(const sa_console_conf_t *conf, char *errstr, size_t errstr_size);

/** Stop serving, end the live tails, stop the sampler, close the clients and the store. NULL ok. */
void sa_console_stop(sa_console_t *c);

#endif
