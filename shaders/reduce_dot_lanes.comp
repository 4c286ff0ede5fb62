#version 450
#extension GL_EXT_control_flow_attributes : require
// Stage 1 of the deterministic dot product for CPU devices (lavapipe): the partials of
// reduce_dot.comp, bit for bit, in one workgroup of LANES invocations per slice instead of
// VIRTUAL (reduce_dot's GROUP_SIZE, 256). reduce_dot's workgroup of 256 invocations is 32 of
// lavapipe's 8-lane vectors, each a coroutine that its 9 barriers switch in and out; its scalar
// loads are a loop over lanes. Here each of the LANES invocations plays VIRTUAL / LANES of
// reduce_dot's (virtual invocation v = 4 lane + c + 4 LANES q, component c of sums[q]) and
// reads their elements as quads (texel views of a and b), so every virtual invocation adds the
// same products in the same order (elements v, v + VIRTUAL, ...), and the tree adds the same
// pairs in the same order: its levels of half VIRTUAL / 2 .. 4 LANES within an invocation
// (sums[q] += sums[q + h]), then the rest in shared memory by invocation 0.
//
// partials (groups): partials[first_group + g] = sum of a[i] * b[i] over slice g (elements
// [g slice, min((g + 1) slice, n)) of the chunk), slice a multiple of VIRTUAL and of 4, the
// chunk's first element on a quad of both views.
#include "common.glsl"

layout(constant_id = 1) const uint VIRTUAL = 256; // reduce_dot's workgroup: a power of two, >= 8 LANES
const uint LANES = 8u;                            // GROUP_SIZE (the host's), the invocations
const uint Q = VIRTUAL / (4u * LANES);            // quads of sums per invocation

layout(std430, binding = 0) writeonly buffer Partials { float partials[]; };
layout(binding = 1) uniform samplerBuffer a_quads;
layout(binding = 2) uniform samplerBuffer b_quads;
layout(push_constant) uniform Push {
    uint n, slice, first_group;
    uint a_first, b_first; // the quads of the views where the chunk's a and b start
} p;

shared vec4 lane_sums[LANES];

void main() {
    uint g = flat_group_id();
    uint lane = gl_LocalInvocationIndex;
    uint first = g * p.slice;
    uint count = first < p.n ? min(p.slice, p.n - first) : 0u;
    vec4 sums[Q];
    [[unroll]] for (uint q = 0u; q < Q; q++) sums[q] = vec4(0.0);
    // whole steps of VIRTUAL elements, then the last (each component below count)
    uint whole = count / VIRTUAL;
    for (uint s = 0u; s < whole; s++) {
        uint at = (first + s * VIRTUAL) / 4u + lane;
        [[unroll]] for (uint q = 0u; q < Q; q++) {
            uint quad = at + q * LANES;
            sums[q] += texelFetch(a_quads, int(p.a_first + quad)) * texelFetch(b_quads, int(p.b_first + quad));
        }
    }
    // The last step's components past count (the views hold the last quad whole) add 0 x 0, which
    // leaves a sum's bits as they were (a sum starts at +0 and so is never -0), where reduce_dot
    // adds nothing: the same expression as the whole steps', compiled alike.
    if (whole * VIRTUAL < count) {
        uint base = whole * VIRTUAL;
        [[unroll]] for (uint q = 0u; q < Q; q++) {
            uint k = base + 4u * (lane + q * LANES); // component 0's element, from the slice's first
            if (k >= count) continue;
            uint quad = (first + k) / 4u;
            vec4 qa = texelFetch(a_quads, int(p.a_first + quad)), qb = texelFetch(b_quads, int(p.b_first + quad));
            [[unroll]] for (uint c = 0u; c < 4u; c++)
                if (k + c >= count) qa[c] = qb[c] = 0.0;
            sums[q] += qa * qb;
        }
    }
    // the tree: levels whose pairs lie in one invocation (v and v + h, h >= 4 LANES)
    [[unroll]] for (uint h = Q / 2u; h > 0u; h >>= 1)
        [[unroll]] for (uint q = 0u; q < h; q++) sums[q] += sums[q + h];
    lane_sums[lane] = sums[0];
    barrier();
    if (lane != 0u) return;
    // levels h = 2 LANES .. 4 across invocations (v = 4 lane + c), then h = 2 and 1 in a quad
    [[unroll]] for (uint h = LANES / 2u; h > 0u; h >>= 1)
        [[unroll]] for (uint l = 0u; l < h; l++) lane_sums[l] += lane_sums[l + h];
    vec4 last = lane_sums[0];
    vec2 pair = last.xy + last.zw;
    partials[p.first_group + g] = pair.x + pair.y;
}
