/* Deterministic column sums (shaders/column_partials.comp, shaders/reduce_partials.comp). */
#include "reduce_columns.h"

t2g_status t2g_reduce_partials(t2g_recorder *rec, t2g_tensor out, t2g_tensor partials, uint32_t chunks, uint32_t C,
                               t2g_error *err) {
    t2g_status status = t2g_need(out, C, "reduce_partials", "out", err);
    if (!status) status = t2g_need(partials, (uint64_t)chunks * C, "reduce_partials", "partials", err);
    if (status) return status;
    const uint32_t spec[] = {T2G_COLUMNS_PER_GROUP};
    struct { uint32_t chunks, C; } push = {chunks, C};
    t2g_binding bindings[] = {{out, T2G_READ_WRITE}, {partials, T2G_READ}};
    t2g_dispatch dispatch = {
        .shader = "reduce_partials", .spec = spec, .spec_count = 1,
        .bindings = bindings, .binding_count = 2,
        .push = &push, .push_bytes = sizeof push,
        .groups = {t2g_ceil_div(C, T2G_COLUMNS_PER_GROUP), 1, 1},
    };
    return t2g_record_dispatch(rec, &dispatch, err);
}

t2g_status t2g_column_sums_accumulate(t2g_recorder *rec, t2g_tensor out, t2g_tensor x, uint32_t N, uint32_t C,
                                      t2g_error *err) {
    t2g_status status = t2g_need(x, (uint64_t)N * C, "column_sums", "x", err);
    if (status) return status;
    uint32_t chunks = t2g_row_chunks(N);
    t2g_tensor partials;
    status = t2g_recorder_scratch(rec, (uint64_t)chunks * C * 4, &partials, err);
    if (status) return status;
    const uint32_t spec[] = {T2G_COLUMNS_PER_GROUP, T2G_ROWS_PER_CHUNK};
    struct { uint32_t N, C; } push = {N, C};
    t2g_binding bindings[] = {{partials, T2G_WRITE}, {x, T2G_READ}};
    t2g_dispatch dispatch = {
        .shader = "column_partials", .spec = spec, .spec_count = 2,
        .bindings = bindings, .binding_count = 2,
        .push = &push, .push_bytes = sizeof push,
        .groups = {t2g_ceil_div(C, T2G_COLUMNS_PER_GROUP), chunks, 1},
    };
    status = t2g_record_dispatch(rec, &dispatch, err);
    if (status) return status;
    return t2g_reduce_partials(rec, out, partials, chunks, C, err);
}
