/* t2g bench: which benchmark to run. */
#include <stdio.h>
#include <string.h>

#include "cli.h"

static const char HELP[] =
    "usage: t2g bench kernels|train|rollout|align|tokenize [options]   (each answers --help)\n"
    "\n"
    "  kernels   every kernel at the shapes of a training step, timed with GPU timestamps\n"
    "  train     ms/step, tokens/s and device memory of whole training steps of a preset or a model\n"
    "  rollout   tokens/s of batched sampling with the KV cache (64 prompts x 128 new tokens)\n"
    "  align     ms and work of finding a critique's spans in a response (host only)\n"
    "\n"
    "Every benchmark prints a table, or JSON with --json. Figures from a CPU device (lavapipe)\n"
    "are for information; claims about speed come from GPUs.\n"
    "\n"
    "example: t2g bench train --preset char6l384 --json\n";

int cmd_bench(int argc, char **argv) {
    if (argc < 3 || strcmp(argv[2], "--help") == 0 || strcmp(argv[2], "-h") == 0) {
        fputs(HELP, argc < 3 ? stderr : stdout);
        return argc < 3 ? EXIT_USAGE : EXIT_OK;
    }
    if (strcmp(argv[2], "kernels") == 0) return bench_kernels(argc, argv);
    if (strcmp(argv[2], "train") == 0) return bench_train(argc, argv);
    if (strcmp(argv[2], "rollout") == 0) return bench_rollout(argc, argv);
    if (strcmp(argv[2], "align") == 0) return bench_align(argc, argv);
    if (strcmp(argv[2], "tokenize") == 0) return bench_tokenize(argc, argv);
    cli_error("bench: unknown benchmark '%s'; available: kernels, train, rollout, align, tokenize (see 't2g bench --help')", argv[2]);
    return EXIT_USAGE;
}
