#version 450
#include "storage.glsl"
// out (N,C) = inp (N,C) * rstd * weight (C); rstd (N) = 1/sqrt(mean_c(inp^2) + eps), as Hugging
// Face's LlamaRMSNorm (no mean subtracted, no bias). Workgroup layout: layernorm.glsl. The sum of
// squares is reduced in a fixed order (a lane's columns in order, then the lanes' pairwise tree).
// out may be stored as bf16 or f16 (variants, shaders/variants.txt: the role ACT); rstd stays f32.
#include "common.glsl"
#include "layernorm.glsl"

layout(std430, binding = 0) writeonly buffer Out { ACT_T dst[]; };
layout(std430, binding = 1) writeonly buffer Rstd { float rstd_out[]; };
layout(std430, binding = 2) readonly buffer Inp { float inp[]; };
layout(std430, binding = 3) readonly buffer Weight { float weight[]; };
layout(push_constant) uniform Push { uint N; uint C; float eps; } p;

void main() {
    uint row = layernorm_row(), lane = layernorm_lane();
    bool in_range = row < p.N;
    uint columns = in_range ? p.C : 0;
    uint base = in_range ? row * p.C : 0;

    float squares = 0.0;
    for (uint c = lane; c < columns; c += LANES) {
        float x = inp[base + c];
        squares += x * x;
    }
    float mean_square = layernorm_row_sum(vec2(squares, 0.0)).x * (1.0 / float(p.C));
    float rstd = 1.0 / sqrt(mean_square + p.eps);

    for (uint c = lane; c < columns; c += LANES) dst[base + c] = ACT_STORE(inp[base + c] * rstd * weight[c]);
    if (in_range && lane == 0) rstd_out[row] = rstd;
}
