/* Softmax cross-entropy (forward and backward fused) against tests/ref/crossentropy.c, with
 * dlogits a tensor of its own and with dlogits overwriting the logits (in place); per-row
 * weights that include zeros; rows whose target is out of range. */
#include <math.h>

#include "check.h"
#include "ref/ref.h"

typedef struct crossentropy_loss {
    const double *logits, *weights;
    const uint32_t *targets;
    double *losses, *dlogits;
    int N, V;
    double dloss;
} crossentropy_loss;

/* sum_n dloss * weights[n] * losses[n]: its gradient in the logits is the reference's dlogits. */
static double loss_of(void *user) {
    crossentropy_loss *l = user;
    ref_crossentropy_forward_backward(l->losses, l->dlogits, l->logits, l->targets, l->weights, l->N, l->V, l->dloss);
    double sum = 0;
    for (int n = 0; n < l->N; n++) sum += l->dloss * l->weights[n] * l->losses[n];
    return sum;
}

typedef struct gpu_result {
    float *losses, *dlogits;
} gpu_result;

/* bad_rows: rows given an out-of-range target (V, then 0xFFFFFFFF, ...), at most 4. */
static void crossentropy_case(check_ctx *ctx, uint32_t N, uint32_t V, const uint32_t *bad_rows, int bad_count) {
    check_case_begin(ctx);
    size_t NV = (size_t)N * V;
    /* Logits of spread 3, every other row shifted by 40 (the row max must be taken out). */
    float *x = check_normal_floats(ctx, NV, 3.0);
    for (uint32_t n = 1; n < N; n += 2)
        for (uint32_t v = 0; v < V; v++) x[(size_t)n * V + v] += 40.0f;
    uint32_t *targets = check_random_tokens(ctx, N, V);
    bool *bad = check_host(ctx, N * sizeof *bad);
    for (int i = 0; i < bad_count; i++) {
        bad[bad_rows[i]] = true;
        targets[bad_rows[i]] = i % 2 == 0 ? V : 0xFFFFFFFFu;
    }
    /* Weights: 0 (masked), 1, or anything in [0.25, 2]; the first row never 0. */
    float *w = check_host(ctx, N * sizeof *w);
    for (uint32_t n = 0; n < N; n++) {
        uint32_t kind = check_random_below(ctx, 4);
        w[n] = kind == 0 && n > 0 ? 0.0f : kind == 1 ? 1.0f : (float)check_uniform(ctx, 0.25, 2);
    }
    float dloss = 1.0f / (float)N;

    double *xd = check_to_double(ctx, x, NV), *wd = check_to_double(ctx, w, N);
    double *ref_losses = check_doubles(ctx, N), *ref_dlogits = check_doubles(ctx, NV);
    ref_crossentropy_forward_backward(ref_losses, ref_dlogits, xd, targets, wd, (int)N, (int)V, dloss);

    t2g_tensor logits = check_upload(ctx, x, NV), target_t = check_upload(ctx, targets, N);
    t2g_tensor weights = check_upload(ctx, w, N);
    t2g_tensor losses = check_poisoned(ctx, N), dlogits = check_poisoned(ctx, NV);
    t2g_tensor in_place = check_poisoned(ctx, NV); /* logits in, dlogits out */
    gpu_result separate[2], shared[2];
    /* Run 0 starts losses at NaN (an unwritten loss shows), run 1 at a finite value (an
     * unwritten NaN for a bad target shows; so does any difference between the runs). */
    float *finite = check_host(ctx, N * sizeof *finite);
    for (uint32_t n = 0; n < N; n++) finite[n] = 1234.5f;
    for (int run = 0; run < 2; run++) {
        if (run == 0) check_poison(ctx, losses, N);
        else check_reupload(ctx, losses, finite, N);
        check_poison(ctx, dlogits, NV);
        check_status(ctx,
                     t2g_crossentropy_forward_backward(ctx->recorder, losses, dlogits, logits, target_t, weights, N, V,
                                                       dloss, &ctx->err),
                     "crossentropy_forward_backward");
        check_submit(ctx);
        separate[run].losses = check_download(ctx, losses, N);
        separate[run].dlogits = check_download(ctx, dlogits, NV);
    }
    for (int run = 0; run < 2; run++) {
        if (run == 0) check_poison(ctx, losses, N);
        else check_reupload(ctx, losses, finite, N);
        check_reupload(ctx, in_place, x, NV);
        check_status(ctx,
                     t2g_crossentropy_forward_backward(ctx->recorder, losses, in_place, in_place, target_t, weights, N,
                                                       V, dloss, &ctx->err),
                     "crossentropy_forward_backward in place");
        check_submit(ctx);
        shared[run].losses = check_download(ctx, losses, N);
        shared[run].dlogits = check_download(ctx, in_place, NV);
    }

    /* The rows with a valid target, packed, for comparing losses; the others must be NaN. */
    float *good_gpu[2] = {check_host(ctx, N * sizeof(float)), check_host(ctx, N * sizeof(float))};
    double *good_ref = check_doubles(ctx, N);
    /* A loss is lse - logit[target], two terms of up to ~50 whose difference can be near 0 (a
     * confident row): its yardstick is |lse| + |logit[target]|, not |loss|. */
    double *good_magnitude = check_doubles(ctx, N);
    for (int path = 0; path < 2; path++) {
        gpu_result *r = path == 0 ? separate : shared;
        const char *name = path == 0 ? "" : " in place";
        char label[128];
        uint32_t good = 0;
        bool bad_nan = true;
        for (uint32_t n = 0; n < N; n++) {
            if (bad[n]) {
                bad_nan = bad_nan && isnan(r[0].losses[n]) && isnan(r[1].losses[n]);
                continue;
            }
            double target_logit = xd[(size_t)n * V + targets[n]];
            good_gpu[path][good] = r[0].losses[n];
            good_magnitude[good] = fabs(ref_losses[n] + target_logit) + fabs(target_logit);
            good_ref[good++] = ref_losses[n];
        }
        snprintf(label, sizeof label, "crossentropy%s losses N=%u V=%u", name, N, V);
        check_bitwise(ctx, label, r[0].losses, r[1].losses, N);
        check_close_scaled(ctx, label, good_gpu[path], good_ref, good, check_norm(good_magnitude, good), 1e-4);
        if (bad_count)
            check_true(ctx, bad_nan, "crossentropy%s N=%u V=%u: the %d rows with target >= V have NaN losses", name, N,
                       V, bad_count);
        snprintf(label, sizeof label, "crossentropy%s dlogits N=%u V=%u", name, N, V);
        check_bitwise(ctx, label, r[0].dlogits, r[1].dlogits, NV);
        check_close(ctx, label, r[0].dlogits, ref_dlogits, NV, 1e-4);
    }

    if (NV <= 4096 && bad_count == 0) {
        double *analytic = check_doubles(ctx, NV);
        ref_crossentropy_forward_backward(ref_losses, analytic, xd, targets, wd, (int)N, (int)V, dloss);
        crossentropy_loss l = {xd, wd, targets, check_doubles(ctx, N), check_doubles(ctx, NV), (int)N, (int)V, dloss};
        char label[128];
        snprintf(label, sizeof label, "crossentropy reference backward vs finite diff N=%u V=%u", N, V);
        check_finite_differences(ctx, label, loss_of, &l, xd, analytic, NV, 256, 1e-6);
    }
}

/* Bad shapes, and dlogits overlapping logits without being the same tensor, are refused. */
static void crossentropy_arguments(check_ctx *ctx) {
    check_case_begin(ctx);
    t2g_tensor rows = check_poisoned(ctx, 4), big = check_poisoned(ctx, 64);
    uint64_t dispatches = t2g_recorder_dispatch_count(ctx->recorder);
    t2g_status s = t2g_crossentropy_forward_backward(ctx->recorder, rows, big, big, rows, rows, 4, 17, 1.0f, &ctx->err);
    check_true(ctx, s == T2G_ERR_ARGUMENT, "crossentropy refuses logits of 64 for N=4 V=17");
    s = t2g_crossentropy_forward_backward(ctx->recorder, rows, big, big, rows, rows, 4, 0, 1.0f, &ctx->err);
    check_true(ctx, s == T2G_ERR_ARGUMENT, "crossentropy refuses V=0");
    t2g_tensor shifted = big;
    shifted.offset += 16 * 4; /* still inside the arena's buffer, overlapping big */
    shifted.bytes -= 16 * 4;
    s = t2g_crossentropy_forward_backward(ctx->recorder, rows, shifted, big, rows, rows, 4, 8, 1.0f, &ctx->err);
    check_true(ctx, s == T2G_ERR_ARGUMENT, "crossentropy refuses dlogits overlapping logits");
    check_true(ctx, t2g_recorder_dispatch_count(ctx->recorder) == dispatches,
               "crossentropy: nothing recorded on refusal");
}

T2G_CHECK(crossentropy) {
    crossentropy_case(ctx, 7, 259, NULL, 0);
    if (ctx->quick) return ctx->failures;
    /* each case in both layouts where the device is a CPU device (crossentropy.c: 8 invocations a
     * row there, up to 256 on GPUs) */
    for (int gpu = 0; gpu < 2; gpu++) {
        t2g_device_test_layouts_as_gpu(ctx->device, gpu);
        check_log(ctx, "row layout: %s", t2g_device_layouts_for_cpu(ctx->device) ? "CPU devices'" : "GPUs'");
        crossentropy_case(ctx, 7, 259, NULL, 0);
        crossentropy_case(ctx, 1, 1, NULL, 0);
        crossentropy_case(ctx, 3, 2, NULL, 0);
        crossentropy_case(ctx, 130, 259, (const uint32_t[]){5, 77, 129}, 3);
        crossentropy_case(ctx, 4, 50257, (const uint32_t[]){2}, 1);
    }
    t2g_device_test_layouts_as_gpu(ctx->device, false);
    crossentropy_case(ctx, 65600, 3, (const uint32_t[]){65599}, 1); /* more rows than one grid dimension */
    crossentropy_arguments(ctx);
    return ctx->failures;
}
