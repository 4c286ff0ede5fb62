/* Rules between settings that t2g applies rather than refuses: clamps where the intent is
 * clear (each with a note the CLI prints), and the model a run takes from its start. */
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>

#include "t2g/config.h"
#include "t2g/model_path.h"

static void note(t2g_config_notes *notes, const char *format, ...) __attribute__((format(printf, 2, 3)));
static void note(t2g_config_notes *notes, const char *format, ...) {
    if (!notes || notes->count == T2G_CONFIG_NOTES) return;
    va_list args;
    va_start(args, format);
    vsnprintf(notes->text[notes->count++], sizeof notes->text[0], format, args);
    va_end(args);
}

/* Whether the run starts from a pretrained model made elsewhere (a Hugging Face folder or a GGUF
 * file), whose fine-tuning wants a far smaller learning rate than training from scratch. */
static bool starts_pretrained(const t2g_config *c, bool rl) {
    const char *start = rl ? c->rl.start : c->model_from;
    t2g_model_path_kind kind;
    char resolved[1024];
    t2g_error ignored = {0};
    return start[0] && !t2g_model_path(start, &kind, resolved, sizeof resolved, &ignored) &&
           (kind == T2G_MODEL_HF || kind == T2G_MODEL_GGUF);
}

void t2g_config_adjust(t2g_config *c, bool rl, t2g_config_notes *notes) {
    if (notes) notes->count = 0;
    if (!t2g_config_given(c, "optim.lr") && c->optim.lr > 1e-4 && starts_pretrained(c, rl))
        note(notes, "optim.lr is %g, the default for training from scratch; fine-tuning a pretrained model usually "
             "takes 1e-5 to 1e-4 (e.g. --set optim.lr=2e-5)", c->optim.lr);
    if (c->schedule.warmup_steps > c->steps) {
        note(notes, "schedule.warmup_steps (%u) is longer than the run (train.steps = %u): warm-up set to %u step%s",
             c->schedule.warmup_steps, c->steps, c->steps, c->steps == 1 ? "" : "s");
        c->schedule.warmup_steps = c->steps;
    }
    uint64_t responses = (uint64_t)c->rl.prompts * c->rl.samples_per_prompt;
    uint64_t batch = rl ? responses : c->batch_size;
    const char *what = rl ? "rl.prompts x rl.samples_per_prompt" : "train.batch_size";
    if (c->micro_batch > batch) {
        note(notes, "train.micro_batch (%u) is larger than the batch (%s = %llu): micro-batch set to %llu",
             c->micro_batch, what, (unsigned long long)batch, (unsigned long long)batch);
        c->micro_batch = (uint32_t)batch;
        /* an RL run never reads train.batch_size, but validation wants the micro-batch to divide it */
        if (rl && c->batch_size % c->micro_batch) c->batch_size = c->micro_batch;
    }
}

/* The keys of the model's architecture, and how to show each one's value. */
typedef enum model_kind { MODEL_U32, MODEL_F64, MODEL_ARCH } model_kind;
typedef struct model_key {
    const char *path;
    size_t offset;
    model_kind kind;
} model_key;

#define MODEL_KEY(name, field, kind) {"model." name, offsetof(t2g_model_config, field), kind}
static const model_key model_keys[] = {
    MODEL_KEY("arch", arch, MODEL_ARCH),         MODEL_KEY("vocab", vocab, MODEL_U32),
    MODEL_KEY("context", context, MODEL_U32),    MODEL_KEY("layers", layers, MODEL_U32),
    MODEL_KEY("heads", heads, MODEL_U32),        MODEL_KEY("width", width, MODEL_U32),
    MODEL_KEY("kv_heads", kv_heads, MODEL_U32),  MODEL_KEY("ffn_width", ffn_width, MODEL_U32),
    MODEL_KEY("rope_theta", rope_theta, MODEL_F64), MODEL_KEY("norm_eps", norm_eps, MODEL_F64),
    MODEL_KEY("qkv_bias", qkv_bias, MODEL_U32),  MODEL_KEY("tied_head", tied_head, MODEL_U32),
};

/* The key's value in `m` as the config spells it. */
static void model_value(const t2g_model_config *m, const model_key *k, char *text, size_t size) {
    const char *at = (const char *)m + k->offset;
    if (k->kind == MODEL_F64) {
        double v;
        memcpy(&v, at, sizeof v);
        snprintf(text, size, "%.17g", v);
    } else if (k->kind == MODEL_ARCH) {
        snprintf(text, size, "\"%s\"", m->arch == T2G_ARCH_LLAMA ? "llama" : "gpt2");
    } else {
        uint32_t v;
        memcpy(&v, at, sizeof v);
        snprintf(text, size, "%u", v);
    }
}

/* model.chat_template does not exist yet; when it does, it is the other key a run may set. */
t2g_status t2g_config_take_model(t2g_config *c, const t2g_model_config *start, const char *start_name, t2g_error *err) {
    for (size_t i = 0; i < sizeof model_keys / sizeof model_keys[0]; i++) {
        const model_key *k = &model_keys[i];
        char mine[64], theirs[64];
        model_value(&c->model, k, mine, sizeof mine);
        model_value(start, k, theirs, sizeof theirs);
        if (strcmp(mine, theirs) == 0 || !t2g_config_given(c, k->path)) continue;
        if (strcmp(k->path, "model.context") == 0)
            return t2g_fail(err, T2G_ERR_FORMAT,
                            "model.context: the run starts from %s, a model of context %s; the config gives %s. A "
                            "longer context than the start's is impossible and a shorter one is not supported yet (its "
                            "position table is part of the model): leave model.context out or set it to %s",
                            start_name, theirs, mine, theirs);
        return t2g_fail(err, T2G_ERR_FORMAT,
                        "%s: the run starts from %s, whose %s is %s; the config gives %s. The architecture comes from "
                        "the start's model: leave %s out of the config",
                        k->path, start_name, k->path, theirs, mine, k->path);
    }
    c->model = *start;
    return T2G_OK;
}
