/* Idempotent-producer dedup rules, on the per-partition core: first batch, in-order batches,
 * retries of any of the last five batches answered with their original offsets, gaps, epochs,
 * unknown producers, sequence wrap-around, truncation after a failed sync; transaction markers
 * (rule 5) and the listing DescribeProducers answers. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "broker/producer_state.h"
#include "core/buf.h"
#include "proto/record_batch.h"

static sa_rb_header_t batch(int64_t pid, int16_t epoch, int32_t seq, int32_t nrecs, int64_t base_offset) {
    sa_rb_header_t h;
    memset(&h, 0, sizeof(h));
    h.ProducerId = pid;
    h.ProducerEpoch = epoch;
    h.BaseSequence = seq;
    h.LastOffsetDelta = nrecs - 1;
    h.RecordsCount = nrecs;
    h.BaseOffset = base_offset;
    h.Magic = 2;
    return h;
}

/* check + record as the produce handler does; @returns the check's result */
static sa_err_t produce(sa_pstate_t *st, sa_rb_header_t h, int64_t *leo, sa_producer_dup_t *dup) {
    sa_err_t err = sa_pstate_check(st, &h, dup);
    if (err) return err;
    h.BaseOffset = *leo;
    sa_pstate_record(st, &h);
    *leo += h.LastOffsetDelta + 1;
    return SA_OK;
}

static void in_order_and_retries(void **state) {
    (void)state;
    sa_pstate_t *st = sa_pstate_new();
    sa_producer_dup_t dup;
    int64_t leo = 100;
    assert_int_equal(produce(st, batch(7, 0, 0, 10, 0), &leo, &dup), SA_OK); /* 100..109 */
    for (int i = 1; i <= 8; i++) assert_int_equal(produce(st, batch(7, 0, i * 10, 10, 0), &leo, &dup), SA_OK);
    assert_int_equal(leo, 190);
    /* a retry of each of the last five batches is recognised, with its original offsets */
    for (int i = 4; i <= 8; i++) {
        assert_int_equal(produce(st, batch(7, 0, i * 10, 10, 0), &leo, &dup),
                         SA_ERR_DUPLICATE_SEQUENCE_NUMBER);
        assert_int_equal(dup.base_offset, 100 + i * 10);
        assert_int_equal(dup.last_offset, 109 + i * 10);
    }
    assert_int_equal(leo, 190); /* nothing written twice */
    /* older than the window: no longer provable, so out of order */
    assert_int_equal(produce(st, batch(7, 0, 30, 10, 0), &leo, &dup), SA_ERR_OUT_OF_ORDER_SEQUENCE_NUMBER);
    /* a gap */
    assert_int_equal(produce(st, batch(7, 0, 100, 10, 0), &leo, &dup), SA_ERR_OUT_OF_ORDER_SEQUENCE_NUMBER);
    /* the same first sequence with a different length is not a duplicate */
    assert_int_equal(produce(st, batch(7, 0, 80, 5, 0), &leo, &dup), SA_ERR_OUT_OF_ORDER_SEQUENCE_NUMBER);
    assert_int_equal(produce(st, batch(7, 0, 90, 1, 0), &leo, &dup), SA_OK);
    /* batches without a producer id are never checked */
    assert_int_equal(produce(st, batch(-1, -1, -1, 3, 0), &leo, &dup), SA_OK);
    sa_pstate_free(st);
}

static void epochs_and_unknown_producers(void **state) {
    (void)state;
    sa_pstate_t *st = sa_pstate_new();
    sa_producer_dup_t dup;
    int64_t leo = 0;
    assert_int_equal(produce(st, batch(1, 0, 5, 1, 0), &leo, &dup), SA_ERR_UNKNOWN_PRODUCER_ID);
    assert_int_equal(produce(st, batch(1, 3, 0, 2, 0), &leo, &dup), SA_OK);
    assert_int_equal(produce(st, batch(1, 3, 2, 2, 0), &leo, &dup), SA_OK);
    assert_int_equal(produce(st, batch(1, 2, 4, 2, 0), &leo, &dup), SA_ERR_INVALID_PRODUCER_EPOCH);
    assert_int_equal(produce(st, batch(1, 4, 7, 2, 0), &leo, &dup), SA_ERR_OUT_OF_ORDER_SEQUENCE_NUMBER);
    assert_int_equal(produce(st, batch(1, 4, 0, 2, 0), &leo, &dup), SA_OK); /* a new epoch restarts at 0 */
    assert_int_equal(produce(st, batch(1, 4, 0, 2, 0), &leo, &dup), SA_ERR_DUPLICATE_SEQUENCE_NUMBER);
    assert_int_equal(dup.base_offset, 4);
    assert_int_equal(produce(st, batch(1, 3, 4, 2, 0), &leo, &dup), SA_ERR_INVALID_PRODUCER_EPOCH);
    /* another producer is independent */
    assert_int_equal(produce(st, batch(2, 0, 0, 1, 0), &leo, &dup), SA_OK);
    sa_pstate_free(st);
}

static void sequence_wraps(void **state) {
    (void)state;
    sa_pstate_t *st = sa_pstate_new();
    sa_producer_dup_t dup;
    int64_t leo = 0;
    sa_rb_header_t h = batch(9, 0, INT32_MAX - 4, 5, 0); /* rebuilt state: any sequence recorded */
    sa_pstate_record(st, &h);
    leo = 5;
    assert_int_equal(produce(st, batch(9, 0, 0, 3, 0), &leo, &dup), SA_OK);
    assert_int_equal(produce(st, batch(9, 0, 3, 1, 0), &leo, &dup), SA_OK);
    sa_pstate_free(st);
}

static void truncate_forgets_unsynced(void **state) {
    (void)state;
    sa_pstate_t *st = sa_pstate_new();
    sa_producer_dup_t dup;
    int64_t leo = 0;
    assert_int_equal(produce(st, batch(5, 0, 0, 10, 0), &leo, &dup), SA_OK);  /* 0..9 */
    assert_int_equal(produce(st, batch(5, 0, 10, 10, 0), &leo, &dup), SA_OK); /* 10..19 */
    sa_pstate_truncate(st, 10); /* the sync failed: 10.. were cut from the log */
    leo = 10;
    /* the retry must be written again, not answered as a duplicate of data that is gone */
    assert_int_equal(produce(st, batch(5, 0, 10, 10, 0), &leo, &dup), SA_OK);
    assert_int_equal(produce(st, batch(5, 0, 0, 10, 0), &leo, &dup), SA_ERR_DUPLICATE_SEQUENCE_NUMBER);
    sa_pstate_free(st);
}

/* Rule 5: a marker of the same epoch changes nothing (EndTxn v0-4: sequences go on); a newer one
 * (EndTxn v5, a fence) fences the old epoch and the sequences restart at 0. */
static void markers_move_the_epoch(void **state) {
    (void)state;
    sa_pstate_t *st = sa_pstate_new();
    sa_producer_dup_t dup;
    int64_t leo = 0;
    assert_int_equal(produce(st, batch(3, 0, 0, 2, 0), &leo, &dup), SA_OK);
    sa_pstate_marker(st, 3, 0, 1000);
    leo++;
    assert_int_equal(produce(st, batch(3, 0, 2, 2, 0), &leo, &dup), SA_OK); /* goes on */
    sa_pstate_marker(st, 3, 1, 2000);                                       /* bumped */
    leo++;
    assert_int_equal(produce(st, batch(3, 0, 4, 1, 0), &leo, &dup), SA_ERR_INVALID_PRODUCER_EPOCH);
    assert_int_equal(produce(st, batch(3, 1, 4, 1, 0), &leo, &dup), SA_ERR_OUT_OF_ORDER_SEQUENCE_NUMBER);
    assert_int_equal(produce(st, batch(3, 1, 0, 1, 0), &leo, &dup), SA_OK);
    /* a marker of a producer never seen here (its batches were deleted): known, fenced below it */
    sa_pstate_marker(st, 4, 2, 3000);
    assert_int_equal(produce(st, batch(4, 1, 0, 1, 0), &leo, &dup), SA_ERR_INVALID_PRODUCER_EPOCH);
    assert_int_equal(produce(st, batch(4, 2, 0, 1, 0), &leo, &dup), SA_OK);
    /* rebuilding from the log: a control batch is a marker */
    sa_rb_header_t m = batch(3, 2, -1, 1, leo);
    m.Attributes = SA_RB_ATTR_CONTROL | SA_RB_ATTR_TRANSACTIONAL;
    sa_pstate_record(st, &m);
    assert_int_equal(produce(st, batch(3, 1, 1, 1, 0), &leo, &dup), SA_ERR_INVALID_PRODUCER_EPOCH);
    sa_pstate_free(st);
}

static void listed_by_producer_id(void **state) {
    (void)state;
    sa_pstate_t *st = sa_pstate_new();
    sa_producer_dup_t dup;
    int64_t leo = 0;
    sa_rb_header_t h = batch(9, 1, 0, 3, 0);
    h.MaxTimestamp = 5000;
    assert_int_equal(produce(st, h, &leo, &dup), SA_OK);
    assert_int_equal(produce(st, batch(2, 0, 0, 1, 0), &leo, &dup), SA_OK); /* MaxTimestamp 0 */
    sa_pstate_marker(st, 2, 1, 7000);
    sa_buf_t b = SA_BUF_INIT(0);
    assert_int_equal(sa_pstate_list(st, &b), 2);
    const sa_producer_info_t *p = (const sa_producer_info_t *)b.data;
    assert_int_equal(p[0].producer_id, 2); /* the fence emptied its window */
    assert_int_equal(p[0].epoch, 1);
    assert_int_equal(p[0].last_sequence, -1);
    assert_int_equal(p[0].last_timestamp, 7000);
    assert_int_equal(p[0].coordinator_epoch, 0);
    assert_int_equal(p[1].producer_id, 9);
    assert_int_equal(p[1].epoch, 1);
    assert_int_equal(p[1].last_sequence, 2);
    assert_int_equal(p[1].last_timestamp, 5000);
    assert_int_equal(p[1].coordinator_epoch, -1);
    sa_buf_free(&b);
    sa_pstate_free(st);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(in_order_and_retries),   cmocka_unit_test(epochs_and_unknown_producers),
        cmocka_unit_test(sequence_wraps),         cmocka_unit_test(truncate_forgets_unsynced),
        cmocka_unit_test(markers_move_the_epoch), cmocka_unit_test(listed_by_producer_id),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
