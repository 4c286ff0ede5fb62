/* LayerNorm, eps = 1e-5, biased variance (shaders/layernorm_forward.comp,
 * layernorm_backward.comp, layernorm_backward_partials.comp, layernorm.glsl).
 *
 * Forward and the dinp part of backward: workgroups of LAYERNORM_GROUP invocations, split into
 * rows of `lanes` invocations (a power of two, about C/4, at most LAYERNORM_GROUP), so a
 * small C packs several rows into one workgroup and a large C gets a whole workgroup per row.
 * dweight and dbias: partial column sums per chunk of T2G_ROWS_PER_CHUNK rows
 * (layernorm_backward_partials), then t2g_reduce_partials; no atomics anywhere. */
#include "reduce_columns.h"

#define LAYERNORM_GROUP 256u

/* Invocations per row: the power of two >= ceil(C / 4), clamped to [1, LAYERNORM_GROUP]. */
static uint32_t layernorm_lanes(uint32_t C) {
    uint32_t want = (uint32_t)(((uint64_t)C + 3) / 4), lanes = 1;
    while (lanes < want && lanes < LAYERNORM_GROUP) lanes *= 2;
    return lanes;
}

static t2g_status check_shape(const char *kernel, uint32_t N, uint32_t C, t2g_error *err) {
    if (C == 0) return t2g_fail(err, T2G_ERR_ARGUMENT, "%s: C must be at least 1 (N = %u)", kernel, N);
    return t2g_need_index((uint64_t)N * C, kernel, "N * C", err);
}

/* Records a forward or dinp dispatch over N rows of C columns. */
static t2g_status record_rows(t2g_recorder *rec, const char *shader, const t2g_binding *bindings, uint32_t N,
                              uint32_t C, t2g_error *err) {
    uint32_t lanes = layernorm_lanes(C);
    const uint32_t spec[] = {LAYERNORM_GROUP, lanes};
    struct { uint32_t N, C; } push = {N, C};
    t2g_dispatch dispatch = {
        .shader = shader, .spec = spec, .spec_count = 2,
        .bindings = bindings, .binding_count = 6,
        .push = &push, .push_bytes = sizeof push,
    };
    t2g_groups_2d(t2g_ceil_div(N, LAYERNORM_GROUP / lanes), dispatch.groups);
    return t2g_record_dispatch(rec, &dispatch, err);
}

t2g_status t2g_layernorm_forward(t2g_recorder *rec, t2g_tensor out, t2g_tensor mean, t2g_tensor rstd,
                                 t2g_tensor inp, t2g_tensor weight, t2g_tensor bias, uint32_t N, uint32_t C,
                                 t2g_error *err) {
    const char *k = "layernorm_forward";
    uint64_t NC = (uint64_t)N * C;
    t2g_status status = check_shape(k, N, C, err);
    if (!status) status = t2g_need(out, NC, k, "out", err);
    if (!status) status = t2g_need(mean, N, k, "mean", err);
    if (!status) status = t2g_need(rstd, N, k, "rstd", err);
    if (!status) status = t2g_need(inp, NC, k, "inp", err);
    if (!status) status = t2g_need(weight, C, k, "weight", err);
    if (!status) status = t2g_need(bias, C, k, "bias", err);
    if (status || N == 0) return status;
    t2g_binding bindings[] = {{out, T2G_WRITE}, {mean, T2G_WRITE}, {rstd, T2G_WRITE},
                              {inp, T2G_READ},  {weight, T2G_READ}, {bias, T2G_READ}};
    return record_rows(rec, "layernorm_forward", bindings, N, C, err);
}

t2g_status t2g_layernorm_backward(t2g_recorder *rec, t2g_tensor dinp, t2g_tensor dweight, t2g_tensor dbias,
                                  t2g_tensor dout, t2g_tensor inp, t2g_tensor weight, t2g_tensor mean,
                                  t2g_tensor rstd, uint32_t N, uint32_t C, t2g_error *err) {
    const char *k = "layernorm_backward";
    uint64_t NC = (uint64_t)N * C;
    t2g_status status = check_shape(k, N, C, err);
    if (!status) status = t2g_need(dinp, NC, k, "dinp", err);
    if (!status) status = t2g_need(dweight, C, k, "dweight", err);
    if (!status) status = t2g_need(dbias, C, k, "dbias", err);
    if (!status) status = t2g_need(dout, NC, k, "dout", err);
    if (!status) status = t2g_need(inp, NC, k, "inp", err);
    if (!status) status = t2g_need(weight, C, k, "weight", err);
    if (!status) status = t2g_need(mean, N, k, "mean", err);
    if (!status) status = t2g_need(rstd, N, k, "rstd", err);
    if (status || N == 0) return status;
    uint32_t chunks = t2g_row_chunks(N);
    if (chunks > T2G_MAX_GROUPS_1D)
        return t2g_fail(err, T2G_ERR_TOO_LARGE, "%s: N = %u rows make %u chunks of %u, more than %u workgroups", k, N,
                        chunks, T2G_ROWS_PER_CHUNK, T2G_MAX_GROUPS_1D);

    /* dinp += ..., one row per `lanes` invocations. */
    t2g_binding row_bindings[] = {{dinp, T2G_READ_WRITE}, {dout, T2G_READ},  {inp, T2G_READ},
                                  {weight, T2G_READ},     {mean, T2G_READ},  {rstd, T2G_READ}};
    status = record_rows(rec, "layernorm_backward", row_bindings, N, C, err);
    if (status) return status;

    /* dweight += sum_n dout * xhat, dbias += sum_n dout: partials (chunks, C), then stage 2. */
    t2g_tensor dweight_partials, dbias_partials;
    status = t2g_recorder_scratch(rec, (uint64_t)chunks * C * 4, &dweight_partials, err);
    if (!status) status = t2g_recorder_scratch(rec, (uint64_t)chunks * C * 4, &dbias_partials, err);
    if (status) return status;
    const uint32_t spec[] = {T2G_COLUMNS_PER_GROUP, T2G_ROWS_PER_CHUNK};
    struct { uint32_t N, C; } push = {N, C};
    t2g_binding partial_bindings[] = {{dweight_partials, T2G_WRITE}, {dbias_partials, T2G_WRITE}, {dout, T2G_READ},
                                      {inp, T2G_READ},               {mean, T2G_READ},           {rstd, T2G_READ}};
    t2g_dispatch dispatch = {
        .shader = "layernorm_backward_partials", .spec = spec, .spec_count = 2,
        .bindings = partial_bindings, .binding_count = 6,
        .push = &push, .push_bytes = sizeof push,
        .groups = {t2g_ceil_div(C, T2G_COLUMNS_PER_GROUP), chunks, 1},
    };
    status = t2g_record_dispatch(rec, &dispatch, err);
    if (!status) status = t2g_reduce_partials(rec, dweight, dweight_partials, chunks, C, err);
    if (!status) status = t2g_reduce_partials(rec, dbias, dbias_partials, chunks, C, err);
    return status;
}
