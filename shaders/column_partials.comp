#version 450
// partials (chunks, C): partials[k][c] = sum of x[n][c] over rows n of chunk k, in row order.
// Workgroup (GROUP_SIZE columns) x (chunk k = gl_WorkGroupID.y); one invocation per column,
// adjacent invocations on adjacent columns so the reads coalesce. Quads (quads != 0 where C % 4
// == 0 and the host's texel view of x serves, its texel first[0] holding element 0): one
// invocation per four columns, a row's four read as one texel (llvmpipe compiles a texel fetch
// as vector loads, a storage-buffer load as a loop over lanes and components), each column still
// summed in row order: the same bits.
#include "common.glsl"
layout(constant_id = 1) const uint ROWS_PER_CHUNK = 256;

layout(std430, binding = 0) writeonly buffer Partials { float partials[]; };
layout(std430, binding = 1) readonly buffer X { float x[]; };
layout(std430, binding = 0) writeonly buffer Partials4 { vec4 partials4[]; };
layout(binding = 2) uniform samplerBuffer x_quads;
layout(push_constant) uniform Push { uint N; uint C; uint quads; uint first[3]; } p;

void main() {
    uint c = gl_GlobalInvocationID.x;
    uint chunk = gl_WorkGroupID.y;
    uint first = chunk * ROWS_PER_CHUNK;
    uint last = min(first + ROWS_PER_CHUNK, p.N);
    if (p.quads != 0u) { // c: a quad of columns
        uint C4 = p.C / 4u;
        if (c >= C4) return;
        vec4 sums = vec4(0.0);
        for (uint n = first; n < last; n++) sums += texelFetch(x_quads, int(p.first[0] + n * C4 + c));
        partials4[chunk * C4 + c] = sums;
        return;
    }
    if (c >= p.C) return;
    float sum = 0.0;
    for (uint n = first; n < last; n++) sum += x[n * p.C + c];
    partials[chunk * p.C + c] = sum;
}
