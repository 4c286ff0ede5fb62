#version 450
// out = gelu(inp)
#include "common.glsl"
#include "gelu.glsl"

layout(std430, binding = 0) writeonly buffer Out { float dst[]; };
layout(std430, binding = 1) readonly buffer Inp { float inp[]; };
layout(push_constant) uniform Push { uint n; } p;

void main() {
    for (uint i = gl_GlobalInvocationID.x; i < p.n; i += grid_stride()) dst[i] = gelu(inp[i]);
}
