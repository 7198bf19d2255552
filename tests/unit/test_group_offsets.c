/* Committed offsets, membership records and producer-id blocks in the broker's metadata log
 * (broker/metastore.h): commit/get and replay after reopen, metadata kept whole (NUL bytes
 * included), deletes, compaction keeping the log bounded, retention through the coordinator,
 * membership surviving a restart, producer ids never handed out twice (also across a failed
 * sync), the dumper's descriptions, a kind this version does not know refused at start, and
 * the migration of coordinator/offsets.log and coordinator/producer-ids of earlier versions. */
#include <errno.h>
#include <fcntl.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <cmocka.h>

#include "broker/group/coordinator.h"
#include "broker/group/offsets.h"
#include "broker/metastore.h"
#include "broker/producer_id.h"
#include "core/crc32c.h"
#include "core/log.h"
#include "core/sysio.h"
#include "harness.h"
#include "storage/storage.h"

static char dir[512], path[600];
static sa_store_t *store;
static sa_metastore_t ms;
static sa_metalog_conf_t conf;

static int setup(void **state) {
    (void)state;
    if (th_mkdtemp(dir, sizeof(dir), "offsets") < 0) return -1;
    snprintf(path, sizeof(path), "%s/metadata.log", dir);
    sa_metalog_conf_defaults(&conf);
    sa_sysio_reset();
    return 0;
}

static int teardown(void **state) {
    (void)state;
    sa_sysio_reset();
    th_rmtree(dir);
    return 0;
}

static void open_ok(void) {
    char errstr[256] = "";
    assert_int_equal(sa_store_open(dir, NULL, &store, errstr, sizeof(errstr)), SA_OK);
    assert_int_equal(sa_metastore_open(&ms, store, &conf, errstr, sizeof(errstr)), SA_OK);
}

static void close_ok(void) {
    assert_int_equal(sa_metastore_close(&ms), SA_OK);
    assert_int_equal(sa_store_close(store), SA_OK);
}

static sa_err_t commit(const char *g, const char *t, int32_t p, int64_t off, const char *meta, int64_t ts) {
    return sa_offsets_commit(ms.offsets, g, t, p, off, -1, meta, meta ? strlen(meta) : 0, ts);
}

static off_t file_size(void) {
    struct stat st;
    assert_int_equal(stat(path, &st), 0);
    return st.st_size;
}

static void commit_get_reopen(void **state) {
    (void)state;
    open_ok();
    sa_offset_entry_t ent;
    assert_false(sa_offsets_get(ms.offsets, "g", "t", 0, &ent));
    assert_int_equal(sa_offsets_commit(ms.offsets, "g", "t", 0, 42, 3, "meta", 4, 1000), SA_OK);
    assert_int_equal(commit("g", "t", 1, 7, NULL, 1000), SA_OK);
    assert_int_equal(sa_offsets_commit(ms.offsets, "g", "t", 0, 43, 3, "meta2", 5, 1001), SA_OK);
    /* metadata is bytes: 12 of them with a NUL in the middle come back whole */
    assert_int_equal(sa_offsets_commit(ms.offsets, "h", "u", 5, 1, -1, "Hello\0world!", 12, 1002), SA_OK);
    uint64_t seq = sa_metalog_last_seq(ms.log);
    assert_false(sa_metalog_durable(ms.log, seq));
    assert_int_equal(sa_store_sync(store, NULL, NULL), SA_OK);
    assert_true(sa_metalog_durable(ms.log, seq));
    assert_true(sa_offsets_get(ms.offsets, "g", "t", 0, &ent));
    assert_int_equal(ent.offset, 43);
    assert_int_equal(ent.metadata_len, 5);
    assert_memory_equal(ent.metadata, "meta2", 5);
    char big[SA_OFFSETS_METADATA_MAX + 1];
    memset(big, 'x', sizeof(big));
    assert_int_equal(sa_offsets_commit(ms.offsets, "g", "t", 0, 99, -1, big, sizeof(big), 1003),
                     SA_ERR_OFFSET_METADATA_TOO_LARGE);
    close_ok();

    open_ok();
    assert_true(sa_offsets_get(ms.offsets, "g", "t", 0, &ent));
    assert_int_equal(ent.offset, 43);
    assert_int_equal(ent.leader_epoch, 3);
    assert_int_equal(ent.commit_ts_ms, 1001);
    assert_true(sa_offsets_get(ms.offsets, "g", "t", 1, &ent));
    assert_int_equal(ent.offset, 7);
    assert_int_equal(ent.metadata_len, 0);
    assert_true(sa_offsets_get(ms.offsets, "h", "u", 5, &ent));
    assert_int_equal(ent.metadata_len, 12);
    assert_memory_equal(ent.metadata, "Hello\0world!", 12);
    assert_int_equal(sa_offsets_count(ms.offsets, "g"), 2);
    assert_int_equal(sa_offsets_count(ms.offsets, "h"), 1);
    assert_int_equal(sa_offsets_delete(ms.offsets, "g", "t", 1), SA_OK);
    assert_int_equal(sa_offsets_delete_group(ms.offsets, "h"), SA_OK);
    close_ok();

    open_ok();
    assert_int_equal(sa_offsets_count(ms.offsets, "g"), 1);
    assert_int_equal(sa_offsets_count(ms.offsets, "h"), 0);
    close_ok();
}

static void compaction_bounds_the_log(void **state) {
    (void)state;
    conf.compact_min_bytes = 64 << 10;
    open_ok();
    assert_int_equal(sa_offsets_put_group_meta(ms.offsets, "group", "MEMBERS", 7), SA_OK); /* kept */
    int64_t pid;
    uint64_t seq;
    assert_int_equal(sa_pid_alloc_next(ms.pids, &pid, &seq), SA_OK); /* kept: ids stay unique */
    /* 20k commits to the same 10 partitions, a group commit every 100: far past the threshold */
    for (int i = 0; i < 20000; i++) {
        assert_int_equal(commit("group", "topic", i % 10, i, "m", i), SA_OK);
        if (i % 100 == 99) assert_int_equal(sa_store_sync(store, NULL, NULL), SA_OK);
    }
    sa_metalog_stats_t st;
    sa_metalog_stats(ms.log, &st);
    assert_true(st.compactions >= 5);
    assert_true(st.bytes < 2 * (64 << 10));
    close_ok();
    assert_true(file_size() < 2 * (64 << 10));
    open_ok();
    sa_offset_entry_t ent;
    for (int p = 0; p < 10; p++) {
        assert_true(sa_offsets_get(ms.offsets, "group", "topic", p, &ent));
        assert_int_equal(ent.offset, 19990 + p);
    }
    size_t mlen;
    const uint8_t *meta = sa_offsets_group_meta(ms.offsets, "group", &mlen);
    assert_non_null(meta);
    assert_int_equal(mlen, 7);
    assert_memory_equal(meta, "MEMBERS", 7);
    assert_int_equal(sa_pid_alloc_next(ms.pids, &pid, &seq), SA_OK);
    assert_int_equal(pid, SA_PID_BLOCK); /* the block of id 0 is skipped */
    close_ok();
}

static void retention_expires_empty_groups_only(void **state) {
    (void)state;
    open_ok();
    int64_t old = 1000; /* wall ms: long ago */
    assert_int_equal(commit("idle", "t", 0, 5, "", old), SA_OK);
    sa_gcoord_conf_t gconf;
    sa_gcoord_conf_defaults(&gconf);
    gconf.offsets_retention_ms = 60000;
    gconf.retention_check_ms = 1000;
    gconf.initial_rebalance_delay_ms = 0;
    /* the coordinator knows the group from its offsets, as Empty; it became Empty "now", so
     * retention counts from now: nothing expires at the first pass */
    sa_gcoord_t *gc = sa_gcoord_new(&gconf, ms.offsets, 0);
    assert_true(sa_gcoord_group_exists(gc, "idle", 0));
    sa_gcoord_tick(gc, 1000);
    assert_int_equal(sa_offsets_count(ms.offsets, "idle"), 1);
    sa_gcoord_free(gc);
    /* with a retention shorter than the time since the group became Empty, it expires */
    gconf.offsets_retention_ms = -1000000; /* "the group became empty long enough ago" */
    gc = sa_gcoord_new(&gconf, ms.offsets, 0);
    sa_gcoord_tick(gc, 1000);
    assert_int_equal(sa_offsets_count(ms.offsets, "idle"), 0);
    assert_false(sa_gcoord_group_exists(gc, "idle", 1000));
    sa_gcoord_free(gc);
    close_ok(); /* the expiry is durable with the last group commit */
    open_ok();
    assert_int_equal(sa_offsets_count(ms.offsets, "idle"), 0);
    close_ok();
}

/* ---- membership records ---- */

static int joined;
static char member_ids[2][128];
static int32_t generation;

static void on_join(void *opaque, const sa_group_join_result_t *res) {
    int i = (int)(intptr_t)opaque;
    assert_int_equal(res->ErrorCode, SA_OK);
    snprintf(member_ids[i], sizeof(member_ids[i]), "%s", res->MemberId);
    generation = res->GenerationId;
    joined++;
}

static void on_sync(void *opaque, const sa_group_sync_result_t *res) {
    (void)opaque;
    assert_int_equal(res->ErrorCode, SA_OK);
}

static void membership_survives_restart(void **state) {
    (void)state;
    open_ok();
    sa_gcoord_conf_t gconf;
    sa_gcoord_conf_defaults(&gconf);
    gconf.initial_rebalance_delay_ms = 0;
    sa_gcoord_t *gc = sa_gcoord_new(&gconf, ms.offsets, 0);
    const sa_group_protocol_t protos[] = {{"range", (const uint8_t *)"SUB", 3}};
    sa_group_join_req_t jr = {.GroupId = "g",
                              .SessionTimeoutMs = 10000,
                              .RebalanceTimeoutMs = 10000,
                              .MemberId = "",
                              .ProtocolType = "consumer",
                              .Protocols = protos,
                              .ProtocolCount = 1,
                              .ClientId = "c",
                              .ClientHost = "/127.0.0.1"};
    joined = 0;
    sa_gcoord_join(gc, &jr, 0, on_join, (void *)0);
    assert_int_equal(joined, 1);
    sa_group_assignment_t as = {member_ids[0], (const uint8_t *)"ASSIGNED", 8};
    sa_group_sync_req_t sr = {.GroupId = "g",
                              .GenerationId = generation,
                              .MemberId = member_ids[0],
                              .Assignments = &as,
                              .AssignmentCount = 1};
    sa_gcoord_sync(gc, &sr, 0, on_sync, NULL);
    assert_int_equal(commit("g", "t", 0, 5, "", 1), SA_OK);
    sa_gcoord_free(gc);
    close_ok(); /* the broker stops (or dies: the record was synced before) */

    open_ok();
    gc = sa_gcoord_new(&gconf, ms.offsets, 100000);
    sa_group_desc_t d;
    sa_gcoord_describe(gc, "g", 100000, &d);
    assert_string_equal(d.GroupState, "Stable");
    assert_string_equal(d.ProtocolData, "range");
    assert_int_equal(d.MemberCount, 1);
    assert_int_equal(d.Members[0].MemberAssignmentLen, 8);
    assert_memory_equal(d.Members[0].MemberAssignment, "ASSIGNED", 8);
    assert_int_equal(d.Members[0].MemberMetadataLen, 3);
    sa_gcoord_desc_free(&d);
    /* the member carries on with its id and generation: heartbeat and commit work */
    assert_int_equal(sa_gcoord_heartbeat(gc, "g", generation, member_ids[0], NULL, 100001), SA_OK);
    assert_int_equal(sa_gcoord_commit_check(gc, "g", generation, member_ids[0], NULL, 100001), SA_OK);
    /* a member that never comes back expires after its session timeout; the group ends Empty */
    sa_gcoord_tick(gc, 100001 + 10000);
    sa_gcoord_describe(gc, "g", 100001 + 10000, &d);
    assert_string_equal(d.GroupState, "Empty");
    sa_gcoord_desc_free(&d);
    sa_gcoord_free(gc);
    close_ok();

    /* the Empty generation is remembered too, so generations never go back */
    open_ok();
    gc = sa_gcoord_new(&gconf, ms.offsets, 0);
    joined = 0;
    sa_gcoord_join(gc, &jr, 0, on_join, (void *)1);
    assert_int_equal(joined, 1);
    assert_int_equal(generation, 3);
    sa_gcoord_free(gc);

    /* an unreadable record is ignored: the group starts Empty, its offsets stay */
    assert_int_equal(sa_offsets_put_group_meta(ms.offsets, "junk", "\x01\x03zz", 4), SA_OK);
    assert_int_equal(commit("junk", "t", 0, 9, "", 1), SA_OK);
    gc = sa_gcoord_new(&gconf, ms.offsets, 0);
    sa_gcoord_describe(gc, "junk", 0, &d);
    assert_string_equal(d.GroupState, "Empty");
    sa_gcoord_desc_free(&d);
    sa_offset_entry_t ent;
    assert_true(sa_offsets_get(ms.offsets, "junk", "t", 0, &ent));
    /* deleting the group removes its membership record with its offsets */
    assert_int_equal(sa_gcoord_delete_group(gc, "g", 0), SA_OK);
    size_t len;
    assert_null(sa_offsets_group_meta(ms.offsets, "g", &len));
    sa_gcoord_free(gc);
    close_ok();
}

/* ---- producer ids ---- */

static int fail_fdatasync;
static int bad_fdatasync(int fd) {
    if (!fail_fdatasync) return fdatasync(fd);
    fail_fdatasync = 0;
    errno = EIO;
    return -1;
}

static void producer_ids_unique(void **state) {
    (void)state;
    open_ok();
    int64_t pid;
    uint64_t seq;
    assert_int_equal(sa_pid_alloc_next(ms.pids, &pid, &seq), SA_OK);
    assert_int_equal(pid, 0);
    assert_false(sa_metalog_durable(ms.log, seq)); /* not to be handed out yet */
    assert_int_equal(sa_store_sync(store, NULL, NULL), SA_OK);
    assert_true(sa_metalog_durable(ms.log, seq));
    assert_int_equal(sa_pid_alloc_next(ms.pids, &pid, &seq), SA_OK);
    assert_int_equal(pid, 1);
    assert_true(sa_metalog_durable(ms.log, seq)); /* same block */
    /* the next block's record is lost to a failed sync: its ids were never handed out, the
     * allocator goes back to the durable block's end */
    for (int i = 2; i < SA_PID_BLOCK; i++) assert_int_equal(sa_pid_alloc_next(ms.pids, &pid, &seq), SA_OK);
    assert_int_equal(sa_pid_alloc_next(ms.pids, &pid, &seq), SA_OK);
    assert_int_equal(pid, SA_PID_BLOCK);
    sa_sysio.fdatasync = bad_fdatasync;
    fail_fdatasync = 1;
    assert_int_equal(sa_store_sync(store, NULL, NULL), SA_ERR_KAFKA_STORAGE_ERROR);
    assert_false(sa_metalog_durable(ms.log, seq));
    assert_int_equal(sa_pid_alloc_next(ms.pids, &pid, &seq), SA_OK);
    assert_int_equal(pid, SA_PID_BLOCK); /* never given to anyone: may be given now */
    assert_int_equal(sa_store_sync(store, NULL, NULL), SA_OK);
    assert_true(sa_metalog_durable(ms.log, seq));
    close_ok();
    open_ok(); /* after a restart: past every id that may have left */
    assert_int_equal(sa_pid_alloc_next(ms.pids, &pid, &seq), SA_OK);
    assert_int_equal(pid, 2 * SA_PID_BLOCK);
    close_ok();
}

/* ---- the dumper's view, unknown kinds ---- */

typedef struct dump_s {
    sa_buf_t text;
} dump_t;

static int describe_visit(void *opaque, int64_t pos, uint8_t kind, const uint8_t *payload, size_t len) {
    (void)pos;
    dump_t *d = opaque;
    sa_buf_printf(&d->text, "%s{", sa_metastore_kind_name(kind));
    assert_int_equal(sa_metastore_describe(kind, payload, len, &d->text), SA_OK);
    sa_buf_append_str(&d->text, "}\n");
    return 0;
}

static void describe_and_unknown_kind(void **state) {
    (void)state;
    open_ok();
    assert_int_equal(sa_offsets_commit(ms.offsets, "g", "t\"q", 2, 10, 4, "Hello\0world!", 12, 77), SA_OK);
    assert_int_equal(sa_offsets_delete(ms.offsets, "g", "t\"q", 2), SA_OK);
    int64_t pid;
    uint64_t seq;
    assert_int_equal(sa_pid_alloc_next(ms.pids, &pid, &seq), SA_OK);
    close_ok();
    dump_t d = {SA_BUF_INIT(0)};
    sa_metalog_scan_t res;
    assert_int_equal(sa_metalog_scan_file(path, describe_visit, &d, &res), SA_OK);
    assert_string_equal(sa_buf_cstr(&d.text),
                        "offset_commit{\"group\":\"g\",\"topic\":\"t\\\"q\",\"partition\":2,\"offset\":10,"
                        "\"leader_epoch\":4,\"commit_time\":77,\"metadata\":\"Hello\\u0000world!\"}\n"
                        "offset_delete{\"group\":\"g\",\"topic\":\"t\\\"q\",\"partition\":2}\n"
                        "producer_ids{\"block_end\":1000}\n");
    sa_buf_free(&d.text);
    assert_null(sa_metastore_kind_name(200));
    /* a record of a kind this version does not know: the broker must not start (it would drop it) */
    assert_int_equal(sa_store_open(dir, NULL, &store, NULL, 0), SA_OK);
    sa_metalog_t *log;
    assert_int_equal(sa_metalog_open(store, "metadata", NULL, &log, NULL, 0), SA_OK);
    assert_int_equal(sa_metalog_append(log, 200, "future", 6, NULL), SA_OK);
    assert_int_equal(sa_metalog_close(log), SA_OK);
    char errstr[256] = "";
    assert_int_equal(sa_metastore_open(&ms, store, NULL, errstr, sizeof(errstr)), SA_ERR_CORRUPT);
    assert_non_null(strstr(errstr, "kind 200"));
    assert_null(ms.log);
    assert_int_equal(sa_store_close(store), SA_OK);
}

/* ---- upgrade from coordinator/ ---- */

static void put_legacy_record(sa_buf_t *b, uint8_t type, const void *payload, size_t len) {
    size_t start = b->len;
    sa_buf_put_be32(b, (uint32_t)(len + 1));
    sa_buf_put_be32(b, 0);
    sa_buf_putc(b, type);
    sa_buf_append(b, payload, len);
    sa_store_be32(b->data + start + 4, sa_crc32c(0, b->data + start + 8, len + 1));
}

static void put_legacy_commit(sa_buf_t *b, const char *g, const char *t, int32_t p, int64_t off,
                              const char *m) {
    sa_buf_t pl = SA_BUF_INIT(0);
    sa_buf_put_be16(&pl, (uint16_t)strlen(g));
    sa_buf_append_str(&pl, g);
    sa_buf_put_be16(&pl, (uint16_t)strlen(t));
    sa_buf_append_str(&pl, t);
    sa_buf_put_be32(&pl, (uint32_t)p);
    sa_buf_put_be64(&pl, (uint64_t)off);
    sa_buf_put_be32(&pl, (uint32_t)-1);
    sa_buf_put_be64(&pl, 123);
    sa_buf_put_be16(&pl, (uint16_t)strlen(m));
    sa_buf_append_str(&pl, m);
    put_legacy_record(b, 1, pl.data, pl.len);
    sa_buf_free(&pl);
}

static void write_file(const char *p, const void *data, size_t len) {
    int fd = open(p, O_WRONLY | O_CREAT | O_TRUNC, 0644);
    assert_true(fd >= 0);
    assert_int_equal(write(fd, data, len), (ssize_t)len);
    close(fd);
}

static void migrates_coordinator_dir(void **state) {
    (void)state;
    char cdir[700], opath[800], ppath[800];
    snprintf(cdir, sizeof(cdir), "%s/coordinator", dir);
    snprintf(opath, sizeof(opath), "%s/offsets.log", cdir);
    snprintf(ppath, sizeof(ppath), "%s/producer-ids", cdir);
    assert_int_equal(mkdir(cdir, 0755), 0);
    sa_buf_t b = SA_BUF_INIT(0);
    sa_buf_append(&b, "SAOFFS01", 8);
    put_legacy_commit(&b, "g1", "t", 0, 10, "a");
    put_legacy_commit(&b, "g1", "t", 0, 11, "b"); /* supersedes */
    put_legacy_commit(&b, "g2", "u", 3, 5, "");
    sa_buf_append(&b, "\0\0\0\x30torn", 8); /* a torn tail, as the old broker could leave */
    write_file(opath, b.data, b.len);
    write_file(ppath, "next=3000\n", 10);
    sa_buf_free(&b);

    open_ok();
    sa_offset_entry_t ent;
    assert_true(sa_offsets_get(ms.offsets, "g1", "t", 0, &ent));
    assert_int_equal(ent.offset, 11);
    assert_memory_equal(ent.metadata, "b", 1);
    assert_true(sa_offsets_get(ms.offsets, "g2", "u", 3, &ent));
    assert_int_equal(ent.offset, 5);
    int64_t pid;
    uint64_t seq;
    assert_int_equal(sa_pid_alloc_next(ms.pids, &pid, &seq), SA_OK);
    assert_int_equal(pid, 3000); /* past every id the old broker may have handed out */
    struct stat st;
    assert_int_equal(stat(opath, &st), -1); /* migrated, then removed */
    assert_int_equal(stat(ppath, &st), -1);
    assert_int_equal(stat(cdir, &st), -1);
    close_ok();
    open_ok(); /* and it is all in metadata.log now */
    assert_true(sa_offsets_get(ms.offsets, "g1", "t", 0, &ent));
    assert_int_equal(ent.offset, 11);
    close_ok();

    /* an old file that is not an offsets log: the broker refuses to start rather than lose it */
    unlink(path);
    assert_int_equal(mkdir(cdir, 0755), 0);
    write_file(opath, "NOTOFFSETS", 10);
    assert_int_equal(sa_store_open(dir, NULL, &store, NULL, 0), SA_OK);
    char errstr[256] = "";
    assert_int_equal(sa_metastore_open(&ms, store, NULL, errstr, sizeof(errstr)), SA_ERR_CORRUPT);
    assert_non_null(strstr(errstr, "offsets.log"));
    assert_int_equal(sa_store_close(store), SA_OK);
    assert_int_equal(stat(opath, &st), 0); /* left where it was */
}

int main(void) {
    sa_log_set_level(getenv("SA_TEST_LOG") ? getenv("SA_TEST_LOG") : "error");
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(commit_get_reopen, setup, teardown),
        cmocka_unit_test_setup_teardown(compaction_bounds_the_log, setup, teardown),
        cmocka_unit_test_setup_teardown(retention_expires_empty_groups_only, setup, teardown),
        cmocka_unit_test_setup_teardown(membership_survives_restart, setup, teardown),
        cmocka_unit_test_setup_teardown(producer_ids_unique, setup, teardown),
        cmocka_unit_test_setup_teardown(describe_and_unknown_kind, setup, teardown),
        cmocka_unit_test_setup_teardown(migrates_coordinator_dir, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
