/* Causal multi-head self-attention (shaders/attention_forward.comp,
 * attention_backward_dot.comp, attention_backward_dkv.comp, attention_backward_dq.comp,
 * attention.glsl), flash-attention style: no (B,NH,T,T) tensor is ever stored.
 *
 * qkv (B,T,3C), out (B,T,C), lse (B,NH,T), dout (B,T,C), dqkv (B,T,3C); hs = C / NH <= 128.
 *
 * Forward: one workgroup per (b, h, block of ROWS query rows), keys streamed in tiles of TILE
 * rows, online softmax. Backward: D = rowsum(dout * out) (B,NH,T) in scratch memory; dK, dV
 * with one workgroup per (b, h, block of ROWS key rows), query tiles i >= j streamed; dQ with
 * one workgroup per (b, h, block of ROWS query rows), key tiles j <= i streamed. Each output
 * element is summed by one invocation in a fixed order: deterministic, no atomics.
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

#include "kernel_util.h"

#define ATTENTION_GROUP 128u          /* invocations per workgroup of the tiled kernels */
#define ATTENTION_MAX_HEAD 128u
#define ATTENTION_SHARED_BUDGET 32768u

typedef enum attention_kernel { ATTENTION_FORWARD, ATTENTION_DKV, ATTENTION_DQ } attention_kernel;

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

/* Push constants of the tiled kernels (shaders/attention.glsl). */
typedef struct attention_push {
    uint32_t B, T, C, NH, blocks;
    float scale;
} attention_push;

static t2g_status check_shape(const char *kernel, uint32_t B, uint32_t T, uint32_t C, uint32_t NH, t2g_error *err) {
    if (B == 0 || T == 0 || C == 0 || NH == 0)
        return t2g_fail(err, T2G_ERR_ARGUMENT, "%s: B, T, C and NH must be at least 1 (B=%u T=%u C=%u NH=%u)", kernel,
                        B, T, C, NH);
    if (C % NH != 0)
        return t2g_fail(err, T2G_ERR_ARGUMENT, "%s: C=%u is not a multiple of NH=%u (head size C / NH)", kernel, C,
                        NH);
    if (C / NH > ATTENTION_MAX_HEAD)
        return t2g_fail(err, T2G_ERR_ARGUMENT, "%s: head size C / NH = %u / %u = %u exceeds the supported %u", kernel,
                        C, NH, C / NH, ATTENTION_MAX_HEAD);
    return t2g_need_index((uint64_t)B * T * 3u * C, kernel, "B * T * 3C", err);
}

/* Records one tiled kernel over B * NH heads, each split into blocks of spec[2] rows. */
static t2g_status record_tiled(t2g_recorder *rec, const char *shader, attention_kernel kernel,
                               const t2g_binding *bindings, uint32_t binding_count, uint32_t B, uint32_t T, uint32_t C,
                               uint32_t NH, t2g_error *err) {
    uint32_t hs = C / NH;
    uint32_t spec[4];
    choose_blocks(rec, kernel, hs, spec);
    attention_push push = {B, T, C, NH, t2g_ceil_div(T, spec[2]), (float)(1.0 / sqrt((double)hs))};
    t2g_dispatch dispatch = {
        .shader = shader, .spec = spec, .spec_count = 4,
        .bindings = bindings, .binding_count = binding_count,
        .push = &push, .push_bytes = sizeof push,
    };
    t2g_groups_2d((uint64_t)B * NH * push.blocks, dispatch.groups);
    return t2g_record_dispatch(rec, &dispatch, err);
}

t2g_status t2g_attention_forward(t2g_recorder *rec, t2g_tensor out, t2g_tensor lse, t2g_tensor qkv, uint32_t B,
                                 uint32_t T, uint32_t C, uint32_t NH, t2g_error *err) {
    const char *kernel = "attention_forward";
    t2g_status status = check_shape(kernel, B, T, C, NH, err);
    if (!status) status = t2g_need(out, (uint64_t)B * T * C, kernel, "out", err);
    if (!status) status = t2g_need(lse, (uint64_t)B * NH * T, kernel, "lse", err);
    if (!status) status = t2g_need(qkv, (uint64_t)B * T * 3u * C, kernel, "qkv", err);
    if (status) return status;
    t2g_binding bindings[] = {{out, T2G_WRITE}, {lse, T2G_WRITE}, {qkv, T2G_READ}};
    return record_tiled(rec, kernel, ATTENTION_FORWARD, bindings, 3, B, T, C, NH, err);
}

t2g_status t2g_attention_backward(t2g_recorder *rec, t2g_tensor dqkv, t2g_tensor dout, t2g_tensor qkv,
                                  t2g_tensor out, t2g_tensor lse, uint32_t B, uint32_t T, uint32_t C, uint32_t NH,
                                  t2g_error *err) {
    const char *kernel = "attention_backward";
    t2g_status status = check_shape(kernel, B, T, C, NH, err);
    if (!status) status = t2g_need(dqkv, (uint64_t)B * T * 3u * C, kernel, "dqkv", err);
    if (!status) status = t2g_need(dout, (uint64_t)B * T * C, kernel, "dout", err);
    if (!status) status = t2g_need(qkv, (uint64_t)B * T * 3u * C, kernel, "qkv", err);
    if (!status) status = t2g_need(out, (uint64_t)B * T * C, kernel, "out", err);
    if (!status) status = t2g_need(lse, (uint64_t)B * NH * T, kernel, "lse", err);
    if (status) return status;

    /* D (B,NH,T) = rowsum(dout * out) per head, in scratch memory. */
    uint64_t rows = (uint64_t)B * NH * T;
    t2g_tensor dsum;
    status = t2g_recorder_scratch(rec, rows * 4u, &dsum, err);
    if (status) return status;
    struct { uint32_t n, T, NH, hs; } dot_push = {(uint32_t)rows, T, NH, C / NH};
    t2g_binding dot_bindings[] = {{dsum, T2G_WRITE}, {dout, T2G_READ}, {out, T2G_READ}};
    status = t2g_record_elementwise(rec, "attention_backward_dot", dot_bindings, 3, &dot_push, sizeof dot_push, rows,
                                    err);
    if (status) return status;

    t2g_binding bindings[] = {{dqkv, T2G_READ_WRITE}, {dout, T2G_READ}, {qkv, T2G_READ}, {lse, T2G_READ},
                              {dsum, T2G_READ}};
    status = record_tiled(rec, "attention_backward_dkv", ATTENTION_DKV, bindings, 5, B, T, C, NH, err);
    if (status) return status;
    return record_tiled(rec, "attention_backward_dq", ATTENTION_DQ, bindings, 5, B, T, C, NH, err);
}
