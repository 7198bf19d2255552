/*
 * store.c - the data directory: lock, clean-shutdown marker, topics, group commit, retention.
 *
 * Open removes the clean-shutdown marker before anything else, so a crash at any later point
 * makes the next open run full recovery; close writes it only after every partition was synced
 * and its indexes written.
 */
#include <assert.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <unistd.h>

#include "core/log.h"
#include "core/mem.h"
#include "core/sysio.h"
#include "core/time.h"
#include "storage/safe_file.h"
#include "storage/metalog.h"
#include "storage/storage_int.h"

#define SET_ERR(...)                                                                                         \
    do {                                                                                                     \
        if (errstr) snprintf(errstr, errstr_size, __VA_ARGS__);                                              \
    } while (0)

void sa_store_conf_defaults(sa_store_conf_t *conf) {
    conf->retention_ms = 604800000;
    conf->retention_bytes = -1;
    conf->segment_bytes = 1073741824;
    conf->segment_ms = 604800000;
    conf->max_message_bytes = 1048588;
    conf->num_partitions = 1;
    conf->index_interval_bytes = 4096;
    snprintf(conf->cleanup_policy, sizeof(conf->cleanup_policy), "delete");
    conf->cleaner_enable = 1;
    conf->cleaner_io_max_bytes_per_second = 0;
    conf->cleaner_dedupe_buffer_size = 128 << 20;
    conf->min_cleanable_ratio = 0.5;
    conf->min_compaction_lag_ms = 0;
    conf->max_compaction_lag_ms = INT64_MAX;
    conf->delete_retention_ms = 86400000;
    conf->producer_id_expiration_ms = 86400000;
}

const char *sa_store_dir(const sa_store_t *store) { return store->dir; }
const sa_store_conf_t *sa_store_conf(const sa_store_t *store) { return &store->conf; }

static void finish_flight(sa_store_t *store, sa_store_sync_fail_cb *on_fail, void *opaque, sa_err_t *errp);

static void free_store(sa_store_t *store) {
    sa_cleaner_shutdown(store);                              /* its job borrows partitions */
    if (store->busy) finish_flight(store, NULL, NULL, NULL); /* the helpers use its arrays */
    for (size_t i = 0; i < store->nlogs; i++) sa_metalog_free_(store->logs[i]);
    free(store->logs);
    for (size_t i = 0; i < store->ntopics; i++) sa_topic_free(store->topics[i]);
    free(store->topics);
    sa_sync_pool_free(store->pool);
    free(store->dirty);
    free(store->jobs);
    free(store->flight);
    free(store->flight_logs);
    sa_broker_configs_free(store);
    if (store->lock_fd >= 0) sa_sysio.close(store->lock_fd); /* also drops the flock */
    free(store->dir);
    free(store);
}

sa_err_t sa_store_open(const char *dir, const sa_store_conf_t *conf, sa_store_t **storep, char *errstr,
                       size_t errstr_size) {
    sa_store_t *store = sa_new(sa_store_t);
    store->dir = sa_strdup(dir);
    store->lock_fd = -1;
    if (conf)
        store->conf = *conf;
    else
        sa_store_conf_defaults(&store->conf);
    char path[4096];
    sa_err_t err = SA_ERR_KAFKA_STORAGE_ERROR;
    *storep = NULL;
    if (sa_sysio.mkdir(dir, 0755) && errno != EEXIST) {
        SET_ERR("cannot create data directory %s: %s", dir, strerror(errno));
        goto fail;
    }
    snprintf(path, sizeof(path), "%s/.lock", dir);
    store->lock_fd = sa_sysio.open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0644);
    if (store->lock_fd < 0) {
        SET_ERR("cannot open %s: %s", path, strerror(errno));
        goto fail;
    }
    if (sa_sysio.flock(store->lock_fd, LOCK_EX | LOCK_NB)) {
        if (errno == EWOULDBLOCK) {
            SET_ERR("data directory %s is in use by another samsa broker (lock %s)", dir, path);
            err = SA_ERR_EXISTS;
        } else {
            SET_ERR("cannot lock %s: %s", path, strerror(errno));
        }
        goto fail;
    }
    snprintf(path, sizeof(path), "%s/topics", dir);
    int fresh = sa_sysio.mkdir(path, 0755) == 0;
    if (!fresh && errno != EEXIST) {
        SET_ERR("cannot create %s: %s", path, strerror(errno));
        goto fail;
    }
    snprintf(path, sizeof(path), "%s/.clean-shutdown", dir);
    store->clean_open = access(path, F_OK) == 0;
    if (store->clean_open && (sa_sysio.unlink(path) || sa_sysio_fsync_dir(dir))) {
        SET_ERR("cannot remove %s: %s", path, strerror(errno));
        goto fail;
    }
    int row = sa_topic_config_index("cleanup.policy");
    if (store->conf.cleanup_policy[0] &&
        (err = sa_topic_config_check_as(row, "log.cleanup.policy", store->conf.cleanup_policy, errstr,
                                        errstr_size)))
        goto fail;
    int64_t t0 = sa_mono_ms();
    if ((err = sa_broker_configs_load(store, errstr, errstr_size)) != SA_OK)
        goto fail; /* before topics resolve */
    err = sa_topic_load_all(store, errstr, errstr_size);
    if (err) goto fail;
    sa_log_info("storage", "opened %s: %zu topics, %s, %lld ms", dir, store->ntopics,
                fresh               ? "new directory"
                : store->clean_open ? "clean shutdown"
                                    : "unclean shutdown, recovered",
                (long long)(sa_mono_ms() - t0));
    *storep = store;
    return SA_OK;
fail:
    free_store(store);
    return err;
}

sa_err_t sa_store_close(sa_store_t *store) {
    if (!store) return SA_OK;
    sa_cleaner_shutdown(store); /* a cleaning in progress stops at its next batch; its files stay whole */
    sa_err_t err = sa_store_sync(store, NULL, NULL);
    for (size_t t = 0; t < store->ntopics; t++)
        for (int32_t p = 0; p < store->topics[t]->npart; p++)
            if (sa_partition_seal(store->topics[t]->parts[p])) err = SA_ERR_KAFKA_STORAGE_ERROR;
    if (!err) {
        char path[4096];
        snprintf(path, sizeof(path), "%s/.clean-shutdown", store->dir);
        err = sa_safe_file_write(path, "", 0, NULL, 0);
    }
    if (err)
        sa_log_warn("storage", "closing %s: a final sync failed; the next start will recover", store->dir);
    free_store(store);
    return err;
}

void sa_store_mark_dirty(sa_store_t *store, sa_partition_t *part) {
    if (part->dirty) return;
    if (store->ndirty == store->dirty_cap) {
        store->dirty_cap = store->dirty_cap ? store->dirty_cap * 2 : 16;
        store->dirty = sa_realloc(store->dirty, store->dirty_cap * sizeof(*store->dirty));
    }
    store->dirty[store->ndirty++] = part;
    part->dirty = 1;
}

void sa_store_forget_partition(sa_store_t *store, sa_partition_t *part) {
    for (size_t i = 0; i < store->ndirty; i++)
        if (store->dirty[i] == part) {
            store->dirty[i] = store->dirty[--store->ndirty];
            break;
        }
    part->dirty = 0;
    for (size_t i = 0; i < store->nflight; i++)
        if (store->flight[i].part == part) store->flight[i].part = NULL;
}

void sa_store_add_metalog(sa_store_t *store, sa_metalog_t *log) {
    if (store->nlogs == store->logs_cap) {
        store->logs_cap = store->logs_cap ? store->logs_cap * 2 : 4;
        store->logs = sa_realloc(store->logs, store->logs_cap * sizeof(*store->logs));
    }
    store->logs[store->nlogs++] = log;
}

void sa_store_remove_metalog(sa_store_t *store, sa_metalog_t *log) {
    for (size_t i = 0; i < store->nlogs; i++)
        if (store->logs[i] == log) {
            memmove(store->logs + i, store->logs + i + 1, (store->nlogs - i - 1) * sizeof(*store->logs));
            store->nlogs--;
            break;
        }
    for (size_t i = 0; i < store->nflight_logs; i++)
        if (store->flight_logs[i].log == log) store->flight_logs[i].log = NULL;
}

int sa_store_dirty(const sa_store_t *store) {
    if (store->ndirty > 0) return 1;
    for (size_t i = 0; i < store->nlogs; i++)
        if (sa_metalog_dirty_(store->logs[i])) return 1;
    return 0;
}

/* Room for @p n jobs (never while a commit is in flight: the helpers use the array). */
static void reserve_jobs(sa_store_t *store, size_t n) {
    assert(!store->busy);
    if (store->jobs_cap >= n) return;
    store->jobs_cap = SA_MAX(n, store->jobs_cap * 2);
    store->jobs = sa_realloc(store->jobs, store->jobs_cap * sizeof(*store->jobs));
}

/* Snapshot every metadata log needing a sync into store->flight_logs, their jobs after the
 * partitions' in store->jobs. */
static void snap_logs(sa_store_t *store) {
    store->flight_logs =
        sa_realloc(store->flight_logs, SA_MAX(store->nlogs, 1) * sizeof(*store->flight_logs));
    store->nflight_logs = store->nlogs;
    for (size_t i = 0; i < store->nlogs; i++) {
        sa_metalog_snap_t *snap = &store->flight_logs[i];
        *snap = (sa_metalog_snap_t){.fd = -1};
        if (sa_metalog_sync_snap(store->logs[i], snap, &store->jobs[store->njobs])) store->njobs++;
    }
}

/* The jobs have run: apply the metadata logs' outcomes (their jobs start at index @p k). */
static void apply_logs(sa_store_t *store, size_t k, sa_err_t *errp) {
    for (size_t i = 0; i < store->nflight_logs; i++) {
        sa_metalog_snap_t *snap = &store->flight_logs[i];
        int e = snap->err, step = snap->step;
        if (snap->fd >= 0) {
            e = store->jobs[k].err;
            step = store->jobs[k].step;
            k++;
            sa_sysio.close(snap->fd);
        }
        if (snap->log && sa_metalog_sync_apply(snap, e, step) && errp) *errp = SA_ERR_KAFKA_STORAGE_ERROR;
    }
    store->nflight_logs = 0;
}

/* Wait for the background commit (usually done already) and apply it; see sa_store_sync_finish. */
static void finish_flight(sa_store_t *store, sa_store_sync_fail_cb *on_fail, void *opaque, sa_err_t *errp) {
    sa_sync_pool_wait(store->pool);
    size_t k = 0;
    for (size_t i = 0; i < store->nflight; i++) {
        sa_sync_snap_t *snap = &store->flight[i];
        int e = snap->err;
        if (snap->fd >= 0) {
            e = store->jobs[k++].err;
            sa_sysio.close(snap->fd);
        }
        if (snap->part && sa_partition_sync_apply(snap->part, snap, e)) {
            if (errp) *errp = SA_ERR_KAFKA_STORAGE_ERROR;
            if (on_fail) on_fail(opaque, snap->part, SA_ERR_KAFKA_STORAGE_ERROR);
        }
    }
    store->busy = 0; /* the logs' outcome may call their owner, which may append */
    apply_logs(store, k, errp);
    store->nflight = store->njobs = 0;
}

int sa_store_sync_start(sa_store_t *store, int notify_fd) {
    if (store->busy || !sa_store_dirty(store)) return 0;
    if (store->flight_cap < store->ndirty) {
        store->flight_cap = store->dirty_cap;
        store->flight = sa_realloc(store->flight, store->flight_cap * sizeof(*store->flight));
    }
    reserve_jobs(store, store->ndirty + store->nlogs);
    store->njobs = 0;
    for (size_t i = 0; i < store->ndirty; i++) {
        sa_sync_snap_t *snap = &store->flight[i];
        sa_partition_sync_snap(store->dirty[i], snap);
        store->dirty[i]->dirty = 0;
        if (snap->fd >= 0) store->jobs[store->njobs++] = (sa_sync_job_t){.fd = snap->fd};
    }
    store->nflight = store->ndirty;
    store->ndirty = 0;
    snap_logs(store);
    store->busy = 1;
    /* Even for one file: the point is that the caller's thread goes on serving. */
    if (store->njobs >= 1 && !store->pool) store->pool = sa_sync_pool_new();
    sa_sync_pool_start(store->pool, store->jobs, store->njobs, notify_fd);
    return 1;
}

int sa_store_sync_busy(const sa_store_t *store) { return store->busy; }

sa_err_t sa_store_sync_finish(sa_store_t *store, sa_store_sync_fail_cb *on_fail, void *opaque) {
    sa_err_t err = SA_OK;
    if (store->busy) finish_flight(store, on_fail, opaque, &err);
    return err;
}

sa_err_t sa_store_sync(sa_store_t *store, sa_store_sync_fail_cb *on_fail, void *opaque) {
    sa_err_t err = sa_store_sync_finish(store, on_fail, opaque);
    reserve_jobs(store, store->ndirty + store->nlogs);
    store->njobs = 0;
    /* Partitions whose only change since the last sync was a roll (already fdatasync'd) have
     * no fd here but still get their HWM moved below. */
    for (size_t i = 0; i < store->ndirty; i++) {
        int fd = sa_partition_unsynced_fd(store->dirty[i]);
        if (fd >= 0) store->jobs[store->njobs++] = (sa_sync_job_t){.fd = fd};
    }
    size_t nparts = store->njobs;
    snap_logs(store);
    if (store->njobs >= 2 && !store->pool) store->pool = sa_sync_pool_new();
    sa_sync_pool_run(store->pool, store->jobs, store->njobs);
    size_t k = 0;
    for (size_t i = 0; i < store->ndirty; i++) {
        sa_partition_t *part = store->dirty[i];
        part->dirty = 0;
        int e = sa_partition_unsynced_fd(part) >= 0 ? store->jobs[k++].err : 0;
        if (sa_partition_synced(part, e)) {
            err = SA_ERR_KAFKA_STORAGE_ERROR;
            if (on_fail) on_fail(opaque, part, SA_ERR_KAFKA_STORAGE_ERROR);
        }
    }
    store->ndirty = 0;
    assert(k == nparts);
    apply_logs(store, nparts, &err);
    store->njobs = 0;
    return err;
}

sa_err_t sa_store_enforce_retention(sa_store_t *store, int64_t now_ms) {
    sa_err_t err = SA_OK;
    for (size_t t = 0; t < store->ntopics; t++)
        for (int32_t p = 0; p < store->topics[t]->npart; p++)
            if (sa_partition_retention(store->topics[t]->parts[p], now_ms)) {
                sa_log_error("storage", "retention of %s-%d failed", store->topics[t]->name, (int)p);
                err = SA_ERR_KAFKA_STORAGE_ERROR;
            }
    return err;
}
