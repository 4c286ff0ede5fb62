#version 450
// Per-token rewards, elementwise over n < N (grid-stride):
//   kl[n]      = mask[n] * (WITH_KL_FULL ? kl_full[n] : logprobs[n] - ref_logprobs[n])
//   rewards[n] = mask[n] * (scores[n] - beta * kl[n])
// Where mask[n] == 0 both are 0 whatever the other inputs hold (a NaN or inf past the response
// stays out). All tensors (N).
#include "common.glsl"
layout(constant_id = 1) const bool WITH_KL_FULL = false;

layout(std430, binding = 0) writeonly buffer Rewards { float rewards[]; };
layout(std430, binding = 1) writeonly buffer KL { float kl[]; };
layout(std430, binding = 2) readonly buffer Scores { float scores[]; };
layout(std430, binding = 3) readonly buffer Mask { float mask[]; };
layout(std430, binding = 4) readonly buffer LogProbs { float logprobs[]; };
layout(std430, binding = 5) readonly buffer RefLogProbs { float ref_logprobs[]; };
layout(std430, binding = 6) readonly buffer KLFull { float kl_full[]; };
layout(push_constant) uniform Push { uint N; float beta; } p;

void main() {
    for (uint n = gl_GlobalInvocationID.x; n < p.N; n += grid_stride()) {
        float m = mask[n];
        float k = 0.0, r = 0.0;
        if (m != 0.0) {
            k = m * (WITH_KL_FULL ? kl_full[n] : logprobs[n] - ref_logprobs[n]);
            r = m * (scores[n] - p.beta * k);
        }
        kl[n] = k;
        rewards[n] = r;
    }
}
