#version 450
// Stage 3 of masked whitening, in place and elementwise (grid-stride) over x (N):
//   x[i] = mask[i] != 0 ? ((x[i] - mean0) - shift) * scale : 0,  (mean0, shift, scale) = stats (3)
// (mean0 + shift the mean, never rounded to one float: x - mean keeps its digits when the mean
// is far from 0 compared with the spread).
#include "common.glsl"

layout(std430, binding = 0) buffer X { float x[]; };
layout(std430, binding = 1) readonly buffer Mask { float mask[]; };
layout(std430, binding = 2) readonly buffer Stats { float stats[]; };
layout(push_constant) uniform Push { uint N; } p;

void main() {
    float mean0 = stats[0], shift = stats[1], scale = stats[2];
    for (uint i = gl_GlobalInvocationID.x; i < p.N; i += grid_stride())
        x[i] = mask[i] != 0.0 ? ((x[i] - mean0) - shift) * scale : 0.0;
}
