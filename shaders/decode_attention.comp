#version 450
// One decode step of causal grouped-query self-attention, every sequence at position t: NH
// query heads share KVH key/value heads, query head h using kv head g = h / (NH / KVH).
//   kcache[b][t] = k of qkv[b], vcache[b][t] = v of qkv[b]        (the cache write)
//   out[b] = softmax(q k_j / sqrt(HS), j = 0..t) v_j per query head (one query per sequence)
// qkv (n,W), W = (NH + 2 KVH) HS, holds the step's q, k, v side by side (q of head h at
// [b][h*HS + d], k of kv head g at [b][(NH + g)*HS + d], v at [b][(NH + KVH + g)*HS + d]);
// kcache, vcache (>= n, T, KVH HS) hold the keys and values of positions 0..t-1 of sequence b
// at [b][j][g*HS + d]; out (n, NH HS).
//
// One workgroup per (b, h); the first query head of each group writes its kv head's row t of
// the caches (the others of the group read only rows j < t there). Keys are walked in chunks
// of GROUP_SIZE with an online softmax: invocation i scores key k0 + i (a dot product over d in
// order), the chunk's max and sum come from shared-memory trees, and the output is accumulated
// by (part, d) invocations: part p of parts = GROUP_SIZE / HS owns the chunk's keys
// c = p, p + parts, ... for channel d, rescaled by exp(m_old - m_new) whenever the max grows.
// The parts are added in order at the end. Every sum has a fixed order: the same inputs give
// the same bits. Key and value t are read from qkv (this dispatch writes them to the caches;
// nothing reads them back from there), so a workgroup never reads what it writes.
// GROUP_SIZE: a power of two >= MAX_HS.
#include "common.glsl"

const uint MAX_HS = 128u;
const float LOWEST = -3.402823466e38;

layout(std430, binding = 0) writeonly buffer Out { float out_[]; };
layout(std430, binding = 1) buffer KCache { float kcache[]; };
layout(std430, binding = 2) buffer VCache { float vcache[]; };
layout(std430, binding = 3) readonly buffer Qkv { float qkv[]; };
// n sequences, position t, cache capacity T (positions per sequence), NH query heads and KVH
// key/value heads of HS channels, scale = 1 / sqrt(HS)
layout(push_constant) uniform Push { uint n; uint t; uint T; uint NH; uint KVH; uint HS; float scale; } p;

shared float q_s[MAX_HS];          // (HS) the query of this head
shared float prob[GROUP_SIZE];     // the chunk's probabilities exp(s - m)
shared float red[GROUP_SIZE];      // tree reductions: the chunk's max, then its sum
shared float part_out[GROUP_SIZE]; // (parts, HS) partial outputs

// The workgroup's places, set once in main: the width of a cache row (KVH HS); index of element
// 0 of its kv head at position 0 of the caches; of its q, k and v in qkv.
uint cache_row, cache_base, q_base, k_base, v_base;

float key_at(uint j, uint d) { return j < p.t ? kcache[cache_base + j * cache_row + d] : qkv[k_base + d]; }
float value_at(uint j, uint d) { return j < p.t ? vcache[cache_base + j * cache_row + d] : qkv[v_base + d]; }

void main() {
    uint group = flat_group_id();
    if (group >= p.n * p.NH) return;                    // uniform over the workgroup
    uint b = group / p.NH, h = group % p.NH;
    uint group_heads = p.NH / p.KVH;                    // query heads per kv head
    uint g = h / group_heads;
    uint qkv_row = b * (p.NH + 2u * p.KVH) * p.HS;
    cache_row = p.KVH * p.HS;
    cache_base = b * p.T * cache_row + g * p.HS;
    q_base = qkv_row + h * p.HS;
    k_base = qkv_row + (p.NH + g) * p.HS;
    v_base = qkv_row + (p.NH + p.KVH + g) * p.HS;
    uint tid = gl_LocalInvocationID.x;

    if (tid < p.HS) {
        q_s[tid] = qkv[q_base + tid];
        if (h % group_heads == 0u) {                    // one writer per kv head
            kcache[cache_base + p.t * cache_row + tid] = qkv[k_base + tid];
            vcache[cache_base + p.t * cache_row + tid] = qkv[v_base + tid];
        }
    }
    barrier();

    uint parts = GROUP_SIZE / p.HS;                     // >= 1 since HS <= MAX_HS <= GROUP_SIZE
    uint part = tid / p.HS, d = tid % p.HS;
    bool owner = part < parts;
    float m = 0.0, l = 0.0, acc = 0.0;
    for (uint k0 = 0u; k0 <= p.t; k0 += GROUP_SIZE) {
        uint j = k0 + tid;
        bool valid = j <= p.t;
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
        acc *= alpha;
        uint cols = min(GROUP_SIZE, p.t + 1u - k0);
        if (owner)
            for (uint c = part; c < cols; c += parts) acc += prob[c] * value_at(k0 + c, d);
        m = m_new;
        barrier();                                          // prob and red are read
    }

    if (owner) part_out[tid] = acc;                         // tid = part * HS + d
    barrier();
    if (tid < p.HS) {
        float o = 0.0;
        for (uint k = 0u; k < parts; k++) o += part_out[k * p.HS + tid];
        out_[(b * p.NH + h) * p.HS + tid] = o / l;
    }
}
