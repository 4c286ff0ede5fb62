/* Deterministic column reductions, shared by kernels whose backward sums over rows (the bias
 * gradient of matmul, LayerNorm's weight and bias gradients): no atomics, a fixed order.
 *
 * Stage 1 sums chunks of T2G_ROWS_PER_CHUNK rows into partials (chunks, C); stage 2 adds the
 * partials, chunk 0 first, into the output. A kernel with its own stage 1 (e.g. LayerNorm's
 * dout * xhat) writes partials in the same layout and calls t2g_reduce_partials. */
#ifndef T2G_REDUCE_COLUMNS_H
#define T2G_REDUCE_COLUMNS_H

#include "kernel_util.h"

#define T2G_ROWS_PER_CHUNK 256u
/* Columns per workgroup in both stages. */
#define T2G_COLUMNS_PER_GROUP 64u

static inline uint32_t t2g_row_chunks(uint32_t N) { return t2g_ceil_div(N, T2G_ROWS_PER_CHUNK); }

/* out (C) += sum over k < chunks of partials (chunks, C). */
t2g_status t2g_reduce_partials(t2g_recorder *rec, t2g_tensor out, t2g_tensor partials, uint32_t chunks, uint32_t C,
                               t2g_error *err);

/* out (C) += column sums of x (N, C); the partials live in the recorder's scratch memory. */
t2g_status t2g_column_sums_accumulate(t2g_recorder *rec, t2g_tensor out, t2g_tensor x, uint32_t N, uint32_t C,
                                      t2g_error *err);

#endif
