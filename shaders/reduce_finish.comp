#version 450
// Stage 2 of the deterministic reductions: one workgroup adds partials (count) in a fixed
// order (invocation k sums k, k + GROUP_SIZE, ...; then a shared-memory tree, GROUP_SIZE a
// power of two) and writes
//   mode 0 (dot):       out[0] = total
//   mode 1 (grad norm): out[0] = norm = sqrt(total),
//                       out[1] = min(1, max_norm / (norm + 1e-6)), or 1 when max_norm <= 0;
//                       0 when the norm is not finite (adamw.comp then skips the update).
#include "common.glsl"

layout(std430, binding = 0) writeonly buffer Out { float dst[]; };
layout(std430, binding = 1) readonly buffer Partials { float partials[]; };
layout(push_constant) uniform Push { uint count; uint mode; float max_norm; } p;

shared float sums[GROUP_SIZE];

void main() {
    uint lid = gl_LocalInvocationID.x;
    float sum = 0.0;
    for (uint k = lid; k < p.count; k += GROUP_SIZE) sum += partials[k];
    sums[lid] = sum;
    barrier();
    for (uint half_size = GROUP_SIZE / 2u; half_size > 0u; half_size >>= 1) {
        if (lid < half_size) sums[lid] += sums[lid + half_size];
        barrier();
    }
    if (lid != 0u) return;
    float total = sums[0];
    if (p.mode == 0u) {
        dst[0] = total;
    } else {
        float norm = sqrt(total);
        dst[0] = norm;
        float scale = p.max_norm > 0.0 ? min(1.0, p.max_norm / (norm + 1e-6)) : 1.0;
        dst[1] = not_finite(norm) ? 0.0 : scale;
    }
}
