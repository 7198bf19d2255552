/*
 * replay_main.c - run a libFuzzer driver over every file of a corpus directory, without libFuzzer.
 *
 *   fuzz_replay_<name> DIR...
 *
 * Linked with any tests/fuzz/fuzz_<name>.c (see replay.cmake); this is how ctest's fuzz-smoke
 * tests replay the committed corpus (seeds and past crashes) in every build, under ASan in the
 * asan build. Exit 0 when every input ran (a driver reports a bug by aborting), 1 when a
 * directory is unreadable or holds no inputs.
 */
#include <dirent.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* @returns 0, or -1 if the file cannot be read. */
static int run_file(const char *path) {
    FILE *fp = fopen(path, "rb");
    if (!fp) return -1;
    size_t cap = 4096, len = 0;
    uint8_t *buf = malloc(cap);
    if (!buf) abort();
    size_t n;
    while ((n = fread(buf + len, 1, cap - len, fp)) > 0) {
        len += n;
        if (len == cap) {
            uint8_t *bigger = realloc(buf, cap *= 2);
            if (!bigger) abort();
            buf = bigger;
        }
    }
    int rc = ferror(fp) ? -1 : 0;
    fclose(fp);
    /* An exact-size copy, so ASan sees any read past the input. */
    uint8_t *exact = malloc(len ? len : 1);
    memcpy(exact, buf, len);
    free(buf);
    if (rc == 0) LLVMFuzzerTestOneInput(exact, len);
    free(exact);
    return rc;
}

int main(int argc, char **argv) {
    int files = 0;
    for (int i = 1; i < argc; i++) {
        DIR *dir = opendir(argv[i]);
        if (!dir) {
            fprintf(stderr, "replay: cannot open %s\n", argv[i]);
            return 1;
        }
        struct dirent *de;
        while ((de = readdir(dir))) {
            if (de->d_name[0] == '.') continue;
            char path[4096];
            snprintf(path, sizeof(path), "%s/%s", argv[i], de->d_name);
            if (run_file(path) != 0) {
                fprintf(stderr, "replay: cannot read %s\n", path);
                closedir(dir);
                return 1;
            }
            files++;
        }
        closedir(dir);
    }
    printf("replay: %d inputs ran\n", files);
    return files > 0 ? 0 : 1;
}
