/* GPT-2: pre-LayerNorm blocks with biases, learned positions, causal multi-head attention, a
 * tanh-GELU MLP, the output head tied to the token embedding (as llm.c's train_gpt2.c). */
#include <stddef.h>

#include "gpt_internal.h"
#include "kernels/decode.h"

#define BLOCK(field) offsetof(gpt_block, field)
#define MODEL(field) offsetof(gpt_weights, field)

/* In table order; the buffer puts the decayed ones first (gpt_params.c). */
static const arch_tensor GPT2_TENSORS[] = {
    {"wte", false, DIM_VOCAB, DIM_WIDTH, INIT_NORMAL, true, ALWAYS, F32_TOO, MODEL(wte)},
    {"wpe", false, DIM_CONTEXT, DIM_WIDTH, INIT_NORMAL, true, ALWAYS, F32_TOO, MODEL(wpe)},
    {"qkvw", true, DIM_QKV, DIM_WIDTH, INIT_NORMAL, true, ALWAYS, MATMULS_ONLY, BLOCK(qkvw)},
    {"attprojw", true, DIM_WIDTH, DIM_WIDTH, INIT_RESIDUAL, true, ALWAYS, MATMULS_ONLY, BLOCK(attprojw)},
    {"fcw", true, DIM_FFN_IN, DIM_WIDTH, INIT_NORMAL, true, ALWAYS, MATMULS_ONLY, BLOCK(fcw)},
    {"fcprojw", true, DIM_WIDTH, DIM_FFN, INIT_RESIDUAL, true, ALWAYS, MATMULS_ONLY, BLOCK(fcprojw)},
    {"ln1w", true, DIM_ONE, DIM_WIDTH, INIT_ONES, false, ALWAYS, F32_TOO, BLOCK(ln1w)},
    {"ln1b", true, DIM_ONE, DIM_WIDTH, INIT_ZEROS, false, ALWAYS, F32_TOO, BLOCK(ln1b)},
    {"qkvb", true, DIM_ONE, DIM_QKV, INIT_ZEROS, false, ALWAYS, F32_TOO, BLOCK(qkvb)},
    {"attprojb", true, DIM_ONE, DIM_WIDTH, INIT_ZEROS, false, ALWAYS, F32_TOO, BLOCK(attprojb)},
    {"ln2w", true, DIM_ONE, DIM_WIDTH, INIT_ONES, false, ALWAYS, F32_TOO, BLOCK(ln2w)},
    {"ln2b", true, DIM_ONE, DIM_WIDTH, INIT_ZEROS, false, ALWAYS, F32_TOO, BLOCK(ln2b)},
    {"fcb", true, DIM_ONE, DIM_FFN_IN, INIT_ZEROS, false, ALWAYS, F32_TOO, BLOCK(fcb)},
    {"fcprojb", true, DIM_ONE, DIM_WIDTH, INIT_ZEROS, false, ALWAYS, F32_TOO, BLOCK(fcprojb)},
    {"lnfw", false, DIM_ONE, DIM_WIDTH, INIT_ONES, false, ALWAYS, F32_TOO, MODEL(lnfw)},
    {"lnfb", false, DIM_ONE, DIM_WIDTH, INIT_ZEROS, false, ALWAYS, F32_TOO, MODEL(lnfb)},
};

/* fch_act = gelu(the block's fch). A bf16 or f16 model's forward keeps the matmul's f32 output
 * (fch_wide) in the block's 16-bit fch and activates the value kept; its backward (widen) turns
 * that fch back into f32 in fch_wide with the same activation, so the same bits. */
static t2g_status activate(const t2g_gpt *gpt, t2g_recorder *rec, const gpt_block_acts *a, bool widen, uint64_t n,
                           t2g_error *err) {
    if (!gpt->fch_wide.arena) return t2g_gelu_forward(rec, gpt->fch_act, a->fch, n, err);
    return widen ? t2g_gelu_forward_keep(rec, gpt->fch_act, gpt->fch_wide, a->fch, n, err)
                 : t2g_gelu_forward_keep(rec, gpt->fch_act, a->fch, gpt->fch_wide, n, err);
}

static t2g_status block_forward(t2g_gpt *gpt, t2g_recorder *rec, uint32_t l, t2g_tensor residual, uint32_t B,
                                uint32_t T, t2g_error *err) {
    const gpt_block *w = &gpt->weights.blocks[l];
    const gpt_block *mw = &gpt_matmul_weights(gpt)->blocks[l]; /* the matmuls' weights */
    const gpt_block_acts *a = &gpt->acts[l];
    uint32_t N = B * T, C = gpt->config.width, F = gpt->F;
    TRY(t2g_layernorm_forward(rec, a->ln1, a->ln1_mean, a->ln1_rstd, residual, w->ln1w, w->ln1b, N, C, err));
    t2g_tensor qkv = gpt_qkv_f32(gpt, a);
    TRY(t2g_matmul_forward(rec, qkv, a->ln1, mw->qkvw, &w->qkvb, N, C, gpt->QKV, err));
    TRY(gpt_keep_qkv(gpt, rec, a, false, N, err));
    TRY(t2g_attention_forward(rec, a->atty, a->lse, qkv, B, T, gpt->NH, gpt->NH, gpt->hs, err));
    TRY(t2g_matmul_forward_residual(rec, a->residual2, residual, a->atty, mw->attprojw, &w->attprojb, N, C, C, err));
    TRY(t2g_layernorm_forward(rec, a->ln2, a->ln2_mean, a->ln2_rstd, a->residual2, w->ln2w, w->ln2b, N, C, err));
    TRY(t2g_matmul_forward(rec, gpt_fch_f32(gpt, a), a->ln2, mw->fcw, &w->fcb, N, C, F, err));
    TRY(activate(gpt, rec, a, false, (uint64_t)N * F, err));
    TRY(t2g_matmul_forward_residual(rec, a->residual3, a->residual2, gpt->fch_act, mw->fcprojw, &w->fcprojb, N, F, C,
                                    err));
    return T2G_OK;
}

/* Every backward kernel adds into its gradient, so the scratch gradients a kernel adds into
 * (dqkv, dfch) are zeroed before each use, those the matmuls' dinp alone writes (dln, datty) are
 * set (t2g_matmul_backward_set), and dresidual, the gradient of the residual stream, accumulates
 * the contributions of both branches. */
static t2g_status block_backward(t2g_gpt *gpt, t2g_recorder *rec, uint32_t l, uint32_t B, uint32_t T, t2g_error *err) {
    const gpt_block *w = &gpt->weights.blocks[l];
    const gpt_block *mw = &gpt_matmul_weights(gpt)->blocks[l]; /* the matmuls' weights */
    const gpt_block *g = &gpt->grad_weights.blocks[l];
    const gpt_block_acts *a = &gpt->acts[l];
    uint32_t N = B * T, C = gpt->config.width, F = gpt->F;
    uint64_t NC = (uint64_t)N * C, NF = (uint64_t)N * F;
    t2g_tensor residual = gpt_block_input(gpt, l);
    /* residual3 = residual2 + fcproj: dresidual is the gradient of both. fch_act, shared by the
     * blocks, is this block's again: the same activation of the same fch, so the same bits. */
    TRY(activate(gpt, rec, a, true, NF, err));
    TRY(t2g_fill(rec, gpt->dfch, NF, 0.0f, err));
    TRY(t2g_matmul_backward_gelu(rec, gpt->dfch, g->fcprojw, &g->fcprojb, gpt->dresidual, gpt->fch_act, mw->fcprojw,
                                 gpt_fch_f32(gpt, a), N, F, C, err));
    TRY(t2g_matmul_backward_set(rec, gpt->dln, g->fcw, &g->fcb, gpt->dfch, a->ln2, mw->fcw, N, C, F, err));
    TRY(t2g_layernorm_backward(rec, gpt->dresidual, g->ln2w, g->ln2b, gpt->dln, a->residual2, w->ln2w, a->ln2_mean,
                               a->ln2_rstd, N, C, err));
    /* residual2 = residual + attproj: dresidual is now the gradient of both. */
    TRY(t2g_matmul_backward_set(rec, gpt->datty, g->attprojw, &g->attprojb, gpt->dresidual, a->atty, mw->attprojw, N, C,
                                C, err));
    TRY(t2g_fill(rec, gpt->dqkv, 3 * NC, 0.0f, err));
    TRY(gpt_keep_qkv(gpt, rec, a, true, N, err));
    TRY(t2g_attention_backward(rec, gpt->dqkv, gpt->datty, gpt_qkv_f32(gpt, a), a->atty, a->lse, B, T, gpt->NH, gpt->NH,
                               gpt->hs, err));
    TRY(t2g_matmul_backward_set(rec, gpt->dln, g->qkvw, &g->qkvb, gpt->dqkv, a->ln1, mw->qkvw, N, C, gpt->QKV, err));
    TRY(t2g_layernorm_backward(rec, gpt->dresidual, g->ln1w, g->ln1b, gpt->dln, residual, w->ln1w, a->ln1_mean,
                               a->ln1_rstd, N, C, err));
    return T2G_OK;
}

/* The n rows of a step through block l, writing their k and v into the cache. */
static t2g_status block_decode(const gpt_decode *d, uint32_t l, t2g_error *err) {
    const t2g_gpt *gpt = d->gpt;
    const gpt_block *b = &gpt->weights.blocks[l];
    const gpt_block *mw = &gpt_matmul_weights(gpt)->blocks[l]; /* the matmuls' weights (16-bit copies) */
    t2g_recorder *rec = d->rec;
    uint32_t n = d->n, C = gpt->config.width, F = gpt->F;
    TRY(t2g_layernorm_forward(rec, d->ln, d->mean, d->rstd, d->x, b->ln1w, b->ln1b, n, C, err));
    TRY(t2g_matmul_forward(rec, d->qkv, d->ln, mw->qkvw, &b->qkvb, n, C, gpt->QKV, err));
    TRY(t2g_decode_store(rec, d->qkv, d->kcache[l], d->vcache[l], d->rows, NULL, n, d->slots, gpt->config.context,
                         gpt->NH, gpt->NH, gpt->hs, err));
    TRY(t2g_decode_attention(rec, d->atty, d->kcache[l], d->vcache[l], d->qkv, d->rows, n, d->slots,
                             gpt->config.context, gpt->NH, gpt->NH, gpt->hs, T2G_DECODE_AUTO, err));
    TRY(t2g_matmul_forward_residual(rec, d->x2, d->x, d->atty, mw->attprojw, &b->attprojb, n, C, C, err));
    TRY(t2g_layernorm_forward(rec, d->ln, d->mean, d->rstd, d->x2, b->ln2w, b->ln2b, n, C, err));
    TRY(t2g_matmul_forward(rec, d->fch, d->ln, mw->fcw, &b->fcb, n, C, F, err));
    TRY(t2g_gelu_forward(rec, d->fch_act, d->fch, (uint64_t)n * F, err));
    TRY(t2g_matmul_forward_residual(rec, d->x, d->x2, d->fch_act, mw->fcprojw, &b->fcprojb, n, F, C, err));
    return T2G_OK;
}

const gpt_arch gpt_arch_gpt2 = {
    .id = T2G_ARCH_GPT2,
    .name = "gpt2",
    .tensors = GPT2_TENSORS,
    .tensor_count = sizeof GPT2_TENSORS / sizeof GPT2_TENSORS[0],
    .positions = true,
    .norm = NORM_LAYER,
    .ffn_in_factor = 1,
    .mlp_act_gradient = false,
    .block_forward = block_forward,
    .block_backward = block_backward,
    .block_decode = block_decode,
};
