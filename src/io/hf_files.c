/* The JSON files t2g writes into a Hugging Face folder besides the weights: config.json,
 * generation_config.json, and the byte tokenizer as a `tokenizers` byte-level BPE
 * (tokenizer.json, tokenizer_config.json). */
#include <stdio.h>
#include <string.h>

#include <cjson/cJSON.h>

#include "io/hf_internal.h"
#include "t2g/tokenizer.h"

static char *print_and_delete(cJSON *root, bool ok) {
    char *text = ok && root ? cJSON_Print(root) : NULL;
    cJSON_Delete(root);
    return text;
}

static bool add_id(cJSON *root, const char *key, int64_t id) {
    return id >= 0 ? cJSON_AddNumberToObject(root, key, (double)id) != NULL : cJSON_AddNullToObject(root, key) != NULL;
}

/* The special ids of `text`, or the byte tokenizer's (text NULL). */
static bool add_token_ids(cJSON *root, const t2g_hf_text *text) {
    if (!text)
        return add_id(root, "bos_token_id", T2G_TOKEN_BOS) && add_id(root, "eos_token_id", T2G_TOKEN_EOS) &&
               add_id(root, "pad_token_id", T2G_TOKEN_PAD);
    return add_id(root, "bos_token_id", text->bos_id) && add_id(root, "eos_token_id", text->eos_id) &&
           add_id(root, "pad_token_id", text->pad_id);
}

static bool add_architecture(cJSON *root, const char *class_name, const char *model_type) {
    cJSON *architectures = cJSON_AddArrayToObject(root, "architectures");
    return architectures && cJSON_AddItemToArray(architectures, cJSON_CreateString(class_name)) &&
           cJSON_AddStringToObject(root, "model_type", model_type);
}

static bool add_gpt2(cJSON *root, const t2g_model_config *m) {
    bool ok = add_architecture(root, "GPT2LMHeadModel", "gpt2") && cJSON_AddNumberToObject(root, "vocab_size", m->vocab) &&
              cJSON_AddNumberToObject(root, "n_positions", m->context) && cJSON_AddNumberToObject(root, "n_embd", m->width) &&
              cJSON_AddNumberToObject(root, "n_layer", m->layers) && cJSON_AddNumberToObject(root, "n_head", m->heads);
    ok = ok && (m->ffn_width ? cJSON_AddNumberToObject(root, "n_inner", m->ffn_width) != NULL
                             : cJSON_AddNullToObject(root, "n_inner") != NULL);
    return ok && cJSON_AddStringToObject(root, "activation_function", "gelu_new") &&
           cJSON_AddNumberToObject(root, "layer_norm_epsilon", 1e-5) && cJSON_AddNumberToObject(root, "resid_pdrop", 0) &&
           cJSON_AddNumberToObject(root, "embd_pdrop", 0) && cJSON_AddNumberToObject(root, "attn_pdrop", 0) &&
           cJSON_AddTrueToObject(root, "scale_attn_weights") && cJSON_AddTrueToObject(root, "tie_word_embeddings");
}

/* With q/k/v biases the block is Qwen2's (q/k/v biases, no o_proj or MLP bias, full attention);
 * without, Llama's. */
static bool add_llama(cJSON *root, const t2g_model_config *m) {
    bool qwen2 = m->qkv_bias != 0;
    bool ok = add_architecture(root, qwen2 ? "Qwen2ForCausalLM" : "LlamaForCausalLM", qwen2 ? "qwen2" : "llama") &&
              cJSON_AddNumberToObject(root, "vocab_size", m->vocab) &&
              cJSON_AddNumberToObject(root, "hidden_size", m->width) &&
              cJSON_AddNumberToObject(root, "intermediate_size", t2g_model_ffn_width(m)) &&
              cJSON_AddNumberToObject(root, "num_hidden_layers", m->layers) &&
              cJSON_AddNumberToObject(root, "num_attention_heads", m->heads) &&
              cJSON_AddNumberToObject(root, "num_key_value_heads", t2g_model_kv_heads(m)) &&
              cJSON_AddNumberToObject(root, "max_position_embeddings", m->context) &&
              cJSON_AddStringToObject(root, "hidden_act", "silu") &&
              cJSON_AddNumberToObject(root, "rms_norm_eps", m->norm_eps) &&
              cJSON_AddNumberToObject(root, "rope_theta", m->rope_theta) && cJSON_AddNullToObject(root, "rope_scaling") &&
              cJSON_AddNumberToObject(root, "attention_dropout", 0) &&
              cJSON_AddBoolToObject(root, "tie_word_embeddings", m->tied_head != 0);
    if (qwen2)
        return ok && cJSON_AddFalseToObject(root, "use_sliding_window") && cJSON_AddNullToObject(root, "sliding_window") &&
               cJSON_AddNumberToObject(root, "max_window_layers", m->layers);
    return ok && cJSON_AddFalseToObject(root, "attention_bias") && cJSON_AddFalseToObject(root, "mlp_bias") &&
           cJSON_AddNumberToObject(root, "head_dim", t2g_model_head_size(m)) &&
           cJSON_AddNumberToObject(root, "pretraining_tp", 1);
}

char *t2g_hf_config_json(const t2g_model_config *m, const t2g_hf_text *text) {
    cJSON *root = cJSON_CreateObject();
    bool ok = root && (m->arch == T2G_ARCH_GPT2 ? add_gpt2(root, m) : add_llama(root, m)) && add_token_ids(root, text) &&
              cJSON_AddTrueToObject(root, "use_cache") && cJSON_AddStringToObject(root, "torch_dtype", "float32");
    return print_and_delete(root, ok);
}

char *t2g_hf_generation_config_json(const t2g_hf_text *text) {
    cJSON *root = cJSON_CreateObject();
    return print_and_delete(root, root && add_token_ids(root, text));
}

/* ---- the byte tokenizer ---- */

/* GPT-2's byte-level alphabet: the printable bytes (33-126, 161-172, 174-255) stand for
 * themselves, the others for the code points from 256 up, in byte order. */
static uint32_t byte_character(uint32_t byte) {
    bool printable = (byte >= 33 && byte <= 126) || (byte >= 161 && byte <= 172) || byte >= 174;
    if (printable) return byte;
    uint32_t shifted = 0;
    for (uint32_t b = 0; b < byte; b++) shifted += !((b >= 33 && b <= 126) || (b >= 161 && b <= 172) || b >= 174);
    return 256 + shifted;
}

static void utf8(uint32_t code, char out[4]) {
    if (code < 0x80) {
        out[0] = (char)code, out[1] = 0;
    } else { /* below 0x800 here */
        out[0] = (char)(0xC0 | (code >> 6));
        out[1] = (char)(0x80 | (code & 0x3F));
        out[2] = 0;
    }
}

static cJSON *byte_level(void) {
    cJSON *b = cJSON_CreateObject();
    if (b && cJSON_AddStringToObject(b, "type", "ByteLevel") && cJSON_AddFalseToObject(b, "add_prefix_space") &&
        cJSON_AddTrueToObject(b, "trim_offsets") && cJSON_AddFalseToObject(b, "use_regex"))
        return b;
    cJSON_Delete(b);
    return NULL;
}

static bool add_special(cJSON *added, uint32_t id) {
    cJSON *t = cJSON_CreateObject();
    bool ok = t && cJSON_AddItemToArray(added, t);
    return ok && cJSON_AddNumberToObject(t, "id", id) && cJSON_AddStringToObject(t, "content", t2g_token_name(id)) &&
           cJSON_AddFalseToObject(t, "single_word") && cJSON_AddFalseToObject(t, "lstrip") &&
           cJSON_AddFalseToObject(t, "rstrip") && cJSON_AddFalseToObject(t, "normalized") &&
           cJSON_AddTrueToObject(t, "special");
}

static bool add_model(cJSON *root) {
    cJSON *model = cJSON_AddObjectToObject(root, "model");
    bool ok = model && cJSON_AddStringToObject(model, "type", "BPE") && cJSON_AddNullToObject(model, "dropout") &&
              cJSON_AddNullToObject(model, "unk_token") && cJSON_AddNullToObject(model, "continuing_subword_prefix") &&
              cJSON_AddNullToObject(model, "end_of_word_suffix") && cJSON_AddFalseToObject(model, "fuse_unk") &&
              cJSON_AddFalseToObject(model, "byte_fallback") && cJSON_AddFalseToObject(model, "ignore_merges");
    cJSON *vocab = ok ? cJSON_AddObjectToObject(model, "vocab") : NULL;
    for (uint32_t byte = 0; vocab && byte < 256; byte++) {
        char key[4];
        utf8(byte_character(byte), key);
        if (!cJSON_AddNumberToObject(vocab, key, byte)) vocab = NULL;
    }
    return vocab && cJSON_AddArrayToObject(model, "merges");
}

char *t2g_hf_tokenizer_json(void) {
    cJSON *root = cJSON_CreateObject();
    cJSON *added = root ? cJSON_AddArrayToObject(root, "added_tokens") : NULL;
    bool ok = added && cJSON_AddStringToObject(root, "version", "1.0") && cJSON_AddNullToObject(root, "truncation") &&
              cJSON_AddNullToObject(root, "padding");
    for (uint32_t id = T2G_TOKEN_BOS; ok && id <= T2G_TOKEN_PAD; id++) ok = add_special(added, id);
    ok = ok && cJSON_AddNullToObject(root, "normalizer");
    cJSON *pre = ok ? byte_level() : NULL, *decoder = pre ? byte_level() : NULL;
    ok = decoder && cJSON_AddItemToObject(root, "pre_tokenizer", pre);
    if (!ok) cJSON_Delete(pre);
    ok = ok && cJSON_AddNullToObject(root, "post_processor") && cJSON_AddItemToObject(root, "decoder", decoder);
    if (!ok) cJSON_Delete(decoder);
    return print_and_delete(root, ok && add_model(root));
}

/* split_special_tokens: t2g reads "<|eos|>" in a text as its seven bytes, never as the token. */
char *t2g_hf_tokenizer_config_json(const t2g_model_config *m) {
    cJSON *root = cJSON_CreateObject();
    bool ok = root && cJSON_AddStringToObject(root, "tokenizer_class", "PreTrainedTokenizerFast") &&
              cJSON_AddStringToObject(root, "bos_token", t2g_token_name(T2G_TOKEN_BOS)) &&
              cJSON_AddStringToObject(root, "eos_token", t2g_token_name(T2G_TOKEN_EOS)) &&
              cJSON_AddStringToObject(root, "pad_token", t2g_token_name(T2G_TOKEN_PAD)) &&
              cJSON_AddNumberToObject(root, "model_max_length", m->context) &&
              cJSON_AddFalseToObject(root, "clean_up_tokenization_spaces") &&
              cJSON_AddTrueToObject(root, "split_special_tokens");
    return print_and_delete(root, ok);
}
