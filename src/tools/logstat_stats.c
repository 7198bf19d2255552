/*
 * logstat_stats.c - logstat's counters and reports; see logstat_stats.h.
 */
#include "tools/logstat_stats.h"

#include <inttypes.h>
#include <jansson.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "core/mem.h"
#include "tools/logstat_scan.h"

const char *const sa_logstat_level_names[SA_LOGSTAT_LEVELS] = {"INFO", "WARNING", "ERROR", "DEBUG", "OTHER"};

void sa_logstat_init(sa_logstat_t *st) {
    memset(st, 0, sizeof(*st));
    st->rt_hist = sa_calloc(SA_LOGSTAT_RT_MAX + 1, sizeof(*st->rt_hist));
    st->window_sec = -1;
    st->time_min_ms = INT64_MAX;
    st->time_max_ms = INT64_MIN;
}

void sa_logstat_free(sa_logstat_t *st) {
    free(st->rt_hist);
    st->rt_hist = NULL;
}

static int level_index(const char *s, size_t n) {
    for (int i = 0; i < SA_LOGSTAT_LEVELS - 1; i++)
        if (strlen(sa_logstat_level_names[i]) == n && !memcmp(sa_logstat_level_names[i], s, n)) return i;
    return SA_LOGSTAT_LEVELS - 1;
}

/* @returns how many of @p n bytes at @p s fit in @p size - 1 without cutting a UTF-8 sequence
 * (the JSON report cannot carry half a character). */
static size_t utf8_fit(const char *s, size_t n, size_t size) {
    if (n < size) return n;
    n = size - 1;
    while (n > 0 && ((unsigned char)s[n] & 0xC0) == 0x80) n--;
    return n;
}

/* Count one record of service @p s (@p n bytes, NULL: none). @returns its slot. */
static sa_logstat_service_t *count_service(sa_logstat_t *st, const char *s, size_t n) {
    if (!s) s = "(none)", n = 6;
    n = utf8_fit(s, n, sizeof(st->svc[0].name));
    for (int i = 0; i < st->nsvc; i++)
        if (!strncmp(st->svc[i].name, s, n) && st->svc[i].name[n] == '\0') {
            st->svc[i].count++;
            return &st->svc[i];
        }
    int i = st->nsvc;
    if (i == SA_LOGSTAT_MAX_SERVICES) { /* the last slot collects everything beyond the cap */
        if (strcmp(st->svc[i].name, "(other)")) snprintf(st->svc[i].name, sizeof(st->svc[i].name), "(other)");
        st->svc[i].count++;
        return &st->svc[i];
    }
    memcpy(st->svc[i].name, s, n);
    st->svc[i].name[n] = '\0';
    st->svc[i].count = 1;
    st->nsvc++;
    return &st->svc[i];
}

/* Keep an ERROR record if it is among the SA_LOGSTAT_RECENT latest by record time (partitions
 * are read in turns, so the last read is not always the latest written). */
static void remember_error(sa_logstat_t *st, const sa_logscan_t *r, const char *service, int64_t time_ms) {
    int64_t kept = st->errors_seen++;
    sa_logstat_error_t *e = &st->recent[0];
    if (kept < SA_LOGSTAT_RECENT) {
        e = &st->recent[kept];
    } else {
        for (int i = 1; i < SA_LOGSTAT_RECENT; i++)
            if (st->recent[i].time_ms < e->time_ms) e = &st->recent[i];
        if (time_ms < e->time_ms) return;
    }
    e->time_ms = time_ms;
    snprintf(e->service, sizeof(e->service), "%s", service);
    size_t n = r->message ? utf8_fit(r->message, r->message_len, sizeof(e->message)) : 0;
    memcpy(e->message, r->message ? r->message : "", n);
    e->message[n] = '\0';
}

/* Move the per-second ring forward to @p sec, clearing the seconds that passed; never back. */
static void advance_window(sa_logstat_t *st, int64_t sec) {
    if (sec <= st->window_sec) return;
    if (st->window_sec < 0 || sec - st->window_sec >= 60)
        memset(st->window, 0, sizeof(st->window));
    else
        for (int64_t s = st->window_sec + 1; s <= sec; s++) st->window[s % 60] = 0;
    st->window_sec = sec;
}

static void count_time(sa_logstat_t *st, int64_t time_ms) {
    st->timed++;
    if (time_ms < st->time_min_ms) st->time_min_ms = time_ms;
    if (time_ms > st->time_max_ms) st->time_max_ms = time_ms;
    int64_t sec = time_ms / 1000;
    advance_window(st, sec);
    if (sec > st->window_sec - 60) st->window[sec % 60]++; /* older than the ring: only in the span */
}

int sa_logstat_add(sa_logstat_t *st, const char *json, size_t len, int64_t record_ms, int64_t now_us) {
    sa_logscan_t r;
    if (sa_logscan(json, len, &r) || !r.level) {
        st->malformed++;
        return -1;
    }
    if (!st->total) st->first_us = now_us;
    st->total++;
    /* the record's own time: 1e12 s is year 33658, beyond any log and any int64 overflow */
    int64_t time_ms = r.time_s >= 0 && r.time_s < 1e12 ? (int64_t)(r.time_s * 1000.0) : record_ms;
    if (time_ms >= 0) count_time(st, time_ms);
    int lvl = level_index(r.level, r.level_len);
    st->level[lvl]++;
    sa_logstat_service_t *svc = count_service(st, r.service, r.service_len);
    if (lvl == 2) {
        svc->errors++;
        remember_error(st, &r, svc->name, time_ms);
    }
    if (r.response_ms >= 0) {
        st->rt_hist[r.response_ms > SA_LOGSTAT_RT_MAX ? SA_LOGSTAT_RT_MAX : r.response_ms]++;
        st->rt_count++;
    }
    if (r.status_code >= 0 && r.status_code < 1000) st->status[r.status_code]++;
    return lvl;
}

int64_t sa_logstat_percentile(const sa_logstat_t *st, double pct) {
    if (!st->rt_count) return -1;
    /* nearest rank: the smallest value with at least ceil(pct% of n) samples at or below it */
    int64_t rank = (int64_t)ceil(pct / 100.0 * (double)st->rt_count);
    if (rank < 1) rank = 1;
    int64_t cum = 0;
    for (int64_t v = 0; v <= SA_LOGSTAT_RT_MAX; v++) {
        cum += st->rt_hist[v];
        if (cum >= rank) return v;
    }
    return SA_LOGSTAT_RT_MAX;
}

static double span_s(const sa_logstat_t *st) {
    return st->timed ? (double)(st->time_max_ms - st->time_min_ms) / 1000.0 : 0;
}

double sa_logstat_per_minute(const sa_logstat_t *st) {
    double secs = span_s(st);
    /* n records span n-1 intervals (100 records 0.1 s apart: 9.9 s, 600 a minute); under a
     * second of log, report the count itself rather than extrapolating wildly */
    return secs < 1.0 ? (double)st->timed : (double)(st->timed - 1) * 60.0 / secs;
}

int64_t sa_logstat_last_minute(sa_logstat_t *st, int64_t now_ms) {
    advance_window(st, now_ms / 1000);
    int64_t sum = 0;
    for (int i = 0; i < 60; i++) sum += st->window[i];
    return sum;
}

static int cmp_svc(const void *a, const void *b) {
    const sa_logstat_service_t *x = a, *y = b;
    if (x->count != y->count) return x->count < y->count ? 1 : -1;
    return strcmp(x->name, y->name);
}

/* The services busiest first (ties by name), "(other)" last. @returns new array of *n entries. */
static sa_logstat_service_t *sorted_services(const sa_logstat_t *st, int *n) {
    sa_logstat_service_t *v = sa_calloc(SA_LOGSTAT_MAX_SERVICES + 1, sizeof(*v));
    memcpy(v, st->svc, (size_t)st->nsvc * sizeof(*v));
    qsort(v, (size_t)st->nsvc, sizeof(*v), cmp_svc);
    *n = st->nsvc;
    if (st->svc[SA_LOGSTAT_MAX_SERVICES].count) v[(*n)++] = st->svc[SA_LOGSTAT_MAX_SERVICES];
    return v;
}

static int cmp_error_time(const void *a, const void *b) {
    const sa_logstat_error_t *x = a, *y = b;
    return (x->time_ms > y->time_ms) - (x->time_ms < y->time_ms);
}

static double share(int64_t part, int64_t total) { return total ? 100.0 * (double)part / (double)total : 0; }

void sa_logstat_print_text(sa_logstat_t *st, const char *header, int64_t now_ms, FILE *out) {
    fprintf(out, "%s\n", header);
    fprintf(out, "records: %" PRId64 "   malformed: %" PRId64 "   errors written: %" PRId64 "\n", st->total,
            st->malformed, st->errors_written);
    fprintf(out, "messages per minute: %" PRId64 " in the last 60 s, %.0f on average over %.1f s of log\n\n",
            sa_logstat_last_minute(st, now_ms), sa_logstat_per_minute(st), span_s(st));
    fprintf(out, "%-10s %10s %7s\n", "LEVEL", "COUNT", "SHARE");
    for (int i = 0; i < SA_LOGSTAT_LEVELS; i++) {
        if (i == SA_LOGSTAT_LEVELS - 1 && !st->level[i]) continue;
        fprintf(out, "%-10s %10" PRId64 " %6.1f%%\n", sa_logstat_level_names[i], st->level[i],
                share(st->level[i], st->total));
    }
    fprintf(out, "\n%-20s %10s %7s %8s\n", "SERVICE", "COUNT", "SHARE", "ERRORS");
    int nsvc;
    sa_logstat_service_t *svc = sorted_services(st, &nsvc);
    for (int i = 0; i < nsvc; i++)
        fprintf(out, "%-20s %10" PRId64 " %6.1f%% %8" PRId64 "\n", svc[i].name, svc[i].count,
                share(svc[i].count, st->total), svc[i].errors);
    free(svc);
    if (st->rt_count)
        fprintf(out,
                "\nresponse time (ms, %" PRId64 " samples): p50 %" PRId64 "  p95 %" PRId64 "  p99 %" PRId64
                "\n",
                st->rt_count, sa_logstat_percentile(st, 50), sa_logstat_percentile(st, 95),
                sa_logstat_percentile(st, 99));
    int any = 0;
    for (int code = 0; code < 1000; code++) {
        if (!st->status[code]) continue;
        fprintf(out, "%s%d: %" PRId64, any ? "  " : "\nstatus codes: ", code, st->status[code]);
        any = 1;
    }
    if (any) fputc('\n', out);
    if (st->errors_seen) {
        int n = st->errors_seen < SA_LOGSTAT_RECENT ? (int)st->errors_seen : SA_LOGSTAT_RECENT;
        sa_logstat_error_t latest[SA_LOGSTAT_RECENT];
        memcpy(latest, st->recent, (size_t)n * sizeof(latest[0]));
        qsort(latest, (size_t)n, sizeof(latest[0]), cmp_error_time);
        fprintf(out, "\nlatest errors (%d of %" PRId64 "):\n", n, st->errors_seen);
        for (int i = 0; i < n; i++) {
            const sa_logstat_error_t *e = &latest[i];
            char when[16] = "--:--:--";
            time_t t = (time_t)(e->time_ms / 1000);
            struct tm tm;
            if (e->time_ms >= 0 && localtime_r(&t, &tm)) strftime(when, sizeof(when), "%H:%M:%S", &tm);
            fprintf(out, "  %s %-16s %s\n", when, e->service, e->message);
        }
    }
}

void sa_logstat_print_json(const sa_logstat_t *st, const char *topic, const char *group,
                           const char *errors_file, double elapsed_s, int64_t now_us, FILE *out) {
    json_t *o = json_object();
    json_object_set_new(o, "topic", json_string(topic));
    json_object_set_new(o, "group", json_string(group));
    json_object_set_new(o, "total", json_integer(st->total));
    json_object_set_new(o, "malformed", json_integer(st->malformed));
    json_object_set_new(o, "errors_written", json_integer(st->errors_written));
    json_object_set_new(o, "errors_file", errors_file ? json_string(errors_file) : json_null());
    json_object_set_new(o, "elapsed_s", json_real(elapsed_s));
    json_object_set_new(o, "messages_per_minute", json_real(sa_logstat_per_minute(st)));
    json_object_set_new(o, "log_span_s", json_real(span_s(st)));
    /* from the first record on: the read rate, without the time spent joining the group */
    double span = st->total ? (double)(now_us - st->first_us) / 1e6 : 0;
    json_object_set_new(o, "records_per_s", json_real(span > 0 ? (double)st->total / span : 0));
    json_t *levels = json_object(), *shares = json_object();
    for (int i = 0; i < SA_LOGSTAT_LEVELS; i++) {
        if (i == SA_LOGSTAT_LEVELS - 1 && !st->level[i]) continue;
        json_object_set_new(levels, sa_logstat_level_names[i], json_integer(st->level[i]));
        json_object_set_new(shares, sa_logstat_level_names[i],
                            json_real(st->total ? (double)st->level[i] / (double)st->total : 0));
    }
    json_object_set_new(o, "levels", levels);
    json_object_set_new(o, "level_shares", shares);
    json_t *svc = json_object(), *svc_shares = json_object(), *svc_errors = json_object();
    int nsvc;
    sa_logstat_service_t *sorted = sorted_services(st, &nsvc);
    for (int i = 0; i < nsvc; i++) {
        json_object_set_new(svc, sorted[i].name, json_integer(sorted[i].count));
        json_object_set_new(svc_shares, sorted[i].name,
                            json_real(st->total ? (double)sorted[i].count / (double)st->total : 0));
        json_object_set_new(svc_errors, sorted[i].name, json_integer(sorted[i].errors));
    }
    free(sorted);
    json_object_set_new(o, "services", svc);
    json_object_set_new(o, "service_shares", svc_shares);
    json_object_set_new(o, "service_errors", svc_errors);
    json_t *rt = json_object();
    json_object_set_new(rt, "count", json_integer(st->rt_count));
    const double pcts[3] = {50, 95, 99};
    const char *names[3] = {"p50", "p95", "p99"};
    for (int i = 0; i < 3; i++) {
        int64_t v = sa_logstat_percentile(st, pcts[i]);
        json_object_set_new(rt, names[i], v < 0 ? json_null() : json_integer(v));
    }
    json_object_set_new(o, "response_time_ms", rt);
    json_t *codes = json_object();
    for (int code = 0; code < 1000; code++) {
        if (!st->status[code]) continue;
        char k[8];
        snprintf(k, sizeof(k), "%d", code);
        json_object_set_new(codes, k, json_integer(st->status[code]));
    }
    json_object_set_new(o, "status_codes", codes);
    json_dumpf(o, out, JSON_INDENT(2) | JSON_PRESERVE_ORDER | JSON_REAL_PRECISION(6));
    fputc('\n', out);
    json_decref(o);
}
