/*
 * web_html.h - the HTML around every page and the pieces pages share (a post card, the status
 * badge, the statistics box). Everything user-supplied goes through sa_html_escape.
 */
#ifndef SA_BLOG_WEB_HTML_H
#define SA_BLOG_WEB_HTML_H

#include <jansson.h>

#include "blog/model/i18n.h"
#include "blog/model/db.h"
#include "core/buf.h"
#include "core/escape.h"

/** Open the document: head with @p title (escaped), stylesheet, script; @p refresh_s > 0 adds a
 *  <noscript> meta refresh so pages without JavaScript update themselves. */
void sa_html_begin(sa_buf_t *out, sa_lang_t lang, const char *title, int refresh_s,
                   const char *lang_switch_url);
void sa_html_end(sa_buf_t *out);

#define SA_HTML_EXCERPT_CHARS 200 /* characters of a post's text in the feed */

/** A <time> element for an RFC 3339 UTC time, shown as "YYYY-MM-DD HH:MM UTC" (also its title;
 *  live.js shows the reader's local time instead). */
void sa_html_time(sa_buf_t *out, const char *rfc3339);
/** @returns the bytes of @p s to show as an excerpt of at most @p max_chars characters: all of
 *  it if short, else cut at a word boundary (never inside a UTF-8 sequence). */
size_t sa_html_excerpt_len(const char *s, size_t max_chars);
/** Append @p s escaped, its http:// and https:// URLs as links (rel="nofollow ugc noopener");
 *  nothing else becomes a link, so no other scheme (javascript:, data:) can. */
void sa_html_linkify(sa_buf_t *out, const char *s);
/** One feed entry for @p post (borrowed). */
void sa_html_post_card(sa_buf_t *out, sa_lang_t lang, const json_t *post);
/** The status badge and score of @p post. */
void sa_html_status(sa_buf_t *out, sa_lang_t lang, const json_t *post);
/** The reasons list of @p post (nothing if none). */
void sa_html_reasons(sa_buf_t *out, sa_lang_t lang, const json_t *post);
/** The queue statistics box. @p lag / @p workers: -1 when the broker did not say; @p broker_ok 0:
 *  the broker is unreachable (lag and workers show "—", with a warning). */
void sa_html_stats(sa_buf_t *out, sa_lang_t lang, const sa_db_stats_t *st, int64_t lag, int64_t workers,
                   int broker_ok);

#endif
