/* t2g train: supervised training from a config. */
#include <stdio.h>
#include <string.h>

#include "run_files.h"

static void print_help(void) {
    printf("usage: t2g train [--config FILE|NAME] [--set KEY=VALUE ...] [--out DIR] [--resume RUN]\n"
           "                 [--device N|NAME] [--quiet]\n"
           "\n"
           "Trains a GPT on supervised data: a built-in task's demonstrations (data.task) or a JSONL\n"
           "file of {\"prompt\", \"response\"} lines (data.path), the loss on response tokens only; or\n"
           "plain text (data.format \"text\"). Writes a run folder (default runs/<name>-<time>/):\n"
           "config.json (the effective config), metrics.jsonl (one object per step), samples.jsonl\n"
           "(responses at each evaluation) and checkpoint.bin.\n"
           "Ctrl-C (SIGINT), SIGTERM or SIGHUP stop the run after the step in progress: the checkpoint of\n"
           "that step and the report are written, and the exit code is 128 + the signal (130 for Ctrl-C);\n"
           "a second Ctrl-C exits at once. One process at a time per run folder (its lock file).\n"
           "\n"
           "  --config X     a config file, or a built-in one by name (train_arith, train_facts, demo_sft)\n"
           "  --set K=V      override one key, e.g. --set optim.lr=3e-4 (repeatable, applied in order)\n"
           "  --out DIR      the run folder (must not exist, or be empty)\n"
           "  --resume R     continue a run exactly: its run folder (a t2g train run's); its config is\n"
           "                 used, with --set applied (e.g. --set train.steps=400 to train longer). To\n"
           "                 start a new run from a model instead, use --set model.from=PATH\n"
           "  --device D     the device (overrides the config's \"device\")\n"
           "  --quiet        no progress lines\n"
           "\n"
           "config keys:\n");
    const t2g_config_key *keys;
    size_t count = t2g_config_keys(&keys);
    for (size_t i = 0; i < count; i++) printf("  %-26s %-8s %s\n", keys[i].path, keys[i].type, keys[i].help);
    printf("\nexample: t2g train --config train_arith --set train.steps=500 --out runs/arith-500\n");
}

int cmd_train(int argc, char **argv) {
    cli_run_args args;
    t2g_config config;
    int code = cli_parse_run_args(argc, argv, "train", "--config --set --out --resume --device --quiet", &args);
    if (code || args.help) {
        if (args.help) print_help();
        return code;
    }
    if ((code = cli_run_config(&args, "train", NULL, &config))) return code;
    cli_run_options options = {.out = args.out, .resume = args.resume, .quiet = args.quiet};
    return cli_train_run(&config, &options, NULL, 0);
}
