/* The rollout: prompts -> K sampled responses each -> critiques -> token scores, as ranges
 * for the GPU's span-reward mask. Only token ids, ranges and bounds go to the GPU. */
#include <stdio.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "core/alloc.h"
#include "core/clock.h"
#include "rl_internal.h"
#include "t2g/rng.h"

static t2g_status alloc_batch(t2g_rl *rl, t2g_error *err) {
    rl_batch *b = &rl->batch;
    if (b->inputs) return T2G_OK;
    size_t RT = (size_t)rl->R * rl->T;
    b->inputs = malloc(RT * sizeof *b->inputs);
    b->targets = malloc(RT * sizeof *b->targets);
    b->bounds = malloc(2 * (size_t)rl->R * sizeof *b->bounds);
    b->ranges = malloc(4 * RT * sizeof *b->ranges);
    b->range_offsets = malloc((size_t)rl->M * (rl->m + 1) * sizeof *b->range_offsets);
    b->token_scores = malloc(RT * sizeof *b->token_scores);
    b->critic_scores = malloc(rl->R * sizeof *b->critic_scores);
    if (!b->inputs || !b->targets || !b->bounds || !b->ranges || !b->range_offsets || !b->token_scores || !b->critic_scores)
        return t2g_fail(err, T2G_ERR_MEMORY, "out of host memory for a rollout of %u responses", rl->R);
    return T2G_OK;
}

void rl_batch_free(rl_batch *b) {
    free(b->inputs);
    free(b->targets);
    free(b->bounds);
    free(b->ranges);
    free(b->range_offsets);
    free(b->token_scores);
    free(b->critic_scores);
    memset(b, 0, sizeof *b);
}

/* ---- kept samples ---- */

static void free_sample(t2g_rl_sample *s) {
    free(s->prompt);
    free(s->response);
    free(s->feedback);
    for (uint32_t i = 0; s->token_texts && i < s->token_count; i++) free(s->token_texts[i]);
    for (uint32_t i = 0; s->span_texts && i < s->span_count; i++) free(s->span_texts[i]);
    free(s->token_texts);
    free(s->token_scores);
    free(s->span_texts);
    free(s->span_kinds);
    free(s->span_matches);
}

void rl_samples_free(t2g_rl *rl) {
    for (uint32_t i = 0; i < rl->sample_count; i++) free_sample(&rl->samples[i]);
    free(rl->samples);
    rl->samples = NULL;
    rl->sample_count = 0;
}

/* ---- one response ---- */

typedef rl_response response;

t2g_status rl_score_tokens(const t2g_config *c, t2g_span_stats *stats, const rl_response *r,
                           const t2g_critic_result *judged, float *scores, t2g_error *err) {
    bool span = c->rl.reward_granularity == T2G_REWARD_SPAN;
    t2g_span_scores rules = {c->rl.score_good, c->rl.score_poor, c->rl.score_neutral, c->rl.score_unannotated,
                             c->rl.zero_punctuation != 0, c->rl.fuzzy_threshold};
    if (!span) { /* standard PPO: the scalar score on the last token */
        for (uint32_t i = 0; i < r->count; i++) scores[i] = 0.0f;
        scores[r->count - 1] = (float)judged->score;
        stats->critiques++; /* seen, not aligned: the spans play no part */
        return T2G_OK;
    }
    uint32_t tokens = r->count - (r->eos ? 1 : 0); /* the response's own tokens: r->spans */
    t2g_status status = t2g_align_spans(r->text, r->len, &judged->critique, &rules, r->aligned, err);
    if (!status)
        status = t2g_token_scores(&judged->critique, r->aligned, r->text, r->len, r->spans, tokens, &rules, scores, err);
    if (!status) {
        t2g_span_stats_add(stats, &judged->critique, r->aligned);
        /* The last token also carries the critic's judgement of the whole response: what no
         * span can quote (final_score: omissions) and the overall score, weighted. Without the
         * score an empty answer, with nothing to quote, scores 0 and beats any answer with a
         * poor span. */
        if (r->eos) scores[r->count - 1] = (float)rules.unannotated;
        scores[r->count - 1] += (float)(judged->final_score + c->rl.score_weight * judged->score);
    }
    return status;
}

/* Row b of the batch: BOS prompt response, inputs and targets shifted by one, PAD after. */
static void place_sequence(t2g_rl *rl, uint32_t b, const uint32_t *prompt, uint32_t prompt_len, const response *r) {
    rl_batch *batch = &rl->batch;
    uint32_t T = rl->T, length = prompt_len + r->count;
    uint32_t *inputs = batch->inputs + (size_t)b * T, *targets = batch->targets + (size_t)b * T;
    for (uint32_t t = 0; t < T; t++) {
        uint32_t here = t < prompt_len ? prompt[t] : t < length ? r->generated[t - prompt_len] : T2G_TOKEN_PAD;
        uint32_t next = t + 1 < prompt_len ? prompt[t + 1] : t + 1 < length ? r->generated[t + 1 - prompt_len] : T2G_TOKEN_PAD;
        inputs[t] = here;
        targets[t] = next;
    }
}

/* Keeps sample i (escaped copies) for the run folder; out of memory is an error, not a sample
 * with pieces missing. */
static t2g_status keep_sample(t2g_rl *rl, const char *prompt, const response *r, const t2g_critic_result *judged,
                              const float *scores, t2g_error *err) {
    t2g_rl_sample *s = &rl->samples[rl->sample_count++];
    memset(s, 0, sizeof *s);
    s->prompt = t2g_utf8_escape(prompt, strlen(prompt));
    s->response = t2g_utf8_escape(r->text, r->len);
    s->feedback = judged->ok ? t2g_utf8_escape(judged->critique.feedback, strlen(judged->critique.feedback))
                             : t2g_utf8_escape(judged->error, strlen(judged->error));
    s->score = judged->score;
    s->token_count = r->count;
    s->token_texts = t2g_calloc(r->count, sizeof *s->token_texts);
    s->token_scores = t2g_malloc(r->count * sizeof *s->token_scores);
    if (!s->prompt || !s->response || !s->feedback || !s->token_texts || !s->token_scores) goto out_of_memory;
    uint32_t tokens = r->count - (r->eos ? 1 : 0);
    for (uint32_t i = 0; i < r->count; i++) {
        const char *end = t2g_text_token_name(rl->text, r->generated[i]);
        s->token_texts[i] = i < tokens ? t2g_utf8_escape(r->text + r->spans[i].start, r->spans[i].end - r->spans[i].start)
                                       : t2g_utf8_escape(end ? end : "", end ? strlen(end) : 0);
        if (!s->token_texts[i]) goto out_of_memory;
        s->token_scores[i] = scores ? scores[i] : 0.0f;
    }
    if (!judged->ok || !r->aligned) return T2G_OK;
    uint32_t n = judged->critique.span_count;
    s->span_texts = t2g_calloc(n ? n : 1, sizeof *s->span_texts);
    s->span_kinds = t2g_calloc(n ? n : 1, sizeof *s->span_kinds);
    s->span_matches = t2g_calloc(n ? n : 1, sizeof *s->span_matches);
    if (!s->span_texts || !s->span_kinds || !s->span_matches) goto out_of_memory;
    for (uint32_t i = 0; i < n; i++) {
        const t2g_critique_span *span = &judged->critique.spans[i];
        s->span_texts[i] = t2g_utf8_escape(span->text, span->len);
        s->span_kinds[i] = span->kind;
        s->span_matches[i] = r->aligned[i].match;
        s->span_count++;
        if (!s->span_texts[i]) goto out_of_memory;
    }
    return T2G_OK;
out_of_memory:
    return t2g_fail(err, T2G_ERR_MEMORY, "out of memory keeping sample %u of the step for the run folder", rl->sample_count);
}

/* The token scores of row b as ranges of positions (local to its micro-batch). */
static void add_ranges(t2g_rl *rl, uint32_t b, uint32_t start, const float *scores, uint32_t count,
                       t2g_score_run *runs, uint32_t *cursor) {
    uint32_t k = b / rl->m, local = b % rl->m;
    size_t n = t2g_score_runs(scores, count, rl->config.rl.score_unannotated, runs);
    uint32_t *ranges = rl->batch.ranges + (size_t)k * rl->m * rl->T * 4;
    for (size_t i = 0; i < n; i++) {
        uint32_t *r = ranges + 4 * (size_t)(*cursor)++;
        r[0] = local;
        r[1] = start + runs[i].first;
        r[2] = start + runs[i].last;
        memcpy(&r[3], &runs[i].score, 4);
    }
}

/* The test-only hook (t2g_test_poison_due): the first token-score range of micro-batch 0 scores
 * NaN, as a diverging run's rewards would. */
static void poison_scores(t2g_rl *rl) {
    if (rl->batch.range_offsets[rl->m] == 0) return; /* no range: nothing scored to poison */
    float nan = NAN;
    memcpy(&rl->batch.ranges[3], &nan, 4);
}

static t2g_status upload(t2g_rl *rl, t2g_error *err) {
    const rl_batch *b = &rl->batch;
    uint64_t mT = (uint64_t)rl->m * rl->T;
    t2g_status status = T2G_OK;
    for (uint32_t k = 0; k < rl->M && !status; k++) {
        const rl_micro *x = &rl->micro[k];
        const uint32_t *offsets = b->range_offsets + (size_t)k * (rl->m + 1);
        status = t2g_tensor_upload(x->inputs, b->inputs + k * mT, 4 * mT, err);
        if (!status) status = t2g_tensor_upload(x->targets, b->targets + k * mT, 4 * mT, err);
        if (!status) status = t2g_tensor_upload(x->bounds, b->bounds + 2ull * k * rl->m, 8ull * rl->m, err);
        if (!status) status = t2g_tensor_upload(x->range_offsets, offsets, 4ull * (rl->m + 1), err);
        if (!status && offsets[rl->m])
            status = t2g_tensor_upload(x->ranges, b->ranges + (size_t)k * mT * 4, 16ull * offsets[rl->m], err);
    }
    return status;
}

/* ---- the step's rollout ---- */

typedef struct prompt_set {
    t2g_task_example *examples;     /* (prompts), when the prompts come from a task */
    const char **texts;             /* (prompts) */
    const char **fields;            /* (prompts): a prompt file row's other keys (JSON), NULL for a task */
    uint32_t **ids;                 /* (prompts): the chat template's prompt (byte tokenizer: BOS + bytes) */
    uint32_t *lens;
} prompt_set;

static void free_prompts(prompt_set *p, uint32_t n) {
    for (uint32_t i = 0; p->ids && i < n; i++) free(p->ids[i]);
    free(p->ids);
    free(p->lens);
    free(p->texts);
    free(p->fields);
    free(p->examples);
}

static t2g_status make_prompts(t2g_rl *rl, prompt_set *p, t2g_error *err) {
    uint32_t n = rl->config.rl.prompts;
    p->examples = calloc(n, sizeof *p->examples);
    p->texts = calloc(n, sizeof *p->texts);
    p->fields = calloc(n, sizeof *p->fields);
    p->ids = calloc(n, sizeof *p->ids);
    p->lens = calloc(n, sizeof *p->lens);
    if (!p->examples || !p->texts || !p->fields || !p->ids || !p->lens)
        return t2g_fail(err, T2G_ERR_MEMORY, "out of host memory");
    for (uint32_t i = 0; i < n; i++) {
        uint64_t index = rl->prompt_cursor + i;
        if (rl->task) {
            index %= rl->config.data.examples; /* the task's prompt pool: data.examples prompts */
            t2g_task_example_at(rl->task, rl->config.data.seed, index, &p->examples[i]);
            p->texts[i] = p->examples[i].prompt;
        } else {
            p->texts[i] = rl->prompts.examples[index % rl->prompts.count].prompt;
            p->fields[i] = rl->prompts.fields[index % rl->prompts.count];
        }
        size_t count;
        t2g_status status = t2g_text_prompt(rl->text, p->texts[i], strlen(p->texts[i]), rl->config.data.parse_special != 0,
                                            &p->ids[i], &count, err);
        if (status) return t2g_error_context(err, "prompt %llu", (unsigned long long)index);
        if (count + 1 > rl->T)
            return t2g_fail(err, T2G_ERR_ARGUMENT, "prompt %llu is %zu tokens (with the chat template): with one "
                            "response token it does not fit the model's context of %u", (unsigned long long)index,
                            count, rl->T);
        p->lens[i] = (uint32_t)count;
    }
    return T2G_OK;
}

static t2g_status sample(t2g_rl *rl, const prompt_set *p, t2g_generation *g, t2g_error *err) {
    const t2g_config *c = &rl->config;
    uint32_t K = c->rl.samples_per_prompt, longest = 0;
    const uint32_t **rows = malloc(rl->R * sizeof *rows);
    uint32_t *lens = malloc(rl->R * sizeof *lens);
    if (!rows || !lens) {
        free(rows);
        free(lens);
        return t2g_fail(err, T2G_ERR_MEMORY, "out of host memory");
    }
    for (uint32_t r = 0; r < rl->R; r++) {
        rows[r] = p->ids[r / K];
        lens[r] = p->lens[r / K];
        if (lens[r] > longest) longest = lens[r];
    }
    t2g_sampling sampling = t2g_sampling_default();
    t2g_text_sampling(rl->text, &sampling);
    sampling.temperature = (float)c->rl.temperature;
    sampling.top_k = c->rl.top_k;
    sampling.top_p = (float)c->rl.top_p;
    sampling.max_new_tokens = c->rl.max_new_tokens < rl->T - longest ? c->rl.max_new_tokens : rl->T - longest;
    t2g_rng mix = t2g_rng_stream(c->seed, rl->step);
    sampling.seed = t2g_rng_u64(&mix);
    t2g_status status = t2g_generate(rl->generator, rows, lens, rl->R, &sampling, g, err);
    free(rows);
    free(lens);
    return status;
}

static t2g_status judge(t2g_rl *rl, const prompt_set *p, response *responses, t2g_critic_result *results,
                        t2g_error *err) {
    uint32_t K = rl->config.rl.samples_per_prompt;
    t2g_critic_request *requests = calloc(rl->R, sizeof *requests);
    if (!requests) return t2g_fail(err, T2G_ERR_MEMORY, "out of host memory");
    for (uint32_t r = 0; r < rl->R; r++)
        requests[r] = (t2g_critic_request){.id = rl->step * rl->R + r, .prompt = p->texts[r / K],
                                           .response = responses[r].text, .response_len = responses[r].len,
                                           .example = rl->task ? &p->examples[r / K] : NULL,
                                           .fields = p->fields[r / K]};
    double start = t2g_clock_ms();
    t2g_status status = t2g_critic_judge(rl->critic, requests, rl->R, results, err);
    rl->batch.critic_ms = t2g_clock_ms() - start;
    free(requests);
    return status;
}

/* A critique over critic.max_spans or critic.max_bytes is a critic failure of its response,
 * counted with the others (fill_batch): it is never aligned. */
static void refuse_over_caps(const t2g_rl *rl, t2g_critic_result *results) {
    t2g_critique_limits limits = {rl->config.critic.max_spans, rl->config.critic.max_bytes};
    for (uint32_t r = 0; r < rl->R; r++) {
        t2g_error why = {0};
        if (!results[r].ok || t2g_critique_check_limits(&results[r].critique, &limits, &why) == T2G_OK) continue;
        t2g_critique_free(&results[r].critique);
        results[r].ok = false;
        snprintf(results[r].error, sizeof results[r].error, "%.255s", why.message);
    }
}

/* Fills the batch from the judged responses. */
static t2g_status fill_batch(t2g_rl *rl, const prompt_set *p, response *responses, const t2g_critic_result *results,
                             float *scores, t2g_score_run *runs, t2g_error *err) {
    rl_batch *b = &rl->batch;
    uint32_t K = rl->config.rl.samples_per_prompt;
    memset(&rl->spans, 0, sizeof rl->spans);
    for (size_t i = 0; i < (size_t)rl->R * rl->T; i++) b->token_scores[i] = 0.0f;
    b->failures = b->timeouts = 0;
    b->first_failure[0] = '\0';
    uint32_t cursor = 0;
    t2g_status status = T2G_OK;
    for (uint32_t r = 0; r < rl->R && !status; r++) {
        response *resp = &responses[r];
        uint32_t plen = p->lens[r / K], start = plen - 1;
        if (r % rl->m == 0) {
            cursor = 0;
            b->range_offsets[(size_t)(r / rl->m) * (rl->m + 1)] = 0;
        }
        place_sequence(rl, r, p->ids[r / K], plen, resp);
        b->critic_scores[r] = results[r].ok ? results[r].score : 0.0;
        if (!results[r].ok || resp->count == 0) { /* no critique: the response is left out of the update */
            t2g_span_stats_add(&rl->spans, results[r].ok ? &results[r].critique : NULL, NULL);
            if (!results[r].ok) b->timeouts += results[r].timed_out;
            if (!results[r].ok && b->failures++ == 0)
                snprintf(b->first_failure, sizeof b->first_failure, "response %u (prompt %llu): %s", r,
                         (unsigned long long)(rl->prompt_cursor + r / K), results[r].error);
            b->bounds[2 * r] = b->bounds[2 * r + 1] = start;
        } else {
            status = rl_score_tokens(&rl->config, &rl->spans, resp, &results[r], scores, err);
            if (status) break;
            b->bounds[2 * r] = start;
            b->bounds[2 * r + 1] = start + resp->count;
            memcpy(b->token_scores + (size_t)r * rl->T + start, scores, resp->count * sizeof *scores);
            add_ranges(rl, r, start, scores, resp->count, runs, &cursor);
        }
        b->range_offsets[(size_t)(r / rl->m) * (rl->m + 1) + r % rl->m + 1] = cursor;
        if (rl->sample_count < rl->config.rl.samples_kept)
            status = keep_sample(rl, p->texts[r / K], resp, &results[r], results[r].ok ? scores : NULL, err);
    }
    return status;
}

t2g_status rl_rollout(t2g_rl *rl, double *rollout_seconds, t2g_error *err) {
    double start = t2g_clock_seconds();
    t2g_status status = alloc_batch(rl, err);
    rl->batch.generated_tokens = 0;
    prompt_set p = {0};
    t2g_generation g = {0};
    response *responses = calloc(rl->R, sizeof *responses);
    t2g_critic_result *results = calloc(rl->R, sizeof *results);
    float *scores = malloc(rl->T * sizeof *scores);
    t2g_score_run *runs = malloc(rl->T * sizeof *runs);
    if (!status && (!responses || !results || !scores || !runs)) status = t2g_fail(err, T2G_ERR_MEMORY, "out of host memory");
    if (!status) status = make_prompts(rl, &p, err);
    if (!status) status = sample(rl, &p, &g, err);
    *rollout_seconds = t2g_clock_seconds() - start;
    for (uint32_t r = 0; !status && r < rl->R; r++) {
        response *resp = &responses[r];
        resp->generated = g.tokens + (size_t)r * g.max_new_tokens;
        resp->count = g.lengths[r];
        resp->eos = g.ended_with_eos[r];
        uint32_t tokens = resp->count - (resp->eos ? 1 : 0);
        status = t2g_text_decode(rl->text, resp->generated, tokens, false, &resp->text, &resp->len, err);
        resp->spans = status ? NULL : malloc((tokens ? tokens : 1) * sizeof *resp->spans);
        if (!status && !resp->spans) status = t2g_fail(err, T2G_ERR_MEMORY, "out of host memory");
        if (!status) status = t2g_text_spans(rl->text, resp->generated, tokens, resp->spans, err);
        rl->batch.generated_tokens += resp->count;
    }
    if (!status) status = judge(rl, &p, responses, results, err);
    if (!status) refuse_over_caps(rl, results);
    for (uint32_t r = 0; !status && r < rl->R; r++) {
        uint32_t spans = results[r].ok ? results[r].critique.span_count : 0;
        responses[r].aligned = calloc(spans ? spans : 1, sizeof *responses[r].aligned);
        if (!responses[r].aligned) status = t2g_fail(err, T2G_ERR_MEMORY, "out of host memory");
    }
    if (!status) {
        rl_samples_free(rl);
        rl->samples = calloc(rl->config.rl.samples_kept ? rl->config.rl.samples_kept : 1, sizeof *rl->samples);
        if (!rl->samples) status = t2g_fail(err, T2G_ERR_MEMORY, "out of host memory");
    }
    if (!status) status = fill_batch(rl, &p, responses, results, scores, runs, err);
    if (!status && t2g_test_poison_due(rl->step + 1)) poison_scores(rl);
    if (!status) status = upload(rl, err);
    if (!status) rl->prompt_cursor += rl->config.rl.prompts;
    for (uint32_t r = 0; responses && r < rl->R; r++) {
        free(responses[r].text);
        free(responses[r].spans);
        free(responses[r].aligned);
        if (results) t2g_critic_result_free(&results[r]);
    }
    free(responses);
    free(results);
    free(scores);
    free(runs);
    t2g_generation_free(&g);
    free_prompts(&p, rl->config.rl.prompts);
    return status;
}
