#version 450
#include "storage.glsl"
// out (N,C) = inp (N,C) * rstd * weight (C); rstd (N) = 1/sqrt(mean_c(inp^2) + eps), as Hugging
// Face's LlamaRMSNorm (no mean subtracted, no bias). Workgroup layout: layernorm.glsl. The sum of
// squares is reduced in a fixed order (a lane's columns in order, then the lanes' pairwise tree).
// out may be stored as bf16 or f16 (variants, shaders/variants.txt: the role ACT); rstd stays f32.
//
// Quads: in the CPU layout (LANES 1) where the host's texel views of inp and weight serve and
// C % 4 == 0 (quads != 0), the row is read four columns at a time as texels (bindings 4 and 5,
// whose texel first[k] holds element 0) and an f32 out written as vec4s, as
// layernorm_forward.comp does; the sum adds the columns one at a time in order: the same bits.
#include "common.glsl"
#include "layernorm.glsl"

layout(std430, binding = 0) writeonly buffer Out { ACT_T dst[]; };
layout(std430, binding = 1) writeonly buffer Rstd { float rstd_out[]; };
layout(std430, binding = 2) readonly buffer Inp { float inp[]; };
layout(std430, binding = 3) readonly buffer Weight { float weight[]; };
layout(binding = 4) uniform samplerBuffer inp_quads;
layout(binding = 5) uniform samplerBuffer weight_quads;
#if !defined(ACT_BF16) && !defined(ACT_F16)
layout(std430, binding = 0) writeonly buffer Out4 { vec4 dst4[]; };
#endif
layout(push_constant) uniform Push { uint N; uint C; uint quads; uint first[4]; float eps; } p;

vec4 inp_quad(uint base, uint q) { return texelFetch(inp_quads, int(p.first[0] + base / 4u + q)); }

void main() {
    uint row = layernorm_row(), lane = layernorm_lane();
    bool in_range = row < p.N;
    uint columns = in_range ? p.C : 0;
    uint base = in_range ? row * p.C : 0;
    bool quads = LANES == 1u && p.quads != 0u;
    uint quad_count = quads ? columns / 4u : 0u, first_single = quads ? columns : lane;

    float squares = 0.0;
    for (uint q = 0u; q < quad_count; q++) {
        vec4 x = inp_quad(base, q);
        for (uint k = 0u; k < 4u; k++) squares += x[k] * x[k];
    }
    for (uint c = first_single; c < columns; c += LANES) {
        float x = inp[base + c];
        squares += x * x;
    }
    float mean_square = layernorm_row_sum(vec2(squares, 0.0)).x * (1.0 / float(p.C));
    float rstd = 1.0 / sqrt(mean_square + p.eps);

    for (uint q = 0u; q < quad_count; q++) {
        vec4 v = inp_quad(base, q) * rstd * texelFetch(weight_quads, int(p.first[1] + q));
#if !defined(ACT_BF16) && !defined(ACT_F16)
        dst4[base / 4u + q] = v;
#else
        for (uint k = 0u; k < 4u; k++) dst[base + 4u * q + k] = ACT_STORE(v[k]);
#endif
    }
    for (uint c = first_single; c < columns; c += LANES) dst[base + c] = ACT_STORE(inp[base + c] * rstd * weight[c]);
    if (in_range && lane == 0) rstd_out[row] = rstd;
}
