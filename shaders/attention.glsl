// Shared by the tiled attention kernels (attention_forward.comp, attention_backward_dkv.comp,
// attention_backward_dq.comp). qkv (B,T,3C) holds q, k, v side by side: q of head h at
// [b][t][h*HS + d], k at [b][t][C + h*HS + d], v at [b][t][2C + h*HS + d].
//
// A workgroup owns ROWS rows of one (b, h) head and loops over tiles of TILE rows of the other
// side (keys for the forward pass and dQ, queries for dK/dV), staged through shared memory.
// Tiles are stored with a padded row stride so that invocations walking different rows of a
// tile at the same d hit different banks.
layout(constant_id = 1) const uint HS = 64;     // head size, <= 128
layout(constant_id = 2) const uint ROWS = 32;   // rows of the workgroup's own block
layout(constant_id = 3) const uint TILE = 32;   // rows of each tile of the other side

const uint STRIDE = HS + 1;                     // row stride of (rows, HS) tiles in shared memory
const uint PSTRIDE = TILE + 1;                  // row stride of (ROWS, TILE) score tiles
// Elements of a (ROWS, HS) block and of a (ROWS, TILE) score tile each invocation owns.
const uint BLOCK_PER_THREAD = (ROWS * HS + GROUP_SIZE - 1) / GROUP_SIZE;
const uint SCORES_PER_THREAD = (ROWS * TILE + GROUP_SIZE - 1) / GROUP_SIZE;

// blocks: ceil(T / ROWS), the workgroups of one head; the grid holds B * NH * blocks of them
// (t2g_groups_2d). scale = 1 / sqrt(HS).
layout(push_constant) uniform Push { uint B; uint T; uint C; uint NH; uint blocks; float scale; } p;

// Index in qkv of element d of row t's q (part 0), k (1) or v (2) of head h in batch b.
uint qkv_index(uint b, uint t, uint h, uint part, uint d) {
    return (b * p.T + t) * 3u * p.C + part * p.C + h * HS + d;
}

// Index in a (B,T,C) tensor (out, dout) of element d of head h at row t of batch b.
uint btc_index(uint b, uint t, uint h, uint d) { return (b * p.T + t) * p.C + h * HS + d; }
