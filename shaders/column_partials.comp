#version 450
// partials (chunks, C): partials[k][c] = sum of x[n][c] over rows n of chunk k, in row order.
// Workgroup (GROUP_SIZE columns) x (chunk k = gl_WorkGroupID.y); one invocation per column,
// adjacent invocations on adjacent columns so the reads coalesce.
#include "common.glsl"
layout(constant_id = 1) const uint ROWS_PER_CHUNK = 256;

layout(std430, binding = 0) writeonly buffer Partials { float partials[]; };
layout(std430, binding = 1) readonly buffer X { float x[]; };
layout(push_constant) uniform Push { uint N; uint C; } p;

void main() {
    uint c = gl_GlobalInvocationID.x;
    uint chunk = gl_WorkGroupID.y;
    if (c >= p.C) return;
    uint first = chunk * ROWS_PER_CHUNK;
    uint last = min(first + ROWS_PER_CHUNK, p.N);
    float sum = 0.0;
    for (uint n = first; n < last; n++) sum += x[n * p.C + c];
    partials[chunk * p.C + c] = sum;
}
