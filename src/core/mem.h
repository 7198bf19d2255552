/*
 * mem.h - allocation that never returns NULL.
 *
 * samsa treats running out of memory as fatal: it prints file and line and aborts, so no caller
 * carries an untested NULL path. Input-driven sizes are bounded by their callers *before* they
 * allocate (see sa_buf's cap and the protocol decoders), so hostile input cannot reach here.
 */
#ifndef SA_CORE_MEM_H
#define SA_CORE_MEM_H

#include <stddef.h>

void *sa_malloc_(size_t size, const char *file, int line);
void *sa_calloc_(size_t n, size_t size, const char *file, int line);
void *sa_realloc_(void *ptr, size_t size, const char *file, int line);
char *sa_strdup_(const char *s, const char *file, int line);
char *sa_strndup_(const char *s, size_t n, const char *file, int line);

#define sa_malloc(size)       sa_malloc_((size), __FILE__, __LINE__)
#define sa_calloc(n, size)    sa_calloc_((n), (size), __FILE__, __LINE__)
#define sa_realloc(ptr, size) sa_realloc_((ptr), (size), __FILE__, __LINE__)
#define sa_strdup(s)          sa_strdup_((s), __FILE__, __LINE__)
#define sa_strndup(s, n)      sa_strndup_((s), (n), __FILE__, __LINE__)
#define sa_new(type)          ((type *)sa_calloc(1, sizeof(type)))

#define SA_ARRAY_LEN(a) (sizeof(a) / sizeof((a)[0]))
#define SA_MIN(a, b)    ((a) < (b) ? (a) : (b))
#define SA_MAX(a, b)    ((a) > (b) ? (a) : (b))

#endif
