/* Hugging Face folders: config.json (the model types, transformers' defaults, every refusal by
 * name), a bit-exact write -> read round trip through a parameter table built here by hand,
 * GPT-2's Conv1D transposition and Llama's q/k/v and gate/up fusion checked in the written file
 * itself, folders laid out as the hub and older transformers save them (no prefix, buffers,
 * F16/BF16, shards), and a table of broken folders each with its message. */
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cjson/cJSON.h>

#include "check.h"
#include "t2g/hf.h"
#include "t2g/safetensors.h"

/* ---- scratch folders ---- */

static bool scratch_dir(check_ctx *ctx, char *dir, size_t size) {
    const char *tmp = getenv("TMPDIR");
    snprintf(dir, size, "%s/t2g-check-hf-XXXXXX", tmp && *tmp ? tmp : "/tmp");
    if (!mkdtemp(dir)) {
        check_fail(ctx, "mkdtemp %s: %s", dir, strerror(errno));
        return false;
    }
    return true;
}

static const char *const folder_files[] = {"config.json", "model.safetensors", "model.safetensors.index.json",
                                           "generation_config.json", "tokenizer.json", "tokenizer_config.json",
                                           "shard-1.safetensors", "shard-2.safetensors"};

static void empty_dir(const char *dir) {
    char path[1024];
    for (size_t i = 0; i < sizeof folder_files / sizeof folder_files[0]; i++) {
        snprintf(path, sizeof path, "%s/%s", dir, folder_files[i]);
        remove(path);
    }
}

static void remove_dir(const char *dir) {
    empty_dir(dir);
    rmdir(dir);
}

static bool write_text(const char *dir, const char *file, const char *text) {
    char path[1024];
    snprintf(path, sizeof path, "%s/%s", dir, file);
    FILE *f = fopen(path, "wb");
    if (!f) return false;
    bool ok = fwrite(text, 1, strlen(text), f) == strlen(text);
    return fclose(f) == 0 && ok;
}

/* ---- a parameter table by hand, laid out as t2g/gpt.h says (offsets multiples of 64) ---- */

#define MAX_PARAMS 128

typedef struct model_table {
    t2g_gpt_param params[MAX_PARAMS];
    uint32_t count;
    uint64_t floats;
} model_table;

static void add(model_table *t, const char *name, int layer, uint32_t rows, uint32_t cols) {
    t->params[t->count++] = (t2g_gpt_param){name, layer, t->floats, rows, cols, false};
    t->floats += ((uint64_t)rows * cols + 63) / 64 * 64;
}

static void build_table(const t2g_model_config *m, model_table *t) {
    memset(t, 0, sizeof *t);
    uint32_t C = m->width, F = t2g_model_ffn_width(m), hs = t2g_model_head_size(m);
    uint32_t qkv = (m->heads + 2 * t2g_model_kv_heads(m)) * hs;
    add(t, "wte", -1, m->vocab, C);
    if (m->arch == T2G_ARCH_GPT2) add(t, "wpe", -1, m->context, C);
    for (int l = 0; l < (int)m->layers; l++) {
        if (m->arch == T2G_ARCH_GPT2) {
            add(t, "ln1w", l, 1, C), add(t, "ln1b", l, 1, C), add(t, "qkvw", l, 3 * C, C), add(t, "qkvb", l, 1, 3 * C);
            add(t, "attprojw", l, C, C), add(t, "attprojb", l, 1, C), add(t, "ln2w", l, 1, C), add(t, "ln2b", l, 1, C);
            add(t, "fcw", l, F, C), add(t, "fcb", l, 1, F), add(t, "fcprojw", l, C, F), add(t, "fcprojb", l, 1, C);
        } else {
            add(t, "ln1w", l, 1, C), add(t, "qkvw", l, qkv, C);
            if (m->qkv_bias) add(t, "qkvb", l, 1, qkv);
            add(t, "attprojw", l, C, m->heads * hs), add(t, "ln2w", l, 1, C), add(t, "fcw", l, 2 * F, C);
            add(t, "fcprojw", l, C, F);
        }
    }
    add(t, "lnfw", -1, 1, C);
    if (m->arch == T2G_ARCH_GPT2) add(t, "lnfb", -1, 1, C);
    if (m->arch == T2G_ARCH_LLAMA && !m->tied_head) add(t, "head", -1, m->vocab, C);
}

static const t2g_gpt_param *param(const model_table *t, const char *name, int layer) {
    for (uint32_t i = 0; i < t->count; i++)
        if (t->params[i].layer == layer && strcmp(t->params[i].name, name) == 0) return &t->params[i];
    return NULL;
}

static float *random_params(check_ctx *ctx, const model_table *t) {
    float *p = check_host(ctx, t->floats * sizeof *p);
    for (uint64_t i = 0; i < t->floats; i++) p[i] = (float)check_normal(ctx);
    return p;
}

static t2g_model_config gpt2_model(void) {
    return (t2g_model_config){.arch = T2G_ARCH_GPT2, .vocab = 261, .context = 13, .layers = 2, .heads = 3, .width = 12,
                              .rope_theta = 10000, .norm_eps = 1e-5, .tied_head = 1};
}

static t2g_model_config llama_model(bool qkv_bias, bool tied) {
    return (t2g_model_config){.arch = T2G_ARCH_LLAMA, .vocab = 259, .context = 40, .layers = 2, .heads = 6, .width = 24,
                              .kv_heads = 2, .ffn_width = 10, .rope_theta = 5e5, .norm_eps = 1e-6,
                              .qkv_bias = qkv_bias, .tied_head = tied};
}

static bool same_model(const t2g_model_config *a, const t2g_model_config *b) {
    return a->arch == b->arch && a->vocab == b->vocab && a->context == b->context && a->layers == b->layers &&
           a->heads == b->heads && a->width == b->width && t2g_model_kv_heads(a) == t2g_model_kv_heads(b) &&
           t2g_model_ffn_width(a) == t2g_model_ffn_width(b) && a->rope_theta == b->rope_theta &&
           a->norm_eps == b->norm_eps && a->qkv_bias == b->qkv_bias && a->tied_head == b->tied_head;
}

/* The tensor `name` of DIR/model.safetensors read whole (NULL and a failure if absent). */
static float *stored(check_ctx *ctx, const char *dir, const char *name, uint64_t rows, uint64_t cols) {
    char path[1024];
    snprintf(path, sizeof path, "%s/model.safetensors", dir);
    t2g_safetensors *st;
    if (!check_status(ctx, t2g_safetensors_open(path, &st, &ctx->err), "opening the written model.safetensors"))
        return NULL;
    const t2g_safetensors_tensor *t = t2g_safetensors_find(st, name);
    float *out = check_host(ctx, rows * cols * sizeof *out);
    bool ok = check_true(ctx, t && t->rank == 2 && t->shape[0] == rows && t->shape[1] == cols,
                         "%s is stored (%llu, %llu)", name, (unsigned long long)rows, (unsigned long long)cols) &&
              check_status(ctx, t2g_safetensors_read_f32(st, t, out, rows * cols, &ctx->err), name);
    t2g_safetensors_close(st);
    return ok ? out : NULL;
}

/* rows [first, first + n) of the t2g matrix p (cols wide), compared with a stored matrix */
static bool same_rows(const float *params, const t2g_gpt_param *p, uint32_t first, const float *stored_rows, uint64_t n) {
    return stored_rows && memcmp(params + p->offset + (uint64_t)first * p->cols, stored_rows, n * p->cols * sizeof(float)) == 0;
}

/* ---- the round trip, and the layout of what is written ---- */

static void roundtrip(check_ctx *ctx, const char *dir, const t2g_model_config *m, const char *label) {
    check_case_begin(ctx);
    model_table t;
    build_table(m, &t);
    float *params = random_params(ctx, &t), *back = check_host(ctx, t.floats * sizeof *back);
    memset(back, 0, t.floats * sizeof *back);
    t2g_model_config read = {0};
    if (!check_status(ctx, t2g_hf_write(dir, m, t.params, t.count, params, NULL, &ctx->err), label) ||
        !check_status(ctx, t2g_hf_read_config(dir, 0, &read, &ctx->err), "reading config.json back"))
        return;
    check_true(ctx, same_model(m, &read), "%s: config.json reads back as the model written", label);
    if (!check_status(ctx, t2g_hf_read_weights(dir, &read, t.params, t.count, back, &ctx->err), "reading the weights back"))
        return;
    bool same = true;
    for (uint32_t i = 0; i < t.count; i++)
        same = same && memcmp(params + t.params[i].offset, back + t.params[i].offset,
                              (size_t)t.params[i].rows * t.params[i].cols * sizeof(float)) == 0;
    check_true(ctx, same, "%s: every tensor reads back bit for bit", label);
}

T2G_HOST_CHECK(hf_roundtrip) {
    char dir[512];
    if (!scratch_dir(ctx, dir, sizeof dir)) return ctx->failures;
    t2g_model_config gpt2 = gpt2_model(), llama = llama_model(false, false), qwen2 = llama_model(true, true);
    roundtrip(ctx, dir, &gpt2, "gpt2");
    /* GPT-2's Conv1D: the stored (in, out) matrix is the transpose of t2g's (out, in) */
    model_table t;
    build_table(&gpt2, &t);
    float *params = random_params(ctx, &t);
    if (check_status(ctx, t2g_hf_write(dir, &gpt2, t.params, t.count, params, NULL, &ctx->err), "writing gpt2")) {
        const t2g_gpt_param *qkvw = param(&t, "qkvw", 1), *fcprojw = param(&t, "fcprojw", 0);
        float *c_attn = stored(ctx, dir, "transformer.h.1.attn.c_attn.weight", 12, 36);
        float *c_proj = stored(ctx, dir, "transformer.h.0.mlp.c_proj.weight", 48, 12);
        bool transposed = c_attn && c_proj;
        for (uint32_t i = 0; transposed && i < 12; i++)
            for (uint32_t o = 0; o < 36; o++) transposed = transposed && c_attn[i * 36 + o] == params[qkvw->offset + o * 12 + i];
        for (uint32_t i = 0; transposed && i < 48; i++)
            for (uint32_t o = 0; o < 12; o++) transposed = transposed && c_proj[i * 12 + o] == params[fcprojw->offset + o * 48 + i];
        check_true(ctx, transposed, "gpt2: c_attn and mlp.c_proj are stored (in, out), t2g's qkvw and fcprojw transposed");
    }
    char config[4096] = "";
    FILE *f = NULL;
    char path[1024];
    snprintf(path, sizeof path, "%s/config.json", dir);
    if ((f = fopen(path, "rb"))) {
        config[fread(config, 1, sizeof config - 1, f)] = 0;
        fclose(f);
    }
    check_true(ctx, strstr(config, "\"GPT2LMHeadModel\"") && strstr(config, "\"model_type\":\t\"gpt2\""),
               "gpt2 is written as GPT2LMHeadModel");

    roundtrip(ctx, dir, &llama, "llama, kv_heads < heads, untied head");
    empty_dir(dir);
    build_table(&llama, &t);
    params = random_params(ctx, &t);
    if (check_status(ctx, t2g_hf_write(dir, &llama, t.params, t.count, params, NULL, &ctx->err), "writing llama")) {
        /* q/k/v: 6 heads and 2 kv heads of size 4; gate/up: 10 rows each */
        const t2g_gpt_param *qkvw = param(&t, "qkvw", 1), *fcw = param(&t, "fcw", 0), *head = param(&t, "head", -1);
        check_true(ctx, same_rows(params, qkvw, 0, stored(ctx, dir, "model.layers.1.self_attn.q_proj.weight", 24, 24), 24) &&
                            same_rows(params, qkvw, 24, stored(ctx, dir, "model.layers.1.self_attn.k_proj.weight", 8, 24), 8) &&
                            same_rows(params, qkvw, 32, stored(ctx, dir, "model.layers.1.self_attn.v_proj.weight", 8, 24), 8),
                   "llama: qkvw's rows are q_proj's, then k_proj's, then v_proj's");
        check_true(ctx, same_rows(params, fcw, 0, stored(ctx, dir, "model.layers.0.mlp.gate_proj.weight", 10, 24), 10) &&
                            same_rows(params, fcw, 10, stored(ctx, dir, "model.layers.0.mlp.up_proj.weight", 10, 24), 10),
                   "llama: fcw's rows are gate_proj's, then up_proj's");
        check_true(ctx, same_rows(params, head, 0, stored(ctx, dir, "lm_head.weight", 259, 24), 259),
                   "llama: an untied head is lm_head.weight");
    }
    empty_dir(dir);
    roundtrip(ctx, dir, &qwen2, "llama with q/k/v biases (qwen2), tied head");
    snprintf(path, sizeof path, "%s/config.json", dir);
    if ((f = fopen(path, "rb"))) {
        config[fread(config, 1, sizeof config - 1, f)] = 0;
        fclose(f);
    }
    check_true(ctx, strstr(config, "\"Qwen2ForCausalLM\"") && strstr(config, "\"model_type\":\t\"qwen2\""),
               "llama with q/k/v biases is written as Qwen2ForCausalLM");
    /* a shorter context than the folder's: the position table's first rows */
    t2g_model_config read;
    empty_dir(dir);
    build_table(&gpt2, &t);
    params = random_params(ctx, &t);
    if (check_status(ctx, t2g_hf_write(dir, &gpt2, t.params, t.count, params, NULL, &ctx->err), "writing gpt2") &&
        check_status(ctx, t2g_hf_read_config(dir, 5, &read, &ctx->err), "reading with max_context 5")) {
        check_true(ctx, read.context == 5, "max_context 5 gives a context of 5 (%u)", read.context);
        model_table shorter;
        build_table(&read, &shorter);
        float *back = check_host(ctx, shorter.floats * sizeof *back);
        const t2g_gpt_param *wpe = param(&shorter, "wpe", -1);
        check_true(ctx, check_status(ctx, t2g_hf_read_weights(dir, &read, shorter.params, shorter.count, back, &ctx->err), "reading") &&
                            memcmp(back + wpe->offset, params + param(&t, "wpe", -1)->offset, 5 * 12 * sizeof(float)) == 0,
                   "a context of 5 reads the position table's first 5 rows");
    }
    remove_dir(dir);
    return ctx->failures;
}

/* ---- config.json ---- */

static const char gpt2_hub[] = /* as on the hub (gpt2), sizes made small */
    "{\"activation_function\": \"gelu_new\", \"architectures\": [\"GPT2LMHeadModel\"], \"attn_pdrop\": 0.1, "
    "\"bos_token_id\": 50256, \"embd_pdrop\": 0.1, \"eos_token_id\": 50256, \"initializer_range\": 0.02, "
    "\"layer_norm_epsilon\": 1e-05, \"model_type\": \"gpt2\", \"n_ctx\": 13, \"n_embd\": 12, \"n_head\": 3, "
    "\"n_layer\": 2, \"n_positions\": 13, \"resid_pdrop\": 0.1, \"summary_activation\": null, "
    "\"summary_first_dropout\": 0.1, \"summary_proj_to_labels\": true, \"summary_type\": \"cls_index\", "
    "\"summary_use_proj\": true, \"task_specific_params\": {\"text-generation\": {\"do_sample\": true, \"max_length\": 50}}, "
    "\"vocab_size\": 261}";

static const char smollm2[] = /* SmolLM2-135M's fields */
    "{\"architectures\": [\"LlamaForCausalLM\"], \"attention_bias\": false, \"attention_dropout\": 0.0, "
    "\"bos_token_id\": 0, \"eos_token_id\": 0, \"hidden_act\": \"silu\", \"hidden_size\": 576, "
    "\"initializer_range\": 0.041666666666666664, \"intermediate_size\": 1536, \"is_llama_config\": true, "
    "\"max_position_embeddings\": 8192, \"model_type\": \"llama\", \"num_attention_heads\": 9, "
    "\"num_hidden_layers\": 30, \"num_key_value_heads\": 3, \"pretraining_tp\": 1, \"rms_norm_eps\": 1e-05, "
    "\"rope_interleaved\": false, \"rope_scaling\": null, \"rope_theta\": 100000, \"tie_word_embeddings\": true, "
    "\"torch_dtype\": \"bfloat16\", \"transformers_version\": \"4.40.1\", \"use_cache\": true, \"vocab_size\": 49152}";

static const char qwen25[] = /* Qwen2.5-0.5B's fields */
    "{\"architectures\": [\"Qwen2ForCausalLM\"], \"attention_dropout\": 0.0, \"bos_token_id\": 151643, "
    "\"eos_token_id\": 151643, \"hidden_act\": \"silu\", \"hidden_size\": 896, \"initializer_range\": 0.02, "
    "\"intermediate_size\": 4864, \"max_position_embeddings\": 32768, \"max_window_layers\": 24, "
    "\"model_type\": \"qwen2\", \"num_attention_heads\": 14, \"num_hidden_layers\": 24, \"num_key_value_heads\": 2, "
    "\"rms_norm_eps\": 1e-06, \"rope_theta\": 1000000.0, \"sliding_window\": 32768, \"tie_word_embeddings\": true, "
    "\"torch_dtype\": \"bfloat16\", \"transformers_version\": \"4.40.1\", \"use_cache\": true, "
    "\"use_sliding_window\": false, \"vocab_size\": 151936}";

static const char llama_v5[] = /* as transformers 5 saves a LlamaConfig: rope_parameters, no num_key_value_heads */
    "{\"hidden_size\": 64, \"intermediate_size\": 96, \"num_hidden_layers\": 3, \"num_attention_heads\": 4, "
    "\"max_position_embeddings\": 128, \"vocab_size\": 300, \"model_type\": \"llama\", \"head_dim\": 16, "
    "\"rope_parameters\": {\"rope_theta\": 20000.0, \"rope_type\": \"default\"}, \"dtype\": \"float32\", "
    "\"mlp_bias\": false, \"pad_token_id\": null}";

static const char mistral[] =
    "{\"model_type\": \"mistral\", \"hidden_size\": 64, \"intermediate_size\": 96, \"num_hidden_layers\": 2, "
    "\"num_attention_heads\": 8, \"max_position_embeddings\": 32768, \"vocab_size\": 300, \"sliding_window\": 4096}";

/* `base` with `field` set to the JSON `value` (replaced, or added). */
static void with_field(char *out, size_t size, const char *base, const char *field, const char *value) {
    cJSON *root = cJSON_Parse(base), *item = cJSON_Parse(value);
    if (cJSON_GetObjectItemCaseSensitive(root, field)) cJSON_ReplaceItemInObjectCaseSensitive(root, field, item);
    else cJSON_AddItemToObject(root, field, item);
    char *text = cJSON_PrintUnformatted(root);
    snprintf(out, size, "%s", text ? text : "");
    free(text);
    cJSON_Delete(root);
}

typedef struct config_case {
    const char *what;
    const char *base;
    const char *field, *value; /* put in front of base's fields; NULL: base as it is */
    uint32_t max_context;
    const char *expect[3];
} config_case;

T2G_HOST_CHECK(hf_config) {
    check_case_begin(ctx);
    char dir[512];
    if (!scratch_dir(ctx, dir, sizeof dir)) return ctx->failures;
    t2g_model_config m;
    /* the models as their config.json gives them */
    bool ok = write_text(dir, "config.json", gpt2_hub) && check_status(ctx, t2g_hf_read_config(dir, 0, &m, &ctx->err), "gpt2");
    t2g_model_config want = gpt2_model();
    check_true(ctx, ok && same_model(&m, &want), "the hub's gpt2 config (dropout, summary fields, n_ctx) reads as gpt2");
    ok = write_text(dir, "config.json", smollm2) && check_status(ctx, t2g_hf_read_config(dir, 1024, &m, &ctx->err), "SmolLM2");
    want = (t2g_model_config){T2G_ARCH_LLAMA, 49152, 1024, 30, 9, 576, 3, 1536, 100000, 1e-5, 0, 1, T2G_PRECISION_F32, 0};
    check_true(ctx, ok && same_model(&m, &want), "SmolLM2-135M: llama, 3 kv heads, tied, context clamped to 1024");
    ok = write_text(dir, "config.json", qwen25) && check_status(ctx, t2g_hf_read_config(dir, 0, &m, &ctx->err), "Qwen2.5");
    want = (t2g_model_config){T2G_ARCH_LLAMA, 151936, 32768, 24, 14, 896, 2, 4864, 1e6, 1e-6, 1, 1, T2G_PRECISION_F32, 0};
    check_true(ctx, ok && same_model(&m, &want), "Qwen2.5-0.5B: llama with q/k/v biases, sliding window off");
    ok = write_text(dir, "config.json", llama_v5) && check_status(ctx, t2g_hf_read_config(dir, 0, &m, &ctx->err), "llama (5)");
    want = (t2g_model_config){T2G_ARCH_LLAMA, 300, 128, 3, 4, 64, 4, 96, 20000, 1e-6, 0, 0, T2G_PRECISION_F32, 0};
    check_true(ctx, ok && same_model(&m, &want),
               "transformers 5's llama: rope_parameters, kv heads = heads, rms_norm_eps 1e-6 and untied by default");
    ok = write_text(dir, "config.json", mistral) && check_status(ctx, t2g_hf_read_config(dir, 4096, &m, &ctx->err), "mistral");
    want = (t2g_model_config){T2G_ARCH_LLAMA, 300, 4096, 2, 8, 64, 8, 96, 10000, 1e-6, 0, 0, T2G_PRECISION_F32, 0};
    check_true(ctx, ok && same_model(&m, &want), "mistral within its sliding window: kv heads default 8");

    static const config_case cases[] = {
        {"an unknown model_type", smollm2, "model_type", "\"bert\"", 0, {"model_type \"bert\"", "gpt2, llama, qwen2"}},
        {"rope_scaling set", smollm2, "rope_scaling", "{\"factor\": 32.0, \"rope_type\": \"llama3\"}", 0,
         {"rope_scaling = {\"factor\":32,\"rope_type\":\"llama3\"}", "does not implement"}},
        {"rope_parameters of another type", llama_v5, "rope_parameters", "{\"rope_type\": \"yarn\", \"factor\": 4}", 0,
         {"rope_parameters", "only rope_type \"default\""}},
        {"an unknown field", smollm2, "fancy_attention", "true", 0, {"fancy_attention = true", "does not know"}},
        {"quantization", qwen25, "quantization_config", "{\"bits\": 4}", 0, {"quantization_config", "does not know"}},
        {"a head_dim other than width / heads", llama_v5, "head_dim", "32", 0, {"head_dim = 32", "64 / 4"}},
        {"head size over 128", smollm2, "num_attention_heads", "3", 0, {"head size 576 / 3 = 192", "at most 128"}},
        {"a repeated field", "{\"model_type\": \"llama\", \"vocab_size\": 10, \"vocab_size\": 11}", NULL, NULL, 0,
         {"\"vocab_size\" appears twice"}},
        {"another activation", smollm2, "hidden_act", "\"gelu\"", 0, {"hidden_act = \"gelu\"", "only \"silu\""}},
        {"o_proj biases", smollm2, "attention_bias", "true", 0, {"attention_bias = true", "o_proj"}},
        {"MLP biases", smollm2, "mlp_bias", "true", 0, {"mlp_bias = true"}},
        {"a sliding window shorter than the context", mistral, NULL, NULL, 8192, {"sliding_window = 4096", "8192"}},
        {"mistral's default window", "{\"model_type\": \"mistral\", \"hidden_size\": 64, \"intermediate_size\": 96, "
         "\"num_hidden_layers\": 2, \"num_attention_heads\": 8, \"max_position_embeddings\": 8000, \"vocab_size\": 300}",
         NULL, NULL, 0, {"sliding_window = 4096", "context is 8000"}},
        {"a short mistral window", mistral, "sliding_window", "1000", 0, {"sliding_window = 1000", "context is 32768"}},
        {"pretraining_tp", smollm2, "pretraining_tp", "2", 0, {"pretraining_tp = 2"}},
        {"interleaved rotary", smollm2, "rope_interleaved", "true", 0, {"rope_interleaved = true"}},
        {"gpt2 epsilon", gpt2_hub, "layer_norm_epsilon", "1e-6", 0, {"layer_norm_epsilon = 1e-06", "only 1e-5"}},
        {"gpt2 untied", gpt2_hub, "tie_word_embeddings", "false", 0, {"tie_word_embeddings = false"}},
        {"gpt2 relu", gpt2_hub, "activation_function", "\"relu\"", 0, {"activation_function = \"relu\""}},
        {"gpt2 layer scaling", gpt2_hub, "scale_attn_by_inverse_layer_idx", "true", 0, {"scale_attn_by_inverse_layer_idx"}},
        {"cross-attention", gpt2_hub, "add_cross_attention", "true", 0, {"add_cross_attention = true"}},
        {"n_ctx disagreeing", gpt2_hub, "n_ctx", "14", 0, {"n_ctx = 14", "n_positions = 13"}},
        {"a missing size", "{\"model_type\": \"llama\", \"vocab_size\": 10}", NULL, NULL, 0, {"no \"hidden_size\""}},
        {"a fractional size", smollm2, "hidden_size", "576.5", 0, {"\"hidden_size\" must be a whole number"}},
        {"kv heads not dividing", smollm2, "num_key_value_heads", "4", 0, {"num_key_value_heads = 4", "= 9"}},
        {"not an object", "[1, 2, 3]", NULL, NULL, 0, {"not a JSON object"}},
    };
    char text[4096];
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        const config_case *c = &cases[i];
        if (c->field) with_field(text, sizeof text, c->base, c->field, c->value);
        else snprintf(text, sizeof text, "%s", c->base);
        t2g_error err = {0};
        t2g_status status = write_text(dir, "config.json", text) ? t2g_hf_read_config(dir, c->max_context, &m, &err) : T2G_OK;
        bool named = status != T2G_OK && strstr(err.message, "config.json");
        for (int k = 0; k < 3 && c->expect[k]; k++) named = named && strstr(err.message, c->expect[k]);
        check_true(ctx, named, "%s: refused by name: %s", c->what, err.message);
    }
    t2g_error err = {0};
    remove_dir(dir);
    check_true(ctx, t2g_hf_read_config(dir, 0, &m, &err) == T2G_ERR_IO && strstr(err.message, "config.json"),
               "a folder without config.json: %s", err.message);
    return ctx->failures;
}

/* ---- folders laid out as others save them, and broken ones ---- */

/* The tensors of a model.safetensors in memory, to be rewritten another way. */
typedef struct mem_tensor {
    char name[128];
    uint32_t rank;
    uint64_t shape[2];
    float *data;
} mem_tensor;

typedef struct mem_file {
    mem_tensor t[MAX_PARAMS * 3];
    uint32_t count;
    t2g_dtype dtype; /* what they are written as */
} mem_file;

static bool load_written(check_ctx *ctx, const char *dir, mem_file *f) {
    char path[1024];
    snprintf(path, sizeof path, "%s/model.safetensors", dir);
    t2g_safetensors *st;
    memset(f, 0, sizeof *f);
    if (!check_status(ctx, t2g_safetensors_open(path, &st, &ctx->err), "opening what t2g wrote")) return false;
    bool ok = true;
    for (uint32_t i = 0; ok && i < t2g_safetensors_count(st); i++) {
        const t2g_safetensors_tensor *t = t2g_safetensors_at(st, i);
        mem_tensor *m = &f->t[f->count++];
        snprintf(m->name, sizeof m->name, "%s", t->name);
        m->rank = t->rank;
        memcpy(m->shape, t->shape, sizeof m->shape);
        m->data = check_host(ctx, t->elements * sizeof *m->data);
        ok = check_status(ctx, t2g_safetensors_read_f32(st, t, m->data, t->elements, &ctx->err), t->name);
    }
    t2g_safetensors_close(st);
    return ok;
}

static mem_tensor *named(mem_file *f, const char *name) {
    for (uint32_t i = 0; i < f->count; i++)
        if (strcmp(f->t[i].name, name) == 0) return &f->t[i];
    return NULL;
}

static void drop(mem_file *f, const char *name) {
    mem_tensor *t = named(f, name);
    if (t) *t = f->t[--f->count];
}

static void add_tensor(check_ctx *ctx, mem_file *f, const char *name, uint64_t rows, uint64_t cols, const float *data) {
    mem_tensor *t = &f->t[f->count++];
    snprintf(t->name, sizeof t->name, "%s", name);
    t->rank = cols ? 2 : 1;
    t->shape[0] = rows, t->shape[1] = cols;
    uint64_t n = rows * (cols ? cols : 1);
    t->data = check_host(ctx, n * sizeof *t->data);
    if (data) memcpy(t->data, data, n * sizeof *t->data);
    else
        for (uint64_t i = 0; i < n; i++) t->data[i] = (float)i;
}

static bool save_file(check_ctx *ctx, const char *dir, const char *file, mem_file *f, uint32_t first, uint32_t count) {
    t2g_safetensors_entry *e = check_host(ctx, (count ? count : 1) * sizeof *e);
    for (uint32_t i = 0; i < count; i++) {
        const mem_tensor *t = &f->t[first + i];
        e[i] = (t2g_safetensors_entry){.name = t->name, .rank = t->rank, .shape = {t->shape[0], t->shape[1]},
                                       .data = t->data, .dtype = f->dtype};
    }
    char path[1024];
    snprintf(path, sizeof path, "%s/%s", dir, file);
    return check_status(ctx, t2g_safetensors_write(path, e, count, &ctx->err), path);
}

/* Two shards (the first half of the tensors, the rest) and their index; `moved` (if any) is
 * listed in the index under `listed_as`. */
static bool save_shards(check_ctx *ctx, const char *dir, mem_file *f, const char *moved, const char *listed_as) {
    char path[1024];
    snprintf(path, sizeof path, "%s/model.safetensors", dir);
    remove(path);
    uint32_t half = f->count / 2;
    if (!save_file(ctx, dir, "shard-1.safetensors", f, 0, half) ||
        !save_file(ctx, dir, "shard-2.safetensors", f, half, f->count - half))
        return false;
    cJSON *root = cJSON_CreateObject(), *map = cJSON_AddObjectToObject(root, "weight_map");
    cJSON_AddObjectToObject(root, "metadata");
    for (uint32_t i = 0; i < f->count; i++) {
        const char *shard = i < half ? "shard-1.safetensors" : "shard-2.safetensors";
        if (moved && strcmp(f->t[i].name, moved) == 0) {
            if (!listed_as) continue;
            shard = listed_as;
        }
        cJSON_AddStringToObject(map, f->t[i].name, shard);
    }
    if (moved && !named(f, moved)) cJSON_AddStringToObject(map, moved, listed_as);
    char *text = cJSON_Print(root);
    bool ok = text && write_text(dir, "model.safetensors.index.json", text);
    free(text);
    cJSON_Delete(root);
    return ok;
}

/* Every tensor of the table read from DIR equals `params` rounded through `dtype`. */
static void check_reads(check_ctx *ctx, const char *dir, const t2g_model_config *m, const model_table *t,
                        const float *params, t2g_dtype dtype, const char *label) {
    float *back = check_host(ctx, t->floats * sizeof *back);
    memset(back, 0, t->floats * sizeof *back);
    if (!check_status(ctx, t2g_hf_read_weights(dir, m, t->params, t->count, back, &ctx->err), label)) return;
    uint64_t wrong = 0;
    for (uint32_t i = 0; i < t->count; i++)
        for (uint64_t k = 0; k < (uint64_t)t->params[i].rows * t->params[i].cols; k++) {
            float want = params[t->params[i].offset + k];
            if (dtype == T2G_DTYPE_F16) want = t2g_f16_to_f32(t2g_f32_to_f16(want));
            if (dtype == T2G_DTYPE_BF16) want = t2g_bf16_to_f32(t2g_f32_to_bf16(want));
            wrong += back[t->params[i].offset + k] != want;
        }
    check_true(ctx, wrong == 0, "%s: every parameter as stored (%llu differ)", label, (unsigned long long)wrong);
}

T2G_HOST_CHECK(hf_files) {
    check_case_begin(ctx);
    char dir[512];
    if (!scratch_dir(ctx, dir, sizeof dir)) return ctx->failures;
    t2g_model_config gpt2 = gpt2_model(), llama = llama_model(true, false);
    model_table tg, tl;
    build_table(&gpt2, &tg);
    build_table(&llama, &tl);
    float *pg = random_params(ctx, &tg), *pl = random_params(ctx, &tl);
    mem_file *f = check_host(ctx, sizeof *f);

    /* the hub's gpt2 layout: no prefix, the attention mask buffers, lm_head equal to wte, in BF16 */
    bool ok = check_status(ctx, t2g_hf_write(dir, &gpt2, tg.params, tg.count, pg, NULL, &ctx->err), "writing gpt2") &&
              load_written(ctx, dir, f);
    if (ok) {
        for (uint32_t i = 0; i < f->count; i++)
            if (strncmp(f->t[i].name, "transformer.", 12) == 0) memmove(f->t[i].name, f->t[i].name + 12, strlen(f->t[i].name) - 11);
        add_tensor(ctx, f, "h.0.attn.bias", 13 * 13, 0, NULL);
        add_tensor(ctx, f, "h.1.attn.masked_bias", 1, 0, NULL);
        add_tensor(ctx, f, "lm_head.weight", 261, 12, named(f, "wte.weight")->data);
        f->dtype = T2G_DTYPE_BF16;
        if (save_file(ctx, dir, "model.safetensors", f, 0, f->count))
            check_reads(ctx, dir, &gpt2, &tg, pg, T2G_DTYPE_BF16, "gpt2 as the hub lays it out, BF16");
        f->dtype = T2G_DTYPE_F16;
        if (save_shards(ctx, dir, f, NULL, NULL)) check_reads(ctx, dir, &gpt2, &tg, pg, T2G_DTYPE_F16, "gpt2 in two F16 shards");
    }

    /* broken folders: each change to a good llama folder, and the message it gets */
    typedef struct folder_case {
        const char *what;
        const char *drop, *add;  /* a tensor taken out; one put in (24 x 24) */
        bool shards;             /* written as two shards, `drop` listed under `listed_as` */
        const char *listed_as;
        const char *expect[3];
    } folder_case;
    static const folder_case cases[] = {
        {"a missing tensor", "model.layers.1.mlp.up_proj.weight", NULL, false, NULL,
         {"model.layers.1.mlp.up_proj.weight", "t2g's fcw, layer 1", "missing"}},
        {"a shape disagreeing with config.json", "model.layers.0.self_attn.k_proj.weight", "model.layers.0.self_attn.k_proj.weight",
         false, NULL, {"k_proj.weight has shape [24, 24]", "config.json implies [8, 24]"}},
        {"a tensor that fills nothing", NULL, "model.layers.0.self_attn.extra.weight", false, NULL,
         {"model.layers.0.self_attn.extra.weight", "fills no tensor", "llama"}},
        {"the same tensor with and without the prefix", NULL, "norm.weight", false, NULL,
         {"model.norm.weight", "are the same tensor"}},
        {"a shard outside the folder", "model.norm.weight", NULL, true, "../elsewhere.safetensors",
         {"index.json", "model.norm.weight", "not a file name inside the folder"}},
        {"a shard's tensor the index leaves out", "model.norm.weight", NULL, true, NULL,
         {"model.norm.weight", "does not list it"}},
        {"an index entry its shard lacks", "model.layers.0.mlp.gate_proj.weight", NULL, true, "shard-1.safetensors",
         {"model.layers.0.mlp.gate_proj.weight", "listed in shard shard-1.safetensors", "does not hold it"}},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        const folder_case *c = &cases[i];
        mem_file *g = check_host(ctx, sizeof *g); /* no check_case_begin here: it would free pl */
        empty_dir(dir);
        if (!check_status(ctx, t2g_hf_write(dir, &llama, tl.params, tl.count, pl, NULL, &ctx->err), "writing llama") ||
            !load_written(ctx, dir, g))
            continue;
        bool saved;
        if (c->shards) {
            /* keep the tensor in its shard; the index says otherwise */
            saved = save_shards(ctx, dir, g, c->drop, c->listed_as);
            if (saved && c->listed_as && strcmp(c->listed_as, "shard-1.safetensors") == 0) {
                /* move the tensor out of shard 1's file: rewrite it without it */
                mem_tensor keep = *named(g, c->drop);
                drop(g, c->drop);
                saved = save_shards(ctx, dir, g, c->drop, c->listed_as);
                g->t[g->count++] = keep;
            }
        } else {
            if (c->drop) drop(g, c->drop);
            if (c->add) add_tensor(ctx, g, c->add, 24, c->drop ? 24 : 0, NULL);
            saved = save_file(ctx, dir, "model.safetensors", g, 0, g->count);
        }
        float *back = check_host(ctx, tl.floats * sizeof *back);
        t2g_error err = {0};
        t2g_status status = saved ? t2g_hf_read_weights(dir, &llama, tl.params, tl.count, back, &err) : T2G_OK;
        bool good = status != T2G_OK && strstr(err.message, dir);
        for (int k = 0; k < 3 && c->expect[k]; k++) good = good && strstr(err.message, c->expect[k]);
        check_true(ctx, good, "%s: refused by name: %s", c->what, err.message);
    }

    /* the caller's side: a model other than the folder's, a table that is not the model's */
    empty_dir(dir);
    t2g_error err = {0};
    float *back = check_host(ctx, tl.floats * sizeof *back);
    t2g_model_config other = llama;
    other.rope_theta = 1e4;
    ok = check_status(ctx, t2g_hf_write(dir, &llama, tl.params, tl.count, pl, NULL, &ctx->err), "writing llama");
    check_true(ctx, ok && t2g_hf_read_weights(dir, &other, tl.params, tl.count, back, &err) == T2G_ERR_ARGUMENT &&
                        strstr(err.message, "model.rope_theta = 500000"),
               "a model other than config.json's is refused naming the key: %s", err.message);
    check_true(ctx, t2g_hf_read_weights(dir, &llama, tl.params, tl.count - 1, back, &err) == T2G_ERR_ARGUMENT &&
                        strstr(err.message, "holds 16 tensors") && strstr(err.message, "has 17"),
               "a table without the head is refused: %s", err.message);
    model_table wrong = tl;
    wrong.params[3].rows++;
    check_true(ctx, t2g_hf_read_weights(dir, &llama, wrong.params, wrong.count, back, &err) == T2G_ERR_ARGUMENT &&
                        strstr(err.message, "qkvb (layer 0) is (2, 40); the model implies (1, 40)"),
               "a table entry of the wrong shape is refused: %s", err.message);
    char path[1024];
    snprintf(path, sizeof path, "%s/model.safetensors", dir);
    remove(path);
    check_true(ctx, t2g_hf_read_weights(dir, &llama, tl.params, tl.count, back, &err) == T2G_ERR_IO &&
                        strstr(err.message, "neither model.safetensors nor model.safetensors.index.json"),
               "a folder without weights: %s", err.message);
    /* writing: a file where the folder should be */
    snprintf(path, sizeof path, "%s/config.json", dir);
    check_true(ctx, t2g_hf_write(path, &llama, tl.params, tl.count, pl, NULL, &err) == T2G_ERR_IO && strstr(err.message, path),
               "writing over a file is refused: %s", err.message);
    remove_dir(dir);
    return ctx->failures;
}
