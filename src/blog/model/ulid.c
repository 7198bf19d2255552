/*
 * ulid.c - ULID generation (see ulid.h). The random part comes from getrandom(); when the clock
 * has not moved (or went back) since the last id, the previous random part is incremented so the
 * ids of one process never repeat and always sort in creation order.
 */
#include "blog/model/ulid.h"

#include <pthread.h>
#include <string.h>
#include <sys/random.h>

#include "core/time.h"

static const char b32[] = "0123456789ABCDEFGHJKMNPQRSTVWXYZ";

static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
static uint64_t last_ms;
static uint8_t last_rnd[10];

void sa_ulid_encode(uint64_t ms, const uint8_t rnd[10], char out[SA_ULID_LEN + 1]) {
    /* 128 bits = 48-bit time then 80 random bits, read 5 bits at a time from the top; the first
     * character carries only the 3 leftover top bits (26 * 5 = 130). */
    uint8_t v[16];
    for (int i = 0; i < 6; i++) v[i] = (uint8_t)(ms >> (40 - 8 * i));
    memcpy(v + 6, rnd, 10);
    for (int c = 0; c < SA_ULID_LEN; c++) {
        int bit = c * 5 - 2; /* position of this character's top bit in the 128-bit value */
        unsigned x = 0;
        for (int b = 0; b < 5; b++, bit++) {
            x <<= 1;
            if (bit >= 0) x |= (v[bit / 8] >> (7 - bit % 8)) & 1u;
        }
        out[c] = b32[x];
    }
    out[SA_ULID_LEN] = '\0';
}

void sa_ulid_new(char out[SA_ULID_LEN + 1]) {
    uint8_t rnd[10];
    uint64_t ms = (uint64_t)sa_wall_ms();
    pthread_mutex_lock(&lock);
    if (ms <= last_ms) {
        ms = last_ms;
        int i = 9;
        while (i >= 0 && ++last_rnd[i] == 0) i--; /* carry; 2^80 ids in one ms will not happen */
        memcpy(rnd, last_rnd, sizeof(rnd));
    } else {
        if (getrandom(rnd, sizeof(rnd), 0) != (ssize_t)sizeof(rnd)) {
            /* getrandom on Linux >= 3.17 does not fail for 10 bytes; keep ids unique anyway */
            memcpy(rnd, last_rnd, sizeof(rnd));
            rnd[9]++;
        }
        rnd[0] &= 0x7f; /* headroom so monotonic increments cannot overflow into the timestamp */
        last_ms = ms;
        memcpy(last_rnd, rnd, sizeof(rnd));
    }
    pthread_mutex_unlock(&lock);
    sa_ulid_encode(ms, rnd, out);
}

int sa_ulid_valid(const char *s) {
    if (!s || strlen(s) != SA_ULID_LEN) return 0;
    for (int i = 0; i < SA_ULID_LEN; i++)
        if (!strchr(b32, s[i]) || s[i] == '\0') return 0;
    return s[0] <= '7'; /* the top character holds only 3 bits */
}
