/*
 * cleaner_sched.c - when and where the log cleaner runs: choosing the partition, handing its job
 * to the cleaner thread, and adopting the result on the loop thread.
 *
 * DESIGN. One cleaner thread per store (Kafka's log.cleaner.threads=1), started at the first job.
 * The loop thread (sa_store_clean_tick) and the cleaner thread share only `struct sa_cleaner_s`
 * under its mutex: the loop hands over a job (state IDLE -> RUNNING), the thread runs it with no
 * lock held and sets DONE, the loop's next tick takes it back (DONE -> IDLE) and adopts it. The
 * loop never waits for the disk: it polls. It waits for the thread only when a topic being cleaned
 * is deleted and when the store closes, and then only until the thread's next batch boundary
 * (the cancel flag is checked per batch and during throttling sleeps).
 *
 * A job names the partition's cleanable segments (sealed, wholly below the HWM's segment and the
 * last stable offset, newest record older than min.compaction.lag.ms) by dup'd fds, and carries a
 * copy of the partition's aborted transactions (cleaner.c keeps their batches as they are).
 * Adopting the result moves the old segments' aborted-transaction entries to the new segment
 * (the cleaner wrote the same into its .txnindex). While it runs, part->cleaning keeps
 * retention and DeleteRecords from deleting sealed segments by name (the cleaner renames files
 * under those names); DeleteRecords' deletions are made at adoption. Appends, rolls, reads and
 * the group commit go on as usual: they touch the active segment, or read through their own fds.
 *
 * Which partition: the one whose cleanable part has the highest dirty ratio (bytes of segments
 * not wholly below the checkpoint / all cleanable bytes) of those at or above their
 * min.cleanable.dirty.ratio; before it, any partition with an uncleaned record older than
 * max.compaction.lag.ms, or a tombstone whose delete horizon has passed.
 *
 * INVARIANTS
 *  1. At most one job exists; cleaner->job is touched by the thread only in state RUNNING.
 *  2. part->cleaning is 1 exactly while a job of that partition exists (or for good after a swap
 *     that failed half way: the files are then finished by the next open).
 */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/check.h"
#include "core/log.h"
#include "core/mem.h"
#include "core/sysio.h"
#include "storage/storage_int.h"

enum { IDLE, RUNNING, DONE };

#define RETRY_MS (10 * 60 * 1000) /* after a failed cleaning (a bad sealed segment, a full disk) */

struct sa_cleaner_s {
    pthread_t thread;
    int started;
    pthread_mutex_t mu;
    pthread_cond_t cv;
    sa_clean_job_t *job; /* invariant 1 */
    int state;           /* IDLE, RUNNING, DONE */
    int stop;            /* the thread exits */
    atomic_int cancel;   /* the job stops at its next batch */
    sa_clean_stats_t total;
};

static void *cleaner_main(void *arg) {
    struct sa_cleaner_s *c = arg;
    pthread_mutex_lock(&c->mu);
    for (;;) {
        while (c->state != RUNNING && !c->stop) pthread_cond_wait(&c->cv, &c->mu);
        if (c->state != RUNNING) break;
        sa_clean_job_t *job = c->job;
        pthread_mutex_unlock(&c->mu);
        sa_clean_run(job);
        pthread_mutex_lock(&c->mu);
        c->state = DONE;
        pthread_cond_broadcast(&c->cv);
    }
    pthread_mutex_unlock(&c->mu);
    return NULL;
}

static struct sa_cleaner_s *cleaner_of(sa_store_t *store) {
    if (!store->cleaner) {
        struct sa_cleaner_s *c = sa_new(struct sa_cleaner_s);
        pthread_mutex_init(&c->mu, NULL);
        pthread_cond_init(&c->cv, NULL);
        atomic_init(&c->cancel, 0);
        store->cleaner = c;
    }
    return store->cleaner;
}

/* ---- choosing ---- */

/* How many leading segments of @p part a job may clean now (see the file comment). */
static size_t cleanable_count(const sa_partition_t *part, int64_t now_ms) {
    const sa_topic_limits_t *lim = &part->topic->lim;
    int64_t lso = sa_partition_lso(part); /* an undecided transaction is never cleaned */
    size_t n = 0;
    while (n + 1 < part->nsegs) {
        const sa_segment_t *seg = part->segs[n];
        if (seg->base >= part->hwm_seg_base || seg->next_offset > part->hwm || seg->next_offset > lso) break;
        if (lim->min_compaction_lag_ms > 0 && seg->max_ts > now_ms - lim->min_compaction_lag_ms) break;
        n++;
    }
    return n;
}

/* @returns how much @p part needs a cleaning: -1 not at all, 2 overdue (max.compaction.lag.ms or
 * a passed delete horizon), else its dirty ratio if at least min.cleanable.dirty.ratio. */
static double need(sa_partition_t *part, int64_t now_ms) {
    const sa_topic_limits_t *lim = &part->topic->lim;
    if (!lim->compact || part->cleaning || now_ms < part->clean_after_ms) return -1;
    if (part->clean_to < 0) part->clean_to = sa_cleaner_read_checkpoint(part->dir);
    size_t n = cleanable_count(part, now_ms);
    int64_t dirty = 0, total = 0, first_dirty_ts = -1;
    for (size_t i = 0; i < n; i++) {
        const sa_segment_t *seg = part->segs[i];
        total += seg->size;
        if (seg->next_offset > part->clean_to && seg->size > 0) {
            dirty += seg->size;
            if (first_dirty_ts < 0 && seg->ntidx) first_dirty_ts = seg->tidx[0].ts;
        }
    }
    if (total == 0) return -1;
    if (now_ms >= part->clean_horizon) return 2;
    if (dirty == 0) return -1;
    if (first_dirty_ts >= 0 && lim->max_compaction_lag_ms < INT64_MAX &&
        now_ms - first_dirty_ts > lim->max_compaction_lag_ms)
        return 2;
    double ratio = (double)dirty / (double)total;
    return ratio >= lim->min_cleanable_ratio ? ratio : -1;
}

static int by_pid_first(const void *a, const void *b) {
    const sa_txn_aborted_t *x = a, *y = b;
    if (x->pid != y->pid) return x->pid < y->pid ? -1 : 1;
    return (x->first > y->first) - (x->first < y->first);
}

/* Every aborted transaction of @p part (any segment: its marker may lie past the job), sorted. */
static void copy_aborted(const sa_partition_t *part, sa_clean_job_t *job) {
    size_t n = 0;
    for (size_t i = 0; i < part->nsegs; i++) n += part->segs[i]->naborted;
    if (!n) return;
    job->aborted = sa_calloc(n, sizeof(*job->aborted));
    for (size_t i = 0; i < part->nsegs; i++) {
        const sa_segment_t *seg = part->segs[i];
        if (seg->naborted)
            memcpy(job->aborted + job->naborted, seg->aborted, seg->naborted * sizeof(*seg->aborted));
        job->naborted += seg->naborted;
    }
    qsort(job->aborted, job->naborted, sizeof(*job->aborted), by_pid_first);
}

/* @returns new: a job over the cleanable segments of @p part (NULL if none, or out of fds). */
static sa_clean_job_t *make_job(sa_partition_t *part, int64_t now_ms) {
    const sa_topic_limits_t *lim = &part->topic->lim;
    const sa_store_conf_t *conf = sa_store_conf(part->store);
    if (part->clean_to < 0) part->clean_to = sa_cleaner_read_checkpoint(part->dir);
    size_t n = cleanable_count(part, now_ms);
    if (n == 0) return NULL;
    sa_clean_job_t *job = sa_new(sa_clean_job_t);
    job->part = part;
    job->dir = sa_strdup(part->dir);
    job->segs = sa_calloc(n, sizeof(*job->segs));
    for (size_t i = 0; i < n; i++) {
        const sa_segment_t *seg = part->segs[i];
        job->segs[i] = (sa_clean_seg_t){seg->base, seg->size, seg->next_offset, -1};
        job->nsegs = i + 1;
        /* A dup: retention or a topic deletion may close the segment before the job ends. */
        if ((job->segs[i].fd = fcntl(seg->fd, F_DUPFD_CLOEXEC, 0)) < 0) {
            sa_log_warn("cleaner", "%s: dup: %s; cleaning later", part->dir, strerror(errno));
            sa_clean_job_free(job);
            return NULL;
        }
    }
    job->end = part->segs[n]->base;
    job->log_start = part->log_start;
    job->first_dirty = part->clean_to;
    job->now_ms = now_ms;
    job->delete_retention_ms = lim->delete_retention_ms;
    job->segment_bytes = lim->segment_bytes;
    job->index_interval = lim->index_interval_bytes > 0 ? lim->index_interval_bytes : 4096;
    job->dedupe_buffer_size = conf->cleaner_dedupe_buffer_size;
    job->io_max_bytes_per_second = conf->cleaner_io_max_bytes_per_second;
    job->next_horizon = INT64_MAX;
    copy_aborted(part, job);
    part->cleaning = 1;
    return job;
}

/* ---- adopting ---- */

/* Put the job's new segments in place of the old ones in memory (the files were swapped). */
static void adopt(sa_store_t *store, sa_clean_job_t *job) {
    sa_partition_t *part = job->part;
    for (size_t k = 0; k < job->nout; k++) {
        sa_clean_out_t *o = &job->out[k];
        size_t i = 0;
        while (i < part->nsegs && part->segs[i]->base < o->base) i++;
        size_t j = i;
        while (j < part->nsegs && part->segs[j]->base < o->end) j++;
        assert(j > i && part->segs[i]->base == o->base && j < part->nsegs);
        o->seg->txn_in = part->segs[i]->txn_in;
        for (size_t x = i; x < j; x++) { /* their aborted transactions' markers are in the new one */
            sa_segment_t *old = part->segs[x];
            if (old->naborted) {
                sa_segment_t *ns = o->seg;
                ns->aborted = sa_realloc(ns->aborted, (ns->naborted + old->naborted) * sizeof(*ns->aborted));
                memcpy(ns->aborted + ns->naborted, old->aborted, old->naborted * sizeof(*old->aborted));
                ns->naborted += old->naborted;
                ns->aborted_cap = ns->naborted;
            }
            sa_segment_free(old); /* closes; the files are gone */
        }
        o->seg->durable_max_ts = o->seg->max_ts;
        o->seg->first_append_ms = o->seg->max_ts;
        part->segs[i] = o->seg;
        memmove(part->segs + i + 1, part->segs + j, (part->nsegs - j) * sizeof(*part->segs));
        part->nsegs -= j - i - 1;
        o->seg = NULL;
    }
    if (job->err == SA_OK) {
        part->clean_to = job->clean_to;
        part->clean_horizon = job->next_horizon;
    } else if (job->err != SA_ERR_CLOSED) {
        part->clean_after_ms = job->now_ms + RETRY_MS; /* as Kafka's "uncleanable", but not for good */
        sa_log_warn("cleaner", "%s: the next try is in %d minutes", part->dir, RETRY_MS / 60000);
    }
    part->cleaning = job->committed; /* a half-done swap: leave sealed segments alone until restart */
    job->stats.cleanings = 1;
    sa_clean_stats_t *t = &cleaner_of(store)->total;
    t->cleanings++;
    t->bytes_read += job->stats.bytes_read;
    t->bytes_written += job->stats.bytes_written;
    t->records_read += job->stats.records_read;
    t->records_kept += job->stats.records_kept;
    t->batches_rewritten += job->stats.batches_rewritten;
    t->segments_in += job->stats.segments_in;
    t->segments_out += job->stats.segments_out;
    t->duration_us += job->stats.duration_us;
    t->throttled_us += job->stats.throttled_us;
    if (job->err == SA_OK)
        sa_log_info("cleaner",
                    "%s: cleaned up to offset %" PRId64 ": %" PRId64 " of %" PRId64 " records kept, %" PRId64
                    " segments into %" PRId64 ", %.1f MB read, %.1f MB written in %.0f ms",
                    part->dir, job->clean_to, job->stats.records_kept, job->stats.records_read,
                    job->stats.segments_in, job->stats.segments_out, (double)job->stats.bytes_read / 1e6,
                    (double)job->stats.bytes_written / 1e6, (double)job->stats.duration_us / 1000.0);
    if (!part->cleaning) sa_partition_drop_below_log_start(part);
    sa_clean_job_free(job);
}

/* Take the finished job back from the thread, if there is one. @returns 1 if one still runs. */
static int take_done(struct sa_cleaner_s *c, sa_clean_job_t **done) {
    *done = NULL;
    pthread_mutex_lock(&c->mu);
    if (c->state == DONE) {
        *done = c->job;
        c->job = NULL;
        c->state = IDLE;
    }
    int running = c->state == RUNNING;
    pthread_mutex_unlock(&c->mu);
    return running;
}

int sa_store_clean_tick(sa_store_t *store, int64_t now_ms) {
    if (!store->conf.cleaner_enable) return 0;
    struct sa_cleaner_s *c = cleaner_of(store);
    sa_clean_job_t *done;
    int running = take_done(c, &done);
    if (done) adopt(store, done);
    if (running) return 1;
    sa_partition_t *best = NULL;
    double best_need = -1;
    for (size_t t = 0; t < store->ntopics; t++) {
        sa_topic_t *topic = store->topics[t];
        if (!topic->lim.compact) continue;
        for (int32_t p = 0; p < topic->npart; p++) {
            double nd = need(topic->parts[p], now_ms);
            if (nd > best_need) {
                best_need = nd;
                best = topic->parts[p];
            }
        }
    }
    if (!best) return 0;
    sa_clean_job_t *job = make_job(best, now_ms);
    if (!job) return 0;
    job->cancel = &c->cancel;
    if (!c->started) {
        if (pthread_create(&c->thread, NULL, cleaner_main, c)) {
            sa_log_warn("cleaner", "cannot start the cleaner thread: %s; compaction waits", strerror(errno));
            best->cleaning = 0;
            sa_clean_job_free(job);
            return 0;
        }
        c->started = 1;
    }
    pthread_mutex_lock(&c->mu);
    c->job = job;
    c->state = RUNNING;
    pthread_cond_broadcast(&c->cv);
    pthread_mutex_unlock(&c->mu);
    return 1;
}

sa_err_t sa_partition_clean(sa_partition_t *part, int64_t now_ms, sa_clean_stats_t *stats) {
    if (!part->topic->lim.compact) return SA_ERR_NOT_FOUND;
    if (part->cleaning) return SA_ERR_AGAIN;
    sa_clean_job_t *job = make_job(part, now_ms);
    if (!job) return SA_ERR_NOT_FOUND;
    sa_err_t err = sa_clean_run(job);
    if (stats) {
        *stats = job->stats;
        stats->cleanings = 1;
    }
    adopt(part->store, job);
    return err;
}

void sa_store_clean_stats(const sa_store_t *store, sa_clean_stats_t *stats) {
    if (store->cleaner)
        *stats = store->cleaner->total;
    else
        memset(stats, 0, sizeof(*stats));
}

/* Cancel the running job, wait for the thread to drop it, and free it unadopted. */
static void cancel_job(struct sa_cleaner_s *c) {
    pthread_mutex_lock(&c->mu);
    if (c->state == RUNNING) {
        atomic_store(&c->cancel, 1);
        while (c->state == RUNNING) pthread_cond_wait(&c->cv, &c->mu);
    }
    sa_clean_job_t *job = c->job;
    c->job = NULL;
    c->state = IDLE;
    atomic_store(&c->cancel, 0);
    pthread_mutex_unlock(&c->mu);
    if (job) {
        /* Its partition may be going: nothing is adopted; what was swapped on disk is whole. */
        job->part->cleaning = job->committed;
        sa_clean_job_free(job);
    }
}

void sa_cleaner_forget_topic(sa_store_t *store, sa_topic_t *topic) {
    struct sa_cleaner_s *c = store->cleaner;
    if (!c) return;
    pthread_mutex_lock(&c->mu);
    int mine = c->job && c->job->part->topic == topic;
    pthread_mutex_unlock(&c->mu);
    if (mine) cancel_job(c);
}

void sa_cleaner_shutdown(sa_store_t *store) {
    struct sa_cleaner_s *c = store->cleaner;
    if (!c) return;
    cancel_job(c);
    if (c->started) {
        pthread_mutex_lock(&c->mu);
        c->stop = 1;
        pthread_cond_broadcast(&c->cv);
        pthread_mutex_unlock(&c->mu);
        pthread_join(c->thread, NULL);
    }
    pthread_mutex_destroy(&c->mu);
    pthread_cond_destroy(&c->cv);
    free(c);
    store->cleaner = NULL;
}
