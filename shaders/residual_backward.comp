#version 450
// da += dout; db += dout
#include "common.glsl"

layout(std430, binding = 0) buffer DA { float da[]; };
layout(std430, binding = 1) buffer DB { float db[]; };
layout(std430, binding = 2) readonly buffer DOut { float dout[]; };
layout(push_constant) uniform Push { uint n; } p;

void main() {
    for (uint i = gl_GlobalInvocationID.x; i < p.n; i += grid_stride()) {
        float g = dout[i];
        da[i] += g;
        db[i] += g;
    }
}
