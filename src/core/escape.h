/*
 * escape.h - making text safe for where it goes: HTML text and attribute values, and URL query
 * values. Pages build every piece of user text through these, never by hand.
 */
#ifndef SA_CORE_ESCAPE_H
#define SA_CORE_ESCAPE_H

#include <stddef.h>

#include "core/buf.h"

/** Append @p s (NUL-terminated, borrowed) to @p out with & < > " ' as entities: safe in element
 *  text and in a quoted attribute value. */
void sa_html_escape(sa_buf_t *out, const char *s);
/** sa_html_escape() of the @p len bytes at @p s (may hold no NUL). */
void sa_html_escape_n(sa_buf_t *out, const char *s, size_t len);

/** Append @p s percent-encoded for a URL query value: everything but A-Z a-z 0-9 - _ . ~ becomes
 *  %XX (RFC 3986 unreserved characters stay). */
void sa_url_encode(sa_buf_t *out, const char *s);

#endif
