/*
 * test_proto.c - the generated Kafka codec: every message in every version round-trips, every
 * truncation is refused cleanly, hostile sizes are refused before allocating, and hand-computed
 * bytes pin the encodings (so encoder and decoder cannot be wrong in the same way unnoticed).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "proto/gen/kafka_samples.h"
#include "proto/proto.h"

/* Decode @p data as @p msg version @p v; @returns the error, *left the unread bytes. */
static sa_err_t decode_bytes(const sa_proto_msg_t *msg, int16_t v, const uint8_t *data, size_t len,
                             sa_arena_t *arena, void *out, size_t *left) {
    sa_rd_t rd;
    sa_rd_init(&rd, data, len);
    sa_err_t err = msg->decode(&rd, v, arena, out);
    if (left) *left = sa_rd_left(&rd);
    return err;
}

static void round_trip_one(const sa_proto_sample_t *s, int16_t v, int variant, size_t *total) {
    const sa_proto_msg_t *msg = s->msg;
    sa_arena_t arena = SA_ARENA_INIT(0);
    sa_arena_t darena = SA_ARENA_INIT(0);
    sa_buf_t b1 = SA_BUF_INIT(0), b2 = SA_BUF_INIT(0);
    void *m1 = calloc(1, msg->size), *m2 = calloc(1, msg->size);

    s->fill(m1, &arena, variant);
    sa_err_t err = msg->encode(m1, v, &b1);
    if (err) fail_msg("%s v%d variant %d: encode: %s", msg->name, v, variant, sa_err2name(err));
    size_t left = 99;
    err = decode_bytes(msg, v, b1.data, b1.len, &darena, m2, &left);
    if (err || left)
        fail_msg("%s v%d variant %d: decode: %s, %zu bytes left", msg->name, v, variant, sa_err2name(err),
                 left);
    assert_int_equal(msg->encode(m2, v, &b2), SA_OK);
    if (b1.len != b2.len || (b1.len && memcmp(b1.data, b2.data, b1.len) != 0))
        fail_msg("%s v%d variant %d: re-encoding differs (%zu vs %zu bytes)", msg->name, v, variant, b1.len,
                 b2.len);

    /* Every strict prefix must be refused as malformed, never read past its end (ASan watches:
     * each prefix is copied to a buffer of exactly its size). */
    for (size_t n = 0; n < b1.len; n++) {
        uint8_t *prefix = malloc(n ? n : 1);
        memcpy(prefix, b1.data, n);
        sa_arena_reset(&darena);
        err = decode_bytes(msg, v, prefix, n, &darena, m2, NULL);
        free(prefix);
        if (err != SA_ERR_PARSE)
            fail_msg("%s v%d: prefix of %zu/%zu bytes gave %s", msg->name, v, n, b1.len, sa_err2name(err));
    }
    *total += b1.len;
    free(m1);
    free(m2);
    sa_buf_free(&b1);
    sa_buf_free(&b2);
    sa_arena_free(&arena);
    sa_arena_free(&darena);
}

static void every_message_every_version_round_trips(void **state) {
    (void)state;
    size_t total = 0;
    int cases = 0;
    for (size_t i = 0; i < SA_PROTO_SAMPLE_COUNT; i++) {
        const sa_proto_sample_t *s = &sa_proto_samples[i];
        for (int16_t v = s->msg->min_version; v <= s->msg->max_version; v++) {
            for (int variant = 0; variant < SA_PROTO_SAMPLE_VARIANTS; variant++) {
                round_trip_one(s, v, variant, &total);
                cases++;
            }
        }
    }
    print_message("%d message/version/variant cases, %zu bytes encoded\n", cases, total);
    assert_true(cases > 400);
}

static void unsupported_versions_are_refused(void **state) {
    (void)state;
    sa_buf_t b = SA_BUF_INIT(0);
    sa_ProduceRequest_t m;
    sa_ProduceRequest_init(&m);
    assert_int_equal(sa_ProduceRequest_encode(&m, 12, &b), SA_ERR_UNSUPPORTED_VERSION);
    assert_int_equal(sa_ProduceRequest_encode(&m, -1, &b), SA_ERR_UNSUPPORTED_VERSION);
    assert_int_equal(b.len, 0);
    sa_rd_t rd;
    sa_rd_init(&rd, "", 0);
    sa_arena_t a = SA_ARENA_INIT(0);
    assert_int_equal(sa_ProduceRequest_decode(&rd, 12, &a, &m), SA_ERR_UNSUPPORTED_VERSION);
    sa_arena_free(&a);
    sa_buf_free(&b);
}

/* A ProduceRequest v3 (classic) and v9 (flexible), byte by byte from the protocol guide. */
static void produce_request_bytes_by_hand(void **state) {
    (void)state;
    static const uint8_t records[] = {0xde, 0xad, 0xbe, 0xef};
    sa_ProduceRequest_PartitionProduceData_t part;
    sa_ProduceRequest_PartitionProduceData_init(&part);
    part.Index = 2;
    part.Records = (sa_bytes_t){records, 4};
    sa_ProduceRequest_TopicProduceData_t topic;
    sa_ProduceRequest_TopicProduceData_init(&topic);
    topic.Name = SA_STR("t1");
    topic.PartitionData = &part;
    topic.PartitionData_count = 1;
    sa_ProduceRequest_t m;
    sa_ProduceRequest_init(&m);
    assert_true(sa_str_is_null(m.TransactionalId)); /* spec default: null */
    m.Acks = -1;
    m.TimeoutMs = 1000;
    m.TopicData = &topic;
    m.TopicData_count = 1;

    static const uint8_t v3[] = {
        0xff, 0xff,                                    /* TransactionalId: null (int16 -1) */
        0xff, 0xff,                                    /* Acks -1 */
        0x00, 0x00, 0x03, 0xe8,                        /* TimeoutMs 1000 */
        0,    0,    0,    1,                           /* TopicData: 1 */
        0,    2,    't',  '1',                         /* Name */
        0,    0,    0,    1,                           /* PartitionData: 1 */
        0,    0,    0,    2,                           /* Index */
        0,    0,    0,    4,    0xde, 0xad, 0xbe, 0xef /* Records: int32 size + bytes */
    };
    static const uint8_t v9[] = {
        0x00,                         /* TransactionalId: compact null */
        0xff, 0xff,                   /* Acks */
        0x00, 0x00, 0x03, 0xe8,       /* TimeoutMs */
        2,                            /* TopicData: compact 1+1 */
        3,    't',  '1',              /* Name: compact 2+1 */
        2,                            /* PartitionData */
        0,    0,    0,    2,          /* Index */
        5,    0xde, 0xad, 0xbe, 0xef, /* Records: compact 4+1 */
        0,                            /* partition tags */
        0,                            /* topic tags */
        0                             /* message tags */
    };
    sa_buf_t b = SA_BUF_INIT(0);
    assert_int_equal(sa_ProduceRequest_encode(&m, 3, &b), SA_OK);
    assert_int_equal(b.len, sizeof(v3));
    assert_memory_equal(b.data, v3, sizeof(v3));
    sa_buf_reset(&b);
    assert_int_equal(sa_ProduceRequest_encode(&m, 9, &b), SA_OK);
    assert_int_equal(b.len, sizeof(v9));
    assert_memory_equal(b.data, v9, sizeof(v9));

    /* Decoding v9 gives the fields back, with Records pointing into the input (zero copy). */
    sa_arena_t a = SA_ARENA_INIT(sa_proto_arena_cap(sizeof(v9)));
    sa_rd_t rd;
    sa_rd_init(&rd, v9, sizeof(v9));
    sa_ProduceRequest_t d;
    assert_int_equal(sa_ProduceRequest_decode(&rd, 9, &a, &d), SA_OK);
    assert_int_equal(sa_rd_left(&rd), 0);
    assert_true(sa_str_is_null(d.TransactionalId));
    assert_int_equal(d.Acks, -1);
    assert_int_equal(d.TimeoutMs, 1000);
    assert_int_equal(d.TopicData_count, 1);
    assert_true(sa_str_eq(d.TopicData[0].Name, "t1"));
    assert_int_equal(d.TopicData[0].PartitionData_count, 1);
    assert_int_equal(d.TopicData[0].PartitionData[0].Index, 2);
    assert_int_equal(d.TopicData[0].PartitionData[0].Records.len, 4);
    assert_ptr_equal(d.TopicData[0].PartitionData[0].Records.ptr, v9 + 17);
    sa_arena_free(&a);
    sa_buf_free(&b);
}

/* Building a response the way a broker handler does, including a tagged field. */
static void metadata_response_build_and_encode(void **state) {
    (void)state;
    sa_arena_t a = SA_ARENA_INIT(0);
    sa_MetadataResponse_t r;
    sa_MetadataResponse_init(&r);
    assert_int_equal(r.ControllerId, -1);
    assert_int_equal(r.ClusterAuthorizedOperations, INT32_MIN);
    r.Brokers = sa_arena_calloc(&a, 1, sizeof(*r.Brokers));
    r.Brokers_count = 1;
    sa_MetadataResponse_MetadataResponseBroker_init(&r.Brokers[0]);
    r.Brokers[0].NodeId = 1;
    r.Brokers[0].Host = SA_STR("127.0.0.1");
    r.Brokers[0].Port = 9093;
    r.ClusterId = SA_STR("samsa");
    r.ControllerId = 1;
    r.Topics = sa_arena_calloc(&a, 1, sizeof(*r.Topics));
    r.Topics_count = 1;
    sa_MetadataResponse_MetadataResponseTopic_init(&r.Topics[0]);
    r.Topics[0].Name = SA_STR("blog_operations");
    r.Topics[0].Partitions = sa_arena_calloc(&a, 3, sizeof(*r.Topics[0].Partitions));
    r.Topics[0].Partitions_count = 3;
    static int32_t replicas[] = {1};
    for (int i = 0; i < 3; i++) {
        sa_MetadataResponse_MetadataResponsePartition_t *p = &r.Topics[0].Partitions[i];
        sa_MetadataResponse_MetadataResponsePartition_init(p);
        p->PartitionIndex = i;
        p->LeaderId = 1;
        p->ReplicaNodes = replicas;
        p->ReplicaNodes_count = 1;
        p->IsrNodes = replicas;
        p->IsrNodes_count = 1;
    }
    for (int16_t v = 0; v <= 12; v++) {
        sa_buf_t b = SA_BUF_INIT(0);
        assert_int_equal(sa_MetadataResponse_encode(&r, v, &b), SA_OK);
        sa_arena_t da = SA_ARENA_INIT(sa_proto_arena_cap(b.len));
        sa_rd_t rd;
        sa_rd_init(&rd, b.data, b.len);
        sa_MetadataResponse_t d;
        assert_int_equal(sa_MetadataResponse_decode(&rd, v, &da, &d), SA_OK);
        assert_int_equal(sa_rd_left(&rd), 0);
        assert_int_equal(d.Brokers_count, 1);
        assert_true(sa_str_eq(d.Brokers[0].Host, "127.0.0.1"));
        assert_int_equal(d.Brokers[0].Port, 9093);
        assert_true(sa_str_eq(d.Topics[0].Name, "blog_operations"));
        assert_int_equal(d.Topics[0].Partitions_count, 3);
        assert_int_equal(d.Topics[0].Partitions[2].PartitionIndex, 2);
        assert_int_equal(d.Topics[0].Partitions[2].IsrNodes[0], 1);
        if (v >= 2)
            assert_true(sa_str_eq(d.ClusterId, "samsa"));
        else
            assert_true(sa_str_is_null(d.ClusterId)); /* absent in v0-1: default */
        if (v >= 1)
            assert_int_equal(d.ControllerId, 1);
        else
            assert_int_equal(d.ControllerId, -1);
        sa_arena_free(&da);
        sa_buf_free(&b);
    }
    sa_arena_free(&a);
}

/* Tagged fields: written only when not at the default, read back, unknown ones skipped. */
static void tagged_fields(void **state) {
    (void)state;
    sa_ApiVersionsResponse_t r;
    sa_ApiVersionsResponse_init(&r);
    sa_buf_t b = SA_BUF_INIT(0);
    assert_int_equal(sa_ApiVersionsResponse_encode(&r, 3, &b), SA_OK);
    /* ErrorCode(2) ApiKeys(1: compact empty) ThrottleTimeMs(4) tags(1: none) */
    static const uint8_t empty[] = {0, 0, 1, 0, 0, 0, 0, 0};
    assert_int_equal(b.len, sizeof(empty));
    assert_memory_equal(b.data, empty, sizeof(empty));
    sa_buf_reset(&b);
    r.FinalizedFeaturesEpoch = 7;
    r.ZkMigrationReady = true;
    assert_int_equal(sa_ApiVersionsResponse_encode(&r, 3, &b), SA_OK);
    static const uint8_t tagged[] = {0, 0, 1, 0, 0, 0, 0, 2,       /* two tags */
                                     1, 8, 0, 0, 0, 0, 0, 0, 0, 7, /* tag 1, 8 bytes */
                                     3, 1, 1};                     /* tag 3, 1 byte */
    assert_int_equal(b.len, sizeof(tagged));
    assert_memory_equal(b.data, tagged, sizeof(tagged));

    /* An unknown tag (9) between known ones is skipped. */
    static const uint8_t unknown[] = {0, 0, 1, 0, 0, 0, 0, 3,    1,    8, 0, 0, 0,
                                      0, 0, 0, 0, 7, 9, 2, 0xaa, 0xbb, 3, 1, 1};
    sa_arena_t a = SA_ARENA_INIT(0);
    sa_rd_t rd;
    sa_rd_init(&rd, unknown, sizeof(unknown));
    sa_ApiVersionsResponse_t d;
    assert_int_equal(sa_ApiVersionsResponse_decode(&rd, 3, &a, &d), SA_OK);
    assert_int_equal(sa_rd_left(&rd), 0);
    assert_true(d.FinalizedFeaturesEpoch == 7);
    assert_true(d.ZkMigrationReady);
    /* A tag whose size runs past the end is malformed. */
    static const uint8_t overrun[] = {0, 0, 1, 0, 0, 0, 0, 1, 1, 9, 0, 0, 0, 0, 0, 0, 0, 7};
    sa_rd_init(&rd, overrun, sizeof(overrun));
    assert_int_equal(sa_ApiVersionsResponse_decode(&rd, 3, &a, &d), SA_ERR_PARSE);
    sa_arena_free(&a);
    sa_buf_free(&b);
}

/* Counts and lengths that the bytes left cannot hold are refused before allocating. */
static void hostile_sizes_refused_before_allocating(void **state) {
    (void)state;
    sa_arena_t a = SA_ARENA_INIT(1 << 20);
    sa_rd_t rd;
    sa_MetadataRequest_t m;
    /* Metadata v1: Topics count 0x7fffffff with 4 bytes behind it. */
    static const uint8_t many[] = {0x7f, 0xff, 0xff, 0xff, 0, 1, 'x', 0};
    sa_rd_init(&rd, many, sizeof(many));
    assert_int_equal(sa_MetadataRequest_decode(&rd, 1, &a, &m), SA_ERR_PARSE);
    assert_int_equal(a.used, 0);
    /* Compact count 2^32-2 in v9. */
    static const uint8_t many_compact[] = {0xff, 0xff, 0xff, 0xff, 0x0f, 0};
    sa_rd_init(&rd, many_compact, sizeof(many_compact));
    assert_int_equal(sa_MetadataRequest_decode(&rd, 9, &a, &m), SA_ERR_PARSE);
    assert_int_equal(a.used, 0);
    /* A count that fits the bytes at 1 byte per element but not at the element's minimum size
     * (Metadata v1 topic = int16 string >= 2 bytes): 3 elements, 5 bytes. */
    static const uint8_t dense[] = {0, 0, 0, 3, 0, 0, 0, 0, 0};
    sa_rd_init(&rd, dense, sizeof(dense));
    assert_int_equal(sa_MetadataRequest_decode(&rd, 1, &a, &m), SA_ERR_PARSE);
    assert_int_equal(a.used, 0);
    /* String longer than the input; negative lengths other than -1; a null array where the
     * version does not allow one. */
    static const uint8_t longstr[] = {0, 0, 0, 1, 0x7f, 0xff, 'a'};
    sa_rd_init(&rd, longstr, sizeof(longstr));
    assert_int_equal(sa_MetadataRequest_decode(&rd, 1, &a, &m), SA_ERR_PARSE);
    static const uint8_t negstr[] = {0, 0, 0, 1, 0xff, 0xfe};
    sa_rd_init(&rd, negstr, sizeof(negstr));
    assert_int_equal(sa_MetadataRequest_decode(&rd, 1, &a, &m), SA_ERR_PARSE);
    static const uint8_t nullarr[] = {0xff, 0xff, 0xff, 0xff};
    sa_rd_init(&rd, nullarr, sizeof(nullarr));
    assert_int_equal(sa_MetadataRequest_decode(&rd, 0, &a, &m), SA_ERR_PARSE);
    sa_rd_init(&rd, nullarr, sizeof(nullarr));
    assert_int_equal(sa_MetadataRequest_decode(&rd, 1, &a, &m), SA_OK); /* v1+: null = all topics */
    assert_int_equal(m.Topics_count, -1);
    /* The arena cap holds even for counts the bytes can hold: 200 topics of "" in 404 bytes,
     * each a 16-byte element plus padding, against a 1 KiB cap. */
    sa_arena_t small = SA_ARENA_INIT(1024);
    uint8_t dense_ok[4 + 200 * 2] = {0, 0, 0, 200};
    sa_rd_init(&rd, dense_ok, sizeof(dense_ok));
    assert_int_equal(sa_MetadataRequest_decode(&rd, 1, &small, &m), SA_ERR_TOOBIG);
    assert_true(small.used <= 1024);
    sa_arena_free(&small);
    sa_arena_free(&a);
}

/* The densest well-formed requests still decode under sa_proto_arena_cap(): the worst array
 * the generator found (OffsetFetch v8 Groups: 56-byte elements from 3 wire bytes) and
 * Metadata v9 with empty topic names (32 from 2). */
static void densest_requests_fit_the_arena_cap(void **state) {
    (void)state;
    enum { N = 20000 };
    sa_buf_t b = SA_BUF_INIT(0);
    sa_OffsetFetchRequest_t of;
    sa_OffsetFetchRequest_init(&of);
    of.Groups = calloc(N, sizeof(*of.Groups));
    of.Groups_count = N;
    for (int i = 0; i < N; i++) {
        sa_OffsetFetchRequest_OffsetFetchRequestGroup_init(&of.Groups[i]);
        of.Groups[i].Topics_count = -1;
    }
    assert_int_equal(sa_OffsetFetchRequest_encode(&of, 8, &b), SA_OK);
    assert_true(b.len < 3 * N + 16);
    sa_arena_t a = SA_ARENA_INIT(sa_proto_arena_cap(b.len));
    sa_rd_t rd;
    sa_rd_init(&rd, b.data, b.len);
    sa_OffsetFetchRequest_t d;
    assert_int_equal(sa_OffsetFetchRequest_decode(&rd, 8, &a, &d), SA_OK);
    assert_int_equal(d.Groups_count, N);
    print_message("OffsetFetch v8, %d groups: %zu wire bytes -> %zu arena bytes (cap %zu)\n", N, b.len,
                  a.used, a.cap);
    sa_arena_free(&a);
    free(of.Groups);

    sa_buf_reset(&b);
    sa_MetadataRequest_t md;
    sa_MetadataRequest_init(&md);
    md.Topics = calloc(N, sizeof(*md.Topics));
    md.Topics_count = N;
    for (int i = 0; i < N; i++) sa_MetadataRequest_MetadataRequestTopic_init(&md.Topics[i]);
    assert_int_equal(sa_MetadataRequest_encode(&md, 9, &b), SA_OK);
    sa_arena_init(&a, sa_proto_arena_cap(b.len));
    sa_rd_init(&rd, b.data, b.len);
    sa_MetadataRequest_t dm;
    assert_int_equal(sa_MetadataRequest_decode(&rd, 9, &a, &dm), SA_OK);
    assert_int_equal(dm.Topics_count, N);
    /* ... and a cap well below the need refuses it without passing the cap. */
    sa_arena_t small = SA_ARENA_INIT(b.len * 4);
    sa_rd_init(&rd, b.data, b.len);
    assert_int_equal(sa_MetadataRequest_decode(&rd, 9, &small, &dm), SA_ERR_TOOBIG);
    assert_true(small.used <= small.cap);
    sa_arena_free(&small);
    sa_arena_free(&a);
    free(md.Topics);
    sa_buf_free(&b);
}

static void header_versions(void **state) {
    (void)state;
    assert_int_equal(sa_proto_request_header_version(SA_API_ApiVersions, 3), 2);
    assert_int_equal(sa_proto_request_header_version(SA_API_ApiVersions, 2), 1);
    assert_int_equal(sa_proto_response_header_version(SA_API_ApiVersions, 3), 0); /* the exception */
    assert_int_equal(sa_proto_request_header_version(SA_API_Produce, 9), 2);
    assert_int_equal(sa_proto_response_header_version(SA_API_Produce, 9), 1);
    assert_int_equal(sa_proto_response_header_version(SA_API_Produce, 8), 0);
    assert_int_equal(sa_proto_response_header_version(SA_API_Metadata, 12), 1);
    assert_int_equal(sa_proto_request_header_version(SA_API_ApiVersions, 99), 2); /* too new */
    assert_int_equal(sa_proto_request_header_version(999, 0), 1);
    assert_int_equal(sa_proto_response_header_version(SA_API_DescribeCluster, 0), 1);
    assert_int_equal(sa_proto_response_header_version(SA_API_OffsetDelete, 0), 0);
    const sa_proto_api_t *api = sa_proto_api(SA_API_Fetch);
    assert_non_null(api);
    assert_string_equal(api->name, "Fetch");
    assert_int_equal(api->flexible_min, 12);
    assert_ptr_equal(api->request, &sa_proto_msg_FetchRequest);
    assert_null(sa_proto_api(57));
    assert_string_equal(sa_proto_api_name(3), "Metadata");
    assert_string_equal(sa_proto_api_name(-5), "Unknown");
    /* The table is sorted and complete. */
    assert_int_equal(SA_PROTO_API_COUNT, 41);
    for (size_t i = 1; i < SA_PROTO_API_COUNT; i++)
        assert_true(sa_proto_apis[i - 1].key < sa_proto_apis[i].key);

    /* A response header written for each case. */
    sa_buf_t b = SA_BUF_INIT(0);
    assert_int_equal(sa_proto_write_response_header(&b, SA_API_ApiVersions, 3, 0x01020304), SA_OK);
    assert_int_equal(b.len, 4);
    sa_buf_reset(&b);
    assert_int_equal(sa_proto_write_response_header(&b, SA_API_Metadata, 9, 0x01020304), SA_OK);
    static const uint8_t v1[] = {1, 2, 3, 4, 0};
    assert_int_equal(b.len, 5);
    assert_memory_equal(b.data, v1, 5);
    sa_buf_free(&b);
}

static void request_header_read(void **state) {
    (void)state;
    /* ApiVersions v3, correlation 1, client id "rdkafka" (classic string even in v2), no tags,
     * then the body's first byte. */
    static const uint8_t f[] = {0, 18, 0, 3, 0, 0, 0, 1, 0, 7, 'r', 'd', 'k', 'a', 'f', 'k', 'a', 0, 0xab};
    sa_arena_t a = SA_ARENA_INIT(0);
    sa_rd_t rd;
    sa_rd_init(&rd, f, sizeof(f));
    sa_RequestHeader_t h;
    assert_int_equal(sa_proto_read_request_header(&rd, &a, &h), SA_OK);
    assert_int_equal(h.RequestApiKey, 18);
    assert_int_equal(h.RequestApiVersion, 3);
    assert_int_equal(h.CorrelationId, 1);
    assert_true(sa_str_eq(h.ClientId, "rdkafka"));
    assert_int_equal(sa_rd_left(&rd), 1);
    /* v1 header (Metadata v0) with a null client id. */
    static const uint8_t g[] = {0, 3, 0, 0, 0, 0, 0, 9, 0xff, 0xff};
    sa_rd_init(&rd, g, sizeof(g));
    assert_int_equal(sa_proto_read_request_header(&rd, &a, &h), SA_OK);
    assert_true(sa_str_is_null(h.ClientId));
    assert_int_equal(sa_rd_left(&rd), 0);
    sa_rd_init(&rd, g, 3);
    assert_int_equal(sa_proto_read_request_header(&rd, &a, &h), SA_ERR_PARSE);
    sa_arena_free(&a);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(every_message_every_version_round_trips),
        cmocka_unit_test(unsupported_versions_are_refused),
        cmocka_unit_test(produce_request_bytes_by_hand),
        cmocka_unit_test(metadata_response_build_and_encode),
        cmocka_unit_test(tagged_fields),
        cmocka_unit_test(hostile_sizes_refused_before_allocating),
        cmocka_unit_test(densest_requests_fit_the_arena_cap),
        cmocka_unit_test(header_versions),
        cmocka_unit_test(request_header_read),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
