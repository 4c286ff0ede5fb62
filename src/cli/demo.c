/* t2g demo: the embedded default job. Text2Grad from a small SFT checkpoint that t2g trained
 * and ships in assets/ (tools/make_demo_checkpoint.sh made it): RL with the built-in arith
 * critic, evaluated before and after, in a run folder with its report. --from-scratch redoes
 * the SFT first. Works from any folder: everything it needs is inside the binary. */
#include <cjson/cJSON.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/read_file.h"
#include "run_files.h"
#include "t2g/assets.h"

static const char HELP[] =
    "usage: t2g demo [--from-scratch [--sft-set KEY=VALUE ...]] [--out DIR] [--set KEY=VALUE ...] [--device N|NAME] [--quiet]\n"
    "\n"
    "Text2Grad on 1-3 digit addition: a small byte-level GPT (the SFT checkpoint shipped in t2g,\n"
    "assets/demo_sft.ckpt) answers sums; the built-in critic writes a critique of each answer,\n"
    "quoting the right digits as good and the wrong ones as poor; the quotes become token rewards\n"
    "and PPO learns from them. It practises on a pool of 64 sums (8 a step, 8 answers each) and\n"
    "never sees their answers, only critiques. It reports exact match before and after, on those\n"
    "sums and on 500 held-out ones, and writes a run folder under runs/ (or --out) with\n"
    "report.html. About 230 CPU-seconds: 2 min 15 s on 2 idle CPU cores with lavapipe.\n"
    "\n"
    "  --from-scratch   train the SFT checkpoint first (assets/demo_sft.json, about 20 minutes on\n"
    "                   lavapipe) instead of using the shipped one\n"
    "  --sft-set K=V    with --from-scratch: override a key of that SFT config\n"
    "  --set K=V        override a key of the demo's RL config (assets/demo.json; 't2g train --help'\n"
    "                   lists the keys)\n"
    "\n"
    "example: t2g demo --set train.steps=40\n";

/* The SFT config of --from-scratch, checked before anything is written; --sft-set without it is refused. */
static int sft_config(const cli_run_args *args, t2g_config *sft) {
    if (!args->from_scratch) {
        if (!args->sft_set_count) return EXIT_OK;
        cli_error("demo: --sft-set changes the SFT that --from-scratch trains; without --from-scratch the demo "
                  "starts from the shipped checkpoint");
        return EXIT_USAGE;
    }
    int code = cli_load_builtin_config("demo_sft.json", args->sft_sets, args->sft_set_count, false, sft);
    if (!code && args->device) snprintf(sft->device, sizeof sft->device, "%s", args->device);
    return code;
}

/* The SFT start, in the run folder: the shipped checkpoint, or one trained there (sft/). */
static int make_start(const cli_run_args *args, t2g_config *sft, const char *dir, char *start, size_t size) {
    t2g_error err = {0};
    if (!args->from_scratch) {
        size_t len = 0;
        const char *bytes = t2g_asset("demo_sft.ckpt", &len);
        if (!bytes) {
            cli_error("demo: this build has no shipped SFT checkpoint (assets/demo_sft.ckpt): run "
                      "tools/make_demo_checkpoint.sh and rebuild, or 't2g demo --from-scratch'");
            return EXIT_FAILED;
        }
        if (t2g_write_file_atomic(dir, "start.ckpt", bytes, len, &err)) {
            cli_error("demo: %s", err.message);
            return EXIT_FAILED;
        }
        snprintf(start, size, "%s/start.ckpt", dir);
        return EXIT_OK;
    }
    char sft_dir[1100];
    snprintf(sft_dir, sizeof sft_dir, "%s/sft", dir);
    printf("t2g demo: first the SFT start, from scratch: %u steps of supervised training on addition\n", sft->steps);
    cli_run_options options = {.out = sft_dir, .quiet = args->quiet, .kind = "demo-sft"};
    int code = cli_train_run(sft, &options, NULL, 0);
    if (code) return code;
    snprintf(start, size, "%s/checkpoint.bin", sft_dir);
    return EXIT_OK;
}

/* The headline metric of the run's first and last evaluations (NAN when missing). */
static void before_after(const char *dir, const char *metric, double *before, double *after) {
    char path[1200];
    snprintf(path, sizeof path, "%s/metrics.jsonl", dir);
    *before = *after = 0.0 / 0.0;
    t2g_line_reader lines;
    t2g_error err;
    const char *line = NULL;
    size_t len = 0;
    if (t2g_lines_open(&lines, path, "the run file", (t2g_read_cap){T2G_RUN_LINE_MAX_BYTES, NULL}, &err)) return;
    while (t2g_lines_next(&lines, &line, &len, &err) == T2G_OK && line) {
        cJSON *o = cJSON_ParseWithLength(line, len);
        const cJSON *value = cJSON_GetObjectItemCaseSensitive(cJSON_GetObjectItemCaseSensitive(o, "eval"), metric);
        if (cJSON_IsNumber(value)) {
            if (*before != *before) *before = value->valuedouble;
            *after = value->valuedouble;
        }
        cJSON_Delete(o);
    }
    t2g_lines_close(&lines);
}

/* Greedy exact match of a checkpoint on the sums the run practised (its prompt pool). */
static int practised_exact_match(t2g_device *device, const t2g_config *config, const char *ckpt, double *value) {
    cli_eval_request request = {.task = t2g_task_find(config->data.task), .practised = true,
                                .examples = config->data.examples};
    t2g_eval_result result = {0};
    int code = cli_eval_checkpoint(device, ckpt, &request, &result);
    if (!code) *value = result.metrics.values[0];
    t2g_eval_result_free(&result);
    return code;
}

/* The before/after lines: held-out sums from the run's evaluations, and the practised pool. */
static int summary(const t2g_config *config, const char *dir, const char *start) {
    double held_before, held_after, practised_before = 0, practised_after = 0;
    before_after(dir, "exact_match", &held_before, &held_after);
    char end[1200];
    snprintf(end, sizeof end, "%s/checkpoint.bin", dir);
    t2g_device *device;
    int code = cli_open_device(config->device[0] ? config->device : NULL, &device);
    if (code) return code;
    code = practised_exact_match(device, config, start, &practised_before);
    if (!code) code = practised_exact_match(device, config, end, &practised_after);
    int closing = cli_close_device(device);
    if (code || closing) return code ? code : closing;
    printf("\nt2g demo: exact match (greedy), before Text2Grad -> after %u steps of it:\n"
           "  the %u sums it practised (it saw critiques of its answers, never the answers): %.3f -> %.3f\n"
           "  %u held-out sums it never saw:                                               %.3f -> %.3f\n"
           "the curves, the critiques and the token rewards: %s/report.html\n",
           config->steps, config->data.examples, practised_before, practised_after, config->eval.examples,
           held_before, held_after, dir);
    return EXIT_OK;
}

int cmd_demo(int argc, char **argv) {
    cli_run_args args;
    t2g_config config;
    int code = cli_parse_run_args(argc, argv, "demo", "--from-scratch --sft-set --set --out --device --quiet", &args);
    if (code || args.help) {
        if (args.help) fputs(HELP, stdout);
        return code;
    }
    t2g_config sft;
    if ((code = cli_run_config(&args, "demo", "demo.json", &config)) || (code = sft_config(&args, &sft))) return code;
    if (strcmp(config.data.task, "arith") != 0) {
        cli_error("demo: the demo is Text2Grad on arith (data.task \"arith\"); for another task use "
                  "'t2g rl --config ...' (see 't2g rl --help')");
        return EXIT_USAGE;
    }
    char dir[1024], start[1200];
    t2g_error err = {0};
    if (t2g_run_dir_create("runs", config.name, args.out, dir, sizeof dir, &err)) {
        cli_error("demo: %s", err.message);
        return EXIT_USAGE;
    }
    if ((code = make_start(&args, &sft, dir, start, sizeof start))) return code;
    if (snprintf(config.rl.start, sizeof config.rl.start, "%s", start) >= (int)sizeof config.rl.start) {
        cli_error("demo: the run folder's path is too long (%s)", start);
        return EXIT_USAGE;
    }
    printf("t2g demo: Text2Grad on addition: the policy answers %u sums %u times a step, the built-in critic\n"
           "quotes its right and wrong digits, and PPO learns from the quotes; %u steps\n",
           config.rl.prompts, config.rl.samples_per_prompt, config.steps);
    fflush(stdout);
    cli_run_options options = {.quiet = args.quiet, .kind = "demo"};
    if ((code = cli_rl_run(&config, &options, dir))) return code;
    return summary(&config, dir, start);
}
