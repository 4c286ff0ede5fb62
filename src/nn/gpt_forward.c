/* The forward pass: tokens -> logits, block by block, as llm.c's gpt2_forward. */
#include "gpt_internal.h"

static t2g_status block_forward(t2g_gpt *gpt, t2g_recorder *rec, uint32_t l, t2g_tensor residual, uint32_t B,
                                uint32_t T, t2g_error *err) {
    const gpt_block *w = &gpt->weights.blocks[l];
    const gpt_block_acts *a = &gpt->acts[l];
    uint32_t N = B * T, C = gpt->config.width, NH = gpt->config.heads;
    TRY(t2g_layernorm_forward(rec, a->ln1, a->ln1_mean, a->ln1_rstd, residual, w->ln1w, w->ln1b, N, C, err));
    TRY(t2g_matmul_forward(rec, a->qkv, a->ln1, w->qkvw, &w->qkvb, N, C, 3 * C, err));
    TRY(t2g_attention_forward(rec, a->atty, a->lse, a->qkv, B, T, NH, NH, C / NH, err));
    TRY(t2g_matmul_forward(rec, a->attproj, a->atty, w->attprojw, &w->attprojb, N, C, C, err));
    TRY(t2g_residual_forward(rec, a->residual2, residual, a->attproj, (uint64_t)N * C, err));
    TRY(t2g_layernorm_forward(rec, a->ln2, a->ln2_mean, a->ln2_rstd, a->residual2, w->ln2w, w->ln2b, N, C, err));
    TRY(t2g_matmul_forward(rec, a->fch, a->ln2, w->fcw, &w->fcb, N, C, 4 * C, err));
    TRY(t2g_gelu_forward(rec, a->fch_gelu, a->fch, (uint64_t)N * 4 * C, err));
    TRY(t2g_matmul_forward(rec, a->fcproj, a->fch_gelu, w->fcprojw, &w->fcprojb, N, 4 * C, C, err));
    TRY(t2g_residual_forward(rec, a->residual3, a->residual2, a->fcproj, (uint64_t)N * C, err));
    return T2G_OK;
}

t2g_status t2g_gpt_forward(t2g_gpt *gpt, t2g_recorder *rec, t2g_tensor tokens, uint32_t B, uint32_t T, t2g_error *err) {
    if (B == 0 || T == 0 || B > gpt->B || T > gpt->T)
        return t2g_fail(err, T2G_ERR_ARGUMENT, "GPT forward: %u x %u tokens, but the model was made for at most %u x %u", B,
                        T, gpt->B, gpt->T);
    const t2g_model_config *c = &gpt->config;
    uint32_t N = B * T, C = c->width;
    TRY(t2g_embedding_forward(rec, gpt->encoded, tokens, gpt->weights.wte, gpt->weights.wpe, B, T, C, c->vocab, err));
    for (uint32_t l = 0; l < c->layers; l++) TRY(block_forward(gpt, rec, l, gpt_block_input(gpt, l), B, T, err));
    t2g_tensor last = gpt_block_input(gpt, c->layers);
    TRY(t2g_layernorm_forward(rec, gpt->lnf, gpt->lnf_mean, gpt->lnf_rstd, last, gpt->weights.lnfw, gpt->weights.lnfb, N,
                              C, err));
    TRY(t2g_matmul_forward(rec, gpt->logits, gpt->lnf, gpt->weights.wte, NULL, N, C, c->vocab, err));
    gpt->tokens = tokens;
    gpt->pass_B = B;
    gpt->pass_T = T;
    return T2G_OK;
}
