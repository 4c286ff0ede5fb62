/* Batched generation with a KV cache on the GPU (t2g/generate.h).
 *
 * A step is a list of rows, each a sequence's cache slot at a position (t2g_decode_row,
 * src/kernels/decode.h), and one recording:
 *
 *   record_update     rows (n,3)           each row's token, slot and position
 *   decode_embedding  x (n,C)              wte[token] (+ wpe[position] with a position table)
 *   per layer: the architecture's block_decode (11 dispatches; src/nn/arch_*.c), which writes
 *     each row's k and v into kcache[l], vcache[l] at its slot and position (decode_store)
 *     before its attention reads them
 *   norm              ln = norm_f(x)              (a sampling step only)
 *   matmul            logits (n,V) = ln head^T    (a sampling step only)
 *
 * The KV cache (per layer kcache, vcache (max_batch, context, KVH hs)) is stored in the
 * model's activation type: f32 for an f32 model, bf16 or f16 for a 16-bit one (half the bytes:
 * k and v rounded as decode_store writes them, widened as decode_attention reads them, every
 * sum in f32; those variants pass the self-check before the model is made).
 *
 * First the prefill: every prompt position that predicts nothing (all but each prompt's last)
 * goes through the blocks in steps of up to prefill_rows rows, position by position across the
 * sequences (so the keys a row attends to are in the cache, written by its own step or an
 * earlier one), without the norm and head; GEN_PREFILL_STEPS such steps share a submission.
 * Then the sequences advance in lockstep from the last positions of their prompts: step t has
 * a row for each unfinished sequence whose prompt's last position is at most t (one with a
 * longer prompt joins when t reaches its last position), every row samples, and its logits are
 * read back. Without the prefill (keep_logits, or t2g_generator_set_prefill off) every position
 * goes through lockstep steps from t = 0, and steps whose rows are all inside their prompts
 * share submissions, GEN_PREFILL_STEPS at most, with the next one that samples.
 *
 * Every kernel computes each row alone, and every tile configuration of the matmuls (each
 * matmul takes the device's choice for its shape: 4-row tiles for a step of a few rows) sums
 * each output over k in increasing order (test matmul checks that they agree bit for bit), so a
 * row's logits have the same bits whatever else is in its step, and whether its prompt went
 * through the prefill or through lockstep steps: the same seed gives the same text whatever
 * the batch (test sample_kv). The parameters are read from the GPT's own
 * tensors when each step is recorded, so a generator always sees the latest update (once the
 * recording that wrote them has been submitted). With keep_logits, the positions a sequence
 * did not process (after its end) hold zeros. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "generate_internal.h"
#include "gpt_internal.h"
#include "kernels/decode.h"
#include "t2g/tokenizer.h"

/* Sequences of one generation at most (the KV cache's slots). */
#define GEN_MAX_BATCH 16384u
/* The KV cache is one arena of 2 tensors a layer, listed on the stack. */
#define T2G_GEN_MAX_LAYERS 1024u
/* record_update writes at most this many bytes a call. */
#define GEN_UPDATE_BYTES 65536u

_Static_assert(sizeof(t2g_decode_row) == T2G_DECODE_ROW_WORDS * sizeof(uint32_t), "a decode row is 3 packed words");

struct t2g_generator {
    t2g_gpt *gpt;
    uint32_t max_batch, context, L, C, V;
    uint32_t max_rows;              /* rows of a step at most: max_batch, or a prefill step's more */
    bool prefill;                   /* prompts through the prefill (t2g_generator_set_prefill) */
    uint32_t prefill_rows;          /* rows of a prefill step (max_rows; tests take fewer) */
    t2g_recorder *rec;

    t2g_arena *cache_arena;
    t2g_tensor *kcache, *vcache; /* (L) each (max_batch, context, KVH x hs) of the model's act dtype */

    t2g_arena *act_arena;        /* one step's activations, max_rows rows */
    t2g_tensor logits;           /* (max_batch, V): only sampling steps compute them */
    gpt_decode step;             /* the rows and the rest */
    t2g_decode_row *host_rows;   /* (max_rows) the rows of the step being recorded */

    gen_counters counters;
};

/* Elements of one layer's key (or value) cache for max_batch sequences of a model's context. */
static uint64_t layer_cache_elements(const t2g_model_config *c, uint32_t max_batch) {
    return (uint64_t)max_batch * c->context * t2g_model_kv_heads(c) * t2g_model_head_size(c);
}

static t2g_status alloc_buffers(t2g_generator *g, t2g_error *err) {
    const t2g_gpt *gpt = g->gpt;
    gpt_decode *d = &g->step;
    uint64_t B = g->max_batch, R = g->max_rows, C = g->C;
    uint64_t cache = layer_cache_elements(&gpt->config, g->max_batch);
    t2g_typed_request caches[2 * T2G_GEN_MAX_LAYERS];
    g->kcache = calloc(g->L, sizeof *g->kcache);
    g->vcache = calloc(g->L, sizeof *g->vcache);
    g->host_rows = calloc(R, sizeof *g->host_rows);
    if (!g->kcache || !g->vcache || !g->host_rows)
        return t2g_fail(err, T2G_ERR_MEMORY, "out of host memory for the KV cache's table and a step's rows");
    for (uint32_t l = 0; l < g->L; l++) {
        caches[2 * l] = (t2g_typed_request){&g->kcache[l], cache, gpt->act_dtype};
        caches[2 * l + 1] = (t2g_typed_request){&g->vcache[l], cache, gpt->act_dtype};
    }
    t2g_status status =
        t2g_arena_create_for_typed(t2g_gpt_device(g->gpt), "KV cache", caches, 2 * g->L, &g->cache_arena, err);
    const t2g_tensor_request acts[] = {
        {&d->rows, R * T2G_DECODE_ROW_WORDS}, {&d->x, R * C}, {&d->x2, R * C}, {&d->ln, R * C}, {&d->mean, R},
        {&d->rstd, R}, {&d->qkv, R * gpt->QKV}, {&d->atty, R * C}, {&d->fch, R * gpt->FIN},
        {&d->fch_act, R * gpt->F}, {&g->logits, B * g->V},
    };
    if (!status)
        status = t2g_arena_create_for(t2g_gpt_device(g->gpt), "generation activations", acts, sizeof acts / sizeof acts[0],
                                      &g->act_arena, err);
    d->gpt = gpt;
    d->rec = g->rec;
    d->slots = g->max_batch;
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
    /* each layer's key (and value) cache is one tensor that the decode kernels bind whole */
    const t2g_device_info *info = t2g_device_get_info(t2g_gpt_device(gpt));
    uint64_t cache_bytes = layer_cache_elements(c, max_batch) * t2g_dtype_bytes(gpt->act_dtype); /* 16-bit for a 16-bit model */
    if (cache_bytes > info->max_storage_buffer_range)
        return t2g_fail(err, T2G_ERR_TOO_LARGE,
                        "generator: a layer's KV cache for %u sequences of %u positions is %llu bytes, over the %llu "
                        "bytes %s binds at once; generate fewer sequences at once or from a shorter context",
                        max_batch, c->context, (unsigned long long)cache_bytes,
                        (unsigned long long)info->max_storage_buffer_range, info->name);
    t2g_generator *g = calloc(1, sizeof *g);
    if (!g) return t2g_fail(err, T2G_ERR_MEMORY, "out of host memory creating a generator");
    uint64_t prefill_rows = (uint64_t)max_batch * (c->context - 1);
    if (prefill_rows > GEN_PREFILL_ROWS) prefill_rows = GEN_PREFILL_ROWS;
    *g = (t2g_generator){.gpt = gpt, .max_batch = max_batch, .context = c->context, .L = c->layers, .C = c->width,
                         .V = c->vocab, .max_rows = max_batch > prefill_rows ? max_batch : (uint32_t)prefill_rows,
                         .prefill = true};
    g->prefill_rows = g->max_rows;
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
    free(g->host_rows);
    free(g);
}

void t2g_generator_set_prefill(t2g_generator *g, bool on) { g->prefill = on; }

uint64_t t2g_generator_device_bytes(const t2g_generator *g) {
    return t2g_arena_capacity_bytes(g->cache_arena) + t2g_arena_capacity_bytes(g->act_arena);
}

uint32_t gen_set_prefill_rows(t2g_generator *g, uint32_t rows) {
    g->prefill_rows = rows == 0 || rows > g->max_rows ? g->max_rows : rows;
    return g->prefill_rows;
}

void gen_get_counters(const t2g_generator *g, gen_counters *counters) {
    *counters = g->counters;
    counters->dispatches = t2g_recorder_dispatch_count(g->rec);
}

t2g_dtype gen_cache_dtype(const t2g_generator *g) { return g->kcache[0].dtype; }

/* The step's rows (host_rows) into the rows tensor, in pieces record_update takes. */
static t2g_status upload_rows(t2g_generator *g, uint32_t n, t2g_error *err) {
    const uint32_t *words = (const uint32_t *)g->host_rows, total = n * T2G_DECODE_ROW_WORDS;
    const uint32_t piece = GEN_UPDATE_BYTES / sizeof *words;
    for (uint32_t first = 0; first < total; first += piece) {
        uint32_t count = total - first < piece ? total - first : piece;
        TRY(t2g_record_update(g->rec, t2g_tensor_slice(g->step.rows, first, count), words + first,
                              count * (uint32_t)sizeof *words, err));
    }
    return T2G_OK;
}

/* Records one step of the n rows in host_rows through the blocks and, where `head`, on to the
 * logits (n,V). */
static t2g_status record_rows(t2g_generator *g, uint32_t n, bool head, t2g_error *err) {
    t2g_recorder *rec = g->rec;
    const t2g_gpt *gpt = g->gpt;
    const gpt_weights *w = &gpt->weights;
    gpt_decode *d = &g->step;
    d->n = n;
    TRY(upload_rows(g, n, err));
    TRY(t2g_decode_embedding(rec, d->x, d->rows, w->wte, gpt->arch->positions ? &w->wpe : NULL, n, g->C, g->V,
                             g->context, err));
    for (uint32_t l = 0; l < g->L; l++) TRY(gpt->arch->block_decode(d, l, err));
    if (!head) return T2G_OK;
    TRY(gpt_norm_forward(gpt, rec, d->ln, d->mean, d->rstd, d->x, w->lnfw, w->lnfb, n, err));
    TRY(t2g_matmul_forward(rec, g->logits, d->ln, gpt_head(gpt_matmul_weights(gpt)), NULL, n, g->C, g->V, err));
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
    uint32_t start;  /* its first lockstep position: 0, or its prompt's last after the prefill */
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

/* The prefill: positions 0 .. prompt_length - 2 of every sequence (those that predict nothing),
 * position by position across the sequences, in steps of at most prefill_rows rows without the
 * head; each sequence then starts its lockstep steps at its prompt's last position. Recorded,
 * and submitted GEN_PREFILL_STEPS steps at a time; the rest goes with the first lockstep step. */
static t2g_status prefill_step(t2g_generator *g, uint32_t rows, uint32_t *pending, t2g_error *err) {
    TRY(record_rows(g, rows, false, err));
    g->counters.prefill_steps++;
    g->counters.prefill_rows += rows;
    if (++*pending < GEN_PREFILL_STEPS) return T2G_OK;
    *pending = 0;
    g->counters.submissions++;
    return t2g_recorder_submit(g->rec, err);
}

static t2g_status prefill(t2g_generator *g, const uint32_t *const *prompts, uint32_t n, gen_sequence *seq,
                          uint32_t *pending, t2g_error *err) {
    uint32_t longest = 0, rows = 0;
    for (uint32_t i = 0; i < n; i++) {
        seq[i].start = seq[i].prompt_length - 1;
        if (seq[i].prompt_length > longest) longest = seq[i].prompt_length;
    }
    for (uint32_t t = 0; t + 1 < longest; t++)
        for (uint32_t i = 0; i < n; i++) {
            if (t >= seq[i].start) continue;
            g->host_rows[rows++] = (t2g_decode_row){prompts[i][t], i, t};
            if (rows < g->prefill_rows) continue;
            TRY(prefill_step(g, rows, pending, err));
            rows = 0;
        }
    return rows ? prefill_step(g, rows, pending, err) : T2G_OK;
}

/* Samples each unfinished row's next token from its logits (rows (n, V), row r belonging to
 * the sequence host_rows[r].slot at position t). */
static void sample_rows(t2g_generator *g, const t2g_sampling *s, gen_sequence *seq, uint32_t rows, uint32_t t,
                        float *logits, gen_candidate *work, uint32_t max_steps, t2g_generation *out) {
    const uint32_t V = g->V;
    for (uint32_t r = 0; r < rows; r++) {
        uint32_t i = g->host_rows[r].slot;
        gen_sequence *q = &seq[i];
        float *row = logits + (size_t)r * V;
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
}

/* The lockstep steps, after the prefill (if any): step t has a row for each unfinished
 * sequence that has started (start <= t); with none, t jumps to the next start. Returns the
 * positions gone through (the last t + 1) in *steps. */
static t2g_status run_steps(t2g_generator *g, const uint32_t *const *prompts, uint32_t n, const t2g_sampling *s,
                            gen_sequence *seq, uint32_t max_steps, uint32_t pending, t2g_generation *out,
                            uint32_t *steps, t2g_error *err) {
    const uint32_t V = g->V;
    float *logits = malloc((size_t)g->max_batch * V * sizeof *logits);
    gen_candidate *work = malloc((size_t)V * sizeof *work);
    t2g_status status = T2G_OK;
    if (!logits || !work) status = t2g_fail(err, T2G_ERR_MEMORY, "out of host memory for a step");
    uint32_t t = 0;
    while (!status) {
        uint32_t rows = 0, next = UINT32_MAX; /* next: the first start after t of an unfinished sequence */
        bool samples = false; /* some row draws its token t + 1 from this step */
        for (uint32_t i = 0; i < n; i++) {
            if (seq[i].done) continue;
            if (seq[i].start > t) {
                if (seq[i].start < next) next = seq[i].start;
                continue;
            }
            g->host_rows[rows++] = (t2g_decode_row){token_at(out, prompts, &seq[i], i, t), i, t};
            samples = samples || t + 1 >= seq[i].prompt_length;
        }
        if (rows == 0 && next == UINT32_MAX) break; /* every sequence is done */
        if (rows == 0) {
            t = next;
            continue;
        }
        status = record_rows(g, rows, true, err);
        if (status) break;
        g->counters.steps++;
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
        if (read) sample_rows(g, s, seq, rows, t, logits, work, max_steps, out);
        t++;
    }
    *steps = t;
    free(logits);
    free(work);
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
    if (!status) {
        uint32_t pending = 0; /* steps recorded and not yet submitted */
        status = gpt_refresh_params16(g->gpt, g->rec, err); /* a 16-bit model's matmuls read its copy */
        if (!status && g->prefill && !sampling->keep_logits) status = prefill(g, prompts, n, seq, &pending, err);
        if (!status) status = run_steps(g, prompts, n, sampling, seq, max_steps, pending, out, &out->steps, err);
        g->counters.positions += out->steps;
        if (status) {
            t2g_error ignored;
            t2g_recorder_submit(g->rec, &ignored); /* leave the recorder empty (a partial step runs: harmless) */
            t2g_error_context(err, "generating, position %u", out->steps);
        }
    }
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
