/* t2g: the command line. Each subcommand lives in its own file. */
#include <stdio.h>
#include <string.h>

#include "cli.h"

static const char USAGE[] =
    "t2g " T2G_VERSION " - train language models from natural-language feedback on any Vulkan device\n"
    "\n"
    "usage: t2g COMMAND [options]\n"
    "\n"
    "commands:\n"
    "  demo [--from-scratch]            the built-in job: Text2Grad on addition from a shipped SFT start\n"
    "  train --config X [--set K=V]     train a GPT (supervised or language modelling); a run folder\n"
    "  rl --config X [--set K=V]        Text2Grad: learn from critiques in words (token-level PPO)\n"
    "  report RUN [RUN ...]             one HTML page of a run's curves, samples and config (runs overlaid)\n"
    "  align --response R --feedback F  show how a critique's spans land on a response's tokens\n"
    "  critique --prompt P --response R one critique from the configured critic (http, model, external)\n"
    "  sample --ckpt C --prompt P       generate from a checkpoint (KV cache, temperature, top-k, top-p);\n"
    "                                   --model M instead takes a Hugging Face folder too\n"
    "  eval --ckpt C [--data FILE]      a checkpoint's metrics on its task or on held-out JSONL rows (or --model M)\n"
    "  export RUN --out DIR             a model as a Hugging Face folder (--format hf) for transformers\n"
    "  tokenize --model M --text S      a model's token ids and byte offsets (--file, --jsonl, --chat)\n"
    "  data TASK --n N --seed S         a built-in task's demonstrations as JSONL\n"
    "  devices [--json]                 list the Vulkan devices and what each supports\n"
    "  selfcheck [--device D]           run every kernel once against the CPU reference\n"
    "  bench kernels|train|rollout|align|tokenize  time kernels (GPU timestamps), training steps, rollouts,\n"
    "                                   alignment, the tokenizer\n"
    "  version                          print the version\n"
    "\n"
    "every command answers --help. The device is chosen by --device N|NAME, else the\n"
    "T2G_DEVICE environment variable, else the best one (discrete GPU > integrated > virtual >\n"
    "CPU). T2G_VALIDATE=1 turns on the Khronos validation layer.\n";

int main(int argc, char **argv) {
    if (argc < 2) {
        fputs(USAGE, stderr);
        return EXIT_USAGE;
    }
    const char *command = argv[1];
    if (strcmp(command, "--help") == 0 || strcmp(command, "-h") == 0 || strcmp(command, "help") == 0) {
        fputs(USAGE, stdout);
        return EXIT_OK;
    }
    if (strcmp(command, "version") == 0 || strcmp(command, "--version") == 0) {
        printf("t2g %s\n", T2G_VERSION);
        return EXIT_OK;
    }
    if (strcmp(command, "devices") == 0) return cmd_devices(argc, argv);
    if (strcmp(command, "selfcheck") == 0) return cmd_selfcheck(argc, argv);
    if (strcmp(command, "bench") == 0) return cmd_bench(argc, argv);
    if (strcmp(command, "data") == 0) return cmd_data(argc, argv);
    if (strcmp(command, "train") == 0) return cmd_train(argc, argv);
    if (strcmp(command, "eval") == 0) return cmd_eval(argc, argv);
    if (strcmp(command, "sample") == 0) return cmd_sample(argc, argv);
    if (strcmp(command, "demo") == 0) return cmd_demo(argc, argv);
    if (strcmp(command, "align") == 0) return cmd_align(argc, argv);
    if (strcmp(command, "rl") == 0) return cmd_rl(argc, argv);
    if (strcmp(command, "report") == 0) return cmd_report(argc, argv);
    if (strcmp(command, "export") == 0) return cmd_export(argc, argv);
    if (strcmp(command, "tokenize") == 0) return cmd_tokenize(argc, argv);
    if (strcmp(command, "critique") == 0) return cmd_critique(argc, argv);
    cli_error("unknown command '%s'; the commands are: demo, train, rl, report, align, critique, sample, eval, export, "
              "tokenize, data, devices, selfcheck, bench, version (see 't2g --help')",
              command);
    return EXIT_USAGE;
}
