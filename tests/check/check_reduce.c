/* Deterministic reductions against tests/ref/optim.c: the dot product (of two tensors and of
 * one with itself), the global gradient norm with its clip factor, and gradient clipping. */
#include <math.h>
#include <string.h>

#include "check.h"
#include "ref/ref.h"

static const size_t DOT_SIZES[] = {130, 1, 7, 100003, 65535u * 256u + 3u}; /* the last: more than one grid */
#define DOT_SIZE_COUNT (sizeof DOT_SIZES / sizeof DOT_SIZES[0])

/* The partials' other ways give the same bits as the first run's: the GPU layout (reduce_dot,
 * where a CPU device ran reduce_dot_lanes), and the tensors bound in chunks of a lowered binding
 * range (each way; up to 2^20 elements, whose slices of 1024 fit 16 KiB). */
static void same_bits_other_ways(check_ctx *ctx, t2g_tensor at, t2g_tensor bt, size_t n, const float *ab,
                                 const float *aa) {
    bool cpu = t2g_device_layouts_for_cpu(ctx->device);
    t2g_tensor out = check_poisoned(ctx, 2);
    for (int way = 0; way < 4; way++) {
        bool as_gpu = way & 1, chunked = way & 2;
        if ((!as_gpu && !chunked) || (chunked && n > (1u << 20))) continue;
        t2g_device_test_layouts_as_gpu(ctx->device, as_gpu);
        if (chunked) check_status(ctx, t2g_device_limit_binding(ctx->device, 16384, &ctx->err), "lowering the binding range");
        float *got[2];
        for (int self = 0; self < 2; self++) {
            uint64_t before = t2g_recorder_dispatch_count(ctx->recorder);
            check_status(ctx, t2g_dot(ctx->recorder, out, at, self ? at : bt, n, &ctx->err), "dot");
            uint64_t dispatches = t2g_recorder_dispatch_count(ctx->recorder) - before;
            check_submit(ctx);
            got[self] = check_download(ctx, out, 1);
            if (chunked && n * 4 > 16384)
                check_true(ctx, dispatches > 2, "dot n=%zu in chunks of 16 KiB: %llu dispatches", n,
                           (unsigned long long)dispatches);
        }
        t2g_device_limit_binding(ctx->device, 0, &ctx->err);
        t2g_device_test_layouts_as_gpu(ctx->device, false);
        char label[128];
        snprintf(label, sizeof label, "dot n=%zu, %s layout%s, against the first run's", n,
                 as_gpu || !cpu ? "GPU" : "CPU", chunked ? " in chunks" : "");
        check_bitwise(ctx, label, ab, got[0], 1);
        check_bitwise(ctx, label, aa, got[1], 1);
    }
}

T2G_CHECK(dot) {
    for (size_t s = 0; s < (ctx->quick ? 1 : DOT_SIZE_COUNT); s++) {
        size_t n = DOT_SIZES[s];
        check_case_begin(ctx);
        /* Mean 1/4 per product, so large sums do not cancel; small ones can, by chance, so the
         * error is measured against sum |a_i b_i| (the sum's condition), not against |a.b|. */
        float *a = check_random_floats(ctx, n, -1, 2), *b = check_random_floats(ctx, n, -1, 2);
        double *a_d = check_to_double(ctx, a, n), *b_d = check_to_double(ctx, b, n);
        double ref_ab = ref_dot(a_d, b_d, n), ref_aa = ref_dot(a_d, a_d, n);
        double magnitude_ab = 0;
        for (size_t i = 0; i < n; i++) magnitude_ab += fabs(a_d[i] * b_d[i]);

        t2g_tensor at = check_upload(ctx, a, n), bt = check_upload(ctx, b, n);
        t2g_tensor out_ab = check_poisoned(ctx, 2), out_aa = check_poisoned(ctx, 2); /* out[1] must stay NaN */
        float *abs_[2], *aas[2];
        for (int run = 0; run < 2; run++) {
            check_poison(ctx, out_ab, 2);
            check_poison(ctx, out_aa, 2);
            check_status(ctx, t2g_dot(ctx->recorder, out_ab, at, bt, n, &ctx->err), "dot a.b");
            check_status(ctx, t2g_dot(ctx->recorder, out_aa, at, at, n, &ctx->err), "dot a.a");
            check_submit(ctx);
            abs_[run] = check_download(ctx, out_ab, 2);
            aas[run] = check_download(ctx, out_aa, 2);
        }
        char label[96];
        snprintf(label, sizeof label, "dot a.b n=%zu", n);
        check_bitwise(ctx, label, abs_[0], abs_[1], 1);
        check_close_scaled(ctx, label, abs_[0], &ref_ab, 1, magnitude_ab, 1e-5);
        snprintf(label, sizeof label, "dot a.a n=%zu", n);
        check_bitwise(ctx, label, aas[0], aas[1], 1);
        check_close(ctx, label, aas[0], &ref_aa, 1, 1e-5);
        check_true(ctx, isnan(abs_[0][1]) && isnan(aas[0][1]), "dot n=%zu writes out[0] only", n);
        same_bits_other_ways(ctx, at, bt, n, abs_[0], aas[0]);
        if (s == 0) {
            t2g_status status = t2g_dot(ctx->recorder, out_ab, at, bt, n + 1, &ctx->err);
            check_true(ctx, status == T2G_ERR_ARGUMENT, "dot with n beyond the tensors is refused (%s)",
                       t2g_status_name(status));
        }
    }
    return ctx->failures;
}

static const size_t CLIP_SIZES[] = {130, 7, 1, 100003};
#define CLIP_SIZE_COUNT (sizeof CLIP_SIZES / sizeof CLIP_SIZES[0])

T2G_CHECK(grad_clip) {
    for (size_t s = 0; s < (ctx->quick ? 1 : CLIP_SIZE_COUNT); s++) {
        size_t n = CLIP_SIZES[s];
        check_case_begin(ctx);
        float *grads = check_random_floats(ctx, n, -1, 1);
        double *grads_d = check_to_double(ctx, grads, n);
        double norm = sqrt(ref_dot(grads_d, grads_d, n));
        /* below the norm (clips), above it (scale 1), and <= 0 (clipping off) */
        const double max_norms[] = {0.37 * norm, 2.5 * norm, 0.0, -1.0};
        t2g_tensor gt = check_upload(ctx, grads, n), nas = check_poisoned(ctx, 3); /* nas[2] must stay NaN */
        for (size_t k = 0; k < (ctx->quick ? 1 : 4); k++) {
            float max_norm = (float)max_norms[k];
            double ref_nas[2], *ref_clipped = check_doubles(ctx, n);
            ref_grad_norm(ref_nas, grads_d, n, max_norm);
            for (size_t i = 0; i < n; i++) ref_clipped[i] = grads_d[i] * ref_nas[1];
            float *nass[2], *clipped[2];
            for (int run = 0; run < 2; run++) {
                check_reupload(ctx, gt, grads, n);
                check_poison(ctx, nas, 3);
                check_status(ctx, t2g_grad_norm(ctx->recorder, nas, gt, n, max_norm, &ctx->err), "grad_norm");
                check_status(ctx, t2g_grad_clip(ctx->recorder, gt, n, nas, &ctx->err), "grad_clip");
                check_submit(ctx);
                nass[run] = check_download(ctx, nas, 3);
                clipped[run] = check_download(ctx, gt, n);
            }
            char label[128];
            snprintf(label, sizeof label, "grad_norm norm n=%zu max_norm=%g", n, max_norm);
            check_bitwise(ctx, label, nass[0], nass[1], 2);
            check_close(ctx, label, &nass[0][0], &ref_nas[0], 1, 1e-5);
            snprintf(label, sizeof label, "grad_norm scale n=%zu max_norm=%g (ref %.4g)", n, max_norm, ref_nas[1]);
            check_close(ctx, label, &nass[0][1], &ref_nas[1], 1, 1e-5);
            check_true(ctx, isnan(nass[0][2]), "grad_norm n=%zu writes two elements only", n);
            snprintf(label, sizeof label, "grad_clip n=%zu max_norm=%g", n, max_norm);
            check_bitwise(ctx, label, clipped[0], clipped[1], n);
            check_close(ctx, label, clipped[0], ref_clipped, n, 1e-5);
            if (ref_nas[1] == 1.0)
                check_true(ctx, memcmp(clipped[0], grads, n * sizeof *grads) == 0,
                           "grad_clip n=%zu max_norm=%g: scale 1 leaves grads bit-identical", n, max_norm);
        }
    }
    return ctx->failures;
}
