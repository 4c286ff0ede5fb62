/* The layout of a t2g model in a GGUF file (io/gguf_model_internal.h): the architectures and
 * which GGUF tensors make each t2g tensor. Matrices need no transpose: ggml stores a (rows, cols)
 * matrix as dims {cols, rows}, row-major like t2g. */
#include <stdio.h>
#include <string.h>

#include "io/gguf_model_internal.h"

static const gguf_arch ARCHES[] = {
    {"llama", T2G_ARCH_LLAMA, false, true, "attention.layer_norm_rms_epsilon"},
    {"qwen2", T2G_ARCH_LLAMA, true, false, "attention.layer_norm_rms_epsilon"},
    {"gpt2", T2G_ARCH_GPT2, false, false, "attention.layer_norm_epsilon"},
};
#define ARCH_COUNT (sizeof ARCHES / sizeof ARCHES[0])

const gguf_arch *gguf_arch_named(const char *name, size_t len) {
    for (size_t i = 0; i < ARCH_COUNT; i++)
        if (strlen(ARCHES[i].name) == len && memcmp(ARCHES[i].name, name, len) == 0) return &ARCHES[i];
    return NULL;
}

const gguf_arch *gguf_arch_of_model(const t2g_model_config *m) {
    for (size_t i = 0; i < ARCH_COUNT; i++)
        if (ARCHES[i].arch == m->arch && (m->arch == T2G_ARCH_GPT2 || ARCHES[i].qkv_bias == (m->qkv_bias != 0)))
            return &ARCHES[i];
    return NULL;
}

const char *gguf_arch_names(void) { return "llama, qwen2, gpt2"; }

static gguf_part part(const char *format, int layer, uint64_t rows, uint64_t cols, uint32_t heads) {
    gguf_part p = {.rows = rows, .cols = cols, .take_rows = rows, .heads = heads};
    snprintf(p.name, sizeof p.name, format, layer);
    return p;
}

uint32_t gguf_parts_of(const t2g_model_config *m, const gguf_arch *a, const char *name, int l, gguf_part *p) {
    uint64_t V = m->vocab, C = m->width, F = t2g_model_ffn_width(m), hs = t2g_model_head_size(m);
    uint64_t NH = m->heads, KVH = t2g_model_kv_heads(m);
    bool gpt2 = m->arch == T2G_ARCH_GPT2;
    uint32_t qh = a->interleaved_qk ? (uint32_t)NH : 0, kh = a->interleaved_qk ? (uint32_t)KVH : 0;
    char format[64];
    if (strcmp(name, "wte") == 0) return p[0] = part("token_embd.weight", l, V, C, 0), 1;
    if (strcmp(name, "wpe") == 0) {
        p[0] = part("position_embd.weight", l, 0, C, 0); /* rows: the file's (checked at read) */
        p[0].take_rows = m->context;
        return 1;
    }
    if (strcmp(name, "head") == 0) return p[0] = part("output.weight", l, V, C, 0), 1;
    if (strcmp(name, "lnfw") == 0 || strcmp(name, "lnfb") == 0) {
        return p[0] = part(name[3] == 'b' ? "output_norm.bias" : "output_norm.weight", l, 1, C, 0), 1;
    }
    static const struct { const char *t2g, *ggml; } same[] = {
        {"ln1w", "attn_norm.weight"}, {"ln1b", "attn_norm.bias"},   {"ln2w", "ffn_norm.weight"},
        {"ln2b", "ffn_norm.bias"},    {"attprojb", "attn_output.bias"}, {"fcprojb", "ffn_down.bias"}};
    for (size_t i = 0; i < sizeof same / sizeof same[0]; i++)
        if (strcmp(name, same[i].t2g) == 0) {
            snprintf(format, sizeof format, "blk.%%d.%s", same[i].ggml);
            return p[0] = part(format, l, 1, C, 0), 1;
        }
    if (strcmp(name, "attprojw") == 0) return p[0] = part("blk.%d.attn_output.weight", l, C, NH * hs, 0), 1;
    if (strcmp(name, "fcprojw") == 0) return p[0] = part("blk.%d.ffn_down.weight", l, C, F, 0), 1;
    if (gpt2 && strcmp(name, "qkvw") == 0) return p[0] = part("blk.%d.attn_qkv.weight", l, 3 * C, C, 0), 1;
    if (gpt2 && strcmp(name, "qkvb") == 0) return p[0] = part("blk.%d.attn_qkv.bias", l, 1, 3 * C, 0), 1;
    if (gpt2 && strcmp(name, "fcw") == 0) return p[0] = part("blk.%d.ffn_up.weight", l, F, C, 0), 1;
    if (gpt2 && strcmp(name, "fcb") == 0) return p[0] = part("blk.%d.ffn_up.bias", l, 1, F, 0), 1;
    if (!gpt2 && strcmp(name, "qkvw") == 0) {
        p[0] = part("blk.%d.attn_q.weight", l, NH * hs, C, qh);
        p[1] = part("blk.%d.attn_k.weight", l, KVH * hs, C, kh);
        p[2] = part("blk.%d.attn_v.weight", l, KVH * hs, C, 0);
        return 3;
    }
    if (!gpt2 && strcmp(name, "qkvb") == 0) { /* a bias vector, permuted as its matrix's rows */
        p[0] = part("blk.%d.attn_q.bias", l, 1, NH * hs, qh);
        p[1] = part("blk.%d.attn_k.bias", l, 1, KVH * hs, kh);
        p[2] = part("blk.%d.attn_v.bias", l, 1, KVH * hs, 0);
        return 3;
    }
    if (!gpt2 && strcmp(name, "fcw") == 0) {
        p[0] = part("blk.%d.ffn_gate.weight", l, F, C, 0);
        p[1] = part("blk.%d.ffn_up.weight", l, F, C, 0);
        return 2;
    }
    return 0;
}

uint64_t gguf_part_floats(const gguf_part *p) { return (p->rows != 1 ? p->take_rows : 1) * p->cols; }

uint64_t gguf_unpermuted_row(uint64_t stored, uint64_t head_size) {
    uint64_t h = stored / head_size, r = stored % head_size;
    return h * head_size + (r % 2) * (head_size / 2) + r / 2;
}
