#version 450
// Stage 2 of masked whitening: one workgroup merges partials (count, 4) = (n_g, a_g, delta_g,
// M2_g) from whiten_partials.comp into stats (3) = (mean0, shift, scale), the mean being
// mean0 + shift (mean0 a float, shift the small rest):
//   n = sum n_g (an integer);  mean0 = sum n_g a_g / n  (0 when n = 0)
//   shift = sum n_g ((a_g - mean0) + delta_g) / n        (small terms, no cancellation of large)
//   M2 = sum_g [M2_g + n_g ((a_g - mean0) + delta_g - shift)^2]   (Chan et al.'s merge)
//   scale = 1 / sqrt(M2 / (n - 1) + 1e-8), or 1 when n < 2 (then only x - mean).
// Invocation l takes the partials l, l + GROUP_SIZE, ... in order; fixed shared-memory trees.
#include "common.glsl"

layout(std430, binding = 0) writeonly buffer Stats { float stats[]; };
layout(std430, binding = 1) readonly buffer Partials { float partials[]; };
layout(push_constant) uniform Push { uint count; } p;

shared uint counts[GROUP_SIZE];
shared float sums[GROUP_SIZE];

// The sum over the workgroup of v, in a fixed tree; every invocation gets it.
float group_sum(float v) {
    uint lid = gl_LocalInvocationID.x;
    sums[lid] = v;
    barrier();
    for (uint half_size = GROUP_SIZE / 2u; half_size > 0u; half_size >>= 1) {
        if (lid < half_size) sums[lid] += sums[lid + half_size];
        barrier();
    }
    float total = sums[0];
    barrier();
    return total;
}

void main() {
    uint lid = gl_LocalInvocationID.x;
    uint n_lane = 0u;
    float weighted = 0.0;
    for (uint k = lid; k < p.count; k += GROUP_SIZE) {
        float n_k = partials[4u * k];
        n_lane += uint(n_k);
        weighted += n_k * partials[4u * k + 1u];
    }
    counts[lid] = n_lane;
    barrier();
    for (uint half_size = GROUP_SIZE / 2u; half_size > 0u; half_size >>= 1) {
        if (lid < half_size) counts[lid] += counts[lid + half_size];
        barrier();
    }
    uint n = counts[0];
    float inv_n = n > 0u ? 1.0 / float(n) : 0.0;
    precise float mean0 = group_sum(weighted) * inv_n; // the offsets below are from this very value

    float rest = 0.0;
    for (uint k = lid; k < p.count; k += GROUP_SIZE) {
        float n_k = partials[4u * k];
        if (n_k > 0.0) rest += n_k * ((partials[4u * k + 1u] - mean0) + partials[4u * k + 2u]);
    }
    float shift = group_sum(rest) * inv_n;

    float m2 = 0.0;
    for (uint k = lid; k < p.count; k += GROUP_SIZE) {
        float n_k = partials[4u * k];
        if (n_k > 0.0) {
            float d = (partials[4u * k + 1u] - mean0) + partials[4u * k + 2u] - shift;
            m2 += partials[4u * k + 3u] + n_k * d * d;
        }
    }
    m2 = group_sum(m2);
    if (lid != 0u) return;
    stats[0] = mean0;
    stats[1] = shift;
    stats[2] = n >= 2u ? 1.0 / sqrt(m2 / float(n - 1u) + 1e-8) : 1.0;
}
