/* A t2g model as a GGUF file (t2g/gguf_export.h): the architecture's metadata, the tokenizer's
 * (gguf_export_tokenizer.c), then every tensor of io/gguf_model_internal.h's layout. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "io/gguf_export_internal.h"
#include "io/gguf_model_internal.h"
#include "t2g/gguf_export.h"

t2g_gguf_write_type t2g_gguf_export_tensor_type(t2g_gguf_write_type dtype, uint32_t n_dims, uint64_t cols) {
    if (n_dims < 2) return T2G_GGUF_WRITE_F32;
    if (dtype == T2G_GGUF_WRITE_Q8_0 && cols % T2G_GGUF_WRITE_Q8_0_BLOCK) return T2G_GGUF_WRITE_F32;
    return dtype;
}

/* general.file_type: llama.cpp's LLAMA_FTYPE of the tensors' main type. */
static uint32_t file_type(t2g_gguf_write_type dtype) {
    switch (dtype) {
    case T2G_GGUF_WRITE_F16: return 1;
    case T2G_GGUF_WRITE_Q8_0: return 7;
    case T2G_GGUF_WRITE_BF16: return 32;
    default: return 0;
    }
}

static t2g_status add_general(t2g_gguf_writer *w, const gguf_arch *a, t2g_gguf_write_type dtype, t2g_error *err) {
    t2g_status s = t2g_gguf_add_string(w, "general.architecture", a->name, err);
    if (!s) s = t2g_gguf_add_string(w, "general.name", "t2g", err);
    if (!s) s = t2g_gguf_add_u32(w, "general.file_type", file_type(dtype), err);
    if (!s && dtype == T2G_GGUF_WRITE_Q8_0) s = t2g_gguf_add_u32(w, "general.quantization_version", 2, err);
    return s;
}

/* The <arch>.* keys t2g_gguf_read_config reads. */
static t2g_status add_hyperparameters(t2g_gguf_writer *w, const gguf_arch *a, const t2g_model_config *m,
                                      t2g_error *err) {
    const struct { const char *key; uint32_t value; bool llama_only; } u32s[] = {
        {"vocab_size", m->vocab, false},
        {"context_length", m->context, false},
        {"embedding_length", m->width, false},
        {"block_count", m->layers, false},
        {"feed_forward_length", t2g_model_ffn_width(m), false},
        {"attention.head_count", m->heads, false},
        {"attention.head_count_kv", t2g_model_kv_heads(m), false},
        {"rope.dimension_count", t2g_model_head_size(m), true},
    };
    char key[128];
    t2g_status s = T2G_OK;
    for (size_t i = 0; i < sizeof u32s / sizeof u32s[0] && !s; i++) {
        if (u32s[i].llama_only && m->arch != T2G_ARCH_LLAMA) continue;
        snprintf(key, sizeof key, "%s.%s", a->name, u32s[i].key);
        s = t2g_gguf_add_u32(w, key, u32s[i].value, err);
    }
    if (!s && m->arch == T2G_ARCH_LLAMA) {
        snprintf(key, sizeof key, "%s.rope.freq_base", a->name);
        s = t2g_gguf_add_f32(w, key, (float)m->rope_theta, err);
    }
    snprintf(key, sizeof key, "%s.%s", a->name, a->eps_key);
    return s ? s : t2g_gguf_add_f32(w, key, (float)m->norm_eps, err);
}

/* Calls fn for every part of every tensor of the table, in order; stops at the first error. */
typedef t2g_status (*part_fn)(t2g_gguf_writer *w, const gguf_part *p, const float *src, uint64_t head_size,
                              t2g_gguf_write_type dtype, t2g_error *err);

static t2g_status each_part(t2g_gguf_writer *w, const t2g_model_config *m, const gguf_arch *a,
                            const t2g_gpt_param *table, uint32_t count, const float *params, t2g_gguf_write_type dtype,
                            part_fn fn, t2g_error *err) {
    t2g_status s = T2G_OK;
    for (uint32_t i = 0; i < count && !s; i++) {
        gguf_part parts[GGUF_MAX_PARTS];
        uint32_t n = gguf_parts_of(m, a, table[i].name, table[i].layer, parts);
        if (!n) return t2g_fail(err, T2G_ERR_UNSUPPORTED, "t2g tensor %s has no GGUF counterpart", table[i].name);
        const float *src = params + table[i].offset;
        for (uint32_t k = 0; k < n && !s; k++) {
            s = fn(w, &parts[k], src, t2g_model_head_size(m), dtype, err);
            src += gguf_part_floats(&parts[k]);
        }
    }
    return s;
}

/* A part as stored: dims {cols, rows} (a position table: the model's context rows), one dim for a vector. */
static uint32_t part_dims(const gguf_part *p, uint64_t dims[2]) {
    dims[0] = p->cols;
    dims[1] = p->rows ? p->rows : p->take_rows;
    return p->rows == 1 ? 1 : 2;
}

static t2g_status declare_part(t2g_gguf_writer *w, const gguf_part *p, const float *src, uint64_t head_size,
                               t2g_gguf_write_type dtype, t2g_error *err) {
    (void)src, (void)head_size;
    uint64_t dims[2];
    uint32_t n_dims = part_dims(p, dims);
    return t2g_gguf_add_tensor(w, p->name, t2g_gguf_export_tensor_type(dtype, n_dims, dims[0]), n_dims, dims, err);
}

/* The part's floats in file order: rows interleaved per head where the layout says so (a
 * vector's every element is one "row"). */
static t2g_status write_part(t2g_gguf_writer *w, const gguf_part *p, const float *src, uint64_t head_size,
                             t2g_gguf_write_type dtype, t2g_error *err) {
    (void)dtype;
    uint64_t floats = gguf_part_floats(p);
    if (!p->heads) return t2g_gguf_write_data(w, src, floats, err);
    float *stored = malloc(floats * sizeof *stored);
    if (!stored) return t2g_fail(err, T2G_ERR_MEMORY, "out of host memory writing %s", p->name);
    uint64_t width = p->rows != 1 ? p->cols : 1, rows = floats / width;
    for (uint64_t r = 0; r < rows; r++)
        memcpy(stored + r * width, src + gguf_unpermuted_row(r, head_size) * width, width * sizeof *stored);
    t2g_status s = t2g_gguf_write_data(w, stored, floats, err);
    free(stored);
    return s;
}

t2g_status t2g_gguf_write_model(const char *path, const t2g_model_config *m, const t2g_gpt_param *table,
                                uint32_t count, const float *params, const t2g_text *text, t2g_gguf_write_type dtype,
                                t2g_error *err) {
    const gguf_arch *a = gguf_arch_of_model(m);
    if (!a) return t2g_fail(err, T2G_ERR_UNSUPPORTED, "%s: the model's architecture has no GGUF name", path);
    if (!t2g_gguf_write_type_name(dtype))
        return t2g_fail(err, T2G_ERR_ARGUMENT, "%s: GGUF tensor type %d is not one t2g writes", path, (int)dtype);
    t2g_gguf_writer *w = NULL;
    t2g_status s = t2g_gguf_writer_new(path, &w, err);
    if (!s) s = add_general(w, a, dtype, err);
    if (!s) s = add_hyperparameters(w, a, m, err);
    if (!s) s = gguf_export_tokenizer(w, path, text, m->vocab, err);
    if (!s) s = each_part(w, m, a, table, count, params, dtype, declare_part, err);
    if (!s) s = each_part(w, m, a, table, count, params, dtype, write_part, err);
    if (!s) s = t2g_gguf_writer_finish(w, err);
    t2g_gguf_writer_free(w);
    return s;
}
