/* Deterministic reductions over a flat buffer: dot product, global gradient norm, gradient
 * clipping (shaders/reduce_dot.comp, reduce_finish.comp, grad_clip.comp).
 *
 * Two stages, with no atomics and a fixed order: stage 1 splits the n elements into slices,
 * one workgroup each, whose number and size depend on n alone (never on the device), and
 * leaves one partial sum per slice in the recorder's scratch memory; stage 2, one workgroup,
 * adds the partials and writes the result. A tensor larger than one binding is bound in chunks of
 * whole slices, so the partials are the same, bit for bit. On a CPU device stage 1 runs
 * reduce_dot_lanes.comp, which computes reduce_dot's partials, bit for bit, in workgroups of 8
 * invocations: the small preset's grad_norm (438,144 gradients) took 2.8 ms on lavapipe in 428
 * workgroups of 256 invocations, whose barriers switch 32 coroutines each, and takes 0.51 (bench
 * train --profile, each dispatch's best of 5 runs, 2-core Zen 5, 2026-12-07). */
#include "kernel_util.h"

#define REDUCE_GROUP 256u        /* invocations per workgroup, both stages (a power of two) */
#define REDUCE_MAX_PARTIALS 1024u /* most stage-1 workgroups */
#define REDUCE_MIN_SLICE (4u * REDUCE_GROUP)
#define REDUCE_LANES 8u          /* reduce_dot_lanes' invocations per workgroup */

/* Elements per stage-1 workgroup: a multiple of REDUCE_GROUP, at least REDUCE_MIN_SLICE, and
 * large enough that at most REDUCE_MAX_PARTIALS slices cover n. */
static uint32_t slice_of(uint64_t n) {
    uint64_t slice = (n + REDUCE_MAX_PARTIALS - 1) / REDUCE_MAX_PARTIALS;
    slice = (slice + REDUCE_GROUP - 1) / REDUCE_GROUP * REDUCE_GROUP;
    return slice < REDUCE_MIN_SLICE ? REDUCE_MIN_SLICE : (uint32_t)slice;
}

/* Stage 1 on a CPU device's layout (t2g_device_layouts_for_cpu): reduce_dot_lanes, the same
 * partials in workgroups of REDUCE_LANES invocations that read quads, where a's and b's quad
 * views serve (T2G_ERR_UNSUPPORTED where not: the caller records reduce_dot). */
static t2g_status record_chunk_lanes(t2g_recorder *rec, const char *kernel, t2g_tensor partials, t2g_tensor a,
                                     t2g_tensor b, uint64_t count, uint32_t slice, uint64_t first_group,
                                     t2g_error *err) {
    t2g_device *device = t2g_recorder_device(rec);
    const t2g_device_info *info = t2g_device_get_info(device);
    struct { uint32_t n, slice, first_group, a_first, b_first; } push = {(uint32_t)count, slice, (uint32_t)first_group,
                                                                       0, 0};
    t2g_binding bindings[3] = {{partials, T2G_WRITE}};
    t2g_texel texels[3] = {T2G_TEXEL_NONE};
    if (!t2g_device_layouts_for_cpu(device) || !t2g_bind_quads(info, a, &bindings[1], &texels[1], &push.a_first) ||
        !t2g_bind_quads(info, b, &bindings[2], &texels[2], &push.b_first))
        return T2G_ERR_UNSUPPORTED;
    const uint32_t spec[] = {REDUCE_LANES, REDUCE_GROUP};
    t2g_dispatch stage1 = {
        .shader = "reduce_dot_lanes", .spec = spec, .spec_count = 2,
        .bindings = bindings, .binding_count = 3, .texels = texels,
        .push = &push, .push_bytes = sizeof push,
        .label = kernel,
    };
    t2g_groups_2d(count ? t2g_ceil_div(count, slice) : 1, stage1.groups);
    return t2g_record_dispatch(rec, &stage1, err);
}

/* One stage-1 dispatch: the partials of the count elements of a and b (a chunk that starts at
 * slice first_group, or the whole n), one workgroup per slice; count = 0 writes one 0 partial. */
static t2g_status record_chunk(t2g_recorder *rec, const char *kernel, t2g_tensor partials, t2g_tensor a, t2g_tensor b,
                               uint64_t count, uint32_t slice, uint64_t first_group, t2g_error *err) {
    t2g_status status = record_chunk_lanes(rec, kernel, partials, a, b, count, slice, first_group, err);
    if (status != T2G_ERR_UNSUPPORTED) return status;
    const uint32_t spec[] = {REDUCE_GROUP};
    struct { uint32_t n, slice, first_group; } push = {(uint32_t)count, slice, (uint32_t)first_group};
    t2g_binding bindings[] = {{partials, T2G_WRITE}, {a, T2G_READ}, {b, T2G_READ}};
    t2g_dispatch stage1 = {
        .shader = "reduce_dot", .spec = spec, .spec_count = 1,
        .bindings = bindings, .binding_count = 3,
        .push = &push, .push_bytes = sizeof push,
        .groups = {count ? t2g_ceil_div(count, slice) : 1, 1, 1},
        .label = kernel,
    };
    return t2g_record_dispatch(rec, &stage1, err);
}

/* Stage 1 over n elements: one dispatch, or, when a or b exceeds one binding, one per chunk of
 * whole slices (the same slices, so the same partials). */
static t2g_status record_partials(t2g_recorder *rec, const char *kernel, t2g_tensor partials, t2g_tensor a,
                                  t2g_tensor b, uint64_t n, uint32_t slice, t2g_error *err) {
    const t2g_tensor tensors[] = {a, b};
    uint64_t step;
    t2g_status status = t2g_split_step(rec, kernel, tensors, 2, slice, &step, err);
    if (status) return status;
    if (!step) return record_chunk(rec, kernel, partials, a, b, n, slice, 0, err);
    if (n == 0)
        return record_chunk(rec, kernel, partials, t2g_tensor_slice(a, 0, 1), t2g_tensor_slice(b, 0, 1), 0, slice, 0, err);
    for (uint64_t base = 0; base < n && !status; base += step) {
        uint64_t count = n - base < step ? n - base : step;
        status = record_chunk(rec, kernel, partials, t2g_tensor_slice(a, base, count), t2g_tensor_slice(b, base, count),
                              count, slice, base / slice, err);
    }
    return status;
}

/* out = sum of a[i] * b[i] (mode 0), or [norm, clip scale] of it (mode 1). */
static t2g_status record_sum_of_products(t2g_recorder *rec, const char *kernel, const char *finish_label,
                                         t2g_tensor out, t2g_tensor a, t2g_tensor b, uint64_t n, uint32_t mode,
                                         float max_norm, t2g_error *err) {
    t2g_status status = t2g_need_index(n, kernel, "n", err); /* every slice starts below n */
    if (status) return status;
    uint32_t slice = slice_of(n);
    uint32_t groups = n ? t2g_ceil_div(n, slice) : 1; /* n = 0: one workgroup writes a 0 partial */
    t2g_tensor partials; /* (groups) */
    status = t2g_recorder_scratch(rec, (uint64_t)groups * 4, &partials, err);
    if (status) return status;

    status = record_partials(rec, kernel, partials, a, b, n, slice, err);
    if (status) return status;

    const uint32_t spec[] = {REDUCE_GROUP};
    struct { uint32_t count, mode; float max_norm; } stage2_push = {groups, mode, max_norm};
    t2g_binding stage2_bindings[] = {{out, T2G_WRITE}, {partials, T2G_READ}};
    t2g_dispatch stage2 = {
        .shader = "reduce_finish", .spec = spec, .spec_count = 1,
        .bindings = stage2_bindings, .binding_count = 2,
        .push = &stage2_push, .push_bytes = sizeof stage2_push,
        .groups = {1, 1, 1},
        .label = finish_label,
    };
    return t2g_record_dispatch(rec, &stage2, err);
}

t2g_status t2g_dot(t2g_recorder *rec, t2g_tensor out, t2g_tensor a, t2g_tensor b, uint64_t n, t2g_error *err) {
    t2g_status status = t2g_need(out, 1, "dot", "out", err); /* (1) */
    if (!status) status = t2g_need(a, n, "dot", "a", err);   /* (n) */
    if (!status) status = t2g_need(b, n, "dot", "b", err);   /* (n) */
    if (status) return status;
    return record_sum_of_products(rec, "dot", "dot_finish", out, a, b, n, 0, 0.0f, err);
}

t2g_status t2g_grad_norm(t2g_recorder *rec, t2g_tensor norm_and_scale, t2g_tensor grads, uint64_t n, float max_norm,
                         t2g_error *err) {
    t2g_status status = t2g_need(norm_and_scale, 2, "grad_norm", "norm_and_scale", err); /* (2) */
    if (!status) status = t2g_need(grads, n, "grad_norm", "grads", err);                 /* (n) */
    if (status) return status;
    return record_sum_of_products(rec, "grad_norm", "grad_norm_finish", norm_and_scale, grads, grads, n, 1, max_norm,
                                  err);
}

static void grad_clip_range(void *push, uint32_t skip, uint32_t count) {
    (void)skip; /* the work starts at element 0: every chunk from its first element */
    *(uint32_t *)push = count;
}

t2g_status t2g_grad_clip(t2g_recorder *rec, t2g_tensor grads, uint64_t n, t2g_tensor norm_and_scale, t2g_error *err) {
    t2g_status status = t2g_need(grads, n, "grad_clip", "grads", err);                     /* (n) */
    if (!status) status = t2g_need(norm_and_scale, 2, "grad_clip", "norm_and_scale", err); /* (2) */
    if (status) return status;
    uint32_t push = 0;
    t2g_binding bindings[] = {{grads, T2G_READ_WRITE}, {norm_and_scale, T2G_READ}};
    return t2g_record_elementwise_split(rec, "grad_clip", bindings, 2, 1, &push, sizeof push, grad_clip_range, 0, n, err);
}
