/* Helpers of the checkpoint checks (check_checkpoint*.c): scratch files, random checkpoints,
 * expected load errors, and the version 3 layout written by hand (older files must still load). */
#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cjson/cJSON.h>

#include "checkpoint_files.h"

/* ---- scratch files ---- */

bool ct_make_dir(check_ctx *ctx, char *dir, size_t size) {
    const char *tmp = getenv("TMPDIR");
    snprintf(dir, size, "%s/t2g-check-ckpt-XXXXXX", tmp && *tmp ? tmp : "/tmp");
    if (!mkdtemp(dir)) {
        check_fail(ctx, "mkdtemp %s: %s", dir, strerror(errno));
        return false;
    }
    return true;
}

/* Removes the files of a scratch directory (one level of subdirectories) and the directory. */
void ct_remove_dir(const char *dir) {
    DIR *d = opendir(dir);
    if (d) {
        struct dirent *e;
        while ((e = readdir(d))) {
            if (strcmp(e->d_name, ".") == 0 || strcmp(e->d_name, "..") == 0) continue;
            char path[1024];
            snprintf(path, sizeof path, "%s/%s", dir, e->d_name);
            if (remove(path) != 0) ct_remove_dir(path);
        }
        closedir(d);
    }
    chmod(dir, 0700);
    rmdir(dir);
}

/* Files of dir whose name holds ".tmp.". */
int ct_temp_files(const char *dir) {
    int n = 0;
    DIR *d = opendir(dir);
    if (!d) return 0;
    struct dirent *e;
    while ((e = readdir(d)))
        if (strstr(e->d_name, ".tmp.")) n++;
    closedir(d);
    return n;
}

unsigned char *ct_read_file(check_ctx *ctx, const char *path, size_t *len) {
    *len = 0;
    FILE *f = fopen(path, "rb");
    if (!f) return NULL;
    fseek(f, 0, SEEK_END);
    long size = ftell(f);
    fseek(f, 0, SEEK_SET);
    unsigned char *bytes = check_host(ctx, size > 0 ? (size_t)size : 1);
    *len = fread(bytes, 1, (size_t)(size > 0 ? size : 0), f);
    fclose(f);
    return bytes;
}

bool ct_write_file(const char *path, const void *bytes, size_t len) {
    FILE *f = fopen(path, "wb");
    if (!f) return false;
    bool ok = fwrite(bytes, 1, len, f) == len;
    return fclose(f) == 0 && ok;
}

/* ---- checkpoints ---- */

/* Random bits, but never NaN or Inf (an exponent of all ones loses its top bit): checkpoints
 * refuse non-finite values. */
static float ct_random_finite_bits(check_ctx *ctx) {
    uint32_t bits = (uint32_t)check_random_u64(ctx);
    if ((bits & 0x7F800000u) == 0x7F800000u) bits &= ~0x40000000u;
    float x;
    memcpy(&x, &bits, sizeof bits);
    return x;
}

float *ct_random_floats_bits(check_ctx *ctx, uint64_t n) {
    float *x = check_host(ctx, (n ? n : 1) * sizeof(float));
    for (uint64_t i = 0; i < n; i++) x[i] = ct_random_finite_bits(ctx);
    return x;
}

/* Adds an auxiliary part (version 2): aux_count floats of each array and a scalar. */
void ct_add_aux(check_ctx *ctx, t2g_checkpoint *ck, uint64_t aux_count) {
    ck->aux_count = aux_count;
    ck->aux_params = ct_random_floats_bits(ctx, aux_count);
    ck->aux_m = ct_random_floats_bits(ctx, aux_count);
    ck->aux_v = ct_random_floats_bits(ctx, aux_count);
    uint64_t bits = check_random_u64(ctx) >> 2; /* a finite double */
    memcpy(&ck->aux_scalar, &bits, sizeof bits);
}

t2g_checkpoint ct_random_checkpoint(check_ctx *ctx, uint64_t param_count, const char *config) {
    t2g_checkpoint ck = {0};
    ck.step = check_random_u64(ctx);
    ck.cursor = (t2g_data_cursor){check_random_u64(ctx), check_random_u64(ctx), check_random_u64(ctx)};
    ck.rng_state = check_random_u64(ctx);
    ck.kind = check_random_below(ctx, 2) ? T2G_RUN_RL : T2G_RUN_TRAIN;
    ck.start_crc = (uint32_t)check_random_u64(ctx);
    ck.config_json = (char *)config;
    ck.param_count = param_count;
    float *arrays[3];
    for (int a = 0; a < 3; a++) arrays[a] = ct_random_floats_bits(ctx, param_count);
    ck.params = arrays[0];
    ck.m = arrays[1];
    ck.v = arrays[2];
    return ck;
}

bool ct_same_checkpoint(const t2g_checkpoint *a, const t2g_checkpoint *b) {
    size_t bytes = (size_t)a->param_count * sizeof(float), aux = (size_t)a->aux_count * sizeof(float);
    bool same_aux = a->aux_count == b->aux_count && memcmp(&a->aux_scalar, &b->aux_scalar, sizeof a->aux_scalar) == 0 &&
                    (aux == 0 || (b->aux_params && memcmp(a->aux_params, b->aux_params, aux) == 0 &&
                                  memcmp(a->aux_m, b->aux_m, aux) == 0 && memcmp(a->aux_v, b->aux_v, aux) == 0));
    return same_aux && a->kind == b->kind && a->start_crc == b->start_crc && a->step == b->step && a->cursor.seed == b->cursor.seed && a->cursor.epoch == b->cursor.epoch &&
           a->cursor.position == b->cursor.position && a->rng_state == b->rng_state &&
           a->param_count == b->param_count && b->config_json && strcmp(a->config_json, b->config_json) == 0 &&
           (bytes == 0 || (b->params && b->m && b->v && memcmp(a->params, b->params, bytes) == 0 &&
                           memcmp(a->m, b->m, bytes) == 0 && memcmp(a->v, b->v, bytes) == 0));
}

uint64_t ct_le64(const unsigned char *p) {
    uint64_t v = 0;
    for (int i = 7; i >= 0; i--) v = (v << 8) | p[i];
    return v;
}

uint32_t ct_bitwise_crc32(const unsigned char *p, size_t len) {
    uint32_t crc = 0xFFFFFFFFu;
    for (size_t i = 0; i < len; i++) {
        crc ^= p[i];
        for (int k = 0; k < 8; k++) crc = (crc >> 1) ^ (0xEDB88320u & (0u - (crc & 1u)));
    }
    return crc ^ 0xFFFFFFFFu;
}

/* Writes `bytes` to path and expects loading it to fail with `status` and a message holding
 * the path and each of `expect` (NULLs ignored); the output is cleared either way. */
bool ct_expect_load_error(check_ctx *ctx, const char *path, const void *bytes, size_t len, t2g_status status,
                          const char *label, const char *a, const char *b) {
    if (bytes && !ct_write_file(path, bytes, len)) {
        check_fail(ctx, "%s: cannot write %s", label, path);
        return false;
    }
    t2g_checkpoint ck;
    t2g_error err = {0};
    t2g_status got = t2g_checkpoint_load(path, &ck, &err);
    bool ok = got == status && strstr(err.message, path) && (!a || strstr(err.message, a)) &&
              (!b || strstr(err.message, b)) && !ck.params && !ck.m && !ck.v && !ck.config_json && !ck.table;
    check_true(ctx, ok, "%s -> %s", label, got ? err.message : "loaded");
    if (got == T2G_OK) t2g_checkpoint_free(&ck);
    return ok;
}

void ct_put_le32(unsigned char *p, uint32_t v) {
    for (int i = 0; i < 4; i++) p[i] = (unsigned char)(v >> (8 * i));
}
void ct_put_le64(unsigned char *p, uint64_t v) {
    for (int i = 0; i < 8; i++) p[i] = (unsigned char)(v >> (8 * i));
}
void ct_reseal(unsigned char *file, size_t len) { ct_put_le32(file + len - 4, t2g_crc32(0, file, len - 4)); }

uint32_t ct_le32(const unsigned char *p) {
    return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

static void put_floats(unsigned char *p, const float *x, uint64_t n) {
    for (uint64_t i = 0; i < n; i++) {
        uint32_t bits;
        memcpy(&bits, &x[i], sizeof bits);
        ct_put_le32(p + 4 * i, bits);
    }
}

unsigned char *ct_v3_file(check_ctx *ctx, const t2g_checkpoint *ck, size_t *len) {
    const char *config = ck->config_json ? ck->config_json : "";
    size_t config_bytes = strlen(config), P = (size_t)ck->param_count, A = (size_t)ck->aux_count;
    *len = 16 + 80 + config_bytes + 12 * P + 12 * A + 4;
    unsigned char *f = check_host(ctx, *len);
    memcpy(f, "T2GCKPT\0", 8);
    ct_put_le32(f + 8, 3);
    ct_put_le32(f + 12, 80);
    const uint64_t fields[] = {ck->step, ck->cursor.seed, ck->cursor.epoch, ck->cursor.position, ck->rng_state, P,
                               config_bytes, A};
    for (int i = 0; i < 8; i++) ct_put_le64(f + 16 + 8 * i, fields[i]);
    uint64_t scalar_bits;
    memcpy(&scalar_bits, &ck->aux_scalar, sizeof scalar_bits);
    ct_put_le64(f + 80, scalar_bits);
    ct_put_le32(f + 88, (uint32_t)ck->kind);
    ct_put_le32(f + 92, ck->start_crc);
    memcpy(f + 96, config, config_bytes);
    unsigned char *p = f + 96 + config_bytes;
    const float *arrays[] = {ck->params, ck->m, ck->v, ck->aux_params, ck->aux_m, ck->aux_v};
    for (int a = 0; a < 6; a++) {
        uint64_t n = a < 3 ? P : A;
        put_floats(p, arrays[a], n);
        p += 4 * n;
    }
    ct_reseal(f, *len);
    return f;
}

/* ---- the version 4 layout, checked byte by byte ---- */

/* The floats a version 4 tensor name stands for in ck (NULL: none). */
static const float *source_of(const t2g_checkpoint *ck, const char *name, uint64_t buffer_offset) {
    static const char *const buffers[] = {"params", "adamw_m", "adamw_v"};
    const float *arrays[] = {ck->params, ck->m, ck->v};
    for (int g = 0; g < 3; g++) {
        size_t n = strlen(buffers[g]);
        if (strncmp(name, buffers[g], n) == 0 && (name[n] == '\0' || name[n] == '/')) return arrays[g] + buffer_offset;
    }
    if (strcmp(name, "value_head/params") == 0) return ck->aux_params;
    if (strcmp(name, "value_head/adamw_m") == 0) return ck->aux_m;
    if (strcmp(name, "value_head/adamw_v") == 0) return ck->aux_v;
    return NULL;
}

static bool u64_string_is(const cJSON *item, uint64_t value) {
    char text[24];
    snprintf(text, sizeof text, "%llu", (unsigned long long)value);
    return cJSON_IsString(item) && strcmp(item->valuestring, text) == 0;
}

static bool whole_is(const cJSON *item, uint64_t value) { return cJSON_IsNumber(item) && item->valuedouble == (double)value; }

/* The directory's scalars and config are ck's. */
static bool scalars_are(const cJSON *dir, const t2g_checkpoint *ck) {
    const cJSON *cursor = cJSON_GetObjectItemCaseSensitive(dir, "data_cursor");
    const cJSON *scalar = cJSON_GetObjectItemCaseSensitive(dir, "aux_scalar");
    const cJSON *config = cJSON_GetObjectItemCaseSensitive(dir, "config");
    const cJSON *kind = cJSON_GetObjectItemCaseSensitive(dir, "run_kind");
    return u64_string_is(cJSON_GetObjectItemCaseSensitive(dir, "step"), ck->step) &&
           u64_string_is(cJSON_GetObjectItemCaseSensitive(dir, "rng_state"), ck->rng_state) &&
           u64_string_is(cJSON_GetObjectItemCaseSensitive(cursor, "seed"), ck->cursor.seed) &&
           u64_string_is(cJSON_GetObjectItemCaseSensitive(cursor, "epoch"), ck->cursor.epoch) &&
           u64_string_is(cJSON_GetObjectItemCaseSensitive(cursor, "position"), ck->cursor.position) &&
           cJSON_IsString(kind) && strcmp(kind->valuestring, t2g_run_kind_name(ck->kind)) == 0 &&
           whole_is(cJSON_GetObjectItemCaseSensitive(dir, "start_crc"), ck->start_crc) && cJSON_IsNumber(scalar) &&
           memcmp(&scalar->valuedouble, &ck->aux_scalar, sizeof ck->aux_scalar) == 0 && cJSON_IsString(config) &&
           strcmp(config->valuestring, ck->config_json ? ck->config_json : "") == 0 &&
           whole_is(cJSON_GetObjectItemCaseSensitive(dir, "buffer_floats"), ck->param_count);
}

/* One tensor: f32, aligned, bytes the shape's, after the previous one with zeros between, each
 * float little-endian as in ck. */
static bool tensor_is(const cJSON *t, const unsigned char *data, uint64_t *end, const t2g_checkpoint *ck, char *why,
                      size_t size) {
    const cJSON *name = cJSON_GetObjectItemCaseSensitive(t, "name"), *shape = cJSON_GetObjectItemCaseSensitive(t, "shape");
    const cJSON *dtype = cJSON_GetObjectItemCaseSensitive(t, "dtype"), *at = cJSON_GetObjectItemCaseSensitive(t, "buffer_offset");
    uint64_t offset = (uint64_t)cJSON_GetNumberValue(cJSON_GetObjectItemCaseSensitive(t, "offset"));
    uint64_t bytes = (uint64_t)cJSON_GetNumberValue(cJSON_GetObjectItemCaseSensitive(t, "bytes")), elements = 1;
    for (const cJSON *d = shape ? shape->child : NULL; d; d = d->next) elements *= (uint64_t)d->valuedouble;
    const float *x = cJSON_IsString(name) ? source_of(ck, name->valuestring, at ? (uint64_t)at->valuedouble : 0) : NULL;
    const char *label = cJSON_IsString(name) ? name->valuestring : "(no name)";
    snprintf(why, size, "tensor %s: not f32, aligned, of its shape's bytes, after the one before, of a known name", label);
    if (!x || !cJSON_IsString(dtype) || strcmp(dtype->valuestring, "f32") != 0 || offset % 64 || bytes != 4 * elements ||
        offset < *end)
        return false;
    for (uint64_t k = *end; k < offset; k++)
        if (data[k]) return snprintf(why, size, "tensor %s: the gap before it is not zeros", label), false;
    for (uint64_t k = 0; k < elements; k++) {
        uint32_t bits;
        memcpy(&bits, &x[k], sizeof bits);
        if (ct_le32(data + offset + 4 * k) != bits)
            return snprintf(why, size, "tensor %s: float %llu differs", label, (unsigned long long)k), false;
    }
    *end = offset + bytes;
    return true;
}

bool ct_v4_layout(const unsigned char *file, size_t len, const t2g_checkpoint *ck, uint32_t tensors, char *why,
                  size_t size) {
    snprintf(why, size, "the preamble (magic, version 4, directory bytes) or the file's length");
    if (len < 20 || memcmp(file, "T2GCKPT\0", 8) != 0 || ct_le32(file + 8) != 4) return false;
    size_t directory_bytes = ct_le32(file + 12), start = (16 + directory_bytes + 63) / 64 * 64;
    if (start + 4 > len) return false;
    for (size_t k = 16 + directory_bytes; k < start; k++)
        if (file[k]) return snprintf(why, size, "the padding before the data is not zeros"), false;
    cJSON *dir = cJSON_ParseWithLength((const char *)file + 16, directory_bytes);
    const cJSON *list = cJSON_GetObjectItemCaseSensitive(dir, "tensors");
    bool ok = dir && scalars_are(dir, ck) && cJSON_GetArraySize(list) == (int)tensors &&
              whole_is(cJSON_GetObjectItemCaseSensitive(dir, "data_bytes"), len - start - 4);
    if (!ok) snprintf(why, size, "the directory's scalars, config, data bytes or count of tensors (%d, not %u)",
                      cJSON_GetArraySize(list), tensors);
    uint64_t end = 0;
    for (const cJSON *t = list ? list->child : NULL; t && ok; t = t->next) ok = tensor_is(t, file + start, &end, ck, why, size);
    if (ok && end != len - start - 4) ok = snprintf(why, size, "the data goes on after the last tensor") < 0;
    if (ok && ct_le32(file + len - 4) != ct_bitwise_crc32(file, len - 4)) ok = snprintf(why, size, "the CRC-32") < 0;
    cJSON_Delete(dir);
    return ok;
}
