// Shared by every attention kernel, tiled (attention.glsl) and lanes (attention_lanes.glsl).
// Grouped-query attention: NH query heads share KVH key/value heads, query head h using kv head
// h / (NH / KVH) (KVH = NH: multi-head attention).
// qkv (B,T,W), W = (NH + 2 KVH) HS, holds q, k, v side by side: q of head h at
// [b][t][h*HS + d], k of kv head g at [b][t][(NH + g)*HS + d], v at [b][t][(NH + KVH + g)*HS + d].
// out, dout (B,T,C), C = NH HS.
layout(constant_id = 1) const uint HS = 64;     // head size, <= 128

// C = NH HS, W = (NH + 2 KVH) HS, scale = 1 / sqrt(HS). blocks: the tiled kernels' workgroups of
// one head, ceil(T / ROWS); their grid holds B * NH * blocks of them (B * KVH * blocks for dK/dV;
// t2g_groups_2d). qkv_first, dout_first: the quads of the lanes kernels' texel views where qkv and
// dout start (attention_lanes.glsl). Each kernel leaves the others' fields 0.
layout(push_constant) uniform Push {
    uint B; uint T; uint NH; uint KVH; uint C; uint W; uint blocks; float scale;
    uint qkv_first; uint dout_first;
} p;

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
