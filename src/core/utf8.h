/*
 * utf8.h - UTF-8 decoding, validation, counting and encoding, for everything that takes text
 * from outside (form fields, JSON posts, topic records) or measures it in characters.
 *
 * Well-formed means RFC 3629: no overlong forms, no surrogates (U+D800..U+DFFF), nothing past
 * U+10FFFF, no truncated sequence. The decoder never stops on bad input: a malformed byte decodes
 * as U+FFFD and advances by one, so a loop over hostile bytes always terminates, and a real U+FFFD
 * (three bytes) stays distinguishable from the marker (one byte).
 */
#ifndef SA_CORE_UTF8_H
#define SA_CORE_UTF8_H

#include <stddef.h>
#include <stdint.h>

#define SA_UTF8_REPLACEMENT 0xFFFDu /* what a malformed byte decodes to */

/** Decode one code point from @p s (@p len >= 1) into *@p cp. @returns the bytes used (1..4); a
 *  malformed sequence yields U+FFFD and 1, so callers always advance. */
size_t sa_utf8_next(const char *s, size_t len, uint32_t *cp);

/** @returns 1 if @p s[0..len) is well-formed UTF-8, else 0. */
int sa_utf8_valid(const char *s, size_t len);

/** @returns the code points of @p s[0..len), or -1 if it is not well-formed UTF-8. */
long sa_utf8_count(const char *s, size_t len);

/** @returns the code points of @p s[0..len), malformed bytes counting one each (never fails). */
size_t sa_utf8_length(const char *s, size_t len);

/** Write @p cp (<= U+10FFFF) as UTF-8 into @p out (room for 4 bytes). @returns the bytes written. */
size_t sa_utf8_encode(uint32_t cp, char *out);

/** @returns the longest prefix length <= @p len of @p s that is well-formed UTF-8 (cut before a
 *  sequence that is torn or bad). */
size_t sa_utf8_valid_prefix(const char *s, size_t len);

#endif
