/* The trainer: batches from the data, one optimizer step per submission, checkpoints. */
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "core/clock.h"
#include "t2g/kernels.h"
#include "t2g/rng.h"
#include "t2g/train.h"

#define SLOT_FLOATS 64u /* each micro-batch's loss sum in its own 256-byte slot */

struct t2g_trainer {
    t2g_device *device;
    t2g_config config;
    const t2g_task *task;       /* NULL when the data is a file */
    t2g_dataset dataset;
    t2g_gpt *gpt;
    t2g_recorder *rec;
    t2g_arena *arena;
    uint32_t micro_count;       /* micro-batches per step */
    t2g_batch *batches;         /* (micro_count), host */
    t2g_tensor *inputs, *targets, *weights; /* (micro_count) x (micro_batch, T), device */
    t2g_tensor slots;           /* (micro_count, SLOT_FLOATS): weighted loss sums */
    t2g_tensor norm;            /* (2): grad norm, clip factor */
    float *slot_host;
    uint64_t step;
    t2g_data_cursor cursor;
    t2g_rng rng;
    uint32_t start_crc;         /* model.from's identity (t2g_model_path_crc; 0: initialised) */
    t2g_text *text;             /* the model's tokenizer and chat template */
    char text_note[512];        /* which chat template, for the console */
};

static t2g_status load_data(t2g_trainer *t, t2g_error *err) {
    const t2g_config *c = &t->config;
    if (c->data.task[0]) {
        t->task = t2g_task_find(c->data.task);
        if (!t->task) {
            size_t count;
            const t2g_task *const *tasks = t2g_task_list(&count);
            char names[256] = "";
            for (size_t i = 0; i < count; i++) {
                strncat(names, i ? ", " : "", sizeof names - strlen(names) - 1);
                strncat(names, t2g_task_name(tasks[i]), sizeof names - strlen(names) - 1);
            }
            return t2g_fail(err, T2G_ERR_ARGUMENT, "data.task: no built-in task '%s' (the tasks: %s)", c->data.task, names);
        }
        return t2g_dataset_from_task(t->task, c->data.seed, c->data.examples, &t->dataset, err);
    }
    if (c->data.format == T2G_DATA_TEXT)
        return t2g_dataset_load_text(c->data.path, c->model.context, &t->dataset, err);
    return t2g_dataset_load_jsonl(c->data.path, c->data.max_line_bytes, &t->dataset, err);
}

/* The data as token ids of the model's text. */
static t2g_status tokenize_data(t2g_trainer *t, t2g_error *err) {
    const t2g_config *c = &t->config;
    char source[600];
    if (c->data.task[0]) snprintf(source, sizeof source, "data.task %s", c->data.task);
    else snprintf(source, sizeof source, "%s", c->data.path);
    return t2g_dataset_tokenize(&t->dataset, t->text, c->data.parse_special != 0, c->model.context, source, err);
}

/* The model's text: model.from's tokenizer, or t2g's byte tokenizer for a new model; the chat
 * template chosen by model.chat_template. */
static t2g_status open_text(t2g_trainer *t, t2g_model_source *start, t2g_error *err) {
    if (t->config.model_from[0]) {
        t2g_status status = t2g_model_source_text(start, &t->config, &t->text, t->text_note, sizeof t->text_note, err);
        return status ? t2g_error_context(err, "model.from") : T2G_OK;
    }
    t2g_status status = t2g_text_bytes(&t->text, err);
    if (!status) {
        const char *name = t2g_config_name("model.chat_template", t->config.chat_template);
        status = t2g_text_set_chat(t->text, name, t->config.system_prompt, t->text_note, sizeof t->text_note, err);
    }
    return status;
}

/* Refuses data that would train on nothing: every example's response cut away by the context. */
static t2g_status check_fit(const t2g_trainer *t, t2g_error *err) {
    uint32_t T = t->config.model.context;
    t2g_data_fit fit = t2g_dataset_fit(&t->dataset, T);
    if (fit.examples == 0 || fit.cut_away < fit.examples) return T2G_OK;
    size_t keep = fit.longest < T2G_CONTEXT_MAX ? fit.longest : T2G_CONTEXT_MAX;
    return t2g_fail(err, T2G_ERR_ARGUMENT,
                    "no training example keeps a response token within model.context = %u: every prompt fills the "
                    "context, so the run would train on nothing (--set model.context=%zu keeps every example whole)",
                    T, keep);
}

static t2g_status alloc_buffers(t2g_trainer *t, t2g_error *err) {
    uint32_t Bm = t->config.micro_batch, T = t->config.model.context;
    uint32_t m = t->micro_count;
    t->batches = calloc(m, sizeof *t->batches);
    t->inputs = calloc(m, sizeof *t->inputs);
    t->targets = calloc(m, sizeof *t->targets);
    t->weights = calloc(m, sizeof *t->weights);
    t->slot_host = calloc((size_t)m * SLOT_FLOATS, sizeof *t->slot_host);
    if (!t->batches || !t->inputs || !t->targets || !t->weights || !t->slot_host)
        return t2g_fail(err, T2G_ERR_MEMORY, "out of host memory for the trainer's batches");
    uint64_t per_micro = (uint64_t)Bm * T * 4 + 256;
    t2g_status status =
        t2g_arena_create(t->device, 3 * m * per_micro + 4ull * m * SLOT_FLOATS + 1024, "batches", &t->arena, err);
    for (uint32_t k = 0; k < m && !status; k++) {
        status = t2g_batch_alloc(&t->batches[k], Bm, T, err);
        if (!status) status = t2g_tensor_alloc_f32(t->arena, (uint64_t)Bm * T, &t->inputs[k], err);
        if (!status) status = t2g_tensor_alloc_f32(t->arena, (uint64_t)Bm * T, &t->targets[k], err);
        if (!status) status = t2g_tensor_alloc_f32(t->arena, (uint64_t)Bm * T, &t->weights[k], err);
    }
    if (!status) status = t2g_tensor_alloc_f32(t->arena, (uint64_t)m * SLOT_FLOATS, &t->slots, err);
    if (!status) status = t2g_tensor_alloc_f32(t->arena, 2, &t->norm, err);
    return status;
}

/* model.from (a checkpoint, a run folder or a Hugging Face folder): the start's architecture
 * replaces config->model (its parameters come later). A Hugging Face folder's context is its
 * own, or model.context when the config gives a shorter one. */
static t2g_status start_architecture(t2g_config *config, t2g_model_source *start, t2g_error *err) {
    uint32_t max_context = t2g_config_given(config, "model.context") ? config->model.context : 0;
    if (t2g_model_source_open(config->model_from, max_context, start, err)) return t2g_error_context(err, "model.from");
    char name[1100];
    snprintf(name, sizeof name, "model.from (%s)", config->model_from);
    return t2g_config_take_model(config, &start->config.model, name, err);
}

/* model.from: its parameters; AdamW's moments start at 0 (a new run, not a resume). */
static t2g_status start_parameters(t2g_trainer *t, t2g_model_source *start, t2g_error *err) {
    t2g_status status = t2g_model_source_write(start, t->gpt, false, err);
    if (!status) status = t2g_model_source_crc(start, &t->start_crc, err);
    return status ? t2g_error_context(err, "model.from") : T2G_OK;
}

t2g_status t2g_trainer_create(t2g_device *device, const t2g_config *config_in, t2g_trainer **out, t2g_error *err) {
    *out = NULL;
    t2g_config start_config = *config_in;
    const t2g_config *config = &start_config;
    t2g_model_source start = {0};
    t2g_status status = config->model_from[0] ? start_architecture(&start_config, &start, err) : T2G_OK;
    if (!status) status = t2g_config_validate(config, err);
    if (status) {
        t2g_model_source_close(&start);
        return status;
    }
    t2g_trainer *t = calloc(1, sizeof *t);
    if (!t) {
        t2g_model_source_close(&start);
        return t2g_fail(err, T2G_ERR_MEMORY, "out of host memory creating the trainer");
    }
    t->device = device;
    t->config = *config;
    t->micro_count = config->batch_size / config->micro_batch;
    t->cursor = (t2g_data_cursor){.seed = config->data.seed};
    t->rng = t2g_rng_seeded(config->seed);
    status = open_text(t, &start, err);
    if (!status) status = load_data(t, err);
    if (!status) status = tokenize_data(t, err);
    if (!status && t->dataset.count == 0) status = t2g_fail(err, T2G_ERR_ARGUMENT, "the training data holds no example");
    if (!status) status = check_fit(t, err);
    t2g_model_config model = config->model;
    model.precision = config->precision; /* train.precision */
    model.logit_rows = t2g_logit_rows_for_device(config->logit_rows, model.vocab,
                                                 (uint64_t)config->micro_batch * model.context, t2g_device_get_info(device));
    if (!status) status = t2g_gpt_create(device, &model, config->micro_batch, model.context, &t->gpt, err);
    if (!status) status = t2g_gpt_init(t->gpt, config->seed, err);
    if (!status && config->model_from[0]) status = start_parameters(t, &start, err);
    t2g_model_source_close(&start);
    if (!status) status = t2g_recorder_create(device, NULL, &t->rec, err);
    if (!status) status = alloc_buffers(t, err);
    if (status) {
        t2g_trainer_destroy(t);
        return status;
    }
    *out = t;
    return T2G_OK;
}

void t2g_trainer_destroy(t2g_trainer *t) {
    if (!t) return;
    for (uint32_t k = 0; t->batches && k < t->micro_count; k++) t2g_batch_free(&t->batches[k]);
    free(t->batches);
    free(t->inputs);
    free(t->targets);
    free(t->weights);
    free(t->slot_host);
    t2g_arena_destroy(t->arena);
    t2g_recorder_destroy(t->rec);
    t2g_gpt_destroy(t->gpt);
    t2g_dataset_free(&t->dataset);
    t2g_text_free(t->text);
    free(t);
}

const t2g_text *t2g_trainer_text(const t2g_trainer *t) { return t->text; }

const char *t2g_trainer_text_note(const t2g_trainer *t) { return t->text_note; }

/* The step's micro-batches, from the data to the device. */
static t2g_status prepare_batches(t2g_trainer *t, double *total_weight, uint32_t *truncated, t2g_error *err) {
    *total_weight = 0;
    *truncated = 0;
    for (uint32_t k = 0; k < t->micro_count; k++) {
        t2g_batch *b = &t->batches[k];
        t2g_status status = t2g_dataset_next_batch(&t->dataset, &t->cursor, b, err);
        if (!status && k == 0 && t2g_test_poison_due(t->step + 1)) b->weights[0] = NAN;
        uint64_t bytes = 4ull * b->B * b->T;
        if (!status) status = t2g_tensor_upload(t->inputs[k], b->inputs, bytes, err);
        if (!status) status = t2g_tensor_upload(t->targets[k], b->targets, bytes, err);
        if (!status) status = t2g_tensor_upload(t->weights[k], b->weights, bytes, err);
        if (status) return status;
        *total_weight += b->weight_sum;
        *truncated += b->truncated;
    }
    return T2G_OK;
}

static t2g_status record_step(t2g_trainer *t, double total_weight, double lr, t2g_error *err) {
    uint32_t B = t->config.micro_batch, T = t->config.model.context;
    float dloss = total_weight > 0 ? (float)(1.0 / total_weight) : 0.0f;
    t2g_status status = t2g_gpt_zero_grads(t->gpt, t->rec, err);
    for (uint32_t k = 0; k < t->micro_count && !status; k++) {
        t2g_tensor slot = t2g_tensor_slice(t->slots, (uint64_t)k * SLOT_FLOATS, 1);
        status = t2g_gpt_forward(t->gpt, t->rec, t->inputs[k], B, T, err);
        if (!status) status = t2g_gpt_backward(t->gpt, t->rec, t->targets[k], t->weights[k], B, T, dloss, err);
        if (!status) status = t2g_gpt_loss_sum(t->gpt, t->rec, slot, t->weights[k], B, T, err);
    }
    const t2g_config *c = &t->config;
    t2g_adamw_settings settings = {
        .learning_rate = (float)lr, .beta1 = (float)c->optim.beta1, .beta2 = (float)c->optim.beta2,
        .epsilon = (float)c->optim.epsilon, .weight_decay = (float)c->optim.weight_decay, .step = (uint32_t)t->step + 1};
    if (!status) status = t2g_gpt_update(t->gpt, t->rec, &settings, (float)c->optim.grad_clip, t->norm, err);
    return status;
}

t2g_status t2g_trainer_step(t2g_trainer *t, t2g_step_stats *stats, t2g_error *err) {
    double start = t2g_clock_ms();
    double total_weight;
    uint32_t truncated;
    double lr = t2g_schedule_lr(&t->config, t->step + 1);
    t2g_status status = prepare_batches(t, &total_weight, &truncated, err);
    if (!status) status = record_step(t, total_weight, lr, err);
    if (!status) status = t2g_recorder_submit(t->rec, err);
    float norm[2] = {0, 0};
    if (!status) status = t2g_tensor_download(t->slots, t->slot_host, 4ull * t->micro_count * SLOT_FLOATS, err);
    if (!status) status = t2g_tensor_download(t->norm, norm, sizeof norm, err);
    if (status) return t2g_error_context(err, "training step %llu", (unsigned long long)t->step + 1);
    t->step++;
    double loss_sum = 0;
    for (uint32_t k = 0; k < t->micro_count; k++) loss_sum += t->slot_host[k * SLOT_FLOATS];
    double ms = t2g_clock_ms() - start;
    uint64_t tokens = (uint64_t)t->config.batch_size * t->config.model.context;
    double loss = total_weight > 0 ? loss_sum / total_weight : 0.0;
    *stats = (t2g_step_stats){
        .step = t->step,
        .loss = loss,
        .lr = lr,
        .grad_norm = norm[0],
        .ms = ms,
        .tokens_per_s = ms > 0 ? (double)tokens / (ms * 1e-3) : 0.0,
        .truncated = truncated,
        .nonfinite = t2g_nonfinite_bit(loss, T2G_NONFINITE_LOSS) | t2g_nonfinite_bit(norm[0], T2G_NONFINITE_GRAD_NORM),
        .update_skipped = !isfinite(norm[0]), /* as adamw.comp decided on the device */
    };
    return T2G_OK;
}

t2g_status t2g_trainer_save(t2g_trainer *t, const char *path, t2g_error *err) {
    uint64_t n = t2g_gpt_buffer_floats(t->gpt);
    float *state = malloc(3 * n * sizeof *state);
    char *config = t2g_config_to_json(&t->config);
    if (!state || !config) {
        free(state);
        free(config);
        return t2g_fail(err, T2G_ERR_MEMORY, "out of host memory writing a checkpoint");
    }
    t2g_status status = t2g_gpt_read(t->gpt, state, state + n, state + 2 * n, err);
    const t2g_gpt_param *table;
    uint32_t table_count = t2g_gpt_params(t->gpt, &table);
    t2g_checkpoint checkpoint = {
        .step = t->step, .cursor = t->cursor, .rng_state = t->rng.state, .config_json = config,
        .kind = T2G_RUN_TRAIN, .start_crc = t->start_crc, .table = table, .table_count = table_count,
        .param_count = n, .params = state, .m = state + n, .v = state + 2 * n};
    t2g_checkpoint_set_tokenizer(&checkpoint, t->text);
    if (!status) status = t2g_checkpoint_save(path, &checkpoint, err);
    free(state);
    free(config);
    return status;
}

static bool same_model(const t2g_model_config *a, const t2g_model_config *b) {
    return a->vocab == b->vocab && a->context == b->context && a->layers == b->layers && a->heads == b->heads &&
           a->width == b->width;
}

t2g_status t2g_trainer_resume(t2g_trainer *t, const t2g_checkpoint *checkpoint, t2g_error *err) {
    t2g_config saved = t2g_config_defaults();
    t2g_status status = t2g_config_parse(&saved, checkpoint->config_json, strlen(checkpoint->config_json),
                                         "the checkpoint's config", err);
    if (status) return status;
    const t2g_model_config *m = &saved.model, *want = &t->config.model;
    if (!same_model(m, want))
        return t2g_fail(err, T2G_ERR_ARGUMENT,
                        "the checkpoint holds a model of vocab %u, context %u, %u layers, %u heads, width %u; the run "
                        "asks for vocab %u, context %u, %u layers, %u heads, width %u",
                        m->vocab, m->context, m->layers, m->heads, m->width, want->vocab, want->context, want->layers,
                        want->heads, want->width);
    if (checkpoint->kind != T2G_RUN_TRAIN)
        return t2g_fail(err, T2G_ERR_ARGUMENT, "the checkpoint was written by a t2g %s run, not by t2g train",
                        t2g_run_kind_name(checkpoint->kind));
    status = t2g_checkpoint_match_model(checkpoint, t->gpt, "the checkpoint", err);
    if (!status) status = t2g_gpt_write(t->gpt, checkpoint->params, checkpoint->m, checkpoint->v, err);
    if (status) return status;
    t->start_crc = checkpoint->start_crc;
    t->step = checkpoint->step;
    t->cursor = checkpoint->cursor;
    t->rng.state = checkpoint->rng_state;
    return T2G_OK;
}

uint64_t t2g_trainer_steps_done(const t2g_trainer *t) { return t->step; }
t2g_gpt *t2g_trainer_model(t2g_trainer *t) { return t->gpt; }
const t2g_config *t2g_trainer_config(const t2g_trainer *t) { return &t->config; }
const t2g_dataset *t2g_trainer_dataset(const t2g_trainer *t) { return &t->dataset; }
const t2g_task *t2g_trainer_task(const t2g_trainer *t) { return t->task; }
