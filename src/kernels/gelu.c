/* GELU, tanh form (shaders/gelu_forward.comp, gelu_backward.comp, gelu.glsl). The forward's out
 * may be bf16 or f16 (a variant of gelu_forward, shaders/variants.txt). With an f32 out the forward
 * reads inp's quads through a texel view where one serves (t2g_record_elementwise_split_quads,
 * binding its tensors whole), four elements an invocation, on a grid sized for the quads: the
 * same bits. On lavapipe (bench train --preset small --profile, 2026-12-07 15:50 UTC,
 * otherwise idle, three rounds one after the other) the small step's four gelu_forward took 5.1 to
 * 6.0 ms before, 2.8 to 2.9 ms with the quads; on the grid of one element an invocation they took
 * 7.5 to 7.8 ms (three quarters of the workgroups idle, and lavapipe pays for each). The backward
 * reads dinp, inp and dout as quads the same way: its two calls 4.27 -> 2.1 ms (15:55 UTC, two rounds). */
#include "kernel_util.h"

/* Push constants: t2g_quads_push, the views (forward: inp's; backward: dinp's, inp's, dout's). */
#include <stddef.h>

t2g_status t2g_gelu_forward(t2g_recorder *rec, t2g_tensor out, t2g_tensor inp, uint64_t n, t2g_error *err) {
    char shader[T2G_SHADER_NAME_MAX];
    t2g_status status = t2g_need_float(out, n, "gelu_forward", "out", err);
    if (!status) status = t2g_need(inp, n, "gelu_forward", "inp", err);
    if (!status) status = t2g_shader_variant(rec, "gelu_forward", "gelu_forward", &out.dtype, 1, shader, err);
    if (!status) status = t2g_need_index(n, "gelu_forward", "n", err);
    if (status) return status;
    t2g_quads_push push = {(uint32_t)n, 0, {0}};
    t2g_binding bindings[] = {{out, T2G_WRITE}, {inp, T2G_READ}};
    /* with an f32 out, inp read as quads too (binding 2), on a grid sized for them; activations,
     * bound whole (none split: a tensor past one binding is refused, as by every activation kernel) */
    const t2g_split_quads quads = {0x2u, true, offsetof(t2g_quads_push, quads)};
    return t2g_record_elementwise_split_quads(rec, shader, bindings, 2, 0, out.dtype == T2G_DTYPE_F32 ? &quads : NULL,
                                              &push, sizeof push, NULL, 0, n, err);
}

t2g_status t2g_gelu_forward_keep(t2g_recorder *rec, t2g_tensor out, t2g_tensor keep, t2g_tensor inp, uint64_t n,
                                 t2g_error *err) {
    const char *k = "gelu_forward_keep";
    char shader[T2G_SHADER_NAME_MAX];
    t2g_dtype types[3];
    t2g_status status = t2g_need_float(out, n, k, "out", err);
    if (!status) status = t2g_need_float(inp, n, k, "inp", err);
    if (!status) status = t2g_need_float(keep, n, k, "keep", err);
    if (!status) status = t2g_keep_types(k, out, keep, inp, types, err);
    if (!status) status = t2g_shader_variant(rec, k, "gelu_forward", types, 3, shader, err);
    if (!status) status = t2g_need_index(n, k, "n", err);
    if (status) return status;
    t2g_quads_push push = {(uint32_t)n, 0, {0}};
    t2g_binding bindings[] = {{out, T2G_WRITE}, {inp, T2G_READ}, {keep, T2G_WRITE}};
    return t2g_record_elementwise_split_quads(rec, shader, bindings, 3, 0, NULL, &push, sizeof push, NULL, 0, n, err);
}

t2g_status t2g_gelu_backward(t2g_recorder *rec, t2g_tensor dinp, t2g_tensor inp, t2g_tensor dout, uint64_t n,
                             t2g_error *err) {
    t2g_status status = t2g_need(dinp, n, "gelu_backward", "dinp", err);
    if (!status) status = t2g_need(inp, n, "gelu_backward", "inp", err);
    if (!status) status = t2g_need(dout, n, "gelu_backward", "dout", err);
    if (!status) status = t2g_need_index(n, "gelu_backward", "n", err);
    if (status) return status;
    /* dinp, inp and dout read as quads too (bindings 3 to 5), on a grid sized for them; bound
     * whole, as the forward's */
    t2g_quads_push push = {(uint32_t)n, 0, {0}};
    t2g_binding bindings[] = {{dinp, T2G_READ_WRITE}, {inp, T2G_READ}, {dout, T2G_READ}};
    const t2g_split_quads quads = {0x7u, true, offsetof(t2g_quads_push, quads)};
    return t2g_record_elementwise_split_quads(rec, "gelu_backward", bindings, 3, 0, &quads, &push, sizeof push, NULL, 0,
                                              n, err);
}
