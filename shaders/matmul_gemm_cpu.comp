#version 450
#extension GL_EXT_control_flow_attributes : require
#include "storage.glsl"
// matmul_gemm.comp's product for CPU devices (lavapipe), with its bindings, push constants,
// specialization constants and contract:
//   C (M,N) = A (M,K) B (K,N) [+ bias (N)] [+ C, when accumulating], or an epilogue's outputs
//   (gemm_epilogue.glsl)
// A is stored as A[m*lda + k] (A_TRANS false) or A[k*lda + m] (A_TRANS true); B as
// B[k*ldb + n] (B_TRANS false) or B[n*ldb + k] (B_TRANS true); C as C[m*ldc + n].
//
// lavapipe (Mesa 22.3) runs 8 invocations as one AVX2 vector and (as measured, and as gallivm's
// source reads) compiles every load from a storage buffer or shared memory inside a loop as a loop
// over the 8 lanes and, within each lane, over the load's components, each tested and inserted into
// the result on its own: what costs is the number of lane-components loaded (a vec4 costs nearly
// four scalars, an address the same for all lanes as much as different ones). A texel fetch from a
// uniform texel buffer is compiled otherwise: one 16-byte load per lane, no test per component, and
// a transpose into the lanes' vectors. So the quads are read as texels: A's through a_quads, B's
// through b_quads (bindings 4 and 5: views of bindings 1 and 2 that start a_first and b_first quads
// before the matrix; src/kernels/matmul.c makes them). Each invocation owns TM x TN outputs (many
// FMAs per value loaded) and reads its operands straight from the buffers, no shared memory and no
// barriers (staging A through shared memory, measured, cost more than it saved): rows row0 ..
// row0+TM-1, the same for the CX = BN/TN invocations along n, and columns in quads n0 + 4 cx + 4 CX
// h + q (h < TN/4, q < 4). For each 4 values of k it reads each row's A and each column's B as a
// quad: along k where k is contiguous in the buffer (A not transposed, B transposed), else along m
// or n. Those reads need leading dimensions that are multiples of 4, views that hold the matrices
// (FLAG_QUADS) and, for a quad along m or n, the tile whole in that dimension (a quad along k of a
// clamped row or column lies inside the matrix); other tiles, and the k beyond the last multiple of
// 4, take scalar loads from bindings 1 and 2 (clamped to the matrix: a clamped output is never
// stored), in the same order of operations. A whole tile's outputs go out a quad of columns at a time as well:
// C (when accumulating) and bias read as texels (bindings 6 and 7), C written as vec4s
// (FLAG_C_QUADS; otherwise, and in cut tiles, one output at a time, the same operations). The
// products of a quad of k are summed output by output (each output's
// four products one after the other, then the next output's), which lavapipe's compiled code runs
// 1.2 to 1.3 times as fast as four passes over the outputs, one value of k each: the same sums in
// the same order.
//
// A and B may be stored as bf16 or f16 (variants, shaders/variants.txt): converted to f32 as
// they are loaded (a quad of bf16 is a texel of two uints, each half of a uint one value, low half
// first; a quad of f16 a texel of four halves, converted by the fetch); the products and sums are
// f32, and so is C.
//
// Every output is one invocation's sum over k in increasing order, with the operations of
// matmul_gemm.comp: the same bits. Requires BM % TM == 0, BN % TN == 0, TM % 4 == 0,
// TN % 4 == 0, BK == 4 (the k of one vec4), GROUP_SIZE == (BM/TM) (BN/TN)
// (src/kernels/matmul.c checks its configurations).

// Four consecutive elements of A or B as one texel: A4_SAMPLER / B4_SAMPLER, read as a vec4
// with A4_LOAD / B4_LOAD (storage.glsl).
#include "common.glsl"

layout(constant_id = 1) const uint BM = 16;
layout(constant_id = 2) const uint BN = 64;
layout(constant_id = 3) const uint BK = 4;
layout(constant_id = 4) const uint TM = 16;
layout(constant_id = 5) const uint TN = 8;
layout(constant_id = 6) const bool A_TRANS = false;
layout(constant_id = 7) const bool B_TRANS = true;
// WHOLE: every tile lies inside C, the operands are read as quads (FLAG_QUADS, leading dimensions
// multiples of 4), K % 4 == 0 and C's outputs go out as quads (FLAG_C_QUADS), so neither the loads
// one at a time nor the stores one at a time are compiled: lavapipe (Mesa 22.3) runs both sides of
// every `if` under a lane mask, and those paths cost every tile their time even where no lane
// takes them (matmul_panels_cpu.comp measures it).
layout(constant_id = 8) const bool WHOLE = false;
// What the outputs take besides the product: EPILOGUE, gemm_epilogue.glsl (aux in bindings 8
// and 9, read as quads where C is).
layout(constant_id = 9) const uint EPILOGUE = 0u;

layout(std430, binding = 0) buffer Cbuf { float c[]; };
layout(std430, binding = 1) restrict readonly buffer Abuf { A_T a[]; };
layout(std430, binding = 2) restrict readonly buffer Bbuf { B_T b[]; };
layout(std430, binding = 3) restrict readonly buffer Bias { float bias[]; };
// The same matrices seen as quads of elements (texels): A's element e is in quad a_first + e / 4.
layout(binding = 4) uniform A4_SAMPLER a_quads;
layout(binding = 5) uniform B4_SAMPLER b_quads;
// C and bias as quads too, for whole tiles: read through texel views (c_quads when accumulating,
// bias_quads with a bias: bindings 6 and 7, views of bindings 0 and 3), written as vec4s.
layout(std430, binding = 0) buffer Cbuf4 { vec4 c4[]; };
layout(binding = 6) uniform samplerBuffer c_quads;
layout(binding = 7) uniform samplerBuffer bias_quads;
// aux as quads (for whole tiles) and as floats, with an EPILOGUE; else stand-ins, never read.
layout(binding = 8) uniform samplerBuffer aux_quads;
layout(std430, binding = 9) restrict readonly buffer Aux { float aux[]; };
layout(push_constant) uniform Push {
    uint M, N, K;
    uint lda, ldb, ldc;
    uint tiles_m, tiles_n; // ceil(M / BM), ceil(N / BN)
    uint flags;            // FLAG_BIAS | FLAG_ACCUMULATE | FLAG_QUADS | FLAG_C_QUADS
    uint a_first, b_first; // the quad of a_quads and b_quads where A and B start
    uint c_first, bias_first; // the quad of c_quads and bias_quads where C and bias start
    uint aux_first;        // the quad of aux_quads where aux starts
} p;
#define GEMM_EPILOGUE_QUADS
#include "gemm_epilogue.glsl"

const uint FLAG_BIAS = 1u;
const uint FLAG_ACCUMULATE = 2u;
const uint FLAG_QUADS = 4u;   // a_quads and b_quads hold A and B
const uint FLAG_C_QUADS = 8u; // c_quads, bias_quads (and aux_quads) hold C, bias (and aux), and ldc % 4 == 0
const uint GROUP_ROWS = 8u; // the order of workgroups of matmul_gemm.comp
const uint CX = BN / TN;    // invocations along n
const uint TN4 = TN / 4u;   // column quads per invocation

float load_a(uint m, uint k) { return A_LOAD(a[A_TRANS ? k * p.lda + m : m * p.lda + k]); }
float load_b(uint k, uint n) { return B_LOAD(b[B_TRANS ? n * p.ldb + k : k * p.ldb + n]); }
// The quad of A or B that holds element e (a multiple of 4) of its matrix.
vec4 quad_a(uint e) { return A4_LOAD(texelFetch(a_quads, int(p.a_first + e / 4u))); }
vec4 quad_b(uint e) { return B4_LOAD(texelFetch(b_quads, int(p.b_first + e / 4u))); }

float acc[TM * TN]; // [i][j]: row row0 + i, column cols[j] (quad j / 4, component j % 4)

// acc += the products of A's 4 values of k .. k+3 for each row (av[i][kk]) and B's for each
// column (bv[j][kk]), k in increasing order, output by output.
void multiply4(vec4 av[TM], vec4 bv[TN]) {
    [[unroll]] for (uint i = 0u; i < TM; i++)
        [[unroll]] for (uint j = 0u; j < TN; j++)
            [[unroll]] for (uint kk = 0u; kk < 4u; kk++) acc[i * TN + j] += av[i][kk] * bv[j][kk];
}

// One k: A's value for each row, B's for each column.
void multiply1(float av[TM], float bv[TN]) {
    [[unroll]] for (uint i = 0u; i < TM; i++)
        [[unroll]] for (uint j = 0u; j < TN; j++) acc[i * TN + j] += av[i] * bv[j];
}

void main() {
    uint tile = flat_group_id();
    if (tile >= p.tiles_m * p.tiles_n) return;
    uint band_tiles = GROUP_ROWS * p.tiles_n;
    uint first_row = (tile / band_tiles) * GROUP_ROWS;
    uint band_rows = min(p.tiles_m - first_row, GROUP_ROWS);
    uint in_band = tile % band_tiles;
    uint m0 = (first_row + in_band % band_rows) * BM;
    uint n0 = (in_band / band_rows) * BN;

    uint lid = gl_LocalInvocationIndex;
    uint cx = lid % CX;
    uint row0 = m0 + (lid / CX) * TM;
    uint rows[TM], cols[TN]; // clamped to the matrix (a clamped output is never stored)
    [[unroll]] for (uint i = 0u; i < TM; i++) rows[i] = min(row0 + i, p.M - 1u);
    [[unroll]] for (uint j = 0u; j < TN; j++) cols[j] = min(n0 + 4u * cx + 4u * CX * (j / 4u) + j % 4u, p.N - 1u);
    [[unroll]] for (uint i = 0u; i < TM * TN; i++) acc[i] = 0.0;

    uint k = 0u;
    // Leading dimensions multiples of 4 and views that hold the matrices: the operands as quads.
    // A quad along k of a clamped row (A stored by rows) or column (B stored by columns) lies
    // inside the matrix, so a tile cut there reads quads too (a decode step's 1 to 3 rows, the
    // last band of rows of a product); a quad along m or n (A_TRANS, !B_TRANS) needs the tile whole
    // in that dimension.
    if (WHOLE || ((A_TRANS ? m0 + BM <= p.M : true) && (B_TRANS ? true : n0 + BN <= p.N) && p.lda % 4u == 0u &&
                  p.ldb % 4u == 0u && (p.flags & FLAG_QUADS) != 0u)) {
        for (; k + 4u <= p.K; k += 4u) {
            vec4 av[TM], bv[TN];
            if (A_TRANS) {
                vec4 aq[TM / 4u * 4u]; // [kk][row quad]
                [[unroll]] for (uint kk = 0u; kk < 4u; kk++)
                    [[unroll]] for (uint r = 0u; r < TM / 4u; r++)
                        aq[kk * (TM / 4u) + r] = quad_a((k + kk) * p.lda + row0 + 4u * r);
                [[unroll]] for (uint i = 0u; i < TM; i++)
                    av[i] = vec4(aq[i / 4u][i % 4u], aq[TM / 4u + i / 4u][i % 4u], aq[2u * (TM / 4u) + i / 4u][i % 4u],
                                 aq[3u * (TM / 4u) + i / 4u][i % 4u]);
            } else {
                [[unroll]] for (uint i = 0u; i < TM; i++) av[i] = quad_a(rows[i] * p.lda + k);
            }
            if (B_TRANS) {
                [[unroll]] for (uint j = 0u; j < TN; j++) bv[j] = quad_b(cols[j] * p.ldb + k);
            } else {
                vec4 bq[4u * TN4]; // [kk][column quad]
                [[unroll]] for (uint kk = 0u; kk < 4u; kk++)
                    [[unroll]] for (uint h = 0u; h < TN4; h++)
                        bq[kk * TN4 + h] = quad_b((k + kk) * p.ldb + cols[4u * h]);
                [[unroll]] for (uint j = 0u; j < TN; j++)
                    bv[j] = vec4(bq[j / 4u][j % 4u], bq[TN4 + j / 4u][j % 4u], bq[2u * TN4 + j / 4u][j % 4u],
                                 bq[3u * TN4 + j / 4u][j % 4u]);
            }
            multiply4(av, bv);
        }
    }
    for (; !WHOLE && k < p.K; k++) {
        float av[TM], bv[TN];
        [[unroll]] for (uint i = 0u; i < TM; i++) av[i] = load_a(rows[i], k);
        [[unroll]] for (uint j = 0u; j < TN; j++) bv[j] = load_b(k, cols[j]);
        multiply1(av, bv);
    }

    bool with_bias = (p.flags & FLAG_BIAS) != 0u;
    bool accumulate = (p.flags & FLAG_ACCUMULATE) != 0u;
    // A whole tile's outputs a quad of columns at a time (4 cx + 4 CX h + q: consecutive in q),
    // with the operations of the outputs one at a time below: (acc + bias), then C + that.
    if (WHOLE || (m0 + BM <= p.M && n0 + BN <= p.N && (p.flags & FLAG_C_QUADS) != 0u)) {
        [[unroll]] for (uint i = 0u; i < TM; i++)
            [[unroll]] for (uint h = 0u; h < TN4; h++) {
                uint col = n0 + 4u * cx + 4u * CX * h, at = (row0 + i) * p.ldc + col;
                vec4 v = vec4(acc[i * TN + 4u * h], acc[i * TN + 4u * h + 1u], acc[i * TN + 4u * h + 2u],
                              acc[i * TN + 4u * h + 3u]);
                if (with_bias) v += texelFetch(bias_quads, int(p.bias_first + col / 4u));
                c4[at / 4u] = epilogue_quad(v, at, accumulate);
            }
        return;
    }
    [[unroll]] for (uint i = 0u; i < TM; i++) {
        uint row = row0 + i;
        if (row >= p.M) continue;
        [[unroll]] for (uint j = 0u; j < TN; j++) {
            uint col = n0 + 4u * cx + 4u * CX * (j / 4u) + j % 4u;
            if (col >= p.N) continue;
            float v = acc[i * TN + j];
            if (with_bias) v += bias[col];
            uint at = row * p.ldc + col;
            c[at] = epilogue_one(v, at, accumulate);
        }
    }
}
