/* Every setting of a run in one JSON file. Keys are dotted paths ("optim.lr"); the file nests
 * them ({"optim": {"lr": 3e-4}}). An unknown key or a value of the wrong type or range is an
 * error naming the key and the source (file or --set), never a silent default.
 *
 * The defaults are a small byte-level model; assets/ holds the configs of the built-in jobs
 * (embedded in the binary, see t2g/assets.h). */
#ifndef T2G_CONFIG_H
#define T2G_CONFIG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "t2g/status.h"

#define T2G_CONTEXT_MAX 1048576u /* model.context's largest value */
/* The settings that take one of a few names. Files, --set and the JSON written back (config.json,
 * checkpoints) spell them as the names, listed here in the order of the values. */
typedef enum t2g_data_format { T2G_DATA_SFT, T2G_DATA_TEXT } t2g_data_format;        /* "sft", "text" */
typedef enum t2g_schedule_kind { T2G_SCHEDULE_COSINE, T2G_SCHEDULE_CONSTANT } t2g_schedule_kind; /* "cosine", "constant" */
typedef enum t2g_reward_granularity { T2G_REWARD_SPAN, T2G_REWARD_SCALAR } t2g_reward_granularity; /* "span", "scalar" */
typedef enum t2g_kl_estimate { T2G_KL_K1, T2G_KL_FULL } t2g_kl_estimate;             /* "k1", "full" */
typedef enum t2g_critic_kind {
    T2G_CRITIC_BUILTIN, T2G_CRITIC_EXTERNAL, T2G_CRITIC_HTTP, T2G_CRITIC_MODEL
} t2g_critic_kind;                                                  /* "builtin", "external", "http", "model" */
typedef enum t2g_critic_json_mode {
    T2G_CRITIC_JSON_AUTO, T2G_CRITIC_JSON_ON, T2G_CRITIC_JSON_OFF
} t2g_critic_json_mode;                                             /* "auto", "on", "off" */
typedef enum t2g_critic_constrain {
    T2G_CRITIC_CONSTRAIN_JSON, T2G_CRITIC_CONSTRAIN_SUBSTRINGS, T2G_CRITIC_CONSTRAIN_NONE
} t2g_critic_constrain;                                             /* "json", "substrings", "none" */
typedef enum t2g_on_nonfinite { T2G_ON_NONFINITE_STOP, T2G_ON_NONFINITE_SKIP } t2g_on_nonfinite; /* "stop", "skip" */
typedef enum t2g_arch { T2G_ARCH_GPT2, T2G_ARCH_LLAMA } t2g_arch;                     /* "gpt2", "llama" */
typedef enum t2g_precision {
    T2G_PRECISION_F32, T2G_PRECISION_BF16, T2G_PRECISION_F16, T2G_PRECISION_AUTO
} t2g_precision;                                                    /* "f32", "bf16", "f16", "auto" */
typedef enum t2g_chat_choice {
    T2G_CHAT_CHOICE_AUTO, T2G_CHAT_CHOICE_NONE, T2G_CHAT_CHOICE_CHATML, T2G_CHAT_CHOICE_LLAMA3
} t2g_chat_choice;                                                  /* "auto", "none", "chatml", "llama3" */

/* The architecture. gpt2: pre-LayerNorm blocks with biases, learned positions, GELU MLP, tied
 * head. llama: RMSNorm, rotary positions, grouped-query attention, SwiGLU MLP, optional q/k/v
 * biases (Qwen2), tied or untied head. */
typedef struct t2g_model_config {
    t2g_arch arch;              /* model.arch: "gpt2" or "llama" */
    uint32_t vocab;             /* model.vocab: 259 for the byte-level tokenizer */
    uint32_t context;           /* model.context: the longest sequence, T */
    uint32_t layers;            /* model.layers */
    uint32_t heads;             /* model.heads: divides width; width / heads <= 128 */
    uint32_t width;             /* model.width: C */
    uint32_t kv_heads;          /* model.kv_heads: key/value heads, dividing heads (llama); 0 = model.heads */
    uint32_t ffn_width;         /* model.ffn_width: the MLP's hidden width F; 0 = 4 x model.width */
    double rope_theta;          /* model.rope_theta: the rotary base (llama) */
    double norm_eps;            /* model.norm_eps: the normalisation's epsilon (gpt2: 1e-5) */
    uint32_t qkv_bias;          /* model.qkv_bias: 1 = q/k/v projections have biases (llama; gpt2 always has) */
    uint32_t tied_head;         /* model.tied_head: 1 = the output head is the token embedding (gpt2: always) */
    t2g_precision precision;    /* not a model.* key: how a model made from this config stores its matmul
                                 * operands (t2g/gpt.h); the trainer and rl set it from train.precision.
                                 * 0: f32 */
    uint32_t logit_rows;        /* not a model.* key: the rows of logits a model made from this config holds
                                 * and computes at once (t2g/gpt.h), a multiple of 64; 0: all of a
                                 * micro-batch's. The trainer and rl set it from train.logit_rows */
} t2g_model_config;

/* A gpt2 model's config (an initializer): the sizes, every other key at its default. */
#define T2G_MODEL_GPT2(V, T, L, NH, C)                                                                        \
    {.arch = T2G_ARCH_GPT2, .vocab = (V), .context = (T), .layers = (L), .heads = (NH), .width = (C),          \
     .rope_theta = 10000, .norm_eps = 1e-5, .tied_head = 1}

/* The sizes that model.kv_heads and model.ffn_width leave to their defaults. */
static inline uint32_t t2g_model_kv_heads(const t2g_model_config *m) { return m->kv_heads ? m->kv_heads : m->heads; }
static inline uint32_t t2g_model_ffn_width(const t2g_model_config *m) { return m->ffn_width ? m->ffn_width : 4 * m->width; }
static inline uint32_t t2g_model_head_size(const t2g_model_config *m) { return m->width / m->heads; }

typedef struct t2g_config {
    char name[64];              /* name: the run directory is runs/<name>-<timestamp> */
    uint64_t seed;              /* seed: parameter initialisation and sampling */
    char device[128];           /* device: index or part of a name; "" = T2G_DEVICE or the best */
    t2g_model_config model;
    char model_from[512];       /* model.from: t2g train starts from this checkpoint or run folder's model ("" = initialise) */
    t2g_chat_choice chat_template; /* model.chat_template: how prompts are wrapped (t2g/text.h); "auto" */
    char system_prompt[2048];   /* model.system_prompt: the chat template's system turn; "" = the template's default */
    struct {
        char task[32];          /* data.task: "arith", "facts", or "" to read data.path */
        uint32_t examples;      /* data.examples: demonstrations the task generates */
        char path[512];         /* data.path: JSONL (format "sft") or text (format "text") */
        t2g_data_format format; /* data.format: "sft" or "text" */
        uint64_t seed;          /* data.seed: task generation and shuffling */
        uint64_t max_line_bytes; /* data.max_line_bytes: the longest line of a JSONL file */
        uint32_t parse_special; /* data.parse_special: 1 = special-token texts in the data become those tokens */
    } data;
    struct {
        double lr;              /* optim.lr: peak learning rate */
        double beta1, beta2;    /* optim.beta1, optim.beta2 */
        double epsilon;         /* optim.epsilon */
        double weight_decay;    /* optim.weight_decay: on matrices and embeddings only */
        double grad_clip;       /* optim.grad_clip: global norm; 0 = off */
    } optim;
    struct {
        t2g_schedule_kind kind; /* schedule.kind: "cosine" or "constant" */
        uint32_t warmup_steps;  /* schedule.warmup_steps: linear from 0 */
        double min_lr_fraction; /* schedule.min_lr_fraction: the cosine's floor, times optim.lr */
    } schedule;
    uint32_t batch_size;        /* train.batch_size: sequences per optimizer step */
    uint32_t micro_batch;       /* train.micro_batch: sequences per forward/backward; divides batch_size */
    uint32_t steps;             /* train.steps */
    uint32_t log_every;         /* train.log_every: a progress line every N steps (off a terminal) */
    t2g_on_nonfinite on_nonfinite; /* train.on_nonfinite: "stop" (exit 1, last good checkpoint kept) or "skip" */
    t2g_precision precision;    /* train.precision: "f32", "bf16", "f16" or "auto" (t2g/gpt.h) */
    uint32_t logit_rows;        /* train.logit_rows: rows of logits held at once in t2g train and rl (a multiple of 64);
                                 * 0 = auto (t2g_logit_rows_for_device) */
    struct {
        uint32_t every;         /* eval.every: steps between evaluations; 0 = only at the end */
        uint32_t examples;      /* eval.examples: task examples scored per evaluation */
        uint32_t samples;       /* eval.samples: responses kept in the run directory per evaluation */
        uint32_t max_new_tokens;/* eval.max_new_tokens */
        char path[512];         /* eval.path: held-out JSONL of prompt/response rows; "" = the task's */
    } eval;
    struct {
        uint32_t every;         /* checkpoint.every: steps between checkpoints; 0 = only at the end */
    } checkpoint;
    /* Text2Grad RL (t2g rl): the prompts come from data.task or data.path (their prompts),
     * train.steps rollout batches, optim.* and schedule.* for the policy, train.micro_batch
     * sequences per forward/backward. */
    struct {
        char start[512];        /* rl.start: the SFT checkpoint the policy and the frozen reference start from */
        t2g_reward_granularity reward_granularity; /* rl.reward_granularity: "span" (Text2Grad) or "scalar" (standard PPO) */
        uint32_t prompts;       /* rl.prompts: prompts per step */
        uint32_t samples_per_prompt; /* rl.samples_per_prompt: K responses to each prompt */
        uint32_t max_new_tokens;/* rl.max_new_tokens */
        double temperature;     /* rl.temperature, rl.top_k, rl.top_p: rollout sampling */
        uint32_t top_k;
        double top_p;
        uint32_t ppo_epochs;    /* rl.ppo_epochs: passes over each rollout batch */
        uint32_t minibatches;   /* rl.minibatches: optimizer steps per epoch */
        double clip;            /* rl.clip: policy ratio clip */
        double value_clip;      /* rl.value_clip */
        double value_coef;      /* rl.value_coef */
        double value_lr_scale;  /* rl.value_lr_scale: the value head's learning rate / the policy's */
        double gamma, lambda;   /* rl.gamma, rl.lambda: GAE */
        double log_ratio_clamp; /* rl.log_ratio_clamp */
        t2g_kl_estimate kl;     /* rl.kl: "k1" (log-ratio estimate) or "full" (over the vocabulary) */
        double kl_beta;         /* rl.kl_beta: the KL penalty's initial coefficient */
        double kl_target;       /* rl.kl_target: adaptive beta's target KL; 0 = beta stays fixed */
        double kl_horizon;      /* rl.kl_horizon: adaptive beta's horizon */
        double score_good, score_poor, score_neutral, score_unannotated; /* rl.score_*: span scores */
        double score_weight;    /* rl.score_weight: span mode, the critic's overall score on the last token, times this */
        uint32_t zero_punctuation; /* rl.zero_punctuation: 1 = whitespace/punctuation tokens score 0 */
        double fuzzy_threshold; /* rl.fuzzy_threshold: the lowest similarity of a fuzzy span match */
        uint32_t samples_kept;  /* rl.samples_kept: responses with critiques kept per step in the run folder */
    } rl;
    struct {
        t2g_critic_kind kind;   /* critic.kind: "builtin" (the task's), "external", "http" or "model" */
        char command[512];      /* critic.command: the external critic, run with /bin/sh -c */
        uint32_t workers;       /* critic.workers: external processes, requests in flight, critiques at once */
        uint32_t timeout_ms;    /* critic.timeout_ms: per sample */
        uint32_t retries;       /* critic.retries: further attempts of a sample */
        char url[512];          /* critic.url: http, the server's base or chat-completions URL */
        char model[256];        /* critic.model: http, the server's model name */
        char api_key_env[128];  /* critic.api_key_env: http, the variable holding the key ("": none) */
        t2g_critic_json_mode json_mode; /* critic.json_mode: http, response_format */
        char model_path[512];   /* critic.model_path: model, a GGUF file or Hugging Face folder */
        uint32_t context;       /* critic.context: model, prompt + critique tokens (0: the model's own) */
        t2g_critic_constrain constrain; /* critic.constrain: model, what the sampler may write */
        double temperature;     /* critic.temperature: http and model */
        uint32_t max_tokens;    /* critic.max_tokens: http and model, the longest critique in tokens */
        char prompt_file[512];  /* critic.prompt_file: http and model, the prompt template ("": built-in) */
        char cache[512];        /* critic.cache: http and model ("": the run folder's critiques.jsonl, "none") */
        uint32_t max_spans;     /* critic.max_spans: spans of one critique; more is a critic failure */
        uint64_t max_bytes;     /* critic.max_bytes: bytes of one critique; more is a critic failure */
    } critic;
    uint64_t given[2];          /* not a key: bit k is set when key k was given by a file or --set
                                 * (t2g_config_given); a config read back from a checkpoint may clear it */
} t2g_config;

t2g_config t2g_config_defaults(void);

/* Sets the keys present in the JSON text (the others keep their value in *config). `source`
 * names the text in messages ("assets/train_arith.json", "run.json"). Errors: not JSON (with
 * the line), an unknown key (with the nearest known key), a wrong type, a value out of range. */
t2g_status t2g_config_parse(t2g_config *config, const char *json, size_t len, const char *source, t2g_error *err);

/* Applies one "--set" override, "optim.lr=3e-4" (strings unquoted: "data.task=facts"). */
t2g_status t2g_config_set(t2g_config *config, const char *assignment, t2g_error *err);

/* Checks the settings together (micro_batch divides batch_size, heads divide width, a data
 * source is named, ...). */
t2g_status t2g_config_validate(const t2g_config *config, t2g_error *err);

/* Whether the key `path` was given to t2g_config_parse or t2g_config_set (not left at its default). */
bool t2g_config_given(const t2g_config *config, const char *path);

/* Settings that contradict each other where the intent is clear are adjusted, each with a
 * note for the user: warm-up longer than the run (schedule.warmup_steps = train.steps), a
 * micro-batch larger than the batch (train.micro_batch = train.batch_size, or for an RL run
 * (`rl` true) = rl.prompts x rl.samples_per_prompt). Run before t2g_config_validate. */
#define T2G_CONFIG_NOTES 4
typedef struct t2g_config_notes {
    uint32_t count;
    char text[T2G_CONFIG_NOTES][256];   /* "schedule.warmup_steps (100) is longer than ..." */
} t2g_config_notes;
void t2g_config_adjust(t2g_config *config, bool rl, t2g_config_notes *notes);

/* A run that starts from a model (rl.start) takes that model's architecture: config->model
 * becomes `start`. A model.* key given explicitly (t2g_config_given) with another value than
 * the start's is an error naming the key, the start's value and the given one; model.context
 * may be given only up to the start's (a shorter context than the start's is refused for now:
 * the position table is part of the architecture). `start_name` names the start in messages. */
t2g_status t2g_config_take_model(t2g_config *config, const t2g_model_config *start, const char *start_name,
                                 t2g_error *err);

/* The whole config as JSON, every key, nested; malloc'ed, NUL-terminated. */
char *t2g_config_to_json(const t2g_config *config);

/* The name of a value of a key that takes names: t2g_config_name("rl.kl", T2G_KL_FULL) is
 * "full". NULL for another key or a value out of range. */
const char *t2g_config_name(const char *path, unsigned value);

/* The documented keys, for --help and the README. */
typedef struct t2g_config_key {
    const char *path;           /* "optim.lr" */
    const char *type;           /* "string", "integer", "number" (names are strings in files) */
    const char *help;
} t2g_config_key;
size_t t2g_config_keys(const t2g_config_key **keys);

#endif
