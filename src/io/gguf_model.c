/* A GGUF file's model (t2g/gguf_model.h): the architecture from its metadata, its tensors onto
 * t2g's table (the layout: io/gguf_model_internal.h). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "io/gguf_model_internal.h"
#include "t2g/gguf_model.h"

/* ---- the architecture ---- */

static t2g_status find_arch(const t2g_gguf *file, const gguf_arch **out, t2g_error *err) {
    const char *text;
    size_t len;
    t2g_status status = t2g_gguf_get_string(file, "general.architecture", NULL, &text, &len, err);
    if (status) return status;
    *out = gguf_arch_named(text, len);
    if (*out) return T2G_OK;
    return t2g_fail(err, T2G_ERR_UNSUPPORTED, "%s: general.architecture \"%.*s\" is not one t2g runs (%s)",
                    t2g_gguf_path(file), (int)(len < 64 ? len : 64), text, gguf_arch_names());
}

/* <arch>.<key> as u32 (required unless found is given). */
static t2g_status arch_u32(const t2g_gguf *file, const gguf_arch *a, const char *key, bool *found, uint32_t *out,
                           t2g_error *err) {
    char full[128];
    snprintf(full, sizeof full, "%s.%s", a->name, key);
    return t2g_gguf_get_u32(file, full, found, out, err);
}

static t2g_status arch_f64(const t2g_gguf *file, const gguf_arch *a, const char *key, bool *found, double *out,
                           t2g_error *err) {
    char full[128];
    snprintf(full, sizeof full, "%s.%s", a->name, key);
    return t2g_gguf_get_f64(file, full, found, out, err);
}

/* What t2g does not run: rope scaling, partial rotary dimensions. */
static t2g_status refuse_unsupported(const t2g_gguf *file, const gguf_arch *a, const t2g_model_config *m,
                                     t2g_error *err) {
    char key[128];
    snprintf(key, sizeof key, "%s.rope.scaling.type", a->name);
    const char *text;
    size_t len;
    bool found = false;
    t2g_status status = t2g_gguf_get_string(file, key, &found, &text, &len, err);
    if (!status && found && !(len == 4 && memcmp(text, "none", 4) == 0))
        return t2g_fail(err, T2G_ERR_UNSUPPORTED, "%s: %s is \"%.*s\": rope scaling is not supported yet",
                        t2g_gguf_path(file), key, (int)(len < 32 ? len : 32), text);
    uint32_t dims = 0;
    found = false;
    if (!status && m->arch == T2G_ARCH_LLAMA) status = arch_u32(file, a, "rope.dimension_count", &found, &dims, err);
    if (!status && found && dims != t2g_model_head_size(m))
        return t2g_fail(err, T2G_ERR_UNSUPPORTED, "%s: %s.rope.dimension_count is %u but the head size is %u: a partial "
                        "rotary embedding is not supported", t2g_gguf_path(file), a->name, dims, t2g_model_head_size(m));
    return status;
}

t2g_status t2g_gguf_read_config(const t2g_gguf *file, uint32_t max_context, t2g_model_config *m, t2g_error *err) {
    const gguf_arch *a;
    t2g_status status = find_arch(file, &a, err);
    if (status) return status;
    *m = (t2g_model_config){.arch = a->arch, .rope_theta = 10000, .norm_eps = 1e-5, .qkv_bias = a->qkv_bias};
    bool found_kv = false, found_vocab = false, found_theta = false;
    uint32_t context = 0;
    status = arch_u32(file, a, "embedding_length", NULL, &m->width, err);
    if (!status) status = arch_u32(file, a, "block_count", NULL, &m->layers, err);
    if (!status) status = arch_u32(file, a, "attention.head_count", NULL, &m->heads, err);
    if (!status) status = arch_u32(file, a, "attention.head_count_kv", &found_kv, &m->kv_heads, err);
    if (!status) status = arch_u32(file, a, "feed_forward_length", NULL, &m->ffn_width, err);
    if (!status) status = arch_u32(file, a, "context_length", NULL, &context, err);
    if (!status) status = arch_f64(file, a, a->eps_key, NULL, &m->norm_eps, err);
    if (!status) status = arch_f64(file, a, "rope.freq_base", &found_theta, &m->rope_theta, err);
    if (!status) status = arch_u32(file, a, "vocab_size", &found_vocab, &m->vocab, err);
    if (status) return status;
    const t2g_gguf_tensor *embedding = t2g_gguf_tensor_find(file, "token_embd.weight", NULL);
    if (!embedding || embedding->n_dims != 2)
        return t2g_fail(err, T2G_ERR_FORMAT, "%s: no 2-D tensor token_embd.weight", t2g_gguf_path(file));
    if (!found_vocab) m->vocab = (uint32_t)embedding->dims[1];
    if (!m->width || !m->heads || m->width % m->heads || m->width / m->heads > 128 || !m->layers || !context)
        return t2g_fail(err, T2G_ERR_FORMAT, "%s: %s.embedding_length %u, head_count %u, block_count %u, context_length "
                        "%u: expected sizes above 0, heads dividing the width, a head size of at most 128",
                        t2g_gguf_path(file), a->name, m->width, m->heads, m->layers, context);
    if (a->arch == T2G_ARCH_GPT2) {
        if ((float)m->norm_eps == 1e-5f) m->norm_eps = 1e-5; /* stored as f32: t2g's gpt2 takes 1e-5 only */
        if (found_kv && m->kv_heads != m->heads)
            return t2g_fail(err, T2G_ERR_UNSUPPORTED, "%s: gpt2 with kv heads %u of %u heads", t2g_gguf_path(file),
                            m->kv_heads, m->heads);
        m->kv_heads = 0;
        if (m->ffn_width == 4 * m->width) m->ffn_width = 0;
        m->tied_head = 1;
    } else {
        if (!found_kv) m->kv_heads = m->heads;
        if (m->kv_heads == m->heads) m->kv_heads = 0;
        m->tied_head = t2g_gguf_tensor_find(file, "output.weight", NULL) == NULL;
    }
    uint32_t cap = max_context ? max_context : T2G_CONTEXT_MAX;
    m->context = context < cap ? context : cap;
    return refuse_unsupported(file, a, m, err);
}

/* ---- the tensors ---- */

/* A part's tensor checked against its shape and read into dst (take_rows x cols floats). For a
 * vector with heads (a bias) every "row" is one float. */
static t2g_status read_part(const t2g_gguf *file, const gguf_part *p, uint64_t hs, float *dst, bool *used,
                            t2g_error *err) {
    uint64_t index;
    const t2g_gguf_tensor *t = t2g_gguf_tensor_find(file, p->name, &index);
    const char *path = t2g_gguf_path(file);
    if (!t) return t2g_fail(err, T2G_ERR_FORMAT, "%s: no tensor %s", path, p->name);
    bool matrix = p->rows != 1;
    uint64_t rows = p->rows ? p->rows : (t->n_dims == 2 ? t->dims[1] : 0);
    if (t->n_dims != (matrix ? 2u : 1u) || t->dims[0] != p->cols || (matrix && t->dims[1] != rows) ||
        rows < p->take_rows)
        return t2g_fail(err, T2G_ERR_FORMAT, "%s: tensor %s has %u dims {%llu, %llu}; the model needs {%llu, %llu}%s",
                        path, p->name, t->n_dims, (unsigned long long)t->dims[0],
                        (unsigned long long)(t->n_dims > 1 ? t->dims[1] : 1), (unsigned long long)p->cols,
                        (unsigned long long)(p->rows ? p->rows : p->take_rows),
                        rows < p->take_rows ? " (at least that many rows)" : "");
    float *all = malloc((t->elements ? t->elements : 1) * sizeof *all);
    if (!all) return t2g_fail(err, T2G_ERR_MEMORY, "%s: out of host memory reading %s", path, p->name);
    t2g_status status = t2g_gguf_tensor_read_f32(file, index, all, t->elements, err);
    used[index] = true;
    uint64_t width = matrix ? p->cols : 1, count = matrix ? p->take_rows : p->cols;
    for (uint64_t r = 0; !status && r < count; r++) {
        uint64_t to = p->heads ? gguf_unpermuted_row(r, hs) : r;
        memcpy(dst + to * width, all + r * width, width * sizeof *all);
    }
    free(all);
    return status;
}

/* gpt2 files may carry output.weight: it must be the embedding (the head is tied). */
static t2g_status check_tied_output(const t2g_gguf *file, const t2g_model_config *m, const float *wte, bool *used,
                                    t2g_error *err) {
    uint64_t index;
    const t2g_gguf_tensor *t = t2g_gguf_tensor_find(file, "output.weight", &index);
    if (!t || m->arch != T2G_ARCH_GPT2) return T2G_OK;
    float *head = malloc((size_t)m->vocab * m->width * sizeof *head);
    if (!head) return t2g_fail(err, T2G_ERR_MEMORY, "%s: out of host memory", t2g_gguf_path(file));
    gguf_part p = {.name = "output.weight", .rows = m->vocab, .cols = m->width, .take_rows = m->vocab};
    t2g_status status = read_part(file, &p, 1, head, used, err);
    if (!status && memcmp(head, wte, (size_t)m->vocab * m->width * sizeof *head) != 0)
        status = t2g_fail(err, T2G_ERR_UNSUPPORTED, "%s: output.weight differs from token_embd.weight: gpt2's head is the "
                          "embedding in t2g", t2g_gguf_path(file));
    free(head);
    return status;
}

t2g_status t2g_gguf_read_weights(const t2g_gguf *file, const t2g_model_config *model, const t2g_gpt_param *table,
                                 uint32_t count, float *params, t2g_error *err) {
    const gguf_arch *a;
    t2g_status status = find_arch(file, &a, err);
    if (status) return status;
    uint64_t tensors = t2g_gguf_tensor_count(file), hs = t2g_model_head_size(model);
    bool *used = calloc(tensors ? tensors : 1, sizeof *used);
    if (!used) return t2g_fail(err, T2G_ERR_MEMORY, "%s: out of host memory", t2g_gguf_path(file));
    const float *wte = NULL;
    for (uint32_t i = 0; i < count && !status; i++) {
        gguf_part parts[GGUF_MAX_PARTS];
        uint32_t n = gguf_parts_of(model, a, table[i].name, table[i].layer, parts);
        if (!n) status = t2g_fail(err, T2G_ERR_UNSUPPORTED, "t2g tensor %s has no GGUF counterpart", table[i].name);
        float *dst = params + table[i].offset;
        for (uint32_t k = 0; k < n && !status; k++) {
            status = read_part(file, &parts[k], hs, dst, used, err);
            dst += gguf_part_floats(&parts[k]);
        }
        if (strcmp(table[i].name, "wte") == 0) wte = params + table[i].offset;
    }
    if (!status && wte) status = check_tied_output(file, model, wte, used, err);
    for (uint64_t i = 0; i < tensors && !status; i++)
        if (!used[i])
            status = t2g_fail(err, T2G_ERR_UNSUPPORTED, "%s: tensor %s is not part of a %s model as t2g builds it",
                              t2g_gguf_path(file), t2g_gguf_tensor_at(file, i)->name, a->name);
    free(used);
    return status;
}
