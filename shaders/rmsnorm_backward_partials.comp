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
layout(std430, binding = 0) writeonly buffer DWeightPartials4 { vec4 dweight_partials4[]; };
// With quads (column_partials.comp says how: dout's and inp's views, bindings 4 and 5) one
// invocation per four columns, each summed in row order: the same bits.
layout(binding = 4) uniform samplerBuffer dout_quads;
layout(binding = 5) uniform samplerBuffer inp_quads;
layout(push_constant) uniform Push { uint N; uint C; uint quads; uint first[3]; } p;

void main() {
    uint c = gl_GlobalInvocationID.x;
    uint chunk = gl_WorkGroupID.y;
    uint first = chunk * ROWS_PER_CHUNK;
    uint last = min(first + ROWS_PER_CHUNK, p.N);
    if (p.quads != 0u) { // c: a quad of columns
        uint C4 = p.C / 4u;
        if (c >= C4) return;
        vec4 sum = vec4(0.0);
        for (uint n = first; n < last; n++)
            sum += texelFetch(dout_quads, int(p.first[0] + n * C4 + c)) *
                   (texelFetch(inp_quads, int(p.first[1] + n * C4 + c)) * rstd[n]);
        dweight_partials4[chunk * C4 + c] = sum;
        return;
    }
    if (c >= p.C) return;
    float sum = 0.0;
    for (uint n = first; n < last; n++) sum += dout[n * p.C + c] * (inp[n * p.C + c] * rstd[n]);
    dweight_partials[chunk * p.C + c] = sum;
}
