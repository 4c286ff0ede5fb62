/* The forward pass: tokens -> logits, block by block (the architecture's), as llm.c's gpt2_forward;
 * a model whose logits come in pieces stops at the final norm (gpt_head.c). */
#include "gpt_internal.h"

t2g_status t2g_gpt_forward(t2g_gpt *gpt, t2g_recorder *rec, t2g_tensor tokens, uint32_t B, uint32_t T, t2g_error *err) {
    if (B == 0 || T == 0 || B > gpt->B || T > gpt->T)
        return t2g_fail(err, T2G_ERR_ARGUMENT, "GPT forward: %u x %u tokens, but the model was made for at most %u x %u", B,
                        T, gpt->B, gpt->T);
    const t2g_model_config *c = &gpt->config;
    uint32_t N = B * T, C = c->width;
    const gpt_weights *w = &gpt->weights;
    TRY(gpt_refresh_params16(gpt, rec, err));
    TRY(t2g_embedding_forward(rec, gpt->encoded, tokens, w->wte, gpt->arch->positions ? &w->wpe : NULL, B, T, C, c->vocab, err));
    for (uint32_t l = 0; l < c->layers; l++) TRY(gpt->arch->block_forward(gpt, rec, l, gpt_block_input(gpt, l), B, T, err));
    t2g_tensor last = gpt_block_input(gpt, c->layers);
    TRY(gpt_norm_forward(gpt, rec, gpt->lnf, gpt->lnf_mean, gpt->lnf_rstd, last, w->lnfw, w->lnfb, N, err));
    TRY(gpt_head_forward(gpt, rec, N, err)); /* whole logits; pieces wait for the loss */
    gpt->tokens = tokens;
    gpt->pass_B = B;
    gpt->pass_T = T;
    return T2G_OK;
}
