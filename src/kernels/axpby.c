/* y = alpha x + beta y, and copy as its beta = 0 case (shaders/axpby.comp). */
#include "kernel_util.h"

t2g_status t2g_axpby(t2g_recorder *rec, t2g_tensor y, t2g_tensor x, uint64_t n, float alpha, float beta,
                     t2g_error *err) {
    t2g_status status = t2g_need(y, n, "axpby", "y", err);
    if (!status) status = t2g_need(x, n, "axpby", "x", err);
    if (status) return status;
    struct { uint32_t n; float alpha, beta; } push = {(uint32_t)n, alpha, beta};
    t2g_binding bindings[] = {{y, beta == 0.0f ? T2G_WRITE : T2G_READ_WRITE}, {x, T2G_READ}};
    return t2g_record_elementwise(rec, "axpby", bindings, 2, &push, sizeof push, n, err);
}

t2g_status t2g_copy(t2g_recorder *rec, t2g_tensor dst, t2g_tensor src, uint64_t n, t2g_error *err) {
    return t2g_axpby(rec, dst, src, n, 1.0f, 0.0f, err);
}
