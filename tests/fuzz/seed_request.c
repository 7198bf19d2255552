/*
 * seed_request.c - write the fuzz_request seed corpus: one request frame (header + body, no size
 * prefix) per request message, version and sample variant, from the generated sample fillers.
 *
 *   fuzz_seed_request DIR     (writes DIR/seed-<Api>-v<version>-<variant>)
 *
 * Built by replay.cmake; rerun after regenerating the codec if the samples changed.
 */
#include <stdio.h>
#include <stdlib.h>

#include "proto/gen/kafka_samples.h"
#include "proto/proto.h"

static int write_frame(const char *dir, const sa_proto_sample_t *s, int16_t v, int variant) {
    sa_arena_t arena = SA_ARENA_INIT(0);
    sa_buf_t out = SA_BUF_INIT(0);
    void *m = calloc(1, s->msg->size);
    int rc = -1;
    sa_RequestHeader_t hdr;
    sa_RequestHeader_init(&hdr);
    hdr.RequestApiKey = s->msg->api_key;
    hdr.RequestApiVersion = v;
    hdr.CorrelationId = 1000 + v;
    hdr.ClientId = SA_STR("seed");
    s->fill(m, &arena, variant);
    if (sa_RequestHeader_encode(&hdr, sa_proto_request_header_version(hdr.RequestApiKey, v), &out) ||
        s->msg->encode(m, v, &out))
        goto out;
    char path[4096];
    snprintf(path, sizeof(path), "%s/seed-%s-v%d-%d", dir, sa_proto_api_name(hdr.RequestApiKey), v, variant);
    FILE *fp = fopen(path, "wb");
    if (!fp) goto out;
    size_t n = fwrite(out.data, 1, out.len, fp);
    if (fclose(fp) == 0 && n == out.len) rc = 0;
out:
    free(m);
    sa_buf_free(&out);
    sa_arena_free(&arena);
    return rc;
}

int main(int argc, char **argv) {
    if (argc != 2) {
        fprintf(stderr, "usage: %s DIR\n", argv[0]);
        return 2;
    }
    int files = 0;
    for (size_t i = 0; i < SA_PROTO_SAMPLE_COUNT; i++) {
        const sa_proto_sample_t *s = &sa_proto_samples[i];
        const sa_proto_api_t *api = sa_proto_api(s->msg->api_key);
        if (!api || api->request != s->msg) continue;
        for (int16_t v = s->msg->min_version; v <= s->msg->max_version; v++) {
            for (int variant = 0; variant < SA_PROTO_SAMPLE_VARIANTS; variant++) {
                if (write_frame(argv[1], s, v, variant)) {
                    fprintf(stderr, "%s: cannot write %s v%d\n", argv[0], s->msg->name, v);
                    return 1;
                }
                files++;
            }
        }
    }
    printf("%d seed frames written to %s\n", files, argv[1]);
    return 0;
}
