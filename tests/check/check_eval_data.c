/* Users' own data in training: held-out evaluation of a JSONL file (its teacher-forced loss is
 * the loss the trainer reports on the same rows), and data that would train on nothing. */
#include <math.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "check.h"
#include "t2g/train.h"

/* `rows` copies of one example in a file of this process. */
static bool write_rows(check_ctx *ctx, char *path, size_t size, const char *row, int rows) {
    snprintf(path, size, "/tmp/t2g-eval-data-%ld.jsonl", (long)getpid());
    FILE *f = fopen(path, "w");
    if (!f) {
        check_fail(ctx, "cannot write %s", path);
        return false;
    }
    for (int i = 0; i < rows; i++) fprintf(f, "%s\n", row);
    fclose(f);
    return true;
}

static t2g_config small_config(const char *path, uint32_t context) {
    t2g_config c = t2g_config_defaults();
    c.data.task[0] = 0;
    snprintf(c.data.path, sizeof c.data.path, "%s", path);
    c.model = (t2g_model_config)T2G_MODEL_GPT2(259, context, 1, 2, 32);
    c.batch_size = 4;
    c.micro_batch = 2;
    c.steps = 1;
    c.schedule.warmup_steps = 1;
    c.eval.examples = 0;
    return c;
}

T2G_CHECK(eval_data_loss) {
    check_case_begin(ctx);
    char path[256];
    if (!write_rows(ctx, path, sizeof path, "{\"prompt\": \"12+30=\", \"response\": \"42\"}", 4)) return ctx->failures;
    t2g_config config = small_config(path, 16);
    t2g_trainer *trainer = NULL;
    t2g_eval_result result = {0};
    if (check_status(ctx, t2g_trainer_create(ctx->device, &config, &trainer, &ctx->err), "creating the trainer") &&
        check_status(ctx,
                     t2g_evaluate_data(t2g_trainer_model(trainer), NULL, t2g_trainer_text(trainer), NULL, t2g_trainer_dataset(trainer), 0, 2, 4, &result,
                                       &ctx->err),
                     "evaluating the data")) {
        t2g_step_stats stats;
        if (check_status(ctx, t2g_trainer_step(trainer, &stats, &ctx->err), "a training step")) {
            const t2g_task_metrics *m = &result.metrics;
            if (m->count != 4 || strcmp(m->names[0], "loss") || strcmp(m->names[1], "exact_match") ||
                strcmp(m->names[2], "bleu4") || strcmp(m->names[3], "rougeL") || m->examples != 4)
                check_fail(ctx, "expected loss, exact_match, bleu4, rougeL over 4 rows; got %u metrics", m->count);
            else if (!(fabs(m->values[0] - stats.loss) <= 1e-4 * stats.loss))
                check_fail(ctx, "evaluation loss %.6f, but the trainer's loss on the same rows is %.6f", m->values[0],
                           stats.loss);
            if (result.sample_count != 2 || strcmp(result.samples[0].reference, "42") ||
                strcmp(result.samples[0].prompt, "12+30="))
                check_fail(ctx, "expected 2 samples with prompt 12+30= and reference 42");
            check_log(ctx, "evaluation loss %.6f, trainer %.6f\n", m->values[0], stats.loss);
        }
    }
    t2g_eval_result_free(&result);
    t2g_trainer_destroy(trainer);
    unlink(path);
    return ctx->failures;
}

T2G_CHECK(train_on_nothing_refused) {
    check_case_begin(ctx);
    char path[256];
    const char *row = "{\"prompt\": \"a prompt of twenty-eight bytes\", \"response\": \"ok\"}";
    if (!write_rows(ctx, path, sizeof path, row, 3)) return ctx->failures;
    t2g_config config = small_config(path, 16);
    t2g_trainer *trainer = NULL;
    t2g_status status = t2g_trainer_create(ctx->device, &config, &trainer, &ctx->err);
    if (status == T2G_OK || !strstr(ctx->err.message, "--set model.context=33") ||
        !strstr(ctx->err.message, "train on nothing"))
        check_fail(ctx, "every response cut away: expected a refusal naming --set model.context=33, got \"%s\"",
                   status ? ctx->err.message : "success");
    t2g_trainer_destroy(trainer);
    config.model.context = 31; /* the prompt's last byte predicts the first response byte: one target left */
    trainer = NULL;
    check_status(ctx, t2g_trainer_create(ctx->device, &config, &trainer, &ctx->err), "a trainer with one target left");
    t2g_trainer_destroy(trainer);
    unlink(path);
    return ctx->failures;
}
