/*
 * meta.c - DATA_DIR/meta.properties: the persisted cluster id (see meta.h).
 */
#include "broker/meta.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <time.h>
#include <unistd.h>

#include "core/buf.h"
#include "storage/safe_file.h"

static void new_cluster_id(char out[23]) {
    static const char b64[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
    uint8_t r[16] = {0};
    if (getrandom(r, sizeof(r), 0) != (ssize_t)sizeof(r)) {
        /* No entropy source: fall back to time and pid, unique enough for an id. */
        uint64_t x = (uint64_t)time(NULL) ^ ((uint64_t)getpid() << 32);
        memcpy(r, &x, sizeof(x));
    }
    /* 16 bytes = 128 bits -> 22 base64 digits (the last holds 2 bits). */
    uint32_t acc = 0;
    int bits = 0, n = 0;
    for (int i = 0; i < 16; i++) {
        acc = (acc << 8) | r[i];
        bits += 8;
        while (bits >= 6) {
            out[n++] = b64[(acc >> (bits - 6)) & 63];
            bits -= 6;
        }
    }
    if (bits) out[n++] = b64[(acc << (6 - bits)) & 63];
    out[n] = '\0';
}

/* @returns the value of "key=" in @p text (copied into out), or 0 if absent. */
static int prop_get(const char *text, const char *key, char *out, size_t size) {
    size_t klen = strlen(key);
    for (const char *line = text; line && *line; line = strchr(line, '\n') ? strchr(line, '\n') + 1 : NULL) {
        if (!strncmp(line, key, klen) && line[klen] == '=') {
            const char *v = line + klen + 1;
            size_t n = strcspn(v, "\r\n");
            snprintf(out, size, "%.*s", (int)n, v);
            return 1;
        }
    }
    return 0;
}

sa_err_t sa_broker_meta_load(const char *dir, int32_t node_id, char *cluster_id, size_t cluster_id_size,
                             char *errstr, size_t errstr_size) {
    char path[4096], node[32];
    sa_buf_t text = SA_BUF_INIT(0);
    snprintf(path, sizeof(path), "%s/meta.properties", dir);
    sa_err_t err = sa_safe_file_read(path, 64 * 1024, &text);
    if (err == SA_OK) {
        const char *s = sa_buf_cstr(&text);
        if (!prop_get(s, "cluster.id", cluster_id, cluster_id_size) || !*cluster_id) {
            snprintf(errstr, errstr_size, "%s has no cluster.id: fix or remove it", path);
            err = SA_ERR_CORRUPT;
        } else if (prop_get(s, "node.id", node, sizeof(node)) && atoi(node) != node_id) {
            snprintf(errstr, errstr_size,
                     "%s belongs to node.id %s, but this broker is node.id %d: use that node id or another "
                     "--data-dir",
                     path, node, node_id);
            err = SA_ERR_INVALID_ARG;
        }
        goto out;
    }
    if (err != SA_ERR_NOT_FOUND) {
        snprintf(errstr, errstr_size, "cannot read %s: %s", path, sa_err2str(err));
        goto out;
    }
    char id[23];
    new_cluster_id(id);
    sa_buf_reset(&text);
    sa_buf_printf(&text, "# samsa broker identity; do not edit\nversion=1\ncluster.id=%s\nnode.id=%d\n", id,
                  node_id);
    err = sa_safe_file_write(path, text.data, text.len, errstr, errstr_size);
    if (err == SA_OK) snprintf(cluster_id, cluster_id_size, "%s", id);
out:
    sa_buf_free(&text);
    return err;
}
