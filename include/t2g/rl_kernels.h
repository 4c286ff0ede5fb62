/* The GPU kernels of token-level PPO: the span-reward mask, token log-probabilities and KL,
 * rewards, GAE, whitening, the value head, and the clipped PPO losses.
 *
 * Layout: everything per position of a (B, T) batch, as in training: position t holds the
 * logits that predict token t + 1 (its "target"). The response of sequence b occupies
 * positions [start_b, end_b): start_b = prompt length - 1 predicts the first response token.
 * Conventions of t2g/kernels.h apply (float32; backward passes add into gradients; shapes are
 * checked; fixed-order reductions, bitwise reproducible). */
#ifndef T2G_RL_KERNELS_H
#define T2G_RL_KERNELS_H

#include <stdbool.h>
#include <stdint.h>

#include "t2g/memory.h"
#include "t2g/recorder.h"
#include "t2g/status.h"

/* ---- span-reward mask (shaders/span_reward_mask.comp) ----
 * ranges (R, 4) of 32-bit values {sequence, first, last, score as float bits}: positions
 * [first, last] of `sequence` get `score` (the lowest, where ranges overlap); range_offsets
 * (B + 1, uint32): the ranges of sequence b are [range_offsets[b], range_offsets[b + 1]);
 * bounds (B, 2, uint32): the response's positions [start, end). Writes
 *   scores[b][t] = (covered ? lowest covering score : unannotated) inside the response, 0 outside;
 *   mask[b][t]   = 1 inside the response, 0 outside. */
t2g_status t2g_span_reward_mask(t2g_recorder *rec, t2g_tensor scores, t2g_tensor mask, t2g_tensor ranges,
                                t2g_tensor range_offsets, t2g_tensor bounds, uint32_t B, uint32_t T, float unannotated,
                                t2g_error *err);

/* ---- token log-probabilities (shaders/token_logprob.comp) ----
 * One pass over each row n of logits (N, V):
 *   logprobs[n] = log softmax(logits[n])[targets[n]]
 *   entropy[n]  = -sum_v p_v log p_v                     (entropy may be NULL)
 *   kl_full[n]  = sum_v p_v (log p_v - log q_v), q = softmax(ref_logits[n])
 *                                                        (kl_full and ref_logits NULL together) */
t2g_status t2g_token_logprobs(t2g_recorder *rec, t2g_tensor logprobs, const t2g_tensor *entropy,
                              const t2g_tensor *kl_full, t2g_tensor logits, const t2g_tensor *ref_logits,
                              t2g_tensor targets, uint32_t N, uint32_t V, t2g_error *err);

/* ---- rewards (shaders/ppo_rewards.comp) ----
 * kl[n] = mask[n] * (kl_full ? kl_full[n] : logprobs[n] - ref_logprobs[n])   (the k1 estimate)
 * rewards[n] = mask[n] * (scores[n] - beta * kl[n]) */
t2g_status t2g_ppo_rewards(t2g_recorder *rec, t2g_tensor rewards, t2g_tensor kl, t2g_tensor scores, t2g_tensor mask,
                           t2g_tensor logprobs, t2g_tensor ref_logprobs, const t2g_tensor *kl_full, float beta,
                           uint32_t N, t2g_error *err);

/* ---- generalized advantage estimation (shaders/gae.comp) ----
 * Per sequence, backwards over its masked positions (contiguous): with next = the following
 * masked position (none at the end, where V_next = A_next = 0),
 *   delta_t = r_t + gamma V_next - V_t,  A_t = delta_t + gamma lambda A_next,  R_t = A_t + V_t.
 * Unmasked positions get A = R = 0. advantages, returns, rewards, values, mask: (B, T). */
t2g_status t2g_gae(t2g_recorder *rec, t2g_tensor advantages, t2g_tensor returns, t2g_tensor rewards,
                   t2g_tensor values, t2g_tensor mask, uint32_t B, uint32_t T, float gamma, float lambda,
                   t2g_error *err);

/* ---- whitening (shaders/whiten_*.comp) ----
 * In place over the masked elements of x (N): x = (x - mean) / sqrt(var + 1e-8), mean and
 * unbiased variance over the masked elements (as TRL's masked_whiten); unmasked elements
 * become 0. Fewer than 2 masked elements: x - mean. */
t2g_status t2g_whiten(t2g_recorder *rec, t2g_tensor x, t2g_tensor mask, uint32_t N, t2g_error *err);

/* ---- the value head: a linear map of the final hidden state (shaders/value_head_*.comp) ----
 * weight (C + 1): C weights then the bias. values (N) = hidden (N, C) weight[0..C) + weight[C]. */
t2g_status t2g_value_head_forward(t2g_recorder *rec, t2g_tensor values, t2g_tensor hidden, t2g_tensor weight,
                                  uint32_t N, uint32_t C, t2g_error *err);
/* dhidden (N, C) += dvalues[n] * weight[0..C); dweight (C + 1) += sum_n dvalues[n] * [hidden[n], 1]. */
t2g_status t2g_value_head_backward(t2g_recorder *rec, t2g_tensor dhidden, t2g_tensor dweight, t2g_tensor dvalues,
                                   t2g_tensor hidden, t2g_tensor weight, uint32_t N, uint32_t C, t2g_error *err);

/* ---- the clipped PPO losses (shaders/ppo_loss.comp) ---- */
typedef struct t2g_ppo_settings {
    float clip;              /* policy ratio clip epsilon (0.2) */
    float value_clip;        /* value clip (0.2) */
    float value_coef;        /* value loss coefficient (0.1) */
    float log_ratio_clamp;   /* |log ratio| clamp before exp (20) */
} t2g_ppo_settings;

/* Per masked position n (with s = scale, e.g. 1 / the minibatch's masked count):
 *   lr = clamp(logprobs - old_logprobs, -log_ratio_clamp, log_ratio_clamp), ratio = exp(lr)
 *   pg1 = -A ratio, pg2 = -A clamp(ratio, 1 - clip, 1 + clip); policy loss max(pg1, pg2)
 *   policy_weights[n] = s A ratio when pg1 >= pg2 and lr was not clamped, else 0
 *     (the weight for t2g_crossentropy_forward_backward with dloss 1: its gradient is then the
 *      gradient of s * policy loss with respect to the logits)
 *   vc = old_values + clamp(values - old_values, -value_clip, value_clip)
 *   value loss 0.5 max((values - R)^2, (vc - R)^2)
 *   dvalues[n] = s value_coef d(value loss)/d values
 *   stats (4, stats_stride): row 0 policy loss, 1 value loss, 2 clipped (1 if pg2 > pg1),
 *     3 approx KL 0.5 lr^2, each at [row * stats_stride + n]; stats_stride >= N, a multiple of
 *     64 so that each row binds as a tensor of its own (e.g. for t2g_dot against the mask)
 * Unmasked positions get 0 everywhere. At a masked position with a NaN or Inf log ratio or
 * advantage, the policy weight and policy loss are NaN; with a NaN or Inf value, old value or
 * return, dvalues and the value loss are NaN (never a finite gradient from a non-finite input). */
t2g_status t2g_ppo_loss(t2g_recorder *rec, t2g_tensor policy_weights, t2g_tensor dvalues, t2g_tensor stats,
                        uint32_t stats_stride, t2g_tensor logprobs, t2g_tensor old_logprobs, t2g_tensor advantages,
                        t2g_tensor values, t2g_tensor old_values, t2g_tensor returns, t2g_tensor mask, uint32_t N,
                        const t2g_ppo_settings *settings, float scale, t2g_error *err);

#endif
