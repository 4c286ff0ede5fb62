/* Checkpoints (the format is in t2g/checkpoint.h): the CRC-32, the streamed reading and writing
 * every version shares, saving, and loading by version. Every multi-byte value is written and
 * read byte by byte, little-endian, whatever the host; the file is streamed in chunks, never
 * held whole in memory. */
#include <errno.h>
#include <stdarg.h>
#include <stdbool.h>
#include <limits.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "core/atomic_write.h"
#include "core/read_file.h"
#include "io/checkpoint_internal.h"
#include "t2g/checkpoint.h"
#include "t2g/nonfinite.h"

/* ---- CRC-32 (IEEE 802.3, reflected, polynomial 0xEDB88320; zlib's crc32) ---- */

/* The table is computed by the preprocessor: entry n is n shifted through 8 steps. */
#define CRC_STEP(c) (((c) >> 1) ^ (((c) & 1u) ? 0xEDB88320u : 0u))
#define CRC_ENTRY(n) CRC_STEP(CRC_STEP(CRC_STEP(CRC_STEP(CRC_STEP(CRC_STEP(CRC_STEP(CRC_STEP((uint32_t)(n)))))))))
#define CRC_4(n) CRC_ENTRY(n), CRC_ENTRY((n) + 1), CRC_ENTRY((n) + 2), CRC_ENTRY((n) + 3)
#define CRC_16(n) CRC_4(n), CRC_4((n) + 4), CRC_4((n) + 8), CRC_4((n) + 12)
#define CRC_64(n) CRC_16(n), CRC_16((n) + 16), CRC_16((n) + 32), CRC_16((n) + 48)
static const uint32_t crc_table[256] = {CRC_64(0), CRC_64(64), CRC_64(128), CRC_64(192)};

uint32_t t2g_crc32(uint32_t crc, const void *data, size_t len) {
    const unsigned char *p = data;
    crc = ~crc;
    for (size_t i = 0; i < len; i++) crc = crc_table[(crc ^ p[i]) & 0xFFu] ^ (crc >> 8);
    return ~crc;
}

/* ---- the layout ---- */

const unsigned char ckpt_magic[8] = {'T', '2', 'G', 'C', 'K', 'P', 'T', '\0'};

void ckpt_put_u32(unsigned char *p, uint32_t v) {
    for (int i = 0; i < 4; i++) p[i] = (unsigned char)(v >> (8 * i));
}
uint32_t ckpt_get_u32(const unsigned char *p) {
    uint32_t v = 0;
    for (int i = 3; i >= 0; i--) v = (v << 8) | p[i];
    return v;
}
uint64_t ckpt_get_u64(const unsigned char *p) {
    uint64_t v = 0;
    for (int i = 7; i >= 0; i--) v = (v << 8) | p[i];
    return v;
}

/* ---- writing ---- */

void ckpt_write_bytes(ckpt_writer *w, const void *data, size_t len) {
    if (w->error || len == 0) return;
    w->crc = t2g_crc32(w->crc, data, len);
    w->written += len;
    errno = 0;
    if (fwrite(data, 1, len, w->file) != len) w->error = errno ? errno : EIO;
}

void ckpt_write_zeros(ckpt_writer *w, uint64_t n) {
    static const unsigned char zeros[256];
    for (; n && !w->error; n -= n < sizeof zeros ? n : sizeof zeros)
        ckpt_write_bytes(w, zeros, n < sizeof zeros ? (size_t)n : sizeof zeros);
}

void ckpt_write_floats(ckpt_writer *w, const float *x, uint64_t n) {
    unsigned char chunk[CKPT_CHUNK_FLOATS * 4];
    for (uint64_t done = 0; done < n && !w->error;) {
        size_t count = n - done < CKPT_CHUNK_FLOATS ? (size_t)(n - done) : CKPT_CHUNK_FLOATS;
        for (size_t i = 0; i < count; i++) {
            uint32_t bits;
            memcpy(&bits, &x[done + i], sizeof bits);
            ckpt_put_u32(chunk + 4 * i, bits);
        }
        ckpt_write_bytes(w, chunk, 4 * count);
        done += count;
    }
}

/* Never a checkpoint of a diverged model: every parameter, moment and the auxiliary scalar
 * must be finite, or nothing is written and the file already at `path` stays as it was. */
static t2g_status refuse_nonfinite(const char *path, const t2g_checkpoint *ck, t2g_error *err) {
    const struct { const char *name; const float *x; uint64_t n; } arrays[] = {
        {"parameter", ck->params, ck->param_count},       {"AdamW m", ck->m, ck->param_count},
        {"AdamW v", ck->v, ck->param_count},              {"auxiliary parameter", ck->aux_params, ck->aux_count},
        {"auxiliary AdamW m", ck->aux_m, ck->aux_count}, {"auxiliary AdamW v", ck->aux_v, ck->aux_count},
    };
    for (size_t a = 0; a < sizeof arrays / sizeof arrays[0]; a++) {
        uint64_t at = t2g_first_nonfinite(arrays[a].x, arrays[a].n);
        if (at < arrays[a].n)
            return t2g_fail(err, T2G_ERR_ARGUMENT,
                            "checkpoint %s: refusing to save non-finite values (%s %llu of %llu is %g); the model "
                            "diverged, and the checkpoint already there (if any) is kept",
                            path, arrays[a].name, (unsigned long long)at, (unsigned long long)arrays[a].n,
                            (double)arrays[a].x[at]);
    }
    if (!isfinite(ck->aux_scalar))
        return t2g_fail(err, T2G_ERR_ARGUMENT,
                        "checkpoint %s: refusing to save a non-finite auxiliary scalar (%g); the checkpoint already "
                        "there (if any) is kept",
                        path, ck->aux_scalar);
    return T2G_OK;
}

t2g_status t2g_checkpoint_save(const char *path, const t2g_checkpoint *ck, t2g_error *err) {
    if (!path || !*path) return t2g_fail(err, T2G_ERR_ARGUMENT, "saving a checkpoint: no path");
    if (!ck || (ck->param_count && (!ck->params || !ck->m || !ck->v)) ||
        (ck->aux_count && (!ck->aux_params || !ck->aux_m || !ck->aux_v)))
        return t2g_fail(err, T2G_ERR_ARGUMENT, "checkpoint %s: nothing to save (missing parameters or moments)", path);
    if (ck->kind != T2G_RUN_TRAIN && ck->kind != T2G_RUN_RL)
        return t2g_fail(err, T2G_ERR_ARGUMENT, "checkpoint %s: no run kind (train or rl) to record", path);
    t2g_status status = refuse_nonfinite(path, ck, err);
    if (status) return status;
    if (ck->table_count && !ck->table)
        return t2g_fail(err, T2G_ERR_ARGUMENT, "checkpoint %s: a table of %u tensors without its rows", path,
                        ck->table_count);
    return ckpt_save_directory(path, ck, err);
}

/* ---- load ---- */

/* Whether the last 4 bytes of the file are the CRC-32 of the rest: 1 yes, 0 no, -1 unreadable. */
static int crc_matches(ckpt_reader *r) {
    if (r->size < CKPT_CRC_BYTES || fseek(r->file, 0, SEEK_SET) != 0) return -1;
    unsigned char chunk[65536];
    uint32_t crc = 0;
    for (uint64_t left = r->size - CKPT_CRC_BYTES; left;) {
        size_t n = left < sizeof chunk ? (size_t)left : sizeof chunk;
        if (fread(chunk, 1, n, r->file) != n) return -1;
        crc = t2g_crc32(crc, chunk, n);
        left -= n;
    }
    if (fread(chunk, 1, CKPT_CRC_BYTES, r->file) != CKPT_CRC_BYTES) return -1;
    return ckpt_get_u32(chunk) == crc;
}

t2g_status ckpt_damaged(ckpt_reader *r, t2g_error *err, const char *format, ...) {
    char what[768];
    va_list args;
    va_start(args, format);
    vsnprintf(what, sizeof what, format, args);
    va_end(args);
    int crc = crc_matches(r);
    return t2g_fail(err, T2G_ERR_FORMAT, "checkpoint %s: %s%s", r->path, what,
                    crc == 0 ? " (and its CRC-32 does not match: the file is damaged)" : "");
}

t2g_status ckpt_read_exactly(ckpt_reader *r, void *data, size_t len, t2g_error *err) {
    if (len == 0) return T2G_OK;
    if (fread(data, 1, len, r->file) != len)
        return t2g_fail(err, T2G_ERR_IO, "checkpoint %s: read failed: %s", r->path,
                        ferror(r->file) ? strerror(errno) : "the file got shorter while being read");
    r->crc = t2g_crc32(r->crc, data, len);
    return T2G_OK;
}

t2g_status ckpt_skip(ckpt_reader *r, uint64_t n, t2g_error *err) {
    unsigned char skip[4096];
    for (t2g_status status; n; n -= n < sizeof skip ? n : sizeof skip)
        if ((status = ckpt_read_exactly(r, skip, n < sizeof skip ? (size_t)n : sizeof skip, err))) return status;
    return T2G_OK;
}

t2g_status ckpt_read_floats(ckpt_reader *r, float *x, uint64_t n, t2g_error *err) {
    unsigned char chunk[CKPT_CHUNK_FLOATS * 4];
    for (uint64_t done = 0; done < n;) {
        size_t count = n - done < CKPT_CHUNK_FLOATS ? (size_t)(n - done) : CKPT_CHUNK_FLOATS;
        t2g_status status = ckpt_read_exactly(r, chunk, 4 * count, err);
        if (status) return status;
        for (size_t i = 0; i < count; i++) {
            uint32_t bits = ckpt_get_u32(chunk + 4 * i);
            memcpy(&x[done + i], &bits, sizeof bits);
        }
        done += count;
    }
    return T2G_OK;
}

t2g_status ckpt_check_crc(ckpt_reader *r, t2g_checkpoint *ck, t2g_error *err) {
    uint32_t computed = r->crc;
    unsigned char stored[CKPT_CRC_BYTES];
    t2g_status status = ckpt_read_exactly(r, stored, sizeof stored, err);
    if (status) return status;
    if (ckpt_get_u32(stored) != computed)
        return t2g_fail(err, T2G_ERR_FORMAT,
                        "checkpoint %s: corrupted: CRC-32 mismatch (stored 0x%08x, computed 0x%08x over its %llu bytes)",
                        r->path, ckpt_get_u32(stored), computed, (unsigned long long)(r->size - CKPT_CRC_BYTES));
    ck->file_crc = computed;
    return T2G_OK;
}

/* The preamble (what the file claims to be), then the reader of its version. */
static t2g_status load(ckpt_reader *r, t2g_checkpoint *ck, t2g_error *err) {
    unsigned char pre[CKPT_PREAMBLE_BYTES];
    size_t got = fread(pre, 1, sizeof pre, r->file);
    if (got < sizeof pre && ferror(r->file))
        return t2g_fail(err, T2G_ERR_IO, "checkpoint %s: read failed: %s", r->path, strerror(errno));
    size_t magic_bytes = got < sizeof ckpt_magic ? got : sizeof ckpt_magic;
    if (memcmp(pre, ckpt_magic, magic_bytes) != 0)
        return t2g_fail(err, T2G_ERR_FORMAT, "checkpoint %s: not a t2g checkpoint (it does not start with \"T2GCKPT\")",
                        r->path);
    if (got < sizeof pre)
        return t2g_fail(err, T2G_ERR_FORMAT, "checkpoint %s: truncated: the file has %llu bytes, a checkpoint has at least %d",
                        r->path, (unsigned long long)r->size, CKPT_PREAMBLE_BYTES + CKPT_CRC_BYTES);
    r->crc = t2g_crc32(0, pre, sizeof pre);
    uint32_t version = ckpt_get_u32(pre + 8), header_bytes = ckpt_get_u32(pre + 12);
    if (version < 1 || version > T2G_CHECKPOINT_VERSION)
        return t2g_fail(err, T2G_ERR_FORMAT,
                        "checkpoint %s: unsupported format version %u; this t2g reads versions 1 to %u", r->path,
                        version, T2G_CHECKPOINT_VERSION);
    if (version == 4) return ckpt_load_directory(r, header_bytes, ck, err);
    return ckpt_load_positional(r, version, header_bytes, ck, err);
}

t2g_status t2g_checkpoint_load(const char *path, t2g_checkpoint *ck, t2g_error *err) {
    if (!ck) return t2g_fail(err, T2G_ERR_ARGUMENT, "loading a checkpoint: nowhere to put it");
    memset(ck, 0, sizeof *ck);
    if (!path || !*path) return t2g_fail(err, T2G_ERR_ARGUMENT, "loading a checkpoint: no path");
    ckpt_reader r = {NULL, path, 0, 0};
    /* a regular file only (a FIFO would block); its size bounds every allocation of load() */
    t2g_status status = t2g_file_open(path, "checkpoint", &r.file, &r.size, err);
    if (status) {
        if (errno == ENOENT) return t2g_fail(err, T2G_ERR_IO, "checkpoint %s: no such file", path);
        return status;
    }
    status = load(&r, ck, err);
    fclose(r.file);
    if (status) t2g_checkpoint_free(ck);
    return status;
}

t2g_status t2g_checkpoint_stored_crc(const char *path, uint32_t *crc, t2g_error *err) {
    *crc = 0;
    FILE *file = fopen(path, "rb");
    if (!file) return t2g_fail(err, T2G_ERR_IO, "checkpoint %s: cannot open: %s", path, strerror(errno));
    unsigned char stored[CKPT_CRC_BYTES];
    bool ok = fseek(file, -CKPT_CRC_BYTES, SEEK_END) == 0 && fread(stored, 1, CKPT_CRC_BYTES, file) == CKPT_CRC_BYTES;
    fclose(file);
    if (!ok) return t2g_fail(err, T2G_ERR_FORMAT, "checkpoint %s: too short to hold a CRC-32", path);
    *crc = ckpt_get_u32(stored);
    return T2G_OK;
}

t2g_status t2g_checkpoint_resolve(const char *path, char *checkpoint, size_t size, t2g_error *err) {
    struct stat st;
    bool folder = stat(path, &st) == 0 && S_ISDIR(st.st_mode);
    int n = folder ? snprintf(checkpoint, size, "%s/checkpoint.bin", path) : snprintf(checkpoint, size, "%s", path);
    if (n < 0 || (size_t)n >= size) return t2g_fail(err, T2G_ERR_ARGUMENT, "%s: the path is too long", path);
    if (folder && stat(checkpoint, &st) != 0)
        return t2g_fail(err, T2G_ERR_IO, "%s is a folder without a checkpoint.bin: not a t2g run folder", path);
    return T2G_OK;
}

const char *t2g_run_kind_name(t2g_run_kind kind) {
    return kind == T2G_RUN_TRAIN ? "train" : kind == T2G_RUN_RL ? "rl" : "unknown";
}

void t2g_checkpoint_free(t2g_checkpoint *ck) {
    if (!ck) return;
    free(ck->config_json);
    free(ck->tokenizer_json);
    free(ck->tokenizer_config_json);
    free(ck->params);
    free(ck->m);
    free(ck->v);
    free(ck->aux_params);
    free(ck->aux_m);
    free(ck->aux_v);
    free((void *)ck->table); /* the loaded directory's rows and their names: one allocation */
    memset(ck, 0, sizeof *ck);
}
