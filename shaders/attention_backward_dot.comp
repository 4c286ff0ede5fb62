#version 450
#include "storage.glsl"
// D (B,NH,T): D[b][h][t] = sum over d < hs of dout[b][t][h*hs + d] * out[b][t][h*hs + d], the
// row term of the softmax backward (sum_j p_ij dp_ij = dO_i . O_i). One invocation per
// (b, t, h), summing d in order. dout, out (B,T,C); out may be stored as bf16 or f16 (variants,
// shaders/variants.txt: the role ACT, as attention_forward wrote it), the sum is f32.
#include "common.glsl"

layout(std430, binding = 0) writeonly buffer D { float dsum[]; };
layout(std430, binding = 1) readonly buffer DOut { float dout[]; };
layout(std430, binding = 2) readonly buffer Out { ACT_T out_[]; };
layout(push_constant) uniform Push { uint n; uint T; uint NH; uint hs; } p;  // n = B * T * NH

void main() {
    for (uint n = gl_GlobalInvocationID.x; n < p.n; n += grid_stride()) {
        uint h = n % p.NH, bt = n / p.NH;                   // bt = b * T + t
        uint base = n * p.hs;                               // (b * T + t) * C + h * hs
        float s = 0.0;
        for (uint d = 0; d < p.hs; d++) s += dout[base + d] * ACT_LOAD(out_[base + d]);
        uint b = bt / p.T, t = bt % p.T;
        dsum[(b * p.NH + h) * p.T + t] = s;
    }
}
