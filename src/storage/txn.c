/*
 * txn.c - transactions in a partition (KIP-98): which are open, the last stable offset, the
 * aborted-transaction index of each segment, and how all of it survives a restart.
 *
 * DESIGN. Storage sees every batch it writes. A transactional batch (attribute bit 4, not a
 * control batch) of producer P opens P's transaction here if none is open, at the batch's offset;
 * a marker (a control batch, written only by sa_partition_append_marker for the transaction
 * coordinator) ends it. An ABORT marker adds an entry {pid, first, last = the marker, lso} to the
 * segment the marker is in, so a read_committed Fetch can tell the consumer which producer's
 * records to drop between which offsets. The last stable offset (LSO) is the first offset of the
 * oldest transaction whose outcome is not durable yet, or the HWM:
 *
 *     LSO = max(log start, min(HWM, first offset of every entry of txns[]))
 *
 * where an entry stays in txns[] after its marker until the marker is below the HWM (a marker a
 * failed sync cuts off reopens its transaction: sa_txn_truncated). Read_committed readers see
 * only offsets below the LSO, so they never see a record whose transaction may still go either way.
 *
 * FILE <base>.txnindex (its byte layout in storage.h), one per segment that has something to say
 * (an aborted transaction, one open at its end, or one open at its start: seg->txn_in), written
 * whole and replaced crash-safely (sa_safe_file_write) when the segment is sealed by a roll and,
 * for the active segment, at a clean close; absent otherwise.
 *
 * RECOVERY (sa_txn_recover) walks the segments oldest first, carrying the set of transactions
 * open at the end of the previous one:
 *   - a sealed segment (or the active one after a clean close) with a valid file: its entries,
 *     and its open set becomes the carried set;
 *   - no file, nothing carried: nothing happened there (a file is written whenever a segment has
 *     an abort, begins or ends with an open transaction; segments of a samsa without transactions
 *     have none, and had none);
 *   - otherwise (a missing or damaged file, or the active segment after a crash): walk its batch
 *     headers from the carried set, reading the few control batches whole for their type.
 * Roll writes the old segment's file (fsync'd, directory fsync'd) before it creates the next
 * segment, so a sealed segment never silently lacks its file; if that write fails, the roll and
 * with it the append fail (KAFKA_STORAGE_ERROR), as when the new segment cannot be created.
 * Transactions begun in segments retention has deleted are forgotten with their data: what is
 * left of them is tracked from their first remaining batch, which is exactly the data that can
 * still be read.
 *
 * Invariants 6 and 7 of storage_int.h are checked by sa_txn_check().
 */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/check.h"
#include "core/crc32c.h"
#include "core/log.h"
#include "core/mem.h"
#include "core/sysio.h"
#include "storage/safe_file.h"
#include "storage/storage_int.h"

#define TXNIX_MAGIC      "SATXNIX1"
#define TXNIX_HEADER     16
#define TXNIX_ABORTED    34
#define TXNIX_OPEN       18
#define TXNIX_MAX        (64u << 20)
#define MARKER_BATCH_MAX 4096 /* a control batch is ~80 bytes; anything larger is not one of ours */

static void txnix_path(char *out, size_t size, const char *dir, int64_t base) {
    snprintf(out, size, "%s/%020" PRId64 ".txnindex", dir, base);
}

/* ---- the open set ---------------------------------------------------------------------------- */

/* @returns the undecided entry of @p pid (end -1), or NULL. */
static sa_txn_open_t *find_open(sa_txn_open_t *txns, size_t n, int64_t pid) {
    for (size_t i = 0; i < n; i++)
        if (txns[i].pid == pid && txns[i].end < 0) return &txns[i];
    return NULL;
}

static void push_open(sa_txn_open_t **txns, size_t *n, size_t *cap, sa_txn_open_t t) {
    if (*n == *cap) {
        *cap = *cap ? *cap * 2 : 4;
        *txns = sa_realloc(*txns, *cap * sizeof(**txns));
    }
    (*txns)[(*n)++] = t;
}

static void push_aborted(sa_segment_t *seg, sa_txn_aborted_t a) {
    if (seg->naborted == seg->aborted_cap) {
        seg->aborted_cap = seg->aborted_cap ? seg->aborted_cap * 2 : 4;
        seg->aborted = sa_realloc(seg->aborted, seg->aborted_cap * sizeof(*seg->aborted));
    }
    seg->aborted[seg->naborted++] = a;
}

/* Open (or extend) @p pid's transaction for a transactional batch at @p offset. */
static void open_txn(sa_txn_open_t **txns, size_t *n, size_t *cap, int64_t pid, int16_t epoch,
                     int64_t offset) {
    sa_txn_open_t *t = find_open(*txns, *n, pid);
    if (t) {
        if (epoch > t->epoch) t->epoch = epoch;
        return;
    }
    push_open(txns, n, cap, (sa_txn_open_t){pid, epoch, offset, -1});
}

/* The LSO right after @p pid's transaction ended at @p marker (Kafka's lastStableOffset of a
 * completed transaction): the first offset of the oldest other undecided one, or marker + 1. */
static int64_t lso_after(const sa_txn_open_t *txns, size_t n, int64_t pid, int64_t marker) {
    int64_t lso = marker + 1;
    for (size_t i = 0; i < n; i++)
        if (txns[i].pid != pid && txns[i].end < 0 && txns[i].first < lso) lso = txns[i].first;
    return lso;
}

void sa_txn_note_batch(sa_partition_t *part, const sa_rb_header_t *hdr) {
    if (!(hdr->Attributes & SA_RB_ATTR_TRANSACTIONAL) || (hdr->Attributes & SA_RB_ATTR_CONTROL) ||
        hdr->ProducerId < 0)
        return;
    open_txn(&part->txns, &part->ntxns, &part->txns_cap, hdr->ProducerId, hdr->ProducerEpoch,
             hdr->BaseOffset);
}

void sa_txn_note_marker(sa_partition_t *part, sa_segment_t *seg, int64_t pid, int commit, int64_t offset) {
    sa_txn_open_t *t = find_open(part->txns, part->ntxns, pid);
    if (!t) return; /* nothing of it here: the marker only moves the producer's epoch */
    t->end = offset;
    if (!commit)
        push_aborted(
            seg, (sa_txn_aborted_t){pid, t->first, offset, lso_after(part->txns, part->ntxns, pid, offset)});
}

/* Forget every transaction whose marker was written (recovery: everything read is durable). */
static void drop_decided(sa_partition_t *part) {
    size_t k = 0;
    for (size_t i = 0; i < part->ntxns; i++)
        if (part->txns[i].end < 0) part->txns[k++] = part->txns[i];
    part->ntxns = k;
}

void sa_txn_synced(sa_partition_t *part) {
    size_t k = 0;
    for (size_t i = 0; i < part->ntxns; i++)
        if (part->txns[i].end < 0 || part->txns[i].end >= part->hwm) part->txns[k++] = part->txns[i];
    part->ntxns = k;
}

void sa_txn_truncated(sa_partition_t *part, int64_t cut) {
    size_t k = 0;
    for (size_t i = 0; i < part->ntxns; i++) {
        sa_txn_open_t t = part->txns[i];
        if (t.first >= cut) continue; /* begun in the cut part: gone with it */
        if (t.end >= cut) t.end = -1; /* its marker was cut: undecided again */
        part->txns[k++] = t;
    }
    part->ntxns = k;
    for (size_t i = 0; i < part->nsegs; i++) {
        sa_segment_t *seg = part->segs[i];
        while (seg->naborted && seg->aborted[seg->naborted - 1].last >= cut) seg->naborted--;
    }
}

void sa_txn_free(sa_partition_t *part) {
    free(part->txns);
    part->txns = NULL;
    part->ntxns = part->txns_cap = 0;
}

void sa_txn_check(const sa_partition_t *part) {
#ifdef NDEBUG
    (void)part; /* every check below is an assert(), which Release drops */
#else
    int64_t leo = part->segs[part->nsegs - 1]->next_offset;
    for (size_t i = 0; i < part->ntxns; i++) {
        const sa_txn_open_t *t = &part->txns[i];
        assert(t->first < leo && t->first >= 0);
        assert(t->end < 0 || (t->end >= part->hwm && t->end > t->first));
        SA_DEBUG_CHECK({
            for (size_t j = i + 1; j < part->ntxns; j++)
                assert(part->txns[j].pid != t->pid || part->txns[j].end >= 0 || t->end >= 0);
        });
    }
    SA_DEBUG_CHECK({
        int64_t lso = sa_partition_lso(part); /* 7 */
        assert(part->log_start <= lso && lso <= part->hwm);
        for (size_t i = 0; i < part->ntxns; i++) /* nothing undecided below it but what was deleted */
            assert(part->txns[i].first >= lso || lso == part->log_start);
    });
    SA_DEBUG_CHECK({
        for (size_t s = 0; s < part->nsegs; s++) {
            const sa_segment_t *seg = part->segs[s];
            for (size_t j = 0; j < seg->naborted; j++) {
                const sa_txn_aborted_t *a = &seg->aborted[j];
                assert(a->first <= a->last && a->last >= seg->base && a->last < seg->next_offset);
                assert(j == 0 || a->last > seg->aborted[j - 1].last);
            }
        }
    });
#endif
}

/* ---- what readers ask ---------------------------------------------------------------------------- */

int64_t sa_partition_lso(const sa_partition_t *part) {
    int64_t lso = part->hwm;
    for (size_t i = 0; i < part->ntxns; i++)
        if (part->txns[i].first < lso) lso = part->txns[i].first;
    return lso > part->log_start ? lso : part->log_start;
}

int sa_partition_txn_open(const sa_partition_t *part, int64_t pid, int64_t *first) {
    const sa_txn_open_t *t = find_open(part->txns, part->ntxns, pid);
    if (t && first) *first = t->first;
    return t != NULL;
}

size_t sa_partition_txn_count(const sa_partition_t *part) { return part->ntxns; }

size_t sa_partition_aborted_txns(const sa_partition_t *part, int64_t from, int64_t upto, sa_buf_t *out) {
    size_t n = 0;
    /* Markers at or after `from` are in the segment holding `from` or later ones. */
    size_t i = part->nsegs;
    while (i > 0 && part->segs[i - 1]->base > from) i--;
    for (i = i ? i - 1 : 0; i < part->nsegs; i++) {
        const sa_segment_t *seg = part->segs[i];
        for (size_t k = 0; k < seg->naborted; k++) {
            const sa_txn_aborted_t *a = &seg->aborted[k];
            if (a->last >= from && a->first < upto) {
                sa_aborted_txn_t at = {a->pid, a->first};
                sa_buf_append(out, &at, sizeof(at));
                n++;
            }
            /* Every later entry began at or after this one's LSO: none can reach below upto. */
            if (a->lso >= upto) return n;
        }
    }
    return n;
}

/* ---- the .txnindex file ------------------------------------------------------------------------ */

size_t sa_txn_open_count(const sa_partition_t *part) {
    size_t n = 0;
    for (size_t i = 0; i < part->ntxns; i++) n += part->txns[i].end < 0;
    return n;
}

sa_err_t sa_txn_write_index(const sa_partition_t *part, const sa_segment_t *seg) {
    char path[4096];
    txnix_path(path, sizeof(path), part->dir, seg->base);
    uint32_t nopen = (uint32_t)sa_txn_open_count(part);
    if (!seg->naborted && !nopen && !seg->txn_in) {
        /* Nothing to say: no file (and none left from before, e.g. a clean close earlier). */
        if (sa_sysio.unlink(path) && errno != ENOENT) return SA_ERR_KAFKA_STORAGE_ERROR;
        return SA_OK;
    }
    sa_buf_t b = SA_BUF_INIT(0);
    sa_buf_append(&b, TXNIX_MAGIC, 8);
    sa_buf_put_be32(&b, (uint32_t)seg->naborted);
    sa_buf_put_be32(&b, nopen);
    for (size_t i = 0; i < seg->naborted; i++) {
        const sa_txn_aborted_t *a = &seg->aborted[i];
        sa_buf_put_be16(&b, 0);
        sa_buf_put_be64(&b, (uint64_t)a->pid);
        sa_buf_put_be64(&b, (uint64_t)a->first);
        sa_buf_put_be64(&b, (uint64_t)a->last);
        sa_buf_put_be64(&b, (uint64_t)a->lso);
    }
    for (size_t i = 0; i < part->ntxns; i++) {
        const sa_txn_open_t *t = &part->txns[i];
        if (t->end >= 0) continue;
        sa_buf_put_be64(&b, (uint64_t)t->pid);
        sa_buf_put_be16(&b, (uint16_t)t->epoch);
        sa_buf_put_be64(&b, (uint64_t)t->first);
    }
    sa_buf_put_be32(&b, sa_crc32c(0, b.data, b.len));
    sa_err_t err = sa_safe_file_write(path, b.data, b.len, NULL, 0);
    sa_buf_free(&b);
    return err;
}

/* The parsed contents of a .txnindex file. */
typedef struct txnix_s {
    sa_txn_aborted_t *aborted;
    size_t naborted;
    sa_txn_open_t *open;
    size_t nopen;
} txnix_t;

static void txnix_free(txnix_t *ix) {
    free(ix->aborted);
    free(ix->open);
    memset(ix, 0, sizeof(*ix));
}

/* Check the framing of a .txnindex image (@p b, @p len bytes): magic, sizes, CRC. @returns SA_OK with
 * the counts, or SA_ERR_CORRUPT with what is wrong in @p why. */
static sa_err_t txnix_frame(const uint8_t *b, size_t len, uint64_t *na, uint64_t *no, const char **why) {
    if (len < TXNIX_HEADER + 4 || memcmp(b, TXNIX_MAGIC, 8)) {
        *why = "not a transaction index (bad magic or too short)";
        return SA_ERR_CORRUPT;
    }
    if (sa_crc32c(0, b, len - 4) != sa_load_be32(b + len - 4)) {
        *why = "CRC mismatch";
        return SA_ERR_CORRUPT;
    }
    *na = sa_load_be32(b + 8);
    *no = sa_load_be32(b + 12);
    if (TXNIX_HEADER + *na * TXNIX_ABORTED + *no * TXNIX_OPEN + 4 != len) {
        *why = "its counts do not match its size";
        return SA_ERR_CORRUPT;
    }
    return SA_OK;
}

static sa_txn_aborted_t aborted_at(const uint8_t *p) {
    return (sa_txn_aborted_t){(int64_t)sa_load_be64(p + 2), (int64_t)sa_load_be64(p + 10),
                              (int64_t)sa_load_be64(p + 18), (int64_t)sa_load_be64(p + 26)};
}

static sa_txn_open_t open_at(const uint8_t *p) {
    return (sa_txn_open_t){(int64_t)sa_load_be64(p), (int16_t)sa_load_be16(p + 8),
                           (int64_t)sa_load_be64(p + 10), -1};
}

/* Read and check <base>.txnindex of @p seg. @returns SA_OK, SA_ERR_NOT_FOUND (no file),
 * SA_ERR_CORRUPT (damaged, or inconsistent with the segment), KAFKA_STORAGE_ERROR. */
static sa_err_t txnix_load(const sa_partition_t *part, const sa_segment_t *seg, txnix_t *ix) {
    char path[4096];
    sa_buf_t b = SA_BUF_INIT(0);
    memset(ix, 0, sizeof(*ix));
    txnix_path(path, sizeof(path), part->dir, seg->base);
    sa_err_t err = sa_safe_file_read(path, TXNIX_MAX, &b);
    if (err == SA_ERR_TOOBIG) err = SA_ERR_CORRUPT;
    if (err) goto out;
    uint64_t na, no;
    const char *why;
    if ((err = txnix_frame(b.data, b.len, &na, &no, &why))) goto out;
    err = SA_ERR_CORRUPT;
    ix->aborted = sa_calloc(na ? na : 1, sizeof(*ix->aborted));
    ix->open = sa_calloc(no ? no : 1, sizeof(*ix->open));
    const uint8_t *p = b.data + TXNIX_HEADER;
    for (uint64_t i = 0; i < na; i++, p += TXNIX_ABORTED) {
        sa_txn_aborted_t a = aborted_at(p);
        if (sa_load_be16(p) != 0 || a.first > a.last || a.last < seg->base || a.last >= seg->next_offset ||
            (i && a.last <= ix->aborted[i - 1].last))
            goto out;
        ix->aborted[ix->naborted++] = a;
    }
    for (uint64_t i = 0; i < no; i++, p += TXNIX_OPEN) {
        sa_txn_open_t t = open_at(p);
        if (t.first < 0 || t.first >= seg->next_offset || find_open(ix->open, ix->nopen, t.pid)) goto out;
        ix->open[ix->nopen++] = t;
    }
    err = SA_OK;
out:
    if (err) txnix_free(ix);
    sa_buf_free(&b);
    return err;
}

sa_err_t sa_txnindex_read_file(const char *path, void (*fn)(void *opaque, const sa_txnindex_entry_t *e),
                               void *opaque, char *errstr, size_t errstr_size) {
    sa_buf_t b = SA_BUF_INIT(0);
    const char *why = "";
    uint64_t na = 0, no = 0;
    sa_err_t err = sa_safe_file_read(path, TXNIX_MAX, &b);
    if (err == SA_ERR_TOOBIG) why = "larger than any transaction index", err = SA_ERR_CORRUPT;
    if (err == SA_OK) err = txnix_frame(b.data, b.len, &na, &no, &why);
    if (err) {
        if (errstr) snprintf(errstr, errstr_size, "%s", err == SA_ERR_CORRUPT ? why : sa_err2str(err));
        sa_buf_free(&b);
        return err;
    }
    const uint8_t *p = b.data + TXNIX_HEADER;
    for (uint64_t i = 0; i < na; i++, p += TXNIX_ABORTED) {
        sa_txn_aborted_t a = aborted_at(p);
        fn(opaque, &(sa_txnindex_entry_t){1, a.pid, -1, a.first, a.last, a.lso});
    }
    for (uint64_t i = 0; i < no; i++, p += TXNIX_OPEN) {
        sa_txn_open_t t = open_at(p);
        fn(opaque, &(sa_txnindex_entry_t){0, t.pid, t.epoch, t.first, -1, -1});
    }
    sa_buf_free(&b);
    return SA_OK;
}

/* ---- log compaction: one index for a group of cleaned segments ---------------------------------- */

sa_err_t sa_txn_merge_index(const char *dir, const int64_t *bases, size_t n, int64_t end,
                            const char *out_path, int *written) {
    *written = 0;
    sa_buf_t ab = SA_BUF_INIT(0), ob = SA_BUF_INIT(0);
    uint32_t na = 0, no = 0;
    int any = 0; /* an old segment had a file: so does the new one (if the first began with open
                    transactions, it had one, and so must the new one) */
    sa_err_t err = SA_OK;
    for (size_t i = 0; i < n && !err; i++) {
        char path[4096];
        sa_buf_t b = SA_BUF_INIT(0);
        uint64_t fa, fo;
        const char *why;
        txnix_path(path, sizeof(path), dir, bases[i]);
        err = sa_safe_file_read(path, TXNIX_MAX, &b);
        if (err == SA_ERR_NOT_FOUND) { /* a sealed segment without a file has nothing to say */
            err = SA_OK;
            if (i + 1 == n) no = 0, sa_buf_reset(&ob);
            sa_buf_free(&b);
            continue;
        }
        if (err == SA_OK && txnix_frame(b.data, b.len, &fa, &fo, &why) != SA_OK) err = SA_ERR_CORRUPT;
        if (err == SA_OK) {
            any = 1;
            const uint8_t *p = b.data + TXNIX_HEADER;
            for (uint64_t k = 0; k < fa; k++, p += TXNIX_ABORTED) {
                sa_txn_aborted_t a = aborted_at(p);
                if (a.last < bases[i] || a.last >= (i + 1 < n ? bases[i + 1] : end)) err = SA_ERR_CORRUPT;
            }
            sa_buf_append(&ab, b.data + TXNIX_HEADER, fa * TXNIX_ABORTED);
            na += (uint32_t)fa;
            /* the set open at the group's end is the one at its last segment's end */
            sa_buf_reset(&ob);
            sa_buf_append(&ob, b.data + TXNIX_HEADER + fa * TXNIX_ABORTED, fo * TXNIX_OPEN);
            no = (uint32_t)fo;
        }
        sa_buf_free(&b);
    }
    if (!err && any) {
        sa_buf_t b = SA_BUF_INIT(0);
        sa_buf_append(&b, TXNIX_MAGIC, 8);
        sa_buf_put_be32(&b, na);
        sa_buf_put_be32(&b, no);
        sa_buf_append(&b, ab.data, ab.len);
        sa_buf_append(&b, ob.data, ob.len);
        sa_buf_put_be32(&b, sa_crc32c(0, b.data, b.len));
        /* Written in place and fdatasync'd: the cleaner's commit point (the directory fsync after
         * its .swap rename) makes its name durable; before it, recovery deletes it. */
        int fd = sa_sysio.open(out_path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
        if (fd < 0 || sa_sysio_pwrite_all(fd, b.data, b.len, 0) || sa_sysio.fdatasync(fd))
            err = SA_ERR_KAFKA_STORAGE_ERROR;
        if (fd >= 0) sa_sysio.close(fd);
        if (!err) *written = 1;
        sa_buf_free(&b);
    }
    sa_buf_free(&ab);
    sa_buf_free(&ob);
    return err;
}

/* ---- rebuilding a segment's entries from its batches -------------------------------------------- */

typedef struct walk_ctx_s {
    sa_partition_t *part;
    sa_segment_t *seg;
    sa_err_t err; /* a read error while reading a control batch */
} walk_ctx_t;

int sa_txn_marker_type(const uint8_t *batch, size_t len, int32_t *coordinator_epoch) {
    sa_rb_records_t rr;
    sa_rb_record_t rec;
    int type = -1;
    if (sa_rb_records_open(&rr, batch, len, MARKER_BATCH_MAX, NULL, 0) == SA_OK &&
        sa_rb_records_next(&rr, &rec) == SA_OK && rec.KeyLength == 4 && sa_load_be16(rec.Key) == 0) {
        int16_t t = (int16_t)sa_load_be16(rec.Key + 2);
        if (t == 0 || t == 1) type = t;
        if (coordinator_epoch)
            *coordinator_epoch = rec.ValueLength >= 6 ? (int32_t)sa_load_be32(rec.Value + 2) : -1;
    }
    sa_rb_records_close(&rr);
    return type;
}

/* Not a transaction marker (another control type, or unreadable): skipped, as Kafka skips unknown
 * control records. */
int sa_txn_marker_at(sa_segment_t *seg, const sa_rb_header_t *hdr, int64_t pos, int32_t *coordinator_epoch,
                     sa_err_t *err) {
    size_t size = sa_rb_size(hdr);
    if (size > MARKER_BATCH_MAX) return -1;
    uint8_t buf[MARKER_BATCH_MAX];
    if (sa_sysio_pread_all(seg->fd, buf, size, pos) != (ssize_t)size) {
        *err = SA_ERR_KAFKA_STORAGE_ERROR;
        return -1;
    }
    return sa_txn_marker_type(buf, size, coordinator_epoch);
}

static int walk_visit(void *opaque, const sa_rb_header_t *hdr, int64_t pos, const uint8_t *batch) {
    (void)batch;
    walk_ctx_t *ctx = opaque;
    if (!(hdr->Attributes & SA_RB_ATTR_CONTROL)) {
        sa_txn_note_batch(ctx->part, hdr);
        return 0;
    }
    if (!(hdr->Attributes & SA_RB_ATTR_TRANSACTIONAL) || hdr->ProducerId < 0) return 0;
    int type = sa_txn_marker_at(ctx->seg, hdr, pos, NULL, &ctx->err);
    if (ctx->err) return 1;
    if (type < 0) return 0;
    /* During recovery nothing is durable-pending: a decided transaction leaves the set at once. */
    sa_txn_note_marker(ctx->part, ctx->seg, hdr->ProducerId, type == 1, hdr->BaseOffset);
    drop_decided(ctx->part);
    return 0;
}

/* Rebuild @p seg's aborted[] and advance part->txns (the set open at its start) to its end. */
static sa_err_t walk_segment(sa_partition_t *part, sa_segment_t *seg) {
    seg->naborted = 0;
    walk_ctx_t ctx = {part, seg, SA_OK};
    int64_t stop;
    sa_err_t err = sa_segment_walk(seg, 0, seg->size, 0, walk_visit, &ctx, &stop);
    if (ctx.err) return ctx.err;
    if (err == SA_ERR_CORRUPT) return SA_ERR_CORRUPT_MESSAGE;
    return err;
}

/* ---- recovery ------------------------------------------------------------------------------------ */

sa_err_t sa_txn_recover(sa_partition_t *part, int clean) {
    part->ntxns = 0; /* the set open at the end of the previous segment (none before the first) */
    for (size_t i = 0; i < part->nsegs; i++) {
        sa_segment_t *seg = part->segs[i];
        int active = i + 1 == part->nsegs;
        int trust_file = !active || clean; /* after a crash the active segment's file is stale */
        txnix_t ix;
        seg->txn_in = part->ntxns > 0;
        sa_err_t err = trust_file ? txnix_load(part, seg, &ix) : SA_ERR_NOT_FOUND;
        if (err == SA_OK) {
            free(seg->aborted);
            seg->aborted = ix.aborted;
            seg->naborted = seg->aborted_cap = ix.naborted;
            part->ntxns = 0;
            for (size_t k = 0; k < ix.nopen; k++)
                push_open(&part->txns, &part->ntxns, &part->txns_cap, ix.open[k]);
            free(ix.open);
            continue;
        }
        if (err == SA_ERR_KAFKA_STORAGE_ERROR) return err;
        if (err == SA_ERR_NOT_FOUND && trust_file && part->ntxns == 0) {
            seg->naborted = 0; /* nothing open and no file: nothing happened here */
            continue;
        }
        if (trust_file)
            sa_log_warn("storage",
                        "%s: the transaction index of segment %" PRId64 " is %s; rebuilding it from the log",
                        part->dir, seg->base, err == SA_ERR_NOT_FOUND ? "missing" : "damaged");
        err = walk_segment(part, seg);
        if (err) {
            sa_log_error("storage", "%s: reading segment %" PRId64 " for its transactions: %s", part->dir,
                         seg->base, sa_err2str(err));
            return err;
        }
        /* A sealed segment gets its file back, so the next start need not walk it again. */
        if (!active && sa_txn_write_index(part, seg))
            sa_log_warn("storage", "%s: could not write the transaction index of segment %" PRId64 ": %s",
                        part->dir, seg->base, strerror(errno));
    }
    sa_txn_check(part);
    return SA_OK;
}
