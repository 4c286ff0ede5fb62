/* The model that t2g bench train and t2g bench rollout time: a preset's shape with random
 * weights, or --model's (any model path, t2g/model_path.h) with its own weights; --context
 * shortens either. */
#ifndef T2G_CLI_BENCH_MODEL_H
#define T2G_CLI_BENCH_MODEL_H

#include <cjson/cJSON.h>

#include "cli.h"
#include "t2g/train.h"

#define BENCH_PRESET_NAMES "char6l384, gpt2-124m, small or smollm2-135m"

typedef struct bench_model {
    const char *preset;         /* the preset's name; NULL for --model */
    const char *path;           /* --model; NULL for a preset */
    t2g_model_source source;    /* --model's, open: its weights and tokenizer */
    t2g_model_config config;    /* the shape built: the preset's or the model's (a Hugging Face folder's or
                                 * GGUF file's context at most --context; a checkpoint keeps its own) */
    uint32_t B;                 /* the preset's batch; 8 for --model */
    uint32_t T;                 /* the sequence length timed: --context, else config.context */
} bench_model;

/* The model of --preset or --model (NULL: not given; neither: char6l384, or small on a CPU device)
 * with --context (0: not given; a preset's context becomes it). EXIT_USAGE, with a message naming
 * `command`, when both are given, the preset is unknown, the path names no model or cannot be
 * read, or --context is longer than the model's context. */
int bench_model_open(const char *command, const char *preset, const char *path, uint32_t context, bool cpu,
                     bench_model *m);
void bench_model_close(bench_model *m);

/* The weights of `gpt` (a model of m->config): --model's own (a checkpoint's AdamW moments too),
 * a preset's GPT-2 initialisation seeded 1. */
t2g_status bench_model_weights(bench_model *m, t2g_gpt *gpt, t2g_error *err);

/* The ids a random prompt draws from, malloc'ed (*count of them): a preset's 256 byte tokens;
 * --model's ids below its vocabulary that its tokenizer decodes to some bytes with special
 * tokens left out (so never a special token). */
t2g_status bench_model_prompt_ids(const bench_model *m, uint32_t **ids, uint32_t *count, t2g_error *err);

/* "preset": its name, or "model": {"path", "kind"}; then the shape: arch, vocab, context, layers,
 * heads, kv_heads, width, ffn_width. */
void bench_model_json(const bench_model *m, cJSON *o);
/* "preset small" or "model PATH (t2g checkpoint)", then ": llama, vocab ..., context ...". */
void bench_model_print(const bench_model *m);

#endif
