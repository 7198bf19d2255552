/*
 * offsets.c - committed offsets: an in-memory map backed by an append-only, CRC-checked log.
 *
 * File DIR/offsets.log:
 *   8 bytes  magic "SAOFFS01"
 *   records, each:
 *     u32 BE  body length N (1 .. SA_OFFSETS_RECORD_MAX)
 *     u32 BE  CRC-32C of the body
 *     N bytes body:
 *       u8      type: 1 commit, 2 delete one offset, 3 delete a group (offsets and membership),
 *               4 the group's membership record (opaque to this file, see group_persist.c)
 *       u16 BE  group length, group bytes
 *       u16 BE  topic length, topic bytes        (0 for type 3)
 *       i32 BE  partition                         (-1 for type 3)
 *       type 1 only:
 *         i64 BE  offset
 *         i32 BE  leader epoch
 *         i64 BE  commit timestamp (wall ms)
 *         u16 BE  metadata length, metadata bytes
 *       type 4 only:
 *         u32 BE  record length (0 = none), record bytes
 *
 * Replay applies the records in order; the first short or corrupt record ends the log and the
 * file is truncated there (only the tail can be torn: records are appended whole, in one write).
 *
 * Invariants:
 *   1. Memory always equals the replay of the file (a failed append changes neither).
 *   2. `dirty` is set by every append and cleared only by a successful fdatasync.
 */
#include "broker/group/offsets.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "broker/group/strmap.h"
#include "core/buf.h"
#include "core/crc32c.h"
#include "core/log.h"
#include "core/mem.h"

#define MAGIC                 "SAOFFS01"
#define MAGIC_LEN             8
#define SA_OFFSETS_RECORD_MAX (1u << 20) /* far above any valid record: group/topic/metadata are bounded */
#define COMPACT_MIN_BYTES     (1u << 20)

enum { REC_COMMIT = 1, REC_DELETE = 2, REC_DELETE_GROUP = 3, REC_GROUP_META = 4 };

typedef struct oentry_s {
    char *topic; /* owned */
    int32_t partition;
    int64_t offset;
    int32_t leader_epoch;
    int64_t commit_ts_ms;
    char *metadata; /* owned, never NULL */
} oentry_t;

typedef struct ogroup_s {
    sa_strmap_t parts; /* "topic\0" + BE32 partition -> oentry_t */
    uint8_t *meta;     /* owned: the membership record, NULL if none */
    size_t meta_len;
} ogroup_t;

struct sa_offsets_s {
    char *path;         /* DIR/offsets.log */
    char *dir;          /* DIR, for the directory fsync after a rewrite */
    int fd;             /* O_APPEND */
    int dirty;          /* appends since the last fdatasync */
    int failed;         /* an fdatasync failed: what reached the disk is unknown, refuse all writes */
    uint64_t metas;     /* groups with a membership record */
    sa_strmap_t groups; /* group id -> ogroup_t */
    sa_offsets_stats_t st;
};

/* ---- in-memory map ----------------------------------------------------------------------- */

static size_t part_key(char *key, size_t size, const char *topic, int32_t partition) {
    size_t tlen = strlen(topic);
    if (tlen + 5 > size) tlen = size - 5; /* topics are <= 249 bytes; the key buffer is larger */
    memcpy(key, topic, tlen);
    key[tlen] = '\0';
    sa_store_be32((uint8_t *)key + tlen + 1, (uint32_t)partition);
    return tlen + 5;
}

static void entry_free(oentry_t *ent) {
    free(ent->topic);
    free(ent->metadata);
    free(ent);
}

static void group_free(ogroup_t *grp) {
    for (sa_strmap_ent_t *it = sa_strmap_next(&grp->parts, NULL); it; it = sa_strmap_next(&grp->parts, it))
        entry_free(it->value);
    sa_strmap_free(&grp->parts);
    free(grp->meta);
    free(grp);
}

static void mem_commit(sa_offsets_t *offs, const char *group, const char *topic, int32_t partition,
                       int64_t offset, int32_t leader_epoch, int64_t ts, const char *metadata) {
    ogroup_t *grp = sa_strmap_gets(&offs->groups, group);
    if (!grp) {
        grp = sa_new(ogroup_t);
        sa_strmap_put(&offs->groups, group, strlen(group), grp);
    }
    char key[32800];
    size_t klen = part_key(key, sizeof(key), topic, partition);
    oentry_t *ent = sa_strmap_get(&grp->parts, key, klen);
    if (!ent) {
        ent = sa_new(oentry_t);
        ent->topic = sa_strdup(topic);
        ent->partition = partition;
        sa_strmap_put(&grp->parts, key, klen, ent);
        offs->st.live++;
    } else {
        free(ent->metadata);
    }
    ent->offset = offset;
    ent->leader_epoch = leader_epoch;
    ent->commit_ts_ms = ts;
    ent->metadata = sa_strdup(metadata ? metadata : "");
}

static void mem_delete(sa_offsets_t *offs, const char *group, const char *topic, int32_t partition) {
    ogroup_t *grp = sa_strmap_gets(&offs->groups, group);
    if (!grp) return;
    char key[32800];
    size_t klen = part_key(key, sizeof(key), topic, partition);
    oentry_t *ent = sa_strmap_del(&grp->parts, key, klen);
    if (ent) {
        entry_free(ent);
        offs->st.live--;
    }
    if (!grp->parts.count && !grp->meta) group_free(sa_strmap_del(&offs->groups, group, strlen(group)));
}

static void mem_put_meta(sa_offsets_t *offs, const char *group, const uint8_t *blob, size_t len) {
    ogroup_t *grp = sa_strmap_gets(&offs->groups, group);
    if (!grp) {
        if (!len) return;
        grp = sa_new(ogroup_t);
        sa_strmap_put(&offs->groups, group, strlen(group), grp);
    }
    if (grp->meta) offs->metas--;
    free(grp->meta);
    grp->meta = NULL;
    grp->meta_len = 0;
    if (len) {
        grp->meta = sa_malloc(len);
        memcpy(grp->meta, blob, len);
        grp->meta_len = len;
        offs->metas++;
    } else if (!grp->parts.count) {
        group_free(sa_strmap_del(&offs->groups, group, strlen(group)));
    }
}

static void mem_delete_group(sa_offsets_t *offs, const char *group) {
    ogroup_t *grp = sa_strmap_del(&offs->groups, group, strlen(group));
    if (!grp) return;
    offs->st.live -= grp->parts.count;
    if (grp->meta) offs->metas--;
    group_free(grp);
}

/* ---- records ------------------------------------------------------------------------------ */

static sa_err_t put_str16(sa_buf_t *buf, const char *s) {
    size_t len = s ? strlen(s) : 0;
    if (len > 0xffff) return SA_ERR_TOOBIG;
    sa_err_t err = sa_buf_put_be16(buf, (uint16_t)len);
    return err ? err : sa_buf_append(buf, s, len);
}

/* Build one framed record in @p buf. */
static sa_err_t encode(sa_buf_t *buf, int type, const char *group, const char *topic, int32_t partition,
                       int64_t offset, int32_t leader_epoch, int64_t ts, const char *metadata,
                       const void *blob, size_t blob_len) {
    sa_err_t err;
    size_t start = buf->len;
    if ((err = sa_buf_put_be32(buf, 0)) || (err = sa_buf_put_be32(buf, 0)) ||
        (err = sa_buf_putc(buf, (uint8_t)type)) || (err = put_str16(buf, group)) ||
        (err = put_str16(buf, topic)) || (err = sa_buf_put_be32(buf, (uint32_t)partition)))
        return err;
    if (type == REC_COMMIT &&
        ((err = sa_buf_put_be64(buf, (uint64_t)offset)) ||
         (err = sa_buf_put_be32(buf, (uint32_t)leader_epoch)) || (err = sa_buf_put_be64(buf, (uint64_t)ts)) ||
         (err = put_str16(buf, metadata))))
        return err;
    if (type == REC_GROUP_META &&
        ((err = sa_buf_put_be32(buf, (uint32_t)blob_len)) || (err = sa_buf_append(buf, blob, blob_len))))
        return err;
    size_t body = buf->len - start - 8;
    sa_store_be32(buf->data + start, (uint32_t)body);
    sa_store_be32(buf->data + start + 4, sa_crc32c(0, buf->data + start + 8, body));
    return SA_OK;
}

/* A bounds-checked reader over one record body. */
typedef struct rd_s {
    const uint8_t *p, *end;
    int bad;
} rd_t;

static uint64_t rd_n(rd_t *rd, size_t n) {
    if (rd->bad || (size_t)(rd->end - rd->p) < n) {
        rd->bad = 1;
        return 0;
    }
    uint64_t v = 0;
    for (size_t i = 0; i < n; i++) v = (v << 8) | rd->p[i];
    rd->p += n;
    return v;
}

/* @returns new: the string, or NULL when the body is short. */
static char *rd_str(rd_t *rd) {
    size_t len = (size_t)rd_n(rd, 2);
    if (rd->bad || (size_t)(rd->end - rd->p) < len) {
        rd->bad = 1;
        return NULL;
    }
    char *s = sa_strndup((const char *)rd->p, len);
    rd->p += len;
    return s;
}

/* Apply one record body. @returns 0, or -1 if it does not parse (treated as corruption). */
static int apply(sa_offsets_t *offs, const uint8_t *body, size_t len) {
    rd_t rd = {body, body + len, 0};
    int type = (int)rd_n(&rd, 1);
    char *group = rd_str(&rd), *topic = rd_str(&rd), *meta = NULL;
    int32_t partition = (int32_t)rd_n(&rd, 4);
    int64_t offset = 0, ts = 0;
    int32_t epoch = -1;
    const uint8_t *blob = NULL;
    size_t blob_len = 0;
    if (type == REC_GROUP_META) {
        blob_len = (size_t)rd_n(&rd, 4);
        if (!rd.bad && (size_t)(rd.end - rd.p) >= blob_len) {
            blob = rd.p;
            rd.p += blob_len;
        } else {
            rd.bad = 1;
        }
    }
    if (type == REC_COMMIT) {
        offset = (int64_t)rd_n(&rd, 8);
        epoch = (int32_t)rd_n(&rd, 4);
        ts = (int64_t)rd_n(&rd, 8);
        meta = rd_str(&rd);
    }
    int rc = -1;
    if (rd.bad || rd.p != rd.end) goto out;
    switch (type) {
    case REC_COMMIT: mem_commit(offs, group, topic, partition, offset, epoch, ts, meta); break;
    case REC_DELETE: mem_delete(offs, group, topic, partition); break;
    case REC_DELETE_GROUP: mem_delete_group(offs, group); break;
    case REC_GROUP_META: mem_put_meta(offs, group, blob, blob_len); break;
    default: goto out;
    }
    rc = 0;
out:
    free(group);
    free(topic);
    free(meta);
    return rc;
}

/* Append one record; on failure nothing is applied and the file is cut back to where it was. */
static sa_err_t append(sa_offsets_t *offs, int type, const char *group, const char *topic, int32_t partition,
                       int64_t offset, int32_t leader_epoch, int64_t ts, const char *metadata,
                       const void *blob, size_t blob_len) {
    if (offs->failed) return SA_ERR_KAFKA_STORAGE_ERROR;
    sa_buf_t buf = SA_BUF_INIT(SA_OFFSETS_RECORD_MAX);
    sa_err_t err =
        encode(&buf, type, group, topic, partition, offset, leader_epoch, ts, metadata, blob, blob_len);
    if (err) {
        err = SA_ERR_INVALID_REQUEST;
        goto out;
    }
    off_t before = (off_t)offs->st.bytes;
    ssize_t n = write(offs->fd, buf.data, buf.len);
    if (n != (ssize_t)buf.len) {
        int e = n < 0 ? errno : ENOSPC;
        sa_log_error("offsets", "append to %s failed: %s; the commit is refused", offs->path, strerror(e));
        if (ftruncate(offs->fd, before) <
            0) { /* keep the file replayable; a torn tail is cut at open anyway */
        }
        err = SA_ERR_KAFKA_STORAGE_ERROR;
        goto out;
    }
    offs->st.bytes += buf.len;
    offs->st.records++;
    offs->dirty = 1;
    if (apply(offs, buf.data + 8, buf.len - 8) < 0) err = SA_ERR_UNKNOWN_SERVER_ERROR; /* cannot happen */
out:
    sa_buf_free(&buf);
    return err;
}

/* ---- open / replay / compaction ----------------------------------------------------------- */

static int fsync_dir(const char *dir) {
    int fd = open(dir, O_RDONLY | O_DIRECTORY);
    if (fd < 0) return -1;
    int rc = fsync(fd);
    close(fd);
    return rc;
}

static sa_err_t replay(sa_offsets_t *offs, char *errstr, size_t errstr_size) {
    sa_err_t err = SA_ERR_IO;
    sa_buf_t buf = SA_BUF_INIT(0);
    uint8_t chunk[65536];
    for (;;) {
        ssize_t n = read(offs->fd, chunk, sizeof(chunk));
        if (n < 0 && errno == EINTR) continue;
        if (n < 0) {
            snprintf(errstr, errstr_size, "read %s: %s", offs->path, strerror(errno));
            goto out;
        }
        if (n == 0) break;
        sa_buf_append(&buf, chunk, (size_t)n);
    }
    size_t pos = 0, good = 0;
    if (buf.len < MAGIC_LEN || memcmp(buf.data, MAGIC, MAGIC_LEN)) {
        if (buf.len >= MAGIC_LEN) {
            snprintf(errstr, errstr_size, "%s is not a samsa offsets log (bad magic); move it away",
                     offs->path);
            goto out;
        }
        /* new (or torn before the magic was complete): start the file */
        if (ftruncate(offs->fd, 0) < 0 || pwrite(offs->fd, MAGIC, MAGIC_LEN, 0) != MAGIC_LEN) {
            snprintf(errstr, errstr_size, "initialise %s: %s", offs->path, strerror(errno));
            goto out;
        }
        offs->st.truncated = buf.len;
        good = MAGIC_LEN;
        offs->dirty = 1;
    } else {
        pos = good = MAGIC_LEN;
        while (buf.len - pos >= 8) {
            uint32_t len = sa_load_be32(buf.data + pos), crc = sa_load_be32(buf.data + pos + 4);
            if (len == 0 || len > SA_OFFSETS_RECORD_MAX || len > buf.len - pos - 8) break;
            if (sa_crc32c(0, buf.data + pos + 8, len) != crc) break;
            if (apply(offs, buf.data + pos + 8, len) < 0) break;
            pos += 8 + len;
            good = pos;
            offs->st.records++;
        }
        if (good < buf.len) {
            offs->st.truncated = buf.len - good;
            sa_log_warn("offsets", "%s: cut %zu bytes of torn or corrupt tail at byte %zu", offs->path,
                        buf.len - good, good);
            if (ftruncate(offs->fd, (off_t)good) < 0) {
                snprintf(errstr, errstr_size, "truncate %s: %s", offs->path, strerror(errno));
                goto out;
            }
            offs->dirty = 1;
        }
    }
    offs->st.bytes = good;
    err = SA_OK;
out:
    sa_buf_free(&buf);
    return err;
}

sa_err_t sa_offsets_open(const char *dir, sa_offsets_t **out, char *errstr, size_t errstr_size) {
    sa_offsets_t *offs = sa_new(sa_offsets_t);
    sa_err_t err = SA_ERR_IO;
    sa_buf_t path = SA_BUF_INIT(0);
    sa_buf_printf(&path, "%s/offsets.log", dir);
    offs->path = sa_buf_take(&path);
    offs->dir = sa_strdup(dir);
    offs->fd = open(offs->path, O_RDWR | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
    if (offs->fd < 0) {
        snprintf(errstr, errstr_size, "open %s: %s", offs->path, strerror(errno));
        goto out;
    }
    if ((err = replay(offs, errstr, errstr_size))) goto out;
    if ((err = sa_offsets_sync(offs))) {
        snprintf(errstr, errstr_size, "sync %s: %s", offs->path, strerror(errno));
        goto out;
    }
    sa_log_info("offsets", "%s: %llu offsets of %zu groups (%llu records, %llu bytes)", offs->path,
                (unsigned long long)offs->st.live, offs->groups.count, (unsigned long long)offs->st.records,
                (unsigned long long)offs->st.bytes);
out:
    if (err) {
        sa_offsets_close(offs);
        offs = NULL;
    }
    *out = offs;
    return err;
}

void sa_offsets_close(sa_offsets_t *offs) {
    if (!offs) return;
    if (offs->fd >= 0) {
        if (offs->dirty && fdatasync(offs->fd) < 0)
            sa_log_error("offsets", "fdatasync %s at close: %s", offs->path, strerror(errno));
        close(offs->fd);
    }
    for (sa_strmap_ent_t *it = sa_strmap_next(&offs->groups, NULL); it;
         it = sa_strmap_next(&offs->groups, it))
        group_free(it->value);
    sa_strmap_free(&offs->groups);
    free(offs->path);
    free(offs->dir);
    free(offs);
}

/* Rewrite the log with only live offsets: temp file, fsync, rename, fsync dir. */
static sa_err_t compact(sa_offsets_t *offs) {
    sa_err_t err = SA_ERR_KAFKA_STORAGE_ERROR;
    sa_buf_t buf = SA_BUF_INIT(0), tmp = SA_BUF_INIT(0);
    int fd = -1;
    uint64_t records = 0;
    sa_buf_append(&buf, MAGIC, MAGIC_LEN);
    for (sa_strmap_ent_t *g = sa_strmap_next(&offs->groups, NULL); g; g = sa_strmap_next(&offs->groups, g)) {
        ogroup_t *grp = g->value;
        for (sa_strmap_ent_t *p = sa_strmap_next(&grp->parts, NULL); p; p = sa_strmap_next(&grp->parts, p)) {
            oentry_t *ent = p->value;
            encode(&buf, REC_COMMIT, g->key, ent->topic, ent->partition, ent->offset, ent->leader_epoch,
                   ent->commit_ts_ms, ent->metadata, NULL, 0);
            records++;
        }
        if (grp->meta) {
            encode(&buf, REC_GROUP_META, g->key, "", -1, 0, -1, 0, NULL, grp->meta, grp->meta_len);
            records++;
        }
    }
    sa_buf_printf(&tmp, "%s.tmp", offs->path);
    fd = open((char *)tmp.data, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
    if (fd < 0 || write(fd, buf.data, buf.len) != (ssize_t)buf.len || fdatasync(fd) < 0 ||
        rename((char *)tmp.data, offs->path) < 0 || fsync_dir(offs->dir) < 0) {
        sa_log_error("offsets", "compacting %s failed: %s; keeping the old log", offs->path, strerror(errno));
        if (fd >= 0) unlink((char *)tmp.data);
        goto out;
    }
    close(fd);
    fd = open(offs->path, O_RDWR | O_APPEND | O_CLOEXEC);
    if (fd < 0) {
        sa_log_error("offsets", "reopen %s after compaction: %s", offs->path, strerror(errno));
        goto out;
    }
    close(offs->fd);
    offs->fd = fd;
    fd = -1;
    sa_log_debug(SA_DBG_GROUP, "offsets", "compacted %s: %llu -> %llu records, %llu -> %zu bytes", offs->path,
                 (unsigned long long)offs->st.records, (unsigned long long)records,
                 (unsigned long long)offs->st.bytes, buf.len);
    offs->st.records = records;
    offs->st.bytes = buf.len;
    offs->st.compactions++;
    err = SA_OK;
out:
    if (fd >= 0) close(fd);
    sa_buf_free(&buf);
    sa_buf_free(&tmp);
    return err;
}

sa_err_t sa_offsets_sync(sa_offsets_t *offs) {
    if (offs->failed) return SA_ERR_KAFKA_STORAGE_ERROR;
    if (offs->dirty) {
        if (fdatasync(offs->fd) < 0) {
            /* after a failed fsync the kernel may have dropped the dirty pages: a retry could
             * report success for data that is gone, so stay failed until a restart replays */
            sa_log_error("offsets", "fdatasync %s: %s; refusing offset commits until restart", offs->path,
                         strerror(errno));
            offs->failed = 1;
            return SA_ERR_KAFKA_STORAGE_ERROR;
        }
        offs->dirty = 0;
        offs->st.syncs++;
    }
    if (offs->st.bytes > COMPACT_MIN_BYTES && offs->st.records > 2 * (offs->st.live + offs->metas) + 1000)
        compact(offs); /* a failed compaction leaves the old, valid, synced log: not an error */
    return SA_OK;
}

/* ---- public operations -------------------------------------------------------------------- */

sa_err_t sa_offsets_commit(sa_offsets_t *offs, const char *group, const char *topic, int32_t partition,
                           int64_t offset, int32_t leader_epoch, const char *metadata, int64_t commit_ts_ms) {
    if (metadata && strlen(metadata) > SA_OFFSETS_METADATA_MAX) return SA_ERR_OFFSET_METADATA_TOO_LARGE;
    return append(offs, REC_COMMIT, group, topic, partition, offset, leader_epoch, commit_ts_ms, metadata,
                  NULL, 0);
}

int sa_offsets_get(const sa_offsets_t *offs, const char *group, const char *topic, int32_t partition,
                   sa_offset_entry_t *out) {
    ogroup_t *grp = sa_strmap_gets(&offs->groups, group);
    if (!grp) return 0;
    char key[32800];
    size_t klen = part_key(key, sizeof(key), topic, partition);
    oentry_t *ent = sa_strmap_get(&grp->parts, key, klen);
    if (!ent) return 0;
    out->offset = ent->offset;
    out->leader_epoch = ent->leader_epoch;
    out->commit_ts_ms = ent->commit_ts_ms;
    out->metadata = ent->metadata;
    return 1;
}

void sa_offsets_foreach(const sa_offsets_t *offs, const char *group, sa_offsets_visit_fn *fn, void *arg) {
    ogroup_t *grp = sa_strmap_gets(&offs->groups, group);
    if (!grp) return;
    for (sa_strmap_ent_t *p = sa_strmap_next(&grp->parts, NULL); p; p = sa_strmap_next(&grp->parts, p)) {
        oentry_t *ent = p->value;
        sa_offset_entry_t view = {ent->offset, ent->leader_epoch, ent->commit_ts_ms, ent->metadata};
        fn(arg, ent->topic, ent->partition, &view);
    }
}

void sa_offsets_foreach_group(const sa_offsets_t *offs, void (*fn)(void *arg, const char *group), void *arg) {
    for (sa_strmap_ent_t *g = sa_strmap_next(&offs->groups, NULL); g; g = sa_strmap_next(&offs->groups, g))
        fn(arg, g->key);
}

size_t sa_offsets_count(const sa_offsets_t *offs, const char *group) {
    ogroup_t *grp = sa_strmap_gets(&offs->groups, group);
    return grp ? grp->parts.count : 0;
}

sa_err_t sa_offsets_delete(sa_offsets_t *offs, const char *group, const char *topic, int32_t partition) {
    sa_offset_entry_t ent;
    if (!sa_offsets_get(offs, group, topic, partition, &ent)) return SA_OK;
    sa_err_t err = append(offs, REC_DELETE, group, topic, partition, 0, -1, 0, NULL, NULL, 0);
    return err ? err : sa_offsets_sync(offs); /* deletions are rare admin calls: durable at once */
}

sa_err_t sa_offsets_delete_group(sa_offsets_t *offs, const char *group) {
    if (!sa_strmap_gets(&offs->groups, group)) return SA_OK; /* neither offsets nor membership */
    sa_err_t err = append(offs, REC_DELETE_GROUP, group, "", -1, 0, -1, 0, NULL, NULL, 0);
    return err ? err : sa_offsets_sync(offs);
}

size_t sa_offsets_expire(sa_offsets_t *offs, const char *group, int64_t before_ms) {
    ogroup_t *grp = sa_strmap_gets(&offs->groups, group);
    if (!grp) return 0;
    /* collect first: deleting while iterating would invalidate the iterator */
    size_t n = 0, cap = grp->parts.count;
    oentry_t **victims = sa_calloc(cap ? cap : 1, sizeof(*victims));
    for (sa_strmap_ent_t *p = sa_strmap_next(&grp->parts, NULL); p; p = sa_strmap_next(&grp->parts, p)) {
        oentry_t *ent = p->value;
        if (ent->commit_ts_ms < before_ms) victims[n++] = ent;
    }
    size_t done = 0;
    if (n == cap && !grp->meta) {
        done = append(offs, REC_DELETE_GROUP, group, "", -1, 0, -1, 0, NULL, NULL, 0) ? 0 : n;
    } else {
        for (size_t i = 0; i < n; i++) {
            char *topic = sa_strdup(victims[i]->topic); /* the entry is freed by the delete */
            if (!append(offs, REC_DELETE, group, topic, victims[i]->partition, 0, -1, 0, NULL, NULL, 0))
                done++;
            free(topic);
        }
    }
    free(victims);
    if (done) sa_offsets_sync(offs);
    return done;
}

int sa_offsets_dirty(const sa_offsets_t *offs) { return offs->dirty; }

void sa_offsets_stats(const sa_offsets_t *offs, sa_offsets_stats_t *out) { *out = offs->st; }

sa_err_t sa_offsets_put_group_meta(sa_offsets_t *offs, const char *group, const void *blob, size_t len) {
    if (len > SA_OFFSETS_GROUP_META_MAX) return SA_ERR_TOOBIG;
    ogroup_t *grp = sa_strmap_gets(&offs->groups, group);
    if (!len && (!grp || !grp->meta)) return SA_OK;
    if (grp && grp->meta && grp->meta_len == len && !memcmp(grp->meta, blob, len))
        return SA_OK; /* unchanged */
    return append(offs, REC_GROUP_META, group, "", -1, 0, -1, 0, NULL, blob, len);
}

const uint8_t *sa_offsets_group_meta(const sa_offsets_t *offs, const char *group, size_t *len) {
    ogroup_t *grp = sa_strmap_gets(&offs->groups, group);
    *len = grp && grp->meta ? grp->meta_len : 0;
    return grp ? grp->meta : NULL;
}
