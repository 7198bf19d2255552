/* Record batches v2: build/parse round trips, CRC, every codec, rewrites, and rejects. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>
#include <snappy-c.h>

#include "core/crc32c.h"
#include "proto/record_batch.h"

static const sa_rb_kv_t hdrs[2] = {
    {(const uint8_t *)"trace", 5, (const uint8_t *)"abc", 3},
    {(const uint8_t *)"empty", 5, NULL, -1},
};

/* Three records: a normal one with headers, a null key, a null value. */
static void three_records(sa_rb_rec_in_t recs[3]) {
    memset(recs, 0, 3 * sizeof(*recs));
    recs[0] = (sa_rb_rec_in_t){"k1", 2, "hello world", 11, hdrs, 2, 1700000000000};
    recs[1] = (sa_rb_rec_in_t){NULL, -1, "второе", (int32_t)strlen("второе"), NULL, 0, 1700000000005};
    recs[2] = (sa_rb_rec_in_t){"k3", 2, NULL, -1, NULL, 0, 1699999999990};
}

static void build(sa_buf_t *out, int codec, int64_t base) {
    sa_rb_rec_in_t recs[3];
    three_records(recs);
    sa_rb_build_opts_t opts = SA_RB_BUILD_OPTS_INIT;
    opts.compression = codec;
    opts.base_offset = base;
    opts.producer_id = 42;
    opts.producer_epoch = 3;
    opts.base_sequence = 7;
    assert_int_equal(sa_rb_build(out, &opts, recs, 3), SA_OK);
}

static void check_records(const uint8_t *batch, size_t len, int64_t base) {
    sa_rb_records_t rr;
    sa_rb_record_t rec;
    assert_int_equal(sa_rb_records_open(&rr, batch, len, 1 << 20, NULL, 0), SA_OK);
    assert_int_equal(sa_rb_records_next(&rr, &rec), SA_OK);
    assert_int_equal(rec.Offset, base);
    assert_int_equal(rec.Timestamp, 1700000000000);
    assert_int_equal(rec.KeyLength, 2);
    assert_memory_equal(rec.Key, "k1", 2);
    assert_int_equal(rec.ValueLength, 11);
    assert_memory_equal(rec.Value, "hello world", 11);
    assert_int_equal(rec.HeadersCount, 2);
    const uint8_t *hp = rec.headers;
    size_t hl = rec.headers_len;
    sa_rb_kv_t kv;
    assert_int_equal(sa_rb_kv_next(&hp, &hl, &kv), SA_OK);
    assert_int_equal(kv.key_len, 5);
    assert_memory_equal(kv.key, "trace", 5);
    assert_int_equal(kv.value_len, 3);
    assert_int_equal(sa_rb_kv_next(&hp, &hl, &kv), SA_OK);
    assert_int_equal(kv.value_len, -1);
    assert_int_equal(hl, 0);
    assert_int_equal(sa_rb_records_next(&rr, &rec), SA_OK);
    assert_int_equal(rec.Offset, base + 1);
    assert_int_equal(rec.KeyLength, -1);
    assert_null(rec.Key);
    assert_int_equal(rec.ValueLength, (int)strlen("второе"));
    assert_int_equal(sa_rb_records_next(&rr, &rec), SA_OK);
    assert_int_equal(rec.Offset, base + 2);
    assert_int_equal(rec.Timestamp, 1699999999990);
    assert_int_equal(rec.ValueLength, -1);
    assert_int_equal(sa_rb_records_next(&rr, &rec), SA_ERR_NOT_FOUND);
    sa_rb_records_close(&rr);
}

static void build_parse_roundtrip(void **state) {
    (void)state;
    sa_buf_t b = SA_BUF_INIT(0);
    build(&b, SA_RB_COMPRESSION_NONE, 100);
    sa_rb_header_t hdr;
    assert_int_equal(sa_rb_validate(b.data, b.len, &hdr, NULL, 0), SA_OK);
    assert_int_equal(sa_rb_size(&hdr), b.len);
    assert_int_equal(hdr.BaseOffset, 100);
    assert_int_equal(hdr.Magic, 2);
    assert_int_equal(hdr.LastOffsetDelta, 2);
    assert_int_equal(hdr.RecordsCount, 3);
    assert_int_equal(hdr.BaseTimestamp, 1699999999990);
    assert_int_equal(hdr.MaxTimestamp, 1700000000005);
    assert_int_equal(hdr.ProducerId, 42);
    assert_int_equal(hdr.ProducerEpoch, 3);
    assert_int_equal(hdr.BaseSequence, 7);
    assert_int_equal(hdr.Crc, sa_crc32c(0, b.data + 21, b.len - 21));
    check_records(b.data, b.len, 100);
    sa_buf_free(&b);
}

static void every_codec(void **state) {
    (void)state;
    for (int codec = SA_RB_COMPRESSION_NONE; codec <= SA_RB_COMPRESSION_ZSTD; codec++) {
        sa_buf_t b = SA_BUF_INIT(0);
        build(&b, codec, 5);
        sa_rb_header_t hdr;
        assert_int_equal(sa_rb_validate(b.data, b.len, &hdr, NULL, 0), SA_OK);
        assert_int_equal(sa_rb_compression(&hdr), codec);
        check_records(b.data, b.len, 5);
        /* A cap below the decompressed size is refused, not overrun. */
        if (codec != SA_RB_COMPRESSION_NONE) {
            sa_rb_records_t rr;
            assert_int_equal(sa_rb_records_open(&rr, b.data, b.len, 8, NULL, 0), SA_ERR_TOOBIG);
            sa_rb_records_close(&rr);
        }
        sa_buf_free(&b);
    }
}

/* Kafka's Java client frames snappy the xerial way; rebuild a batch in that framing. */
static void snappy_xerial_framing(void **state) {
    (void)state;
    sa_buf_t plain = SA_BUF_INIT(0);
    build(&plain, SA_RB_COMPRESSION_NONE, 0);
    const uint8_t *body = plain.data + SA_RB_HEADER_SIZE;
    size_t body_len = plain.len - SA_RB_HEADER_SIZE;
    /* Two xerial blocks, to cover the block loop. */
    sa_buf_t framed = SA_BUF_INIT(0);
    const uint8_t magic[8] = {0x82, 'S', 'N', 'A', 'P', 'P', 'Y', 0};
    sa_buf_append(&framed, magic, 8);
    sa_buf_put_be32(&framed, 1);
    sa_buf_put_be32(&framed, 1);
    size_t half = body_len / 2;
    for (int i = 0; i < 2; i++) {
        const uint8_t *src = i ? body + half : body;
        size_t n = i ? body_len - half : half;
        size_t clen = snappy_max_compressed_length(n);
        char *c = malloc(clen);
        assert_int_equal(snappy_compress((const char *)src, n, c, &clen), SNAPPY_OK);
        sa_buf_put_be32(&framed, (uint32_t)clen);
        sa_buf_append(&framed, c, clen);
        free(c);
    }
    sa_buf_t batch = SA_BUF_INIT(0);
    sa_buf_append(&batch, plain.data, SA_RB_HEADER_SIZE);
    sa_buf_append(&batch, framed.data, framed.len);
    sa_store_be32(batch.data + 8, (uint32_t)(batch.len - 12));
    sa_store_be16(batch.data + 21, SA_RB_COMPRESSION_SNAPPY);
    sa_store_be32(batch.data + 17, sa_rb_crc_compute(batch.data, batch.len));
    sa_rb_header_t hdr;
    assert_int_equal(sa_rb_validate(batch.data, batch.len, &hdr, NULL, 0), SA_OK);
    check_records(batch.data, batch.len, 0);
    sa_buf_free(&plain);
    sa_buf_free(&framed);
    sa_buf_free(&batch);
}

static void crc_catches_every_bit_flip(void **state) {
    (void)state;
    sa_buf_t b = SA_BUF_INIT(0);
    build(&b, SA_RB_COMPRESSION_NONE, 0);
    sa_rb_header_t hdr;
    for (size_t byte = SA_RB_CRC_START; byte < b.len; byte++)
        for (int bit = 0; bit < 8; bit++) {
            b.data[byte] ^= (uint8_t)(1 << bit);
            sa_err_t err = sa_rb_validate(b.data, b.len, &hdr, NULL, 0);
            assert_int_not_equal(err, SA_OK);
            b.data[byte] ^= (uint8_t)(1 << bit);
        }
    /* The stored CRC itself. */
    for (int bit = 0; bit < 32; bit++) {
        b.data[17 + bit / 8] ^= (uint8_t)(1 << (bit % 8));
        assert_int_equal(sa_rb_validate(b.data, b.len, &hdr, NULL, 0), SA_ERR_CORRUPT_MESSAGE);
        b.data[17 + bit / 8] ^= (uint8_t)(1 << (bit % 8));
    }
    assert_int_equal(sa_rb_validate(b.data, b.len, &hdr, NULL, 0), SA_OK);
    sa_buf_free(&b);
}

static void rewrites_in_place(void **state) {
    (void)state;
    sa_buf_t b = SA_BUF_INIT(0);
    build(&b, SA_RB_COMPRESSION_LZ4, 0);
    sa_rb_header_t hdr;
    sa_rb_set_base_offset(b.data, 123456789012LL);
    sa_rb_set_leader_epoch(b.data, 9);
    assert_int_equal(sa_rb_validate(b.data, b.len, &hdr, NULL, 0), SA_OK); /* outside the CRC */
    assert_int_equal(hdr.BaseOffset, 123456789012LL);
    assert_int_equal(hdr.PartitionLeaderEpoch, 9);
    sa_rb_set_log_append_time(b.data, b.len, 1800000000000);
    assert_int_equal(sa_rb_validate(b.data, b.len, &hdr, NULL, 0), SA_OK);
    assert_true(hdr.Attributes & SA_RB_ATTR_LOG_APPEND_TIME);
    assert_int_equal(hdr.MaxTimestamp, 1800000000000);
    sa_rb_records_t rr;
    sa_rb_record_t rec;
    assert_int_equal(sa_rb_records_open(&rr, b.data, b.len, 1 << 20, NULL, 0), SA_OK);
    while (sa_rb_records_next(&rr, &rec) == SA_OK) assert_int_equal(rec.Timestamp, 1800000000000);
    sa_rb_records_close(&rr);
    sa_buf_free(&b);
}

static void rejects(void **state) {
    (void)state;
    sa_buf_t b = SA_BUF_INIT(0);
    build(&b, SA_RB_COMPRESSION_NONE, 0);
    sa_rb_header_t hdr;
    /* Short input: torn for a reader, corrupt for a producer. */
    for (size_t n = 0; n < b.len; n++) {
        assert_int_equal(sa_rb_parse_header(b.data, n, &hdr, NULL, 0), SA_ERR_AGAIN);
        assert_int_equal(sa_rb_validate(b.data, n, &hdr, NULL, 0), SA_ERR_CORRUPT_MESSAGE);
    }
    /* Old message formats and unknown magic. */
    char err[256];
    for (int magic = 0; magic < 4; magic++) {
        uint8_t save = b.data[16];
        b.data[16] = (uint8_t)magic;
        sa_err_t e = sa_rb_validate(b.data, b.len, &hdr, err, sizeof(err));
        assert_int_equal(e, magic < 2    ? SA_ERR_UNSUPPORTED_FOR_MESSAGE_FORMAT
                            : magic == 2 ? SA_OK
                                         : SA_ERR_CORRUPT_MESSAGE);
        b.data[16] = save;
    }
    /* BatchLength below the header. */
    uint32_t save_len = sa_load_be32(b.data + 8);
    sa_store_be32(b.data + 8, 10);
    assert_int_equal(sa_rb_parse_header(b.data, b.len, &hdr, NULL, 0), SA_ERR_CORRUPT_MESSAGE);
    sa_store_be32(b.data + 8, 0xffffffffu);
    assert_int_equal(sa_rb_parse_header(b.data, b.len, &hdr, NULL, 0), SA_ERR_CORRUPT_MESSAGE);
    sa_store_be32(b.data + 8, save_len);
    /* LastOffsetDelta that disagrees with RecordsCount (CRC made valid again). */
    sa_store_be32(b.data + 23, 5);
    sa_store_be32(b.data + 17, sa_rb_crc_compute(b.data, b.len));
    assert_int_equal(sa_rb_validate(b.data, b.len, &hdr, err, sizeof(err)), SA_ERR_INVALID_RECORD);
    assert_non_null(strstr(err, "LastOffsetDelta"));
    sa_buf_free(&b);

    /* Garbage in a compressed batch: an error, never a crash. */
    for (int codec = 1; codec <= 5; codec++) {
        sa_buf_t g = SA_BUF_INIT(0);
        build(&g, SA_RB_COMPRESSION_NONE, 0);
        sa_store_be16(g.data + 21, (uint16_t)codec);
        sa_store_be32(g.data + 17, sa_rb_crc_compute(g.data, g.len));
        sa_rb_records_t rr;
        sa_err_t e = sa_rb_records_open(&rr, g.data, g.len, 1 << 20, NULL, 0);
        assert_true(e == SA_ERR_CORRUPT_MESSAGE || e == SA_ERR_UNSUPPORTED_COMPRESSION_TYPE ||
                    e == SA_ERR_TOOBIG);
        sa_rb_records_close(&rr);
        sa_buf_free(&g);
    }
}

static void record_length_fuzz(void **state) {
    (void)state;
    /* Every byte of the records area mutated: the reader returns errors, never reads out of bounds. */
    sa_buf_t b = SA_BUF_INIT(0);
    build(&b, SA_RB_COMPRESSION_NONE, 0);
    for (size_t i = SA_RB_HEADER_SIZE; i < b.len; i++)
        for (int v = 0; v < 256; v += 51) {
            uint8_t save = b.data[i];
            b.data[i] = (uint8_t)v;
            sa_rb_records_t rr;
            sa_rb_record_t rec;
            if (sa_rb_records_open(&rr, b.data, b.len, 1 << 20, NULL, 0) == SA_OK)
                while (sa_rb_records_next(&rr, &rec) == SA_OK) {
                    const uint8_t *hp = rec.headers;
                    size_t hl = rec.headers_len;
                    sa_rb_kv_t kv;
                    for (int32_t h = 0; h < rec.HeadersCount; h++)
                        assert_int_equal(sa_rb_kv_next(&hp, &hl, &kv), SA_OK);
                }
            sa_rb_records_close(&rr);
            b.data[i] = save;
        }
    sa_buf_free(&b);
}

static void iterate_concatenated(void **state) {
    (void)state;
    sa_buf_t b = SA_BUF_INIT(0);
    build(&b, SA_RB_COMPRESSION_NONE, 0);
    build(&b, SA_RB_COMPRESSION_GZIP, 3);
    build(&b, SA_RB_COMPRESSION_ZSTD, 6);
    sa_rb_iter_t it;
    sa_rb_header_t hdr;
    const uint8_t *batch;
    int n = 0;
    sa_rb_iter_init(&it, b.data, b.len);
    while (sa_rb_iter_next(&it, &hdr, &batch) == SA_OK) {
        assert_int_equal(hdr.BaseOffset, 3 * n);
        assert_true(sa_rb_crc_ok(batch, sa_rb_size(&hdr)));
        n++;
    }
    assert_int_equal(n, 3);
    assert_int_equal(it.pos, b.len);
    sa_rb_iter_init(&it, b.data, b.len - 1);
    n = 0;
    sa_err_t err;
    while ((err = sa_rb_iter_next(&it, &hdr, &batch)) == SA_OK) n++;
    assert_int_equal(n, 2);
    assert_int_equal(err, SA_ERR_AGAIN);
    sa_buf_free(&b);
}

/* A raw snappy block whose preamble claims far more output than its bytes could ever produce
 * (snappy expands at most ~21x: a 3-byte copy yields 64 bytes) is refused before anything is
 * allocated for it, even into an uncapped buffer. */
static void snappy_claimed_length_is_checked(void **state) {
    (void)state;
    /* uvarint 0x7fffffff (2 GiB), then a 4-byte literal. */
    const uint8_t bomb[] = {0xff, 0xff, 0xff, 0xff, 0x07, 0x0c, 'a', 'b', 'c', 'd'};
    sa_buf_t out = SA_BUF_INIT(0);
    assert_int_equal(sa_rb_decompress(SA_RB_COMPRESSION_SNAPPY, bomb, sizeof(bomb), &out), SA_ERR_CORRUPT);
    assert_true(out.size < 4096);
    assert_int_equal(out.len, 0);
    sa_buf_free(&out);
    /* The same block with its true length (4) still decompresses. */
    const uint8_t ok[] = {0x04, 0x0c, 'a', 'b', 'c', 'd'};
    assert_int_equal(sa_rb_decompress(SA_RB_COMPRESSION_SNAPPY, ok, sizeof(ok), &out), SA_OK);
    assert_int_equal(out.len, 4);
    assert_memory_equal(out.data, "abcd", 4);
    sa_buf_free(&out);
}

static void varints(void **state) {
    (void)state;
    const int64_t vals[] = {0, 1, -1, 63, -64, 64, 300, -300, INT32_MAX, INT32_MIN, INT64_MAX, INT64_MIN};
    for (size_t i = 0; i < sizeof(vals) / sizeof(vals[0]); i++) {
        uint8_t buf[10];
        size_t n = sa_rb_varlong_put(buf, vals[i]);
        int64_t v;
        assert_int_equal(sa_rb_varlong_get(buf, n, &v), n);
        assert_true(v == vals[i]);
        assert_int_equal(sa_rb_varlong_get(buf, n - 1, &v), 0); /* short */
        if (vals[i] >= INT32_MIN && vals[i] <= INT32_MAX) {
            int32_t v32;
            assert_int_equal(sa_rb_varint_get(buf, n, &v32), n);
            assert_int_equal(v32, (int32_t)vals[i]);
        }
    }
    const uint8_t overlong[6] = {0x80, 0x80, 0x80, 0x80, 0x80, 0x01};
    int32_t v32;
    assert_int_equal(sa_rb_varint_get(overlong, 6, &v32), 0);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(build_parse_roundtrip),
        cmocka_unit_test(every_codec),
        cmocka_unit_test(snappy_xerial_framing),
        cmocka_unit_test(snappy_claimed_length_is_checked),
        cmocka_unit_test(crc_catches_every_bit_flip),
        cmocka_unit_test(rewrites_in_place),
        cmocka_unit_test(rejects),
        cmocka_unit_test(record_length_fuzz),
        cmocka_unit_test(iterate_concatenated),
        cmocka_unit_test(varints),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
