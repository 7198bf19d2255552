/* Idempotent-producer dedup rules, on the per-partition core (storage/pstate.h): first batch,
 * in-order batches, retries of any of the last five batches answered with their original offsets,
 * gaps, epochs, unknown producers (any sequence, as Kafka), sequence wrap-around, truncation after
 * a failed sync; transaction markers (rule 5), the checks of a WriteTxnMarkers marker, and the
 * listing DescribeProducers answers; expiry
 * (an open transaction is never expired); the snapshot bytes: round trip, and every damaged or
 * truncated form refused. */
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
    /* rule 1: a producer the partition does not know (expired, or its batches deleted) goes on
     * with any sequence, as Kafka since 2.5 */
    assert_int_equal(produce(st, batch(8, 0, 5, 1, 0), &leo, &dup), SA_OK);
    assert_int_equal(produce(st, batch(8, 0, 6, 1, 0), &leo, &dup), SA_OK);
    assert_int_equal(produce(st, batch(8, 0, 9, 1, 0), &leo, &dup), SA_ERR_OUT_OF_ORDER_SEQUENCE_NUMBER);
    leo = 0;
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
    /* rule 6: a producer all of whose batches were cut must start over */
    assert_int_equal(produce(st, batch(6, 0, 0, 5, 0), &leo, &dup), SA_OK);
    sa_pstate_truncate(st, leo - 5);
    assert_int_equal(produce(st, batch(6, 0, 5, 5, 0), &leo, &dup), SA_ERR_UNKNOWN_PRODUCER_ID);
    assert_int_equal(produce(st, batch(6, 0, 0, 5, 0), &leo, &dup), SA_OK);
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
    sa_pstate_marker(st, 3, 0, 0, 1000);
    leo++;
    assert_int_equal(produce(st, batch(3, 0, 2, 2, 0), &leo, &dup), SA_OK); /* goes on */
    sa_pstate_marker(st, 3, 1, 0, 2000);                                    /* bumped */
    leo++;
    assert_int_equal(produce(st, batch(3, 0, 4, 1, 0), &leo, &dup), SA_ERR_INVALID_PRODUCER_EPOCH);
    assert_int_equal(produce(st, batch(3, 1, 4, 1, 0), &leo, &dup), SA_ERR_OUT_OF_ORDER_SEQUENCE_NUMBER);
    assert_int_equal(produce(st, batch(3, 1, 0, 1, 0), &leo, &dup), SA_OK);
    /* a marker of a producer never seen here (its batches were deleted): known, fenced below it */
    sa_pstate_marker(st, 4, 2, 0, 3000);
    assert_int_equal(produce(st, batch(4, 1, 0, 1, 0), &leo, &dup), SA_ERR_INVALID_PRODUCER_EPOCH);
    assert_int_equal(produce(st, batch(4, 2, 0, 1, 0), &leo, &dup), SA_OK);
    /* rebuilding from the log: a control batch is a marker */
    sa_rb_header_t m = batch(3, 2, -1, 1, leo);
    m.Attributes = SA_RB_ATTR_CONTROL | SA_RB_ATTR_TRANSACTIONAL;
    sa_pstate_record(st, &m);
    assert_int_equal(produce(st, batch(3, 1, 1, 1, 0), &leo, &dup), SA_ERR_INVALID_PRODUCER_EPOCH);
    sa_pstate_free(st);
}

/* WriteTxnMarkers' checks (Kafka's appendEndTxnMarker): an older epoch, an older coordinator epoch
 * than the last marker's; an unknown producer passes; a marker records its coordinator epoch. */
static void marker_checks(void **state) {
    (void)state;
    sa_pstate_t *st = sa_pstate_new();
    sa_producer_dup_t dup;
    int64_t leo = 0;
    assert_int_equal(sa_pstate_check_marker(st, 5, 0, -1), SA_OK); /* unknown */
    assert_int_equal(produce(st, batch(5, 3, 0, 1, 0), &leo, &dup), SA_OK);
    assert_int_equal(sa_pstate_check_marker(st, 5, 2, 0), SA_ERR_INVALID_PRODUCER_EPOCH);
    assert_int_equal(sa_pstate_check_marker(st, 5, 3, 0), SA_OK);
    assert_int_equal(sa_pstate_check_marker(st, 5, 4, 0), SA_OK);
    sa_pstate_marker(st, 5, 3, 7, 1000);
    assert_int_equal(sa_pstate_check_marker(st, 5, 3, 6), SA_ERR_TRANSACTION_COORDINATOR_FENCED);
    assert_int_equal(sa_pstate_check_marker(st, 5, 3, 7), SA_OK);
    assert_int_equal(sa_pstate_check_marker(st, 5, 2, 9), SA_ERR_INVALID_PRODUCER_EPOCH);
    sa_buf_t b = SA_BUF_INIT(0);
    assert_int_equal(sa_pstate_list(st, &b), 1);
    assert_int_equal(((const sa_producer_info_t *)b.data)[0].coordinator_epoch, 7);
    sa_buf_reset(&b);
    sa_pstate_encode(st, leo, &b); /* the snapshot keeps it */
    sa_pstate_t *back = NULL;
    int64_t off;
    const char *why;
    assert_int_equal(sa_pstate_decode(b.data, b.len, &back, &off, &why), SA_OK);
    assert_int_equal(sa_pstate_check_marker(back, 5, 3, 6), SA_ERR_TRANSACTION_COORDINATOR_FENCED);
    sa_pstate_free(back);
    sa_buf_free(&b);
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
    sa_pstate_marker(st, 2, 1, 0, 7000);
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

/* Producer 11 has a transaction open (the keep callback says so). */
static int keep_open(void *opaque, int64_t pid) {
    (void)opaque;
    return pid == 11;
}

/* A whole walk in one call. */
static size_t expire(sa_pstate_t *st, int64_t now, int64_t expiration, sa_pstate_keep_cb *keep) {
    size_t pos = 0, budget = SIZE_MAX;
    size_t n = sa_pstate_expire(st, now, expiration, keep, NULL, &pos, &budget);
    assert_int_equal(pos, 0);
    return n;
}

static void expiry_rule(void **state) {
    (void)state;
    sa_pstate_t *st = sa_pstate_new();
    sa_producer_dup_t dup;
    int64_t leo = 0;
    for (int64_t pid = 10; pid < 14; pid++) {
        sa_rb_header_t h = batch(pid, 0, 0, 1, 0);
        h.MaxTimestamp = 1000 * pid; /* 10000, 11000, 12000, 13000 */
        assert_int_equal(produce(st, h, &leo, &dup), SA_OK);
    }
    sa_pstate_marker(st, 13, 0, 0, 20000); /* a marker is a write too */
    /* expiration 5000 at 17000: 10, 11 and 12 are older than 12000; 11 has a transaction open */
    assert_int_equal(expire(st, 17000, 5000, keep_open), 2);
    sa_buf_t b = SA_BUF_INIT(0);
    assert_int_equal(sa_pstate_list(st, &b), 2);
    const sa_producer_info_t *p = (const sa_producer_info_t *)b.data;
    assert_int_equal(p[0].producer_id, 11);
    assert_int_equal(p[1].producer_id, 13);
    /* exactly at the expiration: gone (Kafka: now - last >= expiration) */
    assert_int_equal(expire(st, 25000, 5000, NULL), 2);
    assert_int_equal(sa_pstate_count(st), 0);
    /* an expired producer goes on with its next sequence (rule 1) */
    assert_int_equal(produce(st, batch(10, 0, 1, 1, 0), &leo, &dup), SA_OK);
    /* many, then nearly all expire: the map is rebuilt small, the rest still found */
    for (int64_t pid = 100; pid < 5100; pid++) {
        sa_rb_header_t h = batch(pid, 0, 0, 1, 0);
        h.MaxTimestamp = pid == 5099 ? 90000 : 0;
        assert_int_equal(produce(st, h, &leo, &dup), SA_OK);
    }
    /* in slices of 700: each call looks at 700 at most and goes on where the last one stopped */
    size_t pos = 0, removed = 0;
    int calls = 0;
    do {
        size_t budget = 700;
        removed += sa_pstate_expire(st, 60000, 50000, NULL, NULL, &pos, &budget);
        calls++;
    } while (pos);
    assert_int_equal(removed, 5000); /* 10 and 100..5098 */
    assert_true(calls >= 5000 / 700);
    assert_int_equal(sa_pstate_count(st), 1);
    assert_int_equal(produce(st, batch(5099, 0, 0, 1, 0), &leo, &dup), SA_ERR_DUPLICATE_SEQUENCE_NUMBER);
    sa_buf_free(&b);
    sa_pstate_free(st);
}

/* A state with every kind of entry: full ring, wrapped ring, bumped by a marker, truncated. */
static sa_pstate_t *sample_state(void) {
    sa_pstate_t *st = sa_pstate_new();
    sa_producer_dup_t dup;
    int64_t leo = 0;
    for (int i = 0; i < 7; i++) {
        sa_rb_header_t h = batch(1, 2, i * 3, 3, 0);
        h.MaxTimestamp = 100 + i;
        assert_int_equal(produce(st, h, &leo, &dup), SA_OK);
    }
    assert_int_equal(produce(st, batch(2, 0, 0, 1, 0), &leo, &dup), SA_OK);
    sa_pstate_marker(st, 2, 1, 0, 5000);
    sa_rb_header_t w = batch(3, 0, INT32_MAX - 1, 4, leo); /* wraps */
    sa_pstate_record(st, &w);
    leo += 4;
    return st;
}

static void snapshot_round_trip(void **state) {
    (void)state;
    sa_pstate_t *st = sample_state();
    sa_buf_t a = SA_BUF_INIT(0), b = SA_BUF_INIT(0), la = SA_BUF_INIT(0), lb = SA_BUF_INIT(0);
    sa_pstate_encode(st, 42, &a);
    sa_pstate_t *back = NULL;
    int64_t offset = -1;
    const char *why = NULL;
    assert_int_equal(sa_pstate_decode(a.data, a.len, &back, &offset, &why), SA_OK);
    assert_int_equal(offset, 42);
    /* the same bytes again, the same listing, the same answers */
    sa_pstate_encode(back, 42, &b);
    assert_int_equal(a.len, b.len);
    assert_memory_equal(a.data, b.data, a.len);
    assert_int_equal(sa_pstate_list(st, &la), 3);
    assert_int_equal(sa_pstate_list(back, &lb), 3);
    assert_memory_equal(la.data, lb.data, la.len);
    sa_producer_dup_t dup;
    for (int i = 2; i < 7; i++) { /* the last five batches of producer 1 are duplicates */
        sa_rb_header_t h = batch(1, 2, i * 3, 3, 0);
        assert_int_equal(sa_pstate_check(back, &h, &dup), SA_ERR_DUPLICATE_SEQUENCE_NUMBER);
        assert_int_equal(dup.base_offset, i * 3);
        assert_int_equal(dup.last_offset, i * 3 + 2);
    }
    sa_rb_header_t h = batch(1, 2, 21, 1, 0);
    assert_int_equal(sa_pstate_check(back, &h, &dup), SA_OK);
    h = batch(2, 1, 3, 1, 0); /* bumped: the new epoch starts at 0 */
    assert_int_equal(sa_pstate_check(back, &h, &dup), SA_ERR_OUT_OF_ORDER_SEQUENCE_NUMBER);
    h = batch(3, 0, 2, 1, 0); /* after the wrap */
    assert_int_equal(sa_pstate_check(back, &h, &dup), SA_OK);
    sa_pstate_free(back);
    /* an empty state too */
    sa_pstate_t *empty = sa_pstate_new();
    sa_buf_reset(&a);
    sa_pstate_encode(empty, 0, &a);
    assert_int_equal(sa_pstate_decode(a.data, a.len, &back, &offset, &why), SA_OK);
    assert_int_equal(sa_pstate_count(back), 0);
    sa_pstate_free(back);
    sa_pstate_free(empty);
    sa_buf_free(&a), sa_buf_free(&b), sa_buf_free(&la), sa_buf_free(&lb);
    sa_pstate_free(st);
}

static void snapshot_damage_refused(void **state) {
    (void)state;
    sa_pstate_t *st = sample_state(), *back = (sa_pstate_t *)1;
    sa_buf_t a = SA_BUF_INIT(0);
    sa_pstate_encode(st, 42, &a);
    int64_t offset;
    const char *why = NULL;
    /* every truncation */
    for (size_t len = 0; len < a.len; len++) {
        assert_int_equal(sa_pstate_decode(a.data, len, &back, &offset, &why), SA_ERR_CORRUPT);
        assert_null(back);
        assert_non_null(why);
    }
    /* every single flipped bit */
    for (size_t i = 0; i < a.len; i++)
        for (int bit = 0; bit < 8; bit++) {
            a.data[i] ^= (uint8_t)(1 << bit);
            assert_int_equal(sa_pstate_decode(a.data, a.len, &back, &offset, &why), SA_ERR_CORRUPT);
            assert_null(back);
            a.data[i] ^= (uint8_t)(1 << bit);
        }
    assert_int_equal(sa_pstate_decode(a.data, a.len, &back, &offset, &why), SA_OK);
    sa_pstate_free(back);
    sa_buf_free(&a);
    sa_pstate_free(st);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(in_order_and_retries),   cmocka_unit_test(epochs_and_unknown_producers),
        cmocka_unit_test(sequence_wraps),         cmocka_unit_test(truncate_forgets_unsynced),
        cmocka_unit_test(markers_move_the_epoch), cmocka_unit_test(marker_checks),
        cmocka_unit_test(listed_by_producer_id),  cmocka_unit_test(expiry_rule),
        cmocka_unit_test(snapshot_round_trip),    cmocka_unit_test(snapshot_damage_refused),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
