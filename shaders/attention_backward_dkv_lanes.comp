#version 450
#extension GL_EXT_control_flow_attributes : require
// attention_backward_dkv.comp's result, dqkv (B,T,W): the k and v parts += dK and dV, shaped for
// CPU devices (attention_lanes.glsl): one invocation per (b, kv head g, block of LANE_ROWS key rows
// j), GROUP_SIZE of them a workgroup. It holds its rows' k_j, v_j, dK_j and dV_j (HS each) in
// registers and walks, for each query head h of g's group in turn (h = g G .. g G + G - 1,
// G = NH / KVH), the query rows i from its first row to T - 1, in order (a row skips the queries
// i < j):
//   p_ij = exp(q_i . k_j scale - lse_i), ds_ij = p_ij (dout_i . v_j - D_i),
//   dV_j += p_ij dout_i, dK_j += ds_ij q_i,
// then dqkv's k_j += dK_j scale, v_j += dV_j. dout (B,T,C); lse, D (B,NH,T): the forward's
// log-sum-exps and rowsum(dout * out).
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
    uint kv_head, r;                                     // kv_head = b * KVH + g
    if (!owned_block(p.B * p.KVH, blocks, kv_head, r)) return;
    uint j0 = r * LANE_ROWS;                             // rows j0 + i, i < LANE_ROWS
    uint b = kv_head / p.KVH, g = kv_head % p.KVH;
    uint group_heads = p.NH / p.KVH;                     // query heads h of kv head g
    vec4 k[LANE_ROWS][QUADS], v[LANE_ROWS][QUADS];       // (LANE_ROWS, HS) each
    vec4 dk[LANE_ROWS][QUADS], dv[LANE_ROWS][QUADS];
    [[unroll]] for (uint i = 0u; i < LANE_ROWS; i++) {
        uint row = min(j0 + i, p.T - 1u);
        qkv_row(qkv_index(b, row, k_column(g), 0u), k[i]);
        qkv_row(qkv_index(b, row, v_column(g), 0u), v[i]);
        [[unroll]] for (uint c = 0u; c < QUADS; c++) {
            dk[i][c] = vec4(0.0);
            dv[i][c] = vec4(0.0);
        }
    }

    for (uint h = g * group_heads; h < (g + 1u) * group_heads; h++) {
        uint head = b * p.NH + h;
        for (uint qi = j0; qi < p.T; qi++) {
            vec4 q[QUADS], dO[QUADS];                    // (HS) each: query qi and its dout
            qkv_row(qkv_index(b, qi, q_column(h), 0u), q);
            dout_row(btc_index(b, qi, h, 0u), dO);
            float lse_q = lse[head * p.T + qi], d_q = dsum[head * p.T + qi];
            [[unroll]] for (uint i = 0u; i < LANE_ROWS; i++) {
                if (qi < j0 + i) continue;               // before row j0 + i
                float s = head_dot(q, k[i]), dp = head_dot(dO, v[i]);
                float pr = exp(s * p.scale - lse_q);
                float ds = pr * (dp - d_q);
                [[unroll]] for (uint c = 0u; c < QUADS; c++) {
                    dv[i][c] += pr * dO[c];
                    dk[i][c] += ds * q[c];
                }
            }
        }
    }
    [[unroll]] for (uint i = 0u; i < LANE_ROWS; i++) {
        if (j0 + i >= p.T) break;
        uint k_at = qkv_index(b, j0 + i, k_column(g), 0u), v_at = qkv_index(b, j0 + i, v_column(g), 0u);
        [[unroll]] for (uint d = 0u; d < HS; d++) {
            dqkv[k_at + d] += dk[i][d / 4u][d % 4u] * p.scale;
            dqkv[v_at + d] += dv[i][d / 4u][d % 4u];
        }
    }
}
