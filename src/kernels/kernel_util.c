#include "kernel_util.h"

t2g_status t2g_need(t2g_tensor tensor, uint64_t count, const char *kernel, const char *name, t2g_error *err) {
    if (!tensor.arena || tensor.bytes == 0)
        return t2g_fail(err, T2G_ERR_ARGUMENT, "%s: tensor '%s' is missing (%llu elements needed)", kernel, name,
                        (unsigned long long)count);
    if (tensor.dtype != T2G_DTYPE_F32 && tensor.dtype != T2G_DTYPE_U32)
        return t2g_fail(err, T2G_ERR_ARGUMENT, "%s: tensor '%s' holds %s elements; the kernel reads 32-bit ones (f32, u32)",
                        kernel, name, t2g_dtype_name(tensor.dtype));
    if (t2g_tensor_count(tensor) < count)
        return t2g_fail(err, T2G_ERR_ARGUMENT, "%s: tensor '%s' holds %llu elements, the shape needs %llu", kernel, name,
                        (unsigned long long)t2g_tensor_count(tensor), (unsigned long long)count);
    return T2G_OK;
}

t2g_status t2g_need_index(uint64_t count, const char *kernel, const char *what, t2g_error *err) {
    if (count > 0xFFFFFFFFull)
        return t2g_fail(err, T2G_ERR_TOO_LARGE, "%s: %s = %llu does not fit a 32-bit index", kernel, what,
                        (unsigned long long)count);
    return T2G_OK;
}

void t2g_groups_2d(uint64_t groups, uint32_t out[3]) {
    if (groups <= T2G_MAX_GROUPS_1D) {
        out[0] = (uint32_t)groups;
        out[1] = 1;
    } else {
        out[0] = T2G_MAX_GROUPS_1D;
        out[1] = t2g_ceil_div(groups, T2G_MAX_GROUPS_1D);
    }
    out[2] = 1;
}

t2g_status t2g_record_elementwise(t2g_recorder *rec, const char *shader, const t2g_binding *bindings,
                                  uint32_t binding_count, const void *push, uint32_t push_bytes, uint64_t n,
                                  t2g_error *err) {
    t2g_status status = t2g_need_index(n, shader, "n", err);
    if (status) return status;
    const uint32_t spec[] = {T2G_ELEMENTWISE_GROUP};
    t2g_dispatch dispatch = {
        .shader = shader,
        .spec = spec,
        .spec_count = 1,
        .bindings = bindings,
        .binding_count = binding_count,
        .push = push,
        .push_bytes = push_bytes,
        .groups = {n ? t2g_stride_groups(n, T2G_ELEMENTWISE_GROUP) : 0, 1, 1},
    };
    return t2g_record_dispatch(rec, &dispatch, err);
}
