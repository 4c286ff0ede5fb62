/* matmul with bias, forward and backward, as three products of one tiled SGEMM
 * (shaders/matmul_gemm.comp; on CPU devices shaders/matmul_gemm_cpu.comp, the same contract):
 *   forward   out (N,OC)     = inp (N,C) weight (OC,C)^T + bias (OC)   M=N,  N=OC, K=C
 *   backward  dinp (N,C)    += dout (N,OC) weight (OC,C)                M=N,  N=C,  K=OC
 *             dweight (OC,C) += dout (N,OC)^T inp (N,C)                 M=OC, N=C,  K=N
 *             dbias (OC)    += column sums of dout (reduce_columns.h)
 * The layout of each operand is a specialization constant, so each product reads its operands
 * in place (no transposed copies) with coalesced loads. inp and weight may be stored as bf16 or
 * f16 (a variant of the shader, picked by their types: shaders/variants.txt lists the pairs);
 * every sum is f32, and so are out, dout and the gradients. Where the device has cooperative
 * matrices of the right shape, an f16 x f16 product runs on them instead
 * (shaders/matmul_coopmat.comp; coopmat_gemms below). */
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "kernel_util.h"
#include "matmul_internal.h"
#include "matmul_panels.h"
#include "reduce_columns.h"

/* The tile configurations: tile of C (BM x BN), K slice (BK), outputs per invocation (TM x TN),
 * and the shader. matmul_gemm's shared memory: 2 buffers x BK x (BM + 4 and BN + 4) floats.
 *   gpu_large: 256 invocations, 16.5 KiB: the shape of a fast SGEMM on GPUs (8 x 8 outputs per
 *              invocation keep the FMAs per shared-memory load high within the registers an
 *              invocation can have at 256 per workgroup).
 *   gpu_small: 64 invocations, 9 KiB: more workgroups where large tiles would leave a GPU idle.
 *   cpu_*:     lavapipe runs each invocation's shared-memory loads as gathers across its SIMD
 *              lanes, so what counts there is FMAs per load: 16 x 16 outputs per invocation
 *              (lavapipe keeps the accumulators in memory anyway). Measured on lavapipe (LLVM
 *              15, AVX2, 2 threads) on 256x768x768: cpu_large 13.4 GFLOP/s, cpu_small 9.7,
 *              gpu_large 10.0, gpu_small 4.3; on 64x128x128: cpu_small 6.0, cpu_large 2.7,
 *              gpu_small 3.6, gpu_large 2.2. cpu_large: 64 invocations, 16.5 KiB; cpu_small:
 *              16 invocations, 8.5 KiB.
 *   cpu_wide:  256 x 128 tiles of 16 x 16 per invocation, 128 invocations, 24.5 KiB (lavapipe has
 *              32 KiB; where a device has less, the choice falls to cpu_large): fewer global loads
 *              per FMA and half the workgroups. Measured 2026-12-07 with bench kernels --tiles, all
 *              configurations in one run (lavapipe, Mesa 22.3.6, LLVM 15, AVX2, 2 cores shared
 *              under a load of 4 to 6): 512^3 median 4.3 GFLOP/s against cpu_large's 3.6 (ahead
 *              in 9 of 10 runs), 1024^3 3.9 against 3.7 (ahead in 5 of 9, behind in 3). What
 *              lavapipe does not reward (512^3, same runs): fewer outputs per invocation (8 x 8:
 *              1.9, 4 x 4: 1.4: fewer spills do not pay for more loads, and a shared-memory load
 *              whose address differs across lanes is compiled as a loop over the 8 lanes, so
 *              FMAs per load decide), more (32 x 16 or 16 x 32: 2.2 to 2.4), K slices of 4 or 16,
 *              256 x 256 tiles, a rolled k loop. With the staging of the next slice skipped (a
 *              wrong result, for timing only) 16 x 16 tiles reach only 4.4 to 5.4 GFLOP/s: the
 *              shared-memory loads and FMAs themselves bound this shader on lavapipe, far below
 *              OpenBLAS (issue 13 asks 25%); no tile shape gets there. Loading the operands only
 *              once per slice as well (timing only): 10 to 22 GFLOP/s, so the inner loop's loads
 *              are about two thirds of the time; yet having each lane of 8 load an eighth of A's
 *              vec4s and subgroupBroadcast them (the lanes share a row) gained nothing measurable.
 *              cpu_small, cpu_large and cpu_wide are no longer chosen (cpu_lanes is faster at
 *              every size measured); they stay selectable (--tiles) and tested.
 *   cpu_lanes: matmul_gemm_cpu.comp, the CPU devices' choice for products of 5 to 255 rows (and
 *              cpu_panels' where its panels would not fit the device's texel views): 16 x 64 tiles, 8
 *              invocations (one AVX2 vector on lavapipe), 16 x 8 outputs each, no shared memory,
 *              operands read from the buffers as vec4s (the shader's comment says why). What was
 *              measured on lavapipe 22.3.6 (by removing one kind of load or another, timing only):
 *              a load inside a loop costs per lane and per component, an address the same for all 8
 *              lanes as much as 8 different ones (gallivm's one-scalar-load path needs an address
 *              built from constants and push constants only, which no address in a k loop is), a
 *              vec4 nearly four scalars, a component from a storage buffer about twice one from
 *              shared memory; FMAs are nearly free (with the loads removed, 62 GFLOP/s at 512^3).
 *              Tried and slower: a lane per column reading B at uniform addresses or gathered (0.7
 *              and 1.1 GFLOP/s at 512^3: scalar loads, 9 to 16 per 8 FMAs); subgroupBroadcast of A
 *              loaded once per lane (no gain: a broadcast costs about a load); A's slice staged in
 *              shared memory (slower: 45 against 28 ms at 512^3, the barriers alone about 14 ms); 8
 *              x 4, 8 x 8, 16 x 12, 24 x 8, 24 x 12, 32 x 8 and 16 x 16 per invocation, none ahead
 *              of 16 x 8 (16 x 16 on 16 x 128 tiles came closest: 6.9 to 8.8 GFLOP/s at 1024^3
 *              against 8.7 to 9.6, same runs). Measured 2026-12-07 05:51 UTC (load average 5.3: 2
 *              cores shared), bench kernels --tiles, 3 runs of medians of 5, all configurations in
 *              each run: 128^3 cpu_lanes 7.3 / 6.5 / 7.3 GFLOP/s, cpu_large 5.3 / 5.4 / 5.4,
 *              cpu_small 4.0 / 4.1 / 3.6; 256^3 8.8 / 8.4 / 7.9 against cpu_wide 6.7 / 6.5 / 6.6;
 *              512^3 9.5 / 9.2 / 8.8 against 6.9 / 6.3 / 6.7; 1024^3 9.0 / 9.0 / 8.1 against 7.0 /
 *              6.5 / 6.2. tools/bench_matmul.sh, 3 runs at 05:52 UTC (load 5.3): 1024^3 13.8%,
 *              13.8%, 13.0% of OpenBLAS (8.2 to 9.2 against 60 to 67 GFLOP/s; cpu_wide 10.0 to
 *              10.9%); at 512^3 OpenBLAS under that load gave 8.4 to 11 GFLOP/s, no figure to
 *              compare with. Issue 13's 25% is not reached. A training step of bench train --preset
 *              small (1024 x 128 x 384 and the like): the matmuls 322 against 490 to 510 ms of GPU
 *              time, the step 790 against 967 to 1050 ms. bf16 and f16 operands take it too
 *              (variants; a bf16 quad is a uvec2, half the components): 512^3 in 27 to 35 ms (bf16)
 *              and 24 to 32 (f16) against f32's 30 to 36, where cpu_wide took 37 to 52 and 35 to 46
 *              (3 runs at 05:56 UTC, load 5.8). Since it reads its quads as texels (the shader
 *              says why), tools/bench_matmul.sh 2026-12-07 15:03-15:14 UTC, otherwise idle:
 *              1024^3 56.9 to 58.8 GFLOP/s (22.5 to 23.5% of OpenBLAS), 2048^3 46.8 to 58.6,
 *              512^3 31 to 32.5 or 62.7 (bimodal). 32 x 64 tiles of 32 x 8 per invocation ran
 *              1024^3 at 71 to 73 GFLOP/s, but SmolLM2's training step took 11.2 s against 4.9
 *              (its pipelines three times as long to compile): not taken. Writing whole tiles'
 *              outputs as quads (C and bias read as texels): SmolLM2's dweight (K = 128 tokens)
 *              852 and 811 -> 746 and 695 ms a step (15:53 UTC, two rounds, otherwise idle).
 *   rows:      4 rows of C a workgroup, for products of one to four rows (a decode step of one
 *              sequence) on GPUs: the tiles above would compute 32 to 128 rows for it, nearly
 *              all of them padding. 8 invocations, 8.5 KiB.
 *   cpu_rows:  the same for CPU devices, on matmul_gemm_cpu.comp: 4 x 64 tiles, 4 rows x 8
 *              columns per invocation. A decode step of one sequence of SmolLM2-135M (30 layers,
 *              every matmul 1 x 576 x 576..1536 and the 49152-row head) spent 220 to 230 ms in
 *              its matmuls against 900 to 950 with rows and 440 to 460 with cpu_lanes (one run
 *              each, 2026-12-07 about 11:45 UTC, load 2 to 5 with a helper's tests beside). Fewer
 *              than 4 rows cut the tile, whose reads went one value at a time until quads along k
 *              were taken for clamped rows too (2026-12-08): the 1 x 576 x 49152 head 26.8 -> 9.8
 *              ms, as fast as 4 rows; bench rollout of SmolLM2 with one prompt 5.66 -> 12.4 new
 *              tokens/s.
 *   cpu_panels: matmul_panels_cpu.comp, the CPU devices' choice from 256 rows: cpu_lanes' 16 x 64
 *              tiles of 16 x 8 per invocation, on operands packed first (matmul_pack_cpu.comp,
 *              src/kernels/matmul_panels.c) into panels where a k step of a tile's rows is one
 *              run of quads. Why: profiled with perf on lavapipe 22.3.6 (2-core Zen 5), cpu_lanes
 *              spent about 57% of a 1024^3 product in its texel fetches, most of it waiting on B's:
 *              its 8 lanes read 64 rows of B^T and 16 of A at each k, 4 KiB apart, which fall into
 *              one set of the L1 cache (1024^3 ran at 57 GFLOP/s, 1088^3 at 74). A is read in
 *              place where packing it does not pay (N below pack_a_min_n, 512: each quad of A is
 *              read by N / 64 tiles) and it can be (f32; stored (M,K): K and lda multiples of 4;
 *              stored (K,M), a row per k: M and lda multiples of 4), and B stored (K,N) likewise
 *              below pack_b_min_m rows of C (512). The backward's dweight then reads dout^T and
 *              inp in place, where packing transposed them: the small step's packing 4.4 to 5.1
 *              ms against 7.4 to 7.6 and its dweight products 13.2 against 11.6 to 12.0 (bench
 *              train --profile, each dispatch's best of 5 runs, two such runs of each build,
 *              2026-12-07 about 20:20 UTC); with B in place at every size, bench kernels --size
 *              medium's matmul_backward took 62 to 64 ms against 60. The panels themselves
 *              (2026-12-07 17:1x UTC, bench kernels --tiles, each product's first run untimed,
 *              two runs): 512^3 68 GFLOP/s against cpu_lanes' 59 to 60, 1024^3 84 against
 *              56 to 57, 2048^3 89 to 90 against 56 to 57. A training step of bench train
 *              --preset small: 77 to 81 ms at best against 82 to 86 (three runs each of this
 *              build and the last, alternated); SmolLM2-135M's shape at 2 x 256 tokens, one run
 *              of each: 8.08 s a step (best 7.78) against 8.42 (8.32), its matmuls 5.0 s plus 0.9
 *              s of packing against 6.4.
 *              16 x 16 per invocation (cpu_panels_wide) ran the small step slower (83 to 87 ms)
 *              and its pipelines take lavapipe about 3 s each to compile (a cold first step of
 *              bench train --preset small 38.6 s against 11.8); A packed from N = 256 up: the
 *              small step's packing 14.6 ms against 10 to 12.6.
 *   cpu_panels_wide: the same shader, 16 x 128 tiles of 16 x 16 per invocation, from 1024 x 1024
 *              outputs: 1024^3 91 GFLOP/s, 2048^3 104 (same runs). Tried on the panels and slower:
 *              32 x 8 per invocation (1024^3 81), 32 x 16 (71), 16 x 32 (49), 8 x 16 (76); A's
 *              quads fetched by one lane each and subgroupBroadcast to the others (48).
 * Every output is one invocation's sum over k in increasing order, so every configuration of
 * every shader gives the same bits (test matmul). */
static const t2g_matmul_tile_config tile_configs[T2G_MATMUL_TILES_COUNT] = {
    /*                                             BM   BN  BK  TM  TN  shader           pack_a_min_n, pack_b_min_m */
    [T2G_MATMUL_TILES_GPU_SMALL] = {"gpu_small",  32,  32, 16,  4,  4, T2G_MATMUL_SHADER_GEMM,          0, 0},
    [T2G_MATMUL_TILES_GPU_LARGE] = {"gpu_large", 128, 128,  8,  8,  8, T2G_MATMUL_SHADER_GEMM,          0, 0},
    [T2G_MATMUL_TILES_CPU_SMALL] = {"cpu_small",  64,  64,  8, 16, 16, T2G_MATMUL_SHADER_GEMM,          0, 0},
    [T2G_MATMUL_TILES_CPU_LARGE] = {"cpu_large", 128, 128,  8, 16, 16, T2G_MATMUL_SHADER_GEMM,          0, 0},
    [T2G_MATMUL_TILES_ROWS]      = {"rows",        4, 128,  8,  4, 16, T2G_MATMUL_SHADER_GEMM,          0, 0},
    [T2G_MATMUL_TILES_CPU_WIDE]  = {"cpu_wide",  256, 128,  8, 16, 16, T2G_MATMUL_SHADER_GEMM,          0, 0},
    [T2G_MATMUL_TILES_CPU_LANES] = {"cpu_lanes",  16,  64,  4, 16,  8, T2G_MATMUL_SHADER_CPU,           0, 0},
    [T2G_MATMUL_TILES_CPU_ROWS]  = {"cpu_rows",    4,  64,  4,  4,  8, T2G_MATMUL_SHADER_CPU,           0, 0},
    [T2G_MATMUL_TILES_CPU_PANELS] = {"cpu_panels", 16,  64,  4, 16,  8, T2G_MATMUL_SHADER_CPU_PANELS, 512, 512},
    [T2G_MATMUL_TILES_CPU_PANELS_WIDE] = {"cpu_panels_wide", 16, 128, 4, 16, 16, T2G_MATMUL_SHADER_CPU_PANELS, 512, 512},
};

/* The shaders of the configurations, and the bytes of shared memory each declares for one. */
static uint32_t gemm_shared_bytes(const t2g_matmul_tile_config *cfg) {
    /* 2 buffers x BK k rows of the A and B tiles, vec4s, one of padding per k row of each */
    return 2u * cfg->bk * (cfg->bm / 4 + 1) * 16u + 2u * cfg->bk * (cfg->bn / 4 + 1) * 16u;
}
static uint32_t cpu_shared_bytes(const t2g_matmul_tile_config *cfg) {
    (void)cfg;
    return 0; /* none: the operands come straight from the buffers */
}
static const struct {
    const char *name;
    uint32_t (*shared_bytes)(const t2g_matmul_tile_config *cfg);
} gemm_shaders[] = {
    [T2G_MATMUL_SHADER_GEMM] = {"matmul_gemm", gemm_shared_bytes},
    [T2G_MATMUL_SHADER_CPU] = {"matmul_gemm_cpu", cpu_shared_bytes},
    [T2G_MATMUL_SHADER_CPU_PANELS] = {"matmul_panels_cpu", cpu_shared_bytes},
};

/* Which configuration a product (M,K) x (K,N) gets: the first row of its device class whose
 * min_outputs it reaches (M * N >= min_outputs), whose rows it takes (min_rows <= M <= max_rows;
 * max_rows 0: any M) and that fits the device (Vulkan promises only 16 KiB of shared memory; the
 * 128 x 128 tiles need 16.5). Products of a few rows (a decode step) get 4-row tiles; large
 * tiles once there are enough of them to keep the device busy: 64 on GPUs. On CPUs, products of
 * 256 rows or more go on packed panels (their packing pays where each panel of B is read by 16
 * tiles or more: see cpu_panels above), cpu_panels_wide from 1024 x 1024 outputs; fewer rows on
 * cpu_lanes. */
static const struct {
    bool cpu;
    uint32_t min_rows, max_rows;
    uint64_t min_outputs;
    t2g_matmul_tiles tiles;
} tile_choices[] = {
    {false, 0, 4, 0, T2G_MATMUL_TILES_ROWS},
    {false, 0, 0, 64ull * 128 * 128, T2G_MATMUL_TILES_GPU_LARGE},
    {false, 0, 0, 0, T2G_MATMUL_TILES_GPU_SMALL},
    {true, 0, 4, 0, T2G_MATMUL_TILES_CPU_ROWS},
    {true, 256, 0, 1024ull * 1024, T2G_MATMUL_TILES_CPU_PANELS_WIDE},
    {true, 256, 0, 0, T2G_MATMUL_TILES_CPU_PANELS},
    {true, 0, 0, 0, T2G_MATMUL_TILES_CPU_LANES},
};

const t2g_matmul_tile_config *t2g_matmul_tile_config_get(t2g_matmul_tiles tiles) {
    return tiles >= 0 && tiles < T2G_MATMUL_TILES_COUNT ? &tile_configs[tiles] : NULL;
}

uint32_t t2g_matmul_tile_invocations(const t2g_matmul_tile_config *config) {
    return (config->bm / config->tm) * (config->bn / config->tn);
}

uint32_t t2g_matmul_tile_shared_bytes(const t2g_matmul_tile_config *config) {
    return gemm_shaders[config->shader].shared_bytes(config);
}

const char *t2g_matmul_shader_name(t2g_matmul_shader shader) {
    return shader >= 0 && shader < T2G_MATMUL_SHADER_COUNT ? gemm_shaders[shader].name : "(no such shader)";
}

#define CHOICE_COUNT (sizeof tile_choices / sizeof tile_choices[0])
#define CHOICE_FALLBACK T2G_MATMUL_TILES_GPU_SMALL /* fits every Vulkan device */

/* Whether row i of tile_choices is for the device's class and its configuration fits the device. */
static bool choice_fits(const t2g_device_info *info, size_t i) {
    const t2g_matmul_tile_config *cfg = &tile_configs[tile_choices[i].tiles];
    return tile_choices[i].cpu == (info->kind == T2G_DEVICE_CPU) &&
           t2g_matmul_tile_shared_bytes(cfg) <= info->max_shared_memory_bytes &&
           t2g_matmul_tile_invocations(cfg) <= info->max_workgroup_invocations;
}

t2g_matmul_tiles t2g_matmul_choose_tiles(const t2g_device *device, uint32_t M, uint32_t N, uint32_t K) {
    (void)K;
    const t2g_device_info *info = t2g_device_get_info(device);
    uint64_t outputs = (uint64_t)M * N;
    for (size_t i = 0; i < CHOICE_COUNT; i++)
        if (choice_fits(info, i) && outputs >= tile_choices[i].min_outputs && M >= tile_choices[i].min_rows &&
            (tile_choices[i].max_rows == 0 || M <= tile_choices[i].max_rows))
            return tile_choices[i].tiles;
    return CHOICE_FALLBACK;
}

uint32_t t2g_matmul_choosable_shaders(const t2g_device *device, t2g_matmul_tiles tiles[T2G_MATMUL_SHADER_COUNT]) {
    const t2g_device_info *info = t2g_device_get_info(device);
    bool listed[T2G_MATMUL_SHADER_COUNT] = {false};
    uint32_t count = 0;
    /* A fitting row is reached by the products of at least max(its min_outputs, 1) outputs and
     * fewer than every earlier fitting row's min_outputs (a row with max_rows or min_rows leaves
     * the products of other rows to the later ones); the fallback where no row takes one. */
    uint64_t earlier_min = UINT64_MAX; /* the least min_outputs of the fitting rows so far */
    for (size_t i = 0; i <= CHOICE_COUNT; i++) {
        bool fallback = i == CHOICE_COUNT;
        if (!fallback && !choice_fits(info, i)) continue;
        uint64_t least = fallback ? 1 : tile_choices[i].min_outputs > 1 ? tile_choices[i].min_outputs : 1;
        t2g_matmul_tiles choice = fallback ? CHOICE_FALLBACK : tile_choices[i].tiles;
        t2g_matmul_shader shader = tile_configs[choice].shader;
        if (least < earlier_min && !listed[shader]) {
            listed[shader] = true;
            tiles[count++] = choice;
        }
        if (!fallback && tile_choices[i].max_rows == 0 && tile_choices[i].min_rows <= 1 &&
            tile_choices[i].min_outputs < earlier_min)
            earlier_min = tile_choices[i].min_outputs;
    }
    return count;
}

/* The cooperative-matrix GEMMs: for a pair of operand types, the variant of
 * shaders/matmul_coopmat.comp and the flag of t2g_device_info that says the device runs it
 * (src/vk/physical.c sets it from the shapes the device reports and the embedded shaders). Each
 * has a workgroup of COOPMAT_SUBGROUPS subgroups of the device's largest subgroup size and a
 * 64 x 64 tile of C; COOPMAT_SHARED_BYTES as declared in the shader. */
enum { COOPMAT_SUBGROUPS = 4, COOPMAT_TILE = 64, COOPMAT_SHARED_BYTES = 64 * 40 * 2 + 32 * 72 * 2 + 4 * 256 * 4 };
static const struct {
    t2g_dtype a, b;
    size_t runs; /* offsetof(t2g_device_info, the bool) */
} coopmat_gemms[] = {
    {T2G_DTYPE_F16, T2G_DTYPE_F16, offsetof(t2g_device_info, coopmat_f16_16x16x16)},
};

bool t2g_matmul_use_coopmat(const t2g_device_info *info, t2g_dtype a, t2g_dtype b) {
    bool fits = COOPMAT_SUBGROUPS * info->max_subgroup_size <= info->max_workgroup_invocations &&
                COOPMAT_SHARED_BYTES <= info->max_shared_memory_bytes && info->max_subgroup_size > 0;
    for (size_t i = 0; i < sizeof coopmat_gemms / sizeof coopmat_gemms[0]; i++)
        if (coopmat_gemms[i].a == a && coopmat_gemms[i].b == b)
            return fits && *(const bool *)((const char *)info + coopmat_gemms[i].runs);
    return false;
}

enum { GEMM_BIAS = 1u, GEMM_ACCUMULATE = 2u, GEMM_QUADS = 4u, GEMM_C_QUADS = 8u };

/* What a GEMM shader needs recorded, whichever it is: its name and specialization constants,
 * the tile of C each workgroup computes, and whether it reads its operands' quads through texel
 * views (matmul_gemm_cpu.comp's bindings 4 and 5). Every GEMM shader has gemm_epilogue.glsl's
 * epilogue: its constant after the shader's own, aux in the binding after its others. */
enum { T2G_GEMM_SPEC_MAX = 10 }; /* a tiled shader's 8 constants, matmul_gemm_cpu's WHOLE, EPILOGUE */
typedef struct gemm_shader {
    char name[T2G_SHADER_NAME_MAX];
    uint32_t spec[T2G_GEMM_SPEC_MAX];
    uint32_t spec_count;
    uint32_t bm, bn;
    bool quads;
} gemm_shader;

/* What record_gemm adds to the product: an epilogue and its aux (M,N), laid out as C. */
typedef struct gemm_extra {
    t2g_gemm_epilogue epilogue;
    t2g_tensor aux; /* none: no arena */
} gemm_extra;

/* Records C (M,N) = A B [+ bias] [+ C] (or the epilogue's) on `shader`: matmul_gemm.comp,
 * matmul_gemm_cpu.comp and matmul_coopmat.comp share bindings 0 to 3, their push constants'
 * first fields and their order of workgroups. */
static t2g_status record_gemm(t2g_recorder *rec, const char *label, const gemm_shader *shader, t2g_tensor c,
                              uint32_t ldc, bool accumulate, t2g_gemm_operand A, t2g_gemm_operand B,
                              const t2g_tensor *bias, uint32_t M, uint32_t N, uint32_t K, gemm_extra extra,
                              t2g_error *err) {
    uint32_t tiles_m = t2g_ceil_div(M, shader->bm), tiles_n = t2g_ceil_div(N, shader->bn);
    struct {
        uint32_t M, N, K, lda, ldb, ldc, tiles_m, tiles_n, flags, a_first, b_first, c_first, bias_first, aux_first;
    } push = {M, N, K, A.ld, B.ld, ldc, tiles_m, tiles_n, (bias ? GEMM_BIAS : 0u) | (accumulate ? GEMM_ACCUMULATE : 0u),
              0, 0, 0, 0, 0};
    /* Without a bias, binding 3 is A again (never read); without an epilogue, aux is C (never read:
     * f32, as its texel view's format must be). */
    const t2g_tensor *aux = extra.epilogue ? &extra.aux : NULL;
    t2g_binding bindings[10] = {
        {c, accumulate || extra.epilogue == T2G_EPILOGUE_GELU_GRAD ? T2G_READ_WRITE : T2G_WRITE},
        {A.tensor, T2G_READ},
        {B.tensor, T2G_READ},
        {bias ? *bias : A.tensor, T2G_READ},
        {aux ? *aux : c, T2G_READ}, /* matmul_gemm.comp's and matmul_coopmat.comp's aux */
    };
    uint32_t binding_count = 5;
    t2g_texel texels[10] = {T2G_TEXEL_NONE};
    if (shader->quads) { /* A's and B's quads as texels (bindings 4, 5), then the outputs' (6 to 9) */
        const t2g_device_info *info = t2g_device_get_info(t2g_recorder_device(rec));
        bool a_fits = t2g_bind_quads(info, A.tensor, &bindings[4], &texels[4], &push.a_first);
        bool b_fits = t2g_bind_quads(info, B.tensor, &bindings[5], &texels[5], &push.b_first);
        if (a_fits && b_fits) push.flags |= GEMM_QUADS;
        uint32_t first[3];
        if (t2g_gemm_bind_outputs(info, c, ldc, bias, aux, &bindings[6], &texels[6], first)) push.flags |= GEMM_C_QUADS;
        push.c_first = first[0], push.bias_first = first[1], push.aux_first = first[2];
        binding_count = 10;
    }
    uint32_t spec[T2G_GEMM_SPEC_MAX];
    memcpy(spec, shader->spec, sizeof spec);
    uint32_t spec_count = shader->spec_count;
    /* matmul_gemm_cpu's WHOLE: every tile inside C, everything read and written as quads, K % 4 == 0 */
    if (shader->quads)
        spec[spec_count++] = (push.flags & GEMM_QUADS) && (push.flags & GEMM_C_QUADS) && M % shader->bm == 0 &&
                             N % shader->bn == 0 && K % 4 == 0 && A.ld % 4 == 0 && B.ld % 4 == 0;
    spec[spec_count++] = extra.epilogue;
    t2g_dispatch dispatch = {
        .shader = shader->name, .spec = spec, .spec_count = spec_count,
        .bindings = bindings, .binding_count = binding_count, .texels = texels,
        .push = &push, .push_bytes = sizeof push,
        .label = label,
    };
    t2g_groups_2d((uint64_t)tiles_m * tiles_n, dispatch.groups);
    return t2g_record_dispatch(rec, &dispatch, err);
}

/* The cooperative-matrix GEMM's shader for these operands, or an error (T2G_ERR_UNSUPPORTED)
 * saying why the device cannot run it. */
static t2g_status coopmat_shader(t2g_recorder *rec, const char *label, t2g_gemm_operand A, t2g_gemm_operand B,
                                 gemm_shader *shader, t2g_error *err) {
    const t2g_device_info *info = t2g_device_get_info(t2g_recorder_device(rec));
    if (!t2g_matmul_use_coopmat(info, A.tensor.dtype, B.tensor.dtype))
        return t2g_fail(err, T2G_ERR_UNSUPPORTED, "%s: %s cannot run t2g's cooperative-matrix GEMM on %s x %s operands",
                        label, info->name, t2g_dtype_name(A.tensor.dtype), t2g_dtype_name(B.tensor.dtype));
    const t2g_dtype types[] = {A.tensor.dtype, B.tensor.dtype};
    *shader = (gemm_shader){.spec = {COOPMAT_SUBGROUPS * info->max_subgroup_size, A.trans, B.trans}, .spec_count = 3,
                            .bm = COOPMAT_TILE, .bn = COOPMAT_TILE};
    return t2g_shader_variant(rec, label, "matmul_coopmat", types, 2, shader->name, err);
}

/* Whether the automatic choice takes the cooperative-matrix GEMM: the device runs it on these
 * types and the self-check has not disabled it. */
static bool coopmat_chosen(t2g_recorder *rec, t2g_gemm_operand A, t2g_gemm_operand B) {
    const t2g_device_info *info = t2g_device_get_info(t2g_recorder_device(rec));
    if (!t2g_matmul_use_coopmat(info, A.tensor.dtype, B.tensor.dtype)) return false; /* most products: no message */
    gemm_shader shader;
    t2g_error ignored = {0};
    return coopmat_shader(rec, "matmul", A, B, &shader, &ignored) == T2G_OK;
}

/* Configuration `tiles` (AUTO: chosen by the problem's size), checked against its shader's
 * requirements and the device's limits. */
static t2g_status tile_config(t2g_recorder *rec, const char *label, t2g_matmul_tiles tiles, uint32_t M, uint32_t N,
                              uint32_t K, const t2g_matmul_tile_config **config, t2g_error *err) {
    t2g_device *device = t2g_recorder_device(rec);
    if (tiles == T2G_MATMUL_TILES_AUTO) tiles = t2g_matmul_choose_tiles(device, M, N, K);
    const t2g_matmul_tile_config *cfg = t2g_matmul_tile_config_get(tiles);
    if (!cfg) return t2g_fail(err, T2G_ERR_ARGUMENT, "%s: no tile configuration %d", label, (int)tiles);
    uint32_t invocations = t2g_matmul_tile_invocations(cfg);
    if (cfg->bm % cfg->tm || cfg->bn % cfg->tn || cfg->tm % 4 || cfg->tn % 4 || cfg->bk == 0 ||
        (cfg->shader != T2G_MATMUL_SHADER_GEMM && cfg->bk != 4))
        return t2g_fail(err, T2G_ERR_ARGUMENT, "%s: tile configuration '%s' is inconsistent", label, cfg->name);
    const t2g_device_info *info = t2g_device_get_info(device);
    if (t2g_matmul_tile_shared_bytes(cfg) > info->max_shared_memory_bytes || invocations > info->max_workgroup_invocations)
        return t2g_fail(err, T2G_ERR_ARGUMENT, "%s: tile configuration '%s' needs %u bytes of shared memory and %u "
                        "invocations; %s allows %u and %u", label, cfg->name, t2g_matmul_tile_shared_bytes(cfg),
                        invocations, info->name, info->max_shared_memory_bytes, info->max_workgroup_invocations);
    *config = cfg;
    return T2G_OK;
}

/* The tiled shader (matmul_gemm.comp or matmul_gemm_cpu.comp) on configuration `cfg`, its variant
 * for the operands' types. */
static t2g_status tiled_shader(t2g_recorder *rec, const char *label, const t2g_matmul_tile_config *cfg,
                               t2g_gemm_operand A, t2g_gemm_operand B, gemm_shader *shader, t2g_error *err) {
    *shader = (gemm_shader){.spec = {t2g_matmul_tile_invocations(cfg), cfg->bm, cfg->bn, cfg->bk, cfg->tm, cfg->tn,
                                     A.trans, B.trans},
                            .spec_count = 8, .bm = cfg->bm, .bn = cfg->bn, .quads = cfg->shader == T2G_MATMUL_SHADER_CPU};
    const t2g_dtype types[] = {A.tensor.dtype, B.tensor.dtype};
    return t2g_shader_variant(rec, label, gemm_shaders[cfg->shader].name, types, 2, shader->name, err);
}

/* C (M,N) = A B [+ bias] [+ C]: on the cooperative-matrix GEMM where `tiles` asks for it or
 * leaves the choice (AUTO) and the device runs it (one dispatch), else on the tiled shader of
 * `tiles` (cpu_panels: packing dispatches first, matmul_panels.c). The caller has checked the
 * tensors' sizes. */
static t2g_status gemm(t2g_recorder *rec, const char *label, t2g_matmul_tiles tiles, t2g_tensor c, uint32_t ldc,
                       bool accumulate, t2g_gemm_operand A, t2g_gemm_operand B, const t2g_tensor *bias, uint32_t M,
                       uint32_t N, uint32_t K, t2g_gemm_epilogue epilogue, t2g_tensor aux, t2g_error *err) {
    gemm_shader shader;
    t2g_status status;
    bool coopmat = tiles == T2G_MATMUL_TILES_COOPMAT || (tiles == T2G_MATMUL_TILES_AUTO && coopmat_chosen(rec, A, B));
    if (coopmat) {
        status = coopmat_shader(rec, label, A, B, &shader, err);
    } else {
        const t2g_matmul_tile_config *cfg;
        status = tile_config(rec, label, tiles, M, N, K, &cfg, err);
        if (!status && cfg->shader == T2G_MATMUL_SHADER_CPU_PANELS) {
            const t2g_panel_product product = {c, ldc, accumulate, A, B, bias, M, N, K, epilogue, aux};
            t2g_panel_plan plan;
            if (t2g_panels_plan(rec, cfg, &product, &plan))
                return t2g_record_panels(rec, label, cfg, &product, &plan, err);
            /* panels past the limits: the operands read in place, the same bits */
            status = tile_config(rec, label, T2G_MATMUL_TILES_CPU_LANES, M, N, K, &cfg, err);
        }
        if (!status) status = tiled_shader(rec, label, cfg, A, B, &shader, err);
    }
    if (status) return status;
    return record_gemm(rec, label, &shader, c, ldc, accumulate, A, B, bias, M, N, K, (gemm_extra){epilogue, aux}, err);
}

/* Shapes of at least 1, and every matrix indexable with 32 bits. */
static t2g_status check_shape(const char *kernel, uint32_t N, uint32_t C, uint32_t OC, t2g_error *err) {
    if (N == 0 || C == 0 || OC == 0)
        return t2g_fail(err, T2G_ERR_ARGUMENT, "%s: N = %u, C = %u, OC = %u (each must be at least 1)", kernel, N, C, OC);
    t2g_status status = t2g_need_index((uint64_t)N * C, kernel, "N * C", err);
    if (!status) status = t2g_need_index((uint64_t)N * OC, kernel, "N * OC", err);
    if (!status) status = t2g_need_index((uint64_t)OC * C, kernel, "OC * C", err);
    return status;
}

#define NO_AUX ((t2g_tensor){0}) /* gemm's aux without an epilogue */

t2g_status t2g_matmul_forward_tiles(t2g_recorder *rec, t2g_matmul_tiles tiles, t2g_tensor out, t2g_tensor inp,
                                    t2g_tensor weight, const t2g_tensor *bias, uint32_t N, uint32_t C, uint32_t OC,
                                    t2g_error *err) {
    const char *kernel = "matmul_forward";
    t2g_status status = check_shape(kernel, N, C, OC, err);
    if (!status) status = t2g_need(out, (uint64_t)N * OC, kernel, "out", err);
    if (!status) status = t2g_need_float(inp, (uint64_t)N * C, kernel, "inp", err);
    if (!status) status = t2g_need_float(weight, (uint64_t)OC * C, kernel, "weight", err);
    if (!status && bias) status = t2g_need(*bias, OC, kernel, "bias", err);
    if (status) return status;
    /* out (N,OC) = inp (N,C) [A, rows contiguous] x weight^T [B stored (OC,C): transposed] */
    t2g_gemm_operand A = {inp, false, C}, B = {weight, true, C};
    return gemm(rec, kernel, tiles, out, OC, false, A, B, bias, N, OC, C, T2G_EPILOGUE_NONE, NO_AUX, err);
}

t2g_status t2g_matmul_forward_residual_tiles(t2g_recorder *rec, t2g_matmul_tiles tiles, t2g_tensor out,
                                             t2g_tensor residual, t2g_tensor inp, t2g_tensor weight,
                                             const t2g_tensor *bias, uint32_t N, uint32_t C, uint32_t OC,
                                             t2g_error *err) {
    const char *kernel = "matmul_forward_residual";
    t2g_status status = check_shape(kernel, N, C, OC, err);
    if (!status) status = t2g_need(out, (uint64_t)N * OC, kernel, "out", err);
    if (!status) status = t2g_need(residual, (uint64_t)N * OC, kernel, "residual", err);
    if (!status) status = t2g_need_float(inp, (uint64_t)N * C, kernel, "inp", err);
    if (!status) status = t2g_need_float(weight, (uint64_t)OC * C, kernel, "weight", err);
    if (!status && bias) status = t2g_need(*bias, OC, kernel, "bias", err);
    if (status) return status;
    /* out (N,OC) = residual + (inp (N,C) x weight^T + bias), in the GEMM's outputs: the operations
     * of matmul_forward then residual_forward, so the same bits */
    t2g_gemm_operand A = {inp, false, C}, B = {weight, true, C};
    return gemm(rec, "matmul_forward", tiles, out, OC, false, A, B, bias, N, OC, C, T2G_EPILOGUE_ADD, residual, err);
}

/* The checks of both backward functions: the shapes and the tensors' sizes. */
static t2g_status check_backward(const char *kernel, const t2g_tensor *dinp, t2g_tensor dweight,
                                 const t2g_tensor *dbias, t2g_tensor dout, t2g_tensor inp, t2g_tensor weight, uint32_t N,
                                 uint32_t C, uint32_t OC, t2g_error *err) {
    t2g_status status = check_shape(kernel, N, C, OC, err);
    if (!status && dinp) status = t2g_need(*dinp, (uint64_t)N * C, kernel, "dinp", err);
    if (!status) status = t2g_need(dweight, (uint64_t)OC * C, kernel, "dweight", err);
    if (!status && dbias) status = t2g_need(*dbias, OC, kernel, "dbias", err);
    if (!status) status = t2g_need(dout, (uint64_t)N * OC, kernel, "dout", err);
    if (!status) status = t2g_need_float(inp, (uint64_t)N * C, kernel, "inp", err);
    if (!status) status = t2g_need_float(weight, (uint64_t)OC * C, kernel, "weight", err);
    return status;
}

/* dweight (OC,C) += dout^T inp, dbias (OC) += column sums of dout: both backward functions'. */
static t2g_status backward_weights(t2g_recorder *rec, t2g_matmul_tiles tiles, t2g_tensor dweight,
                                   const t2g_tensor *dbias, t2g_tensor dout, t2g_tensor inp, uint32_t N, uint32_t C,
                                   uint32_t OC, t2g_error *err) {
    /* dweight (OC,C) += dout^T [A stored (N,OC): transposed] x inp (N,C) [B, rows contiguous] */
    t2g_gemm_operand A = {dout, true, OC}, B = {inp, false, C};
    t2g_status status =
        gemm(rec, "matmul_backward_dweight", tiles, dweight, C, true, A, B, NULL, OC, C, N, T2G_EPILOGUE_NONE, NO_AUX, err);
    if (!status && dbias) status = t2g_column_sums_accumulate(rec, *dbias, dout, N, OC, err);
    return status;
}

/* Both plain backward functions: dinp (N,C) += or, not add_to_dinp, = dout weight. */
static t2g_status backward(t2g_recorder *rec, t2g_matmul_tiles tiles, const char *kernel, const t2g_tensor *dinp,
                           bool add_to_dinp, t2g_tensor dweight, const t2g_tensor *dbias, t2g_tensor dout,
                           t2g_tensor inp, t2g_tensor weight, uint32_t N, uint32_t C, uint32_t OC, t2g_error *err) {
    t2g_status status = check_backward(kernel, dinp, dweight, dbias, dout, inp, weight, N, C, OC, err);
    if (!status && dinp) {
        /* dinp (N,C) (+)= dout (N,OC) [A, rows contiguous] x weight (OC,C) [B, rows contiguous] */
        t2g_gemm_operand A = {dout, false, OC}, B = {weight, false, C};
        status = gemm(rec, "matmul_backward_dinp", tiles, *dinp, C, add_to_dinp, A, B, NULL, N, C, OC,
                      T2G_EPILOGUE_NONE, NO_AUX, err);
    }
    if (status) return status;
    return backward_weights(rec, tiles, dweight, dbias, dout, inp, N, C, OC, err);
}

t2g_status t2g_matmul_backward_tiles(t2g_recorder *rec, t2g_matmul_tiles tiles, const t2g_tensor *dinp,
                                     t2g_tensor dweight, const t2g_tensor *dbias, t2g_tensor dout, t2g_tensor inp,
                                     t2g_tensor weight, uint32_t N, uint32_t C, uint32_t OC, t2g_error *err) {
    return backward(rec, tiles, "matmul_backward", dinp, true, dweight, dbias, dout, inp, weight, N, C, OC, err);
}

t2g_status t2g_matmul_backward_set_tiles(t2g_recorder *rec, t2g_matmul_tiles tiles, t2g_tensor dinp,
                                         t2g_tensor dweight, const t2g_tensor *dbias, t2g_tensor dout, t2g_tensor inp,
                                         t2g_tensor weight, uint32_t N, uint32_t C, uint32_t OC, t2g_error *err) {
    return backward(rec, tiles, "matmul_backward_set", &dinp, false, dweight, dbias, dout, inp, weight, N, C, OC, err);
}

t2g_status t2g_matmul_backward_gelu_tiles(t2g_recorder *rec, t2g_matmul_tiles tiles, t2g_tensor dinp,
                                          t2g_tensor dweight, const t2g_tensor *dbias, t2g_tensor dout, t2g_tensor inp,
                                          t2g_tensor weight, t2g_tensor pre, uint32_t N, uint32_t C, uint32_t OC,
                                          t2g_error *err) {
    const char *kernel = "matmul_backward_gelu";
    t2g_status status = check_backward(kernel, &dinp, dweight, dbias, dout, inp, weight, N, C, OC, err);
    if (!status) status = t2g_need(pre, (uint64_t)N * C, kernel, "pre", err);
    if (status) return status;
    /* dinp (N,C) += gelu'(pre) * (dout (N,OC) [A, rows contiguous] x weight (OC,C) [B, rows
     * contiguous]), in the GEMM's outputs: the bits of the product into a zeroed scratch (0 +
     * each sum is the sum itself: a sum starts at +0, so it is never -0), then gelu_backward */
    t2g_gemm_operand A = {dout, false, OC}, B = {weight, false, C};
    status = gemm(rec, "matmul_backward_dinp", tiles, dinp, C, true, A, B, NULL, N, C, OC, T2G_EPILOGUE_GELU_GRAD, pre,
                  err);
    if (status) return status;
    return backward_weights(rec, tiles, dweight, dbias, dout, inp, N, C, OC, err);
}

t2g_status t2g_matmul_forward(t2g_recorder *rec, t2g_tensor out, t2g_tensor inp, t2g_tensor weight,
                              const t2g_tensor *bias, uint32_t N, uint32_t C, uint32_t OC, t2g_error *err) {
    return t2g_matmul_forward_tiles(rec, T2G_MATMUL_TILES_AUTO, out, inp, weight, bias, N, C, OC, err);
}

t2g_status t2g_matmul_backward_set(t2g_recorder *rec, t2g_tensor dinp, t2g_tensor dweight, const t2g_tensor *dbias,
                                   t2g_tensor dout, t2g_tensor inp, t2g_tensor weight, uint32_t N, uint32_t C,
                                   uint32_t OC, t2g_error *err) {
    return t2g_matmul_backward_set_tiles(rec, T2G_MATMUL_TILES_AUTO, dinp, dweight, dbias, dout, inp, weight, N, C, OC,
                                         err);
}

t2g_status t2g_matmul_backward(t2g_recorder *rec, const t2g_tensor *dinp, t2g_tensor dweight,
                               const t2g_tensor *dbias, t2g_tensor dout, t2g_tensor inp, t2g_tensor weight,
                               uint32_t N, uint32_t C, uint32_t OC, t2g_error *err) {
    return t2g_matmul_backward_tiles(rec, T2G_MATMUL_TILES_AUTO, dinp, dweight, dbias, dout, inp, weight, N, C, OC,
                                     err);
}

t2g_status t2g_matmul_forward_residual(t2g_recorder *rec, t2g_tensor out, t2g_tensor residual, t2g_tensor inp,
                                       t2g_tensor weight, const t2g_tensor *bias, uint32_t N, uint32_t C, uint32_t OC,
                                       t2g_error *err) {
    return t2g_matmul_forward_residual_tiles(rec, T2G_MATMUL_TILES_AUTO, out, residual, inp, weight, bias, N, C, OC,
                                             err);
}

t2g_status t2g_matmul_backward_gelu(t2g_recorder *rec, t2g_tensor dinp, t2g_tensor dweight, const t2g_tensor *dbias,
                                    t2g_tensor dout, t2g_tensor inp, t2g_tensor weight, t2g_tensor pre, uint32_t N,
                                    uint32_t C, uint32_t OC, t2g_error *err) {
    return t2g_matmul_backward_gelu_tiles(rec, T2G_MATMUL_TILES_AUTO, dinp, dweight, dbias, dout, inp, weight, pre, N, C,
                                          OC, err);
}
