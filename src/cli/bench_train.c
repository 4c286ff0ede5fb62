/* t2g bench train and t2g bench rollout: whole training steps and batched sampling of a
 * preset model (random weights) or of --model (its own weights), on random tokens. */
#include <cjson/cJSON.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "bench_model.h"
#include "core/clock.h"
#include "t2g/generate.h"
#include "t2g/rng.h"

static const char TRAIN_HELP[] =
    "usage: t2g bench train [--preset char6l384|gpt2-124m|small|smollm2-135m | --model MODEL] [--context N]\n"
    "                       [--batch B] [--steps N] [--warmup N] [--precision P] [--logit-rows N] [--profile]\n"
    "                       [--device D] [--json]\n"
    "\n"
    "Times whole training steps (forward, cross-entropy, backward, gradient norm and clip, AdamW;\n"
    "one submission each) of a preset model (random weights) or of a model's own weights, on random\n"
    "tokens below its vocabulary: the median wall time of N steps after the warm-up steps, tokens/s,\n"
    "the device memory the model holds and the estimate made before allocating\n"
    "(memory_estimate_mib). A model the device cannot hold (a tensor past one storage binding, an\n"
    "arena past one allocation, more than the device-local memory) is refused before anything is\n"
    "allocated, with the sizes and advice (a smaller --batch or --context), exit status 2.\n"
    "\n"
    "  --preset P   char6l384: vocab 256, context 256, 6 layers, 6 heads, width 384, B 64\n"
    "               gpt2-124m: vocab 50257, context 1024, 12 layers, 12 heads, width 768, B 8\n"
    "               small: vocab 259, context 64, 2 layers, 4 heads, width 128, B 16\n"
    "               smollm2-135m: llama, vocab 49152, context 1024, 30 layers, 9 heads (3 kv heads),\n"
    "               width 576, ffn 1536, rope_theta 100000, tied head, B 8\n"
    "               (default: char6l384 on a GPU, small on a CPU device)\n"
    "  --model M    a model's shape and weights instead (not with --preset): a t2g checkpoint, a run\n"
    "               folder, a Hugging Face folder or a GGUF file; B 8\n"
    "  --context N  tokens per sequence, at most the model's or preset's context (default: that context;\n"
    "               a preset's or Hugging Face folder's or GGUF file's context becomes N)\n"
    "  --batch B    sequences per step instead of the preset's (or 8)\n"
    "  --steps N    timed steps (default 10)\n"
    "  --warmup N   untimed steps first (default 2; 0 allowed)\n"
    "  --precision P  f32 (default), bf16, f16 or auto: train.precision's storage of the matmuls'\n"
    "               weights and input activations (f32 master weights, moments and sums)\n"
    "  --logit-rows N  rows of logits held at once, as train.logit_rows: a multiple of 64, or 0\n"
    "               (default) for t2g train's choice (whole where they fit a binding and an eighth\n"
    "               of the device's memory, else pieces of at most 256 MiB)\n"
    "  --profile    also time every dispatch of one step (GPU timestamps), summed per kernel,\n"
    "               largest first, and split the step's wall clock into kernels and overhead\n"
    "               (with --json: a \"profile\" object)\n"
    "\n"
    "example: t2g bench train --preset gpt2-124m --json\n"
    "         t2g bench train --preset small --precision bf16\n"
    "         t2g bench train --preset gpt2-124m --logit-rows 1024\n"
    "         t2g bench train --model ~/.cache/t2g/models/SmolLM2-135M-Instruct.Q4_1.gguf --context 64 --batch 1 \\\n"
    "             --steps 1 --warmup 0\n";

static const char ROLLOUT_HELP[] =
    "usage: t2g bench rollout [--preset char6l384|gpt2-124m|small|smollm2-135m | --model MODEL] [--context N]\n"
    "                         [--prompts N] [--prompt-tokens N] [--new N] [--prefill on|off]\n"
    "                         [--precision P] [--device D] [--json]\n"
    "\n"
    "Times batched sampling with the KV cache: N prompts of 64 random tokens (fewer if the context\n"
    "is short; a preset's: bytes; a model's: ids of its vocabulary that are not special tokens),\n"
    "each given `--new` new tokens (temperature 1, no top-k, no early stop), as the HF generate\n"
    "yardstick. The time is that of a second batch: the first builds the pipelines. prompt_vocab:\n"
    "how many ids the prompts draw from.\n"
    "\n"
    "  --preset P   as bench train's (default: char6l384 on a GPU, small on a CPU device)\n"
    "  --model M    a model's shape and weights instead (not with --preset): a t2g checkpoint, a run\n"
    "               folder, a Hugging Face folder or a GGUF file\n"
    "  --context N  prompt and new tokens at most N, at most the model's or preset's context (a\n"
    "               preset's or Hugging Face folder's or GGUF file's context becomes N: SmolLM2's 8192\n"
    "               needs a large KV cache)\n"
    "  --prompts N  prompts in the batch (default 64)\n"
    "  --prompt-tokens N  tokens of each prompt (default 64, or what the context leaves after --new;\n"
    "               long prompts time the prefill, as a model critic's)\n"
    "  --new N      new tokens per prompt (default 128, at most half the context: 32 with the small preset)\n"
    "  --prefill X  on (default): the prompts go through the model all positions at once, then the new\n"
    "               tokens one position a step; off: every position one step at a time (the same\n"
    "               tokens and log-probabilities, for comparison)\n"
    "  --precision P  f32 (default), bf16, f16 or auto: the model's train.precision; a 16-bit model\n"
    "               generates from its 16-bit weights with a KV cache of that type\n"
    "\n"
    "example: t2g bench rollout --json\n"
    "         t2g bench rollout --model ~/.cache/t2g/models/SmolLM2-135M-Instruct.Q4_1.gguf --context 128 \\\n"
    "             --prompts 4 --new 16 --json\n";

static int compare_doubles(const void *a, const void *b) {
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

typedef struct bench_options {
    const char *preset, *model, *device;
    uint64_t a, b;          /* train: batch, steps; rollout: prompts, new tokens */
    uint64_t context;       /* 0: the model's */
    uint64_t warmup;        /* train only */
    uint64_t logit_rows;    /* train only: train.logit_rows (0: auto) */
    t2g_precision precision;
    bool json, profile;
    bool no_prefill;        /* rollout only */
    uint64_t prompt_tokens; /* rollout only; 0: the default */
} bench_options;

/* The options of bench train (`train`) or bench rollout; -1 after --help. */
static int parse(int argc, char **argv, bool train, bench_options *o) {
    const char *command = train ? "bench train" : "bench rollout", *a_name = train ? "--batch" : "--prompts";
    const char *b_name = train ? "--steps" : "--new", *a = NULL, *b = NULL, *context = NULL, *warmup = NULL;
    const char *precision = NULL, *prefill = NULL, *prompt_tokens = NULL, *logit_rows = NULL;
    cli_args args = cli_args_start(argc, argv, 3, command);
    while (cli_args_more(&args)) {
        if (cli_flag(&args, "--help") || cli_flag(&args, "-h")) {
            fputs(train ? TRAIN_HELP : ROLLOUT_HELP, stdout);
            return -1;
        } else if (cli_value(&args, "--preset", &o->preset) || cli_value(&args, "--model", &o->model) ||
                   cli_value(&args, "--device", &o->device) || cli_value(&args, "--context", &context) ||
                   cli_value(&args, a_name, &a) || cli_value(&args, b_name, &b) ||
                   cli_value(&args, "--precision", &precision) || (train && cli_value(&args, "--warmup", &warmup)) ||
                   (train && cli_value(&args, "--logit-rows", &logit_rows)) ||
                   (!train && (cli_value(&args, "--prefill", &prefill) ||
                               cli_value(&args, "--prompt-tokens", &prompt_tokens)))) {
        } else if (cli_flag(&args, "--json")) {
            o->json = true;
        } else if (train && cli_flag(&args, "--profile")) {
            o->profile = true;
        } else {
            return cli_unknown(&args);
        }
    }
    if (args.failed) return EXIT_USAGE;
    if (prefill && strcmp(prefill, "on") != 0 && strcmp(prefill, "off") != 0) {
        cli_error("%s: --prefill '%s': expected on or off", command, prefill);
        return EXIT_USAGE;
    }
    o->no_prefill = prefill && strcmp(prefill, "off") == 0;
    if (prompt_tokens && (!cli_parse_u64(prompt_tokens, T2G_CONTEXT_MAX, &o->prompt_tokens) || !o->prompt_tokens)) {
        cli_error("%s: --prompt-tokens expects a positive integer, at most %u", command, T2G_CONTEXT_MAX);
        return EXIT_USAGE;
    }
    if (logit_rows && (!cli_parse_u64(logit_rows, 1048576, &o->logit_rows) || o->logit_rows % T2G_LOGIT_ROWS_STEP)) {
        cli_error("%s: --logit-rows '%s': expected 0 or a multiple of %u, at most 1048576", command, logit_rows,
                  T2G_LOGIT_ROWS_STEP);
        return EXIT_USAGE;
    }
    o->warmup = 2;
    o->precision = T2G_PRECISION_F32;
    if (precision) {
        bool known = false;
        for (int p = 0; p <= T2G_PRECISION_AUTO && !known; p++)
            if (strcmp(precision, t2g_precision_name((t2g_precision)p)) == 0) {
                o->precision = (t2g_precision)p;
                known = true;
            }
        if (!known) {
            cli_error("%s: --precision '%s': expected f32, bf16, f16 or auto", command, precision);
            return EXIT_USAGE;
        }
    }
    if ((a && (!cli_parse_u64(a, 1u << 16, &o->a) || !o->a)) || (b && (!cli_parse_u64(b, 1u << 16, &o->b) || !o->b)) ||
        (warmup && !cli_parse_u64(warmup, 1u << 16, &o->warmup)) ||
        (context && (!cli_parse_u64(context, T2G_CONTEXT_MAX, &o->context) || o->context < 2))) {
        cli_error("%s: %s and %s expect positive integers, --context an integer from 2 to %u%s", command, a_name,
                  b_name, T2G_CONTEXT_MAX, train ? ", --warmup a non-negative integer" : "");
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

/* One step with a timestamp around every dispatch: its kernels' GPU time, summed per kernel
 * (largest first), and the step's wall-clock time; the rest of the wall-clock time is overhead
 * (recording, submitting, the driver's work between dispatches, waiting). */
enum { PROFILE_KINDS = 64 };
typedef struct step_profile {
    uint32_t dispatches, kinds;
    double wall_ms, kernel_ms;
    struct kernel_total {
        char label[48]; /* copied: the recorder's labels end with it */
        double ms;
        uint32_t calls;
    } totals[PROFILE_KINDS];
} step_profile;

static int compare_totals(const void *a, const void *b) {
    double x = ((const struct kernel_total *)a)->ms, y = ((const struct kernel_total *)b)->ms;
    return (x < y) - (x > y);
}

static cJSON *profile_json(const step_profile *p) {
    cJSON *o = cJSON_CreateObject();
    cJSON_AddNumberToObject(o, "dispatches", p->dispatches);
    cJSON_AddNumberToObject(o, "wall_ms", p->wall_ms);
    cJSON_AddNumberToObject(o, "kernel_ms", p->kernel_ms);
    cJSON_AddNumberToObject(o, "overhead_ms", p->wall_ms - p->kernel_ms);
    cJSON *list = cJSON_AddArrayToObject(o, "kernels");
    for (uint32_t k = 0; k < p->kinds; k++) {
        cJSON *e = cJSON_CreateObject();
        cJSON_AddStringToObject(e, "kernel", p->totals[k].label);
        cJSON_AddNumberToObject(e, "calls", p->totals[k].calls);
        cJSON_AddNumberToObject(e, "ms", p->totals[k].ms);
        cJSON_AddItemToArray(list, e);
    }
    return o;
}

static void profile_print(const step_profile *p) {
    printf("profile of one step: %u dispatches, %.2f ms wall clock = %.2f ms of GPU time (kernels) + %.2f ms of "
           "overhead (%.1f%%)\n", p->dispatches, p->wall_ms, p->kernel_ms, p->wall_ms - p->kernel_ms,
           p->wall_ms > 0 ? 100 * (p->wall_ms - p->kernel_ms) / p->wall_ms : 0);
    for (uint32_t k = 0; k < p->kinds; k++)
        printf("  %-28s %6u calls %10.3f ms %5.1f%%\n", p->totals[k].label, p->totals[k].calls, p->totals[k].ms,
               100 * p->totals[k].ms / p->kernel_ms);
}

/* The result, with the profile of a step when there is one (NULL: none). */
static void print_result(bool json, const char *bench, const t2g_device_info *info, const bench_model *m,
                         uint32_t B, const char *keys[], const double values[], int count,
                         const step_profile *profile) {
    if (json) {
        cJSON *o = cJSON_CreateObject();
        cJSON_AddStringToObject(o, "bench", bench);
        cJSON_AddStringToObject(o, "device", info->name);
        cJSON_AddStringToObject(o, "device_type", info->type);
        bench_model_json(m, o);
        cJSON_AddNumberToObject(o, "batch", B);
        for (int i = 0; i < count; i++) cJSON_AddNumberToObject(o, keys[i], values[i]);
        if (profile) cJSON_AddItemToObject(o, "profile", profile_json(profile));
        char *text = cJSON_Print(o);
        puts(text);
        cJSON_free(text);
        cJSON_Delete(o);
        return;
    }
    if (profile) profile_print(profile);
    printf("bench %s on %s (%s), batch %u, ", bench, info->name, info->type, B);
    bench_model_print(m);
    printf(":\n");
    for (int i = 0; i < count; i++) {
        double v = values[i]; /* plain digits: 13120, not 1.312e+04 */
        if (fabs(v) >= 1000) printf("  %-22s %.0f\n", keys[i], v);
        else printf("  %-22s %.4g\n", keys[i], v);
    }
}

/* One more step with a timestamp around every dispatch, into *p. */
static t2g_status profile_step(t2g_gpt *gpt, const t2g_tensor *io, uint32_t B, uint32_t T, step_profile *p,
                               t2g_error *err) {
    t2g_recorder *rec;
    t2g_recorder_options options = {.timestamp_capacity = 8192};
    t2g_status status = t2g_recorder_create(t2g_gpt_device(gpt), &options, &rec, err);
    if (status) return status;
    double start = t2g_clock_ms();
    status = record_train_step(gpt, rec, io, B, T, 1000, err);
    if (!status) status = t2g_recorder_submit(rec, err);
    p->wall_ms = t2g_clock_ms() - start;
    const t2g_timing *timings;
    p->dispatches = status ? 0 : t2g_recorder_timings(rec, &timings);
    p->kinds = 0;
    p->kernel_ms = 0;
    for (uint32_t i = 0; i < p->dispatches; i++) {
        uint32_t k = 0;
        while (k < p->kinds && strcmp(p->totals[k].label, timings[i].label) != 0) k++;
        if (k == p->kinds && p->kinds < PROFILE_KINDS) {
            p->totals[k] = (struct kernel_total){.ms = 0};
            snprintf(p->totals[p->kinds++].label, sizeof p->totals[k].label, "%s", timings[i].label);
        }
        if (k < p->kinds) p->totals[k].ms += timings[i].ms, p->totals[k].calls++;
        p->kernel_ms += timings[i].ms;
    }
    qsort(p->totals, p->kinds, sizeof p->totals[0], compare_totals);
    t2g_recorder_destroy(rec);
    return status;
}

/* The model of the options, opened on the device; EXIT_USAGE with the message. */
static int open_model(const char *command, const bench_options *o, t2g_device *device, bench_model *m) {
    bool cpu = t2g_device_get_info(device)->kind == T2G_DEVICE_CPU;
    return bench_model_open(command, o->preset, o->model, (uint32_t)o->context, cpu, m);
}

/* EXIT_USAGE, with the sizes and advice, when the device cannot hold the model for B x T. */
static int check_memory(const char *command, const bench_model *m, t2g_device *device, uint32_t B, uint32_t T,
                        bool frozen, t2g_gpt_memory *memory) {
    t2g_error err = {0};
    if (!t2g_gpt_memory_needed(&m->config, B, T, frozen, memory, &err) &&
        !t2g_gpt_memory_check(memory, t2g_device_get_info(device), &err))
        return EXIT_OK;
    cli_error("%s (%s, batch %u): %s", command, m->path ? m->path : m->preset, B, err.message);
    return EXIT_USAGE;
}

int bench_train(int argc, char **argv) {
    bench_options o = {0};
    int code = parse(argc, argv, true, &o);
    if (code) return code < 0 ? EXIT_OK : code;
    t2g_device *device;
    double open_start = t2g_clock_ms();
    if ((code = cli_open_device(o.device, &device))) return code;
    double open_ms = t2g_clock_ms() - open_start, startup_ms = 0, first_step_ms = 0;
    const t2g_device_info *info = t2g_device_get_info(device);
    bench_model m;
    t2g_gpt_memory memory;
    if ((code = open_model("bench train", &o, device, &m))) {
        cli_close_device(device);
        return code;
    }
    uint32_t B = o.a ? (uint32_t)o.a : m.B, T = m.T, steps = o.b ? (uint32_t)o.b : 10, warmup = (uint32_t)o.warmup;
    m.config.precision = t2g_precision_for_device(o.precision, info);
    m.config.logit_rows = t2g_logit_rows_for_device((uint32_t)o.logit_rows, m.config.vocab, (uint64_t)B * T, info);
    if ((code = check_memory("bench train", &m, device, B, T, false, &memory))) {
        bench_model_close(&m);
        cli_close_device(device);
        return code;
    }
    t2g_gpt *gpt = NULL;
    t2g_arena *arena = NULL;
    t2g_recorder *rec = NULL;
    t2g_tensor io[5];
    t2g_error err = {0};
    t2g_status status = t2g_gpt_create(device, &m.config, B, T, &gpt, &err);
    if (!status) status = bench_model_weights(&m, gpt, &err);
    if (!status) status = t2g_arena_create(device, 12ull * B * T + 4096, "bench tokens", &arena, &err);
    if (!status) status = train_io(arena, (uint64_t)B * T, m.config.vocab, io, &err);
    if (!status) status = t2g_recorder_create(device, NULL, &rec, &err);
    double *ms = calloc(steps, sizeof *ms);
    for (uint32_t s = 0; s < steps + warmup && !status; s++) {
        double start = t2g_clock_ms();
        status = record_train_step(gpt, rec, io, B, T, s + 1, &err);
        if (!status) status = t2g_recorder_submit(rec, &err);
        if (s >= warmup && ms) ms[s - warmup] = t2g_clock_ms() - start;
        if (s == 0) first_step_ms = t2g_clock_ms() - start; /* it creates the pipelines */
        if (s == 0) startup_ms = open_ms + t2g_device_pipeline_stats(device).create_ms;
    }
    step_profile profile;
    if (!status && o.profile) status = profile_step(gpt, io, B, T, &profile, &err);
    if (!status && ms) {
        qsort(ms, steps, sizeof *ms, compare_doubles);
        double median = steps % 2 ? ms[steps / 2] : 0.5 * (ms[steps / 2 - 1] + ms[steps / 2]);
        const char *keys[] = {"sequence_length", "warmup_steps", "ms_per_step", "best_ms_per_step", "tokens_per_s",
                              "parameters", "device_memory_mib", "memory_estimate_mib", "startup_ms", "first_step_ms",
                              "logit_rows"};
        double values[] = {T, warmup, median, ms[0], (double)B * T / (median * 1e-3),
                           (double)t2g_gpt_parameter_count(gpt),
                           (double)(t2g_gpt_device_bytes(gpt) + t2g_arena_capacity_bytes(arena)) / (1 << 20),
                           (double)memory.total / (1 << 20), startup_ms, first_step_ms,
                           t2g_gpt_logit_rows(gpt) ? t2g_gpt_logit_rows(gpt) : (double)B * T};
        print_result(o.json, "train", info, &m, B, keys, values, 11, o.profile ? &profile : NULL);
    } else if (status) {
        cli_error("bench train (%s, batch %u): %s", m.path ? m.path : m.preset, B, err.message);
        code = EXIT_FAILED;
    }
    free(ms);
    t2g_recorder_destroy(rec);
    t2g_arena_destroy(arena);
    t2g_gpt_destroy(gpt);
    bench_model_close(&m);
    int closing = cli_close_device(device);
    return code ? code : closing;
}

/* n prompts of len ids each drawn from the model's ordinary tokens (*count of them), seeded:
 * rows[i] is prompt i. */
static t2g_status random_prompts(const bench_model *m, uint32_t n, uint32_t len, uint32_t **prompts,
                                 const uint32_t **rows, uint32_t *lengths, uint32_t *count, t2g_error *err) {
    uint32_t *ids;
    t2g_status status = bench_model_prompt_ids(m, &ids, count, err);
    if (status) return status;
    *prompts = malloc((size_t)n * len * sizeof **prompts);
    if (!*prompts) status = t2g_fail(err, T2G_ERR_MEMORY, "out of host memory");
    t2g_rng rng = t2g_rng_seeded(3);
    for (uint32_t i = 0; !status && i < n; i++) {
        for (uint32_t k = 0; k < len; k++) (*prompts)[(size_t)i * len + k] = ids[t2g_rng_below(&rng, *count)];
        rows[i] = *prompts + (size_t)i * len;
        lengths[i] = len;
    }
    free(ids);
    return status;
}

int bench_rollout(int argc, char **argv) {
    bench_options o = {0};
    int code = parse(argc, argv, false, &o);
    if (code) return code < 0 ? EXIT_OK : code;
    t2g_device *device;
    double open_start = t2g_clock_ms();
    if ((code = cli_open_device(o.device, &device))) return code;
    double open_ms = t2g_clock_ms() - open_start, first_ms = 0;
    const t2g_device_info *info = t2g_device_get_info(device);
    bench_model m;
    t2g_gpt_memory memory;
    if ((code = open_model("bench rollout", &o, device, &m))) {
        cli_close_device(device);
        return code;
    }
    uint32_t n = o.a ? (uint32_t)o.a : 64, new_tokens = o.b ? (uint32_t)o.b : m.T / 2 < 128 ? m.T / 2 : 128;
    /* prompts of 64 tokens, as the yardstick, or shorter where the context is short; or as asked */
    uint32_t prompt_len = new_tokens < m.T ? m.T - new_tokens : 0;
    if (o.prompt_tokens && o.prompt_tokens > prompt_len) {
        cli_error("bench rollout: --prompt-tokens %llu and --new %u do not fit in a context of %u (--context or the %s's)",
                  (unsigned long long)o.prompt_tokens, new_tokens, m.T, m.path ? "model" : "preset");
        code = EXIT_USAGE;
    }
    if (o.prompt_tokens) prompt_len = (uint32_t)o.prompt_tokens;
    else if (prompt_len > 64) prompt_len = 64;
    if (!code && prompt_len == 0) {
        cli_error("bench rollout: --new %u leaves no room for a prompt in a context of %u (--context or the %s's)",
                  new_tokens, m.T, m.path ? "model" : "preset");
        code = EXIT_USAGE;
    }
    m.config.precision = t2g_precision_for_device(o.precision, info);
    if (!code) code = check_memory("bench rollout", &m, device, 1, 1, true, &memory);
    if (code) {
        bench_model_close(&m);
        cli_close_device(device);
        return code;
    }
    t2g_gpt *gpt = NULL;
    t2g_generator *generator = NULL;
    t2g_generation generation = {0};
    t2g_error err = {0};
    uint32_t *prompts = NULL, prompt_vocab = 0;
    const uint32_t **rows = malloc(n * sizeof *rows);
    uint32_t *lengths = malloc(n * sizeof *lengths);
    t2g_status status = rows && lengths ? T2G_OK : t2g_fail(&err, T2G_ERR_MEMORY, "out of host memory");
    if (!status) status = random_prompts(&m, n, prompt_len, &prompts, rows, lengths, &prompt_vocab, &err);
    if (!status) status = t2g_gpt_create_frozen(device, &m.config, 1, 1, &gpt, &err);
    if (!status) status = bench_model_weights(&m, gpt, &err);
    if (!status) status = t2g_generator_create(gpt, n, &generator, &err);
    if (!status) t2g_generator_set_prefill(generator, !o.no_prefill);
    t2g_sampling sampling = t2g_sampling_default();
    sampling.max_new_tokens = new_tokens;
    sampling.stop_at_eos = false;
    double ms = 0;
    for (int run = 0; run < 2 && !status; run++) { /* the first run builds the pipelines */
        t2g_generation_free(&generation);
        double start = t2g_clock_ms();
        status = t2g_generate(generator, rows, lengths, n, &sampling, &generation, &err);
        ms = t2g_clock_ms() - start;
        if (run == 0) first_ms = ms;
    }
    if (!status) {
        const char *keys[] = {"ms", "new_tokens_per_s", "prompts", "prompt_tokens", "prompt_vocab", "new_tokens_each",
                              "parameters", "startup_ms", "first_run_ms", "prefill"};
        double values[] = {ms, (double)n * new_tokens / (ms * 1e-3), n, prompt_len, prompt_vocab, new_tokens,
                           (double)t2g_gpt_parameter_count(gpt), open_ms + t2g_device_pipeline_stats(device).create_ms,
                           first_ms, !o.no_prefill};
        print_result(o.json, "rollout", info, &m, n, keys, values, 10, NULL);
    } else {
        cli_error("bench rollout (%s): %s", m.path ? m.path : m.preset, err.message);
        code = EXIT_FAILED;
    }
    t2g_generation_free(&generation);
    t2g_generator_destroy(generator);
    t2g_gpt_destroy(gpt);
    bench_model_close(&m);
    free(prompts);
    free(rows);
    free(lengths);
    int closing = cli_close_device(device);
    return code ? code : closing;
}
