#version 450
// dwpe (T,C) += sum over b of dout (B,T,C)[b][t][c], summed b = 0 first, then added.
// One invocation per (t, c), grid-stride over n = T * C.
#include "common.glsl"

layout(std430, binding = 0) buffer DWpe { float dwpe[]; };
layout(std430, binding = 1) readonly buffer DOut { float dout[]; };
layout(push_constant) uniform Push { uint n; uint B; } p;

void main() {
    for (uint i = gl_GlobalInvocationID.x; i < p.n; i += grid_stride()) {
        float sum = 0.0;
        for (uint b = 0; b < p.B; b++) sum += dout[b * p.n + i];
        dwpe[i] += sum;
    }
}
