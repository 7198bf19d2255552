/*
 * web_server.h - the HTTP side of `samsa web`: libmicrohttpd with its own polling threads,
 * requests that wait for the broker's acknowledgement suspended (never a blocked thread), and
 * Server-Sent Events streams suspended between events.
 */
#ifndef SA_BLOG_WEB_SERVER_H
#define SA_BLOG_WEB_SERVER_H

#include <stddef.h>
#include <stdint.h>

#include "blog/model/db.h"
#include "client/client.h"
#include "core/config.h"

typedef struct sa_web_server_s sa_web_server_t;

typedef struct sa_web_conf_s {
    sa_client_opts_t kafka;       /* -b, -X, -F: every Kafka client of the web server */
    char *http;                   /* HOST:PORT to listen on */
    char *topic;                  /* blog_operations */
    char *results_topic;          /* blog_results */
    char *group;                  /* the workers' consumer group (for lag and members) */
    char *db;                     /* --db URL of the store */
    int64_t max_body;             /* bytes; larger bodies get 413 */
    int64_t threads;              /* HTTP polling threads */
    sa_strlist_t allowed_origins; /* --allowed-origin: other origins that may POST (http/http_guard.h) */
    int64_t max_per_ip;           /* connections at once from one IP address */
    int64_t header_timeout_ms;    /* a request's headers must arrive within this */
    int64_t body_timeout_ms;      /* ... and its body within this after the headers */
    char *log_level;
    char *debug;
} sa_web_conf_t;

/** @returns new: a running server (borrows @p conf and the open store @p db until stopped), or
 *  NULL with errstr. */
sa_web_server_t *sa_web_server_start(const sa_web_conf_t *conf, sa_db_t *db, char *errstr,
                                     size_t errstr_size);

/**
 * Stop accepting, flush the producer so every acknowledged post stays acknowledged and every
 * waiting request gets its answer, end the event streams, stop, free.
 */
void sa_web_server_stop(sa_web_server_t *srv);

#endif
