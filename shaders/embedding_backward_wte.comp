#version 450
// dwte (V,C) += dout (B,T,C) scattered by tokens (B,T): for each row v, the dout rows of the
// positions (b,t) with tokens[b][t] == v, added in position order. Tokens >= V add nothing.
//
// Deterministic without atomics: workgroup g (flat_group_id) owns the rows
// [g * ROWS_PER_GROUP, (g + 1) * ROWS_PER_GROUP), so each element of dwte has one writer, its
// invocation c % GROUP_SIZE of that workgroup, which adds in position order. The workgroup scans
// the N = B * T token ids in tiles of 32 * GROUP_SIZE positions: invocation w tests the 32
// positions tile + 32 w .. tile + 32 w + 31 and leaves a bit mask of those that fall in its rows
// in shared memory; then every invocation walks the masks in order (the same loop for all:
// uniform), and for each set bit adds that position's dout row into dwte, the invocations
// covering the C channels. Rows that no token hits cost only the scan.
#include "common.glsl"
layout(constant_id = 1) const uint ROWS_PER_GROUP = 16;

layout(std430, binding = 0) buffer DWte { float dwte[]; };
layout(std430, binding = 1) readonly buffer DOut { float dout[]; };
layout(std430, binding = 2) readonly buffer Tokens { uint tokens[]; };
layout(push_constant) uniform Push { uint N; uint C; uint V; } p;

// Bit j of hits[w]: position tile + 32 w + j holds a token of this workgroup's rows.
shared uint hits[GROUP_SIZE];

void main() {
    uint first_row = flat_group_id() * ROWS_PER_GROUP;
    if (first_row >= p.V) return; // a whole workgroup past the last row (2-D grid padding)
    uint rows = min(ROWS_PER_GROUP, p.V - first_row);
    uint lid = gl_LocalInvocationID.x;
    uint tile_positions = 32u * GROUP_SIZE;
    for (uint tile = 0; tile < p.N; tile += tile_positions) {
        uint start = tile + 32u * lid;
        uint mask = 0u;
        for (uint j = 0; j < 32u; j++) {
            uint pos = start + j;
            // unsigned: tokens below first_row wrap to large values; tokens >= V fail too
            if (pos < p.N && tokens[pos] - first_row < rows) mask |= 1u << j;
        }
        hits[lid] = mask;
        barrier();
        uint words = min(GROUP_SIZE, (p.N - tile + 31u) / 32u); // the words that cover positions < N
        for (uint w = 0; w < words; w++) {
            uint bits = hits[w];
            while (bits != 0u) {
                uint pos = tile + 32u * w + uint(findLSB(bits));
                bits &= bits - 1u;
                uint row = tokens[pos];
                for (uint c = lid; c < p.C; c += GROUP_SIZE) dwte[row * p.C + c] += dout[pos * p.C + c];
            }
        }
        barrier(); // every invocation has read hits before the next tile overwrites it
    }
}
