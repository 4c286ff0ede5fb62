/* Text2Grad reinforcement learning: a policy learns from critiques in words.
 *
 * One step: prompts (a task's or a file's) -> K sampled responses each (KV cache) -> the
 * critic's critiques -> spans aligned onto the responses' tokens -> per-token scores (the
 * span-reward mask, on the GPU) -> rewards r_t = score_t - beta KL_t against the frozen
 * reference policy -> GAE -> whitened advantages -> PPO epochs (clipped policy and value
 * losses, a value head on the final hidden state). rl.reward_granularity "scalar" puts the
 * critic's scalar score on each response's last token instead: standard PPO, same engine. */
#ifndef T2G_RL_H
#define T2G_RL_H

#include <stdbool.h>
#include <stdint.h>

#include "t2g/checkpoint.h"
#include "t2g/config.h"
#include "t2g/critic.h"
#include "t2g/device.h"
#include "t2g/feedback.h"
#include "t2g/gpt.h"
#include "t2g/nonfinite.h"
#include "t2g/status.h"
#include "t2g/tasks.h"
#include "t2g/text.h"

typedef struct t2g_rl t2g_rl;

typedef struct t2g_rl_stats {
    uint64_t step;
    double score;             /* mean scalar critic score of the step's responses */
    double token_score;       /* mean per-token score over response tokens (what the policy is rewarded with) */
    double reward;            /* mean over responses of the summed rewards */
    double kl;                /* mean over responses of the summed per-token KL to the reference */
    double beta;              /* the KL coefficient used in this step */
    double policy_loss, value_loss, clip_fraction, approx_kl, entropy; /* means over PPO's tokens */
    double response_tokens;   /* mean response length */
    t2g_span_stats spans;     /* the critiques' spans, matched by kind */
    uint32_t critic_failures; /* responses without a usable critique (left out of the update) */
    char first_failure[320];  /* the first of them: "response 5 (prompt 2): timeout after 10000 ms" */
    uint64_t critic_stray;    /* the external critic's stdout lines that were not replies, so far (its log) */
    double critic_ms;         /* wall time of judging this step's responses */
    t2g_critic_stats critic;  /* the critic's counts of this step alone (requests, retries, cache hits, tokens, ...) */
    double rollout_tokens_per_s, train_tokens_per_s;
    double ms;
    uint32_t nonfinite;       /* t2g_nonfinite bits: what was NaN or Inf in this step (0: nothing) */
    bool update_skipped;      /* no PPO update of this step was made past the first non-finite value: the
                                 rollout's were (no update at all), or an update's gradient norm (policy or value
                                 head) was, and the GPU skipped that update */
} t2g_rl_stats;

/* A response of the last step, with what the critic said and the scores its tokens got. */
typedef struct t2g_rl_sample {
    char *prompt, *response;  /* escaped, valid UTF-8 */
    char *feedback;           /* the critique's words (escaped) */
    double score;             /* the critic's scalar score */
    uint32_t token_count;
    char **token_texts;       /* each response token's text (escaped) */
    float *token_scores;      /* the score each token got */
    uint32_t span_count;
    char **span_texts;        /* as quoted (escaped) */
    t2g_span_kind *span_kinds;
    t2g_match_kind *span_matches;
} t2g_rl_sample;

/* Loads rl.start into the policy and the frozen reference, makes the value head and the critic. */
t2g_status t2g_rl_create(t2g_device *device, const t2g_config *config, t2g_rl **rl, t2g_error *err);
void t2g_rl_destroy(t2g_rl *rl);
/* Continues from a checkpoint written by t2g_rl_save. */
t2g_status t2g_rl_resume(t2g_rl *rl, const t2g_checkpoint *checkpoint, t2g_error *err);
/* One step. Non-finite rollout values (rewards, KL, token scores, entropy) mean no PPO update
 * at all; a PPO update whose gradient norm is NaN or Inf is skipped on the GPU (the policy's and
 * the value head's each by its own norm), and after a non-finite norm or loss the step's later
 * updates are not made; beta is not adapted from a non-finite KL. stats->nonfinite names what
 * was not finite. As in training, such a step still counts (its prompts are used up, the step
 * counter advances). */
t2g_status t2g_rl_step(t2g_rl *rl, t2g_rl_stats *stats, t2g_error *err);
t2g_status t2g_rl_save(t2g_rl *rl, const char *path, t2g_error *err);

/* The run's effective config: the caller's, with the model of rl.start (t2g_config_take_model). */
const t2g_config *t2g_rl_config(const t2g_rl *rl);
uint64_t t2g_rl_steps_done(const t2g_rl *rl);
/* The run's critic, e.g. to judge evaluation responses too (t2g_evaluate_data). */
t2g_critic *t2g_rl_critic(t2g_rl *rl);
/* The device memory of what the run holds beside its policy and reference, in bytes. */
typedef struct t2g_rl_memory {
    uint64_t generation;      /* the generator: KV cache for rl.prompts x rl.samples_per_prompt sequences, a step's activations */
    uint32_t sequences;       /* that it holds */
    uint64_t critic;          /* a model critic's model and generator; 0 for the others */
} t2g_rl_memory;
t2g_rl_memory t2g_rl_device_memory(const t2g_rl *rl);
t2g_gpt *t2g_rl_policy(t2g_rl *rl);
/* rl.start's tokenizer with the run's chat template, and the sentence on the template chosen. */
const t2g_text *t2g_rl_text(const t2g_rl *rl);
const char *t2g_rl_text_note(const t2g_rl *rl);
const t2g_task *t2g_rl_task(const t2g_rl *rl);
/* Appends the external critic's stray stdout lines (debugging) to the file at path. */
t2g_status t2g_rl_set_critic_log(t2g_rl *rl, const char *path, t2g_error *err);
/* The last step's first rl.samples_kept responses. */
uint32_t t2g_rl_samples(const t2g_rl *rl, const t2g_rl_sample **samples);

#endif
