/* One decode step's kernels (shaders/decode_embedding.comp, shaders/decode_attention.comp).
 *
 * decode_attention: one workgroup of DECODE_GROUP invocations per (sequence, query head); keys in
 * chunks of DECODE_GROUP with an online softmax, the output split over GROUP / hs parts of
 * the chunk's keys per channel (see the shader). Shared memory: 128 + 3 * DECODE_GROUP floats
 * (2 KiB). */
#include <math.h>

#include "decode.h"
#include "kernel_util.h"

/* Invocations per decode_attention workgroup: a power of two >= T2G_DECODE_MAX_HEAD (each
 * channel of a head has its own invocation), the Vulkan minimum of a workgroup's size. */
#define DECODE_GROUP 128u

t2g_status t2g_decode_embedding(t2g_recorder *rec, t2g_tensor out, t2g_tensor tokens, t2g_tensor wte,
                                const t2g_tensor *wpe, uint32_t n, uint32_t t, uint32_t C, uint32_t V, t2g_error *err) {
    const char *kernel = "decode_embedding";
    if (n == 0 || C == 0 || V == 0)
        return t2g_fail(err, T2G_ERR_ARGUMENT, "%s: n = %u, C = %u, V = %u (each must be at least 1)", kernel, n, C, V);
    t2g_status status = t2g_need(out, (uint64_t)n * C, kernel, "out", err);          /* (n,C) */
    if (!status) status = t2g_need(tokens, n, kernel, "tokens", err);               /* (n) */
    if (!status) status = t2g_need(wte, (uint64_t)V * C, kernel, "wte", err);       /* (V,C) */
    if (!status && wpe) status = t2g_need(*wpe, ((uint64_t)t + 1) * C, kernel, "wpe", err); /* (>= t+1, C) */
    if (!status) status = t2g_need_index((uint64_t)V * C, kernel, "V * C", err);
    if (!status && wpe) status = t2g_need_index(((uint64_t)t + 1) * C, kernel, "(t + 1) * C", err);
    if (status) return status;
    /* Without wpe, wte is bound again in its place and never read there (as in embedding.c). */
    struct { uint32_t count, t, C, V, has_positions; } push = {n * C, t, C, V, wpe != NULL};
    t2g_binding bindings[] = {{out, T2G_WRITE}, {tokens, T2G_READ}, {wte, T2G_READ}, {wpe ? *wpe : wte, T2G_READ}};
    return t2g_record_elementwise(rec, "decode_embedding", bindings, 4, &push, sizeof push, (uint64_t)n * C, err);
}

t2g_status t2g_decode_attention(t2g_recorder *rec, t2g_tensor out, t2g_tensor kcache, t2g_tensor vcache,
                                t2g_tensor qkv, uint32_t n, uint32_t t, uint32_t T, uint32_t NH, uint32_t KVH,
                                uint32_t hs, t2g_error *err) {
    const char *kernel = "decode_attention";
    if (n == 0 || T == 0 || NH == 0 || KVH == 0 || hs == 0)
        return t2g_fail(err, T2G_ERR_ARGUMENT,
                        "%s: n, T, NH, KVH and hs must be at least 1 (n=%u T=%u NH=%u KVH=%u hs=%u)", kernel, n, T, NH,
                        KVH, hs);
    if (NH % KVH != 0)
        return t2g_fail(err, T2G_ERR_ARGUMENT,
                        "%s: the %u query heads (NH) are not a multiple of the %u key/value heads (KVH)", kernel, NH,
                        KVH);
    if (hs > T2G_DECODE_MAX_HEAD)
        return t2g_fail(err, T2G_ERR_ARGUMENT, "%s: head size hs = %u exceeds the supported %u", kernel, hs,
                        T2G_DECODE_MAX_HEAD);
    if (t >= T)
        return t2g_fail(err, T2G_ERR_ARGUMENT, "%s: position t = %u is outside the cache of T = %u positions", kernel, t,
                        T);
    uint64_t cache = (uint64_t)n * T * KVH * hs, qkv_count = (uint64_t)n * (NH + 2ull * KVH) * hs;
    t2g_status status = t2g_need(out, (uint64_t)n * NH * hs, kernel, "out", err); /* (n,NH hs) */
    if (!status) status = t2g_need(kcache, cache, kernel, "kcache", err);         /* (n,T,KVH hs) */
    if (!status) status = t2g_need(vcache, cache, kernel, "vcache", err);         /* (n,T,KVH hs) */
    if (!status) status = t2g_need(qkv, qkv_count, kernel, "qkv", err);           /* (n,(NH + 2 KVH) hs) */
    if (!status) status = t2g_need_index(cache, kernel, "n * T * KVH * hs", err);
    if (!status) status = t2g_need_index(qkv_count, kernel, "n * (NH + 2 KVH) * hs", err);
    if (status) return status;
    struct { uint32_t n, t, T, NH, KVH, hs; float scale; } push = {n, t, T, NH, KVH, hs, (float)(1.0 / sqrt(hs))};
    const uint32_t spec[] = {DECODE_GROUP};
    t2g_binding bindings[] = {{out, T2G_WRITE}, {kcache, T2G_READ_WRITE}, {vcache, T2G_READ_WRITE}, {qkv, T2G_READ}};
    t2g_dispatch dispatch = {
        .shader = "decode_attention", .spec = spec, .spec_count = 1,
        .bindings = bindings, .binding_count = 4,
        .push = &push, .push_bytes = sizeof push,
    };
    t2g_groups_2d((uint64_t)n * NH, dispatch.groups);
    return t2g_record_dispatch(rec, &dispatch, err);
}
