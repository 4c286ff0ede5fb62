/* bf16 and f16 tensors in the kernel checks (storage16.h). */
#include <math.h>
#include <string.h>

#include "storage16.h"

const t2g_dtype check_formats16[2] = {T2G_DTYPE_BF16, T2G_DTYPE_F16};

float check_round_to(t2g_dtype dtype, float x) {
    if (dtype == T2G_DTYPE_BF16) return t2g_bf16_to_f32(t2g_f32_to_bf16(x));
    if (dtype == T2G_DTYPE_F16) return t2g_f16_to_f32(t2g_f32_to_f16(x));
    return x;
}

float *check_rounded(check_ctx *ctx, t2g_dtype dtype, const float *x, size_t n) {
    float *y = check_host(ctx, n * sizeof *y);
    for (size_t i = 0; i < n; i++) y[i] = check_round_to(dtype, x[i]);
    return y;
}

/* x (n, NULL: NaN) then `tail` of tail_value, as the bits of `dtype`, in host memory. */
static void *encode(check_ctx *ctx, t2g_dtype dtype, const float *x, size_t n, size_t tail, float tail_value) {
    size_t count = n + tail;
    if (dtype != T2G_DTYPE_BF16 && dtype != T2G_DTYPE_F16) {
        float *f = check_host(ctx, count * sizeof *f);
        for (size_t i = 0; i < count; i++) f[i] = i < n ? (x ? x[i] : NAN) : tail_value;
        return f;
    }
    uint16_t *h = check_host(ctx, count * sizeof *h);
    for (size_t i = 0; i < count; i++) {
        float v = i < n ? (x ? x[i] : NAN) : tail_value;
        h[i] = dtype == T2G_DTYPE_BF16 ? t2g_f32_to_bf16(v) : t2g_f32_to_f16(v);
    }
    return h;
}

t2g_tensor check_upload_typed(check_ctx *ctx, t2g_dtype dtype, const float *x, size_t n, size_t tail,
                              float tail_value) {
    t2g_tensor t;
    if (!check_status(ctx, t2g_tensor_alloc_typed(ctx->arena, dtype, n + tail, &t, &ctx->err), "allocating a test tensor"))
        return (t2g_tensor){0};
    check_status(ctx, t2g_tensor_upload(t, encode(ctx, dtype, x, n, tail, tail_value), t.bytes, &ctx->err),
                 "uploading a test tensor");
    return t;
}

void check_poison_typed(check_ctx *ctx, t2g_tensor tensor, size_t n) {
    check_status(ctx, t2g_tensor_upload(tensor, encode(ctx, tensor.dtype, NULL, n, 0, 0), n * t2g_dtype_bytes(tensor.dtype),
                                        &ctx->err),
                 "poisoning a test tensor");
}

float *check_download_typed(check_ctx *ctx, t2g_tensor tensor, size_t n) {
    float *x = check_host(ctx, n * sizeof *x);
    if (tensor.dtype != T2G_DTYPE_BF16 && tensor.dtype != T2G_DTYPE_F16) {
        for (size_t i = 0; i < n; i++) x[i] = NAN;
        check_status(ctx, t2g_tensor_download(tensor, x, n * 4, &ctx->err), "downloading a test tensor");
        return x;
    }
    uint16_t *bits = check_host(ctx, n * sizeof *bits);
    memset(bits, 0xFF, n * sizeof *bits); /* NaN in both formats, should the download fail */
    check_status(ctx, t2g_tensor_download(tensor, bits, n * 2, &ctx->err), "downloading a test tensor");
    for (size_t i = 0; i < n; i++)
        x[i] = tensor.dtype == T2G_DTYPE_BF16 ? t2g_bf16_to_f32(bits[i]) : t2g_f16_to_f32(bits[i]);
    return x;
}

check_rounding check_rounding_of(t2g_dtype dtype) {
    if (dtype == T2G_DTYPE_BF16) return (check_rounding){ldexp(1, -8), ldexp(1, -126)};
    if (dtype == T2G_DTYPE_F16) return (check_rounding){ldexp(1, -10), ldexp(1, -24)};
    return (check_rounding){0, 0};
}

bool check_close_stored(check_ctx *ctx, const char *label, const float *gpu, const double *ref, size_t n, double scale,
                        t2g_dtype dtype, double tolerance) {
    check_rounding r = check_rounding_of(dtype);
    double excess = 0, worst_share = 0;
    for (size_t i = 0; i < n; i++) {
        if (isnan(gpu[i])) {
            ctx->comparisons++;
            check_fail(ctx, "%s: element %zu of %zu is NaN (unwritten or invalid; reference %.6g)", label, i, n, ref[i]);
            return false;
        }
        double miss = fabs((double)gpu[i] - ref[i]), allowance = r.relative * fabs(ref[i]) + r.floor;
        if (miss > allowance) excess += (miss - allowance) * (miss - allowance);
        if (allowance > 0 && miss / allowance > worst_share) worst_share = miss / allowance;
    }
    double error = scale > 0 ? sqrt(excess) / scale : sqrt(excess), bound = tolerance * (1 + r.relative);
    return check_true(ctx, error <= bound,
                      "%s (%s): beyond rounding %.2e (tol %.1e); worst |gpu - ref| / rounding allowance %.3f", label,
                      t2g_dtype_name(dtype), error, bound, worst_share);
}

float *check_stored_output(check_ctx *ctx, const char *label, t2g_dtype dtype, size_t n, const double *ref,
                           double tolerance, check_record_fn record, void *user) {
    if (!t2g_device_get_info(ctx->device)->storage_16bit) { /* matmul16 checks that such a device refuses */
        check_log(ctx, "  %s (%s): skipped, the device has no 16-bit storage", label, t2g_dtype_name(dtype));
        return NULL;
    }
    t2g_tensor out = check_upload_typed(ctx, dtype, NULL, n, 0, 0);
    float *runs[2];
    for (int run = 0; run < 2; run++) {
        check_poison_typed(ctx, out, n);
        if (!record(ctx, out, user) || !check_submit(ctx)) return NULL;
        runs[run] = check_download_typed(ctx, out, n);
    }
    char text[200];
    snprintf(text, sizeof text, "%s (%s)", label, t2g_dtype_name(dtype));
    check_bitwise(ctx, text, runs[0], runs[1], n);
    check_close_stored(ctx, label, runs[0], ref, n, check_norm(ref, n), dtype, tolerance);
    return runs[0];
}

/* keep's values (n) against x stored as dtype: bitwise where the host's rounding is the device's
 * (bf16, and any widening), else within the device's rounding (f16). */
static void check_kept(check_ctx *ctx, const char *label, const float *kept, const float *x, size_t n,
                       t2g_dtype dtype, bool widened) {
    if (widened || dtype == T2G_DTYPE_BF16) {
        check_bitwise(ctx, label, kept, check_rounded(ctx, dtype, x, n), n);
        return;
    }
    check_rounding r = check_rounding_of(dtype); /* or the host's rounding itself: overflow to infinity */
    size_t bad = n;
    for (size_t i = 0; i < n && bad == n; i++)
        if (!(fabs((double)kept[i] - x[i]) <= r.relative * fabs(x[i]) + r.floor) && kept[i] != check_round_to(dtype, x[i]))
            bad = i;
    if (bad == n) check_true(ctx, true, "%s: every value within %s's rounding of its input", label, t2g_dtype_name(dtype));
    else check_true(ctx, false, "%s: element %zu holds %g for %g, beyond %s's rounding", label, bad, kept[bad], x[bad],
                    t2g_dtype_name(dtype));
}

void check_keep_case(check_ctx *ctx, const char *label, t2g_dtype dtype, const float *x, size_t n_in, size_t n_out,
                     check_keep_fn keep, check_plain_fn plain, void *user) {
    if (!t2g_device_get_info(ctx->device)->storage_16bit) {
        check_log(ctx, "  %s (%s): skipped, the device has no 16-bit storage", label, t2g_dtype_name(dtype));
        return;
    }
    for (int widen = 0; widen < 2; widen++) {
        t2g_dtype inp_type = widen ? dtype : T2G_DTYPE_F32, keep_type = widen ? T2G_DTYPE_F32 : dtype;
        char text[200];
        snprintf(text, sizeof text, "%s, inp %s, keep %s", label, t2g_dtype_name(inp_type), t2g_dtype_name(keep_type));
        t2g_tensor inp = check_upload_typed(ctx, inp_type, x, n_in, 0, 0);
        t2g_tensor kept = check_upload_typed(ctx, keep_type, NULL, n_in, 1, NAN); /* poisoned, one past */
        t2g_tensor out = check_upload_typed(ctx, dtype, NULL, n_out, 1, NAN);
        if (!keep(ctx, out, kept, inp, user) || !check_submit(ctx)) return;
        float *k = check_download_typed(ctx, kept, n_in + 1), *o = check_download_typed(ctx, out, n_out + 1);
        char what[320];
        snprintf(what, sizeof what, "%s: keep", text);
        check_kept(ctx, what, k, x, n_in, dtype, widen);
        check_true(ctx, isnan(k[n_in]) && isnan(o[n_out]), "%s: the elements past keep and out left alone", text);
        t2g_tensor plain_out = check_upload_typed(ctx, dtype, NULL, n_out, 0, 0);
        if (!plain(ctx, plain_out, check_upload(ctx, k, n_in), user) || !check_submit(ctx)) return;
        snprintf(what, sizeof what, "%s: out, against the plain kernel on keep's values", text);
        check_bitwise(ctx, what, o, check_download_typed(ctx, plain_out, n_out), n_out);
    }
}
