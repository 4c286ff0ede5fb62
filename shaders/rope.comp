#version 450
// Rotary position embedding in place, Hugging Face Llama's rotate-half form.
// x holds rows of `stride` floats, row r = b * T + t at position pos0 + t; of each row the first
// `heads` heads of hs = 2 * half_hs floats rotate, pair (i, i + half_hs) of a head by the angle
// of row pos of table (P, hs): cos at [pos][i], sin at [pos][half_hs + i].
//   forward:  (a, b) <- (a cos - b sin, b cos + a sin)
//   inverse:  (a, b) <- (a cos + b sin, b cos - a sin)   (the transpose: the backward pass)
// The rest of each row is never touched. One invocation per pair, grid-stride over
// n = rows * heads * half_hs; each pair has one invocation, so in place is safe.
#include "common.glsl"
#include "rope.glsl"

layout(std430, binding = 0) buffer X { float x[]; };
layout(std430, binding = 1) readonly buffer Table { float table[]; };
layout(push_constant) uniform Push {
    uint n; uint T; uint stride; uint heads; uint half_hs; uint pos0; uint inverse;
} p;

void main() {
    uint row_pairs = p.heads * p.half_hs;
    for (uint i = gl_GlobalInvocationID.x; i < p.n; i += grid_stride()) {
        uint row = i / row_pairs;
        uint pair = i - row * row_pairs;
        uint head = pair / p.half_hs;
        uint k = pair - head * p.half_hs;
        uint pos = p.pos0 + row % p.T;
        float c = table[pos * 2u * p.half_hs + k];
        float s = table[pos * 2u * p.half_hs + p.half_hs + k];
        if (p.inverse != 0u) s = -s;
        uint first = row * p.stride + head * 2u * p.half_hs + k;
        float a = x[first];
        float b = x[first + p.half_hs];
        vec2 turned = rope_turn(a, b, c, s);
        x[first] = turned.x;
        x[first + p.half_hs] = turned.y;
    }
}
