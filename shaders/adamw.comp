#version 450
// AdamW over elements [offset, offset + count) of params, grads, m, v (one flat layout):
//   g = grads * scale (scale = norm_and_scale[1] when scaled, else 1)
//   m = beta1 m + (1 - beta1) g;  v = beta2 v + (1 - beta2) g^2
//   params -= lr * (m * m_correction / (sqrt(v * v_correction) + eps) + weight_decay * params)
// m_correction = 1 / (1 - beta1^step) and v_correction = 1 / (1 - beta2^step) come from the
// host (computed in double). Elements outside the range are neither read nor written.
// When scaled and norm_and_scale[0] (the gradient norm) is NaN or Inf, nothing is written:
// params, m and v stay bit-identical (a non-finite gradient never reaches the model).
#include "common.glsl"

layout(std430, binding = 0) buffer Params { float params[]; };
layout(std430, binding = 1) readonly buffer Grads { float grads[]; };
layout(std430, binding = 2) buffer M { float m[]; };
layout(std430, binding = 3) buffer V { float v[]; };
// norm_and_scale (2) when scaled != 0; otherwise a stand-in that is never read.
layout(std430, binding = 4) readonly buffer NormAndScale { float norm_and_scale[]; };
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
} p;

void main() {
    float scale = 1.0;
    if (p.scaled != 0u) {
        if (not_finite(norm_and_scale[0])) return;
        scale = norm_and_scale[1];
    }
    for (uint k = gl_GlobalInvocationID.x; k < p.count; k += grid_stride()) {
        uint i = p.offset + k;
        float g = grads[i] * scale;
        float mi = p.beta1 * m[i] + (1.0 - p.beta1) * g;
        float vi = p.beta2 * v[i] + (1.0 - p.beta2) * g * g;
        m[i] = mi;
        v[i] = vi;
        float step_size = mi * p.m_correction / (sqrt(vi * p.v_correction) + p.epsilon);
        float param = params[i];
        params[i] = param - p.learning_rate * (step_size + p.weight_decay * param);
    }
}
