#version 450
// dinp (N,C) += rstd * (dnorm - xhat * mean_c(dnorm * xhat)) per row, where dnorm = dout (N,C) *
// weight (C) and xhat = inp (N,C) * rstd (N): the derivative of x * rstd(x) with
// d rstd / dx_c = -rstd^3 x_c / C. Workgroup layout: layernorm.glsl. dweight:
// rmsnorm_backward_partials.comp.
//
// Quads: in the CPU layout (LANES 1) where the host's texel views of dinp, dout, inp and weight
// serve and C % 4 == 0 (quads != 0), the row is read four columns at a time as texels (bindings
// 5 to 8, whose texel first[k] holds element 0) and dinp written as vec4s, as
// layernorm_backward.comp does; the sum adds the columns one at a time in order: the same bits.
#include "common.glsl"
#include "layernorm.glsl"

layout(std430, binding = 0) buffer DInp { float dinp[]; };
layout(std430, binding = 1) readonly buffer DOut { float dout[]; };
layout(std430, binding = 2) readonly buffer Inp { float inp[]; };
layout(std430, binding = 3) readonly buffer Weight { float weight[]; };
layout(std430, binding = 4) readonly buffer Rstd { float rstd[]; };
layout(std430, binding = 0) buffer DInp4 { vec4 dinp4[]; };
layout(binding = 5) uniform samplerBuffer dinp_quads;
layout(binding = 6) uniform samplerBuffer dout_quads;
layout(binding = 7) uniform samplerBuffer inp_quads;
layout(binding = 8) uniform samplerBuffer weight_quads;
layout(push_constant) uniform Push { uint N; uint C; uint quads; uint first[4]; } p;

// dnorm = dout * weight and xhat = inp r of the row's columns 4 q .. 4 q + 3
void quad_terms(uint base, uint q, float r, out vec4 dnorm, out vec4 xhat) {
    dnorm = texelFetch(dout_quads, int(p.first[1] + base / 4u + q)) * texelFetch(weight_quads, int(p.first[3] + q));
    xhat = texelFetch(inp_quads, int(p.first[2] + base / 4u + q)) * r;
}

void main() {
    uint row = layernorm_row(), lane = layernorm_lane();
    bool in_range = row < p.N;
    uint columns = in_range ? p.C : 0;
    uint base = in_range ? row * p.C : 0;
    float r = rstd[in_range ? row : 0]; // rows past N read row 0 (in bounds) and use nothing
    bool quads = LANES == 1u && p.quads != 0u;
    uint quad_count = quads ? columns / 4u : 0u, first_single = quads ? columns : lane;

    float sum = 0.0; // sum over the row of dnorm * xhat
    for (uint q = 0u; q < quad_count; q++) {
        vec4 dnorm, xhat;
        quad_terms(base, q, r, dnorm, xhat);
        for (uint k = 0u; k < 4u; k++) sum += dnorm[k] * xhat[k];
    }
    for (uint c = first_single; c < columns; c += LANES) sum += dout[base + c] * weight[c] * (inp[base + c] * r);
    float mean_dnorm_xhat = layernorm_row_sum(vec2(sum, 0.0)).x * (1.0 / float(p.C));

    for (uint q = 0u; q < quad_count; q++) {
        vec4 dnorm, xhat;
        quad_terms(base, q, r, dnorm, xhat);
        vec4 d = texelFetch(dinp_quads, int(p.first[0] + base / 4u + q));
        dinp4[base / 4u + q] = d + r * (dnorm - xhat * mean_dnorm_xhat);
    }
    for (uint c = first_single; c < columns; c += LANES) {
        float dnorm = dout[base + c] * weight[c];
        float xhat = inp[base + c] * r;
        dinp[base + c] += r * (dnorm - xhat * mean_dnorm_xhat);
    }
}
