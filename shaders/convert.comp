#version 450
// dst[i] = src[i] rounded to dst's type (shaders/storage.glsl: ACT), for i < n. Variants
// (shaders/variants.txt): bf16 and f16; without one, a copy.
#include "storage.glsl"
#include "common.glsl"

layout(std430, binding = 0) restrict writeonly buffer Dst { ACT_T dst[]; };
layout(std430, binding = 1) restrict readonly buffer Src { float src[]; };
layout(push_constant) uniform Push { uint n; } p;

void main() {
    for (uint i = gl_GlobalInvocationID.x; i < p.n; i += grid_stride()) dst[i] = ACT_STORE(src[i]);
}
