/* 16-bit storage: t2g_convert (f32 to bf16 and f16) against t2g/dtype.h's host conversions, in one
 * binding and in chunks; matmul forward and backward on every pair of operand types that
 * shaders/variants.txt compiles, against tests/ref/matmul.c; the pairs it does not compile
 * refused. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "kernels/matmul_internal.h"
#include "check.h"
#include "ref/ref.h"
#include "storage16.h"

static bool is_nan16(t2g_dtype dtype, uint16_t bits) {
    return dtype == T2G_DTYPE_BF16 ? (bits & 0x7FFFu) > 0x7F80u : (bits & 0x7FFFu) > 0x7C00u;
}

/* An f16 pattern as a position on the number line (the sign-magnitude order): neighbours
 * differ by one, +0 and -0 are both 0, the largest finite value and infinity are neighbours. */
static int32_t f16_order(uint16_t bits) { return bits & 0x8000u ? -(int32_t)(bits & 0x7FFFu) : (int32_t)bits; }

/* ---- t2g_convert ---- */

/* Values whose rounding is easy to get wrong, as f32 bit patterns. */
static const uint32_t EDGE_CASES[] = {
    0x00000000u, 0x80000000u,                           /* +0, -0 */
    0x00000001u, 0x80000001u, 0x007FFFFFu, 0x00008000u, /* f32 subnormals; a bf16 tie at 0 */
    0x00018000u, 0x00408000u,                           /* bf16 ties in the subnormals: up (odd), down (even) */
    0x3F808000u, 0x3F818000u, 0x3F808001u, 0xBF818000u, /* bf16 ties near 1: even stays, odd goes up; past a tie */
    0x3F800FFFu, 0x3F801000u, 0x3F803000u,              /* f16 ties near 1: below, down to even, up to even */
    0x7F7FFFFFu, 0xFF7FFFFFu, 0x7F7F8000u,              /* bf16 rounds these up to infinity */
    0x477FEFFFu, 0x477FF000u, 0x47800000u, 0xC8000000u, /* f16: under the overflow tie, at it, past, far past */
    0x7F800000u, 0xFF800000u,                           /* infinities */
    0x7FC00000u, 0xFFC00001u, 0x7F800001u, 0x7FFFFFFFu, /* NaNs: quiet, negative, signalling, every payload bit */
    0x33800000u, 0x33000000u, 0x33000001u, 0x387FC000u, /* f16 subnormals: 2^-24, its half (a tie), past it, near 2^-14 */
    0x38800000u, 0x3E2AAAABu, 0x40490FDBu,              /* 2^-14 (the smallest normal), 1/6, pi */
};
#define EDGE_COUNT (sizeof EDGE_CASES / sizeof EDGE_CASES[0])

/* n inputs: the edge cases, then random bit patterns (any exponent, NaNs included), then
 * normal values of a model's range. */
static float *convert_inputs(check_ctx *ctx, size_t n) {
    float *x = check_host(ctx, n * sizeof *x);
    for (size_t i = 0; i < n; i++) {
        if (i < EDGE_COUNT) x[i] = t2g_f32_from_bits(EDGE_CASES[i]);
        else if (i % 2) x[i] = t2g_f32_from_bits((uint32_t)check_random_u64(ctx));
        else x[i] = (float)(check_normal(ctx) * ldexp(1, (int)check_random_below(ctx, 24) - 16));
    }
    return x;
}

/* The converted bits of x (n), from t2g_convert into a `dtype` tensor; the dispatches recorded. */
static uint16_t *run_convert(check_ctx *ctx, t2g_dtype dtype, const float *x, size_t n, uint64_t *dispatches) {
    t2g_tensor src = check_upload(ctx, x, n), dst;
    uint16_t *bits = check_host(ctx, n * sizeof *bits);
    if (!check_status(ctx, t2g_tensor_alloc_typed(ctx->arena, dtype, n, &dst, &ctx->err), "allocating dst")) return bits;
    check_poison_typed(ctx, dst, n);
    uint64_t before = t2g_recorder_dispatch_count(ctx->recorder);
    check_status(ctx, t2g_convert(ctx->recorder, dst, src, n, &ctx->err), "t2g_convert");
    *dispatches = t2g_recorder_dispatch_count(ctx->recorder) - before;
    check_submit(ctx);
    check_status(ctx, t2g_tensor_download(dst, bits, n * 2, &ctx->err), "downloading dst");
    return bits;
}

/* bf16: every result the bits of t2g_f32_to_bf16 (the shader rounds as the host does). f16:
 * the device's conversion, within one unit in the last place of t2g_f32_to_f16's (to nearest,
 * ties to even); an overflow far past the range an infinity, a NaN a NaN. */
static void convert_case(check_ctx *ctx, t2g_dtype dtype, size_t n) {
    check_case_begin(ctx);
    float *x = convert_inputs(ctx, n);
    uint64_t dispatches = 0;
    uint16_t *got = run_convert(ctx, dtype, x, n, &dispatches);
    size_t exact = 0, within = 0, nan_kept = 0, nans = 0, overflows = 0, infinite = 0, first_off = n;
    for (size_t i = 0; i < n; i++) {
        uint16_t want = dtype == T2G_DTYPE_BF16 ? t2g_f32_to_bf16(x[i]) : t2g_f32_to_f16(x[i]);
        bool same = got[i] == want;
        if (isnan(x[i])) { /* bf16 keeps the payload's top bits as the host does; f16 any NaN */
            nans++;
            nan_kept += is_nan16(dtype, got[i]) && (same || dtype == T2G_DTYPE_F16);
            continue;
        }
        exact += same;
        if (!same && first_off == n) first_off = i;
        if (!same && dtype == T2G_DTYPE_F16 && i - exact < 4 + nans)
            check_log(ctx, "  convert f16: %.9g (0x%08x) becomes 0x%04x, round to nearest even gives 0x%04x", x[i],
                      (unsigned)t2g_f32_bits(x[i]), got[i], want);
        if (dtype == T2G_DTYPE_F16) {
            within += !is_nan16(dtype, got[i]) && abs(f16_order(got[i]) - f16_order(want)) <= 1;
            if (fabsf(x[i]) >= 131072.0f) overflows++, infinite += (got[i] & 0x7FFFu) == 0x7C00u;
        }
    }
    const char *name = t2g_dtype_name(dtype);
    check_true(ctx, nan_kept == nans, "convert %s n=%zu: %zu of %zu NaNs stay NaN", name, n, nan_kept, nans);
    if (dtype == T2G_DTYPE_BF16) {
        check_true(ctx, exact == n - nans, "convert bf16 n=%zu: %zu of %zu numbers bit-identical to t2g_f32_to_bf16 "
                   "(first other: element %zu)", n, exact, n - nans, first_off);
        return;
    }
    check_true(ctx, within == n - nans, "convert f16 n=%zu: %zu of %zu within one ulp of t2g_f32_to_f16", n, within,
               n - nans);
    check_true(ctx, overflows > 0 && infinite == overflows, "convert f16 n=%zu: %zu of %zu values past 2^17 become "
               "infinities", n, infinite, overflows);
    /* Not a requirement (storage.glsl allows rounding toward zero): which one this device does. */
    check_log(ctx, "  convert f16 on %s: %zu of %zu numbers identical to round-to-nearest-even (%s)",
              t2g_device_get_info(ctx->device)->name, exact, n - nans,
              exact == n - nans ? "rounds to nearest, ties to even" : "not round-to-nearest-even");
}

/* A binding range that cuts the tensors into chunks of 896 elements (4000 / 4 rounded down to
 * the 128 elements that keep a 16-bit chunk on the 256-byte alignment): the same bits as one
 * binding, in more dispatches. */
#define SPLIT_RANGE 4000u

static void convert_split_case(check_ctx *ctx, t2g_dtype dtype, size_t n) {
    check_case_begin(ctx);
    float *x = convert_inputs(ctx, n);
    uint64_t whole_dispatches = 0, split_dispatches = 0;
    uint16_t *whole = run_convert(ctx, dtype, x, n, &whole_dispatches);
    check_status(ctx, t2g_device_limit_binding(ctx->device, SPLIT_RANGE, &ctx->err), "lowering the binding range");
    uint16_t *split = run_convert(ctx, dtype, x, n, &split_dispatches);
    check_status(ctx, t2g_device_limit_binding(ctx->device, 0, &ctx->err), "restoring the binding range");
    size_t first_off = n;
    for (size_t i = n; i-- > 0;)
        if (whole[i] != split[i]) first_off = i;
    check_true(ctx, first_off == n, "convert %s n=%zu in chunks of %u bytes: the same bits as one binding (first other: "
               "element %zu)", t2g_dtype_name(dtype), n, SPLIT_RANGE, first_off);
    check_true(ctx, split_dispatches == (n + 895) / 896 && whole_dispatches == 1,
               "convert %s n=%zu: %llu dispatches in chunks of 896 elements, %llu whole", t2g_dtype_name(dtype), n,
               (unsigned long long)split_dispatches, (unsigned long long)whole_dispatches);
}

/* Widening (a 16-bit src, an f32 dst): every bit pattern of the format (n of them, cycling), NaNs,
 * infinities and subnormals included, becomes t2g/dtype.h's f32 value exactly (NaN a NaN; an f16
 * subnormal may also become a zero of its sign, on a device that flushes them); one
 * element past dst left alone; with a binding range of 4000 bytes, in chunks, the same. */
static void widen_case(check_ctx *ctx, t2g_dtype dtype, size_t n, bool split) {
    check_case_begin(ctx);
    uint16_t *bits = check_host(ctx, n * sizeof *bits);
    for (size_t i = 0; i < n; i++) bits[i] = (uint16_t)(i * 40503u); /* odd: every pattern once in 65536 */
    t2g_tensor src, dst = check_poisoned(ctx, n + 1);
    if (!check_status(ctx, t2g_tensor_alloc_typed(ctx->arena, dtype, n, &src, &ctx->err), "allocating src")) return;
    check_status(ctx, t2g_tensor_upload(src, bits, n * 2, &ctx->err), "uploading src");
    if (split) check_status(ctx, t2g_device_limit_binding(ctx->device, SPLIT_RANGE, &ctx->err), "lowering the range");
    uint64_t before = t2g_recorder_dispatch_count(ctx->recorder);
    check_status(ctx, t2g_convert(ctx->recorder, t2g_tensor_slice(dst, 0, n), src, n, &ctx->err), "widening");
    uint64_t dispatches = t2g_recorder_dispatch_count(ctx->recorder) - before;
    check_submit(ctx);
    if (split) check_status(ctx, t2g_device_limit_binding(ctx->device, 0, &ctx->err), "restoring the range");
    float *got = check_download(ctx, dst, n + 1);
    size_t first_off = n;
    for (size_t i = n; i-- > 0;) {
        float want = dtype == T2G_DTYPE_BF16 ? t2g_bf16_to_f32(bits[i]) : t2g_f16_to_f32(bits[i]);
        bool same = isnan(want) ? isnan(got[i]) : t2g_f32_bits(got[i]) == t2g_f32_bits(want);
        /* an f16 subnormal may be flushed to a zero of its sign (Vulkan leaves f16 denormals to the device) */
        bool subnormal = dtype == T2G_DTYPE_F16 && (bits[i] & 0x7C00u) == 0 && (bits[i] & 0x03FFu) != 0;
        same = same || (subnormal && got[i] == 0.0f && signbit(got[i]) == signbit(want));
        if (!same) first_off = i;
    }
    check_true(ctx, first_off == n && isnan(got[n]), "widen %s n=%zu%s: every value the host's exactly (first other: "
               "element %zu), the element past dst left alone; %llu dispatches", t2g_dtype_name(dtype), n,
               split ? " in chunks" : "", first_off, (unsigned long long)dispatches);
    t2g_tensor half = check_upload_typed(ctx, dtype, NULL, 4, 0, 0);
    check_true(ctx, t2g_convert(ctx->recorder, half, src, 4, &ctx->err) == T2G_ERR_ARGUMENT &&
                        strstr(ctx->err.message, "one of them is f32"),
               "convert refuses a 16-bit dst from a 16-bit src (%s)", ctx->err.message);
}

/* ---- matmul with 16-bit operands ---- */

/* What rounding an input to `dtype` on the host (t2g/dtype.h: to nearest) may change in it,
 * relative: half a unit in the last place (bf16 8 significant bits, f16 11; f32 inputs are
 * not rounded). */
static double input_rounding(t2g_dtype dtype) {
    return dtype == T2G_DTYPE_BF16 ? ldexp(1, -8) : dtype == T2G_DTYPE_F16 ? ldexp(1, -11) : 0;
}

/* What the outputs' tails hold (written by no kernel). */
#define GUARD 3.0f

typedef struct matmul_results {
    float *out, *dinp, *dweight, *dbias; /* each followed by the tail */
} matmul_results;

/* Compares one result with the reference of the rounded inputs (what the device reads: f32
 * summation error only, as check_matmul.c) and with that of the unrounded f32 inputs (the
 * whole cost of 16-bit storage: each term a b of a sum becomes a (1 + da) b (1 + db) with
 * |da| <= ra, |db| <= rb, so each output moves by at most (ra + rb + ra rb) sum |a b|, the
 * magnitude the scale is the norm of). */
static void compare(check_ctx *ctx, const char *label, const float *gpu, const double *ref_rounded,
                    const double *ref_f32, size_t n, double scale, double ra, double rb) {
    check_close_scaled(ctx, label, gpu, ref_rounded, n, scale, 1e-4);
    /* not the harness's worst error against the reference: this one is expected to be large */
    double diff = 0, bound = ra + rb + ra * rb + 1e-4;
    for (size_t i = 0; i < n; i++) diff += ((double)gpu[i] - ref_f32[i]) * ((double)gpu[i] - ref_f32[i]);
    check_true(ctx, sqrt(diff) / scale <= bound, "%s vs unrounded f32 inputs: rel err %.2e (16-bit bound %.1e)", label,
               sqrt(diff) / scale, bound);
}

/* out = inp weight^T + bias and the whole backward with inp of `inp_type` and weight of
 * `weight_type`, on tiles `tiles`, twice: against the double reference, bitwise, tails kept. */
static void matmul16_case(check_ctx *ctx, t2g_dtype inp_type, t2g_dtype weight_type, t2g_matmul_tiles tiles, int N,
                          int C, int OC) {
    check_case_begin(ctx);
    size_t nin = (size_t)N * C, nw = (size_t)OC * C, nout = (size_t)N * OC;
    float *inp_h = check_random_floats(ctx, nin, -1, 1);     /* inp (N,C), f32 before rounding */
    float *weight_h = check_random_floats(ctx, nw, -1, 1);   /* weight (OC,C) */
    float *bias_h = check_random_floats(ctx, OC, -1, 1);     /* bias (OC) */
    float *dout_h = check_random_floats(ctx, nout, -1, 1);   /* dout (N,OC) */
    float *dinp0 = check_random_floats(ctx, nin, -1, 1);     /* the backward adds into these */
    float *dweight0 = check_random_floats(ctx, nw, -1, 1);
    float *dbias0 = check_random_floats(ctx, OC, -1, 1);
    double *bias_d = check_to_double(ctx, bias_h, OC), *dout_d = check_to_double(ctx, dout_h, nout);

    /* The references: of the inputs as the device reads them, and of the f32 inputs. */
    double *inp_r = check_to_double(ctx, check_rounded(ctx, inp_type, inp_h, nin), nin);
    double *weight_r = check_to_double(ctx, check_rounded(ctx, weight_type, weight_h, nw), nw);
    double *inp_f = check_to_double(ctx, inp_h, nin), *weight_f = check_to_double(ctx, weight_h, nw);
    double *out_r = check_doubles(ctx, nout), *out_f = check_doubles(ctx, nout);
    double *dinp_r = check_to_double(ctx, dinp0, nin), *dinp_f = check_to_double(ctx, dinp0, nin);
    double *dweight_r = check_to_double(ctx, dweight0, nw), *dweight_f = check_to_double(ctx, dweight0, nw);
    double *dbias_r = check_to_double(ctx, dbias0, OC), *dbias_f = check_to_double(ctx, dbias0, OC);
    ref_matmul_forward(out_r, inp_r, weight_r, bias_d, N, C, OC);
    ref_matmul_forward(out_f, inp_f, weight_f, bias_d, N, C, OC);
    ref_matmul_backward(dinp_r, dweight_r, dbias_r, dout_d, inp_r, weight_r, N, C, OC);
    ref_matmul_backward(dinp_f, dweight_f, dbias_f, dout_d, inp_f, weight_f, N, C, OC);
    /* The magnitudes of the sums (as check_matmul.c), of the f32 inputs. */
    double *mag_out = check_doubles(ctx, nout);
    double *mag_dinp = check_abs(ctx, check_to_double(ctx, dinp0, nin), nin);
    double *mag_dweight = check_abs(ctx, check_to_double(ctx, dweight0, nw), nw);
    double *mag_dbias = check_abs(ctx, check_to_double(ctx, dbias0, OC), OC);
    double *abs_inp = check_abs(ctx, inp_f, nin), *abs_weight = check_abs(ctx, weight_f, nw);
    ref_matmul_forward(mag_out, abs_inp, abs_weight, check_abs(ctx, bias_d, OC), N, C, OC);
    ref_matmul_backward(mag_dinp, mag_dweight, mag_dbias, check_abs(ctx, dout_d, nout), abs_inp, abs_weight, N, C, OC);

    /* NaN past the inputs (a read past a matrix would reach the results), GUARD past the outputs. */
    size_t tail = 128 * ((size_t)(C > OC ? C : OC) + 1);
    const t2g_dtype F32 = T2G_DTYPE_F32;
    t2g_tensor inp = check_upload_typed(ctx, inp_type, inp_h, nin, tail, NAN);
    t2g_tensor weight = check_upload_typed(ctx, weight_type, weight_h, nw, tail, NAN);
    t2g_tensor bias = check_upload_typed(ctx, F32, bias_h, OC, tail, NAN);
    t2g_tensor dout = check_upload_typed(ctx, F32, dout_h, nout, tail, NAN);
    t2g_tensor out = check_upload_typed(ctx, F32, NULL, nout, tail, GUARD);
    t2g_tensor dinp = check_upload_typed(ctx, F32, dinp0, nin, tail, GUARD);
    t2g_tensor dweight = check_upload_typed(ctx, F32, dweight0, nw, tail, GUARD);
    t2g_tensor dbias = check_upload_typed(ctx, F32, dbias0, OC, tail, GUARD);
    matmul_results runs[2];
    for (int run = 0; run < 2; run++) {
        check_poison(ctx, out, nout);
        check_reupload(ctx, dinp, dinp0, nin);
        check_reupload(ctx, dweight, dweight0, nw);
        check_reupload(ctx, dbias, dbias0, OC);
        check_status(ctx, t2g_matmul_forward_tiles(ctx->recorder, tiles, out, inp, weight, &bias, N, C, OC, &ctx->err),
                     "matmul_forward");
        check_status(ctx, t2g_matmul_backward_tiles(ctx->recorder, tiles, &dinp, dweight, &dbias, dout, inp, weight, N,
                                                    C, OC, &ctx->err),
                     "matmul_backward");
        check_submit(ctx);
        runs[run] = (matmul_results){check_download(ctx, out, nout + tail), check_download(ctx, dinp, nin + tail),
                                    check_download(ctx, dweight, nw + tail), check_download(ctx, dbias, OC + tail)};
    }
    matmul_results *r = &runs[0];
    size_t untouched = 0;
    for (size_t i = 0; i < tail; i++)
        untouched += (r->out[nout + i] == GUARD) + (r->dinp[nin + i] == GUARD) + (r->dweight[nw + i] == GUARD) +
                     (r->dbias[OC + i] == GUARD);
    char what[96], label[160];
    snprintf(what, sizeof what, "inp %s weight %s, %s %dx%dx%d", t2g_dtype_name(inp_type), t2g_dtype_name(weight_type),
             tiles == T2G_MATMUL_TILES_AUTO ? "auto" : t2g_matmul_tile_config_get(tiles)->name, N, C, OC);
    check_true(ctx, untouched == 4 * tail, "matmul %s: %zu of %zu elements past the outputs written", what,
               4 * tail - untouched, 4 * tail);
    double ri = input_rounding(inp_type), rw = input_rounding(weight_type);
    snprintf(label, sizeof label, "matmul forward %s", what);
    check_bitwise(ctx, label, runs[0].out, runs[1].out, nout);
    compare(ctx, label, r->out, out_r, out_f, nout, check_norm(mag_out, nout), ri, rw);
    snprintf(label, sizeof label, "matmul backward dinp %s", what);
    check_bitwise(ctx, label, runs[0].dinp, runs[1].dinp, nin);
    compare(ctx, label, r->dinp, dinp_r, dinp_f, nin, check_norm(mag_dinp, nin), 0, rw); /* dout weight */
    snprintf(label, sizeof label, "matmul backward dweight %s", what);
    check_bitwise(ctx, label, runs[0].dweight, runs[1].dweight, nw);
    compare(ctx, label, r->dweight, dweight_r, dweight_f, nw, check_norm(mag_dweight, nw), 0, ri); /* dout^T inp */
    snprintf(label, sizeof label, "matmul backward dbias %s", what);
    check_bitwise(ctx, label, runs[0].dbias, runs[1].dbias, OC);
    check_close_scaled(ctx, label, r->dbias, dbias_r, OC, check_norm(mag_dbias, OC), 1e-4);
}

/* Operand types with no variant, or not float: refused before anything is recorded. */
static void rejection_case(check_ctx *ctx) {
    check_case_begin(ctx);
    const int N = 4, C = 3, OC = 5;
    t2g_tensor inp_bf16 = check_upload_typed(ctx, T2G_DTYPE_BF16, NULL, N * C, 0, 0);
    t2g_tensor weight_f16 = check_upload_typed(ctx, T2G_DTYPE_F16, NULL, OC * C, 0, 0);
    t2g_tensor weight_f32 = check_upload_typed(ctx, T2G_DTYPE_F32, NULL, OC * C, 0, 0);
    t2g_tensor inp_u32 = check_upload_typed(ctx, T2G_DTYPE_U32, NULL, N * C, 0, 0);
    t2g_tensor out = check_poisoned(ctx, N * OC);
    uint64_t before = t2g_recorder_dispatch_count(ctx->recorder);
    /* the variant asked for: of the tiled shader the device chooses for this product */
    t2g_matmul_tiles tiles = t2g_matmul_choose_tiles(ctx->device, N, OC, C);
    const char *shader = t2g_matmul_shader_name(t2g_matmul_tile_config_get(tiles)->shader);
    char bf16_f16[64], bf16_f32[64];
    snprintf(bf16_f16, sizeof bf16_f16, "%s@bf16_f16", shader);
    snprintf(bf16_f32, sizeof bf16_f32, "%s@bf16_f32", shader);
    t2g_status status = t2g_matmul_forward(ctx->recorder, out, inp_bf16, weight_f16, NULL, N, C, OC, &ctx->err);
    check_true(ctx, status == T2G_ERR_ARGUMENT && strstr(ctx->err.message, bf16_f16),
               "matmul_forward refuses bf16 inp x f16 weight, naming the variant %s: %s", bf16_f16,
               status ? ctx->err.message : "accepted");
    status = t2g_matmul_forward(ctx->recorder, out, inp_bf16, weight_f32, NULL, N, C, OC, &ctx->err);
    check_true(ctx, status == T2G_ERR_ARGUMENT && strstr(ctx->err.message, bf16_f32),
               "matmul_forward refuses bf16 inp x f32 weight, naming the variant %s: %s", bf16_f32,
               status ? ctx->err.message : "accepted");
    status = t2g_matmul_forward(ctx->recorder, out, inp_u32, weight_f32, NULL, N, C, OC, &ctx->err);
    check_true(ctx, status == T2G_ERR_ARGUMENT && strstr(ctx->err.message, "'inp'") && strstr(ctx->err.message, "u32"),
               "matmul_forward refuses a u32 inp, naming it: %s", status ? ctx->err.message : "accepted");
    check_true(ctx, t2g_recorder_dispatch_count(ctx->recorder) == before, "refused 16-bit matmuls record nothing");
    ctx->err.message[0] = 0;
}

T2G_CHECK(matmul16) {
    if (!t2g_device_get_info(ctx->device)->storage_16bit) {
        /* a device without 16-bit storage: the kernels say so */
        check_case_begin(ctx);
        t2g_tensor src = check_poisoned(ctx, 4), dst = check_upload_typed(ctx, T2G_DTYPE_BF16, NULL, 4, 0, 0);
        t2g_status status = t2g_convert(ctx->recorder, dst, src, 4, &ctx->err);
        check_true(ctx, status == T2G_ERR_UNSUPPORTED, "no 16-bit storage: t2g_convert refuses (%s)",
                   status ? ctx->err.message : "accepted");
        return ctx->failures;
    }
    const t2g_dtype BF16 = T2G_DTYPE_BF16, F16 = T2G_DTYPE_F16;
    const t2g_matmul_tiles A = T2G_MATMUL_TILES_AUTO, CL = T2G_MATMUL_TILES_CPU_LARGE;
    convert_case(ctx, BF16, 4099);
    convert_case(ctx, F16, 4099);
    widen_case(ctx, BF16, 65536 + 7, false);
    widen_case(ctx, F16, 65536 + 7, false);
    matmul16_case(ctx, BF16, BF16, A, 33, 65, 129);
    if (ctx->quick) return ctx->failures;
    convert_split_case(ctx, BF16, 10007);
    convert_split_case(ctx, F16, 10007);
    widen_case(ctx, BF16, 10007, true);
    widen_case(ctx, F16, 10007, true);
    /* The four pairs of variants.txt: 16-bit x 16-bit (the model's forward; its backward takes
     * f32 x 16-bit), then f32 x 16-bit on their own. Odd shapes on the small GPU tiles: they
     * compile in half a second on lavapipe, the CPU tiles in ~15 s each (three a case: the
     * forward's and the backward's two operand layouts), and every configuration reads the
     * operands with the same code. The CPU tiles twice, with bf16: this device's own choice above
     * (on lavapipe the 64 x 64 tiles) and the 128 x 128 tiles, cut at every edge. */
    const t2g_matmul_tiles GS = T2G_MATMUL_TILES_GPU_SMALL;
    matmul16_case(ctx, BF16, BF16, GS, 7, 48, 5);
    matmul16_case(ctx, BF16, BF16, CL, 260, 130, 96);
    matmul16_case(ctx, F16, F16, GS, 33, 65, 129);
    matmul16_case(ctx, F16, F16, GS, 7, 48, 5);
    for (int p = 0; p < 2; p++) {
        matmul16_case(ctx, T2G_DTYPE_F32, check_formats16[p], GS, 7, 48, 5);
        matmul16_case(ctx, T2G_DTYPE_F32, check_formats16[p], GS, 33, 65, 129);
    }
    rejection_case(ctx);
    return ctx->failures;
}
