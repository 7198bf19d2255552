/*
 * test_proto_kafka_python.c - samsa's encodings checked by an independent codec, kafka-python.
 *
 * Writes every request and response sample (both variants) in every non-flexible version to a
 * temporary directory, then runs test_proto_kafka_python.py with Debian's /usr/bin/python3, which
 * decodes each with kafka-python 2.0.2, requires every byte consumed, and re-encodes it to the
 * same bytes. Flexible versions are beyond kafka-python 2.0.2; the golden frames cover those.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>
#include <cmocka.h>

#include "proto/gen/kafka_samples.h"
#include "proto/proto.h"

static int write_samples(const char *dir) {
    int files = 0;
    for (size_t i = 0; i < SA_PROTO_SAMPLE_COUNT; i++) {
        const sa_proto_sample_t *s = &sa_proto_samples[i];
        if (s->msg->api_key < 0) continue;
        for (int16_t v = s->msg->min_version; v <= s->msg->max_version && v < s->msg->flexible_min; v++) {
            for (int variant = 0; variant < SA_PROTO_SAMPLE_VARIANTS; variant++) {
                sa_arena_t a = SA_ARENA_INIT(0);
                sa_buf_t b = SA_BUF_INIT(0);
                void *m = calloc(1, s->msg->size);
                s->fill(m, &a, variant);
                assert_int_equal(s->msg->encode(m, v, &b), SA_OK);
                char path[4096];
                snprintf(path, sizeof(path), "%s/%s-v%d-%d.bin", dir, s->msg->name, v, variant);
                FILE *fp = fopen(path, "wb");
                assert_non_null(fp);
                assert_int_equal(fwrite(b.data ? (void *)b.data : (void *)"", 1, b.len, fp), b.len);
                assert_int_equal(fclose(fp), 0);
                free(m);
                sa_buf_free(&b);
                sa_arena_free(&a);
                files++;
            }
        }
    }
    return files;
}

static void kafka_python_agrees(void **state) {
    (void)state;
    if (access("/usr/bin/python3", X_OK) != 0) skip();
    char dir[] = "/tmp/samsa-proto-kp-XXXXXX";
    assert_non_null(mkdtemp(dir));
    int files = write_samples(dir);
    assert_true(files > 200);
    const char *src = getenv("SAMSA_SOURCE_DIR");
    char cmd[8192];
    snprintf(cmd, sizeof(cmd), "/usr/bin/python3 %s/tests/unit/test_proto_kafka_python.py %s",
             src ? src : ".", dir);
    int rc = system(cmd);
    snprintf(cmd, sizeof(cmd), "rm -rf %s", dir);
    if (system(cmd) != 0) print_message("could not remove %s\n", dir);
    assert_true(WIFEXITED(rc));
    assert_int_equal(WEXITSTATUS(rc), 0);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(kafka_python_agrees),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
