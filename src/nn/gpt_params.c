/* The parameter table of the flat buffer, views into it, initialisation, host copies. */
#include <math.h>
#include <stdlib.h>

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
    *offset += (count + ALIGN_FLOATS - 1) / ALIGN_FLOATS * ALIGN_FLOATS;
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
    return T2G_OK;
}

/* The architecture's entry of a table row. */
static const arch_tensor *tensor_of(const gpt_arch *arch, const t2g_gpt_param *p) {
    for (uint32_t i = 0; i < arch->tensor_count; i++)
        if (arch->tensors[i].name == p->name) return &arch->tensors[i];
    return NULL;
}

void gpt_make_views(const t2g_gpt *gpt, t2g_tensor buffer, gpt_weights *views) {
    for (uint32_t i = 0; i < gpt->table_count; i++) {
        const t2g_gpt_param *p = &gpt->table[i];
        const arch_tensor *t = tensor_of(gpt->arch, p);
        char *base = p->layer < 0 ? (char *)views : (char *)&views->blocks[p->layer];
        t2g_tensor *view = (t2g_tensor *)(base + t->slot);
        *view = t2g_tensor_slice(buffer, p->offset, (uint64_t)p->rows * p->cols);
    }
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

t2g_status t2g_gpt_read(t2g_gpt *gpt, float *params, float *m, float *v, t2g_error *err) {
    uint64_t bytes = 4 * gpt->buffer_floats;
    if (gpt->frozen && (m || v))
        return t2g_fail(err, T2G_ERR_ARGUMENT, "GPT read: the model is frozen: it has no AdamW moments to read");
    t2g_status status = t2g_tensor_download(gpt->params, params, bytes, err);
    if (!status && m) status = t2g_tensor_download(gpt->m, m, bytes, err);
    if (!status && v) status = t2g_tensor_download(gpt->v, v, bytes, err);
    return status;
}

t2g_status t2g_gpt_write(t2g_gpt *gpt, const float *params, const float *m, const float *v, t2g_error *err) {
    uint64_t bytes = 4 * gpt->buffer_floats;
    if (gpt->frozen) m = v = NULL; /* it has no moments */
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
    t2g_status status = t2g_convert(rec, gpt->params16, gpt->params, gpt->buffer_floats, err);
    if (!status) gpt->params16_stale = false;
    return status;
}
