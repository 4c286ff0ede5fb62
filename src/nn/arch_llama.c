/* The Llama family (Llama, SmolLM2, TinyLlama, Mistral without a sliding window, Qwen2):
 * pre-RMSNorm blocks, rotary positions on q and k (Hugging Face's rotate-half form),
 * grouped-query attention (kv_heads key/value heads, each shared by heads / kv_heads query
 * heads), a SwiGLU MLP (gate and up fused in fcw, down in fcprojw), no biases but the optional
 * q/k/v ones (Qwen2), a tied or untied output head and no position table. */
#include <stddef.h>

#include "gpt_internal.h"
#include "kernels/decode.h"

#define BLOCK(field) offsetof(gpt_block, field)
#define MODEL(field) offsetof(gpt_weights, field)

/* In table order; the buffer puts the decayed ones first (gpt_params.c). */
static const arch_tensor LLAMA_TENSORS[] = {
    {"wte", false, DIM_VOCAB, DIM_WIDTH, INIT_NORMAL, true, ALWAYS, F32_TOO, MODEL(wte)},
    {"head", false, DIM_VOCAB, DIM_WIDTH, INIT_NORMAL, true, WITH_UNTIED_HEAD, MATMULS_ONLY, MODEL(head)},
    {"qkvw", true, DIM_QKV, DIM_WIDTH, INIT_NORMAL, true, ALWAYS, MATMULS_ONLY, BLOCK(qkvw)},
    {"attprojw", true, DIM_WIDTH, DIM_WIDTH, INIT_RESIDUAL, true, ALWAYS, MATMULS_ONLY, BLOCK(attprojw)},
    {"fcw", true, DIM_FFN_IN, DIM_WIDTH, INIT_NORMAL, true, ALWAYS, MATMULS_ONLY, BLOCK(fcw)},
    {"fcprojw", true, DIM_WIDTH, DIM_FFN, INIT_RESIDUAL, true, ALWAYS, MATMULS_ONLY, BLOCK(fcprojw)},
    {"ln1w", true, DIM_ONE, DIM_WIDTH, INIT_ONES, false, ALWAYS, F32_TOO, BLOCK(ln1w)},
    {"qkvb", true, DIM_ONE, DIM_QKV, INIT_ZEROS, false, WITH_QKV_BIAS, F32_TOO, BLOCK(qkvb)},
    {"ln2w", true, DIM_ONE, DIM_WIDTH, INIT_ONES, false, ALWAYS, F32_TOO, BLOCK(ln2w)},
    {"lnfw", false, DIM_ONE, DIM_WIDTH, INIT_ONES, false, ALWAYS, F32_TOO, MODEL(lnfw)},
};

/* The q/k/v bias, if the model has one. */
static const t2g_tensor *qkv_bias(const gpt_block *b) { return b->qkvb.arena ? &b->qkvb : NULL; }

/* fch_act = SwiGLU(the block's fch), the fch kept in 16 bits or widened as gpt2's activate. */
static t2g_status activate(const t2g_gpt *gpt, t2g_recorder *rec, const gpt_block_acts *a, bool widen, uint32_t N,
                           t2g_error *err) {
    if (!gpt->fch_wide.arena) return t2g_swiglu_forward(rec, gpt->fch_act, a->fch, N, gpt->F, err);
    return widen ? t2g_swiglu_forward_keep(rec, gpt->fch_act, gpt->fch_wide, a->fch, N, gpt->F, err)
                 : t2g_swiglu_forward_keep(rec, gpt->fch_act, a->fch, gpt->fch_wide, N, gpt->F, err);
}

static t2g_status block_forward(t2g_gpt *gpt, t2g_recorder *rec, uint32_t l, t2g_tensor residual, uint32_t B,
                                uint32_t T, t2g_error *err) {
    const gpt_block *w = &gpt->weights.blocks[l];
    const gpt_block *mw = &gpt_matmul_weights(gpt)->blocks[l]; /* the matmuls' weights */
    const gpt_block_acts *a = &gpt->acts[l];
    uint32_t N = B * T, C = gpt->config.width, F = gpt->F;
    float eps = (float)gpt->config.norm_eps;
    TRY(t2g_rmsnorm_forward(rec, a->ln1, a->ln1_rstd, residual, w->ln1w, N, C, eps, err));
    t2g_tensor qkv = gpt_qkv_f32(gpt, a);
    TRY(t2g_matmul_forward(rec, qkv, a->ln1, mw->qkvw, qkv_bias(w), N, C, gpt->QKV, err));
    TRY(t2g_rope(rec, qkv, gpt->rope, B, T, gpt->QKV, gpt->NH + gpt->KVH, gpt->hs, 0, false, err));
    TRY(gpt_keep_qkv(gpt, rec, a, false, N, err));
    TRY(t2g_attention_forward(rec, a->atty, a->lse, qkv, B, T, gpt->NH, gpt->KVH, gpt->hs, err));
    TRY(t2g_matmul_forward_residual(rec, a->residual2, residual, a->atty, mw->attprojw, NULL, N, C, C, err));
    TRY(t2g_rmsnorm_forward(rec, a->ln2, a->ln2_rstd, a->residual2, w->ln2w, N, C, eps, err));
    TRY(t2g_matmul_forward(rec, gpt_fch_f32(gpt, a), a->ln2, mw->fcw, NULL, N, C, 2 * F, err));
    TRY(activate(gpt, rec, a, false, N, err));
    TRY(t2g_matmul_forward_residual(rec, a->residual3, a->residual2, gpt->fch_act, mw->fcprojw, NULL, N, F, C, err));
    return T2G_OK;
}

/* As gpt2's: fch_act recomputed, scratch gradients zeroed before each use or set, dresidual
 * accumulating both branches. The rotation is linear, so the gradient of q and k before it is
 * the inverse rotation of the gradient after it, in place. */
static t2g_status block_backward(t2g_gpt *gpt, t2g_recorder *rec, uint32_t l, uint32_t B, uint32_t T, t2g_error *err) {
    const gpt_block *w = &gpt->weights.blocks[l];
    const gpt_block *mw = &gpt_matmul_weights(gpt)->blocks[l]; /* the matmuls' weights */
    const gpt_block *g = &gpt->grad_weights.blocks[l];
    const gpt_block_acts *a = &gpt->acts[l];
    uint32_t N = B * T, C = gpt->config.width, F = gpt->F;
    uint64_t NF = (uint64_t)N * F;
    t2g_tensor residual = gpt_block_input(gpt, l);
    TRY(activate(gpt, rec, a, true, N, err)); /* recomputed, as gpt2's */
    TRY(t2g_matmul_backward_set(rec, gpt->dfch_act, g->fcprojw, NULL, gpt->dresidual, gpt->fch_act, mw->fcprojw, N, F, C,
                                err));
    TRY(t2g_fill(rec, gpt->dfch, 2 * NF, 0.0f, err));
    TRY(t2g_swiglu_backward(rec, gpt->dfch, gpt_fch_f32(gpt, a), gpt->dfch_act, N, F, err));
    TRY(t2g_matmul_backward_set(rec, gpt->dln, g->fcw, NULL, gpt->dfch, a->ln2, mw->fcw, N, C, 2 * F, err));
    TRY(t2g_rmsnorm_backward(rec, gpt->dresidual, g->ln2w, gpt->dln, a->residual2, w->ln2w, a->ln2_rstd, N, C, err));
    TRY(t2g_matmul_backward_set(rec, gpt->datty, g->attprojw, NULL, gpt->dresidual, a->atty, mw->attprojw, N, C, C, err));
    TRY(t2g_fill(rec, gpt->dqkv, (uint64_t)N * gpt->QKV, 0.0f, err));
    TRY(gpt_keep_qkv(gpt, rec, a, true, N, err));
    TRY(t2g_attention_backward(rec, gpt->dqkv, gpt->datty, gpt_qkv_f32(gpt, a), a->atty, a->lse, B, T, gpt->NH, gpt->KVH,
                               gpt->hs, err));
    TRY(t2g_rope(rec, gpt->dqkv, gpt->rope, B, T, gpt->QKV, gpt->NH + gpt->KVH, gpt->hs, 0, true, err));
    TRY(t2g_matmul_backward_set(rec, gpt->dln, g->qkvw, qkv_bias(g), gpt->dqkv, a->ln1, mw->qkvw, N, C, gpt->QKV, err));
    TRY(t2g_rmsnorm_backward(rec, gpt->dresidual, g->ln1w, gpt->dln, residual, w->ln1w, a->ln1_rstd, N, C, err));
    return T2G_OK;
}

/* The n rows of a step through block l, writing their turned k and v into the cache. */
static t2g_status block_decode(const gpt_decode *d, uint32_t l, t2g_error *err) {
    const t2g_gpt *gpt = d->gpt;
    const gpt_block *b = &gpt->weights.blocks[l];
    const gpt_block *mw = &gpt_matmul_weights(gpt)->blocks[l]; /* the matmuls' weights (16-bit copies) */
    t2g_recorder *rec = d->rec;
    uint32_t n = d->n, C = gpt->config.width, F = gpt->F;
    float eps = (float)gpt->config.norm_eps;
    TRY(t2g_rmsnorm_forward(rec, d->ln, d->rstd, d->x, b->ln1w, n, C, eps, err));
    TRY(t2g_matmul_forward(rec, d->qkv, d->ln, mw->qkvw, qkv_bias(b), n, C, gpt->QKV, err));
    TRY(t2g_decode_store(rec, d->qkv, d->kcache[l], d->vcache[l], d->rows, &gpt->rope, n, d->slots,
                         gpt->config.context, gpt->NH, gpt->KVH, gpt->hs, err));
    TRY(t2g_decode_attention(rec, d->atty, d->kcache[l], d->vcache[l], d->qkv, d->rows, n, d->slots,
                             gpt->config.context, gpt->NH, gpt->KVH, gpt->hs, T2G_DECODE_AUTO, err));
    TRY(t2g_matmul_forward_residual(rec, d->x2, d->x, d->atty, mw->attprojw, NULL, n, C, C, err));
    TRY(t2g_rmsnorm_forward(rec, d->ln, d->rstd, d->x2, b->ln2w, n, C, eps, err));
    TRY(t2g_matmul_forward(rec, d->fch, d->ln, mw->fcw, NULL, n, C, 2 * F, err));
    TRY(t2g_swiglu_forward(rec, d->fch_act, d->fch, n, F, err));
    TRY(t2g_matmul_forward_residual(rec, d->x, d->x2, d->fch_act, mw->fcprojw, NULL, n, F, C, err));
    return T2G_OK;
}

const gpt_arch gpt_arch_llama = {
    .id = T2G_ARCH_LLAMA,
    .name = "llama",
    .tensors = LLAMA_TENSORS,
    .tensor_count = sizeof LLAMA_TENSORS / sizeof LLAMA_TENSORS[0],
    .positions = false,
    .norm = NORM_RMS,
    .ffn_in_factor = 2,
    .mlp_act_gradient = true,
    .block_forward = block_forward,
    .block_backward = block_backward,
    .block_decode = block_decode,
};
