#version 450
// dh (N,2F) += (dout * up * silu'(gate), dout * silu(gate)) into the (gate, up) halves of each
// row, from dout (N,F) and h (N,2F) (layout: swiglu_forward.comp). One invocation per element
// of dout, writing one gate and one up element, so no two invocations touch the same element.
//
// Quads (quads != 0 where F % 4 == 0 and the host's texel views of dh, h and dout serve: bindings
// 3 to 5, whose texel first[k] holds element 0): four elements of dout a step, dh's gates and ups
// read as texels and written as vec4s, as swiglu_forward.comp does. The same operations on each
// element either way, so the same bits.
#include "common.glsl"
#include "swiglu.glsl"

layout(std430, binding = 0) buffer DH { float dh[]; };
layout(std430, binding = 1) readonly buffer H { float h[]; };
layout(std430, binding = 2) readonly buffer DOut { float dout[]; };
layout(std430, binding = 0) buffer DH4 { vec4 dh4[]; };
layout(binding = 3) uniform samplerBuffer dh_quads;
layout(binding = 4) uniform samplerBuffer h_quads;
layout(binding = 5) uniform samplerBuffer dout_quads;
layout(push_constant) uniform Push { uint n; uint F; uint quads; uint first[3]; } p; // n = N * F

// dh's gate and up after one element: (dgate + d * up * silu'(gate), dup + d * silu(gate))
vec2 swiglu_backward_one(float dgate, float dup, float gate, float up, float d) {
    return vec2(dgate + d * up * silu_grad(gate), dup + d * silu(gate));
}

void main() {
    uint singles = 0u; // elements [0, singles) went as quads
    if (p.quads != 0u) {
        uint F4 = p.F / 4u, quads = p.n / 4u;
        for (uint q = gl_GlobalInvocationID.x; q < quads; q += grid_stride()) {
            uint row = q / F4, gate = row * 2u * F4 + (q - row * F4), up = gate + F4; // quads of h and dh
            vec4 dg = texelFetch(dh_quads, int(p.first[0] + gate)), du = texelFetch(dh_quads, int(p.first[0] + up));
            vec4 g = texelFetch(h_quads, int(p.first[1] + gate)), u = texelFetch(h_quads, int(p.first[1] + up));
            vec4 d = texelFetch(dout_quads, int(p.first[2] + q));
            vec2 r0 = swiglu_backward_one(dg.x, du.x, g.x, u.x, d.x), r1 = swiglu_backward_one(dg.y, du.y, g.y, u.y, d.y);
            vec2 r2 = swiglu_backward_one(dg.z, du.z, g.z, u.z, d.z), r3 = swiglu_backward_one(dg.w, du.w, g.w, u.w, d.w);
            dh4[gate] = vec4(r0.x, r1.x, r2.x, r3.x);
            dh4[up] = vec4(r0.y, r1.y, r2.y, r3.y);
        }
        singles = 4u * quads;
    }
    for (uint i = singles + gl_GlobalInvocationID.x; i < p.n; i += grid_stride()) {
        uint row = i / p.F, f = i - row * p.F;
        uint gate = row * 2 * p.F + f, up = gate + p.F;
        vec2 r = swiglu_backward_one(dh[gate], dh[up], h[gate], h[up], dout[i]);
        dh[gate] = r.x;
        dh[up] = r.y;
    }
}
