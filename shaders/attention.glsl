// Shared by the tiled attention kernels (attention_forward.comp, attention_backward_dkv.comp,
// attention_backward_dq.comp). qkv (B,T,3C) holds q, k, v side by side: q of head h at
// [b][t][h*HS + d], k at [b][t][C + h*HS + d], v at [b][t][2C + h*HS + d].
//
// A workgroup owns ROWS rows of one (b, h) head and loops over tiles of TILE rows of the other
// side (keys for the forward pass and dQ, queries for dK/dV), staged through shared memory.
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

// blocks: ceil(T / ROWS), the workgroups of one head; the grid holds B * NH * blocks of them
// (t2g_groups_2d). scale = 1 / sqrt(HS).
layout(push_constant) uniform Push { uint B; uint T; uint C; uint NH; uint blocks; float scale; } p;

// Index in qkv of element d of row t's q (part 0), k (1) or v (2) of head h in batch b.
uint qkv_index(uint b, uint t, uint h, uint part, uint d) {
    return (b * p.T + t) * 3u * p.C + part * p.C + h * HS + d;
}

// Index in a (B,T,C) tensor (out, dout) of element d of head h at row t of batch b.
uint btc_index(uint b, uint t, uint h, uint d) { return (b * p.T + t) * p.C + h * HS + d; }
