/* out[i] = value (shaders/fill.comp). */
#include "kernel_util.h"

t2g_status t2g_fill(t2g_recorder *rec, t2g_tensor out, uint64_t n, float value, t2g_error *err) {
    t2g_status status = t2g_need(out, n, "fill", "out", err);
    if (status) return status;
    struct { uint32_t n; float value; } push = {(uint32_t)n, value};
    t2g_binding bindings[] = {{out, T2G_WRITE}};
    return t2g_record_elementwise(rec, "fill", bindings, 1, &push, sizeof push, n, err);
}
