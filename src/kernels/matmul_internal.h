/* matmul with an explicit choice of tile configuration, for tests that must exercise every
 * configuration on any device (lavapipe in CI would otherwise only ever see the CPU's).
 * Includes only public headers, so tests/check/check_matmul.c can include it. Not installed. */
#ifndef T2G_MATMUL_INTERNAL_H
#define T2G_MATMUL_INTERNAL_H

#include "t2g/device.h"
#include "t2g/dtype.h"
#include "t2g/kernels.h"

/* The tile configurations of shaders/matmul_gemm.comp and shaders/matmul_gemm_cpu.comp (the table
 * in src/kernels/matmul.c). */
typedef enum t2g_matmul_tiles {
    T2G_MATMUL_TILES_COOPMAT = -2,  /* the cooperative-matrix GEMM, whatever the size (for its self-check) */
    T2G_MATMUL_TILES_AUTO = -1,     /* the cooperative-matrix GEMM where t2g_matmul_use_coopmat and the
                                     * self-check allow it, else chosen by device type and problem size */
    T2G_MATMUL_TILES_GPU_SMALL = 0, /* GPUs, small problems */
    T2G_MATMUL_TILES_GPU_LARGE = 1, /* GPUs, large problems */
    T2G_MATMUL_TILES_CPU_SMALL = 2, /* CPU devices (lavapipe), small problems */
    T2G_MATMUL_TILES_CPU_LARGE = 3, /* CPU devices, large problems */
    T2G_MATMUL_TILES_ROWS = 4,      /* a few rows (a decode step of one to four sequences), any device */
    T2G_MATMUL_TILES_CPU_WIDE = 5,  /* CPU devices, the largest problems */
    T2G_MATMUL_TILES_CPU_LANES = 6, /* CPU devices, every size: matmul_gemm_cpu.comp */
    T2G_MATMUL_TILES_CPU_ROWS = 7,  /* CPU devices, a few rows: matmul_gemm_cpu.comp */
    T2G_MATMUL_TILES_CPU_PANELS = 8, /* CPU devices, more rows: matmul_panels_cpu.comp on packed operands */
    T2G_MATMUL_TILES_CPU_PANELS_WIDE = 9, /* CPU devices, the largest products: the same, 16 x 16 per invocation */
    T2G_MATMUL_TILES_COUNT = 10
} t2g_matmul_tiles;

/* The shaders of the tile configurations. */
typedef enum t2g_matmul_shader {
    T2G_MATMUL_SHADER_GEMM, /* matmul_gemm.comp: A and B tiles staged in shared memory */
    T2G_MATMUL_SHADER_CPU,  /* matmul_gemm_cpu.comp: for lavapipe's 8-lane vectors */
    T2G_MATMUL_SHADER_CPU_PANELS, /* matmul_panels_cpu.comp: the same, operands packed first
                                   * (matmul_pack_cpu.comp) */
    T2G_MATMUL_SHADER_COUNT
} t2g_matmul_shader;

typedef struct t2g_matmul_tile_config {
    const char *name;
    uint32_t bm, bn, bk;  /* workgroup tile of C (bm x bn), K slice (bk; 4 for the CPU shaders) */
    uint32_t tm, tn;      /* outputs per invocation (tm x tn), multiples of 4 */
    t2g_matmul_shader shader;
    uint32_t pack_a_min_n; /* cpu_panels: A packed (else read in place, where it can be) from this N up */
    uint32_t pack_b_min_m; /* cpu_panels: B stored (K,N) packed (else read in place, where it can be) from this M up */
} t2g_matmul_tile_config;

const t2g_matmul_tile_config *t2g_matmul_tile_config_get(t2g_matmul_tiles tiles);
/* A tiled shader's name ("matmul_gemm", "matmul_gemm_cpu", "matmul_panels_cpu"): its 16-bit
 * variants are "<name>@<A's type>_<B's type>" (shaders/variants.txt; matmul_panels_cpu's are
 * the names of its packing shaders' variants together, for the self-check's verdicts). */
const char *t2g_matmul_shader_name(t2g_matmul_shader shader);
/* Invocations per workgroup, and bytes of shared memory, of a configuration. */
uint32_t t2g_matmul_tile_invocations(const t2g_matmul_tile_config *config);
uint32_t t2g_matmul_tile_shared_bytes(const t2g_matmul_tile_config *config);

/* Whether a product of A and B of these element types runs on the cooperative-matrix GEMM
 * (shaders/matmul_coopmat.comp) on a device described by `info`: the device runs the kernel for
 * that pair of types (t2g_device_info.coopmat_f16_16x16x16: its shape, features and shader) and
 * the kernel's workgroup fits it. A pure function of info; the self-check may still have disabled
 * the variant on a device (t2g_device_variant_disabled), which the kernels check as well. */
bool t2g_matmul_use_coopmat(const t2g_device_info *info, t2g_dtype a, t2g_dtype b);

/* The configuration the public functions use for an (M,K) x (K,N) product on this device. */
t2g_matmul_tiles t2g_matmul_choose_tiles(const t2g_device *device, uint32_t M, uint32_t N, uint32_t K);

/* The tiled shaders t2g_matmul_choose_tiles gives this device at one size or another, each once
 * as the first configuration of it that the choice takes (in the order of the choice table), in
 * tiles; returns how many (1 to T2G_MATMUL_SHADER_COUNT). The self-check checks the variants of
 * each of them (src/kernels/variant_check.c). */
uint32_t t2g_matmul_choosable_shaders(const t2g_device *device, t2g_matmul_tiles tiles[T2G_MATMUL_SHADER_COUNT]);

/* t2g_matmul_forward and t2g_matmul_backward with every product on configuration `tiles`
 * (T2G_MATMUL_TILES_COOPMAT: T2G_ERR_UNSUPPORTED where the device cannot run the
 * cooperative-matrix GEMM on the operands' types, or the self-check disabled it); matmul_gemm_cpu
 * reads its operands' quads where t2g_quad_view (quad_view.h) serves; cpu_panels packs the
 * operands into panels of at most T2G_MATMUL_PANEL_BYTES at once (a product that needs more goes
 * in chunks of tiles), and where the panels of one tile of each operand would pass that or the
 * device's texel-view limit, runs on cpu_lanes instead (the same bits). */
#define T2G_MATMUL_PANEL_BYTES (64ull << 20)
/* For tests: cpu_panels packs at most `bytes` of panels at once instead of T2G_MATMUL_PANEL_BYTES
 * (0: that again), so that small products go in chunks, and packs both operands always
 * (T2G_PANELS_PACKED) or reads each in place wherever it can (T2G_PANELS_IN_PLACE) rather than as
 * matmul_panels.c chooses (T2G_PANELS_AUTO). Process-wide; not for concurrent recording. */
typedef enum t2g_panels_in_place { T2G_PANELS_AUTO, T2G_PANELS_PACKED, T2G_PANELS_IN_PLACE } t2g_panels_in_place;
void t2g_matmul_test_panels(uint64_t bytes, t2g_panels_in_place in_place);
t2g_status t2g_matmul_forward_tiles(t2g_recorder *rec, t2g_matmul_tiles tiles, t2g_tensor out, t2g_tensor inp,
                                    t2g_tensor weight, const t2g_tensor *bias, uint32_t N, uint32_t C, uint32_t OC,
                                    t2g_error *err);
t2g_status t2g_matmul_backward_tiles(t2g_recorder *rec, t2g_matmul_tiles tiles, const t2g_tensor *dinp,
                                     t2g_tensor dweight, const t2g_tensor *dbias, t2g_tensor dout, t2g_tensor inp,
                                     t2g_tensor weight, uint32_t N, uint32_t C, uint32_t OC, t2g_error *err);
t2g_status t2g_matmul_backward_set_tiles(t2g_recorder *rec, t2g_matmul_tiles tiles, t2g_tensor dinp,
                                         t2g_tensor dweight, const t2g_tensor *dbias, t2g_tensor dout, t2g_tensor inp,
                                         t2g_tensor weight, uint32_t N, uint32_t C, uint32_t OC, t2g_error *err);
t2g_status t2g_matmul_forward_residual_tiles(t2g_recorder *rec, t2g_matmul_tiles tiles, t2g_tensor out,
                                             t2g_tensor residual, t2g_tensor inp, t2g_tensor weight,
                                             const t2g_tensor *bias, uint32_t N, uint32_t C, uint32_t OC,
                                             t2g_error *err);
t2g_status t2g_matmul_backward_gelu_tiles(t2g_recorder *rec, t2g_matmul_tiles tiles, t2g_tensor dinp,
                                          t2g_tensor dweight, const t2g_tensor *dbias, t2g_tensor dout, t2g_tensor inp,
                                          t2g_tensor weight, t2g_tensor pre, uint32_t N, uint32_t C, uint32_t OC,
                                          t2g_error *err);

#endif
