/*
 * 0122-worker-txn-fence: `samsa worker --exactly-once txn` and its transactional.id.
 *  - wrong input: `--exactly-once bogus`, and a transactional.id (-X) without txn mode, exit 2;
 *  - zombie fencing: worker A runs with --worker-id Z; worker B starts with the same --worker-id
 *    (so the same transactional.id) while A is alive. B's InitProducerId fences A: A's next
 *    transaction fails for good and A exits 1, without publishing anything more; B takes over.
 *    Every post is on blog_results exactly once for a read_committed reader, and in one of the
 *    two results logs (each log holds a post at most once);
 *  - slots: two workers without --worker-id on one results log hold the lock files of slots 0
 *    and 1 (two transactional ids); a worker started after both were killed -9 takes slot 0
 *    again (the same transactional.id as before the crash).
 * Runs on samsa's broker, or on a real Kafka (SAMSA_WORKER_TEST_BOOTSTRAP); never skipped there
 * (worker_test.h: wt_broker_start_txn).
 */
#include <sys/file.h>

#include "worker_test.h"

#define POSTS 300

static const char *const txn_args[] = {"--exactly-once", "txn", NULL};

static void post_id(int i, char *out, size_t size) { snprintf(out, size, "F-%04d", i); }

static void produce_chunk(const wt_broker_t *b, rd_kafka_t *prod, int *produced, int n) {
    char id[32], text[2048];
    for (int k = 0; k < n; k++, (*produced)++) {
        post_id(*produced, id, sizeof(id));
        wt_post_text(*produced + 7000, text, sizeof(text));
        wt_produce_post(b, prod, id, "fence", text, "en");
    }
    wt_flush(prod);
}

/* Run `samsa worker ARGS` (it must not start: usage errors) and @returns its exit code. */
static int worker_rc(const char *const args[]) {
    const char *argv[16] = {th_samsa(), "worker"};
    size_t n = 2;
    for (size_t i = 0; args[i] && n < 15; i++) argv[n++] = args[i];
    argv[n] = NULL;
    pid_t pid = fork();
    if (pid == 0) {
        int devnull = open("/dev/null", O_WRONLY);
        dup2(devnull, 1);
        dup2(devnull, 2);
        execv(th_samsa(), (char *const *)argv);
        _exit(127);
    }
    int status = 0;
    waitpid(pid, &status, 0);
    return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

/* @returns 1 if another process holds @p path's flock (a worker's slot). */
static int slot_held(const char *path) {
    int fd = open(path, O_RDWR);
    if (fd < 0) return 0;
    int held = flock(fd, LOCK_EX | LOCK_NB) != 0;
    close(fd);
    return held;
}

/* @returns the number of committed results of post F-@p k (counts every post into @p counts). */
static void committed_counts(const wt_broker_t *b, int *counts) {
    json_t *recs = wt_topic_read(b, b->results);
    memset(counts, 0, sizeof(int) * POSTS);
    size_t i;
    json_t *r;
    json_array_foreach(recs, i, r) {
        int k = -1;
        if (sscanf(json_string_value(json_object_get(r, "key")), "F-%d", &k) == 1 && k >= 0 && k < POSTS)
            counts[k]++;
    }
    json_decref(recs);
}

/* 1 once @p pid has exited (reaped once; its status kept in *@p status). */
static int exited(pid_t pid, int *done, int *status) {
    if (!*done && waitpid(pid, status, WNOHANG) == pid) *done = 1;
    return *done;
}

static int all_committed(const wt_broker_t *b, int produced) {
    static int counts[POSTS];
    committed_counts(b, counts);
    for (int k = 0; k < produced; k++)
        if (!counts[k]) return 0;
    return 1;
}

static void wrong_input(void) {
    static const char *const bogus[] = {"--exactly-once", "bogus", NULL};
    WT_ASSERT(worker_rc(bogus) == 2, "--exactly-once bogus exits 2");
    static const char *const stray[] = {"-X", "transactional.id=x", "-F", "none", NULL};
    WT_ASSERT(worker_rc(stray) == 2, "a transactional.id without --exactly-once txn exits 2");
}

static void fencing(const wt_broker_t *b, rd_kafka_t *prod) {
    char log_a[600], log_b[600];
    snprintf(log_a, sizeof(log_a), "%s/results-a.jsonl", b->dir);
    snprintf(log_b, sizeof(log_b), "%s/results-b.jsonl", b->dir);
    int produced = 0;
    pid_t wa = wt_worker_start(b, log_a, "zombie", txn_args);
    produce_chunk(b, prod, &produced, 50);
    WT_ASSERT(TH_WAIT_UNTIL(all_committed(b, produced), 40000), "A committed the first 50 posts");

    pid_t wb = wt_worker_start(b, log_b, "zombie", txn_args);
    /* Posts keep coming until A, fenced by B, gives up: A holds partitions until it leaves. */
    int a_done = 0, status = 0;
    while (!exited(wa, &a_done, &status) && produced < POSTS - 50) {
        produce_chunk(b, prod, &produced, 10);
        TH_WAIT_UNTIL(exited(wa, &a_done, &status) || all_committed(b, produced), 3000);
    }
    WT_ASSERT(TH_WAIT_UNTIL(exited(wa, &a_done, &status), 40000), "the zombie A stops by itself");
    WT_ASSERT(WIFEXITED(status) && WEXITSTATUS(status) == 1, "A exits 1 (status %d)", status);
    WT_ASSERT(!wt_exited(wb), "B keeps running");
    size_t a_final = wt_log_count(log_a);
    produce_chunk(b, prod, &produced, 50);
    fprintf(stderr, "# A was fenced after %zu posts; %d produced in all\n", a_final, produced);
    WT_ASSERT(TH_WAIT_UNTIL(all_committed(b, produced), 60000), "every post committed once B took over");
    status = wt_worker_stop(wb, SIGTERM);
    WT_ASSERT(WIFEXITED(status) && WEXITSTATUS(status) == 0, "B exits 0");

    static int counts[POSTS];
    committed_counts(b, counts);
    for (int k = 0; k < produced; k++)
        WT_ASSERT(counts[k] == 1, "F-%04d: %d committed results, want 1", k, counts[k]);
    /* Each log holds a post at most once, and every post is in one of them. A post A logged
     * before its transaction was fenced is in B's log too: B replays it (the store has its
     * verdict, not yet marked done) and its log is another file (worker.h: each results log
     * holds a post once). */
    static int logged[POSTS];
    for (int w = 0; w < 2; w++) {
        static int in_this[POSTS];
        memset(in_this, 0, sizeof(in_this));
        wt_log_t log;
        wt_log_read(w ? log_b : log_a, &log);
        size_t i;
        json_t *line;
        json_array_foreach(log.lines, i, line) {
            int k = -1;
            sscanf(json_string_value(json_object_get(line, "id")), "F-%d", &k);
            WT_ASSERT(k >= 0 && k < produced && ++in_this[k] == 1, "post %d once in log %c", k,
                      w ? 'B' : 'A');
            logged[k]++;
        }
        wt_log_free(&log);
    }
    for (int k = 0; k < produced; k++) WT_ASSERT(logged[k] >= 1, "F-%04d logged", k);
}

static void slots(const wt_broker_t *b) {
    char log[600], slot0[640], slot1[640];
    snprintf(log, sizeof(log), "%s/shared.jsonl", b->dir);
    snprintf(slot0, sizeof(slot0), "%s.txn-0.lock", log);
    snprintf(slot1, sizeof(slot1), "%s.txn-1.lock", log);
    pid_t w1 = wt_worker_start(b, log, "", txn_args), w2 = wt_worker_start(b, log, "", txn_args);
    WT_ASSERT(TH_WAIT_UNTIL(slot_held(slot0) && slot_held(slot1), 20000),
              "two workers on one log hold slots 0 and 1 (two transactional ids)");
    kill(w1, SIGKILL);
    kill(w2, SIGKILL);
    waitpid(w1, NULL, 0);
    waitpid(w2, NULL, 0);
    WT_ASSERT(!slot_held(slot0) && !slot_held(slot1), "the kernel released both slots");
    pid_t w3 = wt_worker_start(b, log, "", txn_args);
    WT_ASSERT(TH_WAIT_UNTIL(slot_held(slot0), 20000), "a restarted worker takes slot 0 again");
    WT_ASSERT(!slot_held(slot1), "... and only slot 0");
    int status = wt_worker_stop(w3, SIGTERM);
    WT_ASSERT(WIFEXITED(status) && WEXITSTATUS(status) == 0, "it stops cleanly (status %d)", status);
}

int main(void) {
    wrong_input();
    wt_broker_t b;
    wt_broker_start_txn(&b);
    rd_kafka_t *prod = wt_producer(&b);
    fencing(&b, prod);
    slots(&b);
    rd_kafka_destroy(prod);
    wt_broker_stop(&b);
    fprintf(stderr, "# ok\n");
    return 0;
}
