#version 450
// Stage 1 of masked whitening: workgroup g summarizes the masked elements (mask != 0) of its
// slice i in [g * slice, min((g + 1) * slice, N)) of x (N), mask (N):
//   partials[g] = (n, a, delta, M2)                                        partials (groups, 4)
// n the count, a = (sum x) / n as rounded, delta = sum (x - a) / n (so the slice's mean is
// a + delta, to far better than a float holds), M2 = sum (x - a)^2 - n delta^2 (the sum of
// squared deviations from that mean: the corrected two-pass formula, no digits lost to a mean
// far from 0). Two passes over the slice; invocation l takes the elements l, l + GROUP_SIZE, ...
// in order, and shared-memory trees (GROUP_SIZE a power of two) add the lanes in a fixed
// order. Counts are exact in float (a slice holds far fewer than 2^24 elements).
#include "common.glsl"

layout(std430, binding = 0) writeonly buffer Partials { float partials[]; };
layout(std430, binding = 1) readonly buffer X { float x[]; };
layout(std430, binding = 2) readonly buffer Mask { float mask[]; };
layout(push_constant) uniform Push { uint N; uint slice; } p;

shared vec2 sums[GROUP_SIZE];

// The sum over the workgroup of v, in a fixed tree; every invocation gets it.
vec2 group_sum(vec2 v) {
    uint lid = gl_LocalInvocationID.x;
    sums[lid] = v;
    barrier();
    for (uint half_size = GROUP_SIZE / 2u; half_size > 0u; half_size >>= 1) {
        if (lid < half_size) sums[lid] += sums[lid + half_size];
        barrier();
    }
    vec2 total = sums[0];
    barrier(); // all have read it before the array is reused
    return total;
}

void main() {
    uint g = gl_WorkGroupID.x;
    uint lid = gl_LocalInvocationID.x;
    uint first = g * p.slice;
    uint count = first < p.N ? min(p.slice, p.N - first) : 0u;

    vec2 count_sum = vec2(0.0);
    for (uint k = lid; k < count; k += GROUP_SIZE)
        if (mask[first + k] != 0.0) count_sum += vec2(1.0, x[first + k]);
    count_sum = group_sum(count_sum);
    float n = count_sum.x;
    // precise: the deviations below are taken from this very (rounded) a; a fused or
    // re-associated division would make the correction miss.
    precise float a = n > 0.0 ? count_sum.y / n : 0.0;

    vec2 dev = vec2(0.0);
    for (uint k = lid; k < count; k += GROUP_SIZE) {
        if (mask[first + k] != 0.0) {
            float d = x[first + k] - a;
            dev += vec2(d, d * d);
        }
    }
    dev = group_sum(dev);
    if (lid == 0u) {
        float delta = n > 0.0 ? dev.x / n : 0.0;
        partials[4u * g] = n;
        partials[4u * g + 1u] = a;
        partials[4u * g + 2u] = delta;
        partials[4u * g + 3u] = max(dev.y - n * delta * delta, 0.0);
    }
}
