#version 450
// out (B,T,C) = wte (V,C)[tokens (B,T)] + wpe (>= T, C)[t]; tokens (B,T) uint32.
// has_positions = 0: out = wte[tokens] only, and binding 3 (then wte again) is never read.
// A token >= V makes its whole row NaN and is never used as an index.
// One invocation per output element, grid-stride over n = B * T * C.
#include "common.glsl"

layout(std430, binding = 0) writeonly buffer Out { float dst[]; };
layout(std430, binding = 1) readonly buffer Tokens { uint tokens[]; };
layout(std430, binding = 2) readonly buffer Wte { float wte[]; };
layout(std430, binding = 3) readonly buffer Wpe { float wpe[]; };
layout(push_constant) uniform Push { uint n; uint T; uint C; uint V; uint has_positions; } p;

void main() {
    for (uint i = gl_GlobalInvocationID.x; i < p.n; i += grid_stride()) {
        uint bt = i / p.C;
        uint c = i - bt * p.C;
        uint t = bt % p.T;
        uint token = tokens[bt];
        float value = nan_value();
        if (token < p.V) {
            value = wte[token * p.C + c];
            if (p.has_positions != 0u) value += wpe[t * p.C + c];
        }
        dst[i] = value;
    }
}
