/* A decode step's kernels (shaders/decode_embedding.comp, decode_store.comp,
 * decode_attention.comp, decode_attention_lanes.comp).
 *
 * decode_attention, in one of two shaders (the configurations below). decode_attention.comp:
 * one workgroup of `group` invocations per (row, query head); keys in chunks
 * of `group` with an online softmax, the output split over group / hs parts of the chunk's keys
 * per channel, or each invocation looping over hs / group channels where the group is smaller
 * than the head (see the shader). Shared memory: 128 + 3 * max(group, 128) floats at most
 * (2 KiB). decode_attention_lanes.comp: one invocation per (row, query head), each walking its
 * row's keys alone with an online softmax in registers; no shared memory; it reads the caches'
 * quads through texel views (t2g_quad_view) where the head size is a multiple of 4 and
 * the views serve.
 *
 * The KV cache may be bf16 or f16 (the variants of decode_store, which rounds what it writes,
 * and of both decode_attention shaders, which widen what they read: shaders/variants.txt), chosen
 * by the caches' element type; qkv, rows, the rope table and out are f32, as is every sum. */
#include <math.h>

#include "decode.h"
#include "kernel_util.h"

/* decode_attention's configurations: the shader; its workgroup (specialization constant 0);
 * the (row, head) pairs a workgroup computes; whether the shader takes the head size and
 * whether to read the caches' quads as specialization constants 1 and 2, with the caches'
 * texel views at bindings 5 and 6 (lanes). Both shaders read f32, bf16 and f16 caches (the
 * 16-bit ones through their variants). */
static const struct decode_attention_config {
    const char *name, *shader;
    uint32_t group, pairs;
    bool quads;
} decode_configs[T2G_DECODE_CONFIGS] = {
    [T2G_DECODE_GROUP8] = {"group 8", "decode_attention", 8, 1, false},
    [T2G_DECODE_GROUP16] = {"group 16", "decode_attention", 16, 1, false},
    [T2G_DECODE_GROUP32] = {"group 32", "decode_attention", 32, 1, false},
    [T2G_DECODE_GROUP64] = {"group 64", "decode_attention", 64, 1, false},
    [T2G_DECODE_GROUP128] = {"group 128", "decode_attention", 128, 1, false},
    [T2G_DECODE_LANES] = {"lanes", "decode_attention_lanes", 8, 8, true},
};

/* The device's configuration, by device class (t2g_device_layouts_for_cpu: CPU devices, unless a
 * test has one take the GPU layouts), the same for every cache type. GPUs: a workgroup of one invocation per channel of the
 * largest head (128, the Vulkan minimum of a workgroup's size). CPU devices (llvmpipe runs a
 * workgroup's 8-lane vectors as coroutines that switch at each barrier, and every storage-buffer
 * load costs per lane): lanes, for every cache type: no barriers at all, and each key and value
 * read once per (row, head), as texels, instead of through shared memory (group 8, one vector of
 * 8 lanes a workgroup, was the 16-bit caches' choice until lanes read them: a prefill of 752
 * rows of the small preset spent 230 ms of its 340 in decode_attention at 128). Measured 2026-12-07 on lavapipe (llvmpipe, LLVM 15, 2
 * cores, load average 1.6 to 1.9), group 8 against lanes, one after the other, 3 rounds:
 * `t2g bench rollout --model SmolLM2-135M-Instruct.Q4_1.gguf --context 320 --prompts 1
 * --prompt-tokens 300 --new 4` (a 300-token prefill) 16.6, 16.2, 16.7 s against 6.0, 5.9,
 * 6.3 s (decode_attention alone was about 11.2 of the 16.1 s); `--preset small --prompts 16
 * --new 32` 235, 228, 322 ms against 160, 132, 144 ms. With the caches read as texels (and the
 * matmuls too), 2026-12-07 14:15 UTC, load 1.8 to 2.3 (a helper's build beside), the same 300-token
 * prefill of the bf16 model (--precision bf16) 9.3 and 9.6 s with group 8 against 3.8 and 3.2 s
 * with lanes, one after the other, two rounds; the f32 model's 2.3 s against 4.2 s for the
 * build before the texels (14:14 UTC, same load). */
static const t2g_decode_config decode_choices[2] = {
    [false] = T2G_DECODE_GROUP128, /* GPUs */
    [true] = T2G_DECODE_LANES,     /* CPU devices */
};

t2g_decode_config t2g_decode_attention_choice(const t2g_device *device) {
    return decode_choices[t2g_device_layouts_for_cpu(device)];
}

const char *t2g_decode_config_name(t2g_decode_config config) {
    return config > T2G_DECODE_AUTO && config < T2G_DECODE_CONFIGS ? decode_configs[config].name : "unknown";
}

const char *t2g_decode_config_shader(t2g_decode_config config) {
    return config > T2G_DECODE_AUTO && config < T2G_DECODE_CONFIGS ? decode_configs[config].shader : "unknown";
}

t2g_status t2g_decode_embedding(t2g_recorder *rec, t2g_tensor out, t2g_tensor rows, t2g_tensor wte,
                                const t2g_tensor *wpe, uint32_t n, uint32_t C, uint32_t V, uint32_t P, t2g_error *err) {
    const char *kernel = "decode_embedding";
    if (n == 0 || C == 0 || V == 0 || (wpe && P == 0))
        return t2g_fail(err, T2G_ERR_ARGUMENT, "%s: n = %u, C = %u, V = %u%s (each must be at least 1)", kernel, n, C,
                        V, wpe ? ", P (wpe's positions) = 0" : "");
    t2g_status status = t2g_need(out, (uint64_t)n * C, kernel, "out", err);                       /* (n,C) */
    if (!status) status = t2g_need(rows, (uint64_t)n * T2G_DECODE_ROW_WORDS, kernel, "rows", err); /* (n,3) */
    if (!status) status = t2g_need(wte, (uint64_t)V * C, kernel, "wte", err);                     /* (V,C) */
    if (!status && wpe) status = t2g_need(*wpe, (uint64_t)P * C, kernel, "wpe", err);            /* (P,C) */
    if (!status) status = t2g_need_index((uint64_t)V * C, kernel, "V * C", err);
    if (!status) status = t2g_need_index((uint64_t)n * C, kernel, "n * C", err);
    if (!status && wpe) status = t2g_need_index((uint64_t)P * C, kernel, "P * C", err);
    if (status) return status;
    /* Without wpe, wte is bound again in its place and never read there (as in embedding.c). */
    struct { uint32_t count, C, V, P, has_positions; } push = {n * C, C, V, wpe ? P : 0, wpe != NULL};
    t2g_binding bindings[] = {{out, T2G_WRITE}, {rows, T2G_READ}, {wte, T2G_READ}, {wpe ? *wpe : wte, T2G_READ}};
    return t2g_record_elementwise(rec, "decode_embedding", bindings, 4, &push, sizeof push, (uint64_t)n * C, err);
}

/* The shapes decode_store and decode_attention share: every size at least 1, KVH dividing NH,
 * hs supported (and even with a rotation), the caches of one float type (f32, bf16 or f16), and
 * the step's tensors large enough. */
static t2g_status check_step(const char *kernel, t2g_tensor kcache, t2g_tensor vcache, t2g_tensor qkv,
                             t2g_tensor rows, uint32_t n, uint32_t slots, uint32_t T, uint32_t NH, uint32_t KVH,
                             uint32_t hs, t2g_error *err) {
    if (n == 0 || slots == 0 || T == 0 || NH == 0 || KVH == 0 || hs == 0)
        return t2g_fail(err, T2G_ERR_ARGUMENT,
                        "%s: n, slots, T, NH, KVH and hs must be at least 1 (n=%u slots=%u T=%u NH=%u KVH=%u hs=%u)",
                        kernel, n, slots, T, NH, KVH, hs);
    if (NH % KVH != 0)
        return t2g_fail(err, T2G_ERR_ARGUMENT,
                        "%s: the %u query heads (NH) are not a multiple of the %u key/value heads (KVH)", kernel, NH,
                        KVH);
    if (hs > T2G_DECODE_MAX_HEAD)
        return t2g_fail(err, T2G_ERR_ARGUMENT, "%s: head size hs = %u exceeds the supported %u", kernel, hs,
                        T2G_DECODE_MAX_HEAD);
    if (kcache.dtype != vcache.dtype)
        return t2g_fail(err, T2G_ERR_ARGUMENT, "%s: the key cache holds %s elements and the value cache %s; both "
                        "must be of one type", kernel, t2g_dtype_name(kcache.dtype), t2g_dtype_name(vcache.dtype));
    uint64_t cache = (uint64_t)slots * T * KVH * hs, qkv_count = (uint64_t)n * (NH + 2ull * KVH) * hs;
    t2g_status status = t2g_need_float(kcache, cache, kernel, "kcache", err);               /* (slots,T,KVH hs) */
    if (!status) status = t2g_need_float(vcache, cache, kernel, "vcache", err);             /* (slots,T,KVH hs) */
    if (!status) status = t2g_need(qkv, qkv_count, kernel, "qkv", err);                     /* (n,(NH + 2 KVH) hs) */
    if (!status) status = t2g_need(rows, (uint64_t)n * T2G_DECODE_ROW_WORDS, kernel, "rows", err); /* (n,3) */
    if (!status) status = t2g_need_index(cache, kernel, "slots * T * KVH * hs", err);
    if (!status) status = t2g_need_index(qkv_count, kernel, "n * (NH + 2 KVH) * hs", err);
    return status;
}

t2g_status t2g_decode_store(t2g_recorder *rec, t2g_tensor qkv, t2g_tensor kcache, t2g_tensor vcache,
                            t2g_tensor rows, const t2g_tensor *rope_table, uint32_t n, uint32_t slots, uint32_t T,
                            uint32_t NH, uint32_t KVH, uint32_t hs, t2g_error *err) {
    const char *kernel = "decode_store";
    t2g_status status = check_step(kernel, kcache, vcache, qkv, rows, n, slots, T, NH, KVH, hs, err);
    if (status) return status;
    if (rope_table && hs % 2 != 0)
        return t2g_fail(err, T2G_ERR_ARGUMENT, "%s: head size hs = %u must be even to be turned (rope)", kernel, hs);
    if (rope_table) status = t2g_need(*rope_table, (uint64_t)T * hs, kernel, "rope_table", err); /* (>= T, hs) */
    char shader[T2G_SHADER_NAME_MAX];
    if (!status) status = t2g_shader_variant(rec, kernel, "decode_store", &kcache.dtype, 1, shader, err);
    if (status) return status;
    /* units: pairs of channels with a rotation, channels without */
    uint64_t units = (uint64_t)n * (NH + 2ull * KVH) * (rope_table ? hs / 2 : hs);
    struct { uint32_t count, slots, T, NH, KVH, hs, has_rope; } push = {
        (uint32_t)units, slots, T, NH, KVH, hs, rope_table != NULL};
    /* Without a rotation the rows are bound again in the table's place, never read there. */
    t2g_binding bindings[] = {{qkv, T2G_READ_WRITE}, {kcache, T2G_WRITE}, {vcache, T2G_WRITE}, {rows, T2G_READ},
                              {rope_table ? *rope_table : rows, T2G_READ}};
    return t2g_record_elementwise(rec, shader, bindings, 5, &push, sizeof push, units, err);
}

t2g_status t2g_decode_attention(t2g_recorder *rec, t2g_tensor out, t2g_tensor kcache, t2g_tensor vcache,
                                t2g_tensor qkv, t2g_tensor rows, uint32_t n, uint32_t slots, uint32_t T, uint32_t NH,
                                uint32_t KVH, uint32_t hs, t2g_decode_config config, t2g_error *err) {
    const char *kernel = "decode_attention";
    if (config == T2G_DECODE_AUTO) config = t2g_decode_attention_choice(t2g_recorder_device(rec));
    if (config <= T2G_DECODE_AUTO || config >= T2G_DECODE_CONFIGS)
        return t2g_fail(err, T2G_ERR_ARGUMENT, "%s: unknown configuration %d (t2g_decode_config: 0 to %d)", kernel,
                        (int)config, T2G_DECODE_CONFIGS - 1);
    const struct decode_attention_config *c = &decode_configs[config];
    t2g_status status = check_step(kernel, kcache, vcache, qkv, rows, n, slots, T, NH, KVH, hs, err);
    if (!status) status = t2g_need(out, (uint64_t)n * NH * hs, kernel, "out", err); /* (n,NH hs) */
    char shader[T2G_SHADER_NAME_MAX];
    if (!status) status = t2g_shader_variant(rec, kernel, c->shader, &kcache.dtype, 1, shader, err);
    if (status) return status;
    struct { uint32_t n, slots, T, NH, KVH, hs; float scale; uint32_t k_first, v_first; } push = {
        n, slots, T, NH, KVH, hs, (float)(1.0 / sqrt(hs)), 0, 0};
    t2g_binding bindings[7] = {{out, T2G_WRITE}, {kcache, T2G_READ}, {vcache, T2G_READ}, {qkv, T2G_READ}, {rows, T2G_READ}};
    t2g_texel texels[7] = {T2G_TEXEL_NONE};
    uint32_t wide = 0; /* the caches' quads through texel views */
    if (c->quads) {
        const t2g_device_info *info = t2g_device_get_info(t2g_recorder_device(rec));
        const t2g_tensor caches[2] = {kcache, vcache};
        uint32_t *firsts[2] = {&push.k_first, &push.v_first};
        wide = hs % 4 == 0;
        for (int i = 0; i < 2; i++) wide = t2g_bind_quads(info, caches[i], &bindings[5 + i], &texels[5 + i], firsts[i]) && wide;
    }
    const uint32_t spec[] = {c->group, hs, wide};
    t2g_dispatch dispatch = {
        .shader = shader, .spec = spec, .spec_count = c->quads ? 3 : 1,
        .bindings = bindings, .binding_count = c->quads ? 7 : 5, .texels = texels,
        .push = &push, .push_bytes = sizeof push,
    };
    t2g_groups_2d(t2g_ceil_div((uint64_t)n * NH, c->pairs), dispatch.groups);
    return t2g_record_dispatch(rec, &dispatch, err);
}
