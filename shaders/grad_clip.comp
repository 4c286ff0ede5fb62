#version 450
// grads (n) *= norm_and_scale[1], the factor t2g_grad_norm left on the device.
#include "common.glsl"

layout(std430, binding = 0) buffer Grads { float grads[]; };
layout(std430, binding = 1) readonly buffer NormAndScale { float norm_and_scale[]; };
layout(push_constant) uniform Push { uint n; } p;

void main() {
    float scale = norm_and_scale[1];
    for (uint i = gl_GlobalInvocationID.x; i < p.n; i += grid_stride()) grads[i] *= scale;
}
