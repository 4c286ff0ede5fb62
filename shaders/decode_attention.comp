#version 450
#include "storage.glsl"
// Causal grouped-query self-attention of a decode step against the KV cache: NH query heads
// share KVH key/value heads, query head h using kv head g = h / (NH / KVH). Row r of the step
// is rows[r] = (token, slot, position): the sequence of cache slot `slot` at position t:
//   out[r] = softmax(q k_j / sqrt(HS), j = 0..t) v_j per query head
// with q from qkv (n,W), W = (NH + 2 KVH) HS (q of head h at [r][h*HS + d]), and k_j, v_j from
// kcache, vcache (slots, T, KVH HS) at [slot][j][g*HS + d]: decode_store wrote position t there
// (and every earlier position, in this step or before). Rows of one step may be sequences at
// different positions, or one sequence at several (a prompt's prefill): each row is
// computed alone, so a row's output has the same bits whatever else is in the step. A row
// whose slot >= slots or t >= T gives NaN. out (n, NH HS).
//
// One workgroup per (r, h). Keys are walked in chunks of GROUP_SIZE with an online softmax:
// invocation i scores key k0 + i (a dot product over d in order), the chunk's max and sum come
// from shared-memory trees, and the output is accumulated by (part, lane) invocations, LANES =
// min(GROUP_SIZE, HS) lanes a part: part p of parts = GROUP_SIZE / LANES owns the chunk's keys
// c = p, p + parts, ... for the channels lane, lane + LANES, ... (one channel where the group
// is at least the head, HS / GROUP_SIZE rounded up where it is smaller), rescaled by
// exp(m_old - m_new) whenever the max grows. The parts are added in order at the end. Every sum
// has a fixed order: the same inputs and GROUP_SIZE give the same bits. GROUP_SIZE: a power of
// two, the device's choice (src/kernels/decode.c): 128 on GPUs, one lavapipe vector of 8 on CPUs.
// The caches may be stored as bf16 or f16 (variants, shaders/variants.txt: the role ACT, both
// caches), widened to f32 as they are read; every sum is f32, as are qkv and out.
#include "common.glsl"

const uint MAX_HS = 128u;
const uint MAX_CHANNELS = (MAX_HS + GROUP_SIZE - 1u) / GROUP_SIZE;  // channels a lane owns at most
const uint PART_FLOATS = GROUP_SIZE > MAX_HS ? GROUP_SIZE : MAX_HS;
const float LOWEST = -3.402823466e38;

layout(std430, binding = 0) writeonly buffer Out { float out_[]; };
layout(std430, binding = 1) readonly buffer KCache { ACT_T kcache[]; };
layout(std430, binding = 2) readonly buffer VCache { ACT_T vcache[]; };
layout(std430, binding = 3) readonly buffer Qkv { float qkv[]; };
layout(std430, binding = 4) readonly buffer Rows { uint rows[]; };
// n rows, caches of `slots` sequences of T positions, NH query heads and KVH key/value heads of
// HS channels, scale = 1 / sqrt(HS)
layout(push_constant) uniform Push { uint n; uint slots; uint T; uint NH; uint KVH; uint HS; float scale; } p;

shared float q_s[MAX_HS];            // (HS) the query of this head
shared float prob[GROUP_SIZE];       // the chunk's probabilities exp(s - m)
shared float red[GROUP_SIZE];        // tree reductions: the chunk's max, then its sum
shared float part_out[PART_FLOATS];  // (parts, HS) partial outputs

// The workgroup's places, set once in main: the width of a cache row (KVH HS); index of element
// 0 of its kv head at position 0 of its slot of the caches.
uint cache_row, cache_base;

float key_at(uint j, uint d) { return ACT_LOAD(kcache[cache_base + j * cache_row + d]); }
float value_at(uint j, uint d) { return ACT_LOAD(vcache[cache_base + j * cache_row + d]); }

void main() {
    uint group = flat_group_id();
    if (group >= p.n * p.NH) return;                    // uniform over the workgroup
    uint r = group / p.NH, h = group % p.NH;
    uint slot = rows[3u * r + 1u], t = rows[3u * r + 2u];
    uint tid = gl_LocalInvocationID.x;
    uint out_base = (r * p.NH + h) * p.HS;
    if (slot >= p.slots || t >= p.T) {                  // uniform over the workgroup
        for (uint d = tid; d < p.HS; d += GROUP_SIZE) out_[out_base + d] = nan_value();
        return;
    }
    uint g = h / (p.NH / p.KVH);
    cache_row = p.KVH * p.HS;
    cache_base = (slot * p.T) * cache_row + g * p.HS;
    for (uint d = tid; d < p.HS; d += GROUP_SIZE) q_s[d] = qkv[r * (p.NH + 2u * p.KVH) * p.HS + h * p.HS + d];
    barrier();

    uint lanes = min(GROUP_SIZE, p.HS), parts = GROUP_SIZE / lanes;
    uint part = tid / lanes, lane = tid % lanes;
    bool owner = part < parts;
    float m = 0.0, l = 0.0;
    float acc[MAX_CHANNELS];
    for (uint k = 0u; k < MAX_CHANNELS; k++) acc[k] = 0.0;
    for (uint k0 = 0u; k0 <= t; k0 += GROUP_SIZE) {
        uint j = k0 + tid;
        bool valid = j <= t;
        float s = 0.0;
        if (valid) {
            for (uint e = 0u; e < p.HS; e++) s += q_s[e] * key_at(j, e);
            s *= p.scale;
        }
        red[tid] = valid ? s : LOWEST;
        barrier();
        for (uint w = GROUP_SIZE / 2u; w > 0u; w >>= 1u) {
            if (tid < w) red[tid] = max(red[tid], red[tid + w]);
            barrier();
        }
        float m_new = k0 == 0u ? red[0] : max(m, red[0]);   // key k0 is valid: finite
        float alpha = k0 == 0u ? 0.0 : exp(m - m_new);
        float e_s = valid ? exp(s - m_new) : 0.0;
        barrier();                                          // red[0] is read
        prob[tid] = e_s;
        red[tid] = e_s;
        barrier();
        for (uint w = GROUP_SIZE / 2u; w > 0u; w >>= 1u) {
            if (tid < w) red[tid] += red[tid + w];
            barrier();
        }
        l = l * alpha + red[0];
        uint cols = min(GROUP_SIZE, t + 1u - k0);
        for (uint k = 0u, d = lane; k < MAX_CHANNELS && d < p.HS; k++, d += lanes) {
            float a = acc[k] * alpha;
            if (owner)
                for (uint c = part; c < cols; c += parts) a += prob[c] * value_at(k0 + c, d);
            acc[k] = a;
        }
        m = m_new;
        barrier();                                          // prob and red are read
    }

    for (uint k = 0u, d = lane; owner && k < MAX_CHANNELS && d < p.HS; k++, d += lanes)
        part_out[part * p.HS + d] = acc[k];
    barrier();
    for (uint d = tid; d < p.HS; d += GROUP_SIZE) {
        float o = 0.0;
        for (uint k = 0u; k < parts; k++) o += part_out[k * p.HS + d];
        out_[out_base + d] = o / l;
    }
}
