#version 450
// A decode step's embedding: row r of the step is rows[r] = (token, slot, position), and
//   out[r] (C) = wte (V,C)[token] + wpe (P,C)[position]
// has_positions = 0: out[r] = wte[token] only, and binding 3 (then wte again) is never read. A
// token >= V, or a position >= P where there is a position table, makes its row NaN and is
// never used as an index. One invocation per output element, grid-stride over n * C.
#include "common.glsl"

layout(std430, binding = 0) writeonly buffer Out { float dst[]; };
layout(std430, binding = 1) readonly buffer Rows { uint rows[]; };
layout(std430, binding = 2) readonly buffer Wte { float wte[]; };
layout(std430, binding = 3) readonly buffer Wpe { float wpe[]; };
layout(push_constant) uniform Push { uint count; uint C; uint V; uint P; uint has_positions; } p;  // count = n * C

void main() {
    for (uint i = gl_GlobalInvocationID.x; i < p.count; i += grid_stride()) {
        uint r = i / p.C;
        uint c = i - r * p.C;
        uint token = rows[3u * r], pos = rows[3u * r + 2u];
        bool positions = p.has_positions != 0u;
        float value = nan_value();
        if (token < p.V && (!positions || pos < p.P)) {
            value = wte[token * p.C + c];
            if (positions) value += wpe[pos * p.C + c];
        }
        dst[i] = value;
    }
}
