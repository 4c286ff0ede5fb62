/* RMSNorm forward and backward against tests/ref/rmsnorm.c. Inputs both centred on zero and
 * shifted away from it, and inputs so small that eps is a large part of the mean square; the
 * backward runs on the forward's own rstd, as in training, and adds into random gradients. The
 * forward into bf16 and f16 outputs (rstd stays f32). */
#include <math.h>
#include <string.h>

#include "check.h"
#include "ref/ref.h"
#include "storage16.h"

typedef struct rmsnorm_loss {
    const double *inp, *weight, *g;
    double *out, *rstd;
    int N, C;
    double eps;
} rmsnorm_loss;

/* sum g * rmsnorm(inp; weight): its gradients are what the backward computes from dout = g. */
static double loss_of(void *user) {
    rmsnorm_loss *l = user;
    ref_rmsnorm_forward(l->out, l->rstd, l->inp, l->weight, l->N, l->C, l->eps);
    double sum = 0;
    for (size_t i = 0; i < (size_t)l->N * l->C; i++) sum += l->g[i] * l->out[i];
    return sum;
}

static void finite_differences(check_ctx *ctx, double *inp, double *weight, const double *g, int N, int C, double eps) {
    size_t NC = (size_t)N * C;
    double *rstd = check_doubles(ctx, N);
    rmsnorm_loss l = {inp, weight, g, check_doubles(ctx, NC), rstd, N, C, eps};
    ref_rmsnorm_forward(l.out, rstd, inp, weight, N, C, eps);
    double *dinp = check_doubles(ctx, NC), *dweight = check_doubles(ctx, C);
    ref_rmsnorm_backward(dinp, dweight, g, inp, weight, rstd, N, C);
    char label[128];
    snprintf(label, sizeof label, "rmsnorm reference dinp vs finite diff N=%d C=%d eps=%g", N, C, eps);
    check_finite_differences(ctx, label, loss_of, &l, inp, dinp, NC, 256, 1e-6);
    snprintf(label, sizeof label, "rmsnorm reference dweight vs finite diff N=%d C=%d eps=%g", N, C, eps);
    check_finite_differences(ctx, label, loss_of, &l, weight, dweight, C, 256, 1e-6);
}

static void rmsnorm_case(check_ctx *ctx, uint32_t N, uint32_t C, float eps, double lo, double hi) {
    check_case_begin(ctx);
    size_t NC = (size_t)N * C;
    float *x = check_random_floats(ctx, NC, lo, hi), *w = check_random_floats(ctx, C, -2, 2);
    float *g = check_random_floats(ctx, NC, -1, 1);
    /* the backward adds into these */
    float *dinp0 = check_random_floats(ctx, NC, -1, 1), *dweight0 = check_random_floats(ctx, C, -1, 1);

    double *xd = check_to_double(ctx, x, NC), *wd = check_to_double(ctx, w, C), *gd = check_to_double(ctx, g, NC);
    double *ref_out = check_doubles(ctx, NC), *ref_rstd = check_doubles(ctx, N);
    double *ref_dinp = check_to_double(ctx, dinp0, NC), *ref_dweight = check_to_double(ctx, dweight0, C);
    ref_rmsnorm_forward(ref_out, ref_rstd, xd, wd, (int)N, (int)C, eps);
    ref_rmsnorm_backward(ref_dinp, ref_dweight, gd, xd, wd, ref_rstd, (int)N, (int)C);

    t2g_tensor inp = check_upload(ctx, x, NC), weight = check_upload(ctx, w, C), dout = check_upload(ctx, g, NC);
    t2g_tensor out = check_poisoned(ctx, NC), rstd = check_poisoned(ctx, N);
    t2g_tensor dinp = check_poisoned(ctx, NC), dweight = check_poisoned(ctx, C);
    float *gpu[2][4];
    for (int run = 0; run < 2; run++) {
        check_poison(ctx, out, NC);
        check_poison(ctx, rstd, N);
        check_reupload(ctx, dinp, dinp0, NC);
        check_reupload(ctx, dweight, dweight0, C);
        check_status(ctx, t2g_rmsnorm_forward(ctx->recorder, out, rstd, inp, weight, N, C, eps, &ctx->err),
                     "rmsnorm_forward");
        check_status(ctx,
                     t2g_rmsnorm_backward(ctx->recorder, dinp, dweight, dout, inp, weight, rstd, N, C, &ctx->err),
                     "rmsnorm_backward");
        check_submit(ctx);
        gpu[run][0] = check_download(ctx, out, NC);
        gpu[run][1] = check_download(ctx, rstd, N);
        gpu[run][2] = check_download(ctx, dinp, NC);
        gpu[run][3] = check_download(ctx, dweight, C);
    }
    /* dinp's yardstick: the magnitude of what it sums, |dinp0| + rstd (|g w| + |xhat| mean|g w
     * xhat|). Its two terms cancel where x is small against the row's scale (C = 1: rstd g w
     * (1 - x^2 rstd^2), with rstd up to 1/|x|), so relative to dinp itself f32 cannot be exact. */
    double *mag_dinp = check_doubles(ctx, NC);
    for (size_t n = 0; n < N; n++) {
        double mean = 0;
        for (size_t c = 0; c < C; c++) mean += fabs(gd[n * C + c] * wd[c] * xd[n * C + c] * ref_rstd[n]) / C;
        for (size_t c = 0; c < C; c++)
            mag_dinp[n * C + c] = fabs((double)dinp0[n * C + c]) +
                                  ref_rstd[n] * (fabs(gd[n * C + c] * wd[c]) + fabs(xd[n * C + c] * ref_rstd[n]) * mean);
    }
    /* dweight's likewise: |dweight0| + the sum over rows of |g x rstd|. dweight0 and the sum can
     * cancel (seen with C = 1, seed 281523621: 1.1e-5 relative to dweight itself). */
    double *mag_dweight = check_doubles(ctx, C);
    for (size_t c = 0; c < C; c++) {
        mag_dweight[c] = fabs((double)dweight0[c]);
        for (size_t n = 0; n < N; n++) mag_dweight[c] += fabs(gd[n * C + c] * xd[n * C + c] * ref_rstd[n]);
    }
    const char *names[4] = {"out", "rstd", "dinp", "dweight"};
    const double *refs[4] = {ref_out, ref_rstd, ref_dinp, ref_dweight};
    const size_t counts[4] = {NC, N, NC, C};
    const double *magnitudes[4] = {NULL, NULL, mag_dinp, mag_dweight};
    for (int i = 0; i < 4; i++) {
        char label[128];
        snprintf(label, sizeof label, "rmsnorm %s N=%u C=%u eps=%g x in [%g, %g]", names[i], N, C, eps, lo, hi);
        check_bitwise(ctx, label, gpu[0][i], gpu[1][i], counts[i]);
        if (magnitudes[i])
            check_close_scaled(ctx, label, gpu[0][i], refs[i], counts[i], check_norm(magnitudes[i], counts[i]), 1e-5);
        else
            check_close(ctx, label, gpu[0][i], refs[i], counts[i], 1e-5);
    }
    if (NC <= 512) finite_differences(ctx, xd, wd, gd, (int)N, (int)C, eps);
}

typedef struct rmsnorm_call {
    t2g_tensor rstd, inp, weight;
    uint32_t N, C;
    float eps;
} rmsnorm_call;

static bool record_rmsnorm(check_ctx *ctx, t2g_tensor out, void *user) {
    rmsnorm_call *c = user;
    return check_status(ctx, t2g_rmsnorm_forward(ctx->recorder, out, c->rstd, c->inp, c->weight, c->N, c->C, c->eps,
                                                 &ctx->err),
                        "rmsnorm_forward");
}

/* The forward into a 16-bit out: the f32 tolerance plus the rounding of each stored value
 * (storage16.h, check_close_stored); rstd as in f32. */
static void rmsnorm16_case(check_ctx *ctx, t2g_dtype dtype, uint32_t N, uint32_t C, float eps, double lo, double hi) {
    check_case_begin(ctx);
    size_t NC = (size_t)N * C;
    float *x = check_random_floats(ctx, NC, lo, hi), *w = check_random_floats(ctx, C, -2, 2);
    double *ref_out = check_doubles(ctx, NC), *ref_rstd = check_doubles(ctx, N);
    ref_rmsnorm_forward(ref_out, ref_rstd, check_to_double(ctx, x, NC), check_to_double(ctx, w, C), (int)N, (int)C, eps);
    rmsnorm_call call = {check_poisoned(ctx, N), check_upload(ctx, x, NC), check_upload(ctx, w, C), N, C, eps};
    char label[128];
    snprintf(label, sizeof label, "rmsnorm out N=%u C=%u eps=%g x in [%g, %g]", N, C, eps, lo, hi);
    check_stored_output(ctx, label, dtype, NC, ref_out, 1e-5, record_rmsnorm, &call);
    snprintf(label, sizeof label, "rmsnorm rstd, %s out, N=%u C=%u", t2g_dtype_name(dtype), N, C);
    check_close(ctx, label, check_download(ctx, call.rstd, N), ref_rstd, N, 1e-5);
}

/* Shapes, eps and missing tensors are refused before anything is recorded. */
static void rmsnorm_arguments(check_ctx *ctx) {
    check_case_begin(ctx);
    t2g_tensor small = check_poisoned(ctx, 8), big = check_poisoned(ctx, 64);
    uint64_t dispatches = t2g_recorder_dispatch_count(ctx->recorder);
    t2g_status s = t2g_rmsnorm_forward(ctx->recorder, big, small, big, small, 4, 16, 1e-5f, &ctx->err);
    check_true(ctx, s == T2G_ERR_ARGUMENT, "rmsnorm_forward refuses weight of 8 for C=16");
    s = t2g_rmsnorm_forward(ctx->recorder, big, small, big, small, 4, 8, 0.0f, &ctx->err);
    check_true(ctx, s == T2G_ERR_ARGUMENT, "rmsnorm_forward refuses eps = 0");
    s = t2g_rmsnorm_forward(ctx->recorder, big, small, big, small, 4, 8, NAN, &ctx->err);
    check_true(ctx, s == T2G_ERR_ARGUMENT, "rmsnorm_forward refuses eps = NaN");
    s = t2g_rmsnorm_backward(ctx->recorder, big, small, big, big, small, small, 4, 0, &ctx->err);
    check_true(ctx, s == T2G_ERR_ARGUMENT, "rmsnorm_backward refuses C=0");
    s = t2g_rmsnorm_backward(ctx->recorder, big, small, (t2g_tensor){0}, big, small, small, 2, 8, &ctx->err);
    check_true(ctx, s == T2G_ERR_ARGUMENT, "rmsnorm_backward refuses a missing dout");
    s = t2g_rmsnorm_backward(ctx->recorder, big, small, big, big, small, small, 16, 8, &ctx->err);
    check_true(ctx, s == T2G_ERR_ARGUMENT, "rmsnorm_backward refuses rstd of 8 for N=16");
    t2g_tensor half = big; /* 128 bf16 elements: out may hold them, the backward's dout not */
    half.dtype = T2G_DTYPE_BF16;
    s = t2g_rmsnorm_backward(ctx->recorder, big, small, half, big, small, small, 4, 8, &ctx->err);
    check_true(ctx, s == T2G_ERR_ARGUMENT && strstr(ctx->err.message, "'dout' holds bf16"),
               "rmsnorm_backward refuses a bf16 dout (%s)", ctx->err.message);
    s = t2g_rmsnorm_forward(ctx->recorder, half, small, big, small, 4, 33, 1e-5f, &ctx->err);
    check_true(ctx, s == T2G_ERR_ARGUMENT && strstr(ctx->err.message, "128 bf16"),
               "rmsnorm_forward refuses a bf16 out of 128 for N=4 C=33 (%s)", ctx->err.message);
    check_true(ctx, t2g_recorder_dispatch_count(ctx->recorder) == dispatches, "rmsnorm: nothing recorded on refusal");
}

/* The cases, run in both row layouts (norm_rows.c) where the device is a CPU device. */
static void rmsnorm_cases(check_ctx *ctx) {
    rmsnorm_case(ctx, 7, 48, 1e-5f, -3, 3);
    rmsnorm_case(ctx, 1, 1, 1e-6f, -3, 3);
    rmsnorm_case(ctx, 1, 7, 1e-5f, -1, 1);
    rmsnorm_case(ctx, 5, 67, 1e-6f, 2, 5);     /* all positive: no sign cancels in the sums */
    rmsnorm_case(ctx, 130, 48, 1e-5f, -3, 3);  /* several rows to a workgroup, odd row count */
    rmsnorm_case(ctx, 259, 576, 1e-5f, -3, 3); /* two row chunks of the weight gradient */
    rmsnorm_case(ctx, 3, 2051, 1e-6f, -3, 3);  /* each lane strides over several columns */
    /* mean square ~3e-7 against eps = 1e-6: eps is most of the denominator */
    rmsnorm_case(ctx, 33, 67, 1e-6f, -1e-3, 1e-3);
    for (int f = 0; f < 2; f++) {
        rmsnorm16_case(ctx, check_formats16[f], 130, 48, 1e-5f, -3, 3);
        rmsnorm16_case(ctx, check_formats16[f], 3, 2051, 1e-6f, -3, 3);
    }
}

/* The forward and the dinp dispatch reading their rows' quads (C % 4 == 0, the CPU layout)
 * through texel views of their own tensors, through ones that start before them and through none
 * (views of at most 4 texels: one column at a time): the same bits. */
typedef struct rmsnorm_views {
    uint32_t N, C;
    const float *x, *weight, *g, *d, *zeros; /* inp, weight, dout, dinp's start, C zeros */
} rmsnorm_views;

static t2g_status record_rmsnorm_views(check_ctx *ctx, int way, size_t pad, void *user,
                                       t2g_tensor outs[CHECK_WAY_OUTPUTS]) {
    const rmsnorm_views *c = user;
    size_t NC = (size_t)c->N * c->C;
    t2g_tensor inp = check_upload_for_way(ctx, way, c->x, NC, pad);
    t2g_tensor weight = check_upload_for_way(ctx, way, c->weight, c->C, pad);
    t2g_tensor dout = check_upload_for_way(ctx, way, c->g, NC, pad);
    /* out, rstd, dinp, dweight */
    outs[0] = check_poisoned(ctx, NC), outs[1] = check_poisoned(ctx, c->N);
    outs[2] = check_upload_for_way(ctx, way, c->d, NC, pad), outs[3] = check_upload(ctx, c->zeros, c->C);
    t2g_status status = t2g_rmsnorm_forward(ctx->recorder, outs[0], outs[1], inp, weight, c->N, c->C, 1e-5f, &ctx->err);
    if (!status)
        status = t2g_rmsnorm_backward(ctx->recorder, outs[2], outs[3], dout, inp, weight, outs[1], c->N, c->C, &ctx->err);
    return status;
}

static void rmsnorm_views_case(check_ctx *ctx, uint32_t N, uint32_t C) {
    check_case_begin(ctx);
    size_t NC = (size_t)N * C;
    rmsnorm_views c = {N, C, check_random_floats(ctx, NC, -3, 3), check_random_floats(ctx, C, 0.5, 1.5),
                       check_random_floats(ctx, NC, -1, 1), check_random_floats(ctx, NC, -1, 1),
                       check_random_floats(ctx, C, 0, 0)};
    static const char *names[4] = {"out", "rstd", "dinp", "dweight"};
    const size_t counts[4] = {NC, N, NC, C};
    float *got[CHECK_TEXEL_WAYS][CHECK_WAY_OUTPUTS] = {{NULL}};
    char what[64];
    snprintf(what, sizeof what, "rmsnorm N=%u C=%u", N, C);
    check_texel_ways_case(ctx, what, names, counts, 4, record_rmsnorm_views, &c, got);
}

T2G_CHECK(rmsnorm) {
    rmsnorm_case(ctx, 7, 48, 1e-5f, -3, 3);
    if (ctx->quick) return ctx->failures;
    for (int gpu = 0; gpu < 2; gpu++) {
        t2g_device_test_layouts_as_gpu(ctx->device, gpu);
        check_log(ctx, "row layout: %s", t2g_device_layouts_for_cpu(ctx->device) ? "CPU devices'" : "GPUs'");
        rmsnorm_cases(ctx);
    }
    t2g_device_test_layouts_as_gpu(ctx->device, false);
    rmsnorm_views_case(ctx, 37, 68);
    rmsnorm_views_case(ctx, 5, 576);
    rmsnorm_arguments(ctx);
    return ctx->failures;
}
