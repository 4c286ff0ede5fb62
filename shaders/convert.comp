#version 450
// dst[i] = src[i] in dst's type (shaders/storage.glsl: ACT for dst, A for src), for i < n. Variants
// (shaders/variants.txt): f32 rounded to bf16 or f16, or bf16 or f16 widened to f32; without one,
// a copy.
#include "storage.glsl"
#include "common.glsl"

layout(std430, binding = 0) restrict writeonly buffer Dst { ACT_T dst[]; };
layout(std430, binding = 1) restrict readonly buffer Src { A_T src[]; };
layout(push_constant) uniform Push { uint n; } p;

void main() {
    for (uint i = gl_GlobalInvocationID.x; i < p.n; i += grid_stride()) dst[i] = ACT_STORE(A_LOAD(src[i]));
}
