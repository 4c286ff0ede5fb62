#version 450
// dinp += gelu'(inp) * dout
//
// Quads (quads != 0: the host's texel views of dinp, inp and dout serve): four elements a step,
// read as texels (bindings 3 to 5, whose texel first[k] holds element 0: llvmpipe compiles a
// texel fetch as vector loads, a storage-buffer load as a loop over lanes and components) and
// dinp written as vec4s; the elements past the last whole quad one at a time. The same
// operations on each element either way, so the same bits.
#include "common.glsl"
#include "gelu.glsl"

layout(std430, binding = 0) buffer DInp { float dinp[]; };
layout(std430, binding = 1) readonly buffer Inp { float inp[]; };
layout(std430, binding = 2) readonly buffer DOut { float dout[]; };
layout(std430, binding = 0) buffer DInp4 { vec4 dinp4[]; };
layout(binding = 3) uniform samplerBuffer dinp_quads;
layout(binding = 4) uniform samplerBuffer inp_quads;
layout(binding = 5) uniform samplerBuffer dout_quads;
layout(push_constant) uniform Push { uint n; uint quads; uint first[3]; } p;

float gelu_backward_one(float d, float x, float g) { return d + gelu_grad(x) * g; }

void main() {
    uint singles = 0u; // elements [0, singles) went as quads
    if (p.quads != 0u) {
        uint quads = p.n / 4u;
        for (uint q = gl_GlobalInvocationID.x; q < quads; q += grid_stride()) {
            vec4 d = texelFetch(dinp_quads, int(p.first[0] + q)), x = texelFetch(inp_quads, int(p.first[1] + q));
            vec4 g = texelFetch(dout_quads, int(p.first[2] + q));
            dinp4[q] = vec4(gelu_backward_one(d.x, x.x, g.x), gelu_backward_one(d.y, x.y, g.y),
                            gelu_backward_one(d.z, x.z, g.z), gelu_backward_one(d.w, x.w, g.w));
        }
        singles = 4u * quads;
    }
    for (uint i = singles + gl_GlobalInvocationID.x; i < p.n; i += grid_stride())
        dinp[i] = gelu_backward_one(dinp[i], inp[i], dout[i]);
}
