/* GGUF models (t2g/gguf_model.h) from the tiny golden Hugging Face models (tests/golden/hf/,
 * whose logits, loss and gradients hf_golden checks against transformers): each is written as
 * llama.cpp's converter writes it, with this test's own writer code (names blk.L.*, q/k rows of
 * Llama interleaved per head as the converter's permute does, Qwen2's left as they are, gate and
 * up apart, an untied head as output.weight), then read back with t2g_gguf_read_config and
 * t2g_gguf_read_weights: the model config must be the folder's and every parameter bit-identical
 * to what t2g_hf_read_weights read. Then the refusals: another architecture, rope scaling, a
 * tensor too many, one missing (the last: output_norm), one misshapen. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "check.h"
#include "model_checks.h"
#include "t2g/gguf_model.h"
#include "t2g/gguf_write.h"
#include "t2g/hf.h"

/* What the test file holds besides a sound model: the ways it goes wrong. */
typedef enum damage { SOUND, OTHER_ARCH, ROPE_SCALING, EXTRA_TENSOR, MISSING_TENSOR, BAD_SHAPE } damage;

/* Row r of a llama.cpp-permuted block: within each head of hs rows, stored row 2j + i is row
 * i hs/2 + j (the converter's reshape(heads, 2, hs/2, cols).swapaxes(1, 2)). */
static void permute_rows(const float *rows_in, float *rows_out, uint64_t rows, uint64_t cols, uint64_t hs) {
    for (uint64_t s = 0; s < rows; s++) {
        uint64_t h = s / hs, r = s % hs, i = r % 2, j = r / 2;
        memcpy(rows_out + s * cols, rows_in + (h * hs + i * (hs / 2) + j) * cols, cols * sizeof *rows_out);
    }
}

typedef struct out_tensor {
    char name[64];
    uint64_t rows, cols;       /* cols = dims[0]; rows 1 and one dim for a vector */
    const float *data;
    float *owned;              /* a permuted copy */
} out_tensor;

static void add(out_tensor *list, uint32_t *n, const char *format, int layer, uint64_t rows, uint64_t cols,
                const float *data) {
    out_tensor *t = &list[(*n)++];
    memset(t, 0, sizeof *t);
    snprintf(t->name, sizeof t->name, format, layer);
    t->rows = rows, t->cols = cols, t->data = data;
}

/* The tensors of the model in GGUF names and layout, from t2g's table. */
static uint32_t gguf_tensors(const t2g_model_config *m, bool llama_permute, const t2g_gpt_param *table, uint32_t count,
                             const float *params, out_tensor *list) {
    uint64_t C = m->width, F = m->ffn_width ? m->ffn_width : 4 * C, hs = C / m->heads;
    uint64_t NH = m->heads, KVH = m->kv_heads ? m->kv_heads : NH;
    uint32_t n = 0;
    for (uint32_t i = 0; i < count; i++) {
        const t2g_gpt_param *p = &table[i];
        const float *x = params + p->offset;
        int l = p->layer;
        const char *name = p->name;
        if (!strcmp(name, "wte")) add(list, &n, "token_embd.weight", l, p->rows, p->cols, x);
        else if (!strcmp(name, "wpe")) add(list, &n, "position_embd.weight", l, p->rows, p->cols, x);
        else if (!strcmp(name, "head")) add(list, &n, "output.weight", l, p->rows, p->cols, x);
        else if (!strcmp(name, "lnfw")) add(list, &n, "output_norm.weight", l, 1, C, x);
        else if (!strcmp(name, "lnfb")) add(list, &n, "output_norm.bias", l, 1, C, x);
        else if (!strcmp(name, "ln1w")) add(list, &n, "blk.%d.attn_norm.weight", l, 1, C, x);
        else if (!strcmp(name, "ln1b")) add(list, &n, "blk.%d.attn_norm.bias", l, 1, C, x);
        else if (!strcmp(name, "ln2w")) add(list, &n, "blk.%d.ffn_norm.weight", l, 1, C, x);
        else if (!strcmp(name, "ln2b")) add(list, &n, "blk.%d.ffn_norm.bias", l, 1, C, x);
        else if (!strcmp(name, "attprojw")) add(list, &n, "blk.%d.attn_output.weight", l, C, C, x);
        else if (!strcmp(name, "attprojb")) add(list, &n, "blk.%d.attn_output.bias", l, 1, C, x);
        else if (!strcmp(name, "fcprojw")) add(list, &n, "blk.%d.ffn_down.weight", l, C, F, x);
        else if (!strcmp(name, "fcprojb")) add(list, &n, "blk.%d.ffn_down.bias", l, 1, C, x);
        else if (m->arch == T2G_ARCH_GPT2 && !strcmp(name, "qkvw")) add(list, &n, "blk.%d.attn_qkv.weight", l, 3 * C, C, x);
        else if (m->arch == T2G_ARCH_GPT2 && !strcmp(name, "qkvb")) add(list, &n, "blk.%d.attn_qkv.bias", l, 1, 3 * C, x);
        else if (m->arch == T2G_ARCH_GPT2 && !strcmp(name, "fcw")) add(list, &n, "blk.%d.ffn_up.weight", l, F, C, x);
        else if (m->arch == T2G_ARCH_GPT2 && !strcmp(name, "fcb")) add(list, &n, "blk.%d.ffn_up.bias", l, 1, F, x);
        else if (!strcmp(name, "fcw")) {
            add(list, &n, "blk.%d.ffn_gate.weight", l, F, C, x);
            add(list, &n, "blk.%d.ffn_up.weight", l, F, C, x + F * C);
        } else if (!strcmp(name, "qkvw") || !strcmp(name, "qkvb")) {
            bool w = name[3] == 'w';
            uint64_t cols = w ? C : 1, q = NH * hs, k = KVH * hs;
            const char *fmt[3] = {w ? "blk.%d.attn_q.weight" : "blk.%d.attn_q.bias",
                                  w ? "blk.%d.attn_k.weight" : "blk.%d.attn_k.bias",
                                  w ? "blk.%d.attn_v.weight" : "blk.%d.attn_v.bias"};
            uint64_t rows[3] = {q, k, k}, at = 0;
            for (int j = 0; j < 3; j++) {
                out_tensor *t = &list[n];
                add(list, &n, fmt[j], l, w ? rows[j] : 1, w ? C : rows[j], x + at * cols);
                if (llama_permute && j < 2) {
                    t->owned = malloc(rows[j] * cols * sizeof *t->owned);
                    permute_rows(x + at * cols, t->owned, rows[j], cols, hs);
                    t->data = t->owned;
                }
                at += rows[j];
            }
        }
    }
    return n;
}

static bool write_gguf(check_ctx *ctx, const char *path, const char *arch, const t2g_model_config *m,
                       const out_tensor *list, uint32_t n, damage d) {
    t2g_gguf_writer *w = NULL;
    t2g_error *e = &ctx->err;
    char key[96];
    t2g_status s = t2g_gguf_writer_new(path, &w, e);
    if (!s) s = t2g_gguf_add_string(w, "general.architecture", d == OTHER_ARCH ? "mamba" : arch, e);
#define KEY(k) (snprintf(key, sizeof key, "%s.%s", arch, k), key)
    if (!s) s = t2g_gguf_add_u32(w, KEY("embedding_length"), m->width, e);
    if (!s) s = t2g_gguf_add_u32(w, KEY("block_count"), m->layers, e);
    if (!s) s = t2g_gguf_add_u32(w, KEY("attention.head_count"), m->heads, e);
    if (!s) s = t2g_gguf_add_u32(w, KEY("attention.head_count_kv"), m->kv_heads ? m->kv_heads : m->heads, e);
    if (!s) s = t2g_gguf_add_u32(w, KEY("feed_forward_length"), m->ffn_width ? m->ffn_width : 4 * m->width, e);
    if (!s) s = t2g_gguf_add_u32(w, KEY("context_length"), m->context, e);
    if (!s) s = t2g_gguf_add_f32(w, KEY(m->arch == T2G_ARCH_GPT2 ? "attention.layer_norm_epsilon"
                                                                 : "attention.layer_norm_rms_epsilon"), (float)m->norm_eps, e);
    if (!s) s = t2g_gguf_add_f32(w, KEY("rope.freq_base"), (float)m->rope_theta, e);
    if (!s && d == ROPE_SCALING) s = t2g_gguf_add_string(w, KEY("rope.scaling.type"), "linear", e);
#undef KEY
    uint32_t declared = d == MISSING_TENSOR ? n - 1 : n;
    for (uint32_t i = 0; i < declared && !s; i++) {
        uint64_t dims[2] = {list[i].cols, list[i].rows};
        if (d == BAD_SHAPE && i == 1) dims[0]++;
        s = t2g_gguf_add_tensor(w, list[i].name, T2G_GGUF_WRITE_F32, list[i].rows == 1 ? 1 : 2, dims, e);
    }
    uint64_t one = 1;
    if (!s && d == EXTRA_TENSOR) s = t2g_gguf_add_tensor(w, "blk.0.mystery.weight", T2G_GGUF_WRITE_F32, 1, &one, e);
    for (uint32_t i = 0; i < declared && !s; i++) {
        s = t2g_gguf_write_data(w, list[i].data, list[i].rows * list[i].cols, e);
        if (!s && d == BAD_SHAPE && i == 1) s = t2g_gguf_write_data(w, list[i].data, list[i].rows, e);
    }
    float zero = 0;
    if (!s && d == EXTRA_TENSOR) s = t2g_gguf_write_data(w, &zero, 1, e);
    if (!s) s = t2g_gguf_writer_finish(w, e);
    t2g_gguf_writer_free(w);
    return check_status(ctx, s, "writing the test GGUF");
}

/* One golden folder written as GGUF (with damage d) and read back; for SOUND, the weights must
 * be bit-identical; otherwise the error must contain `expect`. */
static void golden_case(check_ctx *ctx, const char *folder, const char *arch, bool permute, damage d,
                        const char *expect) {
    check_case_begin(ctx);
    char dir[4200], path[256];
    snprintf(dir, sizeof dir, "%s/tests/golden/hf/%s", check_source_dir(), folder);
    snprintf(path, sizeof path, "/tmp/t2g-gguf-model-%d.gguf", (int)getpid());
    t2g_model_config model, back;
    t2g_gpt *gpt = NULL;
    if (!check_status(ctx, t2g_hf_read_config(dir, 0, &model, &ctx->err), dir) ||
        !check_status(ctx, t2g_gpt_create_frozen(ctx->device, &model, 1, model.context, &gpt, &ctx->err), "model"))
        return;
    const t2g_gpt_param *table;
    uint32_t count = t2g_gpt_params(gpt, &table);
    uint64_t floats = t2g_gpt_buffer_floats(gpt);
    float *params = check_host(ctx, floats * sizeof *params), *read = check_host(ctx, floats * sizeof *read);
    out_tensor list[256];
    uint32_t n = 0;
    if (check_status(ctx, t2g_hf_read_weights(dir, &model, table, count, params, &ctx->err), dir)) {
        n = gguf_tensors(&model, permute, table, count, params, list);
        t2g_gguf *file = NULL;
        t2g_error err = {0};
        t2g_status status = T2G_ERR_IO;
        if (write_gguf(ctx, path, arch, &model, list, n, d) && check_status(ctx, t2g_gguf_open(path, &file, &ctx->err), path)) {
            status = t2g_gguf_read_config(file, 0, &back, &err);
            if (!status) status = t2g_gguf_read_weights(file, &back, table, count, read, &err);
        }
        if (d == SOUND) {
            check_true(ctx, status == T2G_OK, "%s as GGUF: read (%s)", folder, err.message);
            check_true(ctx, !status && check_same_model_config(&model, &back), "%s as GGUF: the folder's config", folder);
            check_true(ctx, !status && memcmp(params, read, floats * sizeof *read) == 0,
                       "%s as GGUF: every parameter bit-identical to the folder's (%u tensors, q/k %s)", folder, n,
                       permute ? "interleaved" : "as stored");
        } else {
            check_true(ctx, status != T2G_OK && strstr(err.message, expect) && strstr(err.message, path),
                       "%s as GGUF, damaged: refused naming the file and \"%s\" (%s)", folder, expect, err.message);
        }
        t2g_gguf_close(file);
    }
    for (uint32_t i = 0; i < n; i++) free(list[i].owned);
    unlink(path);
    t2g_gpt_destroy(gpt);
}

T2G_CHECK(gguf_model) {
    golden_case(ctx, "llama", "llama", true, SOUND, NULL);
    golden_case(ctx, "qwen2", "qwen2", false, SOUND, NULL);
    golden_case(ctx, "gpt2", "gpt2", false, SOUND, NULL);
    golden_case(ctx, "llama", "llama", true, OTHER_ARCH, "\"mamba\" is not one t2g runs (llama, qwen2, gpt2)");
    golden_case(ctx, "llama", "llama", true, ROPE_SCALING, "rope scaling");
    golden_case(ctx, "qwen2", "qwen2", false, EXTRA_TENSOR, "blk.0.mystery.weight is not part of");
    golden_case(ctx, "llama", "llama", true, MISSING_TENSOR, "no tensor output_norm.weight");
    golden_case(ctx, "gpt2", "gpt2", false, BAD_SHAPE, "position_embd.weight has 2 dims");
    return ctx->failures;
}
