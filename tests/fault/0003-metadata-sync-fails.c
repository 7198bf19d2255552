/*
 * 0003-metadata-sync-fails: a real broker whose metadata log cannot be synced, through the sa_sysio
 * table. The broker runs in a child process of this test (sa_cmd_broker, the code `samsa broker`
 * runs) with an fdatasync wrapper that fails with EIO, when the test says so, for the next sync of
 * DATA_DIR/metadata.log (a file found by its name, so the dups the group commit syncs count too).
 * Spoken over raw frames:
 *   - OffsetCommit whose sync fails is answered NOT_COORDINATOR (what Kafka answers when its
 *     __consumer_offsets append fails) and OffsetFetch still gives the previous offset: the log
 *     was cut back and the offsets rebuilt from it; the next commit works;
 *   - InitProducerId whose id block cannot be made durable gets COORDINATOR_LOAD_IN_PROGRESS, and
 *     the next call hands out the same id (it never left);
 *   - DeleteGroups and OffsetDelete whose sync fails get NOT_COORDINATOR and change nothing;
 *   - after a restart, exactly the acknowledged state is there (and ids move past every block);
 *   - a data directory whose metadata.log is not a metadata log: the broker refuses to start,
 *     saying so.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdatomic.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/wait.h>

#include "../integration/group_test.h"
#include "broker/producer_id.h"
#include "commands.h"
#include "core/sysio.h"

static atomic_int *fail_next; /* shared with the broker child: fail its next metadata-log fdatasync */

static int is_metadata_log(int fd) {
    char link[64], target[1024];
    snprintf(link, sizeof(link), "/proc/self/fd/%d", fd);
    ssize_t n = readlink(link, target, sizeof(target) - 1);
    if (n < 0) return 0;
    target[n] = '\0';
    return strstr(target, "/metadata.log") != NULL;
}

static int faulty_fdatasync(int fd) {
    if (is_metadata_log(fd) && atomic_exchange(fail_next, 0)) {
        errno = EIO;
        return -1;
    }
    return fdatasync(fd);
}

/* Run `samsa broker` in a child with the faulty fdatasync; its stderr goes to @p log. */
static pid_t start_broker(int port, const char *dir, const char *log) {
    fflush(NULL);
    pid_t pid = fork();
    GT_ASSERT(pid >= 0, "fork");
    if (pid) return pid;
    prctl(PR_SET_PDEATHSIG, SIGKILL);
    int fd = open(log, O_WRONLY | O_CREAT | O_APPEND, 0644);
    if (fd >= 0) dup2(fd, 2);
    sa_sysio.fdatasync = faulty_fdatasync;
    char listen[64];
    snprintf(listen, sizeof(listen), "127.0.0.1:%d", port);
    char *argv[] = {
        "broker",      "--listen", listen, "--data-dir", (char *)dir, "-o", "auto.create.topics.enable=true",
        "--log-level", "info",     NULL};
    _exit(sa_cmd_broker.run((int)(sizeof(argv) / sizeof(argv[0])) - 1, argv));
}

static int stop_broker(pid_t pid) {
    kill(pid, SIGTERM);
    int status;
    waitpid(pid, &status, 0);
    return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
}

static sa_buf_t req, resp;
static sa_arena_t arena = SA_ARENA_INIT(0);

/* OffsetCommit v8 of @p offset for "fg" on t-0 (a simple consumer). @returns the partition's error. */
static int16_t commit(int fd, int64_t offset) {
    sa_OffsetCommitRequest_OffsetCommitRequestPartition_t cp;
    sa_OffsetCommitRequest_OffsetCommitRequestPartition_init(&cp);
    cp.PartitionIndex = 0;
    cp.CommittedOffset = offset;
    cp.CommittedMetadata = SA_STR("");
    sa_OffsetCommitRequest_OffsetCommitRequestTopic_t ct = {SA_STR("t"), &cp, 1};
    sa_OffsetCommitRequest_t oc;
    sa_OffsetCommitRequest_init(&oc);
    oc.GroupId = SA_STR("fg");
    oc.GenerationIdOrMemberEpoch = -1;
    oc.MemberId = SA_STR("");
    oc.Topics = &ct;
    oc.Topics_count = 1;
    GT_ENCODE(OffsetCommitRequest, oc, 8, &req);
    GT_ASSERT(gt_call(fd, SA_API_OffsetCommit, 8, &req, 0, &resp) == 0, "OffsetCommit");
    sa_OffsetCommitResponse_t cr;
    GT_DECODE(OffsetCommitResponse, cr, 8, &resp, &arena);
    return cr.Topics[0].Partitions[0].ErrorCode;
}

/* OffsetFetch v1 of "fg" on t-0. @returns the committed offset (-1: none). */
static int64_t fetch(int fd) {
    int32_t parts[] = {0};
    sa_OffsetFetchRequest_OffsetFetchRequestTopic_t ft = {SA_STR("t"), parts, 1};
    sa_OffsetFetchRequest_t of;
    sa_OffsetFetchRequest_init(&of);
    of.GroupId = SA_STR("fg");
    of.Topics = &ft;
    of.Topics_count = 1;
    GT_ENCODE(OffsetFetchRequest, of, 1, &req);
    GT_ASSERT(gt_call(fd, SA_API_OffsetFetch, 1, &req, 0, &resp) == 0, "OffsetFetch");
    sa_OffsetFetchResponse_t fr;
    GT_DECODE(OffsetFetchResponse, fr, 1, &resp, &arena);
    GT_ASSERT(fr.Topics[0].Partitions[0].ErrorCode == 0, "OffsetFetch error %d",
              fr.Topics[0].Partitions[0].ErrorCode);
    return fr.Topics[0].Partitions[0].CommittedOffset;
}

/* InitProducerId v4 (no transactional id). @returns the error; *pid the id. */
static int16_t init_pid(int fd, int64_t *pid) {
    sa_InitProducerIdRequest_t ip;
    sa_InitProducerIdRequest_init(&ip);
    ip.TransactionalId = SA_STR_NULL;
    ip.TransactionTimeoutMs = 60000;
    ip.ProducerId = -1;
    ip.ProducerEpoch = -1;
    GT_ENCODE(InitProducerIdRequest, ip, 4, &req);
    GT_ASSERT(gt_call(fd, SA_API_InitProducerId, 4, &req, 0, &resp) == 0, "InitProducerId");
    sa_InitProducerIdResponse_t ir;
    GT_DECODE(InitProducerIdResponse, ir, 4, &resp, &arena);
    *pid = ir.ProducerId;
    return ir.ErrorCode;
}

static int16_t delete_group(int fd) {
    sa_str_t names[] = {SA_STR("fg")};
    sa_DeleteGroupsRequest_t dg;
    sa_DeleteGroupsRequest_init(&dg);
    dg.GroupsNames = names;
    dg.GroupsNames_count = 1;
    GT_ENCODE(DeleteGroupsRequest, dg, 2, &req);
    GT_ASSERT(gt_call(fd, SA_API_DeleteGroups, 2, &req, 0, &resp) == 0, "DeleteGroups");
    sa_DeleteGroupsResponse_t dr;
    GT_DECODE(DeleteGroupsResponse, dr, 2, &resp, &arena);
    return dr.Results[0].ErrorCode;
}

static int16_t offset_delete(int fd) {
    sa_OffsetDeleteRequest_OffsetDeleteRequestPartition_t dp = {0};
    sa_OffsetDeleteRequest_OffsetDeleteRequestTopic_t dt = {SA_STR("t"), &dp, 1};
    sa_OffsetDeleteRequest_t od;
    sa_OffsetDeleteRequest_init(&od);
    od.GroupId = SA_STR("fg");
    od.Topics = &dt;
    od.Topics_count = 1;
    GT_ENCODE(OffsetDeleteRequest, od, 0, &req);
    GT_ASSERT(gt_call(fd, SA_API_OffsetDelete, 0, &req, 0, &resp) == 0, "OffsetDelete");
    sa_OffsetDeleteResponse_t dr;
    GT_DECODE(OffsetDeleteResponse, dr, 0, &resp, &arena);
    GT_ASSERT(dr.ErrorCode == 0, "OffsetDelete group error %d", dr.ErrorCode);
    return dr.Topics[0].Partitions[0].ErrorCode;
}

static int file_contains(const char *path, const char *needle) {
    FILE *fp = fopen(path, "r");
    if (!fp) return 0;
    char line[2048];
    int found = 0;
    while (!found && fgets(line, sizeof(line), fp)) found = strstr(line, needle) != NULL;
    fclose(fp);
    return found;
}

int main(void) {
    fail_next = mmap(NULL, sizeof(*fail_next), PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
    GT_ASSERT(fail_next != MAP_FAILED, "mmap");
    atomic_store(fail_next, 0);
    char dir[512], log[600];
    GT_ASSERT(th_mkdtemp(dir, sizeof(dir), "meta-sync") == 0, "mkdtemp");
    snprintf(log, sizeof(log), "%s.broker.log", dir);
    int port = th_free_port();
    pid_t broker = start_broker(port, dir, log);
    GT_ASSERT(th_wait_port(port, th_scaled_ms(20000)) == 0, "the broker did not start (log: %s)", log);
    char addr[64];
    snprintf(addr, sizeof(addr), "127.0.0.1:%d", port);
    rd_kafka_t *p = gt_producer(addr, NULL); /* creates topic t */
    gt_produce(p, "t", 0, "x", 1);
    gt_flush(p);
    rd_kafka_destroy(p);
    int fd = gt_connect(port);

    GT_ASSERT(commit(fd, 5) == 0, "first commit");
    GT_ASSERT(fetch(fd) == 5, "first fetch");
    atomic_store(fail_next, 1);
    int16_t err = commit(fd, 7);
    GT_ASSERT(err == SA_ERR_NOT_COORDINATOR, "a commit whose sync failed was answered %d", err);
    GT_ASSERT(atomic_load(fail_next) == 0, "the metadata log's sync was never attempted");
    GT_ASSERT(fetch(fd) == 5, "the failed commit is visible");
    GT_ASSERT(commit(fd, 9) == 0, "the commit after the failure");
    GT_ASSERT(fetch(fd) == 9, "fetch after the failure");

    int64_t pid = -1;
    atomic_store(fail_next, 1);
    err = init_pid(fd, &pid);
    GT_ASSERT(err == SA_ERR_COORDINATOR_LOAD_IN_PROGRESS && pid == -1,
              "InitProducerId whose block failed: %d", err);
    GT_ASSERT(init_pid(fd, &pid) == 0 && pid == 0, "InitProducerId after the failure: pid %lld",
              (long long)pid);

    atomic_store(fail_next, 1);
    err = delete_group(fd);
    GT_ASSERT(err == SA_ERR_NOT_COORDINATOR, "DeleteGroups whose sync failed was answered %d", err);
    GT_ASSERT(fetch(fd) == 9, "the failed DeleteGroups removed the offsets");
    atomic_store(fail_next, 1);
    err = offset_delete(fd);
    GT_ASSERT(err == SA_ERR_NOT_COORDINATOR, "OffsetDelete whose sync failed was answered %d", err);
    GT_ASSERT(fetch(fd) == 9, "the failed OffsetDelete removed the offset");
    close(fd);
    GT_ASSERT(stop_broker(broker) == 0, "the broker did not stop cleanly");
    GT_ASSERT(file_contains(log, "metadata.log"), "the failures were not logged");

    broker = start_broker(port, dir, log);
    GT_ASSERT(th_wait_port(port, th_scaled_ms(20000)) == 0, "the broker did not restart");
    fd = gt_connect(port);
    GT_ASSERT(fetch(fd) == 9, "after a restart: the acknowledged commit");
    GT_ASSERT(init_pid(fd, &pid) == 0 && pid == SA_PID_BLOCK, "after a restart: pid %lld", (long long)pid);
    GT_ASSERT(delete_group(fd) == 0, "DeleteGroups after the failures");
    GT_ASSERT(fetch(fd) == -1, "the deleted group's offset");
    close(fd);
    GT_ASSERT(stop_broker(broker) == 0, "the broker did not stop cleanly");

    /* not a metadata log: the broker refuses to start, and says why */
    char meta[700];
    snprintf(meta, sizeof(meta), "%s/metadata.log", dir);
    int mfd = open(meta, O_WRONLY | O_TRUNC);
    GT_ASSERT(mfd >= 0 && write(mfd, "definitely not a metadata log\n", 30) == 30 && close(mfd) == 0,
              "write %s", meta);
    GT_ASSERT(truncate(log, 0) == 0, "truncate %s", log);
    broker = start_broker(port, dir, log);
    int status;
    GT_ASSERT(waitpid(broker, &status, 0) == broker && WIFEXITED(status) && WEXITSTATUS(status) == 1,
              "a broker with a broken metadata.log did not refuse to start");
    GT_ASSERT(file_contains(log, "is not a samsa metadata log"), "the refusal did not say why (log: %s)",
              log);

    sa_buf_free(&req);
    sa_buf_free(&resp);
    sa_arena_free(&arena);
    th_rmtree(dir);
    unlink(log);
    printf("ok\n");
    return 0;
}
