#version 450
#extension GL_EXT_control_flow_attributes : require
// The product of matmul_gemm.comp for CPU devices (lavapipe), on operands packed into panels by
// matmul_pack_cpu.comp:
//   C (M,N) = A (M,K) B (K,N) [+ bias (N)] [+ C, when accumulating]
// for the tiles m_tile0 .. m_tile0 + tiles_m - 1 and n_tile0 .. n_tile0 + tiles_n - 1 of C (a
// chunk: the panels hold these tiles' rows of A and columns of B, tile after tile). The quad of
// k = 4 kq .. 4 kq + 3 of row r of the chunk's A tile t is a_panel's quad a_first + (t K4 + kq)
// BM + r, and the same for B's columns (BN per tile), K4 = ceil(K / 4); f32 whatever the operands'
// types (the packing converts them exactly).
//
// lavapipe (Mesa 22.3) runs 8 invocations as one AVX2 vector and compiles a texel fetch from a
// uniform texel buffer as one 16-byte load per lane and a transpose (where a storage-buffer load
// would be a loop over lanes and components; see matmul_gemm_cpu.comp, which reads the operands
// in place). Each invocation owns TM x TN outputs, rows row0 .. row0+TM-1 of the tile and columns
// 4 cx + 4 CX h + q (h < TN/4, q < 4), CX = BN/TN invocations along n; no shared memory, no
// barriers. Per k quad it reads TM quads of A and TN of B: FMAs per fetch grow with TM TN; 16 x 8
// and 16 x 16 (cpu_panels, cpu_panels_wide) were the fastest measured (src/kernels/matmul.c).
// The products of a quad of k are summed output by output (each output's four products one after
// the other), the k of the last quad past a multiple of 4 one at a time; whole tiles' outputs go
// out a quad of columns at a time (C when accumulating and bias read as texels, bindings 4 and 5,
// FLAG_C_QUADS), the others one by one.
//
// Every output is one invocation's sum over k in increasing order, with the operations of
// matmul_gemm.comp and matmul_gemm_cpu.comp: the same bits. Requires BM % TM == 0,
// BN % TN == 0, TM % 4 == 0, TN % 4 == 0, GROUP_SIZE == (BM/TM) (BN/TN) (src/kernels/matmul.c
// checks its configurations).
#include "common.glsl"

layout(constant_id = 1) const uint BM = 16;
layout(constant_id = 2) const uint BN = 128;
layout(constant_id = 3) const uint TM = 16;
layout(constant_id = 4) const uint TN = 16;
// Where each operand's quads come from (FROM_*): its panel, or the operand itself, f32, read in
// place through a_panel or b_panel as a view of it (its quads start where a_first and b_first
// say):
//   FROM_ROWS (A only): A stored (M,K), its rows lda apart (lda % 4 == 0 and K % 4 == 0): the
//     quad of row m at k is a_first + (m lda + k) / 4, as in a panel; rows past M read row M-1.
//   FROM_K_ROWS: A stored (K,M) or B stored (K,N), its rows (one per k) lda or ldb apart, both
//     multiples of 4, and M or N a multiple of 4: a quad holds 4 rows of A (columns of B) at one
//     k; 4 of them, at k .. k+3, hold what a panel's 4 quads hold, and the components are
//     regrouped (no arithmetic). Quads past M or N read the last quad; k past K reads row K-1.
//     On lavapipe the k rows stream through the cache one after the other, so their distance
//     does not matter (the cache-set trouble of packing's comment is rows read again and again).
// Outputs past M or N are never stored.
const uint FROM_PANEL = 0u, FROM_ROWS = 1u, FROM_K_ROWS = 2u;
layout(constant_id = 5) const uint A_FROM = FROM_PANEL;
layout(constant_id = 6) const uint B_FROM = FROM_PANEL;
// What the outputs take besides the product: EPILOGUE, gemm_epilogue.glsl (aux in bindings 6
// and 7).
layout(constant_id = 7) const uint EPILOGUE = 0u;
// WHOLE: every tile of the dispatch lies inside C, C (and bias, aux) are read and written as quads
// (FLAG_C_QUADS) and K % 4 == 0, so only the quad stores and the k loop are compiled. Lavapipe
// (Mesa 22.3) runs both sides of every `if` under a lane mask and skips nothing, so the stores one
// at a time of an edge tile and the k tail cost every tile their time even where no lane takes
// them: a 1024 x 384 product over K = 128 ran 22-25% faster without them (2026-12-07).
layout(constant_id = 8) const bool WHOLE = false;

layout(std430, binding = 0) buffer Cbuf { float c[]; };
layout(std430, binding = 0) buffer Cbuf4 { vec4 c4[]; };
layout(std430, binding = 1) restrict readonly buffer Bias { float bias[]; };
layout(binding = 2) uniform samplerBuffer a_panel;
layout(binding = 3) uniform samplerBuffer b_panel;
// C and bias as quads, for whole tiles: views of bindings 0 and 1 (c_quads read when
// accumulating, bias_quads with a bias).
layout(binding = 4) uniform samplerBuffer c_quads;
layout(binding = 5) uniform samplerBuffer bias_quads;
// aux as quads (for whole tiles) and as floats, with an EPILOGUE; else stand-ins, never read.
layout(binding = 6) uniform samplerBuffer aux_quads;
layout(std430, binding = 7) restrict readonly buffer Aux { float aux[]; };
layout(push_constant) uniform Push {
    uint M, N, K, ldc;
    uint tiles_m, tiles_n;   // the chunk's tiles along m and n
    uint m_tile0, n_tile0;   // the chunk's first tile of C along m and n
    uint flags;              // FLAG_BIAS | FLAG_ACCUMULATE | FLAG_C_QUADS
    uint a_first, b_first;   // the quad of a_panel and b_panel where the panels start
    uint c_first, bias_first; // the quad of c_quads and bias_quads where C and bias start
    uint lda, ldb;           // A's and B's leading dimensions, where they are read in place
    uint aux_first;          // the quad of aux_quads where aux starts
} p;
#define GEMM_EPILOGUE_QUADS
#include "gemm_epilogue.glsl"

const uint FLAG_BIAS = 1u;
const uint FLAG_ACCUMULATE = 2u;
const uint FLAG_C_QUADS = 8u; // c_quads, bias_quads (and aux_quads) hold C, bias (and aux), and ldc % 4 == 0
const uint GROUP_ROWS = 8u;   // the order of workgroups of matmul_gemm.comp
const uint CX = BN / TN;      // invocations along n
const uint TN4 = TN / 4u;     // column quads per invocation

float acc[TM * TN]; // [i][j]: row row0 + i, column 4 cx + 4 CX (j / 4) + j % 4

// acc += the products of A's 4 values of k .. k+3 for each row (av[i][kk]) and B's for each
// column (bv[j][kk]), k in increasing order, output by output.
void multiply4(vec4 av[TM], vec4 bv[TN]) {
    [[unroll]] for (uint i = 0u; i < TM; i++)
        [[unroll]] for (uint j = 0u; j < TN; j++)
            [[unroll]] for (uint kk = 0u; kk < 4u; kk++) acc[i * TN + j] += av[i][kk] * bv[j][kk];
}

// acc += the products of component kk of the quads, output by output.
void multiply1(vec4 av[TM], vec4 bv[TN], uint kk) {
    [[unroll]] for (uint i = 0u; i < TM; i++)
        [[unroll]] for (uint j = 0u; j < TN; j++) acc[i * TN + j] += av[i][kk] * bv[j][kk];
}

// av[i] = row row0 + i of A at k = 4 kq .. 4 kq + 3 (past K: anything; the caller takes the
// components below K). a_at[i] (panel, rows) or a_at[i] for i < TM / 4 (k rows: the quad of A's
// rows row0 + 4 i .. + 3 in A's row k = 0).
void load_a(uint kq, uint a_at[TM], out vec4 av[TM]) {
    if (A_FROM == FROM_PANEL) {
        [[unroll]] for (uint i = 0u; i < TM; i++) av[i] = texelFetch(a_panel, int(a_at[i] + kq * BM));
    } else if (A_FROM == FROM_ROWS) {
        [[unroll]] for (uint i = 0u; i < TM; i++) av[i] = texelFetch(a_panel, int(a_at[i] + kq));
    } else {
        [[unroll]] for (uint kk = 0u; kk < 4u; kk++) {
            uint row = min(4u * kq + kk, p.K - 1u) * (p.lda / 4u);
            [[unroll]] for (uint i = 0u; i < TM / 4u; i++) {
                vec4 q = texelFetch(a_panel, int(a_at[i] + row));
                [[unroll]] for (uint c = 0u; c < 4u; c++) av[4u * i + c][kk] = q[c];
            }
        }
    }
}

// bv[j] = column j of the invocation (4 cx + 4 CX (j / 4) + j % 4 of the tile) of B at k = 4 kq ..
// 4 kq + 3, likewise: b_at[h] is where the quad of its columns j = 4 h .. 4 h + 3 is at k quad 0
// (panel) or in B's row k = 0 (k rows).
void load_b(uint kq, uint b_at[TN4], out vec4 bv[TN]) {
    if (B_FROM == FROM_PANEL) {
        [[unroll]] for (uint j = 0u; j < TN; j++) bv[j] = texelFetch(b_panel, int(b_at[j / 4u] + kq * BN + j % 4u));
    } else {
        [[unroll]] for (uint kk = 0u; kk < 4u; kk++) {
            uint row = min(4u * kq + kk, p.K - 1u) * (p.ldb / 4u);
            [[unroll]] for (uint h = 0u; h < TN4; h++) {
                vec4 q = texelFetch(b_panel, int(b_at[h] + row));
                [[unroll]] for (uint c = 0u; c < 4u; c++) bv[4u * h + c][kk] = q[c];
            }
        }
    }
}

void main() {
    uint tile = flat_group_id();
    if (tile >= p.tiles_m * p.tiles_n) return;
    uint band_tiles = GROUP_ROWS * p.tiles_n;
    uint first_row = (tile / band_tiles) * GROUP_ROWS;
    uint band_rows = min(p.tiles_m - first_row, GROUP_ROWS);
    uint in_band = tile % band_tiles;
    uint tm = first_row + in_band % band_rows, tn = in_band / band_rows; // within the chunk
    uint m0 = (p.m_tile0 + tm) * BM, n0 = (p.n_tile0 + tn) * BN;

    uint lid = gl_LocalInvocationIndex;
    uint cx = lid % CX, r0 = (lid / CX) * TM; // the first row within the tile
    uint row0 = m0 + r0;
    [[unroll]] for (uint i = 0u; i < TM * TN; i++) acc[i] = 0.0;

    uint K4 = (p.K + 3u) / 4u, full = p.K / 4u;
    uint a_at[TM], b_at[TN4]; // see load_a and load_b
    [[unroll]] for (uint i = 0u; i < TM; i++)
        a_at[i] = A_FROM == FROM_PANEL ? p.a_first + tm * K4 * BM + r0 + i
                : A_FROM == FROM_ROWS  ? p.a_first + min(row0 + i, p.M - 1u) * (p.lda / 4u)
                                       : p.a_first + min(row0 + 4u * i, p.M - 4u) / 4u;
    [[unroll]] for (uint h = 0u; h < TN4; h++)
        b_at[h] = B_FROM == FROM_PANEL ? p.b_first + tn * K4 * BN + 4u * cx + 4u * CX * h
                                       : p.b_first + min(n0 + 4u * cx + 4u * CX * h, p.N - 4u) / 4u;
    vec4 av[TM], bv[TN];
    for (uint kq = 0u; kq < full; kq++) {
        load_a(kq, a_at, av);
        load_b(kq, b_at, bv);
        multiply4(av, bv);
    }
    if (!WHOLE && full < K4) { // the k past the last multiple of 4, one at a time
        load_a(full, a_at, av);
        load_b(full, b_at, bv);
        for (uint kk = 0u; kk < p.K - 4u * full; kk++) multiply1(av, bv, kk);
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
