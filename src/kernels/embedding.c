/* Token (+ position) embedding (shaders/embedding_forward.comp, embedding_backward_wte.comp,
 * embedding_backward_wpe.comp).
 *
 * Without a position table (wpe NULL) embedding_forward binds wte a second time in wpe's place
 * and tells the shader so (push constant has_positions = 0), so that it never reads binding 3:
 * every binding of the pipeline's layout stays bound to a live buffer, as validation requires,
 * and two read-only bindings of one tensor are no hazard. The backward pass then simply does
 * not record the position gradient. The forward reads wte's and wpe's quads through texel views
 * where they serve and C % 4 == 0 (t2g_record_elementwise_split_quads, tensors bound whole), four
 * channels an invocation on a grid sized for the quads: the same sums. */
#include <stddef.h>

#include "kernel_util.h"

/* embedding_backward_wte: rows of dwte a workgroup owns, and its invocations (channels). Each
 * workgroup scans the token ids in tiles of 32 * EMBEDDING_WTE_GROUP positions. */
#define EMBEDDING_WTE_GROUP 64u
#define EMBEDDING_ROWS_PER_GROUP 16u
#define EMBEDDING_TILE (32u * EMBEDDING_WTE_GROUP)

/* Shaders index with 32-bit uints: B*T*C and V*C must fit. */
static t2g_status check_indices(const char *kernel, uint32_t B, uint32_t T, uint32_t C, uint32_t V, t2g_error *err) {
    t2g_status status = t2g_need_index((uint64_t)B * T * C, kernel, "B * T * C", err);
    if (!status) status = t2g_need_index((uint64_t)V * C, kernel, "V * C", err);
    return status;
}

/* embedding_forward's push constants: n = B T C, the shape, whether there is a position table;
 * whether the texel views of wte and wpe serve and C % 4 == 0 (four channels an invocation), and
 * the texel where each starts. */
typedef struct embedding_push {
    uint32_t n, T, C, V, has_positions, quads, first[3];
} embedding_push;

t2g_status t2g_embedding_forward(t2g_recorder *rec, t2g_tensor out, t2g_tensor tokens, t2g_tensor wte,
                                 const t2g_tensor *wpe, uint32_t B, uint32_t T, uint32_t C, uint32_t V, t2g_error *err) {
    const char *kernel = "embedding_forward";
    uint64_t N = (uint64_t)B * T;
    t2g_status status = t2g_need(out, N * C, kernel, "out", err);           /* (B,T,C) */
    if (!status) status = t2g_need(tokens, N, kernel, "tokens", err);      /* (B,T) */
    if (!status) status = t2g_need(wte, (uint64_t)V * C, kernel, "wte", err); /* (V,C) */
    if (!status && wpe) status = t2g_need(*wpe, (uint64_t)T * C, kernel, "wpe", err); /* (>= T, C) */
    if (!status) status = check_indices(kernel, B, T, C, V, err);
    if (status) return status;
    embedding_push push = {(uint32_t)(N * C), T, C, V, wpe != NULL, 0, {0}};
    t2g_binding bindings[] = {{out, T2G_WRITE}, {tokens, T2G_READ}, {wte, T2G_READ}, {wpe ? *wpe : wte, T2G_READ}};
    /* wte and wpe as quads: bindings 4 and 5 */
    const t2g_split_quads quads = {0xCu, C % 4 == 0, offsetof(embedding_push, quads)};
    return t2g_record_elementwise_split_quads(rec, "embedding_forward", bindings, 4, 0, &quads, &push, sizeof push, NULL,
                                              0, N * C, err);
}

t2g_status t2g_embedding_backward(t2g_recorder *rec, t2g_tensor dwte, const t2g_tensor *dwpe, t2g_tensor dout,
                                  t2g_tensor tokens, uint32_t B, uint32_t T, uint32_t C, uint32_t V,
                                  t2g_error *err) {
    const char *kernel = "embedding_backward";
    uint64_t N = (uint64_t)B * T;
    t2g_status status = t2g_need(dwte, (uint64_t)V * C, kernel, "dwte", err); /* (V,C) */
    if (!status && dwpe) status = t2g_need(*dwpe, (uint64_t)T * C, kernel, "dwpe", err); /* (T,C) */
    if (!status) status = t2g_need(dout, N * C, kernel, "dout", err);          /* (B,T,C) */
    if (!status) status = t2g_need(tokens, N, kernel, "tokens", err);          /* (B,T) */
    if (!status) status = check_indices(kernel, B, T, C, V, err);
    /* the scan's last tile, which may reach past N, must stay addressable too */
    if (!status) status = t2g_need_index(N + EMBEDDING_TILE, kernel, "B * T plus one tile of positions", err);
    if (status) return status;

    /* dwpe += sum over b of dout: one invocation per (t, c). */
    if (dwpe) {
        struct { uint32_t n, B; } wpe_push = {T * C, B};
        t2g_binding wpe_bindings[] = {{*dwpe, T2G_READ_WRITE}, {dout, T2G_READ}};
        status = t2g_record_elementwise(rec, "embedding_backward_wpe", wpe_bindings, 2, &wpe_push, sizeof wpe_push,
                                        B ? (uint64_t)T * C : 0, err);
        if (status) return status;
    }
    if (N == 0 || C == 0) return T2G_OK;

    /* dwte += dout scattered by token: one workgroup per EMBEDDING_ROWS_PER_GROUP rows. */
    const uint32_t spec[] = {EMBEDDING_WTE_GROUP, EMBEDDING_ROWS_PER_GROUP};
    struct { uint32_t N, C, V; } wte_push = {(uint32_t)N, C, V};
    t2g_binding wte_bindings[] = {{dwte, T2G_READ_WRITE}, {dout, T2G_READ}, {tokens, T2G_READ}};
    t2g_dispatch dispatch = {
        .shader = "embedding_backward_wte", .spec = spec, .spec_count = 2,
        .bindings = wte_bindings, .binding_count = 3,
        .push = &wte_push, .push_bytes = sizeof wte_push,
    };
    t2g_groups_2d(t2g_ceil_div(V, EMBEDDING_ROWS_PER_GROUP), dispatch.groups);
    return t2g_record_dispatch(rec, &dispatch, err);
}
