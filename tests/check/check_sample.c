/* Generation with the KV cache (src/nn/generate.c) and sampling (src/nn/sample.c).
 *
 * sample_kv, on the tiny model of check_gpt.c with random parameters (its EOS embedding scaled
 * up, so that sequences end with EOS at different steps while others go on):
 *  1. the logits of every step (keep_logits: lockstep from position 0) equal those of the
 *     model's own full forward over the sequence so far, for a batch of prompts of different
 *     lengths (one of them filling the context but one token); the log-probabilities equal log
 *     softmax of the full forward's logits; 3 + 9 L dispatches a step (the residual adds in
 *     the projections' GEMMs, f32 on tiled GEMMs everywhere); the same on a model of
 *     context 150 (past one chunk of decode_attention's keys) and on a small Llama (rotary
 *     positions, grouped-query heads);
 *  2. the prefill: its steps and rows, and the lockstep steps after it, are those the prompts
 *     call for, with the prefill cut into steps of 1, 3, 7 rows or whole; without it, prompt
 *     steps are batched without downloads; and the tokens and log-probabilities have the same
 *     bits with and without the prefill, however it is cut;
 *  3. after new parameters are written, greedy decoding equals greedy decoding by repeated
 *     full forwards (the generator reads the latest parameters);
 *  4. the same seed gives the same text twice, and a sequence's text does not change when other
 *     prompts join the batch;
 *  5. top_k = 1, and a top_p below 1 / V, give the greedy text;
 *  6. bad arguments are refused with T2G_ERR_ARGUMENT, a message naming them, nothing recorded;
 *  7. constrained decoding obeys the hook.
 * sampling_distribution: t2g_sample_token's frequencies over many draws against the
 * distribution that temperature, top-k and top-p define (chi-square), BOS and PAD never drawn,
 * greedy ties to the lowest id. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "check.h"
#include "nn/generate_internal.h"
#include "t2g/generate.h"
#include "t2g/gpt.h"
#include "t2g/tokenizer.h"

/* check_gpt.c's tiny model: vocabulary 259, head size 12, 3 heads, 2 layers, context 11. */
static const t2g_model_config TINY = T2G_MODEL_GPT2(259, 11, 2, 3, 36);
enum { BATCH = 4 };
static const float EOS_BOOST = 6.0f;

/* Adds uniform noise in [-0.2, 0.2] to every parameter of a GPT-2 initialisation (LayerNorm
 * weights away from 1, biases away from 0) and writes it to the model. The EOS row of the
 * (tied) token embedding is scaled by eos_boost, so that EOS is often the likeliest token and
 * sequences end at different steps. */
static void randomize(check_ctx *ctx, t2g_gpt *gpt, uint64_t seed, float eos_boost) {
    float *params = check_host(ctx, t2g_gpt_buffer_floats(gpt) * sizeof(float));
    check_status(ctx, t2g_gpt_init(gpt, seed, &ctx->err), "initialising the GPT");
    check_status(ctx, t2g_gpt_read(gpt, params, NULL, NULL, &ctx->err), "reading the parameters");
    const t2g_gpt_param *table;
    uint32_t count = t2g_gpt_params(gpt, &table);
    for (uint32_t i = 0; i < count; i++) {
        for (uint64_t k = 0; k < (uint64_t)table[i].rows * table[i].cols; k++)
            params[table[i].offset + k] += (float)check_uniform(ctx, -0.2, 0.2);
        if (strcmp(table[i].name, "wte") == 0 && T2G_TOKEN_EOS < table[i].rows)
            for (uint32_t c = 0; c < table[i].cols; c++)
                params[table[i].offset + (uint64_t)T2G_TOKEN_EOS * table[i].cols + c] *= eos_boost;
    }
    check_status(ctx, t2g_gpt_write(gpt, params, NULL, NULL, &ctx->err), "writing the parameters");
}

/* n prompts: BOS, then random bytes. */
typedef struct prompt_set {
    uint32_t n;
    uint32_t *tokens[BATCH + 1]; /* one more than a generator's max_batch, for the refusal */
    uint32_t lengths[BATCH + 1];
} prompt_set;

static prompt_set make_prompts(check_ctx *ctx, uint32_t n, const uint32_t *lengths) {
    prompt_set p = {.n = n};
    for (uint32_t i = 0; i < n; i++) {
        p.lengths[i] = lengths[i];
        p.tokens[i] = check_random_tokens(ctx, lengths[i], 256);
        p.tokens[i][0] = T2G_TOKEN_BOS;
    }
    return p;
}

/* Sequence i of a generation: its prompt, then its generated tokens (malloc'ed by check_host). */
static uint32_t *full_sequence(check_ctx *ctx, const prompt_set *p, const t2g_generation *g, uint32_t i,
                               uint32_t *length) {
    *length = p->lengths[i] + g->lengths[i];
    uint32_t *s = check_host(ctx, *length * sizeof *s);
    memcpy(s, p->tokens[i], p->lengths[i] * sizeof *s);
    memcpy(s + p->lengths[i], g->tokens + (size_t)i * g->max_new_tokens, g->lengths[i] * sizeof *s);
    return s;
}

/* The model's full forward over n sequences, padded to T positions: logits (n, T, V). */
static float *full_logits(check_ctx *ctx, t2g_gpt *gpt, uint32_t *const *seqs, const uint32_t *lengths, uint32_t n,
                          uint32_t T) {
    uint32_t *tokens = check_host(ctx, (size_t)n * T * sizeof *tokens);
    for (uint32_t i = 0; i < n; i++)
        memcpy(tokens + (size_t)i * T, seqs[i], (lengths[i] < T ? lengths[i] : T) * sizeof *tokens);
    t2g_tensor tokens_t = check_upload(ctx, tokens, (size_t)n * T);
    check_status(ctx, t2g_gpt_forward(gpt, ctx->recorder, tokens_t, n, T, &ctx->err), "full forward");
    check_submit(ctx);
    return check_download(ctx, t2g_gpt_logits(gpt), (size_t)n * T * t2g_gpt_config(gpt)->vocab);
}

/* log softmax(row)[token] in double. */
static double log_softmax_at(const float *row, uint32_t V, uint32_t token) {
    double m = -INFINITY, sum = 0;
    for (uint32_t v = 0; v < V; v++) m = row[v] > m ? row[v] : m;
    for (uint32_t v = 0; v < V; v++) sum += exp(row[v] - m);
    return row[token] - m - log(sum);
}

/* The greedy choice: the largest logit that is not BOS or PAD, ties to the lowest id. */
static uint32_t greedy_choice(const float *row, uint32_t V) {
    uint32_t best = 0;
    bool found = false;
    for (uint32_t v = 0; v < V; v++) {
        if (v == T2G_TOKEN_BOS || v == T2G_TOKEN_PAD) continue;
        if (!found || row[v] > row[best]) best = v;
        found = true;
    }
    return best;
}

static bool generate(check_ctx *ctx, t2g_generator *gen, const prompt_set *p, const t2g_sampling *s,
                     t2g_generation *out, const char *what) {
    return check_status(ctx, t2g_generate(gen, (const uint32_t *const *)p->tokens, p->lengths, p->n, s, out, &ctx->err),
                        what);
}

/* How a sequence must end: max_new_tokens, the context, or its first EOS (stop_at_eos). */
static void check_ending(check_ctx *ctx, const char *what, const prompt_set *p, const t2g_generation *g,
                         const t2g_sampling *s, uint32_t i, uint32_t context) {
    uint32_t room = context - p->lengths[i], limit = s->max_new_tokens < room ? s->max_new_tokens : room;
    uint32_t len = g->lengths[i];
    const uint32_t *tok = g->tokens + (size_t)i * g->max_new_tokens;
    bool eos_inside = false;
    for (uint32_t k = 0; k + 1 < len; k++) eos_inside = eos_inside || (s->stop_at_eos && tok[k] == T2G_TOKEN_EOS);
    bool ends_eos = len > 0 && s->stop_at_eos && tok[len - 1] == T2G_TOKEN_EOS;
    bool ok = len >= 1 && len <= limit && !eos_inside && g->ended_with_eos[i] == ends_eos && (ends_eos || len == limit);
    check_true(ctx, ok, "%s: sequence %u (prompt %u) has %u tokens of at most %u, %s", what, i, p->lengths[i], len, limit,
               g->ended_with_eos[i] ? "ending with EOS" : "no EOS");
}

/* ---- 1. incremental logits against the full forward ---- */

static void incremental_vs_full(check_ctx *ctx, t2g_gpt *gpt, t2g_generator *gen, const prompt_set *p,
                                uint32_t max_new_tokens) {
    const t2g_model_config *cfg = t2g_gpt_config(gpt);
    const uint32_t V = cfg->vocab;
    t2g_sampling s = t2g_sampling_default();
    s.max_new_tokens = max_new_tokens;
    s.seed = check_random_u64(ctx);
    s.keep_logits = true;
    gen_counters before, after;
    gen_get_counters(gen, &before);
    t2g_generation g;
    if (!generate(ctx, gen, p, &s, &g, "generate with keep_logits")) return;
    gen_get_counters(gen, &after);

    uint32_t *seqs[BATCH], lens[BATCH], steps = 0;
    for (uint32_t i = 0; i < p->n; i++) {
        check_ending(ctx, "sampled", p, &g, &s, i, cfg->context);
        seqs[i] = full_sequence(ctx, p, &g, i, &lens[i]);
        if (lens[i] - 1 > steps) steps = lens[i] - 1;
    }
    uint32_t eos = 0;
    for (uint32_t i = 0; i < p->n; i++) eos += g.ended_with_eos[i];
    check_log(ctx, "  %u of %u sequences ended with EOS", eos, p->n);
    check_true(ctx, g.steps == steps, "steps = %u, the longest sequence less its last token (%u)", g.steps, steps);
    check_true(ctx, after.dispatches - before.dispatches == (uint64_t)g.steps * (3 + 9 * cfg->layers),
               "%llu dispatches for %u steps of %u layers: 3 + 9 a layer each",
               (unsigned long long)(after.dispatches - before.dispatches), g.steps, cfg->layers);
    check_true(ctx,
               after.submissions - before.submissions == g.steps && after.downloads - before.downloads == g.steps &&
                   after.steps - before.steps == g.steps && after.prefill_steps == before.prefill_steps,
               "keep_logits: no prefill; one lockstep step, submission and download a position");

    /* every position each sequence processed: t < its length - 1 */
    float *full = full_logits(ctx, gpt, seqs, lens, p->n, g.steps);
    size_t rows = 0;
    for (uint32_t i = 0; i < p->n; i++) rows += lens[i] - 1;
    float *inc = check_host(ctx, rows * V * sizeof *inc);
    double *ref = check_doubles(ctx, rows * V);
    size_t r = 0;
    for (uint32_t i = 0; i < p->n; i++)
        for (uint32_t t = 0; t + 1 < lens[i]; t++, r++)
            for (uint32_t v = 0; v < V; v++) {
                inc[r * V + v] = g.logits[((size_t)i * g.steps + t) * V + v];
                ref[r * V + v] = full[((size_t)i * g.steps + t) * V + v];
            }
    char label[160];
    snprintf(label, sizeof label, "incremental logits vs full forward (%zu positions, %u prompts, context %u)", rows,
             p->n, cfg->context);
    check_close(ctx, label, inc, ref, rows * V, 1e-5);

    /* each generated token's log-probability: log softmax of the full forward at its position */
    size_t count = 0;
    for (uint32_t i = 0; i < p->n; i++) count += g.lengths[i];
    float *lp = check_host(ctx, count * sizeof *lp);
    double *lp_ref = check_doubles(ctx, count), *terms = check_doubles(ctx, count);
    size_t k = 0;
    for (uint32_t i = 0; i < p->n; i++)
        for (uint32_t j = 0; j < g.lengths[i]; j++, k++) {
            uint32_t t = p->lengths[i] + j - 1; /* the position that predicted it */
            lp[k] = g.logprobs[(size_t)i * g.max_new_tokens + j];
            const float *row = full + ((size_t)i * g.steps + t) * V;
            lp_ref[k] = log_softmax_at(row, V, seqs[i][t + 1]);
            terms[k] = fabs(row[seqs[i][t + 1]]) + fabs(row[seqs[i][t + 1]] - lp_ref[k]); /* |logit| + |lse| */
        }
    /* logit - logsumexp cancels when the token is near certain: measured against the terms */
    check_close_scaled(ctx, "log-probabilities vs log softmax of the full forward", lp, lp_ref, count,
                       check_norm(terms, count), 1e-5);
    t2g_generation_free(&g);
}

/* Without keep_logits: with the prefill (steps of prefill_rows rows; 0: as many as the generator
 * holds), ceil(sum of (prompt - 1) / rows) prefill steps, submitted GEN_PREFILL_STEPS at a time,
 * then one lockstep step, submission and download for each position t at which some sequence
 * samples (t in [prompt - 1, prompt + generated - 2]). Without the prefill a step downloads
 * logits only if some unfinished sequence samples from it; the others share submissions,
 * GEN_PREFILL_STEPS at most, with the next step that samples. */
static void prompt_steps(check_ctx *ctx, t2g_generator *gen, const prompt_set *p, uint32_t max_new_tokens,
                         bool prefill, uint32_t prefill_rows) {
    t2g_sampling s = t2g_sampling_default();
    s.max_new_tokens = max_new_tokens;
    s.seed = check_random_u64(ctx);
    gen_counters before, after;
    t2g_generation g;
    t2g_generator_set_prefill(gen, prefill);
    prefill_rows = gen_set_prefill_rows(gen, prefill_rows);
    gen_get_counters(gen, &before);
    bool ok = generate(ctx, gen, p, &s, &g, "generate");
    gen_get_counters(gen, &after);
    t2g_generator_set_prefill(gen, true);
    gen_set_prefill_rows(gen, 0);
    if (!ok) return;
    uint64_t downloads = 0, submissions = 0, pending = 0, steps = 0, rows = 0, prefill_steps = 0;
    for (uint32_t i = 0; i < p->n && prefill; i++) rows += p->lengths[i] - 1;
    if (rows) prefill_steps = (rows + prefill_rows - 1) / prefill_rows;
    submissions = prefill_steps / GEN_PREFILL_STEPS;
    for (uint32_t t = 0; t < g.steps; t++) {
        bool samples = false, inside = false;
        for (uint32_t i = 0; i < p->n; i++) {
            samples = samples || (t + 1 >= p->lengths[i] && t + 1 < p->lengths[i] + g.lengths[i]);
            inside = inside || t + 1 < p->lengths[i];
        }
        if (!samples && (prefill || !inside)) continue;
        steps++;
        downloads += samples;
        if (samples || ++pending == GEN_PREFILL_STEPS) {
            submissions++;
            pending = 0;
        }
    }
    check_true(ctx, g.logits == NULL, "no logits kept without keep_logits");
    char what[64];
    snprintf(what, sizeof what, prefill ? "prefill in steps of %u rows" : "no prefill", prefill_rows);
    check_true(ctx,
               after.prefill_steps - before.prefill_steps == prefill_steps &&
                   after.prefill_rows - before.prefill_rows == rows && after.steps - before.steps == steps &&
                   after.downloads - before.downloads == downloads &&
                   after.submissions - before.submissions == submissions,
               "%s, %u positions: %llu prefill steps of %llu rows, %llu lockstep steps, %llu downloads, %llu "
               "submissions (expected %llu, %llu, %llu, %llu, %llu)",
               what, g.steps, (unsigned long long)(after.prefill_steps - before.prefill_steps),
               (unsigned long long)(after.prefill_rows - before.prefill_rows),
               (unsigned long long)(after.steps - before.steps), (unsigned long long)(after.downloads - before.downloads),
               (unsigned long long)(after.submissions - before.submissions), (unsigned long long)prefill_steps,
               (unsigned long long)rows, (unsigned long long)steps, (unsigned long long)downloads,
               (unsigned long long)submissions);
    t2g_generation_free(&g);
}

/* The same sampling with and without the prefill, cut into steps of 1, 3 and 7 rows and
 * whole: the same tokens, with log-probabilities of the same bits. */
static void prefill_same_bits(check_ctx *ctx, t2g_generator *gen, const prompt_set *p, uint32_t max_new_tokens) {
    t2g_sampling s = t2g_sampling_default();
    s.temperature = 1.3f; /* flat: a difference in the last bit can change a token */
    s.max_new_tokens = max_new_tokens;
    s.seed = check_random_u64(ctx);
    t2g_generation none, cut;
    t2g_generator_set_prefill(gen, false);
    bool ok = generate(ctx, gen, p, &s, &none, "sampling without the prefill");
    t2g_generator_set_prefill(gen, true);
    if (!ok) return;
    const uint32_t rows[] = {1, 3, 7, 0};
    for (size_t k = 0; k < sizeof rows / sizeof rows[0]; k++) {
        gen_set_prefill_rows(gen, rows[k]);
        if (!generate(ctx, gen, p, &s, &cut, "sampling with the prefill")) break;
        bool same = cut.steps == none.steps;
        for (uint32_t i = 0; i < p->n; i++)
            same = same && cut.lengths[i] == none.lengths[i] && cut.ended_with_eos[i] == none.ended_with_eos[i] &&
                   memcmp(cut.tokens + (size_t)i * cut.max_new_tokens, none.tokens + (size_t)i * none.max_new_tokens,
                          none.lengths[i] * sizeof *none.tokens) == 0 &&
                   memcmp(cut.logprobs + (size_t)i * cut.max_new_tokens,
                          none.logprobs + (size_t)i * none.max_new_tokens, none.lengths[i] * sizeof *none.logprobs) == 0;
        char cut_as[32] = "whole";
        if (rows[k]) snprintf(cut_as, sizeof cut_as, "in steps of %u rows", rows[k]);
        check_true(ctx, same, "prefill %s: the same tokens and log-probability bits as without it (%u prompts)",
                   cut_as, p->n);
        t2g_generation_free(&cut);
    }
    gen_set_prefill_rows(gen, 0);
    t2g_generation_free(&none);
}

/* ---- 2. greedy decoding against repeated full forwards ---- */

static void greedy_vs_full(check_ctx *ctx, t2g_gpt *gpt, t2g_generator *gen, const prompt_set *p, t2g_generation *g) {
    const uint32_t V = TINY.vocab;
    t2g_sampling s = t2g_sampling_default();
    s.temperature = 0;
    s.max_new_tokens = 7;
    if (!generate(ctx, gen, p, &s, g, "greedy generate")) return;
    uint32_t *seqs[BATCH], lens[BATCH];
    bool done[BATCH] = {false};
    uint32_t made[BATCH] = {0};
    for (uint32_t i = 0; i < p->n; i++) {
        check_ending(ctx, "greedy", p, g, &s, i, TINY.context);
        seqs[i] = check_host(ctx, TINY.context * sizeof(uint32_t));
        memcpy(seqs[i], p->tokens[i], p->lengths[i] * sizeof(uint32_t));
        lens[i] = p->lengths[i];
    }
    int forwards = 0, near_ties = 0, mismatches = 0;
    for (;;) {
        uint32_t T = 0;
        bool any = false;
        for (uint32_t i = 0; i < p->n; i++)
            if (!done[i]) {
                any = true;
                T = lens[i] > T ? lens[i] : T;
            }
        if (!any) break;
        float *logits = full_logits(ctx, gpt, seqs, lens, p->n, T);
        forwards++;
        for (uint32_t i = 0; i < p->n; i++) {
            if (done[i]) continue;
            const float *row = logits + ((size_t)i * T + lens[i] - 1) * V;
            uint32_t want = greedy_choice(row, V);
            uint32_t got = made[i] < g->lengths[i] ? g->tokens[(size_t)i * g->max_new_tokens + made[i]] : UINT32_MAX;
            if (got != want) {
                /* a near tie may go either way at float precision: then follow the generator */
                double scale = 0;
                for (uint32_t v = 0; v < V; v++) scale = fmax(scale, fabs(row[v]));
                if (got < V && row[got] >= row[want] - 1e-5 * scale) {
                    near_ties++;
                    check_log(ctx, "  greedy: sequence %u token %u is a near tie (%u: %.9g, %u: %.9g)", i, made[i], got,
                              row[got], want, row[want]);
                    want = got;
                } else {
                    mismatches++;
                    check_fail(ctx, "greedy: sequence %u token %u is %u, the full forward's argmax is %u", i, made[i],
                               got, want);
                    done[i] = true;
                    continue;
                }
            }
            seqs[i][lens[i]++] = want;
            made[i]++;
            if ((s.stop_at_eos && want == T2G_TOKEN_EOS) || made[i] == s.max_new_tokens || lens[i] == TINY.context)
                done[i] = true;
        }
    }
    bool lengths_equal = true;
    for (uint32_t i = 0; i < p->n; i++) lengths_equal = lengths_equal && made[i] == g->lengths[i];
    check_true(ctx, mismatches == 0 && lengths_equal,
               "greedy decoding equals greedy by %d repeated full forwards (%d near ties)", forwards, near_ties);
}

/* ---- 3. seeds and batch composition ---- */

static bool same_text(const t2g_generation *a, uint32_t i, const t2g_generation *b, uint32_t j) {
    if (a->lengths[i] != b->lengths[j] || a->ended_with_eos[i] != b->ended_with_eos[j]) return false;
    return memcmp(a->tokens + (size_t)i * a->max_new_tokens, b->tokens + (size_t)j * b->max_new_tokens,
                  a->lengths[i] * sizeof *a->tokens) == 0;
}

static void seeds_and_batches(check_ctx *ctx, t2g_generator *gen, const prompt_set *p) {
    t2g_sampling s = t2g_sampling_default();
    s.temperature = 1.3f; /* flat: many different tokens */
    s.max_new_tokens = 8;
    s.seed = check_random_u64(ctx);
    prompt_set two = *p;
    two.n = 2;
    t2g_generation a, b, c, d;
    if (!generate(ctx, gen, &two, &s, &a, "sampling, 2 prompts")) return;
    if (!generate(ctx, gen, &two, &s, &b, "sampling again")) return;
    if (!generate(ctx, gen, p, &s, &c, "sampling, the same 2 prompts and others")) return;
    s.seed++;
    if (!generate(ctx, gen, &two, &s, &d, "sampling, another seed")) return;
    bool again = same_text(&a, 0, &b, 0) && same_text(&a, 1, &b, 1) &&
                 memcmp(a.logprobs, b.logprobs, (size_t)2 * a.max_new_tokens * sizeof *a.logprobs) == 0;
    check_true(ctx, again, "the same seed samples the same text and log-probabilities twice");
    check_true(ctx, same_text(&a, 0, &c, 0) && same_text(&a, 1, &c, 1),
               "a sequence's text does not change when %u more prompts join the batch", p->n - 2);
    /* the generator fixes its matmul tiles, and every other kernel of a step works row by row:
     * a row's logits, hence its log-probabilities, have the same bits whatever the batch */
    bool same_bits = true;
    for (uint32_t i = 0; i < 2; i++)
        same_bits = same_bits && a.lengths[i] == c.lengths[i] &&
                    memcmp(a.logprobs + (size_t)i * a.max_new_tokens, c.logprobs + (size_t)i * c.max_new_tokens,
                           a.lengths[i] * sizeof *a.logprobs) == 0;
    check_true(ctx, same_bits, "their log-probabilities have the same bits in a batch of 2 and of %u", p->n);
    /* 16 tokens at temperature 1.3 from 257: another seed gives other text */
    check_true(ctx, !(same_text(&a, 0, &d, 0) && same_text(&a, 1, &d, 1)), "another seed samples other text");
    t2g_generation_free(&a);
    t2g_generation_free(&b);
    t2g_generation_free(&c);
    t2g_generation_free(&d);
}

/* ---- 4. filters that leave one token ---- */

static void filters_equal_greedy(check_ctx *ctx, t2g_generator *gen, const prompt_set *p, const t2g_generation *greedy) {
    t2g_sampling s = t2g_sampling_default();
    s.max_new_tokens = greedy->max_new_tokens;
    s.seed = check_random_u64(ctx);
    const struct {
        uint32_t top_k;
        float top_p, temperature;
        const char *what;
    } cases[] = {
        {1, 1.0f, 1.0f, "top_k = 1 at temperature 1"},
        {1, 1.0f, 3.0f, "top_k = 1 at temperature 3"},
        {0, 0.003f, 1.0f, "top_p = 0.003 (< 1/259) at temperature 1"},
        {50, 0.003f, 2.0f, "top_k = 50, top_p = 0.003 at temperature 2"},
    };
    for (size_t c = 0; c < sizeof cases / sizeof cases[0]; c++) {
        s.top_k = cases[c].top_k;
        s.top_p = cases[c].top_p;
        s.temperature = cases[c].temperature;
        t2g_generation g;
        if (!generate(ctx, gen, p, &s, &g, cases[c].what)) continue;
        bool same = true;
        for (uint32_t i = 0; i < p->n; i++) same = same && same_text(&g, i, greedy, i);
        check_true(ctx, same, "%s gives the greedy text", cases[c].what);
        t2g_generation_free(&g);
    }
}

/* ---- 5. bad arguments ---- */

static void expect_refusal(check_ctx *ctx, t2g_generator *gen, const prompt_set *p, uint32_t n,
                           const t2g_sampling *s, const char *what, const char *const *words) {
    gen_counters before, after;
    gen_get_counters(gen, &before);
    t2g_generation g;
    memset(&g, 0xFF, sizeof g);
    t2g_status status =
        t2g_generate(gen, (const uint32_t *const *)p->tokens, p->lengths, n, s, &g, &ctx->err);
    gen_get_counters(gen, &after);
    bool named = true;
    for (size_t i = 0; words[i]; i++) named = named && strstr(ctx->err.message, words[i]);
    check_true(ctx,
               status == T2G_ERR_ARGUMENT && named && g.tokens == NULL && g.logits == NULL &&
                   after.dispatches == before.dispatches && after.generations == before.generations,
               "%s: refused, nothing recorded (%s)", what, status ? ctx->err.message : "accepted");
    if (!status) t2g_generation_free(&g);
}

static void bad_arguments(check_ctx *ctx, t2g_gpt *gpt, t2g_generator *gen, const prompt_set *p) {
    t2g_sampling ok = t2g_sampling_default(), s;
    ok.max_new_tokens = 3;
    prompt_set q = *p;
    expect_refusal(ctx, gen, p, 0, &ok, "no prompts", (const char *[]){"0 prompts", "1 to 4", NULL});
    prompt_set five = *p; /* one more prompt than max_batch */
    five.tokens[BATCH] = p->tokens[0];
    five.lengths[BATCH] = p->lengths[0];
    expect_refusal(ctx, gen, &five, BATCH + 1, &ok, "5 prompts for a max_batch of 4",
                   (const char *[]){"5 prompts", "max_batch", NULL});
    q.lengths[1] = 0;
    expect_refusal(ctx, gen, &q, p->n, &ok, "an empty prompt", (const char *[]){"prompt 1", "empty", NULL});
    q = *p;
    uint32_t *full = check_random_tokens(ctx, TINY.context, 256);
    q.tokens[2] = full;
    q.lengths[2] = TINY.context;
    expect_refusal(ctx, gen, &q, p->n, &ok, "a prompt that fills the context",
                   (const char *[]){"prompt 2", "11 tokens", "context of 11", NULL});
    q = *p;
    uint32_t *bad = check_host(ctx, p->lengths[3] * sizeof *bad);
    memcpy(bad, p->tokens[3], p->lengths[3] * sizeof *bad);
    bad[p->lengths[3] - 1] = TINY.vocab;
    q.tokens[3] = bad;
    expect_refusal(ctx, gen, &q, p->n, &ok, "a token outside the vocabulary",
                   (const char *[]){"prompt 3", "259", NULL});
    s = ok;
    s.max_new_tokens = 0;
    expect_refusal(ctx, gen, p, p->n, &s, "max_new_tokens = 0", (const char *[]){"max_new_tokens", NULL});
    const float temperatures[] = {-0.5f, NAN, INFINITY};
    for (int i = 0; i < 3; i++) {
        s = ok;
        s.temperature = temperatures[i];
        char what[64];
        snprintf(what, sizeof what, "temperature %g", (double)temperatures[i]);
        expect_refusal(ctx, gen, p, p->n, &s, what, (const char *[]){"temperature", NULL});
    }
    const float top_ps[] = {0.0f, -0.1f, 1.5f, NAN};
    for (int i = 0; i < 4; i++) {
        s = ok;
        s.top_p = top_ps[i];
        char what[64];
        snprintf(what, sizeof what, "top_p %g", (double)top_ps[i]);
        expect_refusal(ctx, gen, p, p->n, &s, what, (const char *[]){"top_p", NULL});
    }
    t2g_generator *none = (t2g_generator *)1;
    t2g_status status = t2g_generator_create(NULL, 2, &none, &ctx->err);
    check_true(ctx, status == T2G_ERR_ARGUMENT && none == NULL, "a generator without a model is refused");
    none = (t2g_generator *)1;
    status = t2g_generator_create(gpt, 0, &none, &ctx->err);
    check_true(ctx, status == T2G_ERR_ARGUMENT && none == NULL, "a generator for 0 sequences is refused (%s)",
               status ? ctx->err.message : "accepted");
    /* after all that, generation still works */
    t2g_generation g;
    if (generate(ctx, gen, p, &ok, &g, "generate after the refusals")) t2g_generation_free(&g);
}

/* Past one chunk of keys of decode_attention (128) and several prompt submissions: context
 * 150, one layer, head size 12; prompts of 137 and 70 tokens. */
static void long_context(check_ctx *ctx) {
    check_case_begin(ctx);
    const t2g_model_config LONG = T2G_MODEL_GPT2(259, 150, 1, 2, 24);
    t2g_gpt *gpt;
    t2g_generator *gen;
    if (!check_status(ctx, t2g_gpt_create(ctx->device, &LONG, 2, LONG.context, &gpt, &ctx->err), "creating the GPT"))
        return;
    randomize(ctx, gpt, ctx->seed + 2, 1.0f);
    /* a layer's KV cache past one storage binding is refused when the generator is made, naming it */
    uint64_t cache = 16384ull * LONG.context * LONG.width * 4, range = t2g_device_get_info(ctx->device)->max_storage_buffer_range;
    if (cache > range) {
        t2g_generator *huge = NULL;
        t2g_status status = t2g_generator_create(gpt, 16384, &huge, &ctx->err);
        check_true(ctx, status == T2G_ERR_TOO_LARGE && huge == NULL && strstr(ctx->err.message, "KV cache for 16384 sequences"),
                   "a generator whose KV cache (%llu bytes a layer) exceeds one binding (%llu) is refused, naming it (%s)",
                   (unsigned long long)cache, (unsigned long long)range, status ? ctx->err.message : "accepted");
        t2g_generator_destroy(huge);
    } else {
        check_log(ctx, "  the device binds %llu bytes at once: a KV cache of %llu bytes a layer fits, no refusal to check",
                  (unsigned long long)range, (unsigned long long)cache);
    }
    if (check_status(ctx, t2g_generator_create(gpt, 2, &gen, &ctx->err), "creating the generator")) {
        const uint32_t lengths[2] = {137, 70};
        prompt_set p = make_prompts(ctx, 2, lengths);
        incremental_vs_full(ctx, gpt, gen, &p, 12);
        prompt_steps(ctx, gen, &p, 12, false, 0);
        prompt_steps(ctx, gen, &p, 12, true, 7); /* 30 prefill steps: one submission on its own */
        prompt_steps(ctx, gen, &p, 12, true, 5); /* 41 prefill steps */
        prefill_same_bits(ctx, gen, &p, 12);
        t2g_generator_destroy(gen);
    }
    t2g_gpt_destroy(gpt);
}

/* A small Llama (rotary positions turned by decode_store, grouped-query heads, no position
 * table, an untied head): the incremental logits, and the prefill's bits. */
static void llama(check_ctx *ctx) {
    check_case_begin(ctx);
    const t2g_model_config LLAMA = check_small_llama(40);
    t2g_gpt *gpt;
    t2g_generator *gen;
    if (!check_status(ctx, t2g_gpt_create(ctx->device, &LLAMA, BATCH, LLAMA.context, &gpt, &ctx->err),
                      "creating the Llama"))
        return;
    randomize(ctx, gpt, ctx->seed + 3, 1.0f);
    if (check_status(ctx, t2g_generator_create(gpt, BATCH, &gen, &ctx->err), "creating the generator")) {
        const uint32_t lengths[BATCH] = {5, 1, 17, 30};
        prompt_set p = make_prompts(ctx, BATCH, lengths);
        incremental_vs_full(ctx, gpt, gen, &p, 6);
        prompt_steps(ctx, gen, &p, 6, true, 0);
        prefill_same_bits(ctx, gen, &p, 6);
        t2g_generator_destroy(gen);
    }
    t2g_gpt_destroy(gpt);
}

/* ---- constrained decoding: the hook's mask is obeyed, its budget is what is left ---- */

typedef struct forced {
    uint32_t calls[BATCH], budgets[BATCH][16];
    bool wrong_v;
} forced;

/* The one token sequence i may draw as its k-th: a byte, never EOS, BOS or PAD. */
static uint32_t forced_token(uint32_t i, uint32_t k) { return (37u * i + 11u * k + 5u) % 250u; }

static void force(void *user, uint32_t sequence, float *logits, uint32_t V, uint32_t budget) {
    forced *f = user;
    uint32_t k = f->calls[sequence]++;
    if (k < 16) f->budgets[sequence][k] = budget;
    f->wrong_v = f->wrong_v || V != TINY.vocab;
    for (uint32_t v = 0; v < V; v++)
        if (v != forced_token(sequence, k)) logits[v] = -INFINITY;
}

static void constrained(check_ctx *ctx, t2g_generator *gen, const prompt_set *p) {
    for (int hot = 0; hot < 2; hot++) {
        forced f = {0};
        t2g_sampling s = t2g_sampling_default();
        s.temperature = hot ? 1.5f : 0.0f;
        s.max_new_tokens = 6;
        s.constrain = force;
        s.constrain_user = &f;
        t2g_generation g;
        if (!generate(ctx, gen, p, &s, &g, "constrained generation")) return;
        for (uint32_t i = 0; i < p->n; i++) {
            uint32_t room = TINY.context - p->lengths[i], limit = s.max_new_tokens < room ? s.max_new_tokens : room;
            bool ok = g.lengths[i] == limit && f.calls[i] == limit && !f.wrong_v;
            for (uint32_t k = 0; ok && k < limit; k++) {
                uint32_t left = s.max_new_tokens - k < room - k ? s.max_new_tokens - k : room - k;
                ok = g.tokens[(size_t)i * g.max_new_tokens + k] == forced_token(i, k) && f.budgets[i][k] == left &&
                     g.logprobs[(size_t)i * g.max_new_tokens + k] == 0.0f;
            }
            check_true(ctx, ok, "%s: sequence %u (prompt %u) draws only what the hook allows, %u tokens, each told the "
                                "budget left, log-probability 0 under the mask",
                       hot ? "temperature 1.5" : "greedy", i, p->lengths[i], limit);
        }
        t2g_generation_free(&g);
    }
}

T2G_CHECK(sample_kv) {
    check_case_begin(ctx);
    t2g_gpt *gpt;
    t2g_generator *gen;
    if (!check_status(ctx, t2g_gpt_create(ctx->device, &TINY, BATCH, TINY.context, &gpt, &ctx->err), "creating the GPT"))
        return ctx->failures;
    randomize(ctx, gpt, ctx->seed, EOS_BOOST);
    if (!check_status(ctx, t2g_generator_create(gpt, BATCH, &gen, &ctx->err), "creating the generator")) {
        t2g_gpt_destroy(gpt);
        return ctx->failures;
    }
    /* one prompt of one token, one that leaves room for one new token only */
    const uint32_t lengths[BATCH] = {3, 1, 6, 10};
    prompt_set p = make_prompts(ctx, BATCH, lengths);
    incremental_vs_full(ctx, gpt, gen, &p, 5);
    if (!ctx->quick) {
        prompt_set three = {.n = 3, .tokens = {p.tokens[0], p.tokens[2], p.tokens[3]}, .lengths = {3, 6, 10}};
        prompt_steps(ctx, gen, &three, 5, false, 0);
        prompt_steps(ctx, gen, &three, 5, true, 0);
        prompt_steps(ctx, gen, &three, 5, true, 3);
        prefill_same_bits(ctx, gen, &p, 5);
        randomize(ctx, gpt, ctx->seed + 1, EOS_BOOST / 2); /* the generator must see the new parameters */
        t2g_generation greedy;
        greedy_vs_full(ctx, gpt, gen, &p, &greedy);
        if (greedy.tokens) {
            filters_equal_greedy(ctx, gen, &p, &greedy);
            t2g_generation_free(&greedy);
        }
        const uint32_t lengths2[BATCH] = {2, 4, 7, 1};
        prompt_set p2 = make_prompts(ctx, BATCH, lengths2);
        seeds_and_batches(ctx, gen, &p2);
        constrained(ctx, gen, &p2);
        bad_arguments(ctx, gpt, gen, &p);
    }
    t2g_generator_destroy(gen);
    t2g_gpt_destroy(gpt);
    if (!ctx->quick) long_context(ctx);
    if (!ctx->quick) llama(ctx);
    return ctx->failures;
}

/* ---- the sampling distribution, on the host ---- */

/* The distribution t2g_sample_token must draw from, computed plainly: logits over the
 * temperature (BOS and PAD left out), sorted descending (ties: lower id first), the top k kept,
 * then the smallest prefix whose share of what is left reaches top_p, renormalised. */
static void expected_distribution(const float *logits, uint32_t V, const t2g_sampling *s, double *prob) {
    uint32_t *order = malloc(V * sizeof *order), count = 0;
    if (!order) abort();
    for (uint32_t v = 0; v < V; v++) {
        prob[v] = 0;
        if (v != T2G_TOKEN_BOS && v != T2G_TOKEN_PAD) order[count++] = v;
    }
    for (uint32_t a = 1; a < count; a++) /* insertion sort: descending logit, ascending id */
        for (uint32_t b = a; b > 0 && logits[order[b]] > logits[order[b - 1]]; b--) {
            uint32_t x = order[b];
            order[b] = order[b - 1];
            order[b - 1] = x;
        }
    if (s->top_k > 0 && s->top_k < count) count = s->top_k;
    double top = logits[order[0]] / (double)s->temperature, total = 0;
    for (uint32_t i = 0; i < count; i++) total += exp(logits[order[i]] / (double)s->temperature - top);
    double kept = 0;
    uint32_t keep = 0;
    while (keep < count && (keep == 0 || kept < s->top_p * total))
        kept += exp(logits[order[keep++]] / (double)s->temperature - top);
    for (uint32_t i = 0; i < keep; i++) prob[order[i]] = exp(logits[order[i]] / (double)s->temperature - top) / kept;
    free(order);
}

/* Draws `draws` tokens and compares the counts with the expected distribution: no token of
 * probability 0, and Pearson's chi-square (cells of expected count < 5 pooled) within 6
 * standard deviations of its degrees of freedom. */
static void distribution_case(check_ctx *ctx, const char *what, const float *logits, uint32_t V, t2g_sampling s,
                              uint32_t draws) {
    double *prob = check_doubles(ctx, V);
    expected_distribution(logits, V, &s, prob);
    uint32_t *counts = check_host(ctx, V * sizeof *counts);
    t2g_rng rng = t2g_rng_seeded(ctx->seed ^ check_random_u64(ctx));
    uint32_t outside = 0, special = 0;
    for (uint32_t k = 0; k < draws; k++) {
        uint32_t token = t2g_sample_token(logits, V, &s, &rng);
        if (token >= V) {
            outside++;
            continue;
        }
        counts[token]++;
    }
    double chi2 = 0, pooled_expected = 0, pooled_count = 0;
    int cells = 0, support = 0, impossible = 0;
    for (uint32_t v = 0; v < V; v++) {
        if (v == T2G_TOKEN_BOS || v == T2G_TOKEN_PAD) special += counts[v];
        if (prob[v] == 0) {
            impossible += counts[v] > 0;
            continue;
        }
        support++;
        double e = prob[v] * draws;
        if (e < 5) {
            pooled_expected += e;
            pooled_count += counts[v];
            continue;
        }
        chi2 += (counts[v] - e) * (counts[v] - e) / e;
        cells++;
    }
    if (pooled_expected > 0) {
        chi2 += (pooled_count - pooled_expected) * (pooled_count - pooled_expected) / pooled_expected;
        cells++;
    }
    int df = cells > 1 ? cells - 1 : 1;
    double bound = df + 6 * sqrt(2.0 * df);
    check_true(ctx, outside == 0 && impossible == 0 && special == 0 && (cells <= 1 || chi2 <= bound),
               "%s: %u draws over %d tokens, chi-square %.1f (df %d, bound %.1f); %u BOS/PAD, %d impossible tokens drawn",
               what, draws, support, chi2, df, bound, special, impossible);
}

T2G_HOST_CHECK(sampling_distribution) {
    check_case_begin(ctx);
    const uint32_t V = T2G_BYTE_VOCAB;
    float *logits = check_host(ctx, V * sizeof *logits);
    for (uint32_t v = 0; v < V; v++) logits[v] = (float)fmin(1.5 * check_normal(ctx), 3.5); /* below the tie */
    logits[T2G_TOKEN_BOS] = 9.0f; /* would dominate if they were not left out */
    logits[T2G_TOKEN_PAD] = 8.5f;
    logits[T2G_TOKEN_EOS] = 3.0f; /* EOS may be sampled */
    logits[17] = logits[40] = 4.0f; /* a tie at the top */
    const uint32_t draws = 60000;
    struct {
        float temperature;
        uint32_t top_k;
        float top_p;
        const char *what;
    } cases[] = {
        {1.0f, 0, 1.0f, "temperature 1"},
        {0.5f, 0, 1.0f, "temperature 0.5"},
        {2.0f, 0, 1.0f, "temperature 2"},
        {1.0f, 12, 1.0f, "top_k 12"},
        {1.3f, 0, 0.6f, "temperature 1.3, top_p 0.6"},
        {0.8f, 30, 0.9f, "temperature 0.8, top_k 30, top_p 0.9"},
        {1.0f, 2, 1.0f, "top_k 2 (the tie)"},
        {1.0f, 300, 0.999f, "top_k beyond V, top_p 0.999"},
    };
    for (size_t c = 0; c < sizeof cases / sizeof cases[0]; c++) {
        t2g_sampling s = t2g_sampling_default();
        s.temperature = cases[c].temperature;
        s.top_k = cases[c].top_k;
        s.top_p = cases[c].top_p;
        distribution_case(ctx, cases[c].what, logits, V, s, draws);
    }

    /* greedy: the largest logit but BOS and PAD, ties to the lowest id; NaN is never chosen */
    t2g_sampling greedy = t2g_sampling_default();
    greedy.temperature = 0;
    t2g_rng rng = t2g_rng_seeded(ctx->seed);
    check_true(ctx, t2g_sample_token(logits, V, &greedy, &rng) == 17, "greedy: the tie between ids 17 and 40 gives 17");
    logits[3] = NAN;
    logits[5] = 7.0f;
    check_true(ctx, t2g_sample_token(logits, V, &greedy, &rng) == 5, "greedy: NaN is skipped, BOS/PAD are never chosen");
    /* a model without special tokens (V < 256) may sample any id */
    float small[4] = {0.0f, 1.0f, 2.0f, 3.0f};
    t2g_sampling s = t2g_sampling_default();
    distribution_case(ctx, "V = 4", small, 4, s, 20000);
    return ctx->failures;
}
