// Included by every shader. Conventions:
// - specialization constant 0 is the workgroup size in x, read as GROUP_SIZE (never through
//   gl_WorkGroupSize: glslang 11, Debian 12's, folds its components to their default values,
//   so a stride computed from it is wrong at run time; the build rejects it). Constants 1 and 2
//   are the y and z sizes where a shader uses them; tile sizes follow from constant 3 on;
// - shapes arrive in push constants (at most 128 bytes);
// - nothing assumes a subgroup size: reductions go through shared memory, in a fixed order.
layout(local_size_x_id = 0) in;
layout(constant_id = 0) const uint GROUP_SIZE = 64;

// The workgroup's index in a grid of x * y workgroups laid out by t2g_groups_2d.
uint flat_group_id() { return gl_WorkGroupID.x + gl_WorkGroupID.y * gl_NumWorkGroups.x; }

// Stride of a one-dimensional grid-stride loop.
uint grid_stride() { return gl_NumWorkGroups.x * GROUP_SIZE; }

float nan_value() { return uintBitsToFloat(0x7FC00000u); }

// NaN or +-Inf, read from the bits (all exponent bits set), so no compiler's float assumptions
// can fold the test away.
bool not_finite(float x) { return (floatBitsToUint(x) & 0x7F800000u) == 0x7F800000u; }
