#version 450
#include "storage.glsl"
// A decode step's keys and values into the KV cache, turned first where the model has rotary
// position embedding (has_rope). Row r of the step is rows[r] = (token, slot, position): the
// sequence of cache slot `slot` at position `pos`. Its qkv row holds W = (NH + 2 KVH) HS floats:
// q of the NH query heads, then k, then v of the KVH key/value heads.
//   has_rope: the q heads turned in place in qkv, and k turned, by row pos of table (>= T, HS):
//             cos at [pos][i], sin at [pos][HS/2 + i] (rope.glsl, as rope.comp turns them)
//   kcache[slot][pos] = k, vcache[slot][pos] = v         caches (slots, T, KVH HS)
// A row whose slot >= slots or pos >= T writes nothing. Without rope, binding 4 (then rows
// again) is never read. One invocation per unit of a head: with rope a pair of channels
// (i, i + HS/2), units = HS/2; without, one channel, units = HS (HS may be odd). Grid-stride over
// n (NH + 2 KVH) units; each element has one writer. The caches may be stored as bf16 or f16
// (variants, shaders/variants.txt: the role ACT, both caches), rounded as they are written; the
// turning is f32, and qkv, rows and table are f32.
#include "common.glsl"
#include "rope.glsl"

layout(std430, binding = 0) buffer Qkv { float qkv[]; };
layout(std430, binding = 1) writeonly buffer KCache { ACT_T kcache[]; };
layout(std430, binding = 2) writeonly buffer VCache { ACT_T vcache[]; };
layout(std430, binding = 3) readonly buffer Rows { uint rows[]; };
layout(std430, binding = 4) readonly buffer Table { float table[]; };
// count = n (NH + 2 KVH) units; slots and T: the caches' sequences and positions
layout(push_constant) uniform Push {
    uint count; uint slots; uint T; uint NH; uint KVH; uint HS; uint has_rope;
} p;

void main() {
    bool rope = p.has_rope != 0u;
    uint units = rope ? p.HS / 2u : p.HS, half_hs = p.HS / 2u;
    uint heads = p.NH + 2u * p.KVH;
    uint row_units = heads * units;
    for (uint i = gl_GlobalInvocationID.x; i < p.count; i += grid_stride()) {
        uint r = i / row_units;
        uint unit = i - r * row_units;
        uint head = unit / units;
        uint k = unit - head * units;
        uint slot = rows[3u * r + 1u], pos = rows[3u * r + 2u];
        if (slot >= p.slots || pos >= p.T) continue;
        bool value = head >= p.NH + p.KVH;
        uint first = (r * heads + head) * p.HS + k;
        uint g = value ? head - p.NH - p.KVH : head - p.NH;          // its kv head, for k and v
        uint at = ((slot * p.T + pos) * p.KVH + g) * p.HS + k;
        if (!rope) {
            if (head < p.NH) continue;
            if (value) vcache[at] = ACT_STORE(qkv[first]);
            else kcache[at] = ACT_STORE(qkv[first]);
            continue;
        }
        float a = qkv[first], b = qkv[first + half_hs];
        if (!value) {
            vec2 turned = rope_turn(a, b, table[pos * p.HS + k], table[pos * p.HS + half_hs + k]);
            a = turned.x;
            b = turned.y;
        }
        if (head < p.NH) {                                          // a query head: turned in place
            qkv[first] = a;
            qkv[first + half_hs] = b;
        } else if (value) {
            vcache[at] = ACT_STORE(a);
            vcache[at + half_hs] = ACT_STORE(b);
        } else {
            kcache[at] = ACT_STORE(a);
            kcache[at + half_hs] = ACT_STORE(b);
        }
    }
}
