// Shared by the tiled attention kernels (attention_forward.comp, attention_backward_dkv.comp,
// attention_backward_dq.comp). Grouped-query attention: NH query heads share KVH key/value
// heads, query head h using kv head h / (NH / KVH) (KVH = NH: multi-head attention).
// qkv (B,T,W), W = (NH + 2 KVH) HS, holds q, k, v side by side: q of head h at
// [b][t][h*HS + d], k of kv head g at [b][t][(NH + g)*HS + d], v at [b][t][(NH + KVH + g)*HS + d].
// out, dout (B,T,C), C = NH HS.
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
layout(constant_id = 1) const uint HS = 64;     // head size, <= 128
layout(constant_id = 2) const uint ROWS = 32;   // rows of the workgroup's own block
layout(constant_id = 3) const uint TILE = 32;   // rows of each tile of the other side

const uint STRIDE = HS + 1u;                    // row stride of (rows, HS) tiles in shared memory
const uint D_LANES = 16u;
const uint D_ROW_LANES = GROUP_SIZE / D_LANES;
const uint PER_D = (HS + D_LANES - 1u) / D_LANES;

// C = NH HS, W = (NH + 2 KVH) HS; blocks: ceil(T / ROWS), the workgroups of one head; the grid
// holds B * NH * blocks of them (B * KVH * blocks for dK/dV; t2g_groups_2d). scale = 1 / sqrt(HS).
layout(push_constant) uniform Push { uint B; uint T; uint NH; uint KVH; uint C; uint W; uint blocks; float scale; } p;

// Columns in a qkv row of q of query head h, of k and of v of kv head g.
uint q_column(uint h) { return h * HS; }
uint k_column(uint g) { return (p.NH + g) * HS; }
uint v_column(uint g) { return (p.NH + p.KVH + g) * HS; }

// The kv head that query head h uses.
uint kv_head_of(uint h) { return h / (p.NH / p.KVH); }

// Index in qkv of element d at a column of row t in batch b.
uint qkv_index(uint b, uint t, uint column, uint d) { return (b * p.T + t) * p.W + column + d; }

// Index in a (B,T,C) tensor (out, dout) of element d of head h at row t of batch b.
uint btc_index(uint b, uint t, uint h, uint d) { return (b * p.T + t) * p.C + h * HS + d; }
