/* AdamW against tests/ref/optim.c: ten steps with a fresh gradient each, with and without the
 * clip factor from norm_and_scale, with weight decay, over the whole buffer and over a
 * sub-range (offset, count) whose outside must stay bit-identical; and gated by the gradient
 * norm, where a step with a non-finite gradient changes nothing. The second run of each case
 * reads every element alone (texel views too small for quads) and must give the first run's
 * bits, which read quads where the range starts on one (n 1039: [260, 831)). */
#include <math.h>
#include <string.h>

#include "check.h"
#include "ref/ref.h"

#define STEPS 10

static const size_t SIZES[] = {130, 7, 4099, 1039, 100003}; /* the last: more quads than a CPU device's capped grid has invocations (t2g_grid_stride_groups) */
#define SIZE_COUNT (sizeof SIZES / sizeof SIZES[0])

static bool same_outside(const float *a, const float *b, size_t n, size_t offset, size_t count) {
    return memcmp(a, b, offset * sizeof *a) == 0 &&
           memcmp(a + offset + count, b + offset + count, (n - offset - count) * sizeof *a) == 0;
}

static void adamw_case(check_ctx *ctx, size_t n, bool scaled, bool sub_range) {
    check_case_begin(ctx);
    size_t offset = sub_range ? n / 4 + 1 : 0;
    size_t count = sub_range ? n - offset - n / 5 - 1 : n;
    t2g_adamw_settings settings = {
        .learning_rate = 0.02f, .beta1 = 0.9f, .beta2 = scaled ? 0.999f : 0.95f,
        .epsilon = 1e-8f, .weight_decay = 0.1f, .step = 1,
    };
    char what[96];
    snprintf(what, sizeof what, "n=%zu [%zu, %zu)%s", n, offset, offset + count, scaled ? " scaled" : "");

    /* Moments start at 0 inside the range; outside it, values that must survive untouched. */
    float *params0 = check_random_floats(ctx, n, -1, 1);
    float *m0 = check_normal_floats(ctx, n, 0.1), *v0 = check_random_floats(ctx, n, 0, 0.01);
    for (size_t i = offset; i < offset + count; i++) m0[i] = v0[i] = 0;
    float *grads[STEPS], scales[STEPS][2];
    for (int k = 0; k < STEPS; k++) {
        grads[k] = check_random_floats(ctx, n, -1, 1);
        scales[k][0] = (float)check_uniform(ctx, 1, 10);
        scales[k][1] = scaled ? (float)check_uniform(ctx, 0.1, 1) : 1.0f;
    }
    double *ref_p = check_to_double(ctx, params0, n), *ref_m = check_to_double(ctx, m0, n);
    double *ref_v = check_to_double(ctx, v0, n);

    t2g_tensor p = check_upload(ctx, params0, n), m = check_upload(ctx, m0, n), v = check_upload(ctx, v0, n);
    t2g_tensor g = check_poisoned(ctx, n), nas = check_poisoned(ctx, 2);
    float *first[STEPS][3]; /* run 1's params, m, v after each step */
    for (int run = 0; run < 2; run++) {
        /* run 1: views of at most one texel, so no quads */
        check_status(ctx, t2g_device_test_limit_texels(ctx->device, 0, run, &ctx->err), "limiting texel views");
        check_reupload(ctx, p, params0, n);
        check_reupload(ctx, m, m0, n);
        check_reupload(ctx, v, v0, n);
        for (int k = 0; k < STEPS; k++) {
            check_reupload(ctx, g, grads[k], n);
            if (scaled) check_reupload(ctx, nas, scales[k], 2);
            settings.step = (uint32_t)k + 1;
            check_status(ctx, t2g_adamw_update(ctx->recorder, p, g, m, v, scaled ? &nas : NULL, offset, count,
                                               &settings, &ctx->err),
                         "adamw_update");
            check_submit(ctx);
            float *got[3] = {check_download(ctx, p, n), check_download(ctx, m, n), check_download(ctx, v, n)};
            static const char *names[3] = {"params", "m", "v"};
            char label[160];
            if (run == 0) {
                ref_adamw_update(ref_p + offset, check_to_double(ctx, grads[k], n) + offset, ref_m + offset,
                                 ref_v + offset, count, scales[k][1], settings.learning_rate, settings.beta1,
                                 settings.beta2, settings.epsilon, settings.weight_decay, k + 1);
                const double *refs[3] = {ref_p, ref_m, ref_v};
                const float *initial[3] = {params0, m0, v0};
                for (int t = 0; t < 3; t++) {
                    snprintf(label, sizeof label, "adamw %s step %d %s", what, k + 1, names[t]);
                    check_close(ctx, label, got[t] + offset, refs[t] + offset, count, 1e-5);
                    if (count < n)
                        check_true(ctx, same_outside(got[t], initial[t], n, offset, count),
                                   "adamw %s step %d: %s outside the range bit-identical", what, k + 1, names[t]);
                    first[k][t] = got[t];
                }
            } else {
                for (int t = 0; t < 3; t++) {
                    snprintf(label, sizeof label, "adamw %s step %d %s", what, k + 1, names[t]);
                    check_bitwise(ctx, label, first[k][t], got[t], n);
                }
            }
        }
    }

    t2g_device_test_limit_texels(ctx->device, 0, 0, &ctx->err);
    t2g_status status = t2g_adamw_update(ctx->recorder, p, g, m, v, NULL, offset + 1, n - offset, &settings, &ctx->err);
    check_true(ctx, status == T2G_ERR_ARGUMENT, "adamw %s: a range past the tensors is refused (%s)", what,
               t2g_status_name(status));
}

/* The gate: t2g_grad_norm then t2g_adamw_update through norm_and_scale, as t2g_gpt_update does,
 * over STEPS steps of which some carry a poisoned gradient (one NaN, +Inf or -Inf element, or
 * finite elements whose squares overflow the float sum). A poisoned step must leave params, m
 * and v bit-identical to the step before (the reference skips it too) and report a non-finite
 * norm with factor 0; the finite steps around it must still match the reference. */
static void gated_case(check_ctx *ctx, size_t n, float max_norm) {
    check_case_begin(ctx);
    static const char *const poisons[] = {"finite", "NaN", "+Inf", "-Inf", "overflow"};
    t2g_adamw_settings settings = {.learning_rate = 0.02f, .beta1 = 0.9f, .beta2 = 0.95f, .epsilon = 1e-8f,
                                   .weight_decay = 0.1f, .step = 1};
    float *params0 = check_random_floats(ctx, n, -1, 1);
    float *m0 = check_normal_floats(ctx, n, 0.1), *v0 = check_random_floats(ctx, n, 0, 0.01);
    double *ref_p = check_to_double(ctx, params0, n), *ref_m = check_to_double(ctx, m0, n);
    double *ref_v = check_to_double(ctx, v0, n);
    t2g_tensor p = check_upload(ctx, params0, n), m = check_upload(ctx, m0, n), v = check_upload(ctx, v0, n);
    t2g_tensor g = check_poisoned(ctx, n), nas = check_poisoned(ctx, 2);
    float *before[3] = {params0, m0, v0};
    for (int k = 0; k < STEPS; k++) {
        int poison = k % 2 ? 1 + (k / 2) % 4 : 0; /* finite, NaN, finite, +Inf, finite, -Inf, ... */
        float *grads = check_random_floats(ctx, n, -1, 1);
        size_t at = check_random_below(ctx, (uint32_t)n);
        if (poison == 1) grads[at] = NAN;
        if (poison == 2) grads[at] = INFINITY;
        if (poison == 3) grads[at] = -INFINITY;
        if (poison == 4) grads[at] = grads[(at + 1) % n] = 3e38f; /* finite, but the sum of squares is Inf */
        double *grads_d = check_to_double(ctx, grads, n), ref_nas[2];
        ref_grad_norm(ref_nas, grads_d, n, max_norm);
        if (poison == 4) ref_nas[0] = INFINITY, ref_nas[1] = 0; /* in float, as on the device */
        ref_adamw_gated(ref_p, grads_d, ref_m, ref_v, n, ref_nas, settings.learning_rate, settings.beta1,
                        settings.beta2, settings.epsilon, settings.weight_decay, k + 1);

        check_reupload(ctx, g, grads, n);
        settings.step = (uint32_t)k + 1;
        check_status(ctx, t2g_grad_norm(ctx->recorder, nas, g, n, max_norm, &ctx->err), "grad_norm");
        check_status(ctx, t2g_adamw_update(ctx->recorder, p, g, m, v, &nas, 0, n, &settings, &ctx->err), "adamw");
        check_submit(ctx);
        float *got[3] = {check_download(ctx, p, n), check_download(ctx, m, n), check_download(ctx, v, n)};
        float *norm = check_download(ctx, nas, 2);
        static const char *names[3] = {"params", "m", "v"};
        const double *refs[3] = {ref_p, ref_m, ref_v};
        char label[160];
        for (int t = 0; t < 3; t++) {
            snprintf(label, sizeof label, "adamw gated n=%zu max_norm=%g step %d (%s gradient) %s", n, max_norm, k + 1,
                     poisons[poison], names[t]);
            if (poison) check_bitwise(ctx, label, before[t], got[t], n);
            else check_close(ctx, label, got[t], refs[t], n, 1e-5);
            before[t] = got[t];
        }
        if (poison)
            check_true(ctx, !isfinite(norm[0]) && norm[1] == 0.0f,
                       "adamw gated n=%zu step %d (%s gradient): norm %g (not finite), factor %g (0)", n, k + 1,
                       poisons[poison], norm[0], norm[1]);
    }
}

T2G_CHECK(adamw_nonfinite) {
    static const float max_norms[] = {1.0f, 0.0f};
    for (size_t s = 0; s < (ctx->quick ? 1 : SIZE_COUNT); s++)
        for (int c = 0; c < 2; c++) gated_case(ctx, SIZES[s], max_norms[c]);
    return ctx->failures;
}

T2G_CHECK(adamw) {
    for (size_t s = 0; s < (ctx->quick ? 1 : SIZE_COUNT); s++) {
        for (int variant = 0; variant < 4; variant++) {
            adamw_case(ctx, SIZES[s], variant & 1, variant & 2);
            if (ctx->quick) return ctx->failures;
        }
    }
    return ctx->failures;
}
