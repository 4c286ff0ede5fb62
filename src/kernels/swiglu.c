/* SwiGLU, the gated MLP activation of Llama-family models (shaders/swiglu_forward.comp,
 * swiglu_backward.comp, swiglu.glsl): elementwise over the N * F outputs, each reading its
 * gate and up from the two halves of a row of h (N, 2F). The forward's out may be bf16 or f16 (a
 * variant of swiglu_forward, shaders/variants.txt). */
#include "kernel_util.h"

/* F >= 1 and every index into h (N, 2F) fits 32 bits. */
static t2g_status check_shape(const char *kernel, uint32_t N, uint32_t F, t2g_error *err) {
    if (F == 0) return t2g_fail(err, T2G_ERR_ARGUMENT, "%s: F must be at least 1 (N = %u)", kernel, N);
    return t2g_need_index((uint64_t)N * 2 * F, kernel, "N * 2F", err);
}

t2g_status t2g_swiglu_forward(t2g_recorder *rec, t2g_tensor out, t2g_tensor h, uint32_t N, uint32_t F,
                              t2g_error *err) {
    const char *k = "swiglu_forward";
    uint64_t NF = (uint64_t)N * F;
    t2g_status status = check_shape(k, N, F, err);
    if (!status) status = t2g_need_float(out, NF, k, "out", err);
    if (!status) status = t2g_need(h, 2 * NF, k, "h", err);
    char shader[T2G_SHADER_NAME_MAX];
    if (!status) status = t2g_shader_variant(rec, k, "swiglu_forward", &out.dtype, 1, shader, err);
    if (status || N == 0) return status;
    struct { uint32_t n, F; } push = {(uint32_t)NF, F};
    t2g_binding bindings[] = {{out, T2G_WRITE}, {h, T2G_READ}};
    return t2g_record_elementwise(rec, shader, bindings, 2, &push, sizeof push, NF, err);
}

t2g_status t2g_swiglu_backward(t2g_recorder *rec, t2g_tensor dh, t2g_tensor h, t2g_tensor dout, uint32_t N, uint32_t F,
                               t2g_error *err) {
    const char *k = "swiglu_backward";
    uint64_t NF = (uint64_t)N * F;
    t2g_status status = check_shape(k, N, F, err);
    if (!status) status = t2g_need(dh, 2 * NF, k, "dh", err);
    if (!status) status = t2g_need(h, 2 * NF, k, "h", err);
    if (!status) status = t2g_need(dout, NF, k, "dout", err);
    if (status || N == 0) return status;
    struct { uint32_t n, F; } push = {(uint32_t)NF, F};
    t2g_binding bindings[] = {{dh, T2G_READ_WRITE}, {h, T2G_READ}, {dout, T2G_READ}};
    return t2g_record_elementwise(rec, "swiglu_backward", bindings, 3, &push, sizeof push, NF, err);
}
