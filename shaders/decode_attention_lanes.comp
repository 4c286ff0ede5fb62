#version 450
#include "storage.glsl"
// Causal grouped-query self-attention of a decode step against the KV caches, shaped for CPU
// devices: the same result as decode_attention.comp (see there for the layout of qkv, the
// caches, rows and out, and the NaN of a row whose slot >= slots or t >= T), but one
// invocation per (row r, query head h) pair, GROUP_SIZE pairs a workgroup (pairs past n NH
// idle), with no shared memory and no barriers: llvmpipe runs a workgroup's lanes as one
// vector, so every lane does useful work and nothing waits, and each key and value element is
// loaded once per pair.
//
// Invocation (r, h) holds its q (HS) and its output accumulator (HS) in registers (HS is a
// specialization constant, so the channel loops unroll) and walks the keys j = 0..t of its
// row's slot in order with an online softmax of its own, one key at a time: key 0 opens it
// (max m = s_0, sum l = 1, acc = v_0); each later key's score s is weighed against the running
// max with one exp, e = exp(-|s - m|): a new max rescales what came before by e and enters with
// weight 1, else the key enters with weight e. out = acc / l. Every sum has a fixed order and
// depends on the row's own inputs only: a row's output has the same bits whatever else the
// step holds, and whatever GROUP_SIZE is.
//
// WIDE: HS is a multiple of 4 and texel views of both caches serve (the host checks), so a
// key's and a value's channels are read 4 at a time as texels of quads (kquads, vquads: views
// that start k_first and v_first quads before the caches): llvmpipe compiles a texel fetch as
// one vector load per lane, a storage-buffer load as a loop over lanes and components. The same
// operations in the same order either way.
//
// The caches may be stored as bf16 or f16 (variants, shaders/variants.txt: the role ACT, both
// caches), widened to f32 as they are read; every sum is f32, as are qkv and out.
#include "common.glsl"

layout(constant_id = 1) const uint HS = 64;       // head size, <= 128
layout(constant_id = 2) const bool WIDE = false;  // read the caches as quads

layout(std430, binding = 0) writeonly buffer Out { float out_[]; };
layout(std430, binding = 1) readonly buffer KCache { ACT_T kcache[]; };
layout(std430, binding = 2) readonly buffer VCache { ACT_T vcache[]; };
layout(std430, binding = 3) readonly buffer Qkv { float qkv[]; };
layout(std430, binding = 4) readonly buffer Rows { uint rows[]; };
layout(binding = 5) uniform ACT4_SAMPLER kquads;  // the caches as quads, WIDE
layout(binding = 6) uniform ACT4_SAMPLER vquads;
// n rows, caches of `slots` sequences of T positions, NH query heads and KVH key/value heads of
// hs (= HS) channels, scale = 1 / sqrt(HS); the quads of kquads and vquads where the caches start
layout(push_constant) uniform Push {
    uint n; uint slots; uint T; uint NH; uint KVH; uint hs; float scale; uint k_first; uint v_first;
} p;

void main() {
    uint pair = flat_group_id() * GROUP_SIZE + gl_LocalInvocationID.x;
    if (pair >= p.n * p.NH) return;
    uint r = pair / p.NH, h = pair % p.NH;
    uint slot = rows[3u * r + 1u], t = rows[3u * r + 2u];
    uint out_base = pair * HS;                                       // out (n, NH HS) at [r][h HS]
    if (slot >= p.slots || t >= p.T) {
        for (uint d = 0u; d < HS; d++) out_[out_base + d] = nan_value();
        return;
    }
    uint cache_row = p.KVH * HS;                                     // the width of a cache row
    uint at = (slot * p.T) * cache_row + (h / (p.NH / p.KVH)) * HS;  // key 0 of the kv head
    uint q_base = r * (p.NH + 2u * p.KVH) * HS + h * HS;
    float q[HS], acc[HS];
    for (uint d = 0u; d < HS; d++) {
        q[d] = qkv[q_base + d];
        acc[d] = 0.0;
    }

    float m = 0.0, l = 0.0;
    for (uint j = 0u; j <= t; j++, at += cache_row) {
        float s = 0.0;
        if (WIDE)
            for (uint d = 0u; d < HS; d += 4u) {
                vec4 k = ACT4_LOAD(texelFetch(kquads, int(p.k_first + (at + d) / 4u)));
                s += q[d] * k.x;
                s += q[d + 1u] * k.y;
                s += q[d + 2u] * k.z;
                s += q[d + 3u] * k.w;
            }
        else
            for (uint d = 0u; d < HS; d++) s += q[d] * ACT_LOAD(kcache[at + d]);
        s *= p.scale;
        // key 0: m = s, l = 1, acc = v_0 (alpha 0, weight 1)
        float e = exp(-abs(s - m));
        bool grows = j == 0u || s > m;
        float alpha = j == 0u ? 0.0 : grows ? e : 1.0, weight = grows ? 1.0 : e;
        m = j == 0u ? s : max(m, s);
        l = l * alpha + weight;
        if (WIDE)
            for (uint d = 0u; d < HS; d += 4u) {
                vec4 v = ACT4_LOAD(texelFetch(vquads, int(p.v_first + (at + d) / 4u)));
                acc[d] = acc[d] * alpha + weight * v.x;
                acc[d + 1u] = acc[d + 1u] * alpha + weight * v.y;
                acc[d + 2u] = acc[d + 2u] * alpha + weight * v.z;
                acc[d + 3u] = acc[d + 3u] * alpha + weight * v.w;
            }
        else
            for (uint d = 0u; d < HS; d++) acc[d] = acc[d] * alpha + weight * ACT_LOAD(vcache[at + d]);
    }
    for (uint d = 0u; d < HS; d++) out_[out_base + d] = acc[d] / l;
}
