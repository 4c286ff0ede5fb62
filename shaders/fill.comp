#version 450
// out[i] = value for i < n
#include "common.glsl"

layout(std430, binding = 0) writeonly buffer Out { float dst[]; };
layout(push_constant) uniform Push { uint n; float value; } p;

void main() {
    for (uint i = gl_GlobalInvocationID.x; i < p.n; i += grid_stride()) dst[i] = p.value;
}
