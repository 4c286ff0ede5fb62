#version 450
#extension GL_EXT_control_flow_attributes : require
#extension GL_EXT_shader_explicit_arithmetic_types_float16 : require
#extension GL_KHR_memory_scope_semantics : require
#extension GL_KHR_cooperative_matrix : require
#extension GL_KHR_shader_subgroup_basic : require
#extension GL_GOOGLE_include_directive : require // glslangValidator does not assume it, as glslc does
#include "storage.glsl"
// matmul_gemm.comp's product on cooperative matrices (VK_KHR_cooperative_matrix), for A and B
// stored as f16 (the variant "matmul_coopmat@f16_f16", shaders/coopmat_variants.txt):
//   C (M,N) = A (M,K) B (K,N) [+ bias (N)] [+ C, when accumulating], or an epilogue's outputs
//   (gemm_epilogue.glsl)
// with matmul_gemm's layouts, push constants and workgroup order: A[m*lda + k] (A_TRANS false)
// or A[k*lda + m] (A_TRANS true); B[k*ldb + n] (B_TRANS false) or B[n*ldb + k] (B_TRANS true);
// C[m*ldc + n], f32. Built only with a compiler that knows GL_KHR_cooperative_matrix
// (CMakeLists.txt) and dispatched only on a device that reports the subgroup shape
// f16 x f16 + f32 -> f32, 16 x 16 x 16 (src/kernels/matmul.c).
//
// Tiling. A workgroup computes a BM x BN = 64 x 64 tile of C. Its ROLES = 4 roles, a 2 x 2 grid,
// each own a 32 x 32 quarter: FM x FN = 2 x 2 fragments of 16 x 16, four f32 accumulators
// (cooperative matrices held by one subgroup). K is walked in slices of BK = 32: every
// invocation of the workgroup copies its share of the A slice (64 x 32) and the B slice
// (32 x 64) from global memory into shared memory as f16, zero outside the matrices (so ragged
// edges multiply by zero); then each role loads its A and B fragments from shared memory
// (coopMatLoad) and adds their products to its accumulators, k step by k step (coopMatMulAdd,
// BK / 16 = 2 steps a slice). The next slice is read from global memory into registers while
// the current one is multiplied. At the end each role stores one accumulator at a time into
// its 16 x 16 f32 staging square in shared memory, and its lanes write it to C with the bias,
// the accumulation and the bounds.
//
// Subgroups. GROUP_SIZE (specialization constant 0) is ROLES times the device's largest
// subgroup size, set by the host: a multiple of every subgroup size the device may pick
// (powers of two), so subgroups are full and there are at least ROLES of them. Subgroup s plays
// role s; any beyond ROLES (a device that picked a smaller size) only help with the copies.
// Nothing assumes a particular subgroup size.
//
// Deterministic: each output is one role's sum over the k steps in increasing order, each step
// one coopMatMulAdd (the order of the 16 products and sums within a step is the device's, the
// same at every run). It differs from matmul_gemm's scalar order, so results agree with it to
// within K x 2^-23 of the products' magnitude sum, not bitwise (src/kernels/variant_check.c).
//
// Shared memory: A [BM][BK + 8] and B [BK][BN + 8] f16 (8 f16 of padding a row against bank
// conflicts; every row and fragment starts on a 16-byte boundary), staging ROLES x 16 x 16 f32:
// 5120 + 4608 + 4096 bytes (matmul.c's COOPMAT_SHARED_BYTES).
#include "common.glsl"

#if !defined(A_F16) || !defined(B_F16)
#error matmul_coopmat is built for f16 A and B only (A_F16 and B_F16)
#endif

layout(constant_id = 1) const bool A_TRANS = false;
layout(constant_id = 2) const bool B_TRANS = true;
// What the outputs take besides the product: EPILOGUE, gemm_epilogue.glsl (aux in binding 4).
layout(constant_id = 3) const uint EPILOGUE = 0u;

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
const uint GROUP_ROWS = 8u; // as matmul_gemm: tiles in bands of 8 tile rows, column by column

const uint FRAG = 16u;                    // the cooperative-matrix shape: 16 x 16 x 16
const uint FM = 2u, FN = 2u;              // fragments per role along m and n
const uint ROLES_M = 2u, ROLES_N = 2u;
const uint ROLES = ROLES_M * ROLES_N;
const uint BM = ROLES_M * FM * FRAG;      // 64
const uint BN = ROLES_N * FN * FRAG;      // 64
const uint BK = 32u;
const uint A_STRIDE = BK + 8u;            // f16 per row of the shared A slice
const uint B_STRIDE = BN + 8u;            // f16 per row of the shared B slice
const uint A_LOADS = (BM * BK + GROUP_SIZE - 1u) / GROUP_SIZE; // per invocation and slice
const uint B_LOADS = (BK * BN + GROUP_SIZE - 1u) / GROUP_SIZE;

shared float16_t As[BM * A_STRIDE];      // [m][k]
shared float16_t Bs[BK * B_STRIDE];      // [k][n]
shared float Cs[ROLES * FRAG * FRAG];    // [role][row][column]

float16_t a_next[A_LOADS];
float16_t b_next[B_LOADS];

// Reads the A and B slices of k0 .. k0+BK-1 into registers (zero outside the matrices); the
// element order walks the contiguous dimension of each layout, so adjacent invocations read
// adjacent addresses.
void load_slice(uint m0, uint n0, uint k0) {
    uint lid = gl_LocalInvocationID.x;
    [[unroll]] for (uint i = 0u; i < A_LOADS; i++) {
        uint e = lid + i * GROUP_SIZE;
        uint m = A_TRANS ? e % BM : e / BK;
        uint k = A_TRANS ? e / BM : e % BK;
        uint gm = m0 + m, gk = k0 + k;
        float16_t v = float16_t(0.0);
        if (e < BM * BK && gm < p.M && gk < p.K) v = a[A_TRANS ? gk * p.lda + gm : gm * p.lda + gk];
        a_next[i] = v;
    }
    [[unroll]] for (uint i = 0u; i < B_LOADS; i++) {
        uint e = lid + i * GROUP_SIZE;
        uint n = B_TRANS ? e / BK : e % BN;
        uint k = B_TRANS ? e % BK : e / BN;
        uint gn = n0 + n, gk = k0 + k;
        float16_t v = float16_t(0.0);
        if (e < BN * BK && gn < p.N && gk < p.K) v = b[B_TRANS ? gn * p.ldb + gk : gk * p.ldb + gn];
        b_next[i] = v;
    }
}

// Stores the registers of load_slice into the shared slices.
void store_slice() {
    uint lid = gl_LocalInvocationID.x;
    [[unroll]] for (uint i = 0u; i < A_LOADS; i++) {
        uint e = lid + i * GROUP_SIZE;
        uint m = A_TRANS ? e % BM : e / BK;
        uint k = A_TRANS ? e / BM : e % BK;
        if (e < BM * BK) As[m * A_STRIDE + k] = a_next[i];
    }
    [[unroll]] for (uint i = 0u; i < B_LOADS; i++) {
        uint e = lid + i * GROUP_SIZE;
        uint n = B_TRANS ? e / BK : e % BN;
        uint k = B_TRANS ? e % BK : e / BN;
        if (e < BN * BK) Bs[k * B_STRIDE + n] = b_next[i];
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

    uint role = gl_SubgroupID;      // uniform in the subgroup: cooperative operations stay in
    bool plays = role < ROLES;      // uniform control flow
    uint rm = (role / ROLES_N) * FM * FRAG, rn = (role % ROLES_N) * FN * FRAG; // the role's quarter

    coopmat<float, gl_ScopeSubgroup, FRAG, FRAG, gl_MatrixUseAccumulator> acc[FM * FN];
    [[unroll]] for (uint f = 0u; f < FM * FN; f++)
        acc[f] = coopmat<float, gl_ScopeSubgroup, FRAG, FRAG, gl_MatrixUseAccumulator>(0.0);

    uint slices = (p.K + BK - 1u) / BK;
    load_slice(m0, n0, 0u);
    for (uint s = 0u; s < slices; s++) {
        barrier(); // every role is done with the previous slice
        store_slice();
        barrier();
        if (s + 1u < slices) load_slice(m0, n0, (s + 1u) * BK);
        if (plays) {
            [[unroll]] for (uint kk = 0u; kk < BK; kk += FRAG) {
                coopmat<float16_t, gl_ScopeSubgroup, FRAG, FRAG, gl_MatrixUseA> af[FM];
                coopmat<float16_t, gl_ScopeSubgroup, FRAG, FRAG, gl_MatrixUseB> bf[FN];
                [[unroll]] for (uint i = 0u; i < FM; i++)
                    coopMatLoad(af[i], As, (rm + i * FRAG) * A_STRIDE + kk, A_STRIDE,
                                gl_CooperativeMatrixLayoutRowMajor);
                [[unroll]] for (uint j = 0u; j < FN; j++)
                    coopMatLoad(bf[j], Bs, kk * B_STRIDE + rn + j * FRAG, B_STRIDE,
                                gl_CooperativeMatrixLayoutRowMajor);
                [[unroll]] for (uint i = 0u; i < FM; i++)
                    [[unroll]] for (uint j = 0u; j < FN; j++)
                        acc[i * FN + j] = coopMatMulAdd(af[i], bf[j], acc[i * FN + j]);
            }
        }
    }

    if (!plays) return; // no workgroup barrier follows
    bool with_bias = (p.flags & FLAG_BIAS) != 0u;
    bool accumulate = (p.flags & FLAG_ACCUMULATE) != 0u;
    uint staging = role * FRAG * FRAG;
    [[unroll]] for (uint i = 0u; i < FM; i++)
        [[unroll]] for (uint j = 0u; j < FN; j++) {
            coopMatStore(acc[i * FN + j], Cs, staging, FRAG, gl_CooperativeMatrixLayoutRowMajor);
            subgroupMemoryBarrierShared();
            subgroupBarrier();
            for (uint e = gl_SubgroupInvocationID; e < FRAG * FRAG; e += gl_SubgroupSize) {
                uint row = m0 + rm + i * FRAG + e / FRAG, col = n0 + rn + j * FRAG + e % FRAG;
                if (row >= p.M || col >= p.N) continue;
                float v = Cs[staging + e];
                if (with_bias) v += bias[col];
                uint at = row * p.ldc + col;
                c[at] = epilogue_one(v, at, accumulate);
            }
            subgroupMemoryBarrierShared();
            subgroupBarrier(); // every lane has read the square before the next store
        }
}
