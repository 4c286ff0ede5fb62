/* The real model against a reference implementation (label `model`; run by the scripts in
 * tests/model/, which write what transformers or llama.cpp computed to $T2G_MODEL_EXPECTED): SmolLM2-135M-Instruct
 * ($T2G_MODEL_GGUF: its GGUF, or an export of it, any model path) loaded by t2g with its own
 * tokenizer and chat template must give the same
 * prompt ids for "What is the capital of France?", logits within 1e-3 of the reference's at every
 * prompt position (float32 on both sides; the weights are the same dequantized Q4_1 values), the
 * same greedy tokens while the reference's top-2 margin exceeds 1e-3, and an answer naming Paris.
 * Registered only where the model and the reference are (never in the default suite). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "check.h"
#include "model_checks.h"
#include "t2g/safetensors.h"
#include "t2g/train.h"

#define QUESTION "What is the capital of France?"
#define TOLERANCE 1e-3
#define MARGIN 1e-3
#define CONTEXT 128u /* enough for the prompt and 32 new tokens; keeps the KV cache small */

/* The prompt's ids from t2g's own tokenizer and chat template, equal to the reference's. */
static bool same_prompt(check_ctx *ctx, const t2g_text *text, const double *want, uint64_t n, uint32_t **ids) {
    size_t count = 0;
    if (!check_status(ctx, t2g_text_prompt(text, QUESTION, strlen(QUESTION), false, ids, &count, &ctx->err), "prompt"))
        return false;
    bool same = count == n;
    for (size_t i = 0; same && i < count; i++) same = (*ids)[i] == (uint32_t)want[i];
    return check_true(ctx, same, "the chat prompt's %zu ids are the reference's (%llu)", count, (unsigned long long)n);
}

static void check_logits(check_ctx *ctx, t2g_gpt *gpt, const uint32_t *ids, uint32_t P, const double *want, uint32_t V) {
    t2g_tensor input = check_upload(ctx, ids, P);
    if (!check_status(ctx, t2g_gpt_forward(gpt, ctx->recorder, input, 1, P, &ctx->err), "forward") || !check_submit(ctx))
        return;
    float *logits = check_download(ctx, t2g_gpt_logits(gpt), (size_t)P * V);
    check_close(ctx, "SmolLM2 logits at the last prompt position", logits + (size_t)(P - 1) * V,
                want + (size_t)(P - 1) * V, V, TOLERANCE);
    check_close(ctx, "SmolLM2 logits at every prompt position", logits, want, (size_t)P * V, TOLERANCE);
}

static void check_answer(check_ctx *ctx, t2g_gpt *gpt, const t2g_text *text, const uint32_t *ids, uint32_t P,
                         const double *greedy, const double *margin, uint32_t steps) {
    t2g_generation out = {0};
    if (check_greedy(ctx, "SmolLM2", gpt, text, ids, P, greedy, margin, steps, MARGIN, &out)) {
        char *answer = NULL;
        size_t len = 0;
        if (check_status(ctx, t2g_text_decode(text, out.tokens, out.lengths[0], true, &answer, &len, &ctx->err), "decode")) {
            check_log(ctx, "  t2g's answer: %s", answer);
            check_true(ctx, strstr(answer, "Paris") != NULL, "t2g's greedy answer names Paris");
        }
        free(answer);
    }
    t2g_generation_free(&out);
}

T2G_CHECK(model_gguf_oracle) {
    check_case_begin(ctx);
    const char *model = getenv("T2G_MODEL_GGUF"), *path = getenv("T2G_MODEL_EXPECTED");
    if (!check_true(ctx, model && path, "T2G_MODEL_GGUF and T2G_MODEL_EXPECTED are set (the scripts in tests/model/ set "
                                        "them)"))
        return ctx->failures;
    t2g_safetensors *file = NULL;
    uint64_t P = 0, N = 0, G = 0, M = 0;
    if (!check_status(ctx, t2g_safetensors_open(path, &file, &ctx->err), path)) return ctx->failures;
    const double *prompt = check_expected(ctx, file, "prompt", &P), *logits = check_expected(ctx, file, "logits", &N);
    const double *greedy = check_expected(ctx, file, "greedy", &G), *margin = check_expected(ctx, file, "greedy_margin", &M);
    t2g_gpt *gpt = NULL;
    t2g_text *text = NULL;
    t2g_config config;
    char chosen[512];
    if (prompt && logits && greedy && margin &&
        check_status(ctx, t2g_model_load_frozen_text(ctx->device, model, CONTEXT, 1, (uint32_t)P, &gpt, &config, &text,
                                                     chosen, sizeof chosen, &ctx->err),
                     model)) {
        check_log(ctx, "  %s", chosen);
        uint32_t V = config.model.vocab, *ids = NULL;
        if (check_true(ctx, N == P * V, "logits for %llu positions of %u", (unsigned long long)P, V) &&
            same_prompt(ctx, text, prompt, P, &ids)) {
            check_logits(ctx, gpt, ids, (uint32_t)P, logits, V);
            check_answer(ctx, gpt, text, ids, (uint32_t)P, greedy, margin, (uint32_t)M);
        }
        free(ids);
    }
    t2g_text_free(text);
    t2g_gpt_destroy(gpt);
    t2g_safetensors_close(file);
    return ctx->failures;
}
