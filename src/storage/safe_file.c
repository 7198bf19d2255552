/*
 * safe_file.c - replace small files atomically and durably (temp, fsync, rename, fsync dir).
 */
#include "storage/safe_file.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "core/sysio.h"

#define SET_ERR(...)                                                                                         \
    do {                                                                                                     \
        if (errstr) snprintf(errstr, errstr_size, __VA_ARGS__);                                              \
    } while (0)

sa_err_t sa_safe_file_write(const char *path, const void *data, size_t len, char *errstr,
                            size_t errstr_size) {
    char tmp[4096], dir[4096];
    if (snprintf(tmp, sizeof(tmp), "%s.tmp", path) >= (int)sizeof(tmp)) {
        SET_ERR("path too long: %s", path);
        return SA_ERR_KAFKA_STORAGE_ERROR;
    }
    snprintf(dir, sizeof(dir), "%s", path);
    char *slash = strrchr(dir, '/');
    if (!slash)
        snprintf(dir, sizeof(dir), ".");
    else if (slash == dir)
        dir[1] = '\0'; /* a file in / */
    else
        *slash = '\0';
    sa_err_t err = SA_ERR_KAFKA_STORAGE_ERROR;
    const char *op = "open";
    int fd = sa_sysio.open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
    if (fd < 0) goto out;
    op = "write";
    if (sa_sysio_pwrite_all(fd, data, len, 0)) goto out;
    op = "fsync";
    if (sa_sysio.fsync(fd)) goto out;
    op = "close";
    int rc = sa_sysio.close(fd);
    fd = -1;
    if (rc) goto out;
    op = "rename";
    if (sa_sysio.rename(tmp, path)) goto out;
    op = "fsync dir";
    if (sa_sysio_fsync_dir(dir)) goto out;
    err = SA_OK;
out:
    if (err) {
        int saved = errno;
        SET_ERR("%s %s: %s", op, tmp, strerror(saved));
        if (fd >= 0) sa_sysio.close(fd);
        sa_sysio.unlink(tmp);
    }
    return err;
}

sa_err_t sa_safe_file_read(const char *path, size_t max, sa_buf_t *out) {
    int fd = sa_sysio.open(path, O_RDONLY | O_CLOEXEC, 0);
    if (fd < 0) return errno == ENOENT ? SA_ERR_NOT_FOUND : SA_ERR_KAFKA_STORAGE_ERROR;
    sa_err_t err = SA_ERR_KAFKA_STORAGE_ERROR;
    struct stat st;
    if (sa_sysio.fstat(fd, &st)) goto out;
    if ((size_t)st.st_size > max) {
        err = SA_ERR_TOOBIG;
        goto out;
    }
    size_t start = out->len;
    uint8_t *p = sa_buf_extend(out, (size_t)st.st_size);
    if (!p) {
        err = SA_ERR_TOOBIG;
        goto out;
    }
    ssize_t n = sa_sysio_pread_all(fd, p, (size_t)st.st_size, 0);
    if (n < 0) {
        out->len = start;
        goto out;
    }
    out->len = start + (size_t)n;
    err = SA_OK;
out:
    sa_sysio.close(fd);
    return err;
}
