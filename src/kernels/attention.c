/* Causal grouped-query self-attention (shaders/attention_forward.comp,
 * attention_backward_dot.comp, attention_backward_dkv.comp, attention_backward_dq.comp,
 * attention.glsl), flash-attention style: no (B,NH,T,T) tensor is ever stored. NH query heads
 * share KVH key/value heads (KVH divides NH; KVH = NH is multi-head attention).
 *
 * qkv (B,T,W), W = (NH + 2 KVH) hs; out (B,T,C), C = NH hs; lse (B,NH,T), dout (B,T,C),
 * dqkv (B,T,W); hs <= 128.
 *
 * Forward: one workgroup per (b, h, block of ROWS query rows), keys of h's kv head streamed in
 * tiles of TILE rows, online softmax. Backward: D = rowsum(dout * out) (B,NH,T) in scratch
 * memory; dK, dV with one workgroup per (b, kv head g, block of ROWS key rows), streaming the
 * query tiles i >= j of each of g's NH / KVH query heads in turn, so the group's sum stays in
 * registers; dQ with one workgroup per (b, h, block of ROWS query rows), key tiles j <= i
 * streamed. Each output element is summed by one invocation in a fixed order: deterministic,
 * no atomics.
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

/* Push constants of the tiled kernels (shaders/attention.glsl): C = NH hs, W = (NH + 2 KVH) hs. */
typedef struct attention_push {
    uint32_t B, T, NH, KVH, C, W, blocks;
    float scale;
} attention_push;

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

t2g_status t2g_attention_forward(t2g_recorder *rec, t2g_tensor out, t2g_tensor lse, t2g_tensor qkv, uint32_t B,
                                 uint32_t T, uint32_t NH, uint32_t KVH, uint32_t hs, t2g_error *err) {
    const char *kernel = "attention_forward";
    attention_shape s = {B, T, NH, KVH, hs};
    t2g_status status = check_shape(kernel, &s, err);
    if (!status) status = t2g_need_float(out, out_count(&s), kernel, "out", err);
    if (!status) status = t2g_need(lse, lse_count(&s), kernel, "lse", err);
    if (!status) status = t2g_need(qkv, qkv_count(&s), kernel, "qkv", err);
    char shader[T2G_SHADER_NAME_MAX];
    if (!status) status = t2g_shader_variant(rec, kernel, "attention_forward", &out.dtype, 1, shader, err);
    if (status) return status;
    t2g_binding bindings[] = {{out, T2G_WRITE}, {lse, T2G_WRITE}, {qkv, T2G_READ}};
    return record_tiled(rec, shader, ATTENTION_FORWARD, bindings, 3, &s, NH, err);
}

t2g_status t2g_attention_backward(t2g_recorder *rec, t2g_tensor dqkv, t2g_tensor dout, t2g_tensor qkv,
                                  t2g_tensor out, t2g_tensor lse, uint32_t B, uint32_t T, uint32_t NH, uint32_t KVH,
                                  uint32_t hs, t2g_error *err) {
    const char *kernel = "attention_backward";
    attention_shape s = {B, T, NH, KVH, hs};
    t2g_status status = check_shape(kernel, &s, err);
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

    t2g_binding bindings[] = {{dqkv, T2G_READ_WRITE}, {dout, T2G_READ}, {qkv, T2G_READ}, {lse, T2G_READ},
                              {dsum, T2G_READ}};
    status = record_tiled(rec, "attention_backward_dkv", ATTENTION_DKV, bindings, 5, &s, KVH, err);
    if (status) return status;
    return record_tiled(rec, "attention_backward_dq", ATTENTION_DQ, bindings, 5, &s, NH, err);
}
