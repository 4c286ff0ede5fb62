/* bf16 and f16 tensors in the kernel checks (16-bit storage, f32 arithmetic: include/t2g/dtype.h,
 * shaders/storage.glsl): host values rounded to a format, uploads and downloads of 16-bit
 * tensors, and the comparison of a 16-bit output with the double reference. */
#ifndef T2G_CHECK_STORAGE16_H
#define T2G_CHECK_STORAGE16_H

#include "check.h"

/* The two 16-bit formats, for checks that loop over them. */
extern const t2g_dtype check_formats16[2];

/* The value of x rounded to `dtype` (to nearest, ties to even, as t2g/dtype.h), as a float;
 * f32: x itself. */
float check_round_to(t2g_dtype dtype, float x);
/* A copy of x (n) with every element rounded to `dtype`. */
float *check_rounded(check_ctx *ctx, t2g_dtype dtype, const float *x, size_t n);

/* A tensor of n elements of `dtype` holding x rounded to it (x NULL: NaN), plus `tail` elements
 * of tail_value (rounded too). */
t2g_tensor check_upload_typed(check_ctx *ctx, t2g_dtype dtype, const float *x, size_t n, size_t tail,
                              float tail_value);
/* The first n elements of a tensor of any float type, widened to f32 (exactly). */
float *check_download_typed(check_ctx *ctx, t2g_tensor tensor, size_t n);
/* Fills the first n elements of a tensor of any float type with NaN. */
void check_poison_typed(check_ctx *ctx, t2g_tensor tensor, size_t n);

/* How far storing a value v as `dtype` may move it on this project's devices:
 * |stored(v) - v| <= relative * |v| + floor.
 *   bf16: the shader rounds to nearest (storage.glsl): half a unit in the last place of 8
 *         significant bits, 2^-8 |v|; floor 2^-126 (a device flushing f32 subnormals).
 *   f16:  the device's conversion, to nearest or toward zero (storage.glsl): one unit of 11
 *         significant bits, 2^-10 |v| (2^-11 on a device that rounds to nearest); floor one f16
 *         subnormal step, 2^-24. */
typedef struct check_rounding {
    double relative, floor;
} check_rounding;
check_rounding check_rounding_of(t2g_dtype dtype);

/* A 16-bit output against the double reference of what the kernel computes in f32 before it
 * stores the result. The kernel's f32 value v misses ref by some e_i, and the f32 checks bound
 * ||e|| / scale <= tolerance; the stored value moves v by at most r |v| + floor (above), and
 * |v| <= |ref| + |e|, so
 *   |gpu_i - ref_i| <= |e_i| (1 + r) + r |ref_i| + floor.
 * What each element misses beyond its rounding allowance, max(0, |gpu_i - ref_i| - r |ref_i| -
 * floor), is then at most |e_i| (1 + r): its norm over scale must be within tolerance (1 + r).
 * Any NaN fails. Logs the largest |gpu_i - ref_i| / (r |ref_i| + floor) too (at most 1 where the
 * f32 error is negligible). */
bool check_close_stored(check_ctx *ctx, const char *label, const float *gpu, const double *ref, size_t n, double scale,
                        t2g_dtype dtype, double tolerance);

/* Records a kernel that writes `out` (and may write others the caller checks afterwards). */
typedef bool (*check_record_fn)(check_ctx *ctx, t2g_tensor out, void *user);
/* Runs `record` twice into a `dtype` tensor of n elements poisoned (NaN) before each run,
 * submitting each: the two results bitwise equal, the first within check_close_stored of ref
 * (scale ||ref||). Returns the first result (widened to f32), or NULL when a run failed or the
 * device has no 16-bit storage (nothing is run then). */
float *check_stored_output(check_ctx *ctx, const char *label, t2g_dtype dtype, size_t n, const double *ref,
                           double tolerance, check_record_fn record, void *user);

/* An activation kernel that keeps its input in another type (t2g_gelu_forward_keep): `keep` records
 * it (out of `dtype`, keep, inp), `plain` the plain 16-bit kernel (out of `dtype`, f32 inp). Runs
 * it both ways: inp f32 holding x (n_in) with keep of `dtype` (rounding: bf16 as the host rounds,
 * f16 within the device's rounding), and inp of `dtype` holding x rounded with keep f32 (widening:
 * exactly); out (n_out) must equal, bitwise, what `plain` gives on keep's values; out and keep are
 * poisoned before and the element past each left alone. Nothing is run on a device without 16-bit
 * storage. */
typedef bool (*check_keep_fn)(check_ctx *ctx, t2g_tensor out, t2g_tensor keep, t2g_tensor inp, void *user);
typedef bool (*check_plain_fn)(check_ctx *ctx, t2g_tensor out, t2g_tensor inp, void *user);
void check_keep_case(check_ctx *ctx, const char *label, t2g_dtype dtype, const float *x, size_t n_in, size_t n_out,
                     check_keep_fn keep, check_plain_fn plain, void *user);

#endif
