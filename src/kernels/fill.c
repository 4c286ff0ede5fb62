/* out[i] = value (shaders/fill.comp), in chunks when out exceeds one binding. */
#include "kernel_util.h"

typedef struct fill_push { uint32_t n; float value; } fill_push;

static void fill_range(void *push, uint32_t skip, uint32_t count) {
    (void)skip; /* the work starts at element 0: every chunk from its first element */
    ((fill_push *)push)->n = count;
}

t2g_status t2g_fill(t2g_recorder *rec, t2g_tensor out, uint64_t n, float value, t2g_error *err) {
    t2g_status status = t2g_need(out, n, "fill", "out", err);
    if (status) return status;
    fill_push push = {0, value};
    t2g_binding bindings[] = {{out, T2G_WRITE}};
    return t2g_record_elementwise_split(rec, "fill", bindings, 1, 1, &push, sizeof push, fill_range, 0, n, err);
}
