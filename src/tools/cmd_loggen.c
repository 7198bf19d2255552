/*
 * cmd_loggen.c - `samsa loggen`: the lab-6 producer. Generates the lab's JSON log records
 * (loggen_record.h), keys them by service and produces them with the lab's settings.
 *
 * Design:
 *  1. A record counts as sent only when its delivery report says so; the summary and the exit
 *     code come from delivery reports, never from produce() having accepted the record.
 *  2. Pacing (--delay / --rate) sleeps inside rd_kafka_poll, so delivery reports are served
 *     while waiting and no thread is added.
 *  3. Ctrl-C (or SIGTERM) stops producing; what is in flight gets --timeout to be confirmed, the
 *     rest is purged and counted as failed. A second Ctrl-C skips the wait.
 */
#include <errno.h>
#include <inttypes.h>
#include <math.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "commands.h"
#include "core/mem.h"
#include "core/time.h"
#include "tools/loggen_record.h"
#include "tools/tool.h"

#define CMD "loggen"

typedef struct conf_s {
    sa_tools_conn_t conn;
    char *topic;
    int64_t count;
    char *delay;
    char *rate;
    char *seed;
    int64_t start_id;
    char *fake_time;
    int dry_run;
    int json;
    int quiet;
} conf_t;

static const sa_cfg_opt_t opts[] = {
    SA_TOOLS_CONN_OPTS(conf_t, conn),
    {NULL, "topic", 't', SA_CFG_STR, offsetof(conf_t, topic), 0, 0, "kafka-logs", "TOPIC",
     "topic to produce to"},
    {NULL, "count", 'n', SA_CFG_INT, offsetof(conf_t, count), 0, INT64_MAX, "100", NULL,
     "records to send (0: until Ctrl-C)"},
    {NULL, "delay", 0, SA_CFG_STR, offsetof(conf_t, delay), 0, 0, "0.1", "SECONDS",
     "pause between records, as the lab's time.sleep(delay); 0 for full speed"},
    {NULL, "rate", 0, SA_CFG_STR, offsetof(conf_t, rate), 0, 0, NULL, "N[/s]",
     "records per second instead of --delay, e.g. 500 or 500/s"},
    {NULL, "seed", 0, SA_CFG_STR, offsetof(conf_t, seed), 0, 0, NULL, "N",
     "seed the generator: the same seed gives the same records (default: from the clock)"},
    {NULL, "start-id", 0, SA_CFG_INT, offsetof(conf_t, start_id), 0, INT64_MAX, "0", NULL,
     "log id of the first record"},
    {NULL, "fake-time", 0, SA_CFG_STR, offsetof(conf_t, fake_time), 0, 0, NULL, "EPOCH_SECONDS",
     "stamp record i with EPOCH_SECONDS + i*delay instead of the clock (fully reproducible output)"},
    {NULL, "dry-run", 0, SA_CFG_BOOL, offsetof(conf_t, dry_run), 0, 0, NULL, NULL,
     "print the records as JSON lines on stdout; no broker needed"},
    {NULL, "json", 0, SA_CFG_BOOL, offsetof(conf_t, json), 0, 0, NULL, NULL,
     "print the summary as JSON on stdout"},
    {NULL, "quiet", 'q', SA_CFG_BOOL, offsetof(conf_t, quiet), 0, 0, NULL, NULL, "no progress on stderr"},
    {0}};

static const sa_cfg_cmd_t spec = {
    "loggen", "samsa loggen [-b HOST:PORT] [--topic T] [--count N] [--delay S | --rate N] [OPTIONS]",
    "The lab-6 log producer: JSON log records (timestamp, level, message, service, ip, user_id, "
    "response_time_ms, status_code, error_code, stack_trace) keyed by service, sent with the lab's "
    "producer settings (acks=all, retries=3, max.in.flight=1, gzip, linger.ms=5, batch.size=16384; "
    "each can be changed with -X). A record counts as sent when its delivery report confirms it.",
    opts,
    "examples:\n"
    "  samsa loggen -b localhost:9092 --topic kafka-logs --count 100          # the lab, 0.1 s apart\n"
    "  samsa loggen --count 100000 --delay 0                                  # full speed\n"
    "  samsa loggen --dry-run --seed 42 --count 5                             # look at records\n"
    "exit status: 0 all delivered, 1 some failed or the broker was unreachable, 2 bad usage"};

static const char *const producer_defaults[] = {"acks=all",
                                                "retries=3",
                                                "max.in.flight.requests.per.connection=1",
                                                "compression.type=gzip",
                                                "linger.ms=5",
                                                "batch.size=16384",
                                                NULL};
static const sa_client_role_t producer_role = {"producer", SA_CLIENT_PRODUCER, producer_defaults, NULL};

typedef struct state_s {
    int64_t produced;  /* accepted by produce() */
    int64_t delivered; /* confirmed by a delivery report */
    int64_t failed;    /* failed delivery reports or produce() refusals */
    int64_t *per_part; /* delivered per partition */
    int32_t nparts;    /* entries in per_part */
    char first_error[256];
} state_t;

static volatile sig_atomic_t stop_requests;

static void on_signal(int sig) {
    (void)sig;
    stop_requests++;
}

static void dr_cb(rd_kafka_t *rk, const rd_kafka_message_t *msg, void *opaque) {
    (void)rk;
    state_t *st = opaque;
    if (msg->err) {
        if (!st->failed) snprintf(st->first_error, sizeof(st->first_error), "%s", rd_kafka_err2str(msg->err));
        st->failed++;
        return;
    }
    st->delivered++;
    if (msg->partition >= st->nparts) {
        int32_t n = msg->partition + 1;
        st->per_part = sa_realloc(st->per_part, (size_t)n * sizeof(*st->per_part));
        memset(st->per_part + st->nparts, 0, (size_t)(n - st->nparts) * sizeof(*st->per_part));
        st->nparts = n;
    }
    if (msg->partition >= 0) st->per_part[msg->partition]++;
}

static void setup_conf(rd_kafka_conf_t *conf) { rd_kafka_conf_set_dr_msg_cb(conf, dr_cb); }

/* Parse a non-negative decimal number of seconds. @returns 0 or -1. */
static int parse_seconds(const char *s, double *out) {
    char *end;
    errno = 0;
    double v = strtod(s, &end);
    if (errno || end == s || *end || !isfinite(v) || v < 0 || v > 86400) return -1;
    *out = v;
    return 0;
}

/* Progress on stderr: a bar on a terminal, else a line per 10 records (at most 5 per second). */
typedef struct progress_s {
    int tty;
    int64_t last_us;
    int64_t last_line_at;
} progress_t;

static void progress(progress_t *p, const conf_t *c, const state_t *st, int final) {
    if (c->quiet) return;
    int64_t now = sa_mono_us();
    if (!final && now - p->last_us < 200000) return;
    if (p->tty) {
        int width = 30, fill = c->count ? (int)(st->delivered * width / c->count) : 0;
        char bar[64];
        for (int i = 0; i < width; i++) bar[i] = i < fill ? '#' : '.';
        bar[width] = '\0';
        if (c->count)
            fprintf(stderr, "\r[%s] %" PRId64 "/%" PRId64 " delivered, %" PRId64 " failed", bar,
                    st->delivered, c->count, st->failed);
        else
            fprintf(stderr, "\r%" PRId64 " delivered, %" PRId64 " failed", st->delivered, st->failed);
        if (final) fputc('\n', stderr);
    } else {
        /* The lab logged every 10th record; we count confirmed ones, the only ones that matter. */
        int64_t mark = st->delivered / 10 * 10;
        if (final) mark = st->delivered;
        if (mark == p->last_line_at || !mark) return;
        if (c->count)
            fprintf(stderr, "samsa loggen: delivered %" PRId64 "/%" PRId64 " records\n", mark, c->count);
        else
            fprintf(stderr, "samsa loggen: delivered %" PRId64 " records\n", mark);
        p->last_line_at = mark;
    }
    p->last_us = now;
}

/* Sleep until @p until_us (monotonic), serving delivery reports meanwhile. */
static void wait_until(rd_kafka_t *rk, int64_t until_us) {
    for (;;) {
        int64_t left = until_us - sa_mono_us();
        if (left <= 0 || stop_requests) return;
        if (rk)
            rd_kafka_poll(rk, (int)((left + 999) / 1000));
        else
            sa_sleep_ms((left + 999) / 1000);
    }
}

static void print_summary(const conf_t *c, const state_t *st, double secs, int interrupted) {
    double rate = secs > 0 ? (double)st->delivered / secs : 0;
    if (c->json) {
        printf("{\"topic\": \"%s\", \"delivered\": %" PRId64 ", \"failed\": %" PRId64
               ", \"elapsed_s\": %.3f, \"records_per_s\": %.0f, \"interrupted\": %s, \"partitions\": {",
               c->topic, st->delivered, st->failed, secs, rate, interrupted ? "true" : "false");
        for (int32_t p = 0, first = 1; p < st->nparts; p++) {
            if (!st->per_part[p]) continue;
            printf("%s\"%d\": %" PRId64, first ? "" : ", ", p, st->per_part[p]);
            first = 0;
        }
        printf("}}\n");
        return;
    }
    printf("%s: %" PRId64 " delivered, %" PRId64 " failed in %.2f s (%.0f records/s)%s\n", c->topic,
           st->delivered, st->failed, secs, rate, interrupted ? ", interrupted" : "");
    for (int32_t p = 0; p < st->nparts; p++)
        if (st->per_part[p]) printf("  partition %d: %" PRId64 " delivered\n", p, st->per_part[p]);
    if (st->failed && st->first_error[0]) printf("  first error: %s\n", st->first_error);
}

/* Wait for outstanding delivery reports: while they keep coming, up to --timeout without
 * progress; after Ctrl-C, --timeout in all. Then purge and count what is left as failed. */
static void drain(rd_kafka_t *rk, const conf_t *c, state_t *st, progress_t *pg) {
    int64_t deadline = sa_mono_ms() + c->conn.timeout_ms;
    int interrupted = stop_requests > 0;
    int64_t seen = st->delivered + st->failed;
    while (rd_kafka_outq_len(rk) > 0 && sa_mono_ms() < deadline && stop_requests < 2) {
        rd_kafka_poll(rk, 100);
        progress(pg, c, st, 0);
        if (!interrupted && stop_requests) {
            interrupted = 1;
            deadline = sa_mono_ms() + c->conn.timeout_ms;
        } else if (!interrupted && st->delivered + st->failed != seen) {
            seen = st->delivered + st->failed;
            deadline = sa_mono_ms() + c->conn.timeout_ms;
        }
    }
    if (rd_kafka_outq_len(rk) > 0) {
        rd_kafka_purge(rk, RD_KAFKA_PURGE_F_QUEUE | RD_KAFKA_PURGE_F_INFLIGHT);
        rd_kafka_flush(rk, 500); /* purged records come back as failed delivery reports */
    }
    int64_t unconfirmed = st->produced - st->delivered - st->failed;
    if (unconfirmed > 0) {
        if (!st->failed)
            snprintf(st->first_error, sizeof(st->first_error), "no delivery report before the deadline");
        st->failed += unconfirmed;
    }
}

/* The lab produces to a topic it never created; a broker with auto.create.topics.enable then
 * makes it with its default partition count (1 on samsa and on Kafka), silently, so keys no
 * longer spread. Say so, with the command that creates it properly. A full metadata request
 * (all topics) never triggers that auto-creation itself. */
static void warn_if_missing(rd_kafka_t *rk, const conf_t *c) {
    const struct rd_kafka_metadata *md = NULL;
    if (rd_kafka_metadata(rk, 1, NULL, &md, (int)c->conn.timeout_ms) != RD_KAFKA_RESP_ERR_NO_ERROR) return;
    int found = 0;
    for (int i = 0; i < md->topic_cnt && !found; i++)
        found = !strcmp(md->topics[i].topic, c->topic) && !md->topics[i].err;
    rd_kafka_metadata_destroy(md);
    if (!found)
        sa_cli_error(CMD,
                     "warning: topic %s does not exist; the broker will create it on the first record with "
                     "its default partition count (often 1), if it allows auto-creation. To choose: samsa "
                     "topics -b %s --create --topic %s --partitions 3 --replication-factor 1",
                     c->topic, sa_client_bootstrap(&c->conn.client), c->topic);
}

static int run_loggen(conf_t *c, double delay, uint64_t seed, int has_fake, double fake_time) {
    state_t st = {0};
    progress_t pg = {.tty = isatty(STDERR_FILENO)};
    rd_kafka_t *rk = NULL;
    rd_kafka_topic_t *rkt = NULL;
    int rc = SA_EXIT_FAIL;
    char buf[SA_LOGGEN_REC_MAX];
    sa_loggen_rng_t rng;
    sa_loggen_seed(&rng, seed);

    if (!c->dry_run) {
        if (!(rk = sa_tools_connect(CMD, &c->conn, &producer_role, setup_conf, &st))) goto out;
        warn_if_missing(rk, c);
        rkt = rd_kafka_topic_new(rk, c->topic, NULL);
    }
    struct sigaction sa = {.sa_handler = on_signal};
    sigemptyset(&sa.sa_mask);
    sigaction(SIGINT, &sa, NULL);
    sigaction(SIGTERM, &sa, NULL);

    /* A dry run only prints: pacing it would just make the user wait. */
    double step_us = c->dry_run ? 0 : delay * 1e6;
    int64_t t0 = sa_mono_us();
    int64_t wall0 = (int64_t)sa_wall_ms() * 1000;
    for (int64_t i = 0; (!c->count || i < c->count) && !stop_requests; i++) {
        if (step_us > 0 && i > 0) wait_until(rk, t0 + (int64_t)(step_us * (double)i));
        if (stop_requests) break;
        sa_loggen_rec_t rec;
        sa_loggen_make(&rng, (uint64_t)(c->start_id + i), &rec);
        int64_t wall_us = has_fake ? (int64_t)llround((fake_time + (double)i * delay) * 1e6)
                          : step_us > 0 || c->dry_run
                              ? (int64_t)sa_wall_ms() * 1000
                              : wall0 + (sa_mono_us() - t0); /* one clock read per record */
        size_t len = sa_loggen_format(&rec, wall_us, buf, sizeof(buf));
        if (c->dry_run) {
            buf[len] = '\n';
            fwrite(buf, 1, len + 1, stdout);
            continue;
        }
        while (rd_kafka_produce(rkt, RD_KAFKA_PARTITION_UA, RD_KAFKA_MSG_F_COPY, buf, len, rec.service,
                                strlen(rec.service), NULL) == -1) {
            rd_kafka_resp_err_t err = rd_kafka_last_error();
            if (err != RD_KAFKA_RESP_ERR__QUEUE_FULL) {
                if (!st.failed) snprintf(st.first_error, sizeof(st.first_error), "%s", rd_kafka_err2str(err));
                st.failed++;
                break;
            }
            rd_kafka_poll(rk, 10); /* the local queue is full: let deliveries drain it */
            if (stop_requests) break;
        }
        if (stop_requests && rd_kafka_last_error() == RD_KAFKA_RESP_ERR__QUEUE_FULL) break;
        st.produced++;
        if ((i & 63) == 0) rd_kafka_poll(rk, 0);
        progress(&pg, c, &st, 0);
    }
    if (c->dry_run) {
        rc = SA_EXIT_OK;
        goto out;
    }
    int interrupted = stop_requests > 0;
    drain(rk, c, &st, &pg);
    interrupted |= stop_requests > 0;
    double secs = (double)(sa_mono_us() - t0) / 1e6;
    progress(&pg, c, &st, 1);
    print_summary(c, &st, secs, interrupted);
    rc = st.failed ? SA_EXIT_FAIL : SA_EXIT_OK;
out:
    if (rkt) rd_kafka_topic_destroy(rkt);
    if (rk) rd_kafka_destroy(rk);
    free(st.per_part);
    return rc;
}

static int loggen_main(int argc, char **argv) {
    conf_t c = {0};
    int first, rc = sa_cli_parse(&spec, &c, argc, argv, &first);
    if (rc >= 0) goto out;
    if ((rc = sa_tools_setup(CMD, &c.conn, &producer_role, 1)) >= 0) goto out;
    rc = SA_EXIT_USAGE;
    if (first < argc) {
        sa_cli_error(CMD, "unexpected argument \"%s\"", argv[first]);
        goto out;
    }
    double delay = 0, fake_time = 0;
    if (parse_seconds(c.delay, &delay)) {
        sa_cli_error(CMD, "--delay: expected seconds (e.g. 0.1), got \"%s\"", c.delay);
        goto out;
    }
    if (c.rate) {
        char *end;
        errno = 0;
        double r = strtod(c.rate, &end);
        if (!strcmp(end, "/s")) end += 2;
        if (errno || end == c.rate || *end || !isfinite(r) || r <= 0 || r > 1e8) {
            sa_cli_error(CMD, "--rate: expected records per second (e.g. 500 or 500/s), got \"%s\"", c.rate);
            goto out;
        }
        delay = 1.0 / r; /* pacing and --fake-time both follow the rate */
    }
    if (c.fake_time && parse_seconds(c.fake_time, &fake_time) &&
        (fake_time = strtod(c.fake_time, NULL)) <= 0) {
        sa_cli_error(CMD, "--fake-time: expected seconds since the epoch, got \"%s\"", c.fake_time);
        goto out;
    }
    if (!*c.topic) {
        sa_cli_error(CMD, "--topic must not be empty");
        goto out;
    }
    uint64_t seed;
    if (c.seed) {
        char *end;
        errno = 0;
        seed = strtoull(c.seed, &end, 10);
        if (errno || end == c.seed || *end) {
            sa_cli_error(CMD, "--seed: expected a non-negative integer, got \"%s\"", c.seed);
            goto out;
        }
    } else {
        seed = (uint64_t)sa_mono_us() ^ ((uint64_t)getpid() << 32) ^ (uint64_t)sa_wall_ms();
    }
    rc = run_loggen(&c, delay, seed, c.fake_time != NULL, fake_time);
out:
    sa_client_opts_free(&c.conn.client);
    sa_cfg_free(opts, &c);
    return rc;
}

const sa_command_t sa_cmd_loggen = {"loggen", "the lab-6 log producer (JSON log records keyed by service)",
                                    loggen_main, &spec};
