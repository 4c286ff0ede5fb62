#version 450
// Stage 1 of LayerNorm's parameter gradients, in the (chunks, C) layout of
// src/kernels/reduce_columns.h: for chunk k (rows k*ROWS_PER_CHUNK .. , in row order)
//   dweight_partials[k][c] = sum_n dout[n][c] * xhat[n][c],  xhat = (inp - mean[n]) * rstd[n]
//   dbias_partials[k][c]   = sum_n dout[n][c]
// dout, inp (N,C); mean, rstd (N). Workgroup: GROUP_SIZE adjacent columns of chunk
// gl_WorkGroupID.y, one invocation per column (reads coalesce across columns). Stage 2 is
// reduce_partials.comp.
#include "common.glsl"
layout(constant_id = 1) const uint ROWS_PER_CHUNK = 256;

layout(std430, binding = 0) writeonly buffer DWeightPartials { float dweight_partials[]; };
layout(std430, binding = 1) writeonly buffer DBiasPartials { float dbias_partials[]; };
layout(std430, binding = 2) readonly buffer DOut { float dout[]; };
layout(std430, binding = 3) readonly buffer Inp { float inp[]; };
layout(std430, binding = 4) readonly buffer Mean { float mean[]; };
layout(std430, binding = 5) readonly buffer Rstd { float rstd[]; };
layout(push_constant) uniform Push { uint N; uint C; } p;

void main() {
    uint c = gl_GlobalInvocationID.x;
    uint chunk = gl_WorkGroupID.y;
    if (c >= p.C) return;
    uint first = chunk * ROWS_PER_CHUNK;
    uint last = min(first + ROWS_PER_CHUNK, p.N);
    float sum_w = 0.0, sum_b = 0.0;
    for (uint n = first; n < last; n++) {
        float d = dout[n * p.C + c];
        float xhat = (inp[n * p.C + c] - mean[n]) * rstd[n];
        sum_w += d * xhat;
        sum_b += d;
    }
    dweight_partials[chunk * p.C + c] = sum_w;
    dbias_partials[chunk * p.C + c] = sum_b;
}
