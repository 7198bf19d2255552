/* The committed-offsets store: commit/get, replay after reopen, torn and corrupt tails cut at
 * open, deletes, compaction keeping the log bounded, and retention through the coordinator. */
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
#include "core/log.h"
#include "harness.h"

static char dir[512], path[600];

static int setup(void **state) {
    (void)state;
    if (th_mkdtemp(dir, sizeof(dir), "offsets") < 0) return -1;
    snprintf(path, sizeof(path), "%s/offsets.log", dir);
    return 0;
}

static int teardown(void **state) {
    (void)state;
    th_rmtree(dir);
    return 0;
}

static sa_offsets_t *open_ok(void) {
    sa_offsets_t *offs = NULL;
    char errstr[256] = "";
    assert_int_equal(sa_offsets_open(dir, &offs, errstr, sizeof(errstr)), SA_OK);
    assert_non_null(offs);
    return offs;
}

static off_t file_size(void) {
    struct stat st;
    assert_int_equal(stat(path, &st), 0);
    return st.st_size;
}

static void commit_get_reopen(void **state) {
    (void)state;
    sa_offsets_t *offs = open_ok();
    sa_offset_entry_t ent;
    assert_false(sa_offsets_get(offs, "g", "t", 0, &ent));
    assert_int_equal(sa_offsets_commit(offs, "g", "t", 0, 42, 3, "meta", 1000), SA_OK);
    assert_int_equal(sa_offsets_commit(offs, "g", "t", 1, 7, -1, NULL, 1000), SA_OK);
    assert_int_equal(sa_offsets_commit(offs, "g", "t", 0, 43, 3, "meta2", 1001), SA_OK);
    assert_int_equal(sa_offsets_commit(offs, "h", "u", 5, 1, -1, "", 1002), SA_OK);
    assert_true(sa_offsets_dirty(offs));
    assert_int_equal(sa_offsets_sync(offs), SA_OK);
    assert_false(sa_offsets_dirty(offs));
    assert_true(sa_offsets_get(offs, "g", "t", 0, &ent));
    assert_int_equal(ent.offset, 43);
    assert_string_equal(ent.metadata, "meta2");
    char big[SA_OFFSETS_METADATA_MAX + 2];
    memset(big, 'x', sizeof(big) - 1);
    big[sizeof(big) - 1] = '\0';
    assert_int_equal(sa_offsets_commit(offs, "g", "t", 0, 99, -1, big, 1003),
                     SA_ERR_OFFSET_METADATA_TOO_LARGE);
    sa_offsets_close(offs);

    offs = open_ok();
    assert_true(sa_offsets_get(offs, "g", "t", 0, &ent));
    assert_int_equal(ent.offset, 43);
    assert_int_equal(ent.leader_epoch, 3);
    assert_int_equal(ent.commit_ts_ms, 1001);
    assert_string_equal(ent.metadata, "meta2");
    assert_true(sa_offsets_get(offs, "g", "t", 1, &ent));
    assert_int_equal(ent.offset, 7);
    assert_string_equal(ent.metadata, "");
    assert_int_equal(sa_offsets_count(offs, "g"), 2);
    assert_int_equal(sa_offsets_count(offs, "h"), 1);
    assert_int_equal(sa_offsets_delete(offs, "g", "t", 1), SA_OK);
    assert_int_equal(sa_offsets_delete_group(offs, "h"), SA_OK);
    sa_offsets_close(offs);

    offs = open_ok();
    assert_int_equal(sa_offsets_count(offs, "g"), 1);
    assert_int_equal(sa_offsets_count(offs, "h"), 0);
    sa_offsets_close(offs);
}

static void torn_and_corrupt_tails(void **state) {
    (void)state;
    sa_offsets_t *offs = open_ok();
    for (int i = 0; i < 10; i++)
        assert_int_equal(sa_offsets_commit(offs, "g", "t", i, 100 + i, -1, "", 1), SA_OK);
    sa_offsets_close(offs);
    off_t good = file_size();
    /* a torn append: half a record at the end */
    assert_int_equal(truncate(path, good - 5), 0);
    offs = open_ok();
    sa_offsets_stats_t st;
    sa_offsets_stats(offs, &st);
    assert_int_equal(st.live, 9);
    assert_true(st.truncated > 0);
    sa_offset_entry_t ent;
    assert_false(sa_offsets_get(offs, "g", "t", 9, &ent));
    assert_true(sa_offsets_get(offs, "g", "t", 8, &ent));
    /* the log keeps working after the cut */
    assert_int_equal(sa_offsets_commit(offs, "g", "t", 9, 555, -1, "", 2), SA_OK);
    sa_offsets_close(offs);
    offs = open_ok();
    assert_true(sa_offsets_get(offs, "g", "t", 9, &ent));
    assert_int_equal(ent.offset, 555);
    sa_offsets_close(offs);
    /* a flipped bit in the middle: everything from that record on is cut */
    off_t size = file_size();
    FILE *fp = fopen(path, "r+b");
    assert_non_null(fp);
    fseek(fp, size / 2, SEEK_SET);
    int c = fgetc(fp);
    fseek(fp, size / 2, SEEK_SET);
    fputc(c ^ 0x40, fp);
    fclose(fp);
    offs = open_ok();
    sa_offsets_stats(offs, &st);
    assert_true(st.live < 10 && st.live > 0);
    assert_true(st.truncated > 0);
    sa_offsets_close(offs);
    /* not an offsets log at all: refused, not overwritten */
    fp = fopen(path, "wb");
    fputs("this is not an offsets log", fp);
    fclose(fp);
    sa_offsets_t *bad = NULL;
    char errstr[256] = "";
    assert_int_equal(sa_offsets_open(dir, &bad, errstr, sizeof(errstr)), SA_ERR_IO);
    assert_null(bad);
    assert_non_null(strstr(errstr, "magic"));
    unlink(path);
}

static void compaction_bounds_the_log(void **state) {
    (void)state;
    sa_offsets_t *offs = open_ok();
    assert_int_equal(sa_offsets_put_group_meta(offs, "group", "MEMBERS", 7), SA_OK); /* kept by compaction */
    /* 100k commits to the same 10 partitions: far past the 1 MiB compaction threshold */
    for (int i = 0; i < 100000; i++) {
        assert_int_equal(sa_offsets_commit(offs, "group", "topic", i % 10, i, -1, "", i), SA_OK);
        if (i % 100 == 99) assert_int_equal(sa_offsets_sync(offs), SA_OK);
    }
    sa_offsets_stats_t st;
    sa_offsets_stats(offs, &st);
    assert_true(st.compactions >= 1);
    assert_int_equal(st.live, 10);
    assert_true(st.bytes < 2 * 1024 * 1024);
    sa_offsets_close(offs);
    assert_true(file_size() < 2 * 1024 * 1024);
    offs = open_ok();
    sa_offset_entry_t ent;
    for (int p = 0; p < 10; p++) {
        assert_true(sa_offsets_get(offs, "group", "topic", p, &ent));
        assert_int_equal(ent.offset, 99990 + p);
    }
    size_t mlen;
    const uint8_t *meta = sa_offsets_group_meta(offs, "group", &mlen);
    assert_non_null(meta);
    assert_int_equal(mlen, 7);
    assert_memory_equal(meta, "MEMBERS", 7);
    sa_offsets_close(offs);
    unlink(path);
}

static void retention_expires_empty_groups_only(void **state) {
    (void)state;
    sa_offsets_t *offs = open_ok();
    int64_t old = 1000; /* wall ms: long ago */
    assert_int_equal(sa_offsets_commit(offs, "idle", "t", 0, 5, -1, "", old), SA_OK);
    assert_int_equal(sa_offsets_sync(offs), SA_OK);
    sa_gcoord_conf_t conf;
    sa_gcoord_conf_defaults(&conf);
    conf.offsets_retention_ms = 60000;
    conf.retention_check_ms = 1000;
    conf.initial_rebalance_delay_ms = 0;
    /* the coordinator knows the group from its offsets, as Empty; it became Empty "now", so
     * retention counts from now: nothing expires at the first pass */
    sa_gcoord_t *gc = sa_gcoord_new(&conf, offs, 0);
    assert_true(sa_gcoord_group_exists(gc, "idle"));
    sa_gcoord_tick(gc, 1000);
    assert_int_equal(sa_offsets_count(offs, "idle"), 1);
    sa_gcoord_free(gc);
    /* with a retention shorter than the time since the group became Empty, it expires */
    conf.offsets_retention_ms = -1000000; /* "the group became empty long enough ago" */
    gc = sa_gcoord_new(&conf, offs, 0);
    sa_gcoord_tick(gc, 1000);
    assert_int_equal(sa_offsets_count(offs, "idle"), 0);
    assert_false(sa_gcoord_group_exists(gc, "idle"));
    sa_gcoord_free(gc);
    sa_offsets_close(offs);
    offs = open_ok(); /* the expiry is durable */
    assert_int_equal(sa_offsets_count(offs, "idle"), 0);
    sa_offsets_close(offs);
    unlink(path);
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
    unlink(path);
    sa_offsets_t *offs = open_ok();
    sa_gcoord_conf_t conf;
    sa_gcoord_conf_defaults(&conf);
    conf.initial_rebalance_delay_ms = 0;
    sa_gcoord_t *gc = sa_gcoord_new(&conf, offs, 0);
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
    assert_int_equal(sa_offsets_commit(offs, "g", "t", 0, 5, -1, "", 1), SA_OK);
    sa_gcoord_free(gc);
    sa_offsets_close(offs); /* the broker stops (or dies: the record was written before) */

    offs = open_ok();
    gc = sa_gcoord_new(&conf, offs, 100000);
    sa_group_desc_t d;
    sa_gcoord_describe(gc, "g", &d);
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
    sa_gcoord_describe(gc, "g", &d);
    assert_string_equal(d.GroupState, "Empty");
    sa_gcoord_desc_free(&d);
    sa_gcoord_free(gc);
    sa_offsets_close(offs);

    /* the Empty generation is remembered too, so generations never go back */
    offs = open_ok();
    gc = sa_gcoord_new(&conf, offs, 0);
    joined = 0;
    sa_gcoord_join(gc, &jr, 0, on_join, (void *)1);
    assert_int_equal(joined, 1);
    assert_int_equal(generation, 3);
    sa_gcoord_free(gc);

    /* an unreadable record is ignored: the group starts Empty, its offsets stay */
    assert_int_equal(sa_offsets_put_group_meta(offs, "junk", "\x01\x03zz", 4), SA_OK);
    assert_int_equal(sa_offsets_commit(offs, "junk", "t", 0, 9, -1, "", 1), SA_OK);
    gc = sa_gcoord_new(&conf, offs, 0);
    sa_gcoord_describe(gc, "junk", &d);
    assert_string_equal(d.GroupState, "Empty");
    sa_gcoord_desc_free(&d);
    sa_offset_entry_t ent;
    assert_true(sa_offsets_get(offs, "junk", "t", 0, &ent));
    /* deleting the group removes its membership record with its offsets */
    assert_int_equal(sa_gcoord_delete_group(gc, "g"), SA_OK);
    size_t len;
    assert_null(sa_offsets_group_meta(offs, "g", &len));
    sa_gcoord_free(gc);
    sa_offsets_close(offs);
    unlink(path);
}

int main(void) {
    sa_log_set_level(getenv("SA_TEST_LOG") ? getenv("SA_TEST_LOG") : "error");
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(commit_get_reopen),           cmocka_unit_test(torn_and_corrupt_tails),
        cmocka_unit_test(compaction_bounds_the_log),   cmocka_unit_test(retention_expires_empty_groups_only),
        cmocka_unit_test(membership_survives_restart),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
