/* The RL engine's state, shared by src/rl/ (rl.c: lifecycle and the step; rollout.c: prompts,
 * sampling, critiques, token scores; ppo.c: the GPU passes). */
#ifndef T2G_RL_INTERNAL_H
#define T2G_RL_INTERNAL_H

#include "t2g/critic.h"
#include "t2g/dataset.h"
#include "t2g/generate.h"
#include "t2g/rl.h"
#include "t2g/rl_kernels.h"
#include "t2g/text.h"

/* One micro-batch's device tensors (views into the rollout-wide buffers where noted). */
typedef struct rl_micro {
    t2g_tensor inputs, targets;          /* (m, T) uint32 */
    t2g_tensor ranges;                   /* (m T, 4): the span-reward mask's ranges */
    t2g_tensor range_offsets;            /* (m + 1) uint32 */
    t2g_tensor bounds;                   /* (m, 2) uint32: each response's positions [start, end) */
    /* views of (m, T) into the rollout-wide buffers below */
    t2g_tensor old_logprobs, old_values, ref_logprobs, kl_full, scores, mask, rewards, kl, advantages, returns;
    t2g_tensor stats;                    /* (4, S): the PPO losses' per-token statistics */
    uint32_t valid;                      /* masked positions */
} rl_micro;

/* What the host knows of the rollout: the sequences and their token scores as ranges. */
typedef struct rl_batch {
    uint32_t *inputs, *targets;          /* (R, T) */
    uint32_t *bounds;                    /* (R, 2) */
    uint32_t *ranges;                    /* (M, m T, 4) */
    uint32_t *range_offsets;             /* (M, m + 1) */
    float *token_scores;                 /* (R, T): the score of each response position (host copy) */
    double *critic_scores;               /* (R) */
    uint32_t failures;                   /* responses without a critique */
    uint32_t timeouts;                   /* of those, the ones whose critic ran out of time */
    char first_failure[320];
    uint64_t generated_tokens;
    double critic_ms;                    /* wall time of judging the responses */
} rl_batch;

struct t2g_rl {
    t2g_device *device;
    t2g_config config;
    const t2g_task *task;                /* the prompts' task, or NULL for a prompt file */
    t2g_dataset prompts;                 /* a prompt file's prompts (when not a task) */
    t2g_gpt *policy, *reference;
    t2g_generator *generator;
    t2g_critic *critic;
    t2g_recorder *rec;

    uint32_t R, m, M, T, C;              /* sequences per step, per micro-batch, micro-batches, positions, width */
    uint32_t S;                          /* a micro-batch's stride in the rollout buffers (m T rounded up to 64) */
    t2g_arena *arena;
    rl_micro *micro;                     /* (M) */
    /* rollout-wide buffers, (M, S) floats each, S-strided per micro-batch (padding masked out) */
    t2g_tensor old_logprobs, old_values, ref_logprobs, kl_full, scores, mask, rewards, kl, advantages, returns;
    t2g_tensor stats;                    /* (M, 4, S) */
    t2g_tensor entropy_sums;             /* (M, 64): each micro-batch's masked entropy sum, 256 bytes apart */
    /* per-pass scratch, (m, T) and (m, T, C) */
    t2g_tensor logprobs, entropy, values, policy_weights, dvalues, dhidden;
    /* the value head: (C + 1) weights then bias, its gradient, AdamW moments, its grad norm */
    t2g_tensor head, head_grad, head_m, head_v, head_norm, policy_norm;

    rl_batch batch;
    uint64_t step;
    double beta;
    uint64_t prompt_cursor;              /* prompts handed out so far */
    uint32_t start_crc;                  /* the stored CRC-32 of rl.start (recorded in checkpoints) */
    t2g_span_stats spans;                /* of the last step */
    t2g_critic_stats critic_seen;        /* the critic's counts when the step began */
    t2g_rl_sample *samples;
    uint32_t sample_count;
    t2g_text *text;                      /* rl.start's tokenizer and the chat template */
    char text_note[512];                 /* which chat template, for the console */
};

/* One sampled response. */
typedef struct rl_response {
    const uint32_t *generated;      /* the sampled tokens, the end of turn included if it ended with one */
    uint32_t count;                 /* >= 1 */
    bool eos;
    char *text;                     /* the bytes of the tokens before the end of turn (t2g_text_decode) */
    size_t len;
    t2g_token_span *spans;          /* (count - eos): each of those tokens' bytes in text (t2g_text_spans) */
    t2g_aligned_span *aligned;      /* (span_count) in span mode */
} rl_response;

/* rollout.c: the score of each of r's count tokens from its critic's judgement (ok), adding the
 * spans to stats. rl.reward_granularity "scalar": the score on the last token, 0 elsewhere;
 * "span": the spans' token scores, rl.score_unannotated on the EOS, and on the last token
 * also final_score + rl.score_weight x score. Out of memory is an error of the step, never a
 * score. */
t2g_status rl_score_tokens(const t2g_config *c, t2g_span_stats *stats, const rl_response *r,
                           const t2g_critic_result *judged, float *scores, t2g_error *err);

/* rollout.c: samples the step's responses, has them judged, and fills rl->batch (host) and
 * the kept samples; uploads the batch's inputs, targets, bounds and ranges. */
t2g_status rl_rollout(t2g_rl *rl, double *rollout_seconds, t2g_error *err);
void rl_batch_free(rl_batch *batch);
void rl_samples_free(t2g_rl *rl);

/* ppo.c: the scoring pass (old log-probabilities and values, the reference, the span-reward
 * mask, rewards, GAE, whitening), then the PPO epochs. */
t2g_status rl_score(t2g_rl *rl, t2g_rl_stats *stats, t2g_error *err);
t2g_status rl_optimize(t2g_rl *rl, t2g_rl_stats *stats, t2g_error *err);

#endif
