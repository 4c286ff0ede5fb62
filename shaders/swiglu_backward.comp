#version 450
// dh (N,2F) += (dout * up * silu'(gate), dout * silu(gate)) into the (gate, up) halves of each
// row, from dout (N,F) and h (N,2F) (layout: swiglu_forward.comp). One invocation per element
// of dout, writing one gate and one up element, so no two invocations touch the same element.
#include "common.glsl"
#include "swiglu.glsl"

layout(std430, binding = 0) buffer DH { float dh[]; };
layout(std430, binding = 1) readonly buffer H { float h[]; };
layout(std430, binding = 2) readonly buffer DOut { float dout[]; };
layout(push_constant) uniform Push { uint n; uint F; } p; // n = N * F

void main() {
    for (uint i = gl_GlobalInvocationID.x; i < p.n; i += grid_stride()) {
        uint row = i / p.F, f = i - row * p.F;
        uint gate = row * 2 * p.F + f, up = gate + p.F;
        float g = h[gate], d = dout[i];
        dh[gate] += d * h[up] * silu_grad(g);
        dh[up] += d * silu(g);
    }
}
