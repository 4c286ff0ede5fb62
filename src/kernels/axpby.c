/* y = alpha x + beta y, and copy as its beta = 0 case (shaders/axpby.comp), in chunks when a
 * tensor exceeds one binding. */
#include "kernel_util.h"

typedef struct axpby_push { uint32_t n; float alpha, beta; } axpby_push;

static void axpby_range(void *push, uint32_t skip, uint32_t count) {
    (void)skip; /* the work starts at element 0: every chunk from its first element */
    ((axpby_push *)push)->n = count;
}

t2g_status t2g_axpby(t2g_recorder *rec, t2g_tensor y, t2g_tensor x, uint64_t n, float alpha, float beta,
                     t2g_error *err) {
    t2g_status status = t2g_need(y, n, "axpby", "y", err);
    if (!status) status = t2g_need(x, n, "axpby", "x", err);
    if (status) return status;
    axpby_push push = {0, alpha, beta};
    t2g_binding bindings[] = {{y, beta == 0.0f ? T2G_WRITE : T2G_READ_WRITE}, {x, T2G_READ}};
    return t2g_record_elementwise_split(rec, "axpby", bindings, 2, 2, &push, sizeof push, axpby_range, 0, n, err);
}

t2g_status t2g_copy(t2g_recorder *rec, t2g_tensor dst, t2g_tensor src, uint64_t n, t2g_error *err) {
    return t2g_axpby(rec, dst, src, n, 1.0f, 0.0f, err);
}
