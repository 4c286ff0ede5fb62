#version 450
// dinp += gelu'(inp) * dout
#include "common.glsl"
#include "gelu.glsl"

layout(std430, binding = 0) buffer DInp { float dinp[]; };
layout(std430, binding = 1) readonly buffer Inp { float inp[]; };
layout(std430, binding = 2) readonly buffer DOut { float dout[]; };
layout(push_constant) uniform Push { uint n; } p;

void main() {
    for (uint i = gl_GlobalInvocationID.x; i < p.n; i += grid_stride()) dinp[i] += gelu_grad(inp[i]) * dout[i];
}
