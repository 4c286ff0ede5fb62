#version 450
#include "storage.glsl"
// out = gelu(inp); out may be stored as bf16 or f16 (variants, shaders/variants.txt: the role ACT)
//
// KEEP (variants only): inp (role A) is also stored into keep (binding 2, role B) in keep's type
// (rounded to bf16 or f16, or widened to f32), and out is the GELU of that stored value: a 16-bit
// model keeps its MLP's input in 16 bits, and the value the forward activates is the one the
// backward reads back (t2g_gelu_forward_keep).
//
// Quads (f32 out only; quads != 0 where the host's texel view of inp serves): four elements a step,
// inp read as texels of quads (inp_quads, whose texel first[0] holds inp's element 0: llvmpipe
// compiles a texel fetch as vector loads, a storage-buffer load as a loop over lanes and
// components) and out written as vec4s; the elements past the last whole quad one at a time.
// The same operation on each element either way, so the same bits.
#include "common.glsl"
#include "gelu.glsl"

layout(std430, binding = 0) writeonly buffer Out { ACT_T dst[]; };
#ifdef KEEP
layout(std430, binding = 1) readonly buffer Inp { A_T inp[]; };
layout(std430, binding = 2) writeonly buffer Keep { B_T keep[]; };
#else
layout(std430, binding = 1) readonly buffer Inp { float inp[]; };
#endif
#if !defined(ACT_BF16) && !defined(ACT_F16)
layout(std430, binding = 0) writeonly buffer Out4 { vec4 dst4[]; };
layout(binding = 2) uniform samplerBuffer inp_quads;
#endif
layout(push_constant) uniform Push { uint n; uint quads; uint first[3]; } p; // first[0]: inp_quads'

void main() {
    uint singles = 0u; // elements [0, singles) went as quads
#if !defined(ACT_BF16) && !defined(ACT_F16)
    if (p.quads != 0u) {
        uint quads = p.n / 4u;
        for (uint q = gl_GlobalInvocationID.x; q < quads; q += grid_stride()) {
            vec4 x = texelFetch(inp_quads, int(p.first[0] + q));
            dst4[q] = vec4(gelu(x.x), gelu(x.y), gelu(x.z), gelu(x.w));
        }
        singles = 4u * quads;
    }
#endif
#ifdef KEEP
    for (uint i = gl_GlobalInvocationID.x; i < p.n; i += grid_stride()) {
        float x = A_LOAD(inp[i]);
        keep[i] = B_STORE(x);
        dst[i] = ACT_STORE(gelu(B_LOAD(B_STORE(x)))); // the value keep holds
    }
#else
    for (uint i = singles + gl_GlobalInvocationID.x; i < p.n; i += grid_stride()) dst[i] = ACT_STORE(gelu(inp[i]));
#endif
}
