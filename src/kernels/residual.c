/* The residual connection: out = a + b, and its backward (shaders/residual_*.comp). The forward
 * reads a's and b's quads through texel views where they serve (t2g_record_elementwise_split_quads,
 * tensors bound whole), four elements an invocation on a grid sized for the quads, as GELU does:
 * the same sums. */
#include <stddef.h>

#include "kernel_util.h"

t2g_status t2g_residual_forward(t2g_recorder *rec, t2g_tensor out, t2g_tensor a, t2g_tensor b, uint64_t n,
                                t2g_error *err) {
    t2g_status status = t2g_need(out, n, "residual_forward", "out", err);
    if (!status) status = t2g_need(a, n, "residual_forward", "a", err);
    if (!status) status = t2g_need(b, n, "residual_forward", "b", err);
    if (!status) status = t2g_need_index(n, "residual_forward", "n", err);
    if (status) return status;
    t2g_quads_push push = {(uint32_t)n, 0, {0}};
    t2g_binding bindings[] = {{out, T2G_WRITE}, {a, T2G_READ}, {b, T2G_READ}};
    const t2g_split_quads quads = {0x6u, true, offsetof(t2g_quads_push, quads)}; /* a, b: bindings 3 and 4 */
    return t2g_record_elementwise_split_quads(rec, "residual_forward", bindings, 3, 0, &quads, &push, sizeof push, NULL,
                                              0, n, err);
}

t2g_status t2g_residual_backward(t2g_recorder *rec, t2g_tensor da, t2g_tensor db, t2g_tensor dout, uint64_t n,
                                 t2g_error *err) {
    t2g_status status = t2g_need(da, n, "residual_backward", "da", err);
    if (!status) status = t2g_need(db, n, "residual_backward", "db", err);
    if (!status) status = t2g_need(dout, n, "residual_backward", "dout", err);
    if (status) return status;
    uint32_t push = (uint32_t)n;
    t2g_binding bindings[] = {{da, T2G_READ_WRITE}, {db, T2G_READ_WRITE}, {dout, T2G_READ}};
    return t2g_record_elementwise(rec, "residual_backward", bindings, 3, &push, sizeof push, n, err);
}
