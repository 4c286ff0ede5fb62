/* Batched generation from a GPT with a KV cache on the GPU.
 *
 * Many prompts at once (rollouts need it): the prompts go through the model first, all their
 * positions at once (the prefill), then every sequence advances one position per step, in
 * lockstep, sampling its next token from the step's logits. Keys and values of every layer are
 * cached on the GPU, so a step costs one position per sequence, not the whole prefix. Sampling (temperature,
 * top-k, top-p) runs on the host from the logits of the last position, with one random stream
 * per sequence: the same seed gives the same text, whatever else is in the batch. */
#ifndef T2G_GENERATE_H
#define T2G_GENERATE_H

#include <stdbool.h>
#include <stdint.h>

#include "t2g/gpt.h"
#include "t2g/rng.h"
#include "t2g/status.h"

typedef struct t2g_sampling {
    float temperature;        /* 0: greedy (argmax, ties to the lowest id) */
    uint32_t top_k;           /* keep the k most likely tokens; 0: all */
    float top_p;              /* keep the smallest set whose probability reaches p; 1: all */
    uint32_t max_new_tokens;  /* per sequence, counted after its prompt */
    uint64_t seed;
    bool stop_at_eos;         /* a sequence ends with its first stop token (kept in its tokens) */
    uint32_t stop_ids[2];     /* the stop tokens: EOS or a chat template's end of turn (t2g_text_sampling) */
    uint32_t stop_count;
    uint32_t banned_ids[2];   /* tokens never sampled (the byte tokenizer's BOS and PAD) */
    uint32_t banned_count;
    bool keep_logits;         /* tests: keep every step's logits (see t2g_generation.logits) */
    /* Called with each token as it is sampled (sequence index, token), in order, e.g. to print
     * while generating; NULL: none. */
    void (*on_token)(void *user, uint32_t sequence, uint32_t token);
    void *on_token_user;
    /* Constrained decoding (a model critic's JSON): called before each token of a sequence is
     * drawn, with that sequence's logits (V floats, writable: what may not come next is set to
     * -INFINITY; at least one token must stay) and budget, the tokens it may still produce, this
     * one included. Logprobs are then those of the constrained distribution; keep_logits keeps
     * the model's own. NULL: none. */
    void (*constrain)(void *user, uint32_t sequence, float *logits, uint32_t V, uint32_t budget);
    void *constrain_user;
} t2g_sampling;

/* temperature 1, top_k 0, top_p 1, 64 tokens, seed 1, for the byte tokenizer: stop at EOS, never
 * BOS or PAD (t2g_text_sampling sets them for another tokenizer) */
t2g_sampling t2g_sampling_default(void);

typedef struct t2g_generation {
    uint32_t count;           /* sequences */
    uint32_t max_new_tokens;
    uint32_t *tokens;         /* (count, max_new_tokens): the generated tokens of each sequence */
    uint32_t *lengths;        /* (count): how many of them there are */
    bool *ended_with_eos;     /* (count) */
    float *logprobs;          /* (count, max_new_tokens): log-probability of each generated token
                               * under the model (softmax of the logits at temperature 1) */
    uint32_t steps;           /* positions processed (the longest prompt + generated tokens) */
    float *logits;            /* with keep_logits: (count, steps, V), the logits computed at each
                               * position (position t predicts token t + 1); else NULL */
} t2g_generation;

typedef struct t2g_generator t2g_generator;

/* A generator for up to max_batch sequences of up to the model's context; it reads the
 * parameters of `gpt` (so it sees every update; a 16-bit model's matmuls read its 16-bit copy
 * of them, as its forward does) and owns its KV cache. */
t2g_status t2g_generator_create(t2g_gpt *gpt, uint32_t max_batch, t2g_generator **generator, t2g_error *err);
void t2g_generator_destroy(t2g_generator *generator);
/* The device memory it holds: its KV cache and one step's activations, in bytes as allocated. */
uint64_t t2g_generator_device_bytes(const t2g_generator *generator);

/* Whether prompts go through the prefill (on by default): all their positions but the last in
 * steps of many rows, rather than one position a step. The tokens and log-probabilities are
 * the same bits either way; off is for tests and benchmarks. */
void t2g_generator_set_prefill(t2g_generator *generator, bool on);

/* Generates from n <= max_batch prompts (token ids, each normally starting with BOS; lengths
 * >= 1). Fails with T2G_ERR_ARGUMENT (naming the prompt) if a prompt leaves no room for one new
 * token in the context. The output's arrays are malloc'ed: free with t2g_generation_free. */
t2g_status t2g_generate(t2g_generator *generator, const uint32_t *const *prompts, const uint32_t *prompt_lengths,
                        uint32_t n, const t2g_sampling *sampling, t2g_generation *out, t2g_error *err);
void t2g_generation_free(t2g_generation *generation);

/* Picks a token from one row of logits (V floats) as t2g_generate does: exposed for tests. */
uint32_t t2g_sample_token(const float *logits, uint32_t V, const t2g_sampling *sampling, t2g_rng *rng);

#endif
