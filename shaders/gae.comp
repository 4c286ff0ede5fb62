#version 450
// Generalized advantage estimation: one invocation per sequence b < B, scanning its T
// positions backwards (a fixed order). advantages, returns, rewards, values, mask (B,T).
// With next = the following position whose mask is non-zero (V_next = A_next = 0 past the last):
//   delta_t = r_t + gamma V_next - V_t,  A_t = delta_t + gamma lambda A_next,  R_t = A_t + V_t;
// positions with mask 0 get A = R = 0 (their rewards and values are never read).
#include "common.glsl"

layout(std430, binding = 0) writeonly buffer Advantages { float advantages[]; };
layout(std430, binding = 1) writeonly buffer Returns { float returns[]; };
layout(std430, binding = 2) readonly buffer Rewards { float rewards[]; };
layout(std430, binding = 3) readonly buffer Values { float values[]; };
layout(std430, binding = 4) readonly buffer Mask { float mask[]; };
layout(push_constant) uniform Push { uint B; uint T; float gamma; float lambda; } p;

void main() {
    uint b = flat_group_id() * GROUP_SIZE + gl_LocalInvocationID.x;
    if (b >= p.B) return;
    float next_value = 0.0, next_advantage = 0.0;
    float gamma_lambda = p.gamma * p.lambda;
    for (uint t = p.T; t > 0u; t--) {
        uint i = b * p.T + (t - 1u);
        float a = 0.0, r = 0.0;
        if (mask[i] != 0.0) {
            float v = values[i];
            float delta = rewards[i] + p.gamma * next_value - v;
            a = delta + gamma_lambda * next_advantage;
            r = a + v;
            next_value = v;
            next_advantage = a;
        }
        advantages[i] = a;
        returns[i] = r;
    }
}
