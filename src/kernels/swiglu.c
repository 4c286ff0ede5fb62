/* SwiGLU, the gated MLP activation of Llama-family models (shaders/swiglu_forward.comp,
 * swiglu_backward.comp, swiglu.glsl): elementwise over the N * F outputs, each reading its
 * gate and up from the two halves of a row of h (N, 2F). The forward's out may be bf16 or f16 (a
 * variant of swiglu_forward, shaders/variants.txt). Where F % 4 == 0 both read their quads
 * through texel views (t2g_record_elementwise_split_quads, tensors bound whole; the forward with
 * an f32 out), four elements an invocation on a grid sized for the quads, as GELU does: the same
 * bits. */
#include <stddef.h>

#include "kernel_util.h"

/* Push constants: n = N * F elements, F, and the texel views' (forward: h's; backward: dh's, h's,
 * dout's) where they serve and F % 4 == 0, and the texel where each starts. */
typedef struct swiglu_push {
    uint32_t n, F, quads, first[3];
} swiglu_push;

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
    swiglu_push push = {(uint32_t)NF, F, 0, {0}};
    t2g_binding bindings[] = {{out, T2G_WRITE}, {h, T2G_READ}};
    /* with an f32 out, h read as quads too (binding 2); the forward's push holds one view */
    const t2g_split_quads quads = {0x2u, F % 4 == 0, offsetof(swiglu_push, quads)};
    return t2g_record_elementwise_split_quads(rec, shader, bindings, 2, 0, out.dtype == T2G_DTYPE_F32 ? &quads : NULL,
                                              &push, sizeof push, NULL, 0, NF, err);
}

t2g_status t2g_swiglu_forward_keep(t2g_recorder *rec, t2g_tensor out, t2g_tensor keep, t2g_tensor h, uint32_t N,
                                   uint32_t F, t2g_error *err) {
    const char *k = "swiglu_forward_keep";
    uint64_t NF = (uint64_t)N * F;
    char shader[T2G_SHADER_NAME_MAX];
    t2g_dtype types[3];
    t2g_status status = check_shape(k, N, F, err);
    if (!status) status = t2g_need_float(out, NF, k, "out", err);
    if (!status) status = t2g_need_float(h, 2 * NF, k, "h", err);
    if (!status) status = t2g_need_float(keep, 2 * NF, k, "keep", err);
    if (!status) status = t2g_keep_types(k, out, keep, h, types, err);
    if (!status) status = t2g_shader_variant(rec, k, "swiglu_forward", types, 3, shader, err);
    if (status || N == 0) return status;
    swiglu_push push = {(uint32_t)NF, F, 0, {0}};
    t2g_binding bindings[] = {{out, T2G_WRITE}, {h, T2G_READ}, {keep, T2G_WRITE}};
    return t2g_record_elementwise_split_quads(rec, shader, bindings, 3, 0, NULL, &push, sizeof push, NULL, 0, NF, err);
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
    swiglu_push push = {(uint32_t)NF, F, 0, {0}};
    t2g_binding bindings[] = {{dh, T2G_READ_WRITE}, {h, T2G_READ}, {dout, T2G_READ}};
    /* dh, h and dout read as quads too (bindings 3 to 5) */
    const t2g_split_quads quads = {0x7u, F % 4 == 0, offsetof(swiglu_push, quads)};
    return t2g_record_elementwise_split_quads(rec, "swiglu_backward", bindings, 3, 0, &quads, &push, sizeof push, NULL,
                                              0, NF, err);
}
