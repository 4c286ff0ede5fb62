/* The row layout and the weight-gradient partials of LayerNorm and RMSNorm (norm_rows.h).
 *
 * The row layout by device class. GPUs: workgroups of T2G_NORM_GROUP invocations, rows of about
 * C / 4 lanes that sum their partials in shared memory, so a row's loads are spread over many
 * invocations. CPU devices (llvmpipe runs a workgroup's 8-lane vectors as coroutines that switch
 * at every barrier): one row per invocation, 8 invocations (one vector) a workgroup, so the
 * sums need no shared memory and the barriers cost nothing. Measured 2026-12-07 14:18 UTC on
 * lavapipe (2 cores, load 1.6 to 1.9 with a helper's build beside), bench train --preset small
 * --profile, the two layouts one after the other: layernorm_forward 11.5 -> 4.7 ms (5 calls),
 * layernorm_backward 10.4 -> 6.5 ms. Each layout sums in its own fixed order: results are
 * deterministic on a device, and differ between the layouts by rounding only. */
#include "norm_rows.h"

/* Invocations per row: the power of two >= ceil(C / 4), clamped to [1, T2G_NORM_GROUP]. */
static uint32_t norm_lanes(uint32_t C) {
    uint32_t want = (uint32_t)(((uint64_t)C + 3) / 4), lanes = 1;
    while (lanes < want && lanes < T2G_NORM_GROUP) lanes *= 2;
    return lanes;
}

t2g_status t2g_norm_check_shape(const char *kernel, uint32_t N, uint32_t C, t2g_error *err) {
    if (C == 0) return t2g_fail(err, T2G_ERR_ARGUMENT, "%s: C must be at least 1 (N = %u)", kernel, N);
    return t2g_need_index((uint64_t)N * C, kernel, "N * C", err);
}

t2g_status t2g_record_norm_rows(t2g_recorder *rec, const char *shader, const t2g_binding *bindings,
                                uint32_t binding_count, void *push, uint32_t push_bytes, uint32_t N, uint32_t C,
                                const t2g_split_quads *quads, t2g_error *err) {
    bool cpu = t2g_device_layouts_for_cpu(t2g_recorder_device(rec));
    uint32_t group = cpu ? T2G_NORM_GROUP_CPU : T2G_NORM_GROUP, lanes = cpu ? 1 : norm_lanes(C);
    const uint32_t spec[] = {group, lanes};
    t2g_quad_bindings views;
    if (quads) {
        t2g_status status =
            t2g_bind_quad_views(rec, shader, bindings, binding_count, quads, push, push_bytes, &views, err);
        if (status) return status;
    }
    t2g_dispatch dispatch = {
        .shader = shader, .spec = spec, .spec_count = 2,
        .bindings = quads ? views.all : bindings, .binding_count = quads ? views.count : binding_count,
        .texels = quads ? views.texels : NULL,
        .push = push, .push_bytes = push_bytes,
    };
    t2g_groups_2d(t2g_ceil_div(N, group / lanes), dispatch.groups);
    return t2g_record_dispatch(rec, &dispatch, err);
}

t2g_status t2g_norm_chunks(const char *kernel, uint32_t N, uint32_t *chunks, t2g_error *err) {
    *chunks = t2g_row_chunks(N);
    if (*chunks > T2G_MAX_GROUPS_1D)
        return t2g_fail(err, T2G_ERR_TOO_LARGE, "%s: N = %u rows make %u chunks of %u, more than %u workgroups", kernel,
                        N, *chunks, T2G_ROWS_PER_CHUNK, T2G_MAX_GROUPS_1D);
    return T2G_OK;
}
