/* LayerNorm, eps = 1e-5, biased variance (shaders/layernorm_forward.comp,
 * layernorm_backward.comp, layernorm_backward_partials.comp, layernorm.glsl).
 *
 * Forward and the dinp part of backward: workgroups of T2G_NORM_GROUP invocations, split into
 * rows of `lanes` invocations (a power of two, about C/4, at most T2G_NORM_GROUP), so a
 * small C packs several rows into one workgroup and a large C gets a whole workgroup per row
 * (norm_rows.h).
 * dweight and dbias: partial column sums per chunk of T2G_ROWS_PER_CHUNK rows
 * (layernorm_backward_partials), then t2g_reduce_partials; no atomics anywhere.
 * The forward's out may be bf16 or f16 (a variant of layernorm_forward, shaders/variants.txt). */
#include "norm_rows.h"

/* Records a forward or dinp dispatch over N rows of C columns, with views of the quads of the
 * bindings in `of`. */
static t2g_status record_rows(t2g_recorder *rec, const char *shader, const t2g_binding *bindings, uint32_t of,
                              uint32_t N, uint32_t C, t2g_error *err) {
    t2g_norm_push push = {N, C, 0, {0}, 0.0f}; /* LayerNorm's eps is its shader's constant */
    const t2g_split_quads quads = t2g_norm_quads(of, C);
    return t2g_record_norm_rows(rec, shader, bindings, 6, &push, sizeof push, N, C, &quads, err);
}

t2g_status t2g_layernorm_forward(t2g_recorder *rec, t2g_tensor out, t2g_tensor mean, t2g_tensor rstd,
                                 t2g_tensor inp, t2g_tensor weight, t2g_tensor bias, uint32_t N, uint32_t C,
                                 t2g_error *err) {
    const char *k = "layernorm_forward";
    uint64_t NC = (uint64_t)N * C;
    t2g_status status = t2g_norm_check_shape(k, N, C, err);
    if (!status) status = t2g_need_float(out, NC, k, "out", err);
    if (!status) status = t2g_need(mean, N, k, "mean", err);
    if (!status) status = t2g_need(rstd, N, k, "rstd", err);
    if (!status) status = t2g_need(inp, NC, k, "inp", err);
    if (!status) status = t2g_need(weight, C, k, "weight", err);
    if (!status) status = t2g_need(bias, C, k, "bias", err);
    char shader[T2G_SHADER_NAME_MAX];
    if (!status) status = t2g_shader_variant(rec, k, "layernorm_forward", &out.dtype, 1, shader, err);
    if (status || N == 0) return status;
    t2g_binding bindings[] = {{out, T2G_WRITE}, {mean, T2G_WRITE}, {rstd, T2G_WRITE},
                              {inp, T2G_READ},  {weight, T2G_READ}, {bias, T2G_READ}};
    return record_rows(rec, shader, bindings, 0x38u, N, C, err); /* inp, weight, bias as quads */
}

t2g_status t2g_layernorm_backward(t2g_recorder *rec, t2g_tensor dinp, t2g_tensor dweight, t2g_tensor dbias,
                                  t2g_tensor dout, t2g_tensor inp, t2g_tensor weight, t2g_tensor mean,
                                  t2g_tensor rstd, uint32_t N, uint32_t C, t2g_error *err) {
    const char *k = "layernorm_backward";
    uint64_t NC = (uint64_t)N * C;
    t2g_status status = t2g_norm_check_shape(k, N, C, err);
    if (!status) status = t2g_need(dinp, NC, k, "dinp", err);
    if (!status) status = t2g_need(dweight, C, k, "dweight", err);
    if (!status) status = t2g_need(dbias, C, k, "dbias", err);
    if (!status) status = t2g_need(dout, NC, k, "dout", err);
    if (!status) status = t2g_need(inp, NC, k, "inp", err);
    if (!status) status = t2g_need(weight, C, k, "weight", err);
    if (!status) status = t2g_need(mean, N, k, "mean", err);
    if (!status) status = t2g_need(rstd, N, k, "rstd", err);
    if (status || N == 0) return status;
    uint32_t chunks;
    status = t2g_norm_chunks(k, N, &chunks, err);
    if (status) return status;

    /* dinp += ..., one row per `lanes` invocations. */
    t2g_binding row_bindings[] = {{dinp, T2G_READ_WRITE}, {dout, T2G_READ},  {inp, T2G_READ},
                                  {weight, T2G_READ},     {mean, T2G_READ},  {rstd, T2G_READ}};
    status = record_rows(rec, "layernorm_backward", row_bindings, 0xFu, N, C, err); /* dinp, dout, inp, weight */
    if (status) return status;

    /* dweight += sum_n dout * xhat, dbias += sum_n dout: partials (chunks, C), then stage 2. */
    t2g_tensor dweight_partials, dbias_partials;
    status = t2g_recorder_scratch(rec, (uint64_t)chunks * C * 4, &dweight_partials, err);
    if (!status) status = t2g_recorder_scratch(rec, (uint64_t)chunks * C * 4, &dbias_partials, err);
    if (status) return status;
    t2g_binding partial_bindings[] = {{dweight_partials, T2G_WRITE}, {dbias_partials, T2G_WRITE}, {dout, T2G_READ},
                                      {inp, T2G_READ},               {mean, T2G_READ},           {rstd, T2G_READ}};
    status = t2g_record_column_partials(rec, "layernorm_backward_partials", partial_bindings, 6, 0xCu, N, C, chunks,
                                        err); /* dout and inp as quads */
    if (!status) status = t2g_reduce_partials(rec, dweight, dweight_partials, chunks, C, err);
    if (!status) status = t2g_reduce_partials(rec, dbias, dbias_partials, chunks, C, err);
    return status;
}
