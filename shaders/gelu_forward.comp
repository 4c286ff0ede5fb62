#version 450
#include "storage.glsl"
// out = gelu(inp); out may be stored as bf16 or f16 (variants, shaders/variants.txt: the role ACT)
#include "common.glsl"
#include "gelu.glsl"

layout(std430, binding = 0) writeonly buffer Out { ACT_T dst[]; };
layout(std430, binding = 1) readonly buffer Inp { float inp[]; };
layout(push_constant) uniform Push { uint n; } p;

void main() {
    for (uint i = gl_GlobalInvocationID.x; i < p.n; i += grid_stride()) dst[i] = ACT_STORE(gelu(inp[i]));
}
