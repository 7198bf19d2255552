/*
 * http_form.h - application/x-www-form-urlencoded bodies and the forms' random tokens (HTML
 * escaping is core/escape.h).
 */
#ifndef SA_HTTP_FORM_H
#define SA_HTTP_FORM_H

#include <stddef.h>

/**
 * @returns new: the decoded value of field @p name in the form body @p body (@p len bytes, need
 * not be NUL-terminated), or NULL if absent. '+' is a space and %XX a byte; a bad escape is kept
 * literally. With a repeated field the first wins.
 */
char *sa_form_get(const char *body, size_t len, const char *name);

/** Write @p n random bytes as 2n lowercase hex characters and a NUL into @p out. */
void sa_random_hex(char *out, size_t n);

/** @returns 1 if @p s is 1..@p max characters of [0-9a-f]. */
int sa_is_hex(const char *s, size_t max);

#endif
