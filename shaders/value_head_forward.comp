#version 450
// The value head: values (N) = hidden (N,C) weight[0..C) + weight[C]; weight (C+1).
// The GROUP_SIZE invocations of a workgroup form GROUP_SIZE / LANES rows of LANES lanes (LANES,
// constant 1, a power of two dividing GROUP_SIZE, picked by the host from C). Row
// flat_group_id() * ROWS_PER_GROUP + i / LANES; lane i % LANES takes the columns lane,
// lane + LANES, ... in order, then a fixed shared-memory tree adds the lanes. Rows past N take
// part in every barrier but touch no memory.
#include "common.glsl"
layout(constant_id = 1) const uint LANES = 64;
const uint ROWS_PER_GROUP = GROUP_SIZE / LANES;

layout(std430, binding = 0) writeonly buffer Values { float values[]; };
layout(std430, binding = 1) readonly buffer Hidden { float hidden[]; };
layout(std430, binding = 2) readonly buffer Weight { float weight[]; };
layout(push_constant) uniform Push { uint N; uint C; } p;

shared float sums[GROUP_SIZE];

void main() {
    uint i = gl_LocalInvocationID.x, lane = i % LANES;
    uint row = flat_group_id() * ROWS_PER_GROUP + i / LANES;
    bool in_range = row < p.N;
    uint columns = in_range ? p.C : 0u;
    uint base = in_range ? row * p.C : 0u;
    float sum = 0.0;
    for (uint c = lane; c < columns; c += LANES) sum += hidden[base + c] * weight[c];
    sums[i] = sum;
    barrier();
    for (uint s = LANES / 2u; s > 0u; s >>= 1) {
        if (lane < s) sums[i] += sums[i + s];
        barrier();
    }
    if (in_range && lane == 0u) values[row] = sums[i] + weight[p.C];
}
