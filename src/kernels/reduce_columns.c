/* Deterministic column sums (shaders/column_partials.comp, shaders/reduce_partials.comp). */
#include <stddef.h>

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

t2g_status t2g_record_column_partials(t2g_recorder *rec, const char *shader, const t2g_binding *bindings,
                                      uint32_t binding_count, uint32_t quads_of, uint32_t N, uint32_t C,
                                      uint32_t chunks, t2g_error *err) {
    const uint32_t spec[] = {T2G_COLUMNS_PER_GROUP, T2G_ROWS_PER_CHUNK};
    t2g_columns_push push = {N, C, 0, {0}};
    const t2g_split_quads quads = {quads_of, C % 4 == 0, offsetof(t2g_columns_push, quads)};
    t2g_quad_bindings views;
    t2g_status status =
        t2g_bind_quad_views(rec, shader, bindings, binding_count, &quads, &push, sizeof push, &views, err);
    if (status) return status;
    uint32_t columns = views.quads ? C / 4 : C; /* an invocation's */
    t2g_dispatch dispatch = {
        .shader = shader, .spec = spec, .spec_count = 2,
        .bindings = views.all, .binding_count = views.count, .texels = views.texels,
        .push = &push, .push_bytes = sizeof push,
        .groups = {t2g_ceil_div(columns, T2G_COLUMNS_PER_GROUP), chunks, 1},
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
    t2g_binding bindings[] = {{partials, T2G_WRITE}, {x, T2G_READ}};
    status = t2g_record_column_partials(rec, "column_partials", bindings, 2, 0x2u, N, C, chunks, err);
    if (status) return status;
    return t2g_reduce_partials(rec, out, partials, chunks, C, err);
}
