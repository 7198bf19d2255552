/*
 * sync_pool.c - fdatasync several files at once for the group commit.
 *
 * Why: on a journaling file system, concurrent fdatasyncs of different files share journal
 * commits. Measured on the development VM: three partitions' fdatasyncs take 2.5-3.2 ms one
 * after the other and 0.6-0.7 ms together. So when a loop turn dirtied several partitions, the
 * store hands their files to a few helper threads and the calling thread works along.
 *
 * Design: a fixed set of threads (started on first use) sleeps on a condition variable; a run
 * publishes the job array and wakes them, every thread (the caller too) takes jobs under the
 * mutex until none are left, and the caller waits until all are done. Only fdatasync runs on the
 * helpers; every storage data structure stays on the caller's thread. A process forked from the
 * one that started the threads has none, so it syncs alone.
 *
 * Background mode (sa_sync_pool_start/_wait, the broker's group commit): the caller does not
 * work along or wait; the helper finishing the last job writes an eventfd, which wakes the
 * broker's event loop, and the loop then collects the results with sa_sync_pool_wait.
 *
 * A job is one fdatasync, optionally followed by a rename and a directory fsync: that is how a
 * compacted metadata log replaces the old one (metalog.c) without the loop thread ever waiting
 * for the disk. The steps run in order and stop at the first failure (job->step says which).
 */
#include <errno.h>
#include <pthread.h>
#include <stdint.h>
#include <stdlib.h>
#include <unistd.h>

#include "core/mem.h"
#include "core/sysio.h"
#include "storage/storage_int.h"

#define POOL_THREADS 3 /* helpers; with the caller, four fdatasyncs in flight */

struct sa_sync_pool_s {
    pthread_mutex_t lock;
    pthread_cond_t work; /* signalled when a run starts or the pool stops */
    pthread_cond_t done; /* signalled when the last job of a run finishes */
    pthread_t threads[POOL_THREADS];
    int nthreads;
    pid_t owner; /* the process the threads belong to */
    int stop;
    uint64_t run_id;     /* incremented per run, so a helper sees new work */
    sa_sync_job_t *jobs; /* the current run's jobs (borrowed for the run) */
    size_t n, next, finished;
    int notify_fd; /* eventfd written when a background run finishes, -1 for none */
};

static void notify(int fd) {
    uint64_t one = 1;
    if (fd >= 0) {
        ssize_t w = write(fd, &one, sizeof(one)); /* an eventfd: only fails if the counter is full */
        (void)w;
    }
}

void sa_sync_job_run(sa_sync_job_t *job) {
    job->err = 0;
    job->step = SA_SYNC_STEP_FDATASYNC;
    if (sa_sysio.fdatasync(job->fd)) goto fail;
    if (!job->rename_to) return;
    job->step = SA_SYNC_STEP_RENAME;
    if (sa_sysio.rename(job->rename_from, job->rename_to)) goto fail;
    job->step = SA_SYNC_STEP_FSYNC_DIR;
    if (sa_sysio_fsync_dir(job->dir)) goto fail;
    return;
fail:
    job->err = errno ? errno : EIO;
}

/* Take and run jobs until none are left; called with the lock held, returns with it held. */
static void drain(sa_sync_pool_t *pool) {
    while (pool->next < pool->n) {
        size_t i = pool->next++;
        pthread_mutex_unlock(&pool->lock);
        sa_sync_job_run(&pool->jobs[i]); /* writes only its own job */
        pthread_mutex_lock(&pool->lock);
        if (++pool->finished == pool->n) {
            pthread_cond_signal(&pool->done);
            notify(pool->notify_fd);
        }
    }
}

static void *helper(void *arg) {
    sa_sync_pool_t *pool = arg;
    uint64_t seen = 0;
    pthread_mutex_lock(&pool->lock);
    for (;;) {
        while (!pool->stop && pool->run_id == seen) pthread_cond_wait(&pool->work, &pool->lock);
        if (pool->stop) break;
        seen = pool->run_id;
        drain(pool);
    }
    pthread_mutex_unlock(&pool->lock);
    return NULL;
}

sa_sync_pool_t *sa_sync_pool_new(void) {
    sa_sync_pool_t *pool = sa_new(sa_sync_pool_t);
    pthread_mutex_init(&pool->lock, NULL);
    pthread_cond_init(&pool->work, NULL);
    pthread_cond_init(&pool->done, NULL);
    pool->owner = getpid();
    pool->notify_fd = -1;
    /* SAMSA_SYNC_THREADS=0..3 overrides the helper count (0: one fdatasync after the other),
     * for measuring what the parallelism buys on a given disk. */
    int want = POOL_THREADS;
    const char *env = getenv("SAMSA_SYNC_THREADS");
    if (env && *env >= '0' && *env <= '0' + POOL_THREADS && !env[1]) want = *env - '0';
    for (int i = 0; i < want; i++)
        if (pthread_create(&pool->threads[pool->nthreads], NULL, helper, pool) == 0) pool->nthreads++;
    return pool;
}

void sa_sync_pool_free(sa_sync_pool_t *pool) {
    if (!pool) return;
    if (pool->owner == getpid()) {
        pthread_mutex_lock(&pool->lock);
        pool->stop = 1;
        pthread_cond_broadcast(&pool->work);
        pthread_mutex_unlock(&pool->lock);
        for (int i = 0; i < pool->nthreads; i++) pthread_join(pool->threads[i], NULL);
    }
    pthread_cond_destroy(&pool->done);
    pthread_cond_destroy(&pool->work);
    pthread_mutex_destroy(&pool->lock);
    free(pool);
}

void sa_sync_pool_run(sa_sync_pool_t *pool, sa_sync_job_t *jobs, size_t n) {
    if (n == 0) return;
    if (n == 1 || !pool || pool->nthreads == 0 || pool->owner != getpid()) {
        for (size_t i = 0; i < n; i++) sa_sync_job_run(&jobs[i]);
        return;
    }
    pthread_mutex_lock(&pool->lock);
    pool->jobs = jobs;
    pool->n = n;
    pool->next = pool->finished = 0;
    pool->run_id++;
    pthread_cond_broadcast(&pool->work);
    drain(pool);
    while (pool->finished < pool->n) pthread_cond_wait(&pool->done, &pool->lock);
    pool->n = pool->next = pool->finished = 0; /* helpers waking late find nothing to take */
    pool->jobs = NULL;
    pthread_mutex_unlock(&pool->lock);
}

void sa_sync_pool_start(sa_sync_pool_t *pool, sa_sync_job_t *jobs, size_t n, int notify_fd) {
    if (n == 0 || !pool || pool->nthreads == 0 || pool->owner != getpid()) {
        for (size_t i = 0; i < n; i++) sa_sync_job_run(&jobs[i]);
        notify(notify_fd);
        return;
    }
    pthread_mutex_lock(&pool->lock);
    pool->jobs = jobs;
    pool->n = n;
    pool->next = pool->finished = 0;
    pool->notify_fd = notify_fd;
    pool->run_id++;
    pthread_cond_broadcast(&pool->work);
    pthread_mutex_unlock(&pool->lock);
}

void sa_sync_pool_wait(sa_sync_pool_t *pool) {
    if (!pool) return;
    pthread_mutex_lock(&pool->lock);
    while (pool->finished < pool->n) pthread_cond_wait(&pool->done, &pool->lock);
    pool->n = pool->next = pool->finished = 0;
    pool->jobs = NULL;
    pool->notify_fd = -1;
    pthread_mutex_unlock(&pool->lock);
}
