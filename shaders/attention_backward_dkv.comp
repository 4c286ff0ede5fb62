#version 450
// dqkv (B,T,3C): the k and v parts += dK and dV of causal attention, from dout (B,T,C), qkv,
// lse (B,NH,T) of the forward pass and D (B,NH,T) = rowsum(dout * out). A workgroup owns ROWS
// key rows j of one head (their k, v in shared memory, their dK, dV in registers) and walks the
// query rows i >= j in tiles of TILE rows, recomputing the probabilities from lse:
//   p_ij = exp(q_i . k_j scale - lse_i), ds_ij = p_ij (dO_i . v_j - D_i),
//   dV_j += sum_i p_ij dO_i,  dK_j += scale sum_i ds_ij q_i.
// Every sum runs in a fixed order and each output element belongs to one invocation: no atomics.
#include "common.glsl"
#include "attention.glsl"

layout(std430, binding = 0) buffer DQkv { float dqkv[]; };
layout(std430, binding = 1) readonly buffer DOut { float dout[]; };
layout(std430, binding = 2) readonly buffer Qkv { float qkv[]; };
layout(std430, binding = 3) readonly buffer Lse { float lse[]; };
layout(std430, binding = 4) readonly buffer D { float dsum[]; };

// Here the score tiles are (TILE query rows, ROWS key rows).
const uint KSTRIDE = ROWS + 1;
const uint TILE_SCORES_PER_THREAD = (TILE * ROWS + GROUP_SIZE - 1) / GROUP_SIZE;

shared float k_tile[ROWS * STRIDE];    // (ROWS, HS) keys of this block
shared float v_tile[ROWS * STRIDE];    // (ROWS, HS) values of this block
shared float q_tile[TILE * STRIDE];    // (TILE, HS) queries of the current tile
shared float do_tile[TILE * STRIDE];   // (TILE, HS) dout of the current tile
shared float p_tile[TILE * KSTRIDE];   // (TILE, ROWS) probabilities
shared float ds_tile[TILE * KSTRIDE];  // (TILE, ROWS) score gradients
shared float lse_tile[TILE];
shared float d_tile[TILE];

void main() {
    uint group = flat_group_id();
    if (group >= p.B * p.NH * p.blocks) return;
    uint head = group / p.blocks;                           // b * NH + h
    uint block = group % p.blocks;                          // block 0 sees the most queries
    uint b = head / p.NH, h = head % p.NH;
    uint tid = gl_LocalInvocationID.x;
    uint j0 = block * ROWS;

    for (uint e = tid; e < ROWS * HS; e += GROUP_SIZE) {
        uint c = e / HS, d = e % HS;
        bool real = j0 + c < p.T;
        k_tile[c * STRIDE + d] = real ? qkv[qkv_index(b, j0 + c, h, 1u, d)] : 0.0;
        v_tile[c * STRIDE + d] = real ? qkv[qkv_index(b, j0 + c, h, 2u, d)] : 0.0;
    }
    float dk[BLOCK_PER_THREAD], dv[BLOCK_PER_THREAD];
    for (uint k = 0; k < BLOCK_PER_THREAD; k++) {
        dk[k] = 0.0;
        dv[k] = 0.0;
    }

    for (uint i0 = j0; i0 < p.T; i0 += TILE) {
        uint rows = min(TILE, p.T - i0);
        barrier();                                          // the last tile is read
        for (uint e = tid; e < TILE * HS; e += GROUP_SIZE) {
            uint r = e / HS, d = e % HS;
            bool real = i0 + r < p.T;
            q_tile[r * STRIDE + d] = real ? qkv[qkv_index(b, i0 + r, h, 0u, d)] : 0.0;
            do_tile[r * STRIDE + d] = real ? dout[btc_index(b, i0 + r, h, d)] : 0.0;
        }
        for (uint r = tid; r < TILE; r += GROUP_SIZE) {
            bool real = i0 + r < p.T;
            lse_tile[r] = real ? lse[head * p.T + i0 + r] : 0.0;
            d_tile[r] = real ? dsum[head * p.T + i0 + r] : 0.0;
        }
        barrier();
        for (uint k = 0; k < TILE_SCORES_PER_THREAD; k++) {
            uint e = tid + k * GROUP_SIZE;
            if (e < TILE * ROWS) {
                uint r = e / ROWS, c = e % ROWS;
                float pr = 0.0, ds = 0.0;
                if (i0 + r < p.T && j0 + c <= i0 + r) {
                    float s = 0.0, dp = 0.0;
                    for (uint d = 0; d < HS; d++) {
                        s += q_tile[r * STRIDE + d] * k_tile[c * STRIDE + d];
                        dp += do_tile[r * STRIDE + d] * v_tile[c * STRIDE + d];
                    }
                    pr = exp(s * p.scale - lse_tile[r]);
                    ds = pr * (dp - d_tile[r]);
                }
                p_tile[r * KSTRIDE + c] = pr;
                ds_tile[r * KSTRIDE + c] = ds;
            }
        }
        barrier();
        for (uint k = 0; k < BLOCK_PER_THREAD; k++) {
            uint e = tid + k * GROUP_SIZE;
            if (e < ROWS * HS) {
                uint c = e / HS, d = e % HS;
                float sv = dv[k], sk = dk[k];
                for (uint r = 0; r < rows; r++) {
                    sv += p_tile[r * KSTRIDE + c] * do_tile[r * STRIDE + d];
                    sk += ds_tile[r * KSTRIDE + c] * q_tile[r * STRIDE + d];
                }
                dv[k] = sv;
                dk[k] = sk;
            }
        }
    }

    for (uint k = 0; k < BLOCK_PER_THREAD; k++) {
        uint e = tid + k * GROUP_SIZE;
        uint c = e / HS, d = e % HS;
        if (e < ROWS * HS && j0 + c < p.T) {
            dqkv[qkv_index(b, j0 + c, h, 1u, d)] += dk[k] * p.scale;
            dqkv[qkv_index(b, j0 + c, h, 2u, d)] += dv[k];
        }
    }
}
