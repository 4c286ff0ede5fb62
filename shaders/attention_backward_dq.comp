#version 450
// dqkv (B,T,3C): the q part += dQ of causal attention, from dout (B,T,C), qkv, lse (B,NH,T) of
// the forward pass and D (B,NH,T) = rowsum(dout * out). A workgroup owns ROWS query rows i of
// one head (their q and dout in shared memory, their dQ in registers) and walks the keys j <= i
// in tiles of TILE rows:
//   p_ij = exp(q_i . k_j scale - lse_i), ds_ij = p_ij (dO_i . v_j - D_i), dQ_i += scale sum_j ds_ij k_j.
// Every sum runs in a fixed order and each output element belongs to one invocation: no atomics.
#include "common.glsl"
#include "attention.glsl"

layout(std430, binding = 0) buffer DQkv { float dqkv[]; };
layout(std430, binding = 1) readonly buffer DOut { float dout[]; };
layout(std430, binding = 2) readonly buffer Qkv { float qkv[]; };
layout(std430, binding = 3) readonly buffer Lse { float lse[]; };
layout(std430, binding = 4) readonly buffer D { float dsum[]; };

shared float q_tile[ROWS * STRIDE];    // (ROWS, HS) queries of this block
shared float do_tile[ROWS * STRIDE];   // (ROWS, HS) dout of this block
shared float k_tile[TILE * STRIDE];    // (TILE, HS) keys of the current tile
shared float v_tile[TILE * STRIDE];    // (TILE, HS) values of the current tile
shared float ds_tile[ROWS * PSTRIDE];  // (ROWS, TILE) score gradients
shared float lse_tile[ROWS];
shared float d_tile[ROWS];

void main() {
    uint group = flat_group_id();
    if (group >= p.B * p.NH * p.blocks) return;
    uint head = group / p.blocks;                           // b * NH + h
    uint block = p.blocks - 1u - group % p.blocks;          // longest rows first
    uint b = head / p.NH, h = head % p.NH;
    uint tid = gl_LocalInvocationID.x;
    uint q0 = block * ROWS;
    uint key_end = min(q0 + ROWS, p.T);                     // keys [0, key_end) reach some row

    for (uint e = tid; e < ROWS * HS; e += GROUP_SIZE) {
        uint r = e / HS, d = e % HS;
        bool real = q0 + r < p.T;
        q_tile[r * STRIDE + d] = real ? qkv[qkv_index(b, q0 + r, h, 0u, d)] : 0.0;
        do_tile[r * STRIDE + d] = real ? dout[btc_index(b, q0 + r, h, d)] : 0.0;
    }
    for (uint r = tid; r < ROWS; r += GROUP_SIZE) {
        bool real = q0 + r < p.T;
        lse_tile[r] = real ? lse[head * p.T + q0 + r] : 0.0;
        d_tile[r] = real ? dsum[head * p.T + q0 + r] : 0.0;
    }
    float dq[BLOCK_PER_THREAD];
    for (uint k = 0; k < BLOCK_PER_THREAD; k++) dq[k] = 0.0;

    for (uint k0 = 0; k0 < key_end; k0 += TILE) {
        uint cols = min(TILE, key_end - k0);
        barrier();                                          // the last tile is read
        for (uint e = tid; e < TILE * HS; e += GROUP_SIZE) {
            uint c = e / HS, d = e % HS;
            bool real = k0 + c < p.T;
            k_tile[c * STRIDE + d] = real ? qkv[qkv_index(b, k0 + c, h, 1u, d)] : 0.0;
            v_tile[c * STRIDE + d] = real ? qkv[qkv_index(b, k0 + c, h, 2u, d)] : 0.0;
        }
        barrier();
        for (uint k = 0; k < SCORES_PER_THREAD; k++) {
            uint e = tid + k * GROUP_SIZE;
            if (e < ROWS * TILE) {
                uint r = e / TILE, c = e % TILE;
                float ds = 0.0;
                if (q0 + r < p.T && k0 + c <= q0 + r) {
                    float s = 0.0, dp = 0.0;
                    for (uint d = 0; d < HS; d++) {
                        s += q_tile[r * STRIDE + d] * k_tile[c * STRIDE + d];
                        dp += do_tile[r * STRIDE + d] * v_tile[c * STRIDE + d];
                    }
                    ds = exp(s * p.scale - lse_tile[r]) * (dp - d_tile[r]);
                }
                ds_tile[r * PSTRIDE + c] = ds;
            }
        }
        barrier();
        for (uint k = 0; k < BLOCK_PER_THREAD; k++) {
            uint e = tid + k * GROUP_SIZE;
            if (e < ROWS * HS) {
                uint r = e / HS, d = e % HS;
                float acc = dq[k];
                for (uint c = 0; c < cols; c++) acc += ds_tile[r * PSTRIDE + c] * k_tile[c * STRIDE + d];
                dq[k] = acc;
            }
        }
    }

    for (uint k = 0; k < BLOCK_PER_THREAD; k++) {
        uint e = tid + k * GROUP_SIZE;
        uint r = e / HS, d = e % HS;
        if (e < ROWS * HS && q0 + r < p.T) dqkv[qkv_index(b, q0 + r, h, 0u, d)] += dq[k] * p.scale;
    }
}
