#version 450
// Stage 1 of the value head's weight gradient, in the (chunks, C+1) layout of
// src/kernels/reduce_columns.h (stage 2: reduce_partials.comp). For chunk k (rows
// [k * rows_per_chunk, min((k + 1) * rows_per_chunk, N)), in row order):
//   partials[k][c] = sum_n dvalues[n] hidden[n][c]   for c < C
//   partials[k][C] = sum_n dvalues[n]                 (the bias)
// dvalues (N), hidden (N,C). Workgroup: GROUP_SIZE adjacent columns of chunk gl_WorkGroupID.y,
// one invocation per column (reads coalesce across columns). rows_per_chunk depends on N alone
// (at least 256, more when N would need over 65535 chunks).
#include "common.glsl"

layout(std430, binding = 0) writeonly buffer Partials { float partials[]; };
layout(std430, binding = 1) readonly buffer DValues { float dvalues[]; };
layout(std430, binding = 2) readonly buffer Hidden { float hidden[]; };
layout(push_constant) uniform Push { uint N; uint C; uint rows_per_chunk; } p;

void main() {
    uint c = gl_GlobalInvocationID.x;
    uint chunk = gl_WorkGroupID.y;
    if (c > p.C) return;
    uint first = chunk * p.rows_per_chunk;
    uint last = min(first + p.rows_per_chunk, p.N);
    float sum = 0.0;
    if (c < p.C) {
        for (uint n = first; n < last; n++) sum += dvalues[n] * hidden[n * p.C + c];
    } else {
        for (uint n = first; n < last; n++) sum += dvalues[n];
    }
    partials[chunk * (p.C + 1u) + c] = sum;
}
