/* Old message formats (magic v0/v1) converted to v2 batches (src/proto/message_set.c): golden
 * inputs written by kafka-python 2.0.2's own legacy encoder (LegacyRecordBatchBuilder), a golden
 * output from its v2 encoder (DefaultRecordBatchBuilder), gzip/snappy/lz4 wrappers, magic v0
 * LZ4's wrong header checksum (KAFKA-1493), and every refusal: CRC, framing, nesting, magics,
 * zstd, empty sets, decompression bombs. Includes the .c for its XXH32. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "../../src/proto/message_set.c"

static size_t unhex(const char *hex, uint8_t *out) {
    size_t n = strlen(hex) / 2;
    for (size_t i = 0; i < n; i++) {
        unsigned v;
        sscanf(hex + 2 * i, "%2x", &v);
        out[i] = (uint8_t)v;
    }
    return n;
}

/* kafka-python: two v0 messages (k1 -> hello, null -> world). */
static const char V0_PLAIN[] =
    "00000000000000000000001571ef57700000000000026b310000000568656c6c6f0000000000000001"
    "000000138bc0cd770000ffffffff00000005776f726c64";
/* kafka-python: two v1 messages at 1700000000000 (k1 -> hello) and ...005 (null -> null). */
static const char V1_PLAIN[] =
    "00000000000000000000001d9e34959601000000018bcfe56800000000026b310000000568656c6c6f"
    "000000000000000100000016ea764b5401000000018bcfe56805ffffffffffffffff";
/* kafka-python's DefaultRecordBatchBuilder for the same two records: what Kafka stores. */
static const char V2_OF_V1[] =
    "0000000000000000000000460000000002c60377470000000000010000018bcfe568000000018bcfe5"
    "6805ffffffffffffffffffffffffffff000000021a000000046b310a68656c6c6f000c000a02010100";
/* kafka-python: a v1 gzip wrapper of three messages (..000 k1 hello, ..005 null null, ..002 k3 x*40). */
static const char V1_GZIP[] =
    "00000000000000000000006b50edb7dc01010000000000000000ffffffff000000551f8b0800167d13"
    "6b02ff63608003d9792653a73102198cdde79f66804498b20d81246b466a4e4e3e5411485eec559977"
    "085c21eb7f2880aa60026287bd73b6b2c15530818d3206921a15440200542bedc897000000";
/* kafka-python: a v0 gzip wrapper of V0_PLAIN's two messages. */
static const char V0_GZIP[] =
    "00000000000000000000004cf8bb18830001ffffffff0000003e1f8b0800167d136b02ff63608003d1"
    "c2f7e105601653b6219064cd48cdc9c9874a3202b170f781b3e50c0cff8100245d9e5f949302002ac0"
    "136a40000000";

typedef struct want_s {
    const char *key; /* NULL = null */
    const char *value;
    int64_t ts;
} want_t;

/* Convert @p in and check the batch: @p codec, and records @p w[0..n). */
static void check_records(const uint8_t *in, size_t len, int codec, const want_t *w, size_t n) {
    sa_buf_t out = SA_BUF_INIT(0);
    char errstr[128];
    assert_int_equal(sa_msgset_to_batch(in, len, 1 << 20, &out, errstr, sizeof(errstr)), SA_OK);
    sa_rb_header_t hdr;
    assert_int_equal(sa_rb_validate(out.data, out.len, &hdr, errstr, sizeof(errstr)), SA_OK);
    assert_int_equal(sa_rb_size(&hdr), out.len);
    assert_int_equal(sa_rb_compression(&hdr), codec);
    assert_int_equal(hdr.ProducerId, -1);
    assert_int_equal(hdr.LastOffsetDelta, (int32_t)n - 1);
    sa_rb_records_t rr;
    assert_int_equal(sa_rb_records_open(&rr, out.data, out.len, 1 << 20, NULL, 0), SA_OK);
    sa_rb_record_t rec;
    for (size_t i = 0; i < n; i++) {
        assert_int_equal(sa_rb_records_next(&rr, &rec), SA_OK);
        assert_int_equal(rec.OffsetDelta, (int32_t)i);
        assert_int_equal(rec.Timestamp, w[i].ts);
        if (w[i].key) {
            assert_int_equal(rec.KeyLength, (int32_t)strlen(w[i].key));
            assert_memory_equal(rec.Key, w[i].key, strlen(w[i].key));
        } else {
            assert_int_equal(rec.KeyLength, -1);
        }
        if (w[i].value) {
            assert_int_equal(rec.ValueLength, (int32_t)strlen(w[i].value));
            assert_memory_equal(rec.Value, w[i].value, strlen(w[i].value));
        } else {
            assert_int_equal(rec.ValueLength, -1);
        }
        assert_int_equal(rec.HeadersCount, 0);
    }
    assert_int_equal(sa_rb_records_next(&rr, &rec), SA_ERR_NOT_FOUND);
    sa_rb_records_close(&rr);
    sa_buf_free(&out);
}

static void test_v1_plain_golden(void **state) {
    (void)state;
    uint8_t in[256], want[256];
    size_t len = unhex(V1_PLAIN, in), wlen = unhex(V2_OF_V1, want);
    sa_buf_t out = SA_BUF_INIT(0);
    assert_int_equal(sa_msgset_to_batch(in, len, 1 << 20, &out, NULL, 0), SA_OK);
    assert_int_equal(out.len, wlen);
    assert_memory_equal(out.data, want, wlen); /* byte for byte what kafka-python's v2 encoder writes */
    sa_buf_free(&out);
}

static void test_v0_plain(void **state) {
    (void)state;
    uint8_t in[256];
    size_t len = unhex(V0_PLAIN, in);
    const want_t w[] = {{"k1", "hello", -1}, {NULL, "world", -1}}; /* v0 has no timestamps */
    check_records(in, len, SA_RB_COMPRESSION_NONE, w, 2);
}

static const char X40[] = "xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx";

static void test_gzip_wrappers(void **state) {
    (void)state;
    uint8_t in[512];
    size_t len = unhex(V1_GZIP, in);
    const want_t w1[] = {
        {"k1", "hello", 1700000000000}, {NULL, NULL, 1700000000005}, {"k3", X40, 1700000000002}};
    check_records(in, len, SA_RB_COMPRESSION_GZIP, w1, 3);
    len = unhex(V0_GZIP, in);
    const want_t w0[] = {{"k1", "hello", -1}, {NULL, "world", -1}};
    check_records(in, len, SA_RB_COMPRESSION_GZIP, w0, 2);
}

/* A wrapper message of @p magic and @p codec around @p inner (compressed here). */
static void wrap(sa_buf_t *out, int magic, int codec, const uint8_t *z, size_t zlen) {
    size_t size = 4 + 1 + 1 + (magic ? 8 : 0) + 4 + 4 + zlen;
    uint8_t *p = sa_buf_extend(out, 12 + size);
    sa_store_be64(p, 1);
    sa_store_be32(p + 8, (uint32_t)size);
    uint8_t *m = p + 12;
    m[4] = (uint8_t)magic;
    m[5] = (uint8_t)codec;
    size_t q = 6;
    if (magic) {
        sa_store_be64(m + q, 1700000000009);
        q += 8;
    }
    sa_store_be32(m + q, 0xffffffff);
    sa_store_be32(m + q + 4, (uint32_t)zlen);
    memcpy(m + q + 8, z, zlen);
    sa_store_be32(m, (uint32_t)crc32(0L, m + 4, (uInt)(size - 4)));
}

static void test_snappy_and_lz4_wrappers(void **state) {
    (void)state;
    uint8_t inner[256];
    size_t ilen = unhex(V1_PLAIN, inner);
    const want_t w[] = {{"k1", "hello", 1700000000000}, {NULL, NULL, 1700000000005}};
    int codecs[] = {SA_RB_COMPRESSION_SNAPPY, SA_RB_COMPRESSION_LZ4};
    for (int i = 0; i < 2; i++) {
        sa_buf_t z = SA_BUF_INIT(0), set = SA_BUF_INIT(0);
        assert_int_equal(sa_rb_compress(codecs[i], inner, ilen, &z), SA_OK);
        wrap(&set, 1, codecs[i], z.data, z.len);
        check_records(set.data, set.len, codecs[i], w, 2);
        sa_buf_free(&z);
        sa_buf_free(&set);
    }
    /* a v1 wrapper with LogAppendTime gives its messages its own timestamp */
    sa_buf_t z = SA_BUF_INIT(0), set = SA_BUF_INIT(0);
    assert_int_equal(sa_rb_compress(SA_RB_COMPRESSION_GZIP, inner, ilen, &z), SA_OK);
    wrap(&set, 1, SA_RB_COMPRESSION_GZIP | MSG_ATTR_LOG_APPEND_TIME, z.data, z.len);
    const want_t wl[] = {{"k1", "hello", 1700000000009}, {NULL, NULL, 1700000000009}};
    check_records(set.data, set.len, SA_RB_COMPRESSION_GZIP, wl, 2);
    sa_buf_free(&z);
    sa_buf_free(&set);
}

static void test_xxh32_vectors(void **state) {
    (void)state;
    assert_int_equal(xxh32_short((const uint8_t *)"", 0), 0x02CC5D05u);
    assert_int_equal(xxh32_short((const uint8_t *)"abc", 3), 0x32D153FFu);
}

/* Magic v0 LZ4 as Kafka's old clients (and librdkafka for MsgVersion 0) write it: the header
 * checksum covers the magic number too. It must convert; a correct one must too. */
static void test_lz4_v0_broken_header_checksum(void **state) {
    (void)state;
    uint8_t inner[256];
    size_t ilen = unhex(V0_PLAIN, inner);
    sa_buf_t z = SA_BUF_INIT(0), set = SA_BUF_INIT(0), tmp = SA_BUF_INIT(0);
    assert_int_equal(sa_rb_compress(SA_RB_COMPRESSION_LZ4, inner, ilen, &z), SA_OK);
    size_t desc = 2 + ((z.data[4] & 0x08) ? 8 : 0) + ((z.data[4] & 0x01) ? 4 : 0);
    uint8_t good = z.data[4 + desc];
    assert_int_equal(good, (uint8_t)(xxh32_short(z.data + 4, desc) >> 8));
    uint8_t broken = (uint8_t)(xxh32_short(z.data, 4 + desc) >> 8);
    assert_int_not_equal(broken, good);
    z.data[4 + desc] = broken;
    /* the plain decompressor refuses it: the fix-up is what makes it work */
    assert_int_not_equal(sa_rb_decompress(SA_RB_COMPRESSION_LZ4, z.data, z.len, &tmp), SA_OK);
    wrap(&set, 0, SA_RB_COMPRESSION_LZ4, z.data, z.len);
    const want_t w[] = {{"k1", "hello", -1}, {NULL, "world", -1}};
    check_records(set.data, set.len, SA_RB_COMPRESSION_LZ4, w, 2);
    /* the broken checksum is tolerated only for v0: a v1 wrapper is checked as written */
    uint8_t inner1[256];
    size_t ilen1 = unhex(V1_PLAIN, inner1);
    sa_buf_reset(&z);
    sa_buf_reset(&set);
    assert_int_equal(sa_rb_compress(SA_RB_COMPRESSION_LZ4, inner1, ilen1, &z), SA_OK);
    z.data[4 + desc] = (uint8_t)(xxh32_short(z.data, 4 + desc) >> 8);
    wrap(&set, 1, SA_RB_COMPRESSION_LZ4, z.data, z.len);
    sa_buf_t out = SA_BUF_INIT(0);
    assert_int_equal(sa_msgset_to_batch(set.data, set.len, 1 << 20, &out, NULL, 0), SA_ERR_CORRUPT_MESSAGE);
    sa_buf_free(&out);
    sa_buf_free(&z);
    sa_buf_free(&set);
    sa_buf_free(&tmp);
}

static sa_err_t convert(const uint8_t *in, size_t len, size_t max_bytes) {
    sa_buf_t out = SA_BUF_INIT(0);
    char errstr[128];
    sa_buf_put_be32(&out, 0xabcdef01); /* must be left as it was on error */
    sa_err_t err = sa_msgset_to_batch(in, len, max_bytes, &out, errstr, sizeof(errstr));
    if (err) {
        assert_int_equal(out.len, 4);
        assert_true(errstr[0] != '\0');
    }
    sa_buf_free(&out);
    return err;
}

static void test_refusals(void **state) {
    (void)state;
    uint8_t in[512], bad[512];
    size_t len = unhex(V0_PLAIN, in);
    assert_int_equal(convert(in, 0, 1 << 20), SA_ERR_CORRUPT_MESSAGE);       /* empty */
    assert_int_equal(convert(in, len - 1, 1 << 20), SA_ERR_CORRUPT_MESSAGE); /* truncated */
    assert_int_equal(convert(in, 11, 1 << 20), SA_ERR_CORRUPT_MESSAGE);      /* no room for a size */
    memcpy(bad, in, len);
    bad[30] ^= 1; /* a bit flip in the first message's value */
    assert_int_equal(convert(bad, len, 1 << 20), SA_ERR_CORRUPT_MESSAGE);
    memcpy(bad, in, len);
    sa_store_be32(bad + 8, 0x7fffffff); /* MessageSize past the end */
    assert_int_equal(convert(bad, len, 1 << 20), SA_ERR_CORRUPT_MESSAGE);
    /* magic 2 (a v2 batch) is not an old message set */
    uint8_t v2[256];
    size_t v2len = unhex(V2_OF_V1, v2);
    assert_int_equal(convert(v2, v2len, 1 << 20), SA_ERR_CORRUPT_MESSAGE);
    /* mixed magics: a v0 message followed by v1 ones */
    size_t v1len = unhex(V1_PLAIN, bad + len);
    memcpy(bad, in, len);
    assert_int_equal(convert(bad, len + v1len, 1 << 20), SA_ERR_CORRUPT_MESSAGE);
    /* a KeyLength that runs past the message (CRC recomputed so framing is what fails) */
    memcpy(bad, in, len);
    sa_store_be32(bad + 18, 1000);
    sa_store_be32(bad + 12, (uint32_t)crc32(0L, bad + 16, 0x15 - 4));
    assert_int_equal(convert(bad, len, 1 << 20), SA_ERR_CORRUPT_MESSAGE);
    /* nested compression */
    sa_buf_t z = SA_BUF_INIT(0), set = SA_BUF_INIT(0), outer = SA_BUF_INIT(0), z2 = SA_BUF_INIT(0);
    sa_rb_compress(SA_RB_COMPRESSION_GZIP, in, len, &z);
    wrap(&set, 0, SA_RB_COMPRESSION_GZIP, z.data, z.len);
    sa_rb_compress(SA_RB_COMPRESSION_GZIP, set.data, set.len, &z2);
    wrap(&outer, 0, SA_RB_COMPRESSION_GZIP, z2.data, z2.len);
    assert_int_equal(convert(outer.data, outer.len, 1 << 20), SA_ERR_CORRUPT_MESSAGE);
    /* zstd needs magic 2 */
    sa_buf_reset(&outer);
    wrap(&outer, 1, SA_RB_COMPRESSION_ZSTD, z.data, z.len);
    assert_int_equal(convert(outer.data, outer.len, 1 << 20), SA_ERR_UNSUPPORTED_COMPRESSION_TYPE);
    /* a wrapper that is not what it says */
    sa_buf_reset(&outer);
    wrap(&outer, 0, SA_RB_COMPRESSION_SNAPPY, z.data, z.len);
    assert_int_equal(convert(outer.data, outer.len, 1 << 20), SA_ERR_CORRUPT_MESSAGE);
    /* a decompression bomb stops at max_bytes; exactly max_bytes fits */
    assert_int_equal(convert(set.data, set.len, len - 1), SA_ERR_TOOBIG);
    assert_int_equal(convert(set.data, set.len, len), SA_OK);
    sa_buf_free(&z);
    sa_buf_free(&z2);
    sa_buf_free(&set);
    sa_buf_free(&outer);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_v1_plain_golden), cmocka_unit_test(test_v0_plain),
        cmocka_unit_test(test_gzip_wrappers),   cmocka_unit_test(test_snappy_and_lz4_wrappers),
        cmocka_unit_test(test_xxh32_vectors),   cmocka_unit_test(test_lz4_v0_broken_header_checksum),
        cmocka_unit_test(test_refusals),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
