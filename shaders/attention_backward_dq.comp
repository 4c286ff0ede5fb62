#version 450
// dqkv (B,T,W): the q part += dQ of causal attention, from dout (B,T,C), qkv, lse (B,NH,T) of
// the forward pass and D (B,NH,T) = rowsum(dout * out) (layouts in attention.glsl). A workgroup
// owns ROWS query rows i of one query head (their q and dout in shared memory, their dQ in
// registers) and walks the keys j <= i of its kv head in tiles of TILE rows:
//   p_ij = exp(q_i . k_j scale - lse_i), ds_ij = p_ij (dO_i . v_j - D_i), dQ_i += scale sum_j ds_ij k_j.
// Every sum runs in a fixed order and each output element belongs to one invocation: no atomics.
#include "common.glsl"
#include "attention.glsl"

layout(std430, binding = 0) buffer DQkv { float dqkv[]; };
layout(std430, binding = 1) readonly buffer DOut { float dout[]; };
layout(std430, binding = 2) readonly buffer Qkv { float qkv[]; };
layout(std430, binding = 3) readonly buffer Lse { float lse[]; };
layout(std430, binding = 4) readonly buffer D { float dsum[]; };

const uint S_ROWS = ROWS, S_COLS = TILE;        // score tile: (query rows, keys)
const uint S_ROW_LANES = S_ROWS < 16u ? S_ROWS : 16u;
const uint S_COL_LANES = GROUP_SIZE / S_ROW_LANES;
const uint SR = (S_ROWS + S_ROW_LANES - 1u) / S_ROW_LANES;
const uint SC = (S_COLS + S_COL_LANES - 1u) / S_COL_LANES;
const uint OR = (ROWS + D_ROW_LANES - 1u) / D_ROW_LANES;
const uint PSTRIDE = TILE + 1u;

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
    uint g = kv_head_of(h);
    uint q_col = q_column(h), k_col = k_column(g), v_col = v_column(g);
    uint tid = gl_LocalInvocationID.x;
    uint q0 = block * ROWS;
    uint key_end = min(q0 + ROWS, p.T);                     // keys [0, key_end) reach some row

    for (uint e = tid; e < ROWS * HS; e += GROUP_SIZE) {
        uint r = e / HS, d = e % HS;
        bool real = q0 + r < p.T;
        q_tile[r * STRIDE + d] = real ? qkv[qkv_index(b, q0 + r, q_col, d)] : 0.0;
        do_tile[r * STRIDE + d] = real ? dout[btc_index(b, q0 + r, h, d)] : 0.0;
    }
    for (uint r = tid; r < ROWS; r += GROUP_SIZE) {
        bool real = q0 + r < p.T;
        lse_tile[r] = real ? lse[head * p.T + q0 + r] : 0.0;
        d_tile[r] = real ? dsum[head * p.T + q0 + r] : 0.0;
    }

    // This invocation's score micro-tile: query rows s_row[i], keys s_col[j] of the tile.
    uint s_row[SR], s_col[SC];
    for (uint i = 0; i < SR; i++) s_row[i] = tid / S_COL_LANES + i * S_ROW_LANES;
    for (uint j = 0; j < SC; j++) s_col[j] = tid % S_COL_LANES + j * S_COL_LANES;
    // Its dQ micro-tile: query rows o_row[i], d = o_d[k].
    uint o_row[OR], o_d[PER_D];
    for (uint i = 0; i < OR; i++) o_row[i] = tid / D_LANES + i * D_ROW_LANES;
    for (uint k = 0; k < PER_D; k++) o_d[k] = tid % D_LANES + k * D_LANES;
    float dq[OR * PER_D];
    for (uint n = 0; n < OR * PER_D; n++) dq[n] = 0.0;

    for (uint k0 = 0; k0 < key_end; k0 += TILE) {
        uint cols = min(TILE, key_end - k0);
        barrier();                                          // the last tile is read
        for (uint e = tid; e < TILE * HS; e += GROUP_SIZE) {
            uint c = e / HS, d = e % HS;
            bool real = k0 + c < p.T;
            k_tile[c * STRIDE + d] = real ? qkv[qkv_index(b, k0 + c, k_col, d)] : 0.0;
            v_tile[c * STRIDE + d] = real ? qkv[qkv_index(b, k0 + c, v_col, d)] : 0.0;
        }
        barrier();

        // S = q k^T, dP = dO v^T; then dS
        float s[SR * SC], dp[SR * SC];
        for (uint n = 0; n < SR * SC; n++) {
            s[n] = 0.0;
            dp[n] = 0.0;
        }
        for (uint d = 0; d < HS; d++) {
            float aq[SR], ado[SR], bk[SC], bv[SC];
            for (uint i = 0; i < SR; i++) {
                uint r = min(s_row[i], S_ROWS - 1u);
                aq[i] = q_tile[r * STRIDE + d];
                ado[i] = do_tile[r * STRIDE + d];
            }
            for (uint j = 0; j < SC; j++) {
                uint c = min(s_col[j], S_COLS - 1u);
                bk[j] = k_tile[c * STRIDE + d];
                bv[j] = v_tile[c * STRIDE + d];
            }
            for (uint i = 0; i < SR; i++)
                for (uint j = 0; j < SC; j++) {
                    s[i * SC + j] += aq[i] * bk[j];
                    dp[i * SC + j] += ado[i] * bv[j];
                }
        }
        for (uint i = 0; i < SR; i++)
            for (uint j = 0; j < SC; j++) {
                uint r = s_row[i], c = s_col[j];
                if (r < S_ROWS && c < S_COLS) {
                    float ds = 0.0;
                    if (q0 + r < p.T && k0 + c <= q0 + r)
                        ds = exp(s[i * SC + j] * p.scale - lse_tile[r]) * (dp[i * SC + j] - d_tile[r]);
                    ds_tile[r * PSTRIDE + c] = ds;
                }
            }
        barrier();

        // dQ += dS k
        for (uint c = 0; c < cols; c++) {
            float ds[OR], vk[PER_D];
            for (uint i = 0; i < OR; i++) ds[i] = ds_tile[min(o_row[i], ROWS - 1u) * PSTRIDE + c];
            for (uint k = 0; k < PER_D; k++) vk[k] = k_tile[c * STRIDE + min(o_d[k], HS - 1u)];
            for (uint i = 0; i < OR; i++)
                for (uint k = 0; k < PER_D; k++) dq[i * PER_D + k] += ds[i] * vk[k];
        }
    }

    for (uint i = 0; i < OR; i++) {
        uint r = o_row[i];
        if (r < ROWS && q0 + r < p.T)
            for (uint k = 0; k < PER_D; k++)
                if (o_d[k] < HS) dqkv[qkv_index(b, q0 + r, q_col, o_d[k])] += dq[i * PER_D + k] * p.scale;
    }
}
