#version 450
// out (B,T,C) = wte (V,C)[tokens (B,T)] + wpe (>= T, C)[t]; tokens (B,T) uint32.
// has_positions = 0: out = wte[tokens] only, and binding 3 (then wte again) is never read.
// A token >= V makes its whole row NaN and is never used as an index.
// One invocation per output element, grid-stride over n = B * T * C. Quads (quads != 0 where
// C % 4 == 0 and the host's texel views of wte and wpe serve: bindings 4 and 5, whose texel
// first[k] holds element 0): four channels a step, read as texels (llvmpipe compiles a texel
// fetch as vector loads, a storage-buffer load as a loop over lanes and components) and written
// as a vec4: the same sums.
#include "common.glsl"

layout(std430, binding = 0) writeonly buffer Out { float dst[]; };
layout(std430, binding = 1) readonly buffer Tokens { uint tokens[]; };
layout(std430, binding = 2) readonly buffer Wte { float wte[]; };
layout(std430, binding = 3) readonly buffer Wpe { float wpe[]; };
layout(std430, binding = 0) writeonly buffer Out4 { vec4 dst4[]; };
layout(binding = 4) uniform samplerBuffer wte_quads;
layout(binding = 5) uniform samplerBuffer wpe_quads;
layout(push_constant) uniform Push {
    uint n; uint T; uint C; uint V; uint has_positions; uint quads; uint first[3];
} p;

void main() {
    if (p.quads != 0u) {
        uint C4 = p.C / 4u, quads = p.n / 4u;
        for (uint q = gl_GlobalInvocationID.x; q < quads; q += grid_stride()) {
            uint bt = q / C4, c4 = q - bt * C4, t = bt % p.T, token = tokens[bt];
            vec4 value = vec4(nan_value());
            if (token < p.V) {
                value = texelFetch(wte_quads, int(p.first[0] + token * C4 + c4));
                if (p.has_positions != 0u) value += texelFetch(wpe_quads, int(p.first[1] + t * C4 + c4));
            }
            dst4[q] = value;
        }
        return;
    }
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
