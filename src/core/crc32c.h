/*
 * crc32c.h - CRC-32C (Castagnoli), the checksum of Kafka record batches (v2).
 *
 * sa_crc32c() picks the SSE4.2 instruction when the CPU has it (checked once), a slice-by-8
 * table otherwise. Both are exported so tests can compare them on the same input.
 */
#ifndef SA_CORE_CRC32C_H
#define SA_CORE_CRC32C_H

#include <stddef.h>
#include <stdint.h>

/** CRC-32C of @p len bytes, continuing from @p crc (0 to start). */
uint32_t sa_crc32c(uint32_t crc, const void *data, size_t len);
uint32_t sa_crc32c_sw(uint32_t crc, const void *data, size_t len);
/** Hardware version; only valid when sa_crc32c_hw_available(). */
uint32_t sa_crc32c_hw(uint32_t crc, const void *data, size_t len);
int sa_crc32c_hw_available(void);

#endif
