/* t2g eval --ckpt C|--model M [--task T | --data FILE]: a model's metrics on a built-in task or on
 * held-out prompt/response rows. */
#include <cjson/cJSON.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "t2g/train.h"

static const char HELP[] =
    "usage: t2g eval --ckpt CHECKPOINT|RUN | --model MODEL [--task TASK | --data FILE] [--practised] [--n N] [--seed S]\n"
    "                [--max-new N] [--context N] [--chat-template NAME] [--system-prompt TEXT]\n"
    "                [--device N|NAME] [--json]\n"
    "\n"
    "Scores a checkpoint: greedy responses to N held-out prompts of a built-in task (the task's\n"
    "evaluation stream for the seed), with the task's metrics (arith: exact_match; facts: bleu4,\n"
    "rougeL, fact_precision, fact_recall); or to the prompts of a JSONL file of prompt/response\n"
    "rows, with the teacher-forced loss of the responses, exact_match, bleu4 and rougeL.\n"
    "\n"
    "  --ckpt C       a checkpoint, or a run folder (its checkpoint.bin)\n"
    "  --model M      any model instead: a checkpoint, a run folder, a Hugging Face folder or a GGUF\n"
    "                 file (as t2g sample takes); it names no task: give --task or --data\n"
    "  --task T       arith or facts (default: the checkpoint's data.task)\n"
    "  --data FILE    held-out JSONL rows {\"prompt\": ..., \"response\": ...} instead of a task\n"
    "  --practised    the prompts the run trained on instead: examples 0..N-1 of the training stream\n"
    "                 (an RL run's prompt pool is the first data.examples of them)\n"
    "  --n N          examples (default 200; with --practised, the checkpoint's data.examples; with\n"
    "                 --data, every row)\n"
    "  --seed S       the data seed whose stream is used (default: the checkpoint's data.seed)\n"
    "  --max-new N    longest response in tokens (default: the checkpoint's eval.max_new_tokens)\n"
    "  --context N    a Hugging Face folder's or GGUF file's context at most N (default: its own)\n"
    "  --chat-template N\n"
    "                 auto|none|chatml|llama3: how each prompt (of the task or --data) is wrapped,\n"
    "                 instead of the model's own (a run's model.chat_template; else auto: the\n"
    "                 template its tokenizer names); none: BOS (if the tokenizer adds one) and the\n"
    "                 prompt. Only BPE tokenizers have templates: t2g's byte models (the built-in\n"
    "                 tasks' own runs) take only auto or none, and no --system-prompt\n"
    "  --system-prompt T\n"
    "                 the system turn (default: the run's model.system_prompt, else the template's\n"
    "                 own, if any; none with --chat-template none)\n"
    "  --json         one JSON object on standard output\n"
    "\n"
    "example: t2g eval --ckpt runs/arith-20261127-120000 --n 500\n"
    "         t2g eval --ckpt runs/mine-20261127-120000 --data held_out.jsonl\n"
    "         t2g eval --model exported/ --data held_out.jsonl\n"
    "         t2g eval --model smollm2.gguf --data held_out.jsonl --chat-template none\n";

#define EVAL_DATA_BATCH 16u /* rows per forward of the loss on --data */

/* The built-in task of the request, or the checkpoint's data.task. */
static int resolve_task(cli_eval_request *request, const t2g_config *config) {
    if (request->task || request->data) return EXIT_OK;
    request->task = config->data.task[0] ? t2g_task_find(config->data.task) : NULL;
    if (request->task) return EXIT_OK;
    if (config->data.task[0]) cli_error("eval: the checkpoint's data.task '%s' is no built-in task; give --task or --data", config->data.task);
    else if (!config->data.path[0]) cli_error("eval: the model names no task or data (a Hugging Face folder): give --task or --data FILE");
    else cli_error("eval: the checkpoint trained on data.path %s, not a built-in task: give --data FILE (held-out rows) or --task", config->data.path);
    return EXIT_USAGE;
}

static int evaluate_data(t2g_gpt *gpt, const t2g_text *text, const t2g_config *config,
                         const cli_eval_request *request, uint32_t max_new, t2g_eval_result *result) {
    t2g_dataset data = {0};
    t2g_error err = {0};
    if (t2g_dataset_load_jsonl(request->data, t2g_config_defaults().data.max_line_bytes, &data, &err) ||
        t2g_dataset_tokenize(&data, text, config->data.parse_special != 0, config->model.context, request->data, &err)) {
        cli_error("eval: --data: %s", err.message);
        t2g_dataset_free(&data);
        return EXIT_USAGE;
    }
    t2g_status status = t2g_evaluate_data(gpt, NULL, text, NULL, &data, request->examples, 3, max_new, result, &err);
    t2g_dataset_free(&data);
    if (!status) return EXIT_OK;
    cli_error("eval: %s", err.message);
    return EXIT_FAILED;
}

int cli_eval_checkpoint(t2g_device *device, const char *ckpt, cli_eval_request *request, t2g_eval_result *result) {
    t2g_gpt *gpt = NULL;
    t2g_text *text = NULL;
    t2g_config config;
    t2g_error err = {0};
    char chosen[512];
    if (t2g_model_load_frozen_text(device, ckpt, request->context, request->data ? EVAL_DATA_BATCH : 1, 0, &gpt, &config, &text, chosen,
                                   sizeof chosen, &err)) {
        cli_error("eval: %s", err.message);
        return EXIT_USAGE;
    }
    uint32_t max_new = request->max_new_tokens ? request->max_new_tokens : config.eval.max_new_tokens;
    int code = cli_text_chat("eval", text, &config, request->chat_template, request->system_prompt, chosen);
    if (!code) code = resolve_task(request, &config);
    if (!code && request->data) code = evaluate_data(gpt, text, &config, request, max_new, result);
    if (code || request->data) {
        t2g_gpt_destroy(gpt);
        t2g_text_free(text);
        return code;
    }
    uint64_t seed = request->seed ? *request->seed : config.data.seed;
    uint32_t examples = request->examples ? request->examples : request->practised ? config.data.examples : 200;
    if (request->practised && examples > 100000) examples = 100000;
    t2g_status status = request->practised
                            ? t2g_evaluate_stream(gpt, NULL, text, request->task, seed, examples, 3, max_new, result, &err)
                            : t2g_evaluate(gpt, NULL, text, request->task, seed, examples, 3, max_new, result, &err);
    t2g_gpt_destroy(gpt);
    t2g_text_free(text);
    if (!status) return EXIT_OK;
    cli_error("eval: %s", err.message);
    return EXIT_FAILED;
}

int cmd_eval(int argc, char **argv) {
    const char *ckpt = NULL, *model = NULL, *task_name = NULL, *data = NULL, *n_text = NULL, *seed_text = NULL, *max_text = NULL, *device = NULL;
    const char *context_text = NULL, *chat_template = NULL, *system_prompt = NULL;
    bool json = false, practised = false;
    cli_args args = cli_args_start(argc, argv, 2, "eval");
    while (cli_args_more(&args)) {
        if (cli_flag(&args, "--help") || cli_flag(&args, "-h")) {
            fputs(HELP, stdout);
            return EXIT_OK;
        } else if (cli_value(&args, "--ckpt", &ckpt) || cli_value(&args, "--model", &model) ||
                   cli_value(&args, "--task", &task_name) || cli_value(&args, "--data", &data) ||
                   cli_value(&args, "--n", &n_text) || cli_value(&args, "--seed", &seed_text) ||
                   cli_value(&args, "--max-new", &max_text) || cli_value(&args, "--device", &device) ||
                   cli_value(&args, "--context", &context_text) ||
                   cli_value(&args, "--chat-template", &chat_template) ||
                   cli_value(&args, "--system-prompt", &system_prompt)) {
        } else if (cli_flag(&args, "--json")) {
            json = true;
        } else if (cli_flag(&args, "--practised")) {
            practised = true;
        } else {
            return cli_unknown(&args);
        }
    }
    if (args.failed) return EXIT_USAGE;
    if (!ckpt && !model) {
        cli_error("eval: --ckpt or --model is required (see 't2g eval --help')");
        return EXIT_USAGE;
    }
    if (data && (task_name || practised)) {
        cli_error("eval: --data scores the rows of a file; it cannot be combined with --task or --practised");
        return EXIT_USAGE;
    }
    const t2g_task *task = task_name ? t2g_task_find(task_name) : NULL;
    if (task_name && !task) {
        cli_error("eval: no built-in task '%s' (the tasks: arith, facts)", task_name);
        return EXIT_USAGE;
    }
    uint64_t n = 200, seed = 0, max_new = 0, context = 0;
    if ((n_text && (!cli_parse_u64(n_text, 100000, &n) || n == 0)) || (seed_text && !cli_parse_u64(seed_text, UINT64_MAX, &seed)) ||
        (max_text && (!cli_parse_u64(max_text, 1u << 20, &max_new) || max_new == 0)) ||
        (context_text && (!cli_parse_u64(context_text, T2G_CONTEXT_MAX, &context) || context < 2))) {
        cli_error("eval: --n and --max-new expect positive integers, --seed a non-negative integer, --context an integer "
                  "from 2 to %u", T2G_CONTEXT_MAX);
        return EXIT_USAGE;
    }
    const char *path;
    t2g_config checked = t2g_config_defaults(); /* a bad --chat-template is named before the model loads */
    if (cli_chat_config("eval", chat_template, system_prompt, &checked) || cli_model_arg("eval", ckpt, model, &path))
        return EXIT_USAGE;
    t2g_device *dev;
    int code = cli_open_device(device, &dev);
    if (code) return code;
    cli_eval_request request = {.task = task, .data = data, .practised = practised, .seed = seed_text ? &seed : NULL,
                                .examples = n_text ? (uint32_t)n : 0, .max_new_tokens = max_text ? (uint32_t)max_new : 0,
                                .context = (uint32_t)context, .chat_template = chat_template,
                                .system_prompt = system_prompt};
    t2g_eval_result result = {0};
    code = cli_eval_checkpoint(dev, path, &request, &result);
    const char *source = data ? data : !code ? t2g_task_name(request.task) : "";
    if (!code && json) {
        cJSON *o = cJSON_CreateObject();
        cJSON_AddStringToObject(o, ckpt ? "checkpoint" : "model", path);
        cJSON_AddStringToObject(o, data ? "data" : "task", source);
        cJSON_AddStringToObject(o, "prompts", practised ? "practised" : "held-out");
        cJSON_AddNumberToObject(o, "examples", result.metrics.examples);
        cJSON *m = cJSON_AddObjectToObject(o, "metrics");
        for (uint32_t i = 0; i < result.metrics.count; i++) cJSON_AddNumberToObject(m, result.metrics.names[i], result.metrics.values[i]);
        char *text = cJSON_Print(o);
        puts(text);
        cJSON_free(text);
        cJSON_Delete(o);
    } else if (!code) {
        printf("%s on %s, %u %s examples:\n", path, source, result.metrics.examples, practised ? "practised" : "held-out");
        for (uint32_t i = 0; i < result.metrics.count; i++) printf("  %-16s %.4f\n", result.metrics.names[i], result.metrics.values[i]);
        for (uint32_t i = 0; i < result.sample_count; i++)
            printf("  e.g. %s -> %s   (reference: %s)\n", result.samples[i].prompt, result.samples[i].response,
                   result.samples[i].reference);
    }
    t2g_eval_result_free(&result);
    int closing = cli_close_device(dev);
    return code ? code : closing;
}
