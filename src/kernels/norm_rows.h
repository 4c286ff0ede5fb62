/* What LayerNorm and RMSNorm share: the row layout of shaders/layernorm.glsl (rows of `lanes`
 * invocations, several rows to a workgroup when C is small) and their weight gradients, summed
 * over rows in chunks of T2G_ROWS_PER_CHUNK (reduce_columns.h), deterministically. */
#ifndef T2G_NORM_ROWS_H
#define T2G_NORM_ROWS_H

#include <stddef.h>

#include "reduce_columns.h"

/* Invocations per workgroup of the row kernels: on GPUs, and on CPU devices (norm_rows.c). */
#define T2G_NORM_GROUP 256u
#define T2G_NORM_GROUP_CPU 8u

/* C >= 1 and N * C fits a 32-bit index; otherwise an error naming `kernel`. */
t2g_status t2g_norm_check_shape(const char *kernel, uint32_t N, uint32_t C, t2g_error *err);

/* The push constants of LayerNorm's and RMSNorm's row kernels: the shape; whether the texel views
 * of the rows' operands serve and C % 4 == 0 (the CPU layout then reads quads) and the texel where
 * each view starts, in the order of their bindings; RMSNorm's forward's eps. */
typedef struct t2g_norm_push {
    uint32_t N, C, quads, first[4];
    float eps;
} t2g_norm_push;
/* The views of the rows' operands in `of` (t2g_split_quads), which the CPU layout reads where
 * C % 4 == 0. */
static inline t2g_split_quads t2g_norm_quads(uint32_t of, uint32_t C) {
    return (t2g_split_quads){of, C % 4 == 0, offsetof(t2g_norm_push, quads)};
}

/* Records `shader` (a layernorm.glsl layout) over N rows of C columns; its push constants
 * begin with uint N, uint C. With quads (NULL: none), the bindings in quads->of are also bound as
 * texel views of quads after the kernel's own (t2g_bind_quad_views), which the CPU layout reads
 * where they serve. */
t2g_status t2g_record_norm_rows(t2g_recorder *rec, const char *shader, const t2g_binding *bindings,
                                uint32_t binding_count, void *push, uint32_t push_bytes, uint32_t N, uint32_t C,
                                const t2g_split_quads *quads, t2g_error *err);

/* The number of row chunks of N rows, refused when they are more than one grid dimension holds. */
t2g_status t2g_norm_chunks(const char *kernel, uint32_t N, uint32_t *chunks, t2g_error *err);


#endif
