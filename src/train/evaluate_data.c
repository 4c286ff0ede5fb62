/* Held-out evaluation on a file of prompt/response rows (eval.path, t2g eval --data): the
 * teacher-forced loss of the references, and greedy responses scored against them. */
#include <stdlib.h>
#include <string.h>

#include "core/clock.h"
#include "evaluate_internal.h"
#include "t2g/critic.h"
#include "t2g/kernels.h"
#include "t2g/tokenizer.h"

/* What one loss pass needs on the device, for rows of B x T tokens. */
typedef struct loss_pass {
    t2g_recorder *rec;
    t2g_arena *arena;
    t2g_tensor inputs, targets, weights; /* (B, T) each: token ids (as u32) and loss weights */
    t2g_tensor sum;                      /* (1): sum of weights * losses */
    t2g_batch batch;                     /* (B, T), host */
} loss_pass;

static t2g_status loss_pass_create(t2g_gpt *gpt, uint32_t B, uint32_t T, loss_pass *p, t2g_error *err) {
    uint64_t n = (uint64_t)B * T;
    t2g_device *device = t2g_gpt_device(gpt);
    t2g_status status = t2g_batch_alloc(&p->batch, B, T, err);
    if (!status) status = t2g_recorder_create(device, NULL, &p->rec, err);
    if (!status) status = t2g_arena_create(device, 4 * (3 * n + 64) + 4096, "evaluation loss", &p->arena, err);
    t2g_tensor *tensors[] = {&p->inputs, &p->targets, &p->weights};
    for (size_t i = 0; i < 3 && !status; i++) status = t2g_tensor_alloc_f32(p->arena, n, tensors[i], err);
    if (!status) status = t2g_tensor_alloc_f32(p->arena, 1, &p->sum, err);
    return status;
}

static void loss_pass_destroy(loss_pass *p) {
    t2g_batch_free(&p->batch);
    t2g_arena_destroy(p->arena);
    t2g_recorder_destroy(p->rec);
}

/* Sum of the losses of rows [first, first + rows) of the data, and of their weights. */
static t2g_status loss_of_rows(t2g_gpt *gpt, loss_pass *p, const t2g_dataset *data, size_t first, uint32_t rows,
                               double *loss_sum, double *weight_sum, t2g_error *err) {
    t2g_batch *b = &p->batch;
    uint32_t T = b->T, N = rows * T;
    b->weight_sum = 0;
    b->truncated = 0;
    for (uint32_t r = 0; r < rows; r++) t2g_batch_set_row(b, r, &data->examples[first + r], data->is_text);
    t2g_status status = t2g_tensor_upload(p->inputs, b->inputs, 4ull * N, err);
    if (!status) status = t2g_tensor_upload(p->targets, b->targets, 4ull * N, err);
    if (!status) status = t2g_tensor_upload(p->weights, b->weights, 4ull * N, err);
    if (!status) status = t2g_gpt_forward(gpt, p->rec, p->inputs, rows, T, err);
    if (!status) status = t2g_gpt_loss(gpt, p->rec, p->targets, p->weights, rows, T, err);
    if (!status) status = t2g_dot(p->rec, p->sum, t2g_gpt_losses(gpt), p->weights, N, err);
    if (!status) status = t2g_recorder_submit(p->rec, err);
    float sum = 0;
    if (!status) status = t2g_tensor_download(p->sum, &sum, sizeof sum, err);
    *loss_sum += sum;
    *weight_sum += b->weight_sum;
    return status;
}

/* The mean cross-entropy of the first n rows' responses (and EOS) given their prompts. */
static t2g_status reference_loss(t2g_gpt *gpt, const t2g_dataset *data, size_t n, double *loss, t2g_error *err) {
    uint32_t B, T;
    t2g_gpt_capacity(gpt, &B, &T);
    loss_pass p = {0};
    t2g_status status = loss_pass_create(gpt, B, T, &p, err);
    double loss_sum = 0, weight_sum = 0;
    for (size_t first = 0; first < n && !status; first += B) {
        uint32_t rows = n - first < B ? (uint32_t)(n - first) : B;
        status = loss_of_rows(gpt, &p, data, first, rows, &loss_sum, &weight_sum, err);
    }
    loss_pass_destroy(&p);
    if (status) return t2g_error_context(err, "the evaluation loss");
    if (weight_sum <= 0)
        return t2g_fail(err, T2G_ERR_ARGUMENT,
                        "the evaluation loss: no response token of the evaluation rows fits the context of %u", T);
    *loss = loss_sum / weight_sum;
    return T2G_OK;
}

static t2g_status keep_samples(const t2g_dataset *data, char *const *responses, const size_t *lengths, uint32_t count,
                               t2g_eval_result *result, t2g_error *err) {
    result->samples = calloc(count ? count : 1, sizeof *result->samples);
    if (!result->samples) return t2g_fail(err, T2G_ERR_MEMORY, "out of host memory for evaluation samples");
    for (uint32_t i = 0; i < count; i++) {
        const t2g_example *e = &data->examples[i];
        t2g_eval_sample *s = &result->samples[i];
        s->prompt = t2g_utf8_escape(e->prompt, e->prompt_len);
        s->response = t2g_utf8_escape(responses[i], lengths[i]);
        s->reference = t2g_utf8_escape(e->response, e->response_len);
        t2g_reference_score(e->response, responses[i], lengths[i], &s->score);
        result->sample_count++;
        if (!s->prompt || !s->response || !s->reference)
            return t2g_fail(err, T2G_ERR_MEMORY, "out of host memory for evaluation samples");
    }
    return T2G_OK;
}

/* The critic's mean score of the n responses, over those it judged; none judged is an error. */
static t2g_status critic_score(t2g_critic *critic, const t2g_dataset *data, char *const *responses,
                               const size_t *lengths, uint32_t n, double *score, t2g_error *err) {
    t2g_critic_request *requests = calloc(n, sizeof *requests);
    t2g_critic_result *results = calloc(n, sizeof *results);
    t2g_status status = requests && results ? T2G_OK : t2g_fail(err, T2G_ERR_MEMORY, "out of host memory for critiques");
    for (uint32_t i = 0; i < n && !status; i++)
        requests[i] = (t2g_critic_request){.id = i, .prompt = data->examples[i].prompt, .response = responses[i],
                                           .response_len = lengths[i]};
    if (!status) status = t2g_critic_judge(critic, requests, n, results, err);
    double sum = 0;
    uint32_t judged = 0;
    for (uint32_t i = 0; i < n && !status; i++) {
        if (results[i].ok) sum += results[i].score, judged++;
        t2g_critic_result_free(&results[i]);
    }
    if (!status && judged == 0)
        status = t2g_fail(err, T2G_ERR_IO, "the critic judged none of the %u evaluation responses (the first: %s)", n,
                          results[0].error);
    *score = judged ? sum / judged : 0;
    free(requests);
    free(results);
    return status;
}

/* Greedy responses to the first n prompts, scored into result (after the loss in metrics[0]). */
static t2g_status respond_and_score(t2g_gpt *gpt, t2g_generator *generator, const t2g_text *text, t2g_critic *critic,
                                    const t2g_dataset *data, uint32_t n, uint32_t samples, uint32_t max_new_tokens,
                                    t2g_eval_result *result, t2g_error *err) {
    char **responses = calloc(n, sizeof *responses);
    size_t *lengths = calloc(n, sizeof *lengths);
    const char **references = calloc(n, sizeof *references);
    t2g_status status = T2G_OK;
    if (!responses || !lengths || !references)
        status = t2g_fail(err, T2G_ERR_MEMORY, "out of host memory for %u evaluation rows", n);
    uint32_t context = t2g_gpt_config(gpt)->context;
    for (uint32_t first = 0; first < n && !status; first += EVAL_BATCH) {
        uint32_t count = n - first < EVAL_BATCH ? n - first : EVAL_BATCH;
        const char *prompts[EVAL_BATCH];
        for (uint32_t i = 0; i < count; i++) prompts[i] = data->examples[first + i].prompt;
        status = t2g_eval_respond(generator, text, data->parse_special, prompts, count, context, max_new_tokens,
                                  responses + first, lengths + first, err);
    }
    if (!status) {
        t2g_task_metrics scores;
        for (uint32_t i = 0; i < n; i++) references[i] = data->examples[i].response;
        t2g_reference_evaluate(references, (const char *const *)responses, lengths, n, &scores);
        for (uint32_t k = 0; k < scores.count; k++) {
            result->metrics.names[1 + k] = scores.names[k];
            result->metrics.values[1 + k] = scores.values[k];
        }
        result->metrics.count = 1 + scores.count;
        result->metrics.examples = n;
        status = keep_samples(data, responses, lengths, samples < n ? samples : n, result, err);
    }
    double score = 0;
    if (!status && critic) status = critic_score(critic, data, responses, lengths, n, &score, err);
    if (!status && critic) {
        result->metrics.names[result->metrics.count] = "critic_score";
        result->metrics.values[result->metrics.count++] = score;
    }
    for (uint32_t i = 0; responses && i < n; i++) free(responses[i]);
    free(responses);
    free(lengths);
    free(references);
    return status;
}

t2g_status t2g_evaluate_data(t2g_gpt *gpt, t2g_generator *generator, const t2g_text *text, t2g_critic *critic,
                             const t2g_dataset *data,
                             uint32_t examples, uint32_t samples, uint32_t max_new_tokens, t2g_eval_result *result,
                             t2g_error *err) {
    memset(result, 0, sizeof *result);
    double start = t2g_clock_seconds();
    uint32_t n = examples && examples < data->count ? examples : (uint32_t)(data->count < UINT32_MAX ? data->count : UINT32_MAX);
    if (n == 0) return t2g_fail(err, T2G_ERR_ARGUMENT, "evaluation of 0 rows");
    if (data->is_text) return t2g_fail(err, T2G_ERR_ARGUMENT, "evaluation data must be prompt/response rows, not text");
    double loss = 0;
    t2g_status status = reference_loss(gpt, data, n, &loss, err);
    result->metrics.names[0] = "loss";
    result->metrics.values[0] = loss;
    t2g_generator *own = NULL;
    if (!status && !generator) {
        status = t2g_generator_create(gpt, n < EVAL_BATCH ? n : EVAL_BATCH, &own, err);
        generator = own;
    }
    if (!status) status = respond_and_score(gpt, generator, text, critic, data, n, samples, max_new_tokens, result, err);
    t2g_generator_destroy(own);
    if (status) t2g_eval_result_free(result);
    result->seconds = t2g_clock_seconds() - start;
    return status;
}
