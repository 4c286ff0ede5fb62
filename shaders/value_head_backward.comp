#version 450
// The value head's input gradient, elementwise (grid-stride) over dhidden (N,C):
//   dhidden[n][c] += dvalues[n] * weight[c];  dvalues (N), weight (C+1).
#include "common.glsl"

layout(std430, binding = 0) buffer DHidden { float dhidden[]; };
layout(std430, binding = 1) readonly buffer DValues { float dvalues[]; };
layout(std430, binding = 2) readonly buffer Weight { float weight[]; };
layout(push_constant) uniform Push { uint N; uint C; } p;

void main() {
    uint count = p.N * p.C; // the host checks that it fits
    for (uint i = gl_GlobalInvocationID.x; i < count; i += grid_stride()) {
        uint n = i / p.C;
        dhidden[i] += dvalues[n] * weight[i - n * p.C];
    }
}
