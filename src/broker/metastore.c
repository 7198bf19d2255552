/*
 * metastore.c - the broker's metadata log and its owners (see metastore.h): the kind table,
 * replay dispatch, compaction snapshots, the dumper's descriptions, and the migration of the
 * files of earlier versions.
 *
 * Legacy files migrated at the first start (metastore.h, UPGRADE):
 *   DATA_DIR/coordinator/offsets.log   8 bytes magic "SAOFFS01", then records
 *                                      {u32 BE length N, u32 BE CRC-32C of the body, N bytes body};
 *                                      body = u8 type (1-4, the kinds of today) + the payload of
 *                                      that kind as offsets.c documents it. A torn tail ends it.
 *   DATA_DIR/coordinator/producer-ids  text "next=<N>\n": ids below N may have been handed out.
 */
#include "broker/metastore.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "broker/acl.h"
#include "broker/group/offsets.h"
#include "broker/producer_id.h"
#include "broker/security/scram_store.h"
#include "broker/txn/coordinator.h"
#include "core/crc32c.h"
#include "core/log.h"
#include "core/mem.h"
#include "core/sysio.h"
#include "storage/safe_file.h"
#include "storage/storage.h"

#define SET_ERR(...)                                                                                         \
    do {                                                                                                     \
        if (errstr) snprintf(errstr, errstr_size, __VA_ARGS__);                                              \
    } while (0)

enum { OWNER_OFFSETS, OWNER_PIDS, OWNER_SCRAM, OWNER_ACLS, OWNER_TXNS };

static const struct {
    const char *name;
    int owner;
} kinds[] = {
    [SA_META_OFFSET_COMMIT] = {"offset_commit", OWNER_OFFSETS},
    [SA_META_OFFSET_DELETE] = {"offset_delete", OWNER_OFFSETS},
    [SA_META_GROUP_DELETE] = {"group_delete", OWNER_OFFSETS},
    [SA_META_GROUP_MEMBERSHIP] = {"group_membership", OWNER_OFFSETS},
    [SA_META_PRODUCER_IDS] = {"producer_ids", OWNER_PIDS},
    [SA_META_TXN_STATE] = {"txn_state", OWNER_TXNS},
    [SA_META_TXN_OFFSETS] = {"txn_offsets", OWNER_TXNS},
    [SA_META_SCRAM_CREDENTIAL] = {"scram_credential", OWNER_SCRAM},
    [SA_META_SCRAM_DELETE] = {"scram_delete", OWNER_SCRAM},
    [SA_META_ACL_CREATE] = {"acl_create", OWNER_ACLS},
    [SA_META_ACL_DELETE] = {"acl_delete", OWNER_ACLS},
};

const char *sa_metastore_kind_name(uint8_t kind) {
    return kind < SA_ARRAY_LEN(kinds) ? kinds[kind].name : NULL; /* NULL in the gaps too */
}

/* ---- the owner callbacks of the metadata log --------------------------------------------- */

static sa_err_t apply_record(void *opaque, uint8_t kind, const uint8_t *payload, size_t len) {
    sa_metastore_t *ms = opaque;
    if (!sa_metastore_kind_name(kind)) return SA_ERR_CORRUPT;
    if (kinds[kind].owner == OWNER_PIDS) return sa_pid_alloc_apply(ms->pids, payload, len);
    if (kinds[kind].owner == OWNER_SCRAM) return sa_scram_store_apply(ms->scram, kind, payload, len);
    if (kinds[kind].owner == OWNER_ACLS) return sa_acls_apply(ms->acls, kind, payload, len);
    if (kinds[kind].owner == OWNER_TXNS) return sa_tcoord_apply(ms->txns, kind, payload, len);
    return sa_offsets_apply(ms->offsets, kind, payload, len);
}

static void reset_all(void *opaque) {
    sa_metastore_t *ms = opaque;
    sa_offsets_reset(ms->offsets);
    sa_pid_alloc_reset(ms->pids);
    sa_scram_store_reset(ms->scram);
    sa_acls_reset(ms->acls);
    sa_tcoord_reset(ms->txns);
}

static uint64_t live_all(void *opaque) {
    sa_metastore_t *ms = opaque;
    return sa_offsets_live(ms->offsets) + sa_pid_alloc_live(ms->pids) + sa_scram_store_live(ms->scram) +
           sa_acls_live(ms->acls) + sa_tcoord_live(ms->txns);
}

static void snapshot_all(void *opaque, sa_metalog_writer_t *w) {
    sa_metastore_t *ms = opaque;
    sa_pid_alloc_snapshot(ms->pids, w);
    sa_scram_store_snapshot(ms->scram, w);
    sa_acls_snapshot(ms->acls, w);
    sa_offsets_snapshot(ms->offsets, w);
    sa_tcoord_snapshot(ms->txns, w); /* after the offsets its PrepareCommits already committed */
}

static void rebuilt(void *opaque) {
    sa_metastore_t *ms = opaque;
    if (ms->on_rebuilt) ms->on_rebuilt(ms->on_rebuilt_arg);
}

static const sa_metalog_owner_t owner = {apply_record, reset_all, live_all, snapshot_all, rebuilt};

/* ---- the dumper's view ------------------------------------------------------------------- */

/* Length of the valid UTF-8 sequence at @p p (<= @p n bytes), 0 if there is none. */
static size_t utf8_len(const uint8_t *p, size_t n) {
    size_t len = p[0] < 0x80 ? 1 : (p[0] >> 5) == 6 ? 2 : (p[0] >> 4) == 14 ? 3 : (p[0] >> 3) == 30 ? 4 : 0;
    if (!len || len > n) return 0;
    for (size_t i = 1; i < len; i++)
        if ((p[i] & 0xc0) != 0x80) return 0;
    return len;
}

void sa_metastore_json_str(sa_buf_t *out, const void *s, size_t len) {
    const uint8_t *p = s;
    sa_buf_putc(out, '"');
    for (size_t i = 0; i < len;) {
        size_t l = utf8_len(p + i, len - i);
        uint8_t c = p[i];
        if (l > 1) {
            sa_buf_append(out, p + i, l);
            i += l;
            continue;
        }
        i++;
        if (c == '"' || c == '\\')
            sa_buf_printf(out, "\\%c", c);
        else if (c == '\n')
            sa_buf_append_str(out, "\\n");
        else if (c == '\t')
            sa_buf_append_str(out, "\\t");
        else if (c < 0x20 || c >= 0x7f)
            sa_buf_printf(out, "\\u%04x", c);
        else
            sa_buf_putc(out, c);
    }
    sa_buf_putc(out, '"');
}

sa_err_t sa_metastore_describe(uint8_t kind, const uint8_t *payload, size_t len, sa_buf_t *out) {
    if (!sa_metastore_kind_name(kind)) return SA_ERR_CORRUPT;
    if (kinds[kind].owner == OWNER_PIDS) return sa_pid_alloc_describe(payload, len, out);
    if (kinds[kind].owner == OWNER_SCRAM) return sa_scram_store_describe(kind, payload, len, out);
    if (kinds[kind].owner == OWNER_ACLS) return sa_acls_describe(kind, payload, len, out);
    if (kinds[kind].owner == OWNER_TXNS) return sa_tcoord_describe_record(kind, payload, len, out);
    return sa_offsets_describe(kind, payload, len, out);
}

/* ---- migration of coordinator/ ----------------------------------------------------------- */

/* Replay the legacy offsets log at @p path into the owners. @returns records applied, or -1. */
static int64_t migrate_offsets_log(sa_metastore_t *ms, const char *path, char *errstr, size_t errstr_size) {
    sa_buf_t b = SA_BUF_INIT(0);
    int64_t n = -1;
    sa_err_t err = sa_safe_file_read(path, SIZE_MAX, &b);
    if (err == SA_ERR_NOT_FOUND) {
        n = 0;
        goto out;
    }
    if (err) {
        SET_ERR("read %s: %s", path, sa_err2str(err));
        goto out;
    }
    if (b.len >= 8 && memcmp(b.data, "SAOFFS01", 8)) {
        SET_ERR("%s is not an offsets log of an earlier samsa (bad magic); move it away", path);
        goto out;
    }
    n = 0;
    for (size_t pos = 8; b.len >= 8 && b.len - pos >= 8;) {
        uint32_t len = sa_load_be32(b.data + pos), crc = sa_load_be32(b.data + pos + 4);
        if (len == 0 || len > b.len - pos - 8 || sa_crc32c(0, b.data + pos + 8, len) != crc) break;
        const uint8_t *body = b.data + pos + 8;
        if (sa_offsets_apply(ms->offsets, body[0], body + 1, len - 1) != SA_OK) break;
        pos += 8 + len;
        n++;
    }
out:
    sa_buf_free(&b);
    return n;
}

/* Read the legacy producer-ids file. @returns its next id, 0 if absent, -1 on error. */
static int64_t migrate_producer_ids(const char *path, char *errstr, size_t errstr_size) {
    sa_buf_t b = SA_BUF_INIT(0);
    int64_t next = -1;
    sa_err_t err = sa_safe_file_read(path, 256, &b);
    if (err == SA_ERR_NOT_FOUND) {
        next = 0;
    } else if (err) {
        SET_ERR("read %s: %s", path, sa_err2str(err));
    } else {
        long long v;
        if (sscanf(sa_buf_cstr(&b), "next=%lld", &v) == 1 && v >= 0)
            next = v;
        else
            SET_ERR("%s: unreadable (expected \"next=N\"); move it away", path);
    }
    sa_buf_free(&b);
    return next;
}

/* Move coordinator/offsets.log and coordinator/producer-ids into the (empty) metadata log. */
static sa_err_t migrate(sa_metastore_t *ms, const char *data_dir, char *errstr, size_t errstr_size) {
    char dir[4096], offsets_path[4200], pids_path[4200];
    snprintf(dir, sizeof(dir), "%s/coordinator", data_dir);
    snprintf(offsets_path, sizeof(offsets_path), "%s/offsets.log", dir);
    snprintf(pids_path, sizeof(pids_path), "%s/producer-ids", dir);
    struct stat st;
    if (stat(offsets_path, &st) && stat(pids_path, &st)) return SA_OK; /* nothing to migrate */
    int64_t records = migrate_offsets_log(ms, offsets_path, errstr, errstr_size);
    int64_t next = records < 0 ? -1 : migrate_producer_ids(pids_path, errstr, errstr_size);
    if (records < 0 || next < 0) return SA_ERR_CORRUPT;
    if (next > 0) {
        sa_buf_t b = SA_BUF_INIT(0);
        sa_pid_alloc_encode(next, &b);
        sa_pid_alloc_apply(ms->pids, b.data, b.len);
        sa_buf_free(&b);
    }
    /* All or nothing: the state appears in metadata.log by one rename; the old files go after. */
    sa_err_t err = sa_metalog_rewrite_now(ms->log, errstr, errstr_size);
    if (err) return err;
    sa_offsets_stats_t ost;
    sa_offsets_stats(ms->offsets, &ost);
    sa_log_info("broker",
                "migrated %s (%" PRId64 " records: %" PRIu64 " committed offsets of %" PRIu64
                " groups) and producer ids (next %" PRId64 ") into the metadata log; removing the old files",
                dir, records, ost.live, ost.groups, next);
    if ((sa_sysio.unlink(offsets_path) && errno != ENOENT) || (sa_sysio.unlink(pids_path) && errno != ENOENT))
        sa_log_warn("broker", "could not remove the migrated files in %s: %s", dir, strerror(errno));
    sa_sysio.rmdir(dir); /* fails harmlessly if something else is in it */
    return SA_OK;
}

/* ---- open / close ------------------------------------------------------------------------ */

sa_err_t sa_metastore_open(sa_metastore_t *ms, sa_store_t *store, const sa_metalog_conf_t *conf, char *errstr,
                           size_t errstr_size) {
    memset(ms, 0, sizeof(*ms));
    sa_err_t err = sa_metalog_open(store, "metadata", conf, &ms->log, errstr, errstr_size);
    if (err) return err;
    ms->offsets = sa_offsets_new(ms->log);
    ms->pids = sa_pid_alloc_new(ms->log);
    ms->scram = sa_scram_store_new(ms->log);
    ms->acls = sa_acls_new(ms->log);
    ms->txns = sa_tcoord_new(NULL, ms->log, ms->pids, ms->offsets, NULL, NULL);
    err = sa_metalog_attach(ms->log, &owner, ms, errstr, errstr_size);
    sa_metalog_stats_t st;
    sa_metalog_stats(ms->log, &st);
    if (!err && st.records == 0) err = migrate(ms, sa_store_dir(store), errstr, errstr_size);
    if (err) {
        sa_metastore_close(ms);
        return err;
    }
    sa_offsets_stats_t ost;
    sa_offsets_stats(ms->offsets, &ost);
    sa_metalog_stats(ms->log, &st);
    sa_log_info("broker",
                "metadata log: %" PRIu64 " records, %" PRIu64 " bytes: %" PRIu64
                " committed offsets of %" PRIu64 " groups, %" PRIu64
                " membership records, %zu SCRAM users, %zu ACLs",
                st.records, st.bytes, ost.live, ost.groups, ost.metas, sa_scram_store_count(ms->scram),
                sa_acls_count(ms->acls));
    return SA_OK;
}

sa_err_t sa_metastore_close(sa_metastore_t *ms) {
    sa_err_t err = sa_metalog_close(ms->log); /* before the owners go: it may still call them */
    sa_tcoord_free(ms->txns);
    sa_offsets_free(ms->offsets);
    sa_pid_alloc_free(ms->pids);
    sa_scram_store_free(ms->scram);
    sa_acls_free(ms->acls);
    memset(ms, 0, sizeof(*ms));
    return err;
}
