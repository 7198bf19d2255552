/*
 * power_loss.c - a simulated power loss through the sa_sysio table (tests/fault): what a file
 * system keeps when the power goes out at a chosen file system call. See power_loss.h.
 */
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "core/sysio.h"
#include "power_loss.h"

#define MAX_FD 1024
static int64_t synced_len[MAX_FD]; /* bytes of the file a power loss keeps, per fd */
static int tracked[MAX_FD];
static ino_t inode[MAX_FD];    /* the file of each tracked fd: a sync through a dup of it counts too */
static unsigned cut_seed;      /* drives the power loss */
static long calls_left;        /* file system calls until the power goes out (-1: after the last turn) */
static char pending_to[1024];  /* a rename not yet made durable by a directory fsync ("" if none) */
static char pending_old[1100]; /* a link to the file it replaced, to undo it */

/* Count one file system call; the power goes out when the count runs out. */
static void tick(void) {
    if (calls_left > 0 && --calls_left == 0) {
        pl_power_loss();
        _exit(0); /* no close: no clean-shutdown marker, nothing flushed */
    }
}

/* Files whose unsynced bytes a power loss tears: segments, metadata logs, the log cleaner's output. */
static int ends_with(const char *s, size_t n, const char *ext) {
    size_t e = strlen(ext);
    return n > e && !strcmp(s + n - e, ext);
}

static int tracked_name(const char *path) {
    size_t n = strlen(path);
    return ends_with(path, n, ".log") || ends_with(path, n, ".compact") || ends_with(path, n, ".cleaned") ||
           ends_with(path, n, ".swap");
}

static int track_open(const char *path, int flags, mode_t mode) {
    int fd = open(path, flags, mode);
    if (fd >= 0 && fd < MAX_FD && tracked_name(path)) {
        struct stat st;
        fstat(fd, &st);
        tracked[fd] = 1;
        inode[fd] = st.st_ino;
        /* A file that existed is durable up to its size (it was recovered or synced before). */
        synced_len[fd] = (flags & (O_CREAT | O_TRUNC)) && st.st_size == 0 ? 0 : st.st_size;
    }
    return fd;
}

static int track_close(int fd) {
    if (fd >= 0 && fd < MAX_FD) tracked[fd] = 0;
    return close(fd);
}

static ssize_t track_pwrite(int fd, const void *p, size_t n, off_t off) {
    tick();
    return pwrite(fd, p, n, off);
}

static int track_fdatasync(int fd) {
    tick();
    int rc = fdatasync(fd);
    struct stat st;
    if (rc == 0 && fstat(fd, &st) == 0) /* fd may be a dup (the group commit syncs dups) */
        for (int i = 0; i < MAX_FD; i++)
            if (tracked[i] && inode[i] == st.st_ino) synced_len[i] = st.st_size;
    tick(); /* the sync happened, the caller has not seen it yet */
    return rc;
}

static int track_ftruncate(int fd, off_t len) {
    tick();
    int rc = ftruncate(fd, len);
    struct stat st;
    if (rc == 0 && fstat(fd, &st) == 0)
        for (int i = 0; i < MAX_FD; i++)
            if (tracked[i] && inode[i] == st.st_ino && synced_len[i] > len) synced_len[i] = len;
    return rc;
}

static int track_rename(const char *from, const char *to) {
    tick();
    pending_to[0] = '\0';
    snprintf(pending_old, sizeof(pending_old), "%s.before-rename", to);
    unlink(pending_old);
    int had_old = link(to, pending_old) == 0;
    int rc = rename(from, to);
    if (rc == 0 && had_old) snprintf(pending_to, sizeof(pending_to), "%s", to);
    tick(); /* renamed, not yet durable */
    return rc;
}

static int track_fsync(int fd) {
    tick();
    int rc = fsync(fd);
    struct stat st;
    if (rc == 0 && fstat(fd, &st) == 0 && S_ISDIR(st.st_mode) && pending_to[0]) {
        unlink(pending_old); /* the rename is durable now */
        pending_to[0] = '\0';
    }
    return rc;
}

void pl_power_loss(void) {
    unsigned *seed = &cut_seed;
    for (int fd = 0; fd < MAX_FD; fd++) {
        if (!tracked[fd]) continue;
        struct stat st;
        fstat(fd, &st);
        int64_t unsynced = st.st_size - synced_len[fd];
        if (unsynced <= 0) continue;
        int64_t keep = synced_len[fd] + (rand_r(seed) % 2 ? rand_r(seed) % (unsynced + 1) : 0);
        if (keep > synced_len[fd] && rand_r(seed) % 3 == 0) { /* the torn part is garbage */
            uint8_t junk = (uint8_t)rand_r(seed);
            int64_t at = synced_len[fd] + rand_r(seed) % (keep - synced_len[fd]);
            if (pwrite(fd, &junk, 1, at) != 1) _exit(3);
        }
        if (ftruncate(fd, keep)) _exit(3);
    }
    if (pending_to[0]) { /* the directory never said so: the old name may come back */
        if (rand_r(seed) % 2 && rename(pending_old, pending_to)) _exit(3);
        unlink(pending_old);
    }
}

void pl_install(unsigned seed, long calls) {
    memset(tracked, 0, sizeof(tracked));
    cut_seed = seed;
    calls_left = calls;
    pending_to[0] = '\0';
    sa_sysio.open = track_open;
    sa_sysio.close = track_close;
    sa_sysio.pwrite = track_pwrite;
    sa_sysio.fdatasync = track_fdatasync;
    sa_sysio.ftruncate = track_ftruncate;
    sa_sysio.rename = track_rename;
    sa_sysio.fsync = track_fsync;
}
