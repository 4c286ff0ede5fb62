/* The loss, the backward pass and the optimizer step, as llm.c's gpt2_backward and
 * gpt2_update; each block's backward is the architecture's. Every backward kernel adds into its
 * gradient, so scratch gradients are zeroed before each use (or set, where a matmul's dinp alone
 * writes them: t2g_matmul_backward_set), while dresidual, the gradient of the residual stream,
 * accumulates the contributions of every branch. */
#include "gpt_internal.h"

/* T2G_ERR_ARGUMENT for a frozen model, which has no gradients. */
static t2g_status need_gradients(const t2g_gpt *gpt, const char *what, t2g_error *err) {
    if (!gpt->frozen) return T2G_OK;
    return t2g_fail(err, T2G_ERR_ARGUMENT, "GPT %s: the model is frozen (t2g_gpt_create_frozen): it has no gradients", what);
}

static t2g_status backward(t2g_gpt *gpt, t2g_recorder *rec, t2g_tensor targets, t2g_tensor weights, uint32_t B,
                           uint32_t T, float dloss, const t2g_tensor *dhidden, t2g_error *err) {
    TRY(need_gradients(gpt, "backward", err));
    if (B != gpt->pass_B || T != gpt->pass_T)
        return t2g_fail(err, T2G_ERR_ARGUMENT,
                        "GPT backward: %u x %u tokens, but the last forward was %u x %u (a backward follows its forward)",
                        B, T, gpt->pass_B, gpt->pass_T);
    const t2g_model_config *c = &gpt->config;
    uint32_t N = B * T, C = c->width;
    /* The loss, dlogits in place over the logits, and the head's backward (in pieces, or whole). */
    TRY(gpt_head_loss(gpt, rec, targets, weights, N, dloss, true, err));
    const gpt_weights *w = &gpt->weights, *g = &gpt->grad_weights;
    if (dhidden) TRY(t2g_axpby(rec, gpt->dln, *dhidden, (uint64_t)N * C, 1.0f, 1.0f, err));
    TRY(t2g_fill(rec, gpt->dresidual, (uint64_t)N * C, 0.0f, err));
    TRY(gpt_norm_backward(gpt, rec, gpt->dresidual, g->lnfw, g->lnfb, gpt->dln, gpt_block_input(gpt, c->layers), w->lnfw,
                          gpt->lnf_mean, gpt->lnf_rstd, N, err));
    for (uint32_t l = c->layers; l-- > 0;) TRY(gpt->arch->block_backward(gpt, rec, l, B, T, err));
    TRY(t2g_embedding_backward(rec, g->wte, gpt->arch->positions ? &g->wpe : NULL, gpt->dresidual, gpt->tokens, B, T, C, c->vocab,
                               err));
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

t2g_status t2g_gpt_loss(t2g_gpt *gpt, t2g_recorder *rec, t2g_tensor targets, t2g_tensor weights, uint32_t B, uint32_t T,
                        t2g_error *err) {
    if (!gpt->pass_B || B != gpt->pass_B || T != gpt->pass_T)
        return t2g_fail(err, T2G_ERR_ARGUMENT, "GPT loss: %u x %u tokens, but the last forward was %u x %u (the loss "
                        "follows its forward)", B, T, gpt->pass_B, gpt->pass_T);
    return gpt_head_loss(gpt, rec, targets, weights, B * T, 0.0f, false, err);
}

t2g_status t2g_gpt_loss_sum(t2g_gpt *gpt, t2g_recorder *rec, t2g_tensor out, t2g_tensor weights, uint32_t B, uint32_t T,
                            t2g_error *err) {
    TRY(need_gradients(gpt, "loss sum", err)); /* the losses come from the backward */
    return t2g_dot(rec, out, gpt->losses, weights, (uint64_t)B * T, err);
}

t2g_status t2g_gpt_zero_grads(t2g_gpt *gpt, t2g_recorder *rec, t2g_error *err) {
    TRY(need_gradients(gpt, "zero grads", err));
    return t2g_fill(rec, gpt->grads, gpt->buffer_floats, 0.0f, err);
}

t2g_status t2g_gpt_update(t2g_gpt *gpt, t2g_recorder *rec, const t2g_adamw_settings *settings, float grad_clip,
                          t2g_tensor norm_and_scale, t2g_error *err) {
    TRY(need_gradients(gpt, "update", err));
    TRY(t2g_grad_norm(rec, norm_and_scale, gpt->grads, gpt->buffer_floats, grad_clip, err));
    t2g_adamw_settings no_decay = *settings;
    no_decay.weight_decay = 0.0f;
    uint64_t decayed = gpt->decayed_floats;
    TRY(t2g_adamw_update(rec, gpt->params, gpt->grads, gpt->m, gpt->v, &norm_and_scale, 0, decayed, settings, err));
    TRY(t2g_adamw_update(rec, gpt->params, gpt->grads, gpt->m, gpt->v, &norm_and_scale, decayed,
                         gpt->buffer_floats - decayed, &no_decay, err));
    gpt->params16_stale = true; /* the next forward refreshes the 16-bit copies */
    return T2G_OK;
}
