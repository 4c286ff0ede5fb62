#version 450
// Stage 1 of RMSNorm's weight gradient, in the (chunks, C) layout of
// src/kernels/reduce_columns.h: for chunk k (rows k*ROWS_PER_CHUNK .., in row order)
//   dweight_partials[k][c] = sum_n dout[n][c] * inp[n][c] * rstd[n]
// dout, inp (N,C); rstd (N). Workgroup: GROUP_SIZE adjacent columns of chunk gl_WorkGroupID.y,
// one invocation per column (reads coalesce across columns). Stage 2 is reduce_partials.comp.
#include "common.glsl"
layout(constant_id = 1) const uint ROWS_PER_CHUNK = 256;

layout(std430, binding = 0) writeonly buffer DWeightPartials { float dweight_partials[]; };
layout(std430, binding = 1) readonly buffer DOut { float dout[]; };
layout(std430, binding = 2) readonly buffer Inp { float inp[]; };
layout(std430, binding = 3) readonly buffer Rstd { float rstd[]; };
layout(push_constant) uniform Push { uint N; uint C; } p;

void main() {
    uint c = gl_GlobalInvocationID.x;
    uint chunk = gl_WorkGroupID.y;
    if (c >= p.C) return;
    uint first = chunk * ROWS_PER_CHUNK;
    uint last = min(first + ROWS_PER_CHUNK, p.N);
    float sum = 0.0;
    for (uint n = first; n < last; n++) sum += dout[n * p.C + c] * (inp[n * p.C + c] * rstd[n]);
    dweight_partials[chunk * p.C + c] = sum;
}
