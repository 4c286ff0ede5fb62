/* Rules between settings: which keys were given, the clamps of coupled settings (each with a
 * note), the model a run takes from its start, how a dataset fits a context, and the scores
 * against reference texts of eval.path. */
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "check.h"
#include "t2g/config.h"
#include "t2g/dataset.h"
#include "t2g/tasks.h"

static void expect(check_ctx *ctx, bool ok, const char *what) {
    if (!ok) check_fail(ctx, "%s", what);
}

T2G_HOST_CHECK(config_given) {
    check_case_begin(ctx);
    t2g_config c = t2g_config_defaults();
    expect(ctx, !t2g_config_given(&c, "model.layers"), "a default is not given");
    const char *json = "{\"model\": {\"layers\": 2}}";
    check_status(ctx, t2g_config_parse(&c, json, strlen(json), "test", &ctx->err), "parsing");
    check_status(ctx, t2g_config_set(&c, "eval.path=held.jsonl", &ctx->err), "--set");
    expect(ctx, t2g_config_given(&c, "model.layers"), "a key of the file is given, even at its default value");
    expect(ctx, t2g_config_given(&c, "eval.path"), "a --set key is given");
    expect(ctx, !t2g_config_given(&c, "model.width") && !t2g_config_given(&c, "no.such"), "others are not");
    return ctx->failures;
}

T2G_HOST_CHECK(config_adjust) {
    check_case_begin(ctx);
    t2g_config c = t2g_config_defaults();
    c.steps = 1;
    c.schedule.warmup_steps = 100;
    t2g_config_notes notes;
    t2g_config_adjust(&c, false, &notes);
    expect(ctx, c.schedule.warmup_steps == 1 && notes.count == 1, "warm-up longer than the run becomes the run");
    expect(ctx, strstr(notes.text[0], "schedule.warmup_steps (100)") != NULL, "the note names the key and its value");
    check_status(ctx, t2g_config_validate(&c, &ctx->err), "the adjusted config validates");

    c = t2g_config_defaults(); /* micro_batch 32 */
    c.rl.prompts = 2;
    c.rl.samples_per_prompt = 3;
    t2g_config_adjust(&c, true, &notes);
    expect(ctx, c.micro_batch == 6 && notes.count == 1 && strstr(notes.text[0], "train.micro_batch (32)"),
           "an RL micro-batch larger than rl.prompts x rl.samples_per_prompt becomes that batch, with a note");
    check_status(ctx, t2g_config_validate(&c, &ctx->err), "the adjusted RL config validates");

    c = t2g_config_defaults();
    c.batch_size = 8;
    t2g_config_adjust(&c, false, &notes);
    expect(ctx, c.micro_batch == 8 && notes.count == 1, "a training micro-batch larger than the batch becomes the batch");
    c = t2g_config_defaults();
    t2g_config_adjust(&c, false, &notes);
    expect(ctx, notes.count == 0 && c.micro_batch == 32 && c.schedule.warmup_steps == 20, "the defaults stay as they are");
    return ctx->failures;
}

T2G_HOST_CHECK(config_take_model) {
    check_case_begin(ctx);
    t2g_model_config start = T2G_MODEL_GPT2(259, 16, 1, 2, 32);
    t2g_config c = t2g_config_defaults(); /* context 64, 2 layers, ...: defaults, not given */
    check_status(ctx, t2g_config_take_model(&c, &start, "rl.start (sft)", &ctx->err), "defaults give way");
    expect(ctx, memcmp(&c.model, &start, sizeof start) == 0, "the run takes the start's model");

    c = t2g_config_defaults();
    check_status(ctx, t2g_config_set(&c, "model.layers=1", &ctx->err), "--set");
    check_status(ctx, t2g_config_take_model(&c, &start, "rl.start (sft)", &ctx->err), "a key given as the start's");

    c = t2g_config_defaults();
    check_status(ctx, t2g_config_set(&c, "model.width=64", &ctx->err), "--set");
    t2g_status status = t2g_config_take_model(&c, &start, "rl.start (sft)", &ctx->err);
    expect(ctx, status && strstr(ctx->err.message, "model.width") && strstr(ctx->err.message, "is 32") &&
                    strstr(ctx->err.message, "gives 64") && strstr(ctx->err.message, "rl.start (sft)"),
           "a conflicting model key: an error naming the key, the start's value and the given one");
    c = t2g_config_defaults();
    check_status(ctx, t2g_config_set(&c, "model.context=32", &ctx->err), "--set");
    status = t2g_config_take_model(&c, &start, "rl.start (sft)", &ctx->err);
    expect(ctx, status && strstr(ctx->err.message, "model.context") && strstr(ctx->err.message, "16"),
           "a context beyond the start's: an error naming the start's");
    return ctx->failures;
}

T2G_HOST_CHECK(dataset_fit) {
    check_case_begin(ctx);
    t2g_example examples[] = {
        {"abc", 3, "de", 2, NULL, 0, NULL, 0},     /* needs 3 + 2 + 1 = 6 */
        {"abcdef", 6, "g", 1, NULL, 0, NULL, 0},   /* needs 8; cut away at T <= 6 */
        {"", 0, "xyz", 3, NULL, 0, NULL, 0},       /* needs 4 */
    };
    t2g_dataset d = {.examples = examples, .count = 3};
    t2g_data_fit fit = t2g_dataset_fit(&d, 6);
    expect(ctx, fit.examples == 3 && fit.cut == 1 && fit.cut_away == 1 && fit.longest == 8, "T = 6: one cut away");
    fit = t2g_dataset_fit(&d, 7);
    expect(ctx, fit.cut == 1 && fit.cut_away == 0, "T = 7: one cut, its first response target kept");
    fit = t2g_dataset_fit(&d, 8);
    expect(ctx, fit.cut == 0 && fit.cut_away == 0, "T = longest: nothing cut");
    fit = t2g_dataset_fit(&d, 3);
    expect(ctx, fit.cut == 3 && fit.cut_away == 2, "T = 3: all cut, two of them away");
    d.is_text = 1;
    fit = t2g_dataset_fit(&d, 2);
    expect(ctx, fit.cut == 0 && fit.cut_away == 0, "text chunks are never counted as cut");
    return ctx->failures;
}

T2G_HOST_CHECK(reference_metrics) {
    check_case_begin(ctx);
    const char *references[] = {"the cat sat on the mat", "42"};
    const char *responses[] = {"  the cat sat on the mat\n", "41"};
    size_t lens[] = {strlen(responses[0]), strlen(responses[1])};
    t2g_task_metrics m;
    t2g_reference_evaluate(references, responses, lens, 2, &m);
    expect(ctx, m.count == 3 && strcmp(m.names[0], "exact_match") == 0 && strcmp(m.names[1], "bleu4") == 0 &&
                    strcmp(m.names[2], "rougeL") == 0 && m.examples == 2,
           "metrics exact_match, bleu4, rougeL over 2 examples");
    expect(ctx, fabs(m.values[0] - 0.5) < 1e-12, "exact match ignores surrounding whitespace: 1 of 2");
    expect(ctx, fabs(m.values[2] - 0.5) < 1e-12, "ROUGE-L: 1 and 0, mean 0.5");
    t2g_reference_score(references[0], responses[0], lens[0], &m);
    expect(ctx, m.values[0] == 1.0 && fabs(m.values[1] - 1.0) < 1e-12 && fabs(m.values[2] - 1.0) < 1e-12,
           "an identical response scores 1 on each");
    t2g_reference_score("42", "", 0, &m);
    expect(ctx, m.values[0] == 0.0 && m.values[1] == 0.0 && m.values[2] == 0.0, "an empty response scores 0");
    return ctx->failures;
}
