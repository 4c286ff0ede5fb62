#version 450
// One decode step's embedding: out (n,C) = wte (V,C)[tokens (n)] + wpe (>= t+1, C)[t], every
// sequence at the same position t (push constant); has_positions = 0: out = wte[tokens] only, and
// binding 3 (then wte again) is never read. A token >= V makes its row NaN and is never
// used as an index. One invocation per output element, grid-stride over n * C.
#include "common.glsl"

layout(std430, binding = 0) writeonly buffer Out { float dst[]; };
layout(std430, binding = 1) readonly buffer Tokens { uint tokens[]; };
layout(std430, binding = 2) readonly buffer Wte { float wte[]; };
layout(std430, binding = 3) readonly buffer Wpe { float wpe[]; };
layout(push_constant) uniform Push { uint count; uint t; uint C; uint V; uint has_positions; } p;  // count = n * C

void main() {
    for (uint i = gl_GlobalInvocationID.x; i < p.count; i += grid_stride()) {
        uint b = i / p.C;
        uint c = i - b * p.C;
        uint token = tokens[b];
        float value = nan_value();
        if (token < p.V) {
            value = wte[token * p.C + c];
            if (p.has_positions != 0u) value += wpe[p.t * p.C + c];
        }
        dst[i] = value;
    }
}
