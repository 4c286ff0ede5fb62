/* The RL engine's lifecycle: the policy and its frozen reference from one SFT checkpoint, the
 * value head, the critic, the buffers; a step; checkpoints. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "core/clock.h"
#include "rl_internal.h"
#include "t2g/train.h"

static t2g_status check_shapes(const t2g_config *c, t2g_error *err) {
    uint64_t R = (uint64_t)c->rl.prompts * c->rl.samples_per_prompt;
    if (R % c->micro_batch) {
        uint32_t fits = c->micro_batch; /* the largest micro-batch below it that divides R */
        while (R % fits) fits--;
        return t2g_fail(err, T2G_ERR_FORMAT,
                        "rl.prompts x rl.samples_per_prompt (%llu responses a step) must be a multiple of "
                        "train.micro_batch (%u): --set train.micro_batch=%u",
                        (unsigned long long)R, c->micro_batch, fits);
    }
    if ((R / c->micro_batch) % c->rl.minibatches)
        return t2g_fail(err, T2G_ERR_FORMAT,
                        "the %llu micro-batches of a step (rl.prompts x rl.samples_per_prompt / train.micro_batch) must "
                        "divide into rl.minibatches (%u)",
                        (unsigned long long)(R / c->micro_batch), c->rl.minibatches);
    if (!c->rl.start[0])
        return t2g_fail(err, T2G_ERR_FORMAT, "rl.start is empty: name the SFT checkpoint the policy starts from");
    if (c->critic.kind == T2G_CRITIC_BUILTIN && !c->data.task[0])
        return t2g_fail(err, T2G_ERR_FORMAT, "critic.kind \"builtin\" needs a built-in task (data.task)");
    if (c->critic.kind == T2G_CRITIC_EXTERNAL && t2g_critic_check_command(c->critic.command, err))
        return t2g_error_context(err, "critic.command");
    return T2G_OK;
}

static t2g_status load_prompts(t2g_rl *rl, t2g_error *err) {
    const t2g_config *c = &rl->config;
    if (c->data.task[0]) {
        rl->task = t2g_task_find(c->data.task);
        if (!rl->task) return t2g_fail(err, T2G_ERR_ARGUMENT, "data.task: no built-in task '%s' (arith, facts)", c->data.task);
        return T2G_OK;
    }
    t2g_status status = t2g_dataset_load_prompts(c->data.path, c->data.max_line_bytes, &rl->prompts, err);
    if (!status && rl->prompts.count == 0)
        status = t2g_fail(err, T2G_ERR_ARGUMENT, "%s holds no prompt", c->data.path);
    return status;
}

/* The policy and the reference from rl.start (a checkpoint, a run folder or a Hugging Face folder,
 * whose context is its own or model.context when the config gives a shorter one); the policy's
 * AdamW moments start at 0. */
static t2g_status load_models(t2g_rl *rl, t2g_error *err) {
    const t2g_config *c = &rl->config;
    uint32_t max_context = t2g_config_given(c, "model.context") ? c->model.context : 0;
    t2g_model_source start;
    if (t2g_model_source_open(c->rl.start, max_context, &start, err)) return t2g_error_context(err, "rl.start");
    const t2g_model_config *model = &start.config.model;
    t2g_model_config trained = *model;
    trained.precision = c->precision; /* train.precision, for the policy and the reference alike */
    trained.logit_rows = t2g_logit_rows_for_device(c->logit_rows, trained.vocab, (uint64_t)c->micro_batch * model->context,
                                                   t2g_device_get_info(rl->device));
    t2g_status status = t2g_gpt_create(rl->device, &trained, c->micro_batch, model->context, &rl->policy, err);
    if (!status)
        status = t2g_gpt_create_frozen(rl->device, &trained, c->micro_batch, model->context, &rl->reference, err);
    if (!status) status = t2g_model_source_write(&start, rl->policy, false, err);
    if (!status) status = t2g_model_source_write(&start, rl->reference, false, err);
    if (!status) status = t2g_model_source_crc(&start, &rl->start_crc, err);
    if (!status) status = t2g_model_source_text(&start, &rl->config, &rl->text, rl->text_note, sizeof rl->text_note, err);
    if (status) {
        t2g_model_source_close(&start);
        return t2g_error_context(err, "rl.start");
    }
    char name[600];
    snprintf(name, sizeof name, "rl.start (%s)", c->rl.start);
    status = t2g_config_take_model(&rl->config, model, name, err);
    t2g_model_source_close(&start);
    return status;
}

static t2g_status alloc_buffers(t2g_rl *rl, t2g_error *err) {
    uint64_t mT = (uint64_t)rl->m * rl->T, MS = (uint64_t)rl->M * rl->S, C = rl->C;
    const t2g_tensor_request requests[] = {
        {&rl->old_logprobs, MS}, {&rl->old_values, MS}, {&rl->ref_logprobs, MS}, {&rl->kl_full, MS},
        {&rl->scores, MS},       {&rl->mask, MS},       {&rl->rewards, MS},      {&rl->kl, MS},
        {&rl->advantages, MS},   {&rl->returns, MS},    {&rl->stats, 4 * MS},    {&rl->logprobs, mT},
        {&rl->entropy, mT},      {&rl->values, mT},     {&rl->policy_weights, mT}, {&rl->dvalues, mT},
        {&rl->dhidden, mT * C},  {&rl->head, C + 1},    {&rl->head_grad, C + 1}, {&rl->head_m, C + 1},
        {&rl->head_v, C + 1},    {&rl->head_norm, 2},   {&rl->policy_norm, 2}, {&rl->entropy_sums, 64ull * rl->M},
    };
    size_t fixed = sizeof requests / sizeof requests[0];
    size_t count = fixed + 5 * (size_t)rl->M;
    t2g_tensor_request *all = calloc(count, sizeof *all);
    rl->micro = calloc(rl->M, sizeof *rl->micro);
    if (!all || !rl->micro) {
        free(all);
        return t2g_fail(err, T2G_ERR_MEMORY, "out of host memory for the RL buffers");
    }
    memcpy(all, requests, sizeof requests);
    for (uint32_t k = 0; k < rl->M; k++) {
        rl_micro *x = &rl->micro[k];
        t2g_tensor_request mine[] = {{&x->inputs, mT}, {&x->targets, mT}, {&x->ranges, 4 * mT},
                                     {&x->range_offsets, rl->m + 1}, {&x->bounds, 2ull * rl->m}};
        memcpy(all + fixed + 5 * k, mine, sizeof mine);
    }
    t2g_status status = t2g_arena_create_for(rl->device, "rl", all, count, &rl->arena, err);
    free(all);
    if (status) return status;
    /* each micro-batch's views of the rollout-wide buffers */
    for (uint32_t k = 0; k < rl->M; k++) {
        rl_micro *x = &rl->micro[k];
        t2g_tensor *wide[] = {&rl->old_logprobs, &rl->old_values, &rl->ref_logprobs, &rl->kl_full, &rl->scores,
                              &rl->mask, &rl->rewards, &rl->kl, &rl->advantages, &rl->returns};
        t2g_tensor *view[] = {&x->old_logprobs, &x->old_values, &x->ref_logprobs, &x->kl_full, &x->scores,
                              &x->mask, &x->rewards, &x->kl, &x->advantages, &x->returns};
        for (size_t i = 0; i < sizeof wide / sizeof wide[0]; i++)
            *view[i] = t2g_tensor_slice(*wide[i], (uint64_t)k * rl->S, mT);
        x->stats = t2g_tensor_slice(rl->stats, 4ull * k * rl->S, 4ull * rl->S);
    }
    /* the value head starts at 0: values 0, and no gradient into the model until it learns */
    float *zeros = calloc(C + 1, sizeof *zeros);
    if (!zeros) return t2g_fail(err, T2G_ERR_MEMORY, "out of host memory");
    t2g_tensor *head[] = {&rl->head, &rl->head_m, &rl->head_v};
    for (int i = 0; i < 3 && !status; i++) status = t2g_tensor_upload(*head[i], zeros, 4 * (C + 1), err);
    free(zeros);
    return status;
}

t2g_status t2g_rl_create(t2g_device *device, const t2g_config *config, t2g_rl **out, t2g_error *err) {
    *out = NULL;
    t2g_status status = t2g_config_validate(config, err);
    if (!status) status = check_shapes(config, err);
    if (status) return status;
    t2g_rl *rl = calloc(1, sizeof *rl);
    if (!rl) return t2g_fail(err, T2G_ERR_MEMORY, "out of host memory creating the RL engine");
    rl->device = device;
    rl->config = *config;
    rl->beta = config->rl.kl_beta;
    status = load_prompts(rl, err);
    if (!status) status = load_models(rl, err);
    if (!status) {
        rl->R = config->rl.prompts * config->rl.samples_per_prompt;
        rl->m = config->micro_batch;
        rl->M = rl->R / rl->m;
        rl->T = rl->config.model.context;
        rl->C = rl->config.model.width;
        rl->S = (rl->m * rl->T + 63) / 64 * 64;
        status = t2g_critic_from_config(&rl->config, rl->task, device, &rl->critic, err);
    }
    if (!status) {
        status = t2g_generator_create(rl->policy, rl->R, &rl->generator, err);
        if (status)
            t2g_error_context(err, "the rollouts' generator for rl.prompts x rl.samples_per_prompt = %u x %u responses",
                              config->rl.prompts, config->rl.samples_per_prompt);
    }
    if (!status) status = t2g_recorder_create(device, NULL, &rl->rec, err);
    if (!status) status = alloc_buffers(rl, err);
    if (status) {
        t2g_rl_destroy(rl);
        return status;
    }
    *out = rl;
    return T2G_OK;
}

void t2g_rl_destroy(t2g_rl *rl) {
    if (!rl) return;
    rl_samples_free(rl);
    rl_batch_free(&rl->batch);
    free(rl->micro);
    t2g_arena_destroy(rl->arena);
    t2g_recorder_destroy(rl->rec);
    t2g_generator_destroy(rl->generator);
    t2g_critic_destroy(rl->critic);
    t2g_gpt_destroy(rl->reference);
    t2g_gpt_destroy(rl->policy);
    t2g_dataset_free(&rl->prompts);
    t2g_text_free(rl->text);
    free(rl);
}

/* Adaptive KL control (as TRL's AdaptiveKLController, Ziegler et al. 2019): beta follows the
 * ratio of the observed KL per response to the target, over a horizon of responses. */
static void adapt_beta(t2g_rl *rl, double kl) {
    const t2g_config *c = &rl->config;
    if (c->rl.kl_target <= 0) return;
    double error = kl / c->rl.kl_target - 1.0;
    if (error > 0.2) error = 0.2;
    if (error < -0.2) error = -0.2;
    rl->beta *= 1.0 + error * (double)rl->R / c->rl.kl_horizon;
}

/* A step with no critique at all has nothing to learn from: the critic is broken, not the
 * samples. When every failure was a timeout, the usual cause is a critic whose stdout is a
 * pipe, block-buffered: its replies wait in its buffer until it is killed. */
static t2g_status every_critique_failed(t2g_rl *rl, t2g_error *err) {
    const rl_batch *b = &rl->batch;
    if (b->timeouts == b->failures && rl->config.critic.kind != T2G_CRITIC_EXTERNAL)
        return t2g_fail(err, T2G_ERR_IO,
                        "every one of the %u critiques timed out (first: %s); is the critic's server up and answering? "
                        "else raise critic.timeout_ms",
                        b->failures, b->first_failure);
    if (b->timeouts == b->failures)
        return t2g_fail(err, T2G_ERR_IO,
                        "every one of the %u critiques timed out (first: %s); if the critic answers when run by hand, "
                        "its stdout is probably block-buffered: flush after each reply line (Python: print(..., "
                        "flush=True) or python3 -u; C: fflush(stdout); any program: stdbuf -oL), or raise "
                        "critic.timeout_ms",
                        b->failures, b->first_failure);
    return t2g_fail(err, T2G_ERR_IO, "every one of the %u critiques failed, nothing to learn from (first: %s)", b->failures,
                    b->first_failure);
}

t2g_status t2g_rl_set_critic_log(t2g_rl *rl, const char *path, t2g_error *err) {
    return t2g_critic_set_log(rl->critic, path, err);
}

t2g_status t2g_rl_step(t2g_rl *rl, t2g_rl_stats *stats, t2g_error *err) {
    double start = t2g_clock_seconds(), rollout_seconds = 0;
    rl->critic_seen = *t2g_critic_get_stats(rl->critic); /* what evaluations since asked is not this step's */
    memset(stats, 0, sizeof *stats);
    stats->beta = rl->beta;
    uint64_t prompt_cursor = rl->prompt_cursor; /* a step that fails or is abandoned hands out no prompt */
    t2g_status status = rl_rollout(rl, &rollout_seconds, err);
    if (!status && t2g_interrupt_requested())
        status = t2g_fail(err, T2G_ERR_INTERRUPTED, "interrupted during the rollout: nothing of the step was applied");
    if (!status && rl->batch.failures == rl->R) status = every_critique_failed(rl, err);
    if (!status) status = rl_score(rl, stats, err);
    stats->nonfinite = t2g_nonfinite_bit(stats->reward, T2G_NONFINITE_REWARD) |
                       t2g_nonfinite_bit(stats->kl, T2G_NONFINITE_KL) |
                       t2g_nonfinite_bit(stats->token_score, T2G_NONFINITE_TOKEN_SCORE) |
                       t2g_nonfinite_bit(stats->entropy, T2G_NONFINITE_ENTROPY);
    double train_start = t2g_clock_seconds();
    /* From a rollout with non-finite values no update is recorded at all (its gradients would
     * be NaN and the GPU gate would skip every update anyway). */
    bool rollout_finite = stats->nonfinite == 0;
    if (!status && rollout_finite) status = rl_optimize(rl, stats, err);
    if (!rollout_finite) { /* PPO never ran: its figures are unknown, not 0 */
        stats->update_skipped = true;
        stats->policy_loss = stats->value_loss = stats->clip_fraction = stats->approx_kl = NAN;
    }
    if (status) {
        rl->prompt_cursor = prompt_cursor;
        return t2g_error_context(err, "RL step %llu", (unsigned long long)rl->step + 1);
    }
    double train_seconds = t2g_clock_seconds() - train_start;
    rl->step++;
    stats->step = rl->step;
    stats->spans = rl->spans;
    stats->critic_failures = rl->batch.failures;
    stats->critic_stray = t2g_critic_get_stats(rl->critic)->stray;
    stats->critic_ms = rl->batch.critic_ms;
    stats->critic = t2g_critic_stats_since(t2g_critic_get_stats(rl->critic), &rl->critic_seen);
    memcpy(stats->first_failure, rl->batch.first_failure, sizeof stats->first_failure);
    stats->rollout_tokens_per_s = rollout_seconds > 0 ? (double)rl->batch.generated_tokens / rollout_seconds : 0;
    uint64_t trained = (uint64_t)rl->R * rl->T * rl->config.rl.ppo_epochs;
    stats->train_tokens_per_s = train_seconds > 0 ? (double)trained / train_seconds : 0;
    stats->ms = (t2g_clock_seconds() - start) * 1e3;
    if (!(stats->nonfinite & T2G_NONFINITE_KL)) adapt_beta(rl, stats->kl); /* a NaN beta would poison every later step */
    return T2G_OK;
}

t2g_status t2g_rl_save(t2g_rl *rl, const char *path, t2g_error *err) {
    uint64_t n = t2g_gpt_buffer_floats(rl->policy), h = rl->C + 1;
    float *state = malloc((3 * n + 3 * h) * sizeof *state);
    char *config = t2g_config_to_json(&rl->config);
    t2g_status status = state && config ? T2G_OK : t2g_fail(err, T2G_ERR_MEMORY, "out of host memory saving");
    float *head = state ? state + 3 * n : NULL;
    if (!status) status = t2g_gpt_read(rl->policy, state, state + n, state + 2 * n, err);
    if (!status) status = t2g_tensor_download(rl->head, head, 4 * h, err);
    if (!status) status = t2g_tensor_download(rl->head_m, head + h, 4 * h, err);
    if (!status) status = t2g_tensor_download(rl->head_v, head + 2 * h, 4 * h, err);
    const t2g_gpt_param *table;
    uint32_t table_count = t2g_gpt_params(rl->policy, &table);
    t2g_checkpoint checkpoint = {
        .step = rl->step, .cursor = {rl->config.data.seed, 0, rl->prompt_cursor}, .rng_state = rl->config.seed,
        .table = table, .table_count = table_count,
        .config_json = config, .param_count = n, .params = state, .m = state + n, .v = state + 2 * n,
        .aux_count = h, .aux_params = head, .aux_m = head + h, .aux_v = head + 2 * h, .aux_scalar = rl->beta,
        .kind = T2G_RUN_RL, .start_crc = rl->start_crc};
    t2g_checkpoint_set_tokenizer(&checkpoint, rl->text);
    if (!status) status = t2g_checkpoint_save(path, &checkpoint, err);
    free(state);
    free(config);
    return status;
}

t2g_status t2g_rl_resume(t2g_rl *rl, const t2g_checkpoint *checkpoint, t2g_error *err) {
    uint64_t h = rl->C + 1;
    if (checkpoint->kind != T2G_RUN_RL)
        return t2g_fail(err, T2G_ERR_ARGUMENT, "the checkpoint was written by a t2g %s run, not by t2g rl",
                        t2g_run_kind_name(checkpoint->kind));
    if (checkpoint->start_crc && checkpoint->start_crc != rl->start_crc)
        return t2g_fail(err, T2G_ERR_ARGUMENT,
                        "rl.start %s is not the checkpoint this run started from (its CRC-32 is now 0x%08x, the run "
                        "recorded 0x%08x): the frozen reference would change mid-run; put the original back, or start a "
                        "new run from it",
                        rl->config.rl.start, rl->start_crc, checkpoint->start_crc);
    if (checkpoint->param_count != t2g_gpt_buffer_floats(rl->policy) || checkpoint->aux_count != h)
        return t2g_fail(err, T2G_ERR_ARGUMENT,
                        "the checkpoint holds %llu parameters and %llu of a value head; this RL run has %llu and %llu "
                        "(is it an RL checkpoint of this model?)",
                        (unsigned long long)checkpoint->param_count, (unsigned long long)checkpoint->aux_count,
                        (unsigned long long)t2g_gpt_buffer_floats(rl->policy), (unsigned long long)h);
    t2g_status status = t2g_checkpoint_match_model(checkpoint, rl->policy, "the checkpoint", err);
    if (!status) status = t2g_gpt_write(rl->policy, checkpoint->params, checkpoint->m, checkpoint->v, err);
    if (!status) status = t2g_tensor_upload(rl->head, checkpoint->aux_params, 4 * h, err);
    if (!status) status = t2g_tensor_upload(rl->head_m, checkpoint->aux_m, 4 * h, err);
    if (!status) status = t2g_tensor_upload(rl->head_v, checkpoint->aux_v, 4 * h, err);
    if (status) return status;
    rl->step = checkpoint->step;
    rl->prompt_cursor = checkpoint->cursor.position;
    rl->beta = checkpoint->aux_scalar;
    return T2G_OK;
}

const t2g_config *t2g_rl_config(const t2g_rl *rl) { return &rl->config; }
t2g_critic *t2g_rl_critic(t2g_rl *rl) { return rl->critic; }
t2g_rl_memory t2g_rl_device_memory(const t2g_rl *rl) {
    return (t2g_rl_memory){t2g_generator_device_bytes(rl->generator), rl->R, t2g_critic_device_bytes(rl->critic)};
}
uint64_t t2g_rl_steps_done(const t2g_rl *rl) { return rl->step; }
t2g_gpt *t2g_rl_policy(t2g_rl *rl) { return rl->policy; }

const t2g_text *t2g_rl_text(const t2g_rl *rl) { return rl->text; }

const char *t2g_rl_text_note(const t2g_rl *rl) { return rl->text_note; }
const t2g_task *t2g_rl_task(const t2g_rl *rl) { return rl->task; }
uint32_t t2g_rl_samples(const t2g_rl *rl, const t2g_rl_sample **samples) {
    *samples = rl->samples;
    return rl->sample_count;
}
