/* The loss, the backward pass and the optimizer step, as llm.c's gpt2_backward and
 * gpt2_update. Every backward kernel adds into its gradient, so the scratch gradients of a
 * block (dln, datty, dqkv, dfch, dfch_gelu) are zeroed before each use, while dresidual, the
 * gradient of the residual stream, accumulates the contributions of both branches. */
#include "gpt_internal.h"

static t2g_status block_backward(t2g_gpt *gpt, t2g_recorder *rec, uint32_t l, uint32_t B, uint32_t T, t2g_error *err) {
    const gpt_block *w = &gpt->weights.blocks[l];
    const gpt_block *g = &gpt->grad_weights.blocks[l];
    const gpt_block_acts *a = &gpt->acts[l];
    uint32_t N = B * T, C = gpt->config.width, NH = gpt->config.heads;
    uint64_t NC = (uint64_t)N * C;
    t2g_tensor residual = gpt_block_input(gpt, l);
    /* residual3 = residual2 + fcproj: dresidual is the gradient of both. */
    TRY(t2g_fill(rec, gpt->dfch_gelu, 4 * NC, 0.0f, err));
    TRY(t2g_matmul_backward(rec, &gpt->dfch_gelu, g->fcprojw, &g->fcprojb, gpt->dresidual, a->fch_gelu, w->fcprojw, N,
                            4 * C, C, err));
    TRY(t2g_fill(rec, gpt->dfch, 4 * NC, 0.0f, err));
    TRY(t2g_gelu_backward(rec, gpt->dfch, a->fch, gpt->dfch_gelu, 4 * NC, err));
    TRY(t2g_fill(rec, gpt->dln, NC, 0.0f, err));
    TRY(t2g_matmul_backward(rec, &gpt->dln, g->fcw, &g->fcb, gpt->dfch, a->ln2, w->fcw, N, C, 4 * C, err));
    TRY(t2g_layernorm_backward(rec, gpt->dresidual, g->ln2w, g->ln2b, gpt->dln, a->residual2, w->ln2w, a->ln2_mean,
                               a->ln2_rstd, N, C, err));
    /* residual2 = residual + attproj: dresidual is now the gradient of both. */
    TRY(t2g_fill(rec, gpt->datty, NC, 0.0f, err));
    TRY(t2g_matmul_backward(rec, &gpt->datty, g->attprojw, &g->attprojb, gpt->dresidual, a->atty, w->attprojw, N, C, C,
                            err));
    TRY(t2g_fill(rec, gpt->dqkv, 3 * NC, 0.0f, err));
    TRY(t2g_attention_backward(rec, gpt->dqkv, gpt->datty, a->qkv, a->atty, a->lse, B, T, NH, NH, C / NH, err));
    TRY(t2g_fill(rec, gpt->dln, NC, 0.0f, err));
    TRY(t2g_matmul_backward(rec, &gpt->dln, g->qkvw, &g->qkvb, gpt->dqkv, a->ln1, w->qkvw, N, C, 3 * C, err));
    TRY(t2g_layernorm_backward(rec, gpt->dresidual, g->ln1w, g->ln1b, gpt->dln, residual, w->ln1w, a->ln1_mean,
                               a->ln1_rstd, N, C, err));
    return T2G_OK;
}

static t2g_status backward(t2g_gpt *gpt, t2g_recorder *rec, t2g_tensor targets, t2g_tensor weights, uint32_t B,
                           uint32_t T, float dloss, const t2g_tensor *dhidden, t2g_error *err) {
    if (B != gpt->pass_B || T != gpt->pass_T)
        return t2g_fail(err, T2G_ERR_ARGUMENT,
                        "GPT backward: %u x %u tokens, but the last forward was %u x %u (a backward follows its forward)",
                        B, T, gpt->pass_B, gpt->pass_T);
    const t2g_model_config *c = &gpt->config;
    uint32_t N = B * T, C = c->width;
    /* The loss and dlogits, in place over the logits. */
    TRY(t2g_crossentropy_forward_backward(rec, gpt->losses, gpt->logits, gpt->logits, targets, weights, N, c->vocab,
                                          dloss, err));
    TRY(t2g_fill(rec, gpt->dln, (uint64_t)N * C, 0.0f, err));
    TRY(t2g_matmul_backward(rec, &gpt->dln, gpt->grad_weights.wte, NULL, gpt->logits, gpt->lnf, gpt->weights.wte, N, C,
                            c->vocab, err));
    if (dhidden) TRY(t2g_axpby(rec, gpt->dln, *dhidden, (uint64_t)N * C, 1.0f, 1.0f, err));
    TRY(t2g_fill(rec, gpt->dresidual, (uint64_t)N * C, 0.0f, err));
    TRY(t2g_layernorm_backward(rec, gpt->dresidual, gpt->grad_weights.lnfw, gpt->grad_weights.lnfb, gpt->dln,
                               gpt_block_input(gpt, c->layers), gpt->weights.lnfw, gpt->lnf_mean, gpt->lnf_rstd, N, C, err));
    for (uint32_t l = c->layers; l-- > 0;) TRY(block_backward(gpt, rec, l, B, T, err));
    TRY(t2g_embedding_backward(rec, gpt->grad_weights.wte, gpt->grad_weights.wpe, gpt->dresidual, gpt->tokens, B, T, C,
                               c->vocab, err));
    return T2G_OK;
}

t2g_status t2g_gpt_backward(t2g_gpt *gpt, t2g_recorder *rec, t2g_tensor targets, t2g_tensor weights, uint32_t B,
                            uint32_t T, float dloss, t2g_error *err) {
    return backward(gpt, rec, targets, weights, B, T, dloss, NULL, err);
}

t2g_status t2g_gpt_backward_with_hidden(t2g_gpt *gpt, t2g_recorder *rec, t2g_tensor targets, t2g_tensor weights,
                                        uint32_t B, uint32_t T, float dloss, t2g_tensor dhidden, t2g_error *err) {
    return backward(gpt, rec, targets, weights, B, T, dloss, &dhidden, err);
}

t2g_status t2g_gpt_loss_sum(t2g_gpt *gpt, t2g_recorder *rec, t2g_tensor out, t2g_tensor weights, uint32_t B, uint32_t T,
                            t2g_error *err) {
    return t2g_dot(rec, out, gpt->losses, weights, (uint64_t)B * T, err);
}

t2g_status t2g_gpt_zero_grads(t2g_gpt *gpt, t2g_recorder *rec, t2g_error *err) {
    return t2g_fill(rec, gpt->grads, gpt->buffer_floats, 0.0f, err);
}

t2g_status t2g_gpt_update(t2g_gpt *gpt, t2g_recorder *rec, const t2g_adamw_settings *settings, float grad_clip,
                          t2g_tensor norm_and_scale, t2g_error *err) {
    TRY(t2g_grad_norm(rec, norm_and_scale, gpt->grads, gpt->buffer_floats, grad_clip, err));
    t2g_adamw_settings no_decay = *settings;
    no_decay.weight_decay = 0.0f;
    uint64_t decayed = gpt->decayed_floats;
    TRY(t2g_adamw_update(rec, gpt->params, gpt->grads, gpt->m, gpt->v, &norm_and_scale, 0, decayed, settings, err));
    TRY(t2g_adamw_update(rec, gpt->params, gpt->grads, gpt->m, gpt->v, &norm_and_scale, decayed,
                         gpt->buffer_floats - decayed, &no_decay, err));
    return T2G_OK;
}
