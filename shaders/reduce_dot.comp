#version 450
// Stage 1 of a deterministic dot product. partials (groups): partials[g] = sum of a[i] * b[i]
// over the slice i in [g * slice, min((g + 1) * slice, n)). The host picks slice and the number
// of workgroups from n alone, never from the device. Invocation k sums the elements
// k, k + GROUP_SIZE, ... of its slice in order; a shared-memory tree (GROUP_SIZE a power of
// two) then adds the GROUP_SIZE sums in a fixed order.
#include "common.glsl"

layout(std430, binding = 0) writeonly buffer Partials { float partials[]; };
layout(std430, binding = 1) readonly buffer A { float a[]; };
layout(std430, binding = 2) readonly buffer B { float b[]; };
// A chunk of a tensor larger than one binding: a and b are bound from slice first_group, n counts
// the chunk's elements, and its workgroups write partials[first_group + g].
layout(push_constant) uniform Push { uint n; uint slice; uint first_group; } p;

shared float sums[GROUP_SIZE];

void main() {
    uint g = gl_WorkGroupID.x;
    uint lid = gl_LocalInvocationID.x;
    uint first = g * p.slice;
    uint count = first < p.n ? min(p.slice, p.n - first) : 0u;
    float sum = 0.0;
    for (uint k = lid; k < count; k += GROUP_SIZE) sum += a[first + k] * b[first + k];
    sums[lid] = sum;
    barrier();
    for (uint half_size = GROUP_SIZE / 2u; half_size > 0u; half_size >>= 1) {
        if (lid < half_size) sums[lid] += sums[lid + half_size];
        barrier();
    }
    if (lid == 0u) partials[p.first_group + g] = sums[0];
}
