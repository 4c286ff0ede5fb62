/* LayerNorm forward and backward against tests/ref/layernorm.c. Inputs have a mean far from
 * zero compared with their spread (uniform in [lo, hi]), which a one-pass variance would get
 * wrong; the backward runs on the forward's own mean and rstd, as in training, and adds into
 * random gradients. The forward into bf16 and f16 outputs (mean and rstd stay f32). */
#include <math.h>
#include <string.h>

#include "check.h"
#include "ref/ref.h"
#include "storage16.h"

typedef struct layernorm_loss {
    const double *inp, *weight, *bias, *g;
    double *out, *mean, *rstd;
    int N, C;
} layernorm_loss;

/* sum g * layernorm(inp; weight, bias): its gradients are what the backward computes from
 * dout = g. */
static double loss_of(void *user) {
    layernorm_loss *l = user;
    ref_layernorm_forward(l->out, l->mean, l->rstd, l->inp, l->weight, l->bias, l->N, l->C);
    double sum = 0;
    for (size_t i = 0; i < (size_t)l->N * l->C; i++) sum += l->g[i] * l->out[i];
    return sum;
}

static void finite_differences(check_ctx *ctx, double *inp, double *weight, double *bias, const double *g, int N,
                               int C) {
    size_t NC = (size_t)N * C;
    double *mean = check_doubles(ctx, N), *rstd = check_doubles(ctx, N);
    layernorm_loss l = {inp, weight, bias, g, check_doubles(ctx, NC), mean, rstd, N, C};
    ref_layernorm_forward(l.out, mean, rstd, inp, weight, bias, N, C);
    double *dinp = check_doubles(ctx, NC), *dweight = check_doubles(ctx, C), *dbias = check_doubles(ctx, C);
    ref_layernorm_backward(dinp, dweight, dbias, g, inp, weight, mean, rstd, N, C);
    char label[128];
    snprintf(label, sizeof label, "layernorm reference dinp vs finite diff N=%d C=%d", N, C);
    check_finite_differences(ctx, label, loss_of, &l, inp, dinp, NC, 256, 1e-6);
    snprintf(label, sizeof label, "layernorm reference dweight vs finite diff N=%d C=%d", N, C);
    check_finite_differences(ctx, label, loss_of, &l, weight, dweight, C, 256, 1e-6);
    snprintf(label, sizeof label, "layernorm reference dbias vs finite diff N=%d C=%d", N, C);
    check_finite_differences(ctx, label, loss_of, &l, bias, dbias, C, 256, 1e-6);
}

static void layernorm_case(check_ctx *ctx, uint32_t N, uint32_t C, double lo, double hi) {
    check_case_begin(ctx);
    size_t NC = (size_t)N * C;
    float *x = check_random_floats(ctx, NC, lo, hi);
    float *w = check_random_floats(ctx, C, -2, 2), *b = check_random_floats(ctx, C, -1, 1);
    float *g = check_random_floats(ctx, NC, -1, 1);
    /* the backward adds into these */
    float *dinp0 = check_random_floats(ctx, NC, -1, 1);
    float *dweight0 = check_random_floats(ctx, C, -1, 1), *dbias0 = check_random_floats(ctx, C, -1, 1);

    double *xd = check_to_double(ctx, x, NC), *wd = check_to_double(ctx, w, C), *bd = check_to_double(ctx, b, C);
    double *gd = check_to_double(ctx, g, NC);
    double *ref_out = check_doubles(ctx, NC), *ref_mean = check_doubles(ctx, N), *ref_rstd = check_doubles(ctx, N);
    double *ref_dinp = check_to_double(ctx, dinp0, NC);
    double *ref_dweight = check_to_double(ctx, dweight0, C), *ref_dbias = check_to_double(ctx, dbias0, C);
    ref_layernorm_forward(ref_out, ref_mean, ref_rstd, xd, wd, bd, (int)N, (int)C);
    ref_layernorm_backward(ref_dinp, ref_dweight, ref_dbias, gd, xd, wd, ref_mean, ref_rstd, (int)N, (int)C);

    t2g_tensor inp = check_upload(ctx, x, NC), weight = check_upload(ctx, w, C), bias = check_upload(ctx, b, C);
    t2g_tensor dout = check_upload(ctx, g, NC);
    t2g_tensor out = check_poisoned(ctx, NC), mean = check_poisoned(ctx, N), rstd = check_poisoned(ctx, N);
    t2g_tensor dinp = check_poisoned(ctx, NC), dweight = check_poisoned(ctx, C), dbias = check_poisoned(ctx, C);
    float *gpu[2][6];
    for (int run = 0; run < 2; run++) {
        check_poison(ctx, out, NC);
        check_poison(ctx, mean, N);
        check_poison(ctx, rstd, N);
        check_reupload(ctx, dinp, dinp0, NC);
        check_reupload(ctx, dweight, dweight0, C);
        check_reupload(ctx, dbias, dbias0, C);
        check_status(ctx, t2g_layernorm_forward(ctx->recorder, out, mean, rstd, inp, weight, bias, N, C, &ctx->err),
                     "layernorm_forward");
        check_status(ctx,
                     t2g_layernorm_backward(ctx->recorder, dinp, dweight, dbias, dout, inp, weight, mean, rstd, N, C,
                                            &ctx->err),
                     "layernorm_backward");
        check_submit(ctx);
        gpu[run][0] = check_download(ctx, out, NC);
        gpu[run][1] = check_download(ctx, mean, N);
        gpu[run][2] = check_download(ctx, rstd, N);
        gpu[run][3] = check_download(ctx, dinp, NC);
        gpu[run][4] = check_download(ctx, dweight, C);
        gpu[run][5] = check_download(ctx, dbias, C);
    }
    const char *names[6] = {"out", "mean", "rstd", "dinp", "dweight", "dbias"};
    const double *refs[6] = {ref_out, ref_mean, ref_rstd, ref_dinp, ref_dweight, ref_dbias};
    const size_t counts[6] = {NC, N, N, NC, C, C};
    for (int i = 0; i < 6; i++) {
        char label[128];
        snprintf(label, sizeof label, "layernorm %s N=%u C=%u x in [%g, %g]", names[i], N, C, lo, hi);
        check_bitwise(ctx, label, gpu[0][i], gpu[1][i], counts[i]);
        check_close(ctx, label, gpu[0][i], refs[i], counts[i], 1e-5);
    }
    if (NC <= 512) finite_differences(ctx, xd, wd, bd, gd, (int)N, (int)C);
}

typedef struct layernorm_call {
    t2g_tensor mean, rstd, inp, weight, bias;
    uint32_t N, C;
} layernorm_call;

static bool record_layernorm(check_ctx *ctx, t2g_tensor out, void *user) {
    layernorm_call *c = user;
    return check_status(ctx, t2g_layernorm_forward(ctx->recorder, out, c->mean, c->rstd, c->inp, c->weight, c->bias,
                                                   c->N, c->C, &ctx->err),
                        "layernorm_forward");
}

/* The forward into a 16-bit out: the f32 tolerance plus the rounding of each stored value
 * (storage16.h, check_close_stored); mean and rstd as in f32. */
static void layernorm16_case(check_ctx *ctx, t2g_dtype dtype, uint32_t N, uint32_t C, double lo, double hi) {
    check_case_begin(ctx);
    size_t NC = (size_t)N * C;
    float *x = check_random_floats(ctx, NC, lo, hi);
    float *w = check_random_floats(ctx, C, -2, 2), *b = check_random_floats(ctx, C, -1, 1);
    double *ref_out = check_doubles(ctx, NC), *ref_mean = check_doubles(ctx, N), *ref_rstd = check_doubles(ctx, N);
    ref_layernorm_forward(ref_out, ref_mean, ref_rstd, check_to_double(ctx, x, NC), check_to_double(ctx, w, C),
                          check_to_double(ctx, b, C), (int)N, (int)C);
    layernorm_call call = {check_poisoned(ctx, N), check_poisoned(ctx, N), check_upload(ctx, x, NC),
                           check_upload(ctx, w, C), check_upload(ctx, b, C), N, C};
    char label[128];
    snprintf(label, sizeof label, "layernorm out N=%u C=%u x in [%g, %g]", N, C, lo, hi);
    check_stored_output(ctx, label, dtype, NC, ref_out, 1e-5, record_layernorm, &call);
    snprintf(label, sizeof label, "layernorm mean, %s out, N=%u C=%u", t2g_dtype_name(dtype), N, C);
    check_close(ctx, label, check_download(ctx, call.mean, N), ref_mean, N, 1e-5);
    snprintf(label, sizeof label, "layernorm rstd, %s out, N=%u C=%u", t2g_dtype_name(dtype), N, C);
    check_close(ctx, label, check_download(ctx, call.rstd, N), ref_rstd, N, 1e-5);
}

/* Shapes and missing tensors are refused before anything is recorded. */
static void layernorm_arguments(check_ctx *ctx) {
    check_case_begin(ctx);
    t2g_tensor small = check_poisoned(ctx, 8), big = check_poisoned(ctx, 64);
    uint64_t dispatches = t2g_recorder_dispatch_count(ctx->recorder);
    t2g_status s = t2g_layernorm_forward(ctx->recorder, big, small, small, big, small, small, 4, 16, &ctx->err);
    check_true(ctx, s == T2G_ERR_ARGUMENT, "layernorm_forward refuses weight of 8 for C=16");
    s = t2g_layernorm_backward(ctx->recorder, big, small, small, big, big, small, small, small, 4, 0, &ctx->err);
    check_true(ctx, s == T2G_ERR_ARGUMENT, "layernorm_backward refuses C=0");
    s = t2g_layernorm_backward(ctx->recorder, big, small, small, (t2g_tensor){0}, big, small, small, small, 2, 8,
                               &ctx->err);
    check_true(ctx, s == T2G_ERR_ARGUMENT, "layernorm_backward refuses a missing dout");
    /* elements are counted by the tensor's type: 64 floats' bytes as bf16 are 128 elements; out
     * may hold them, inp (a residual stream, f32) not */
    t2g_tensor half = big;
    half.dtype = T2G_DTYPE_BF16;
    check_true(ctx, t2g_tensor_count(half) == 128, "64 floats' bytes hold 128 bf16 elements");
    s = t2g_layernorm_forward(ctx->recorder, big, small, small, half, small, small, 4, 8, &ctx->err);
    check_true(ctx, s == T2G_ERR_ARGUMENT && strstr(ctx->err.message, "'inp' holds bf16 elements"),
               "layernorm_forward refuses a bf16 inp (%s)", ctx->err.message);
    s = t2g_layernorm_forward(ctx->recorder, half, small, small, big, small, small, 4, 33, &ctx->err);
    check_true(ctx, s == T2G_ERR_ARGUMENT && strstr(ctx->err.message, "128 bf16 elements"),
               "layernorm_forward refuses a bf16 out of 128 for N=4 C=33 (%s)", ctx->err.message);
    half.dtype = T2G_DTYPE_U32;
    s = t2g_layernorm_forward(ctx->recorder, half, small, small, big, small, small, 4, 8, &ctx->err);
    check_true(ctx, s == T2G_ERR_ARGUMENT && strstr(ctx->err.message, "'out' holds u32"),
               "layernorm_forward refuses a u32 out (%s)", ctx->err.message);
    check_true(ctx, t2g_recorder_dispatch_count(ctx->recorder) == dispatches, "layernorm: nothing recorded on refusal");
}

/* The cases run in both row layouts (norm_rows.c) where the device is a CPU device; on a GPU the
 * GPU layout runs twice. */
static void layernorm_cases(check_ctx *ctx) {
    layernorm_case(ctx, 1, 1, 2, 5);
    layernorm_case(ctx, 1, 7, 2, 5);
    layernorm_case(ctx, 130, 48, 2, 5);
    layernorm_case(ctx, 259, 1000, 2, 5);
    layernorm_case(ctx, 300, 768, 2, 5);
    layernorm_case(ctx, 300, 768, -3, 3);      /* zero mean */
    /* Mean 30x the spread: a one-pass variance fails here (6e-4), [2, 5] does not tell. The
     * largest error left, dweight's ~3e-6, is the float rounding of the stored mean (half an
     * ulp of 100 is 3.8e-6, against a spread of 0.87): with the GPU's own mean and rstd the
     * reference agrees to 2e-7. */
    layernorm_case(ctx, 64, 768, 100, 103);
    for (int f = 0; f < 2; f++) {
        layernorm16_case(ctx, check_formats16[f], 7, 48, 2, 5);
        layernorm16_case(ctx, check_formats16[f], 259, 1000, -3, 3);
    }
}

/* The forward and the dinp dispatch reading their rows' quads (C % 4 == 0, the CPU layout)
 * through texel views of their own tensors, through ones that start before them and through none
 * (views of at most 4 texels: one column at a time): the same bits. */
typedef struct norm_views {
    uint32_t N, C;
    const float *x, *weight, *bias, *g, *d, *zeros; /* inp, weight, bias, dout, dinp's start, C zeros */
} norm_views;

static t2g_status record_layernorm_views(check_ctx *ctx, int way, size_t pad, void *user,
                                         t2g_tensor outs[CHECK_WAY_OUTPUTS]) {
    const norm_views *c = user;
    size_t NC = (size_t)c->N * c->C;
    t2g_tensor inp = check_upload_for_way(ctx, way, c->x, NC, pad);
    t2g_tensor weight = check_upload_for_way(ctx, way, c->weight, c->C, pad);
    t2g_tensor bias = check_upload_for_way(ctx, way, c->bias, c->C, pad);
    t2g_tensor dout = check_upload_for_way(ctx, way, c->g, NC, pad);
    /* out, mean, rstd, dinp, dweight, dbias */
    outs[0] = check_poisoned(ctx, NC), outs[1] = check_poisoned(ctx, c->N), outs[2] = check_poisoned(ctx, c->N);
    outs[3] = check_upload_for_way(ctx, way, c->d, NC, pad);
    outs[4] = check_upload(ctx, c->zeros, c->C), outs[5] = check_upload(ctx, c->zeros, c->C);
    t2g_status status = t2g_layernorm_forward(ctx->recorder, outs[0], outs[1], outs[2], inp, weight, bias, c->N, c->C,
                                              &ctx->err);
    if (!status)
        status = t2g_layernorm_backward(ctx->recorder, outs[3], outs[4], outs[5], dout, inp, weight, outs[1], outs[2],
                                        c->N, c->C, &ctx->err);
    return status;
}

static void layernorm_views_case(check_ctx *ctx, uint32_t N, uint32_t C) {
    check_case_begin(ctx);
    size_t NC = (size_t)N * C;
    norm_views c = {N, C, check_random_floats(ctx, NC, -2, 3), check_random_floats(ctx, C, 0.5, 1.5),
                    check_random_floats(ctx, C, -1, 1), check_random_floats(ctx, NC, -1, 1),
                    check_random_floats(ctx, NC, -1, 1), check_random_floats(ctx, C, 0, 0)};
    static const char *names[6] = {"out", "mean", "rstd", "dinp", "dweight", "dbias"};
    const size_t counts[6] = {NC, N, N, NC, C, C};
    float *got[CHECK_TEXEL_WAYS][CHECK_WAY_OUTPUTS] = {{NULL}};
    char what[64];
    snprintf(what, sizeof what, "layernorm N=%u C=%u", N, C);
    check_texel_ways_case(ctx, what, names, counts, 6, record_layernorm_views, &c, got);
}

T2G_CHECK(layernorm) {
    layernorm_case(ctx, 7, 48, 2, 5);
    if (ctx->quick) return ctx->failures;
    for (int gpu = 0; gpu < 2; gpu++) {
        t2g_device_test_layouts_as_gpu(ctx->device, gpu);
        check_log(ctx, "row layout: %s", t2g_device_layouts_for_cpu(ctx->device) ? "CPU devices'" : "GPUs'");
        layernorm_case(ctx, 7, 48, 2, 5);
        layernorm_cases(ctx);
    }
    t2g_device_test_layouts_as_gpu(ctx->device, false);
    layernorm_views_case(ctx, 37, 68);
    layernorm_views_case(ctx, 5, 768);
    layernorm_arguments(ctx);
    return ctx->failures;
}
