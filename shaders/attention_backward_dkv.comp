#version 450
// dqkv (B,T,W): the k and v parts += dK and dV of causal attention, from dout (B,T,C), qkv,
// lse (B,NH,T) of the forward pass and D (B,NH,T) = rowsum(dout * out) (layouts in
// attention.glsl). A workgroup owns ROWS key rows j of one kv head g (their k, v in shared
// memory, their dK, dV in registers) and walks, for each query head h of g's group in turn
// (h = g G .. g G + G - 1, G = NH / KVH), the query rows i >= j in tiles of TILE rows,
// recomputing the probabilities from lse:
//   p_ij = exp(q_i . k_j scale - lse_i), ds_ij = p_ij (dO_i . v_j - D_i),
//   dV_j += sum_h sum_i p_ij dO_i,  dK_j += scale sum_h sum_i ds_ij q_i.
// So the group's sum runs in a fixed order (heads, then query rows) in registers, and each
// output element belongs to one invocation: deterministic, no atomics.
#include "common.glsl"
#include "attention.glsl"

layout(std430, binding = 0) buffer DQkv { float dqkv[]; };
layout(std430, binding = 1) readonly buffer DOut { float dout[]; };
layout(std430, binding = 2) readonly buffer Qkv { float qkv[]; };
layout(std430, binding = 3) readonly buffer Lse { float lse[]; };
layout(std430, binding = 4) readonly buffer D { float dsum[]; };

const uint S_ROWS = TILE, S_COLS = ROWS;        // score tile: (query rows, key rows)
const uint S_ROW_LANES = S_ROWS < 16u ? S_ROWS : 16u;
const uint S_COL_LANES = GROUP_SIZE / S_ROW_LANES;
const uint SR = (S_ROWS + S_ROW_LANES - 1u) / S_ROW_LANES;
const uint SC = (S_COLS + S_COL_LANES - 1u) / S_COL_LANES;
const uint OR = (ROWS + D_ROW_LANES - 1u) / D_ROW_LANES;
const uint PSTRIDE = ROWS + 1u;

shared float k_tile[ROWS * STRIDE];    // (ROWS, HS) keys of this block
shared float v_tile[ROWS * STRIDE];    // (ROWS, HS) values of this block
shared float q_tile[TILE * STRIDE];    // (TILE, HS) queries of the current tile
shared float do_tile[TILE * STRIDE];   // (TILE, HS) dout of the current tile
shared float p_tile[TILE * PSTRIDE];   // (TILE, ROWS) probabilities
shared float ds_tile[TILE * PSTRIDE];  // (TILE, ROWS) score gradients
shared float lse_tile[TILE];
shared float d_tile[TILE];

void main() {
    uint group = flat_group_id();
    if (group >= p.B * p.KVH * p.blocks) return;
    uint kv_head = group / p.blocks;                        // b * KVH + g
    uint block = group % p.blocks;                          // block 0 sees the most queries
    uint b = kv_head / p.KVH, g = kv_head % p.KVH;
    uint k_col = k_column(g), v_col = v_column(g);
    uint group_heads = p.NH / p.KVH;                        // query heads h of kv head g
    uint h_first = g * group_heads, h_end = h_first + group_heads;
    uint tid = gl_LocalInvocationID.x;
    uint j0 = block * ROWS;

    for (uint e = tid; e < ROWS * HS; e += GROUP_SIZE) {
        uint c = e / HS, d = e % HS;
        bool real = j0 + c < p.T;
        k_tile[c * STRIDE + d] = real ? qkv[qkv_index(b, j0 + c, k_col, d)] : 0.0;
        v_tile[c * STRIDE + d] = real ? qkv[qkv_index(b, j0 + c, v_col, d)] : 0.0;
    }

    // This invocation's score micro-tile: query rows s_row[i], key rows s_col[j].
    uint s_row[SR], s_col[SC];
    for (uint i = 0; i < SR; i++) s_row[i] = tid / S_COL_LANES + i * S_ROW_LANES;
    for (uint j = 0; j < SC; j++) s_col[j] = tid % S_COL_LANES + j * S_COL_LANES;
    // Its dK, dV micro-tile: key rows o_row[i], d = o_d[k].
    uint o_row[OR], o_d[PER_D];
    for (uint i = 0; i < OR; i++) o_row[i] = tid / D_LANES + i * D_ROW_LANES;
    for (uint k = 0; k < PER_D; k++) o_d[k] = tid % D_LANES + k * D_LANES;
    float dk[OR * PER_D], dv[OR * PER_D];
    for (uint n = 0; n < OR * PER_D; n++) {
        dk[n] = 0.0;
        dv[n] = 0.0;
    }

    for (uint h = h_first; h < h_end; h++) {
        uint head = b * p.NH + h;
        uint q_col = q_column(h);
        for (uint i0 = j0; i0 < p.T; i0 += TILE) {
            uint tile_rows = min(TILE, p.T - i0);               // real query rows of the tile
            barrier();                                          // the last tile is read
            for (uint e = tid; e < TILE * HS; e += GROUP_SIZE) {
                uint r = e / HS, d = e % HS;
                bool real = i0 + r < p.T;
                q_tile[r * STRIDE + d] = real ? qkv[qkv_index(b, i0 + r, q_col, d)] : 0.0;
                do_tile[r * STRIDE + d] = real ? dout[btc_index(b, i0 + r, h, d)] : 0.0;
            }
            for (uint r = tid; r < TILE; r += GROUP_SIZE) {
                bool real = i0 + r < p.T;
                lse_tile[r] = real ? lse[head * p.T + i0 + r] : 0.0;
                d_tile[r] = real ? dsum[head * p.T + i0 + r] : 0.0;
            }
            barrier();

            // S = q k^T, dP = dO v^T; then P and dS
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
                        float pr = 0.0, ds = 0.0;
                        if (i0 + r < p.T && j0 + c <= i0 + r) {
                            pr = exp(s[i * SC + j] * p.scale - lse_tile[r]);
                            ds = pr * (dp[i * SC + j] - d_tile[r]);
                        }
                        p_tile[r * PSTRIDE + c] = pr;
                        ds_tile[r * PSTRIDE + c] = ds;
                    }
                }
            barrier();

            // dV += P^T dO, dK += dS^T q
            for (uint r = 0; r < tile_rows; r++) {
                float pr[OR], ds[OR], vdo[PER_D], vq[PER_D];
                for (uint i = 0; i < OR; i++) {
                    uint c = min(o_row[i], ROWS - 1u);
                    pr[i] = p_tile[r * PSTRIDE + c];
                    ds[i] = ds_tile[r * PSTRIDE + c];
                }
                for (uint k = 0; k < PER_D; k++) {
                    uint d = min(o_d[k], HS - 1u);
                    vdo[k] = do_tile[r * STRIDE + d];
                    vq[k] = q_tile[r * STRIDE + d];
                }
                for (uint i = 0; i < OR; i++)
                    for (uint k = 0; k < PER_D; k++) {
                        dv[i * PER_D + k] += pr[i] * vdo[k];
                        dk[i * PER_D + k] += ds[i] * vq[k];
                    }
            }
        }
    }

    for (uint i = 0; i < OR; i++) {
        uint c = o_row[i];
        if (c < ROWS && j0 + c < p.T) {
            for (uint k = 0; k < PER_D; k++) {
                uint d = o_d[k];
                if (d < HS) {
                    dqkv[qkv_index(b, j0 + c, k_col, d)] += dk[i * PER_D + k] * p.scale;
                    dqkv[qkv_index(b, j0 + c, v_col, d)] += dv[i * PER_D + k];
                }
            }
        }
    }
}
