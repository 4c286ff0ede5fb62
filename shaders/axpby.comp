#version 450
// y[i] = alpha * x[i] + beta * y[i] for i < n; beta == 0 does not read y.
#include "common.glsl"

layout(std430, binding = 0) buffer Y { float y[]; };
layout(std430, binding = 1) readonly buffer X { float x[]; };
layout(push_constant) uniform Push { uint n; float alpha; float beta; } p;

void main() {
    for (uint i = gl_GlobalInvocationID.x; i < p.n; i += grid_stride()) {
        float scaled = p.alpha * x[i];
        y[i] = p.beta == 0.0 ? scaled : scaled + p.beta * y[i];
    }
}
