/*
 * post.h - a blog post as a person submits it: field limits, validation with one message per
 * field, and the `create_post` record of blog_operations (DESIGN.md §4).
 */
#ifndef SA_BLOG_POST_H
#define SA_BLOG_POST_H

#include <jansson.h>
#include <stddef.h>

#include "blog/model/i18n.h"

#define SA_POST_TITLE_MAX   200   /* characters (code points), after trimming */
#define SA_POST_CONTENT_MAX 20000 /* characters */
#define SA_POST_AUTHOR_MAX  80    /* characters; empty means anonymous */

typedef enum sa_field_err_e {
    SA_FIELD_OK = 0,
    SA_FIELD_REQUIRED, /* empty after trimming */
    SA_FIELD_TOO_LONG, /* more characters than the limit */
    SA_FIELD_UTF8,     /* not valid UTF-8 */
    SA_FIELD_CONTROL,  /* control characters (content may hold newlines and tabs) */
} sa_field_err_t;

/* The submitted fields; every string is owned by the struct (sa_post_input_clear frees them). */
typedef struct sa_post_input_s {
    char *title;   /* never NULL after sa_post_validate */
    char *content; /* never NULL after sa_post_validate */
    char *author;  /* never NULL after sa_post_validate; "" = anonymous */
    sa_lang_t lang;
} sa_post_input_t;

typedef struct sa_post_errors_s {
    sa_field_err_t title, content, author;
} sa_post_errors_t;

/** Trim the fields in place (NULLs become "") and check them. @returns the number of bad fields. */
int sa_post_validate(sa_post_input_t *in, sa_post_errors_t *errs);

/** Free the fields and zero @p in. */
void sa_post_input_clear(sa_post_input_t *in);

/** Write the message for @p err of a field whose limit is @p limit into @p buf. @returns buf. */
const char *sa_post_field_message(sa_lang_t lang, sa_field_err_t err, int limit, char *buf, size_t size);

/** @returns the machine name of @p err ("required", "too_long", ...) for JSON errors. */
const char *sa_post_field_code(sa_field_err_t err);

/**
 * @returns new: the blog_operations value {"type":"create_post","id",...} for @p in.
 * @p idempotency_key may be NULL. Borrows everything.
 */
json_t *sa_post_op_new(const sa_post_input_t *in, const char *id, const char *submitted_at,
                       const char *idempotency_key);

/** @returns 1 if @p in has the same title, content, author and lang as the record @p op. */
int sa_post_same_as(const sa_post_input_t *in, const json_t *op);

#endif
