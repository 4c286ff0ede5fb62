/* GELU, tanh form (shaders/gelu_forward.comp, gelu_backward.comp, gelu.glsl). The forward's out
 * may be bf16 or f16 (a variant of gelu_forward, shaders/variants.txt). */
#include "kernel_util.h"

t2g_status t2g_gelu_forward(t2g_recorder *rec, t2g_tensor out, t2g_tensor inp, uint64_t n, t2g_error *err) {
    char shader[T2G_SHADER_NAME_MAX];
    t2g_status status = t2g_need_float(out, n, "gelu_forward", "out", err);
    if (!status) status = t2g_need(inp, n, "gelu_forward", "inp", err);
    if (!status) status = t2g_shader_variant(rec, "gelu_forward", "gelu_forward", &out.dtype, 1, shader, err);
    if (status) return status;
    uint32_t push = (uint32_t)n;
    t2g_binding bindings[] = {{out, T2G_WRITE}, {inp, T2G_READ}};
    return t2g_record_elementwise(rec, shader, bindings, 2, &push, sizeof push, n, err);
}

t2g_status t2g_gelu_backward(t2g_recorder *rec, t2g_tensor dinp, t2g_tensor inp, t2g_tensor dout, uint64_t n,
                             t2g_error *err) {
    t2g_status status = t2g_need(dinp, n, "gelu_backward", "dinp", err);
    if (!status) status = t2g_need(inp, n, "gelu_backward", "inp", err);
    if (!status) status = t2g_need(dout, n, "gelu_backward", "dout", err);
    if (status) return status;
    uint32_t push = (uint32_t)n;
    t2g_binding bindings[] = {{dinp, T2G_READ_WRITE}, {inp, T2G_READ}, {dout, T2G_READ}};
    return t2g_record_elementwise(rec, "gelu_backward", bindings, 3, &push, sizeof push, n, err);
}
