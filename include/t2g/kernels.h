/* The kernels of a GPT's forward and backward pass, and of its optimizer.
 *
 * Conventions (as in llm.c's train_gpt2.c):
 * - Tensors hold float32 unless noted; token ids and targets are uint32. Kernels that say so
 *   also take bf16 or f16 tensors (16-bit storage, f32 arithmetic; shaders/storage.glsl).
 * - Shapes: B batch, T sequence length, C channels, NH heads (head size hs = C / NH),
 *   V vocabulary, N rows (usually B * T), OC output channels. Row-major: (N, C) means
 *   element [n][c] at n * C + c.
 * - Forward functions overwrite their outputs.
 * - Backward functions ADD into their gradient outputs (dx += ...): zero the gradients once per
 *   step; gradient accumulation over micro-batches then comes for free.
 * - Nothing runs until t2g_recorder_submit. Outputs must not alias inputs unless stated.
 * - Every reduction runs in a fixed order, without float atomics: the same inputs on the same
 *   device give bitwise identical outputs.
 * - Each function checks its shapes against the tensors' sizes and returns T2G_ERR_ARGUMENT
 *   (naming the kernel, the tensor and the size it needed) before recording anything. */
#ifndef T2G_KERNELS_H
#define T2G_KERNELS_H

#include <stdbool.h>
#include <stdint.h>

#include "t2g/memory.h"
#include "t2g/recorder.h"
#include "t2g/status.h"

/* ---- fill, copy, scaled add (the driver's fill; shaders/axpby.comp) ---- */

/* out[i] = value for i < n (its bits: -0.0 and every NaN's kept). */
t2g_status t2g_fill(t2g_recorder *rec, t2g_tensor out, uint64_t n, float value, t2g_error *err);
/* y[i] = alpha * x[i] + beta * y[i] for i < n. With beta == 0 the old y is not read (NaN in y
 * stays out). Gradient accumulation: beta = 1; scaled copy: beta = 0. */
t2g_status t2g_axpby(t2g_recorder *rec, t2g_tensor y, t2g_tensor x, uint64_t n, float alpha, float beta,
                     t2g_error *err);
/* dst[i] = src[i] for i < n. */
t2g_status t2g_copy(t2g_recorder *rec, t2g_tensor dst, t2g_tensor src, uint64_t n, t2g_error *err);
/* dst[i] = src[i] in dst's element type for i < n: src f32 rounded to a bf16 or f16 dst (to
 * nearest, ties to even, as t2g/dtype.h; f16 by the device's conversion, within one unit in the
 * last place of it), a bf16 or f16 src widened to an f32 dst (exactly), or f32 copied. Needs a
 * device with 16-bit storage for a 16-bit tensor; two 16-bit ones are refused (T2G_ERR_ARGUMENT). */
t2g_status t2g_convert(t2g_recorder *rec, t2g_tensor dst, t2g_tensor src, uint64_t n, t2g_error *err);

/* ---- residual connection (shaders/residual_forward.comp, residual_backward.comp) ---- */

/* out = a + b, n elements. */
t2g_status t2g_residual_forward(t2g_recorder *rec, t2g_tensor out, t2g_tensor a, t2g_tensor b, uint64_t n,
                                t2g_error *err);
/* da += dout; db += dout. */
t2g_status t2g_residual_backward(t2g_recorder *rec, t2g_tensor da, t2g_tensor db, t2g_tensor dout, uint64_t n,
                                 t2g_error *err);

/* ---- GELU, tanh form (shaders/gelu_forward.comp, gelu_backward.comp) ----
 * gelu(x) = 0.5 x (1 + tanh(sqrt(2/pi) (x + 0.044715 x^3))) */

/* out = gelu(inp); out may be bf16 or f16 (computed in f32, rounded when stored), inp is f32. */
t2g_status t2g_gelu_forward(t2g_recorder *rec, t2g_tensor out, t2g_tensor inp, uint64_t n, t2g_error *err);
/* out = gelu(x), x being inp stored in keep's type: keep (n) receives inp rounded (keep bf16 or f16,
 * inp f32) or widened (keep f32, inp bf16 or f16), and out (bf16 or f16, the type of the 16-bit
 * side) is computed from the value keep holds. A 16-bit model's forward keeps its MLP's f32 input
 * in 16 bits this way; its backward widens that copy back to f32 with the same activation, the
 * same bits. T2G_ERR_ARGUMENT for other combinations of types. */
t2g_status t2g_gelu_forward_keep(t2g_recorder *rec, t2g_tensor out, t2g_tensor keep, t2g_tensor inp, uint64_t n,
                                 t2g_error *err);
/* dinp += gelu'(inp) * dout */
t2g_status t2g_gelu_backward(t2g_recorder *rec, t2g_tensor dinp, t2g_tensor inp, t2g_tensor dout, uint64_t n,
                             t2g_error *err);

/* ---- token (+ position) embedding (shaders/embedding_*.comp) ---- */

/* out (B,T,C) = wte (V,C)[tokens (B,T)] + wpe (>= T, C)[t]; wpe NULL: out = wte[tokens] only (a
 * model without a position table, e.g. one with rotary positions). A token >= V makes its row
 * NaN (it is never read out of bounds). */
t2g_status t2g_embedding_forward(t2g_recorder *rec, t2g_tensor out, t2g_tensor tokens, t2g_tensor wte,
                                 const t2g_tensor *wpe, uint32_t B, uint32_t T, uint32_t C, uint32_t V, t2g_error *err);
/* dwte (V,C) += scatter of dout (B,T,C) by token; dwpe (T,C) += sum over b of dout (dwpe NULL:
 * no position gradient). Tokens >= V contribute nothing. */
t2g_status t2g_embedding_backward(t2g_recorder *rec, t2g_tensor dwte, const t2g_tensor *dwpe, t2g_tensor dout,
                                  t2g_tensor tokens, uint32_t B, uint32_t T, uint32_t C, uint32_t V,
                                  t2g_error *err);

/* ---- rotary position embedding (shaders/rope.comp), Hugging Face Llama's rotate-half form ----
 * table (P, hs): row p holds cos(p * f_i) at [i] and sin(p * f_i) at [hs/2 + i], i < hs/2, f_i = theta^(-2i/hs); t2g_rope_table fills it on the host in double precision (then rounds to float). */
void t2g_rope_table(float *table, uint32_t P, uint32_t hs, double theta);
/* x holds B*T rows of `stride` floats; the first `heads` heads (hs floats each, hs even) of every row are rotated in place; row (b,t) is at position pos0 + t (pos0 + T <= P):
 *   for i < hs/2:  (x[i], x[i+hs/2]) <- (x[i] cos - x[i+hs/2] sin,  x[i+hs/2] cos + x[i] sin)
 * inverse = true rotates by the negative angle: the transpose of the rotation, i.e. the backward pass applied to a gradient in place. */
t2g_status t2g_rope(t2g_recorder *rec, t2g_tensor x, t2g_tensor table, uint32_t B, uint32_t T, uint32_t stride, uint32_t heads, uint32_t hs, uint32_t pos0, bool inverse, t2g_error *err);

/* ---- LayerNorm, eps = 1e-5 (shaders/layernorm_*.comp) ---- */

/* out (N,C) = (inp - mean) * rstd * weight (C) + bias (C); mean (N) and rstd (N) are kept for
 * the backward pass. out may be bf16 or f16 (computed in f32, rounded when stored); mean, rstd,
 * inp, weight and bias are f32. */
t2g_status t2g_layernorm_forward(t2g_recorder *rec, t2g_tensor out, t2g_tensor mean, t2g_tensor rstd,
                                 t2g_tensor inp, t2g_tensor weight, t2g_tensor bias, uint32_t N, uint32_t C,
                                 t2g_error *err);
/* dinp (N,C) +=, dweight (C) +=, dbias (C) += from dout (N,C). */
t2g_status t2g_layernorm_backward(t2g_recorder *rec, t2g_tensor dinp, t2g_tensor dweight, t2g_tensor dbias,
                                  t2g_tensor dout, t2g_tensor inp, t2g_tensor weight, t2g_tensor mean,
                                  t2g_tensor rstd, uint32_t N, uint32_t C, t2g_error *err);

/* ---- RMSNorm (shaders/rmsnorm_*.comp), as Hugging Face's LlamaRMSNorm ---- */

/* out (N,C) = inp * rstd[n] * weight (C); rstd (N) = 1 / sqrt(mean over c of inp[n][c]^2 + eps),
 * kept for the backward pass. eps must be finite and > 0. out may be bf16 or f16 (computed in f32,
 * rounded when stored); rstd, inp and weight are f32. */
t2g_status t2g_rmsnorm_forward(t2g_recorder *rec, t2g_tensor out, t2g_tensor rstd, t2g_tensor inp, t2g_tensor weight,
                               uint32_t N, uint32_t C, float eps, t2g_error *err);
/* dinp (N,C) +=, dweight (C) += from dout (N,C). Deterministic (dweight's sum over rows in a
 * fixed order, as layernorm's partials). */
t2g_status t2g_rmsnorm_backward(t2g_recorder *rec, t2g_tensor dinp, t2g_tensor dweight, t2g_tensor dout,
                                t2g_tensor inp, t2g_tensor weight, t2g_tensor rstd, uint32_t N, uint32_t C,
                                t2g_error *err);

/* ---- SwiGLU (shaders/swiglu_*.comp): the gated MLP activation of Llama-family models ---- */

/* h (N,2F) holds gate in columns [0,F) and up in columns [F,2F) of each row (the fused gate/up
 * projection's output); out (N,F) = silu(gate) * up, silu(x) = x / (1 + exp(-x)). out may be
 * bf16 or f16 (computed in f32, rounded when stored); h is f32. */
t2g_status t2g_swiglu_forward(t2g_recorder *rec, t2g_tensor out, t2g_tensor h, uint32_t N, uint32_t F,
                              t2g_error *err);
/* The same, h (N,2F) also stored into keep (N,2F) in keep's type and out computed from the value
 * keep holds, as t2g_gelu_forward_keep. */
t2g_status t2g_swiglu_forward_keep(t2g_recorder *rec, t2g_tensor out, t2g_tensor keep, t2g_tensor h, uint32_t N,
                                   uint32_t F, t2g_error *err);
/* dh (N,2F) += the gradient of both halves, from dout (N,F). */
t2g_status t2g_swiglu_backward(t2g_recorder *rec, t2g_tensor dh, t2g_tensor h, t2g_tensor dout, uint32_t N, uint32_t F,
                               t2g_error *err);

/* ---- matmul with bias: out = inp W^T + b (shaders/matmul_*.comp) ---- */

/* out (N,OC) = inp (N,C) weight(OC,C)^T + bias (OC); bias may be NULL. Any N, C, OC >= 1.
 * inp and weight may be bf16 or f16 (the pairs of shaders/variants.txt: both 16-bit of one type,
 * or f32 inp with a 16-bit weight); the sums, out, bias and every gradient are f32. */
t2g_status t2g_matmul_forward(t2g_recorder *rec, t2g_tensor out, t2g_tensor inp, t2g_tensor weight,
                              const t2g_tensor *bias, uint32_t N, uint32_t C, uint32_t OC, t2g_error *err);
/* t2g_matmul_forward followed by the residual add: out (N,OC) = residual + (inp weight^T + bias),
 * in the GEMM's outputs (every GEMM's: shaders/gemm_epilogue.glsl), the same bits as the two
 * kernels one after the other. out and residual are f32. */
t2g_status t2g_matmul_forward_residual(t2g_recorder *rec, t2g_tensor out, t2g_tensor residual, t2g_tensor inp,
                                       t2g_tensor weight, const t2g_tensor *bias, uint32_t N, uint32_t C, uint32_t OC,
                                       t2g_error *err);
/* dinp (N,C) += dout weight; dweight (OC,C) += dout^T inp; dbias (OC) += column sums of dout.
 * dinp and dbias may be NULL (not computed). */
t2g_status t2g_matmul_backward(t2g_recorder *rec, const t2g_tensor *dinp, t2g_tensor dweight,
                               const t2g_tensor *dbias, t2g_tensor dout, t2g_tensor inp, t2g_tensor weight,
                               uint32_t N, uint32_t C, uint32_t OC, t2g_error *err);
/* t2g_matmul_backward with dinp set rather than added to: dinp (N,C) = dout weight, its old
 * contents never read, so a scratch gradient needs no zeroing first; the same bits as
 * t2g_fill(dinp, 0) then t2g_matmul_backward (a sum starts at +0, so it is never -0). */
t2g_status t2g_matmul_backward_set(t2g_recorder *rec, t2g_tensor dinp, t2g_tensor dweight, const t2g_tensor *dbias,
                                   t2g_tensor dout, t2g_tensor inp, t2g_tensor weight, uint32_t N, uint32_t C,
                                   uint32_t OC, t2g_error *err);
/* t2g_matmul_backward followed by gelu_backward on its dinp: dinp (N,C) += gelu'(pre) * (dout
 * weight), pre (N,C) the GELU's input; dweight and dbias as t2g_matmul_backward. In the GEMM's
 * outputs (every GEMM's: shaders/gemm_epilogue.glsl), the same bits as t2g_fill(scratch, 0),
 * t2g_matmul_backward(&scratch, ...) and t2g_gelu_backward(dinp, pre, scratch) with a scratch
 * (N,C) of its own. dinp and pre are f32. */
t2g_status t2g_matmul_backward_gelu(t2g_recorder *rec, t2g_tensor dinp, t2g_tensor dweight, const t2g_tensor *dbias,
                                    t2g_tensor dout, t2g_tensor inp, t2g_tensor weight, t2g_tensor pre, uint32_t N,
                                    uint32_t C, uint32_t OC, t2g_error *err);

/* ---- causal grouped-query self-attention (shaders/attention_*.comp) ----
 * NH query heads share KVH key/value heads: query head h uses kv head h / (NH / KVH). KVH
 * divides NH (KVH = NH: multi-head attention, KVH = 1: multi-query); head size hs <= 128.
 * qkv (B,T,(NH + 2 KVH) hs) holds q, k, v side by side per position: q of head h at
 * [b][t][h*hs + d], k of kv head g at [b][t][(NH + g)*hs + d], v of kv head g at
 * [b][t][(NH + KVH + g)*hs + d]. With KVH = NH and C = NH hs this is (B,T,3C). */

/* out (B,T,NH hs) = softmax(q k^T / sqrt(hs), causal) v per query head; lse (B,NH,T) keeps each
 * row's log-sum-exp for the backward pass (no (B,NH,T,T) tensor is kept). out may be bf16 or
 * f16 (computed in f32, rounded when stored); lse and qkv are f32. */
t2g_status t2g_attention_forward(t2g_recorder *rec, t2g_tensor out, t2g_tensor lse, t2g_tensor qkv, uint32_t B,
                                 uint32_t T, uint32_t NH, uint32_t KVH, uint32_t hs, t2g_error *err);
/* dqkv (B,T,(NH + 2 KVH) hs) += gradients of q, k and v, from dout (B,T,NH hs) and the forward's
 * out and lse; dk, dv of a kv head are the sums over its NH / KVH query heads (in a fixed order).
 * out may be bf16 or f16, as the forward stored it (its rows' sum dout . out, in f32, uses the
 * stored values); every other tensor is f32. */
t2g_status t2g_attention_backward(t2g_recorder *rec, t2g_tensor dqkv, t2g_tensor dout, t2g_tensor qkv,
                                  t2g_tensor out, t2g_tensor lse, uint32_t B, uint32_t T, uint32_t NH, uint32_t KVH,
                                  uint32_t hs, t2g_error *err);

/* ---- softmax cross-entropy with per-token weights (shaders/crossentropy_*.comp) ----
 * One fused pass over each row of logits:
 *   losses[n] = logsumexp(logits[n,:]) - logits[n, targets[n]]            (unweighted)
 *   dlogits[n,v] = dloss * weights[n] * (softmax(logits[n,:])[v] - (v == targets[n]))
 * weights[n] = 0 masks row n out of the gradient. dlogits may be the very tensor logits (the
 * gradient then overwrites the logits). A target >= V gives a NaN loss (never an out-of-bounds
 * read). */
t2g_status t2g_crossentropy_forward_backward(t2g_recorder *rec, t2g_tensor losses, t2g_tensor dlogits,
                                             t2g_tensor logits, t2g_tensor targets, t2g_tensor weights,
                                             uint32_t N, uint32_t V, float dloss, t2g_error *err);

/* ---- reductions (shaders/reduce_*.comp) ---- */

/* out[0] = sum over i < n of a[i] * b[i] (b may be the same tensor as a). */
t2g_status t2g_dot(t2g_recorder *rec, t2g_tensor out, t2g_tensor a, t2g_tensor b, uint64_t n, t2g_error *err);
/* norm_and_scale[0] = ||grads[0..n)||_2 and norm_and_scale[1] = min(1, max_norm / (norm + 1e-6)),
 * the factor that clips the global norm to max_norm (1 when max_norm <= 0; 0 when the norm is
 * NaN or Inf, i.e. some gradient element is not finite or the sum of squares overflowed). */
t2g_status t2g_grad_norm(t2g_recorder *rec, t2g_tensor norm_and_scale, t2g_tensor grads, uint64_t n, float max_norm,
                         t2g_error *err);
/* grads[i] *= norm_and_scale[1] for i < n. */
t2g_status t2g_grad_clip(t2g_recorder *rec, t2g_tensor grads, uint64_t n, t2g_tensor norm_and_scale, t2g_error *err);

/* ---- AdamW over a flat parameter buffer (shaders/adamw.comp) ---- */

typedef struct t2g_adamw_settings {
    float learning_rate;
    float beta1, beta2;
    float epsilon;
    float weight_decay;  /* decoupled: p -= lr * weight_decay * p */
    uint32_t step;       /* 1 for the first update (bias correction) */
} t2g_adamw_settings;

/* For elements [offset, offset + count) of params, grads, m, v (same layout):
 *   g = grads * norm_and_scale[1] (or grads when norm_and_scale is NULL)
 * unless norm_and_scale[0] (t2g_grad_norm's norm) is NaN or Inf: then the update is skipped on
 * the device and params, m and v stay bit-identical.
 *   m = beta1 m + (1 - beta1) g;  v = beta2 v + (1 - beta2) g^2
 *   params -= lr * (m / (1 - beta1^step) / (sqrt(v / (1 - beta2^step)) + epsilon) + weight_decay * params) */
t2g_status t2g_adamw_update(t2g_recorder *rec, t2g_tensor params, t2g_tensor grads, t2g_tensor m, t2g_tensor v,
                            const t2g_tensor *norm_and_scale, uint64_t offset, uint64_t count,
                            const t2g_adamw_settings *settings, t2g_error *err);

#endif
