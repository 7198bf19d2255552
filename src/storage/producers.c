/*
 * producers.c - a partition's producer state on disk: <offset>.snapshot files, the rebuild at
 * open, and producer-id expiry.
 *
 * DESIGN. The partition owns its producer state (part->pstate, pstate.h) and feeds it every batch
 * it writes (partition.c), so the state is always that of the log. What a restart needs is a way
 * back to it that does not read the whole log: a snapshot, the state's bytes at an offset
 * (sa_pstate_encode; the file layout is in storage.h), written
 *   - when a segment is sealed by a roll, at the new segment's base (its data below is fdatasync'd
 *     just before, so the snapshot never describes bytes a crash can take back), and
 *   - at a clean close, at the log end offset (after the final sync);
 * each crash-safely (sa_safe_file_write: PATH.tmp, fsync, rename, fsync of the directory, all
 * through sa_sysio), so a power loss leaves the old file or the new one, never half of one. A
 * snapshot that cannot be written is only logged: the next open scans further back instead.
 *
 * OPEN (sa_producers_recover, from sa_partition_open, so before the broker serves anything and
 * never on a produce request): the newest snapshot whose offset is <= the log end and whose bytes
 * check (magic, version, CRC, every entry) is loaded and only the batches at or after its offset
 * are scanned (their headers: the same code as live appends). A damaged one is deleted and the
 * next older one tried; none at all (a log written before snapshots existed) scans the whole log.
 * After a clean close the newest snapshot is at the log end: nothing is scanned.
 *
 * WHICH FILES STAY: one per segment base (written at its roll) and the newest one. Writing a
 * snapshot deletes the older ones inside the active segment (clean closes of earlier runs); the
 * snapshots below the first segment's base go with the segments that retention or DeleteRecords
 * delete (sa_producers_drop_below); a cut of the log's tail deletes those above the new end.
 * Compaction keeps them all: a snapshot describes what producers wrote below its offset, which the
 * cleaner does not change (it only drops records), and the rebuild of a cleaned log would lose the
 * producers whose batches the cleaner removed, which the snapshot keeps.
 *
 * EXPIRY (sa_store_expire_producers, from a loop timer): pstate.h's rule with the partition's open
 * transactions (txn.c) as the ones never expired; a pass visits the partitions in turn from a
 * cursor and stops after a budget of producers so that one turn of the loop stays short.
 */
#include <dirent.h>
#include <malloc.h>
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/buf.h"
#include "core/log.h"
#include "core/mem.h"
#include "core/sysio.h"
#include "core/time.h"
#include "storage/pstate.h"
#include "storage/safe_file.h"
#include "storage/storage_int.h"

#define SNAPSHOT_MAX_BYTES (1u << 30) /* 5.7 M producers; a bigger file is taken as damaged */

static void snap_path(char *out, size_t size, const char *dir, int64_t offset) {
    snprintf(out, size, "%s/%020" PRId64 ".snapshot", dir, offset);
}

sa_pstate_t *sa_partition_pstate(sa_partition_t *part) { return part->pstate; }

static void snaps_insert(sa_partition_t *part, int64_t offset) {
    size_t i = part->nsnaps;
    while (i > 0 && part->snaps[i - 1] > offset) i--;
    if (i > 0 && part->snaps[i - 1] == offset) return;
    if (part->nsnaps == part->snaps_cap) {
        part->snaps_cap = part->snaps_cap ? part->snaps_cap * 2 : 8;
        part->snaps = sa_realloc(part->snaps, part->snaps_cap * sizeof(*part->snaps));
    }
    memmove(part->snaps + i + 1, part->snaps + i, (part->nsnaps - i) * sizeof(*part->snaps));
    part->snaps[i] = offset;
    part->nsnaps++;
}

/* Delete snapshot @p i (file and entry). */
static void snaps_remove(sa_partition_t *part, size_t i) {
    char path[4096];
    snap_path(path, sizeof(path), part->dir, part->snaps[i]);
    if (sa_sysio.unlink(path) && errno != ENOENT)
        sa_log_warn("storage", "%s: cannot delete %s: %s", part->dir, path, strerror(errno));
    memmove(part->snaps + i, part->snaps + i + 1, (part->nsnaps - i - 1) * sizeof(*part->snaps));
    part->nsnaps--;
}

sa_err_t sa_producers_snapshot(sa_partition_t *part, int64_t offset) {
    char path[4096], errstr[512];
    snap_path(path, sizeof(path), part->dir, offset);
    sa_buf_t b = SA_BUF_INIT(0);
    sa_pstate_encode(part->pstate, offset, &b);
    sa_err_t err = sa_safe_file_write(path, b.data, b.len, errstr, sizeof(errstr));
    sa_buf_free(&b);
    if (err) {
        sa_log_warn("storage",
                    "%s: producer state snapshot at %" PRId64 " not written (%s); the next start "
                    "rebuilds it from an older one and the log",
                    part->dir, offset, errstr);
        return err;
    }
    snaps_insert(part, offset);
    /* Older snapshots inside the active segment are superseded (clean closes of earlier runs). */
    int64_t base = part->segs[part->nsegs - 1]->base;
    for (size_t i = part->nsnaps; i-- > 0;)
        if (part->snaps[i] > base && part->snaps[i] < offset) snaps_remove(part, i);
    return SA_OK;
}

void sa_producers_drop_below(sa_partition_t *part, int64_t offset) {
    while (part->nsnaps && part->snaps[0] < offset) snaps_remove(part, 0);
}

void sa_producers_truncated(sa_partition_t *part, int64_t end) {
    sa_pstate_truncate(part->pstate, end);
    while (part->nsnaps && part->snaps[part->nsnaps - 1] > end) snaps_remove(part, part->nsnaps - 1);
}

/* Offsets of the DIR/<20 digits>.snapshot files into part->snaps (sorted); leftovers of
 * interrupted writes (.snapshot.tmp) are deleted. @returns 0 or -1 with errno. */
static int list_snapshots(sa_partition_t *part) {
    DIR *d = opendir(part->dir);
    if (!d) return -1;
    struct dirent *de;
    char path[4096];
    while ((de = readdir(d))) {
        const char *s = de->d_name;
        if (strspn(s, "0123456789") != 20) continue;
        if (!strcmp(s + 20, ".snapshot.tmp")) {
            snprintf(path, sizeof(path), "%s/%s", part->dir, s);
            sa_sysio.unlink(path);
        } else if (!strcmp(s + 20, ".snapshot")) {
            snaps_insert(part, strtoll(s, NULL, 10));
        }
    }
    closedir(d);
    return 0;
}

typedef struct rescan_s {
    sa_pstate_t *st;
    int64_t from; /* batches ending below it are in the snapshot already */
    int64_t batches;
    sa_err_t err; /* a read error while reading a marker */
} rescan_t;

static int rescan_visit(void *opaque, sa_segment_t *seg, const sa_rb_header_t *hdr, int64_t pos) {
    rescan_t *rs = opaque;
    if (sa_rb_last_offset(hdr) < rs->from) return 0; /* a compacted log may start the walk earlier */
    rs->batches++;
    if ((hdr->Attributes & SA_RB_ATTR_CONTROL) && hdr->ProducerId >= 0) {
        /* A marker: its coordinator epoch is in its value (the few control batches are read whole). */
        int32_t coordinator_epoch = 0;
        if (sa_txn_marker_at(seg, hdr, pos, &coordinator_epoch, &rs->err) < 0) return rs->err ? 1 : 0;
        sa_pstate_marker(rs->st, hdr->ProducerId, hdr->ProducerEpoch, coordinator_epoch, hdr->MaxTimestamp);
        return 0;
    }
    sa_pstate_record(rs->st, hdr);
    return 0;
}

sa_err_t sa_producers_recover(sa_partition_t *part) {
    part->pstate = sa_pstate_new();
    if (list_snapshots(part)) return SA_ERR_KAFKA_STORAGE_ERROR;
    int64_t leo = part->segs[part->nsegs - 1]->next_offset, from = -1;
    sa_buf_t b = SA_BUF_INIT(0);
    while (part->nsnaps && from < 0) {
        size_t i = part->nsnaps - 1;
        int64_t at = part->snaps[i];
        char path[4096];
        const char *why = "beyond the log end";
        snap_path(path, sizeof(path), part->dir, at);
        sa_buf_reset(&b);
        sa_pstate_t *st = NULL;
        int64_t offset = -1;
        if (at <= leo) {
            sa_err_t err = sa_safe_file_read(path, SNAPSHOT_MAX_BYTES, &b);
            if (err == SA_ERR_KAFKA_STORAGE_ERROR) {
                sa_buf_free(&b);
                return err;
            }
            why = err ? "unreadable" : "";
            if (!err && sa_pstate_decode(b.data, b.len, &st, &offset, &why) == SA_OK && offset != at) {
                why = "its offset is not its name";
                sa_pstate_free(st);
                st = NULL;
            }
        }
        if (st) {
            sa_pstate_free(part->pstate);
            part->pstate = st;
            from = at;
        } else {
            sa_log_warn("storage",
                        "%s: producer state snapshot %s is %s: deleted, an older one or the log is used",
                        part->dir, path, why);
            snaps_remove(part, i);
        }
    }
    sa_buf_free(&b);
    int64_t t0 = sa_mono_ms();
    rescan_t rs = {part->pstate, from, 0, SA_OK};
    int64_t scan_from = SA_MAX(from, part->log_start);
    sa_err_t err = scan_from < leo ? sa_partition_walk_batches(part, scan_from, rescan_visit, &rs) : SA_OK;
    if (rs.err) return rs.err;
    if (err) return err;
    int64_t ms = sa_mono_ms() - t0;
    if (ms >= 100) /* worth knowing: a log from before snapshots, or a long tail after a crash */
        sa_log_info("storage", "%s: producer state: %" PRId64 " batches scanned in %" PRId64 " ms after %s",
                    part->dir, rs.batches, ms, from < 0 ? "no snapshot" : "the newest snapshot");
    else
        sa_log_debug(SA_DBG_STORAGE, "storage",
                     "%s: producer state: %zu producers, %" PRId64 " batches scanned after %s", part->dir,
                     sa_pstate_count(part->pstate), rs.batches, from < 0 ? "no snapshot" : "a snapshot");
    return SA_OK;
}

void sa_producers_free(sa_partition_t *part) {
    sa_pstate_free(part->pstate);
    part->pstate = NULL;
    free(part->snaps);
    part->snaps = NULL;
    part->nsnaps = part->snaps_cap = 0;
}

static int has_open_txn(void *opaque, int64_t pid) { return sa_partition_txn_open(opaque, pid, NULL); }

int sa_store_expire_producers(sa_store_t *store, int64_t now_ms, size_t budget) {
    int64_t expiration = store->conf.producer_id_expiration_ms;
    while (budget > 0) {
        if (store->expire_topic >= store->ntopics) { /* the pass is over */
            if (store->expired > 10000) {            /* many small entries freed: */
                store->expired = 0;
                store->trim_due = 1;
                return 1; /* their pages go back in a slice of their own (a few ms for 200k) */
            }
#ifdef __GLIBC__
            if (store->trim_due) malloc_trim(0); /* glibc keeps them otherwise */
#endif
            store->trim_due = 0;
            store->expire_topic = 0;
            store->expire_part = 0;
            store->expire_pos = 0;
            store->expired = 0;
            return 0;
        }
        sa_topic_t *topic = store->topics[store->expire_topic];
        if (store->expire_part >= topic->npart) {
            store->expire_topic++;
            store->expire_part = 0;
            store->expire_pos = 0;
            continue;
        }
        sa_partition_t *part = topic->parts[store->expire_part];
        size_t n = sa_pstate_expire(part->pstate, now_ms, expiration, has_open_txn, part, &store->expire_pos,
                                    &budget);
        store->expired += n;
        if (n)
            sa_log_debug(SA_DBG_STORAGE, "storage",
                         "%s: %zu producers expired (producer.id.expiration.ms=%" PRId64 ")", part->dir, n,
                         expiration);
        if (store->expire_pos == 0) { /* done with it */
            store->expire_part++;
            if (budget) budget--; /* an empty partition costs a little too */
        }
    }
    return 1;
}
