#version 450
#extension GL_EXT_control_flow_attributes : require
// attention_backward_dq.comp's result, dqkv (B,T,W): the q part += dQ, shaped for CPU devices
// (attention_lanes.glsl): one invocation per (b, h, block of LANE_ROWS query rows i), GROUP_SIZE
// of them a workgroup. It holds its rows' q_i, dout_i and dQ_i (HS each) in registers and walks
// the keys j of h's kv head up to its last row, in order (a row skips the keys j > i):
//   p_ij = exp(q_i . k_j scale - lse_i), ds_ij = p_ij (dout_i . v_j - D_i), dQ_i += ds_ij k_j,
// then dqkv's q_i += dQ_i scale. dout (B,T,C); lse, D (B,NH,T): the forward's log-sum-exps and
// rowsum(dout * out).
#define ATTENTION_DOUT
#include "common.glsl"
#include "attention_layout.glsl"

layout(std430, binding = 0) buffer DQkv { float dqkv[]; };
layout(std430, binding = 1) readonly buffer DOut { float dout[]; };
layout(std430, binding = 2) readonly buffer Qkv { float qkv[]; };
layout(std430, binding = 3) readonly buffer Lse { float lse[]; };
layout(std430, binding = 4) readonly buffer D { float dsum[]; };
layout(binding = 5) uniform samplerBuffer qkv_quads;   // qkv's quads, from quad p.qkv_first
layout(binding = 6) uniform samplerBuffer dout_quads;  // dout's quads, from quad p.dout_first

#include "attention_lanes.glsl"

void main() {
    uint blocks = (p.T + LANE_ROWS - 1u) / LANE_ROWS;
    uint head, r;                                        // head = b * NH + h
    if (!owned_block(p.B * p.NH, blocks, head, r)) return;
    uint i0 = (blocks - 1u - r) * LANE_ROWS;             // rows i0 + i, i < LANE_ROWS
    uint key_end = min(i0 + LANE_ROWS, p.T);             // keys [0, key_end) reach some row
    uint b = head / p.NH, h = head % p.NH, g = kv_head_of(h);
    vec4 q[LANE_ROWS][QUADS], dO[LANE_ROWS][QUADS], dq[LANE_ROWS][QUADS];  // (LANE_ROWS, HS) each
    float lse_i[LANE_ROWS], d_i[LANE_ROWS];
    [[unroll]] for (uint i = 0u; i < LANE_ROWS; i++) {
        uint row = min(i0 + i, p.T - 1u);
        qkv_row(qkv_index(b, row, q_column(h), 0u), q[i]);
        dout_row(btc_index(b, row, h, 0u), dO[i]);
        [[unroll]] for (uint c = 0u; c < QUADS; c++) dq[i][c] = vec4(0.0);
        lse_i[i] = lse[head * p.T + row];
        d_i[i] = dsum[head * p.T + row];
    }

    for (uint j = 0u; j < key_end; j++) {
        vec4 k[QUADS], v[QUADS];                         // (HS) each: key and value j
        qkv_row(qkv_index(b, j, k_column(g), 0u), k);
        qkv_row(qkv_index(b, j, v_column(g), 0u), v);
        [[unroll]] for (uint i = 0u; i < LANE_ROWS; i++) {
            if (j > i0 + i) continue;                    // past row i0 + i
            float s = head_dot(q[i], k), dp = head_dot(dO[i], v);
            float ds = exp(s * p.scale - lse_i[i]) * (dp - d_i[i]);
            [[unroll]] for (uint c = 0u; c < QUADS; c++) dq[i][c] += ds * k[c];
        }
    }
    [[unroll]] for (uint i = 0u; i < LANE_ROWS; i++) {
        if (i0 + i >= p.T) break;
        uint at = qkv_index(b, i0 + i, q_column(h), 0u);
        [[unroll]] for (uint d = 0u; d < HS; d++) dqkv[at + d] += dq[i][d / 4u][d % 4u] * p.scale;
    }
}
