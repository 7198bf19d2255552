/*
 * Simulated power loss while ACLs are created and deleted (the metadata log's acl_create and
 * acl_delete records, with its compactions), through the fsync-aware layer of tests/lib/power_loss.
 *
 * A child process creates bindings and deletes some, group-commits, and after each successful
 * sync tells the parent through a pipe which bindings were acknowledged present and which
 * acknowledged deleted. Binding i is fully derived from i (topic "t-i", prefixed or literal,
 * principal User:u<i%7>, host, operation and permission), so a torn or mixed-up record cannot
 * pass for a valid one. The power goes out at a random file system call (or after the last turn),
 * the parent reopens the metadata log and checks that:
 *   - every acknowledged creation is there, unless the child deleted it afterwards (it tells the
 *     parent before each deletion: an unacknowledged deletion may survive the cut or not);
 *   - every acknowledged deletion stayed deleted (a deleted id is never created again);
 *   - every binding present is exactly binding i for its i (nothing corrupt, nothing invented).
 * 40 rounds, random seeds, a small compaction threshold so compactions happen under the knife.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "broker/acl.h"
#include "broker/metastore.h"
#include "core/log.h"
#include "harness.h"
#include "power_loss.h"
#include "storage/storage.h"

#define CHECK(cond, ...)                                                                                     \
    do {                                                                                                     \
        if (!(cond)) {                                                                                       \
            fprintf(stderr, "FAIL %s:%d: %s: ", __FILE__, __LINE__, #cond);                                  \
            fprintf(stderr, __VA_ARGS__);                                                                    \
            fprintf(stderr, "\n");                                                                           \
            exit(1);                                                                                         \
        }                                                                                                    \
    } while (0)

#define ROUNDS    40
#define PER_ROUND 128 /* ids of round r: r * PER_ROUND .. + PER_ROUND - 1, never reused */
#define MAXID     (ROUNDS * PER_ROUND)

enum { ABSENT = 0, PRESENT = 1, DELETED = 2 }; /* DELETED: acknowledged deleted, never back */

/* What the child acknowledged after a successful group commit. */
typedef struct acked_s {
    uint8_t state[MAXID];  /* as of the last successful sync */
    uint8_t doomed[MAXID]; /* deletions started since: may or may not survive */
    uint64_t compactions;
} acked_t;

/* Binding @p id, its strings in @p buf. */
static sa_acl_binding_t binding(int id, char buf[3][32]) {
    snprintf(buf[0], 32, "t-%d", id);
    snprintf(buf[1], 32, "User:u%d", id % 7);
    snprintf(buf[2], 32, id % 3 ? "*" : "10.0.0.%d", id % 250);
    return (sa_acl_binding_t){SA_RESOURCE_TOPIC,
                              id % 2 ? SA_PATTERN_PREFIXED : SA_PATTERN_LITERAL,
                              (int8_t)(SA_ACL_READ + id % 9),
                              id % 5 ? SA_PERM_ALLOW : SA_PERM_DENY,
                              buf[0],
                              buf[1],
                              buf[2]};
}

/* Record binding @p b into @p state, checking it is exactly the binding of its id. */
static void seen(void *arg, const sa_acl_binding_t *b) {
    uint8_t *state = arg;
    int id = -1;
    CHECK(sscanf(b->name, "t-%d", &id) == 1 && id >= 0 && id < MAXID, "a binding no one made: %s", b->name);
    char buf[3][32];
    sa_acl_binding_t want = binding(id, buf);
    CHECK(b->resource_type == want.resource_type && b->pattern_type == want.pattern_type &&
              b->operation == want.operation && b->permission == want.permission &&
              !strcmp(b->principal, want.principal) && !strcmp(b->host, want.host),
          "binding %d came back corrupt", id);
    CHECK(state[id] != PRESENT, "binding %d twice", id);
    state[id] = PRESENT;
}

static const sa_acl_binding_t all = {
    SA_RESOURCE_ANY, SA_PATTERN_ANY, SA_ACL_ANY, SA_PERM_ANY, NULL, NULL, NULL};

static sa_metalog_conf_t meta_conf(void) {
    sa_metalog_conf_t conf;
    sa_metalog_conf_defaults(&conf);
    conf.compact_min_bytes = 2048; /* compact every few dozen records */
    conf.compact_slack = 8;
    return conf;
}

/* ---- the child ---------------------------------------------------------------------------- */

static void child(const char *dir, int wfd, unsigned round, const uint8_t *before) {
    unsigned seed = 4242 + round;
    setenv("SAMSA_SYNC_THREADS", "0", 1);
    pl_install(seed * 7919, rand_r(&seed) % 4 ? 1 + rand_r(&seed) % 600 : -1);
    sa_store_t *store;
    sa_metastore_t ms;
    sa_metalog_conf_t conf = meta_conf();
    if (sa_store_open(dir, NULL, &store, NULL, 0) || sa_metastore_open(&ms, store, &conf, NULL, 0)) _exit(2);
    static acked_t acked;
    memcpy(acked.state, before, MAXID);
    static uint8_t now[MAXID];
    memcpy(now, before, MAXID);
    int next = (int)round * PER_ROUND, end = next + PER_ROUND;
    int turns = 5 + rand_r(&seed) % 40;
    for (int t = 0; t < turns; t++) {
        int creates = 1 + rand_r(&seed) % 3;
        for (int c = 0; c < creates && next < end; c++, next++) {
            char buf[3][32];
            sa_acl_binding_t b = binding(next, buf);
            uint64_t seq;
            if (sa_acls_create(ms.acls, &b, &seq)) _exit(3);
            now[next] = PRESENT;
        }
        int deletes = rand_r(&seed) % 5; /* enough that the log holds far more than the live set */
        for (int d = 0; d < deletes; d++) {
            int lo = next > 64 ? next - 64 : 0; /* mostly recent ones, some of this round's */
            int id = lo + rand_r(&seed) % (next > lo ? next - lo : 1);
            if (now[id] != PRESENT) continue;
            acked.doomed[id] = 1; /* told before it may reach the disk */
            if (write(wfd, &acked, sizeof(acked)) != sizeof(acked)) _exit(7);
            char buf[3][32];
            sa_acl_binding_t f = binding(id, buf); /* a filter selecting exactly it */
            uint64_t seq;
            if (sa_acls_delete(ms.acls, &f, &seq)) _exit(4);
            now[id] = DELETED;
        }
        if (t == turns - 1 && rand_r(&seed) % 2) break; /* the power may go out before the commit */
        if (sa_store_sync(store, NULL, NULL)) _exit(6);
        memcpy(acked.state, now, MAXID);
        memset(acked.doomed, 0, MAXID);
        sa_metalog_stats_t st;
        sa_metalog_stats(ms.log, &st);
        acked.compactions = st.compactions;
        if (write(wfd, &acked, sizeof(acked)) != sizeof(acked)) _exit(7);
    }
    pl_power_loss();
    _exit(0);
}

/* ---- the parent --------------------------------------------------------------------------- */

/* A message is larger than PIPE_BUF, so it may arrive in pieces. @returns 1 whole, 0 at the end. */
static int read_full(int fd, void *buf, size_t len) {
    size_t got = 0;
    while (got < len) {
        ssize_t n = read(fd, (char *)buf + got, len - got);
        if (n <= 0) return 0;
        got += (size_t)n;
    }
    return 1;
}

int main(void) {
    sa_log_set_level("error");
    char dir[512];
    CHECK(th_mkdtemp(dir, sizeof(dir), "acl-power-loss") == 0, "mkdtemp");
    static acked_t acked, v;
    static uint8_t found[MAXID];
    uint64_t compactions = 0;
    size_t acknowledged = 0;
    for (unsigned round = 0; round < ROUNDS; round++) {
        int fds[2];
        CHECK(pipe(fds) == 0, "pipe");
        fflush(NULL);
        pid_t pid = fork();
        CHECK(pid >= 0, "fork");
        if (pid == 0) {
            close(fds[0]);
            child(dir, fds[1], round, acked.state);
        }
        close(fds[1]);
        acked.compactions = 0;
        memset(acked.doomed, 0, MAXID);
        uint8_t before[MAXID];
        memcpy(before, acked.state, MAXID);
        while (read_full(fds[0], &v, sizeof(v))) acked = v;
        compactions += acked.compactions;
        close(fds[0]);
        int status;
        waitpid(pid, &status, 0);
        CHECK(WIFEXITED(status) && WEXITSTATUS(status) == 0, "child failed with status %d", status);

        char err[256] = "";
        sa_store_t *store;
        sa_metastore_t ms;
        sa_metalog_conf_t conf = meta_conf();
        CHECK(sa_store_open(dir, NULL, &store, err, sizeof(err)) == SA_OK, "open: %s", err);
        CHECK(sa_metastore_open(&ms, store, &conf, err, sizeof(err)) == SA_OK, "metadata log: %s", err);
        memset(found, 0, sizeof(found));
        sa_acls_list(ms.acls, &all, seen, found);
        int present = 0, lost = 0;
        for (int id = 0; id < MAXID; id++) {
            CHECK(!(acked.state[id] == PRESENT && !acked.doomed[id] && found[id] != PRESENT),
                  "acknowledged binding %d was lost", id);
            CHECK(!(acked.state[id] == DELETED && found[id] == PRESENT), "acknowledged deletion of %d undone",
                  id);
            /* an unacknowledged deletion may or may not have survived: what is there is the truth now */
            if (found[id] == PRESENT) present++;
            if (acked.state[id] == PRESENT && before[id] != PRESENT) acknowledged++;
            if (found[id] != PRESENT && (acked.state[id] == PRESENT || before[id] == PRESENT)) lost++;
            if (found[id] != PRESENT && before[id] != ABSENT)
                acked.state[id] = DELETED;
            else if (found[id] == PRESENT)
                acked.state[id] = PRESENT;
            else if (acked.state[id] == PRESENT)
                acked.state[id] = DELETED; /* its deletion survived */
        }
        CHECK((size_t)present == sa_acls_count(ms.acls), "count %zu, listed %d", sa_acls_count(ms.acls),
              present);
        CHECK(sa_metastore_close(&ms) == SA_OK, "close metadata log");
        CHECK(sa_store_close(store) == SA_OK, "close");
        printf("round %2u: %d bindings after recovery, %d gone (acknowledged deletions or unacknowledged "
               "ones)\n",
               round, present, lost);
    }
    CHECK(acknowledged > 0, "nothing was acknowledged");
    CHECK(compactions > 0, "the metadata log was never compacted under the knife");
    printf("%zu creations acknowledged, %llu compactions of the metadata log acknowledged\n", acknowledged,
           (unsigned long long)compactions);
    th_rmtree(dir);
    printf("ok\n");
    return 0;
}
