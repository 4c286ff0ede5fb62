#version 450
#include "storage.glsl"
// out (N,C) = (inp - mean) * rstd * weight (C) + bias (C); mean (N), rstd (N) = 1/sqrt(var + eps),
// var the biased variance of the row. Workgroup layout: layernorm.glsl.
//
// Statistics in two passes over the row, each reduced in a fixed order:
//   1. mean0 = sum(x) / C;
//   2. d = sum(x - mean0), q = sum((x - mean0)^2): the deviations from mean0 are small and
//      exact-ish, so shift = d / C recovers the rounding error of mean0 (mean = mean0 + shift)
//      and var = q / C - shift^2 (the corrected two-pass formula) loses no digits to a large
//      mean. The output uses (x - mean0) - shift, never a rounded mean.
// out may be stored as bf16 or f16 (variants, shaders/variants.txt: the role ACT); the
// statistics and mean, rstd stay f32.
#include "common.glsl"
#include "layernorm.glsl"

layout(std430, binding = 0) writeonly buffer Out { ACT_T dst[]; };
layout(std430, binding = 1) writeonly buffer Mean { float mean_out[]; };
layout(std430, binding = 2) writeonly buffer Rstd { float rstd_out[]; };
layout(std430, binding = 3) readonly buffer Inp { float inp[]; };
layout(std430, binding = 4) readonly buffer Weight { float weight[]; };
layout(std430, binding = 5) readonly buffer Bias { float bias[]; };
layout(push_constant) uniform Push { uint N; uint C; } p;

void main() {
    uint row = layernorm_row(), lane = layernorm_lane();
    bool in_range = row < p.N;
    uint columns = in_range ? p.C : 0;
    uint base = in_range ? row * p.C : 0;
    float inv_c = 1.0 / float(p.C);

    float sum = 0.0;
    for (uint c = lane; c < columns; c += LANES) sum += inp[base + c];
    // precise: the deviations below must be taken from this very (rounded) mean0; a compiler
    // fusing the product into x - mean0 (an fma) would make the correction miss by an ulp.
    precise float mean0 = layernorm_row_sum(vec2(sum, 0.0)).x * inv_c;

    vec2 dev = vec2(0.0);
    for (uint c = lane; c < columns; c += LANES) {
        float d = inp[base + c] - mean0;
        dev += vec2(d, d * d);
    }
    dev = layernorm_row_sum(dev) * inv_c;
    float shift = dev.x;
    float var = max(dev.y - shift * shift, 0.0);
    float rstd = 1.0 / sqrt(var + LAYERNORM_EPS);

    for (uint c = lane; c < columns; c += LANES) {
        float xhat = ((inp[base + c] - mean0) - shift) * rstd;
        dst[base + c] = ACT_STORE(xhat * weight[c] + bias[c]);
    }
    if (in_range && lane == 0) {
        mean_out[row] = mean0 + shift;
        rstd_out[row] = rstd;
    }
}
