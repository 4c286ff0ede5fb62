#version 450
// AdamW over elements [offset, offset + count) of params, grads, m, v (one flat layout):
//   g = grads * scale (scale = norm_and_scale[1] when scaled, else 1)
//   m = beta1 m + (1 - beta1) g;  v = beta2 v + (1 - beta2) g^2
//   params -= lr * (m * m_correction / (sqrt(v * v_correction) + eps) + weight_decay * params)
// m_correction = 1 / (1 - beta1^step) and v_correction = 1 / (1 - beta2^step) come from the
// host (computed in double). Elements outside the range are neither read nor written.
// When scaled and norm_and_scale[0] (the gradient norm) is NaN or Inf, nothing is written:
// params, m and v stay bit-identical (a non-finite gradient never reaches the model).
//
// Quads: where the host's texel views serve (quads != 0) and the range starts on a quad, each
// step of an invocation updates four elements: it reads them as texels of the views of params,
// grads, m and v (bindings 5 to 8: lavapipe compiles a texel fetch as vector loads, a
// storage-buffer load as a loop over lanes and components) and writes params, m and v as vec4s;
// the elements past the last whole quad, and everything without quads, one at a time. The same
// operations on each element either way (adamw_one), so the same bits.
#include "common.glsl"

layout(std430, binding = 0) buffer Params { float params[]; };
layout(std430, binding = 1) readonly buffer Grads { float grads[]; };
layout(std430, binding = 2) buffer M { float m[]; };
layout(std430, binding = 3) buffer V { float v[]; };
// norm_and_scale (2) when scaled != 0; otherwise a stand-in that is never read.
layout(std430, binding = 4) readonly buffer NormAndScale { float norm_and_scale[]; };
// The same params, m and v as quads, written by the quad steps.
layout(std430, binding = 0) buffer Params4 { vec4 params4[]; };
layout(std430, binding = 2) buffer M4 { vec4 m4[]; };
layout(std430, binding = 3) buffer V4 { vec4 v4[]; };
// params, grads, m and v as texels of quads: element e of the bound chunk is in texel first[k] + e / 4.
layout(binding = 5) uniform samplerBuffer params_quads;
layout(binding = 6) uniform samplerBuffer grads_quads;
layout(binding = 7) uniform samplerBuffer m_quads;
layout(binding = 8) uniform samplerBuffer v_quads;
layout(push_constant) uniform Push {
    uint offset;
    uint count;
    float learning_rate;
    float beta1;
    float beta2;
    float epsilon;
    float weight_decay;
    float m_correction;
    float v_correction;
    uint scaled;
    uint quads;     // the views serve
    uint first[4];  // the texel of each view (params, grads, m, v) where its chunk starts
} p;

// One element's update: (param, m, v) from the old ones and the scaled gradient g.
vec3 adamw_one(float param, float g, float mi, float vi) {
    mi = p.beta1 * mi + (1.0 - p.beta1) * g;
    vi = p.beta2 * vi + (1.0 - p.beta2) * g * g;
    float step_size = mi * p.m_correction / (sqrt(vi * p.v_correction) + p.epsilon);
    return vec3(param - p.learning_rate * (step_size + p.weight_decay * param), mi, vi);
}

void update_one(uint i, float scale) {
    vec3 r = adamw_one(params[i], grads[i] * scale, m[i], v[i]);
    m[i] = r.y;
    v[i] = r.z;
    params[i] = r.x;
}

void update_quad(uint q, float scale) {
    vec4 param = texelFetch(params_quads, int(p.first[0] + q)), g = texelFetch(grads_quads, int(p.first[1] + q)) * scale;
    vec4 mi = texelFetch(m_quads, int(p.first[2] + q)), vi = texelFetch(v_quads, int(p.first[3] + q));
    vec3 r0 = adamw_one(param.x, g.x, mi.x, vi.x), r1 = adamw_one(param.y, g.y, mi.y, vi.y);
    vec3 r2 = adamw_one(param.z, g.z, mi.z, vi.z), r3 = adamw_one(param.w, g.w, mi.w, vi.w);
    m4[q] = vec4(r0.y, r1.y, r2.y, r3.y);
    v4[q] = vec4(r0.z, r1.z, r2.z, r3.z);
    params4[q] = vec4(r0.x, r1.x, r2.x, r3.x);
}

void main() {
    float scale = 1.0;
    if (p.scaled != 0u) {
        if (not_finite(norm_and_scale[0])) return;
        scale = norm_and_scale[1];
    }
    uint singles = 0u; // elements [0, singles) of the range went as quads
    if (p.quads != 0u && p.offset % 4u == 0u) {
        uint quads = p.count / 4u;
        for (uint q = gl_GlobalInvocationID.x; q < quads; q += grid_stride()) update_quad(p.offset / 4u + q, scale);
        singles = 4u * quads;
    }
    for (uint k = singles + gl_GlobalInvocationID.x; k < p.count; k += grid_stride()) update_one(p.offset + k, scale);
}
