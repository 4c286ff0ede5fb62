/* Causal grouped-query self-attention (shaders/attention_forward.comp,
 * attention_backward_dot.comp, attention_backward_dkv.comp, attention_backward_dq.comp,
 * attention.glsl; for CPU devices attention_forward_lanes.comp, attention_backward_dkv_lanes.comp,
 * attention_backward_dq_lanes.comp, attention_lanes.glsl; attention_layout.glsl for all),
 * flash-attention style: no (B,NH,T,T) tensor is ever stored. NH query heads share KVH key/value
 * heads (KVH divides NH; KVH = NH is multi-head attention).
 *
 * qkv (B,T,W), W = (NH + 2 KVH) hs; out (B,T,C), C = NH hs; lse (B,NH,T), dout (B,T,C),
 * dqkv (B,T,W); hs <= 128.
 *
 * Two configurations (the table attention_configs; attention_internal.h), each a shader per
 * kernel, with the same bindings, push constants and results (to rounding):
 * - tiled (GPUs). Forward: one workgroup per (b, h, block of ROWS query rows), keys of h's kv head
 *   streamed in tiles of TILE rows through shared memory, online softmax. Backward: D =
 *   rowsum(dout * out) (B,NH,T) in scratch memory; dK, dV with one workgroup per (b, kv head g,
 *   block of ROWS key rows), streaming the query tiles i >= j of each of g's NH / KVH query heads
 *   in turn, so the group's sum stays in registers; dQ with one workgroup per (b, h, block of ROWS
 *   query rows), key tiles j <= i streamed.
 * - lanes (CPU devices: llvmpipe runs 8 invocations as one vector and pays for every shared-memory
 *   load and barrier): the same walks, but one invocation per block of a few rows (lane_rows),
 *   alone, its rows and sums in registers, the rows of the other side read one at a time as quads
 *   through uniform texel views of qkv and dout (t2g_quad_view; scalar loads where no view
 *   serves, the same bits); no shared memory, no barriers. The forward with a 16-bit out stays
 *   tiled (no 16-bit lanes variant).
 * Each output element is summed by one invocation in a fixed order: deterministic, no atomics.
 * Measured 2026-12-07 about 14:46 UTC on lavapipe (llvmpipe, LLVM 15, 2 cores; load average 1.1 to
 * 1.5, another session at work beside), side by side in one session, `t2g bench train --preset
 * small --steps 8` (hs 32, T 64, B 16; best of three rounds' ms_per_step) and `--profile` (two
 * calls each): main before the texel views 263 ms a step, main with them (tiled attention)
 * 171 ms, with the lanes kernels 89 ms; attention_forward 24.5 -> 2.0 ms, attention_backward_dkv
 * 36.7 -> 3.2 ms, attention_backward_dq 29.1 -> 2.3 ms (90.3 -> 7.5 ms in all). SmolLM2's shape
 * (`--preset smollm2-135m --context 256 --batch 2 --steps 2 --warmup 1 --profile`: hs 64, 9 query
 * heads over 3 kv heads, 30 layers; about 14:51 UTC, load 0.7 to 1.9), main against the lanes
 * kernels: 15.6 -> 8.3 s a step; attention 1811 + 3357 + 2643 -> 127 + 197 + 167 ms. The lanes
 * kernels take longer to compile: 2.4 to 2.7 s for the three at hs 64 against 1.2 s (`bench
 * kernels --only attention_forward,attention_backward` without Mesa's shader cache, which
 * otherwise keeps them: once per hs).
 *
 * out may be bf16 or f16 (variants of attention_forward and attention_backward_dot, which writes
 * and reads it: shaders/variants.txt); qkv, lse, dout, dqkv and every sum are f32.
 *
 * The tiled kernels take {GROUP_SIZE, HS, ROWS, TILE} as specialization constants, so the
 * per-invocation register arrays (score and output micro-tiles, see attention.glsl) have fixed
 * sizes. Each kernel takes the first (ROWS, TILE) of a fixed list whose shared memory fits the
 * budget (32 KiB, or the device's limit if lower); the choice depends only on hs and that
 * limit, so results are reproducible on a device. At 32 KiB:
 *   forward  (32, 32) for hs < 110, else (32, 16)
 *   dK/dV    (32, 32) for hs < 47, (32, 16) < 74, (16, 16) < 119, else (16, 8)
 *   dQ       (32, 32) for hs < 55, (32, 16) < 79, (16, 16) < 123, else (16, 8) */
#include <math.h>
#include <string.h>

#include "attention_internal.h"
#include "kernel_util.h"

#define ATTENTION_GROUP 128u          /* invocations per workgroup of the tiled kernels */
#define ATTENTION_MAX_HEAD 128u
#define ATTENTION_SHARED_BUDGET 32768u

typedef enum attention_kernel { ATTENTION_FORWARD, ATTENTION_DKV, ATTENTION_DQ, ATTENTION_KERNELS } attention_kernel;

/* Shared memory in bytes of each tiled kernel, from the arrays its shader declares (rows of
 * (., HS) tiles padded to HS + 1, of score tiles to columns + 1). */
static uint32_t shared_bytes(attention_kernel kernel, uint32_t hs, uint32_t rows, uint32_t tile) {
    uint32_t stride = hs + 1;
    switch (kernel) {
    case ATTENTION_FORWARD: /* q_tile, kv_tile, p_tile, row_max, row_scale */
        return 4u * (rows * stride + tile * stride + rows * (tile + 1) + 2 * rows);
    case ATTENTION_DKV: /* k_tile, v_tile, q_tile, do_tile, p_tile, ds_tile, lse_tile, d_tile */
        return 4u * (2 * rows * stride + 2 * tile * stride + 2 * tile * (rows + 1) + 2 * tile);
    case ATTENTION_DQ: /* q_tile, do_tile, k_tile, v_tile, ds_tile, lse_tile, d_tile */
        return 4u * (2 * rows * stride + 2 * tile * stride + rows * (tile + 1) + 2 * rows);
    case ATTENTION_KERNELS: break;
    }
    return UINT32_MAX;
}

/* The specialization constants {GROUP_SIZE, HS, ROWS, TILE} of a tiled kernel. */
static void choose_blocks(t2g_recorder *rec, attention_kernel kernel, uint32_t hs, uint32_t spec[4]) {
    static const uint32_t candidates[][2] = {{32, 32}, {32, 16}, {16, 16}, {16, 8}, {8, 8}};
    const size_t count = sizeof candidates / sizeof candidates[0];
    uint32_t budget = t2g_device_get_info(t2g_recorder_device(rec))->max_shared_memory_bytes;
    if (budget > ATTENTION_SHARED_BUDGET) budget = ATTENTION_SHARED_BUDGET;
    size_t pick = count - 1; /* (8, 8) needs under 16 KiB, Vulkan's minimum limit, at hs 128 */
    for (size_t i = 0; i < count; i++) {
        if (shared_bytes(kernel, hs, candidates[i][0], candidates[i][1]) <= budget) {
            pick = i;
            break;
        }
    }
    spec[0] = ATTENTION_GROUP;
    spec[1] = hs;
    spec[2] = candidates[pick][0];
    spec[3] = candidates[pick][1];
}

/* Push constants of every attention kernel (shaders/attention_layout.glsl): C = NH hs,
 * W = (NH + 2 KVH) hs; blocks for the tiled kernels; qkv_first, dout_first for the lanes kernels'
 * texel views. */
typedef struct attention_push {
    uint32_t B, T, NH, KVH, C, W, blocks;
    float scale;
    uint32_t qkv_first, dout_first;
} attention_push;

/* The configurations: each kernel's shader, whether it is a lanes kernel (record_lanes: one
 * invocation per block of rows, texel views of qkv and dout) or tiled (record_tiled), and whether
 * it has variants that write a 16-bit out (the forward only; shaders/variants.txt). */
#define ATTENTION_LANES_GROUP 8u       /* invocations per workgroup of the lanes kernels: one vector of llvmpipe's */
#define ATTENTION_LANE_ROWS_MAX 4u     /* rows an invocation of a lanes kernel owns, at most */
#define ATTENTION_LANE_FLOATS 512u     /* and the floats it holds for them, at most (lane_rows) */
#define ATTENTION_MAX_BINDINGS 7u
static const struct attention_config {
    const char *name;
    struct {
        const char *shader;
        bool lanes, writes16;
        uint32_t row_arrays; /* lanes: the (HS) arrays an invocation holds per row it owns */
    } kernels[ATTENTION_KERNELS];
} attention_configs[T2G_ATTENTION_CONFIGS] = {
    [T2G_ATTENTION_TILED] = {"tiled", {[ATTENTION_FORWARD] = {"attention_forward", false, true, 0},
                                       [ATTENTION_DKV] = {"attention_backward_dkv", false, false, 0},
                                       [ATTENTION_DQ] = {"attention_backward_dq", false, false, 0}}},
    [T2G_ATTENTION_LANES] = {"lanes", {[ATTENTION_FORWARD] = {"attention_forward_lanes", true, false, 2}, /* q, acc */
                                       [ATTENTION_DKV] = {"attention_backward_dkv_lanes", true, false, 4}, /* k, v, dk, dv */
                                       [ATTENTION_DQ] = {"attention_backward_dq_lanes", true, false, 3}}}, /* q, dout, dq */
};

/* The rows each invocation of a lanes kernel owns (shaders/attention_lanes.glsl: LANE_ROWS): the
 * most, a power of two up to ATTENTION_LANE_ROWS_MAX, whose arrays hold at most
 * ATTENTION_LANE_FLOATS floats. Each row it reads of the other side then feeds that many rows, but
 * llvmpipe's compile time grows steeply with what an invocation holds: the hs 64 kernels took
 * 2.7 s to compile at 512 floats and 8 s at 1024 (four rows in every kernel), for no faster
 * attention (`bench kernels`, measured 2026-12-07, before that with scalar loads beside the views in
 * each pipeline 4 s owning one row, 8 s two, 29 s four). */
static uint32_t lane_rows(uint32_t row_arrays, uint32_t hs) {
    uint32_t rows = ATTENTION_LANE_ROWS_MAX;
    while (rows > 1 && rows * row_arrays * hs > ATTENTION_LANE_FLOATS) rows /= 2;
    return rows;
}

/* The device's configuration, by device class (t2g_device_layouts_for_cpu: CPU devices, unless a
 * test has one take the GPU layouts). */
static const t2g_attention_config attention_choices[2] = {
    [false] = T2G_ATTENTION_TILED, /* GPUs */
    [true] = T2G_ATTENTION_LANES,  /* CPU devices */
};

/* The shapes of one call: B sequences of T positions, NH query heads sharing KVH key/value
 * heads of hs channels. */
typedef struct attention_shape {
    uint32_t B, T, NH, KVH, hs;
} attention_shape;

static uint64_t out_count(const attention_shape *s) { return (uint64_t)s->B * s->T * s->NH * s->hs; }
static uint64_t qkv_count(const attention_shape *s) { return (uint64_t)s->B * s->T * (s->NH + 2ull * s->KVH) * s->hs; }
static uint64_t lse_count(const attention_shape *s) { return (uint64_t)s->B * s->NH * s->T; }

static t2g_status check_shape(const char *kernel, const attention_shape *s, t2g_error *err) {
    if (s->B == 0 || s->T == 0 || s->NH == 0 || s->KVH == 0 || s->hs == 0)
        return t2g_fail(err, T2G_ERR_ARGUMENT,
                        "%s: B, T, NH, KVH and hs must be at least 1 (B=%u T=%u NH=%u KVH=%u hs=%u)", kernel, s->B,
                        s->T, s->NH, s->KVH, s->hs);
    if (s->NH % s->KVH != 0)
        return t2g_fail(err, T2G_ERR_ARGUMENT,
                        "%s: the %u query heads (NH) are not a multiple of the %u key/value heads (KVH)", kernel, s->NH,
                        s->KVH);
    if (s->hs > ATTENTION_MAX_HEAD)
        return t2g_fail(err, T2G_ERR_ARGUMENT, "%s: head size hs = %u exceeds the supported %u", kernel, s->hs,
                        ATTENTION_MAX_HEAD);
    return t2g_need_index(qkv_count(s), kernel, "B * T * (NH + 2 KVH) * hs", err);
}

/* Records one tiled kernel over B * heads heads (NH query heads, or KVH kv heads for dK/dV),
 * each split into blocks of spec[2] rows. */
static t2g_status record_tiled(t2g_recorder *rec, const char *shader, attention_kernel kernel,
                               const t2g_binding *bindings, uint32_t binding_count, const attention_shape *s,
                               uint32_t heads, t2g_error *err) {
    uint32_t spec[4];
    choose_blocks(rec, kernel, s->hs, spec);
    attention_push push = {
        .B = s->B, .T = s->T, .NH = s->NH, .KVH = s->KVH,
        .C = s->NH * s->hs, .W = (s->NH + 2 * s->KVH) * s->hs, /* below the index limit (check_shape) */
        .blocks = t2g_ceil_div(s->T, spec[2]), .scale = (float)(1.0 / sqrt((double)s->hs)),
    };
    t2g_dispatch dispatch = {
        .shader = shader, .spec = spec, .spec_count = 4,
        .bindings = bindings, .binding_count = binding_count,
        .push = &push, .push_bytes = sizeof push,
    };
    t2g_groups_2d((uint64_t)s->B * heads * push.blocks, dispatch.groups);
    return t2g_record_dispatch(rec, &dispatch, err);
}

/* Records one lanes kernel (shaders/attention_lanes.glsl): one invocation per block of `rows` rows
 * of each of B * heads heads (NH query heads, or KVH kv heads for dK/dV), ATTENTION_LANES_GROUP a
 * workgroup.
 * bindings: its storage buffers; then the texel views of the quads of `quads` (qkv, then dout
 * for the backward), read through them where hs % 4 == 0 and every view serves. */
static t2g_status record_lanes(t2g_recorder *rec, const char *shader, uint32_t rows, const t2g_binding *storage,
                               uint32_t storage_count, const t2g_tensor *quads, uint32_t quad_count,
                               const attention_shape *s, uint32_t heads, t2g_error *err) {
    const t2g_device_info *info = t2g_device_get_info(t2g_recorder_device(rec));
    attention_push push = {
        .B = s->B, .T = s->T, .NH = s->NH, .KVH = s->KVH,
        .C = s->NH * s->hs, .W = (s->NH + 2 * s->KVH) * s->hs, /* below the index limit (check_shape) */
        .scale = (float)(1.0 / sqrt((double)s->hs)),
    };
    t2g_binding bindings[ATTENTION_MAX_BINDINGS];
    t2g_texel texels[ATTENTION_MAX_BINDINGS] = {T2G_TEXEL_NONE};
    memcpy(bindings, storage, storage_count * sizeof *bindings);
    uint32_t first[2] = {0, 0};
    bool serve = s->hs % 4 == 0;
    for (uint32_t i = 0; i < quad_count; i++)
        serve &= t2g_bind_quads(info, quads[i], &bindings[storage_count + i], &texels[storage_count + i], &first[i]);
    push.qkv_first = first[0];
    push.dout_first = first[1];
    const uint32_t spec[] = {ATTENTION_LANES_GROUP, s->hs, rows, serve}; /* shaders/attention_lanes.glsl */
    t2g_dispatch dispatch = {
        .shader = shader, .spec = spec, .spec_count = 4,
        .bindings = bindings, .binding_count = storage_count + quad_count, .texels = texels,
        .push = &push, .push_bytes = sizeof push,
    };
    uint64_t blocks = t2g_ceil_div(s->T, rows);
    t2g_groups_2d(t2g_ceil_div((uint64_t)s->B * heads * blocks, ATTENTION_LANES_GROUP), dispatch.groups);
    return t2g_record_dispatch(rec, &dispatch, err);
}

/* Records kernel `kernel` of configuration `config`: its storage bindings, and qkv (and dout for
 * the backward: quads[1]) for a lanes kernel's texel views. */
static t2g_status record_kernel(t2g_recorder *rec, t2g_attention_config config, attention_kernel kernel,
                                const char *shader, const t2g_binding *bindings, uint32_t binding_count,
                                const t2g_tensor *quads, const attention_shape *s, t2g_error *err) {
    uint32_t heads = kernel == ATTENTION_DKV ? s->KVH : s->NH;
    uint32_t row_arrays = attention_configs[config].kernels[kernel].row_arrays;
    if (attention_configs[config].kernels[kernel].lanes)
        return record_lanes(rec, shader, lane_rows(row_arrays, s->hs), bindings, binding_count, quads,
                            kernel == ATTENTION_FORWARD ? 1 : 2, s, heads, err);
    return record_tiled(rec, shader, kernel, bindings, binding_count, s, heads, err);
}

t2g_attention_config t2g_attention_choice(const t2g_device *device) {
    return attention_choices[t2g_device_layouts_for_cpu(device)];
}

const char *t2g_attention_config_name(t2g_attention_config config) {
    return config > T2G_ATTENTION_AUTO && config < T2G_ATTENTION_CONFIGS ? attention_configs[config].name : "unknown";
}

/* `config` itself, or the device's choice for T2G_ATTENTION_AUTO; an error for one out of range. */
static t2g_status resolve_config(t2g_recorder *rec, const char *kernel, t2g_attention_config *config, t2g_error *err) {
    if (*config == T2G_ATTENTION_AUTO) *config = t2g_attention_choice(t2g_recorder_device(rec));
    if (*config <= T2G_ATTENTION_AUTO || *config >= T2G_ATTENTION_CONFIGS)
        return t2g_fail(err, T2G_ERR_ARGUMENT, "%s: unknown configuration %d (t2g_attention_config: 0 to %d)", kernel,
                        (int)*config, T2G_ATTENTION_CONFIGS - 1);
    return T2G_OK;
}

t2g_status t2g_attention_forward_config(t2g_recorder *rec, t2g_attention_config config, t2g_tensor out, t2g_tensor lse,
                                        t2g_tensor qkv, uint32_t B, uint32_t T, uint32_t NH, uint32_t KVH, uint32_t hs,
                                        t2g_error *err) {
    const char *kernel = "attention_forward";
    attention_shape s = {B, T, NH, KVH, hs};
    t2g_status status = resolve_config(rec, kernel, &config, err);
    if (!status) status = check_shape(kernel, &s, err);
    if (!status) status = t2g_need_float(out, out_count(&s), kernel, "out", err);
    if (!status) status = t2g_need(lse, lse_count(&s), kernel, "lse", err);
    if (!status) status = t2g_need(qkv, qkv_count(&s), kernel, "qkv", err);
    if (status) return status;
    /* A kernel that writes only f32: a 16-bit out takes the forward of the tiled configuration. */
    if (out.dtype != T2G_DTYPE_F32 && !attention_configs[config].kernels[ATTENTION_FORWARD].writes16)
        config = T2G_ATTENTION_TILED;
    char shader[T2G_SHADER_NAME_MAX];
    status = t2g_shader_variant(rec, kernel, attention_configs[config].kernels[ATTENTION_FORWARD].shader, &out.dtype, 1,
                                shader, err);
    if (status) return status;
    t2g_binding bindings[] = {{out, T2G_WRITE}, {lse, T2G_WRITE}, {qkv, T2G_READ}};
    return record_kernel(rec, config, ATTENTION_FORWARD, shader, bindings, 3, &qkv, &s, err);
}

t2g_status t2g_attention_backward_config(t2g_recorder *rec, t2g_attention_config config, t2g_tensor dqkv,
                                         t2g_tensor dout, t2g_tensor qkv, t2g_tensor out, t2g_tensor lse, uint32_t B,
                                         uint32_t T, uint32_t NH, uint32_t KVH, uint32_t hs, t2g_error *err) {
    const char *kernel = "attention_backward";
    attention_shape s = {B, T, NH, KVH, hs};
    t2g_status status = resolve_config(rec, kernel, &config, err);
    if (!status) status = check_shape(kernel, &s, err);
    if (!status) status = t2g_need(dqkv, qkv_count(&s), kernel, "dqkv", err);
    if (!status) status = t2g_need(dout, out_count(&s), kernel, "dout", err);
    if (!status) status = t2g_need(qkv, qkv_count(&s), kernel, "qkv", err);
    if (!status) status = t2g_need_float(out, out_count(&s), kernel, "out", err);
    if (!status) status = t2g_need(lse, lse_count(&s), kernel, "lse", err);
    char dot_shader[T2G_SHADER_NAME_MAX];
    if (!status) status = t2g_shader_variant(rec, kernel, "attention_backward_dot", &out.dtype, 1, dot_shader, err);
    if (status) return status;

    /* D (B,NH,T) = rowsum(dout * out) per query head, in scratch memory. */
    uint64_t rows = lse_count(&s);
    t2g_tensor dsum;
    status = t2g_recorder_scratch(rec, rows * 4u, &dsum, err);
    if (status) return status;
    struct { uint32_t n, T, NH, hs; } dot_push = {(uint32_t)rows, T, NH, hs};
    t2g_binding dot_bindings[] = {{dsum, T2G_WRITE}, {dout, T2G_READ}, {out, T2G_READ}};
    status = t2g_record_elementwise(rec, dot_shader, dot_bindings, 3, &dot_push, sizeof dot_push, rows,
                                    err);
    if (status) return status;

    const struct attention_config *c = &attention_configs[config];
    t2g_binding bindings[] = {{dqkv, T2G_READ_WRITE}, {dout, T2G_READ}, {qkv, T2G_READ}, {lse, T2G_READ},
                              {dsum, T2G_READ}};
    const t2g_tensor quads[] = {qkv, dout};
    status = record_kernel(rec, config, ATTENTION_DKV, c->kernels[ATTENTION_DKV].shader, bindings, 5, quads, &s, err);
    if (status) return status;
    return record_kernel(rec, config, ATTENTION_DQ, c->kernels[ATTENTION_DQ].shader, bindings, 5, quads, &s, err);
}

t2g_status t2g_attention_forward(t2g_recorder *rec, t2g_tensor out, t2g_tensor lse, t2g_tensor qkv, uint32_t B,
                                 uint32_t T, uint32_t NH, uint32_t KVH, uint32_t hs, t2g_error *err) {
    return t2g_attention_forward_config(rec, T2G_ATTENTION_AUTO, out, lse, qkv, B, T, NH, KVH, hs, err);
}

t2g_status t2g_attention_backward(t2g_recorder *rec, t2g_tensor dqkv, t2g_tensor dout, t2g_tensor qkv,
                                  t2g_tensor out, t2g_tensor lse, uint32_t B, uint32_t T, uint32_t NH, uint32_t KVH,
                                  uint32_t hs, t2g_error *err) {
    return t2g_attention_backward_config(rec, T2G_ATTENTION_AUTO, dqkv, dout, qkv, out, lse, B, T, NH, KVH, hs, err);
}
