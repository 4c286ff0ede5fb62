#version 450
#include "storage.glsl"
// out (N,F) = silu(gate) * up, where row n of h (N,2F) holds gate in columns [0,F) and up in
// columns [F,2F). One invocation per element of out, in a grid-stride loop. out may be stored as
// bf16 or f16 (variants, shaders/variants.txt: the role ACT); h stays f32.
//
// Quads (f32 out only; quads != 0 where F % 4 == 0 and the host's texel view of h serves, whose
// texel first[0] holds h's element 0): four elements of out a step, their gates and ups read as
// texels (llvmpipe compiles a texel fetch as vector loads, a storage-buffer load as a loop over
// lanes and components) and out written as vec4s, as gelu_forward.comp does. The same operations
// on each element either way, so the same bits.
//
// KEEP (variants only): h (role A) is also stored into keep (N,2F) (binding 2, role B) in keep's
// type (rounded to bf16 or f16, or widened to f32), and out comes from those stored values, as
// gelu_forward.comp's KEEP (t2g_swiglu_forward_keep).
#include "common.glsl"
#include "swiglu.glsl"

layout(std430, binding = 0) writeonly buffer Out { ACT_T dst[]; };
#ifdef KEEP
layout(std430, binding = 1) readonly buffer H { A_T h[]; };
layout(std430, binding = 2) writeonly buffer Keep { B_T keep[]; };
#else
layout(std430, binding = 1) readonly buffer H { float h[]; };
#endif
#if !defined(ACT_BF16) && !defined(ACT_F16)
layout(std430, binding = 0) writeonly buffer Out4 { vec4 dst4[]; };
layout(binding = 2) uniform samplerBuffer h_quads;
#endif
layout(push_constant) uniform Push { uint n; uint F; uint quads; uint first[3]; } p; // n = N * F, first[0]: h_quads'

float swiglu_one(float gate, float up) { return silu(gate) * up; }

void main() {
    uint singles = 0u; // elements [0, singles) went as quads
#if !defined(ACT_BF16) && !defined(ACT_F16)
    if (p.quads != 0u) {
        uint F4 = p.F / 4u, quads = p.n / 4u;
        for (uint q = gl_GlobalInvocationID.x; q < quads; q += grid_stride()) {
            uint row = q / F4, gate = row * 2u * F4 + (q - row * F4); // h's quad of the gates
            vec4 g = texelFetch(h_quads, int(p.first[0] + gate)), u = texelFetch(h_quads, int(p.first[0] + gate + F4));
            dst4[q] = vec4(swiglu_one(g.x, u.x), swiglu_one(g.y, u.y), swiglu_one(g.z, u.z), swiglu_one(g.w, u.w));
        }
        singles = 4u * quads;
    }
#endif
    for (uint i = singles + gl_GlobalInvocationID.x; i < p.n; i += grid_stride()) {
        uint row = i / p.F, f = i - row * p.F;
        uint gate = row * 2 * p.F + f;
#ifdef KEEP
        float g = A_LOAD(h[gate]), u = A_LOAD(h[gate + p.F]);
        keep[gate] = B_STORE(g);
        keep[gate + p.F] = B_STORE(u);
        dst[i] = ACT_STORE(swiglu_one(B_LOAD(B_STORE(g)), B_LOAD(B_STORE(u)))); // the values keep holds
#else
        dst[i] = ACT_STORE(swiglu_one(h[gate], h[gate + p.F]));
#endif
    }
}
