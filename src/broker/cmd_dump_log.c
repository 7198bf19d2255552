/*
 * cmd_dump_log.c - `samsa dump-log FILE...`: print a segment's batches (and records), an
 * offset/time index's entries, a transaction index (.txnindex: aborted transactions), a producer-
 * state snapshot (.snapshot: each producer's epoch, last batches, coordinator epoch), or the
 * records of the metadata log (DATA_DIR/metadata.log: committed offsets, group membership,
 * producer-id blocks, transaction state), for humans or as JSON lines. One
 * dumper for every on-disk format samsa writes; it lives in the broker because it reads what
 * storage stores (segments, the metadata log's frames) and what the broker's modules mean by it
 * (the metadata log's record kinds, broker/metastore.h).
 *
 * The kind of file is told by its first bytes (the metadata log's magic) or its name (.index,
 * .timeindex, .txnindex, .snapshot); anything else is read as a segment. A control batch's transaction
 * marker (COMMIT/ABORT) is named on its batch line.
 *
 * It reads the file batch by batch with pread (one batch in memory at a time), checks each
 * CRC, and keeps going past a bad CRC (the length is still trusted) so one flipped bit does not
 * hide the rest; a torn tail (a batch running past the end, or a malformed header) ends the
 * dump with a report, not a failure. Exit status: 0 when every file was read, 1 if one could
 * not be opened or read, 2 for usage errors.
 *
 * Keys, values and header values are printed as text when they are printable UTF-8, with
 * escapes (\n, \xNN) otherwise; JSON lines carry them as JSON strings when they are valid
 * UTF-8 and as base64 (with "<field>_base64": true) when not.
 */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "broker/metastore.h"
#include "commands.h"
#include "core/log.h"
#include "core/mem.h"
#include "core/time.h"
#include "proto/record_batch.h"
#include "storage/metalog.h"
#include "storage/pstate.h"
#include "storage/safe_file.h"
#include "storage/storage.h"

typedef struct dump_conf_s {
    int json;          /* JSON lines instead of text */
    int records;       /* also print every record */
    int64_t max_bytes; /* print at most this many bytes of each key/value (0: all) */
} dump_conf_t;

static const sa_cfg_opt_t dump_opts[] = {
    {NULL, "json", 'j', SA_CFG_BOOL, offsetof(dump_conf_t, json), 0, 0, "false", NULL,
     "print one JSON object per line (batches, records, index entries)"},
    {NULL, "records", 'r', SA_CFG_BOOL, offsetof(dump_conf_t, records), 0, 0, "false", NULL,
     "also print every record: offset, timestamp, key, value, headers"},
    {NULL, "max-bytes", 0, SA_CFG_SIZE, offsetof(dump_conf_t, max_bytes), 0, INT32_MAX, "256", "N",
     "print at most N bytes of each key and value (0: all)"},
    {0}};

static const sa_cfg_cmd_t dump_spec = {
    "dump-log", "samsa dump-log [--json] [--records] FILE...",
    "Print the record batches of a segment file (<offset>.log): offset range, record count, "
    "timestamps, producer id/epoch/sequence, compression, transaction markers and whether the CRC "
    "is intact; with --records also each record. Also reads .index, .timeindex and .txnindex "
    "files (aborted transactions), .snapshot files (producer state: each producer's epoch, last "
    "sequences, last timestamp, coordinator epoch; the CRC checked), and the metadata log "
    "(DATA_DIR/metadata.log: committed offsets, "
    "group membership, producer-id blocks, transaction state). A torn tail is reported, not fatal.",
    dump_opts,
    "examples:\n  samsa dump-log data/blog_operations-0/00000000000000000000.log\n"
    "  samsa dump-log --records --json data/kafka-logs-1/00000000000000000000.log | jq .\n"
    "  samsa dump-log data/metadata.log"};

/* ---- text output helpers ---- */

/* Length of the valid UTF-8 sequence at p (<= n bytes), or 0. */
static size_t utf8_len(const uint8_t *p, size_t n) {
    size_t len = p[0] < 0x80 ? 1 : (p[0] >> 5) == 6 ? 2 : (p[0] >> 4) == 14 ? 3 : (p[0] >> 3) == 30 ? 4 : 0;
    if (!len || len > n) return 0;
    for (size_t i = 1; i < len; i++)
        if ((p[i] & 0xc0) != 0x80) return 0;
    return len;
}

static int is_utf8(const uint8_t *p, size_t n) {
    for (size_t i = 0; i < n;) {
        size_t l = utf8_len(p + i, n - i);
        if (!l) return 0;
        i += l;
    }
    return 1;
}

/* Text form: printable UTF-8 as is, the rest escaped. */
static void put_text(FILE *out, const uint8_t *p, int32_t len, int64_t max) {
    if (len < 0) {
        fputs("null", out);
        return;
    }
    size_t n = (size_t)len, shown = max > 0 && (int64_t)n > max ? (size_t)max : n;
    fputc('"', out);
    for (size_t i = 0; i < shown;) {
        size_t l = utf8_len(p + i, shown - i);
        if (l > 1) {
            fwrite(p + i, 1, l, out);
            i += l;
            continue;
        }
        uint8_t c = p[i++];
        if (c == '"' || c == '\\')
            fprintf(out, "\\%c", c);
        else if (c == '\n')
            fputs("\\n", out);
        else if (c == '\t')
            fputs("\\t", out);
        else if (c >= 0x20 && c < 0x7f)
            fputc(c, out);
        else
            fprintf(out, "\\x%02x", c);
    }
    fputc('"', out);
    if (shown < n) fprintf(out, "...(%zu bytes)", n);
}

static void put_json_string(FILE *out, const uint8_t *p, size_t n) {
    sa_buf_t b = SA_BUF_INIT(0);
    sa_metastore_json_str(&b, p, n);
    fwrite(b.data, 1, b.len, out);
    sa_buf_free(&b);
}

static void put_base64(FILE *out, const uint8_t *p, size_t n) {
    static const char tbl[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    fputc('"', out);
    for (size_t i = 0; i < n; i += 3) {
        uint32_t v =
            (uint32_t)p[i] << 16 | (i + 1 < n ? (uint32_t)p[i + 1] << 8 : 0) | (i + 2 < n ? p[i + 2] : 0);
        fputc(tbl[v >> 18 & 63], out);
        fputc(tbl[v >> 12 & 63], out);
        fputc(i + 1 < n ? tbl[v >> 6 & 63] : '=', out);
        fputc(i + 2 < n ? tbl[v & 63] : '=', out);
    }
    fputc('"', out);
}

/* "name":value for a key/value (null, a JSON string, or base64 with name_base64:true). */
static void put_json_bytes(FILE *out, const char *name, const uint8_t *p, int32_t len, int64_t max) {
    fprintf(out, "\"%s\":", name);
    if (len < 0) {
        fputs("null", out);
        return;
    }
    size_t n = (size_t)len;
    if (max > 0 && (int64_t)n > max) {
        n = (size_t)max;
        while (n > 0 && !is_utf8(p, n) && is_utf8(p, (size_t)len)) n--; /* never cut a character */
    }
    if (is_utf8(p, n)) {
        put_json_string(out, p, n);
    } else {
        put_base64(out, p, n);
        fprintf(out, ",\"%s_base64\":true", name);
    }
    if (n < (size_t)len) fprintf(out, ",\"%s_size\":%d", name, (int)len);
}

/* ---- segments ---- */

/* @p marker: a control batch's transaction marker ("COMMIT", "ABORT") or NULL. */
static void print_batch(const dump_conf_t *conf, const sa_rb_header_t *h, int64_t pos, int crc_ok,
                        uint32_t crc_computed, const char *marker) {
    int ts_type = h->Attributes & SA_RB_ATTR_LOG_APPEND_TIME;
    const char *codec = sa_rb_compression_name(sa_rb_compression(h));
    if (conf->json) {
        printf("{\"type\":\"batch\",\"position\":%" PRId64 ",\"size\":%zu,\"base_offset\":%" PRId64
               ",\"last_offset\":%" PRId64 ",\"count\":%d,\"leader_epoch\":%d,\"magic\":%d,"
               "\"crc\":%u,\"crc_ok\":%s,\"compression\":\"%s\",\"timestamp_type\":\"%s\","
               "\"transactional\":%s,\"control\":%s,\"base_timestamp\":%" PRId64 ",\"max_timestamp\":%" PRId64
               ",\"producer_id\":%" PRId64 ",\"producer_epoch\":%d,"
               "\"base_sequence\":%d%s%s%s}\n",
               pos, sa_rb_size(h), h->BaseOffset, sa_rb_last_offset(h), h->RecordsCount,
               h->PartitionLeaderEpoch, h->Magic, h->Crc, crc_ok ? "true" : "false", codec,
               ts_type ? "LogAppendTime" : "CreateTime",
               h->Attributes & SA_RB_ATTR_TRANSACTIONAL ? "true" : "false",
               h->Attributes & SA_RB_ATTR_CONTROL ? "true" : "false", h->BaseTimestamp, h->MaxTimestamp,
               h->ProducerId, h->ProducerEpoch, h->BaseSequence, marker ? ",\"marker\":\"" : "",
               marker ? marker : "", marker ? "\"" : "");
        return;
    }
    char base_ts[48], max_ts[48];
    sa_time_rfc3339(h->BaseTimestamp, base_ts);
    sa_time_rfc3339(h->MaxTimestamp, max_ts);
    printf("batch offsets %" PRId64 "..%" PRId64 " count %d  position %" PRId64 " size %zu  %s  "
           "CRC %s",
           h->BaseOffset, sa_rb_last_offset(h), h->RecordsCount, pos, sa_rb_size(h), codec,
           crc_ok ? "ok" : "BAD");
    if (!crc_ok) printf(" (stored 0x%08x, computed 0x%08x)", h->Crc, crc_computed);
    printf("\n  %s %s .. %s  producer id %" PRId64 " epoch %d sequence %d  leader epoch %d%s%s\n",
           ts_type ? "LogAppendTime" : "CreateTime", base_ts, max_ts, h->ProducerId, h->ProducerEpoch,
           h->BaseSequence, h->PartitionLeaderEpoch,
           h->Attributes & SA_RB_ATTR_TRANSACTIONAL ? "  transactional" : "",
           h->Attributes & SA_RB_ATTR_CONTROL ? "  control" : "");
    if (marker)
        printf("  %s marker of producer %" PRId64 " epoch %d\n", marker, h->ProducerId, h->ProducerEpoch);
}

static void print_records(const dump_conf_t *conf, const uint8_t *batch, size_t size) {
    sa_rb_records_t rr;
    sa_rb_record_t rec;
    char err[256] = "";
    sa_err_t e = sa_rb_records_open(&rr, batch, size, 256u << 20, err, sizeof(err));
    while (!e && (e = sa_rb_records_next(&rr, &rec)) == SA_OK) {
        const uint8_t *hp = rec.headers;
        size_t hl = rec.headers_len;
        sa_rb_kv_t kv;
        if (conf->json) {
            printf("{\"type\":\"record\",\"offset\":%" PRId64 ",\"timestamp\":%" PRId64, rec.Offset,
                   rec.Timestamp);
            putchar(',');
            put_json_bytes(stdout, "key", rec.Key, rec.KeyLength, conf->max_bytes);
            putchar(',');
            put_json_bytes(stdout, "value", rec.Value, rec.ValueLength, conf->max_bytes);
            printf(",\"headers\":[");
            for (int32_t i = 0; i < rec.HeadersCount && sa_rb_kv_next(&hp, &hl, &kv) == SA_OK; i++) {
                printf(i ? ",{" : "{");
                put_json_bytes(stdout, "key", kv.key, kv.key_len, 0);
                putchar(',');
                put_json_bytes(stdout, "value", kv.value, kv.value_len, conf->max_bytes);
                printf("}");
            }
            printf("]}\n");
            continue;
        }
        char ts[48];
        sa_time_rfc3339(rec.Timestamp, ts);
        printf("  offset %" PRId64 "  %s  key ", rec.Offset, ts);
        put_text(stdout, rec.Key, rec.KeyLength, conf->max_bytes);
        printf("  value ");
        put_text(stdout, rec.Value, rec.ValueLength, conf->max_bytes);
        for (int32_t i = 0; i < rec.HeadersCount && sa_rb_kv_next(&hp, &hl, &kv) == SA_OK; i++) {
            printf(i ? ", " : "  headers ");
            put_text(stdout, kv.key, kv.key_len, conf->max_bytes);
            printf("=");
            put_text(stdout, kv.value, kv.value_len, conf->max_bytes);
        }
        printf("\n");
    }
    if (e != SA_ERR_NOT_FOUND) {
        if (conf->json)
            printf("{\"type\":\"error\",\"error\":\"%s\"}\n", sa_err2name(e));
        else
            printf("  cannot read the records: %s%s%s\n", sa_err2str(e), *err ? ": " : "", err);
    }
    sa_rb_records_close(&rr);
}

static void print_summary(const dump_conf_t *conf, const char *path, int64_t batches, int64_t bad,
                          int64_t end, int64_t size, const char *torn) {
    if (conf->json) {
        printf("{\"type\":\"summary\",\"file\":");
        put_json_string(stdout, (const uint8_t *)path, strlen(path));
        printf(",\"batches\":%" PRId64 ",\"bad_crc\":%" PRId64 ",\"valid_bytes\":%" PRId64
               ",\"file_bytes\":%" PRId64 ",\"torn\":%s}\n",
               batches, bad, end, size, torn ? "true" : "false");
        return;
    }
    printf("%s: %" PRId64 " batches, %" PRId64 " with a bad CRC, %" PRId64 " of %" PRId64 " bytes valid",
           path, batches, bad, end, size);
    if (torn) printf("; torn tail at byte %" PRId64 " (%" PRId64 " bytes): %s", end, size - end, torn);
    printf("\n");
}

static int dump_segment(const dump_conf_t *conf, const char *path, int fd, int64_t size) {
    sa_buf_t buf = SA_BUF_INIT(0);
    int64_t pos = 0, batches = 0, bad = 0;
    const char *torn = NULL;
    char why[256] = "";
    int rc = SA_EXIT_OK;
    while (pos < size) {
        uint8_t head[SA_RB_HEADER_SIZE];
        ssize_t n = pread(fd, head, sizeof(head), pos);
        if (n < 0) {
            fprintf(stderr, "samsa dump-log: read %s: %s\n", path, strerror(errno));
            rc = SA_EXIT_FAIL;
            break;
        }
        sa_rb_header_t h;
        sa_err_t e = sa_rb_parse_header(head, (size_t)n, &h, why, sizeof(why));
        if (e && e != SA_ERR_AGAIN) {
            torn = why;
            break;
        }
        if ((size_t)n < sizeof(head) || (int64_t)sa_rb_size(&h) > size - pos) {
            snprintf(why, sizeof(why), "a batch of %zu bytes runs past the end of the file",
                     (size_t)n < SA_RB_LOG_OVERHEAD ? (size_t)SA_RB_LOG_OVERHEAD : sa_rb_size(&h));
            torn = why;
            break;
        }
        size_t bsize = sa_rb_size(&h);
        sa_buf_reset(&buf);
        if (sa_buf_reserve(&buf, bsize) || pread(fd, buf.data, bsize, pos) != (ssize_t)bsize) {
            fprintf(stderr, "samsa dump-log: read %s at %" PRId64 ": %s\n", path, pos, strerror(errno));
            rc = SA_EXIT_FAIL;
            break;
        }
        int ok = sa_rb_crc_ok(buf.data, bsize);
        bad += !ok;
        batches++;
        int type = h.Attributes & SA_RB_ATTR_CONTROL ? sa_txn_marker_type(buf.data, bsize, NULL) : -1;
        print_batch(conf, &h, pos, ok, sa_rb_crc_compute(buf.data, bsize),
                    type < 0 ? NULL
                    : type   ? "COMMIT"
                             : "ABORT");
        if (conf->records) print_records(conf, buf.data, bsize);
        pos += (int64_t)bsize;
    }
    print_summary(conf, path, batches, bad, pos, size, torn);
    sa_buf_free(&buf);
    return rc;
}

/* .index: {uint32 relative offset, uint32 position}; .timeindex: {int64 ts, uint32 relative offset}. */
static int dump_index(const dump_conf_t *conf, const char *path, int fd, int64_t size, int time) {
    const char *name = strrchr(path, '/') ? strrchr(path, '/') + 1 : path;
    int64_t base = strtoll(name, NULL, 10);
    size_t esize = time ? 12 : 8;
    uint8_t e[12];
    int64_t i = 0;
    for (; (i + 1) * (int64_t)esize <= size; i++) {
        if (pread(fd, e, esize, i * (int64_t)esize) != (ssize_t)esize) {
            fprintf(stderr, "samsa dump-log: read %s: %s\n", path, strerror(errno));
            return SA_EXIT_FAIL;
        }
        if (time) {
            int64_t ts = (int64_t)sa_load_be64(e);
            int64_t off = base + sa_load_be32(e + 8);
            if (conf->json) {
                printf("{\"type\":\"timeindex\",\"timestamp\":%" PRId64 ",\"offset\":%" PRId64 "}\n", ts,
                       off);
            } else {
                char t[48];
                sa_time_rfc3339(ts, t);
                printf("timestamp %s (%" PRId64 ")  offset %" PRId64 "\n", t, ts, off);
            }
        } else if (conf->json) {
            printf("{\"type\":\"index\",\"offset\":%" PRId64 ",\"position\":%u}\n", base + sa_load_be32(e),
                   sa_load_be32(e + 4));
        } else {
            printf("offset %" PRId64 "  position %u\n", base + sa_load_be32(e), sa_load_be32(e + 4));
        }
    }
    if (!conf->json)
        printf("%s: %" PRId64 " entries%s\n", path, i,
               size % (int64_t)esize ? ", trailing partial entry" : "");
    return SA_EXIT_OK;
}

/* ---- transaction indexes ---- */

static void txnix_entry(void *opaque, const sa_txnindex_entry_t *e) {
    const dump_conf_t *conf = opaque;
    if (conf->json) {
        if (e->aborted)
            printf("{\"type\":\"aborted\",\"producer_id\":%" PRId64 ",\"first_offset\":%" PRId64
                   ",\"last_offset\":%" PRId64 ",\"last_stable_offset\":%" PRId64 "}\n",
                   e->pid, e->first, e->last, e->lso);
        else
            printf("{\"type\":\"open\",\"producer_id\":%" PRId64
                   ",\"producer_epoch\":%d,\"first_offset\":%" PRId64 "}\n",
                   e->pid, e->epoch, e->first);
    } else if (e->aborted) {
        printf("aborted transaction of producer %" PRId64 ": offsets %" PRId64 "..%" PRId64
               " (ABORT marker at %" PRId64 "), last stable offset after it %" PRId64 "\n",
               e->pid, e->first, e->last, e->last, e->lso);
    } else {
        printf("open at the segment's end: producer %" PRId64 " epoch %d from offset %" PRId64 "\n", e->pid,
               e->epoch, e->first);
    }
}

/* <base>.txnindex (storage/txn.c): the segment's aborted transactions and those open at its end. */
static int dump_txnindex(const dump_conf_t *conf, const char *path) {
    char why[256] = "";
    sa_err_t err = sa_txnindex_read_file(path, txnix_entry, (void *)conf, why, sizeof(why));
    if (err) {
        fprintf(stderr, "samsa dump-log: %s: %s\n", path, why);
        return SA_EXIT_FAIL;
    }
    return SA_EXIT_OK;
}

/* ---- producer-state snapshots ---- */

typedef struct snap_dump_s {
    const dump_conf_t *conf;
    size_t producers; /* printed so far */
} snap_dump_t;

static void snap_entry(void *opaque, const sa_pstate_snap_entry_t *e) {
    snap_dump_t *sd = opaque;
    const dump_conf_t *conf = sd->conf;
    sd->producers++;
    if (conf->json) {
        printf("{\"type\":\"producer\",\"producer_id\":%" PRId64 ",\"producer_epoch\":%d,"
               "\"last_timestamp\":%" PRId64 ",\"coordinator_epoch\":%" PRId32 ",\"epoch_bumped\":%s,"
               "\"batches\":[",
               e->producer_id, e->epoch, e->last_timestamp, e->coordinator_epoch,
               e->bumped ? "true" : "false");
        for (int k = 0; k < e->nbatches; k++) {
            const sa_pstate_snap_batch_t *b = &e->batches[k];
            printf("%s{\"first_sequence\":%" PRId32 ",\"last_sequence\":%" PRId32 ",\"first_offset\":%" PRId64
                   ",\"last_offset\":%" PRId64 "}",
                   k ? "," : "", b->first_sequence, b->last_sequence, b->first_offset, b->last_offset);
        }
        printf("]}\n");
        return;
    }
    char ts[48];
    if (e->last_timestamp >= 0)
        sa_time_rfc3339(e->last_timestamp, ts);
    else
        snprintf(ts, sizeof(ts), "none");
    printf("producer %" PRId64 " epoch %d  last timestamp %s  coordinator epoch %" PRId32 "%s\n",
           e->producer_id, e->epoch, ts, e->coordinator_epoch,
           e->bumped ? "  (a marker moved the epoch on)" : "");
    for (int k = 0; k < e->nbatches; k++) {
        const sa_pstate_snap_batch_t *b = &e->batches[k];
        printf("  sequences %" PRId32 "..%" PRId32 "  offsets %" PRId64 "..%" PRId64 "\n", b->first_sequence,
               b->last_sequence, b->first_offset, b->last_offset);
    }
}

/* <offset>.snapshot (storage/producers.c, format in storage.h): the producers of a partition's
 * state. A CRC mismatch is reported with the entries (as a segment's bad CRC is); bytes that do not
 * read as a snapshot fail the file. */
static int dump_snapshot(const dump_conf_t *conf, const char *path) {
    sa_buf_t b = SA_BUF_INIT(0);
    sa_err_t err = sa_safe_file_read(path, 1u << 30, &b);
    if (err) {
        fprintf(stderr, "samsa dump-log: read %s: %s\n", path,
                err == SA_ERR_TOOBIG ? "larger than 1 GiB: not a snapshot" : sa_err2str(err));
        sa_buf_free(&b);
        return SA_EXIT_FAIL;
    }
    int64_t offset = -1;
    int crc_ok = 0;
    const char *why = "";
    snap_dump_t sd = {conf, 0};
    err = sa_pstate_snapshot_walk(b.data, b.len, snap_entry, &sd, &offset, &crc_ok, &why);
    sa_buf_free(&b);
    if (err) {
        fprintf(stderr, "samsa dump-log: %s: not a readable producer-state snapshot: %s\n", path, why);
        return SA_EXIT_FAIL;
    }
    if (conf->json) {
        printf("{\"type\":\"summary\",\"file\":");
        put_json_string(stdout, (const uint8_t *)path, strlen(path));
        printf(",\"snapshot_offset\":%" PRId64 ",\"producers\":%zu,\"crc_ok\":%s}\n", offset, sd.producers,
               crc_ok ? "true" : "false");
    } else {
        printf("%s: producer-state snapshot at offset %" PRId64 ", %zu producers, CRC %s\n", path, offset,
               sd.producers, crc_ok ? "ok" : "BAD");
    }
    return SA_EXIT_OK;
}

/* ---- the metadata log ---- */

typedef struct meta_dump_s {
    const dump_conf_t *conf;
    sa_buf_t line;
} meta_dump_t;

static int meta_visit(void *opaque, int64_t pos, uint8_t kind, const uint8_t *payload, size_t len) {
    meta_dump_t *md = opaque;
    const char *name = sa_metastore_kind_name(kind);
    sa_buf_t *b = &md->line;
    sa_buf_reset(b);
    int ok = sa_metastore_describe(kind, payload, len, b) == SA_OK;
    if (!ok) sa_buf_reset(b);
    const char *members = sa_buf_cstr(b);
    if (md->conf->json)
        printf("{\"type\":\"metadata\",\"position\":%" PRId64
               ",\"size\":%zu,\"kind\":%u,\"kind_name\":%s%s%s%s%s}\n",
               pos, len + 9, kind, name ? "\"" : "null", name ? name : "", name ? "\"" : "",
               ok ? (b->len ? "," : "") : ",\"unreadable\":true", members);
    else
        printf("record at byte %" PRId64 " size %zu  %s  %s%s\n", pos, len + 9, name ? name : "unknown kind",
               ok ? "" : "(a payload this samsa cannot read) ", members);
    return 0;
}

static int dump_metadata(const dump_conf_t *conf, const char *path) {
    meta_dump_t md = {conf, SA_BUF_INIT(0)};
    sa_metalog_scan_t res;
    sa_err_t err = sa_metalog_scan_file(path, meta_visit, &md, &res);
    sa_buf_free(&md.line);
    if (err) {
        fprintf(stderr, "samsa dump-log: read %s: %s\n", path, res.why[0] ? res.why : strerror(errno));
        return SA_EXIT_FAIL;
    }
    if (conf->json) {
        printf("{\"type\":\"summary\",\"file\":");
        put_json_string(stdout, (const uint8_t *)path, strlen(path));
        printf(",\"records\":%" PRIu64 ",\"valid_bytes\":%" PRId64 ",\"file_bytes\":%" PRId64
               ",\"torn\":%s}\n",
               res.records, res.valid_end, res.file_size, res.why[0] ? "true" : "false");
        return SA_EXIT_OK;
    }
    printf("%s: metadata log, %" PRIu64 " records, %" PRId64 " of %" PRId64 " bytes valid", path, res.records,
           res.valid_end, res.file_size);
    if (res.why[0]) printf("; torn tail at byte %" PRId64 ": %s", res.valid_end, res.why);
    printf("\n");
    return SA_EXIT_OK;
}

static int is_metadata_log(int fd) {
    uint8_t head[8];
    return pread(fd, head, sizeof(head), 0) == (ssize_t)sizeof(head) &&
           sa_metalog_is_magic(head, sizeof(head));
}

static int ends_with(const char *s, const char *suffix) {
    size_t n = strlen(s), m = strlen(suffix);
    return n >= m && !strcmp(s + n - m, suffix);
}

static int run_dump_log(int argc, char **argv) {
    dump_conf_t conf = {0};
    int first, rc = sa_cli_parse(&dump_spec, &conf, argc, argv, &first);
    if (rc >= 0) return rc;
    if (first >= argc) {
        fprintf(stderr, "samsa dump-log: give at least one FILE (a .log, .index, .timeindex, .txnindex or "
                        ".snapshot file, or metadata.log)\n");
        sa_cfg_print_help(&dump_spec, stderr);
        return SA_EXIT_USAGE;
    }
    rc = SA_EXIT_OK;
    for (int i = first; i < argc; i++) {
        const char *path = argv[i];
        int fd = open(path, O_RDONLY | O_CLOEXEC);
        if (fd < 0) {
            fprintf(stderr, "samsa dump-log: cannot open %s: %s\n", path, strerror(errno));
            rc = SA_EXIT_FAIL;
            continue;
        }
        off_t size = lseek(fd, 0, SEEK_END);
        int r;
        if (!conf.json && argc - first > 1) printf("== %s\n", path);
        if (is_metadata_log(fd))
            r = dump_metadata(&conf, path);
        else if (ends_with(path, ".txnindex"))
            r = dump_txnindex(&conf, path);
        else if (ends_with(path, ".snapshot"))
            r = dump_snapshot(&conf, path);
        else if (ends_with(path, ".timeindex"))
            r = dump_index(&conf, path, fd, size, 1);
        else if (ends_with(path, ".index"))
            r = dump_index(&conf, path, fd, size, 0);
        else
            r = dump_segment(&conf, path, fd, size);
        if (r) rc = r;
        close(fd);
    }
    if (fflush(stdout) || ferror(stdout)) {
        fprintf(stderr, "samsa dump-log: writing output: %s\n", strerror(errno));
        rc = SA_EXIT_FAIL;
    }
    sa_cfg_free(dump_opts, &conf);
    return rc;
}

const sa_command_t sa_cmd_dump_log = {
    "dump-log", "print a segment's batches and records, an index, a snapshot or the metadata log",
    run_dump_log, &dump_spec};
