/* t2g demo: the embedded default job — train a small GPT on a built-in task, from any folder,
 * showing the loss fall, evaluating before and after, and sampling. */
#include <stdio.h>
#include <string.h>

#include "cli.h"

static const char HELP[] =
    "usage: t2g demo [--out DIR] [--set KEY=VALUE ...] [--device N|NAME] [--quiet]\n"
    "\n"
    "Trains the built-in demo config (assets/demo.json, embedded in t2g: a small byte-level GPT\n"
    "on 1-3 digit addition) from any folder, evaluates it before and after, shows samples, and\n"
    "writes a run folder under runs/ (or --out). About 5 minutes on 2 CPU cores with lavapipe.\n"
    "\n"
    "  --set K=V    override a key of the demo config (see 't2g train --help' for the keys)\n"
    "\n"
    "example: t2g demo --set train.steps=100\n";

int cmd_demo(int argc, char **argv) {
    const char *out = NULL, *device = NULL;
    const char *sets[64];
    int set_count = 0;
    bool quiet = false;
    cli_args args = cli_args_start(argc, argv, 2, "demo");
    while (cli_args_more(&args)) {
        const char *set = NULL;
        if (cli_flag(&args, "--help") || cli_flag(&args, "-h")) {
            fputs(HELP, stdout);
            return EXIT_OK;
        } else if (cli_value(&args, "--set", &set)) {
            if (set && set_count < 64) sets[set_count++] = set;
        } else if (cli_value(&args, "--out", &out) || cli_value(&args, "--device", &device)) {
        } else if (cli_flag(&args, "--quiet")) {
            quiet = true;
        } else {
            return cli_unknown(&args);
        }
    }
    if (args.failed) return EXIT_USAGE;
    t2g_config config;
    int code = cli_load_builtin_config("demo.json", sets, set_count, &config);
    if (code) return code;
    if (device) snprintf(config.device, sizeof config.device, "%s", device);
    printf("t2g demo: a %u-layer GPT (width %u) learns %s from %u demonstrations, %u steps\n", config.model.layers,
           config.model.width, config.data.task, config.data.examples, config.steps);
    cli_run_options options = {.out = out, .quiet = quiet, .evaluate_first = true};
    char run_dir[1024];
    code = cli_train_run(&config, &options, run_dir, sizeof run_dir);
    if (!code)
        printf("next: t2g sample --ckpt %s/checkpoint.bin --prompt '12+34=' --temperature 0\n", run_dir);
    return code;
}
