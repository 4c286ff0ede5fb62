/* SwiGLU forward and backward against tests/ref/swiglu.c, on odd F and on F a multiple of 4 (the
 * kernels' quads), and on gates far in both tails (|x| up to 1000), where a sigmoid taking exp of
 * a positive argument would overflow; the quads through texel views of every kind; the forward
 * into bf16 and f16 outputs. */
#include <math.h>

#include "check.h"
#include "ref/ref.h"
#include "storage16.h"

typedef struct swiglu_loss {
    const double *h, *g;
    double *out;
    int N, F;
} swiglu_loss;

/* sum g * swiglu(h): its gradient is what swiglu_backward computes from dout = g. */
static double loss_of(void *user) {
    swiglu_loss *l = user;
    ref_swiglu_forward(l->out, l->h, l->N, l->F);
    double sum = 0;
    for (size_t i = 0; i < (size_t)l->N * l->F; i++) sum += l->g[i] * l->out[i];
    return sum;
}

/* Gates at fixed points of both tails, cycled over the gate half of every row of h (N,2F). */
static void set_extreme_gates(float *h, uint32_t N, uint32_t F) {
    static const float gates[] = {-1000, -100, -88, -20, 0, 20, 88, 100, 1000};
    const size_t count = sizeof gates / sizeof gates[0];
    for (size_t n = 0; n < N; n++)
        for (size_t f = 0; f < F; f++) h[n * 2 * F + f] = gates[(n * F + f) % count];
}

/* Every element finite and within tolerance * (|ref| + scale[i]) of the reference: the tails'
 * tiny outputs are each held to their own size, not hidden in the norm of the large ones. */
static void check_elements(check_ctx *ctx, const char *label, const float *gpu, const double *ref,
                           const double *scale, size_t n, double tolerance) {
    for (size_t i = 0; i < n; i++)
        if (!check_expect(ctx, isfinite(gpu[i]) && fabs(gpu[i] - ref[i]) <= tolerance * (fabs(ref[i]) + scale[i]),
                          "%s: element %zu is %.9g, the reference %.9g", label, i, gpu[i], ref[i]))
            return;
    ctx->comparisons++;
}

static void swiglu_case(check_ctx *ctx, uint32_t N, uint32_t F, double lo, double hi, bool extreme) {
    check_case_begin(ctx);
    size_t NF = (size_t)N * F, N2F = 2 * NF;
    char label[128];
    float *h = check_random_floats(ctx, N2F, lo, hi), *g = check_random_floats(ctx, NF, -1, 1);
    if (extreme) set_extreme_gates(h, N, F);
    float *dh0 = check_random_floats(ctx, N2F, -1, 1); /* the backward adds into this */
    double *hd = check_to_double(ctx, h, N2F), *gd = check_to_double(ctx, g, NF);
    double *ref_out = check_doubles(ctx, NF), *ref_dh = check_to_double(ctx, dh0, N2F);
    ref_swiglu_forward(ref_out, hd, (int)N, (int)F);
    ref_swiglu_backward(ref_dh, hd, gd, (int)N, (int)F);
    /* dh0 + the increment can cancel: the backward's yardstick is |dh0| + |increment|. */
    double *increment = check_doubles(ctx, N2F), *magnitude = check_abs(ctx, check_to_double(ctx, dh0, N2F), N2F);
    ref_swiglu_backward(increment, hd, gd, (int)N, (int)F);
    for (size_t i = 0; i < N2F; i++) magnitude[i] += fabs(increment[i]);

    t2g_tensor th = check_upload(ctx, h, N2F), dout = check_upload(ctx, g, NF);
    t2g_tensor out = check_poisoned(ctx, NF), dh = check_poisoned(ctx, N2F);
    float *gpu_out[2], *gpu_dh[2];
    for (int run = 0; run < 2; run++) {
        check_poison(ctx, out, NF);
        check_reupload(ctx, dh, dh0, N2F);
        check_status(ctx, t2g_swiglu_forward(ctx->recorder, out, th, N, F, &ctx->err), "swiglu_forward");
        check_status(ctx, t2g_swiglu_backward(ctx->recorder, dh, th, dout, N, F, &ctx->err), "swiglu_backward");
        check_submit(ctx);
        gpu_out[run] = check_download(ctx, out, NF);
        gpu_dh[run] = check_download(ctx, dh, N2F);
    }
    const char *range = extreme ? "gates in both tails" : "";
    snprintf(label, sizeof label, "swiglu forward N=%u F=%u h in [%g, %g] %s", N, F, lo, hi, range);
    check_bitwise(ctx, label, gpu_out[0], gpu_out[1], NF);
    check_close(ctx, label, gpu_out[0], ref_out, NF, 1e-5);
    if (extreme) {
        /* |up| is the scale of an output: silu(x) is x or 0 to within float rounding out there. */
        double *up_scale = check_doubles(ctx, NF);
        for (size_t n = 0; n < N; n++)
            for (size_t f = 0; f < F; f++) up_scale[n * F + f] = 1e-30 * fabs(hd[n * 2 * F + F + f]);
        check_elements(ctx, label, gpu_out[0], ref_out, up_scale, NF, 1e-5);
    }
    snprintf(label, sizeof label, "swiglu backward N=%u F=%u h in [%g, %g] %s", N, F, lo, hi, range);
    check_bitwise(ctx, label, gpu_dh[0], gpu_dh[1], N2F);
    check_close_scaled(ctx, label, gpu_dh[0], ref_dh, N2F, check_norm(magnitude, N2F), 1e-5);
    if (extreme) check_elements(ctx, label, gpu_dh[0], ref_dh, magnitude, N2F, 1e-5);

    /* Not on the wide tails: a loss of 1e5 rounds to 1e-11, which a step of 1e-6 turns into 1e-5. */
    if (N2F <= 4096 && hi - lo <= 12) {
        double *analytic = check_doubles(ctx, N2F);
        ref_swiglu_backward(analytic, hd, gd, (int)N, (int)F);
        swiglu_loss l = {hd, gd, check_doubles(ctx, NF), (int)N, (int)F};
        snprintf(label, sizeof label, "swiglu reference backward vs finite diff N=%u F=%u %s", N, F, range);
        check_finite_differences(ctx, label, loss_of, &l, hd, analytic, N2F, 256, 1e-6);
    }
}

/* Shapes and missing tensors are refused before anything is recorded. */
static void swiglu_arguments(check_ctx *ctx) {
    check_case_begin(ctx);
    t2g_tensor small = check_poisoned(ctx, 8), big = check_poisoned(ctx, 16);
    uint64_t dispatches = t2g_recorder_dispatch_count(ctx->recorder);
    t2g_status s = t2g_swiglu_forward(ctx->recorder, big, small, 2, 8, &ctx->err);
    check_true(ctx, s == T2G_ERR_ARGUMENT, "swiglu_forward refuses h of 8 for N=2 F=8 (needs 32)");
    s = t2g_swiglu_forward(ctx->recorder, big, big, 4, 0, &ctx->err);
    check_true(ctx, s == T2G_ERR_ARGUMENT, "swiglu_forward refuses F=0");
    s = t2g_swiglu_backward(ctx->recorder, small, big, small, 2, 4, &ctx->err);
    check_true(ctx, s == T2G_ERR_ARGUMENT, "swiglu_backward refuses dh of 8 for N=2 F=4 (needs 16)");
    s = t2g_swiglu_backward(ctx->recorder, big, big, (t2g_tensor){0}, 2, 4, &ctx->err);
    check_true(ctx, s == T2G_ERR_ARGUMENT, "swiglu_backward refuses a missing dout");
    check_true(ctx, t2g_recorder_dispatch_count(ctx->recorder) == dispatches, "swiglu: nothing recorded on refusal");
}

typedef struct swiglu_call {
    t2g_tensor h;
    uint32_t N, F;
} swiglu_call;

static bool record_swiglu(check_ctx *ctx, t2g_tensor out, void *user) {
    swiglu_call *c = user;
    return check_status(ctx, t2g_swiglu_forward(ctx->recorder, out, c->h, c->N, c->F, &ctx->err), "swiglu_forward");
}

/* The forward into a 16-bit out: the f32 tolerance plus the rounding of each stored value
 * (storage16.h, check_close_stored). */
static void swiglu16_case(check_ctx *ctx, t2g_dtype dtype, uint32_t N, uint32_t F, double lo, double hi, bool extreme) {
    check_case_begin(ctx);
    size_t NF = (size_t)N * F;
    float *h = check_random_floats(ctx, 2 * NF, lo, hi);
    if (extreme) set_extreme_gates(h, N, F);
    double *ref = check_doubles(ctx, NF);
    ref_swiglu_forward(ref, check_to_double(ctx, h, 2 * NF), (int)N, (int)F);
    swiglu_call call = {check_upload(ctx, h, 2 * NF), N, F};
    char label[128];
    snprintf(label, sizeof label, "swiglu forward N=%u F=%u h in [%g, %g]%s", N, F, lo, hi,
             extreme ? " gates in both tails" : "");
    check_stored_output(ctx, label, dtype, NF, ref, 1e-5, record_swiglu, &call);
}

/* The forward keeping h in another type (t2g_swiglu_forward_keep), both ways (storage16.h). */
static bool record_swiglu_keep(check_ctx *ctx, t2g_tensor out, t2g_tensor keep, t2g_tensor h, void *user) {
    const uint32_t *NF = user;
    return check_status(ctx, t2g_swiglu_forward_keep(ctx->recorder, out, keep, h, NF[0], NF[1], &ctx->err),
                        "swiglu_forward_keep");
}

static bool record_swiglu_plain(check_ctx *ctx, t2g_tensor out, t2g_tensor h, void *user) {
    const uint32_t *NF = user;
    return check_status(ctx, t2g_swiglu_forward(ctx->recorder, out, h, NF[0], NF[1], &ctx->err), "swiglu_forward");
}

static void swiglu_keep_case(check_ctx *ctx, t2g_dtype dtype, uint32_t N, uint32_t F, bool extreme) {
    check_case_begin(ctx);
    size_t NF = (size_t)N * F;
    float *h = check_random_floats(ctx, 2 * NF, -6, 6);
    if (extreme) set_extreme_gates(h, N, F);
    uint32_t shape[2] = {N, F};
    char label[96];
    snprintf(label, sizeof label, "swiglu forward keeping h N=%u F=%u%s", N, F, extreme ? " gates in both tails" : "");
    check_keep_case(ctx, label, dtype, h, 2 * NF, NF, record_swiglu_keep, record_swiglu_plain, shape);
}

/* The forward and the backward reading their quads (F % 4 == 0) through texel views of their own
 * tensors, through ones that start before them (slices after NaNs under a 256-byte alignment) and
 * through none (views of at most 4 texels: one element at a time): the same bits. */
typedef struct swiglu_views {
    uint32_t N, F;
    const float *h, *g, *dh; /* h, dout, dh's start */
} swiglu_views;

static t2g_status record_swiglu_views(check_ctx *ctx, int way, size_t pad, void *user,
                                      t2g_tensor outs[CHECK_WAY_OUTPUTS]) {
    const swiglu_views *c = user;
    size_t NF = (size_t)c->N * c->F;
    t2g_tensor h = check_upload_for_way(ctx, way, c->h, 2 * NF, pad), dout = check_upload_for_way(ctx, way, c->g, NF, pad);
    outs[0] = check_poisoned(ctx, NF + 1); /* out, and one element past it */
    outs[1] = check_upload_for_way(ctx, way, c->dh, 2 * NF, pad);
    t2g_status status = t2g_swiglu_forward(ctx->recorder, outs[0], h, c->N, c->F, &ctx->err);
    if (!status) status = t2g_swiglu_backward(ctx->recorder, outs[1], h, dout, c->N, c->F, &ctx->err);
    return status;
}

static void swiglu_views_case(check_ctx *ctx, uint32_t N, uint32_t F) {
    check_case_begin(ctx);
    size_t NF = (size_t)N * F;
    swiglu_views c = {N, F, check_random_floats(ctx, 2 * NF, -6, 6), check_random_floats(ctx, NF, -1, 1),
                      check_random_floats(ctx, 2 * NF, -1, 1)};
    static const char *names[2] = {"forward", "backward"};
    const size_t counts[2] = {NF + 1, 2 * NF};
    float *got[CHECK_TEXEL_WAYS][CHECK_WAY_OUTPUTS] = {{NULL}};
    char what[64];
    snprintf(what, sizeof what, "swiglu N=%u F=%u", N, F);
    if (check_texel_ways_case(ctx, what, names, counts, 2, record_swiglu_views, &c, got))
        check_true(ctx, isnan(got[0][0][NF]), "swiglu N=%u F=%u through views leaves element N F alone", N, F);
}

T2G_CHECK(swiglu) {
    swiglu_case(ctx, 3, 13, -5, 5, false);
    if (ctx->quick) return ctx->failures;
    swiglu_case(ctx, 1, 1, -3, 3, false);
    swiglu_case(ctx, 7, 13, -6, 6, false);
    swiglu_case(ctx, 3, 1536, -6, 6, false);
    swiglu_case(ctx, 129, 67, -4, 4, false);   /* more elements than one workgroup, odd rows */
    swiglu_case(ctx, 5, 257, -80, -20, false); /* the far negative tail: outputs near 0 */
    swiglu_case(ctx, 5, 257, 20, 100, false);  /* the far positive tail: silu(x) -> x */
    /* N * F = 65535 * 256 + 101: more than one grid covers; h (N,2F) just fits 128 MiB, the
     * smallest storage-buffer range a device may have */
    swiglu_case(ctx, 7, 2396723, -6, 6, false);
    swiglu_case(ctx, 2, 9, -2, 2, true);       /* gates from -1000 to 1000, one of each */
    swiglu_case(ctx, 7, 13, -2, 2, true);
    /* F % 4 == 0: quads (texel views), the same cases */
    swiglu_case(ctx, 129, 68, -4, 4, false);
    swiglu_case(ctx, 1, 4, -3, 3, false);
    swiglu_case(ctx, 3, 12, -2, 2, true);
    swiglu_case(ctx, 5, 256, -80, -20, false);
    swiglu_views_case(ctx, 37, 68);
    swiglu_views_case(ctx, 3, 1536);
    for (int f = 0; f < 2; f++) {
        swiglu16_case(ctx, check_formats16[f], 129, 67, -4, 4, false);
        swiglu16_case(ctx, check_formats16[f], 7, 13, -2, 2, true);
        swiglu_keep_case(ctx, check_formats16[f], 129, 67, false);
        swiglu_keep_case(ctx, check_formats16[f], 7, 13, true);
    }
    swiglu_arguments(ctx);
    return ctx->failures;
}
