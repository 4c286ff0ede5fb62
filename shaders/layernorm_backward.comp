#version 450
// dinp (N,C) += rstd * (dnorm - mean_c(dnorm) - xhat * mean_c(dnorm * xhat)) per row, where
// dnorm = dout (N,C) * weight (C) and xhat = (inp (N,C) - mean (N)) * rstd (N).
// Workgroup layout: layernorm.glsl. dweight and dbias: layernorm_backward_partials.comp.
#include "common.glsl"
#include "layernorm.glsl"

layout(std430, binding = 0) buffer DInp { float dinp[]; };
layout(std430, binding = 1) readonly buffer DOut { float dout[]; };
layout(std430, binding = 2) readonly buffer Inp { float inp[]; };
layout(std430, binding = 3) readonly buffer Weight { float weight[]; };
layout(std430, binding = 4) readonly buffer Mean { float mean[]; };
layout(std430, binding = 5) readonly buffer Rstd { float rstd[]; };
layout(push_constant) uniform Push { uint N; uint C; } p;

void main() {
    uint row = layernorm_row(), lane = layernorm_lane();
    bool in_range = row < p.N;
    uint columns = in_range ? p.C : 0;
    uint base = in_range ? row * p.C : 0;
    float m = mean[in_range ? row : 0]; // rows past N read row 0 (in bounds) and use nothing
    float r = rstd[in_range ? row : 0];

    vec2 sums = vec2(0.0); // (sum dnorm, sum dnorm * xhat)
    for (uint c = lane; c < columns; c += LANES) {
        float dnorm = dout[base + c] * weight[c];
        float xhat = (inp[base + c] - m) * r;
        sums += vec2(dnorm, dnorm * xhat);
    }
    vec2 means = layernorm_row_sum(sums) * (1.0 / float(p.C));

    for (uint c = lane; c < columns; c += LANES) {
        float dnorm = dout[base + c] * weight[c];
        float xhat = (inp[base + c] - m) * r;
        dinp[base + c] += r * ((dnorm - means.x) - xhat * means.y);
    }
}
