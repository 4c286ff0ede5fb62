/* What the whole-model checks share (model_checks.h). */
#include "model_checks.h"

double *check_expected(check_ctx *ctx, t2g_safetensors *file, const char *name, uint64_t *count) {
    const t2g_safetensors_tensor *t = t2g_safetensors_find(file, name);
    if (!check_expect(ctx, t != NULL, "%s holds no %s", t2g_safetensors_path(file), name)) return NULL;
    double *x = check_host(ctx, (t->elements ? t->elements : 1) * sizeof *x);
    if (!check_status(ctx, t2g_safetensors_read_f64(file, t, x, t->elements, &ctx->err), name)) return NULL;
    *count = t->elements;
    return x;
}

bool check_same_model_config(const t2g_model_config *a, const t2g_model_config *b) {
    return a->arch == b->arch && a->vocab == b->vocab && a->context == b->context && a->layers == b->layers &&
           a->heads == b->heads && a->width == b->width && a->kv_heads == b->kv_heads && a->ffn_width == b->ffn_width &&
           (float)a->rope_theta == (float)b->rope_theta && (float)a->norm_eps == (float)b->norm_eps &&
           a->qkv_bias == b->qkv_bias && a->tied_head == b->tied_head;
}

bool check_greedy(check_ctx *ctx, const char *label, t2g_gpt *gpt, const t2g_text *text, const uint32_t *ids,
                  uint32_t P, const double *greedy, const double *margin, uint32_t steps, double min_margin,
                  t2g_generation *out) {
    t2g_generator *generator = NULL;
    if (!check_status(ctx, t2g_generator_create(gpt, 1, &generator, &ctx->err), "generator")) return false;
    t2g_sampling s = t2g_sampling_default();
    if (text) t2g_text_sampling(text, &s);
    s.temperature = 0.0f;
    s.max_new_tokens = steps;
    s.stop_at_eos = false;
    const uint32_t *prompts[] = {ids};
    bool ran = check_status(ctx, t2g_generate(generator, prompts, &P, 1, &s, out, &ctx->err), "generate");
    t2g_generator_destroy(generator);
    if (!ran) return false;
    uint32_t compared = 0;
    for (uint32_t k = 0; k < steps && k < out->lengths[0] && margin[k] > min_margin; k++, compared++)
        check_expect(ctx, out->tokens[k] == (uint32_t)greedy[P + k], "%s greedy token %u: t2g %u, the reference %u",
                     label, k, out->tokens[k], (uint32_t)greedy[P + k]);
    check_log(ctx, "  %-52s %u of %u tokens compared (margin > %g)", label, compared, steps, min_margin);
    check_true(ctx, compared > 0, "%s: some greedy token is compared", label);
    return true;
}
