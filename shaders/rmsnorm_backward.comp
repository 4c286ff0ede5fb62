#version 450
// dinp (N,C) += rstd * (dnorm - xhat * mean_c(dnorm * xhat)) per row, where dnorm = dout (N,C) *
// weight (C) and xhat = inp (N,C) * rstd (N): the derivative of x * rstd(x) with
// d rstd / dx_c = -rstd^3 x_c / C. Workgroup layout: layernorm.glsl. dweight:
// rmsnorm_backward_partials.comp.
#include "common.glsl"
#include "layernorm.glsl"

layout(std430, binding = 0) buffer DInp { float dinp[]; };
layout(std430, binding = 1) readonly buffer DOut { float dout[]; };
layout(std430, binding = 2) readonly buffer Inp { float inp[]; };
layout(std430, binding = 3) readonly buffer Weight { float weight[]; };
layout(std430, binding = 4) readonly buffer Rstd { float rstd[]; };
layout(push_constant) uniform Push { uint N; uint C; } p;

void main() {
    uint row = layernorm_row(), lane = layernorm_lane();
    bool in_range = row < p.N;
    uint columns = in_range ? p.C : 0;
    uint base = in_range ? row * p.C : 0;
    float r = rstd[in_range ? row : 0]; // rows past N read row 0 (in bounds) and use nothing

    float sum = 0.0; // sum over the row of dnorm * xhat
    for (uint c = lane; c < columns; c += LANES) sum += dout[base + c] * weight[c] * (inp[base + c] * r);
    float mean_dnorm_xhat = layernorm_row_sum(vec2(sum, 0.0)).x * (1.0 / float(p.C));

    for (uint c = lane; c < columns; c += LANES) {
        float dnorm = dout[base + c] * weight[c];
        float xhat = inp[base + c] * r;
        dinp[base + c] += r * (dnorm - xhat * mean_dnorm_xhat);
    }
}
