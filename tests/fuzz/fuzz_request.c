/*
 * fuzz_request.c - libFuzzer driver for the request decoder.
 *
 * The input is a request frame without its 4-byte size, as the broker hands it to the decoder:
 * the request header picks the api and version, and the body is decoded with the generated
 * codec, exactly as dispatch does, with the same arena cap. Beyond "no crash, no read past the
 * input, no allocation past the cap", a body that decodes must survive a round trip:
 * encode(decode(x)) = y must decode again, within sa_proto_arena_cap(|y|) (the bound the
 * generator proves for well-formed requests), and re-encode to exactly y (abort otherwise).
 *
 * Built as a libFuzzer target with SAMSA_FUZZ=ON (tests/fuzz/CMakeLists.txt) and always as a
 * corpus replayer, ctest fuzz-smoke.request (tests/fuzz/replay.cmake).
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "proto/proto.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void check_round_trip(const sa_proto_msg_t *msg, int16_t version, const void *m, size_t frame_len) {
    sa_buf_t y = SA_BUF_INIT(0), z = SA_BUF_INIT(0);
    sa_arena_t arena = SA_ARENA_INIT(0);
    void *m2 = malloc(msg->size);
    if (msg->encode(m, version, &y) != SA_OK) {
        fprintf(stderr, "%s v%d: decoded but does not encode\n", msg->name, version);
        abort();
    }
    /* y is well-formed, so it must decode within the proven arena bound. */
    sa_arena_set_cap(&arena, sa_proto_arena_cap(y.len));
    sa_rd_t rd;
    sa_rd_init(&rd, y.data, y.len);
    sa_err_t err = msg->decode(&rd, version, &arena, m2);
    if (err || sa_rd_left(&rd) != 0 || msg->encode(m2, version, &z) != SA_OK || y.len != z.len ||
        (y.len && memcmp(y.data, z.data, y.len) != 0)) {
        fprintf(stderr, "%s v%d: round trip differs (%s, %zu/%zu bytes, frame %zu)\n", msg->name, version,
                sa_err2name(err), y.len, z.len, frame_len);
        abort();
    }
    free(m2);
    sa_arena_free(&arena);
    sa_buf_free(&y);
    sa_buf_free(&z);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    sa_arena_t arena = SA_ARENA_INIT(sa_proto_arena_cap(size));
    sa_rd_t rd;
    sa_RequestHeader_t hdr;
    sa_rd_init(&rd, data, size);
    if (sa_proto_read_request_header(&rd, &arena, &hdr) == SA_OK) {
        const sa_proto_api_t *api = sa_proto_api(hdr.RequestApiKey);
        if (api) {
            const sa_proto_msg_t *msg = api->request;
            void *m = malloc(msg->size);
            if (msg->decode(&rd, hdr.RequestApiVersion, &arena, m) == SA_OK)
                check_round_trip(msg, hdr.RequestApiVersion, m, size);
            if (arena.cap && arena.used > arena.cap) abort();
            free(m);
        }
    }
    sa_arena_free(&arena);
    return 0;
}
