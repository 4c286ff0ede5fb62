/* Softmax cross-entropy, forward and backward fused (shaders/crossentropy.glsl, through
 * crossentropy_forward_backward.comp, or crossentropy_in_place.comp when dlogits is the very
 * tensor logits). One workgroup per row, in a grid from t2g_groups_2d. */
#include "kernel_util.h"

/* Invocations per row: on GPUs a power of two, >= V up to the cap (tiny vocabularies waste
 * less); on CPU devices 8, one vector of llvmpipe's, whose barriers cost nothing (with 256, the
 * row's 32 vectors switch at every barrier of the tree): `bench train --preset small --profile`,
 * 2026-12-07 14:25 UTC on lavapipe (2 cores, load about 2 with a helper's build beside), the
 * 1024-row, 259-column crossentropy_in_place 14.3 and 13.9 ms at 256 against 1.37 and 1.40 at 8
 * (two rounds, one after the other). Each size sums in its own fixed order (the layouts differ by
 * rounding only). */
#define CROSSENTROPY_GROUP_MIN 32u
#define CROSSENTROPY_GROUP_MAX 256u
#define CROSSENTROPY_GROUP_CPU 8u

static uint32_t crossentropy_group(const t2g_device *device, uint32_t V) {
    if (t2g_device_layouts_for_cpu(device)) return CROSSENTROPY_GROUP_CPU;
    uint32_t group = CROSSENTROPY_GROUP_MIN;
    while (group < V && group < CROSSENTROPY_GROUP_MAX) group *= 2;
    return group;
}

t2g_status t2g_crossentropy_forward_backward(t2g_recorder *rec, t2g_tensor losses, t2g_tensor dlogits,
                                             t2g_tensor logits, t2g_tensor targets, t2g_tensor weights,
                                             uint32_t N, uint32_t V, float dloss, t2g_error *err) {
    const char *k = "crossentropy_forward_backward";
    uint64_t NV = (uint64_t)N * V;
    if (V == 0) return t2g_fail(err, T2G_ERR_ARGUMENT, "%s: V must be at least 1 (N = %u)", k, N);
    t2g_status status = t2g_need_index(NV, k, "N * V", err);
    if (!status) status = t2g_need(losses, N, k, "losses", err);
    if (!status) status = t2g_need(dlogits, NV, k, "dlogits", err);
    if (!status) status = t2g_need(logits, NV, k, "logits", err);
    if (!status) status = t2g_need(targets, N, k, "targets", err);
    if (!status) status = t2g_need(weights, N, k, "weights", err);
    if (status) return status;
    bool in_place = dlogits.arena == logits.arena && dlogits.offset == logits.offset;
    if (!in_place && dlogits.arena == logits.arena && dlogits.offset < logits.offset + NV * 4 &&
        logits.offset < dlogits.offset + NV * 4)
        return t2g_fail(err, T2G_ERR_ARGUMENT,
                        "%s: dlogits overlaps logits without being the same tensor (offsets %llu and %llu)", k,
                        (unsigned long long)dlogits.offset, (unsigned long long)logits.offset);
    if (N == 0) return T2G_OK;

    const uint32_t spec[] = {crossentropy_group(t2g_recorder_device(rec), V)};
    struct { uint32_t N, V; float dloss; } push = {N, V, dloss};
    t2g_binding bindings[] = {{losses, T2G_WRITE}, {targets, T2G_READ}, {weights, T2G_READ},
                              {logits, in_place ? T2G_READ_WRITE : T2G_READ}, {dlogits, T2G_WRITE}};
    t2g_dispatch dispatch = {
        .shader = in_place ? "crossentropy_in_place" : "crossentropy_forward_backward",
        .spec = spec, .spec_count = 1,
        .bindings = bindings, .binding_count = in_place ? 4 : 5,
        .push = &push, .push_bytes = sizeof push,
    };
    t2g_groups_2d(N, dispatch.groups);
    return t2g_record_dispatch(rec, &dispatch, err);
}
