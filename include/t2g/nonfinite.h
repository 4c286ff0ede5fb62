/* Non-finite values (NaN, +-Inf) in a training or RL step: what went non-finite, by name, and
 * the test-only hook that provokes it.
 *
 * The update itself is gated on the GPU (t2g_adamw_update skips when the gradient norm is not
 * finite); these helpers are for the host's report of it and for the checkpoint guard. */
#ifndef T2G_NONFINITE_H
#define T2G_NONFINITE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Bits of t2g_step_stats.nonfinite and t2g_rl_stats.nonfinite; each one's name is the metrics
 * key of the value (t2g_nonfinite_name). */
typedef enum t2g_nonfinite {
    T2G_NONFINITE_LOSS = 1u << 0,            /* training: the step's loss */
    T2G_NONFINITE_GRAD_NORM = 1u << 1,       /* the model's (RL: the policy's) gradient norm */
    T2G_NONFINITE_VALUE_GRAD_NORM = 1u << 2, /* RL: the value head's gradient norm */
    T2G_NONFINITE_POLICY_LOSS = 1u << 3,     /* RL: PPO's policy loss */
    T2G_NONFINITE_VALUE_LOSS = 1u << 4,      /* RL: PPO's value loss */
    T2G_NONFINITE_REWARD = 1u << 5,          /* RL: the rollout's rewards */
    T2G_NONFINITE_KL = 1u << 6,              /* RL: the KL to the reference */
    T2G_NONFINITE_TOKEN_SCORE = 1u << 7,     /* RL: the per-token scores */
    T2G_NONFINITE_ENTROPY = 1u << 8,         /* RL: the policy's entropy */
} t2g_nonfinite;

#define T2G_NONFINITE_KINDS 9

/* The metrics key of one bit ("loss", "grad_norm", ...), or "?" for anything else. */
const char *t2g_nonfinite_name(t2g_nonfinite bit);
/* The names of the bits set in `what`, joined by ", " into out (size bytes; "" for 0). */
void t2g_nonfinite_describe(uint32_t what, char *out, size_t size);
/* `bit` when x is NaN or +-Inf, else 0. */
uint32_t t2g_nonfinite_bit(double x, t2g_nonfinite bit);
/* The index of the first element of x (n) that is NaN or +-Inf; n when every one is finite. */
uint64_t t2g_first_nonfinite(const float *x, uint64_t n);

/* Test-only hook: with the environment variable T2G_TEST_POISON_STEP=N, the trainer's and the RL
 * engine's step N (1-based, counted over the run's life as in metrics) puts one NaN into what it
 * sends to the GPU (a loss weight; a token score), so that the step's loss and gradient become
 * NaN on the device as they would in a diverging run. True when `step` is that step. */
bool t2g_test_poison_due(uint64_t step);

#endif
