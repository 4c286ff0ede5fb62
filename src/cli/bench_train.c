/* t2g bench train and t2g bench rollout: whole training steps and batched sampling of a
 * preset model, on random tokens. */
#include <cjson/cJSON.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "cli.h"
#include "core/clock.h"
#include "t2g/generate.h"
#include "t2g/rng.h"

typedef struct preset {
    const char *name;
    t2g_model_config model;
    uint32_t B;
} preset;

/* The shapes of the PyTorch yardsticks (../shared/gpu/torch_anchor.py), for a CPU device a
 * small one, and SmolLM2-135M (Hugging Face's config, but a context of 1024 as gpt2-124m's: the
 * bench trains B x context tokens). */
static const preset PRESETS[] = {
    {"char6l384", T2G_MODEL_GPT2(256, 256, 6, 6, 384), 64},
    {"gpt2-124m", T2G_MODEL_GPT2(50257, 1024, 12, 12, 768), 8},
    {"small", T2G_MODEL_GPT2(259, 64, 2, 4, 128), 16},
    {"smollm2-135m",
     {.arch = T2G_ARCH_LLAMA, .vocab = 49152, .context = 1024, .layers = 30, .heads = 9, .width = 576, .kv_heads = 3,
      .ffn_width = 1536, .rope_theta = 100000, .norm_eps = 1e-5, .tied_head = 1},
     8},
};
#define PRESET_NAMES "char6l384, gpt2-124m, small or smollm2-135m"

static const char TRAIN_HELP[] =
    "usage: t2g bench train [--preset char6l384|gpt2-124m|small|smollm2-135m] [--batch B] [--steps N] [--profile]\n"
    "                       [--device D] [--json]\n"
    "\n"
    "Times whole training steps (forward, cross-entropy, backward, gradient norm and clip, AdamW;\n"
    "one submission each) of a preset model on random tokens: the median wall time of N steps\n"
    "after 2 warm-up steps, tokens/s, the device memory the model holds and the estimate made\n"
    "before allocating (memory_estimate_mib). A model the device cannot hold (a tensor past one\n"
    "storage binding, an arena past one allocation, more than the device-local memory) is refused\n"
    "before anything is allocated, with the sizes and advice (a smaller --batch), exit status 2.\n"
    "\n"
    "  --preset P   char6l384: vocab 256, context 256, 6 layers, 6 heads, width 384, B 64\n"
    "               gpt2-124m: vocab 50257, context 1024, 12 layers, 12 heads, width 768, B 8\n"
    "               small: vocab 259, context 64, 2 layers, 4 heads, width 128, B 16\n"    "               smollm2-135m: llama, vocab 49152, context 1024, 30 layers, 9 heads (3 kv heads),\n"
    "               width 576, ffn 1536, rope_theta 100000, tied head, B 8\n"
    "               (default: char6l384 on a GPU, small on a CPU device)\n"
    "  --batch B    sequences per step instead of the preset's\n"
    "  --steps N    timed steps (default 10)\n"
    "  --profile    also time every dispatch of one step (GPU timestamps), summed per kernel\n"
    "\n"
    "example: t2g bench train --preset gpt2-124m --json\n";

static const char ROLLOUT_HELP[] =
    "usage: t2g bench rollout [--preset char6l384|gpt2-124m|small|smollm2-135m] [--prompts N] [--new N]\n"
    "                         [--device D] [--json]\n"
    "\n"
    "Times batched sampling with the KV cache: N prompts of 64 random byte tokens (fewer if the\n"
    "context is short), each given `--new` new tokens (temperature 1, no top-k, no early stop),\n"
    "as the HF generate yardstick.\n"
    "\n"
    "  --preset P   as bench train's (default: char6l384 on a GPU, small on a CPU device)\n"
    "  --prompts N  prompts in the batch (default 64)\n"
    "  --new N      new tokens per prompt (default 128; 32 with the small preset, whose context is 64)\n"
    "\n"
    "example: t2g bench rollout --json\n";

static int compare_doubles(const void *a, const void *b) {
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

static const preset *find_preset(const char *name, bool cpu) {
    if (!name) return cpu ? &PRESETS[2] : &PRESETS[0];
    for (size_t i = 0; i < sizeof PRESETS / sizeof PRESETS[0]; i++)
        if (strcmp(name, PRESETS[i].name) == 0) return &PRESETS[i];
    return NULL;
}

typedef struct bench_options {
    const char *preset, *device;
    uint64_t a, b;          /* train: batch, steps; rollout: prompts, new tokens */
    bool json, profile;
} bench_options;

static int parse(int argc, char **argv, const char *command, const char *help, const char *a_name, const char *b_name,
                 bench_options *o) {
    const char *a = NULL, *b = NULL;
    cli_args args = cli_args_start(argc, argv, 3, command);
    while (cli_args_more(&args)) {
        if (cli_flag(&args, "--help") || cli_flag(&args, "-h")) {
            fputs(help, stdout);
            return -1;
        } else if (cli_value(&args, "--preset", &o->preset) || cli_value(&args, "--device", &o->device) ||
                   cli_value(&args, a_name, &a) || cli_value(&args, b_name, &b)) {
        } else if (cli_flag(&args, "--json")) {
            o->json = true;
        } else if (cli_flag(&args, "--profile")) {
            o->profile = true;
        } else {
            return cli_unknown(&args);
        }
    }
    if (args.failed) return EXIT_USAGE;
    if ((a && (!cli_parse_u64(a, 1u << 16, &o->a) || !o->a)) || (b && (!cli_parse_u64(b, 1u << 16, &o->b) || !o->b))) {
        cli_error("%s: %s and %s expect positive integers", command, a_name, b_name);
        return EXIT_USAGE;
    }
    return EXIT_OK;
}

/* Random tokens below `vocab`, uploaded into a new tensor of `arena`. */
static t2g_status random_tokens(t2g_arena *arena, uint64_t n, uint32_t vocab, uint64_t seed, t2g_tensor *t,
                                t2g_error *err) {
    uint32_t *host = malloc(n * sizeof *host);
    if (!host) return t2g_fail(err, T2G_ERR_MEMORY, "out of host memory");
    t2g_rng rng = t2g_rng_seeded(seed);
    for (uint64_t i = 0; i < n; i++) host[i] = (uint32_t)t2g_rng_below(&rng, vocab);
    t2g_status status = t2g_tensor_alloc_f32(arena, n, t, err);
    if (!status) status = t2g_tensor_upload(*t, host, n * 4, err);
    free(host);
    return status;
}

static t2g_status record_train_step(t2g_gpt *gpt, t2g_recorder *rec, const t2g_tensor *io, uint32_t B, uint32_t T,
                                    uint32_t step, t2g_error *err) {
    t2g_adamw_settings settings = {3e-4f, 0.9f, 0.95f, 1e-8f, 0.1f, step};
    float dloss = 1.0f / (float)(B * T);
    t2g_status status = t2g_gpt_zero_grads(gpt, rec, err);
    if (!status) status = t2g_gpt_forward(gpt, rec, io[0], B, T, err);
    if (!status) status = t2g_gpt_backward(gpt, rec, io[1], io[2], B, T, dloss, err);
    if (!status) status = t2g_gpt_loss_sum(gpt, rec, io[3], io[2], B, T, err);
    if (!status) status = t2g_gpt_update(gpt, rec, &settings, 1.0f, io[4], err);
    return status;
}

/* io: tokens, targets, weights (B,T); loss (1); norm (2). */
static t2g_status train_io(t2g_arena *arena, uint64_t n, uint32_t vocab, t2g_tensor io[5], t2g_error *err) {
    t2g_status status = random_tokens(arena, n, vocab, 1, &io[0], err);
    if (!status) status = random_tokens(arena, n, vocab, 2, &io[1], err);
    if (!status) status = t2g_tensor_alloc_f32(arena, n, &io[2], err);
    if (!status) status = t2g_tensor_alloc_f32(arena, 1, &io[3], err);
    if (!status) status = t2g_tensor_alloc_f32(arena, 2, &io[4], err);
    float *ones = malloc(n * sizeof *ones);
    if (!status && !ones) status = t2g_fail(err, T2G_ERR_MEMORY, "out of host memory");
    for (uint64_t i = 0; ones && i < n; i++) ones[i] = 1.0f;
    if (!status) status = t2g_tensor_upload(io[2], ones, n * 4, err);
    free(ones);
    return status;
}

static void print_result(bool json, const char *bench, const t2g_device_info *info, const preset *p, uint32_t B,
                         const char *keys[], const double values[], int count) {
    if (json) {
        cJSON *o = cJSON_CreateObject();
        cJSON_AddStringToObject(o, "bench", bench);
        cJSON_AddStringToObject(o, "device", info->name);
        cJSON_AddStringToObject(o, "device_type", info->type);
        cJSON_AddStringToObject(o, "preset", p->name);
        cJSON_AddNumberToObject(o, "batch", B);
        for (int i = 0; i < count; i++) cJSON_AddNumberToObject(o, keys[i], values[i]);
        char *text = cJSON_Print(o);
        puts(text);
        cJSON_free(text);
        cJSON_Delete(o);
        return;
    }
    printf("bench %s on %s (%s), preset %s, batch %u:\n", bench, info->name, info->type, p->name, B);
    for (int i = 0; i < count; i++) {
        double v = values[i]; /* plain digits: 13120, not 1.312e+04 */
        if (fabs(v) >= 1000) printf("  %-22s %.0f\n", keys[i], v);
        else printf("  %-22s %.4g\n", keys[i], v);
    }
}

/* One more step with a timestamp around every dispatch; prints the time per kernel. */
static t2g_status profile_step(t2g_gpt *gpt, const t2g_tensor *io, uint32_t B, uint32_t T, t2g_error *err) {
    t2g_recorder *rec;
    t2g_recorder_options options = {.timestamp_capacity = 8192};
    t2g_status status = t2g_recorder_create(t2g_gpt_device(gpt), &options, &rec, err);
    if (status) return status;
    status = record_train_step(gpt, rec, io, B, T, 1000, err);
    if (!status) status = t2g_recorder_submit(rec, err);
    const t2g_timing *timings;
    uint32_t count = status ? 0 : t2g_recorder_timings(rec, &timings);
    struct kernel_total {
        const char *label;
        double ms;
        uint32_t calls;
    } totals[64];
    uint32_t kinds = 0;
    double sum = 0;
    for (uint32_t i = 0; i < count; i++) {
        uint32_t k = 0;
        while (k < kinds && strcmp(totals[k].label, timings[i].label) != 0) k++;
        if (k == kinds && kinds < 64) totals[kinds++] = (struct kernel_total){timings[i].label, 0, 0};
        if (k < kinds) totals[k].ms += timings[i].ms, totals[k].calls++;
        sum += timings[i].ms;
    }
    printf("profile of one step: %u dispatches, %.2f ms of GPU time\n", count, sum);
    for (uint32_t k = 0; k < kinds; k++)
        printf("  %-28s %6u calls %10.3f ms %5.1f%%\n", totals[k].label, totals[k].calls, totals[k].ms,
               100 * totals[k].ms / sum);
    t2g_recorder_destroy(rec);
    return status;
}

int bench_train(int argc, char **argv) {
    bench_options o = {0};
    int code = parse(argc, argv, "bench train", TRAIN_HELP, "--batch", "--steps", &o);
    if (code) return code < 0 ? EXIT_OK : code;
    t2g_device *device;
    if ((code = cli_open_device(o.device, &device))) return code;
    const t2g_device_info *info = t2g_device_get_info(device);
    const preset *p = find_preset(o.preset, info->kind == T2G_DEVICE_CPU);
    if (!p) {
        cli_error("bench train: --preset expects " PRESET_NAMES ", got '%s'", o.preset);
        cli_close_device(device);
        return EXIT_USAGE;
    }
    uint32_t B = o.a ? (uint32_t)o.a : p->B, T = p->model.context, steps = o.b ? (uint32_t)o.b : 10;
    t2g_gpt *gpt = NULL;
    t2g_arena *arena = NULL;
    t2g_recorder *rec = NULL;
    t2g_tensor io[5];
    t2g_error err = {0};
    t2g_gpt_memory memory;
    t2g_status status = t2g_gpt_memory_needed(&p->model, B, T, false, &memory, &err);
    if (!status && t2g_gpt_memory_check(&memory, info, &err)) {
        cli_error("bench train (%s, batch %u): %s", p->name, B, err.message);
        cli_close_device(device);
        return EXIT_USAGE;
    }
    if (!status) status = t2g_gpt_create(device, &p->model, B, T, &gpt, &err);
    if (!status) status = t2g_gpt_init(gpt, 1, &err);
    if (!status) status = t2g_arena_create(device, 12ull * B * T + 4096, "bench tokens", &arena, &err);
    if (!status) status = train_io(arena, (uint64_t)B * T, p->model.vocab, io, &err);
    if (!status) status = t2g_recorder_create(device, NULL, &rec, &err);
    double *ms = calloc(steps, sizeof *ms);
    for (uint32_t s = 0; s < steps + 2 && !status; s++) {
        double start = t2g_clock_ms();
        status = record_train_step(gpt, rec, io, B, T, s + 1, &err);
        if (!status) status = t2g_recorder_submit(rec, &err);
        if (s >= 2 && ms) ms[s - 2] = t2g_clock_ms() - start;
    }
    if (!status && o.profile) status = profile_step(gpt, io, B, T, &err);
    if (!status && ms) {
        qsort(ms, steps, sizeof *ms, compare_doubles);
        double median = steps % 2 ? ms[steps / 2] : 0.5 * (ms[steps / 2 - 1] + ms[steps / 2]);
        const char *keys[] = {"ms_per_step", "best_ms_per_step", "tokens_per_s", "parameters", "device_memory_mib",
                              "memory_estimate_mib"};
        double values[] = {median, ms[0], (double)B * T / (median * 1e-3), (double)t2g_gpt_parameter_count(gpt),
                           (double)(t2g_gpt_device_bytes(gpt) + t2g_arena_capacity_bytes(arena)) / (1 << 20),
                           (double)memory.total / (1 << 20)};
        print_result(o.json, "train", info, p, B, keys, values, 6);
    } else if (status) {
        cli_error("bench train (%s, batch %u): %s", p->name, B, err.message);
        code = EXIT_FAILED;
    }
    free(ms);
    t2g_recorder_destroy(rec);
    t2g_arena_destroy(arena);
    t2g_gpt_destroy(gpt);
    int closing = cli_close_device(device);
    return code ? code : closing;
}

int bench_rollout(int argc, char **argv) {
    bench_options o = {0};
    int code = parse(argc, argv, "bench rollout", ROLLOUT_HELP, "--prompts", "--new", &o);
    if (code) return code < 0 ? EXIT_OK : code;
    t2g_device *device;
    if ((code = cli_open_device(o.device, &device))) return code;
    const t2g_device_info *info = t2g_device_get_info(device);
    const preset *p = find_preset(o.preset, strcmp(info->type, "CPU") == 0);
    bool small = p && strcmp(p->name, "small") == 0;
    uint32_t n = o.a ? (uint32_t)o.a : 64, new_tokens = o.b ? (uint32_t)o.b : small ? 32 : 128;
    /* prompts of 64 tokens, as the yardstick, or shorter where the context is short */
    uint32_t prompt_len = p && new_tokens < p->model.context ? p->model.context - new_tokens : 0;
    if (prompt_len > 64) prompt_len = 64;
    if (!p || prompt_len == 0) {
        cli_error("bench rollout: --preset must be " PRESET_NAMES ", and --new shorter than its context");
        cli_close_device(device);
        return EXIT_USAGE;
    }
    t2g_gpt *gpt = NULL;
    t2g_generator *generator = NULL;
    t2g_generation generation = {0};
    t2g_error err = {0};
    uint32_t *prompts = malloc((size_t)n * prompt_len * sizeof *prompts);
    const uint32_t **rows = malloc(n * sizeof *rows);
    uint32_t *lengths = malloc(n * sizeof *lengths);
    t2g_rng rng = t2g_rng_seeded(3);
    for (uint32_t i = 0; prompts && rows && lengths && i < n; i++) {
        for (uint32_t k = 0; k < prompt_len; k++) prompts[(size_t)i * prompt_len + k] = (uint32_t)t2g_rng_below(&rng, 256);
        rows[i] = prompts + (size_t)i * prompt_len;
        lengths[i] = prompt_len;
    }
    t2g_status status = prompts && rows && lengths ? T2G_OK : t2g_fail(&err, T2G_ERR_MEMORY, "out of host memory");
    if (!status) status = t2g_gpt_create(device, &p->model, 1, 1, &gpt, &err);
    if (!status) status = t2g_gpt_init(gpt, 1, &err);
    if (!status) status = t2g_generator_create(gpt, n, &generator, &err);
    t2g_sampling sampling = t2g_sampling_default();
    sampling.max_new_tokens = new_tokens;
    sampling.stop_at_eos = false;
    double ms = 0;
    for (int run = 0; run < 2 && !status; run++) { /* the first run builds the pipelines */
        t2g_generation_free(&generation);
        double start = t2g_clock_ms();
        status = t2g_generate(generator, rows, lengths, n, &sampling, &generation, &err);
        ms = t2g_clock_ms() - start;
    }
    if (!status) {
        const char *keys[] = {"ms", "new_tokens_per_s", "prompts", "prompt_tokens", "new_tokens_each"};
        double values[] = {ms, (double)n * new_tokens / (ms * 1e-3), n, prompt_len, new_tokens};
        print_result(o.json, "rollout", info, p, n, keys, values, 5);
    } else {
        cli_error("bench rollout: %s", err.message);
        code = EXIT_FAILED;
    }
    t2g_generation_free(&generation);
    t2g_generator_destroy(generator);
    t2g_gpt_destroy(gpt);
    free(prompts);
    free(rows);
    free(lengths);
    int closing = cli_close_device(device);
    return code ? code : closing;
}
