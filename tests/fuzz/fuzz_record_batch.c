/*
 * fuzz_record_batch.c - libFuzzer driver for record batches (src/proto/record_batch.h).
 *
 * The input is what a Produce request's records field or a segment file holds: batches back to
 * back. Every batch goes through the producer-side check (sa_rb_validate) and the reader
 * (decompression capped at 1 MiB, every record and header). Invariants beyond "no crash, no read
 * past the input": a batch that validates still validates after the broker's in-place rewrites;
 * its records, rebuilt uncompressed with sa_rb_build, read back identical. The first input byte
 * also drives sa_rb_decompress directly on the rest, for each codec.
 *
 * Built as a libFuzzer target with SAMSA_FUZZ=ON and always as a corpus replayer, ctest
 * fuzz-smoke.record_batch (tests/fuzz/replay.cmake).
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "proto/record_batch.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define CAP      (1u << 20)
#define MAX_RECS 256

static void check_batch(const uint8_t *batch, size_t len) {
    sa_rb_header_t hdr;
    int valid = sa_rb_validate(batch, len, &hdr, NULL, 0) == SA_OK;
    if (valid) {
        len = sa_rb_size(&hdr); /* the input may hold more after this batch */
        uint8_t *copy = malloc(len);
        memcpy(copy, batch, len);
        sa_rb_set_base_offset(copy, 12345);
        sa_rb_set_leader_epoch(copy, 7);
        if (sa_rb_validate(copy, len, &hdr, NULL, 0) != SA_OK) abort();
        sa_rb_set_log_append_time(copy, len, 1700000000000);
        if (sa_rb_validate(copy, len, &hdr, NULL, 0) != SA_OK || hdr.MaxTimestamp != 1700000000000) abort();
        free(copy);
    }
    sa_rb_records_t rr;
    sa_rb_record_t rec;
    sa_rb_rec_in_t in[MAX_RECS];
    sa_rb_kv_t kvs[MAX_RECS][4];
    size_t n = 0;
    int whole = 1;
    if (sa_rb_records_open(&rr, batch, len, CAP, NULL, 0) == SA_OK) {
        sa_err_t err;
        while ((err = sa_rb_records_next(&rr, &rec)) == SA_OK) {
            const uint8_t *hp = rec.headers;
            size_t hl = rec.headers_len;
            if (n < MAX_RECS && rec.HeadersCount <= 4) {
                in[n] = (sa_rb_rec_in_t){rec.Key, rec.KeyLength,    rec.Value,    rec.ValueLength,
                                         kvs[n],  rec.HeadersCount, rec.Timestamp};
                for (int32_t i = 0; i < rec.HeadersCount; i++)
                    if (sa_rb_kv_next(&hp, &hl, &kvs[n][i]) != SA_OK) abort(); /* checked by next() */
                n++;
            } else {
                whole = 0;
            }
        }
        if (err != SA_ERR_NOT_FOUND) whole = 0;
        /* Rebuild what was read and read it back: the codec must agree with itself. */
        if (whole && n > 0 && (size_t)rr.hdr.RecordsCount == n && rr.hdr.Attributes >= 0 &&
            !(rr.hdr.Attributes & SA_RB_ATTR_LOG_APPEND_TIME)) {
            sa_buf_t out = SA_BUF_INIT(0);
            sa_rb_build_opts_t opts = SA_RB_BUILD_OPTS_INIT;
            if (sa_rb_build(&out, &opts, in, n) == SA_OK) {
                sa_rb_records_t r2;
                sa_rb_record_t rec2;
                if (sa_rb_validate(out.data, out.len, &hdr, NULL, 0) != SA_OK) abort();
                if (sa_rb_records_open(&r2, out.data, out.len, CAP, NULL, 0) != SA_OK) abort();
                for (size_t i = 0; i < n; i++) {
                    if (sa_rb_records_next(&r2, &rec2) != SA_OK) abort();
                    if (rec2.Timestamp != in[i].timestamp || rec2.KeyLength != in[i].key_len ||
                        rec2.ValueLength != in[i].value_len || rec2.HeadersCount != in[i].header_count ||
                        (rec2.KeyLength > 0 && memcmp(rec2.Key, in[i].key, (size_t)rec2.KeyLength)) ||
                        (rec2.ValueLength > 0 && memcmp(rec2.Value, in[i].value, (size_t)rec2.ValueLength)))
                        abort();
                }
                if (sa_rb_records_next(&r2, &rec2) != SA_ERR_NOT_FOUND) abort();
                sa_rb_records_close(&r2);
            }
            sa_buf_free(&out);
        }
    }
    sa_rb_records_close(&rr);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    sa_rb_iter_t it;
    sa_rb_header_t hdr;
    const uint8_t *batch;
    sa_rb_iter_init(&it, data, size);
    while (sa_rb_iter_next(&it, &hdr, &batch) == SA_OK) check_batch(batch, sa_rb_size(&hdr));
    /* A lone (possibly torn) batch at the start, as recovery meets it. */
    if (size) check_batch(data, size);
    if (size > 1) {
        sa_buf_t out = SA_BUF_INIT(CAP);
        sa_rb_decompress(1 + data[0] % 4, data + 1, size - 1, &out);
        if (out.len > CAP) abort();
        sa_buf_free(&out);
    }
    return 0;
}
