#version 450
// The clipped PPO losses, elementwise (grid-stride) over n < N. Inputs (N): logprobs,
// old_logprobs, advantages, values, old_values, returns, mask. Outputs: policy_weights (N),
// dvalues (N), stats (4, stride): rows policy loss, value loss, clipped, approx KL, each at
// [row * stride + n]. Where mask[n] != 0 (s = scale):
//   lr = clamp(logprobs - old_logprobs, -L, L), ratio = exp(lr)
//   pg1 = -A ratio, pg2 = -A clamp(ratio, 1 - clip, 1 + clip); policy loss max(pg1, pg2)
//   policy_weights = s A ratio when pg1 >= pg2 and lr was not clamped, else 0
//   vc = old_values + clamp(values - old_values, -value_clip, value_clip) (values when inside)
//   value loss 0.5 max((values - R)^2, (vc - R)^2)
//   dvalues = s value_coef d(value loss)/d values: values - R where the first term is the
//     larger (ties included), else 0 (the second term is then clipped: flat in values)
//   clipped = pg2 > pg1, approx KL = 0.5 lr^2
// Everything 0 where mask[n] == 0 (no input there is read). Where a masked position's policy
// inputs (log ratio, advantage) are NaN or Inf, its policy weight and policy loss are NaN; where
// its value inputs (values, old values, returns) are, its dvalue and value loss are NaN: a clamp
// or max never turns a non-finite input into a finite gradient, so the gradient norm (and the
// update's gate, adamw.comp) sees it.
#include "common.glsl"

layout(std430, binding = 0) writeonly buffer PolicyWeights { float policy_weights[]; };
layout(std430, binding = 1) writeonly buffer DValues { float dvalues[]; };
layout(std430, binding = 2) writeonly buffer Stats { float stats[]; };
layout(std430, binding = 3) readonly buffer LogProbs { float logprobs[]; };
layout(std430, binding = 4) readonly buffer OldLogProbs { float old_logprobs[]; };
layout(std430, binding = 5) readonly buffer Advantages { float advantages[]; };
layout(std430, binding = 6) readonly buffer Values { float values[]; };
layout(std430, binding = 7) readonly buffer OldValues { float old_values[]; };
layout(std430, binding = 8) readonly buffer Returns { float returns[]; };
layout(std430, binding = 9) readonly buffer Mask { float mask[]; };
layout(push_constant) uniform Push {
    uint N;
    uint stride;
    float clip;
    float value_clip;
    float value_coef;
    float log_ratio_clamp;
    float scale;
} p;

void main() {
    for (uint n = gl_GlobalInvocationID.x; n < p.N; n += grid_stride()) {
        float weight = 0.0, dvalue = 0.0, policy_loss = 0.0, value_loss = 0.0, clipped = 0.0, approx_kl = 0.0;
        if (mask[n] != 0.0) {
            float raw = logprobs[n] - old_logprobs[n];
            float lr = clamp(raw, -p.log_ratio_clamp, p.log_ratio_clamp);
            float ratio = exp(lr), a = advantages[n];
            float pg1 = -a * ratio, pg2 = -a * clamp(ratio, 1.0 - p.clip, 1.0 + p.clip);
            policy_loss = max(pg1, pg2);
            weight = pg1 >= pg2 && lr == raw ? p.scale * a * ratio : 0.0;
            clipped = pg2 > pg1 ? 1.0 : 0.0;
            approx_kl = 0.5 * lr * lr;

            float v = values[n], old = old_values[n], target = returns[n];
            float change = v - old;
            float clipped_change = clamp(change, -p.value_clip, p.value_clip);
            bool inside = clipped_change == change;
            float vc = inside ? v : old + clipped_change;
            float e1 = v - target, e2 = vc - target;
            float l1 = e1 * e1, l2 = e2 * e2;
            value_loss = 0.5 * max(l1, l2);
            dvalue = l1 >= l2 ? p.scale * p.value_coef * e1 : 0.0; // inside: vc = v, l1 = l2
            if (not_finite(raw) || not_finite(a)) weight = policy_loss = nan_value();
            if (not_finite(v) || not_finite(old) || not_finite(target)) dvalue = value_loss = nan_value();
        }
        policy_weights[n] = weight;
        dvalues[n] = dvalue;
        stats[n] = policy_loss;
        stats[p.stride + n] = value_loss;
        stats[2u * p.stride + n] = clipped;
        stats[3u * p.stride + n] = approx_kl;
    }
}
