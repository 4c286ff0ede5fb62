#version 450
#include "storage.glsl"
// out (N,F) = silu(gate) * up, where row n of h (N,2F) holds gate in columns [0,F) and up in
// columns [F,2F). One invocation per element of out, in a grid-stride loop. out may be stored as
// bf16 or f16 (variants, shaders/variants.txt: the role ACT); h stays f32.
#include "common.glsl"
#include "swiglu.glsl"

layout(std430, binding = 0) writeonly buffer Out { ACT_T dst[]; };
layout(std430, binding = 1) readonly buffer H { float h[]; };
layout(push_constant) uniform Push { uint n; uint F; } p; // n = N * F

void main() {
    for (uint i = gl_GlobalInvocationID.x; i < p.n; i += grid_stride()) {
        uint row = i / p.F, f = i - row * p.F;
        uint gate = row * 2 * p.F + f;
        dst[i] = ACT_STORE(silu(h[gate]) * h[gate + p.F]);
    }
}
