/* t2g_gguf_write_model (t2g/gguf_export.h) on the tiny golden Hugging Face models (tests/golden/hf/
 * llama, qwen2, gpt2): each is written as a GGUF file with t2g's byte tokenizer, then read back
 * with t2g_gguf_read_config, t2g_gguf_read_weights and t2g_gguf_tokenizer_files. At f32 the config
 * must be the folder's and every parameter bit-identical; at f16 and bf16 every parameter is its
 * rounding to that type or (1-D tensors, kept f32) itself; at q8_0 within half a quantization step
 * (the scale max|block| / 127 as f16) and 127 times the scale's f16 rounding. The Llama file's q/k rows are checked interleaved by the converter's
 * rule against the folder's (the round trip alone cannot tell a permutation from none). */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "check.h"
#include "model_checks.h"
#include "t2g/dtype.h"
#include "t2g/gguf_export.h"
#include "t2g/gguf_model.h"
#include "t2g/gguf_tokenizer.h"
#include "t2g/hf.h"
#include "t2g/text.h"

/* Whether `back` is what `dtype` makes of `value` (1-D tensors: kept f32; q8_0: at most half a
 * step of the block's scale, the block's max |x| given). */
static bool stored_as(t2g_gguf_write_type dtype, float value, float back, float block_max) {
    if (back == value) return true;
    switch (dtype) {
    case T2G_GGUF_WRITE_F16: return back == t2g_f16_to_f32(t2g_f32_to_f16(value));
    case T2G_GGUF_WRITE_BF16: return back == t2g_bf16_to_f32(t2g_f32_to_bf16(value));
    case T2G_GGUF_WRITE_Q8_0: { /* q = round(x / d), then q d16: half a step and 127 times d's f16 rounding */
        float d = block_max / 127.0f, d16 = t2g_f16_to_f32(t2g_f32_to_f16(d));
        return fabsf(back - value) <= 0.5f * d16 + 127.0f * fabsf(d - d16) + 1e-7f * block_max;
    }
    default: return false;
    }
}

/* The largest |x| of the q8_0 block (32 elements of a row) holding element i of a tensor. */
static float block_max(const float *x, uint64_t i) {
    uint64_t start = i / 32 * 32;
    float m = 0;
    for (uint64_t k = start; k < start + 32; k++) m = fmaxf(m, fabsf(x[k]));
    return m;
}

/* Llama's q rows of block 0 in the file: stored row s of a head is the folder's row
 * (s % 2) hs/2 + s / 2 of that head, written out here from the converter's rule. */
static bool q_interleaved(const t2g_gguf *file, const t2g_model_config *m, const float *qkvw) {
    uint64_t index, C = m->width, hs = m->width / m->heads;
    const t2g_gguf_tensor *t = t2g_gguf_tensor_find(file, "blk.0.attn_q.weight", &index);
    if (!t || t->elements != (uint64_t)m->heads * hs * C) return false;
    float *stored = malloc(t->elements * sizeof *stored);
    t2g_error err = {0};
    bool same = stored && !t2g_gguf_tensor_read_f32(file, index, stored, t->elements, &err);
    for (uint64_t s = 0; same && s < m->heads * hs; s++) {
        uint64_t h = s / hs, r = s % hs, row = h * hs + (r % 2) * (hs / 2) + r / 2;
        same = memcmp(stored + s * C, qkvw + row * C, C * sizeof *stored) == 0;
    }
    free(stored);
    return same;
}

static void export_case(check_ctx *ctx, const char *folder, t2g_gguf_write_type dtype) {
    check_case_begin(ctx);
    char dir[4200], path[256];
    snprintf(dir, sizeof dir, "%s/tests/golden/hf/%s", check_source_dir(), folder);
    snprintf(path, sizeof path, "/tmp/t2g-gguf-export-%d.gguf", (int)getpid());
    const char *type = t2g_gguf_write_type_name(dtype);
    t2g_model_config model, back;
    t2g_gpt *gpt = NULL;
    t2g_text *text = NULL;
    if (!check_status(ctx, t2g_hf_read_config(dir, 0, &model, &ctx->err), dir) ||
        !check_status(ctx, t2g_text_bytes(&text, &ctx->err), "the byte tokenizer") ||
        !check_status(ctx, t2g_gpt_create_frozen(ctx->device, &model, 1, model.context, &gpt, &ctx->err), "model")) {
        t2g_text_free(text);
        return;
    }
    const t2g_gpt_param *table;
    uint32_t count = t2g_gpt_params(gpt, &table);
    uint64_t floats = t2g_gpt_buffer_floats(gpt);
    float *params = check_host(ctx, floats * sizeof *params), *read = check_host(ctx, floats * sizeof *read);
    t2g_gguf *file = NULL;
    char *tokenizer = NULL, *config = NULL;
    if (check_status(ctx, t2g_hf_read_weights(dir, &model, table, count, params, &ctx->err), dir) &&
        check_status(ctx, t2g_gguf_write_model(path, &model, table, count, params, text, dtype, &ctx->err), path) &&
        check_status(ctx, t2g_gguf_open(path, &file, &ctx->err), path) &&
        check_status(ctx, t2g_gguf_read_config(file, 0, &back, &ctx->err), path) &&
        check_status(ctx, t2g_gguf_read_weights(file, &back, table, count, read, &ctx->err), path) &&
        check_status(ctx, t2g_gguf_tokenizer_files(file, &tokenizer, &config, &ctx->err), path)) {
        check_true(ctx, check_same_model_config(&model, &back), "%s %s: the folder's config read back", folder, type);
        if (dtype == T2G_GGUF_WRITE_F32)
            check_true(ctx, memcmp(params, read, floats * sizeof *read) == 0,
                       "%s f32: every parameter bit-identical to the folder's (%u tensors)", folder, count);
        uint64_t wrong = 0;
        for (uint32_t i = 0; i < count; i++)
            for (uint64_t k = 0; k < (uint64_t)table[i].rows * table[i].cols; k++) {
                const float *x = params + table[i].offset;
                bool q8 = dtype == T2G_GGUF_WRITE_Q8_0 && table[i].rows > 1 && table[i].cols % 32 == 0;
                wrong += !stored_as(dtype, x[k], read[table[i].offset + k], q8 ? block_max(x, k) : 0);
            }
        check_true(ctx, wrong == 0, "%s %s: every parameter read back as %s stores it (%llu not)", folder, type, type,
                   (unsigned long long)wrong);
        if (model.arch == T2G_ARCH_LLAMA && !model.qkv_bias && dtype == T2G_GGUF_WRITE_F32) {
            uint32_t q;
            for (q = 0; q < count && strcmp(table[q].name, "qkvw") != 0; q++) {}
            check_true(ctx, q < count && q_interleaved(file, &model, params + table[q].offset),
                       "%s: blk.0.attn_q.weight's rows interleaved per head as llama.cpp's converter stores them", folder);
        }
        check_true(ctx, strstr(tokenizer, "\"<|eos|>\"") != NULL, "%s %s: the byte tokenizer read back", folder, type);
    }
    free(tokenizer), free(config);
    t2g_gguf_close(file);
    unlink(path);
    t2g_text_free(text);
    t2g_gpt_destroy(gpt);
}

T2G_CHECK(gguf_export) {
    const char *folders[] = {"llama", "qwen2", "gpt2"};
    const t2g_gguf_write_type types[] = {T2G_GGUF_WRITE_F32, T2G_GGUF_WRITE_F16, T2G_GGUF_WRITE_BF16,
                                         T2G_GGUF_WRITE_Q8_0};
    for (size_t f = 0; f < 3; f++)
        for (size_t t = 0; t < 4; t++) export_case(ctx, folders[f], types[t]);
    return ctx->failures;
}
