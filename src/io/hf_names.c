/* Which Hugging Face tensors make each tensor of t2g's parameter table (t2g/gpt.h: matrices are
 * (out, in) row-major like torch's Linear), per architecture:
 *
 *   gpt2 (GPT2LMHeadModel, prefix "transformer."; Conv1D weights stored (in, out): transposed)
 *     wte (V, C)       wte.weight                   wpe (T, C)        wpe.weight (its first T rows)
 *     ln1w, ln1b (C)   h.L.ln_1.weight, .bias       qkvw (3C, C)      h.L.attn.c_attn.weight (C, 3C)
 *     qkvb (3C)        h.L.attn.c_attn.bias         attprojw (C, C)   h.L.attn.c_proj.weight (C, C)
 *     attprojb (C)     h.L.attn.c_proj.bias         ln2w, ln2b (C)    h.L.ln_2.weight, .bias
 *     fcw (F, C)       h.L.mlp.c_fc.weight (C, F)   fcb (F)           h.L.mlp.c_fc.bias
 *     fcprojw (C, F)   h.L.mlp.c_proj.weight (F, C) fcprojb (C)       h.L.mlp.c_proj.bias
 *     lnfw, lnfb (C)   ln_f.weight, .bias           (the head is wte)
 *   llama (LlamaForCausalLM, Qwen2ForCausalLM, MistralForCausalLM; prefix "model."; hs = C / NH)
 *     wte (V, C)                  embed_tokens.weight
 *     ln1w (C)                    layers.L.input_layernorm.weight
 *     qkvw ((NH + 2 KVH) hs, C)   layers.L.self_attn.q_proj.weight, k_proj, v_proj: their rows in turn
 *     qkvb ((NH + 2 KVH) hs)      layers.L.self_attn.q_proj.bias, k_proj, v_proj (model.qkv_bias only)
 *     attprojw (C, NH hs)         layers.L.self_attn.o_proj.weight
 *     ln2w (C)                    layers.L.post_attention_layernorm.weight
 *     fcw (2F, C)                 layers.L.mlp.gate_proj.weight rows, then up_proj's
 *     fcprojw (C, F)              layers.L.mlp.down_proj.weight
 *     lnfw (C)                    norm.weight
 *     head (V, C)                 lm_head.weight (unprefixed; an untied head only) */
#include <stdio.h>
#include <string.h>

#include "io/hf_internal.h"

const char *t2g_hf_prefix(const t2g_model_config *m) { return m->arch == T2G_ARCH_GPT2 ? "transformer." : "model."; }

/* Part k: a stored tensor of `rank` (shape d0[, d1]) filling `elements` floats of the t2g
 * tensor from `offset`. */
typedef struct part_list {
    hf_part *parts;
    uint32_t count;
    uint64_t filled; /* floats of the t2g tensor the parts cover so far */
} part_list;

static void add_part(part_list *list, bool prefixed, const char *format, int layer, uint32_t rank, uint64_t d0,
                     uint64_t d1, bool transposed) {
    hf_part *p = &list->parts[list->count++];
    memset(p, 0, sizeof *p);
    snprintf(p->name, sizeof p->name, format, layer);
    p->prefixed = prefixed;
    p->rank = rank;
    p->shape[0] = d0;
    p->shape[1] = rank == 2 ? d1 : 0;
    p->transposed = transposed;
    p->offset = list->filled;
    p->elements = rank == 2 ? d0 * d1 : d0;
    list->filled += p->elements;
}

/* The parts of a gpt2 tensor; *rows, *cols the t2g shape it must have. false: unknown name. */
static bool gpt2_parts(const t2g_model_config *m, uint64_t positions, const char *n, int l, part_list *list,
                       uint64_t *rows, uint64_t *cols) {
    uint64_t V = m->vocab, C = m->width, F = t2g_model_ffn_width(m);
    bool layer = l >= 0;
    *rows = 1;
    if (!layer && strcmp(n, "wte") == 0) {
        add_part(list, true, "wte.weight", l, 2, V, C, false);
        *rows = V, *cols = C;
    } else if (!layer && strcmp(n, "wpe") == 0) {
        add_part(list, true, "wpe.weight", l, 2, positions, C, false);
        list->parts[0].elements = (uint64_t)m->context * C; /* the first T positions */
        *rows = m->context, *cols = C;
    } else if (!layer && (strcmp(n, "lnfw") == 0 || strcmp(n, "lnfb") == 0)) {
        add_part(list, true, n[3] == 'w' ? "ln_f.weight" : "ln_f.bias", l, 1, C, 0, false);
        *cols = C;
    } else if (layer && (strcmp(n, "ln1w") == 0 || strcmp(n, "ln1b") == 0 || strcmp(n, "ln2w") == 0 ||
                         strcmp(n, "ln2b") == 0)) {
        static const char *names[2][2] = {{"h.%d.ln_1.weight", "h.%d.ln_1.bias"}, {"h.%d.ln_2.weight", "h.%d.ln_2.bias"}};
        add_part(list, true, names[n[2] == '2'][n[3] == 'b'], l, 1, C, 0, false);
        *cols = C;
    } else if (layer && strcmp(n, "qkvw") == 0) {
        add_part(list, true, "h.%d.attn.c_attn.weight", l, 2, C, 3 * C, true);
        *rows = 3 * C, *cols = C;
    } else if (layer && strcmp(n, "qkvb") == 0) {
        add_part(list, true, "h.%d.attn.c_attn.bias", l, 1, 3 * C, 0, false);
        *cols = 3 * C;
    } else if (layer && strcmp(n, "attprojw") == 0) {
        add_part(list, true, "h.%d.attn.c_proj.weight", l, 2, C, C, true);
        *rows = C, *cols = C;
    } else if (layer && strcmp(n, "attprojb") == 0) {
        add_part(list, true, "h.%d.attn.c_proj.bias", l, 1, C, 0, false);
        *cols = C;
    } else if (layer && strcmp(n, "fcw") == 0) {
        add_part(list, true, "h.%d.mlp.c_fc.weight", l, 2, C, F, true);
        *rows = F, *cols = C;
    } else if (layer && strcmp(n, "fcb") == 0) {
        add_part(list, true, "h.%d.mlp.c_fc.bias", l, 1, F, 0, false);
        *cols = F;
    } else if (layer && strcmp(n, "fcprojw") == 0) {
        add_part(list, true, "h.%d.mlp.c_proj.weight", l, 2, F, C, true);
        *rows = C, *cols = F;
    } else if (layer && strcmp(n, "fcprojb") == 0) {
        add_part(list, true, "h.%d.mlp.c_proj.bias", l, 1, C, 0, false);
        *cols = C;
    } else
        return false;
    return true;
}

static bool llama_parts(const t2g_model_config *m, const char *n, int l, part_list *list, uint64_t *rows,
                        uint64_t *cols) {
    uint64_t V = m->vocab, C = m->width, F = t2g_model_ffn_width(m), hs = t2g_model_head_size(m);
    uint64_t q = m->heads * hs, kv = t2g_model_kv_heads(m) * hs;
    bool layer = l >= 0;
    *rows = 1;
    if (!layer && strcmp(n, "wte") == 0) {
        add_part(list, true, "embed_tokens.weight", l, 2, V, C, false);
        *rows = V, *cols = C;
    } else if (!layer && strcmp(n, "head") == 0 && !m->tied_head) {
        add_part(list, false, "lm_head.weight", l, 2, V, C, false);
        *rows = V, *cols = C;
    } else if (!layer && strcmp(n, "lnfw") == 0) {
        add_part(list, true, "norm.weight", l, 1, C, 0, false);
        *cols = C;
    } else if (layer && (strcmp(n, "ln1w") == 0 || strcmp(n, "ln2w") == 0)) {
        add_part(list, true, n[2] == '1' ? "layers.%d.input_layernorm.weight" : "layers.%d.post_attention_layernorm.weight",
                 l, 1, C, 0, false);
        *cols = C;
    } else if (layer && strcmp(n, "qkvw") == 0) {
        add_part(list, true, "layers.%d.self_attn.q_proj.weight", l, 2, q, C, false);
        add_part(list, true, "layers.%d.self_attn.k_proj.weight", l, 2, kv, C, false);
        add_part(list, true, "layers.%d.self_attn.v_proj.weight", l, 2, kv, C, false);
        *rows = q + 2 * kv, *cols = C;
    } else if (layer && strcmp(n, "qkvb") == 0 && m->qkv_bias) {
        add_part(list, true, "layers.%d.self_attn.q_proj.bias", l, 1, q, 0, false);
        add_part(list, true, "layers.%d.self_attn.k_proj.bias", l, 1, kv, 0, false);
        add_part(list, true, "layers.%d.self_attn.v_proj.bias", l, 1, kv, 0, false);
        *cols = q + 2 * kv;
    } else if (layer && strcmp(n, "attprojw") == 0) {
        add_part(list, true, "layers.%d.self_attn.o_proj.weight", l, 2, C, q, false);
        *rows = C, *cols = q;
    } else if (layer && strcmp(n, "fcw") == 0) {
        add_part(list, true, "layers.%d.mlp.gate_proj.weight", l, 2, F, C, false);
        add_part(list, true, "layers.%d.mlp.up_proj.weight", l, 2, F, C, false);
        *rows = 2 * F, *cols = C;
    } else if (layer && strcmp(n, "fcprojw") == 0) {
        add_part(list, true, "layers.%d.mlp.down_proj.weight", l, 2, C, F, false);
        *rows = C, *cols = F;
    } else
        return false;
    return true;
}

t2g_status t2g_hf_parts(const t2g_model_config *m, uint64_t positions, const t2g_gpt_param *param,
                        hf_part parts[HF_MAX_PARTS], uint32_t *count, t2g_error *err) {
    *count = 0;
    const char *name = param->name ? param->name : "(no name)";
    if (param->layer < -1 || param->layer >= (int)m->layers)
        return t2g_fail(err, T2G_ERR_ARGUMENT, "the parameter table's %s has layer %d; the model has %u layers", name,
                        param->layer, m->layers);
    part_list list = {parts, 0, 0};
    uint64_t rows = 0, cols = 0;
    bool known = m->arch == T2G_ARCH_GPT2 ? gpt2_parts(m, positions, name, param->layer, &list, &rows, &cols)
                                          : llama_parts(m, name, param->layer, &list, &rows, &cols);
    if (!known)
        return t2g_fail(err, T2G_ERR_ARGUMENT,
                        "the parameter table's %s%s (layer %d) is no tensor of a %s model with these settings", name,
                        param->layer >= 0 ? " of a block" : "", param->layer, m->arch == T2G_ARCH_GPT2 ? "gpt2" : "llama");
    if (param->rows != rows || param->cols != cols)
        return t2g_fail(err, T2G_ERR_ARGUMENT, "the parameter table's %s (layer %d) is (%u, %u); the model implies (%llu, %llu)",
                        name, param->layer, param->rows, param->cols, (unsigned long long)rows, (unsigned long long)cols);
    *count = list.count;
    return T2G_OK;
}

t2g_status t2g_hf_check_table(const t2g_model_config *m, const t2g_gpt_param *table, uint32_t count, t2g_error *err) {
    uint64_t L = m->layers;
    uint64_t expected = m->arch == T2G_ARCH_GPT2 ? 4 + 12 * L : 2 + (6 + (m->qkv_bias != 0)) * L + !m->tied_head;
    for (uint32_t i = 0; i < count; i++) {
        hf_part parts[HF_MAX_PARTS];
        uint32_t n;
        t2g_status status = t2g_hf_parts(m, m->context, &table[i], parts, &n, err);
        if (status) return status;
        for (uint32_t j = 0; j < i; j++)
            if (table[j].layer == table[i].layer && strcmp(table[j].name, table[i].name) == 0)
                return t2g_fail(err, T2G_ERR_ARGUMENT, "the parameter table holds %s (layer %d) twice", table[i].name,
                                table[i].layer);
    }
    if (count != expected)
        return t2g_fail(err, T2G_ERR_ARGUMENT, "the parameter table holds %u tensors; a %s model of %u layers has %llu",
                        count, m->arch == T2G_ARCH_GPT2 ? "gpt2" : "llama", m->layers, (unsigned long long)expected);
    return T2G_OK;
}

static bool ends_with(const char *s, const char *suffix) {
    size_t n = strlen(s), k = strlen(suffix);
    return n >= k && strcmp(s + n - k, suffix) == 0;
}

bool t2g_hf_is_buffer(const t2g_model_config *m, const char *name) {
    if (m->arch == T2G_ARCH_GPT2)
        return strncmp(name, "h.", 2) == 0 && (ends_with(name, ".attn.bias") || ends_with(name, ".attn.masked_bias"));
    return strncmp(name, "layers.", 7) == 0 && ends_with(name, ".self_attn.rotary_emb.inv_freq");
}
