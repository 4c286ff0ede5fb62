#version 450
#extension GL_EXT_control_flow_attributes : require
// attention_forward.comp's out (B,T,C) and lse (B,NH,T), f32 out only, shaped for CPU devices
// (attention_lanes.glsl): one invocation per (b, h, block of LANE_ROWS query rows t), GROUP_SIZE of
// them a workgroup. It holds its rows' q and output accumulators (HS each) in registers and walks
// the keys j of h's kv head up to its last row, in order, with decode_attention_lanes.comp's online
// softmax per row, one key at a time (a row skips the keys j > t): key 0 opens it (max m = s_0,
// sum l = 1, acc = v_0); each later key's scaled score s is weighed against the running max with
// one exp, e = exp(-|s - m|): a new max rescales what came before by e and enters with weight 1,
// else the key enters with weight e. out = acc / l, lse = m + log(l) (m the max of the scaled
// scores, l the sum of exp(s_j - m): the tiled kernel's lse).
#include "common.glsl"
#include "attention_layout.glsl"

layout(std430, binding = 0) writeonly buffer Out { float out_[]; };
layout(std430, binding = 1) writeonly buffer Lse { float lse[]; };
layout(std430, binding = 2) readonly buffer Qkv { float qkv[]; };
layout(binding = 3) uniform samplerBuffer qkv_quads;  // qkv's quads, from quad p.qkv_first

#include "attention_lanes.glsl"

void main() {
    uint blocks = (p.T + LANE_ROWS - 1u) / LANE_ROWS;
    uint head, r;                                        // head = b * NH + h
    if (!owned_block(p.B * p.NH, blocks, head, r)) return;
    uint t0 = (blocks - 1u - r) * LANE_ROWS;             // rows t0 + i, i < LANE_ROWS
    uint key_end = min(t0 + LANE_ROWS, p.T);             // keys [0, key_end) reach some row
    uint b = head / p.NH, h = head % p.NH, g = kv_head_of(h);
    vec4 q[LANE_ROWS][QUADS], acc[LANE_ROWS][QUADS];     // (LANE_ROWS, HS) each
    float m[LANE_ROWS], l[LANE_ROWS];
    [[unroll]] for (uint i = 0u; i < LANE_ROWS; i++) {
        qkv_row(qkv_index(b, min(t0 + i, p.T - 1u), q_column(h), 0u), q[i]);
        [[unroll]] for (uint c = 0u; c < QUADS; c++) acc[i][c] = vec4(0.0);
        m[i] = 0.0;
        l[i] = 0.0;
    }

    for (uint j = 0u; j < key_end; j++) {
        vec4 k[QUADS], v[QUADS];                         // (HS) each: key and value j
        qkv_row(qkv_index(b, j, k_column(g), 0u), k);
        qkv_row(qkv_index(b, j, v_column(g), 0u), v);
        [[unroll]] for (uint i = 0u; i < LANE_ROWS; i++) {
            if (j > t0 + i) continue;                    // past row t0 + i: no key of its own
            float s = head_dot(q[i], k) * p.scale;
            float e = exp(-abs(s - m[i]));
            bool grows = j == 0u || s > m[i];
            float alpha = j == 0u ? 0.0 : grows ? e : 1.0, weight = grows ? 1.0 : e;
            m[i] = j == 0u ? s : max(m[i], s);
            l[i] = l[i] * alpha + weight;
            [[unroll]] for (uint c = 0u; c < QUADS; c++) acc[i][c] = acc[i][c] * alpha + weight * v[c];
        }
    }
    [[unroll]] for (uint i = 0u; i < LANE_ROWS; i++) {
        uint t = t0 + i;
        if (t >= p.T) break;
        lse[head * p.T + t] = m[i] + log(l[i]);
        [[unroll]] for (uint d = 0u; d < HS; d++) out_[btc_index(b, t, h, d)] = acc[i][d / 4u][d % 4u] / l[i];
    }
}
