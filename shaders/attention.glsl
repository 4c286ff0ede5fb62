// Shared by the tiled attention kernels (attention_forward.comp, attention_backward_dkv.comp,
// attention_backward_dq.comp); the layouts of qkv, out and dout, HS and the push constants are
// attention_layout.glsl's.
//
// A workgroup owns ROWS rows of one (b, h) query head (of one (b, g) kv head for dK/dV) and
// loops over tiles of TILE rows of the other side (keys for the forward pass and dQ, queries
// of each head of the group for dK/dV), staged through shared memory. The kv head and the
// columns of the workgroup's heads are computed once, before the loops.
// (rows, HS) tiles are stored with a padded row stride so that invocations reading different
// rows at the same d hit different banks.
//
// Both products are register-blocked (each invocation owns a small micro-tile, so every value
// it loads from shared memory feeds several multiply-adds):
// - score tiles (S_ROWS, S_COLS) = A (S_ROWS, HS) B (S_COLS, HS)^T: invocation (row lane
//   tid / S_COL_LANES, column lane tid % S_COL_LANES) owns rows lane + S_ROW_LANES * i and
//   columns lane + S_COL_LANES * j (each kernel defines S_ROWS and S_COLS);
// - accumulated (rows, HS) blocks: invocation (row lane tid / D_LANES, d lane tid % D_LANES)
//   owns rows lane + D_ROW_LANES * i and d = lane + D_LANES * k.
// Lanes past the end of a tile read a clamped index and store nothing. GROUP_SIZE is a
// multiple of 16 and ROWS, TILE are powers of two <= GROUP_SIZE (src/kernels/attention.c).
#include "attention_layout.glsl"

layout(constant_id = 2) const uint ROWS = 32;   // rows of the workgroup's own block
layout(constant_id = 3) const uint TILE = 32;   // rows of each tile of the other side

const uint STRIDE = HS + 1u;                    // row stride of (rows, HS) tiles in shared memory
const uint D_LANES = 16u;
const uint D_ROW_LANES = GROUP_SIZE / D_LANES;
const uint PER_D = (HS + D_LANES - 1u) / D_LANES;
