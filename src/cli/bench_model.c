/* The model of t2g bench train and t2g bench rollout: a preset, or --model with its weights. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bench_model.h"

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

static const preset *find_preset(const char *name, bool cpu) {
    if (!name) return cpu ? &PRESETS[2] : &PRESETS[0];
    for (size_t i = 0; i < sizeof PRESETS / sizeof PRESETS[0]; i++)
        if (strcmp(name, PRESETS[i].name) == 0) return &PRESETS[i];
    return NULL;
}

/* --model: the path checked as every command checks it, then opened with its context at most
 * --context (a checkpoint keeps its own). */
static int open_path(const char *command, const char *path, uint32_t context, bench_model *m) {
    const char *checked;
    if (cli_model_arg(command, NULL, path, &checked)) return EXIT_USAGE;
    t2g_error err = {0};
    if (t2g_model_source_open(path, context, &m->source, &err)) {
        cli_error("%s: %s", command, err.message);
        return EXIT_USAGE;
    }
    m->path = path;
    m->config = m->source.config.model;
    m->B = 8;
    return EXIT_OK;
}

int bench_model_open(const char *command, const char *preset_name, const char *path, uint32_t context, bool cpu,
                     bench_model *m) {
    memset(m, 0, sizeof *m);
    if (preset_name && path) {
        cli_error("%s: give --model or --preset, not both (--model %s has its own shape)", command, path);
        return EXIT_USAGE;
    }
    const preset *p = path ? NULL : find_preset(preset_name, cpu);
    if (path) {
        int code = open_path(command, path, context, m);
        if (code) return code;
    } else if (!p) {
        cli_error("%s: --preset expects " BENCH_PRESET_NAMES ", got '%s'", command, preset_name);
        return EXIT_USAGE;
    } else {
        m->preset = p->name;
        m->config = p->model;
        m->B = p->B;
    }
    if (context > m->config.context) {
        cli_error("%s: --context %u is longer than the %s's context %u (%s %s)", command, context,
                  path ? "model" : "preset", m->config.context, path ? "--model" : "--preset", path ? path : p->name);
        bench_model_close(m);
        return EXIT_USAGE;
    }
    if (context && p) m->config.context = context;
    m->T = context ? context : m->config.context;
    return EXIT_OK;
}

void bench_model_close(bench_model *m) {
    if (m->path) t2g_model_source_close(&m->source);
    m->path = NULL;
}

t2g_status bench_model_weights(bench_model *m, t2g_gpt *gpt, t2g_error *err) {
    return m->path ? t2g_model_source_write(&m->source, gpt, true, err) : t2g_gpt_init(gpt, 1, err);
}

/* Whether the token decodes to some bytes once special tokens are left out. */
static bool ordinary_token(const t2g_text *text, uint32_t id) {
    char *bytes = NULL;
    size_t len = 0;
    t2g_error ignored;
    bool some = !t2g_text_decode(text, &id, 1, true, &bytes, &len, &ignored) && len > 0;
    free(bytes);
    return some;
}

t2g_status bench_model_prompt_ids(const bench_model *m, uint32_t **ids, uint32_t *count, t2g_error *err) {
    const t2g_text *text = m->path ? m->source.text : NULL;
    uint32_t limit = text ? t2g_text_vocab(text) : 256;
    if (limit > m->config.vocab) limit = m->config.vocab;
    *count = 0;
    *ids = malloc((limit ? limit : 1) * sizeof **ids);
    if (!*ids) return t2g_fail(err, T2G_ERR_MEMORY, "out of host memory");
    for (uint32_t id = 0; id < limit; id++)
        if (!text || ordinary_token(text, id)) (*ids)[(*count)++] = id;
    if (*count) return T2G_OK;
    free(*ids);
    *ids = NULL;
    return t2g_fail(err, T2G_ERR_FORMAT, "%s: its tokenizer has no token but special ones to make a prompt of",
                    m->path);
}

void bench_model_json(const bench_model *m, cJSON *o) {
    if (m->path) {
        cJSON *model = cJSON_AddObjectToObject(o, "model");
        cJSON_AddStringToObject(model, "path", m->path);
        cJSON_AddStringToObject(model, "kind", t2g_model_path_kind_name(m->source.kind));
    } else {
        cJSON_AddStringToObject(o, "preset", m->preset);
    }
    const t2g_model_config *c = &m->config;
    cJSON_AddStringToObject(o, "arch", c->arch == T2G_ARCH_LLAMA ? "llama" : "gpt2");
    cJSON_AddNumberToObject(o, "vocab", c->vocab);
    cJSON_AddNumberToObject(o, "context", c->context);
    cJSON_AddNumberToObject(o, "layers", c->layers);
    cJSON_AddNumberToObject(o, "heads", c->heads);
    cJSON_AddNumberToObject(o, "kv_heads", t2g_model_kv_heads(c));
    cJSON_AddNumberToObject(o, "width", c->width);
    cJSON_AddNumberToObject(o, "ffn_width", t2g_model_ffn_width(c));
    cJSON_AddStringToObject(o, "precision", t2g_precision_name(c->precision));
}

void bench_model_print(const bench_model *m) {
    const t2g_model_config *c = &m->config;
    if (m->path) printf("model %s (%s)", m->path, t2g_model_path_kind_name(m->source.kind));
    else printf("preset %s", m->preset);
    printf(": %s, vocab %u, context %u, %u layers, %u heads (%u kv), width %u, ffn %u, %s",
           c->arch == T2G_ARCH_LLAMA ? "llama" : "gpt2", c->vocab, c->context, c->layers, c->heads,
           t2g_model_kv_heads(c), c->width, t2g_model_ffn_width(c), t2g_precision_name(c->precision));
}
