/* Evaluation: greedy responses to a task's held-out prompts, scored by the task. */
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "evaluate_internal.h"
#include "core/clock.h"
#include "t2g/tokenizer.h"

t2g_status t2g_eval_respond(t2g_generator *generator, const t2g_text *text, bool parse_special,
                            const char *const *texts, uint32_t n, uint32_t context, uint32_t max_new_tokens,
                            char **responses, size_t *lengths, t2g_error *err) {
    uint32_t *prompts[EVAL_BATCH], prompt_lens[EVAL_BATCH], longest = 0;
    t2g_status status = T2G_OK;
    memset(prompts, 0, sizeof prompts);
    for (uint32_t i = 0; i < n && !status; i++) {
        size_t count = 0;
        status = t2g_text_prompt(text, texts[i], strlen(texts[i]), parse_special, &prompts[i], &count, err);
        prompt_lens[i] = count < context ? (uint32_t)count : context;
        if (!status && count > longest) longest = prompt_lens[i];
        if (status) t2g_error_context(err, "evaluation prompt %u", i + 1);
    }
    if (!status && longest >= context)
        status = t2g_fail(err, T2G_ERR_ARGUMENT, "an evaluation prompt of %u tokens does not fit the context of %u",
                          longest, context);
    t2g_generation generation = {0};
    if (!status) {
        t2g_sampling sampling = t2g_sampling_default();
        t2g_text_sampling(text, &sampling);
        sampling.temperature = 0;
        sampling.max_new_tokens = max_new_tokens < context - longest ? max_new_tokens : context - longest;
        status = t2g_generate(generator, (const uint32_t *const *)prompts, prompt_lens, n, &sampling, &generation, err);
    }
    for (uint32_t i = 0; i < n && !status; i++) {
        uint32_t len = generation.lengths[i];
        if (generation.ended_with_eos[i] && len > 0) len--; /* the end of turn is not part of the text */
        status = t2g_text_decode(text, generation.tokens + (size_t)i * generation.max_new_tokens, len, true,
                                 &responses[i], &lengths[i], err);
    }
    t2g_generation_free(&generation);
    for (uint32_t i = 0; i < n; i++) free(prompts[i]);
    return status;
}

static t2g_status keep_samples(const t2g_task *task, const t2g_task_example *examples, char *const *responses,
                               const size_t *lengths, uint32_t count, t2g_eval_result *result, t2g_error *err) {
    result->samples = calloc(count ? count : 1, sizeof *result->samples);
    if (!result->samples) return t2g_fail(err, T2G_ERR_MEMORY, "out of host memory for evaluation samples");
    for (uint32_t i = 0; i < count; i++) {
        t2g_eval_sample *s = &result->samples[i];
        s->prompt = t2g_utf8_escape(examples[i].prompt, strlen(examples[i].prompt));
        s->response = t2g_utf8_escape(responses[i], lengths[i]);
        s->reference = t2g_utf8_escape(examples[i].answer, strlen(examples[i].answer));
        t2g_task_score(task, &examples[i], responses[i], lengths[i], &s->score);
        result->sample_count++;
        if (!s->prompt || !s->response || !s->reference)
            return t2g_fail(err, T2G_ERR_MEMORY, "out of host memory for evaluation samples");
    }
    return T2G_OK;
}

t2g_status t2g_evaluate(t2g_gpt *gpt, t2g_generator *generator, const t2g_text *text, const t2g_task *task,
                        uint64_t seed, uint32_t examples, uint32_t samples, uint32_t max_new_tokens,
                        t2g_eval_result *result, t2g_error *err) {
    return t2g_evaluate_stream(gpt, generator, text, task, t2g_task_eval_seed(seed), examples, samples, max_new_tokens,
                               result, err);
}

t2g_status t2g_evaluate_stream(t2g_gpt *gpt, t2g_generator *generator, const t2g_text *text, const t2g_task *task,
                               uint64_t stream,
                               uint32_t examples, uint32_t samples, uint32_t max_new_tokens, t2g_eval_result *result,
                               t2g_error *err) {
    memset(result, 0, sizeof *result);
    double start = t2g_clock_seconds();
    if (examples == 0) return t2g_fail(err, T2G_ERR_ARGUMENT, "evaluation of 0 examples");
    t2g_generator *own = NULL;
    t2g_status status = T2G_OK;
    if (!generator) {
        status = t2g_generator_create(gpt, examples < EVAL_BATCH ? examples : EVAL_BATCH, &own, err);
        generator = own;
    }
    t2g_task_example *items = calloc(examples, sizeof *items);
    char **responses = calloc(examples, sizeof *responses);
    size_t *lengths = calloc(examples, sizeof *lengths);
    if (!status && (!items || !responses || !lengths))
        status = t2g_fail(err, T2G_ERR_MEMORY, "out of host memory for %u evaluation examples", examples);
    for (uint32_t i = 0; i < examples && !status; i++) t2g_task_example_at(task, stream, i, &items[i]);
    uint32_t context = t2g_gpt_config(gpt)->context;
    for (uint32_t first = 0; first < examples && !status; first += EVAL_BATCH) {
        uint32_t n = examples - first < EVAL_BATCH ? examples - first : EVAL_BATCH;
        const char *prompts[EVAL_BATCH];
        for (uint32_t i = 0; i < n; i++) prompts[i] = items[first + i].prompt;
        status = t2g_eval_respond(generator, text, false, prompts, n, context, max_new_tokens, responses + first,
                                  lengths + first, err);
    }
    if (!status) {
        t2g_task_evaluate(task, items, (const char *const *)responses, lengths, examples, &result->metrics);
        status = keep_samples(task, items, responses, lengths, samples < examples ? samples : examples, result, err);
    }
    for (uint32_t i = 0; responses && i < examples; i++) free(responses[i]);
    free(responses);
    free(lengths);
    free(items);
    t2g_generator_destroy(own);
    result->seconds = t2g_clock_seconds() - start;
    return status;
}

void t2g_eval_result_free(t2g_eval_result *result) {
    for (uint32_t i = 0; i < result->sample_count; i++) {
        free(result->samples[i].prompt);
        free(result->samples[i].response);
        free(result->samples[i].reference);
    }
    free(result->samples);
    memset(result, 0, sizeof *result);
}
