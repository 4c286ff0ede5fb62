/* train.precision bf16 and f16 (t2g/gpt.h) at model level: the same parameters and batch through
 * a 16-bit model and an f32 one (which check_gpt.c holds to the double reference within 1e-4,
 * far below the bounds here), for a gpt2 and a llama model, and the generator's logits over
 * the same tokens (it reads the model's 16-bit weights and keeps a 16-bit KV cache); the memory
 * a 16-bit model plans; and a short SFT on the arith task whose 16-bit losses must track the
 * f32 ones.
 *
 * The bounds come from the formats' unit roundoff u (bf16: 8 significant bits, u = 2^-8; f16:
 * 11, u = 2^-11). Every matmul of the 16-bit model reads two rounded operands, so each of its
 * products is off by at most 2u relative; the logits pass through five matmuls per block path
 * (qkv, the attention's output projection, the MLP's two, and the head), so the logits' error
 * stays within 10u per block in the worst case of aligned errors. Random rounding errors mostly
 * cancel: measured errors are reported by the check and sit far below. The gradients run the
 * chain twice over; they get twice the bound. A model that read stale 16-bit weights, the wrong
 * variant or an f32 buffer as 16-bit would be off by O(1). */
#include <math.h>
#include <string.h>

#include "check.h"
#include "nn/generate_internal.h"
#include "t2g/generate.h"
#include "t2g/gpt.h"
#include "t2g/train.h"

enum { B = 3, T = 7 };

static t2g_model_config tiny_gpt2(void) { return (t2g_model_config)T2G_MODEL_GPT2(259, 11, 2, 3, 36); }

static double unit_roundoff(t2g_precision p) { return p == T2G_PRECISION_BF16 ? 0x1p-8 : 0x1p-11; }

/* ||a - b|| / ||b|| over n floats. */
static double relative_error(const float *a, const float *b, size_t n) {
    double diff = 0, norm = 0;
    for (size_t i = 0; i < n; i++) {
        double d = (double)a[i] - b[i];
        diff += d * d;
        norm += (double)b[i] * b[i];
    }
    return sqrt(diff) / (norm > 0 ? sqrt(norm) : 1);
}

typedef struct pass_result {
    float *logits, *grads;
    float *generated; /* (B, T, V): the generator's logits over the same tokens (keep_logits) */
    float loss;
} pass_result;

/* The generator's logits over B prompts of the T tokens each (positions 0..T-1, as the forward's).
 * Its KV cache is stored in the model's precision: 16-bit for a bf16 or f16 model. */
static float *generated_logits(check_ctx *ctx, t2g_gpt *gpt, const uint32_t *tokens, uint32_t V) {
    t2g_generator *gen;
    if (!check_status(ctx, t2g_generator_create(gpt, B, &gen, &ctx->err), "creating a generator")) return NULL;
    t2g_precision precision = t2g_gpt_precision(gpt);
    t2g_dtype want = precision == T2G_PRECISION_BF16 ? T2G_DTYPE_BF16
                     : precision == T2G_PRECISION_F16 ? T2G_DTYPE_F16
                                                      : T2G_DTYPE_F32;
    check_true(ctx, gen_cache_dtype(gen) == want, "a %s model's generator keeps its KV cache in %s (it holds %s)",
               t2g_precision_name(precision), t2g_dtype_name(want), t2g_dtype_name(gen_cache_dtype(gen)));
    const uint32_t *prompts[B];
    uint32_t lengths[B];
    for (int b = 0; b < B; b++) {
        prompts[b] = tokens + (size_t)b * T;
        lengths[b] = T;
    }
    t2g_sampling s = t2g_sampling_default();
    s.temperature = 0;
    s.max_new_tokens = 1;
    s.keep_logits = true;
    t2g_generation g;
    float *logits = NULL;
    if (check_status(ctx, t2g_generate(gen, prompts, lengths, B, &s, &g, &ctx->err), "generating") &&
        check_true(ctx, g.steps == T, "generation over prompts of %d tokens: %u positions", T, g.steps)) {
        logits = check_host(ctx, (size_t)B * T * V * sizeof *logits);
        memcpy(logits, g.logits, (size_t)B * T * V * sizeof *logits);
    }
    if (g.logits) t2g_generation_free(&g);
    t2g_generator_destroy(gen);
    return logits;
}

/* One forward and backward of `batch` through a model of `config` at `precision` holding `params`. */
static pass_result run_pass(check_ctx *ctx, t2g_model_config config, t2g_precision precision, const float *params,
                            const t2g_tensor batch[3], const uint32_t *tokens, double dloss) {
    pass_result r = {0};
    config.precision = precision;
    t2g_gpt *gpt;
    if (!check_status(ctx, t2g_gpt_create(ctx->device, &config, B, T, &gpt, &ctx->err), "creating the GPT")) return r;
    uint64_t n = t2g_gpt_buffer_floats(gpt);
    t2g_tensor sum = check_poisoned(ctx, 1);
    check_status(ctx, t2g_gpt_write(gpt, params, NULL, NULL, &ctx->err), "writing the parameters");
    check_status(ctx, t2g_gpt_zero_grads(gpt, ctx->recorder, &ctx->err), "zero grads");
    check_status(ctx, t2g_gpt_forward(gpt, ctx->recorder, batch[0], B, T, &ctx->err), "forward");
    check_submit(ctx);
    r.logits = check_download(ctx, t2g_gpt_logits(gpt), (size_t)B * T * config.vocab);
    check_status(ctx, t2g_gpt_backward(gpt, ctx->recorder, batch[1], batch[2], B, T, (float)dloss, &ctx->err), "backward");
    check_status(ctx, t2g_gpt_loss_sum(gpt, ctx->recorder, sum, batch[2], B, T, &ctx->err), "loss sum");
    check_submit(ctx);
    r.loss = (float)(check_download(ctx, sum, 1)[0] * dloss);
    r.grads = check_host(ctx, n * sizeof(float));
    check_status(ctx, t2g_gpt_read_grads(gpt, r.grads, &ctx->err), "reading the gradients");
    r.generated = generated_logits(ctx, gpt, tokens, config.vocab);
    t2g_gpt_destroy(gpt);
    return r;
}

static void model_case(check_ctx *ctx, const char *name, t2g_model_config config) {
    check_case_begin(ctx);
    t2g_gpt *gpt;
    if (!check_status(ctx, t2g_gpt_create(ctx->device, &config, B, T, &gpt, &ctx->err), "creating the GPT")) return;
    uint64_t n = t2g_gpt_buffer_floats(gpt);
    float *params = check_host(ctx, n * sizeof(float));
    check_status(ctx, t2g_gpt_init(gpt, ctx->seed, &ctx->err), "initialising");
    check_status(ctx, t2g_gpt_read(gpt, params, NULL, NULL, &ctx->err), "reading the parameters");
    t2g_gpt_destroy(gpt);
    for (uint64_t i = 0; i < n; i++) params[i] += params[i] != 0.0f ? (float)check_uniform(ctx, -0.05, 0.05) : 0.0f;

    uint32_t *tokens = check_random_tokens(ctx, B * T, config.vocab), *targets = check_random_tokens(ctx, B * T, config.vocab);
    float weights[B * T];
    for (int i = 0; i < B * T; i++) weights[i] = 1.0f;
    const t2g_tensor batch[3] = {check_upload(ctx, tokens, B * T), check_upload(ctx, targets, B * T),
                                 check_upload(ctx, weights, B * T)};
    const double dloss = 1.0 / (B * T);
    pass_result f32 = run_pass(ctx, config, T2G_PRECISION_F32, params, batch, tokens, dloss);
    const t2g_precision formats[] = {T2G_PRECISION_BF16, T2G_PRECISION_F16};
    for (int f = 0; f < 2 && f32.logits; f++) {
        pass_result half = run_pass(ctx, config, formats[f], params, batch, tokens, dloss);
        if (!half.logits || !half.generated) continue;
        double u = unit_roundoff(formats[f]), L = config.layers;
        double logits = relative_error(half.logits, f32.logits, (size_t)B * T * config.vocab);
        double grads = relative_error(half.grads, f32.grads, n);
        double loss = fabs((double)half.loss - f32.loss) / f32.loss;
        const char *format = t2g_precision_name(formats[f]);
        check_log(ctx, "  %s %s: logits %.2e (%.2f u), gradients %.2e (%.2f u), loss %.2e, against f32", name, format,
                  logits, logits / u, grads, grads / u, loss);
        check_true(ctx, logits <= 10 * L * u, "%s %s: logits within 10 u per block of f32's (%.2e, bound %.2e)", name,
                   format, logits, 10 * L * u);
        check_true(ctx, grads <= 20 * L * u, "%s %s: gradients within 20 u per block of f32's (%.2e, bound %.2e)", name,
                   format, grads, 20 * L * u);
        check_true(ctx, loss <= 10 * L * u, "%s %s: loss within 10 u per block of f32's (%.2e)", name, format, loss);
        /* tensor by tensor too: a wrong activation in one block (its MLP input kept or widened
         * from another block's) hides in the whole buffer's norm, not in its own tensors' */
        t2g_gpt *shape;
        double worst = 0;
        char worst_name[64] = "";
        if (check_status(ctx, t2g_gpt_create(ctx->device, &config, B, T, &shape, &ctx->err), "the parameter table")) {
            const t2g_gpt_param *table;
            uint32_t count = t2g_gpt_params(shape, &table);
            for (uint32_t i = 0; i < count; i++) {
                size_t size = (size_t)table[i].rows * table[i].cols;
                double e = relative_error(half.grads + table[i].offset, f32.grads + table[i].offset, size);
                if (e > worst) {
                    worst = e;
                    snprintf(worst_name, sizeof worst_name, "%s of block %d", table[i].name, table[i].layer);
                }
            }
            t2g_gpt_destroy(shape);
        }
        check_true(ctx, worst <= 20 * L * u, "%s %s: every tensor's gradient within 20 u per block of f32's (the "
                   "farthest, %s: %.2e = %.2f u)", name, format, worst_name, worst, worst / u);
        /* and not trivially equal: a "16-bit" model that stored f32 would pass the bounds above */
        check_true(ctx, logits > 0.01 * u, "%s %s: the logits differ from f32's (%.2e): 16-bit storage is in use", name,
                   format, logits);
        /* generation: its matmuls read the 16-bit weights (its activations stay f32: one rounded
         * operand, u per product, 5 u per block) and its attention the 16-bit KV cache (k and v
         * rounded once each), so its logits are within the forward's bound of f32's, and not f32's */
        double generated = relative_error(half.generated, f32.logits, (size_t)B * T * config.vocab);
        check_log(ctx, "  %s %s: generated logits %.2e (%.2f u) against f32's", name, format, generated, generated / u);
        check_true(ctx, generated <= 10 * L * u && generated > 0.01 * u,
                   "%s %s: the generator's logits are within 10 u per block of f32's (%.2e, bound %.2e) and differ "
                   "from them: it reads the 16-bit weights", name, format, generated, 10 * L * u);
    }
}

T2G_CHECK(precision_model) {
    model_case(ctx, "gpt2", tiny_gpt2());
    model_case(ctx, "llama", check_small_llama(11));
    return ctx->failures;
}

/* The plan: a 16-bit copy of the parameter buffer, and activations smaller than at f32. */
T2G_HOST_CHECK(precision_memory) {
    t2g_model_config config = tiny_gpt2();
    t2g_gpt_memory full, half;
    check_status(ctx, t2g_gpt_memory_needed(&config, 16, 11, false, &full, &ctx->err), "f32 memory");
    config.precision = T2G_PRECISION_BF16;
    check_status(ctx, t2g_gpt_memory_needed(&config, 16, 11, false, &half, &ctx->err), "bf16 memory");
    check_true(ctx, full.parameters16 == 0 && half.parameters16 >= full.parameters / 2 &&
                        half.parameters16 < full.parameters / 2 + 256,
               "bf16: a 16-bit copy of the parameters (%llu bytes for %llu of f32)",
               (unsigned long long)half.parameters16, (unsigned long long)full.parameters);
    check_true(ctx, half.activations < full.activations, "bf16: fewer activation bytes (%llu) than f32's (%llu)",
               (unsigned long long)half.activations, (unsigned long long)full.activations);
    check_true(ctx, half.total == half.parameters + half.parameters16 + half.gradients + half.moments + half.activations,
               "bf16: the total counts the copy");
    config.precision = T2G_PRECISION_AUTO;
    check_true(ctx, t2g_gpt_memory_needed(&config, 16, 11, false, &half, &ctx->err) == T2G_ERR_ARGUMENT &&
                        strstr(ctx->err.message, "auto"),
               "auto is refused until resolved against a device (%s)", ctx->err.message);
    t2g_device_info cpu = {.kind = T2G_DEVICE_CPU, .storage_16bit = true};
    t2g_device_info gpu = {.kind = T2G_DEVICE_DISCRETE_GPU, .storage_16bit = true};
    t2g_device_info old = {.kind = T2G_DEVICE_DISCRETE_GPU, .storage_16bit = false};
    check_true(ctx, t2g_precision_for_device(T2G_PRECISION_AUTO, &cpu) == T2G_PRECISION_F32 &&
                        t2g_precision_for_device(T2G_PRECISION_AUTO, &gpu) == T2G_PRECISION_BF16 &&
                        t2g_precision_for_device(T2G_PRECISION_AUTO, &old) == T2G_PRECISION_F32 &&
                        t2g_precision_for_device(T2G_PRECISION_F16, &cpu) == T2G_PRECISION_F16,
               "auto: f32 on a CPU device or without 16-bit storage, bf16 on a GPU; a named precision stays");
    ctx->err.message[0] = 0;
    return ctx->failures;
}

/* ---- a short SFT on the arith task: the 16-bit runs track the f32 one ---- */

static t2g_config arith_config(t2g_precision precision, uint32_t steps) {
    t2g_config c = t2g_config_defaults();
    snprintf(c.name, sizeof c.name, "precision");
    snprintf(c.data.task, sizeof c.data.task, "arith");
    c.data.examples = 256;
    c.model = (t2g_model_config)T2G_MODEL_GPT2(259, 32, 2, 4, 64);
    c.batch_size = 16;
    c.micro_batch = 8;
    c.steps = steps;
    c.schedule.warmup_steps = 2;
    c.optim.lr = 3e-3;
    c.eval.examples = 0;
    c.precision = precision;
    return c;
}

static void train_losses(check_ctx *ctx, t2g_precision precision, uint32_t steps, double *losses) {
    for (uint32_t s = 0; s < steps; s++) losses[s] = NAN; /* a failed run compares as NaN, never as an older one */
    t2g_config config = arith_config(precision, steps);
    t2g_trainer *trainer = NULL;
    if (!check_status(ctx, t2g_trainer_create(ctx->device, &config, &trainer, &ctx->err), "creating the trainer")) return;
    for (uint32_t s = 0; s < steps; s++) {
        t2g_step_stats stats;
        if (!check_status(ctx, t2g_trainer_step(trainer, &stats, &ctx->err), "training step")) break;
        losses[s] = stats.loss;
    }
    t2g_trainer_destroy(trainer);
}

/* The margin: each step's 16-bit loss within 2% of the f32 run's (bf16's u is 0.4%; the runs
 * drift apart as their weights do, slowly), and the loss must have fallen by a quarter in both
 * (so the comparison is of runs that learn, not of two flat lines). */
T2G_CHECK(precision_sft) {
    check_case_begin(ctx);
    const uint32_t steps = ctx->quick ? 4 : 24;
    double f32[24] = {0}, half[24] = {0};
    train_losses(ctx, T2G_PRECISION_F32, steps, f32);
    const t2g_precision formats[] = {T2G_PRECISION_BF16, T2G_PRECISION_F16};
    for (int f = 0; f < 2; f++) {
        train_losses(ctx, formats[f], steps, half);
        double worst = 0;
        uint32_t worst_step = 0;
        for (uint32_t s = 0; s < steps; s++) {
            double gap = fabs(half[s] - f32[s]) / f32[s];
            if (!(gap <= worst)) worst = isnan(gap) ? INFINITY : gap, worst_step = s + 1; /* NaN: the worst */
        }
        const char *format = t2g_precision_name(formats[f]);
        check_log(ctx, "  arith SFT %s: loss %.4f -> %.4f (f32 %.4f -> %.4f), largest gap %.2f%% at step %u", format,
                  half[0], half[steps - 1], f32[0], f32[steps - 1], 100 * worst, worst_step);
        check_true(ctx, worst <= 0.02, "arith SFT %s: every step's loss within 2%% of f32's (largest %.2f%% at step %u)",
                   format, 100 * worst, worst_step);
        if (!ctx->quick)
            check_true(ctx, half[steps - 1] < 0.75 * half[0] && f32[steps - 1] < 0.75 * f32[0],
                       "arith SFT %s: both runs learn (%.4f -> %.4f; f32 %.4f -> %.4f)", format, half[0],
                       half[steps - 1], f32[0], f32[steps - 1]);
    }
    return ctx->failures;
}
