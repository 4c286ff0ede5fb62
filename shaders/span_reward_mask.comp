#version 450
// The span-reward mask: one invocation per position (b, t) of the (B, T) batch, in a
// grid-stride loop.
//   scores (B,T): inside the response [start, min(end, T)): the lowest score of the ranges of
//                 sequence b that cover t, or `unannotated` where none does; 0 outside
//   mask (B,T):   1 inside the response, 0 outside
// ranges (R,4) {sequence, first, last, score bits}: covers positions first..last (inclusive);
// range_offsets (B+1): the ranges of b are [range_offsets[b], range_offsets[b+1]), clamped to R
// so a bad offset never reads outside `ranges`; bounds (B,2) {start, end}. Only copies: every
// output is one of the inputs' values, bit for bit.
#include "common.glsl"

layout(std430, binding = 0) writeonly buffer Scores { float scores[]; };
layout(std430, binding = 1) writeonly buffer Mask { float mask[]; };
layout(std430, binding = 2) readonly buffer Ranges { uint ranges[]; };
layout(std430, binding = 3) readonly buffer RangeOffsets { uint range_offsets[]; };
layout(std430, binding = 4) readonly buffer Bounds { uint bounds[]; };
layout(push_constant) uniform Push { uint B; uint T; uint R; float unannotated; } p;

void main() {
    uint n = p.B * p.T; // the host checks that it fits
    for (uint i = gl_GlobalInvocationID.x; i < n; i += grid_stride()) {
        uint b = i / p.T, t = i - b * p.T;
        uint start = bounds[2u * b], end = min(bounds[2u * b + 1u], p.T);
        float score = 0.0, inside = 0.0;
        if (t >= start && t < end) {
            inside = 1.0;
            score = p.unannotated;
            bool covered = false;
            uint last_range = min(range_offsets[b + 1u], p.R);
            for (uint r = min(range_offsets[b], p.R); r < last_range; r++) {
                if (t < ranges[4u * r + 1u] || t > ranges[4u * r + 2u]) continue;
                float value = uintBitsToFloat(ranges[4u * r + 3u]);
                if (!covered || value < score) score = value;
                covered = true;
            }
        }
        scores[i] = score;
        mask[i] = inside;
    }
}
