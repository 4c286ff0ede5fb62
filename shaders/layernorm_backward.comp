#version 450
// dinp (N,C) += rstd * (dnorm - mean_c(dnorm) - xhat * mean_c(dnorm * xhat)) per row, where
// dnorm = dout (N,C) * weight (C) and xhat = (inp (N,C) - mean (N)) * rstd (N).
// Workgroup layout: layernorm.glsl. dweight and dbias: layernorm_backward_partials.comp.
//
// Quads: in the CPU layout (LANES 1) where the host's texel views of dinp, dout, inp and weight
// serve and C % 4 == 0 (quads != 0), the row is read four columns at a time as texels (bindings
// 6 to 9, whose texel first[k] holds element 0) and dinp written as vec4s, as
// layernorm_forward.comp does; the sums add the columns one at a time in order: the same bits.
#include "common.glsl"
#include "layernorm.glsl"

layout(std430, binding = 0) buffer DInp { float dinp[]; };
layout(std430, binding = 1) readonly buffer DOut { float dout[]; };
layout(std430, binding = 2) readonly buffer Inp { float inp[]; };
layout(std430, binding = 3) readonly buffer Weight { float weight[]; };
layout(std430, binding = 4) readonly buffer Mean { float mean[]; };
layout(std430, binding = 5) readonly buffer Rstd { float rstd[]; };
layout(std430, binding = 0) buffer DInp4 { vec4 dinp4[]; };
layout(binding = 6) uniform samplerBuffer dinp_quads;
layout(binding = 7) uniform samplerBuffer dout_quads;
layout(binding = 8) uniform samplerBuffer inp_quads;
layout(binding = 9) uniform samplerBuffer weight_quads;
layout(push_constant) uniform Push { uint N; uint C; uint quads; uint first[4]; } p;

// dnorm = dout * weight and xhat = (inp - m) r of the row's columns 4 q .. 4 q + 3
void quad_terms(uint base, uint q, float m, float r, out vec4 dnorm, out vec4 xhat) {
    dnorm = texelFetch(dout_quads, int(p.first[1] + base / 4u + q)) * texelFetch(weight_quads, int(p.first[3] + q));
    xhat = (texelFetch(inp_quads, int(p.first[2] + base / 4u + q)) - m) * r;
}

void main() {
    uint row = layernorm_row(), lane = layernorm_lane();
    bool in_range = row < p.N;
    uint columns = in_range ? p.C : 0;
    uint base = in_range ? row * p.C : 0;
    float m = mean[in_range ? row : 0]; // rows past N read row 0 (in bounds) and use nothing
    float r = rstd[in_range ? row : 0];
    bool quads = LANES == 1u && p.quads != 0u;
    uint quad_count = quads ? columns / 4u : 0u, first_single = quads ? columns : lane;

    vec2 sums = vec2(0.0); // (sum dnorm, sum dnorm * xhat)
    for (uint q = 0u; q < quad_count; q++) {
        vec4 dnorm, xhat;
        quad_terms(base, q, m, r, dnorm, xhat);
        for (uint k = 0u; k < 4u; k++) sums += vec2(dnorm[k], dnorm[k] * xhat[k]);
    }
    for (uint c = first_single; c < columns; c += LANES) {
        float dnorm = dout[base + c] * weight[c];
        float xhat = (inp[base + c] - m) * r;
        sums += vec2(dnorm, dnorm * xhat);
    }
    vec2 means = layernorm_row_sum(sums) * (1.0 / float(p.C));

    for (uint q = 0u; q < quad_count; q++) {
        vec4 dnorm, xhat;
        quad_terms(base, q, m, r, dnorm, xhat);
        vec4 d = texelFetch(dinp_quads, int(p.first[0] + base / 4u + q));
        dinp4[base / 4u + q] = d + r * ((dnorm - means.x) - xhat * means.y);
    }
    for (uint c = first_single; c < columns; c += LANES) {
        float dnorm = dout[base + c] * weight[c];
        float xhat = (inp[base + c] - m) * r;
        dinp[base + c] += r * ((dnorm - means.x) - xhat * means.y);
    }
}
