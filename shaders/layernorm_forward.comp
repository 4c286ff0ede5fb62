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
//
// Quads: in the CPU layout (LANES 1: a row an invocation) where the host's texel views of inp,
// weight and bias serve and C % 4 == 0 (quads != 0), the row is read four columns at a time as
// texels (bindings 6 to 8, whose texel first[k] holds element 0: llvmpipe compiles a texel fetch
// as vector loads, a storage-buffer load as a loop over lanes and components) and an f32 out
// written as vec4s; each sum still adds the columns one at a time in order: the same bits.
#include "common.glsl"
#include "layernorm.glsl"

layout(std430, binding = 0) writeonly buffer Out { ACT_T dst[]; };
layout(std430, binding = 1) writeonly buffer Mean { float mean_out[]; };
layout(std430, binding = 2) writeonly buffer Rstd { float rstd_out[]; };
layout(std430, binding = 3) readonly buffer Inp { float inp[]; };
layout(std430, binding = 4) readonly buffer Weight { float weight[]; };
layout(std430, binding = 5) readonly buffer Bias { float bias[]; };
layout(binding = 6) uniform samplerBuffer inp_quads;
layout(binding = 7) uniform samplerBuffer weight_quads;
layout(binding = 8) uniform samplerBuffer bias_quads;
#if !defined(ACT_BF16) && !defined(ACT_F16)
layout(std430, binding = 0) writeonly buffer Out4 { vec4 dst4[]; };
#endif
layout(push_constant) uniform Push { uint N; uint C; uint quads; uint first[4]; } p;

vec4 inp_quad(uint base, uint q) { return texelFetch(inp_quads, int(p.first[0] + base / 4u + q)); }

// out's four columns from column 4 q of the row at base
void store_quad(uint base, uint q, vec4 v) {
#if !defined(ACT_BF16) && !defined(ACT_F16)
    dst4[base / 4u + q] = v;
#else
    for (uint k = 0u; k < 4u; k++) dst[base + 4u * q + k] = ACT_STORE(v[k]);
#endif
}

void main() {
    uint row = layernorm_row(), lane = layernorm_lane();
    bool in_range = row < p.N;
    uint columns = in_range ? p.C : 0;
    uint base = in_range ? row * p.C : 0;
    float inv_c = 1.0 / float(p.C);
    bool quads = LANES == 1u && p.quads != 0u;
    uint quad_count = quads ? columns / 4u : 0u, first_single = quads ? columns : lane;

    float sum = 0.0;
    for (uint q = 0u; q < quad_count; q++) {
        vec4 x = inp_quad(base, q);
        sum += x.x;
        sum += x.y;
        sum += x.z;
        sum += x.w;
    }
    for (uint c = first_single; c < columns; c += LANES) sum += inp[base + c];
    // precise: the deviations below must be taken from this very (rounded) mean0; a compiler
    // fusing the product into x - mean0 (an fma) would make the correction miss by an ulp.
    precise float mean0 = layernorm_row_sum(vec2(sum, 0.0)).x * inv_c;

    vec2 dev = vec2(0.0);
    for (uint q = 0u; q < quad_count; q++) {
        vec4 x = inp_quad(base, q);
        for (uint k = 0u; k < 4u; k++) {
            float d = x[k] - mean0;
            dev += vec2(d, d * d);
        }
    }
    for (uint c = first_single; c < columns; c += LANES) {
        float d = inp[base + c] - mean0;
        dev += vec2(d, d * d);
    }
    dev = layernorm_row_sum(dev) * inv_c;
    float shift = dev.x;
    float var = max(dev.y - shift * shift, 0.0);
    float rstd = 1.0 / sqrt(var + LAYERNORM_EPS);

    for (uint q = 0u; q < quad_count; q++) {
        vec4 xhat = ((inp_quad(base, q) - mean0) - shift) * rstd;
        vec4 w = texelFetch(weight_quads, int(p.first[1] + q)), b = texelFetch(bias_quads, int(p.first[2] + q));
        store_quad(base, q, xhat * w + b);
    }
    for (uint c = first_single; c < columns; c += LANES) {
        float xhat = ((inp[base + c] - mean0) - shift) * rstd;
        dst[base + c] = ACT_STORE(xhat * weight[c] + bias[c]);
    }
    if (in_range && lane == 0) {
        mean_out[row] = mean0 + shift;
        rstd_out[row] = rstd;
    }
}
