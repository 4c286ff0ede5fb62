/* The run config. One table of keys (T2G_CONFIG_KEY_LIST below) drives everything: parsing a
 * file, --set, the JSON written back, range checks and the documented key list. A key's type
 * comes from its field's C type (_Generic), so the table cannot disagree with the struct.
 *
 * Integers are JSON numbers, i.e. doubles: every integer key is refused above 2^53 - 1, so a
 * value read is always exactly the value written (2^53 + 1 would silently become 2^53). */
#include <ctype.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>

#include "t2g/config.h"
#include "t2g/gpt.h" /* T2G_LOGIT_ROWS_STEP */

enum key_kind { KIND_STRING, KIND_U32, KIND_U64, KIND_F64, KIND_ENUM };

/* Flags of a key: open bounds, and checks on strings. */
enum {
    OPEN_MIN = 1,  /* min itself is refused */
    OPEN_MAX = 2,  /* max itself is refused */
    NON_EMPTY = 4, /* a string that must not be "" */
    DIR_NAME = 8,  /* a string used in a directory name: letters, digits, '-', '_', '.' */
};

#define MAX_EXACT 9007199254740991.0 /* 2^53 - 1: the largest integer a JSON number holds exactly */
#define U32_MAX 4294967295.0
#define PATH_BYTES 256 /* the longest dotted path handled; longer ones are unknown anyway */

/* X(path, field, min, max, flags, help): the path is the key in files and --set; the field is
 * where it lives in t2g_config. Limits are inclusive unless flagged open; strings have none
 * (they must fit their buffer).
 * E(path, field, NAMES(...), help): a key that takes one of the names; the field is an enum of
 * t2g/config.h whose values are the names' indices. */
#define NAMES(...) ((const char *const[]){__VA_ARGS__, NULL})
#define T2G_CONFIG_KEY_LIST(X, E)                                                                           \
    X("name", name, 0, 0, NON_EMPTY | DIR_NAME, "the run's name: its files go to runs/<name>-<timestamp>/")  \
    X("seed", seed, 0, MAX_EXACT, 0, "seed of parameter initialisation and sampling (below 2^53)")          \
    X("device", device, 0, 0, 0, "device index or part of its name; \"\" = $T2G_DEVICE or the best one")     \
    E("model.arch", model.arch, NAMES("gpt2", "llama"), "\"gpt2\" (LayerNorm, learned positions, GELU) or \"llama\" (RMSNorm, RoPE, GQA, SwiGLU)") \
    X("model.vocab", model.vocab, 1, 16777216, 0, "vocabulary size: 259 for the byte-level tokenizer")      \
    X("model.context", model.context, 2, T2G_CONTEXT_MAX, 0, "the longest sequence in tokens (T)")                   \
    X("model.layers", model.layers, 1, 1024, 0, "transformer blocks")                                       \
    X("model.heads", model.heads, 1, 65536, 0, "attention heads; divides model.width, head size <= 128")   \
    X("model.width", model.width, 1, 65536, 0, "embedding width (C)")                                       \
    X("model.kv_heads", model.kv_heads, 0, 65536, 0, "llama: key/value heads, dividing model.heads; 0 = model.heads") \
    X("model.ffn_width", model.ffn_width, 0, 1048576, 0, "the MLP's hidden width; 0 = 4 x model.width")     \
    X("model.rope_theta", model.rope_theta, 1, 1e12, 0, "llama: the rotary embedding's base")               \
    X("model.norm_eps", model.norm_eps, 0, 1, OPEN_MIN, "the epsilon of every LayerNorm/RMSNorm (gpt2: 1e-5)") \
    X("model.qkv_bias", model.qkv_bias, 0, 1, 0, "llama: 1 = q/k/v projections have biases (Qwen2); gpt2 always has them") \
    X("model.tied_head", model.tied_head, 0, 1, 0, "1 = the output head is the token embedding; llama may untie it") \
    X("model.from", model_from, 0, 0, 0, "t2g train: start from this model (a t2g checkpoint, run folder or Hugging Face folder); its architecture is used") \
    E("model.chat_template", chat_template, NAMES("auto", "none", "chatml", "llama3"), "how prompts are wrapped for the model: \"auto\" (the template its tokenizer_config.json names; none for t2g's byte models), \"none\", \"chatml\" (SmolLM2, Qwen2.5), \"llama3\"") \
    X("model.system_prompt", system_prompt, 0, 0, 0, "the chat template's system turn; \"\" = the template's own default (SmolLM2's, Qwen2.5's), if any") \
    X("data.task", data.task, 0, 0, 0, "built-in task (\"arith\", \"facts\"); \"\" to read data.path")      \
    X("data.examples", data.examples, 1, U32_MAX, 0, "demonstrations the task generates (t2g rl: its prompt pool)") \
    X("data.path", data.path, 0, 0, 0, "a file of examples: JSONL (format \"sft\") or text (\"text\")")     \
    E("data.format", data.format, NAMES("sft", "text"), "\"sft\" (prompt/response pairs) or \"text\" (language modelling)") \
    X("data.seed", data.seed, 0, MAX_EXACT, 0, "seed of task generation and shuffling (below 2^53)")        \
    X("data.max_line_bytes", data.max_line_bytes, 1, 1099511627776.0, 0, "the longest line of a JSONL file, in bytes") \
    X("data.parse_special", data.parse_special, 0, 1, 0, "1: special-token texts in data, prompts and responses (\"<|im_end|>\") become those tokens; 0: plain text") \
    X("optim.lr", optim.lr, 0, 10, 0, "peak learning rate of AdamW")                                        \
    X("optim.beta1", optim.beta1, 0, 1, OPEN_MAX, "AdamW's first-moment decay, in [0, 1)")                  \
    X("optim.beta2", optim.beta2, 0, 1, OPEN_MAX, "AdamW's second-moment decay, in [0, 1)")                 \
    X("optim.epsilon", optim.epsilon, 0, 1, OPEN_MIN, "AdamW's epsilon, in (0, 1]")                         \
    X("optim.weight_decay", optim.weight_decay, 0, 10, 0, "decoupled weight decay of matrices and embeddings") \
    X("optim.grad_clip", optim.grad_clip, 0, INFINITY, OPEN_MAX, "clip the global gradient norm to this; 0 = off") \
    E("schedule.kind", schedule.kind, NAMES("cosine", "constant"), "learning-rate schedule: \"cosine\" or \"constant\"") \
    X("schedule.warmup_steps", schedule.warmup_steps, 0, U32_MAX, 0, "steps of linear warmup from 0")       \
    X("schedule.min_lr_fraction", schedule.min_lr_fraction, 0, 1, 0, "the cosine's floor, as a fraction of optim.lr") \
    X("train.batch_size", batch_size, 1, 1048576, 0, "sequences per optimizer step")                        \
    X("train.micro_batch", micro_batch, 1, 1048576, 0, "sequences per forward/backward; divides train.batch_size") \
    X("train.steps", steps, 1, U32_MAX, 0, "optimizer steps")                                               \
    X("train.log_every", log_every, 1, U32_MAX, 0, "a progress line every this many steps (metrics has all)") \
    E("train.precision", precision, NAMES("f32", "bf16", "f16", "auto"), "storage of the matmul weights' copies and the activations that feed matmuls: \"f32\", \"bf16\", \"f16\" (f32 master weights, moments and sums) or \"auto\" (the device's best)") \
    X("train.logit_rows", logit_rows, 0, 1048576, 0, "t2g train and rl: the head and the cross-entropy run over this many rows (positions) of logits at a time, a multiple of 64, so the logits take rows x vocab floats rather than micro-batch x context x vocab; 0 = auto: a micro-batch's whole where they fit one storage binding and an eighth of the device's memory, else pieces of at most 256 MiB") \
    E("train.on_nonfinite", on_nonfinite, NAMES("stop", "skip"), "a NaN/Inf loss or gradient: \"stop\" (exit 1, keep the last good checkpoint) or \"skip\" the update") \
    X("eval.every", eval.every, 0, U32_MAX, 0, "steps between evaluations; 0 = only at the end")            \
    X("eval.examples", eval.examples, 0, U32_MAX, 0, "task examples scored per evaluation")                 \
    X("eval.samples", eval.samples, 0, U32_MAX, 0, "responses kept in the run directory per evaluation")    \
    X("eval.max_new_tokens", eval.max_new_tokens, 1, U32_MAX, 0, "longest generated response, in tokens")   \
    X("eval.path", eval.path, 0, 0, 0, "held-out JSONL of prompt/response rows scored by loss, exact match, BLEU-4, ROUGE-L") \
    X("checkpoint.every", checkpoint.every, 0, U32_MAX, 0, "steps between checkpoints; 0 = only at the end") \
    X("rl.start", rl.start, 0, 0, 0, "t2g rl: the model (checkpoint, run folder or Hugging Face folder) the policy and the frozen reference start from; its model is the run's") \
    E("rl.reward_granularity", rl.reward_granularity, NAMES("span", "scalar"), "\"span\" (Text2Grad: token rewards) or \"scalar\" (PPO)") \
    X("rl.prompts", rl.prompts, 1, 65536, 0, "prompts per RL step")                                         \
    X("rl.samples_per_prompt", rl.samples_per_prompt, 1, 1024, 0, "responses sampled per prompt")         \
    X("rl.max_new_tokens", rl.max_new_tokens, 1, U32_MAX, 0, "longest sampled response, in tokens")         \
    X("rl.temperature", rl.temperature, 0, 100, 0, "rollout sampling temperature (0 = greedy); PPO scores tokens at 1, so other values make the updates off-policy") \
    X("rl.top_k", rl.top_k, 0, U32_MAX, 0, "rollout top-k (0 = off)")                                      \
    X("rl.top_p", rl.top_p, 0, 1, OPEN_MIN, "rollout nucleus probability (1 = off)")                      \
    X("rl.ppo_epochs", rl.ppo_epochs, 1, 1024, 0, "PPO passes over each rollout batch")                    \
    X("rl.minibatches", rl.minibatches, 1, 65536, 0, "optimizer steps per PPO pass")                        \
    X("rl.clip", rl.clip, 0, 1, OPEN_MIN, "policy ratio clip epsilon")                                      \
    X("rl.value_clip", rl.value_clip, 0, INFINITY, OPEN_MIN | OPEN_MAX, "value clip")                      \
    X("rl.value_coef", rl.value_coef, 0, 1000, 0, "value loss coefficient")                                 \
    X("rl.value_lr_scale", rl.value_lr_scale, 0, 1e6, 0, "the value head's learning rate over the policy's")  \
    X("rl.gamma", rl.gamma, 0, 1, 0, "GAE discount")                                                        \
    X("rl.lambda", rl.lambda, 0, 1, 0, "GAE lambda")                                                        \
    X("rl.log_ratio_clamp", rl.log_ratio_clamp, 0, 100, OPEN_MIN, "clamp of |log ratio| before exp")        \
    E("rl.kl", rl.kl, NAMES("k1", "full"), "per-token KL to the reference: \"k1\" (log ratio) or \"full\" (vocabulary)") \
    X("rl.kl_beta", rl.kl_beta, 0, 1000, 0, "the KL penalty's initial coefficient")                         \
    X("rl.kl_target", rl.kl_target, 0, 1e9, 0, "adaptive beta's target KL per sequence; 0 = fixed beta")   \
    X("rl.kl_horizon", rl.kl_horizon, 1, 1e12, 0, "adaptive beta's horizon, in samples")                    \
    X("rl.score_good", rl.score_good, -1000, 1000, 0, "token score of a good span")                          \
    X("rl.score_poor", rl.score_poor, -1000, 1000, 0, "token score of a poor span")                         \
    X("rl.score_neutral", rl.score_neutral, -1000, 1000, 0, "token score of a neutral span")                \
    X("rl.score_unannotated", rl.score_unannotated, -1000, 1000, 0, "token score outside every span")       \
    X("rl.score_weight", rl.score_weight, 0, 1000, 0, "span mode: the critic's overall score on the last token, times this; 1: a whole answer judged bad, even an empty one with nothing to quote, costs as much as one poor token; 0: spans only") \
    X("rl.zero_punctuation", rl.zero_punctuation, 0, 1, 0, "1: whitespace/punctuation-only tokens score 0") \
    X("rl.fuzzy_threshold", rl.fuzzy_threshold, 0, 1, OPEN_MIN, "lowest similarity of a fuzzy span match") \
    X("rl.samples_kept", rl.samples_kept, 0, 65536, 0, "responses with critiques kept per step in the run") \
    E("critic.kind", critic.kind, NAMES("builtin", "external", "http", "model"), "\"builtin\" (the task's critic), \"external\" (critic.command), \"http\" (an OpenAI-compatible server: critic.url) or \"model\" (a language model t2g runs: critic.model_path)") \
    X("critic.command", critic.command, 0, 0, 0, "the external critic's command line (/bin/sh -c)")          \
    X("critic.workers", critic.workers, 1, 1024, 0, "external critic processes, HTTP requests in flight, or critiques a model critic writes at once") \
    X("critic.timeout_ms", critic.timeout_ms, 1, U32_MAX, 0, "external or http critic: time per sample (per request)") \
    X("critic.retries", critic.retries, 0, 100, 0, "external or http critic: further attempts of a failed sample") \
    X("critic.url", critic.url, 0, 0, 0, "http critic: the server's base URL (http://host:port/v1) or its full .../chat/completions URL") \
    X("critic.model", critic.model, 0, 0, 0, "http critic: the model name the server is asked for (\"\": none sent)") \
    X("critic.api_key_env", critic.api_key_env, 0, 0, 0, "http critic: the environment variable holding the API key (the key is never written anywhere); \"\": no key") \
    E("critic.json_mode", critic.json_mode, NAMES("auto", "on", "off"), "http critic: ask for JSON output (response_format): \"auto\" (until the server refuses it), \"on\", \"off\"") \
    X("critic.model_path", critic.model_path, 0, 0, 0, "model critic: the model (a GGUF file or Hugging Face folder), frozen, on the policy's device") \
    X("critic.context", critic.context, 0, T2G_CONTEXT_MAX, 0, "model critic: the longest critique prompt plus critique, in tokens; 0 = the model's own context") \
    E("critic.constrain", critic.constrain, NAMES("json", "substrings", "none"), "model critic: \"json\" (only tokens that keep the critique valid JSON), \"substrings\" (and quoted spans are substrings of the response) or \"none\"") \
    X("critic.temperature", critic.temperature, 0, 100, 0, "http and model critics: sampling temperature (0: greedy)") \
    X("critic.max_tokens", critic.max_tokens, 1, 1048576, 0, "http and model critics: the longest critique, in tokens") \
    X("critic.prompt_file", critic.prompt_file, 0, 0, 0, "http and model critics: the critique prompt's template ({{prompt}}, {{response}}, {{reference}}, {{#reference}}...{{/reference}}); \"\": the built-in one") \
    X("critic.cache", critic.cache, 0, 0, 0, "http and model critics: the critique cache (JSONL); \"\": critiques.jsonl in the run folder; \"none\": no cache") \
    X("critic.max_spans", critic.max_spans, 0, U32_MAX, 0, "spans one critique may quote; more: a critic failure") \
    X("critic.max_bytes", critic.max_bytes, 1, 1099511627776.0, 0, "bytes one critique may have; more: a critic failure")

#define FIELD(f) (((t2g_config *)0)->f)
#define KIND_OF(f) _Generic(FIELD(f), uint32_t: KIND_U32, uint64_t: KIND_U64, double: KIND_F64, char *: KIND_STRING)
#define TYPE_OF(f) _Generic(FIELD(f), uint32_t: "integer", uint64_t: "integer", double: "number", char *: "string")

typedef struct key_spec {
    const char *path;
    enum key_kind kind;
    size_t offset, size;
    double min, max;
    unsigned flags;
    const char *const *names; /* KIND_ENUM: the names, NULL-terminated */
} key_spec;

#define SPEC_ENTRY(path, f, lo, hi, fl, help) {path, KIND_OF(f), offsetof(t2g_config, f), sizeof FIELD(f), lo, hi, fl, NULL},
#define ENUM_SPEC_ENTRY(path, f, names, help) {path, KIND_ENUM, offsetof(t2g_config, f), sizeof FIELD(f), 0, 0, 0, names},
static const key_spec specs[] = {T2G_CONFIG_KEY_LIST(SPEC_ENTRY, ENUM_SPEC_ENTRY)};

#define PUBLIC_ENTRY(path, f, lo, hi, fl, help) {path, TYPE_OF(f), help},
#define ENUM_PUBLIC_ENTRY(path, f, names, help) {path, "string", help},
static const t2g_config_key public_keys[] = {T2G_CONFIG_KEY_LIST(PUBLIC_ENTRY, ENUM_PUBLIC_ENTRY)};

/* An enum field is read and written as an unsigned. */
#define NO_CHECK(path, f, lo, hi, fl, help)
#define ENUM_SIZE_CHECK(path, f, names, help) _Static_assert(sizeof FIELD(f) == sizeof(unsigned), path " is an unsigned");
T2G_CONFIG_KEY_LIST(NO_CHECK, ENUM_SIZE_CHECK)

#define KEY_COUNT (sizeof specs / sizeof specs[0])
_Static_assert(KEY_COUNT <= 64 * sizeof FIELD(given) / sizeof FIELD(given)[0], "t2g_config.given has a bit per key");

static void mark_given(t2g_config *c, const key_spec *k) {
    size_t i = (size_t)(k - specs);
    c->given[i / 64] |= 1ull << (i % 64);
}

size_t t2g_config_keys(const t2g_config_key **keys) {
    if (keys) *keys = public_keys;
    return KEY_COUNT;
}

t2g_config t2g_config_defaults(void) {
    t2g_config c;
    memset(&c, 0, sizeof c);
    strcpy(c.name, "run");
    c.seed = 1;
    c.device[0] = '\0';
    c.model = (t2g_model_config){.arch = T2G_ARCH_GPT2, .vocab = 259, .context = 64, .layers = 2, .heads = 4,
                                 .width = 64, .rope_theta = 10000, .norm_eps = 1e-5, .tied_head = 1};
    strcpy(c.data.task, "arith");
    c.data.examples = 20000;
    c.data.path[0] = '\0';
    c.data.format = T2G_DATA_SFT;
    c.data.seed = 1;
    c.data.max_line_bytes = 1u << 20;
    c.optim.lr = 1e-3;
    c.optim.beta1 = 0.9;
    c.optim.beta2 = 0.95;
    c.optim.epsilon = 1e-8;
    c.optim.weight_decay = 0.1;
    c.optim.grad_clip = 1.0;
    c.schedule.kind = T2G_SCHEDULE_COSINE;
    c.schedule.warmup_steps = 20;
    c.schedule.min_lr_fraction = 0.1;
    c.batch_size = 32;
    c.micro_batch = 32;
    c.steps = 300;
    c.log_every = 10;
    c.on_nonfinite = T2G_ON_NONFINITE_STOP;
    c.precision = T2G_PRECISION_F32;
    c.eval.every = 100;
    c.eval.examples = 100;
    c.eval.samples = 5;
    c.eval.max_new_tokens = 16;
    c.checkpoint.every = 0;
    c.rl.reward_granularity = T2G_REWARD_SPAN;
    c.rl.prompts = 16;
    c.rl.samples_per_prompt = 4;
    c.rl.max_new_tokens = 16;
    c.rl.temperature = 1.0;
    c.rl.top_k = 0;
    c.rl.top_p = 1.0;
    c.rl.ppo_epochs = 4;
    c.rl.minibatches = 1;
    c.rl.clip = 0.2;
    c.rl.value_clip = 0.2;
    c.rl.value_coef = 0.1;
    c.rl.value_lr_scale = 1.0;
    c.rl.gamma = 1.0;
    c.rl.lambda = 0.95;
    c.rl.log_ratio_clamp = 20.0;
    c.rl.kl = T2G_KL_K1;
    c.rl.kl_beta = 0.1;
    c.rl.kl_target = 6.0;
    c.rl.kl_horizon = 10000.0;
    c.rl.score_good = 1.0;
    c.rl.score_poor = -1.0;
    c.rl.score_neutral = 0.0;
    c.rl.score_unannotated = 0.0;
    c.rl.score_weight = 1.0;
    c.rl.zero_punctuation = 1;
    c.rl.fuzzy_threshold = 0.7;
    c.rl.samples_kept = 4;
    c.critic.kind = T2G_CRITIC_BUILTIN;
    c.critic.workers = 4;
    c.critic.timeout_ms = 10000;
    c.critic.retries = 2;
    c.critic.max_spans = 256;
    c.critic.max_bytes = 1u << 20;
    c.critic.json_mode = T2G_CRITIC_JSON_AUTO;
    c.critic.context = 2048;
    c.critic.constrain = T2G_CRITIC_CONSTRAIN_JSON;
    c.critic.temperature = 0.0;
    c.critic.max_tokens = 512;
    return c;
}

/* ---- numbers as text: the shortest of %.15g..%.17g that reads back as the same double ---- */

static void format_double(char *out, size_t size, double v) {
    if (!isfinite(v)) {
        snprintf(out, size, "null");
        return;
    }
    for (int precision = 15; precision <= 17; precision++) {
        snprintf(out, size, "%.*g", precision, v);
        if (strtod(out, NULL) == v) return;
    }
}

/* ---- keys that take names ---- */

static unsigned name_count(const key_spec *k) {
    unsigned n = 0;
    while (k->names[n]) n++;
    return n;
}

/* "\"k1\" or \"full\"", "\"a\", \"b\" or \"c\"" */
static void format_names(char *out, size_t size, const key_spec *k) {
    unsigned n = name_count(k);
    size_t used = 0;
    out[0] = '\0';
    for (unsigned i = 0; i < n && used < size; i++) {
        const char *separator = i == 0 ? "" : i + 1 == n ? " or " : ", ";
        int wrote = snprintf(out + used, size - used, "%s\"%s\"", separator, k->names[i]);
        if (wrote < 0) break;
        used += (size_t)wrote;
    }
}

static t2g_status set_enum(t2g_config *c, const key_spec *k, const char *s, const char *source, t2g_error *err) {
    for (unsigned v = 0; k->names[v]; v++)
        if (strcmp(k->names[v], s) == 0) {
            memcpy((char *)c + k->offset, &v, sizeof v);
            return T2G_OK;
        }
    char names[256];
    format_names(names, sizeof names, k);
    return t2g_fail(err, T2G_ERR_FORMAT, "%s: %s: expected %s, got \"%.64s%s\"", source, k->path, names, s,
                    strlen(s) > 64 ? "..." : "");
}

const char *t2g_config_name(const char *path, unsigned value) {
    for (size_t i = 0; path && i < KEY_COUNT; i++)
        if (specs[i].kind == KIND_ENUM && strcmp(specs[i].path, path) == 0)
            return value < name_count(&specs[i]) ? specs[i].names[value] : NULL;
    return NULL;
}

static void format_value(char *out, size_t size, const key_spec *k, const t2g_config *c) {
    const char *p = (const char *)c + k->offset;
    switch (k->kind) {
    case KIND_U32: {
        uint32_t v;
        memcpy(&v, p, sizeof v);
        snprintf(out, size, "%u", v);
        break;
    }
    case KIND_U64: {
        uint64_t v;
        memcpy(&v, p, sizeof v);
        snprintf(out, size, "%llu", (unsigned long long)v);
        break;
    }
    case KIND_F64: {
        double v;
        memcpy(&v, p, sizeof v);
        format_double(out, size, v);
        break;
    }
    case KIND_STRING: snprintf(out, size, "%.*s", (int)strnlen(p, k->size), p); break;
    case KIND_ENUM: {
        unsigned v;
        memcpy(&v, p, sizeof v);
        snprintf(out, size, "%s", v < name_count(k) ? k->names[v] : "?");
        break;
    }
    }
}

/* ---- checks of one value against its key ---- */

/* "[0, 1)" */
static void format_range(char *out, size_t size, const key_spec *k) {
    char lo[32], hi[32];
    format_double(lo, sizeof lo, k->min);
    if (isinf(k->max)) snprintf(hi, sizeof hi, "inf");
    else format_double(hi, sizeof hi, k->max);
    snprintf(out, size, "%c%s, %s%c", k->flags & OPEN_MIN ? '(' : '[', lo, hi, k->flags & OPEN_MAX ? ')' : ']');
}

/* NULL if v suits the key, else what is wrong (in `why`). */
static const char *check_number(const key_spec *k, double v, char *why, size_t size) {
    char text[40], range[80];
    if (isfinite(v)) format_double(text, sizeof text, v);
    else snprintf(text, sizeof text, "%s", isnan(v) ? "nan" : v > 0 ? "inf" : "-inf");
    if (!isfinite(v)) {
        snprintf(why, size, "%s is not a finite number", text);
        return why;
    }
    if (k->kind != KIND_F64 && v != floor(v)) {
        snprintf(why, size, "expected an integer, got %s", text);
        return why;
    }
    bool low = v < k->min || ((k->flags & OPEN_MIN) && v == k->min);
    bool high = v > k->max || ((k->flags & OPEN_MAX) && v == k->max);
    if (low || high) {
        format_range(range, sizeof range, k);
        snprintf(why, size, "%s is out of range %s", text, range);
        return why;
    }
    return NULL;
}

static bool dir_name_char(char ch) {
    return isalnum((unsigned char)ch) || ch == '-' || ch == '_' || ch == '.';
}

static const char *check_string(const key_spec *k, const char *s, size_t len, char *why, size_t size) {
    if (len >= k->size) {
        snprintf(why, size, "\"%.*s%s\" is %zu bytes long; at most %zu fit", (int)(len > 40 ? 40 : len), s,
                 len > 40 ? "..." : "", len, k->size - 1);
        return why;
    }
    if ((k->flags & NON_EMPTY) && len == 0) {
        snprintf(why, size, "must not be empty");
        return why;
    }
    if (k->flags & DIR_NAME) {
        bool ok = s[0] != '.';
        for (size_t i = 0; i < len; i++) ok = ok && dir_name_char(s[i]);
        if (!ok) {
            snprintf(why, size, "\"%s\" names a directory: use letters, digits, '-', '_' and '.' (not first)", s);
            return why;
        }
    }
    return NULL;
}

static void store_number(t2g_config *c, const key_spec *k, double v) {
    char *p = (char *)c + k->offset;
    if (k->kind == KIND_U32) {
        uint32_t u = (uint32_t)v;
        memcpy(p, &u, sizeof u);
    } else if (k->kind == KIND_U64) {
        uint64_t u = (uint64_t)v;
        memcpy(p, &u, sizeof u);
    } else {
        memcpy(p, &v, sizeof v);
    }
}

static t2g_status set_number(t2g_config *c, const key_spec *k, double v, const char *source, t2g_error *err) {
    char why[256];
    if (check_number(k, v, why, sizeof why)) return t2g_fail(err, T2G_ERR_FORMAT, "%s: %s: %s", source, k->path, why);
    store_number(c, k, v);
    mark_given(c, k);
    return T2G_OK;
}

static t2g_status set_string(t2g_config *c, const key_spec *k, const char *s, const char *source, t2g_error *err) {
    char why[256];
    size_t len = strlen(s);
    if (check_string(k, s, len, why, sizeof why))
        return t2g_fail(err, T2G_ERR_FORMAT, "%s: %s: %s", source, k->path, why);
    memcpy((char *)c + k->offset, s, len + 1);
    mark_given(c, k);
    return T2G_OK;
}

/* ---- keys by path ---- */

static const key_spec *find_key(const char *path) {
    for (size_t i = 0; i < KEY_COUNT; i++)
        if (strcmp(specs[i].path, path) == 0) return &specs[i];
    return NULL;
}

/* A group is a path some keys sit under ("optim" for "optim.lr"); its first key, or NULL. */
static const key_spec *find_group(const char *path) {
    size_t n = strlen(path);
    for (size_t i = 0; i < KEY_COUNT; i++)
        if (strncmp(specs[i].path, path, n) == 0 && specs[i].path[n] == '.') return &specs[i];
    return NULL;
}

static const char *last_segment(const char *path) {
    const char *dot = strrchr(path, '.');
    return dot ? dot + 1 : path;
}

static size_t edit_distance(const char *a, const char *b) {
    size_t n = strlen(a), m = strlen(b);
    if (m > 255) m = 255;
    size_t row[256];
    for (size_t j = 0; j <= m; j++) row[j] = j;
    for (size_t i = 1; i <= n; i++) {
        size_t diagonal = row[0];
        row[0] = i;
        for (size_t j = 1; j <= m; j++) {
            size_t above = row[j];
            size_t best = diagonal + (a[i - 1] != b[j - 1]);
            if (above + 1 < best) best = above + 1;
            if (row[j - 1] + 1 < best) best = row[j - 1] + 1;
            row[j] = best;
            diagonal = above;
        }
    }
    return row[m];
}

static void consider(const char *path, const char *candidate, size_t candidate_len, const char **best,
                     size_t *best_len, size_t *best_score) {
    char name[PATH_BYTES];
    snprintf(name, sizeof name, "%.*s", (int)candidate_len, candidate);
    const char *leaf = last_segment(path), *candidate_leaf = last_segment(name);
    size_t leaf_len = strlen(leaf);
    size_t score = edit_distance(path, name);
    size_t by_leaf = edit_distance(leaf, candidate_leaf) + 1;
    if (by_leaf < score) score = by_leaf;
    if (leaf_len >= 3 && strncmp(candidate_leaf, leaf, leaf_len) == 0 && score > 2) score = 2;
    if (score < *best_score) {
        *best_score = score;
        *best = candidate;
        *best_len = candidate_len;
    }
}

/* The known key or group nearest to an unknown path: by edit distance over the whole path, or
 * one more than that of the last segments (a key put in the wrong group, {"batch_size": 16}
 * for "train.batch_size"), or a segment that starts a key's ("warmup" for
 * "schedule.warmup_steps"). Written to out. */
static void nearest_key(const char *path, char *out, size_t size) {
    const char *best = specs[0].path;
    size_t best_len = strlen(best), best_score = SIZE_MAX;
    for (size_t i = 0; i < KEY_COUNT; i++) {
        const char *key = specs[i].path;
        for (const char *dot = strchr(key, '.'); dot; dot = strchr(dot + 1, '.'))
            consider(path, key, (size_t)(dot - key), &best, &best_len, &best_score);
        consider(path, key, strlen(key), &best, &best_len, &best_score);
    }
    snprintf(out, size, "%.*s", (int)best_len, best);
}

static t2g_status unknown_key(const char *path, const char *source, t2g_error *err) {
    char nearest[PATH_BYTES];
    nearest_key(path, nearest, sizeof nearest);
    return t2g_fail(err, T2G_ERR_FORMAT, "%s: unknown key \"%s\" (did you mean \"%s\"?)", source, path, nearest);
}

static const char *json_type_name(const cJSON *item) {
    if (cJSON_IsObject(item)) return "an object";
    if (cJSON_IsArray(item)) return "an array";
    if (cJSON_IsString(item)) return "a string";
    if (cJSON_IsNumber(item)) return "a number";
    if (cJSON_IsBool(item)) return "a boolean";
    if (cJSON_IsNull(item)) return "null";
    return "an unknown value";
}

static const char *kind_name(enum key_kind kind) {
    return kind == KIND_STRING || kind == KIND_ENUM ? "a string" : kind == KIND_F64 ? "a number" : "an integer";
}

/* ---- parsing ---- */

static t2g_status apply_value(t2g_config *c, const key_spec *k, const cJSON *item, const char *source, t2g_error *err) {
    if (k->kind == KIND_STRING || k->kind == KIND_ENUM) {
        if (!cJSON_IsString(item))
            return t2g_fail(err, T2G_ERR_FORMAT, "%s: %s: expected a string, got %s", source, k->path, json_type_name(item));
        if (k->kind == KIND_ENUM) return set_enum(c, k, item->valuestring, source, err);
        return set_string(c, k, item->valuestring, source, err);
    }
    if (!cJSON_IsNumber(item))
        return t2g_fail(err, T2G_ERR_FORMAT, "%s: %s: expected %s, got %s", source, k->path, kind_name(k->kind),
                        json_type_name(item));
    return set_number(c, k, item->valuedouble, source, err);
}

static t2g_status apply_object(t2g_config *c, const cJSON *object, const char *prefix, const char *source,
                               t2g_error *err) {
    for (const cJSON *item = object->child; item; item = item->next) {
        const char *name = item->string ? item->string : "";
        char path[PATH_BYTES];
        snprintf(path, sizeof path, "%s%s%s", prefix, *prefix ? "." : "", name);
        if (!*name || strchr(name, '.'))
            return t2g_fail(err, T2G_ERR_FORMAT,
                            "%s: key \"%s\": a name in the file is one segment, not empty and without '.' "
                            "(nest groups: {\"optim\": {\"lr\": 0.001}})",
                            source, path);
        for (const cJSON *earlier = object->child; earlier != item; earlier = earlier->next)
            if (earlier->string && strcmp(earlier->string, name) == 0)
                return t2g_fail(err, T2G_ERR_FORMAT, "%s: duplicated key \"%s\"", source, path);

        const key_spec *k = find_key(path);
        if (k) {
            t2g_status status = apply_value(c, k, item, source, err);
            if (status) return status;
            continue;
        }
        const key_spec *member = find_group(path);
        if (!member) return unknown_key(path, source, err);
        if (!cJSON_IsObject(item))
            return t2g_fail(err, T2G_ERR_FORMAT, "%s: %s: expected an object (the group of keys such as \"%s\"), got %s",
                            source, path, member->path, json_type_name(item));
        t2g_status status = apply_object(c, item, path, source, err);
        if (status) return status;
    }
    return T2G_OK;
}

/* Line and column (from 1) of byte `offset` of the text. */
static void line_of(const char *text, size_t offset, unsigned *line, unsigned *column) {
    *line = 1;
    *column = 1;
    for (size_t i = 0; i < offset; i++) {
        if (text[i] == '\n') {
            (*line)++;
            *column = 1;
        } else {
            (*column)++;
        }
    }
}

static t2g_status invalid_json(const char *text, size_t len, size_t offset, const char *what, const char *source,
                               t2g_error *err) {
    unsigned line, column;
    if (offset > len) offset = len;
    line_of(text, offset, &line, &column);
    char near[24];
    size_t n = 0;
    for (size_t i = offset; i < len && n < 16 && text[i] != '\n'; i++) near[n++] = isprint((unsigned char)text[i]) ? text[i] : '?';
    near[n] = '\0';
    if (n) return t2g_fail(err, T2G_ERR_FORMAT, "%s:%u: %s at column %u, near \"%s\"", source, line, what, column, near);
    return t2g_fail(err, T2G_ERR_FORMAT, "%s:%u: %s at column %u, at the end of the text", source, line, what, column);
}

t2g_status t2g_config_parse(t2g_config *config, const char *json, size_t len, const char *source, t2g_error *err) {
    if (!source) source = "config";
    if (!config || (!json && len)) return t2g_fail(err, T2G_ERR_ARGUMENT, "%s: no config or no text to parse", source);
    if (!json) json = "";
    const char *nul = memchr(json, '\0', len);
    if (nul) return invalid_json(json, len, (size_t)(nul - json), "not valid JSON: a NUL byte", source, err);
    /* cJSON reads NUL-terminated text; the caller's need not be. */
    char *text = malloc(len + 1);
    if (!text) return t2g_fail(err, T2G_ERR_MEMORY, "%s: out of memory copying %zu bytes", source, len);
    memcpy(text, json, len);
    text[len] = '\0';

    const char *end = NULL;
    cJSON *root = cJSON_ParseWithOpts(text, &end, false);
    t2g_status status = T2G_OK;
    if (!root) {
        const char *at = cJSON_GetErrorPtr();
        if (!at || at < text || at > text + len) at = end;
        size_t offset = at && at >= text && at <= text + len ? (size_t)(at - text) : 0;
        size_t i = 0;
        while (i < len && isspace((unsigned char)text[i])) i++;
        status = invalid_json(text, len, offset, i == len ? "not valid JSON: no value" : "not valid JSON", source, err);
    } else {
        size_t offset = (size_t)(end - text);
        while (offset < len && isspace((unsigned char)text[offset])) offset++;
        if (offset < len)
            status = invalid_json(text, len, offset, "not valid JSON: text after the top-level object", source, err);
        else if (!cJSON_IsObject(root))
            status = t2g_fail(err, T2G_ERR_FORMAT, "%s: expected a JSON object of settings at the top level, got %s",
                              source, json_type_name(root));
        else {
            /* all or nothing: a file that fails halfway leaves the config as it was */
            t2g_config work = *config;
            status = apply_object(&work, root, "", source, err);
            if (status == T2G_OK) *config = work;
        }
    }
    cJSON_Delete(root);
    free(text);
    return status;
}

t2g_status t2g_config_set(t2g_config *config, const char *assignment, t2g_error *err) {
    const char *source = "--set";
    if (!config || !assignment) return t2g_fail(err, T2G_ERR_ARGUMENT, "%s: no config or no assignment", source);
    const char *equals = strchr(assignment, '=');
    if (!equals)
        return t2g_fail(err, T2G_ERR_FORMAT, "%s: expected KEY=VALUE (e.g. optim.lr=3e-4), got \"%s\"", source,
                        assignment);
    char path[PATH_BYTES];
    size_t n = (size_t)(equals - assignment);
    if (n >= sizeof path) n = sizeof path - 1;
    memcpy(path, assignment, n);
    path[n] = '\0';
    const char *value = equals + 1;
    if (!*path) return t2g_fail(err, T2G_ERR_FORMAT, "%s: \"%s\" names no key before '='", source, assignment);

    const key_spec *k = find_key(path);
    if (!k) {
        const key_spec *member = find_group(path);
        if (member)
            return t2g_fail(err, T2G_ERR_FORMAT, "%s: \"%s\" is a group of keys, not a key; set one of them, e.g. %s=...",
                            source, path, member->path);
        return unknown_key(path, source, err);
    }
    if (k->kind == KIND_STRING) return set_string(config, k, value, source, err);
    if (k->kind == KIND_ENUM) return set_enum(config, k, value, source, err);

    /* A number in JSON's syntax, nothing before or after it. */
    const char *end = NULL;
    cJSON *item = *value && !isspace((unsigned char)*value) ? cJSON_ParseWithOpts(value, &end, true) : NULL;
    t2g_status status;
    if (!item || !cJSON_IsNumber(item))
        status = t2g_fail(err, T2G_ERR_FORMAT, "%s: %s: expected %s, got \"%s\"", source, k->path, kind_name(k->kind), value);
    else
        status = set_number(config, k, item->valuedouble, source, err);
    cJSON_Delete(item);
    return status;
}

/* ---- checks of the whole config ---- */

/* The keys of one architecture that the other does not have are refused there unless they keep
 * their defaults: a gpt2 block has a position table, full attention heads, every bias, a tied
 * head and LayerNorm's epsilon of 1e-5. */
static t2g_status validate_arch(const t2g_model_config *m, t2g_error *err) {
    uint32_t kv = t2g_model_kv_heads(m);
    if (kv > m->heads || m->heads % kv)
        return t2g_fail(err, T2G_ERR_FORMAT, "model.kv_heads (%u) must divide model.heads (%u)", kv, m->heads);
    if (m->arch != T2G_ARCH_GPT2) return T2G_OK;
    const char *key = kv != m->heads       ? "model.kv_heads"
                      : m->rope_theta != 10000 ? "model.rope_theta"
                      : m->norm_eps != 1e-5    ? "model.norm_eps"
                      : m->qkv_bias            ? "model.qkv_bias"
                      : !m->tied_head          ? "model.tied_head"
                                               : NULL;
    if (key)
        return t2g_fail(err, T2G_ERR_FORMAT,
                        "%s: model.arch \"gpt2\" has full attention heads, learned positions, every bias, a tied head "
                        "and norm_eps 1e-5; leave %s at its default or set model.arch=llama",
                        key, key);
    return T2G_OK;
}

static t2g_status validate_rl(const t2g_config *c, t2g_error *err) {
    if (c->critic.kind == T2G_CRITIC_EXTERNAL && c->critic.command[0] == '\0')
        return t2g_fail(err, T2G_ERR_FORMAT, "critic.kind is \"external\" but critic.command is empty");
    if (c->critic.kind == T2G_CRITIC_HTTP && c->critic.url[0] == '\0')
        return t2g_fail(err, T2G_ERR_FORMAT, "critic.kind is \"http\" but critic.url is empty (the server's base URL, e.g. http://127.0.0.1:8080/v1)");
    if (c->critic.kind == T2G_CRITIC_MODEL && c->critic.model_path[0] == '\0')
        return t2g_fail(err, T2G_ERR_FORMAT, "critic.kind is \"model\" but critic.model_path is empty (a GGUF file or Hugging Face folder)");
    return T2G_OK;
}

t2g_status t2g_config_validate(const t2g_config *c, t2g_error *err) {
    if (!c) return t2g_fail(err, T2G_ERR_ARGUMENT, "no config to validate");
    char why[256];
    for (size_t i = 0; i < KEY_COUNT; i++) {
        const key_spec *k = &specs[i];
        const char *p = (const char *)c + k->offset;
        const char *problem = NULL;
        if (k->kind == KIND_STRING) {
            problem = check_string(k, p, strnlen(p, k->size), why, sizeof why);
        } else if (k->kind == KIND_ENUM) {
            unsigned v;
            memcpy(&v, p, sizeof v);
            if (v >= name_count(k)) {
                char names[192];
                format_names(names, sizeof names, k);
                snprintf(why, sizeof why, "the value %u is none of %s", v, names);
                problem = why;
            }
        } else {
            double v;
            if (k->kind == KIND_U32) {
                uint32_t u;
                memcpy(&u, p, sizeof u);
                v = u;
            } else if (k->kind == KIND_U64) {
                uint64_t u;
                memcpy(&u, p, sizeof u);
                v = (double)u;
                if (u > (uint64_t)MAX_EXACT) { /* said exactly: the double may round */
                    snprintf(why, sizeof why, "%llu is out of range [0, %.0f]", (unsigned long long)u, MAX_EXACT);
                    problem = why;
                }
            } else {
                memcpy(&v, p, sizeof v);
            }
            if (!problem) problem = check_number(k, v, why, sizeof why);
        }
        if (problem) return t2g_fail(err, T2G_ERR_FORMAT, "%s: %s", k->path, problem);
    }
    const t2g_model_config *m = &c->model;
    if (m->vocab < 259)
        return t2g_fail(err, T2G_ERR_FORMAT,
                        "model.vocab (%u) must be at least 259 for the byte-level tokenizer (256 bytes, BOS, EOS, PAD)",
                        m->vocab);
    if (m->context < 2) return t2g_fail(err, T2G_ERR_FORMAT, "model.context (%u) must be at least 2", m->context);
    if (m->width % m->heads)
        return t2g_fail(err, T2G_ERR_FORMAT, "model.heads (%u) must divide model.width (%u)", m->heads, m->width);
    if (m->width / m->heads > 128)
        return t2g_fail(err, T2G_ERR_FORMAT,
                        "model.width / model.heads (%u / %u = %u) is the head size: at most 128; use more heads",
                        m->width, m->heads, m->width / m->heads);
    t2g_status arch_status = validate_arch(m, err);
    if (arch_status) return arch_status;
    if (c->batch_size % c->micro_batch) {
        uint32_t fits = c->micro_batch; /* the largest micro-batch below it that divides the batch */
        while (c->batch_size % fits) fits--;
        return t2g_fail(err, T2G_ERR_FORMAT, "train.micro_batch (%u) must divide train.batch_size (%u): --set train.micro_batch=%u",
                        c->micro_batch, c->batch_size, fits);
    }
    const uint32_t step = T2G_LOGIT_ROWS_STEP;
    if (c->logit_rows % step)
        return t2g_fail(err, T2G_ERR_FORMAT, "train.logit_rows (%u) must be 0 (auto) or a multiple of %u: --set train.logit_rows=%u",
                        c->logit_rows, step, c->logit_rows < step ? step : c->logit_rows / step * step);
    bool task = c->data.task[0] != '\0', path = c->data.path[0] != '\0';
    if (!task && !path)
        return t2g_fail(err, T2G_ERR_FORMAT,
                        "no data: set data.task (a built-in task) or data.path (a file of examples); both are empty");
    if (task && path)
        return t2g_fail(err, T2G_ERR_FORMAT,
                        "data.task (\"%s\") and data.path (\"%s\") are both set: keep one (data.task=\"\" to read the file)",
                        c->data.task, c->data.path);
    if (c->schedule.warmup_steps > c->steps)
        return t2g_fail(err, T2G_ERR_FORMAT, "schedule.warmup_steps (%u) must be at most train.steps (%u)",
                        c->schedule.warmup_steps, c->steps);
    return validate_rl(c, err);
}

/* ---- the config as JSON ---- */

char *t2g_config_to_json(const t2g_config *c) {
    if (!c) return NULL;
    cJSON *root = cJSON_CreateObject();
    bool ok = root != NULL;
    for (size_t i = 0; ok && i < KEY_COUNT; i++) {
        const key_spec *k = &specs[i];
        /* Walk (and make) the groups of the path, then add the leaf. */
        cJSON *parent = root;
        const char *segment = k->path;
        for (const char *dot; ok && (dot = strchr(segment, '.')); segment = dot + 1) {
            char group[PATH_BYTES];
            snprintf(group, sizeof group, "%.*s", (int)(dot - segment), segment);
            cJSON *child = cJSON_GetObjectItemCaseSensitive(parent, group);
            if (!child) child = cJSON_AddObjectToObject(parent, group);
            ok = child != NULL;
            parent = child;
        }
        if (!ok) break;
        char value[1024];
        format_value(value, sizeof value, k, c);
        /* Numbers go in as raw text: cJSON would print 2^53 - 1 as 9.00719925474099e+15 and some
         * doubles with 15 digits that do not read back as the same double. */
        ok = (k->kind == KIND_STRING || k->kind == KIND_ENUM ? cJSON_AddStringToObject(parent, segment, value)
                                     : cJSON_AddRawToObject(parent, segment, value)) != NULL;
    }
    char *printed = ok ? cJSON_Print(root) : NULL;
    cJSON_Delete(root);
    if (!printed) return NULL;
    /* The caller frees with free(), whatever allocator cJSON was given. */
    size_t n = strlen(printed);
    char *text = malloc(n + 1);
    if (text) memcpy(text, printed, n + 1);
    cJSON_free(printed);
    return text;
}

bool t2g_config_given(const t2g_config *c, const char *path) {
    const key_spec *k = c && path ? find_key(path) : NULL;
    if (!k) return false;
    size_t i = (size_t)(k - specs);
    return (c->given[i / 64] >> (i % 64)) & 1u;
}
