/* The double-precision references of the token-level PPO kernels (include/t2g/rl_kernels.h),
 * in tests/ref/rl.c. Same conventions as ref.h: one function per pass, a comment on each
 * tensor's shape, backward functions add (+=) into their gradients. */
#ifndef T2G_RL_REF_H
#define T2G_RL_REF_H

#include <stddef.h>
#include <stdint.h>

/* scores (B,T), mask (B,T); ranges (R,4) {sequence, first, last, score as float bits};
 * range_offsets (B+1); bounds (B,2) {start, end}. Inside [start, min(end, T)): mask 1 and the
 * lowest score of the ranges of b covering t (first <= t <= last), else `unannotated`;
 * outside: 0 and 0. */
void ref_span_reward_mask(double *scores, double *mask, const uint32_t *ranges, const uint32_t *range_offsets,
                          const uint32_t *bounds, int B, int T, double unannotated);

/* logprobs (N), entropy (N) or NULL, kl_full (N) or NULL (with ref_logits); logits (N,V),
 * ref_logits (N,V), targets (N). A target >= V gives a NaN logprob. */
void ref_token_logprobs(double *logprobs, double *entropy, double *kl_full, const double *logits,
                        const double *ref_logits, const uint32_t *targets, int N, int V);

/* rewards (N), kl (N); scores, mask, logprobs, ref_logprobs (N); kl_full (N) or NULL. */
void ref_ppo_rewards(double *rewards, double *kl, const double *scores, const double *mask, const double *logprobs,
                     const double *ref_logprobs, const double *kl_full, double beta, int N);

/* advantages, returns, rewards, values, mask: (B,T). */
void ref_gae(double *advantages, double *returns, const double *rewards, const double *values, const double *mask,
             int B, int T, double gamma, double lambda);

/* x (N) whitened in place over the elements with mask != 0 (mask (N)); the others become 0. */
void ref_whiten(double *x, const double *mask, size_t N);

/* values (N) = hidden (N,C) weight[0..C) + weight[C]; weight (C+1). */
void ref_value_head_forward(double *values, const double *hidden, const double *weight, int N, int C);
/* dhidden (N,C) +=, dweight (C+1) +=; dvalues (N). */
void ref_value_head_backward(double *dhidden, double *dweight, const double *dvalues, const double *hidden,
                             const double *weight, int N, int C);

typedef struct ref_ppo_settings {
    double clip, value_clip, value_coef, log_ratio_clamp;
} ref_ppo_settings;

/* policy_weights (N), dvalues (N), stats (4,N): rows policy loss, value loss, clipped, approx KL
 * (contiguous here; the kernel's rows are stats_stride apart). Inputs (N) each. */
void ref_ppo_loss(double *policy_weights, double *dvalues, double *stats, const double *logprobs,
                  const double *old_logprobs, const double *advantages, const double *values,
                  const double *old_values, const double *returns, const double *mask, int N,
                  const ref_ppo_settings *settings, double scale);

#endif
