#version 450
#extension GL_EXT_control_flow_attributes : require
#include "storage.glsl"
// The one SGEMM behind matmul's forward and backward (src/kernels/matmul.c):
//   C (M,N) = A (M,K) B (K,N) [+ bias (N)] [+ C, when accumulating], or an epilogue's outputs
//   (gemm_epilogue.glsl)
// A is stored as A[m*lda + k] (A_TRANS false) or A[k*lda + m] (A_TRANS true); B as
// B[k*ldb + n] (B_TRANS false) or B[n*ldb + k] (B_TRANS true); C as C[m*ldc + n].
//
// Each workgroup computes a BM x BN tile of C, stepping through K in slices of BK: the A and B
// slices are staged in shared memory (double-buffered: the next slice is loaded from global
// memory into registers while the current one is multiplied, then stored into the other buffer,
// so one barrier per slice suffices). Global loads walk the contiguous dimension of each layout,
// so adjacent invocations read adjacent addresses whatever A_TRANS and B_TRANS are.
//
// Each invocation owns TM x TN outputs, as (TM/4) x (TN/4) blocks of 4 x 4: rows
// ii*4*TY + 4*ty + r and columns jj*4*TX + 4*tx + q (TX = BN/TN, TY = BM/TM invocations along n
// and m). Shared tiles hold vec4s along m (A) and n (B), one vec4 of padding per k row, so an
// invocation reads its operands as whole vec4s and adjacent invocations read adjacent vec4s.
//
// A and B may be stored as bf16 or f16 (variants, shaders/variants.txt; storage.glsl's roles A
// and B): converted to f32 as they are loaded; the products and sums are f32, and so is C.
//
// Every output is one invocation's sum over k in increasing order: deterministic. Requires
// BM % TM == 0, BN % TN == 0, TM % 4 == 0, TN % 4 == 0, GROUP_SIZE == (BM/TM) (BN/TN)
// (src/kernels/matmul.c checks its configurations).
#include "common.glsl"

layout(constant_id = 1) const uint BM = 128;
layout(constant_id = 2) const uint BN = 128;
layout(constant_id = 3) const uint BK = 8;
layout(constant_id = 4) const uint TM = 8;
layout(constant_id = 5) const uint TN = 8;
layout(constant_id = 6) const bool A_TRANS = false;
layout(constant_id = 7) const bool B_TRANS = true;
// What the outputs take besides the product: EPILOGUE, gemm_epilogue.glsl (aux in binding 4).
layout(constant_id = 8) const uint EPILOGUE = 0u;

layout(std430, binding = 0) restrict buffer Cbuf { float c[]; };
layout(std430, binding = 1) restrict readonly buffer Abuf { A_T a[]; };
layout(std430, binding = 2) restrict readonly buffer Bbuf { B_T b[]; };
layout(std430, binding = 3) restrict readonly buffer Bias { float bias[]; };
// aux (M,N), with an EPILOGUE; else a stand-in, never read.
layout(std430, binding = 4) restrict readonly buffer Aux { float aux[]; };
layout(push_constant) uniform Push {
    uint M, N, K;
    uint lda, ldb, ldc;
    uint tiles_m, tiles_n; // ceil(M / BM), ceil(N / BN)
    uint flags;            // FLAG_BIAS | FLAG_ACCUMULATE
} p;
#include "gemm_epilogue.glsl"

const uint FLAG_BIAS = 1u;
const uint FLAG_ACCUMULATE = 2u;
// Workgroups walk the tiles in bands of GROUP_ROWS tile rows, column by column within a band,
// so the A rows and B columns in use at once stay few (cache reuse on large problems).
const uint GROUP_ROWS = 8u;

const uint TX = BN / TN;
const uint TY = BM / TM;
const uint TM4 = TM / 4u;
const uint TN4 = TN / 4u;
const uint A_STRIDE = BM / 4u + 1u; // vec4s per k row of the shared A tile (one of padding)
const uint B_STRIDE = BN / 4u + 1u;
const uint A_BUFFER = BK * A_STRIDE;
const uint B_BUFFER = BK * B_STRIDE;
const uint A_LOADS = (BM * BK + GROUP_SIZE - 1u) / GROUP_SIZE; // per invocation and slice
const uint B_LOADS = (BN * BK + GROUP_SIZE - 1u) / GROUP_SIZE;

shared vec4 As[2u * A_BUFFER]; // [buffer][k][m / 4] (component m % 4)
shared vec4 Bs[2u * B_BUFFER]; // [buffer][k][n / 4] (component n % 4)

float a_next[A_LOADS];
float b_next[B_LOADS];

// Loads the A and B slices of k0 .. k0+BK-1 into registers (zero outside the matrices).
void load_slice(uint m0, uint n0, uint k0) {
    uint lid = gl_LocalInvocationID.x;
    [[unroll]] for (uint i = 0u; i < A_LOADS; i++) {
        uint e = lid + i * GROUP_SIZE;
        uint m = A_TRANS ? e % BM : e / BK;
        uint k = A_TRANS ? e / BM : e % BK;
        uint gm = m0 + m, gk = k0 + k;
        float v = 0.0;
        if (e < BM * BK && gm < p.M && gk < p.K) v = A_LOAD(a[A_TRANS ? gk * p.lda + gm : gm * p.lda + gk]);
        a_next[i] = v;
    }
    [[unroll]] for (uint i = 0u; i < B_LOADS; i++) {
        uint e = lid + i * GROUP_SIZE;
        uint n = B_TRANS ? e / BK : e % BN;
        uint k = B_TRANS ? e % BK : e / BN;
        uint gn = n0 + n, gk = k0 + k;
        float v = 0.0;
        if (e < BN * BK && gn < p.N && gk < p.K) v = B_LOAD(b[B_TRANS ? gn * p.ldb + gk : gk * p.ldb + gn]);
        b_next[i] = v;
    }
}

// Stores the registers of load_slice into shared buffer `buf`.
void store_slice(uint buf) {
    uint lid = gl_LocalInvocationID.x;
    [[unroll]] for (uint i = 0u; i < A_LOADS; i++) {
        uint e = lid + i * GROUP_SIZE;
        uint m = A_TRANS ? e % BM : e / BK;
        uint k = A_TRANS ? e / BM : e % BK;
        if (e < BM * BK) As[buf * A_BUFFER + k * A_STRIDE + m / 4u][m % 4u] = a_next[i];
    }
    [[unroll]] for (uint i = 0u; i < B_LOADS; i++) {
        uint e = lid + i * GROUP_SIZE;
        uint n = B_TRANS ? e / BK : e % BN;
        uint k = B_TRANS ? e % BK : e / BN;
        if (e < BN * BK) Bs[buf * B_BUFFER + k * B_STRIDE + n / 4u][n % 4u] = b_next[i];
    }
}

void main() {
    uint tile = flat_group_id();
    if (tile >= p.tiles_m * p.tiles_n) return; // the whole workgroup: no barrier is skipped
    uint band_tiles = GROUP_ROWS * p.tiles_n;
    uint first_row = (tile / band_tiles) * GROUP_ROWS;
    uint band_rows = min(p.tiles_m - first_row, GROUP_ROWS);
    uint in_band = tile % band_tiles;
    uint m0 = (first_row + in_band % band_rows) * BM;
    uint n0 = (in_band / band_rows) * BN;

    uint lid = gl_LocalInvocationID.x;
    uint tx = lid % TX, ty = lid / TX;

    vec4 acc[TM * TN4];
    [[unroll]] for (uint i = 0u; i < TM * TN4; i++) acc[i] = vec4(0.0);

    uint slices = (p.K + BK - 1u) / BK;
    load_slice(m0, n0, 0u);
    store_slice(0u);
    barrier();
    for (uint s = 0u; s < slices; s++) {
        uint buf = s & 1u;
        bool more = s + 1u < slices;
        if (more) load_slice(m0, n0, (s + 1u) * BK);
        uint a_base = buf * A_BUFFER + ty, b_base = buf * B_BUFFER + tx;
        [[unroll]] for (uint k = 0u; k < BK; k++) {
            vec4 av[TM4], bv[TN4];
            [[unroll]] for (uint ii = 0u; ii < TM4; ii++) av[ii] = As[a_base + k * A_STRIDE + ii * TY];
            [[unroll]] for (uint jj = 0u; jj < TN4; jj++) bv[jj] = Bs[b_base + k * B_STRIDE + jj * TX];
            [[unroll]] for (uint ii = 0u; ii < TM4; ii++)
                [[unroll]] for (uint r = 0u; r < 4u; r++)
                    [[unroll]] for (uint jj = 0u; jj < TN4; jj++)
                        acc[(ii * 4u + r) * TN4 + jj] += av[ii][r] * bv[jj];
        }
        if (more) store_slice(buf ^ 1u);
        barrier();
    }

    bool with_bias = (p.flags & FLAG_BIAS) != 0u;
    bool accumulate = (p.flags & FLAG_ACCUMULATE) != 0u;
    [[unroll]] for (uint ii = 0u; ii < TM4; ii++)
        [[unroll]] for (uint r = 0u; r < 4u; r++) {
            uint row = m0 + ii * 4u * TY + 4u * ty + r;
            if (row >= p.M) continue;
            [[unroll]] for (uint jj = 0u; jj < TN4; jj++)
                [[unroll]] for (uint q = 0u; q < 4u; q++) {
                    uint col = n0 + jj * 4u * TX + 4u * tx + q;
                    if (col >= p.N) continue;
                    float v = acc[(ii * 4u + r) * TN4 + jj][q];
                    if (with_bias) v += bias[col];
                    uint at = row * p.ldc + col;
                    c[at] = epilogue_one(v, at, accumulate);
                }
        }
}
