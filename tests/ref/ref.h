/* The CPU reference of every kernel, in double precision, written to be read: one function per
 * pass, shapes named as in include/t2g/kernels.h, a comment on each tensor's shape. Backward
 * functions add into their gradients (+=), as the kernels do. The style follows llm.c's
 * train_gpt2.c. */
#ifndef T2G_REF_H
#define T2G_REF_H

#include <stddef.h>
#include <stdint.h>

/* ---- elementwise (tests/ref/elementwise.c) ---- */

void ref_residual_forward(double *out, const double *a, const double *b, size_t n);
void ref_residual_backward(double *da, double *db, const double *dout, size_t n);
void ref_axpby(double *y, const double *x, size_t n, double alpha, double beta);

/* ---- GELU (tests/ref/gelu.c) ---- */

void ref_gelu_forward(double *out, const double *inp, size_t n);
void ref_gelu_backward(double *dinp, const double *inp, const double *dout, size_t n);

/* ---- embedding (tests/ref/embedding.c) ---- */

/* out (B,T,C), tokens (B,T), wte (V,C), wpe (T,C) or NULL (no position table); dwpe NULL: no
 * position gradient */
void ref_embedding_forward(double *out, const uint32_t *tokens, const double *wte, const double *wpe, int B, int T,
                           int C, int V);
void ref_embedding_backward(double *dwte, double *dwpe, const double *dout, const uint32_t *tokens, int B, int T,
                            int C, int V);

/* ---- rotary position embedding (tests/ref/rope.c) ---- */

/* x (B,T,stride) in place: the first `heads` heads of hs (even) of each row rotate, pair
 * (i, i + hs/2) by the angle (pos0 + t) * theta^(-2i/hs), computed here in double from theta;
 * inverse != 0 rotates by the negative angle. */
void ref_rope(double *x, int B, int T, int stride, int heads, int hs, int pos0, double theta, int inverse);

/* ---- LayerNorm, eps = 1e-5 (tests/ref/layernorm.c) ---- */

/* out (N,C), mean (N), rstd (N), inp (N,C), weight (C), bias (C) */
void ref_layernorm_forward(double *out, double *mean, double *rstd, const double *inp, const double *weight,
                           const double *bias, int N, int C);
void ref_layernorm_backward(double *dinp, double *dweight, double *dbias, const double *dout, const double *inp,
                            const double *weight, const double *mean, const double *rstd, int N, int C);

/* ---- RMSNorm, as Hugging Face's LlamaRMSNorm (tests/ref/rmsnorm.c) ---- */

/* out (N,C), rstd (N), inp (N,C), weight (C) */
void ref_rmsnorm_forward(double *out, double *rstd, const double *inp, const double *weight, int N, int C, double eps);
/* dinp (N,C) +=, dweight (C) +=; dout, inp (N,C), weight (C), rstd (N) */
void ref_rmsnorm_backward(double *dinp, double *dweight, const double *dout, const double *inp, const double *weight,
                          const double *rstd, int N, int C);

/* ---- SwiGLU (tests/ref/swiglu.c) ---- */

/* out (N,F) = silu(gate) * up; h (N,2F) holds gate in columns [0,F), up in [F,2F) */
void ref_swiglu_forward(double *out, const double *h, int N, int F);
/* dh (N,2F) += from dout (N,F) */
void ref_swiglu_backward(double *dh, const double *h, const double *dout, int N, int F);

/* ---- matmul (tests/ref/matmul.c) ---- */

/* out (N,OC) = inp (N,C) weight (OC,C)^T + bias (OC); bias may be NULL */
void ref_matmul_forward(double *out, const double *inp, const double *weight, const double *bias, int N, int C, int OC);
/* dinp (N,C) +=, dweight (OC,C) +=, dbias (OC) += (dinp, dbias may be NULL) */
void ref_matmul_backward(double *dinp, double *dweight, double *dbias, const double *dout, const double *inp,
                         const double *weight, int N, int C, int OC);

/* ---- causal grouped-query self-attention (tests/ref/attention.c) ---- */

/* out (B,T,NH hs), lse (B,NH,T), qkv (B,T,(NH + 2 KVH) hs); query head h uses kv head h / (NH / KVH) */
void ref_attention_forward(double *out, double *lse, const double *qkv, int B, int T, int NH, int KVH, int hs);
/* dqkv (B,T,(NH + 2 KVH) hs) +=; dout (B,T,NH hs) */
void ref_attention_backward(double *dqkv, const double *dout, const double *qkv, int B, int T, int NH, int KVH, int hs);
/* The same from the forward's stored out (B,T,NH hs), as the kernels compute it: each row's
 * softmax term is dout . out (with out rounded to 16 bits, not the exact one's). */
void ref_attention_backward_from_out(double *dqkv, const double *dout, const double *qkv, const double *out, int B,
                                     int T, int NH, int KVH, int hs);

/* ---- cross-entropy (tests/ref/crossentropy.c) ---- */

/* losses (N), dlogits (N,V), logits (N,V), targets (N), weights (N) */
void ref_crossentropy_forward_backward(double *losses, double *dlogits, const double *logits, const uint32_t *targets,
                                       const double *weights, int N, int V, double dloss);

/* ---- reductions and the optimizer (tests/ref/optim.c) ---- */

double ref_dot(const double *a, const double *b, size_t n);
/* norm_and_scale[0] = ||grads||, [1] = min(1, max_norm / (norm + 1e-6)) (1 if max_norm <= 0;
 * 0 if the norm is not finite) */
void ref_grad_norm(double norm_and_scale[2], const double *grads, size_t n, double max_norm);
void ref_adamw_update(double *params, const double *grads, double *m, double *v, size_t n, double grad_scale,
                      double learning_rate, double beta1, double beta2, double epsilon, double weight_decay, int step);
/* ref_adamw_update with grad_scale norm_and_scale[1], skipped (nothing changes) when
 * norm_and_scale[0] is not finite. */
void ref_adamw_gated(double *params, const double *grads, double *m, double *v, size_t n,
                     const double norm_and_scale[2], double learning_rate, double beta1, double beta2, double epsilon,
                     double weight_decay, int step);

/* ---- the whole GPT-2 model (tests/ref/gpt.c), composed of the functions above ---- */

#define REF_MAX_LAYERS 8

typedef struct ref_gpt_shape {
    int V, maxT, L, NH, C;
} ref_gpt_shape;

/* The parameters (or their gradients), one array per tensor. */
typedef struct ref_gpt_weights {
    double *wte, *wpe;                           /* (V,C), (maxT,C) */
    double *ln1w[REF_MAX_LAYERS], *ln1b[REF_MAX_LAYERS];         /* (C) */
    double *qkvw[REF_MAX_LAYERS], *qkvb[REF_MAX_LAYERS];         /* (3C,C), (3C) */
    double *attprojw[REF_MAX_LAYERS], *attprojb[REF_MAX_LAYERS]; /* (C,C), (C) */
    double *ln2w[REF_MAX_LAYERS], *ln2b[REF_MAX_LAYERS];         /* (C) */
    double *fcw[REF_MAX_LAYERS], *fcb[REF_MAX_LAYERS];           /* (4C,C), (4C) */
    double *fcprojw[REF_MAX_LAYERS], *fcprojb[REF_MAX_LAYERS];   /* (C,4C), (C) */
    double *lnfw, *lnfb;                                         /* (C) */
} ref_gpt_weights;

/* The forward pass of tokens (B,T) into logits (B,T,V) (may be NULL), the per-token losses
 * (B,T) (may be NULL) against targets (B,T), and, when grads is not NULL, the backward pass of
 * dloss * sum(weights * losses) + sum(dhidden * lnf) (dhidden (B,T,C) may be NULL; lnf is the
 * final LayerNorm's output), added into grads. Returns sum(weights * losses). */
double ref_gpt_forward_backward(const ref_gpt_shape *shape, const ref_gpt_weights *w, ref_gpt_weights *grads,
                                const uint32_t *tokens, const uint32_t *targets, const double *weights, int B, int T,
                                double dloss, const double *dhidden, double *logits, double *losses);

#endif
