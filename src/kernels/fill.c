/* out[i] = value for i < n: the driver's fill of the tensor's words with value's bits (no shader;
 * a buffer range larger than one binding needs no chunks). */
#include <string.h>

#include "kernel_util.h"

t2g_status t2g_fill(t2g_recorder *rec, t2g_tensor out, uint64_t n, float value, t2g_error *err) {
    t2g_status status = t2g_need(out, n, "fill", "out", err);
    if (status || n == 0) return status;
    uint32_t word;
    memcpy(&word, &value, sizeof word);
    return t2g_record_fill(rec, t2g_tensor_slice(out, 0, n), word, "fill", err);
}
