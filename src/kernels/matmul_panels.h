/* The CPU devices' GEMM on packed operands (shaders/matmul_pack_cpu.comp, then
 * shaders/matmul_panels_cpu.comp), for src/kernels/matmul.c: the configurations whose shader is
 * T2G_MATMUL_SHADER_CPU_PANELS. Not installed. */
#ifndef T2G_MATMUL_PANELS_H
#define T2G_MATMUL_PANELS_H

#include "kernel_util.h"
#include "matmul_internal.h"

/* One operand of a product: the tensor, whether it is stored transposed (A as (K,M), B as
 * (N,K)), and its leading dimension. */
typedef struct t2g_gemm_operand {
    t2g_tensor tensor;
    bool trans;
    uint32_t ld;
} t2g_gemm_operand;

/* What a product's outputs take besides the product (matmul_panels_cpu.comp's EPILOGUE), aux
 * (M,N) f32 laid out as C: C += gelu'(aux) * A B (GELU_GRAD: accumulating, no bias), or C = aux
 * + (A B + bias) (ADD: not accumulating). */
typedef enum t2g_gemm_epilogue { T2G_EPILOGUE_NONE, T2G_EPILOGUE_GELU_GRAD, T2G_EPILOGUE_ADD } t2g_gemm_epilogue;

/* C (M,N) = A B [+ bias] [+ C, when accumulating], C's rows ldc apart, or as the epilogue says. */
typedef struct t2g_panel_product {
    t2g_tensor c;
    uint32_t ldc;
    bool accumulate;
    t2g_gemm_operand A, B;
    const t2g_tensor *bias; /* NULL: none */
    uint32_t M, N, K;
    t2g_gemm_epilogue epilogue;
    t2g_tensor aux;         /* the epilogue's (none: no arena) */
} t2g_panel_product;

/* What a CPU GEMM's outputs read besides the product, in four bindings: C's, bias's and aux's
 * quads as texel views (bias or aux NULL: C again, never read) and aux as a storage buffer (NULL:
 * C again, never read), aux (M,N) being the epilogue's (gemm_epilogue.glsl); first[3], the quads
 * of the views where C, bias and aux start. Whether whole tiles may read and write C's outputs as
 * quads: every view read serves and ldc % 4 == 0. */
bool t2g_gemm_bind_outputs(const t2g_device_info *info, t2g_tensor c, uint32_t ldc, const t2g_tensor *bias,
                           const t2g_tensor *aux, t2g_binding bindings[4], t2g_texel texels[4], uint32_t first[3]);

/* Where the GEMM reads an operand's quads (matmul_panels_cpu.comp's A_FROM and B_FROM): its panel,
 * or the operand in place, f32, stored with k contiguous (A as (M,K): FROM_ROWS) or one row per k
 * (A as (K,M), B as (K,N): FROM_K_ROWS). */
typedef enum t2g_panel_from { T2G_PANEL_FROM_PANEL, T2G_PANEL_FROM_ROWS, T2G_PANEL_FROM_K_ROWS } t2g_panel_from;

/* How a product goes on configuration `cfg`: quads of k per panel row, tiles of C along m and n,
 * tiles per chunk (a chunk's panels hold chunk_m BM rows of A and chunk_n BN columns of B, those
 * of them that are packed), and where the GEMM reads each operand. */
typedef struct t2g_panel_plan {
    uint32_t k4;
    uint32_t tiles_m, tiles_n;
    uint32_t chunk_m, chunk_n;
    t2g_panel_from a_from, b_from;
} t2g_panel_plan;

/* The plan of the product on `cfg`; false where the panels of one tile of each operand would not
 * fit T2G_MATMUL_PANEL_BYTES (or the tests' figure) or the device's texel views (the packing
 * writes as much of a panel at once as a storage-buffer binding holds). */
bool t2g_panels_plan(t2g_recorder *rec, const t2g_matmul_tile_config *cfg, const t2g_panel_product *product,
                     t2g_panel_plan *plan);

/* Records the product on `cfg` as t2g_panels_plan planned it: for each chunk of tiles, the
 * packing of the operands' rows it needs into the recorder's shared scratch memory, then the
 * GEMM. The self-check's verdict on 16-bit operands is the name matmul_panels_cpu@<A's
 * type>_<B's type>. */
t2g_status t2g_record_panels(t2g_recorder *rec, const char *label, const t2g_matmul_tile_config *cfg,
                             const t2g_panel_product *product, const t2g_panel_plan *plan, t2g_error *err);

#endif
