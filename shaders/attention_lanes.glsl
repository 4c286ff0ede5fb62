// Shared by the attention kernels shaped for CPU devices (attention_forward_lanes.comp,
// attention_backward_dq_lanes.comp, attention_backward_dkv_lanes.comp), with the contracts of
// the tiled ones (attention_forward.comp, attention_backward_dq.comp, attention_backward_dkv.comp):
// the same bindings 0 to 4, push constants (attention_layout.glsl) and results.
//
// llvmpipe runs a workgroup's invocations as vectors of 8 lanes, and compiles a load from a storage
// buffer or shared memory as a loop over the lanes, and a barrier as a switch between coroutines
// (see decode_attention_lanes.comp, matmul_gemm_cpu.comp). So one invocation owns output rows
// (query rows, or key rows for dK/dV) and walks the rows of the other side alone, one at a time:
// its own rows and sums stay in registers (HS is a specialization constant: the channel loops
// unroll), nothing is shared, nothing waits. An invocation owns a block of LANE_ROWS consecutive
// rows (rows past T: computed on a clamped row, never stored), so that each row it reads of the
// other side feeds LANE_ROWS rows' products (llvmpipe's loads, not its arithmetic, bound these
// kernels); consecutive invocations own consecutive blocks of one head, the longest walks first.
//
// A head's row of HS elements is read as QUADS quads (vec4), the last padded with zeros: where
// HS % 4 == 0 and the host's texel views hold qkv and dout (VIEWS, a specialization constant, so
// that a pipeline holds one way of loading: llvmpipe's compile time grows with the code), through
// those views (binding qkv_quads, dout_quads: a uniform texel buffer of vec4, one 16-byte load a
// lane), else element by element from the storage buffers. The same values either way, and every
// product and sum after the load is the same code: the same bits. A padded component is 0 on
// both sides of each product, and adds +0 to a sum: the results of HS channels.
// The including shader declares qkv, qkv_quads (and dout, dout_quads with ATTENTION_DOUT defined)
// before including this, and requires GL_EXT_control_flow_attributes.

layout(constant_id = 2) const uint LANE_ROWS = 4u;  // rows an invocation owns, sharing each row it reads
layout(constant_id = 3) const bool VIEWS = false;   // qkv_quads, dout_quads hold qkv and dout (HS % 4 == 0)

const uint QUADS = (HS + 3u) / 4u;

bool quads_serve() { return HS % 4u == 0u && VIEWS; }

// Element d of the head row that starts at element e of qkv (0 past HS).
float qkv_at(uint e, uint d) { return d < HS ? qkv[e + d] : 0.0; }

// The head row of qkv that starts at element e.
void qkv_row(uint e, out vec4 row[QUADS]) {
    if (quads_serve()) {
        [[unroll]] for (uint c = 0u; c < QUADS; c++) row[c] = texelFetch(qkv_quads, int(p.qkv_first + e / 4u + c));
    } else {
        [[unroll]] for (uint c = 0u; c < QUADS; c++)
            row[c] = vec4(qkv_at(e, 4u * c), qkv_at(e, 4u * c + 1u), qkv_at(e, 4u * c + 2u), qkv_at(e, 4u * c + 3u));
    }
}

#ifdef ATTENTION_DOUT
float dout_at(uint e, uint d) { return d < HS ? dout[e + d] : 0.0; }

// The head row of dout that starts at element e.
void dout_row(uint e, out vec4 row[QUADS]) {
    if (quads_serve()) {
        [[unroll]] for (uint c = 0u; c < QUADS; c++) row[c] = texelFetch(dout_quads, int(p.dout_first + e / 4u + c));
    } else {
        [[unroll]] for (uint c = 0u; c < QUADS; c++)
            row[c] = vec4(dout_at(e, 4u * c), dout_at(e, 4u * c + 1u), dout_at(e, 4u * c + 2u), dout_at(e, 4u * c + 3u));
    }
}
#endif

// a . b over the head's channels, d in increasing order.
float head_dot(vec4 a[QUADS], vec4 b[QUADS]) {
    float s = 0.0;
    [[unroll]] for (uint c = 0u; c < QUADS; c++) {
        s += a[c].x * b[c].x;
        s += a[c].y * b[c].y;
        s += a[c].z * b[c].z;
        s += a[c].w * b[c].w;
    }
    return s;
}

// The block of LANE_ROWS rows this invocation owns among `blocks` blocks of each of `heads` heads,
// longest walk first: its head, and its rank r (0 for the longest walk) among the head's blocks;
// false past the end.
bool owned_block(uint heads, uint blocks, out uint head, out uint r) {
    uint n = flat_group_id() * GROUP_SIZE + gl_LocalInvocationID.x;
    head = n / blocks;
    r = n % blocks;
    return n < heads * blocks;
}
