/* The parameter table of the flat buffer, views into it, initialisation, host copies. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "gpt_internal.h"
#include "t2g/rng.h"

#define ALIGN_FLOATS 64u /* 256 bytes: any device's storage-buffer offset alignment */

uint32_t gpt_arch_dim(const gpt_arch *arch, const t2g_model_config *c, arch_dim dim) {
    switch (dim) {
    case DIM_ONE: return 1;
    case DIM_VOCAB: return c->vocab;
    case DIM_CONTEXT: return c->context;
    case DIM_WIDTH: return c->width;
    case DIM_QKV: return (c->heads + 2 * t2g_model_kv_heads(c)) * t2g_model_head_size(c);
    case DIM_FFN: return t2g_model_ffn_width(c);
    case DIM_FFN_IN: return arch->ffn_in_factor * t2g_model_ffn_width(c);
    }
    return 0;
}

bool gpt_arch_has(const arch_tensor *t, const t2g_model_config *c) {
    switch (t->when) {
    case ALWAYS: return true;
    case WITH_QKV_BIAS: return c->qkv_bias != 0;
    case WITH_UNTIED_HEAD: return c->tied_head == 0;
    }
    return false;
}

static uint64_t aligned_floats(uint64_t count) { return (count + ALIGN_FLOATS - 1) / ALIGN_FLOATS * ALIGN_FLOATS; }

/* Appends a table entry for tensor t of block `layer` (-1: not in a block) at the next aligned
 * offset. */
static void append(t2g_gpt *gpt, const arch_tensor *t, int layer, uint64_t *offset) {
    t2g_gpt_param *p = &gpt->table[gpt->table_count++];
    p->name = t->name;
    p->layer = layer;
    p->rows = gpt_arch_dim(gpt->arch, &gpt->config, t->rows);
    p->cols = gpt_arch_dim(gpt->arch, &gpt->config, t->cols);
    p->decay = t->decay;
    p->offset = *offset;
    uint64_t count = (uint64_t)p->rows * p->cols;
    *offset += aligned_floats(count);
    gpt->parameter_count += count;
}

/* Appends every tensor of the architecture with this decay: the model's own, then each block's
 * (block by block) when decayed; each block's, then the model's own otherwise. */
static void append_group(t2g_gpt *gpt, bool decay, uint64_t *offset) {
    const gpt_arch *arch = gpt->arch;
    for (int pass = 0; pass < 2; pass++) {
        bool per_layer = (pass == 0) != decay; /* decayed: model's first; the rest: blocks' first */
        for (uint32_t l = 0; l < (per_layer ? gpt->config.layers : 1); l++)
            for (uint32_t i = 0; i < arch->tensor_count; i++) {
                const arch_tensor *t = &arch->tensors[i];
                if (t->decay == decay && t->per_layer == per_layer && gpt_arch_has(t, &gpt->config))
                    append(gpt, t, per_layer ? (int)l : -1, offset);
            }
    }
}

/* The architecture's entry of a table row. */
static const arch_tensor *tensor_of(const gpt_arch *arch, const t2g_gpt_param *p) {
    for (uint32_t i = 0; i < arch->tensor_count; i++)
        if (arch->tensors[i].name == p->name) return &arch->tensors[i];
    return NULL;
}

/* Where each tensor is in params: at its table offset (params_offset NULL); lean, the F32_TOO
 * tensors one after the other (aligned as in the table) and no other. */
static t2g_status place_params(t2g_gpt *gpt, t2g_error *err) {
    gpt->params_floats = gpt->buffer_floats;
    if (!gpt_lean(gpt)) return T2G_OK;
    gpt->params_offset = calloc(gpt->table_count ? gpt->table_count : 1, sizeof *gpt->params_offset);
    if (!gpt->params_offset) return t2g_fail(err, T2G_ERR_MEMORY, "out of host memory for the parameter table");
    uint64_t offset = 0;
    for (uint32_t i = 0; i < gpt->table_count; i++) {
        const t2g_gpt_param *p = &gpt->table[i];
        bool kept = tensor_of(gpt->arch, p)->read != MATMULS_ONLY;
        gpt->params_offset[i] = kept ? offset : UINT64_MAX;
        if (kept) offset += aligned_floats((uint64_t)p->rows * p->cols);
    }
    gpt->params_floats = offset;
    return T2G_OK;
}

/* The buffer: every decayed tensor, then the others, so AdamW runs over two ranges. For gpt2:
 * wte, wpe, every block's matrices, then every block's vectors, then lnfw and lnfb. */
t2g_status gpt_build_table(t2g_gpt *gpt, t2g_error *err) {
    gpt->table = calloc((size_t)gpt->arch->tensor_count * gpt->config.layers, sizeof *gpt->table);
    if (!gpt->table) return t2g_fail(err, T2G_ERR_MEMORY, "out of host memory for the parameter table");
    uint64_t offset = 0;
    append_group(gpt, true, &offset);
    gpt->decayed_floats = offset;
    append_group(gpt, false, &offset);
    gpt->buffer_floats = offset;
    return place_params(gpt, err);
}

/* The views of `buffer`, tensor i at offsets[i] (UINT64_MAX: an empty view). */
static void make_views(const t2g_gpt *gpt, t2g_tensor buffer, const uint64_t *offsets, gpt_weights *views) {
    for (uint32_t i = 0; i < gpt->table_count; i++) {
        const t2g_gpt_param *p = &gpt->table[i];
        const arch_tensor *t = tensor_of(gpt->arch, p);
        char *base = p->layer < 0 ? (char *)views : (char *)&views->blocks[p->layer];
        t2g_tensor *view = (t2g_tensor *)(base + t->slot);
        uint64_t at = offsets ? offsets[i] : p->offset;
        *view = at == UINT64_MAX ? (t2g_tensor){0} : t2g_tensor_slice(buffer, at, (uint64_t)p->rows * p->cols);
    }
}

void gpt_make_views(const t2g_gpt *gpt, t2g_tensor buffer, gpt_weights *views) { make_views(gpt, buffer, NULL, views); }
void gpt_make_params_views(const t2g_gpt *gpt, gpt_weights *views) {
    make_views(gpt, gpt->params, gpt->params_offset, views);
}

t2g_status t2g_gpt_init(t2g_gpt *gpt, uint64_t seed, t2g_error *err) {
    uint64_t n = gpt->buffer_floats;
    float *params = calloc(n, sizeof *params);
    if (!params) return t2g_fail(err, T2G_ERR_MEMORY, "out of host memory initialising %llu parameters", (unsigned long long)n);
    t2g_rng rng = t2g_rng_seeded(seed);
    double residual_std = 0.02 / sqrt(2.0 * gpt->config.layers);
    for (uint32_t i = 0; i < gpt->table_count; i++) {
        const t2g_gpt_param *p = &gpt->table[i];
        float *x = params + p->offset;
        uint64_t count = (uint64_t)p->rows * p->cols;
        arch_init rule = tensor_of(gpt->arch, p)->init;
        double std = rule == INIT_RESIDUAL ? residual_std : 0.02;
        for (uint64_t k = 0; k < count; k++)
            x[k] = rule == INIT_ONES ? 1.0f : rule == INIT_ZEROS ? 0.0f : (float)(std * t2g_rng_normal(&rng));
    }
    float *zeros = calloc(n, sizeof *zeros);
    t2g_status status = zeros ? t2g_gpt_write(gpt, params, zeros, zeros, err)
                              : t2g_fail(err, T2G_ERR_MEMORY, "out of host memory initialising the optimizer state");
    free(zeros);
    free(params);
    return status;
}

/* A lean model's params (the tensors read as f32) moved from the host buffer in the table's
 * layout into params' own (to_params), or back. */
static void move_kept(const t2g_gpt *gpt, const float *from, float *to, bool to_params) {
    for (uint32_t i = 0; i < gpt->table_count; i++) {
        const t2g_gpt_param *p = &gpt->table[i];
        if (gpt->params_offset[i] == UINT64_MAX) continue;
        uint64_t table_at = p->offset, params_at = gpt->params_offset[i];
        memcpy(to + (to_params ? params_at : table_at), from + (to_params ? table_at : params_at),
               4 * (size_t)p->rows * p->cols);
    }
}

#define LEAN_STAGING_FLOATS (16u << 20) /* 64 MiB of f32 a piece */

/* params16 = `params` (the whole buffer, f32 on the host) rounded by the device's convert kernel,
 * as a trainable model's refresh rounds its copy (the same bits), through a staging buffer. */
static t2g_status fill_params16(t2g_gpt *gpt, const float *params, t2g_error *err) {
    uint64_t n = gpt->buffer_floats, piece = n < LEAN_STAGING_FLOATS ? n : LEAN_STAGING_FLOATS;
    t2g_tensor staging;
    const t2g_tensor_request request = {&staging, piece};
    t2g_arena *arena = NULL;
    t2g_recorder *rec = NULL;
    t2g_status status = t2g_arena_create_for(gpt->device, "f32 weights on their way to 16 bits", &request, 1, &arena, err);
    if (!status) status = t2g_recorder_create(gpt->device, &(t2g_recorder_options){0}, &rec, err);
    for (uint64_t at = 0; at < n && !status; at += piece) {
        uint64_t count = n - at < piece ? n - at : piece;
        status = t2g_tensor_upload(staging, params + at, 4 * count, err);
        if (!status) status = t2g_convert(rec, t2g_tensor_slice(gpt->params16, at, count), staging, count, err);
        if (!status) status = t2g_recorder_submit(rec, err);
    }
    t2g_recorder_destroy(rec);
    t2g_arena_destroy(arena);
    return status;
}

static t2g_status write_lean(t2g_gpt *gpt, const float *params, t2g_error *err) {
    float *kept = malloc((gpt->params_floats ? gpt->params_floats : 1) * sizeof *kept);
    if (!kept) return t2g_fail(err, T2G_ERR_MEMORY, "out of host memory writing a frozen 16-bit model's parameters");
    move_kept(gpt, params, kept, true);
    t2g_status status = t2g_tensor_upload(gpt->params, kept, 4 * gpt->params_floats, err);
    free(kept);
    if (!status) status = fill_params16(gpt, params, err);
    gpt->params16_stale = status != T2G_OK; /* never refreshed from params, which lack the matrices */
    return status;
}

/* The matmuls' weights widened from the 16-bit copy (exactly), the rest from params. */
static t2g_status read_lean(t2g_gpt *gpt, float *params, t2g_error *err) {
    uint64_t n = gpt->buffer_floats;
    uint16_t *copy = malloc((n ? n : 1) * sizeof *copy);
    float *kept = malloc((gpt->params_floats ? gpt->params_floats : 1) * sizeof *kept);
    t2g_status status = copy && kept ? t2g_tensor_download(gpt->params16, copy, 2 * n, err)
                                     : t2g_fail(err, T2G_ERR_MEMORY, "out of host memory reading a frozen 16-bit model's "
                                                "parameters");
    if (!status) status = t2g_tensor_download(gpt->params, kept, 4 * gpt->params_floats, err);
    for (uint64_t k = 0; k < n && !status; k++)
        params[k] = gpt->act_dtype == T2G_DTYPE_BF16 ? t2g_bf16_to_f32(copy[k]) : t2g_f16_to_f32(copy[k]);
    if (!status) move_kept(gpt, kept, params, false);
    free(copy);
    free(kept);
    return status;
}

t2g_status t2g_gpt_read(t2g_gpt *gpt, float *params, float *m, float *v, t2g_error *err) {
    uint64_t bytes = 4 * gpt->buffer_floats;
    if (gpt->frozen && (m || v))
        return t2g_fail(err, T2G_ERR_ARGUMENT, "GPT read: the model is frozen: it has no AdamW moments to read");
    if (gpt_lean(gpt)) return read_lean(gpt, params, err);
    t2g_status status = t2g_tensor_download(gpt->params, params, bytes, err);
    if (!status && m) status = t2g_tensor_download(gpt->m, m, bytes, err);
    if (!status && v) status = t2g_tensor_download(gpt->v, v, bytes, err);
    return status;
}

t2g_status t2g_gpt_write(t2g_gpt *gpt, const float *params, const float *m, const float *v, t2g_error *err) {
    uint64_t bytes = 4 * gpt->buffer_floats;
    if (gpt->frozen) m = v = NULL; /* it has no moments */
    if (gpt_lean(gpt)) return write_lean(gpt, params, err);
    gpt->params16_stale = true;
    t2g_status status = t2g_tensor_upload(gpt->params, params, bytes, err);
    if (!status && m) status = t2g_tensor_upload(gpt->m, m, bytes, err);
    if (!status && v) status = t2g_tensor_upload(gpt->v, v, bytes, err);
    return status;
}

t2g_status t2g_gpt_read_grads(t2g_gpt *gpt, float *grads, t2g_error *err) {
    if (gpt->frozen) return t2g_fail(err, T2G_ERR_ARGUMENT, "GPT read grads: the model is frozen: it has no gradients");
    return t2g_tensor_download(gpt->grads, grads, 4 * gpt->buffer_floats, err);
}

uint32_t t2g_gpt_params(const t2g_gpt *gpt, const t2g_gpt_param **table) {
    *table = gpt->table;
    return gpt->table_count;
}
uint64_t t2g_gpt_buffer_floats(const t2g_gpt *gpt) { return gpt->buffer_floats; }
uint64_t t2g_gpt_decayed_floats(const t2g_gpt *gpt) { return gpt->decayed_floats; }
uint64_t t2g_gpt_parameter_count(const t2g_gpt *gpt) { return gpt->parameter_count; }

t2g_status gpt_refresh_params16(t2g_gpt *gpt, t2g_recorder *rec, t2g_error *err) {
    if (!gpt->params16_arena || !gpt->params16_stale) return T2G_OK;
    if (gpt_lean(gpt))
        return t2g_fail(err, T2G_ERR_ARGUMENT, "GPT: a frozen 16-bit model's weights were never written (t2g_gpt_write)");
    t2g_status status = t2g_convert(rec, gpt->params16, gpt->params, gpt->buffer_floats, err);
    if (!status) gpt->params16_stale = false;
    return status;
}
