/* Tensors larger than one binding. With the device's binding range lowered (the test hook
 * t2g_device_limit_binding), the kernels that take whole flat buffers (fill, axpby, dot,
 * grad_norm, grad_clip, adamw_update) bind them in chunks; each must give the same bits as one
 * binding of the whole tensor, while recording more dispatches. Then whole training steps of a
 * GPT-2 and a Llama model whose flat buffers exceed the lowered range, while every other tensor
 * fits it: the same bits again. */
#include <math.h>
#include <string.h>

#include "check.h"
#include "t2g/gpt.h"

#define KERNEL_RANGE 4096u   /* bytes: 1024 floats, one slice of the reductions at these sizes */
#define MODEL_RANGE 65536u   /* bytes: more than any tensor of the tiny models but their flat buffers */

static const size_t SIZES[] = {100003, 5000, 1025};
#define SIZE_COUNT (sizeof SIZES / sizeof SIZES[0])
#define OUTPUTS 8

static const char *const OUTPUT_NAMES[OUTPUTS] = {"fill", "axpby y", "dot", "grad_norm", "grad_clip grads",
                                                  "adamw params", "adamw m", "adamw v"};

typedef struct kernel_inputs {
    size_t n, decayed; /* adamw's two ranges: [0, decayed) with weight decay, the rest without */
    float *x, *y, *grads, *params, *m, *v;
} kernel_inputs;

/* Every kernel once, under a binding range of `range` bytes (0: the device's own); the outputs'
 * host copies in out[], and the dispatches recorded. */
static uint64_t run_kernels(check_ctx *ctx, const kernel_inputs *in, uint64_t range, float *out[OUTPUTS]) {
    size_t n = in->n;
    check_status(ctx, t2g_device_limit_binding(ctx->device, range, &ctx->err), "lowering the binding range");
    t2g_tensor fill = check_poisoned(ctx, n), x = check_upload(ctx, in->x, n), y = check_upload(ctx, in->y, n);
    t2g_tensor dot = check_poisoned(ctx, 1), nas = check_poisoned(ctx, 2), g = check_upload(ctx, in->grads, n);
    t2g_tensor p = check_upload(ctx, in->params, n), m = check_upload(ctx, in->m, n), v = check_upload(ctx, in->v, n);
    t2g_recorder *rec = ctx->recorder;
    t2g_adamw_settings decay = {.learning_rate = 0.02f, .beta1 = 0.9f, .beta2 = 0.95f, .epsilon = 1e-8f,
                                .weight_decay = 0.1f, .step = 3};
    t2g_adamw_settings no_decay = decay;
    no_decay.weight_decay = 0;
    uint64_t before = t2g_recorder_dispatch_count(rec);
    check_status(ctx, t2g_fill(rec, fill, n, 0.25f, &ctx->err), "fill");
    check_status(ctx, t2g_axpby(rec, y, x, n, 0.5f, -2.0f, &ctx->err), "axpby");
    check_status(ctx, t2g_dot(rec, dot, x, y, n, &ctx->err), "dot");
    check_status(ctx, t2g_grad_norm(rec, nas, g, n, 1.0f, &ctx->err), "grad_norm");
    check_status(ctx, t2g_adamw_update(rec, p, g, m, v, &nas, 0, in->decayed, &decay, &ctx->err), "adamw decayed");
    check_status(ctx, t2g_adamw_update(rec, p, g, m, v, &nas, in->decayed, n - in->decayed, &no_decay, &ctx->err),
                 "adamw the rest");
    check_status(ctx, t2g_grad_clip(rec, g, n, nas, &ctx->err), "grad_clip");
    uint64_t dispatches = t2g_recorder_dispatch_count(rec) - before;
    check_submit(ctx);
    const t2g_tensor tensors[OUTPUTS] = {fill, y, dot, nas, g, p, m, v};
    const size_t counts[OUTPUTS] = {n, n, 1, 2, n, n, n, n};
    for (int i = 0; i < OUTPUTS; i++) out[i] = check_download(ctx, tensors[i], counts[i]);
    check_status(ctx, t2g_device_limit_binding(ctx->device, 0, &ctx->err), "restoring the binding range");
    return dispatches;
}

T2G_CHECK(split_kernels) {
    for (size_t s = 0; s < (ctx->quick ? 1 : SIZE_COUNT); s++) {
        check_case_begin(ctx);
        size_t n = SIZES[s];
        kernel_inputs in = {
            .n = n, .decayed = n / 3 / 64 * 64 + 64, /* aligned as a model's, but inside a chunk */
            .x = check_random_floats(ctx, n, -1, 2), .y = check_random_floats(ctx, n, -1, 2),
            .grads = check_random_floats(ctx, n, -0.1, 0.1), .params = check_random_floats(ctx, n, -1, 1),
            .m = check_normal_floats(ctx, n, 0.01), .v = check_random_floats(ctx, n, 0, 0.001),
        };
        float *whole[OUTPUTS], *split[OUTPUTS];
        uint64_t whole_dispatches = run_kernels(ctx, &in, 0, whole);
        uint64_t split_dispatches = run_kernels(ctx, &in, KERNEL_RANGE, split);
        const size_t counts[OUTPUTS] = {n, n, 1, 2, n, n, n, n};
        char label[96];
        for (int i = 0; i < OUTPUTS; i++) {
            snprintf(label, sizeof label, "%s n=%zu, bound in chunks of %u bytes", OUTPUT_NAMES[i], n, KERNEL_RANGE);
            check_bitwise(ctx, label, whole[i], split[i], counts[i]);
        }
        bool filled = true;
        for (size_t i = 0; i < n; i++) filled &= split[0][i] == 0.25f;
        check_true(ctx, filled, "fill n=%zu in chunks reaches every element", n);
        check_true(ctx, isfinite(split[3][0]) && split[3][1] > 0 && split[3][1] <= 1, "grad_norm n=%zu: norm %g, factor %g",
                   n, split[3][0], split[3][1]);
        check_true(ctx, split_dispatches > whole_dispatches, "n=%zu: %llu dispatches in chunks, %llu whole", n,
                   (unsigned long long)split_dispatches, (unsigned long long)whole_dispatches);
    }
    return ctx->failures;
}

/* ---- whole training steps ---- */

enum { B = 3, T = 7, STEPS = 3 };

typedef struct step_data {
    t2g_tensor tokens, targets, weights; /* (B, T) each */
} step_data;

/* STEPS training steps (zero grads, forward, backward, clip and AdamW) from the same seeded
 * start, under a binding range of `range` bytes; the final parameters, moments and last
 * gradients in out[] (buffer_floats each), the dispatches recorded in *dispatches. */
static uint64_t train(check_ctx *ctx, const t2g_model_config *config, const step_data *data, uint64_t range,
                      float *out[4], uint64_t *dispatches) {
    t2g_gpt *gpt;
    if (!check_status(ctx, t2g_gpt_create(ctx->device, config, B, T, &gpt, &ctx->err), "creating the model")) return 0;
    check_status(ctx, t2g_gpt_init(gpt, 7, &ctx->err), "initialising the model");
    check_status(ctx, t2g_device_limit_binding(ctx->device, range, &ctx->err), "lowering the binding range");
    t2g_tensor norm = check_poisoned(ctx, 2);
    t2g_adamw_settings settings = {.learning_rate = 1e-2f, .beta1 = 0.9f, .beta2 = 0.95f, .epsilon = 1e-8f,
                                   .weight_decay = 0.1f};
    uint64_t before = t2g_recorder_dispatch_count(ctx->recorder);
    for (int step = 0; step < STEPS; step++) {
        settings.step = (uint32_t)step + 1;
        check_status(ctx, t2g_gpt_zero_grads(gpt, ctx->recorder, &ctx->err), "zero grads");
        check_status(ctx, t2g_gpt_forward(gpt, ctx->recorder, data[step].tokens, B, T, &ctx->err), "forward");
        check_status(ctx, t2g_gpt_backward(gpt, ctx->recorder, data[step].targets, data[step].weights, B, T,
                                           1.0f / (B * T), &ctx->err),
                     "backward");
        check_status(ctx, t2g_gpt_update(gpt, ctx->recorder, &settings, 0.5f, norm, &ctx->err), "update");
        check_submit(ctx);
    }
    *dispatches = t2g_recorder_dispatch_count(ctx->recorder) - before;
    uint64_t n = t2g_gpt_buffer_floats(gpt);
    for (int i = 0; i < 4; i++) out[i] = check_host(ctx, n * sizeof(float));
    check_status(ctx, t2g_gpt_read(gpt, out[0], out[1], out[2], &ctx->err), "reading the model");
    check_status(ctx, t2g_gpt_read_grads(gpt, out[3], &ctx->err), "reading the gradients");
    check_status(ctx, t2g_device_limit_binding(ctx->device, 0, &ctx->err), "restoring the binding range");
    t2g_gpt_destroy(gpt);
    return n;
}

static void train_case(check_ctx *ctx, const char *name, const t2g_model_config *config) {
    check_case_begin(ctx);
    step_data data[STEPS];
    for (int s = 0; s < STEPS; s++) {
        float *weights = check_random_floats(ctx, B * T, 0.5, 1.5);
        data[s] = (step_data){check_upload(ctx, check_random_tokens(ctx, B * T, config->vocab), B * T),
                              check_upload(ctx, check_random_tokens(ctx, B * T, config->vocab), B * T),
                              check_upload(ctx, weights, B * T)};
    }
    float *whole[4], *split[4];
    uint64_t whole_dispatches = 0, split_dispatches = 0;
    uint64_t n = train(ctx, config, data, 0, whole, &whole_dispatches);
    if (!n || !train(ctx, config, data, MODEL_RANGE, split, &split_dispatches)) return;
    check_true(ctx, n * 4 > MODEL_RANGE, "%s: its flat buffers (%llu bytes) exceed the lowered range", name,
               (unsigned long long)n * 4);
    static const char *const names[4] = {"parameters", "m", "v", "gradients"};
    char label[128];
    for (int i = 0; i < 4; i++) {
        snprintf(label, sizeof label, "%s after %d steps, flat buffers in chunks of %u bytes: %s", name, STEPS,
                 MODEL_RANGE, names[i]);
        check_bitwise(ctx, label, whole[i], split[i], n);
    }
    check_true(ctx, split_dispatches > whole_dispatches, "%s: %llu dispatches in chunks, %llu whole", name,
               (unsigned long long)split_dispatches, (unsigned long long)whole_dispatches);
}

T2G_CHECK(split_train) {
    const t2g_model_config gpt2 = T2G_MODEL_GPT2(259, 11, 2, 3, 36);
    train_case(ctx, "gpt2", &gpt2);
    if (ctx->quick) return ctx->failures;
    t2g_model_config llama = {.arch = T2G_ARCH_LLAMA, .vocab = 259, .context = 11, .layers = 2, .heads = 4,
                              .kv_heads = 2, .width = 32, .ffn_width = 40, .rope_theta = 10000, .norm_eps = 1e-5,
                              .tied_head = 0};
    train_case(ctx, "llama", &llama);
    return ctx->failures;
}
