/* The trainer, for each architecture: it overfits a 4-example dataset, and resuming from a
 * checkpoint continues the exact loss sequence of an uninterrupted run. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "check.h"
#include "t2g/train.h"

/* A small config on a JSONL file; the caller sets the path. */
static t2g_config small_config(const char *data_path, uint32_t steps, t2g_arch arch) {
    t2g_config c = t2g_config_defaults();
    snprintf(c.name, sizeof c.name, "test");
    c.data.task[0] = 0;
    snprintf(c.data.path, sizeof c.data.path, "%s", data_path);
    c.model = arch == T2G_ARCH_LLAMA ? check_small_llama(24) : (t2g_model_config)T2G_MODEL_GPT2(259, 24, 2, 2, 32);
    c.batch_size = 4;
    c.micro_batch = 2; /* two micro-batches per step: accumulation is part of what is tested */
    c.steps = steps;
    c.schedule.warmup_steps = steps < 5 ? steps : 5;
    c.optim.lr = 1e-2;
    c.optim.weight_decay = 0.0;
    c.eval.examples = 0;
    return c;
}

static bool write_examples(check_ctx *ctx, char *path, size_t size) {
    snprintf(path, size, "/tmp/t2g-train-test-%ld.jsonl", (long)getpid());
    FILE *f = fopen(path, "w");
    if (!f) {
        check_fail(ctx, "cannot write %s", path);
        return false;
    }
    fputs("{\"prompt\": \"12+30=\", \"response\": \"42\"}\n"
          "{\"prompt\": \"hello \", \"response\": \"world\"}\n"
          "{\"prompt\": \"t2g\", \"response\": \" trains on any GPU\"}\n"
          "{\"prompt\": \"\\u00e9t\\u00e9 \", \"response\": \"caf\\u00e9\"}\n",
          f);
    fclose(f);
    return true;
}

static t2g_trainer *make_trainer(check_ctx *ctx, const t2g_config *config) {
    t2g_trainer *trainer = NULL;
    check_status(ctx, t2g_trainer_create(ctx->device, config, &trainer, &ctx->err), "creating the trainer");
    return trainer;
}

static int overfit(check_ctx *ctx, t2g_arch arch) {
    check_case_begin(ctx);
    char path[256];
    if (!write_examples(ctx, path, sizeof path)) return ctx->failures;
    t2g_config config = small_config(path, ctx->quick ? 5 : 150, arch);
    check_status(ctx, t2g_config_validate(&config, &ctx->err), "the config validates");
    t2g_trainer *trainer = make_trainer(ctx, &config);
    double first = 0, last = 0;
    for (uint32_t s = 0; trainer && s < config.steps; s++) {
        t2g_step_stats stats;
        if (!check_status(ctx, t2g_trainer_step(trainer, &stats, &ctx->err), "training step")) break;
        if (s == 0) first = stats.loss;
        last = stats.loss;
    }
    check_log(ctx, "  loss %.4f at step 1, %.4f at step %u", first, last, config.steps);
    if (!ctx->quick) check_true(ctx, last < 0.05, "4 examples are overfitted to a loss below 0.05 (%.4f)", last);
    t2g_trainer_destroy(trainer);
    remove(path);
    return ctx->failures;
}

T2G_CHECK(train_overfit) { return overfit(ctx, T2G_ARCH_GPT2); }
T2G_CHECK(train_overfit_llama) { return overfit(ctx, T2G_ARCH_LLAMA); }

/* Trains `steps` steps, recording each loss's bits. */
static void train(check_ctx *ctx, t2g_trainer *trainer, uint32_t steps, float *losses) {
    for (uint32_t s = 0; s < steps; s++) {
        t2g_step_stats stats;
        if (!check_status(ctx, t2g_trainer_step(trainer, &stats, &ctx->err), "training step")) return;
        losses[s] = (float)stats.loss;
    }
}

static int resume(check_ctx *ctx, t2g_arch arch) {
    check_case_begin(ctx);
    char data[256], ckpt[256];
    if (!write_examples(ctx, data, sizeof data)) return ctx->failures;
    snprintf(ckpt, sizeof ckpt, "/tmp/t2g-resume-test-%ld.bin", (long)getpid());
    const uint32_t half = ctx->quick ? 2 : 10;
    t2g_config config = small_config(data, 2 * half, arch);
    config.micro_batch = 1; /* four micro-batches, and the data cursor crosses epochs */
    float straight[20], resumed[20];

    t2g_trainer *a = make_trainer(ctx, &config);
    if (a) train(ctx, a, 2 * half, straight);
    uint64_t n = a ? t2g_gpt_buffer_floats(t2g_trainer_model(a)) : 0;
    float *params_a = check_host(ctx, n * sizeof(float) + 4), *params_b = check_host(ctx, n * sizeof(float) + 4);
    if (a) check_status(ctx, t2g_gpt_read(t2g_trainer_model(a), params_a, NULL, NULL, &ctx->err), "reading parameters");
    t2g_trainer_destroy(a);

    t2g_trainer *b = make_trainer(ctx, &config);
    if (b) {
        train(ctx, b, half, resumed);
        check_status(ctx, t2g_trainer_save(b, ckpt, &ctx->err), "saving a checkpoint");
    }
    t2g_trainer_destroy(b);
    t2g_trainer *c = make_trainer(ctx, &config); /* a fresh process would start like this */
    t2g_checkpoint checkpoint;
    if (c && check_status(ctx, t2g_checkpoint_load(ckpt, &checkpoint, &ctx->err), "loading the checkpoint")) {
        check_status(ctx, t2g_trainer_resume(c, &checkpoint, &ctx->err), "resuming");
        t2g_checkpoint_free(&checkpoint);
        check_true(ctx, t2g_trainer_steps_done(c) == half, "the resumed trainer is at step %u", half);
        train(ctx, c, half, resumed + half);
        check_status(ctx, t2g_gpt_read(t2g_trainer_model(c), params_b, NULL, NULL, &ctx->err), "reading parameters");
    }
    t2g_trainer_destroy(c);
    check_bitwise(ctx, "losses of 20 steps straight vs 10 + resume + 10", straight, resumed, 2 * half);
    check_bitwise(ctx, "parameters after both", params_a, params_b, n);

    /* A checkpoint of another model is refused, naming both shapes. */
    t2g_config other = config;
    other.model.width = 48;
    other.model.heads = other.model.kv_heads = 3;
    t2g_trainer *d = make_trainer(ctx, &other);
    if (d && check_status(ctx, t2g_checkpoint_load(ckpt, &checkpoint, &ctx->err), "loading the checkpoint")) {
        t2g_status status = t2g_trainer_resume(d, &checkpoint, &ctx->err);
        check_true(ctx, status == T2G_ERR_ARGUMENT && strstr(ctx->err.message, "width 32") && strstr(ctx->err.message, "width 48"),
                   "a checkpoint of another model is refused: %s", ctx->err.message);
        t2g_checkpoint_free(&checkpoint);
    }
    t2g_trainer_destroy(d);
    remove(ckpt);
    remove(data);
    return ctx->failures;
}

T2G_CHECK(resume) { return resume(ctx, T2G_ARCH_GPT2); }
T2G_CHECK(resume_llama) { return resume(ctx, T2G_ARCH_LLAMA); }
