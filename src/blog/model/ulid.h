/*
 * ulid.h - ULIDs for post ids: 48-bit millisecond timestamp + 80 random bits, 26 characters of
 * Crockford base32, so ids sort by creation time as plain strings and need no coordination
 * between several web servers.
 */
#ifndef SA_BLOG_ULID_H
#define SA_BLOG_ULID_H

#include <stdint.h>

#define SA_ULID_LEN 26

/**
 * Write a new ULID and its NUL into @p out. Ids made by one process are strictly increasing even
 * within one millisecond (the random part is incremented, as the ULID spec's monotonic mode does).
 * @locks thread-safe (an internal mutex).
 */
void sa_ulid_new(char out[SA_ULID_LEN + 1]);

/** Encode @p ms and the 10 bytes of @p rnd as a ULID into @p out (deterministic; for tests). */
void sa_ulid_encode(uint64_t ms, const uint8_t rnd[10], char out[SA_ULID_LEN + 1]);

/** @returns 1 if @p s is exactly 26 Crockford base32 characters (upper case), else 0. */
int sa_ulid_valid(const char *s);

#endif
