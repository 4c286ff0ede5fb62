/* What t2g_generate shares with its sampling code (src/nn/sample.c) and with its tests:
 * sampling with a caller-owned workspace, log-probabilities, the generator's counters and the
 * type of its KV cache. Includes only public headers, so tests/check/check_sample.c can
 * include it. Not installed. */
#ifndef T2G_GENERATE_INTERNAL_H
#define T2G_GENERATE_INTERNAL_H

#include <stdint.h>

#include "t2g/dtype.h"
#include "t2g/generate.h"

/* Steps that sample nothing (the prefill's, or lockstep steps inside every prompt) recorded
 * into one submission at most. */
#define GEN_PREFILL_STEPS 32u
/* Rows of a prefill step at most (fewer where max_batch x (context - 1) is less; at least
 * max_batch): enough for the matmuls to run at full speed. */
#define GEN_PREFILL_ROWS 512u

/* Tests: prefill steps of at most `rows` rows (0, or more than the generator holds: as many
 * as it holds), to cut prompts at awkward places. Returns the rows it set. */
uint32_t gen_set_prefill_rows(t2g_generator *generator, uint32_t rows);

/* One token in the running for a sample: its logit over the temperature, and its id. */
typedef struct gen_candidate {
    double z;
    uint32_t id;
} gen_candidate;

/* t2g_sample_token with a workspace of V candidates (no allocation). */
uint32_t gen_sample_token(const float *logits, uint32_t V, const t2g_sampling *sampling, t2g_rng *rng,
                          gen_candidate *work);

/* log softmax(logits)[token] over all V logits, in double: the log-probability under the
 * model at temperature 1. */
double gen_log_probability(const float *logits, uint32_t V, uint32_t token);

/* What a generator has done since it was created (for tests and benchmarks). */
typedef struct gen_counters {
    uint64_t generations; /* calls of t2g_generate that got past the argument checks */
    uint64_t positions;     /* lockstep positions gone through (t2g_generation.steps), summed */
    uint64_t steps;         /* lockstep steps recorded (one position of some sequences each) */
    uint64_t prefill_steps; /* prefill steps recorded */
    uint64_t prefill_rows;  /* prompt positions that went through the prefill */
    uint64_t submissions; /* recordings submitted */
    uint64_t downloads;   /* logits read back */
    uint64_t dispatches;  /* kernels recorded */
} gen_counters;
void gen_get_counters(const t2g_generator *generator, gen_counters *counters);

/* The element type of the generator's KV cache: the model's activation type (f32, or bf16 or
 * f16 for a 16-bit model). */
t2g_dtype gen_cache_dtype(const t2g_generator *generator);

#endif
