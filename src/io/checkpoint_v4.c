/* Version 4 checkpoints (t2g/checkpoint.h), streamed: the preamble and the directory, then each
 * tensor's floats at its offset in the data, then the CRC-32. The loader reads the directory
 * and checks all of it against the file's length before it allocates anything for the data. */
#include <stdlib.h>
#include <string.h>

#include "core/atomic_write.h"
#include "io/checkpoint_directory.h"
#include "io/checkpoint_internal.h"

/* The data starts at the first multiple of 64 bytes after the directory. */
static uint64_t data_start(uint32_t directory_bytes) {
    uint64_t end = (uint64_t)CKPT_PREAMBLE_BYTES + directory_bytes;
    return (end + CKPT_DATA_ALIGN - 1) / CKPT_DATA_ALIGN * CKPT_DATA_ALIGN;
}

/* Where a tensor's floats are in the checkpoint's arrays. */
static float *floats_of(const t2g_checkpoint *ck, const ckpt_tensor *t) {
    switch (t->group) {
    case GROUP_PARAMS: return ck->params + t->buffer_offset;
    case GROUP_M: return ck->m + t->buffer_offset;
    case GROUP_V: return ck->v + t->buffer_offset;
    case GROUP_AUX_PARAMS: return ck->aux_params;
    case GROUP_AUX_M: return ck->aux_m;
    case GROUP_AUX_V: return ck->aux_v;
    case GROUP_COUNT: break;
    }
    return NULL;
}

/* ---- save ---- */

static void write_file(ckpt_writer *w, const ckpt_directory *dir, const char *text, const t2g_checkpoint *ck) {
    uint32_t directory_bytes = (uint32_t)strlen(text);
    unsigned char pre[CKPT_PREAMBLE_BYTES];
    memcpy(pre, ckpt_magic, sizeof ckpt_magic);
    ckpt_put_u32(pre + 8, T2G_CHECKPOINT_VERSION);
    ckpt_put_u32(pre + 12, directory_bytes);
    ckpt_write_bytes(w, pre, sizeof pre);
    ckpt_write_bytes(w, text, directory_bytes);
    uint64_t start = data_start(directory_bytes);
    ckpt_write_zeros(w, start - w->written);
    for (uint32_t i = 0; i < dir->count; i++) { /* planned in the order of their offsets */
        const ckpt_tensor *t = &dir->tensors[i];
        ckpt_write_zeros(w, start + t->offset - w->written);
        ckpt_write_floats(w, floats_of(ck, t), t->elements);
    }
    unsigned char crc[CKPT_CRC_BYTES];
    ckpt_put_u32(crc, w->crc);
    ckpt_write_bytes(w, crc, sizeof crc);
}

t2g_status ckpt_save_directory(const char *path, const t2g_checkpoint *ck, t2g_error *err) {
    ckpt_directory dir;
    t2g_status status = ckpt_directory_plan(ck, &dir, err);
    char *text = status ? NULL : ckpt_directory_json(&dir);
    if (!status && !text) status = t2g_fail(err, T2G_ERR_MEMORY, "out of memory writing the directory");
    if (!status && strlen(text) > T2G_CHECKPOINT_DIRECTORY_MAX)
        status = t2g_fail(err, T2G_ERR_ARGUMENT, "a directory of %zu bytes, more than the %u a checkpoint may have",
                          strlen(text), T2G_CHECKPOINT_DIRECTORY_MAX);
    t2g_atomic_file out;
    if (!status) status = t2g_atomic_open(&out, path, err);
    if (!status) {
        ckpt_writer w = {out.file, 0, 0, 0};
        write_file(&w, &dir, text, ck);
        status = t2g_atomic_commit(&out, w.error, err);
    }
    free(text);
    ckpt_directory_free(&dir);
    return status ? t2g_error_context(err, "checkpoint %s", path) : T2G_OK;
}

/* ---- load ---- */

/* The parameter's own name: "qkvw" of "params/h.3.qkvw". */
static const char *base_name(const ckpt_tensor *t) {
    const char *key = ckpt_tensor_key(t);
    return t->layer >= 0 ? strchr(key + 2, '.') + 1 : key;
}

/* The directory's parameter tensors as table rows (with their names in the same allocation);
 * none for a checkpoint saved without a table. */
static t2g_status make_table(const ckpt_directory *dir, t2g_checkpoint *ck, t2g_error *err) {
    uint32_t count = 0;
    size_t names = 0;
    for (uint32_t i = 0; i < dir->count; i++) {
        const ckpt_tensor *t = &dir->tensors[i];
        if (t->group != GROUP_PARAMS || !*ckpt_tensor_key(t)) continue;
        count++;
        names += strlen(base_name(t)) + 1;
    }
    if (!count) return T2G_OK;
    t2g_gpt_param *table = malloc(count * sizeof *table + names);
    if (!table) return t2g_fail(err, T2G_ERR_MEMORY, "out of memory for a table of %u tensors", count);
    char *name = (char *)(table + count);
    uint32_t row = 0;
    for (uint32_t i = 0; i < dir->count; i++) {
        const ckpt_tensor *t = &dir->tensors[i];
        if (t->group != GROUP_PARAMS || !*ckpt_tensor_key(t)) continue;
        size_t n = strlen(base_name(t)) + 1;
        memcpy(name, base_name(t), n);
        table[row++] = (t2g_gpt_param){.name = name, .layer = t->layer, .offset = t->buffer_offset,
                                       .rows = t->rank == 1 ? 1 : (uint32_t)t->shape[0],
                                       .cols = (uint32_t)t->shape[t->rank - 1], .decay = false};
        name += n;
    }
    ck->table = table;
    ck->table_count = count;
    return T2G_OK;
}

/* Room for every array the directory describes; the config moves over from it. */
static t2g_status allocate(ckpt_directory *dir, t2g_checkpoint *ck, const char *path, t2g_error *err) {
    uint64_t P = dir->scalars.param_count, A = 0;
    for (uint32_t i = 0; i < dir->count; i++)
        if (dir->tensors[i].group == GROUP_AUX_PARAMS) A = dir->tensors[i].elements;
    if (P > SIZE_MAX / sizeof(float) || A > SIZE_MAX / sizeof(float))
        return t2g_fail(err, T2G_ERR_MEMORY, "checkpoint %s: too large for this machine's address space", path);
    ck->config_json = dir->parsed_config;
    dir->parsed_config = NULL;
    ck->tokenizer_json = dir->parsed_tokenizer;
    ck->tokenizer_config_json = dir->parsed_tokenizer_config;
    dir->parsed_tokenizer = dir->parsed_tokenizer_config = NULL;
    ck->param_count = P;
    ck->aux_count = A;
    ck->params = calloc(P ? P : 1, sizeof(float)); /* the padding no tensor covers is 0 */
    ck->m = calloc(P ? P : 1, sizeof(float));
    ck->v = calloc(P ? P : 1, sizeof(float));
    if (A) {
        ck->aux_params = malloc(A * sizeof(float));
        ck->aux_m = malloc(A * sizeof(float));
        ck->aux_v = malloc(A * sizeof(float));
    }
    if (!ck->params || !ck->m || !ck->v || (A && (!ck->aux_params || !ck->aux_m || !ck->aux_v)))
        return t2g_fail(err, T2G_ERR_MEMORY, "checkpoint %s: out of memory for 3 x %llu parameters", path,
                        (unsigned long long)P);
    return make_table(dir, ck, err);
}

/* The data, in the file's order: each tensor into its array, the gaps only through the CRC. */
static t2g_status read_data(ckpt_reader *r, const ckpt_directory *dir, t2g_checkpoint *ck, t2g_error *err) {
    const ckpt_tensor **order = ckpt_directory_by_offset(dir);
    if (!order) return t2g_fail(err, T2G_ERR_MEMORY, "checkpoint %s: out of memory", r->path);
    uint64_t at = 0; /* bytes of the data read */
    t2g_status status = T2G_OK;
    for (uint32_t i = 0; i < dir->count && !status; i++) {
        const ckpt_tensor *t = order[i];
        if (t->bytes == 0) continue;
        status = ckpt_skip(r, t->offset - at, err);
        if (!status) status = ckpt_read_floats(r, floats_of(ck, t), t->elements, err);
        at = t->offset + t->bytes;
    }
    free(order);
    if (!status) status = ckpt_skip(r, dir->data_bytes - at, err);
    return status;
}

t2g_status ckpt_load_directory(ckpt_reader *r, uint32_t directory_bytes, t2g_checkpoint *ck, t2g_error *err) {
    uint64_t start = data_start(directory_bytes);
    if (start + CKPT_CRC_BYTES > r->size)
        return ckpt_damaged(r, err, "truncated: expected at least %llu bytes (its directory alone has %u), the file has %llu",
                            (unsigned long long)(start + CKPT_CRC_BYTES), directory_bytes, (unsigned long long)r->size);
    if (directory_bytes > T2G_CHECKPOINT_DIRECTORY_MAX)
        return ckpt_damaged(r, err, "corrupted: a directory of %u bytes, more than the %u a checkpoint may have",
                            directory_bytes, T2G_CHECKPOINT_DIRECTORY_MAX);
    char *text = malloc(directory_bytes ? directory_bytes : 1);
    if (!text) return t2g_fail(err, T2G_ERR_MEMORY, "checkpoint %s: out of memory for its directory", r->path);
    t2g_status status = ckpt_read_exactly(r, text, directory_bytes, err);
    ckpt_directory dir = {0};
    t2g_error why = {0};
    if (!status && (status = ckpt_directory_parse(text, directory_bytes, start, r->size, &dir, &why)))
        status = status == T2G_ERR_MEMORY ? t2g_fail(err, status, "checkpoint %s: %s", r->path, why.message)
                                          : ckpt_damaged(r, err, "%s", why.message);
    free(text);
    if (!status) status = allocate(&dir, ck, r->path, err);
    if (!status) status = ckpt_skip(r, start - CKPT_PREAMBLE_BYTES - directory_bytes, err);
    if (!status) status = read_data(r, &dir, ck, err);
    if (!status) status = ckpt_check_crc(r, ck, err);
    if (!status) {
        ck->step = dir.scalars.step;
        ck->cursor = dir.scalars.cursor;
        ck->rng_state = dir.scalars.rng_state;
        ck->kind = dir.scalars.kind;
        ck->start_crc = dir.scalars.start_crc;
        ck->aux_scalar = dir.scalars.aux_scalar;
    }
    ckpt_directory_free(&dir);
    return status;
}
