/*
 * safe_file.h - small files replaced crash-safely (metadata, checkpoints, committed offsets).
 *
 * sa_safe_file_write() writes PATH.tmp, fsyncs it, renames it over PATH and fsyncs the
 * directory, so after a crash PATH holds either the old or the new contents, never a mix. A
 * leftover PATH.tmp from a crash is simply overwritten next time. All calls go through the
 * sa_sysio table (fault injection applies).
 */
#ifndef SA_STORAGE_SAFE_FILE_H
#define SA_STORAGE_SAFE_FILE_H

#include <stddef.h>

#include "core/buf.h"
#include "core/err.h"

/**
 * Replace @p path (borrowed) with @p len bytes of @p data (borrowed).
 * @returns SA_OK, or KAFKA_STORAGE_ERROR with "op path: strerror" in @p errstr (may be NULL);
 *          the old file is then intact.
 */
sa_err_t sa_safe_file_write(const char *path, const void *data, size_t len, char *errstr, size_t errstr_size);

/**
 * Read all of @p path into @p out (appended; at most @p max bytes).
 * @returns SA_OK, SA_ERR_NOT_FOUND if it does not exist, SA_ERR_TOOBIG, KAFKA_STORAGE_ERROR.
 */
sa_err_t sa_safe_file_read(const char *path, size_t max, sa_buf_t *out);

#endif
