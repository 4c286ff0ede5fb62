#version 450
// out (B,T,C) = softmax(q k^T / sqrt(HS), causal) v per head; lse (B,NH,T) = each row's
// log-sum-exp of the scaled scores. Flash-attention style: a workgroup owns ROWS query rows of
// one head, keeps their q in shared memory and their output rows in registers, and walks the
// keys up to the causal limit in tiles of TILE rows (K then V through one shared tile) with an
// online softmax: a running max m and sum l per row, the partial output rescaled by
// exp(m_old - m_new) whenever the max grows. No (T,T) matrix exists anywhere.
#include "common.glsl"
#include "attention.glsl"

layout(std430, binding = 0) writeonly buffer Out { float out_[]; };
layout(std430, binding = 1) writeonly buffer Lse { float lse[]; };
layout(std430, binding = 2) readonly buffer Qkv { float qkv[]; };

shared float q_tile[ROWS * STRIDE];    // (ROWS, HS) queries of this block
shared float kv_tile[TILE * STRIDE];   // (TILE, HS) keys, then values, of the current tile
shared float p_tile[ROWS * PSTRIDE];   // (ROWS, TILE) scores, then probabilities
shared float row_scale[ROWS];          // exp(m_old - m_new) per row; 1 / l at the end

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
        q_tile[r * STRIDE + d] = q0 + r < p.T ? qkv[qkv_index(b, q0 + r, h, 0u, d)] : 0.0;
    }
    float o[BLOCK_PER_THREAD];
    for (uint k = 0; k < BLOCK_PER_THREAD; k++) o[k] = 0.0;
    float m = 0.0, l = 0.0;                                 // row tid's running max and sum (tid < ROWS)

    for (uint k0 = 0; k0 < key_end; k0 += TILE) {
        uint cols = min(TILE, key_end - k0);
        barrier();                                          // the last tile's kv_tile, p_tile are read
        for (uint e = tid; e < TILE * HS; e += GROUP_SIZE) {
            uint c = e / HS, d = e % HS;
            kv_tile[c * STRIDE + d] = k0 + c < p.T ? qkv[qkv_index(b, k0 + c, h, 1u, d)] : 0.0;
        }
        barrier();
        for (uint k = 0; k < SCORES_PER_THREAD; k++) {
            uint e = tid + k * GROUP_SIZE;
            if (e < ROWS * TILE) {
                uint r = e / TILE, c = e % TILE;
                float s = 0.0;
                for (uint d = 0; d < HS; d++) s += q_tile[r * STRIDE + d] * kv_tile[c * STRIDE + d];
                p_tile[r * PSTRIDE + c] = s * p.scale;
            }
        }
        barrier();                                          // scores done, kv_tile free for V
        for (uint e = tid; e < TILE * HS; e += GROUP_SIZE) {
            uint c = e / HS, d = e % HS;
            kv_tile[c * STRIDE + d] = k0 + c < p.T ? qkv[qkv_index(b, k0 + c, h, 2u, d)] : 0.0;
        }
        if (tid < ROWS) {
            // Online softmax of row tid over this tile's keys j <= i (key 0 is in the first
            // tile, so every real row's max is finite from then on).
            uint r = tid, i = q0 + tid;
            uint valid = i < p.T ? min(cols, i + 1u - min(i + 1u, k0)) : 0u;  // keys k0 .. k0+valid-1
            float m_new = k0 == 0u ? p_tile[r * PSTRIDE] : m;
            for (uint c = 0; c < valid; c++) m_new = max(m_new, p_tile[r * PSTRIDE + c]);
            float sum = 0.0;
            for (uint c = 0; c < cols; c++) {
                float pc = c < valid ? exp(p_tile[r * PSTRIDE + c] - m_new) : 0.0;
                p_tile[r * PSTRIDE + c] = pc;
                sum += pc;
            }
            float alpha = k0 == 0u ? 0.0 : exp(m - m_new);
            l = l * alpha + sum;
            m = m_new;
            row_scale[r] = alpha;
        }
        barrier();
        for (uint k = 0; k < BLOCK_PER_THREAD; k++) {
            uint e = tid + k * GROUP_SIZE;
            if (e < ROWS * HS) {
                uint r = e / HS, d = e % HS;
                float acc = o[k] * row_scale[r];
                for (uint c = 0; c < cols; c++) acc += p_tile[r * PSTRIDE + c] * kv_tile[c * STRIDE + d];
                o[k] = acc;
            }
        }
    }

    barrier();                                              // row_scale is read
    if (tid < ROWS && q0 + tid < p.T) {
        lse[head * p.T + q0 + tid] = m + log(l);
        row_scale[tid] = 1.0 / l;
    }
    barrier();
    for (uint k = 0; k < BLOCK_PER_THREAD; k++) {
        uint e = tid + k * GROUP_SIZE;
        uint r = e / HS, d = e % HS;
        if (e < ROWS * HS && q0 + r < p.T) out_[btc_index(b, q0 + r, h, d)] = o[k] * row_scale[r];
    }
}
