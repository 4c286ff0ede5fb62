/* t2g train: supervised training from a config. */
#include <stdio.h>
#include <string.h>

#include "cli.h"

static void print_help(void) {
    printf("usage: t2g train [--config FILE|NAME] [--set KEY=VALUE ...] [--out DIR] [--resume RUN|CHECKPOINT]\n"
           "                 [--device N|NAME] [--quiet]\n"
           "\n"
           "Trains a GPT on supervised data: a built-in task's demonstrations (data.task) or a JSONL\n"
           "file of {\"prompt\", \"response\"} lines (data.path), the loss on response tokens only; or\n"
           "plain text (data.format \"text\"). Writes a run folder (default runs/<name>-<time>/):\n"
           "config.json (the effective config), metrics.jsonl (one object per step), samples.jsonl\n"
           "(responses at each evaluation) and checkpoint.bin.\n"
           "\n"
           "  --config X     a config file, or a built-in one by name (train_arith, train_facts, demo)\n"
           "  --set K=V      override one key, e.g. --set optim.lr=3e-4 (repeatable, applied in order)\n"
           "  --out DIR      the run folder (must not exist, or be empty)\n"
           "  --resume R     continue a run exactly: a run folder or a checkpoint file; its config is\n"
           "                 used, with --set applied (e.g. --set train.steps=400 to train longer)\n"
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
    const char *config_path = NULL, *out = NULL, *resume = NULL, *device = NULL;
    const char *sets[64];
    int set_count = 0;
    bool quiet = false;
    cli_args args = cli_args_start(argc, argv, 2, "train");
    while (cli_args_more(&args)) {
        const char *set = NULL;
        if (cli_flag(&args, "--help") || cli_flag(&args, "-h")) {
            print_help();
            return EXIT_OK;
        } else if (cli_value(&args, "--set", &set)) {
            if (set && set_count < 64) sets[set_count++] = set;
        } else if (cli_value(&args, "--config", &config_path) || cli_value(&args, "--out", &out) ||
                   cli_value(&args, "--resume", &resume) || cli_value(&args, "--device", &device)) {
        } else if (cli_flag(&args, "--quiet")) {
            quiet = true;
        } else {
            return cli_unknown(&args);
        }
    }
    if (args.failed) return EXIT_USAGE;
    if (resume && (config_path || out)) {
        cli_error("train: --resume continues a run with its own config and folder; it cannot be combined with --config "
                  "or --out (use --set to change keys)");
        return EXIT_USAGE;
    }
    t2g_config config;
    int code = resume ? cli_resume_config(resume, sets, set_count, &config)
                      : cli_load_config(config_path, sets, set_count, &config);
    if (code) return code;
    if (device) snprintf(config.device, sizeof config.device, "%s", device);
    cli_run_options options = {.out = out, .resume = resume, .quiet = quiet};
    return cli_train_run(&config, &options, NULL, 0);
}
