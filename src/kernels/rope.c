/* Rotary position embedding (shaders/rope.comp): the host-side table of cosines and sines, and
 * the in-place rotation of the first heads of each row. */
#include <math.h>

#include "kernel_util.h"

void t2g_rope_table(float *table, uint32_t P, uint32_t hs, double theta) {
    uint32_t half = hs / 2;
    for (uint32_t pos = 0; pos < P; pos++) {
        float *row = table + (size_t)pos * hs; /* (hs): cos at [i], sin at [half + i] */
        for (uint32_t i = 0; i < half; i++) {
            double angle = (double)pos * pow(theta, -2.0 * i / hs);
            row[i] = (float)cos(angle);
            row[half + i] = (float)sin(angle);
        }
    }
}

t2g_status t2g_rope(t2g_recorder *rec, t2g_tensor x, t2g_tensor table, uint32_t B, uint32_t T, uint32_t stride,
                    uint32_t heads, uint32_t hs, uint32_t pos0, bool inverse, t2g_error *err) {
    const char *kernel = "rope";
    if (hs < 2 || hs % 2 != 0)
        return t2g_fail(err, T2G_ERR_ARGUMENT, "%s: head size hs = %u must be even and at least 2", kernel, hs);
    if ((uint64_t)heads * hs > stride)
        return t2g_fail(err, T2G_ERR_ARGUMENT, "%s: %u heads of %u floats need %llu floats a row, but stride = %u",
                        kernel, heads, hs, (unsigned long long)heads * hs, stride);
    uint64_t rows = (uint64_t)B * T, positions = (uint64_t)pos0 + T;
    uint64_t table_rows = table.bytes / 4 / hs;
    if (table.arena && positions > table_rows)
        return t2g_fail(err, T2G_ERR_ARGUMENT,
                        "%s: positions pos0 + T = %u + %u need %llu rows of table (%u floats each), it holds %llu",
                        kernel, pos0, T, (unsigned long long)positions, hs, (unsigned long long)table_rows);
    t2g_status status = t2g_need(x, rows * stride, kernel, "x", err);            /* (B,T,stride) */
    if (!status) status = t2g_need(table, positions * hs, kernel, "table", err); /* (>= pos0 + T, hs) */
    if (!status) status = t2g_need_index(rows * stride, kernel, "B * T * stride", err);
    if (!status) status = t2g_need_index(positions * hs, kernel, "(pos0 + T) * hs", err);
    if (status) return status;
    uint64_t pairs = rows * heads * (hs / 2);
    struct { uint32_t n, T, stride, heads, half_hs, pos0, inverse; } push = {
        (uint32_t)pairs, T, stride, heads, hs / 2, pos0, inverse};
    t2g_binding bindings[] = {{x, T2G_READ_WRITE}, {table, T2G_READ}};
    return t2g_record_elementwise(rec, "rope", bindings, 2, &push, sizeof push, pairs, err);
}
