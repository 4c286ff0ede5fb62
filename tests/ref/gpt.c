/* Reference: the whole GPT-2 forward and backward in double precision, composed of the
 * kernel references, in the order of llm.c's gpt2_forward and gpt2_backward. */
#include <stdlib.h>
#include <string.h>

#include "ref.h"

typedef struct block_acts {
    double *ln1, *ln1_mean, *ln1_rstd; /* (N,C), (N), (N) */
    double *qkv;                       /* (N,3C) */
    double *atty, *lse;                /* (N,C), (B,NH,T) */
    double *attproj, *residual2;       /* (N,C) */
    double *ln2, *ln2_mean, *ln2_rstd; /* (N,C), (N), (N) */
    double *fch, *fch_gelu;            /* (N,4C) */
    double *fcproj, *residual3;        /* (N,C) */
} block_acts;

static double *zeros(size_t n) { return calloc(n ? n : 1, sizeof(double)); }

static void alloc_block(block_acts *a, size_t N, size_t C, size_t lse) {
    a->ln1 = zeros(N * C), a->ln1_mean = zeros(N), a->ln1_rstd = zeros(N), a->qkv = zeros(N * 3 * C);
    a->atty = zeros(N * C), a->lse = zeros(lse), a->attproj = zeros(N * C), a->residual2 = zeros(N * C);
    a->ln2 = zeros(N * C), a->ln2_mean = zeros(N), a->ln2_rstd = zeros(N), a->fch = zeros(N * 4 * C);
    a->fch_gelu = zeros(N * 4 * C), a->fcproj = zeros(N * C), a->residual3 = zeros(N * C);
}

static void free_block(block_acts *a) {
    double *all[] = {a->ln1, a->ln1_mean, a->ln1_rstd, a->qkv, a->atty, a->lse, a->attproj, a->residual2,
                     a->ln2, a->ln2_mean, a->ln2_rstd, a->fch, a->fch_gelu, a->fcproj, a->residual3};
    for (size_t i = 0; i < sizeof all / sizeof all[0]; i++) free(all[i]);
}

static void block_forward(const ref_gpt_weights *w, int l, block_acts *a, const double *residual, int B, int T, int C,
                          int NH) {
    int N = B * T;
    ref_layernorm_forward(a->ln1, a->ln1_mean, a->ln1_rstd, residual, w->ln1w[l], w->ln1b[l], N, C);
    ref_matmul_forward(a->qkv, a->ln1, w->qkvw[l], w->qkvb[l], N, C, 3 * C);
    ref_attention_forward(a->atty, a->lse, a->qkv, B, T, NH, NH, C / NH);
    ref_matmul_forward(a->attproj, a->atty, w->attprojw[l], w->attprojb[l], N, C, C);
    ref_residual_forward(a->residual2, residual, a->attproj, (size_t)N * C);
    ref_layernorm_forward(a->ln2, a->ln2_mean, a->ln2_rstd, a->residual2, w->ln2w[l], w->ln2b[l], N, C);
    ref_matmul_forward(a->fch, a->ln2, w->fcw[l], w->fcb[l], N, C, 4 * C);
    ref_gelu_forward(a->fch_gelu, a->fch, (size_t)N * 4 * C);
    ref_matmul_forward(a->fcproj, a->fch_gelu, w->fcprojw[l], w->fcprojb[l], N, 4 * C, C);
    ref_residual_forward(a->residual3, a->residual2, a->fcproj, (size_t)N * C);
}

/* dresidual (N,C) holds the gradient of the block's output; on return, of its input. */
static void block_backward(const ref_gpt_weights *w, ref_gpt_weights *g, int l, const block_acts *a,
                           const double *residual, double *dresidual, int B, int T, int C, int NH) {
    size_t N = (size_t)B * T, NC = N * C;
    double *dfch_gelu = zeros(4 * NC), *dfch = zeros(4 * NC), *dln2 = zeros(NC);
    double *datty = zeros(NC), *dqkv = zeros(3 * NC), *dln1 = zeros(NC);
    ref_matmul_backward(dfch_gelu, g->fcprojw[l], g->fcprojb[l], dresidual, a->fch_gelu, w->fcprojw[l], (int)N, 4 * C, C);
    ref_gelu_backward(dfch, a->fch, dfch_gelu, 4 * NC);
    ref_matmul_backward(dln2, g->fcw[l], g->fcb[l], dfch, a->ln2, w->fcw[l], (int)N, C, 4 * C);
    ref_layernorm_backward(dresidual, g->ln2w[l], g->ln2b[l], dln2, a->residual2, w->ln2w[l], a->ln2_mean, a->ln2_rstd,
                           (int)N, C);
    ref_matmul_backward(datty, g->attprojw[l], g->attprojb[l], dresidual, a->atty, w->attprojw[l], (int)N, C, C);
    ref_attention_backward(dqkv, datty, a->qkv, B, T, NH, NH, C / NH);
    ref_matmul_backward(dln1, g->qkvw[l], g->qkvb[l], dqkv, a->ln1, w->qkvw[l], (int)N, C, 3 * C);
    ref_layernorm_backward(dresidual, g->ln1w[l], g->ln1b[l], dln1, residual, w->ln1w[l], a->ln1_mean, a->ln1_rstd,
                           (int)N, C);
    free(dfch_gelu), free(dfch), free(dln2), free(datty), free(dqkv), free(dln1);
}

double ref_gpt_forward_backward(const ref_gpt_shape *shape, const ref_gpt_weights *w, ref_gpt_weights *grads,
                                const uint32_t *tokens, const uint32_t *targets, const double *weights, int B, int T,
                                double dloss, const double *dhidden, double *logits_out, double *losses_out) {
    int V = shape->V, C = shape->C, NH = shape->NH, L = shape->L;
    size_t N = (size_t)B * T, NC = N * C;
    double *encoded = zeros(NC);
    block_acts acts[REF_MAX_LAYERS];
    ref_embedding_forward(encoded, tokens, w->wte, w->wpe, B, T, C, V);
    for (int l = 0; l < L; l++) {
        alloc_block(&acts[l], N, (size_t)C, (size_t)B * NH * T);
        block_forward(w, l, &acts[l], l == 0 ? encoded : acts[l - 1].residual3, B, T, C, NH);
    }
    const double *last = L ? acts[L - 1].residual3 : encoded;
    double *lnf = zeros(NC), *lnf_mean = zeros(N), *lnf_rstd = zeros(N);
    double *logits = zeros(N * V), *losses = zeros(N), *dlogits = zeros(N * V);
    ref_layernorm_forward(lnf, lnf_mean, lnf_rstd, last, w->lnfw, w->lnfb, (int)N, C);
    ref_matmul_forward(logits, lnf, w->wte, NULL, (int)N, C, V);
    if (logits_out) memcpy(logits_out, logits, N * V * sizeof *logits);
    ref_crossentropy_forward_backward(losses, dlogits, logits, targets, weights, (int)N, V, dloss);
    if (losses_out) memcpy(losses_out, losses, N * sizeof *losses);
    double loss_sum = 0;
    for (size_t n = 0; n < N; n++) loss_sum += weights[n] * losses[n];

    if (grads) {
        double *dlnf = zeros(NC), *dresidual = zeros(NC);
        ref_matmul_backward(dlnf, grads->wte, NULL, dlogits, lnf, w->wte, (int)N, C, V);
        if (dhidden) ref_axpby(dlnf, dhidden, NC, 1.0, 1.0);
        ref_layernorm_backward(dresidual, grads->lnfw, grads->lnfb, dlnf, last, w->lnfw, lnf_mean, lnf_rstd, (int)N, C);
        for (int l = L - 1; l >= 0; l--)
            block_backward(w, grads, l, &acts[l], l == 0 ? encoded : acts[l - 1].residual3, dresidual, B, T, C, NH);
        ref_embedding_backward(grads->wte, grads->wpe, dresidual, tokens, B, T, C, V);
        free(dlnf), free(dresidual);
    }
    for (int l = 0; l < L; l++) free_block(&acts[l]);
    free(encoded), free(lnf), free(lnf_mean), free(lnf_rstd), free(logits), free(losses), free(dlogits);
    return loss_sum;
}
