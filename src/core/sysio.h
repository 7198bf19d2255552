/*
 * sysio.h - the table of file system calls durable code goes through, so tests can inject faults.
 *
 * Every file operation whose failure matters for durability (the partition logs and the metadata
 * log in src/storage/, and any other module that must fdatasync what it acknowledges) calls
 * sa_sysio.<name>(...) instead of the libc function (the idea of SQLite's aSyscall[] in
 * os_unix.c). The table starts out pointing at libc; a test replaces one entry with a wrapper that
 * fails (ENOSPC, EIO, a short write) at a chosen call, or tracks what was synced to simulate a
 * power loss (tests/fault/0001), and puts libc back with sa_sysio_reset(). Not thread-safe to
 * change while another thread uses it; tests change it from the thread that drives the store
 * (the store's sync helper threads only call .fdatasync, .rename and .fsync).
 *
 * It lives in core, below every module, so a module above storage (the blog's results log, say)
 * can go through the same table and the same fault tests can reach it.
 */
#ifndef SA_CORE_SYSIO_H
#define SA_CORE_SYSIO_H

#include <sys/stat.h>
#include <sys/types.h>

typedef struct sa_sysio_s {
    int (*open)(const char *path, int flags, mode_t mode);
    int (*close)(int fd);
    ssize_t (*pread)(int fd, void *buf, size_t len, off_t off);
    ssize_t (*pwrite)(int fd, const void *buf, size_t len, off_t off);
    int (*fdatasync)(int fd);
    int (*fsync)(int fd);
    int (*ftruncate)(int fd, off_t len);
    int (*fstat)(int fd, struct stat *st);
    int (*rename)(const char *from, const char *to);
    int (*unlink)(const char *path);
    int (*mkdir)(const char *path, mode_t mode);
    int (*rmdir)(const char *path);
    int (*flock)(int fd, int op);
} sa_sysio_t;

/** The table storage calls through; tests may overwrite entries. */
extern sa_sysio_t sa_sysio;

/** Point every entry back at libc. */
void sa_sysio_reset(void);

/**
 * Write all @p len bytes at @p off (retrying short writes and EINTR).
 * @returns 0, or -1 with errno set (ENOSPC on a short write that made no progress).
 */
int sa_sysio_pwrite_all(int fd, const void *buf, size_t len, off_t off);
/** Read up to @p len bytes at @p off (retrying EINTR and short reads). @returns bytes read or -1. */
ssize_t sa_sysio_pread_all(int fd, void *buf, size_t len, off_t off);
/** fsync the directory @p dir (makes creates/renames/unlinks in it durable). @returns 0 or -1. */
int sa_sysio_fsync_dir(const char *dir);

#endif
