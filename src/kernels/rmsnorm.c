/* RMSNorm as Hugging Face's LlamaRMSNorm (shaders/rmsnorm_forward.comp, rmsnorm_backward.comp,
 * rmsnorm_backward_partials.comp; the row layout of layernorm.glsl, norm_rows.h).
 *
 * Forward and the dinp part of backward: rows of `lanes` invocations, as LayerNorm's, reading
 * their rows' quads as texels in the CPU layout as LayerNorm's do. dweight:
 * partial column sums per chunk of T2G_ROWS_PER_CHUNK rows (rmsnorm_backward_partials), then
 * t2g_reduce_partials; no atomics anywhere. The forward's out may be bf16 or f16 (a variant of
 * rmsnorm_forward, shaders/variants.txt). */
#include <math.h>

#include "norm_rows.h"

t2g_status t2g_rmsnorm_forward(t2g_recorder *rec, t2g_tensor out, t2g_tensor rstd, t2g_tensor inp, t2g_tensor weight,
                               uint32_t N, uint32_t C, float eps, t2g_error *err) {
    const char *k = "rmsnorm_forward";
    uint64_t NC = (uint64_t)N * C;
    if (!isfinite(eps) || eps <= 0)
        return t2g_fail(err, T2G_ERR_ARGUMENT, "%s: eps must be a finite number > 0, got %g", k, (double)eps);
    t2g_status status = t2g_norm_check_shape(k, N, C, err);
    if (!status) status = t2g_need_float(out, NC, k, "out", err);
    if (!status) status = t2g_need(rstd, N, k, "rstd", err);
    if (!status) status = t2g_need(inp, NC, k, "inp", err);
    if (!status) status = t2g_need(weight, C, k, "weight", err);
    char shader[T2G_SHADER_NAME_MAX];
    if (!status) status = t2g_shader_variant(rec, k, "rmsnorm_forward", &out.dtype, 1, shader, err);
    if (status || N == 0) return status;
    t2g_binding bindings[] = {{out, T2G_WRITE}, {rstd, T2G_WRITE}, {inp, T2G_READ}, {weight, T2G_READ}};
    t2g_norm_push push = {N, C, 0, {0}, eps};
    const t2g_split_quads quads = t2g_norm_quads(0xCu, C); /* inp and weight as quads */
    return t2g_record_norm_rows(rec, shader, bindings, 4, &push, sizeof push, N, C, &quads, err);
}

t2g_status t2g_rmsnorm_backward(t2g_recorder *rec, t2g_tensor dinp, t2g_tensor dweight, t2g_tensor dout,
                                t2g_tensor inp, t2g_tensor weight, t2g_tensor rstd, uint32_t N, uint32_t C,
                                t2g_error *err) {
    const char *k = "rmsnorm_backward";
    uint64_t NC = (uint64_t)N * C;
    t2g_status status = t2g_norm_check_shape(k, N, C, err);
    if (!status) status = t2g_need(dinp, NC, k, "dinp", err);
    if (!status) status = t2g_need(dweight, C, k, "dweight", err);
    if (!status) status = t2g_need(dout, NC, k, "dout", err);
    if (!status) status = t2g_need(inp, NC, k, "inp", err);
    if (!status) status = t2g_need(weight, C, k, "weight", err);
    if (!status) status = t2g_need(rstd, N, k, "rstd", err);
    if (status || N == 0) return status;
    uint32_t chunks;
    status = t2g_norm_chunks(k, N, &chunks, err);
    if (status) return status;

    /* dinp += ..., one row per `lanes` invocations. */
    t2g_binding row_bindings[] = {
        {dinp, T2G_READ_WRITE}, {dout, T2G_READ}, {inp, T2G_READ}, {weight, T2G_READ}, {rstd, T2G_READ}};
    t2g_norm_push push = {N, C, 0, {0}, 0.0f};
    const t2g_split_quads quads = t2g_norm_quads(0xFu, C); /* dinp, dout, inp, weight as quads */
    status = t2g_record_norm_rows(rec, "rmsnorm_backward", row_bindings, 5, &push, sizeof push, N, C, &quads, err);
    if (status) return status;

    /* dweight += sum_n dout * inp * rstd: partials (chunks, C), then stage 2. */
    t2g_tensor dweight_partials;
    status = t2g_recorder_scratch(rec, (uint64_t)chunks * C * 4, &dweight_partials, err);
    if (status) return status;
    t2g_binding partial_bindings[] = {
        {dweight_partials, T2G_WRITE}, {dout, T2G_READ}, {inp, T2G_READ}, {rstd, T2G_READ}};
    status = t2g_record_column_partials(rec, "rmsnorm_backward_partials", partial_bindings, 4, 0x6u, N, C, chunks,
                                        err); /* dout and inp as quads */
    if (!status) status = t2g_reduce_partials(rec, dweight, dweight_partials, chunks, C, err);
    return status;
}
