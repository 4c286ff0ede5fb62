#version 450
// out = a + b
//
// Quads (quads != 0 where the host's texel views of a and b serve: bindings 3 and 4, whose texel
// first[k] holds element 0): four elements a step, read as texels (llvmpipe compiles a texel fetch
// as vector loads, a storage-buffer load as a loop over lanes and components) and out written as
// vec4s; the elements past the last whole quad one at a time. The same sum either way.
#include "common.glsl"

layout(std430, binding = 0) writeonly buffer Out { float dst[]; };
layout(std430, binding = 1) readonly buffer A { float a[]; };
layout(std430, binding = 2) readonly buffer B { float b[]; };
layout(std430, binding = 0) writeonly buffer Out4 { vec4 dst4[]; };
layout(binding = 3) uniform samplerBuffer a_quads;
layout(binding = 4) uniform samplerBuffer b_quads;
layout(push_constant) uniform Push { uint n; uint quads; uint first[3]; } p;

void main() {
    uint singles = 0u; // elements [0, singles) went as quads
    if (p.quads != 0u) {
        uint quads = p.n / 4u;
        for (uint q = gl_GlobalInvocationID.x; q < quads; q += grid_stride())
            dst4[q] = texelFetch(a_quads, int(p.first[0] + q)) + texelFetch(b_quads, int(p.first[1] + q));
        singles = 4u * quads;
    }
    for (uint i = singles + gl_GlobalInvocationID.x; i < p.n; i += grid_stride()) dst[i] = a[i] + b[i];
}
