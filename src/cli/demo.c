/* t2g demo: the embedded default job — train a small GPT on a built-in task, from any folder,
 * showing the loss fall, evaluating before and after, and sampling. */
#include <stdio.h>
#include <string.h>

#include "run_files.h"

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
    cli_run_args args;
    t2g_config config;
    int code = cli_parse_run_args(argc, argv, "demo", "--set --out --device --quiet", &args);
    if (code || args.help) {
        if (args.help) fputs(HELP, stdout);
        return code;
    }
    if ((code = cli_run_config(&args, "demo", "demo.json", &config))) return code;
    printf("t2g demo: a %u-layer GPT (width %u) learns %s from %u demonstrations, %u steps\n", config.model.layers,
           config.model.width, config.data.task, config.data.examples, config.steps);
    cli_run_options options = {.out = args.out, .quiet = args.quiet, .evaluate_first = true};
    char run_dir[1024];
    code = cli_train_run(&config, &options, run_dir, sizeof run_dir);
    if (!code)
        printf("next: t2g sample --ckpt %s/checkpoint.bin --prompt '12+34=' --temperature 0\n", run_dir);
    return code;
}
