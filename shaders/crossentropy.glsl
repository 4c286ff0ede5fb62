// Softmax cross-entropy, forward and backward fused; one workgroup per row of logits (row
// flat_group_id(), a grid from t2g_groups_2d). GROUP_SIZE must be a power of two.
//   losses[n] = log(sum_v exp(x_v - max)) + max - x_target            (unweighted)
//   dlogits[n,v] = dloss * weights[n] * (softmax(x)_v - (v == target))
// A target >= V: losses[n] = NaN, no logit read at the target, dlogits without the one-hot.
//
// The including shader declares binding 3 (and 4) and, before including this file,
//   float load_logit(uint i);              // logits[i]
//   void store_dlogit(uint i, float v);    // dlogits[i] = v
// Invocation l owns the columns v = l, l + GROUP_SIZE, ...: it alone reads and then writes them
// (the target's logit too), so dlogits may be the logits themselves (crossentropy_in_place).
layout(std430, binding = 0) writeonly buffer Losses { float losses[]; };   // (N)
layout(std430, binding = 1) readonly buffer Targets { uint targets[]; };   // (N)
layout(std430, binding = 2) readonly buffer Weights { float weights[]; };  // (N)
layout(push_constant) uniform Push { uint N; uint V; float dloss; } p;

float neg_inf() { return uintBitsToFloat(0xFF800000u); }

shared float row_max_of[GROUP_SIZE];
shared float row_sum_of[GROUP_SIZE];

// s * exp(m - to), where (m, s) stands for the sum s * exp(m); 0 stays 0 even when m = -inf.
float rescaled(float s, float m, float to) { return s == 0.0 ? 0.0 : s * exp(m - to); }

void main() {
    uint row = flat_group_id();
    if (row >= p.N) return; // the whole workgroup: no barrier is skipped by some only
    uint lane = gl_LocalInvocationID.x;
    uint base = row * p.V;
    uint target = targets[row];
    bool valid = target < p.V;
    bool owns_target = valid && target % GROUP_SIZE == lane;
    float target_logit = 0.0;
    if (owns_target) target_logit = load_logit(base + (valid ? target : 0u)); // in bounds even if hoisted

    // This invocation's columns as s * exp(m): m their running max, s the sum of exp(x - m).
    float m = neg_inf(), s = 0.0;
    for (uint v = lane; v < p.V; v += GROUP_SIZE) {
        float x = load_logit(base + v);
        if (x > m) {
            s = s * exp(m - x) + 1.0;
            m = x;
        } else if (x != neg_inf()) {
            s += exp(x - m); // a NaN logit lands here and makes the row NaN
        }
    }

    // Merge the pairs in a fixed tree: lane l takes lane l + stride.
    row_max_of[lane] = m;
    row_sum_of[lane] = s;
    barrier();
    for (uint stride = GROUP_SIZE / 2; stride > 0; stride >>= 1) {
        if (lane < stride) {
            float m1 = row_max_of[lane], m2 = row_max_of[lane + stride];
            float to = max(m1, m2);
            row_sum_of[lane] = rescaled(row_sum_of[lane], m1, to) + rescaled(row_sum_of[lane + stride], m2, to);
            row_max_of[lane] = to;
        }
        barrier();
    }
    float row_max = row_max_of[0], row_sum = row_sum_of[0];

    if (owns_target) losses[row] = log(row_sum) + row_max - target_logit;
    if (!valid && lane == 0) losses[row] = nan_value();

    float scale = p.dloss * weights[row];
    float inv_sum = 1.0 / row_sum;
    for (uint v = lane; v < p.V; v += GROUP_SIZE) {
        float prob = exp(load_logit(base + v) - row_max) * inv_sum;
        store_dlogit(base + v, scale * (v == target ? prob - 1.0 : prob));
    }
}
