// The row layout of LayerNorm and RMSNorm, shared by layernorm_forward.comp, layernorm_backward.comp,
// rmsnorm_forward.comp and rmsnorm_backward.comp (host side: src/kernels/norm_rows.h).
// The GROUP_SIZE invocations of a workgroup form GROUP_SIZE / LANES rows of LANES lanes each
// (LANES, constant 1, a power of two dividing GROUP_SIZE; the host picks it from C). Invocation
// i works on row flat_group_id() * ROWS_PER_GROUP + i / LANES; its lane i % LANES strides over
// the row's columns. Rows past N take part in every barrier but touch no memory.
layout(constant_id = 1) const uint LANES = 256;
const uint ROWS_PER_GROUP = GROUP_SIZE / LANES;
const float LAYERNORM_EPS = 1e-5;

shared vec2 layernorm_partials[GROUP_SIZE];

uint layernorm_lane() { return gl_LocalInvocationID.x % LANES; }
uint layernorm_row() { return flat_group_id() * ROWS_PER_GROUP + gl_LocalInvocationID.x / LANES; }

// The sum of v over the LANES lanes of this invocation's row, added pairwise in a fixed tree
// (lane l takes lane l + s for s = LANES/2, ..., 1); every lane gets the total. Has barriers:
// every invocation of the workgroup must call it.
vec2 layernorm_row_sum(vec2 v) {
    uint i = gl_LocalInvocationID.x;
    uint lane = i % LANES;
    layernorm_partials[i] = v;
    barrier();
    for (uint s = LANES / 2; s > 0; s >>= 1) {
        if (lane < s) layernorm_partials[i] += layernorm_partials[i + s];
        barrier();
    }
    vec2 total = layernorm_partials[i - lane];
    barrier(); // everyone has read the total before the array is reused
    return total;
}
