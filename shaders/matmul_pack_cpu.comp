#version 450
#include "storage.glsl"
// Packs rows of a GEMM operand into panels for matmul_panels_cpu.comp (CPU devices), as f32:
//   panel[(t * K4 + kq) * W + r] = the quad (src(row, 4 kq), .., src(row, 4 kq + 3))
// for the chunk's rows row0 + t W + r (t a tile of W rows, r < W), kq < K4 = ceil(K / 4); a row
// past the operand's last is the last row again (its outputs are never stored), a k past K is 0
// (never read: the GEMM takes the last quad's components below K one by one). The operand is A
// (M,K) or B^T (N,K), element (row, k) stored at src[row * ld + k], or transposed (TRANS: A
// stored (K,M) or B stored (K,N)) at src[k * ld + row]; as f32, bf16 or f16 (variants, the A
// role of storage.glsl: converted exactly to f32).
//
// Why panels: matmul_gemm_cpu's 8 lanes read 64 columns of B^T (8 a lane) and 16 rows of A in
// every k step, each a row of its own in the buffer. Where the rows lie 2 or 4 KiB apart, they fall into a few
// sets of the L1 cache and evict one another (measured on lavapipe, Zen 5: 1024^3 at 57 GFLOP/s,
// 1088^3 at 74); in a panel, a k step of a tile's rows is one contiguous run of W quads.
//
// A dispatch packs panel rows pr0 .. pr0 + count - 1 (panel row t K4 + kq: the W quads of tile
// t's rows at k quad kq) into its binding of the panel. An invocation packs 4 rows (a block) of
// one panel row: it reads them as 4 quads of the view src_quads where they are whole (its texels
// hold 4 elements each: along k where k is contiguous, along rows where the operand is
// transposed), else element by element from src.
#include "common.glsl"

layout(constant_id = 1) const bool TRANS = false;
// QUADS_ONLY: src_quads hold the operand, K % 4 == 0 and, transposed, rows % 4 == 0, so every
// block is read as quads and the element-by-element way is not compiled (lavapipe runs both sides
// of every `if` under a lane mask: the element loads cost every block their time even where no
// lane takes them). A transposed block past the operand's last row reads the last 4 rows instead
// of the last one 4 times: a tile's rows past the operand are never stored either way.
layout(constant_id = 2) const bool QUADS_ONLY = false;

layout(std430, binding = 0) writeonly buffer Panel { vec4 panel[]; }; // this dispatch's panel rows
layout(std430, binding = 1) restrict readonly buffer Src { A_T src[]; };
// The operand as quads: element e is in quad src_first + e / 4.
layout(binding = 2) uniform A4_SAMPLER src_quads;
layout(push_constant) uniform Push {
    uint rows;      // the operand's rows (M or N)
    uint K;
    uint ld;
    uint row0;      // the first row of the panels' first tile, a multiple of 4
    uint pr0;       // the first panel row of this dispatch
    uint count;     // panel rows in this dispatch
    uint W;         // rows of a tile, a multiple of 4
    uint K4;        // ceil(K / 4)
    uint flags;     // FLAG_QUADS
    uint src_first; // the quad of src_quads where the operand starts
} p;

const uint FLAG_QUADS = 1u; // src_quads holds the operand and ld % 4 == 0

float element(uint row, uint k) {
    if (k >= p.K) return 0.0;
    row = min(row, p.rows - 1u);
    return A_LOAD(src[TRANS ? k * p.ld + row : row * p.ld + k]);
}

vec4 quad_at(uint e) { return A4_LOAD(texelFetch(src_quads, int(p.src_first + e / 4u))); }

void main() {
    uint g = flat_group_id() * GROUP_SIZE + gl_LocalInvocationIndex, blocks = p.W / 4u;
    if (g >= p.count * blocks) return;
    // Consecutive invocations read consecutive addresses: along k (panel rows) where k is
    // contiguous, along blocks of rows where rows are.
    uint row = TRANS ? g / blocks : g % p.count, block = TRANS ? g % blocks : g / p.count; // of this dispatch
    uint pr = p.pr0 + row, t = pr / p.K4, kq = pr % p.K4;
    uint first = p.row0 + t * p.W + 4u * block, k = 4u * kq;
    vec4 q[4]; // q[i]: row first + i, k .. k+3
    bool quads = QUADS_ONLY || ((p.flags & FLAG_QUADS) != 0u && k + 4u <= p.K);
    if (quads && !TRANS) {
        for (uint i = 0u; i < 4u; i++) q[i] = quad_at(min(first + i, p.rows - 1u) * p.ld + k);
    } else if (QUADS_ONLY || (quads && first + 4u <= p.rows)) {
        uint from = QUADS_ONLY ? min(first, p.rows - 4u) : first;
        vec4 along[4]; // along[kk]: rows from .. from+3 at k + kk
        for (uint kk = 0u; kk < 4u; kk++) along[kk] = quad_at((k + kk) * p.ld + from);
        for (uint i = 0u; i < 4u; i++) q[i] = vec4(along[0][i], along[1][i], along[2][i], along[3][i]);
    } else {
        for (uint i = 0u; i < 4u; i++)
            q[i] = vec4(element(first + i, k), element(first + i, k + 1u), element(first + i, k + 2u),
                        element(first + i, k + 3u));
    }
    for (uint i = 0u; i < 4u; i++) panel[row * p.W + 4u * block + i] = q[i];
}
