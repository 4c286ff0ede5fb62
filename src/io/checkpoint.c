/* Checkpoints (the format is in t2g/checkpoint.h). Every multi-byte value is written and read
 * byte by byte, little-endian, whatever the host; the file is streamed in chunks, never held
 * whole in memory, and nothing is allocated before the sizes in the header agree with the
 * file's length. */
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

static const unsigned char magic[8] = {'T', '2', 'G', 'C', 'K', 'P', 'T', '\0'};
enum {
    PREAMBLE_BYTES = 16, /* magic, version, header bytes */
    HEADER_V1_BYTES = 56, /* step, cursor (3), rng state, parameter count, config bytes: 7 x u64 */
    HEADER_V2_BYTES = 72, /* version 2: and the auxiliary count and scalar */
    HEADER_BYTES = 80,    /* version 3: and the run kind and the start's CRC */
    CRC_BYTES = 4,
    MIN_FILE_BYTES = PREAMBLE_BYTES + HEADER_BYTES + CRC_BYTES,
    CHUNK_FLOATS = 16384,
};

static void put_u32(unsigned char *p, uint32_t v) {
    for (int i = 0; i < 4; i++) p[i] = (unsigned char)(v >> (8 * i));
}
static void put_u64(unsigned char *p, uint64_t v) {
    for (int i = 0; i < 8; i++) p[i] = (unsigned char)(v >> (8 * i));
}
static uint32_t get_u32(const unsigned char *p) {
    uint32_t v = 0;
    for (int i = 3; i >= 0; i--) v = (v << 8) | p[i];
    return v;
}
static uint64_t get_u64(const unsigned char *p) {
    uint64_t v = 0;
    for (int i = 7; i >= 0; i--) v = (v << 8) | p[i];
    return v;
}

/* ---- save ---- */

typedef struct writer {
    FILE *file;
    uint32_t crc;
    int error; /* errno of the first failed write */
} writer;

static void write_bytes(writer *w, const void *data, size_t len) {
    if (w->error || len == 0) return;
    w->crc = t2g_crc32(w->crc, data, len);
    errno = 0;
    if (fwrite(data, 1, len, w->file) != len) w->error = errno ? errno : EIO;
}

static void write_floats(writer *w, const float *x, uint64_t n) {
    unsigned char chunk[CHUNK_FLOATS * 4];
    for (uint64_t done = 0; done < n && !w->error;) {
        size_t count = n - done < CHUNK_FLOATS ? (size_t)(n - done) : CHUNK_FLOATS;
        for (size_t i = 0; i < count; i++) {
            uint32_t bits;
            memcpy(&bits, &x[done + i], sizeof bits);
            put_u32(chunk + 4 * i, bits);
        }
        write_bytes(w, chunk, 4 * count);
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
    const char *config = ck->config_json ? ck->config_json : "";
    size_t config_bytes = strlen(config);

    t2g_atomic_file out;
    if (t2g_atomic_open(&out, path, err)) return t2g_error_context(err, "checkpoint %s", path);
    writer w = {out.file, 0, 0};

    unsigned char head[PREAMBLE_BYTES + HEADER_BYTES];
    memcpy(head, magic, sizeof magic);
    put_u32(head + 8, T2G_CHECKPOINT_VERSION);
    put_u32(head + 12, HEADER_BYTES);
    put_u64(head + 16, ck->step);
    put_u64(head + 24, ck->cursor.seed);
    put_u64(head + 32, ck->cursor.epoch);
    put_u64(head + 40, ck->cursor.position);
    put_u64(head + 48, ck->rng_state);
    put_u64(head + 56, ck->param_count);
    put_u64(head + 64, (uint64_t)config_bytes);
    uint64_t scalar_bits;
    memcpy(&scalar_bits, &ck->aux_scalar, sizeof scalar_bits);
    put_u64(head + 72, ck->aux_count);
    put_u64(head + 80, scalar_bits);
    put_u32(head + 88, (uint32_t)ck->kind);
    put_u32(head + 92, ck->start_crc);
    write_bytes(&w, head, sizeof head);
    write_bytes(&w, config, config_bytes);
    write_floats(&w, ck->params, ck->param_count);
    write_floats(&w, ck->m, ck->param_count);
    write_floats(&w, ck->v, ck->param_count);
    write_floats(&w, ck->aux_params, ck->aux_count);
    write_floats(&w, ck->aux_m, ck->aux_count);
    write_floats(&w, ck->aux_v, ck->aux_count);
    unsigned char crc[CRC_BYTES];
    put_u32(crc, w.crc);
    write_bytes(&w, crc, sizeof crc);

    if (t2g_atomic_commit(&out, w.error, err)) return t2g_error_context(err, "checkpoint %s", path);
    return T2G_OK;
}

/* ---- load ---- */

typedef struct reader {
    FILE *file;
    const char *path;
    uint64_t size; /* of the file */
    uint32_t crc;
} reader;

/* Whether the last 4 bytes of the file are the CRC-32 of the rest: 1 yes, 0 no, -1 unreadable. */
static int crc_matches(reader *r) {
    if (r->size < CRC_BYTES || fseek(r->file, 0, SEEK_SET) != 0) return -1;
    unsigned char chunk[65536];
    uint32_t crc = 0;
    for (uint64_t left = r->size - CRC_BYTES; left;) {
        size_t n = left < sizeof chunk ? (size_t)left : sizeof chunk;
        if (fread(chunk, 1, n, r->file) != n) return -1;
        crc = t2g_crc32(crc, chunk, n);
        left -= n;
    }
    if (fread(chunk, 1, CRC_BYTES, r->file) != CRC_BYTES) return -1;
    return get_u32(chunk) == crc;
}

/* A file whose header disagrees with its length: truncated, or damaged in the header. The
 * CRC tells a careful reader which is likelier. */
static t2g_status damaged(reader *r, t2g_error *err, const char *format, ...) __attribute__((format(printf, 3, 4)));
static t2g_status damaged(reader *r, t2g_error *err, const char *format, ...) {
    char what[768];
    va_list args;
    va_start(args, format);
    vsnprintf(what, sizeof what, format, args);
    va_end(args);
    int crc = crc_matches(r);
    return t2g_fail(err, T2G_ERR_FORMAT, "checkpoint %s: %s%s", r->path, what,
                    crc == 0 ? " (and its CRC-32 does not match: the file is damaged)" : "");
}

static t2g_status read_exactly(reader *r, void *data, size_t len, t2g_error *err) {
    if (len == 0) return T2G_OK;
    if (fread(data, 1, len, r->file) != len)
        return t2g_fail(err, T2G_ERR_IO, "checkpoint %s: read failed: %s", r->path,
                        ferror(r->file) ? strerror(errno) : "the file got shorter while being read");
    r->crc = t2g_crc32(r->crc, data, len);
    return T2G_OK;
}

static t2g_status read_floats(reader *r, float *x, uint64_t n, t2g_error *err) {
    unsigned char chunk[CHUNK_FLOATS * 4];
    for (uint64_t done = 0; done < n;) {
        size_t count = n - done < CHUNK_FLOATS ? (size_t)(n - done) : CHUNK_FLOATS;
        t2g_status status = read_exactly(r, chunk, 4 * count, err);
        if (status) return status;
        for (size_t i = 0; i < count; i++) {
            uint32_t bits = get_u32(chunk + 4 * i);
            memcpy(&x[done + i], &bits, sizeof bits);
        }
        done += count;
    }
    return T2G_OK;
}

static t2g_status load(reader *r, t2g_checkpoint *ck, t2g_error *err) {
    /* magic, version, header bytes: what the file claims to be */
    unsigned char pre[PREAMBLE_BYTES];
    size_t got = fread(pre, 1, sizeof pre, r->file);
    if (got < sizeof pre && ferror(r->file))
        return t2g_fail(err, T2G_ERR_IO, "checkpoint %s: read failed: %s", r->path, strerror(errno));
    size_t magic_bytes = got < sizeof magic ? got : sizeof magic;
    if (memcmp(pre, magic, magic_bytes) != 0)
        return t2g_fail(err, T2G_ERR_FORMAT, "checkpoint %s: not a t2g checkpoint (it does not start with \"T2GCKPT\")",
                        r->path);
    if (got < sizeof pre)
        return t2g_fail(err, T2G_ERR_FORMAT, "checkpoint %s: truncated: the file has %llu bytes, a checkpoint has at least %d",
                        r->path, (unsigned long long)r->size, MIN_FILE_BYTES);
    r->crc = t2g_crc32(0, pre, sizeof pre);
    uint32_t version = get_u32(pre + 8), header_bytes = get_u32(pre + 12);
    if (version < 1 || version > T2G_CHECKPOINT_VERSION)
        return t2g_fail(err, T2G_ERR_FORMAT,
                        "checkpoint %s: unsupported format version %u; this t2g reads versions 1 to %u", r->path,
                        version, T2G_CHECKPOINT_VERSION);
    uint32_t known_header = version == 1 ? HEADER_V1_BYTES : version == 2 ? HEADER_V2_BYTES : HEADER_BYTES;
    if (header_bytes < known_header)
        return damaged(r, err, "corrupted: a header of %u bytes; version %u has %u", header_bytes, version, known_header);
    if ((uint64_t)PREAMBLE_BYTES + header_bytes + CRC_BYTES > r->size)
        return damaged(r, err, "truncated: expected at least %llu bytes (its header alone has %u), the file has %llu",
                       (unsigned long long)PREAMBLE_BYTES + header_bytes + CRC_BYTES, header_bytes,
                       (unsigned long long)r->size);

    /* the header; bytes past the fields of its version are skipped (but checked by the CRC) */
    unsigned char head[HEADER_BYTES] = {0};
    t2g_status status = read_exactly(r, head, known_header, err);
    for (uint32_t left = header_bytes - known_header; !status && left;) {
        unsigned char skip[256];
        uint32_t n = left < sizeof skip ? left : (uint32_t)sizeof skip;
        status = read_exactly(r, skip, n, err);
        left -= n;
    }
    if (status) return status;
    uint64_t param_count = get_u64(head + 40), config_bytes = get_u64(head + 48);
    uint64_t aux_count = get_u64(head + 56), aux_scalar_bits = get_u64(head + 64); /* 0 in version 1 */
    uint32_t kind = get_u32(head + 72), start_crc = get_u32(head + 76);           /* 0 before version 3 */
    if (version < 3) kind = aux_count ? T2G_RUN_RL : T2G_RUN_TRAIN;

    /* the sizes against the file's length, without overflow: nothing is allocated before */
    uint64_t fixed = (uint64_t)PREAMBLE_BYTES + header_bytes + CRC_BYTES;
    uint64_t room = r->size - fixed;
    if (aux_count > room / 12 || config_bytes > room - 12 * aux_count ||
        param_count > (room - 12 * aux_count - config_bytes) / 12) {
        if (aux_count <= UINT64_MAX / 24 && config_bytes <= UINT64_MAX / 2 - fixed &&
            param_count <= (UINT64_MAX / 2 - fixed - config_bytes) / 12)
            return damaged(r, err, "truncated: expected %llu bytes (%llu parameters, %llu bytes of config), the file has %llu",
                           (unsigned long long)(fixed + config_bytes + 12 * param_count + 12 * aux_count),
                           (unsigned long long)param_count, (unsigned long long)config_bytes,
                           (unsigned long long)r->size);
        return damaged(r, err,
                       "truncated: its header describes %llu parameters and %llu bytes of config, more than any file "
                       "holds; the file has %llu bytes",
                       (unsigned long long)param_count, (unsigned long long)config_bytes, (unsigned long long)r->size);
    }
    uint64_t expected = fixed + config_bytes + 12 * param_count + 12 * aux_count;
    if (expected < r->size)
        return damaged(r, err, "corrupted: the file has %llu bytes, %llu more than its header describes (%llu)",
                       (unsigned long long)r->size, (unsigned long long)(r->size - expected),
                       (unsigned long long)expected);
    if (param_count > SIZE_MAX / sizeof(float) || aux_count > SIZE_MAX / sizeof(float) || config_bytes >= SIZE_MAX)
        return t2g_fail(err, T2G_ERR_MEMORY, "checkpoint %s: too large for this machine's address space", r->path);

    ck->step = get_u64(head + 0);
    ck->cursor.seed = get_u64(head + 8);
    ck->cursor.epoch = get_u64(head + 16);
    ck->cursor.position = get_u64(head + 24);
    ck->rng_state = get_u64(head + 32);
    ck->kind = (t2g_run_kind)kind;
    ck->start_crc = start_crc;
    ck->param_count = param_count;
    size_t bytes = (size_t)param_count * sizeof(float);
    ck->config_json = malloc((size_t)config_bytes + 1);
    ck->params = malloc(bytes ? bytes : 1);
    ck->m = malloc(bytes ? bytes : 1);
    ck->v = malloc(bytes ? bytes : 1);
    if (!ck->config_json || !ck->params || !ck->m || !ck->v)
        return t2g_fail(err, T2G_ERR_MEMORY, "checkpoint %s: out of memory for %llu parameters", r->path,
                        (unsigned long long)param_count);
    status = read_exactly(r, ck->config_json, (size_t)config_bytes, err);
    ck->config_json[config_bytes] = '\0';
    if (!status) status = read_floats(r, ck->params, param_count, err);
    if (!status) status = read_floats(r, ck->m, param_count, err);
    if (!status) status = read_floats(r, ck->v, param_count, err);
    if (status) return status;
    ck->aux_count = aux_count;
    memcpy(&ck->aux_scalar, &aux_scalar_bits, sizeof ck->aux_scalar);
    if (aux_count) {
        size_t aux_bytes = (size_t)aux_count * sizeof(float);
        ck->aux_params = malloc(aux_bytes);
        ck->aux_m = malloc(aux_bytes);
        ck->aux_v = malloc(aux_bytes);
        if (!ck->aux_params || !ck->aux_m || !ck->aux_v)
            return t2g_fail(err, T2G_ERR_MEMORY, "checkpoint %s: out of memory for %llu auxiliary parameters", r->path,
                            (unsigned long long)aux_count);
        status = read_floats(r, ck->aux_params, aux_count, err);
        if (!status) status = read_floats(r, ck->aux_m, aux_count, err);
        if (!status) status = read_floats(r, ck->aux_v, aux_count, err);
        if (status) return status;
    }
    uint32_t computed = r->crc;
    unsigned char stored[CRC_BYTES];
    status = read_exactly(r, stored, sizeof stored, err);
    if (status) return status;
    if (get_u32(stored) != computed)
        return t2g_fail(err, T2G_ERR_FORMAT,
                        "checkpoint %s: corrupted: CRC-32 mismatch (stored 0x%08x, computed 0x%08x over its %llu bytes)",
                        r->path, get_u32(stored), computed, (unsigned long long)(r->size - CRC_BYTES));
    ck->file_crc = computed;
    if (kind != T2G_RUN_TRAIN && kind != T2G_RUN_RL)
        return t2g_fail(err, T2G_ERR_FORMAT, "checkpoint %s: run kind %u is neither 1 (train) nor 2 (rl)", r->path, kind);
    if (memchr(ck->config_json, '\0', (size_t)config_bytes))
        return t2g_fail(err, T2G_ERR_FORMAT, "checkpoint %s: corrupted: its config text holds a NUL byte", r->path);
    return T2G_OK;
}

t2g_status t2g_checkpoint_load(const char *path, t2g_checkpoint *ck, t2g_error *err) {
    if (!ck) return t2g_fail(err, T2G_ERR_ARGUMENT, "loading a checkpoint: nowhere to put it");
    memset(ck, 0, sizeof *ck);
    if (!path || !*path) return t2g_fail(err, T2G_ERR_ARGUMENT, "loading a checkpoint: no path");
    reader r = {NULL, path, 0, 0};
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
    unsigned char stored[CRC_BYTES];
    bool ok = fseek(file, -CRC_BYTES, SEEK_END) == 0 && fread(stored, 1, CRC_BYTES, file) == CRC_BYTES;
    fclose(file);
    if (!ok) return t2g_fail(err, T2G_ERR_FORMAT, "checkpoint %s: too short to hold a CRC-32", path);
    *crc = get_u32(stored);
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
    free(ck->params);
    free(ck->m);
    free(ck->v);
    free(ck->aux_params);
    free(ck->aux_m);
    free(ck->aux_v);
    memset(ck, 0, sizeof *ck);
}
