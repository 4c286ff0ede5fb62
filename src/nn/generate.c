/* Batched generation with a KV cache on the GPU (t2g/generate.h).
 *
 * Every sequence of a batch sits at the same position t at each step (lockstep); row b of
 * every step tensor and slot b of the caches belong to sequence b. A step is one recording:
 *
 *   record_update     tokens (n)           the step's input token of each sequence
 *   decode_embedding  x (n,C)              wte[token] (+ wpe[t] with a position table)
 *   per layer: the architecture's block_decode (gpt2: 10 dispatches; src/nn/arch_*.c), which
 *     writes k and v of position t into kcache[l], vcache[l]
 *   norm              ln = norm_f(x)
 *   matmul            logits (n,V) = ln head^T
 *
 * About 3 + 10 L dispatches, then one submission, a download of the n x V logits and sampling on
 * the host. Every matmul uses one tile configuration (the device's smallest), whatever n, and
 * the other kernels work row by row (attention: sequence by sequence), so a sequence's logits
 * have the same bits whatever else is in the batch. While every unfinished sequence is still inside its prompt no logits are needed
 * (unless keep_logits), so up to GEN_PREFILL_STEPS such steps share one submission. Rows past
 * the last unfinished sequence are not computed; a finished sequence below it keeps its row
 * (fed token 0) and its results are ignored. The parameters are read from the GPT's own
 * tensors when each step is recorded, so a generator always sees the latest update (once the
 * recording that wrote them has been submitted). With keep_logits, the positions a sequence
 * did not process (after its end) hold zeros. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "generate_internal.h"
#include "gpt_internal.h"
#include "kernels/decode.h"
#include "kernels/matmul_internal.h"
#include "t2g/tokenizer.h"

/* A step's tokens go in with one t2g_record_update (at most 65536 bytes). */
#define GEN_MAX_BATCH 16384u
/* The KV cache is one arena of 2 tensors a layer, listed on the stack. */
#define T2G_GEN_MAX_LAYERS 1024u

struct t2g_generator {
    t2g_gpt *gpt;
    t2g_matmul_tiles small_tiles;   /* the device's tiles for small products (steps of more than 4 rows) */
    uint32_t max_batch, context, L, C, V;
    t2g_recorder *rec;

    t2g_arena *cache_arena;
    t2g_tensor *kcache, *vcache; /* (L) each (max_batch, context, KVH x hs) */

    t2g_arena *act_arena;        /* one step's activations, max_batch rows */
    t2g_tensor tokens;           /* (max_batch) uint32 */
    t2g_tensor logits;           /* (max_batch, V) */
    gpt_decode step;             /* the rest, and the tiles of every matmul (see t2g_generator_create) */

    gen_counters counters;
};

static t2g_status alloc_buffers(t2g_generator *g, t2g_error *err) {
    const t2g_gpt *gpt = g->gpt;
    gpt_decode *d = &g->step;
    uint64_t B = g->max_batch, C = g->C;
    uint64_t cache = B * g->context * gpt->KVH * gpt->hs;
    t2g_tensor_request caches[2 * T2G_GEN_MAX_LAYERS];
    g->kcache = calloc(g->L, sizeof *g->kcache);
    g->vcache = calloc(g->L, sizeof *g->vcache);
    if (!g->kcache || !g->vcache) return t2g_fail(err, T2G_ERR_MEMORY, "out of host memory for the KV cache's table");
    for (uint32_t l = 0; l < g->L; l++) {
        caches[2 * l] = (t2g_tensor_request){&g->kcache[l], cache};
        caches[2 * l + 1] = (t2g_tensor_request){&g->vcache[l], cache};
    }
    t2g_status status = t2g_arena_create_for(t2g_gpt_device(g->gpt), "KV cache", caches, 2 * g->L, &g->cache_arena, err);
    const t2g_tensor_request acts[] = {
        {&g->tokens, B},  {&d->x, B * C},      {&d->x2, B * C},      {&d->ln, B * C},          {&d->mean, B},
        {&d->rstd, B},    {&d->qkv, B * gpt->QKV}, {&d->atty, B * C}, {&d->proj, B * C},       {&d->fch, B * gpt->FIN},
        {&d->fch_act, B * gpt->F}, {&g->logits, B * g->V},
    };
    if (!status)
        status = t2g_arena_create_for(t2g_gpt_device(g->gpt), "generation activations", acts, sizeof acts / sizeof acts[0],
                                      &g->act_arena, err);
    d->gpt = gpt;
    d->rec = g->rec;
    d->kcache = g->kcache;
    d->vcache = g->vcache;
    return status;
}

t2g_status t2g_generator_create(t2g_gpt *gpt, uint32_t max_batch, t2g_generator **out, t2g_error *err) {
    *out = NULL;
    if (!gpt) return t2g_fail(err, T2G_ERR_ARGUMENT, "generator: no model");
    if (max_batch == 0 || max_batch > GEN_MAX_BATCH)
        return t2g_fail(err, T2G_ERR_ARGUMENT, "generator: max_batch = %u; it must be 1 to %u", max_batch, GEN_MAX_BATCH);
    const t2g_model_config *c = t2g_gpt_config(gpt);
    if (c->layers > T2G_GEN_MAX_LAYERS)
        return t2g_fail(err, T2G_ERR_ARGUMENT, "generator: %u layers; at most %u are supported", c->layers,
                        T2G_GEN_MAX_LAYERS);
    if (c->width / c->heads > T2G_DECODE_MAX_HEAD)
        return t2g_fail(err, T2G_ERR_ARGUMENT, "generator: head size %u exceeds the supported %u", c->width / c->heads,
                        T2G_DECODE_MAX_HEAD);
    t2g_generator *g = calloc(1, sizeof *g);
    if (!g) return t2g_fail(err, T2G_ERR_MEMORY, "out of host memory creating a generator");
    *g = (t2g_generator){.gpt = gpt, .max_batch = max_batch, .context = c->context, .L = c->layers, .C = c->width,
                         .V = c->vocab};
    /* The device's tiles for small products, or the 4-row tiles for a step of at most 4 rows
     * (record_step): every configuration sums each output over k in the same order, so a row's
     * results do not depend on how many rows a step has (the same seed gives the same text
     * whatever else is in the batch; test matmul checks the configurations agree bit for bit). */
    g->small_tiles = t2g_matmul_choose_tiles(t2g_gpt_device(gpt), 1, 1, 1);
    t2g_status status = t2g_recorder_create(t2g_gpt_device(gpt), NULL, &g->rec, err);
    if (!status) status = alloc_buffers(g, err);
    if (status) {
        t2g_error_context(err, "creating a generator for %u sequences of up to %u tokens (%u layers, width %u)",
                          max_batch, c->context, c->layers, c->width);
        t2g_generator_destroy(g);
        return status;
    }
    *out = g;
    return T2G_OK;
}

void t2g_generator_destroy(t2g_generator *g) {
    if (!g) return;
    t2g_recorder_destroy(g->rec);
    t2g_arena_destroy(g->act_arena);
    t2g_arena_destroy(g->cache_arena);
    free(g->kcache);
    free(g->vcache);
    free(g);
}

void gen_get_counters(const t2g_generator *g, gen_counters *counters) {
    *counters = g->counters;
    counters->dispatches = t2g_recorder_dispatch_count(g->rec);
}

/* Records one step: the n rows' tokens at position t, up to the logits (n,V). */
static t2g_status record_step(t2g_generator *g, const uint32_t *tokens, uint32_t n, uint32_t t, t2g_error *err) {
    t2g_recorder *rec = g->rec;
    const t2g_gpt *gpt = g->gpt;
    const gpt_weights *w = &gpt->weights;
    gpt_decode *d = &g->step;
    d->n = n;
    d->t = t;
    d->tiles = n <= 4 ? T2G_MATMUL_TILES_ROWS : g->small_tiles; /* a few rows: no tile of padding rows */
    TRY(t2g_record_update(rec, g->tokens, tokens, n * (uint32_t)sizeof *tokens, err));
    TRY(t2g_decode_embedding(rec, d->x, g->tokens, w->wte, gpt->arch->positions ? &w->wpe : NULL, n, t, g->C, g->V, err));
    for (uint32_t l = 0; l < g->L; l++) TRY(gpt->arch->block_decode(d, l, err));
    TRY(gpt_norm_forward(gpt, rec, d->ln, d->mean, d->rstd, d->x, w->lnfw, w->lnfb, n, err));
    TRY(t2g_matmul_forward_tiles(rec, d->tiles, g->logits, d->ln, gpt_head(w), NULL, n, g->C, g->V, err));
    return T2G_OK;
}

/* The argument checks, before anything is recorded. */
static t2g_status check_arguments(const t2g_generator *g, const uint32_t *const *prompts, const uint32_t *lengths,
                                  uint32_t n, const t2g_sampling *s, t2g_error *err) {
    if (!s) return t2g_fail(err, T2G_ERR_ARGUMENT, "generate: no sampling settings");
    if (n == 0 || n > g->max_batch)
        return t2g_fail(err, T2G_ERR_ARGUMENT, "generate: %u prompts; the generator takes 1 to %u (its max_batch)", n,
                        g->max_batch);
    if (!prompts || !lengths) return t2g_fail(err, T2G_ERR_ARGUMENT, "generate: no prompts or no prompt lengths");
    if (s->max_new_tokens == 0)
        return t2g_fail(err, T2G_ERR_ARGUMENT, "generate: max_new_tokens = 0; ask for at least one new token");
    if (!(s->temperature >= 0.0f) || isinf(s->temperature))
        return t2g_fail(err, T2G_ERR_ARGUMENT, "generate: temperature %g; it must be finite and >= 0 (0: greedy)",
                        (double)s->temperature);
    if (!(s->top_p > 0.0f && s->top_p <= 1.0f))
        return t2g_fail(err, T2G_ERR_ARGUMENT, "generate: top_p %g; it must be in (0, 1] (1: every token)",
                        (double)s->top_p);
    for (uint32_t i = 0; i < n; i++) {
        if (lengths[i] == 0)
            return t2g_fail(err, T2G_ERR_ARGUMENT, "generate: prompt %u is empty; a prompt needs at least one token (BOS)",
                            i);
        if (lengths[i] >= g->context)
            return t2g_fail(err, T2G_ERR_ARGUMENT,
                            "generate: prompt %u has %u tokens, which leaves no room for a new token in the model's "
                            "context of %u (at most %u prompt tokens)",
                            i, lengths[i], g->context, g->context - 1);
        if (!prompts[i]) return t2g_fail(err, T2G_ERR_ARGUMENT, "generate: prompt %u is NULL", i);
        for (uint32_t j = 0; j < lengths[i]; j++)
            if (prompts[i][j] >= g->V)
                return t2g_fail(err, T2G_ERR_ARGUMENT, "generate: token %u of prompt %u is %u, outside the vocabulary of %u",
                                j, i, prompts[i][j], g->V);
    }
    return T2G_OK;
}

/* One sequence's progress. */
typedef struct gen_sequence {
    uint32_t prompt_length, generated;
    bool done;
    t2g_rng rng;
} gen_sequence;

/* Its token at position t (t < prompt_length + generated). */
static uint32_t token_at(const t2g_generation *out, const uint32_t *const *prompts, const gen_sequence *s, uint32_t i,
                         uint32_t t) {
    return t < s->prompt_length ? prompts[i][t] : out->tokens[(size_t)i * out->max_new_tokens + (t - s->prompt_length)];
}

static t2g_status alloc_output(t2g_generation *out, uint32_t n, uint32_t max_new, uint64_t logit_floats,
                               t2g_error *err) {
    size_t cells = (size_t)n * max_new;
    out->count = n;
    out->max_new_tokens = max_new;
    out->tokens = malloc(cells * sizeof *out->tokens);
    out->lengths = calloc(n, sizeof *out->lengths);
    out->ended_with_eos = calloc(n, sizeof *out->ended_with_eos);
    out->logprobs = calloc(cells, sizeof *out->logprobs);
    if (logit_floats) out->logits = calloc(logit_floats, sizeof *out->logits);
    if (!out->tokens || !out->lengths || !out->ended_with_eos || !out->logprobs || (logit_floats && !out->logits))
        return t2g_fail(err, T2G_ERR_MEMORY, "out of host memory for the generation of %u sequences", n);
    for (size_t k = 0; k < cells; k++) out->tokens[k] = T2G_TOKEN_PAD;
    return T2G_OK;
}

/* Whether token ends a sequence (t2g_sampling's stop ids). */
static bool is_stop(const t2g_sampling *s, uint32_t token) {
    for (uint32_t k = 0; k < s->stop_count && k < 2; k++)
        if (s->stop_ids[k] == token) return true;
    return false;
}

/* The steps themselves, once the arguments are checked and the output allocated. */
static t2g_status run_steps(t2g_generator *g, const uint32_t *const *prompts, uint32_t n, const t2g_sampling *s,
                            gen_sequence *seq, uint32_t max_steps, t2g_generation *out, t2g_error *err) {
    const uint32_t V = g->V;
    uint32_t *step_tokens = malloc((size_t)n * sizeof *step_tokens);
    float *logits = malloc((size_t)n * V * sizeof *logits);
    gen_candidate *work = malloc((size_t)V * sizeof *work);
    t2g_status status = T2G_OK;
    if (!step_tokens || !logits || !work) status = t2g_fail(err, T2G_ERR_MEMORY, "out of host memory for a step");
    uint32_t t = 0, pending = 0; /* steps recorded and not yet submitted */
    while (!status) {
        uint32_t rows = 0;
        bool samples = false; /* some unfinished sequence draws its token t + 1 from this step */
        for (uint32_t i = 0; i < n; i++) {
            if (seq[i].done) continue;
            rows = i + 1;
            samples = samples || t + 1 >= seq[i].prompt_length;
        }
        for (uint32_t i = 0; i < rows; i++) step_tokens[i] = seq[i].done ? 0 : token_at(out, prompts, &seq[i], i, t);
        status = record_step(g, step_tokens, rows, t, err);
        if (status) break;
        pending++;
        bool read = samples || s->keep_logits;
        if (read || pending == GEN_PREFILL_STEPS) {
            status = t2g_recorder_submit(g->rec, err);
            g->counters.submissions++;
            pending = 0;
        }
        if (!status && read) {
            status = t2g_tensor_download(g->logits, logits, (uint64_t)rows * V * sizeof *logits, err);
            g->counters.downloads++;
        }
        if (status) break;
        for (uint32_t i = 0; read && i < rows; i++) {
            gen_sequence *q = &seq[i];
            if (q->done) continue;
            float *row = logits + (size_t)i * V;
            if (s->keep_logits) memcpy(out->logits + ((size_t)i * max_steps + t) * V, row, (size_t)V * sizeof *row);
            if (t + 1 < q->prompt_length) continue;
            if (s->constrain) {
                uint32_t by_count = s->max_new_tokens - q->generated, by_context = g->context - (q->prompt_length + q->generated);
                s->constrain(s->constrain_user, i, row, V, by_count < by_context ? by_count : by_context);
            }
            uint32_t token = gen_sample_token(row, V, s, &q->rng, work);
            size_t cell = (size_t)i * out->max_new_tokens + q->generated;
            out->tokens[cell] = token;
            out->logprobs[cell] = (float)gen_log_probability(row, V, token);
            q->generated++;
            if (s->on_token) s->on_token(s->on_token_user, i, token);
            if (s->stop_at_eos && is_stop(s, token)) {
                out->ended_with_eos[i] = true;
                q->done = true;
            }
            if (q->generated == s->max_new_tokens || q->prompt_length + q->generated >= g->context) q->done = true;
        }
        t++;
        bool all_done = true;
        for (uint32_t i = 0; i < n; i++) all_done = all_done && seq[i].done;
        if (all_done) break;
    }
    if (status) {
        t2g_error ignored;
        t2g_recorder_submit(g->rec, &ignored); /* leave the recorder empty (a partial step runs: harmless) */
    }
    g->counters.steps += t;
    out->steps = t;
    free(step_tokens);
    free(logits);
    free(work);
    if (status) t2g_error_context(err, "generating, step %u", t);
    return status;
}

t2g_status t2g_generate(t2g_generator *g, const uint32_t *const *prompts, const uint32_t *prompt_lengths, uint32_t n,
                        const t2g_sampling *sampling, t2g_generation *out, t2g_error *err) {
    memset(out, 0, sizeof *out);
    t2g_status status = check_arguments(g, prompts, prompt_lengths, n, sampling, err);
    if (status) return status;
    g->counters.generations++;
    /* the most positions any sequence can need: its prompt and max_new_tokens, within the
     * context, less the last token (sampled, never fed) */
    uint32_t max_steps = 0;
    for (uint32_t i = 0; i < n; i++) {
        uint64_t end = (uint64_t)prompt_lengths[i] + sampling->max_new_tokens;
        if (end > g->context) end = g->context;
        if (end - 1 > max_steps) max_steps = (uint32_t)(end - 1);
    }
    uint64_t logit_floats = sampling->keep_logits ? (uint64_t)n * max_steps * g->V : 0;
    gen_sequence *seq = calloc(n, sizeof *seq);
    if (!seq) return t2g_fail(err, T2G_ERR_MEMORY, "out of host memory for %u sequences", n);
    for (uint32_t i = 0; i < n; i++)
        seq[i] = (gen_sequence){.prompt_length = prompt_lengths[i], .rng = t2g_rng_stream(sampling->seed, i)};
    status = alloc_output(out, n, sampling->max_new_tokens, logit_floats, err);
    if (!status) status = run_steps(g, prompts, n, sampling, seq, max_steps, out, err);
    if (!status) {
        for (uint32_t i = 0; i < n; i++) out->lengths[i] = seq[i].generated;
        /* (n, max_steps, V) -> (n, steps, V): each sequence's rows move down, in order */
        if (out->logits && out->steps < max_steps)
            for (uint32_t i = 1; i < n; i++)
                memmove(out->logits + (size_t)i * out->steps * g->V, out->logits + (size_t)i * max_steps * g->V,
                        (size_t)out->steps * g->V * sizeof *out->logits);
    }
    free(seq);
    if (status) t2g_generation_free(out);
    return status;
}

void t2g_generation_free(t2g_generation *generation) {
    if (!generation) return;
    free(generation->tokens);
    free(generation->lengths);
    free(generation->ended_with_eos);
    free(generation->logprobs);
    free(generation->logits);
    memset(generation, 0, sizeof *generation);
}
