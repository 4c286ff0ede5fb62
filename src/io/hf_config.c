/* config.json of a Hugging Face folder read into a t2g_model_config (the rules are in t2g/hf.h).
 * Each field read is taken out of the parsed object; what is left must be on the list of fields
 * that do not change the computation, so a field t2g does not know is refused, never ignored. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>

#include "core/read_file.h"
#include "io/hf_internal.h"
#include "t2g/hf.h"

#define CONFIG_MAX_BYTES (16u << 20)

typedef struct hf_config {
    char path[4200]; /* DIR/config.json, for messages */
    cJSON *root;     /* what is left of it */
    const char *type;
} hf_config;

/* Fields that change nothing t2g computes: names, ids, generation defaults, labels, dtypes, and
 * dropout (t2g trains without dropout: a model trained with it is fine-tuned without). */
static const char *const harmless[] = {
    "architectures", "torch_dtype", "dtype", "transformers_version", "_name_or_path", "bos_token_id", "eos_token_id",
    "pad_token_id", "sep_token_id", "decoder_start_token_id", "initializer_range", "use_cache", "is_llama_config",
    "id2label", "label2id", "num_labels", "problem_type", "finetuning_task", "tokenizer_class", "prefix",
    "task_specific_params", "output_attentions", "output_hidden_states", "return_dict", "torchscript",
    "use_bfloat16", "output_scores", "return_dict_in_generate", "max_length", "min_length", "do_sample",
    "early_stopping", "num_beams", "num_beam_groups", "diversity_penalty", "temperature", "top_k", "top_p",
    "typical_p", "repetition_penalty", "length_penalty", "no_repeat_ngram_size", "encoder_no_repeat_ngram_size",
    "bad_words_ids", "num_return_sequences", "forced_bos_token_id", "forced_eos_token_id", "remove_invalid_values",
    "exponential_decay_length_penalty", "suppress_tokens", "begin_suppress_tokens", "chunk_size_feed_forward",
    "tf_legacy_loss", "is_decoder", "attention_dropout", "resid_pdrop", "embd_pdrop", "attn_pdrop",
    "summary_type", "summary_use_proj", "summary_activation", "summary_proj_to_labels", "summary_first_dropout",
    "reorder_and_upcast_attn", "max_window_layers",
};

/* ---- taking fields ---- */

static cJSON *take(hf_config *c, const char *field) { return cJSON_DetachItemFromObjectCaseSensitive(c->root, field); }

static t2g_status refuse(hf_config *c, const char *field, const cJSON *value, const char *why, t2g_error *err) {
    char *text = value ? cJSON_PrintUnformatted(value) : NULL;
    t2g_fail(err, T2G_ERR_UNSUPPORTED, "%s: %s = %.200s: %s", c->path, field, text ? text : "(absent)", why);
    free(text);
    return T2G_ERR_UNSUPPORTED;
}

/* A whole number in [lo, hi]; absent: `fallback` when it is >= 0 (transformers' default), else
 * an error. */
static t2g_status take_uint(hf_config *c, const char *field, int64_t fallback, uint64_t lo, uint64_t hi, uint64_t *out,
                            t2g_error *err) {
    cJSON *item = take(c, field);
    t2g_status status = T2G_OK;
    if (!item && fallback < 0)
        status = t2g_fail(err, T2G_ERR_FORMAT, "%s: no \"%s\" (model_type %s needs it)", c->path, field, c->type);
    else if (!item)
        *out = (uint64_t)fallback;
    else if (!cJSON_IsNumber(item) || !(item->valuedouble >= (double)lo && item->valuedouble <= (double)hi) ||
             item->valuedouble != floor(item->valuedouble))
        status = t2g_fail(err, T2G_ERR_FORMAT, "%s: \"%s\" must be a whole number in [%llu, %llu]", c->path, field,
                          (unsigned long long)lo, (unsigned long long)hi);
    else
        *out = (uint64_t)item->valuedouble;
    cJSON_Delete(item);
    return status;
}

static t2g_status take_u32(hf_config *c, const char *field, int64_t fallback, uint32_t lo, uint32_t *out,
                           t2g_error *err) {
    uint64_t v = 0;
    t2g_status status = take_uint(c, field, fallback, lo, UINT32_MAX, &v, err);
    *out = (uint32_t)v;
    return status;
}

/* A number in (lo, hi]; absent: fallback. */
static t2g_status take_number(hf_config *c, const char *field, double fallback, double lo, double hi, double *out,
                              t2g_error *err) {
    cJSON *item = take(c, field);
    t2g_status status = T2G_OK;
    *out = fallback;
    if (item && (!cJSON_IsNumber(item) || !(item->valuedouble > lo && item->valuedouble <= hi)))
        status = t2g_fail(err, T2G_ERR_FORMAT, "%s: \"%s\" must be a number in (%g, %g]", c->path, field, lo, hi);
    else if (item)
        *out = item->valuedouble;
    cJSON_Delete(item);
    return status;
}

static t2g_status take_bool(hf_config *c, const char *field, bool fallback, bool *out, t2g_error *err) {
    cJSON *item = take(c, field);
    t2g_status status = T2G_OK;
    *out = fallback;
    if (item && !cJSON_IsBool(item))
        status = t2g_fail(err, T2G_ERR_FORMAT, "%s: \"%s\" must be true or false", c->path, field);
    else if (item)
        *out = cJSON_IsTrue(item);
    cJSON_Delete(item);
    return status;
}

/* A field t2g implements only at one value: absent, or JSON-equal to `accepted` (JSON text). */
static t2g_status take_only(hf_config *c, const char *field, const char *accepted, t2g_error *err) {
    cJSON *item = take(c, field), *want = cJSON_Parse(accepted);
    t2g_status status = T2G_OK;
    if (item && !(want && cJSON_Compare(item, want, true))) {
        char why[160];
        snprintf(why, sizeof why, "t2g does not implement it (only %s)", accepted);
        status = refuse(c, field, item, why, err);
    }
    cJSON_Delete(want);
    cJSON_Delete(item);
    return status;
}

/* A string field that must be one of `names` ("a|b"); absent is the first. */
static t2g_status take_name(hf_config *c, const char *field, const char *first, const char *second, t2g_error *err) {
    cJSON *item = take(c, field);
    t2g_status status = T2G_OK;
    if (item && !(cJSON_IsString(item) && (strcmp(item->valuestring, first) == 0 ||
                                           (second && strcmp(item->valuestring, second) == 0)))) {
        char why[160];
        snprintf(why, sizeof why, "t2g does not implement it (only \"%s\"%s%s%s)", first, second ? " or \"" : "",
                 second ? second : "", second ? "\"" : "");
        status = refuse(c, field, item, why, err);
    }
    cJSON_Delete(item);
    return status;
}

static t2g_status refuse_leftovers(hf_config *c, t2g_error *err) {
    for (const cJSON *item = c->root->child; item; item = item->next) {
        size_t i = 0, n = sizeof harmless / sizeof harmless[0];
        while (i < n && strcmp(harmless[i], item->string) != 0) i++;
        if (i == n)
            return refuse(c, item->string, item, "a field t2g does not know (refused rather than ignored)", err);
    }
    return T2G_OK;
}

/* Fields of every model that must keep transformers' defaults. */
static t2g_status take_common(hf_config *c, t2g_error *err) {
    t2g_status status = take_only(c, "is_encoder_decoder", "false", err);
    if (!status) status = take_only(c, "add_cross_attention", "false", err);
    if (!status) status = take_only(c, "tie_encoder_decoder", "false", err);
    if (!status) status = take_only(c, "pruned_heads", "{}", err);
    if (!status) status = take_only(c, "cross_attention_hidden_size", "null", err);
    return status;
}

/* ---- gpt2 ---- */

static t2g_status read_gpt2(hf_config *c, t2g_model_config *m, uint64_t *positions, t2g_error *err) {
    m->arch = T2G_ARCH_GPT2;
    uint64_t inner = 0, n_ctx = 0;
    t2g_status status = take_u32(c, "vocab_size", -1, 1, &m->vocab, err);
    if (!status) status = take_uint(c, "n_positions", -1, 2, UINT32_MAX, positions, err);
    if (!status) status = take_u32(c, "n_embd", -1, 1, &m->width, err);
    if (!status) status = take_u32(c, "n_layer", -1, 1, &m->layers, err);
    if (!status) status = take_u32(c, "n_head", -1, 1, &m->heads, err);
    if (status) return status;
    cJSON *n_inner = take(c, "n_inner");
    if (n_inner && !cJSON_IsNull(n_inner)) {
        cJSON_AddItemToObject(c->root, "n_inner", n_inner);
        status = take_uint(c, "n_inner", -1, 1, UINT32_MAX, &inner, err);
        m->ffn_width = inner == 4ull * m->width ? 0 : (uint32_t)inner;
    } else
        cJSON_Delete(n_inner);
    if (!status && cJSON_GetObjectItemCaseSensitive(c->root, "n_ctx")) {
        status = take_uint(c, "n_ctx", -1, 0, UINT64_MAX >> 12, &n_ctx, err);
        if (!status && n_ctx != *positions)
            status = t2g_fail(err, T2G_ERR_UNSUPPORTED, "%s: n_ctx = %llu differs from n_positions = %llu", c->path,
                              (unsigned long long)n_ctx, (unsigned long long)*positions);
    }
    if (!status) status = take_name(c, "activation_function", "gelu_new", "gelu_pytorch_tanh", err);
    if (!status) status = take_only(c, "layer_norm_epsilon", "1e-5", err);
    if (!status) status = take_only(c, "scale_attn_weights", "true", err);
    if (!status) status = take_only(c, "scale_attn_by_inverse_layer_idx", "false", err);
    if (!status) status = take_only(c, "tie_word_embeddings", "true", err);
    m->kv_heads = 0;
    m->rope_theta = 10000;
    m->norm_eps = 1e-5;
    m->qkv_bias = 0;
    m->tied_head = 1;
    return status;
}

/* ---- llama, qwen2, mistral ---- */

/* The rotary settings: rope_scaling (transformers 4) or rope_parameters (5) null or of type
 * "default" with at most a rope_theta; else a top-level rope_theta; else 10000. */
static t2g_status take_rope(hf_config *c, double *theta, t2g_error *err) {
    t2g_status status = take_number(c, "rope_theta", 10000, 0, 1e12, theta, err);
    if (!status) status = take_only(c, "partial_rotary_factor", "1.0", err);
    if (!status) status = take_only(c, "rope_interleaved", "false", err);
    const char *fields[2] = {"rope_scaling", "rope_parameters"};
    for (int f = 0; f < 2 && !status; f++) {
        cJSON *rope = take(c, fields[f]);
        if (rope && !cJSON_IsNull(rope)) {
            const char *problem = cJSON_IsObject(rope) ? NULL : "not an object";
            for (const cJSON *k = cJSON_IsObject(rope) ? rope->child : NULL; k && !problem; k = k->next) {
                bool type = strcmp(k->string, "rope_type") == 0 || strcmp(k->string, "type") == 0;
                if (type && !(cJSON_IsString(k) && strcmp(k->valuestring, "default") == 0))
                    problem = "t2g does not implement it (only rope_type \"default\")";
                else if (strcmp(k->string, "rope_theta") == 0) {
                    if (!cJSON_IsNumber(k) || !(k->valuedouble > 0 && k->valuedouble <= 1e12)) problem = "rope_theta is not a number in (0, 1e12]";
                    else *theta = k->valuedouble;
                } else if (!type)
                    problem = "t2g does not implement it (only rope_type \"default\" and rope_theta)";
            }
            if (problem) status = refuse(c, fields[f], rope, problem, err);
        }
        cJSON_Delete(rope);
    }
    return status;
}

/* A sliding window changes nothing when it spans the whole context t2g runs. Absent, it is
 * transformers' default, 4096 (mistral; qwen2 when use_sliding_window is set). */
static t2g_status take_window(hf_config *c, bool sliding, uint32_t context, t2g_error *err) {
    cJSON *window = take(c, "sliding_window"), *types = take(c, "layer_types");
    t2g_status status = T2G_OK;
    bool any_sliding = sliding;
    if (types && !cJSON_IsArray(types) && !cJSON_IsNull(types))
        status = refuse(c, "layer_types", types, "not a list", err);
    for (const cJSON *t = cJSON_IsArray(types) ? types->child : NULL; t && !status; t = t->next) {
        bool full = cJSON_IsString(t) && strcmp(t->valuestring, "full_attention") == 0;
        bool slide = cJSON_IsString(t) && strcmp(t->valuestring, "sliding_attention") == 0;
        if (!full && !slide) status = refuse(c, "layer_types", types, "t2g knows only full_attention and sliding_attention", err);
        any_sliding |= slide;
    }
    if (!window) window = cJSON_CreateNumber(4096);
    if (!status && any_sliding && !cJSON_IsNull(window)) {
        if (!cJSON_IsNumber(window) || window->valuedouble < 1)
            status = refuse(c, "sliding_window", window, "not a positive number", err);
        else if (window->valuedouble < context) {
            char why[256];
            snprintf(why, sizeof why,
                     "t2g does not implement sliding-window attention, which differs from full attention past %.0f "
                     "tokens; the context is %u (ask for a context of at most %.0f)",
                     window->valuedouble, context, window->valuedouble);
            status = refuse(c, "sliding_window", window, why, err);
        }
    }
    cJSON_Delete(window);
    cJSON_Delete(types);
    return status;
}

static t2g_status read_llama(hf_config *c, uint32_t max_context, t2g_model_config *m, uint64_t *positions,
                             t2g_error *err) {
    bool qwen2 = strcmp(c->type, "qwen2") == 0, mistral = strcmp(c->type, "mistral") == 0;
    m->arch = T2G_ARCH_LLAMA;
    uint32_t head_dim = 0;
    bool tied = false, bias = qwen2, sliding = mistral;
    t2g_status status = take_u32(c, "vocab_size", -1, 1, &m->vocab, err);
    if (!status) status = take_u32(c, "hidden_size", -1, 1, &m->width, err);
    if (!status) status = take_u32(c, "num_hidden_layers", -1, 1, &m->layers, err);
    if (!status) status = take_u32(c, "num_attention_heads", -1, 1, &m->heads, err);
    /* transformers' defaults when absent: llama the heads, qwen2 32, mistral 8 */
    if (!status) status = take_u32(c, "num_key_value_heads", qwen2 ? 32 : mistral ? 8 : m->heads, 1, &m->kv_heads, err);
    if (!status) status = take_u32(c, "intermediate_size", -1, 1, &m->ffn_width, err);
    if (!status) status = take_uint(c, "max_position_embeddings", -1, 2, UINT32_MAX, positions, err);
    if (!status) status = take_number(c, "rms_norm_eps", 1e-6, 0, 1, &m->norm_eps, err);
    if (!status) status = take_rope(c, &m->rope_theta, err);
    if (!status) status = take_bool(c, "tie_word_embeddings", false, &tied, err);
    if (!status) status = take_name(c, "hidden_act", "silu", NULL, err);
    if (!status) status = take_only(c, "mlp_bias", "false", err);
    if (!status) status = take_only(c, "pretraining_tp", "1", err);
    if (!status && !qwen2) {
        cJSON *attention_bias = take(c, "attention_bias");
        if (attention_bias && !cJSON_IsFalse(attention_bias))
            status = refuse(c, "attention_bias", attention_bias,
                            "t2g does not implement it (q/k/v and o_proj biases; t2g's llama block has q/k/v biases only, as qwen2)",
                            err);
        cJSON_Delete(attention_bias);
    }
    if (!status && qwen2) status = take_bool(c, "use_sliding_window", false, &sliding, err);
    if (status) return status;
    m->context = (uint32_t)(*positions < max_context ? *positions : max_context);
    status = take_window(c, sliding, m->context, err);
    if (!status) status = take_u32(c, "head_dim", 0, 1, &head_dim, err);
    if (!status && head_dim && (m->width % m->heads || head_dim != m->width / m->heads)) {
        char why[160];
        snprintf(why, sizeof why, "t2g does not implement a head size other than hidden_size / num_attention_heads (%u / %u)",
                 m->width, m->heads);
        cJSON *value = cJSON_CreateNumber(head_dim);
        status = refuse(c, "head_dim", value, why, err);
        cJSON_Delete(value);
    }
    m->qkv_bias = bias;
    m->tied_head = tied;
    return status;
}

/* ---- the sizes together ---- */

static t2g_status check_sizes(const hf_config *c, const t2g_model_config *m, t2g_error *err) {
    if (m->width % m->heads)
        return t2g_fail(err, T2G_ERR_FORMAT, "%s: the width %u is not a multiple of the %u heads", c->path, m->width,
                        m->heads);
    if (m->width / m->heads > T2G_HF_HEAD_SIZE_MAX)
        return t2g_fail(err, T2G_ERR_UNSUPPORTED, "%s: the head size %u / %u = %u: t2g's attention takes at most %u", c->path,
                        m->width, m->heads, m->width / m->heads, T2G_HF_HEAD_SIZE_MAX);
    uint32_t kv = t2g_model_kv_heads(m);
    if (kv > m->heads || m->heads % kv)
        return t2g_fail(err, T2G_ERR_FORMAT, "%s: num_key_value_heads = %u does not divide num_attention_heads = %u",
                        c->path, kv, m->heads);
    if (m->arch == T2G_ARCH_LLAMA && (m->width / m->heads) % 2)
        return t2g_fail(err, T2G_ERR_UNSUPPORTED, "%s: the head size %u is odd: rotary embeddings rotate pairs", c->path,
                        m->width / m->heads);
    return T2G_OK;
}

t2g_status t2g_hf_config_read(const char *dir, uint32_t max_context, t2g_model_config *m, uint64_t *positions,
                              t2g_error *err) {
    memset(m, 0, sizeof *m);
    uint64_t stored = 0;
    if (!dir || !*dir) return t2g_fail(err, T2G_ERR_ARGUMENT, "reading a Hugging Face folder: no folder");
    hf_config c = {.type = ""};
    if (snprintf(c.path, sizeof c.path, "%s/config.json", dir) >= (int)sizeof c.path)
        return t2g_fail(err, T2G_ERR_ARGUMENT, "%s: the path is too long", dir);
    char *text = NULL;
    size_t len = 0;
    t2g_status status = t2g_file_read(c.path, "config.json", (t2g_read_cap){CONFIG_MAX_BYTES, NULL}, &text, &len, err);
    if (status) return status;
    c.root = cJSON_ParseWithLength(text, len);
    free(text);
    if (!cJSON_IsObject(c.root)) {
        cJSON_Delete(c.root);
        return t2g_fail(err, T2G_ERR_FORMAT, "%s: not a JSON object", c.path);
    }
    for (const cJSON *a = c.root->child; a; a = a->next)
        for (const cJSON *b = a->next; b; b = b->next)
            if (strcmp(a->string, b->string) == 0) {
                t2g_fail(err, T2G_ERR_FORMAT, "%s: \"%s\" appears twice", c.path, a->string);
                cJSON_Delete(c.root);
                return T2G_ERR_FORMAT;
            }
    cJSON *type = take(&c, "model_type");
    uint32_t cap = max_context ? max_context : T2G_CONTEXT_MAX;
    if (cap > T2G_CONTEXT_MAX) cap = T2G_CONTEXT_MAX;
    if (!cJSON_IsString(type))
        status = t2g_fail(err, T2G_ERR_FORMAT, "%s: no \"model_type\" string", c.path);
    else {
        c.type = type->valuestring;
        if (strcmp(c.type, "gpt2") == 0)
            status = read_gpt2(&c, m, &stored, err);
        else if (strcmp(c.type, "llama") == 0 || strcmp(c.type, "qwen2") == 0 || strcmp(c.type, "mistral") == 0)
            status = read_llama(&c, cap, m, &stored, err);
        else
            status = t2g_fail(err, T2G_ERR_UNSUPPORTED,
                              "%s: model_type \"%s\": t2g reads gpt2, llama, qwen2 and mistral models", c.path, c.type);
    }
    m->context = (uint32_t)(stored < cap ? stored : cap);
    if (!status) status = take_common(&c, err);
    if (!status) status = refuse_leftovers(&c, err);
    if (!status) status = check_sizes(&c, m, err);
    cJSON_Delete(type);
    cJSON_Delete(c.root);
    if (positions) *positions = stored;
    return status;
}

t2g_status t2g_hf_read_config(const char *dir, uint32_t max_context, t2g_model_config *model, t2g_error *err) {
    return t2g_hf_config_read(dir, max_context, model, NULL, err);
}
