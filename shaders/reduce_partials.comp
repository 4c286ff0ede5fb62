#version 450
// out (C) += sum over chunks k of partials[k][c], chunk 0 first.
#include "common.glsl"

layout(std430, binding = 0) buffer Out { float dst[]; };
layout(std430, binding = 1) readonly buffer Partials { float partials[]; };
layout(push_constant) uniform Push { uint chunks; uint C; } p;

void main() {
    uint c = gl_GlobalInvocationID.x;
    if (c >= p.C) return;
    float sum = 0.0;
    for (uint k = 0; k < p.chunks; k++) sum += partials[k * p.C + c];
    dst[c] += sum;
}
