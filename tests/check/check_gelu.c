/* GELU forward and backward against tests/ref/gelu.c, including large |x| where the tanh
 * form loses digits unless computed with care; the forward into bf16 and f16 outputs. */
#include <math.h>
#include <string.h>

#include "check.h"
#include "ref/ref.h"
#include "storage16.h"

typedef struct gelu_loss {
    const double *x, *g;
    double *y;
    size_t n;
} gelu_loss;

/* sum_i g_i gelu(x_i): its gradient is what gelu_backward computes from dout = g. */
static double loss_of(void *user) {
    gelu_loss *l = user;
    ref_gelu_forward(l->y, l->x, l->n);
    double sum = 0;
    for (size_t i = 0; i < l->n; i++) sum += l->g[i] * l->y[i];
    return sum;
}

static void gelu_case(check_ctx *ctx, size_t n, double lo, double hi) {
    check_case_begin(ctx);
    char label[128];
    float *x = check_random_floats(ctx, n, lo, hi);
    float *g = check_random_floats(ctx, n, -1, 1);
    float *dinp0 = check_random_floats(ctx, n, -1, 1); /* backward accumulates into this */
    double *xd = check_to_double(ctx, x, n), *gd = check_to_double(ctx, g, n);
    double *ref_out = check_doubles(ctx, n), *ref_dinp = check_to_double(ctx, dinp0, n);
    ref_gelu_forward(ref_out, xd, n);
    ref_gelu_backward(ref_dinp, xd, gd, n);
    /* dinp0 + gelu'(x) g can cancel (n = 1 has one element): the yardstick of the backward is
     * |dinp0| + |gelu'(x) g|. */
    double *increment = check_doubles(ctx, n), *magnitude = check_abs(ctx, check_to_double(ctx, dinp0, n), n);
    ref_gelu_backward(increment, xd, gd, n);
    for (size_t i = 0; i < n; i++) magnitude[i] += fabs(increment[i]);

    t2g_tensor inp = check_upload(ctx, x, n), dout = check_upload(ctx, g, n);
    t2g_tensor out = check_poisoned(ctx, n), dinp = check_poisoned(ctx, n);
    float *gpu_out[2], *gpu_dinp[2];
    for (int run = 0; run < 2; run++) {
        check_poison(ctx, out, n);
        check_reupload(ctx, dinp, dinp0, n);
        check_status(ctx, t2g_gelu_forward(ctx->recorder, out, inp, n, &ctx->err), "gelu_forward");
        check_status(ctx, t2g_gelu_backward(ctx->recorder, dinp, inp, dout, n, &ctx->err), "gelu_backward");
        check_submit(ctx);
        gpu_out[run] = check_download(ctx, out, n);
        gpu_dinp[run] = check_download(ctx, dinp, n);
    }
    snprintf(label, sizeof label, "gelu forward n=%zu x in [%g, %g]", n, lo, hi);
    check_bitwise(ctx, label, gpu_out[0], gpu_out[1], n);
    check_close(ctx, label, gpu_out[0], ref_out, n, 1e-5);
    snprintf(label, sizeof label, "gelu backward n=%zu x in [%g, %g]", n, lo, hi);
    check_bitwise(ctx, label, gpu_dinp[0], gpu_dinp[1], n);
    check_close_scaled(ctx, label, gpu_dinp[0], ref_dinp, n, check_norm(magnitude, n), 1e-5);

    if (n <= 4096) {
        double *analytic = check_doubles(ctx, n);
        ref_gelu_backward(analytic, xd, gd, n);
        gelu_loss l = {xd, gd, check_doubles(ctx, n), n};
        snprintf(label, sizeof label, "gelu reference backward vs finite diff n=%zu", n);
        check_finite_differences(ctx, label, loss_of, &l, xd, analytic, n, 64, 1e-6);
    }
}

typedef struct gelu_call {
    t2g_tensor inp;
    size_t n;
} gelu_call;

static bool record_gelu(check_ctx *ctx, t2g_tensor out, void *user) {
    gelu_call *c = user;
    return check_status(ctx, t2g_gelu_forward(ctx->recorder, out, c->inp, c->n, &ctx->err), "gelu_forward");
}

/* The forward into a 16-bit out: the f32 tolerance plus the rounding of each stored value
 * (storage16.h, check_close_stored). */
static void gelu16_case(check_ctx *ctx, t2g_dtype dtype, size_t n, double lo, double hi) {
    check_case_begin(ctx);
    float *x = check_random_floats(ctx, n, lo, hi);
    double *ref = check_doubles(ctx, n);
    ref_gelu_forward(ref, check_to_double(ctx, x, n), n);
    gelu_call call = {check_upload(ctx, x, n), n};
    char label[128];
    snprintf(label, sizeof label, "gelu forward n=%zu x in [%g, %g]", n, lo, hi);
    check_stored_output(ctx, label, dtype, n, ref, 1e-5, record_gelu, &call);
}

/* The forward keeping its input in another type (t2g_gelu_forward_keep), both ways: keep as
 * rounded (or widened), out bitwise the plain 16-bit forward's on keep's values (storage16.h). */
static bool record_gelu_keep(check_ctx *ctx, t2g_tensor out, t2g_tensor keep, t2g_tensor inp, void *user) {
    size_t n = *(const size_t *)user;
    return check_status(ctx, t2g_gelu_forward_keep(ctx->recorder, out, keep, inp, n, &ctx->err), "gelu_forward_keep");
}

static bool record_gelu_plain(check_ctx *ctx, t2g_tensor out, t2g_tensor inp, void *user) {
    size_t n = *(const size_t *)user;
    return check_status(ctx, t2g_gelu_forward(ctx->recorder, out, inp, n, &ctx->err), "gelu_forward");
}

static void gelu_keep_case(check_ctx *ctx, t2g_dtype dtype, size_t n, double lo, double hi) {
    check_case_begin(ctx);
    char label[96];
    snprintf(label, sizeof label, "gelu forward keeping its input n=%zu x in [%g, %g]", n, lo, hi);
    check_keep_case(ctx, label, dtype, check_random_floats(ctx, n, lo, hi), n, n, record_gelu_keep, record_gelu_plain,
                    &n);
}

/* The keeping forward refuses types it has no variant for, by name, recording nothing. */
static void gelu_keep_arguments(check_ctx *ctx) {
    check_case_begin(ctx);
    t2g_tensor f32 = check_poisoned(ctx, 8), half = check_upload_typed(ctx, T2G_DTYPE_BF16, NULL, 8, 0, 0);
    uint32_t dispatches = t2g_recorder_dispatch_count(ctx->recorder);
    t2g_status s = t2g_gelu_forward_keep(ctx->recorder, half, f32, f32, 8, &ctx->err);
    check_true(ctx, s == T2G_ERR_ARGUMENT && strstr(ctx->err.message, "out bf16, inp f32, keep f32"),
               "gelu_forward_keep refuses an f32 keep of an f32 inp (%s)", ctx->err.message);
    s = t2g_gelu_forward_keep(ctx->recorder, f32, half, f32, 8, &ctx->err);
    check_true(ctx, s == T2G_ERR_ARGUMENT, "gelu_forward_keep refuses an f32 out");
    check_true(ctx, t2g_recorder_dispatch_count(ctx->recorder) == dispatches, "gelu_forward_keep: nothing recorded");
}

/* The forward and the backward reading their quads through texel views of their own, through
 * ones that start before them (slices after NaNs under a 256-byte alignment) and through none
 * (views of at most 4 texels: one element at a time): the same bits. */
typedef struct gelu_views {
    size_t n;
    const float *x, *g, *d; /* inp, dout, dinp's start */
} gelu_views;

static t2g_status record_gelu_views(check_ctx *ctx, int way, size_t pad, void *user, t2g_tensor outs[CHECK_WAY_OUTPUTS]) {
    const gelu_views *c = user;
    t2g_tensor inp = check_upload_for_way(ctx, way, c->x, c->n, pad), dout = check_upload_for_way(ctx, way, c->g, c->n, pad);
    outs[0] = check_poisoned(ctx, c->n + 1); /* out, and one element past it */
    outs[1] = check_upload_for_way(ctx, way, c->d, c->n, pad);
    t2g_status status = t2g_gelu_forward(ctx->recorder, outs[0], inp, c->n, &ctx->err);
    if (!status) status = t2g_gelu_backward(ctx->recorder, outs[1], inp, dout, c->n, &ctx->err);
    return status;
}

static void gelu_views_case(check_ctx *ctx, size_t n) {
    check_case_begin(ctx);
    gelu_views c = {n, check_random_floats(ctx, n, -5, 5), check_random_floats(ctx, n, -1, 1),
                    check_random_floats(ctx, n, -1, 1)};
    static const char *names[2] = {"forward", "backward"};
    const size_t counts[2] = {n + 1, n};
    float *got[CHECK_TEXEL_WAYS][CHECK_WAY_OUTPUTS] = {{NULL}};
    char what[64];
    snprintf(what, sizeof what, "gelu n=%zu", n);
    if (check_texel_ways_case(ctx, what, names, counts, 2, record_gelu_views, &c, got))
        check_true(ctx, isnan(got[0][0][n]), "gelu n=%zu through views leaves element n alone", n);
}

T2G_CHECK(gelu) {
    gelu_case(ctx, 130, -5, 5);
    if (ctx->quick) return ctx->failures;
    gelu_case(ctx, 1, -3, 3);
    gelu_case(ctx, 7, -3, 3);
    gelu_case(ctx, 4099, -4, 4);
    gelu_case(ctx, 1000, -12, -3); /* the far negative tail: outputs near 0 from below */
    gelu_case(ctx, 1000, 3, 12);   /* the far positive tail: gelu(x) -> x */
    gelu_case(ctx, 65535u * 256u + 1001u, -6, 6); /* more elements than one grid covers */
    gelu_views_case(ctx, 4099);
    gelu_views_case(ctx, 130);
    for (int f = 0; f < 2; f++) {
        gelu16_case(ctx, check_formats16[f], 4099, -5, 5);
        gelu16_case(ctx, check_formats16[f], 1000, -12, -3); /* outputs down to f16's subnormals and 0 */
        gelu_keep_case(ctx, check_formats16[f], 4099, -5, 5);
        gelu_keep_case(ctx, check_formats16[f], 7, -70000, 70000); /* past f16's range: infinities kept */
    }
    if (t2g_device_get_info(ctx->device)->storage_16bit) gelu_keep_arguments(ctx);
    return ctx->failures;
}
