#version 450
// Token log-probabilities, entropy and full KL in one pass over each row of logits: one
// workgroup per row n (row flat_group_id(), a grid from t2g_groups_2d); GROUP_SIZE a power of
// two. logits, ref_logits (N,V); targets, logprobs, entropy, kl_full (N).
//   logprobs[n] = x_t - lse(x)                       (NaN for a target >= V)
//   entropy[n]  = -sum_v p_v log p_v                  (written when p.with_entropy != 0)
//   kl_full[n]  = sum_v p_v (log p_v - log q_v)       (WITH_KL; q = softmax(ref_logits[n]))
// Invocation l streams the columns v = l, l + GROUP_SIZE, ... and keeps, relative to its running
// max m of x (so nothing overflows and nothing cancels):
//   s = sum e^(x-m),  u = sum e^(x-m) (x-m) <= 0,  w = sum e^(x-m) d,  d = (x - y) - c,
// with c = x_0 - y_0 (the row's first column, 0 if either is -inf: d is exactly 0 when
// ref_logits equal the logits, and small when they differ by a constant), and the running max
// ym and sum ys of y. Then
//   lse = m + log s,  entropy = log s - u / s  (two non-negative terms),
//   KL = E_p[x - y] - lse_x + lse_y = w / s + (c - (m - ym)) - log s + log ys,
// exactly 0 for identical rows (the same operations on the same values).
// The lanes' states merge in a fixed shared-memory tree (lane l takes lane l + stride).
// Logits of -inf are probabilities 0 and contribute nothing; a NaN logit makes the row NaN.
#include "common.glsl"
layout(constant_id = 1) const bool WITH_KL = false;

layout(std430, binding = 0) writeonly buffer LogProbs { float logprobs[]; };  // (N)
layout(std430, binding = 1) writeonly buffer Entropy { float entropy[]; };    // (N)
layout(std430, binding = 2) writeonly buffer KLFull { float kl_full[]; };     // (N)
layout(std430, binding = 3) readonly buffer Logits { float logits[]; };       // (N,V)
layout(std430, binding = 4) readonly buffer RefLogits { float ref_logits[]; };// (N,V)
layout(std430, binding = 5) readonly buffer Targets { uint targets[]; };      // (N)
layout(push_constant) uniform Push { uint N; uint V; uint with_entropy; } p;

shared vec4 state_of[GROUP_SIZE];     // (m, s, u, w) of the logits
shared vec2 ref_state_of[GROUP_SIZE]; // (ym, ys) of the reference logits

float neg_inf() { return uintBitsToFloat(0xFF800000u); }

// (s, u, w) of a state with max m, expressed relative to the larger max `to`; an empty state
// (s = 0, m = -inf) stays 0 instead of becoming NaN.
vec3 rescaled(vec4 st, float to) {
    if (st.y == 0.0) return vec3(0.0);
    float f = exp(st.x - to);
    return vec3(f * st.y, f * (st.z + (st.x - to) * st.y), f * st.w);
}
float rescaled_sum(vec2 st, float to) { return st.y == 0.0 ? 0.0 : st.y * exp(st.x - to); }

void main() {
    uint row = flat_group_id();
    if (row >= p.N) return; // the whole workgroup: no barrier is skipped by some only
    uint lane = gl_LocalInvocationID.x;
    uint base = row * p.V;

    float c = 0.0;
    if (WITH_KL) {
        float x0 = logits[base], y0 = ref_logits[base];
        if (x0 != neg_inf() && y0 != neg_inf()) c = x0 - y0;
    }
    float m = neg_inf(), s = 0.0, u = 0.0, w = 0.0;
    float ym = neg_inf(), ys = 0.0;
    for (uint v = lane; v < p.V; v += GROUP_SIZE) {
        float x = logits[base + v];
        float d = 0.0;
        if (WITH_KL) {
            float y = ref_logits[base + v];
            d = (x - y) - c;
            if (y > ym) {
                ys = ys == 0.0 ? 1.0 : ys * exp(ym - y) + 1.0;
                ym = y;
            } else if (y != neg_inf()) {
                ys += exp(y - ym);
            }
        }
        if (x > m) {
            if (s == 0.0) {
                s = 1.0;
                u = 0.0;
                w = d;
            } else {
                float f = exp(m - x);
                u = f * (u + (m - x) * s);
                w = f * w + d;
                s = s * f + 1.0;
            }
            m = x;
        } else if (x != neg_inf()) {
            float e = exp(x - m);
            s += e;
            u += e * (x - m);
            w += e * d;
        }
    }

    state_of[lane] = vec4(m, s, u, w);
    ref_state_of[lane] = vec2(ym, ys);
    barrier();
    for (uint stride = GROUP_SIZE / 2u; stride > 0u; stride >>= 1) {
        if (lane < stride) {
            vec4 a = state_of[lane], b = state_of[lane + stride];
            float to = max(a.x, b.x);
            state_of[lane] = vec4(to, rescaled(a, to) + rescaled(b, to));
            if (WITH_KL) {
                vec2 ya = ref_state_of[lane], yb = ref_state_of[lane + stride];
                float yto = max(ya.x, yb.x);
                ref_state_of[lane] = vec2(yto, rescaled_sum(ya, yto) + rescaled_sum(yb, yto));
            }
        }
        barrier();
    }
    if (lane != 0u) return;

    vec4 total = state_of[0];
    float row_max = total.x, log_sum = log(total.y);
    uint target = targets[row];
    bool valid = target < p.V;
    float target_logit = logits[base + (valid ? target : 0u)]; // in bounds even for a bad target
    logprobs[row] = valid ? (target_logit - row_max) - log_sum : nan_value();
    if (p.with_entropy != 0u) entropy[row] = log_sum - total.z / total.y;
    if (WITH_KL) {
        vec2 ref_total = ref_state_of[0];
        kl_full[row] = total.w / total.y + (c - (row_max - ref_total.x)) - log_sum + log(ref_total.y);
    }
}
