#include "core/mem.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static void oom(size_t size, const char *file, int line) {
    fprintf(stderr, "samsa: out of memory allocating %zu bytes at %s:%d\n", size, file, line);
    abort();
}

void *sa_malloc_(size_t size, const char *file, int line) {
    void *p = malloc(size ? size : 1);
    if (!p) oom(size, file, line);
    return p;
}

void *sa_calloc_(size_t n, size_t size, const char *file, int line) {
    void *p = calloc(n ? n : 1, size ? size : 1);
    if (!p) oom(n * size, file, line);
    return p;
}

void *sa_realloc_(void *ptr, size_t size, const char *file, int line) {
    void *p = realloc(ptr, size ? size : 1);
    if (!p) oom(size, file, line);
    return p;
}

char *sa_strdup_(const char *s, const char *file, int line) { return sa_strndup_(s, strlen(s), file, line); }

char *sa_strndup_(const char *s, size_t n, const char *file, int line) {
    char *p = sa_malloc_(n + 1, file, line);
    memcpy(p, s, n);
    p[n] = '\0';
    return p;
}
