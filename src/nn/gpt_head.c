/* The output head and the loss: logits (rows, V) = lnf (rows, C) head^T, the cross-entropy in
 * place over them (their gradient overwrites them), and the head's backward; over a whole
 * micro-batch, or over pieces of gpt->logit_rows rows one after another (t2g/gpt.h), each piece
 * reusing the one logits buffer. A piece's first row is a multiple of 64, so its views of lnf,
 * dln (rows of C floats) and of the per-row targets, weights and losses start on 256 bytes, as
 * every device's storage-buffer offsets may. */
#include "gpt_internal.h"
#include "kernels/kernel_util.h"

/* Records logits (n, V) of rows [first, first + n) of the pass into the logits buffer's start. */
static t2g_status head_forward(const t2g_gpt *gpt, t2g_recorder *rec, uint32_t first, uint32_t n, t2g_error *err) {
    uint32_t C = gpt->config.width, V = gpt->config.vocab;
    t2g_tensor lnf = t2g_tensor_slice(gpt->lnf, (uint64_t)first * C, (uint64_t)n * C); /* (n, C) */
    t2g_tensor logits = t2g_tensor_slice(gpt->logits, 0, (uint64_t)n * V);             /* (n, V) */
    return t2g_matmul_forward(rec, logits, lnf, gpt_head(gpt_matmul_weights(gpt)), NULL, n, C, V, err);
}

t2g_status gpt_head_forward(const t2g_gpt *gpt, t2g_recorder *rec, uint32_t N, t2g_error *err) {
    return gpt->logit_rows ? T2G_OK : head_forward(gpt, rec, 0, N, err);
}

t2g_status t2g_gpt_logits_of_rows(t2g_gpt *gpt, t2g_recorder *rec, uint32_t first, uint32_t n, t2g_tensor *logits,
                                  t2g_error *err) {
    uint32_t N = gpt->pass_B * gpt->pass_T, capacity = gpt->logit_rows ? gpt->logit_rows : N;
    if (!N || !n || first % T2G_LOGIT_ROWS_STEP || first >= N || n > N - first || n > capacity)
        return t2g_fail(err, T2G_ERR_ARGUMENT, "GPT logits of rows %u to %u: the last forward had %u rows, a piece holds "
                        "%u, and a piece starts at a multiple of %u", first, first + n, N, capacity, T2G_LOGIT_ROWS_STEP);
    uint64_t V = gpt->config.vocab;
    if (!gpt->logit_rows) { /* whole: the forward made them */
        *logits = t2g_tensor_slice(gpt->logits, first * V, n * V);
        return T2G_OK;
    }
    *logits = t2g_tensor_slice(gpt->logits, 0, n * V);
    return head_forward(gpt, rec, first, n, err);
}

/* Rows [first, first + n): their logits (a piece's; whole ones the forward made), losses and,
 * with dloss, the logits' gradient in their place; backward: dln's rows set and the head's
 * weight gradient added to. */
static t2g_status piece(const t2g_gpt *gpt, t2g_recorder *rec, t2g_tensor targets, t2g_tensor weights, uint32_t first,
                        uint32_t n, float dloss, bool backward, t2g_error *err) {
    uint32_t C = gpt->config.width, V = gpt->config.vocab;
    if (gpt->logit_rows) TRY(head_forward(gpt, rec, first, n, err));
    t2g_tensor logits = t2g_tensor_slice(gpt->logits, 0, (uint64_t)n * V); /* (n, V) */
    TRY(t2g_crossentropy_forward_backward(rec, t2g_tensor_slice(gpt->losses, first, n), logits, logits,
                                          t2g_tensor_slice(targets, first, n), t2g_tensor_slice(weights, first, n), n, V,
                                          dloss, err));
    if (!backward) return T2G_OK;
    t2g_tensor dln = t2g_tensor_slice(gpt->dln, (uint64_t)first * C, (uint64_t)n * C); /* (n, C) */
    t2g_tensor lnf = t2g_tensor_slice(gpt->lnf, (uint64_t)first * C, (uint64_t)n * C); /* (n, C) */
    return t2g_matmul_backward_set(rec, dln, gpt_head(&gpt->grad_weights), NULL, logits, lnf,
                                   gpt_head(gpt_matmul_weights(gpt)), n, C, V, err);
}

t2g_status gpt_head_loss(const t2g_gpt *gpt, t2g_recorder *rec, t2g_tensor targets, t2g_tensor weights, uint32_t N,
                         float dloss, bool backward, t2g_error *err) {
    /* the caller's targets and weights must hold the rows the pieces view */
    TRY(t2g_need(targets, N, "GPT loss", "targets", err));
    TRY(t2g_need(weights, N, "GPT loss", "weights", err));
    uint32_t rows = gpt->logit_rows ? gpt->logit_rows : N;
    for (uint32_t first = 0; first < N; first += rows)
        TRY(piece(gpt, rec, targets, weights, first, N - first < rows ? N - first : rows, dloss, backward, err));
    return T2G_OK;
}
