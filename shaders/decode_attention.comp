#version 450
// One decode step of causal multi-head self-attention, every sequence at position t:
//   kcache[b][t] = k of qkv[b], vcache[b][t] = v of qkv[b]        (the cache write)
//   out[b] = softmax(q k_j / sqrt(HS), j = 0..t) v_j per head       (one query per sequence)
// qkv (n,3C) holds the step's q, k, v side by side (q of head h at [b][h*HS + d], k at
// [b][C + h*HS + d], v at [b][2C + h*HS + d]); kcache, vcache (>= n, T, C) hold the keys and
// values of positions 0..t-1 of sequence b at [b][j][h*HS + d]; out (n,C).
//
// One workgroup per (b, h). Keys are walked in chunks of GROUP_SIZE with an online softmax:
// invocation i scores key k0 + i (a dot product over d in order), the chunk's max and sum come
// from shared-memory trees, and the output is accumulated by (part, d) invocations: part p of
// parts = GROUP_SIZE / HS owns the chunk's keys c = p, p + parts, ... for channel d, rescaled by
// exp(m_old - m_new) whenever the max grows. The parts are added in order at the end. Every
// sum has a fixed order: the same inputs give the same bits. Key and value t are read from
// qkv (this dispatch writes them to the caches; nothing reads them back from there), so a
// workgroup never reads what it writes. GROUP_SIZE: a power of two >= MAX_HS.
#include "common.glsl"

const uint MAX_HS = 128u;
const float LOWEST = -3.402823466e38;

layout(std430, binding = 0) writeonly buffer Out { float out_[]; };
layout(std430, binding = 1) buffer KCache { float kcache[]; };
layout(std430, binding = 2) buffer VCache { float vcache[]; };
layout(std430, binding = 3) readonly buffer Qkv { float qkv[]; };
// n sequences, position t, cache capacity T (positions per sequence), C channels, NH heads of
// HS channels, scale = 1 / sqrt(HS)
layout(push_constant) uniform Push { uint n; uint t; uint T; uint C; uint NH; uint HS; float scale; } p;

shared float q_s[MAX_HS];          // (HS) the query of this head
shared float prob[GROUP_SIZE];     // the chunk's probabilities exp(s - m)
shared float red[GROUP_SIZE];      // tree reductions: the chunk's max, then its sum
shared float part_out[GROUP_SIZE]; // (parts, HS) partial outputs

uint cache_index(uint b, uint j, uint h, uint d) { return (b * p.T + j) * p.C + h * p.HS + d; }
uint qkv_index(uint b, uint part, uint h, uint d) { return b * 3u * p.C + part * p.C + h * p.HS + d; }

float key_at(uint b, uint j, uint h, uint d) {
    return j < p.t ? kcache[cache_index(b, j, h, d)] : qkv[qkv_index(b, 1u, h, d)];
}
float value_at(uint b, uint j, uint h, uint d) {
    return j < p.t ? vcache[cache_index(b, j, h, d)] : qkv[qkv_index(b, 2u, h, d)];
}

void main() {
    uint group = flat_group_id();
    if (group >= p.n * p.NH) return;                    // uniform over the workgroup
    uint b = group / p.NH, h = group % p.NH;
    uint tid = gl_LocalInvocationID.x;

    if (tid < p.HS) {
        q_s[tid] = qkv[qkv_index(b, 0u, h, tid)];
        kcache[cache_index(b, p.t, h, tid)] = qkv[qkv_index(b, 1u, h, tid)];
        vcache[cache_index(b, p.t, h, tid)] = qkv[qkv_index(b, 2u, h, tid)];
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
            for (uint e = 0u; e < p.HS; e++) s += q_s[e] * key_at(b, j, h, e);
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
            for (uint c = part; c < cols; c += parts) acc += prob[c] * value_at(b, k0 + c, h, d);
        m = m_new;
        barrier();                                          // prob and red are read
    }

    if (owner) part_out[tid] = acc;                         // tid = part * HS + d
    barrier();
    if (tid < p.HS) {
        float o = 0.0;
        for (uint k = 0u; k < parts; k++) o += part_out[k * p.HS + tid];
        out_[b * p.C + h * p.HS + tid] = o / l;
    }
}
