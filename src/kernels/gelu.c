/* GELU, tanh form (shaders/gelu_forward.comp, gelu_backward.comp, gelu.glsl). The forward's out
 * may be bf16 or f16 (a variant of gelu_forward, shaders/variants.txt). With an f32 out the forward
 * reads inp's quads through a texel view where one serves (t2g_bind_quads; a specialization
 * constant, so each pipeline holds one path), four elements an invocation, on a grid sized for the
 * quads: the same bits. On lavapipe (bench train --preset small --profile, 2026-12-07 15:50 UTC,
 * otherwise idle, three rounds one after the other) the small step's four gelu_forward took 5.1 to
 * 6.0 ms before, 2.8 to 2.9 ms with the quads; on the grid of one element an invocation they took
 * 7.5 to 7.8 ms (three quarters of the workgroups idle, and lavapipe pays for each). The backward
 * reads dinp, inp and dout as quads the same way (t2g_record_elementwise_split_quads, which also
 * splits tensors past one binding): its two calls 4.27 -> 2.1 ms (15:55 UTC, two rounds). */
#include "kernel_util.h"

t2g_status t2g_gelu_forward(t2g_recorder *rec, t2g_tensor out, t2g_tensor inp, uint64_t n, t2g_error *err) {
    char shader[T2G_SHADER_NAME_MAX];
    t2g_status status = t2g_need_float(out, n, "gelu_forward", "out", err);
    if (!status) status = t2g_need(inp, n, "gelu_forward", "inp", err);
    if (!status) status = t2g_shader_variant(rec, "gelu_forward", "gelu_forward", &out.dtype, 1, shader, err);
    if (!status) status = t2g_need_index(n, "gelu_forward", "n", err);
    if (status) return status;
    struct { uint32_t n, first; } push = {(uint32_t)n, 0};
    t2g_binding bindings[3] = {{out, T2G_WRITE}, {inp, T2G_READ}};
    t2g_texel texels[3] = {T2G_TEXEL_NONE};
    uint32_t views = 0; /* f32 out: inp's quads through a texel view where one serves */
    if (out.dtype == T2G_DTYPE_F32)
        views = t2g_bind_quads(t2g_device_get_info(t2g_recorder_device(rec)), inp, &bindings[2], &texels[2], &push.first);
    const uint32_t spec[] = {T2G_ELEMENTWISE_GROUP, views};
    t2g_dispatch dispatch = {
        .shader = shader, .spec = spec, .spec_count = 2,
        .bindings = bindings, .binding_count = out.dtype == T2G_DTYPE_F32 ? 3 : 2, .texels = texels,
        .push = &push, .push_bytes = sizeof push,
        .groups = {n ? t2g_stride_groups(views ? (n + 3) / 4 : n, T2G_ELEMENTWISE_GROUP) : 0, 1, 1},
    };
    return t2g_record_dispatch(rec, &dispatch, err);
}

typedef struct gelu_backward_push {
    uint32_t n, quads, first[3]; /* the views of dinp, inp, dout serve; the texel where each starts */
} gelu_backward_push;

static void backward_range(void *push, uint32_t skip, uint32_t count) {
    ((gelu_backward_push *)push)->n = skip + count; /* one chunk from element 0: skip is 0 */
}

static void backward_quads(void *push, const uint32_t *first, bool fit) {
    gelu_backward_push *p = push;
    p->quads = fit;
    for (int i = 0; i < 3; i++) p->first[i] = first[i];
}

t2g_status t2g_gelu_backward(t2g_recorder *rec, t2g_tensor dinp, t2g_tensor inp, t2g_tensor dout, uint64_t n,
                             t2g_error *err) {
    t2g_status status = t2g_need(dinp, n, "gelu_backward", "dinp", err);
    if (!status) status = t2g_need(inp, n, "gelu_backward", "inp", err);
    if (!status) status = t2g_need(dout, n, "gelu_backward", "dout", err);
    if (!status) status = t2g_need_index(n, "gelu_backward", "n", err);
    if (status) return status;
    /* dinp, inp and dout read as quads too (bindings 3 to 5), on a grid sized for them */
    gelu_backward_push push = {(uint32_t)n, 0, {0}};
    t2g_binding bindings[] = {{dinp, T2G_READ_WRITE}, {inp, T2G_READ}, {dout, T2G_READ}};
    const t2g_split_quads quads = {0x7u, backward_quads};
    return t2g_record_elementwise_split_quads(rec, "gelu_backward", bindings, 3, 3, &quads, &push, sizeof push,
                                              backward_range, 0, n, err);
}
