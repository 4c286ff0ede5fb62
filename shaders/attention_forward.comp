#version 450
#include "storage.glsl"
// out (B,T,C) = softmax(q k^T / sqrt(HS), causal) v per query head, with the k and v of the kv
// head it shares (attention.glsl); lse (B,NH,T) = each row's log-sum-exp of the scaled scores.
// Flash-attention style: a workgroup owns ROWS query rows of one head, keeps their q in shared
// memory and their output rows in registers, and walks the keys up to the causal limit in
// tiles of TILE rows (K, then V, through one shared tile) with an online softmax: a running
// max m and sum l per row, the partial output rescaled by exp(m_old - m_new) whenever the max
// grows. No (T,T) matrix exists anywhere.
// Per key tile: scores S = q k^T scale (micro-tiles in registers); row maxima (one invocation
// a row); P = exp(S - m) (micro-tiles again); row sums and O = O alpha + P V.
// out may be stored as bf16 or f16 (variants, shaders/variants.txt: the role ACT); every sum, qkv
// and lse are f32.
#include "common.glsl"
#include "attention.glsl"

layout(std430, binding = 0) writeonly buffer Out { ACT_T out_[]; };
layout(std430, binding = 1) writeonly buffer Lse { float lse[]; };
layout(std430, binding = 2) readonly buffer Qkv { float qkv[]; };

const uint S_ROWS = ROWS, S_COLS = TILE;        // score tile: (query rows, keys)
const uint S_ROW_LANES = S_ROWS < 16u ? S_ROWS : 16u;
const uint S_COL_LANES = GROUP_SIZE / S_ROW_LANES;
const uint SR = (S_ROWS + S_ROW_LANES - 1u) / S_ROW_LANES;
const uint SC = (S_COLS + S_COL_LANES - 1u) / S_COL_LANES;
const uint OR = (ROWS + D_ROW_LANES - 1u) / D_ROW_LANES;
const uint PSTRIDE = TILE + 1u;

shared float q_tile[ROWS * STRIDE];    // (ROWS, HS) queries of this block
shared float kv_tile[TILE * STRIDE];   // (TILE, HS) keys, then values, of the current tile
shared float p_tile[ROWS * PSTRIDE];   // (ROWS, TILE) scaled scores, then probabilities
shared float row_max[ROWS];            // the running max after this tile
shared float row_scale[ROWS];          // exp(m_old - m_new) per row; 1 / l at the end

void main() {
    uint group = flat_group_id();
    if (group >= p.B * p.NH * p.blocks) return;
    uint head = group / p.blocks;                           // b * NH + h
    uint block = p.blocks - 1u - group % p.blocks;          // longest rows first
    uint b = head / p.NH, h = head % p.NH;
    uint g = kv_head_of(h);
    uint q_col = q_column(h), k_col = k_column(g), v_col = v_column(g);
    uint tid = gl_LocalInvocationID.x;
    uint q0 = block * ROWS;
    uint key_end = min(q0 + ROWS, p.T);                     // keys [0, key_end) reach some row

    for (uint e = tid; e < ROWS * HS; e += GROUP_SIZE) {
        uint r = e / HS, d = e % HS;
        q_tile[r * STRIDE + d] = q0 + r < p.T ? qkv[qkv_index(b, q0 + r, q_col, d)] : 0.0;
    }

    // This invocation's score micro-tile: rows s_row[i], columns s_col[j] of the tile.
    uint s_row[SR], s_col[SC];
    for (uint i = 0; i < SR; i++) s_row[i] = tid / S_COL_LANES + i * S_ROW_LANES;
    for (uint j = 0; j < SC; j++) s_col[j] = tid % S_COL_LANES + j * S_COL_LANES;
    // Its output micro-tile: rows o_row[i], d = o_d[k].
    uint o_row[OR], o_d[PER_D];
    for (uint i = 0; i < OR; i++) o_row[i] = tid / D_LANES + i * D_ROW_LANES;
    for (uint k = 0; k < PER_D; k++) o_d[k] = tid % D_LANES + k * D_LANES;
    float o[OR * PER_D];
    for (uint n = 0; n < OR * PER_D; n++) o[n] = 0.0;
    float m = 0.0, l = 0.0;                                 // row tid's running max and sum (tid < ROWS)

    for (uint k0 = 0; k0 < key_end; k0 += TILE) {
        uint cols = min(TILE, key_end - k0);
        barrier();                                          // the last tile's kv_tile, p_tile are read
        for (uint e = tid; e < TILE * HS; e += GROUP_SIZE) {
            uint c = e / HS, d = e % HS;
            kv_tile[c * STRIDE + d] = k0 + c < p.T ? qkv[qkv_index(b, k0 + c, k_col, d)] : 0.0;
        }
        barrier();

        // S = q k^T scale
        float s[SR * SC];
        for (uint n = 0; n < SR * SC; n++) s[n] = 0.0;
        for (uint d = 0; d < HS; d++) {
            float a[SR], bk[SC];
            for (uint i = 0; i < SR; i++) a[i] = q_tile[min(s_row[i], S_ROWS - 1u) * STRIDE + d];
            for (uint j = 0; j < SC; j++) bk[j] = kv_tile[min(s_col[j], S_COLS - 1u) * STRIDE + d];
            for (uint i = 0; i < SR; i++)
                for (uint j = 0; j < SC; j++) s[i * SC + j] += a[i] * bk[j];
        }
        for (uint i = 0; i < SR; i++)
            for (uint j = 0; j < SC; j++) {
                s[i * SC + j] *= p.scale;
                if (s_row[i] < S_ROWS && s_col[j] < S_COLS) p_tile[s_row[i] * PSTRIDE + s_col[j]] = s[i * SC + j];
            }
        barrier();                                          // scores stored; kv_tile free for V

        for (uint e = tid; e < TILE * HS; e += GROUP_SIZE) {
            uint c = e / HS, d = e % HS;
            kv_tile[c * STRIDE + d] = k0 + c < p.T ? qkv[qkv_index(b, k0 + c, v_col, d)] : 0.0;
        }
        if (tid < ROWS) {
            // Row tid's new max over its keys j <= i of this tile (key 0 is in the first tile,
            // so every real row's max is finite from then on).
            uint r = tid, i = q0 + tid;
            uint valid = i < p.T ? min(cols, i + 1u - min(i + 1u, k0)) : 0u;  // keys k0 .. k0+valid-1
            float m_new = k0 == 0u ? p_tile[r * PSTRIDE] : m;
            for (uint c = 0; c < valid; c++) m_new = max(m_new, p_tile[r * PSTRIDE + c]);
            row_scale[r] = k0 == 0u ? 0.0 : exp(m - m_new);
            row_max[r] = m_new;
            m = m_new;
        }
        barrier();

        // P = exp(S - m), 0 where j > i or past the end
        for (uint i = 0; i < SR; i++)
            for (uint j = 0; j < SC; j++) {
                uint r = s_row[i], c = s_col[j];
                if (r < S_ROWS && c < S_COLS) {
                    bool valid = q0 + r < p.T && k0 + c <= q0 + r;
                    p_tile[r * PSTRIDE + c] = valid ? exp(s[i * SC + j] - row_max[r]) : 0.0;
                }
            }
        barrier();

        if (tid < ROWS) {
            float sum = 0.0;
            for (uint c = 0; c < cols; c++) sum += p_tile[tid * PSTRIDE + c];
            l = l * row_scale[tid] + sum;
        }
        // O = O alpha + P V
        float alpha[OR];
        for (uint i = 0; i < OR; i++) alpha[i] = row_scale[min(o_row[i], ROWS - 1u)];
        for (uint i = 0; i < OR; i++)
            for (uint k = 0; k < PER_D; k++) o[i * PER_D + k] *= alpha[i];
        for (uint c = 0; c < cols; c++) {
            float pr[OR], vv[PER_D];
            for (uint i = 0; i < OR; i++) pr[i] = p_tile[min(o_row[i], ROWS - 1u) * PSTRIDE + c];
            for (uint k = 0; k < PER_D; k++) vv[k] = kv_tile[c * STRIDE + min(o_d[k], HS - 1u)];
            for (uint i = 0; i < OR; i++)
                for (uint k = 0; k < PER_D; k++) o[i * PER_D + k] += pr[i] * vv[k];
        }
    }

    barrier();                                              // row_scale is read
    if (tid < ROWS && q0 + tid < p.T) {
        lse[head * p.T + q0 + tid] = m + log(l);
        row_scale[tid] = 1.0 / l;
    }
    barrier();
    for (uint i = 0; i < OR; i++) {
        uint r = o_row[i];
        if (r < ROWS && q0 + r < p.T) {
            float inv_l = row_scale[r];
            for (uint k = 0; k < PER_D; k++)
                if (o_d[k] < HS) out_[btc_index(b, q0 + r, h, o_d[k])] = ACT_STORE(o[i * PER_D + k] * inv_l);
        }
    }
}
