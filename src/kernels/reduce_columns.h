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

/* Records stage 1, a partials shader over `chunks` chunks of N rows of C columns (specialization
 * constants T2G_COLUMNS_PER_GROUP, T2G_ROWS_PER_CHUNK; push constants t2g_columns_push): an
 * invocation per column, or per four columns where C % 4 == 0 and the texel views of the bindings
 * in quads_of (bound after the shader's own, in order) serve. */
typedef struct t2g_columns_push {
    uint32_t N, C, quads, first[3];
} t2g_columns_push;
t2g_status t2g_record_column_partials(t2g_recorder *rec, const char *shader, const t2g_binding *bindings,
                                      uint32_t binding_count, uint32_t quads_of, uint32_t N, uint32_t C,
                                      uint32_t chunks, t2g_error *err);

/* out (C) += column sums of x (N, C); the partials live in the recorder's scratch memory. */
t2g_status t2g_column_sums_accumulate(t2g_recorder *rec, t2g_tensor out, t2g_tensor x, uint32_t N, uint32_t C,
                                      t2g_error *err);

#endif
