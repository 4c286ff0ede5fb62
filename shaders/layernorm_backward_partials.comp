#version 450
// Stage 1 of LayerNorm's parameter gradients, in the (chunks, C) layout of
// src/kernels/reduce_columns.h: for chunk k (rows k*ROWS_PER_CHUNK .. , in row order)
//   dweight_partials[k][c] = sum_n dout[n][c] * xhat[n][c],  xhat = (inp - mean[n]) * rstd[n]
//   dbias_partials[k][c]   = sum_n dout[n][c]
// dout, inp (N,C); mean, rstd (N). Workgroup: GROUP_SIZE adjacent columns of chunk
// gl_WorkGroupID.y, one invocation per column (reads coalesce across columns); with quads
// (column_partials.comp says how: dout's and inp's views, bindings 6 and 7) one per four
// columns, each summed in row order: the same bits. Stage 2 is reduce_partials.comp.
#include "common.glsl"
layout(constant_id = 1) const uint ROWS_PER_CHUNK = 256;

layout(std430, binding = 0) writeonly buffer DWeightPartials { float dweight_partials[]; };
layout(std430, binding = 1) writeonly buffer DBiasPartials { float dbias_partials[]; };
layout(std430, binding = 2) readonly buffer DOut { float dout[]; };
layout(std430, binding = 3) readonly buffer Inp { float inp[]; };
layout(std430, binding = 4) readonly buffer Mean { float mean[]; };
layout(std430, binding = 5) readonly buffer Rstd { float rstd[]; };
layout(std430, binding = 0) writeonly buffer DWeightPartials4 { vec4 dweight_partials4[]; };
layout(std430, binding = 1) writeonly buffer DBiasPartials4 { vec4 dbias_partials4[]; };
layout(binding = 6) uniform samplerBuffer dout_quads;
layout(binding = 7) uniform samplerBuffer inp_quads;
layout(push_constant) uniform Push { uint N; uint C; uint quads; uint first[3]; } p;

void main() {
    uint c = gl_GlobalInvocationID.x;
    uint chunk = gl_WorkGroupID.y;
    uint first = chunk * ROWS_PER_CHUNK;
    uint last = min(first + ROWS_PER_CHUNK, p.N);
    if (p.quads != 0u) { // c: a quad of columns
        uint C4 = p.C / 4u;
        if (c >= C4) return;
        vec4 sum_w = vec4(0.0), sum_b = vec4(0.0);
        for (uint n = first; n < last; n++) {
            vec4 d = texelFetch(dout_quads, int(p.first[0] + n * C4 + c));
            vec4 xhat = (texelFetch(inp_quads, int(p.first[1] + n * C4 + c)) - mean[n]) * rstd[n];
            sum_w += d * xhat;
            sum_b += d;
        }
        dweight_partials4[chunk * C4 + c] = sum_w;
        dbias_partials4[chunk * C4 + c] = sum_b;
        return;
    }
    if (c >= p.C) return;
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
